"""Audio embeddings for "find similar": a spectral feature vector now, model latents later.

An `AudioEmbedder` turns audio into one L2-normalised float32 vector, so similarity is a dot
product. Its `name` is stored with every vector in the index: a different embedder (for example
the MultiFoley autoencoder's pooled latents, once a model is trained) gets its own vectors and
never mixes with these.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import numpy as np
import scipy.fft  # single precision stays single (numpy's rfft upcasts and is ~5x slower here)

MAX_SECONDS = 10.0   # long ambiences are characterised by their first seconds; keeps scans fast
N_MELS = 40
N_ENVELOPE = 16


class AudioEmbedder(Protocol):
    """Anything that maps mono audio to a fixed-size, L2-normalised float32 vector."""

    name: str
    dim: int

    def embed(self, audio: np.ndarray, sample_rate: int) -> np.ndarray: ...


@lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int = N_MELS,
                   fmin: float = 40.0, fmax: float = 16000.0) -> np.ndarray:
    """Triangular HTK-mel filters, (n_mels, n_fft // 2 + 1) float32; bands above Nyquist stay empty."""
    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


@lru_cache(maxsize=16)
def _sparse_filterbank(sample_rate: int, n_fft: int):
    from scipy.sparse import csr_matrix

    return csr_matrix(mel_filterbank(sample_rate, n_fft))


@lru_cache(maxsize=4)
def _hann(n: int) -> np.ndarray:
    return np.hanning(n).astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-12 else v


class SpectralEmbedder:
    """Spectral shape, spectral modulation and loudness envelope of a clip, level-independent.

    Three groups, each normalised then weighted: the mean log-mel spectrum with its overall level
    removed (what it sounds like), the per-band standard deviation over time (steady vs busy), and
    a 16-point amplitude envelope over the clip (impact vs swell vs drone).
    """

    name = "spectral-v1"
    dim = 2 * N_MELS + N_ENVELOPE
    weights = (1.0, 0.6, 0.5)

    def embed(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim == 2:
            x = x.mean(axis=0) if x.shape[0] <= x.shape[1] else x.mean(axis=1)
        x = x[: int(MAX_SECONDS * sample_rate)]
        n_fft = 1024 if sample_rate <= 24000 else 2048
        hop = n_fft // 2
        if x.size < n_fft:
            x = np.pad(x, (0, n_fft - x.size))
        frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
        spec = np.square(np.abs(scipy.fft.rfft(frames * _hann(n_fft), axis=1)))          # (T, F) float32
        # Sparse product: a dense `spec @ fb.T` goes to multithreaded BLAS, which on a busy
        # machine is 5x slower for these small matrices than this single-threaded loop.
        mel = (_sparse_filterbank(sample_rate, n_fft) @ spec.T).T                       # (T, M)
        logmel = 10.0 * np.log10(mel + 1e-10)
        shape = logmel.mean(axis=0)
        shape = shape - shape.mean()
        modulation = logmel.std(axis=0)
        envelope = self._envelope(x)
        parts = [w * _unit(p) for w, p in zip(self.weights, (shape, modulation, envelope))]
        return _unit(np.concatenate(parts)).astype(np.float32)

    @staticmethod
    def _envelope(x: np.ndarray) -> np.ndarray:
        usable = x.size - x.size % N_ENVELOPE
        seg = np.abs(x[:usable]).reshape(N_ENVELOPE, -1).max(axis=1) if usable else np.zeros(N_ENVELOPE)
        peak = float(seg.max()) if seg.size else 0.0
        return (seg / peak - 0.5) if peak > 0 else np.zeros(N_ENVELOPE, dtype=np.float32)


DEFAULT_EMBEDDER = SpectralEmbedder()
