"""Stage 2: the DiT (and the encoders it trains) over the frozen autoencoder's latents.

The loss is MultiFoley's masked noise prediction: random condition spans of the clip's own latents
are given, dropout of video, caption, quality tag and whole text teaches classifier-free guidance,
and the loss skips the given positions. Latents, video frames or features and text tokens come from
a feature cache built once per manifest. Each checkpoint logs the EMA weights' loss on fixed
validation rows (train rows when the manifest has none): `probe_loss`; `samples/` gets a few takes
now and then to listen to.
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning_fabric import Fabric
from torch import Tensor, nn

from foley_studio.core.paths import cache_dir
from foley_studio.core.timebase import LATENT_RATE
from foley_studio.media.audio import write_audio
from foley_studio.media.manifest import read_manifest
from foley_studio.model.encoders import caption_with_quality
from foley_studio.model.foley import FoleyModel, resample_features

from .autoencoder_stage import load_autoencoder_weights
from .config import TrainConfig
from .data import FeatureCache, build_feature_cache, select_rows
from .harness import (
    RunLog, local_batch, log_and_check, optimizer_step, prepare_run, rank_checksums, tensor_checksum, training_steps,
)
from .masking import loss_mask, masked_mse, sample_condition_mask
from .state import EMA, load_state, save_state
from .video_sync import load_video_encoder_weights
from .warm_start import saved_part

log = logging.getLogger(__name__)


class DiTObjective(nn.Module):
    """The trainable part of the DiT stage (DiT + trained encoders) and its masked noise-prediction loss.

    One module, so DDP sees one forward per step and synchronises every gradient it produced.
    """

    def __init__(self, model: FoleyModel, *, freeze_video: bool = False):
        super().__init__()
        self.dit = model.dit
        frozen = model.video_encoder.external_weights or freeze_video
        self.video_encoder = None if frozen else model.video_encoder
        self.text_encoder = None if model.text_encoder.external_weights else model.text_encoder
        self.schedule = model.schedule
        self.video_fps = model.video_fps
        self.latent_rate = model.config.latent_rate
        self.video_dim = model.config.video.dim

    def forward(self, batch: dict[str, Any]) -> tuple[Tensor, dict]:
        z = batch["latents"]                                                   # (B, C_z, L)
        b, _, n = z.shape
        video = self._video(batch, n, z)
        text, text_mask = self._text(batch, z.device)
        x_t = self.schedule.add_noise(z, batch["noise"], batch["t"])
        out = self.dit(x_t, batch["t"], given=z, given_mask=batch["given"], video=video,
                       video_mask=batch["video_keep"][:, None].expand(b, n) & batch["video_valid"],
                       text=text, text_mask=text_mask, text_drop=batch["text_drop"])
        target = self.schedule.target(z, batch["noise"], batch["t"])
        loss = masked_mse(out.float(), target.float(), batch["loss_mask"])
        return loss, {}

    def _video(self, batch: dict[str, Any], n: int, like: Tensor) -> Tensor:
        if batch["video_features"] is not None:
            feats = batch["video_features"]                                    # (B, T_f, C_v)
        elif batch["frames"] is None:
            return like.new_zeros(like.shape[0], n, self.video_dim)
        else:
            frames = batch["frames"]                                           # list of (T_f, S, S, 3) or None
            feats = [None if f is None else self.video_encoder.encode(f) for f in frames]
            fill = next((f for f in feats if f is not None), None)
            if fill is None:
                return like.new_zeros(like.shape[0], n, self.video_dim)
            feats = torch.stack([f if f is not None else torch.zeros_like(fill) for f in feats])
        rows = [resample_features(f, self.video_fps, self.latent_rate, n)[0] for f in feats]
        return torch.stack(rows).to(like.dtype)

    def _text(self, batch: dict[str, Any], device: torch.device) -> tuple[Tensor, Tensor]:
        if self.text_encoder is not None:
            tokens, mask = self.text_encoder.encode([s or "" for s in batch["texts"]])
            return tokens.to(device), mask.to(device)
        return batch["tokens"].to(device), batch["token_mask"].to(device)


def make_dit_batch(cache: FeatureCache, cfg: TrainConfig, g: torch.Generator, n: int, device: torch.device,
                   text_dim: int, rows: list[int] | None = None) -> dict[str, Any]:
    """Draw one batch of the DiT stage from the cache: rows, condition spans, dropouts, t and noise."""
    if rows is None:
        rows = torch.randint(len(cache), (n,), generator=g).tolist()
    z = cache.latents[rows]
    n_valid = cache.n_valid[rows]
    starts = [0] * n
    if cfg.crop_seconds_dit > 0:
        z, n_valid, starts = _crop_latents(z, n_valid, int(round(cfg.crop_seconds_dit * LATENT_RATE)),
                                           cache.video_rate, g)
    length = z.shape[-1]
    max_latents = int(round(cfg.max_condition_seconds * LATENT_RATE))
    given = sample_condition_mask(n_valid, length, p=cfg.p_condition, max_latents=max_latents, generator=g)
    has_video = torch.tensor([cache.video_index[r] >= 0 for r in rows])
    video_keep = has_video & (torch.rand(n, generator=g) >= cfg.p_drop_video)
    texts = []
    drops = torch.rand(n, 3, generator=g)        # caption, tag, whole text
    for i, r in enumerate(rows):
        caption = cache.captions[r] if drops[i, 0] >= cfg.p_drop_caption else ""
        quality = cache.qualities[r] if drops[i, 1] >= cfg.p_drop_tag else None
        text = caption_with_quality(caption, quality) if drops[i, 2] >= cfg.p_drop_text else ""
        texts.append(text)
    t = torch.rand(n, generator=g)
    noise = torch.randn(z.shape, generator=g)
    batch: dict[str, Any] = {
        "latents": z.to(device), "noise": noise.to(device), "t": t.to(device), "given": given.to(device),
        "loss_mask": loss_mask(given, n_valid).to(device), "video_keep": video_keep.to(device),
        "video_valid": (torch.arange(length)[None] < n_valid[:, None]).to(device),
        "text_drop": torch.tensor([s == "" for s in texts], device=device), "texts": texts,
        "video_features": None, "frames": None,
    }
    frame_slices = [_frame_slice(s, length, cache.video_rate) for s in starts]
    if cache.video_is_features:
        feats = [cache.video[cache.video_index[r]][frame_slices[i]] if cache.video_index[r] >= 0 else None
                 for i, r in enumerate(rows)]
        fill = next((f for f in feats if f is not None), None)
        if fill is not None:      # rows without video get zeros here and ∅_v through video_keep
            batch["video_features"] = torch.stack([f if f is not None else torch.zeros_like(fill)
                                                   for f in feats]).to(device)
    else:
        batch["frames"] = [torch.from_numpy(np.array(cache.video[cache.video_index[r]][frame_slices[i]])).to(device)
                           if cache.video_index[r] >= 0 and video_keep[i] else None for i, r in enumerate(rows)]
    if cache.text:
        seqs = [cache.text[s] if s else (torch.zeros(1, text_dim), torch.ones(1, dtype=torch.bool)) for s in texts]
        width = max(s[0].shape[0] for s in seqs)
        tokens = torch.zeros(n, width, text_dim)
        mask = torch.zeros(n, width, dtype=torch.bool)
        for i, (tok, m) in enumerate(seqs):
            tokens[i, :tok.shape[0]] = tok
            mask[i, :tok.shape[0]] = m
        batch["tokens"], batch["token_mask"] = tokens, mask
    return batch


def _crop_latents(z: Tensor, n_valid: Tensor, crop: int, video_rate: float,
                  g: torch.Generator) -> tuple[Tensor, Tensor, list[int]]:
    """Random crops of `crop` latents per row, starting on a video frame boundary (so frames stay aligned)."""
    if crop >= z.shape[-1]:
        return z, n_valid, [0] * z.shape[0]
    per_frame = LATENT_RATE / video_rate
    align = int(per_frame) if per_frame >= 1 and per_frame == int(per_frame) else 1
    starts = []
    for i in range(z.shape[0]):
        room = max(0, int(n_valid[i]) - crop)
        starts.append(int(torch.randint(room // align + 1, (1,), generator=g)) * align)
    out = torch.stack([z[i, :, s:s + crop] for i, s in enumerate(starts)])
    valid = torch.clamp(n_valid - torch.tensor(starts), min=0, max=crop)
    return out, valid, starts


def _frame_slice(start_latent: int, n_latents: int, video_rate: float) -> slice:
    first = int(round(start_latent * video_rate / LATENT_RATE))
    return slice(first, first + int(math.ceil(n_latents * video_rate / LATENT_RATE)))


def dit_main(fabric: Fabric, cfg: TrainConfig, manifest: Path, out_dir: Path) -> dict:
    """Train (or resume) the DiT stage; the last step's loss, weight checksums and the EMA's checksum."""
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    torch.manual_seed(cfg.seed)
    model = FoleyModel(cfg.model_config())
    if cfg.init_from:
        parts = ("autoencoder", "dit") if cfg.video_encoder_from else ("autoencoder", "dit", "video_encoder")
        for part in parts:
            getattr(model, part).load_state_dict(saved_part(Path(cfg.init_from), part, model.config))
    if cfg.autoencoder_from:
        load_autoencoder_weights(model, cfg.autoencoder_from)
    if cfg.video_encoder_from:
        load_video_encoder_weights(model.video_encoder, cfg.video_encoder_from)
    elif fabric.is_global_zero and not cfg.init_from:
        log.warning("no autoencoder_from in the config: the DiT learns the latents of an untrained autoencoder")
    model.autoencoder.requires_grad_(False).eval()
    if cfg.freeze_video_encoder:
        model.video_encoder.requires_grad_(False).eval()
    objective = DiTObjective(model, freeze_video=cfg.freeze_video_encoder)
    params = [p for p in objective.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, betas=(0.9, 0.99), weight_decay=cfg.weight_decay)
    ema = EMA(objective, cfg.ema_decay)
    saved: dict[str, nn.Module] = {"objective": objective}
    if objective.video_encoder is None:      # frozen: not in the objective, but part of the model we export
        saved["video_encoder"] = model.video_encoder
    info = load_state(out_dir / "checkpoint", modules=saved, optimizer=opt, ema=ema)
    start = info["step"] if info else 0
    if fabric.is_global_zero:
        prepare_run(cfg, out_dir, "dit")
    caches = cache_dir("training-features/v1")
    with fabric.rank_zero_first():
        feats = True if cfg.freeze_video_encoder else None
        cache = build_feature_cache(model, select_rows(manifest, "train", cfg.qualities), manifest.parent, caches,
                                    video_features=feats)
        probe_rows = [r for r in _maybe_rows(manifest, "val", cfg.qualities)][:32]
        probe = build_feature_cache(model, probe_rows, manifest.parent, caches, video_features=feats) \
            if probe_rows else cache
    run_log = RunLog(out_dir, fabric.is_global_zero)
    wrapped, opt_f = fabric.setup(objective, opt)
    local = local_batch(cfg, fabric)
    text_dim = model.config.text.dim
    last: dict = {}
    t0 = time.monotonic()
    for step, g in training_steps(fabric, cfg, start, opt_f):
        batch = make_dit_batch(cache, cfg, g, local, fabric.device, text_dim)
        loss, _ = wrapped(batch)
        optimizer_step(fabric, wrapped, opt_f, loss, cfg)
        ema.update(objective, step)
        last = {"step": step + 1, "loss": float(loss.detach())}
        stop, checkpoint_due = log_and_check(fabric, cfg, run_log, t0, step, last)
        done = step + 1 == cfg.steps or stop
        if checkpoint_due:
            if fabric.is_global_zero:
                probe_loss = probe_dit_loss(objective, ema, probe, cfg, fabric.device, text_dim)
                run_log.write(step=step + 1, probe_loss=probe_loss, probe_rows=len(probe))
                save_state(out_dir / "checkpoint", step=step + 1, modules=saved,
                           optimizer=opt, ema=ema, meta={"probe_loss": probe_loss})
            fabric.barrier()
        if fabric.is_global_zero and cfg.sample_every and ((step + 1) % cfg.sample_every == 0 or done):
            write_samples(model, objective, ema, cache, cfg, out_dir / "samples", step + 1)
        if stop:
            run_log.write(step=step + 1, stopped="time limit")
            break
    return {**last, **rank_checksums(fabric, objective), "ema_checksum": tensor_checksum(ema.shadow)}


def _maybe_rows(manifest: Path, split: str, qualities: tuple) -> list:
    return [r for r in read_manifest(manifest, split) if r.quality in qualities]


@torch.no_grad()
def probe_dit_loss(objective: DiTObjective, ema: EMA, cache: FeatureCache, cfg: TrainConfig,
                   device: torch.device, text_dim: int) -> float:
    """EMA-weight loss on fixed rows with fixed noise, t and masks (comparable across steps and runs)."""
    g = torch.Generator().manual_seed(12_345)
    rows = list(range(len(cache)))
    batch = make_dit_batch(cache, cfg.replace(p_drop_video=0.0, p_drop_caption=0.0, p_drop_tag=0.0, p_drop_text=0.0),
                           g, len(rows), device, text_dim, rows=rows)
    objective.eval()
    with ema.applied(objective):
        loss, _ = objective(batch)
    objective.train()
    return round(float(loss), 6)


@torch.no_grad()
def write_samples(model: FoleyModel, objective: DiTObjective, ema: EMA, cache: FeatureCache, cfg: TrainConfig,
                  folder: Path, step: int) -> list[Path]:
    """A few takes from the EMA weights for the first cached rows with video (listen to progress)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [i for i, v in enumerate(cache.video_index) if v >= 0][: cfg.n_samples]
    paths = []
    objective.eval()
    with ema.applied(objective):
        for i in rows:
            feats = None
            if cache.video_is_features:
                feats = cache.video[cache.video_index[i]]
            elif cache.video is not None:
                feats = model.encode_video(torch.from_numpy(np.asarray(cache.video[cache.video_index[i]])))
            cond = model.prepare_conditions(n_latents=int(cache.n_valid[i]), video_feats=feats,
                                            prompt=cache.captions[i], quality="high")
            wave = model.decode_latents(model.sample(cond, [0], steps=cfg.sample_steps, cfg=3.0))[0]
            path = folder / f"step{step:06d}_{cache.ids[i]}.wav"
            write_audio(path, wave.cpu().numpy())
            paths.append(path)
    objective.train()
    return paths