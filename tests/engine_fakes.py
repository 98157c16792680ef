"""A stand-in for FoleyModel with a known answer, for engine tests that must check exact audio.

Latent channel 0 is the amplitude of a 440 Hz sine (11 whole periods per 1200-sample latent frame,
so a frame sounds the same wherever it sits); the decoder interpolates amplitude linearly between
frame centres. `sample` "continues" what it is given: each generated frame is the nearest given
frame to its left plus `slope` per frame (or a seed-dependent base when nothing is given), so a
correctly chained, correctly aligned multi-window take is one smooth ramp — any misplaced window,
gap or click shows up as a departure from the expected signal.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

HOP = 1200
FREQ = 440.0
SR = 48_000


@dataclass(frozen=True)
class FakeConfig:
    window_latents: int = 320
    latent_channels: int = 2
    hop: int = HOP
    name: str = "fake"


def sine(n: int, start: int = 0) -> np.ndarray:
    t = np.arange(start, start + n, dtype=np.float64)
    return np.sin(2 * np.pi * FREQ * t / SR)


# What each allocator says when it runs out, word for word (torch 2.13's CPU allocator, numpy).
OOM_MESSAGES = {
    RuntimeError: "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
                  "you tried to allocate 140737488355328 bytes. Error code 12 (Cannot allocate memory)",
    MemoryError: "Unable to allocate 8.00 PiB for an array with shape (1125899906842624,) and data type float64",
}


class FakeModel(torch.nn.Module):
    def __init__(self, window_latents: int = 320, slope: float = 0.001, oom_above: int | None = None,
                 oom_error: type[BaseException] | None = None):
        super().__init__()
        self.config = FakeConfig(window_latents=window_latents)
        self.slope = slope
        self.oom_above = oom_above
        self.oom_error = oom_error       # None: CUDA's OutOfMemoryError
        self.video_fps = 10.0
        self.video_size = 32
        self.conditions: list[dict] = []
        self.sample_calls: list[list[int]] = []
        self.steps_run = 0
        self.weight = torch.nn.Parameter(torch.zeros(1))   # something for state_dict_hash

    # ---- audio
    def encode_audio(self, wave: torch.Tensor) -> torch.Tensor:
        b, n = wave.shape
        t = math.ceil(n / HOP)
        padded = torch.nn.functional.pad(wave, (0, t * HOP - n)).reshape(b, t, HOP)
        amp = padded.pow(2).mean(-1).sqrt() * math.sqrt(2.0)
        return torch.stack([amp, torch.zeros_like(amp)], dim=1)

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        b, _, t = z.shape
        n = t * HOP
        centres = np.arange(t) * HOP + HOP / 2
        pos = np.arange(n)
        out = np.empty((b, n), np.float32)
        carrier = sine(n)
        for i in range(b):
            amp = np.interp(pos, centres, z[i, 0].double().numpy())
            out[i] = amp * carrier
        return torch.from_numpy(out)

    def video_input(self, native_fps: float | None) -> tuple[float, int, str]:
        return self.video_fps, self.video_size, "cover"

    def encode_video(self, frames: torch.Tensor, fps: float | None = None) -> torch.Tensor:
        return frames.float().mean(dim=(1, 2, 3))[:, None].repeat(1, 4)

    # ---- conditions and sampling
    def prepare_conditions(self, **kwargs) -> dict:
        self.conditions.append(kwargs)
        return kwargs

    def sample(self, cond: dict, seeds: list[int], *, steps: int = 25, sampler: str = "dpmpp",
               cfg: float = 4.0, callback=None) -> torch.Tensor:
        if self.oom_above is not None and len(seeds) > self.oom_above:
            raise (self.oom_error or torch.cuda.OutOfMemoryError)(OOM_MESSAGES.get(self.oom_error, (
                f"CUDA out of memory (fake: batch {len(seeds)} > {self.oom_above})")))
        self.sample_calls.append(list(seeds))
        for i in range(steps):
            self.steps_run += 1
            if callback is not None:
                callback({"i": i, "n": steps, "t": 1.0 - i / steps, "x": None, "denoised": None})
        t = cond["n_latents"]
        ctx, mask = cond.get("context_latents"), cond.get("context_mask")
        out = torch.zeros(len(seeds), 2, t)
        for b, seed in enumerate(seeds):
            row = ctx[b] if ctx is not None and ctx.dim() == 3 else ctx     # per-take or shared context
            base = 0.3 + 0.2 * torch.rand(1, generator=torch.Generator().manual_seed(seed)).item()
            last_value, last_pos = base, -1
            for j in range(t):
                if mask is not None and bool(mask[j]):
                    last_value, last_pos = float(row[0, j]), j
                    out[b, 0, j] = row[0, j]
                else:
                    out[b, 0, j] = last_value + self.slope * (j - last_pos)
        return out


def expected_window_seed(seed: int, window: int) -> int:
    """The documented seed rule, written out independently of `engine.pipeline.window_seed`: window 0
    uses the take's seed; window k > 0 the first 8 bytes (little-endian) of sha256("seed/k"), 63 bits."""
    import hashlib
    if window == 0:
        return seed
    return int.from_bytes(hashlib.sha256(f"{seed}/{window}".encode()).digest()[:8], "little") % 2**63
