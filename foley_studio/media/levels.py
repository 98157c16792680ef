"""Levels of generated audio: peak and loudness measurement, and the normalisation every take gets.

A take leaves the engine at a stated level so takes of one request can be compared by ear and by
eye, and never above full scale. "peak" mode (text and analogy takes) scales each take so its sample
peak sits at `TAKE_PEAK_DBFS`, the boost limited to `MAX_BOOST_DB` (a near-silent take stays quiet
instead of becoming loud noise). "limit" mode (takes that continue given audio, whose level must
match it) only turns a take down when its peak is above the target. The sidecar records what was
done (`TakeLevel`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .loudness import integrated_loudness, to_db

TAKE_PEAK_DBFS = -1.0            # where a take's sample peak is put
MAX_BOOST_DB = 40.0              # quieter takes are raised by at most this much (-41 dBFS -> -1 dBFS)
SILENCE_DBFS = -90.0             # reported for digital silence


def peak_dbfs(x: np.ndarray) -> float:
    """Sample peak in dBFS, floored at SILENCE_DBFS (a sidecar's JSON cannot hold -inf)."""
    return max(to_db(float(np.max(np.abs(x))) if x.size else 0.0), SILENCE_DBFS)


@dataclass(frozen=True)
class TakeLevel:
    """What normalisation did to one take (written to its sidecar)."""

    mode: str                     # "peak" | "limit"
    target_dbfs: float
    gain_db: float
    raw_peak_dbfs: float
    peak_dbfs: float
    loudness_lufs: float | None

    def to_json(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def normalise_take(x: np.ndarray, mode: str = "peak", target_dbfs: float = TAKE_PEAK_DBFS
                   ) -> tuple[np.ndarray, TakeLevel]:
    """Scale `x`: "peak" puts its peak at `target_dbfs` (boost at most MAX_BOOST_DB), "limit" only
    lowers a peak above it. Never above 0 dBFS."""
    if mode not in ("peak", "limit"):
        raise ValueError(f"take level mode must be 'peak' or 'limit', got {mode!r}")
    if not np.isfinite(x).all():
        raise ValueError("a take with non-finite samples cannot be normalised")
    target = min(target_dbfs, 0.0)
    raw = peak_dbfs(x)
    gain_db = 0.0 if raw <= SILENCE_DBFS else min(target - raw, MAX_BOOST_DB)
    if mode == "limit":
        gain_db = min(gain_db, 0.0)
    y = (x * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)
    # rounding to float32 can leave the peak a hair above the target; full scale is a hard limit
    np.clip(y, -1.0, 1.0, out=y)
    return y, TakeLevel(mode, target, gain_db, raw, peak_dbfs(y), integrated_loudness(y))
