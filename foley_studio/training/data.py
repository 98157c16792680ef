"""Data for the two training stages: audio crops (autoencoder) and a feature cache (DiT).

The DiT stage never touches media files while it trains: `build_feature_cache` runs once over a
manifest and stores what every step needs —
- latents: the frozen autoencoder's normalised posterior means, one model window per row (padded
  rows carry their valid length, so the loss skips the padding);
- video: frames decoded at the video encoder's rate and size (uint8), or, when the video encoder is
  a frozen pretrained one, its features;
- text: tokens of every caption/tag variant the dropout scheme can produce, when the text encoder is
  frozen (a trained text encoder runs inside the step instead).
The cache lives in a folder keyed by the manifest's content and the autoencoder's weights, so a
changed manifest or a retrained autoencoder misses it.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.media.audio import read_audio
from foley_studio.media.manifest import ManifestError, ManifestRow, read_manifest
from foley_studio.media.video import encoder_frames, frames_for_encoder
from foley_studio.model.encoders import caption_with_quality
from foley_studio.model.foley import FoleyModel

from .harness import TrainingError

log = logging.getLogger(__name__)

CACHE_VERSION = 2


def select_rows(manifest: Path, split: str | None, qualities: tuple[str | None, ...]) -> list[ManifestRow]:
    rows = [r for r in read_manifest(manifest, split) if r.quality in qualities]
    if not rows:
        raise ManifestError(f"{manifest}: no rows for split={split!r} with quality in {list(qualities)}")
    return rows


# --------------------------------------------------------------------------- autoencoder stage

class AudioCrops:
    """Random fixed-length crops of the manifest's audio, read from disk on demand (no full decode)."""

    def __init__(self, rows: list[ManifestRow], root: Path, crop_samples: int):
        self.paths = [r.audio_path(root) for r in rows]
        self.crop = crop_samples
        self._lengths: dict[int, int] = {}

    def _length(self, i: int) -> int:
        if i not in self._lengths:
            import soundfile as sf
            try:
                info = sf.info(str(self.paths[i]))
                self._lengths[i] = int(info.frames * SAMPLE_RATE // info.samplerate)
            except RuntimeError:
                self._lengths[i] = len(read_audio(self.paths[i]))
        return self._lengths[i]

    def batch(self, generator: torch.Generator, n: int) -> Tensor:
        """(n, crop) float32: files and offsets drawn from `generator` (so a step is reproducible)."""
        out = torch.zeros(n, self.crop)
        picks = torch.randint(len(self.paths), (n,), generator=generator).tolist()
        for row, i in enumerate(picks):
            length = self._length(i)
            start = int(torch.randint(max(1, length - self.crop + 1), (1,), generator=generator))
            x = read_audio(self.paths[i], start, start + self.crop)
            out[row, :len(x)] = torch.from_numpy(x[: self.crop])
        return out


# --------------------------------------------------------------------------- DiT stage cache

def text_variants(caption: str, quality: str | None) -> list[str]:
    """Every text the caption/tag dropout can make of one row ('' stands for ∅_t)."""
    out = {caption_with_quality(caption, quality), caption_with_quality(caption, None),
           caption_with_quality("", quality), ""}
    return sorted(out)


@dataclass
class FeatureCache:
    """Precomputed per-row tensors for the DiT stage (see module docstring)."""

    latents: Tensor                   # (N, C_z, L) normalised
    n_valid: Tensor                   # (N,) valid latent positions per row
    video_index: list[int]            # row -> index into `video` (-1: no video)
    video: np.ndarray | Tensor | None  # uint8 (V, T_f, S, S, 3) frames, or float (V, T_f, C_v) features
    video_is_features: bool
    captions: list[str]
    qualities: list[str | None]
    ids: list[str]
    text: dict[str, tuple[Tensor, Tensor]]   # text -> (tokens (S, C_t), mask (S,)); empty if not frozen
    video_rate: float = 20.0          # frames (or feature rows) per second of `video`

    def __len__(self) -> int:
        return self.latents.shape[0]


def _cache_key(rows: list[ManifestRow], model: FoleyModel, video_features: bool) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([(r.id, r.audio, r.video, r.caption, r.quality) for r in rows]).encode())
    keyed = {f"ae.{k}": v for k, v in model.autoencoder.state_dict().items()}
    if video_features:
        h.update(b"video-features")
        keyed.update({f"video.{k}": v for k, v in model.video_encoder.state_dict().items()})
    for k, v in sorted(keyed.items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    h.update(json.dumps([model.config.video.__dict__, model.config.text.__dict__, CACHE_VERSION],
                        default=str).encode())
    return h.hexdigest()[:16]


@torch.no_grad()
def build_feature_cache(model: FoleyModel, rows: list[ManifestRow], root: Path, cache_root: Path,
                        progress=None, *, video_features: bool | None = None) -> FeatureCache:
    """Compute (or load) the cache of `rows` for `model`; its folder is keyed by content.

    video_features: cache the video encoder's features instead of frames (default: only when the
    encoder is a frozen pretrained one); the trainer also asks for it when it freezes the encoder.
    """
    if video_features is None:
        video_features = model.video_encoder.external_weights
    folder = Path(cache_root) / _cache_key(rows, model, video_features)
    if (folder / "items.json").exists():
        log.info("feature cache hit: %s", folder)
        return load_feature_cache(folder)
    folder.mkdir(parents=True, exist_ok=True)
    window = model.config.window_latents
    hop = model.config.hop
    latents = torch.zeros(len(rows), model.config.latent_channels, window)
    n_valid = torch.zeros(len(rows), dtype=torch.long)
    video_paths: dict[str, int] = {}
    video_index: list[int] = []
    for i, row in enumerate(rows):
        wave = read_audio(row.audio_path(root), 0, window * hop)
        z = model.autoencoder.encode(torch.from_numpy(wave)[None].to(model.device))[0].cpu()   # (C_z, T)
        latents[i, :, : z.shape[-1]] = z
        n_valid[i] = z.shape[-1]
        vp = row.video_path(root)
        if vp is not None and str(vp) not in video_paths:
            video_paths[str(vp)] = len(video_paths)
        video_index.append(video_paths[str(vp)] if vp is not None else -1)
        if progress:
            progress("latents", i + 1, len(rows))
    video, is_features = _cache_video(model, list(video_paths), window / model.config.latent_rate, folder,
                                      progress, video_features)
    text: dict[str, tuple[Tensor, Tensor]] = {}
    if model.text_encoder.external_weights:
        strings = sorted({s for r in rows for s in text_variants(r.caption, r.quality)} - {""})
        for start in range(0, len(strings), 64):
            chunk = strings[start:start + 64]
            tokens, mask = model.text_encoder.encode(chunk)
            for s, t, m in zip(chunk, tokens.cpu(), mask.cpu()):
                text[s] = (t[m].clone(), m[m].clone())
    tensors = {"latents": latents.contiguous(), "n_valid": n_valid}
    for j, (s, (t, _)) in enumerate(sorted(text.items())):
        tensors[f"text.{j}"] = t.contiguous()
    if is_features:
        tensors["video_features"] = video.contiguous()
    save_file(tensors, str(folder / "tensors.safetensors"))
    (folder / "items.json").write_text(json.dumps({
        "version": CACHE_VERSION, "ids": [r.id for r in rows], "captions": [r.caption for r in rows],
        "qualities": [r.quality for r in rows], "video_index": video_index, "videos": list(video_paths),
        "video_is_features": is_features, "text": sorted(text), "video_rate": model.video_fps}))
    log.info("feature cache written: %s (%d rows, %d videos, %d texts)", folder, len(rows), len(video_paths),
             len(text))
    return load_feature_cache(folder)


def _cache_video(model: FoleyModel, paths: list[str], seconds: float, folder: Path, progress, frozen: bool):
    """Frames (uint8 memmap on disk) for a trained video encoder; features for a frozen one."""
    fps, size = model.video_fps, model.video_size
    n_frames = int(round(seconds * fps))
    if frozen:
        feats = torch.zeros(len(paths), n_frames, model.config.video.dim)
    elif model.config.video.kind == "motion":
        raise TrainingError("the motion video encoder is trained in the video sync stage; set "
                            "freeze_video_encoder (and video_encoder_from) for the DiT stage")
    else:
        frames = np.lib.format.open_memmap(folder / "frames.npy", mode="w+", dtype=np.uint8,
                                           shape=(len(paths), n_frames, size, size, 3))
    for j, path in enumerate(paths):
        if frozen:
            clip, rate = encoder_frames(path, model.video_input, 0.0, seconds)
            with torch.no_grad():
                f = model.video_encoder.encode(torch.from_numpy(clip), rate).cpu()[:n_frames]
            feats[j, : f.shape[0]] = f
            if f.shape[0] < n_frames:      # a short video: hold its last features
                feats[j, f.shape[0]:] = f[-1:]
        else:
            clip = frames_for_encoder(path, fps, size, 0.0, seconds)[:n_frames]
            if clip.shape[0] < n_frames:      # a short video: hold its last frame
                clip = np.concatenate([clip, np.repeat(clip[-1:], n_frames - clip.shape[0], axis=0)])
            frames[j] = clip
        if progress:
            progress("video", j + 1, len(paths))
    if frozen:
        return feats, True
    frames.flush()
    return None, False


def load_feature_cache(folder: Path) -> FeatureCache:
    items = json.loads((folder / "items.json").read_text())
    tensors = load_file(str(folder / "tensors.safetensors"))
    text = {}
    for j, s in enumerate(items["text"]):
        t = tensors[f"text.{j}"]
        text[s] = (t, torch.ones(t.shape[0], dtype=torch.bool))
    if items["video_is_features"]:
        video = tensors["video_features"]
    elif items["videos"]:
        video = np.load(folder / "frames.npy", mmap_mode="r")
    else:
        video = None
    return FeatureCache(latents=tensors["latents"], n_valid=tensors["n_valid"], video_index=items["video_index"],
                        video=video, video_is_features=items["video_is_features"], captions=items["captions"],
                        qualities=items["qualities"], ids=items["ids"], text=text, video_rate=items["video_rate"])
