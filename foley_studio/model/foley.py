"""`FoleyModel`: the MultiFoley model as one module, with the calls the engine and trainer use.

What runs once per generation (`prepare_conditions`: text tokens, video features at the latent
rate, given latents and masks) is split from what runs per step (`sample`: the sampler loop over a
guided denoiser). Every seed's noise is drawn on the CPU from its own generator, so one seed means
one take whatever the batch or device.

Training convention for the given-latents mechanism (the trainer must follow it): at given positions
the network's noisy input carries the noised given latents like everywhere else, the given channel
carries them clean and the mask channel is 1; the loss is taken only where the mask is 0.
"""
from __future__ import annotations

import logging
from typing import Callable

import torch
from torch import Tensor, nn

from foley_studio.model.autoencoder import AudioAutoencoder, build_autoencoder
from foley_studio.model.config import FoleyConfig
from foley_studio.model.diffusion import NoiseSchedule, get_sampler, make_schedule, randn_rows
from foley_studio.model.dit import DiT
from foley_studio.model.encoders import (
    TextEncoder, VideoEncoder, build_text_encoder, build_video_encoder, caption_with_quality, features_at_rate,
    negative_quality,
)
from foley_studio.model.errors import ModelError
from foley_studio.model.guidance import Cfg, Conditions, cfg_values, guided_denoiser
from foley_studio.model.limits import check_size

log = logging.getLogger(__name__)


def resample_features(feats: Tensor, src_rate: float, dst_rate: float, n_out: int) -> tuple[Tensor, Tensor]:
    """(T_src, C) features at `src_rate` -> (n_out, C) at `dst_rate` by linear interpolation between
    frame centres, and a (n_out,) bool mask that is False past the end of the source."""
    t_out = (torch.arange(n_out, dtype=torch.float64) + 0.5) / dst_rate          # centre of each output frame
    mask = t_out < feats.shape[0] / src_rate
    return features_at_rate(feats, src_rate, dst_rate, n_out), mask.to(feats.device)


