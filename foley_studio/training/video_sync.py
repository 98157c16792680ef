"""Stage 1b: sync pre-training of the video encoder (audio-derived targets, no labels).

MultiFoley's sync comes from a video encoder that was itself trained for audio-visual timing
(Synchformer in MMAudio-style systems). Our conv encoder has no such pretrained weights, and a
frozen randomly initialised one left the DiT to discover "contact -> onset" alone, which it did
barely (demo v1: onset F1 0.19 vs random 0.12). This stage teaches the encoder that mapping
directly: from the frames alone, predict per video frame
  - the onset strength of the clip's own soundtrack (positive log-band spectral flux), and
  - its loudness (frame level in dB),
both computed from the audio, so any manifest row with video and audio trains it (Foley world,
VGGSound-style sets) — the world's event lists are used only to *measure* it (val onset F1).
The DiT stage then loads the encoder (`video_encoder_from`), freezes it and caches its features.

Target frame k covers audio [k/fps, (k+1)/fps): the convention `resample_features` uses when it
maps feature k onto the latent grid, so "onset in feature k" lands on the right latents.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from lightning_fabric import Fabric
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from foley_studio.core.paths import cache_dir
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.media.audio import read_audio
from foley_studio.media.video import frames_for_encoder
from foley_studio.model.config import VideoEncoderConfig
from foley_studio.model.encoders import VideoEncoder

from .config import TrainConfig
from foley_studio.media.manifest import ManifestRow, read_manifest
from foley_studio.media.onsets import match_onsets
from .state import load_state, save_state, step_generator

log = logging.getLogger(__name__)

SYNC_CACHE_VERSION = 2
TARGET_HOP = 240                 # 5 ms analysis hop at 48 kHz
TARGET_NFFT = 480                # 10 ms window: short, so an attack is not smeared across frames
TARGET_BANDS = 16                # log-spaced bands, 150 Hz .. 20 kHz (a 480-point FFT resolves 100 Hz)
FLOOR_DB = -80.0
FLUX_SCALE_DB = 24.0             # mean band rise of a clear impact onset ~ 15-40 dB -> target ~0.6-1
ONSET_POS_WEIGHT = 4.0           # onsets are sparse: a missed one costs more than a false one
WEIGHTS_FILE = "video_encoder.safetensors"


# --------------------------------------------------------------------------- targets

def _band_matrix() -> np.ndarray:
    freqs = np.fft.rfftfreq(TARGET_NFFT, 1.0 / SAMPLE_RATE)
    edges = np.geomspace(150.0, 20_000.0, TARGET_BANDS + 1)
    bank = np.stack([(freqs >= lo) & (freqs < hi) for lo, hi in zip(edges[:-1], edges[1:])]).astype(np.float32)
    return bank / np.maximum(bank.sum(axis=1, keepdims=True), 1.0)


def _band_db(wave: np.ndarray) -> np.ndarray:
    """(bands, M) log band power of 5 ms hops (frame m centred on sample m * hop, see `_flux_times`)."""
    x = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))
    spec = torch.stft(x, TARGET_NFFT, TARGET_HOP, window=torch.hann_window(TARGET_NFFT), center=True,
                      return_complex=True).abs().pow(2).numpy() / (TARGET_NFFT / 4) ** 2
    return 10.0 * np.log10(np.maximum(_band_matrix() @ spec, 10.0 ** (FLOOR_DB / 10.0)))


def audio_sync_targets(wave: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """(n_frames, 2) float32 in [0, 1]: onset strength and loudness of audio [k/fps, (k+1)/fps)."""
    db = _band_db(wave)
    rise = np.maximum(np.diff(db, axis=1, prepend=db[:, :1]), 0.0).mean(axis=0)      # (M,)
    level = db.max(axis=0)
    edges = np.searchsorted(_flux_times(len(rise)), np.arange(n_frames + 1) / fps)
    out = np.zeros((n_frames, 2), np.float32)
    for k in range(n_frames):
        lo, hi = edges[k], max(edges[k + 1], edges[k] + 1)
        if lo >= len(rise):
            break
        out[k, 0] = rise[lo:hi].max() / FLUX_SCALE_DB
        out[k, 1] = (level[lo:hi].max() - FLOOR_DB) / -FLOOR_DB
    return np.clip(out, 0.0, 1.0)


def _flux_times(n: int) -> np.ndarray:
    """When each flux frame's rise happened: a sound entering a Hann window raises the frame-to-frame
    difference most while it crosses the window's leading quarter, i.e. a quarter window after the
    frame's centre (without this shift every onset would land about one video frame early)."""
    return (np.arange(n) * TARGET_HOP + TARGET_NFFT / 4) / SAMPLE_RATE


