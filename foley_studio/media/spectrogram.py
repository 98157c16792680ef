"""Spectrograms for display: float32 dB, (freq, time), C-contiguous, ready for a pyqtgraph ImageItem.

0 dB is a full-scale sine (the window's coherent gain is divided out), so colour maps can use
fixed levels such as (-100, 0) across files.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE

FLOOR_DB = -120.0
_CHUNK_FRAMES = 2048   # frames transformed at once: bounds memory for hour-long signals


@dataclass
class Spectrogram:
    """Magnitude in dB: row f is frequency `freqs[f]` Hz, column t is centred at `times[t]` s."""

    db: np.ndarray      # float32 (F, T), C-contiguous
    freqs: np.ndarray   # float32 (F,)
    times: np.ndarray   # float64 (T,)


def display_spectrogram(x: np.ndarray, sr: int = SAMPLE_RATE, n_fft: int = 1024, hop: int = 256,
                        *, floor_db: float = FLOOR_DB) -> Spectrogram:
    """Hann-windowed STFT magnitude of a mono signal, frames centred on multiples of `hop`."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"display_spectrogram wants a mono (N,) signal, got {x.shape=}")
    if n_fft <= 0 or hop <= 0:
        raise ValueError(f"n_fft and hop must be positive, got {n_fft=} {hop=}")
    n_frames = len(x) // hop + 1 if len(x) else 0
    padded = np.pad(x, (n_fft // 2, n_fft // 2 + hop))
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)   # periodic Hann
    scale = 2.0 / window.sum()                                 # full-scale sine -> magnitude 1
    n_freqs = n_fft // 2 + 1
    db = np.empty((n_freqs, n_frames), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]
    floor_amp = 10.0 ** (floor_db / 20.0)
    for a in range(0, n_frames, _CHUNK_FRAMES):
        chunk = frames[a:a + _CHUNK_FRAMES] * window            # (t, n_fft)
        mag = np.abs(np.fft.rfft(chunk, axis=1)).astype(np.float32) * scale
        db[:, a:a + len(chunk)] = (20.0 * np.log10(np.maximum(mag, floor_amp))).T
    freqs = (np.arange(n_freqs) * sr / n_fft).astype(np.float32)
    times = np.arange(n_frames) * hop / sr
    return Spectrogram(db=np.ascontiguousarray(db), freqs=freqs, times=times)
