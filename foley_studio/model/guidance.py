"""Classifier-free guidance for MultiFoley's three controls (paper eqs. 2–4), in one function.

    out = (γ + 1) · ε(z_t, v, t_pos, a_c) − γ · ε(z_t, ∅_v, t_neg, ∅_a)

The positive branch sees everything the user gave: video features, the caption with its quality
tag, and the given latents (context for extension/inpainting, a prepended reference clip for
analogy). The negative branch sees the null video ∅_v, the negative text (a negative prompt and/or
the quality tag its model's `GuidanceConfig` calibrates, by default the opposite one; ∅_t when there
is neither) and no given latents (∅_a: those positions carry only the noisy latents, as in eq. 3).
With only text, this is eq. 2; with a quality tag, eq. 4.

Both branches for all N seeds go through the network as one batch of 2N rows per step; with
γ = 0 the negative branch has weight zero, so only the N positive rows run. Given positions are
known, so the x0 estimate there is replaced by the given latents exactly.

γ is one number for every row, or one per row (the editor's "vary γ" takes: one batch, N scales,
broadcast as (N, 1, 1)). Rows are independent in the network, so row i of a per-row call is row i
of a call at that row's γ alone, up to float rounding. Only when every γ is 0 is the negative
branch skipped; a mix of zero and non-zero runs both branches (a zero row weighs its negative by 0).

The given latents are either one context for every row (C_z, L) or one per row (N, C_z, L): a long
region's later windows continue each take's own previous window, so their contexts differ while
the layout of given positions (`given_mask`, (L,)) is the same for every take.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from foley_studio.model.diffusion import Denoiser, NoiseSchedule
from foley_studio.model.dit import DiT
from foley_studio.model.encoders import pad_tokens


@dataclass
class Conditions:
    """Everything one generation is conditioned on, computed once (`FoleyModel.prepare_conditions`).

    The sequence is [reference (R positions); target (T positions)], L = R + T.
    """

    n_latents: int            # T, the positions to generate (output length)
    n_reference: int          # R, prepended reference positions (analogy), 0 if none
    video: Tensor             # (L, C_v) video features at the latent rate
    video_mask: Tensor        # (L,) bool: False -> ∅_v at that position
    given: Tensor             # (C_z, L) shared or (N, C_z, L) per row: clean latents where given, zero elsewhere
    given_mask: Tensor        # (L,) bool
    text: Tensor              # (S, C_t) positive caption tokens
    text_mask: Tensor         # (S,) bool
    text_null: bool           # the positive branch uses ∅_t (no caption, no tag)
    neg_text: Tensor          # (S', C_t) negative caption tokens
    neg_text_mask: Tensor     # (S',) bool
    neg_text_null: bool
    caption: str = ""         # what the positive branch read (for sidecars and logs)
    negative_caption: str = ""

    @property
    def length(self) -> int:
        return self.n_reference + self.n_latents

    @property
    def given_rows(self) -> int | None:
        """N when each row has its own given latents, None when one context serves every row."""
        return int(self.given.shape[0]) if self.given.dim() == 3 else None

    def given_for(self, n: int) -> Tensor:
        """The given latents as (n, C_z, L): the shared form broadcast (a view), the per-row form checked."""
        rows = self.given_rows
        if rows is None:
            return self.given[None].expand(n, *self.given.shape)
        if rows != n:
            raise ValueError(f"these conditions carry one context per seed for {rows} seeds, but {n} seeds were "
                             "given; prepare them with this call's seeds")
        return self.given


Cfg = float | Sequence[float]
"""A guidance scale γ: one for every row, or one per row."""


def combine(out_pos: Tensor, out_neg: Tensor, cfg: float | Tensor) -> Tensor:
    """Eqs. 2–4: (γ + 1)·positive − γ·negative; γ = 0 is the conditional branch alone.

    `cfg` is a number or a tensor broadcasting against the outputs ((N, 1, 1) for one γ per row).
    """
    return (cfg + 1.0) * out_pos - cfg * out_neg


def cfg_values(cfg: Cfg, n: int) -> list[float]:
    """γ of each of the n rows; a sequence must have one finite, non-negative value per row."""
    if isinstance(cfg, (int, float)):
        values = [float(cfg)] * n
    else:
        values = [float(g) for g in cfg]
        if len(values) != n:
            raise ValueError(f"{len(values)} guidance scales for {n} rows; give one per seed or a single number")
    bad = [g for g in values if not (math.isfinite(g) and g >= 0.0)]
    if bad:
        raise ValueError(f"guidance scales must be finite and >= 0, got {bad}")
    return values


def guided_denoiser(dit: DiT, schedule: NoiseSchedule, cond: Conditions, n: int, cfg: Cfg) -> Denoiser:
    """A `denoise(x (N, C_z, L), t) -> x0` closure running both branches of N rows in one forward
    (only the N positive rows when every γ is 0: eq. 2 is then the conditional branch alone).

    `cfg` is one γ for all rows or a sequence of N, one per row.
    """
    values = cfg_values(cfg, n)
    negative = any(g != 0.0 for g in values)
    # One γ for all rows stays a Python number: the arithmetic is the single-γ path's exactly.
    gamma: float | Tensor = values[0]
    if len(set(values)) > 1:
        gamma = torch.tensor(values, dtype=torch.float32, device=cond.video.device).view(n, 1, 1)
    inputs = _batch_inputs(cond, n, negative=negative)
    given, given_mask = inputs["given"][:n], inputs["given_mask"][:n, None, :]

    def denoise(x: Tensor, t: float) -> Tensor:
        assert x.shape[0] == n and x.shape[-1] == cond.length, f"{x.shape=} {n=} {cond.length=}"
        xx = torch.cat([x, x]) if negative else x                            # (2N or N, C_z, L)
        tt = torch.full((xx.shape[0],), float(t), device=x.device)
        out = dit(xx, tt, **inputs).to(x.dtype)
        g = gamma.to(x.dtype) if isinstance(gamma, Tensor) else gamma
        guided = combine(*out.chunk(2), g) if negative else out
        x0 = schedule.denoised(x, guided, t)
        return torch.where(given_mask, given, x0)

    return denoise


def _batch_inputs(cond: Conditions, n: int, *, negative: bool = True) -> dict[str, Tensor]:
    """The conditioning rows: [0, N) positive, then (with `negative`) [N, 2N) the negative branch."""
    def rows(t: Tensor, k: int) -> Tensor:
        return t[None].expand(k, *t.shape)

    given = cond.given_for(n)                                             # (N, C_z, L)
    pos = {
        "given": given,
        "given_mask": rows(cond.given_mask, n),
        "video": rows(cond.video, n),
        "video_mask": rows(cond.video_mask, n),
    }
    if not negative:
        return {**pos, "text": rows(cond.text, n), "text_mask": rows(cond.text_mask, n),
                "text_drop": torch.full((n,), cond.text_null, device=cond.text.device)}
    text, text_mask = pad_tokens([cond.text, cond.neg_text])              # (2, S, C_t), (2, S)
    text_mask[0, :cond.text.shape[0]] &= cond.text_mask                   # keep the encoders' own padding
    text_mask[1, :cond.neg_text.shape[0]] &= cond.neg_text_mask
    drop = torch.tensor([cond.text_null, cond.neg_text_null], device=text.device)
    return {
        "given": torch.cat([given, torch.zeros_like(given)]),
        "given_mask": torch.cat([pos["given_mask"], rows(torch.zeros_like(cond.given_mask), n)]),
        "video": rows(cond.video, 2 * n),
        "video_mask": torch.cat([pos["video_mask"], rows(torch.zeros_like(cond.video_mask), n)]),
        "text": text.repeat_interleave(n, dim=0),
        "text_mask": text_mask.repeat_interleave(n, dim=0),
        "text_drop": drop.repeat_interleave(n, dim=0),
    }
