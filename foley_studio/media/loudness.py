"""Levels of audio and the master processing an export offers.

- `measure(audio) -> Levels`: sample peak, true peak (4x oversampled, ITU-R BS.1770-4 Annex 2),
  integrated loudness (BS.1770-4 gated, LUFS, via pyloudnorm) and the number of clipped samples.
- `normalise_loudness(audio, target_lufs)`: one gain to reach a loudness target (-23 LUFS is
  EBU R128 broadcast, -14 LUFS the usual web/streaming level).
- `limit_true_peak(audio, ceiling_db)`: a look-ahead limiter that keeps the true peak under a ceiling.
- `Mastering(loudness_lufs, ceiling_db).apply(audio) -> (audio, MasteringReport)`: both, in that order.
- `KWeighting` + `LiveLoudness`: the same measurement block by block for the playback meters.

Audio is float32 (N,) mono or (C, N) at 48 kHz; stereo limiting is linked (one gain for both
channels, so the image does not shift). pyloudnorm measures; the limiter is our own (no kept
Python library offers a true-peak limiter): vectorised numpy/scipy, so an hour of stereo takes seconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, signal

from foley_studio.core.timebase import SAMPLE_RATE

LOUDNESS_TARGETS = {"broadcast": -23.0, "web": -14.0}     # LUFS: EBU R128, streaming platforms
DEFAULT_CEILING_DB = -1.0                                  # dBTP: what R128 and the platforms ask
OVERSAMPLE = 4
_BLOCK = 1 << 20                     # samples per block when oversampling (bounded memory on long mixes)
_EDGE = 64                           # context each side of a block for the interpolation filter
_LOOKAHEAD_S = 0.002                 # the limiter starts turning down this long before a peak ...
_RELEASE_S = 0.080                   # ... and comes back up with this time constant
_SAFETY_DB = 0.1                     # aimed below the ceiling: the interpolated peak of g*x is not quite g*peak(x)
MIN_LOUDNESS_SECONDS = 0.4           # one gating block: shorter audio has no integrated loudness


def _channels(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        return x[None, :]
    if x.ndim != 2:
        raise ValueError(f"audio must be (N,) or (C, N), got {x.shape=}")
    return x


def to_db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Levels:
    """What a meter reads off a whole signal."""

    peak_db: float               # sample peak, dBFS (-inf: silence)
    true_peak_db: float          # inter-sample peak, dBTP
    loudness_lufs: float | None  # integrated, gated; None when shorter than a gating block or silent
    clipped: int                 # samples (per channel, counted separately) with |x| > 1
    frames: int
    channels: int

    def describe(self) -> str:
        """One line for a dialog or a terminal: 'peak -3.1 dBFS, true peak -2.8 dBTP, -18.4 LUFS, 0 clipped'."""
        loud = f"{self.loudness_lufs:.1f} LUFS" if self.loudness_lufs is not None else "loudness n/a"
        return (f"peak {_fmt_db(self.peak_db)} dBFS, true peak {_fmt_db(self.true_peak_db)} dBTP, {loud}, "
                f"{self.clipped} clipped sample{'s' if self.clipped != 1 else ''}")


def _fmt_db(db: float) -> str:
    return "-inf" if db == -math.inf else f"{db:+.1f}"


def measure(audio: np.ndarray) -> Levels:
    x = _channels(audio)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return Levels(peak_db=to_db(peak), true_peak_db=to_db(true_peak(x)), loudness_lufs=integrated_loudness(x),
                  clipped=int(np.count_nonzero(np.abs(x) > 1.0)), frames=x.shape[1], channels=x.shape[0])


def _oversampled_envelope(x: np.ndarray) -> np.ndarray:
    """Per input sample, the largest |value| of the 4x oversampled signal around it, over all channels (N,)."""
    n = x.shape[1]
    env = np.empty(n, np.float32)
    for a in range(0, n, _BLOCK):
        b = min(n, a + _BLOCK)
        lo, hi = max(0, a - _EDGE), min(n, b + _EDGE)
        up = signal.resample_poly(x[:, lo:hi], OVERSAMPLE, 1, axis=1)      # (C, 4 (hi - lo))
        up = np.abs(up[:, (a - lo) * OVERSAMPLE:(b - lo) * OVERSAMPLE]).max(axis=0)
        env[a:b] = up.reshape(b - a, OVERSAMPLE).max(axis=1)
    return np.maximum(env, np.abs(x).max(axis=0))


def true_peak(audio: np.ndarray) -> float:
    """The inter-sample peak (linear) of the 4x oversampled signal (BS.1770-4 Annex 2)."""
    x = _channels(audio)
    return float(_oversampled_envelope(x).max()) if x.size else 0.0


def integrated_loudness(audio: np.ndarray) -> float | None:
    """BS.1770-4 integrated loudness in LUFS (pyloudnorm); None when too short or silent."""
    import pyloudnorm
    x = _channels(audio)
    if x.shape[1] < MIN_LOUDNESS_SECONDS * SAMPLE_RATE or x.shape[0] > 5:
        return None
    value = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(np.ascontiguousarray(x.T, dtype=np.float64))
    return float(value) if math.isfinite(value) else None


# ---------------------------------------------------------------------------------------------
# Processing
# ---------------------------------------------------------------------------------------------
def normalise_loudness(audio: np.ndarray, target_lufs: float) -> tuple[np.ndarray, float]:
    """(audio with one gain applied so its integrated loudness is `target_lufs`, that gain in dB).

    Audio without a measurable loudness (silent, or shorter than 0.4 s) is returned unchanged (0 dB)."""
    loudness = integrated_loudness(audio)
    if loudness is None:
        return np.asarray(audio, np.float32), 0.0
    gain_db = float(target_lufs) - loudness
    return (np.asarray(audio, np.float32) * np.float32(10 ** (gain_db / 20))), gain_db


def limiter_gain(audio: np.ndarray, ceiling_db: float = DEFAULT_CEILING_DB) -> np.ndarray:
    """The limiter's gain curve (N,) float32 in (0, 1]: never above what keeps the true peak at the ceiling.

    Needed gain per sample g_req = min(1, ceiling / envelope). Look-ahead: the minimum of g_req over
    +-L samples, averaged over +-L again, so the curve ramps down before a peak and is still <= g_req
    everywhere (each averaged value is a minimum over a window containing that sample). Release: a
    one-pole low-pass of that curve (time constant _RELEASE_S); the lower of the two is used, which
    is continuous and keeps both promises (no overshoot, smooth recovery).
    """
    x = _channels(audio)
    n = x.shape[1]
    if n == 0:
        return np.ones(0, np.float32)
    ceiling = 10 ** ((ceiling_db - _SAFETY_DB) / 20)
    env = _oversampled_envelope(x)
    required = np.minimum(1.0, ceiling / np.maximum(env, 1e-12)).astype(np.float32)
    if required.min() >= 1.0:
        return required
    half = max(1, int(round(_LOOKAHEAD_S * SAMPLE_RATE)))
    held = ndimage.minimum_filter1d(required, size=2 * half + 1, mode="nearest")
    attack = ndimage.uniform_filter1d(held.astype(np.float64), size=2 * half + 1, mode="nearest")
    pole = math.exp(-1.0 / (_RELEASE_S * SAMPLE_RATE))
    release, _ = signal.lfilter([1 - pole], [1, -pole], attack, zi=[attack[0] * pole])
    return np.minimum(np.minimum(attack, release), required.astype(np.float64)).astype(np.float32)


def limit_true_peak(audio: np.ndarray, ceiling_db: float = DEFAULT_CEILING_DB) -> np.ndarray:
    """`audio` (same shape) with its true peak held under `ceiling_db` dBTP by a linked look-ahead limiter."""
    x = np.asarray(audio, np.float32)
    gain = limiter_gain(x, ceiling_db)
    return (x * gain) if x.ndim == 1 else (x * gain[None, :])


@dataclass(frozen=True)
class MasteringReport:
    before: Levels
    after: Levels
    gain_db: float = 0.0          # the normalisation gain applied
    limited: bool = False         # the limiter reduced some peak


@dataclass(frozen=True)
class Mastering:
    """What an export does to the mix before writing it: a loudness target, then a true-peak ceiling."""

    loudness_lufs: float | None = None
    ceiling_db: float | None = None

    @property
    def active(self) -> bool:
        return self.loudness_lufs is not None or self.ceiling_db is not None

    def apply(self, audio: np.ndarray) -> tuple[np.ndarray, MasteringReport]:
        before = measure(audio)
        out, gain_db = np.asarray(audio, np.float32), 0.0
        if self.loudness_lufs is not None:
            out, gain_db = normalise_loudness(out, self.loudness_lufs)
        limited = False
        if self.ceiling_db is not None:
            gain = limiter_gain(out, self.ceiling_db)
            limited = bool(gain.size and gain.min() < 1.0)
            out = out * gain if out.ndim == 1 else out * gain[None, :]
        after = measure(out) if (gain_db or limited) else before
        return out.astype(np.float32, copy=False), MasteringReport(before, after, gain_db, limited)

    def describe(self) -> str:
        parts = []
        if self.loudness_lufs is not None:
            parts.append(f"loudness to {self.loudness_lufs:.0f} LUFS")
        if self.ceiling_db is not None:
            parts.append(f"true-peak limit at {self.ceiling_db:.1f} dBTP")
        return ", ".join(parts) or "no processing"


# ---------------------------------------------------------------------------------------------
# Live metering: the same loudness, fed block by block
# ---------------------------------------------------------------------------------------------
class KWeighting:
    """BS.1770's K-weighting (pyloudnorm's two stages), stateful per channel, for audio arriving in blocks."""

    def __init__(self, channels: int = 2):
        import pyloudnorm
        stages = pyloudnorm.Meter(SAMPLE_RATE)._filters.values()
        self._sos = np.stack([np.concatenate([stage.b * stage.passband_gain, stage.a]) for stage in stages])
        self._state = np.zeros((self._sos.shape[0], channels, 2))

    def energy(self, block: np.ndarray) -> float:
        """Sum over channels of the mean square of the K-weighted block (the BS.1770 'z' summed with G = 1)."""
        return float(self.energies(block, 1)[0])

    def energies(self, block: np.ndarray, parts: int) -> np.ndarray:
        """`energy` of each of `parts` equal consecutive parts of the block, filtered in one pass (parts,)."""
        x = _channels(block).astype(np.float64)
        if x.shape[0] != self._state.shape[1]:
            self._state = np.zeros((self._sos.shape[0], x.shape[0], 2))
        if not x.shape[1]:
            return np.zeros(parts)
        y, self._state = signal.sosfilt(self._sos, x, axis=1, zi=self._state)
        size = y.shape[1] // parts
        return np.square(y[:, :parts * size]).reshape(y.shape[0], parts, size).mean(axis=2).sum(axis=0)

    def reset(self) -> None:
        self._state[:] = 0.0


@dataclass
class LiveLoudness:
    """Momentary (last 400 ms) and integrated (gated, since the last reset) loudness from 100 ms steps.

    Feed the K-weighted energy (`KWeighting.energy`) of each consecutive 100 ms step; 400 ms blocks
    overlap by 75 %, gated at -70 LUFS absolute and -10 LU relative, as pyloudnorm measures a file."""

    steps: list[float] = field(default_factory=list)
    blocks: list[float] = field(default_factory=list)

    def feed(self, step_energy: float) -> None:
        self.steps.append(step_energy)
        if len(self.steps) >= 4:
            self.blocks.append(sum(self.steps[-4:]) / 4.0)
            del self.steps[:-3]

    @staticmethod
    def _lufs(energy: float) -> float | None:
        return -0.691 + 10 * math.log10(energy) if energy > 0 else None

    @property
    def momentary(self) -> float | None:
        return self._lufs(self.blocks[-1]) if self.blocks else None

    @property
    def integrated(self) -> float | None:
        z = np.asarray(self.blocks)
        if not z.size:
            return None
        with np.errstate(divide="ignore"):
            loud = -0.691 + 10 * np.log10(z)
        gated = z[loud >= -70.0]
        if not gated.size:
            return None
        relative = -0.691 + 10 * math.log10(gated.mean()) - 10.0
        kept = z[(loud > relative) & (loud > -70.0)]
        return self._lufs(float(kept.mean())) if kept.size else None

    def reset(self) -> None:
        self.steps.clear()
        self.blocks.clear()
