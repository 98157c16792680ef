"""A multi-resolution min/max peak pyramid for drawing waveforms at any zoom.

Level k holds one (min, max) pair per `BASE_BLOCK * FACTOR**k` samples (256, 1024, 4096, ...),
each level reduced from the one below with numpy (never a Python loop over samples). A query for
`n_bins` picks the coarsest level that still has at least one block per bin and reduces the blocks
of each bin with `np.minimum.reduceat`. Below 256 samples per bin the raw samples are used when the
pyramid still holds them (built from memory); a pyramid loaded from the disk cache answers from
level 0, which is exact at the block edges and conservative (never too small) inside them.

`load_peaks(path)` builds a file's pyramid by streaming it through soundfile blocks and a
streaming soxr resampler (constant memory: an hour of audio never sits in RAM at once) and caches
the result under `cache_dir("peaks/v1")`, keyed by the file's path, size and mtime.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from foley_studio.core.paths import cache_dir
from foley_studio.core.timebase import SAMPLE_RATE

from .audio import atomic_output, decode_audio_native, resample
from .errors import EmptyMediaError
from .probe import check_exists, decode_error

log = logging.getLogger(__name__)

BASE_BLOCK = 256       # samples per peak at level 0
FACTOR = 4             # each level has 4x fewer peaks than the one below
CACHE_KIND = "peaks/v1"
_STREAM_BLOCK = BASE_BLOCK * 4096   # ~1M native samples per read when streaming a file


@dataclass
class PeakPyramid:
    """Min/max envelopes of a mono 48 kHz signal at block sizes 256 * 4**k."""

    n_samples: int
    mins: list[np.ndarray]                     # level k: float32 (ceil(n / (256 * 4**k)),)
    maxs: list[np.ndarray]
    samples: np.ndarray | None = field(default=None, repr=False)   # raw signal, when in memory

    @classmethod
    def from_samples(cls, x: np.ndarray, *, keep_samples: bool = True) -> PeakPyramid:
        """Build every level from a mono signal (multi-channel (C, N) is averaged first)."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 2:
            x = x.mean(axis=0, dtype=np.float32)
        builder = PeakBuilder()
        builder.feed(x)
        pyramid = builder.finish()
        if keep_samples:
            pyramid.samples = x
        return pyramid

    @property
    def n_levels(self) -> int:
        return len(self.mins)

    @staticmethod
    def block_size(level: int) -> int:
        return BASE_BLOCK * FACTOR ** level

    def query(self, start_sample: int, end_sample: int, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
        """(mins, maxs), float32 (n_bins,) each: the envelope of [start, end) split into equal bins.

        Bins past the end of the signal read 0 (silence), like the timeline around a clip.
        """
        if n_bins <= 0 or end_sample <= start_sample:
            return np.zeros(max(0, n_bins), np.float32), np.zeros(max(0, n_bins), np.float32)
        edges = np.linspace(start_sample, end_sample, n_bins + 1)
        per_bin = (end_sample - start_sample) / n_bins
        if per_bin < BASE_BLOCK and self.samples is not None:
            lo = np.floor(edges[:-1]).astype(np.int64)
            hi = np.maximum(np.floor(edges[1:]).astype(np.int64), lo + 1)
            return _reduce_ranges(self.samples, self.samples, lo, hi)
        # The coarsest level with >= 4 blocks per bin: a bin's edges then overshoot by at most
        # a quarter bin each side, which keeps neighbouring bins' peaks from bleeding in.
        level = 0
        while level + 1 < self.n_levels and FACTOR * self.block_size(level + 1) <= per_bin:
            level += 1
        size = self.block_size(level)
        # Block indices covering each bin: floor at the start, ceil at the end, so every sample
        # of the bin is inside some block and no peak is lost between bins.
        lo = np.floor(edges[:-1] / size).astype(np.int64)
        hi = np.maximum(np.ceil(edges[1:] / size).astype(np.int64), lo + 1)
        return _reduce_ranges(self.mins[level], self.maxs[level], lo, hi)

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        arrays = {f"min{k}": m for k, m in enumerate(self.mins)}
        arrays.update({f"max{k}": m for k, m in enumerate(self.maxs)})
        with atomic_output(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, n_samples=np.int64(self.n_samples), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> PeakPyramid:
        with np.load(path) as data:
            n_levels = sum(1 for key in data.files if key.startswith("min"))
            return cls(n_samples=int(data["n_samples"]),
                       mins=[data[f"min{k}"] for k in range(n_levels)],
                       maxs=[data[f"max{k}"] for k in range(n_levels)])


def _reduce_ranges(mins: np.ndarray, maxs: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """min of mins[lo:hi] and max of maxs[lo:hi] per bin (lo < hi); parts outside the array are 0."""
    n = len(mins)
    out_min = np.zeros(len(lo), np.float32)
    out_max = np.zeros(len(lo), np.float32)
    lo_c, hi_c = np.clip(lo, 0, n), np.clip(hi, 0, n)
    inside = hi_c > lo_c
    if inside.any():
        # One reduceat over interleaved [lo, hi) pairs; the odd results (gaps between bins) are
        # dropped. A trailing 0 makes index n valid for ranges that end at the array's end.
        idx = np.stack([lo_c[inside], hi_c[inside]], axis=1).ravel()
        out_min[inside] = np.minimum.reduceat(np.append(mins, np.float32(0)), idx)[::2]
        out_max[inside] = np.maximum.reduceat(np.append(maxs, np.float32(0)), idx)[::2]
    # A bin that reaches past the signal also contains silence.
    partial = (lo < 0) | (hi > n)
    out_min[partial] = np.minimum(out_min[partial], 0)
    out_max[partial] = np.maximum(out_max[partial], 0)
    return out_min, out_max


class PeakBuilder:
    """Incremental pyramid construction: `feed` chunks of any length, then `finish`."""

    def __init__(self) -> None:
        self._carry = np.zeros(0, np.float32)
        self._mins: list[np.ndarray] = []
        self._maxs: list[np.ndarray] = []
        self._n = 0

    def feed(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float32)
        self._n += len(x)
        if len(self._carry):
            x = np.concatenate([self._carry, x])
        whole = len(x) // BASE_BLOCK * BASE_BLOCK
        if whole:
            blocks = x[:whole].reshape(-1, BASE_BLOCK)
            self._mins.append(blocks.min(axis=1))
            self._maxs.append(blocks.max(axis=1))
        self._carry = x[whole:].copy()

    def finish(self) -> PeakPyramid:
        if len(self._carry):
            self._mins.append(np.array([self._carry.min()], np.float32))
            self._maxs.append(np.array([self._carry.max()], np.float32))
        mins = [np.concatenate(self._mins) if self._mins else np.zeros(0, np.float32)]
        maxs = [np.concatenate(self._maxs) if self._maxs else np.zeros(0, np.float32)]
        while len(mins[-1]) > 1:
            mins.append(_coarsen(mins[-1], np.minimum))
            maxs.append(_coarsen(maxs[-1], np.maximum))
        return PeakPyramid(n_samples=self._n, mins=mins, maxs=maxs)


def _coarsen(level: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Reduce groups of FACTOR neighbours; a short last group is padded with its own last value."""
    pad = -len(level) % FACTOR
    if pad:
        level = np.concatenate([level, np.full(pad, level[-1], level.dtype)])
    return op.reduce(level.reshape(-1, FACTOR), axis=1)


# ---------------------------------------------------------------------------------------------
# Files and the disk cache
# ---------------------------------------------------------------------------------------------
def cache_key(path: str | Path) -> str:
    """Content identity without reading the content: resolved path + size + mtime (ns)."""
    path = Path(path).resolve()
    st = path.stat()
    raw = f"{path}\0{st.st_size}\0{st.st_mtime_ns}".encode("utf-8", "surrogateescape")
    return hashlib.sha1(raw).hexdigest()


def load_peaks(path: str | Path, *, use_cache: bool = True) -> PeakPyramid:
    """The pyramid of a file's (mono, 48 kHz) audio, from the disk cache when the file is unchanged."""
    path = check_exists(path)
    cached = cache_dir(CACHE_KIND) / f"{cache_key(path)}.npz"
    if use_cache and cached.exists():
        try:
            return PeakPyramid.load(cached)
        except (OSError, ValueError, KeyError) as exc:   # a damaged cache entry is just a miss
            log.info("discarding unreadable peak cache %s: %s", cached, exc)
    pyramid = build_peaks(path)
    if use_cache:
        try:
            pyramid.save(cached)
        except Exception as exc:  # noqa: BLE001 - a cache that cannot be written must not fail a view
            log.warning("could not cache peaks of %s in %s: %s", path, cached, exc)
    return pyramid


def build_peaks(path: str | Path) -> PeakPyramid:
    """Stream a file through the builder (soundfile blocks + streaming soxr), PyAV as fallback."""
    path = check_exists(path)
    builder = PeakBuilder()
    try:
        handle = sf.SoundFile(os.fspath(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        data, sr, t0 = decode_audio_native(path)
        builder.feed(np.zeros(int(round(t0 * SAMPLE_RATE)), np.float32))   # sound that starts late
        builder.feed(resample(data.mean(axis=0, dtype=np.float32), sr, SAMPLE_RATE))
        return builder.finish()
    with handle:
        if handle.frames == 0:
            raise EmptyMediaError(f"{path}: holds no audio samples (zero length)")
        stream = soxr.ResampleStream(handle.samplerate, SAMPLE_RATE, 1, dtype="float32") \
            if handle.samplerate != SAMPLE_RATE else None
        try:
            while True:
                block = handle.read(_STREAM_BLOCK, dtype="float32", always_2d=True)
                last = len(block) < _STREAM_BLOCK
                mono = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
                builder.feed(stream.resample_chunk(mono, last=last) if stream else mono)
                if last:
                    break
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise decode_error(path, exc) from exc
    return builder.finish()
