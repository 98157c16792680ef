"""The linear onset read-out gate: is *when* contact happens linearly decodable from frozen video features?

A video encoder is frozen; its features of clips with exact onset times are extracted once; a ridge
regression from each feature frame to an onset target (a narrow Gaussian bump at every true onset)
is fitted on one set of clips; its local maxima above a threshold (chosen on the fit clips) are the
detected onsets, scored with the evaluation's own onset F1 (`sync.onset_scores`, one-to-one matching
within ±50 ms) on held-out clips — in-world and out-of-domain. A chance row (the same read-out on
random features of the same size) says what no timing information scores.

Frames reach the encoder whole: each picture is squashed to the encoder's square input
(`media.video.frames_squashed_for_encoder`), so an event near a wide frame's edge is not cropped away.

Any encoder works that has `.fps` (its output rate) and `.encode(frames, fps) -> (T', dim)` for
uint8 (T, H, W, 3) frames, like `foley_studio.model.encoders.VideoEncoder`.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from foley_studio.media.manifest import read_manifest
from foley_studio.media.video import frames_squashed_for_encoder, native_fps

from .data import EvalClip
from .sync import onset_offsets, onset_scores

log = logging.getLogger(__name__)


class FrameEncoder(Protocol):
    """What the read-out needs from a video encoder."""

    fps: float

    def encode(self, frames: torch.Tensor, fps: float) -> torch.Tensor: ...


@dataclass(frozen=True)
class ReadoutConfig:
    """Settings of the read-out (the defaults are the gate's)."""

    tolerance_s: float = 0.05     # onset matching tolerance (the evaluation's ±50 ms)
    context: int = 0              # feature frames stacked on each side of a frame (0: the frame alone)
    ridge: float = 1e-3           # L2 penalty per fit frame, on standardised features
    target_sigma: float = 1.0     # width (feature frames) of the bump each true onset puts in the target
    peak_radius: int = 2          # a detection is the maximum within ± this many frames
    thresholds: int = 64          # candidate thresholds tried on the fit clips


@dataclass
class ReadoutClip:
    """Frozen features of one clip with its true onsets."""

    id: str
    features: np.ndarray          # (T, dim) float32; row j is the picture at j / fps
    fps: float
    onsets: np.ndarray            # true onset times (s)
    group: str = ""               # e.g. the scene kind, for per-group scores


# --------------------------------------------------------------------------- features

def encode_frames(encoder: FrameEncoder, frames: np.ndarray, fps: float) -> np.ndarray:
    """Features (T', dim) float32 of uint8 (T, H, W, 3) frames at `fps`, without gradients."""
    with torch.no_grad():
        feats = encoder.encode(torch.from_numpy(np.ascontiguousarray(frames)), fps)
    return feats.detach().float().cpu().numpy()


def clip_features(encoder: FrameEncoder, clips: Sequence[EvalClip], *, size: int | None = None,
                  groups: Mapping[str, str] | None = None,
                  progress: Callable[[str], None] | None = None) -> list[ReadoutClip]:
    """Each clip's whole pictures at the encoder's rate, squashed to `size` (default: the encoder's
    `.size`), through the encoder once."""
    size = int(size or getattr(encoder, "size", 0) or 0)
    if size <= 0:
        raise ValueError("give the frame size: this encoder has no .size")
    fps = float(encoder.fps)
    out = []
    for i, clip in enumerate(clips):
        # an encoder that reads videos at their own rate (the motion kind) says so in its config
        config = getattr(encoder, "config", None)
        rate = float(config.input_fps(native_fps(clip.video))) if hasattr(config, "input_fps") else fps
        frames = frames_squashed_for_encoder(clip.video, rate, size, 0.0, clip.duration)
        out.append(ReadoutClip(clip.id, encode_frames(encoder, frames, rate), fps, clip.onset_times,
                               (groups or {}).get(clip.id, "")))
        if progress:
            progress(f"features {i + 1}/{len(clips)}: {clip.id}")
    return out


class MotionEnergyEncoder:
    """A hand-made reference encoder with no training: where and how much the picture changes.

    Per frame: the mean absolute first and second temporal difference of the grey picture on a
    `grid` x `grid` layout, plus their spatial maxima, log-scaled. A contact is a sudden change of
    velocity, which the second difference sees. It says how much timing plain motion carries on a
    split, so a learned encoder's read-out has a bar to clear beside chance.
    """

    def __init__(self, fps: float = 24.0, size: int = 64, grid: int = 4):
        self.fps, self.size, self.grid = float(fps), int(size), int(grid)

    @property
    def dim(self) -> int:
        return 2 * (self.grid * self.grid + 1)

    def encode(self, frames: torch.Tensor, fps: float | None = None) -> torch.Tensor:
        """uint8 (T, H, W, 3) -> (T', dim) at `.fps`."""
        if fps is not None and abs(fps - self.fps) > 1e-6 and len(frames):
            n_out = max(1, round(len(frames) * self.fps / fps))
            frames = frames[((torch.arange(n_out) + 0.5) * fps / self.fps).long().clamp(max=len(frames) - 1)]
        grey = frames.float().mean(dim=-1) / 255.0                                   # (T, H, W)
        if len(grey) < 3:
            return torch.zeros(len(grey), self.dim)
        first = torch.zeros_like(grey)
        first[1:] = (grey[1:] - grey[:-1]).abs()
        second = torch.zeros_like(grey)
        second[1:-1] = (grey[2:] - 2 * grey[1:-1] + grey[:-2]).abs()
        parts = []
        for diff in (first, second):
            pooled = torch.nn.functional.adaptive_avg_pool2d(diff[:, None], self.grid).flatten(1)
            parts += [pooled, diff.flatten(1).amax(dim=1, keepdim=True)]
        return torch.log(torch.cat(parts, dim=1) + 1e-3)


def chance_clips(clips: Sequence[ReadoutClip], *, seed: int = 0) -> list[ReadoutClip]:
    """The same clips with random features of the same shape: what no timing information scores."""
    rng = np.random.default_rng(seed)
    return [ReadoutClip(c.id, rng.standard_normal(c.features.shape).astype(np.float32), c.fps, c.onsets, c.group)
            for c in clips]


def clip_groups(manifest: Path, key: str) -> dict[str, str]:
    """{clip id: meta[key]} of a manifest's rows (ids as `load_eval_clips` names the clips)."""
    return {row.id.removesuffix("-hq"): str(row.meta.get(key, "")) for row in read_manifest(manifest)}


# --------------------------------------------------------------------------- the read-out

def onset_targets(n_frames: int, fps: float, onsets: np.ndarray, sigma: float) -> np.ndarray:
    """(n_frames,) target: a Gaussian bump (peak 1) at each onset, on the feature frame grid."""
    frames = np.arange(n_frames)[:, None]
    at = np.asarray(onsets, float)[None, :] * fps
    if at.size == 0:
        return np.zeros(n_frames)
    return np.exp(-0.5 * ((frames - at) / sigma) ** 2).max(axis=1)


def stack_context(features: np.ndarray, context: int) -> np.ndarray:
    """(T, dim * (2 context + 1)): each frame with its neighbours (edges repeat)."""
    if context == 0:
        return features
    padded = np.pad(features, ((context, context), (0, 0)), mode="edge")
    n = len(features)
    return np.concatenate([padded[i:i + n] for i in range(2 * context + 1)], axis=1)


def pick_peaks(activation: np.ndarray, threshold: float, radius: int) -> np.ndarray:
    """Frame positions (fractional, parabola-refined) of local maxima within ±radius above threshold."""
    a = np.asarray(activation, float)
    if len(a) == 0:
        return np.zeros(0)
    padded = np.pad(a, radius, mode="constant", constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1)
    is_peak = (a >= windows.max(axis=1)) & (a >= threshold)
    idx = np.flatnonzero(is_peak)
    kept: list[int] = []
    for i in idx:                           # a flat top counts once
        if not kept or i - kept[-1] > radius:
            kept.append(int(i))
    out = []
    for i in kept:
        if 0 < i < len(a) - 1:
            den = a[i - 1] - 2 * a[i] + a[i + 1]
            shift = 0.5 * (a[i - 1] - a[i + 1]) / den if den < 0 else 0.0
            out.append(i + float(np.clip(shift, -0.5, 0.5)))
        else:
            out.append(float(i))
    return np.asarray(out)


@dataclass
class OnsetReadout:
    """A fitted linear read-out: standardisation, weights and the detection threshold."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    config: ReadoutConfig

    def activation(self, features: np.ndarray) -> np.ndarray:
        x = (stack_context(features, self.config.context) - self.mean) / self.scale
        return x @ self.weights + self.bias

    def detect(self, clip: ReadoutClip, threshold: float | None = None) -> np.ndarray:
        """Detected onset times (s) of one clip."""
        peaks = pick_peaks(self.activation(clip.features), self.threshold if threshold is None else threshold,
                           self.config.peak_radius)
        return peaks / clip.fps


def fit_readout(clips: Sequence[ReadoutClip], config: ReadoutConfig = ReadoutConfig()) -> OnsetReadout:
    """Ridge regression onto the onset targets, then the threshold with the best pooled F1 on the
    same clips (the threshold is part of the fit; test clips never choose it)."""
    if not clips:
        raise ValueError("the read-out needs at least one clip to fit on")
    x = np.concatenate([stack_context(c.features, config.context) for c in clips]).astype(np.float64)
    y = np.concatenate([onset_targets(len(c.features), c.fps, c.onsets, config.target_sigma) for c in clips])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    gram = z.T @ z + config.ridge * len(z) * np.eye(z.shape[1])
    weights = np.linalg.solve(gram, z.T @ (y - y.mean()))
    readout = OnsetReadout(mean, scale, weights, float(y.mean()), 0.0, config)
    readout.threshold = _best_threshold(readout, clips)
    return readout


def _best_threshold(readout: OnsetReadout, clips: Sequence[ReadoutClip]) -> float:
    """The middle of the thresholds that reach the best pooled F1 on the fit clips: the edge of
    that range fits these clips exactly and would miss held-out onsets a little weaker."""
    activation = np.concatenate([readout.activation(c.features) for c in clips])
    k = readout.config.thresholds
    low = float(np.quantile(activation, 0.5))
    candidates = np.unique(np.concatenate([np.quantile(activation, np.linspace(0.5, 0.999, k)),
                                           np.linspace(low, float(activation.max()), k)]))
    f1 = np.array([score_readout(readout, clips, threshold=float(t)).f1 for t in candidates])
    best = candidates[f1 >= f1.max() - 1e-9]
    return float(best[len(best) // 2])


# --------------------------------------------------------------------------- scores

@dataclass(frozen=True)
class ReadoutScore:
    """Onsets pooled over clips: counts, precision / recall / F1 and the median |offset| of hits."""

    clips: int
    n_true: int
    n_detected: int
    n_matched: int
    precision: float
    recall: float
    f1: float
    median_abs_offset_ms: float


def score_readout(readout: OnsetReadout, clips: Sequence[ReadoutClip], *, threshold: float | None = None
                  ) -> ReadoutScore:
    """Pooled onset scores of the read-out's detections against the true onsets."""
    n_true = n_det = n_match = 0
    offsets: list[float] = []
    tol = readout.config.tolerance_s
    for clip in clips:
        detected = readout.detect(clip, threshold)
        s = onset_scores(detected, clip.onsets, tol)
        n_true, n_det, n_match = n_true + s.n_true, n_det + s.n_detected, n_match + s.n_matched
        near = np.abs(onset_offsets(detected, clip.onsets))
        offsets.extend((near[near <= tol + 1e-9] * 1000.0).tolist())
    precision = n_match / n_det if n_det else 0.0
    recall = n_match / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ReadoutScore(len(clips), n_true, n_det, n_match, precision, recall, f1,
                        float(np.median(offsets)) if offsets else math.nan)


# --------------------------------------------------------------------------- the gate

@dataclass
class ReadoutRow:
    """One evaluated set: the read-out's score, the chance score, and per-group scores."""

    name: str
    score: ReadoutScore
    chance: ReadoutScore
    groups: dict[str, ReadoutScore] = field(default_factory=dict)


@dataclass
class ReadoutReport:
    encoder: str
    fit: str
    config: ReadoutConfig
    dim: int
    rows: list[ReadoutRow] = field(default_factory=list)


def run_readout(fit: Sequence[ReadoutClip], tests: Mapping[str, Sequence[ReadoutClip]], *,
                config: ReadoutConfig = ReadoutConfig(), encoder: str = "", fit_name: str = "fit") -> ReadoutReport:
    """Fit on `fit` (and a chance read-out on random features of the same clips); score both on the
    fit clips themselves (in-sample) and on every test set."""
    readout = fit_readout(fit, config)
    chance = fit_readout(chance_clips(fit), config)
    report = ReadoutReport(encoder, fit_name, config, int(fit[0].features.shape[1]))
    for name, clips in [(f"{fit_name} (in-sample)", fit), *tests.items()]:
        groups = {}
        for group in sorted({c.group for c in clips if c.group}):
            groups[group] = score_readout(readout, [c for c in clips if c.group == group])
        report.rows.append(ReadoutRow(name, score_readout(readout, clips), score_readout(chance, chance_clips(clips)),
                                      groups))
    return report


def report_json(report: ReadoutReport) -> dict:
    """The report as plain JSON data (NaN as null)."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return None if isinstance(value, float) and math.isnan(value) else value
    return clean(asdict(report))


def readout_markdown(report: ReadoutReport) -> str:
    """The gate's tables: one row per set, then per-group rows where sets have groups."""
    c = report.config
    lines = [f"### Linear onset read-out: {report.encoder}", "",
             f"Ridge read-out of frozen {report.dim}-d features (context ±{c.context} frames), fitted on "
             f"{report.fit}; threshold chosen on the fit clips; onsets matched one-to-one within "
             f"±{c.tolerance_s * 1000:.0f} ms; chance = the same read-out on random features.", "",
             "| Set | Clips | Onsets | Detected | F1@50 % ↑ | P % | R % | median \\|Δt\\| ms | chance F1 % |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in report.rows:
        lines.append(_score_line(row.name, row.score) + f" {100 * row.chance.f1:.1f} |")
    grouped = [row for row in report.rows if row.groups]
    if grouped:
        lines += ["", "| Set / group | Clips | Onsets | Detected | F1@50 % ↑ | P % | R % | median \\|Δt\\| ms |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in grouped:
            for group, score in row.groups.items():
                lines.append(_score_line(f"{row.name} / {group}", score))
    return "\n".join(lines)


def _score_line(name: str, s: ReadoutScore) -> str:
    offset = "–" if math.isnan(s.median_abs_offset_ms) else f"{s.median_abs_offset_ms:.1f}"
    return (f"| {name} | {s.clips} | {s.n_true} | {s.n_detected} | {100 * s.f1:.1f} | {100 * s.precision:.1f} | "
            f"{100 * s.recall:.1f} | {offset} |")
