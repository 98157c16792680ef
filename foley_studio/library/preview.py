"""Instant audition: a library clip's audio at 48 kHz (any range) plus its peaks for drawing.

Decoding goes through `foley_studio.media.audio.read_audio`, which seeks, so a one-second preview
of a ten-minute ambience reads one second. The last few previews are kept in memory (keyed by
path, size and mtime) because a user clicking through results often goes back to one.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from foley_studio.core.errors import FoleyError
from foley_studio.core.lru import LRUCache
from foley_studio.media.audio import read_audio

from .errors import UnreadableAudioError

CACHE_ITEMS = 16
DEFAULT_PEAK_BINS = 1024

_cache: LRUCache[tuple, tuple[np.ndarray, np.ndarray]] = LRUCache(CACHE_ITEMS)


def load_audio(path: str | Path, start: int | None = None, end: int | None = None, *,
               mono: bool = True) -> np.ndarray:
    """Samples [start, end) at 48 kHz (int sample indices, like the timeline); (N,) or (C, N).

    Raises `UnreadableAudioError` (a `FoleyError`) naming the file and the reason."""
    try:
        return read_audio(path, None if start is None else int(start), None if end is None else int(end), mono=mono)
    except FoleyError as exc:
        raise UnreadableAudioError(str(path), str(exc)) from exc


def peaks_of(x: np.ndarray, n_bins: int = DEFAULT_PEAK_BINS) -> np.ndarray:
    """Min/max overview of mono or (C, N) audio: float32 (2, n_bins), row 0 mins, row 1 maxs.

    Fewer samples than bins gives one bin per sample; silence or no audio gives zeros."""
    mono = x.mean(axis=0) if x.ndim == 2 else x
    n = mono.shape[0]
    if n == 0:
        return np.zeros((2, 0), dtype=np.float32)
    bins = min(n_bins, n)
    edges = (np.arange(bins) * n) // bins           # start index of each bin, strictly increasing
    mins = np.minimum.reduceat(mono, edges)
    maxs = np.maximum.reduceat(mono, edges)
    return np.stack([mins, maxs]).astype(np.float32, copy=False)


def load_preview(path: str | Path, start: int | None = None, end: int | None = None, *,
                 mono: bool = True, n_bins: int = DEFAULT_PEAK_BINS) -> tuple[np.ndarray, np.ndarray]:
    """(audio at 48 kHz, peaks (2, n_bins)) of [start, end) samples of `path`.

    The arrays are shared with a small cache, so they are read-only; copy before editing them."""
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UnreadableAudioError(str(path), f"cannot be opened ({exc.strerror}); was it moved?") from exc
    key = (str(path), st.st_size, st.st_mtime_ns, start, end, mono, n_bins)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    audio = load_audio(path, start, end, mono=mono)
    peaks = peaks_of(audio, n_bins)
    audio.flags.writeable = False
    peaks.flags.writeable = False
    _cache.put(key, (audio, peaks))
    return audio, peaks


def clear_cache() -> None:
    _cache.clear()