def pick_onset_frames(onset: np.ndarray, threshold: float = 0.5, radius: int = 2) -> np.ndarray:
    """Frames where `onset` (probabilities) is a local maximum within ±radius and above `threshold`."""
    padded = np.pad(onset, radius, mode="constant", constant_values=-1.0)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1)
    peaks = (onset >= windows.max(axis=1)) & (onset >= threshold)
    idx = np.flatnonzero(peaks)
    keep = [i for j, i in enumerate(idx) if j == 0 or i - idx[j - 1] > radius]   # flat tops count once
    return np.asarray(keep, dtype=int)


def event_f1(pred_times: np.ndarray, true_times: np.ndarray, tolerance_s: float = 0.05) -> tuple[int, int, int]:
    """(matched, n_pred, n_true), matched one-to-one as the evaluation's onset F1 does."""
    return len(match_onsets(pred_times, true_times, tolerance_s)), len(pred_times), len(true_times)


def _f1(matched: int, n_pred: int, n_true: int) -> float:
    p = matched / n_pred if n_pred else 0.0
    r = matched / n_true if n_true else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


# --------------------------------------------------------------------------- data

class SyncClips:
    """Frames (uint8 memmap) and audio targets of every video in a manifest split, cached on disk."""

    def __init__(self, frames: np.ndarray, targets: np.ndarray, events: list[np.ndarray], fps: float):
        self.frames, self.targets, self.events, self.fps = frames, targets, events, fps

    def __len__(self) -> int:
        return self.frames.shape[0]

    @classmethod
    def build(cls, rows: list[ManifestRow], root: Path, video: VideoEncoderConfig, seconds: float,
              cache_root: Path) -> SyncClips:
        clips = _one_row_per_video(rows)
        if not clips:
            from .trainer import TrainingError
            raise TrainingError("the video sync stage needs manifest rows with a video (this split has none); add "
                                "video + audio rows, or skip the stage and train the DiT without video_encoder_from")
        h = hashlib.sha256(json.dumps([[r.id, r.audio, r.video] for r in clips]).encode())
        h.update(json.dumps([video.fps, video.size, seconds, SYNC_CACHE_VERSION, FLUX_SCALE_DB]).encode())
        folder = Path(cache_root) / h.hexdigest()[:16]
        n_frames = int(round(seconds * video.fps))
        events = [np.array(sorted(e["time"] for e in r.events if e.get("kind", "impact") == "impact"))
                  for r in clips]
        if (folder / "done.json").exists():
            log.info("video sync cache hit: %s", folder)
            return cls(np.load(folder / "frames.npy", mmap_mode="r"), np.load(folder / "targets.npy"), events,
                       video.fps)
        folder.mkdir(parents=True, exist_ok=True)
        frames = np.lib.format.open_memmap(folder / "frames.npy", mode="w+", dtype=np.uint8,
                                           shape=(len(clips), n_frames, video.size, video.size, 3))
        targets = np.zeros((len(clips), n_frames, 2), np.float32)
        for j, row in enumerate(clips):
            clip = frames_for_encoder(row.video_path(root), video.fps, video.size, 0.0, seconds)[:n_frames]
            if clip.shape[0] < n_frames:
                clip = np.concatenate([clip, np.repeat(clip[-1:], n_frames - clip.shape[0], axis=0)])
            frames[j] = clip
            wave = read_audio(row.audio_path(root), 0, int(round(seconds * SAMPLE_RATE)))
            targets[j] = audio_sync_targets(wave, video.fps, n_frames)
            if (j + 1) % 50 == 0:
                log.info("video sync cache: %d/%d clips", j + 1, len(clips))
        frames.flush()
        np.save(folder / "targets.npy", targets)
        (folder / "done.json").write_text(json.dumps({"clips": len(clips), "ids": [r.id for r in clips]}))
        return cls(np.load(folder / "frames.npy", mmap_mode="r"), targets, events, video.fps)

    def batch(self, g: torch.Generator, n: int, crop: int) -> tuple[Tensor, Tensor]:
        """(n, crop, S, S, 3) uint8 frames and (n, crop, 2) targets: random clips, offsets and mirror flips."""
        picks = torch.randint(len(self), (n,), generator=g).tolist()
        total = self.frames.shape[1]
        frames, targets = [], []
        for i in picks:
            s = int(torch.randint(max(1, total - crop + 1), (1,), generator=g))
            f = torch.from_numpy(np.array(self.frames[i, s:s + crop]))
            if bool(torch.rand(1, generator=g) < 0.5):
                f = f.flip(2)                      # left-right mirror: same sound, same timing
            frames.append(f)
            targets.append(torch.from_numpy(self.targets[i, s:s + crop]))
        return torch.stack(frames), torch.stack(targets)


