"""The editor's generation engine: one QThread that owns the model and runs requests one at a time.

The GUI thread only ever queues work and reads signals; it never waits on the model. The thread
keeps one model loaded ("warm") between requests and unloads it when a request names another
one, so a session holds at most one model in memory. Cancellation is a `threading.Event` checked
by the engine's sampler callback, so a running job stops within one denoising step.

The engine thread emits private signals that Qt queues to the worker object (which lives on the
GUI thread); the worker updates its job table and re-emits the public signals there. So every
public signal arrives on the GUI thread, even for receivers that are plain functions.
"""
from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal

from foley_studio.core.errors import FoleyError
from foley_studio.engine.errors import GenerationCancelled
from foley_studio.engine.jobs import Job, JobResult, JobState
from foley_studio.engine.request import GenerationRequest

if TYPE_CHECKING:      # the pipeline brings torch: it is imported on the engine thread, not at start-up
    from foley_studio.engine.pipeline import AudioSource, Progress

log = logging.getLogger(__name__)


class WarmModels:
    """A model provider that keeps exactly one model loaded: asking for another unloads the first.

    Wraps a provider with a `get(name, device)` (normally `engine.InstalledModels`, which reloads a
    model whose files changed). Only the engine thread calls `get`; `loaded_name` is read anywhere.
    """

    def __init__(self, factory: Any = None):
        # `factory()` builds a fresh inner provider; dropping the old one frees its model.
        self._factory = factory or _installed_models
        self._inner: Any = None
        self.loaded_name: str | None = None

    def get(self, name: str, device: Any) -> Any:
        if self._inner is None or name != self.loaded_name:
            self.unload()
            self._inner = self._factory()
        loaded = self._inner.get(name, device)
        self.loaded_name = name
        return loaded

    def unload(self) -> None:
        if self._inner is None:
            return
        log.info("unloading model %r", self.loaded_name)
        self._inner, self.loaded_name = None, None
        gc.collect()                   # the old weights go now, not at some later collection


def _installed_models() -> Any:
    from foley_studio.engine.models import InstalledModels
    return InstalledModels()


@dataclass
class JobInfo:
    """What the GUI knows about a job (kept in `EngineWorker.jobs`)."""

    job_id: str
    request: GenerationRequest
    state: JobState = JobState.QUEUED
    fraction: float = 0.0
    message: str = ""
    submitted: float = field(default_factory=time.perf_counter)
    first_take_s: float | None = None     # seconds from submit to the takes being on disk
    result: JobResult | None = None
    tag: Any = None                       # the caller's own data (e.g. the batch a job belongs to)


@dataclass
class _Work:
    job: Job
    takes_dir: Path
    source: AudioSource | None


class _EngineThread(QThread):
    """Runs queued jobs on one pipeline device, reporting through the owning `EngineWorker`."""

    def __init__(self, owner: EngineWorker):
        super().__init__()
        self.setObjectName("foley-engine")
        self.owner = owner
        self.queue: queue.Queue[_Work | str | None] = queue.Queue()

    def run(self) -> None:
        self.owner._start_engine()      # torch loads here, off the GUI thread
        while True:
            item = self.queue.get()
            if item is None:
                break
            if isinstance(item, str):        # a request to load (warm up) a model ahead of use
                self._preload(item)
                continue
            self._run(item)
        self.owner.models.unload()

    def _preload(self, name: str) -> None:
        try:
            self.owner.models.get(name, self.owner.device)
            self.owner._loaded_sig.emit(name, "")
        except FoleyError as exc:
            self.owner._loaded_sig.emit(name, str(exc))
        except Exception as exc:       # a bug while loading must not kill the engine thread
            log.exception("loading model %r failed", name)
            self.owner._loaded_sig.emit(name, f"internal error loading {name!r}: {exc!r} (see the log)")

    def _run(self, work: _Work) -> None:
        from foley_studio.engine.pipeline import Pipeline
        owner, job = self.owner, work.job
        if job.cancel_requested:
            owner._finish(job, JobResult(job.id, JobState.CANCELLED))
            return
        job.state = JobState.RUNNING
        owner._started_sig.emit(job.id)
        pipeline = Pipeline(owner.models, takes_dir=str(work.takes_dir), source=work.source,
                            device=owner.device, caches=owner.caches)

        def progress(event: Progress) -> None:
            owner._progress_sig.emit(job.id, event)

        try:
            takes = pipeline.run(job.request, progress, job._cancel)
            result = JobResult(job.id, JobState.DONE, takes)
        except GenerationCancelled:
            result = JobResult(job.id, JobState.CANCELLED)
        except FoleyError as exc:
            result = JobResult(job.id, JobState.FAILED, error=str(exc), error_type=type(exc).__name__)
        except Exception as exc:      # a bug must not kill the thread: report it as a failed job
            log.exception("generation job %s failed", job.id)
            result = JobResult(job.id, JobState.FAILED, error=f"internal error: {exc!r} (see the log)",
                               error_type=type(exc).__name__)
        owner._finish(job, result)


