"""Stage 1: the audio autoencoder (multi-resolution STFT + waveform L1 + KL, optionally weighing the highs).

The finished stage writes `autoencoder.safetensors` + `autoencoder.json` into its run folder, with
per-channel latent statistics measured on the data so the DiT sees latents of about unit variance;
`load_autoencoder_weights` reads them back (or the autoencoder of a saved model folder).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from lightning_fabric import Fabric
from safetensors.torch import load_file, save_file
from torch import nn

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.model.autoencoder import build_autoencoder
from foley_studio.model.foley import FoleyModel

from .config import TrainConfig
from .data import AudioCrops, select_rows
from .harness import (
    RunLog, TrainingError, learning_rate, local_batch, optimizer_step, out_of_time, prepare_run, rank_checksums,
    training_steps,
)
from .losses import multi_resolution_stft_loss, pre_emphasis, waveform_l1
from .state import load_state, save_state
from .warm_start import is_model_folder, saved_part

WEIGHTS_FILE = "autoencoder.safetensors"


def autoencoder_main(fabric: Fabric, cfg: TrainConfig, manifest: Path, out_dir: Path) -> dict:
    """Train (or resume) the autoencoder on the manifest's train crops; the last step's losses and checksums."""
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    torch.manual_seed(cfg.seed)                       # the same initial weights on every rank
    mcfg = cfg.model_config()
    ae = build_autoencoder(mcfg.autoencoder)
    opt = torch.optim.AdamW(ae.parameters(), lr=cfg.lr, betas=(0.8, 0.99), weight_decay=cfg.weight_decay)
    info = load_state(out_dir / "checkpoint", modules={"autoencoder": ae}, optimizer=opt)
    if info is None and cfg.init_from:
        ae.load_state_dict(saved_part(Path(cfg.init_from), "autoencoder", mcfg))
    start = info["step"] if info else 0
    if fabric.is_global_zero:
        prepare_run(cfg, out_dir, "autoencoder")
    fabric.barrier()
    run_log = RunLog(out_dir, fabric.is_global_zero)
    hop = mcfg.hop
    crop = max(1, int(round(cfg.crop_seconds * SAMPLE_RATE / hop))) * hop
    crops = AudioCrops(select_rows(manifest, "train", cfg.qualities), manifest.parent, crop)
    model, opt_f = fabric.setup(ae, opt)
    local = local_batch(cfg, fabric)
    last: dict = {}
    t0 = time.monotonic()
    for step, g in training_steps(fabric, cfg, start, opt_f):
        wave = crops.batch(g, local).to(fabric.device)
        out = model(wave, generator=g)
        stft = multi_resolution_stft_loss(out.recon.float(), wave, cfg.stft_scales)
        wav = waveform_l1(out.recon.float(), wave)
        kl = out.kl()
        loss = cfg.w_stft * stft + cfg.w_wave * wav + cfg.w_kl * kl
        if cfg.w_stft_hf:
            hf = multi_resolution_stft_loss(pre_emphasis(out.recon.float()), pre_emphasis(wave), cfg.stft_scales)
            loss = loss + cfg.w_stft_hf * hf
        optimizer_step(fabric, model, opt_f, loss, cfg)
        last = {"step": step + 1, "loss": float(loss.detach()), "stft": float(stft.detach()),
                "wave": float(wav.detach()), "kl": float(kl.detach())}
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            run_log.write(**last, lr=learning_rate(cfg, step))
        stop = out_of_time(fabric, cfg, t0)
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps or stop:
            if fabric.is_global_zero:
                save_state(out_dir / "checkpoint", step=step + 1, modules={"autoencoder": ae}, optimizer=opt)
            fabric.barrier()
        if stop:
            run_log.write(step=step + 1, stopped="time limit")
            break
    sums = rank_checksums(fabric, ae)          # before rank 0 alone sets the latent statistics
    if fabric.is_global_zero:
        _finish_autoencoder(ae, crops, cfg, out_dir)
    fabric.barrier()
    return {**last, **sums}


@torch.no_grad()
def _finish_autoencoder(ae: nn.Module, crops: AudioCrops, cfg: TrainConfig, out_dir: Path) -> None:
    """Per-channel latent statistics from data (so the DiT sees ~unit variance), then the weights file."""
    ae.eval()
    g = torch.Generator().manual_seed(cfg.seed + 77)
    means = []
    for _ in range(4):
        wave = crops.batch(g, 8).to(next(ae.parameters()).device)
        mean, _ = ae.encode_distribution(wave)
        means.append(mean.float().cpu())
    z = torch.cat(means).transpose(0, 1).reshape(ae.config.latent_channels, -1)   # (C_z, B*T)
    ae.latent_mean.copy_(z.mean(dim=1))
    ae.latent_std.copy_(z.std(dim=1).clamp(min=1e-3))
    state = {k: v.detach().cpu().contiguous() for k, v in ae.state_dict().items()}
    save_file(state, str(out_dir / WEIGHTS_FILE))
    (out_dir / "autoencoder.json").write_text(json.dumps(
        {"autoencoder": json.loads(json.dumps(cfg.model_config().to_dict()["autoencoder"]))}, indent=1))
    ae.train()


def load_autoencoder_weights(model: FoleyModel, source: str | Path) -> None:
    """Load a finished autoencoder (a stage-1 run folder, its .safetensors, or a model folder) into the model."""
    path = Path(source)
    if is_model_folder(path) and not (path / WEIGHTS_FILE).exists():
        model.autoencoder.load_state_dict(saved_part(path, "autoencoder", model.config))
        return
    if path.is_dir():
        path = path / WEIGHTS_FILE
    if not path.exists():
        raise TrainingError(f"autoencoder weights {path} not found; train the autoencoder stage first "
                            "(`foley-studio train autoencoder ...`) and set autoencoder_from to its run folder")
    state = load_file(str(path))
    missing, unexpected = model.autoencoder.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise TrainingError(f"{path} does not fit this model's autoencoder config: missing {missing[:4]}, "
                            f"unexpected {unexpected[:4]}")
