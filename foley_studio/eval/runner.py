"""The protocol runner: generates with a model on held-out clips and scores what it made.

`Harness` owns the model, the clips and the evaluation classifier, caches every generation by its
settings (so a setting shared by two tables runs once) and turns audio into metric rows. The
protocols that mirror the paper's tables live in `protocols.py`.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from foley_studio.core.timebase import LATENT_RATE, SAMPLE_RATE
from foley_studio.media.audio import read_audio
from foley_studio.media.video import encoder_frames

from .classifier import AudioClassifier
from .data import EvalClip
from .embedding import cosine_similarity, frechet_distance
from .evaluators import AudioEmbedder
from .quality import quality_metrics
from .sync import detect_onsets, match_onsets, onset_offsets, av_offset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSettings:
    """Sampling settings shared by every protocol (the sampler table varies its own)."""

    cfg: float = 4.0
    sampler: str = "dpmpp"
    steps: int = 25               # DPM++ steps everywhere except the sampler table
    ddim_steps: int = 100         # the paper's reference sampler
    fast_steps: int = 10          # the few-step setting the speed claim rests on
    seed: int = 0                 # clip i uses seed + i in every protocol, so rows differ only by settings
    given_s: float = 3.0          # extension: seconds of true audio given ...
    generated_s: float = 5.0      # ... and seconds generated after it
    tolerance_s: float = 0.05     # onset matching tolerance


@dataclass(frozen=True)
class Gen:
    """One generation's conditions (hashable: the cache key, with the clip id)."""

    prompt: str = ""
    negative: str | None = None
    quality: str | None = None
    video: bool = True
    # extension: which of audio (A) and its video (Vc) are given for the first `given_s` seconds
    extend: bool = False
    given_audio: bool = False
    given_video: bool = False
    sampler: str = "dpmpp"
    steps: int = 25


@dataclass
class Output:
    """Generated (or reference) audio of one clip for one row, with the window it covers."""

    audio: np.ndarray
    start_s: float = 0.0
    wall_s: float = math.nan


@dataclass
class Row:
    """One table row: a name, its metric values and a note on how it was made."""

    name: str
    metrics: dict[str, float]
    note: str = ""


@dataclass
class Table:
    """One protocol's result: settings, column keys (into `Row.metrics`) and rows."""

    key: str
    title: str
    settings: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


