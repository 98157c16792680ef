"""Autoencoder losses: multi-resolution STFT (log-magnitude + spectral convergence, optionally on a
pre-emphasised copy that weighs the highs) and waveform L1."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def stft_magnitude(x: Tensor, n_fft: int) -> Tensor:
    window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
    spec = torch.stft(x, n_fft, n_fft // 4, window=window, return_complex=True)
    return spec.abs().clamp(min=1e-5)


def multi_resolution_stft_loss(pred: Tensor, target: Tensor, scales: tuple[int, ...]) -> Tensor:
    """Mean over scales of L1 on log magnitudes plus spectral convergence (Yamamoto et al. 2020)."""
    total = pred.new_zeros(())
    for n_fft in scales:
        p, t = stft_magnitude(pred, n_fft), stft_magnitude(target, n_fft)
        log_l1 = F.l1_loss(p.log(), t.log())
        convergence = torch.linalg.norm(t - p) / torch.linalg.norm(t).clamp(min=1e-5)
        total = total + log_l1 + convergence
    return total / len(scales)


def pre_emphasis(x: Tensor, coefficient: float = 0.9) -> Tensor:
    """x[n] - c x[n-1]: tilts the spectrum up ~6 dB/octave, so STFT losses on it weigh the highs more."""
    return x[..., 1:] - coefficient * x[..., :-1]


def waveform_l1(pred: Tensor, target: Tensor) -> Tensor:
    return F.l1_loss(pred, target)
