"""Conditioning masks of the DiT stage (paper, Sec. 3.2) and the loss mask that follows from them.

With probability `p` a row gets one span of 0 to `max_latents` clean latents as condition, at a
random place inside its valid length; the loss is applied only to valid positions *not* given.
All draws come from the caller's generator, so a training step is a function of its seed.
"""
from __future__ import annotations

import torch
from torch import Tensor


def sample_condition_mask(n_valid: Tensor, length: int, *, p: float, max_latents: int,
                          generator: torch.Generator) -> Tensor:
    """(B, length) bool, True where the row's clean latents are given as condition."""
    b = n_valid.shape[0]
    given = torch.zeros(b, length, dtype=torch.bool)
    use = torch.rand(b, generator=generator) < p
    spans = torch.randint(0, max_latents + 1, (b,), generator=generator)
    starts_u = torch.rand(b, generator=generator)
    for i in range(b):
        valid = int(n_valid[i])
        span = min(int(spans[i]), valid)
        if not use[i] or span == 0:
            continue
        start = int(starts_u[i] * (valid - span + 1))
        given[i, start:start + span] = True
    return given


def loss_mask(given: Tensor, n_valid: Tensor) -> Tensor:
    """(B, L) bool: positions that count in the loss (valid and not given)."""
    positions = torch.arange(given.shape[1])[None]
    return (positions < n_valid[:, None]) & ~given


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over (B, C, L) at positions where mask (B, L) is True."""
    m = mask[:, None, :].to(pred.dtype)
    denom = (m.sum() * pred.shape[1]).clamp(min=1.0)
    return ((pred - target) ** 2 * m).sum() / denom
