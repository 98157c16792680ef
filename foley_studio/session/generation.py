"""Generation as the editor and the command line do it: one request builder, one job queue.

- `GenerationSettings` is what a user chooses (the panel's fields, the CLI's flags).
- `vary_seeds` / `vary_cfg` are the only two ways a row of takes is made: n seeds at one γ, or
  one seed at n γ values (sampled in one batch, sharing the noise). `cfg_spread` is the γ row the
  editor's "vary γ" preset offers around the chosen γ.
- `GenerationService` owns the `engine.JobQueue` of a session: it validates and submits
  requests with a snapshot of the project's audio (edits made meanwhile do not leak into a
  running job), keeps one model warm, keeps a table of jobs, and turns finished takes into one
  `AddTake` edit. Its listeners hear every `JobEvent` on the worker thread ("queued" on the
  submitting one); the editor hands them to the GUI through `ui.qt_bridge`.
"""
from __future__ import annotations

import gc
import logging
import random
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from foley_studio.core.edits import AddTake, Compound
from foley_studio.core.errors import FoleyError
from foley_studio.core.paths import data_dir
from foley_studio.core.project import Clip, Project
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.engine.errors import EngineError, RequestError
from foley_studio.engine.jobs import JobEvent, JobQueue, JobResult, JobState
from foley_studio.engine.request import MAX_CFG, MAX_REFERENCE_SECONDS, MODES, GenerationRequest, ReferenceClip

if TYPE_CHECKING:      # the pipeline brings torch: it loads on the job worker, not at start-up
    from foley_studio.engine.pipeline import AudioSource, Progress

    from .editor import EditorSession

log = logging.getLogger(__name__)

MODE_LABELS = {"text": "Text → audio", "extend": "Extend", "inpaint": "Inpaint region", "analogy": "Analogy"}
QUALITY_LABELS = {"high": "High quality", "low": "Low quality", None: "No tag"}
MAX_TAKES_PER_RUN = 8
assert tuple(MODE_LABELS) == MODES, "every engine mode needs a label"


# ---------------------------------------------------------------------------------------------
# Building requests
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GenerationSettings:
    """Everything a user sets for one Generate, apart from where it goes and which seeds."""

    mode: str = "text"
    prompt: str = ""
    negative_prompt: str | None = None
    quality: str | None = None               # "high" | "low" | None (no tag)
    reference: ReferenceClip | None = None   # analogy only
    cfg: float = 4.0                         # γ; with vary γ, the value the user chose (kept in the request)
    steps: int = 25
    sampler: str = "dpmpp"
    model: str = "demo"
    context_seconds: float = GenerationRequest.context_seconds

    def request(self, *, video: str | None, region: tuple[int, int], seeds: tuple[int, ...],
                cfgs: tuple[float, ...] | None = None, track_id: str | None = None) -> GenerationRequest:
        return GenerationRequest(
            mode=self.mode, video=video, region=region, prompt=self.prompt, negative_prompt=self.negative_prompt,
            quality=self.quality, reference=self.reference, cfg=self.cfg, cfgs=cfgs, steps=self.steps,
            sampler=self.sampler, seeds=seeds, model=self.model, track_id=track_id,
            context_seconds=self.context_seconds).validate()


def vary_seeds(settings: GenerationSettings, *, video: str | None, region: tuple[int, int], first_seed: int,
               n: int, track_id: str | None = None) -> GenerationRequest:
    """n takes with seeds first_seed, first_seed + 1, ... at the settings' γ."""
    if n < 1:
        raise RequestError(f"{n} takes: ask for at least one take")
    return settings.request(video=video, region=region, seeds=tuple(range(first_seed, first_seed + n)),
                            track_id=track_id)


