"""The editor's handle on generation: `session.GenerationService` events as Qt signals.

The service runs the job loop (one worker thread, one warm model, cancellation within a denoising
step); this adapter only re-emits what it hears on the GUI thread, through `qt_bridge`. So every
public signal arrives on the GUI thread, even for receivers that are plain functions, and the
GUI thread never waits on the model.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from foley_studio.engine.jobs import JobEvent, JobState
from foley_studio.engine.request import GenerationRequest
from foley_studio.session.generation import GenerationService, JobInfo, WarmModels

from .qt_bridge import call_in_thread

if TYPE_CHECKING:
    from foley_studio.engine.pipeline import AudioSource
    from foley_studio.session.editor import EditorSession

log = logging.getLogger(__name__)

__all__ = ["EngineWorker", "JobInfo", "WarmModels"]


class EngineWorker(QObject):
    """GUI-side handle on the generation service: submit, cancel, and signals for everything that happens."""

    jobQueued = Signal(str)
    jobStarted = Signal(str)
    progress = Signal(str, object)          # job id, engine.Progress
    takeReady = Signal(str, object)         # job id, engine.TakeResult (one per take, in seed order)
    jobFinished = Signal(str, object)       # job id, engine.JobResult
    modelLoaded = Signal(str, str)          # model name, error message ("" when it loaded)
    busyChanged = Signal(bool)

    def __init__(self, models: WarmModels | None = None, *, device: str | None = None,
                 session: EditorSession | None = None, service: GenerationService | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.service = service or GenerationService(session, models, device=device)
        self._unfinished = 0               # counted on the GUI thread, so `idle` follows the signals
        self.service.add_listener(self._heard)
        self.service.add_model_listener(lambda name, error: call_in_thread(self, self.modelLoaded.emit, name, error))

    # -- API (GUI thread) ---------------------------------------------------------------------------
    @property
    def jobs(self) -> dict[str, JobInfo]:
        return self.service.jobs

    def submit(self, request: GenerationRequest, *, takes_dir: str | Path, source: AudioSource | None = None,
               tag: Any = None) -> str:
        """Queue `request` (see `GenerationService.submit`); returns the job id at once."""
        return self.service.submit(request, takes_dir=takes_dir, source=source, tag=tag)

    def preload(self, model: str) -> None:
        self.service.preload(model)

    def cancel(self, job_id: str) -> None:
        self.service.cancel(job_id)

    def cancel_all(self) -> None:
        self.service.cancel_all()

    @property
    def idle(self) -> bool:
        return self._unfinished == 0

    @property
    def running_job(self) -> str | None:
        for job_id, info in list(self.jobs.items()):
            if info.state is JobState.RUNNING:
                return job_id
        return None

    @property
    def loaded_model(self) -> str | None:
        return self.service.loaded_model

    def shutdown(self, timeout_ms: int = 60_000) -> None:
        """Cancel everything, stop the worker and unload the model (waits for a model still loading)."""
        self.service.shutdown(timeout_ms / 1000)

    # -- service -> GUI -----------------------------------------------------------------------------
    def _heard(self, event: JobEvent) -> None:
        if event.kind == "queued":         # on the submitting (GUI) thread, inside submit
            self._on_event(event)
        else:
            call_in_thread(self, self._on_event, event)

    def _on_event(self, event: JobEvent) -> None:
        if event.kind == "queued":
            self._unfinished += 1
            self.jobQueued.emit(event.job_id)
            if self._unfinished == 1:
                self.busyChanged.emit(True)
        elif event.kind == "started":
            self.jobStarted.emit(event.job_id)
        elif event.kind == "progress":
            self.progress.emit(event.job_id, event.progress)
        elif event.kind == "finished" and event.result is not None:
            # The job's table entry first (the service did it), then its takes, then its end.
            self._unfinished -= 1
            for take in event.result.takes:
                self.takeReady.emit(event.job_id, take)
            self.jobFinished.emit(event.job_id, event.result)
            if self._unfinished == 0:
                self.busyChanged.emit(False)
