"""Export dialog: mix, stems, video with the mix muxed in, OpenTimelineIO — with progress.

The dialog only chooses: `session.export.export_project` does the work (one mixdown for the mix
and the video, the chosen audio codec), on a `TaskRunner` over a copy of the project made here,
so the editor stays usable; its progress comes back through `qt_bridge`.
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QGridLayout,
                               QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from foley_studio.core.project import Project
from foley_studio.session.export import (STEP_LABELS, VIDEO_AUDIO_CODECS, ExportTargets, default_targets,
                                         export_project, make_folders)

from .qt_bridge import TaskRunner

log = logging.getLogger(__name__)


class ExportDialog(QDialog):
    """Choose outputs and where they go; export in the background with a progress bar."""

    def __init__(self, project: Project, project_path: Path | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(620)
        self.project = project
        defaults = default_targets(project, project_path)
        self.rows: dict[str, tuple[QCheckBox, QLineEdit]] = {}
        self.browse_buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        specs = [("mix", "Mix (WAV, 48 kHz 24-bit)", True),
                 ("stems", "Stems (one WAV per track, folder)", True),
                 ("video", "Video with the mix (stream copied)", project.video is not None),
                 ("otio", "Timeline (OpenTimelineIO)", True)]
        for row, (key, label, enabled) in enumerate(specs):
            box = QCheckBox(label, self)
            box.setChecked(enabled and key in ("mix", "otio", "video"))
            box.setEnabled(enabled)
            edit = QLineEdit(str(defaults[key]), self)
            browse = QPushButton("Browse…", self)
            browse.setToolTip("Choose the folder" if key == "stems" else "Choose the file")
            browse.clicked.connect(lambda _c=False, k=key: self._browse(k))
            grid.addWidget(box, row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(browse, row, 2)
            self.rows[key] = (box, edit)
            self.browse_buttons[key] = browse
        self.codec = QComboBox(self)
        for value, text in VIDEO_AUDIO_CODECS.items():
            self.codec.addItem(text, value)
        self.codec.setEnabled(project.video is not None)
        grid.addWidget(QLabel("Video's audio", self), len(specs), 0)
        grid.addWidget(self.codec, len(specs), 1)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)
        self._runner = TaskRunner(self, "export", latest_wins=False)
        self.written: list[Path] = []
        self.error = ""

    def _browse(self, key: str) -> None:
        _box, edit = self.rows[key]
        if key == "stems":
            path = QFileDialog.getExistingDirectory(self, "Stems folder", edit.text())
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", edit.text())
        if path:
            edit.setText(path)

    def targets(self) -> ExportTargets:
        chosen = {k: edit.text().strip() for k, (box, edit) in self.rows.items()
                  if box.isChecked() and edit.text().strip()}
        return ExportTargets(**chosen, audio_codec=self.codec.currentData())

    def start(self) -> None:
        targets = self.targets()
        if targets.empty:
            self.status.setText("Tick at least one output.")
            return
        self.export_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        project = copy.deepcopy(self.project)       # rule 1 of qt_bridge: the worker gets its own copy

        def work() -> list[Path]:
            make_folders(targets)
            return export_project(project, targets, progress=lambda done, total, step:
                                  self._runner.post(self._on_step, done, total, step))
        self._runner.submit(work, self._on_written, self._on_failed)

    def wait(self, timeout: float = 60.0) -> None:
        self._runner.wait(timeout)

    def _on_step(self, done: int, total: int, step: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText(f"{STEP_LABELS.get(step, step)}…")

    def _on_written(self, written: list[Path]) -> None:
        self.export_button.setEnabled(True)
        self.written = list(written)
        self.error = ""
        self.progress.setValue(self.progress.maximum())
        self.status.setText("Written:\n" + "\n".join(str(p) for p in written))

    def _on_failed(self, exc: Exception) -> None:
        # FoleyError messages name the file and the fix; others are shown as they are (and logged).
        log.error("export failed: %r", exc)
        self.export_button.setEnabled(True)
        self.written, self.error = [], str(exc)
        self.status.setText(f"Export failed: {exc}")

    def done(self, result: int) -> None:
        self._runner.shutdown(0.0)                  # an export still running finishes on its own
        super().done(result)
