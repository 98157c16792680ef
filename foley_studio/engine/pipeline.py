"""The generation use case: a `GenerationRequest` in, takes on disk out.

One run: load the named model (once per device), lay the region out on the latent grid (with the
existing audio around it for extend/inpaint), encode what is given (context latents from the
project mix, video features per window, the analogy reference), sample every window for all seeds
in one batch, decode, crossfade the windows, and write each take with its sidecar.

    span:    | head (given) |        region (generated)        | tail (given, inpaint) |
    windows: [ window 0 ......... ]
                       [ shared | window 1 ......... ]
                                          [ shared | window 2 ......................... ]

The latent grid starts at the region's first sample; `head`/`tail` are whole latents of existing
audio taken from the project mix (up to `context_seconds`). Later windows get their shared span
from the previous window's output as given latents, exactly as the model's extension mode expects:
each take continues its own audio, and all takes of a batch still go through one sampling call
(one context row per take). A "vary γ" request (`cfgs`, one guidance scale per take) is one batch
too: every window gets each take's own γ, and each take's sidecar records it.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from foley_studio.core.timebase import LATENT_HOP, LATENT_RATE, SAMPLE_RATE, samples_to_latents, seconds_to_samples
from foley_studio.media.audio import read_audio
from foley_studio.media.probe import check_exists, probe
from foley_studio.media.levels import TakeLevel, normalise_take
from foley_studio.media.video import encoder_frames

from .caches import Caches, audio_key
from .device import autocast, choose_device, describe, is_out_of_memory, release_memory
from .errors import EngineError, GenerationCancelled, OutOfMemoryFailure, RequestError
from .models import LoadedModel, ModelProvider
from .request import MAX_SEED, GenerationRequest
from .takes import Sidecar, TakeResult, TakeStore, audio_sha256, read_sidecar
from .windows import Window, join_windows, plan_windows

log = logging.getLogger(__name__)

ProgressFn = Callable[["Progress"], None]
CancelFn = Callable[[], bool]


class AudioSource(Protocol):
    """Existing audio on the timeline (the project mix): what extend, inpaint and analogy read."""

    @property
    def duration(self) -> int: ...

    @property
    def video(self) -> str | None: ...

    def read(self, start: int, end: int) -> np.ndarray: ...


@dataclass(frozen=True)
class Progress:
    """One progress event: a stage, and inside sampling, step i of n of window w for takes a..b of N."""

    stage: str                 # "loading" | "conditions" | "sampling" | "decoding" | "writing" | "done"
    fraction: float = 0.0      # of the whole request, 0..1
    step: int = 0              # 1-based denoising step
    steps: int = 0
    window: int = 0            # 1-based
    windows: int = 0
    take_first: int = 0        # 1-based, inclusive: the takes this step advances together
    take_last: int = 0
    takes: int = 0

    def describe(self) -> str:
        if self.stage != "sampling":
            return self.stage
        takes = f"take {self.take_first}" if self.take_first == self.take_last else \
            f"takes {self.take_first}–{self.take_last}"
        window = f", window {self.window}/{self.windows}" if self.windows > 1 else ""
        return f"step {self.step}/{self.steps}, {takes} of {self.takes}{window}"


@dataclass(frozen=True)
class Layout:
    """The region on the latent grid: `head` given latents, `body` generated, `tail` given."""

    span_start: int            # timeline sample of latent 0
    head: int
    body: int
    tail: int

    @property
    def n_latents(self) -> int:
        return self.head + self.body + self.tail

    @property
    def region_start_latent(self) -> int:
        return self.head


@dataclass
class Rendered:
    """Audio of each take of a request (in request order), before anything is written."""

    request: GenerationRequest
    rows: list[np.ndarray]                     # take i (seeds[i] at γ take_cfgs[i]) -> (region length,) float32
    batches: list[tuple[int, ...]]             # take i -> the takes (indices) it was sampled together with
    context_sha256: str                        # hash of every given input that came from audio files/mix
    windows: list[Window] = field(default_factory=list)
    device: str = "cpu"
    picture_seconds: float | None = None       # seconds of the region the video covers (None: no video)
    levels: list[TakeLevel] = field(default_factory=list)   # take i -> how it was normalised

    @property
    def audio(self) -> dict[int, np.ndarray]:
        """seed -> audio, for requests whose takes have distinct seeds (use `take` for "vary γ" ones)."""
        if len(set(self.request.seeds)) != len(self.request.seeds):
            raise ValueError("this request samples one seed at several γ; look its takes up with take(seed, cfg)")
        return dict(zip(self.request.seeds, self.rows))

    def take(self, seed: int, cfg: float | None = None) -> np.ndarray:
        """The audio of the take with `seed` (at γ `cfg`, needed when a seed has several)."""
        return self.rows[self.request.row_of(seed, cfg)]

    def batch_request(self, row: int) -> GenerationRequest:
        """The request as take `row` was sampled: the takes of its batch, each with its seed and γ."""
        return self.request.select(self.batches[row])


def window_seed(seed: int, window: int) -> int:
    """The seed of a take's `window`-th window: the take's own seed first, then derived ones."""
    if window == 0:
        return seed
    digest = hashlib.sha256(f"{seed}/{window}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & MAX_SEED


def _as_cancel(cancel: CancelFn | threading.Event | None) -> CancelFn:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


class Pipeline:
    """Turns requests into takes for one project (or one video), on one device."""

    def __init__(self, models: ModelProvider, *, takes_dir: str | Path | None = None, source: AudioSource | None = None,
                 device: str | torch.device | None = None, caches: Caches | None = None,
                 max_batch: int | None = None):
        self.models = models
        self.store = TakeStore(takes_dir) if takes_dir is not None else None
        self.source = source
        self.device = device if isinstance(device, torch.device) else choose_device(device)
        self.caches = caches or Caches()
        self.max_batch = max_batch          # None: all seeds in one batch until memory says otherwise

    # ------------------------------------------------------------------ public
    def run(self, request: GenerationRequest, progress: ProgressFn | None = None,
            cancel: CancelFn | threading.Event | None = None) -> list[TakeResult]:
        """Generate every seed of `request` and write each as a take (in seed order)."""
        if self.store is None:
            raise EngineError("this pipeline has no takes folder to write to; give takes_dir")
        is_cancelled = _as_cancel(cancel)
        rendered = self.render(request, progress, is_cancelled)
        loaded = self.models.get(request.model, self.device)
        results = []
        _emit(progress, Progress("writing", 1.0, takes=len(request.seeds)))
        # Past the last denoising step the work is done: writing is quick and not interrupted,
        # so a job is either cancelled with no takes or finished with all of them.
        for row, (seed, cfg) in enumerate(request.takes):
            extra = {"context_sha256": rendered.context_sha256, "device": rendered.device,
                     "windows": len(rendered.windows), "batched_windows": True}
            if rendered.picture_seconds is not None:
                extra["picture_seconds"] = round(rendered.picture_seconds, 6)
            if rendered.levels:
                extra["level"] = rendered.levels[row].to_json()
            results.append(self.store.write(rendered.rows[row], request=rendered.batch_request(row), seed=seed,
                                            cfg=cfg, model=loaded.identity, extra=extra))
        _emit(progress, Progress("done", 1.0, takes=len(request.seeds)))
        return results

    def render(self, request: GenerationRequest, progress: ProgressFn | None = None,
               cancel: CancelFn | threading.Event | None = None) -> Rendered:
        """Generate the audio of every seed of `request` without writing anything."""
        request.validate()
        is_cancelled = _as_cancel(cancel)
        _emit(progress, Progress("loading"))
        loaded = self.models.get(request.model, self.device)
        job = _Job(self, request, loaded, progress, is_cancelled)
        try:
            # no_grad, not inference_mode: tensors cached here (text tokens, latents) must stay usable
            # by a model that is also being trained in this process (training previews).
            with torch.no_grad():
                _emit(progress, Progress("conditions"))
                return job.render()
        except (GenerationCancelled, EngineError):
            raise
        except Exception as exc:
            if is_out_of_memory(exc):   # outside the batch loop (encoding the context, the video)
                release_memory(self.device)
                raise OutOfMemoryFailure(job.oom_message()) from exc
            raise


class _Job:
    """The state of one render: the model, the layout and the given inputs shared by all seeds."""

    def __init__(self, pipeline: Pipeline, request: GenerationRequest, loaded: LoadedModel,
                 progress: ProgressFn | None, is_cancelled: CancelFn):
        self.p = pipeline
        self.request = request
        self.loaded = loaded
        self.model = loaded.model
        self.device = pipeline.device
        self.progress = progress
        self.is_cancelled = is_cancelled
        self.hop = int(self.model.config.hop)
        if self.hop != LATENT_HOP:
            raise EngineError(f"model {loaded.identity.name!r} uses {self.hop} samples per latent, "
                              f"the timeline {LATENT_HOP}; it cannot be used here")
        self.window_latents = int(self.model.config.window_latents)
        self.context_hash = hashlib.sha256()      # every input that came from media, for regeneration
        self.video_end: int | None = None   # samples of picture (the video's duration), when there is one
        self.first_take = 0          # takes finished in earlier batches (for progress numbering)
        self.fraction = 0.0          # of the denoising work, for progress events between steps
        self.chunk_size = 0          # takes sampled together in the current batch

    # ------------------------------------------------------------ the whole
    def render(self) -> Rendered:
        request = self.request
        layout = self._layout()
        given, known = self._context(layout)
        self._check_cancel()
        # Windows share at most half their length, and the last one must still have room to
        # generate before the inpainting tail it ends with (see `plan_windows`).
        overlap = max(1, min(round(request.overlap_seconds * LATENT_RATE), self.window_latents // 2,
                             self.window_latents - layout.tail - 1))
        windows = plan_windows(layout.n_latents, self.window_latents, overlap, tail_given=layout.tail)
        video = []
        for win in windows:          # encoding a long video takes a while: stay cancellable
            video.append(self._video_features(layout, win))
            self._check_cancel()
        reference = self._reference()
        n_takes = len(request.seeds)
        rows: list[np.ndarray | None] = [None] * n_takes
        levels: list[TakeLevel | None] = [None] * n_takes
        batches: list[tuple[int, ...]] = [()] * n_takes
        pending = list(range(n_takes))         # takes by index: a "vary γ" request repeats its seed
        limit = min(self.p.max_batch or len(pending), len(pending))
        while pending:
            chunk = pending[:limit]
            self.chunk_size = len(chunk)
            try:
                spans = self._sample_chunk(chunk, layout, windows, given, known, video, reference)
                chunk_audio = self._decode(spans, layout, windows)
            except GenerationCancelled:
                raise
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                release_memory(self.device)
                if limit == 1:
                    raise OutOfMemoryFailure(self.oom_message()) from exc
                limit = max(1, limit // 2)
                log.warning("out of memory with %d takes per batch on %s; retrying with %d",
                            len(chunk), describe(self.device), limit)
                continue
            for row, take_audio in zip(chunk, chunk_audio):
                # a continuation must keep the level of the audio it continues: only limit it
                rows[row], levels[row] = normalise_take(take_audio, "limit" if given is not None else "peak")
                batches[row] = tuple(chunk)
            pending = pending[len(chunk):]
            self.first_take += len(chunk)
        assert all(r is not None for r in rows), "every take is rendered once the loop ends"
        picture = None
        if self.video_end is not None:
            picture = max(0, min(request.end, self.video_end) - request.start) / SAMPLE_RATE
        return Rendered(request, rows, batches, self.context_hash.hexdigest(), windows, describe(self.device),
                        picture, levels)

    def _check_cancel(self) -> None:
        if self.is_cancelled():
            raise GenerationCancelled()

    def oom_message(self) -> str:
        seconds = self.request.length / SAMPLE_RATE
        advice = ("close other programs to free memory, or choose a shorter region" if self.device.type == "cpu"
                  else "close other programs using the GPU, choose a shorter region, or run on the CPU (--device cpu)")
        return (f"out of memory on {describe(self.device)} even for one take of {seconds:.1f} s with model "
                f"{self.request.model!r}; {advice}. Nothing was written; the project is unchanged")

    # ------------------------------------------------------------ layout and given inputs
    def _layout(self) -> Layout:
        request = self.request
        body = samples_to_latents(request.length)
        # Given context on each side is capped at 3/8 of a window (3 s of an 8 s model, as in the
        # paper's extension tests) so a window always has most of its length left to generate.
        want = min(round(request.context_seconds * LATENT_RATE), (3 * self.window_latents) // 8)
        head = tail = 0
        if request.mode in ("extend", "inpaint"):
            if self.p.source is None:
                raise RequestError(f"{request.mode} mode needs existing audio around the region, but there is "
                                   "no project or soundtrack; open a project or use text mode")
            head = min(want, request.start // self.hop)
        if request.mode == "inpaint":
            after = self.p.source.duration - (request.start + body * self.hop)
            tail = min(want, max(0, after) // self.hop)
            if head == 0 and tail == 0:
                raise RequestError("inpaint mode needs existing audio before or after the region, but the "
                                   "region covers the whole timeline; use text mode")
        if request.mode == "extend" and head == 0:
            raise RequestError("extend mode needs audio before the region; start the region later")
        return Layout(span_start=request.start - head * self.hop, head=head, body=body, tail=tail)

    def _context(self, layout: Layout) -> tuple[torch.Tensor | None, torch.Tensor]:
        """Given latents of the span (C_z, N) (None when nothing is given) and their mask (N,)."""
        known = torch.zeros(layout.n_latents, dtype=torch.bool)
        if layout.head == 0 and layout.tail == 0:
            return None, known
        given = torch.zeros(self.model.config.latent_channels, layout.n_latents)
        parts = []
        if layout.head:
            parts.append((0, layout.span_start, layout.head))
        if layout.tail:
            first = layout.head + layout.body
            parts.append((first, layout.span_start + first * self.hop, layout.tail))
        audible = False
        for latent0, sample0, count in parts:
            wave = self.p.source.read(sample0, sample0 + count * self.hop)
            audible |= bool(np.abs(wave).max() > 1e-5)
            given[:, latent0:latent0 + count] = self._encode(wave)[:, :count]
            known[latent0:latent0 + count] = True
        if not audible:
            where = "before" if layout.tail == 0 else "around"
            raise RequestError(f"{self.request.mode} mode continues the sound {where} the region, but it is silent "
                               f"there on every track; add sound there first or use text mode")
        return given, known

    def _encode(self, wave: np.ndarray) -> torch.Tensor:
        """Latents (C_z, T) of a waveform, cached by its samples and the model's weights."""
        self.context_hash.update(audio_key(wave).encode())

        def encode() -> torch.Tensor:
            x = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))[None].to(self.device)
            z = self.model.encode_audio(x)      # full precision: see `_decode`
            return z[0].float().cpu()
        return self.p.caches.latents_for(wave, self.loaded.identity.hash, encode)

    def _video_features(self, layout: Layout, window: Window) -> torch.Tensor | None:
        path = self.request.video
        if not path:
            return None
        if self.video_end is None:
            self.video_end = seconds_to_samples(probe(check_exists(path)).duration)
        start = layout.span_start + window.start * self.hop
        end = layout.span_start + window.end * self.hop
        if start >= self.video_end:
            return None       # past the picture's end there is nothing to follow: the null video (∅_v)
        return self._video_range(path, start, end)

    def _video_range(self, path: str, start: int, end: int) -> torch.Tensor:
        check_exists(path)        # a moved video is for the user to relink, not a crash in the cache

        def encode() -> torch.Tensor:
            frames, fps = encoder_frames(path, self.model.video_input, start / SAMPLE_RATE, end / SAMPLE_RATE)
            feats = self.model.encode_video(torch.from_numpy(frames).to(self.device), fps)
            return feats.float()
        feats = self.p.caches.video.get_or_compute(path, self.loaded.identity.hash, start, end, encode)
        self.context_hash.update(hashlib.sha256(feats.numpy().tobytes()).digest())
        return feats

    def _reference(self) -> tuple[torch.Tensor, torch.Tensor | None] | None:
        """Analogy: the reference clip's latents (C_z, T_r) and, when it has a picture, its video features."""
        ref = self.request.reference
        if ref is None:
            return None
        n = max(1, ref.length // self.hop) * self.hop     # whole latents only
        if ref.path is None:
            if self.p.source is None:
                raise RequestError("the analogy reference is the project's own audio, but there is no project; "
                                   "give a reference file")
            wave, video_path = self.p.source.read(ref.start, ref.start + n), self.p.source.video
        else:
            wave = read_audio(ref.path, ref.start, ref.start + n)
            wave = np.pad(wave, (0, max(0, n - len(wave))))[:n]
            video_path = ref.path if probe(ref.path).has_video else None
        if not np.abs(wave).max() > 1e-5:
            raise RequestError(f"the analogy reference {ref.path or 'project mix'} [{ref.start}:{ref.end}] is silent; "
                               "pick a range with the sound to imitate")
        latents = self._encode(wave)
        # A timeline reference brings its picture (eq. 3's v_c); a library sound has none (∅_v).
        feats = self._video_range(video_path, ref.start, ref.start + n) if video_path else None
        return latents, feats

    # ------------------------------------------------------------ sampling
    def _sample_chunk(self, takes: list[int], layout: Layout, windows: list[Window], given: torch.Tensor | None,
                      known0: torch.Tensor, video: list[torch.Tensor | None],
                      reference: tuple[torch.Tensor, torch.Tensor | None] | None) -> list[torch.Tensor]:
        """Sample all windows for the request's `takes` (indices); returns each window's latents (B, C_z, L)."""
        channels = self.model.config.latent_channels
        seeds = [self.request.seeds[i] for i in takes]
        cfgs = [self.request.take_cfgs[i] for i in takes]
        span = torch.zeros(len(takes), channels, layout.n_latents)
        if given is not None:
            span[:] = given
        known = known0.clone()
        per_window = []
        for k, win in enumerate(windows):
            mask = known[win.start:win.end].clone()   # the model may keep it; `known` changes below
            if bool(mask.all()):
                per_window.append(span[:, :, win.start:win.end].clone())
                continue
            # Window 0 has one context for every take (the project's audio, if any); later windows
            # continue each take's own previous window, so they pass one context per take. Either
            # way all takes of the chunk are sampled in one batched call.
            context = span[0, :, win.start:win.end] if win.shared == 0 else span[:, :, win.start:win.end]
            z = self._sample(seeds, cfgs, k, len(windows), context, mask, video[k], reference)
            # Given positions stay exactly what was given, whatever the model returns there.
            z = torch.where(mask[None, None, :], span[:, :, win.start:win.end], z.float().cpu())
            span[:, :, win.start:win.end] = z
            known[win.start:win.end] = True
            per_window.append(z)
        return per_window

    def _sample(self, seeds: list[int], cfgs: list[float], k: int, n_windows: int, context: torch.Tensor,
                mask: torch.Tensor, video: torch.Tensor | None,
                reference: tuple[torch.Tensor, torch.Tensor | None] | None) -> torch.Tensor:
        """Window k for all `seeds` (each at its γ in `cfgs`) in one call; `context` is (C_z, L) shared
        or (B, C_z, L) per take."""
        request = self.request
        has_context = bool(mask.any())
        dev = self.device
        cond = self.model.prepare_conditions(
            n_latents=context.shape[-1],
            video_feats=video.to(dev) if video is not None else None,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            quality=request.quality,
            context_latents=context.clone().to(dev) if has_context else None,
            context_mask=mask.to(dev) if has_context else None,
            reference_latents=reference[0].to(dev) if reference else None,
            reference_video_feats=reference[1].to(dev) if reference and reference[1] is not None else None,
        )
        first = self.first_take + 1
        progress = Progress("sampling", step=0, steps=request.steps, window=k + 1, windows=n_windows,
                            take_first=first, take_last=first + len(seeds) - 1, takes=len(request.seeds))

        def callback(info: dict[str, Any]) -> None:
            if self.is_cancelled():
                raise GenerationCancelled()
            step = int(info.get("i", 0)) + 1
            self.fraction = self._fraction(k, n_windows, step)
            _emit(self.progress, replace(progress, step=step, fraction=self.fraction))

        window_seeds = [window_seed(seed, k) for seed in seeds]
        with autocast(dev):     # bf16 on GPUs: the denoiser loop is where the time goes
            z = self.model.sample(cond, window_seeds, steps=request.steps, sampler=request.sampler,
                                  cfg=cfgs, callback=callback)   # equal γs run as one number there
        self._check_cancel()      # a model may swallow the callback's exception: check once more
        return z

    def _fraction(self, k: int, n_windows: int, step: int) -> float:
        """Share of the request's denoising work (takes × windows × steps) done after this step.

        Earlier chunks are complete; every take of this chunk has finished k windows and `step`
        steps of window k (a chunk's takes advance together).
        """
        steps = self.request.steps
        per_take = n_windows * steps
        done = self.first_take * per_take + self.chunk_size * (k * steps + step)
        return min(1.0, done / (len(self.request.seeds) * per_take))

    # ------------------------------------------------------------ decoding
    def _decode(self, per_window: list[torch.Tensor], layout: Layout, windows: list[Window]) -> list[np.ndarray]:
        _emit(self.progress, Progress("decoding", self.fraction, takes=len(self.request.seeds)))
        segments: list[np.ndarray] = []     # (B, L * hop) per window
        for z in per_window:
            # The autoencoder runs in float32 even on a GPU: it is a small share of the time, and
            # its inverse STFT / last convolutions are where bf16 would audibly add noise.
            wave = self.model.decode_latents(z.to(self.device))
            segments.append(wave.float().cpu().numpy())
        offset = layout.head * self.hop
        takes = []
        for b in range(per_window[0].shape[0]):
            joined = join_windows([seg[b] for seg in segments], windows, self.hop)
            takes.append(np.ascontiguousarray(joined[offset:offset + self.request.length], dtype=np.float32))
        return takes


def _emit(progress: ProgressFn | None, event: Progress) -> None:
    if progress is not None:
        progress(event)


def regenerate_take(sidecar_path: str | Path, pipeline: Pipeline, *, verify: bool = True) -> np.ndarray:
    """Make a take again from its sidecar: the same request, batch, seed, γ and model give the same samples.

    With `verify`, a result that differs from the recorded hash raises `EngineError` saying why it
    can differ (other weights, changed audio around the region, another device or torch build).
    """
    sidecar = read_sidecar(sidecar_path)
    loaded = pipeline.models.get(sidecar.request.model, pipeline.device)
    if verify and loaded.identity.hash != sidecar.model.hash:
        raise EngineError(f"take {sidecar.take_id} was made with other weights of model {sidecar.model.name!r} "
                          f"(hash {sidecar.model.hash[:12]}, installed {loaded.identity.hash[:12]}); "
                          "install those weights to regenerate it exactly")
    rendered = pipeline.render(sidecar.request)
    audio = rendered.take(sidecar.seed, sidecar.guidance)
    if verify and audio_sha256(audio) != sidecar.audio_sha256:
        raise EngineError(f"regenerated take {sidecar.take_id} differs from the original: "
                          f"{_why_different(sidecar, rendered)}")
    return audio


def _why_different(sidecar: Sidecar, rendered: Rendered) -> str:
    if rendered.context_sha256 != sidecar.extra.get("context_sha256"):
        return "the video, the audio around the region or the reference changed since"
    if (int(sidecar.extra.get("windows", 1)) > 1 and len(sidecar.request.seeds) > 1
            and not sidecar.extra.get("batched_windows")):
        return ("it was made by an earlier Foley Studio that sampled its later windows one take at a time; "
                "this one batches them, which changes the samples only by float rounding")
    return f"it was made on {sidecar.extra.get('device', 'another device')} and this is {rendered.device}"
