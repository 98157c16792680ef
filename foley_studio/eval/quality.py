"""Bandwidth metrics for the quality tag: energy above 8 / 16 kHz and spectral roll-off.

In-the-wild video audio ("low quality") is band-limited; professional library audio ("high
quality") is full band. These numbers say whether the tag moved the generated spectrum.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE

from .features import as_mono_float, stft_magnitude

_N_FFT = 2048
_HOP = 1024


@dataclass(frozen=True)
class QualityResult:
    """Spectral-bandwidth numbers of one clip."""

    energy_above_8k: float     # fraction of total energy above 8 kHz (0..1)
    energy_above_16k: float    # fraction above 16 kHz
    rolloff_85_hz: float       # frequency below which 85 % of the energy lies
    rolloff_99_hz: float       # ... 99 %: the effective bandwidth

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def power_spectrum(audio: np.ndarray, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Average power spectrum over Hann frames (Welch): (freqs_hz (F,), power (F,))."""
    mag = stft_magnitude(as_mono_float(audio), _N_FFT, _HOP)
    return np.fft.rfftfreq(_N_FFT, 1.0 / sr), (mag ** 2).mean(axis=1)


def energy_above(audio: np.ndarray, cutoff_hz: float, sr: int = SAMPLE_RATE) -> float:
    """Fraction of the clip's energy above `cutoff_hz`; NaN for silence (no energy to divide)."""
    freqs, power = power_spectrum(audio, sr)
    total = power.sum()
    if total <= 1e-20:
        return math.nan
    return float(power[freqs > cutoff_hz].sum() / total)


def spectral_rolloff(audio: np.ndarray, fraction: float = 0.85, sr: int = SAMPLE_RATE) -> float:
    """Lowest frequency (Hz) below which `fraction` of the energy lies; NaN for silence."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"roll-off fraction must be in (0, 1], got {fraction}")
    freqs, power = power_spectrum(audio, sr)
    total = power.sum()
    if total <= 1e-20:
        return math.nan
    cumulative = np.cumsum(power) / total
    return float(freqs[int(np.searchsorted(cumulative, fraction - 1e-12))])


def quality_metrics(audio: np.ndarray, sr: int = SAMPLE_RATE) -> QualityResult:
    freqs, power = power_spectrum(audio, sr)
    total = power.sum()
    if total <= 1e-20:
        return QualityResult(math.nan, math.nan, math.nan, math.nan)
    cumulative = np.cumsum(power) / total
    return QualityResult(
        energy_above_8k=float(power[freqs > 8000].sum() / total),
        energy_above_16k=float(power[freqs > 16000].sum() / total),
        rolloff_85_hz=float(freqs[int(np.searchsorted(cumulative, 0.85 - 1e-12))]),
        rolloff_99_hz=float(freqs[int(np.searchsorted(cumulative, 0.99 - 1e-12))]),
    )