class EngineWorker(QObject):
    """GUI-side handle on the engine thread: submit, cancel, and signals for everything that happens."""

    jobQueued = Signal(str)
    jobStarted = Signal(str)
    progress = Signal(str, object)          # job id, engine.Progress
    takeReady = Signal(str, object)         # job id, engine.TakeResult (one per take, in seed order)
    jobFinished = Signal(str, object)       # job id, engine.JobResult
    modelLoaded = Signal(str, str)          # model name, error message ("" when it loaded)
    busyChanged = Signal(bool)
    # emitted on the engine thread, received (queued) on the GUI thread:
    _started_sig = Signal(str)
    _progress_sig = Signal(str, object)
    _finished_sig = Signal(str, object)
    _loaded_sig = Signal(str, str)

    def __init__(self, models: WarmModels | None = None, *, device: str | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.models = models or WarmModels()
        self.device_preference = device
        self.device: Any = None            # torch.device, chosen on the engine thread
        self.caches: Any = None            # video features and latents, kept across jobs
        self.jobs: dict[str, JobInfo] = {}
        self._handles: dict[str, Job] = {}
        self._active = 0
        self._lock = threading.Lock()
        self._thread = _EngineThread(self)
        self._closed = False
        self._started_sig.connect(self._on_started)
        self._progress_sig.connect(self._on_progress)
        self._finished_sig.connect(self._on_finished)
        self._loaded_sig.connect(self.modelLoaded)

    # -- API (GUI thread) ---------------------------------------------------------------------------
    def submit(self, request: GenerationRequest, *, takes_dir: str | Path, source: AudioSource | None = None,
               tag: Any = None) -> str:
        """Queue `request`; returns the job id at once. Takes are written under `takes_dir`.

        `source` is the existing audio the job may read (extend/inpaint/analogy); hand over a
        snapshot (`ProjectAudio.snapshot`) so edits made meanwhile do not change a running job.
        The request is validated here, so a bad setting raises `RequestError` before anything is queued.
        """
        if self._closed:
            raise RuntimeError("the engine worker is shut down")
        request.validate()
        job = Job(request, None)           # the pipeline is built on the engine thread
        self.jobs[job.id] = JobInfo(job.id, request, tag=tag)
        self._handles[job.id] = job
        with self._lock:
            self._active += 1
            first = self._active == 1
        if not self._thread.isRunning():
            self._thread.start()
        self._thread.queue.put(_Work(job, Path(takes_dir), source))
        self.jobQueued.emit(job.id)
        if first:
            self.busyChanged.emit(True)
        return job.id

    def preload(self, model: str) -> None:
        """Load `model` on the engine thread now, so the first Generate does not wait for it."""
        if self._closed:
            return
        if not self._thread.isRunning():
            self._thread.start()
        self._thread.queue.put(model)

    def cancel(self, job_id: str) -> None:
        job = self._handles.get(job_id)
        if job is not None:
            job.cancel()

    def cancel_all(self) -> None:
        for job_id, info in self.jobs.items():
            if not info.state.finished:
                self.cancel(job_id)

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._active == 0

    @property
    def running_job(self) -> str | None:
        for job_id, info in self.jobs.items():
            if info.state is JobState.RUNNING:
                return job_id
        return None

    @property
    def loaded_model(self) -> str | None:
        return self.models.loaded_name

    def shutdown(self, timeout_ms: int = 60_000) -> None:
        """Cancel everything, stop the thread and unload the model.

        Sampling stops within a step, but loading torch or a model cannot be interrupted, so this
        waits for that (a QThread destroyed while running would abort the whole process).
        """
        if self._closed:
            return
        self._closed = True
        self.cancel_all()
        self._thread.queue.put(None)
        if self._thread.isRunning() and not self._thread.wait(timeout_ms):
            log.warning("the engine thread did not stop within %d ms", timeout_ms)

    def _start_engine(self) -> None:
        """On the engine thread: import torch, pick the device, make the caches."""
        from foley_studio.engine.caches import Caches
        from foley_studio.engine.device import choose_device
        try:
            self.device = choose_device(self.device_preference)
        except FoleyError as exc:       # e.g. CUDA asked for but absent: run on the CPU and say so
            log.warning("%s; using the CPU", exc)
            self.device = choose_device("cpu")
        self.caches = Caches()

    # -- engine thread -> GUI ---------------------------------------------------------------------
    def _finish(self, job: Job, result: JobResult) -> None:
        """Called on the engine thread when a job ends."""
        job.state, job.result = result.state, result
        self._finished_sig.emit(job.id, result)

    def _on_started(self, job_id: str) -> None:
        info = self.jobs.get(job_id)
        if info is not None:
            info.state = JobState.RUNNING
        self.jobStarted.emit(job_id)

    def _on_progress(self, job_id: str, event: Progress) -> None:
        info = self.jobs.get(job_id)
        if info is not None:
            info.fraction, info.message = event.fraction, event.describe()
        self.progress.emit(job_id, event)

    def _on_finished(self, job_id: str, result: JobResult) -> None:
        """The job's table entry first, then its takes (in seed order), then the job's end."""
        info = self.jobs.get(job_id)
        if info is not None:
            info.state, info.result = result.state, result
            info.fraction = 1.0 if result.state is JobState.DONE else info.fraction
            info.message = result.error or result.state.value
            if result.state is JobState.DONE:
                info.first_take_s = time.perf_counter() - info.submitted
        self._handles.pop(job_id, None)
        with self._lock:
            self._active -= 1
            now_idle = self._active == 0
        for take in result.takes:
            self.takeReady.emit(job_id, take)
        self.jobFinished.emit(job_id, result)
        if now_idle:
            self.busyChanged.emit(False)
