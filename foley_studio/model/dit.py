"""DiT denoiser: predicts the noise (or v) of audio latents from video, text and given latents.

Input per latent frame, concatenated on the channel axis (MultiFoley, Sec. 3):
  [noisy latents x_t (C_z), video features at the latent rate (C_v), given latents (C_z, zero where
   not given), given mask (1)].
The given mask is the one mechanism behind extension (left context), inpainting (both sides) and
analogy (a reference clip prepended on the sequence axis with all its positions given). Rows without
video use the learned null ∅_v at every position; rows whose text is dropped see one learned null
token ∅_t. Each block: adaLN-Zero modulation from the timestep (plus pooled text), self-attention with
rotary positions, cross-attention to the text tokens (key padding mask), MLP.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from foley_studio.model.config import DiTConfig


# ----------------------------------------------------------------------------- helpers
def timestep_embedding(t: Tensor, dim: int, *, max_period: float = 10_000.0) -> Tensor:
    """Sinusoidal features of t in [0, 1] (scaled to 0..1000 as in DDPM), (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([args.cos(), args.sin()], dim=-1)


def rotary_tables(length: int, head_dim: int, base: float, device: torch.device) -> tuple[Tensor, Tensor]:
    """cos/sin tables (L, head_dim) for rotary position embedding over sequence positions."""
    inv = 1.0 / base ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim)
    angles = torch.arange(length, device=device, dtype=torch.float32)[:, None] * inv[None]   # (L, D/2)
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate (B, H, L, D) queries/keys by position (rotate-half convention)."""
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos.to(x.dtype) + torch.cat([-x2, x1], dim=-1) * sin.to(x.dtype)


def modulate(x: Tensor, shift: Tensor, scale: Tensor) -> Tensor:
    return x * (1 + scale[:, None]) + shift[:, None]


# ----------------------------------------------------------------------------- layers
class SelfAttention(nn.Module):
    """Multi-head self-attention with rotary positions."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: Tensor, rope: tuple[Tensor, Tensor]) -> Tensor:   # (B, L, D)
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
        y = F.scaled_dot_product_attention(q, k, v)                          # (B, H, L, Dh)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class CrossAttention(nn.Module):
    """Queries from latents, keys/values from text tokens; padded tokens are masked out."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: Tensor, ctx: Tensor, ctx_mask: Tensor) -> Tensor:   # (B, L, D), (B, S, D), (B, S)
        b, n, d = x.shape
        h, dh = self.heads, d // self.heads
        q = self.q(x).view(b, n, h, dh).transpose(1, 2)
        k, v = self.kv(ctx).view(b, ctx.shape[1], 2, h, dh).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=ctx_mask[:, None, None, :])
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class DiTBlock(nn.Module):
    """adaLN-Zero block: modulated self-attention, cross-attention to text, modulated MLP."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = SelfAttention(dim, heads)
        self.norm_cross = nn.LayerNorm(dim, eps=1e-6)
        self.cross = CrossAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))
        self.ada = nn.Linear(dim, 6 * dim)

    def forward(self, x: Tensor, c: Tensor, ctx: Tensor, ctx_mask: Tensor, rope: tuple[Tensor, Tensor]) -> Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(F.silu(c)).chunk(6, dim=-1)   # (B, D) each
        x = x + gate1[:, None] * self.attn(modulate(self.norm1(x), shift1, scale1), rope)
        x = x + self.cross(self.norm_cross(x), ctx, ctx_mask)
        return x + gate2[:, None] * self.mlp(modulate(self.norm2(x), shift2, scale2))


class FinalLayer(nn.Module):
    """Modulated LayerNorm and a zero-initialised projection to the latent channels."""

    def __init__(self, dim: int, out_channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.ada = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, out_channels)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        shift, scale = self.ada(F.silu(c)).chunk(2, dim=-1)
        return self.proj(modulate(self.norm(x), shift, scale))