class FoleyModel(nn.Module):
    """Autoencoder + DiT + text and video encoders + noise schedule, built from one `FoleyConfig`."""

    def __init__(self, config: FoleyConfig):
        check_size(config)                  # a config too big to hold is refused before any tensor
        super().__init__()
        self.config = config
        self.autoencoder: AudioAutoencoder = build_autoencoder(config.autoencoder)
        self.dit = DiT(config.dit, latent_channels=config.latent_channels, video_dim=config.video.dim,
                       text_dim=config.text.dim)
        self.text_encoder: TextEncoder = build_text_encoder(config.text)
        self.video_encoder: VideoEncoder = build_video_encoder(config.video)
        self.schedule = NoiseSchedule(config.diffusion)

    # -- facts
    @property
    def video_fps(self) -> float:
        return self.config.video.fps

    @property
    def video_size(self) -> int:
        return self.config.video.size

    @property
    def device(self) -> torch.device:
        return self.dit.in_proj.weight.device

    # -- audio and video
    # The autoencoder always runs in float32, even inside a caller's bf16 autocast: its inverse STFT
    # and last convolutions are where reduced precision becomes audible noise.
    @torch.no_grad()
    def encode_audio(self, wave: Tensor) -> Tensor:
        """(B, N) 48 kHz waveform -> (B, C_z, ceil(N / hop)) normalised latents (chunked)."""
        with torch.autocast(self.device.type, enabled=False):
            return self.autoencoder.encode(wave.to(self.device, torch.float32))

    @torch.no_grad()
    def decode_latents(self, z: Tensor) -> Tensor:
        """(B, C_z, T) normalised latents -> (B, T * hop) waveform (chunked, any length)."""
        with torch.autocast(self.device.type, enabled=False):
            return self.autoencoder.decode(z.to(self.device, torch.float32))

    def video_input(self, native_fps: float | None) -> tuple[float, int, str]:
        """How to read a video for this model's encoder: (sampling rate, size px, fit "cover"|"squash")."""
        video = self.config.video
        return video.input_fps(native_fps), video.read_size, video.fit

    def encode_video(self, frames: Tensor, fps: float | None = None) -> Tensor:
        """uint8 (T, H, W, 3) frames read as `video_input` says (at `fps`) -> (T_f, C_v) at `.video_fps`.
        Gradients only while training."""
        with torch.set_grad_enabled(self.training and torch.is_grad_enabled()):
            return self.video_encoder.encode(frames, fps)

    # -- conditions (once per generation)
    @torch.no_grad()
    def prepare_conditions(self, *, n_latents: int, video_feats: Tensor | None = None, prompt: str = "",
                           negative_prompt: str | None = None, quality: str | None = None,
                           context_latents: Tensor | None = None, context_mask: Tensor | None = None,
                           reference_latents: Tensor | None = None,
                           reference_video_feats: Tensor | None = None) -> Conditions:
        """Build the cached conditioning tensors for a generation of `n_latents` latent frames.

        video_feats: (T_f, C_v) at `.video_fps` starting at the region's start; context_latents (C_z, T)
        with context_mask (T,) bool marking given positions; reference_latents (C_z, R) (+ its video
        features) is prepended for analogy; quality in {"high", "low", None}.

        context_latents may also be (N, C_z, T), one context per seed of the `sample` call that uses
        these conditions (row b goes with seeds[b]); the mask stays (T,), shared by every row, and
        the reference is prepended to every row. A long region's later windows use this to continue
        each take's own audio in one batched call.
        """
        if n_latents < 1:
            raise ModelError(f"a generation needs at least one latent frame, got n_latents={n_latents}")
        dev, c_z = self.device, self.config.latent_channels
        ref_len = 0 if reference_latents is None else int(reference_latents.shape[-1])
        target_video, target_vmask = self._video_at_latent_rate(video_feats, n_latents)
        ref_video, ref_vmask = self._video_at_latent_rate(reference_video_feats, ref_len)

        rows = self._context_rows(context_latents)
        given = torch.zeros(*(() if rows is None else (rows,)), c_z, ref_len + n_latents, device=dev)
        given_mask = torch.zeros(ref_len + n_latents, dtype=torch.bool, device=dev)
        if reference_latents is not None:
            self._check_latents(reference_latents, ref_len, "reference_latents")
            given[..., :ref_len] = reference_latents.to(dev)
            given_mask[:ref_len] = True
        if context_latents is not None:
            self._check_latents(context_latents, n_latents, "context_latents", rows=rows)
            mask = (torch.ones(n_latents, dtype=torch.bool) if context_mask is None else context_mask.bool()).to(dev)
            if mask.shape != (n_latents,):
                raise ModelError(f"context_mask must have shape ({n_latents},), got {tuple(mask.shape)}")
            given[..., ref_len:] = torch.where(mask, context_latents.to(dev), given[..., ref_len:])
            given_mask[ref_len:] = mask

        caption = caption_with_quality(prompt, quality)
        negative = caption_with_quality(negative_prompt or "", negative_quality(quality, self.config.guidance.quality_negative))
        (text, text_mask), (neg, neg_mask) = self._tokens(caption), self._tokens(negative)
        return Conditions(
            n_latents=n_latents, n_reference=ref_len,
            video=torch.cat([ref_video, target_video]), video_mask=torch.cat([ref_vmask, target_vmask]),
            given=given, given_mask=given_mask,
            text=text, text_mask=text_mask, text_null=not caption,
            neg_text=neg, neg_text_mask=neg_mask, neg_text_null=not negative,
            caption=caption, negative_caption=negative)

    def _tokens(self, caption: str) -> tuple[Tensor, Tensor]:
        tokens, mask = self.text_encoder.encode([caption])
        return tokens[0].to(self.device), mask[0].to(self.device)

    def _video_at_latent_rate(self, feats: Tensor | None, n: int) -> tuple[Tensor, Tensor]:
        dim = self.config.video.dim
        if feats is None or n == 0 or feats.shape[0] == 0:
            return torch.zeros(n, dim, device=self.device), torch.zeros(n, dtype=torch.bool, device=self.device)
        if feats.dim() != 2 or feats.shape[1] != dim:
            raise ModelError(f"video features must be (frames, {dim}) from this model's video encoder, "
                             f"got {tuple(feats.shape)}")
        return resample_features(feats.to(self.device, torch.float32), self.video_fps, self.config.latent_rate, n)

    @staticmethod
    def _context_rows(context_latents: Tensor | None) -> int | None:
        """N for per-seed context latents (N, C_z, T); None for one shared context (C_z, T) or none."""
        if context_latents is None or context_latents.dim() != 3:
            return None
        if context_latents.shape[0] < 1:
            raise ModelError("context_latents (N, C_z, T) needs at least one row")
        return int(context_latents.shape[0])

    def _check_latents(self, z: Tensor, n: int, name: str, *, rows: int | None = None) -> None:
        c = self.config.latent_channels
        if z.shape != ((c, n) if rows is None else (rows, c, n)):
            per_seed = f" or (seeds, {c}, {n})" if name == "context_latents" else ""
            raise ModelError(f"{name} must have shape ({c}, {n}){per_seed}, got {tuple(z.shape)}")

    # -- sampling (per take)
    @torch.no_grad()
    def sample(self, cond: Conditions, seeds: list[int], *, steps: int = 25, sampler: str = "dpmpp",
               cfg: Cfg = 4.0, eta: float = 0.0, callback: Callable[[dict], None] | None = None) -> Tensor:
        """Latents (N, C_z, T) for N seeds, all seeds and both guidance branches in one forward per step
        (the positive branch alone when every γ is 0). Per-seed context latents (see `prepare_conditions`)
        need exactly one seed per row. `cfg` is one γ for every seed or a sequence of N, one per seed
        (row i then matches sampling seed i alone at its γ, up to float rounding).

        `callback(dict(i, n, t, x, denoised))` runs after every step with the target positions only;
        an exception it raises stops sampling and propagates (cancellation).
        """
        if not seeds:
            raise ModelError("sampling needs at least one seed")
        try:
            given = cond.given_for(len(seeds))
        except ValueError as exc:
            raise ModelError(str(exc)) from None
        try:
            cfgs = cfg_values(cfg, len(seeds))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"cfg (guidance scale): {exc}") from None
        run = get_sampler(sampler)
        generators = [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]
        shape = (len(seeds), self.config.latent_channels, cond.length)
        noise = randn_rows(shape, generators, device=self.device)
        grid = make_schedule(self.schedule, steps)
        # given positions start on the forward process of their known values (a(1)·z_c + s(1)·noise)
        x = torch.where(cond.given_mask[None, None], self.schedule.add_noise(given, noise, 1.0), noise)
        denoise = guided_denoiser(self.dit, self.schedule, cond, len(seeds), cfgs)
        ref = cond.n_reference

        def on_step(info: dict) -> None:
            if callback is not None:
                callback({**info, "x": info["x"][..., ref:], "denoised": info["denoised"][..., ref:]})

        log.debug("sampling %d take(s) of %d latents (+%d reference): %s, %d steps, cfg %s",
                  len(seeds), cond.n_latents, ref, sampler, steps, ", ".join(f"{g:.2f}" for g in sorted(set(cfgs))))
        kwargs = {"eta": eta} if sampler == "ddim" else {}
        out = run(denoise, x, grid, generator=generators, callback=on_step, **kwargs)
        return out[..., ref:]

    def generate(self, *, n_latents: int, seeds: list[int], steps: int = 25, sampler: str = "dpmpp",
                 cfg: Cfg = 4.0, callback: Callable[[dict], None] | None = None, **conditions) -> Tensor:
        """prepare_conditions + sample + decode: (N, n_latents * hop) waveforms."""
        cond = self.prepare_conditions(n_latents=n_latents, **conditions)
        return self.decode_latents(self.sample(cond, seeds, steps=steps, sampler=sampler, cfg=cfg, callback=callback))

    # -- checkpoints
    def persistent_state_dict(self) -> dict[str, Tensor]:
        """The weights a checkpoint stores: everything except frozen external encoders."""
        skip = []
        if self.text_encoder.external_weights:
            skip.append("text_encoder.")
        if self.video_encoder.external_weights:
            skip.append("video_encoder.")
        return {k: v for k, v in self.state_dict().items() if not any(k.startswith(p) for p in skip)}

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part (external encoders included, since they run at inference)."""
        parts = {"autoencoder": self.autoencoder, "dit": self.dit, "text_encoder": self.text_encoder,
                 "video_encoder": self.video_encoder}
        return {k: sum(p.numel() for p in m.parameters()) for k, m in parts.items()}