def vary_cfg(settings: GenerationSettings, *, video: str | None, region: tuple[int, int], seed: int,
             cfgs: tuple[float, ...] | list[float], track_id: str | None = None) -> GenerationRequest:
    """One take per γ in `cfgs`, all from `seed`: the takes differ by guidance alone.

    A single γ is an ordinary one-take request at that γ.
    """
    cfgs = tuple(float(g) for g in cfgs)
    if len(cfgs) == 1:
        return vary_seeds(replace(settings, cfg=cfgs[0]), video=video, region=region, first_seed=seed, n=1,
                          track_id=track_id)
    return settings.request(video=video, region=region, seeds=(seed,) * len(cfgs), cfgs=cfgs, track_id=track_id)


def cfg_spread(center: float, n: int) -> tuple[float, ...]:
    """n guidance scales evenly spread over center ± 2 (never below 1 nor above the largest allowed),
    to two decimals: the editor's "vary γ" row."""
    lo, hi = max(1.0, center - 2.0), min(MAX_CFG, center + 2.0)
    if n == 1:
        return (round(float(center), 2),)
    return tuple(round(lo + (hi - lo) * i / (n - 1), 2) for i in range(n))


def default_generation_track(project: Project) -> str | None:
    """The track takes go to until the user picks one (None: the project has no track).

    Never a guide: a muted track, or one holding the picture's own sound (production audio kept
    for reference), is only chosen when there is nothing else. Of the others, the first that has
    used takes before (generation's track), else the first empty one (room for new sound), else the
    first. In the demo that is "Foley (generate here)", not the muted guide track above it.
    """
    if not project.tracks:
        return None
    picture = project.video.path if project.video is not None else None

    def is_guide(track: Any) -> bool:
        return track.mute or (picture is not None and any(c.source == picture for c in track.clips))
    candidates = [t for t in project.tracks if not is_guide(t)]
    if not candidates:
        return project.tracks[0].id
    for rule in (lambda t: any(c.take_id for c in t.clips), lambda t: not t.clips):
        for track in candidates:
            if rule(track):
                return track.id
    return candidates[0].id


def random_first_seed(n: int = MAX_TAKES_PER_RUN) -> int:
    """A first seed that leaves room for n consecutive seeds below 2**31."""
    return random.randrange(0, 2**31 - n)


def take_label(seed: Any, cfg: Any) -> str:
    return f"seed {seed} · γ {cfg:g}"


@dataclass(frozen=True)
class ReferenceSpan:
    """An analogy reference as chosen: [start, end) of its source, and a stretch of it to draw."""

    start: int
    end: int
    waveform: np.ndarray = field(repr=False)
    waveform_start: int                      # the source sample the waveform's first value is


def file_reference(path: str, span_start_s: float, span_end_s: float) -> ReferenceSpan:
    """A sound file's span as the reference (at most one model window), with a second around it to draw.

    Only that stretch is read: library files can be long. Raises `MediaError` for a bad file.
    """
    from foley_studio.media.audio import read_audio
    start = round(span_start_s * SAMPLE_RATE)
    end = min(round(span_end_s * SAMPLE_RATE), start + round(MAX_REFERENCE_SECONDS * SAMPLE_RATE))
    lo = max(0, start - SAMPLE_RATE)
    wave = read_audio(path, lo, end + SAMPLE_RATE)
    return ReferenceSpan(start, max(start + 1, end), wave, lo)


def timeline_reference(project: Project, clip: Clip) -> ReferenceSpan:
    """A timeline clip as the reference: the project mix over its span (so its picture comes too)."""
    from foley_studio.media.mixdown import mixdown
    end = min(clip.end, clip.start + round(MAX_REFERENCE_SECONDS * SAMPLE_RATE))
    wave = np.asarray(mixdown(project, clip.start, end), np.float32)
    return ReferenceSpan(clip.start, end, wave, clip.start)


# ---------------------------------------------------------------------------------------------
# Models kept warm
# ---------------------------------------------------------------------------------------------

class WarmModels:
    """A model provider that keeps exactly one model loaded: asking for another unloads the first.

    Wraps a provider with a `get(name, device)` (normally `engine.InstalledModels`, which reloads a
    model whose files changed). Only the job worker calls `get`; `loaded_name` is read anywhere.
    """

    def __init__(self, factory: Callable[[], Any] | None = None):
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


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------