# ----------------------------------------------------------------------------- model
class DiT(nn.Module):
    """The MultiFoley denoiser over latent sequences (reference clip, if any, prepended)."""

    def __init__(self, config: DiTConfig, *, latent_channels: int, video_dim: int, text_dim: int):
        super().__init__()
        self.config = config
        self.latent_channels = latent_channels
        d = config.width
        self.in_proj = nn.Linear(2 * latent_channels + video_dim + 1, d)
        self.t_mlp = nn.Sequential(nn.Linear(256, d), nn.SiLU(), nn.Linear(d, d))
        self.text_proj = nn.Sequential(nn.LayerNorm(text_dim), nn.Linear(text_dim, d))
        self.text_pool = nn.Linear(d, d)
        self.null_text = nn.Parameter(torch.randn(text_dim) * 0.02)     # ∅_t (one token)
        self.null_video = nn.Parameter(torch.randn(video_dim) * 0.02)   # ∅_v (every position)
        self.blocks = nn.ModuleList(DiTBlock(d, config.heads, config.mlp_ratio) for _ in range(config.depth))
        self.final = FinalLayer(d, latent_channels)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.t_mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_mlp[2].weight, std=0.02)
        # adaLN-Zero: every residual branch starts closed, the output starts at zero
        for block in self.blocks:
            nn.init.zeros_(block.ada.weight)
            nn.init.zeros_(block.ada.bias)
            nn.init.zeros_(block.cross.out.weight)
        for layer in (self.final.ada, self.final.proj):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: Tensor, t: Tensor, *, given: Tensor, given_mask: Tensor, video: Tensor,
                video_mask: Tensor, text: Tensor, text_mask: Tensor, text_drop: Tensor | None = None) -> Tensor:
        """Network output (eps or v) for the noisy latents.

        x, given: (B, C_z, L); t: (B,) in [0, 1]; given_mask: (B, L) bool; video: (B, L, C_v);
        video_mask: (B, L) bool, False -> ∅_v; text: (B, S, C_t); text_mask: (B, S) bool (valid tokens);
        text_drop: (B,) bool, True -> the row sees only ∅_t. Returns (B, C_z, L).
        """
        b, _, n = x.shape
        assert given.shape == x.shape and video.shape[:2] == (b, n), f"{x.shape=} {given.shape=} {video.shape=}"
        text, text_mask = self._text_or_null(text, text_mask, text_drop)
        video = torch.where(video_mask[..., None], video, self.null_video.to(video.dtype))
        gm = given_mask.to(x.dtype)
        h = torch.cat([x.transpose(1, 2), video, (given * gm[:, None]).transpose(1, 2), gm[..., None]], dim=-1)
        h = self.in_proj(h)                                                   # (B, L, D)
        ctx = self.text_proj(text)                                            # (B, S, D)
        m = text_mask.to(ctx.dtype)[..., None]
        pooled = (ctx * m).sum(1) / m.sum(1).clamp(min=1.0)
        c = self.t_mlp(timestep_embedding(t, 256).to(h.dtype)) + self.text_pool(pooled)   # (B, D)
        rope = rotary_tables(n, self.config.head_dim, self.config.rope_base, x.device)
        for block in self.blocks:
            h = block(h, c, ctx, text_mask, rope)
        return self.final(h, c).transpose(1, 2)                              # (B, C_z, L)

    def _text_or_null(self, text: Tensor, text_mask: Tensor, drop: Tensor | None) -> tuple[Tensor, Tensor]:
        """Replace dropped rows (and rows without any valid token) by the single null token ∅_t."""
        empty = ~text_mask.any(dim=1)          # attention over no keys would give NaN
        drop = empty if drop is None else drop | empty
        if not bool(drop.any()):
            return text, text_mask
        null = torch.zeros_like(text)
        null[:, 0] = self.null_text.to(text.dtype)
        null_mask = torch.zeros_like(text_mask)
        null_mask[:, 0] = True
        return (torch.where(drop[:, None, None], null, text),
                torch.where(drop[:, None], null_mask, text_mask))
