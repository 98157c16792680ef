"""The jobs list: the open project's generation requests, queued / running / done / cancelled / failed.

Opening another project starts its list afresh; jobs of an earlier project that are still queued or
running stay listed (marked so) until they end, so they can still be cancelled.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from foley_studio.engine.jobs import JobResult, JobState
from foley_studio.session.generation import JobInfo

from .engine_worker import EngineWorker

if TYPE_CHECKING:
    from foley_studio.engine.pipeline import Progress

log = logging.getLogger(__name__)

COLUMNS = ("Job", "Mode", "Prompt", "Takes", "State")
_STATE_COLOURS = {JobState.QUEUED: "#8a909b", JobState.RUNNING: "#80c4e4", JobState.DONE: "#7cf29c",
                  JobState.CANCELLED: "#f2b84b", JobState.FAILED: "#ff7a70"}


class JobsPanel(QWidget):
    """A table of the worker's jobs, updated from its signals; Cancel stops the selected ones."""

    def __init__(self, worker: EngineWorker, parent: QWidget | None = None, *, document=None):
        super().__init__(parent)
        self.worker = worker
        self.doc = document
        self._rows: dict[str, int] = {}
        self._serial = self._open_serial()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Stretch)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel selected", self)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.clear_button = QPushButton("Clear finished", self)
        self.clear_button.clicked.connect(self.clear_finished)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.clear_button)
        layout.addLayout(buttons)
        worker.jobQueued.connect(self._on_queued)
        worker.jobStarted.connect(self._on_started)
        worker.progress.connect(self._on_progress)
        worker.jobFinished.connect(self._on_finished)
        if document is not None:
            document.pathChanged.connect(self._follow_project)
            document.changed.connect(self._follow_project)

    def _open_serial(self) -> int | None:
        return self.doc.session.project_serial if self.doc is not None else None

    def _follow_project(self) -> None:
        """Another project was opened: list its jobs (none yet) and the still running ones."""
        serial = self._open_serial()
        if serial != self._serial:
            self._serial = serial
            self._rebuild([info.job_id for info in self.worker.service.jobs_of_open_project()])

    def job_ids(self) -> list[str]:
        """The jobs listed, top to bottom."""
        return sorted(self._rows, key=self._rows.get)

    def state_of(self, job_id: str) -> str:
        row = self._rows.get(job_id)
        return self.table.item(row, 4).text() if row is not None else ""

    def _on_queued(self, job_id: str) -> None:
        info = self.worker.jobs[job_id]
        req = info.request
        row = self.table.rowCount()
        self.table.insertRow(row)
        earlier = self.doc is not None and info.tag != self._serial
        values = (job_id.removeprefix("job-")[:6], req.mode,
                  (req.prompt or "—") + ("  (earlier project)" if earlier else ""),
                  f"{len(req.seeds)} (γ {req.cfg:g})", "queued")
        for col, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setData(Qt.UserRole, job_id)
            self.table.setItem(row, col, item)
        self.table.item(row, 2).setToolTip(req.prompt)
        self._rows[job_id] = row
        self._set_state(job_id, JobState.QUEUED, "queued")

    def _on_started(self, job_id: str) -> None:
        self._set_state(job_id, JobState.RUNNING, "running")

    def _on_progress(self, job_id: str, event: Progress) -> None:
        self._set_state(job_id, JobState.RUNNING, f"{event.fraction:.0%} · {event.describe()}")

    def _on_finished(self, job_id: str, result: JobResult) -> None:
        text = result.state.value
        if result.state is JobState.DONE:
            text = f"done ({len(result.takes)})"
        self._set_state(job_id, result.state, text)
        if result.error:
            self.table.item(self._rows[job_id], 4).setToolTip(result.error)

    def _set_state(self, job_id: str, state: JobState, text: str) -> None:
        row = self._rows.get(job_id)
        if row is None:
            return
        item = self.table.item(row, 4)
        item.setText(text)
        item.setForeground(_colour(state))

    def cancel_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        for row in rows:
            self.worker.cancel(self.table.item(row, 0).data(Qt.UserRole))

    def clear_finished(self) -> None:
        self._rebuild([job_id for job_id in self.job_ids() if not self.worker.jobs[job_id].state.finished])

    def _rebuild(self, job_ids: list[str]) -> None:
        """List exactly `job_ids`, each with the state the job table has for it now."""
        self.table.setRowCount(0)
        self._rows.clear()
        for job_id in job_ids:
            self._on_queued(job_id)
            info = self.worker.jobs[job_id]
            self._set_state(job_id, info.state, _state_text(info))


def _state_text(info: JobInfo) -> str:
    if info.state is JobState.DONE and info.result is not None:
        return f"done ({len(info.result.takes)})"
    if info.state is JobState.RUNNING and info.message:
        return f"{info.fraction:.0%} · {info.message}"
    return info.state.value


def _colour(state: JobState) -> QColor:
    return QColor(_STATE_COLOURS[state])
