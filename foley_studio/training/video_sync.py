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
import math
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
from foley_studio.media.video import frames_for_encoder, native_fps
from foley_studio.model.config import VideoEncoderConfig
from foley_studio.model.encoders import MotionVideoEncoder, build_video_encoder

from foley_studio.media.manifest import ManifestRow, read_manifest
from foley_studio.media.onsets import match_onsets

from .config import TrainConfig
from .harness import (
    RunLog, TrainingError, local_batch, log_and_check, optimizer_step, prepare_run, rank_checksums, training_steps,
)
from .state import load_state, save_state

log = logging.getLogger(__name__)

SYNC_CACHE_VERSION = 3
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
    return bin_curves(onset_curves(wave), 0.0, fps, n_frames)


def bin_curves(curves: np.ndarray, t0: float, rate: float, n_bins: int) -> np.ndarray:
    """(n_bins, 2) in [0, 1] from `onset_curves`: the strongest rise and level inside each bin
    [t0 + k / rate, t0 + (k + 1) / rate)."""
    rise, level = curves
    idx = np.searchsorted(_flux_times(len(rise)), t0 + np.arange(n_bins + 1) / rate)
    out = np.zeros((n_bins, 2), np.float32)
    for k in range(n_bins):
        lo, hi = idx[k], max(idx[k + 1], idx[k] + 1)
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

EVENT_NEIGHBOUR = 0.5           # event target of the bins next to an impact's bin: ±25 ms is still "on time"
CACHE_MARGIN = 1.25              # frames are cached this much larger than the encoder's size, for crop-and-resize


class SyncClips:
    """Frames of every video in a split (read as the encoder reads them, cached on disk), the audio's
    onset/loudness curves at 5 ms hops, and the exact impact times when the manifest has them.

    Clips keep their own frame rates (the motion encoder reads videos at their native rate); frames of
    all clips lie in one flat uint8 memmap, clip j at `offsets[j]:offsets[j + 1]`. Targets are made per
    crop at the encoder's output rate: output bin k covers [t0 + k / rate, t0 + (k + 1) / rate).
    """

    def __init__(self, frames: np.ndarray, offsets: np.ndarray, fps: np.ndarray, curves: np.ndarray,
                 events: list[np.ndarray], has_events: np.ndarray, video: VideoEncoderConfig, seconds: float):
        self.frames, self.offsets, self.fps, self.curves = frames, offsets, fps, curves
        self.events, self.has_events, self.video, self.seconds = events, has_events, video, seconds

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def rate(self) -> float:
        return float(self.video.fps)

    @property
    def targets(self) -> np.ndarray:
        """(clips, bins, 3) targets of whole clips from t = 0 (onset, loudness, exact event)."""
        n = int(round(self.seconds * self.rate))
        return np.stack([self.crop_targets(j, 0.0, n) for j in range(len(self))])

    @classmethod
    def build(cls, rows: list[ManifestRow], root: Path, video: VideoEncoderConfig, seconds: float,
              cache_root: Path) -> SyncClips:
        clips = _one_row_per_video(rows)
        if not clips:
            raise TrainingError("the video sync stage needs manifest rows with a video (this split has none); add "
                                "video + audio rows, or skip the stage and train the DiT without video_encoder_from")
        h = hashlib.sha256(json.dumps([[r.id, r.audio, r.video] for r in clips]).encode())
        h.update(json.dumps([video.kind, video.fps, video.read_size, video.max_input_fps, seconds, SYNC_CACHE_VERSION,
                             FLUX_SCALE_DB, CACHE_MARGIN]).encode())
        folder = Path(cache_root) / h.hexdigest()[:16]
        events = [np.array(sorted(e["time"] for e in r.events if e.get("kind", "impact") == "impact"))
                  for r in clips]
        has_events = np.array([bool(r.events) for r in clips])
        if not (folder / "done.json").exists():
            _write_sync_cache(folder, clips, root, video, seconds)
        meta = json.loads((folder / "done.json").read_text())
        return cls(np.load(folder / "frames.npy", mmap_mode="r"), np.asarray(meta["offsets"]),
                   np.asarray(meta["fps"], float), np.load(folder / "curves.npy"), events, has_events, video, seconds)

    def clip_frames(self, j: int) -> np.ndarray:
        return np.array(self.frames[self.offsets[j]:self.offsets[j + 1]])

    def crop_targets(self, j: int, t0: float, n_bins: int) -> np.ndarray:
        """(n_bins, 3) onset strength, loudness, exact event (1 in the bin holding an impact, 0.5 beside it)."""
        out = np.zeros((n_bins, 3), np.float32)
        out[:, :2] = bin_curves(self.curves[j], t0, self.rate, n_bins)
        edges_end = t0 + n_bins / self.rate
        ev = self.events[j]
        bins = np.floor((ev[(ev >= t0) & (ev < edges_end)] - t0) * self.rate + 1e-9).astype(int)
        for offset, value in ((-1, EVENT_NEIGHBOUR), (1, EVENT_NEIGHBOUR), (0, 1.0)):
            near = bins + offset
            near = near[(near >= 0) & (near < n_bins)]
            out[near, 2] = np.maximum(out[near, 2], value)
        return out

    def batch(self, g: torch.Generator, n: int, crop_seconds: float, *, augment: bool = False
              ) -> tuple[list[tuple[Tensor, float]], Tensor, Tensor]:
        """n random crops: ([(uint8 (T, S, S, 3) frames, fps)], targets (n, bins, 3), event mask (n,))."""
        n_bins = max(4, int(round(crop_seconds * self.rate)))
        picks = torch.randint(len(self), (n,), generator=g).tolist()
        items, targets = [], []
        for j in picks:
            fps = float(self.fps[j])
            total = int(self.offsets[j + 1] - self.offsets[j])
            n_in = min(total, int(math.ceil(n_bins * fps / self.rate)) + 1)
            a = int(torch.randint(max(1, total - n_in + 1), (1,), generator=g))
            f = torch.from_numpy(np.array(self.frames[self.offsets[j] + a:self.offsets[j] + a + n_in]))
            f = augment_frames(f, g, self.video.read_size) if augment else _resize(f, self.video.read_size)
            items.append((f, fps))
            targets.append(torch.from_numpy(self.crop_targets(j, a / fps, n_bins)))
        mask = torch.from_numpy(self.has_events[picks])
        return items, torch.stack(targets), mask