def _one_row_per_video(rows: list[ManifestRow]) -> list[ManifestRow]:
    """One row per video, the clean ('high') soundtrack when there is one: its onsets are the sharpest."""
    best: dict[str, ManifestRow] = {}
    for r in rows:
        if not r.video:
            continue
        if r.video not in best or (r.quality == "high" and best[r.video].quality != "high"):
            best[r.video] = r
    return list(best.values())


# --------------------------------------------------------------------------- model and loss

class SyncProbe(nn.Module):
    """The video encoder plus a linear head to the two targets (the head is dropped after training)."""

    def __init__(self, config: VideoEncoderConfig):
        super().__init__()
        self.encoder = VideoEncoder(config)
        self.head = nn.Linear(config.dim, 2)

    def forward(self, frames: Tensor) -> Tensor:
        """uint8 (B, T, S, S, 3) -> logits (B, T, 2)."""
        return torch.stack([self.head(self.encoder.encode(f)) for f in frames])


def sync_loss(logits: Tensor, targets: Tensor) -> tuple[Tensor, dict[str, float]]:
    onset = F.binary_cross_entropy_with_logits(logits[..., 0], targets[..., 0],
                                               pos_weight=logits.new_tensor(ONSET_POS_WEIGHT))
    loud = F.binary_cross_entropy_with_logits(logits[..., 1], targets[..., 1])
    return onset + loud, {"onset": float(onset.detach()), "loudness": float(loud.detach())}


@torch.no_grad()
def evaluate_sync(probe: SyncProbe, clips: SyncClips, tolerance_s: float = 0.05) -> dict[str, float]:
    """Val loss, and impact-onset F1 (±tolerance) of the predicted onsets and of the audio targets."""
    probe.eval()
    losses, pred_counts, target_counts = [], np.zeros(3), np.zeros(3)
    for i in range(len(clips)):
        frames = torch.from_numpy(np.array(clips.frames[i]))[None]
        logits = probe(frames)
        losses.append(float(sync_loss(logits, torch.from_numpy(clips.targets[i])[None])[0]))
        prob = torch.sigmoid(logits[0, :, 0]).numpy()
        to_times = lambda idx: (idx + 0.5) / clips.fps    # noqa: E731 — frame k covers [k, k+1)/fps
        pred_counts += event_f1(to_times(pick_onset_frames(prob)), clips.events[i], tolerance_s)
        target_counts += event_f1(to_times(pick_onset_frames(clips.targets[i, :, 0])), clips.events[i], tolerance_s)
    probe.train()
    return {"val_loss": round(float(np.mean(losses)), 5), "val_onset_f1": round(_f1(*pred_counts), 4),
            "target_onset_f1": round(_f1(*target_counts), 4)}