class Harness:
    """Runs generations on evaluation clips and scores them with the metrics."""

    def __init__(self, model, clips: Sequence[EvalClip], classifier: AudioClassifier, settings: EvalSettings,
                 *, catalogue: dict[tuple[str, str], list[str]] | None = None,
                 embedder: AudioEmbedder | None = None,
                 progress: Callable[[str], None] | None = None):
        self.model = model.eval()
        # FD and continuity use a real evaluator's embedding when one is given, else the classifier's
        self.embedder = embedder
        self.clips = list(clips)
        # captions per (material, action): where 'another class' prompts come from
        self.catalogue = catalogue if catalogue is not None else {
            (c.labels.get("material", ""), c.labels.get("action", "")): [c.caption] for c in self.clips}
        self.classifier = classifier
        self.settings = settings
        self.progress = progress or (lambda msg: log.info(msg))
        self._video: dict[str, torch.Tensor] = {}
        self._audio: dict[tuple[str, str], np.ndarray] = {}
        self._generated: dict[tuple[str, Gen], Output] = {}
        self._embeddings: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
        self._external: dict[str, np.ndarray] = {}
        self.generation_count = 0

    # ---- inputs ---------------------------------------------------------------------------------

    def audio(self, clip: EvalClip, which: str = "hq") -> np.ndarray:
        """True audio of a clip (48 kHz mono float32, exactly `duration` long)."""
        key = (clip.id, which)
        if key not in self._audio:
            path = clip.audio_hq if which == "hq" else clip.audio_lq
            if path is None:
                raise ValueError(f"clip {clip.id} has no {which} audio")
            x = read_audio(path)
            n = int(round(clip.duration * SAMPLE_RATE))
            self._audio[key] = np.pad(x[:n], (0, max(0, n - len(x)))).astype(np.float32)
        return self._audio[key]

    def video_feats(self, clip: EvalClip) -> torch.Tensor:
        """Video features of the whole clip at the model's video rate: (T_f, C_v)."""
        if clip.id not in self._video:
            frames, fps = encoder_frames(clip.video, self.model.video_input, 0.0, clip.duration)
            with torch.no_grad():
                self._video[clip.id] = self.model.encode_video(torch.from_numpy(frames).to(self.model.device),
                                                               fps).float()
        return self._video[clip.id]

    def _video_slice(self, clip: EvalClip, start_s: float, end_s: float) -> torch.Tensor:
        fps = float(self.model.video_fps)
        feats = self.video_feats(clip)
        return feats[int(round(start_s * fps)):int(round(end_s * fps))]

    def _latents(self, wave: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return self.model.encode_audio(torch.from_numpy(np.ascontiguousarray(wave, np.float32))[None])[0]

    # ---- generation -----------------------------------------------------------------------------

    def seed_of(self, clip: EvalClip) -> int:
        return self.settings.seed + self.clips.index(clip)

    def generate(self, clip: EvalClip, gen: Gen) -> Output:
        """The model's take for `clip` under `gen` (cached by settings)."""
        key = (clip.id, gen)
        if key in self._generated:
            return self._generated[key]
        s = self.settings
        self.video_feats(clip)        # cached per clip, so it stays out of every row's wall time
        t0 = time.perf_counter()
        if gen.extend:
            start = s.given_s
            n_latents = int(round(s.generated_s * LATENT_RATE))
            video = self._video_slice(clip, start, start + s.generated_s) if gen.video else None
            given = self.audio(clip)[: int(round(start * SAMPLE_RATE))]
            ref = self._latents(given) if gen.given_audio else None
            ref_video = self._video_slice(clip, 0.0, start) if (gen.given_audio and gen.given_video) else None
            cond = self.model.prepare_conditions(
                n_latents=n_latents, video_feats=video, prompt=gen.prompt, negative_prompt=gen.negative,
                quality=gen.quality, reference_latents=ref, reference_video_feats=ref_video)
        else:
            start = 0.0
            n_latents = int(round(clip.duration * LATENT_RATE))
            cond = self.model.prepare_conditions(
                n_latents=n_latents, video_feats=self.video_feats(clip) if gen.video else None,
                prompt=gen.prompt, negative_prompt=gen.negative, quality=gen.quality)
        with torch.no_grad():
            z = self.model.sample(cond, [self.seed_of(clip)], steps=gen.steps, sampler=gen.sampler, cfg=s.cfg)
            wave = self.model.decode_latents(z)[0].float().cpu().numpy()
        out = Output(wave, start_s=start, wall_s=time.perf_counter() - t0)
        self._generated[key] = out
        self.generation_count += 1
        return out

    def default_gen(self, **changes) -> Gen:
        return replace(Gen(sampler=self.settings.sampler, steps=self.settings.steps), **changes)

    # ---- references (rows that are not the model's generation) --------------------------------

    def true_audio(self, which: str = "hq") -> list[Output]:
        return [Output(self.audio(c, which)) for c in self.clips]

    def reconstruction(self, window: tuple[float, float] | None = None) -> list[Output]:
        """The autoencoder-reconstruction oracle: decode(encode(true audio)) over the window."""
        outs = []
        for clip in self.clips:
            start, end = window or (0.0, clip.duration)
            x = self.audio(clip)[int(round(start * SAMPLE_RATE)):int(round(end * SAMPLE_RATE))]
            with torch.no_grad():
                y = self.model.decode_latents(self._latents(x)[None])[0].float().cpu().numpy()
            outs.append(Output(y[: len(x)], start_s=start))
        return outs

    def random_timing(self) -> list[Output]:
        """True audio circularly shifted by a seeded random 1..duration-1 s: right sound, wrong time."""
        outs = []
        for clip in self.clips:
            rng = np.random.default_rng(self.seed_of(clip) + 7919)
            shift = int(rng.uniform(1.0, clip.duration - 1.0) * SAMPLE_RATE)
            outs.append(Output(np.roll(self.audio(clip), shift)))
        return outs

    # ---- scoring --------------------------------------------------------------------------------

    def _analysis(self, audio: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Classifier embedding and class probabilities of one clip, cached by content (rows share
        true audio, windows and generations)."""
        key = hashlib.blake2b(np.ascontiguousarray(audio).tobytes(), digest_size=16).hexdigest()
        if key not in self._embeddings:
            self._embeddings[key] = self.classifier.analyse(audio)
        return self._embeddings[key]

    def embed(self, audio: np.ndarray) -> np.ndarray:
        if self.embedder is None:
            return self._analysis(audio)[0]
        key = "ext:" + hashlib.blake2b(np.ascontiguousarray(audio).tobytes(), digest_size=16).hexdigest()
        if key not in self._external:
            self._external[key] = self.embedder.embed([audio])[0]
        return self._external[key]

    def score(self, outputs: Sequence[Output], *, targets: Sequence[dict[str, str]] | None = None,
              continuation: bool = False) -> dict[str, float]:
        """Every metric of one row over all clips (see `docs/EVALUATION.md` for definitions)."""
        clips = self.clips
        targets = targets or [c.labels for c in clips]
        metrics: dict[str, float] = {"n": float(len(outputs))}
        metrics.update(self._control(outputs, targets))
        metrics.update(self._sync(outputs))
        metrics.update(self._quality(outputs))
        metrics.update(self._distribution(outputs))
        if continuation:
            sims = [float(cosine_similarity(self.embed(o.audio), self.embed(self._cached_window(c, o, "hq"))))
                    for c, o in zip(clips, outputs)]
            metrics["continuity"] = float(np.mean(sims))
            metrics["continuity_se"] = _standard_error(sims)
        walls = [o.wall_s for o in outputs if not math.isnan(o.wall_s)]
        if walls:
            metrics["wall_s"] = float(np.mean(walls))
        return metrics

    def score_sync(self, outputs: Sequence[Output]) -> dict[str, float]:
        """Only the sync metrics of one row: for clips whose classes the evaluation classifier does
        not know (the out-of-domain split)."""
        return {"n": float(len(outputs)), **self._sync(outputs)}

    def _true_window(self, clip: EvalClip, out: Output, which: str = "hq") -> np.ndarray:
        start = int(round(out.start_s * SAMPLE_RATE))
        return self.audio(clip, which)[start:start + len(out.audio)]

    def _control(self, outputs: Sequence[Output], targets: Sequence[dict[str, str]]) -> dict[str, float]:
        predicted = [self.classifier.label_of(self._analysis(o.audio)[1]) for o in outputs]
        out = {}
        for head in self.classifier.heads:
            out[f"acc_{head}"] = 100.0 * float(np.mean([p[head] == t.get(head) for p, t in zip(predicted, targets)]))
        out["acc"] = 100.0 * float(np.mean([all(p[h] == t.get(h) for h in self.classifier.heads)
                                            for p, t in zip(predicted, targets)]))
        return out

    def _sync(self, outputs: Sequence[Output]) -> dict[str, float]:
        """Pooled over impact clips: onset P/R/F1 at ±tolerance, |offset| to nearest onset, |AV offset|."""
        tol = self.settings.tolerance_s
        n_det = n_true = n_match = 0
        offsets: list[float] = []
        av: list[float] = []
        n_clips = 0
        for clip, out in zip(self.clips, outputs):
            if not clip.is_impact_clip:
                continue
            truth = clip.onsets_between(out.start_s, out.start_s + len(out.audio) / SAMPLE_RATE)
            if len(truth) == 0:
                continue
            n_clips += 1
            detected = detect_onsets(out.audio)
            n_det, n_true = n_det + len(detected), n_true + len(truth)
            n_match += len(match_onsets(detected, truth, tol))
            offsets.extend(np.abs(onset_offsets(detected, truth)) * 1000.0)
            lag = av_offset(out.audio, truth)
            av.append(abs(lag) if not math.isnan(lag) else math.nan)
        if n_clips == 0:
            return {"sync_clips": 0.0}
        precision = n_match / n_det if n_det else 0.0
        recall = n_match / n_true if n_true else 0.0
        defined = [a for a in av if not math.isnan(a)]
        return {
            "sync_clips": float(n_clips),
            "onset_p": 100.0 * precision, "onset_r": 100.0 * recall,
            "onset_f1": 100.0 * (2 * precision * recall / (precision + recall) if precision + recall else 0.0),
            "offset_median_ms": float(np.median(offsets)) if offsets else math.nan,
            "offset_mean_ms": float(np.mean(offsets)) if offsets else math.nan,
            "av_offset_s": float(np.mean(defined)) if defined else math.nan,
            "av_offset_s_se": _standard_error(defined),
            "av_undefined": float(len(av) - len(defined)),
        }

    def _quality(self, outputs: Sequence[Output]) -> dict[str, float]:
        q = [quality_metrics(o.audio) for o in outputs]
        return {
            "e8k": 100.0 * float(np.nanmean([r.energy_above_8k for r in q])),
            "e16k": 100.0 * float(np.nanmean([r.energy_above_16k for r in q])),
            "rolloff99_khz": float(np.nanmean([r.rolloff_99_hz for r in q])) / 1000.0,
        } if any(not math.isnan(r.energy_above_8k) for r in q) else {}

    def _distribution(self, outputs: Sequence[Output]) -> dict[str, float]:
        """Fréchet distances of the outputs' embeddings to the true HQ and LQ audio of the same windows."""
        gen = np.stack([self.embed(o.audio) for o in outputs])
        out = {"fd_hq": frechet_distance(gen, np.stack([self.embed(self._cached_window(c, o, "hq"))
                                                        for c, o in zip(self.clips, outputs)]))}
        if all(c.audio_lq is not None for c in self.clips):
            out["fd_lq"] = frechet_distance(gen, np.stack([self.embed(self._cached_window(c, o, "lq"))
                                                           for c, o in zip(self.clips, outputs)]))
        return out

    def _cached_window(self, clip: EvalClip, out: Output, which: str) -> np.ndarray:
        # keep window arrays alive and identical per (clip, window) so their embeddings are cached
        key = (clip.id, f"{which}@{out.start_s}:{len(out.audio)}")
        if key not in self._audio:
            self._audio[key] = self._true_window(clip, out, which)
        return self._audio[key]


def _standard_error(values: Sequence[float]) -> float:
    """Standard error of a mean over clips (NaN below two values): how far a small-n row can be trusted."""
    if len(values) < 2:
        return math.nan
    return float(np.std(values, ddof=1) / math.sqrt(len(values)))