def _write_sync_cache(folder: Path, clips: list[ManifestRow], root: Path, video: VideoEncoderConfig,
                      seconds: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cached = max(video.read_size, int(round(video.read_size * CACHE_MARGIN)))
    rates = [video.input_fps(native_fps(row.video_path(root))) for row in clips]
    counts = [int(math.ceil(seconds * r - 1e-9)) for r in rates]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    frames = np.lib.format.open_memmap(folder / "frames.npy", mode="w+", dtype=np.uint8,
                                       shape=(int(offsets[-1]), cached, cached, 3))
    n_hops = len(_flux_times_for(seconds))
    curves = np.zeros((len(clips), 2, n_hops), np.float32)
    for j, row in enumerate(clips):
        clip = frames_for_encoder(row.video_path(root), rates[j], cached, 0.0, seconds, fit=video.fit)[:counts[j]]
        if clip.shape[0] < counts[j]:
            clip = np.concatenate([clip, np.repeat(clip[-1:], counts[j] - clip.shape[0], axis=0)])
        frames[offsets[j]:offsets[j + 1]] = clip
        wave = read_audio(row.audio_path(root), 0, int(round(seconds * SAMPLE_RATE)))
        curves[j] = onset_curves(wave)[:, :n_hops]
        if (j + 1) % 50 == 0:
            log.info("video sync cache: %d/%d clips", j + 1, len(clips))
    frames.flush()
    np.save(folder / "curves.npy", curves)
    (folder / "done.json").write_text(json.dumps({"clips": len(clips), "ids": [r.id for r in clips],
                                                  "offsets": offsets.tolist(), "fps": rates}))


def _flux_times_for(seconds: float) -> np.ndarray:
    return _flux_times(int(round(seconds * SAMPLE_RATE)) // TARGET_HOP + 1)


def onset_curves(wave: np.ndarray) -> np.ndarray:
    """(2, M) per 5 ms hop: mean positive band rise (dB) and the loudest band level (dB)."""
    db = _band_db(wave)
    return np.stack([np.maximum(np.diff(db, axis=1, prepend=db[:, :1]), 0.0).mean(axis=0), db.max(axis=0)])


def _resize(frames: Tensor, size: int) -> Tensor:
    if frames.shape[1] == size and frames.shape[2] == size:
        return frames
    x = frames.permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


def augment_frames(frames: Tensor, g: torch.Generator, size: int) -> Tensor:
    """Random crop-and-resize (scale and aspect), shift, mirror and colour jitter of one crop, the
    same for all its frames: where and how large things are must not be what the encoder learns."""
    _, h, w, _ = frames.shape
    u = torch.rand(8, generator=g).tolist()
    scale = 0.55 + 0.45 * u[0]
    aspect = math.exp((u[1] - 0.5) * 0.5)
    ch = max(8, min(h, int(round(h * scale / math.sqrt(aspect)))))
    cw = max(8, min(w, int(round(w * scale * math.sqrt(aspect)))))
    y0, x0 = int(u[2] * (h - ch + 1)), int(u[3] * (w - cw + 1))
    x = frames[:, y0:y0 + ch, x0:x0 + cw].permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    if u[4] < 0.5:
        x = x.flip(3)
    gain = 0.7 + 0.6 * torch.rand(3, generator=g)                    # per-channel colour gain
    contrast = 0.6 + 0.8 * u[5]
    bright = (u[6] - 0.5) * 60.0
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean + bright
    x = x * gain.view(1, 3, 1, 1)
    if u[7] < 0.3:
        x = x.mean(dim=1, keepdim=True).expand_as(x)                # grey footage
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


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
    """The video encoder plus a linear head to the three targets (the head is dropped after training)."""

    def __init__(self, config: VideoEncoderConfig):
        super().__init__()
        self.encoder = build_video_encoder(config)
        self.head = nn.Linear(config.dim, 3)

    def forward(self, items: list[tuple[Tensor, float]], n_bins: int) -> Tensor:
        """[(uint8 (T, S, S, 3), fps)] -> logits (B, n_bins, 3) at the encoder's rate."""
        return torch.stack([self.head(_encode(self.encoder, f, fps, n_bins)) for f, fps in items])


def _encode(encoder: nn.Module, frames: Tensor, fps: float, n_bins: int) -> Tensor:
    if isinstance(encoder, MotionVideoEncoder):
        return encoder.encode(frames, fps, n_out=n_bins)
    feats = encoder.encode(frames, fps)
    if feats.shape[0] < n_bins:
        feats = torch.cat([feats, feats[-1:].expand(n_bins - feats.shape[0], -1)])
    return feats[:n_bins]


def sync_loss(logits: Tensor, targets: Tensor, event_mask: Tensor | None = None) -> tuple[Tensor, dict[str, float]]:
    onset = F.binary_cross_entropy_with_logits(logits[..., 0], targets[..., 0],
                                               pos_weight=logits.new_tensor(ONSET_POS_WEIGHT))
    loud = F.binary_cross_entropy_with_logits(logits[..., 1], targets[..., 1])
    loss, parts = onset + loud, {"onset": float(onset.detach()), "loudness": float(loud.detach())}
    if targets.shape[-1] > 2 and logits.shape[-1] > 2:
        mask = torch.ones(targets.shape[0], dtype=torch.bool) if event_mask is None else event_mask
        if bool(mask.any()):
            ev = F.binary_cross_entropy_with_logits(logits[mask][..., 2], targets[mask][..., 2],
                                                    pos_weight=logits.new_tensor(2 * ONSET_POS_WEIGHT))
            loss = loss + ev
            parts["event"] = float(ev.detach())
    return loss, parts


@torch.no_grad()
def evaluate_sync(probe: SyncProbe, clips: SyncClips, tolerance_s: float = 0.05) -> dict[str, float]:
    """Val loss, and impact-onset F1 (±tolerance) of the predicted onsets, of the event head and of
    the audio targets themselves."""
    probe.eval()
    losses, counts = [], {"pred": np.zeros(3), "event": np.zeros(3), "target": np.zeros(3)}
    n_bins = int(round(clips.seconds * clips.rate))
    to_times = lambda idx: (idx + 0.5) / clips.rate     # noqa: E731 — bin k covers [k, k+1) / rate
    for j in range(len(clips)):
        frames = _resize(torch.from_numpy(clips.clip_frames(j)), clips.video.read_size)
        logits = probe([(frames, float(clips.fps[j]))], n_bins)
        target = torch.from_numpy(clips.crop_targets(j, 0.0, n_bins))[None]
        losses.append(float(sync_loss(logits, target, torch.tensor([bool(clips.has_events[j])]))[0]))
        prob = torch.sigmoid(logits[0]).numpy()
        counts["pred"] += event_f1(to_times(pick_onset_frames(prob[:, 0])), clips.events[j], tolerance_s)
        counts["event"] += event_f1(to_times(pick_onset_frames(prob[:, 2])), clips.events[j], tolerance_s)
        counts["target"] += event_f1(to_times(pick_onset_frames(target[0, :, 0].numpy())), clips.events[j],
                                     tolerance_s)
    probe.train()
    return {"val_loss": round(float(np.mean(losses)), 5), "val_onset_f1": round(_f1(*counts["pred"]), 4),
            "val_event_f1": round(_f1(*counts["event"]), 4), "target_onset_f1": round(_f1(*counts["target"]), 4)}


# --------------------------------------------------------------------------- the stage

def video_sync_main(fabric: Fabric, cfg: TrainConfig, manifest: Path, out_dir: Path) -> dict:
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    torch.manual_seed(cfg.seed)
    mcfg = cfg.model_config()
    probe = SyncProbe(mcfg.video)
    opt = torch.optim.AdamW(probe.parameters(), lr=cfg.lr, betas=(0.9, 0.99), weight_decay=cfg.weight_decay)
    info = load_state(out_dir / "checkpoint", modules={"probe": probe}, optimizer=opt)
    start = info["step"] if info else 0
    if fabric.is_global_zero:
        prepare_run(cfg, out_dir, "video")
    seconds = mcfg.window_seconds
    caches = cache_dir("training-video-sync/v1")
    with fabric.rank_zero_first():
        train = SyncClips.build(_rows(manifest, "train"), manifest.parent, mcfg.video, seconds, caches)
        val_rows = _rows(manifest, "val")
        val = SyncClips.build(val_rows, manifest.parent, mcfg.video, seconds, caches) if val_rows else None
    run_log = RunLog(out_dir, fabric.is_global_zero)
    wrapped, opt_f = fabric.setup(probe, opt)
    local = local_batch(cfg, fabric)
    last: dict = {}
    t0 = time.monotonic()
    for step, g in training_steps(fabric, cfg, start, opt_f):
        items, targets, mask = train.batch(g, local, cfg.sync_crop_seconds, augment=cfg.sync_augment)
        items = [(f.to(fabric.device), fps) for f, fps in items]
        loss, parts = sync_loss(wrapped(items, targets.shape[1]), targets.to(fabric.device), mask)
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
    sums = rank_checksums(fabric, probe)
    if fabric.is_global_zero:
        _write_encoder(probe.encoder, mcfg.video, out_dir)
    fabric.barrier()
    return {**last, **sums}


def _rows(manifest: Path, split: str) -> list[ManifestRow]:
    return [r for r in read_manifest(manifest, split) if r.video]


def _write_encoder(encoder: nn.Module, config: VideoEncoderConfig, out_dir: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in encoder.state_dict().items()}
    save_file(state, str(out_dir / WEIGHTS_FILE))
    (out_dir / "video_encoder.json").write_text(json.dumps({"video": dict(config.__dict__)}, indent=1, default=str))


def load_video_encoder_weights(encoder: nn.Module, source: str | Path) -> None:
    """Load a finished video sync run (its folder or weights file) into `encoder`; the config must fit."""
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
