"""Noise schedule and samplers (DDIM with eta, DPM-Solver++(2M)).

Time t runs over [0, 1]; the schedule is the cosine schedule written in log-SNR and clamped to
[logsnr_min, logsnr_max] (variance preserving: alpha^2 + sigma^2 = 1). The network predicts eps (the
paper) or v; `NoiseSchedule.denoised` turns either into the x0 estimate, so samplers only ever see
`denoise(x, t) -> x0`. Guidance and given latents go into that callable as a closure.

Samplers are plain functions `sampler(denoise, x, schedule, *, generator, callback)` under no_grad.
Noise (initial and DDIM's eta noise) is drawn on the CPU from one generator per batch row, so a seed
gives the same take whatever the batch and the device.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import Tensor

from foley_studio.model.config import DiffusionConfig
from foley_studio.model.errors import UnknownNameError

Denoiser = Callable[[Tensor, float], Tensor]       # (x_t, t) -> x0 estimate
Callback = Callable[[dict], None]


# ----------------------------------------------------------------------------- schedule
@dataclass(frozen=True)
class NoiseSchedule:
    """Cosine log-SNR schedule; conversions between network outputs, x0, eps and v."""

    config: DiffusionConfig

    def logsnr(self, t: Tensor | float) -> Tensor:
        t = torch.as_tensor(t, dtype=torch.float64)
        lo, hi = self.config.logsnr_min, self.config.logsnr_max
        t_min = math.atan(math.exp(-0.5 * hi))
        t_max = math.atan(math.exp(-0.5 * lo))
        return -2.0 * torch.log(torch.tan(t_min + t * (t_max - t_min)))

    def alpha_sigma(self, t: Tensor | float) -> tuple[Tensor, Tensor]:
        lam = self.logsnr(t)
        return torch.sigmoid(lam).sqrt(), torch.sigmoid(-lam).sqrt()

    def _coef(self, t: Tensor | float, like: Tensor) -> tuple[Tensor, Tensor]:
        """alpha, sigma shaped to broadcast against `like` (B, ...) for a scalar or per-row t."""
        a, s = self.alpha_sigma(t)
        shape = (-1,) + (1,) * (like.dim() - 1) if a.dim() else ()
        return a.to(like.dtype).to(like.device).reshape(shape), s.to(like.dtype).to(like.device).reshape(shape)

    def add_noise(self, x0: Tensor, noise: Tensor, t: Tensor | float) -> Tensor:
        a, s = self._coef(t, x0)
        return a * x0 + s * noise

    def target(self, x0: Tensor, noise: Tensor, t: Tensor | float) -> Tensor:
        """What the network should output for (x0, noise, t) (eq. 1 for eps)."""
        if self.config.prediction == "eps":
            return noise
        a, s = self._coef(t, x0)
        return a * noise - s * x0

    def denoised(self, x_t: Tensor, output: Tensor, t: Tensor | float) -> Tensor:
        """x0 estimate from the network output."""
        a, s = self._coef(t, x_t)
        if self.config.prediction == "eps":
            return (x_t - s * output) / a
        return a * x_t - s * output

    def eps_from_denoised(self, x_t: Tensor, x0: Tensor, t: Tensor | float) -> Tensor:
        a, s = self._coef(t, x_t)
        return (x_t - a * x0) / s


@dataclass(frozen=True)
class SamplingSchedule:
    """The time grid of one sampling run: steps + 1 times from 1 down to 0 and their coefficients."""

    times: tuple[float, ...]
    alphas: tuple[float, ...]
    sigmas: tuple[float, ...]

    @property
    def steps(self) -> int:
        return len(self.times) - 1

    def logsnr(self, i: int) -> float:
        return 2.0 * (math.log(self.alphas[i]) - math.log(self.sigmas[i]))


def make_schedule(noise: NoiseSchedule, steps: int) -> SamplingSchedule:
    """The one helper that builds a sampling grid: uniform in t, the last point at t = 0."""
    if steps < 1:
        raise ValueError(f"sampling needs at least 1 step, got {steps}")
    times = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    a, s = noise.alpha_sigma(times)
    return SamplingSchedule(tuple(times.tolist()), tuple(a.tolist()), tuple(s.tolist()))


def randn_rows(shape: Sequence[int], generators: Sequence[torch.Generator], *, device: torch.device | str = "cpu",
               dtype: torch.dtype = torch.float32) -> Tensor:
    """Standard normal noise (B, *shape[1:]), row b drawn on the CPU from generators[b]."""
    assert shape[0] == len(generators), f"{shape=} needs one generator per row, got {len(generators)}"
    rows = [torch.randn(tuple(shape[1:]), generator=g, dtype=torch.float32) for g in generators]
    return torch.stack(rows).to(device=device, dtype=dtype)


# ----------------------------------------------------------------------------- samplers
@torch.no_grad()
def sample_ddim(denoise: Denoiser, x: Tensor, schedule: SamplingSchedule, *, eta: float = 0.0,
                generator: Sequence[torch.Generator] | None = None, callback: Callback | None = None) -> Tensor:
    """DDIM (Song et al. 2021); eta = 0 is deterministic, eta = 1 is DDPM-like. Returns x0."""
    if eta > 0 and generator is None:
        raise ValueError("DDIM with eta > 0 needs one generator per row for its noise")
    for i in range(schedule.steps):
        t, a, s = schedule.times[i], schedule.alphas[i], schedule.sigmas[i]
        x0 = denoise(x, t)
        if i == schedule.steps - 1:
            x = x0                                   # the last step lands on the clean estimate
        else:
            a_n, s_n = schedule.alphas[i + 1], schedule.sigmas[i + 1]
            eps = (x - a * x0) / s
            c = eta * (s_n / s) * math.sqrt(max(0.0, 1.0 - (a / a_n) ** 2))   # DDIM's sigma_t(eta)
            x = a_n * x0 + math.sqrt(max(0.0, s_n ** 2 - c ** 2)) * eps
            if c > 0:
                x = x + c * randn_rows(x.shape, generator, device=x.device, dtype=x.dtype)
        if callback is not None:
            callback({"i": i, "n": schedule.steps, "t": t, "x": x, "denoised": x0})
    return x


@torch.no_grad()
def sample_dpmpp_2m(denoise: Denoiser, x: Tensor, schedule: SamplingSchedule, *,
                    generator: Sequence[torch.Generator] | None = None,
                    callback: Callback | None = None) -> Tensor:
    """DPM-Solver++(2M) (Lu et al. 2022), data-prediction multistep; deterministic. Returns x0."""
    del generator    # deterministic: all randomness is in the initial noise
    old_x0: Tensor | None = None
    for i in range(schedule.steps):
        t, s = schedule.times[i], schedule.sigmas[i]
        x0 = denoise(x, t)
        if i == schedule.steps - 1:
            x = x0
        else:
            a_n, s_n = schedule.alphas[i + 1], schedule.sigmas[i + 1]
            lam, lam_n = schedule.logsnr(i) / 2, schedule.logsnr(i + 1) / 2     # log(alpha / sigma)
            h = lam_n - lam
            d = x0
            if old_x0 is not None:
                r = (lam - schedule.logsnr(i - 1) / 2) / h
                d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * old_x0
            x = (s_n / s) * x - a_n * math.expm1(-h) * d
        old_x0 = x0
        if callback is not None:
            callback({"i": i, "n": schedule.steps, "t": t, "x": x, "denoised": x0})
    return x


SAMPLERS: dict[str, Callable[..., Tensor]] = {"ddim": sample_ddim, "dpmpp": sample_dpmpp_2m}


def get_sampler(name: str) -> Callable[..., Tensor]:
    try:
        return SAMPLERS[name]
    except KeyError:
        raise UnknownNameError(f"unknown sampler {name!r}; known samplers: {', '.join(sorted(SAMPLERS))}") from None