# --------------------------------------------------------------------------- the stage

def video_sync_main(fabric: Fabric, cfg: TrainConfig, manifest: Path, out_dir: Path) -> dict:
    from .trainer import (
        RunLog, _local_batch, _prepare_run, _rank_checksums, learning_rate, log_and_check, optimizer_step,
    )
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    torch.manual_seed(cfg.seed)
    mcfg = cfg.model_config()
    probe = SyncProbe(mcfg.video)
    opt = torch.optim.AdamW(probe.parameters(), lr=cfg.lr, betas=(0.9, 0.99), weight_decay=cfg.weight_decay)
    info = load_state(out_dir / "checkpoint", modules={"probe": probe}, optimizer=opt)
    start = info["step"] if info else 0
    if fabric.is_global_zero:
        _prepare_run(cfg, out_dir, "video")
    seconds = mcfg.window_seconds
    caches = cache_dir("training-video-sync/v1")
    with fabric.rank_zero_first():
        train = SyncClips.build(_rows(manifest, "train"), manifest.parent, mcfg.video, seconds, caches)
        val_rows = _rows(manifest, "val")
        val = SyncClips.build(val_rows, manifest.parent, mcfg.video, seconds, caches) if val_rows else None
    run_log = RunLog(out_dir, fabric.is_global_zero)
    wrapped, opt_f = fabric.setup(probe, opt)
    local = _local_batch(cfg, fabric)
    crop = max(4, int(round(cfg.sync_crop_seconds * mcfg.video.fps)))
    last: dict = {}
    t0 = time.monotonic()
    for step in range(start, cfg.steps):
        g = step_generator(cfg.seed, step, fabric.global_rank)
        frames, targets = train.batch(g, local, crop)
        for group in opt_f.param_groups:
            group["lr"] = learning_rate(cfg, step)
        loss, parts = sync_loss(wrapped(frames.to(fabric.device)), targets.to(fabric.device))
        optimizer_step(fabric, wrapped, opt_f, loss, cfg)
        last = {"step": step + 1, "loss": float(loss.detach()), **parts}
        stop, checkpoint_due = log_and_check(fabric, cfg, run_log, t0, step, last)
        if checkpoint_due:
            if fabric.is_global_zero:
                if val is not None:
                    run_log.write(step=step + 1, **evaluate_sync(probe, val))
                save_state(out_dir / "checkpoint", step=step + 1, modules={"probe": probe}, optimizer=opt)
            fabric.barrier()
        if stop:
            run_log.write(step=step + 1, stopped="time limit")
            break
    sums = _rank_checksums(fabric, probe)
    if fabric.is_global_zero:
        _write_encoder(probe.encoder, mcfg.video, out_dir)
    fabric.barrier()
    return {**last, **sums}


def _rows(manifest: Path, split: str) -> list[ManifestRow]:
    return [r for r in read_manifest(manifest, split) if r.video]


def _write_encoder(encoder: VideoEncoder, config: VideoEncoderConfig, out_dir: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in encoder.state_dict().items()}
    save_file(state, str(out_dir / WEIGHTS_FILE))
    (out_dir / "video_encoder.json").write_text(json.dumps({"video": dict(config.__dict__)}, indent=1, default=str))


def load_video_encoder_weights(encoder: VideoEncoder, source: str | Path) -> None:
    """Load a finished video sync run (its folder or weights file) into `encoder`; the config must fit."""
    from .trainer import TrainingError
    path = Path(source)
    if path.is_dir():
        path = path / WEIGHTS_FILE
    if not path.exists():
        raise TrainingError(f"video encoder weights {path} not found; train the video stage first "
                            "(`foley-studio train video ...`) and set video_encoder_from to its run folder")
    missing, unexpected = encoder.load_state_dict(load_file(str(path)), strict=False)
    if missing or unexpected:
        raise TrainingError(f"{path} does not fit this model's video encoder config: missing {missing[:4]}, "
                            f"unexpected {unexpected[:4]}")
