"""Long regions as a chain of model windows, and the crossfades that join their audio.

A region longer than one model window (8 s = 320 latents) is covered by windows that share
`overlap` latents with their predecessor. Each later window is generated with that shared span
*given* (the model's extension mechanism, via `context_mask`), so the music of the cue carries on;
the decoded windows are then joined with a crossfade over the shared span, which hides the
decoder's edge effects at each window's border.

The crossfade keeps the *power* of the sum constant. For two uncorrelated signals that is the
classic sin/cos law; for two copies of the same sound (which the shared span nearly is, since its
latents are identical) the sin/cos law would add +3 dB in the middle, so the gains are normalised
by the measured correlation ρ: a² + b² + 2ρab = 1. ρ = 0 gives sin/cos, ρ = 1 gives gains summing
to one, and everything between stays level.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """Latent frames [start, end) of the span; `shared` leading frames overlap the previous window."""

    index: int
    start: int
    end: int
    shared: int

    @property
    def length(self) -> int:
        return self.end - self.start


def plan_windows(n_latents: int, window: int, overlap: int, *, tail_given: int = 0) -> list[Window]:
    """Cover [0, n_latents) with windows of at most `window` frames sharing `overlap` frames.

    Windows are balanced (equal length, but the first few may be one frame shorter) rather than
    greedy, so no window is a sliver. `tail_given` is the number of frames at the end that are
    already known (inpainting's right context): the last window must still generate something
    *before* them, or the frames next to the right context would have been made without seeing it.
    """
    if n_latents <= 0:
        raise ValueError(f"{n_latents=} must be positive")
    if not 0 < overlap < window:
        raise ValueError(f"{overlap=} must be between 0 and {window=}")
    if n_latents <= window:
        return [Window(0, 0, n_latents, 0)]
    hop_max = window - overlap
    if tail_given >= hop_max:
        raise ValueError(f"{tail_given=} leaves no room to generate in a window of {window} with {overlap=}")
    count = 1 + math.ceil((n_latents - window) / hop_max)
    length = min(window, math.ceil((n_latents - overlap) / count) + overlap)
    if length - overlap <= tail_given:
        length = window   # balanced windows would leave the last one nothing to generate before the tail
    last_start = n_latents - length
    starts = [(i * last_start) // (count - 1) for i in range(count)]
    windows = []
    for i, start in enumerate(starts):
        end = n_latents if i == count - 1 else starts[i + 1] + overlap
        shared = 0 if i == 0 else windows[-1].end - start
        windows.append(Window(i, start, end, shared))
    assert all(w.length <= window for w in windows), f"{windows=} exceed {window=}"
    assert all(w.shared == overlap for w in windows[1:]), f"{windows=} do not share {overlap=}"
    return windows


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Zero-lag normalised correlation of two equal-length signals, clipped to [0, 1]."""
    denom = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    if denom <= 1e-20:
        return 1.0     # silence on either side: any gains summing to one are exact
    return min(1.0, max(0.0, float(np.dot(a, b)) / denom))


def crossfade_gains(n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Gains (fade_out, fade_in) of length n keeping a² + b² + 2ρab = 1 at every sample."""
    t = (np.arange(n, dtype=np.float64) + 0.5) / n
    out = np.cos(0.5 * np.pi * t)
    inn = np.sin(0.5 * np.pi * t)
    norm = np.sqrt(out * out + inn * inn + 2.0 * rho * out * inn)
    return out / norm, inn / norm


def join_windows(segments: list[np.ndarray], windows: list[Window], hop: int) -> np.ndarray:
    """Join decoded window audio (segment i covers samples [start*hop, end*hop)) into one signal."""
    if len(segments) != len(windows):
        raise ValueError(f"{len(segments)=} != {len(windows)=}")
    total = windows[-1].end * hop
    out = np.zeros(total, dtype=np.float32)
    for seg, win in zip(segments, windows):
        expected = win.length * hop
        if seg.shape != (expected,):
            raise ValueError(f"window {win.index}: {seg.shape=} but {expected=} samples")
        s0 = win.start * hop
        n_fade = win.shared * hop
        if n_fade:
            prev = out[s0:s0 + n_fade].astype(np.float64)
            new = seg[:n_fade].astype(np.float64)
            g_out, g_in = crossfade_gains(n_fade, correlation(prev, new))
            out[s0:s0 + n_fade] = (prev * g_out + new * g_in).astype(np.float32)
        out[s0 + n_fade:s0 + expected] = seg[n_fade:]
    return out
