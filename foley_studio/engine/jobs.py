"""A job queue for generations: one worker thread, progress events, cancellation, errors as values.

No Qt here: the editor adapts `JobEvent`s to signals ('queued' arrives on the thread that
submitted, every later event on the worker thread). A job's
outcome is always a `JobResult` — finished takes, or a cancelled/failed state with the message a
user should see — never an exception escaping the worker.
"""
from __future__ import annotations

import enum
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from foley_studio.core.errors import FoleyError
from foley_studio.core.project import new_id

from .errors import GenerationCancelled
from .request import GenerationRequest
from .takes import TakeResult

if TYPE_CHECKING:      # type hints only: the editor imports job types without loading torch
    from .pipeline import Pipeline, Progress

log = logging.getLogger(__name__)


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.CANCELLED, JobState.FAILED)


@dataclass
class JobResult:
    """How a job ended: its takes, or why it has none."""

    job_id: str
    state: JobState
    takes: list[TakeResult] = field(default_factory=list)
    error: str | None = None            # a message for the user (FAILED only)
    error_type: str | None = None       # the exception class, for logs and tests


@dataclass(frozen=True)
class JobEvent:
    """Something happened to a job: 'queued', 'started', 'progress' or 'finished'."""

    job_id: str
    kind: str
    state: JobState
    progress: Progress | None = None
    result: JobResult | None = None


class Job:
    """A handle on one submitted request."""

    def __init__(self, request: GenerationRequest, pipeline: Pipeline):
        self.id = new_id("job")
        self.request = request
        self.pipeline = pipeline
        self.state = JobState.QUEUED
        self.result: JobResult | None = None
        self._cancel = threading.Event()
        self._done = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop; a running one stops within one denoising step."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> JobResult | None:
        """The result once finished, or None if `timeout` seconds pass first."""
        return self.result if self._done.wait(timeout) else None


class JobQueue:
    """Runs jobs one at a time, in submission order, on a worker thread of its own."""

    def __init__(self, pipeline: Pipeline | None = None, on_event: Callable[[JobEvent], None] | None = None):
        self.pipeline = pipeline
        self.on_event = on_event
        self._queue: queue.Queue[Job | Callable[[], None] | None] = queue.Queue()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._active = 0                   # submitted and not yet finished
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ API
    def submit(self, request: GenerationRequest, *, pipeline: Pipeline | None = None) -> Job:
        """Queue a request; it runs on `pipeline` (or the queue's own)."""
        pipeline = pipeline or self.pipeline
        if pipeline is None:
            raise ValueError("JobQueue.submit needs a pipeline: give one here or to the queue")
        with self._lock:
            if self._closed:
                raise RuntimeError("this JobQueue is closed")
            job = Job(request, pipeline)
            self._jobs[job.id] = job
            self._active += 1
            self._start_worker()
        self._emit(JobEvent(job.id, "queued", JobState.QUEUED))
        self._queue.put(job)
        return job

    def call(self, fn: Callable[[], None]) -> None:
        """Run `fn()` on the worker thread after the jobs queued before it (loading a model ahead
        of use, say); an exception is logged, never raised there."""
        with self._lock:
            if self._closed:
                return
            self._start_worker()
        self._queue.put(fn)

    def job(self, job_id: str) -> Job:
        return self._jobs[job_id]

    def cancel(self, job_id: str) -> None:
        self._jobs[job_id].cancel()

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            if not job.state.finished:
                job.cancel()

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._active == 0

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def close(self, *, cancel: bool = True, timeout: float | None = 10.0) -> None:
        """Stop the worker (cancelling what is queued or running unless `cancel=False`)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if cancel:
            self.cancel_all()
        self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> JobQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ worker
    def _start_worker(self) -> None:
        """With `_lock` held: the worker thread starts with the first job or call."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="foley-jobs", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, Job):
                self._run(item)
                continue
            try:
                item()
            except Exception:  # a bug in a queued call must not kill the worker
                log.exception("call on the job worker failed")

    def _run(self, job: Job) -> None:
        if job.cancel_requested:
            self._finish(job, JobResult(job.id, JobState.CANCELLED))
            return
        job.state = JobState.RUNNING
        self._emit(JobEvent(job.id, "started", JobState.RUNNING))

        def progress(event: Progress) -> None:
            self._emit(JobEvent(job.id, "progress", JobState.RUNNING, progress=event))

        try:
            takes = job.pipeline.run(job.request, progress, job._cancel)
            result = JobResult(job.id, JobState.DONE, takes)
        except GenerationCancelled:
            result = JobResult(job.id, JobState.CANCELLED)
        except FoleyError as exc:
            result = JobResult(job.id, JobState.FAILED, error=str(exc), error_type=type(exc).__name__)
        except Exception as exc:  # a bug must not kill the worker; report it as a value and log it
            log.exception("generation job %s failed", job.id)
            result = JobResult(job.id, JobState.FAILED, error=f"internal error: {exc!r} (see the log)",
                               error_type=type(exc).__name__)
        self._finish(job, result)

    def _finish(self, job: Job, result: JobResult) -> None:
        job.state = result.state
        job.result = result
        self._emit(JobEvent(job.id, "finished", result.state, result=result))
        with self._idle:
            self._active -= 1
            self._idle.notify_all()
        job._done.set()

    def _emit(self, event: JobEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a listener's bug must not stop generation
            log.exception("job event listener failed on %s", event.kind)