@dataclass
class JobInfo:
    """What the session knows about a job (kept in `GenerationService.jobs`)."""

    job_id: str
    request: GenerationRequest
    state: JobState = JobState.QUEUED
    fraction: float = 0.0
    message: str = ""
    submitted: float = field(default_factory=time.perf_counter)
    first_take_s: float | None = None     # seconds from submit to the takes being on disk
    result: JobResult | None = None
    tag: Any = None                       # the project the job was asked for (`EditorSession.project_serial`)


class _JobPipeline:
    """Builds the real `Pipeline` on the job worker (torch loads there), with this job's takes folder
    and audio snapshot and the service's device, caches and warm model."""

    def __init__(self, service: GenerationService, takes_dir: Path, source: AudioSource | None):
        self.service, self.takes_dir, self.source = service, takes_dir, source

    def run(self, request: GenerationRequest, progress: Any, cancel: Any) -> list:
        from foley_studio.engine.pipeline import Pipeline
        service = self.service
        service._start_engine()
        pipeline = Pipeline(service.models, takes_dir=str(self.takes_dir), source=self.source,
                            device=service.device, caches=service.caches)
        return pipeline.run(request, progress, cancel)


class GenerationService:
    """Requests for the open project, run one at a time on the session's job queue."""

    def __init__(self, session: EditorSession | None = None, models: WarmModels | None = None, *,
                 device: str | None = None):
        self.session = session
        self.models = models or WarmModels()
        self.device_preference = device
        self.device: Any = None            # torch.device, chosen on the job worker
        self.caches: Any = None            # video features and latents, kept across jobs
        self.jobs: dict[str, JobInfo] = {}
        self._lock = threading.Lock()          # the job table
        self._submitting = threading.Lock()    # one submit at a time: "queued" finds its request and tag
        self._pending: tuple[GenerationRequest, Any] | None = None
        self._listeners: list[Callable[[JobEvent], None]] = []
        self._model_listeners: list[Callable[[str, str], None]] = []
        self._queue = JobQueue(on_event=self._on_event)
        self._closed = False

    # -- listeners ---------------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[JobEvent], None]) -> None:
        """`callback(event)` for every job event, after the job table has it (worker thread)."""
        self._listeners.append(callback)

    def add_model_listener(self, callback: Callable[[str, str], None]) -> None:
        """`callback(name, error)` when a `preload` ends ("" when the model loaded; worker thread)."""
        self._model_listeners.append(callback)

    # -- requests for the session ----------------------------------------------------------------
    def request_for_session(self, settings: GenerationSettings, *, n: int, vary: str = "seed",
                            seed: int | None = None) -> GenerationRequest:
        """The request of one Generate over the session's region and selected track.

        vary "seed": n consecutive seeds; "cfg": one seed at `cfg_spread(settings.cfg, n)`.
        `seed` None draws a random first seed.
        """
        where = self.target()
        first = random_first_seed() if seed is None else int(seed)
        if vary == "cfg" and n > 1:
            return vary_cfg(settings, seed=first, cfgs=cfg_spread(settings.cfg, n), **where)
        return vary_seeds(settings, first_seed=first, n=n, **where)

    def target(self) -> dict[str, Any]:
        """Where the session's takes go: its video, region and selected track (`RequestError` if unset)."""
        session = self._need_session()
        if session.region is None:
            raise RequestError("no region selected: drag on the ruler (or press I and O) to mark where the "
                               "sound goes, then generate")
        if session.selected_track is None:
            raise RequestError("the project has no audio track to generate for; add one (Ctrl+T)")
        project = session.project
        return dict(video=project.video.path if project.video else None, region=session.region,
                    track_id=session.selected_track)

    def takes_dir(self) -> Path:
        """The project's `takes/` folder; an unsaved project's takes wait in the data dir."""
        from foley_studio.engine.takes import takes_dir_for
        session = self._need_session()
        return takes_dir_for(session.path) if session.path is not None else scratch_takes_dir()

    def generate(self, requests: list[GenerationRequest]) -> list[str]:
        """Queue `requests` over one snapshot of the project's audio; returns their job ids."""
        from foley_studio.engine.sources import ProjectAudio
        session = self._need_session()
        source = ProjectAudio.snapshot(session.project)
        return [self.submit(r, takes_dir=self.takes_dir(), source=source, tag=session.project_serial)
                for r in requests]

    def regenerate(self, take_id: str) -> str:
        """Queue a take's own settings again (from its sidecar): same request, seed, γ and model.

        Raises `FoleyError` (or `KeyError` for an unknown take) when it cannot.
        """
        from foley_studio.engine.sources import ProjectAudio
        from foley_studio.engine.takes import read_sidecar
        session = self._need_session()
        take = session.project.take(take_id)
        request = read_sidecar(take.path).take_request()
        return self.submit(request, takes_dir=Path(take.path).parent,
                           source=ProjectAudio.snapshot(session.project), tag=session.project_serial)

    def takes_edit(self, result: JobResult) -> Compound:
        """One undoable edit that adds a finished job's takes to the project."""
        takes = [r.to_take() for r in result.takes]
        for take in takes:
            take.label = take_label(take.settings.get("seed"), take.settings.get("cfg"))
        return Compound(f"Generate {len(takes)} take{'s' if len(takes) != 1 else ''}", [AddTake(t) for t in takes])

    def for_open_project(self, job_id: str) -> bool:
        """Whether the job was asked for the project the session has open now."""
        info = self.jobs.get(job_id)
        return info is None or self.session is None or info.tag == self.session.project_serial

    def jobs_of_open_project(self) -> list[JobInfo]:
        """The job table as the open project sees it: its own jobs, and others' still queued or
        running (so they can be cancelled), in submission order."""
        serial = self.session.project_serial if self.session is not None else None
        with self._lock:
            infos = list(self.jobs.values())
        return [i for i in infos if i.tag == serial or not i.state.finished]

    def add_takes(self, result: JobResult) -> list[str]:
        """Put a finished job's takes into the session's project (one undo step); their ids."""
        edit = self.takes_edit(result)
        self._need_session().apply(edit)
        return [child.take.id for child in edit.children]

    def adopt_scratch_takes(self) -> tuple[list[str], Path | None]:
        """After an unsaved project is first saved: copy its takes into the project's `takes/` folder.

        Takes of an unsaved project wait in the data dir; once the project has a folder they belong
        beside it, so the folder can be moved or archived with everything it uses. The files are
        copied (the undo history may still name the old ones), the project's references relinked,
        and the project file rewritten when it was clean. Returns the new paths and the folder;
        raises `FoleyError` / `OSError` with what was copied so far lost to nobody (files stay).
        """
        from foley_studio.core import store
        from foley_studio.engine.takes import takes_dir_for
        session = self._need_session()
        scratch = scratch_takes_dir().resolve()
        if session.path is None or not session.project.takes:
            return [], None
        target = takes_dir_for(session.path)
        moved = []
        for take in list(session.project.takes):
            wav = Path(take.path)
            if wav.resolve().parent != scratch or not wav.is_file():
                continue
            target.mkdir(parents=True, exist_ok=True)
            for source in (wav, wav.with_suffix(".json")):
                if source.is_file():
                    shutil.copy2(source, target / source.name)
            store.relink(session.project, str(wav), str(target / wav.name))
            moved.append(str(target / wav.name))
        if moved and not session.is_dirty:
            store.save_project(session.project, session.path)
        return moved, target

    # -- the queue ---------------------------------------------------------------------------------
    def submit(self, request: GenerationRequest, *, takes_dir: str | Path, source: AudioSource | None = None,
               tag: Any = None) -> str:
        """Queue `request`; returns the job id at once. Takes are written under `takes_dir`.

        `source` is the existing audio the job may read (extend/inpaint/analogy): a snapshot
        (`ProjectAudio.snapshot`). The request is validated here, so a bad setting raises
        `RequestError` before anything is queued.
        """
        if self._closed:
            raise RuntimeError("the generation service is shut down")
        request.validate()
        pipeline = _JobPipeline(self, Path(takes_dir), source)
        with self._submitting:                 # JobQueue emits "queued" inside submit, on this thread
            self._pending = (request, tag)
            try:
                job = self._queue.submit(request, pipeline=pipeline)
            finally:
                self._pending = None
        return job.id

    def preload(self, model: str) -> None:
        """Load `model` on the job worker now, so the first Generate does not wait for it."""
        if self._closed:
            return
        self._queue.call(lambda: self._preload(model))

    def cancel(self, job_id: str) -> None:
        try:
            self._queue.cancel(job_id)
        except KeyError:
            pass

    def cancel_all(self) -> None:
        self._queue.cancel_all()

    @property
    def idle(self) -> bool:
        return self._queue.idle

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._queue.wait_idle(timeout)

    @property
    def loaded_model(self) -> str | None:
        return self.models.loaded_name

    def shutdown(self, timeout_s: float = 60.0) -> None:
        """Cancel everything, stop the worker and unload the model.

        Sampling stops within a step, but loading torch or a model cannot be interrupted, so this
        waits for that.
        """
        if self._closed:
            return
        self._closed = True
        self._queue.cancel_all()
        self._queue.call(self.models.unload)
        self._queue.close(cancel=True, timeout=timeout_s)

    # -- worker side -------------------------------------------------------------------------------
    def _start_engine(self) -> None:
        """On the job worker, once: import torch, pick the device, make the caches."""
        if self.caches is not None:
            return
        from foley_studio.engine.caches import Caches
        from foley_studio.engine.device import choose_device
        try:
            self.device = choose_device(self.device_preference)
        except FoleyError as exc:       # e.g. CUDA asked for but absent: run on the CPU and say so
            log.warning("%s; using the CPU", exc)
            self.device = choose_device("cpu")
        self.caches = Caches()

    def _preload(self, name: str) -> None:
        try:
            self._start_engine()
            self.models.get(name, self.device)
            error = ""
        except FoleyError as exc:
            error = str(exc)
        except Exception as exc:       # a bug while loading must not kill the worker
            log.exception("loading model %r failed", name)
            error = f"internal error loading {name!r}: {exc!r} (see the log)"
        for callback in list(self._model_listeners):
            callback(name, error)

    def _on_event(self, event: JobEvent) -> None:
        with self._lock:
            if event.kind == "queued" and self._pending is not None:
                request, tag = self._pending
                self.jobs[event.job_id] = JobInfo(event.job_id, request, tag=tag)
            info = self.jobs.get(event.job_id)
            if info is not None:
                _record(info, event)
        for callback in list(self._listeners):
            callback(event)

    def _need_session(self) -> EditorSession:
        if self.session is None:
            raise EngineError("this generation service has no editor session")
        return self.session


def _record(info: JobInfo, event: JobEvent) -> None:
    """Bring a job's table entry up to date with one of its events."""
    info.state = event.state
    if event.kind == "progress" and event.progress is not None:
        info.fraction, info.message = event.progress.fraction, event.progress.describe()
    elif event.kind == "finished" and event.result is not None:
        result = event.result
        info.result = result
        info.fraction = 1.0 if result.state is JobState.DONE else info.fraction
        info.message = result.error or result.state.value
        if result.state is JobState.DONE:
            info.first_take_s = time.perf_counter() - info.submitted


def scratch_takes_dir() -> Path:
    """Where an unsaved project's takes wait until it has a folder."""
    return data_dir() / "takes" / "unsaved"


__all__ = ["MODE_LABELS", "QUALITY_LABELS", "MAX_TAKES_PER_RUN", "GenerationSettings", "vary_seeds", "vary_cfg",
           "cfg_spread", "default_generation_track", "random_first_seed", "take_label", "ReferenceSpan", "file_reference", "timeline_reference", "WarmModels", "JobInfo", "GenerationService",
           "scratch_takes_dir"]
