"""Shared signal features for the metrics: framed STFT magnitudes and a log-mel filterbank (numpy only).

Kept here, not in `media.spectrogram`, because the metrics need fixed analysis settings that must not
change when the editor's display spectrogram is tuned.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE


def as_mono_float(audio: np.ndarray) -> np.ndarray:
    """(N,) or (C, N) -> float64 mono (N,); raises on empty or non-finite input."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if x.ndim != 1:
        raise ValueError(f"audio must be (N,) or (C, N), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("audio contains NaN or infinite samples")
    return x


def stft_magnitude(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|STFT| with a periodic Hann window, frames starting at sample m*hop (no centring): (F, M).

    Frame m covers samples [m*hop, m*hop + n_fft); the signal is zero-padded at the end so the
    last samples get a frame. Starting frames at m*hop (rather than centring them) keeps the time
    of a frame unambiguous for the onset detector, which compensates for the window itself.
    """
    x = as_mono_float(x).astype(np.float32)
    n_frames = max(1, 1 + int(np.ceil(max(0, len(x) - n_fft) / hop)))
    padded = np.zeros((n_frames - 1) * hop + n_fft, np.float32)
    padded[: len(x)] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]    # (M, n_fft) view, no copy
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    return np.abs(np.fft.rfft(frames * window, axis=1)).T.astype(np.float64)


@lru_cache(maxsize=8)
def mel_filterbank(n_mels: int, n_fft: int, sr: int = SAMPLE_RATE,
                   fmin: float = 20.0, fmax: float | None = None) -> np.ndarray:
    """Triangular mel filters (HTK mel scale), area-normalised: (n_mels, n_fft // 2 + 1)."""
    fmax = fmax or sr / 2

    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    bank = np.clip(np.minimum(rising, falling), 0.0, None)
    bank *= (2.0 / (upper - lower))   # equal area, so wide high bands do not dominate
    bank.setflags(write=False)
    return bank


def log_mel(audio: np.ndarray, *, sr: int = SAMPLE_RATE, n_fft: int = 2048, hop: int = 480,
            n_mels: int = 64, floor_db: float = -100.0) -> np.ndarray:
    """Log-mel power in dB (absolute scale, floored at `floor_db`): float32 (n_mels, M)."""
    mag = stft_magnitude(audio, n_fft, hop)
    power = mel_filterbank(n_mels, n_fft, sr) @ (mag ** 2)
    db = 10.0 * np.log10(np.maximum(power, 10.0 ** (floor_db / 10.0)))
    return db.astype(np.float32)
