"""What the engine remembers between generations, keyed by content identity.

- video features per (file path, size, mtime, encoder, time range): in memory and on disk
  (`cache_dir("video_feats/v1")`), so reopening a project does not re-run the video encoder;
- latents per audio range, keyed by a hash of the samples themselves (a project mix changes
  whenever any clip moves, so its content is the only honest key) and the autoencoder;
- prepared text tokens are the model's own cache (`FoleyModel.prepare_conditions`).

A changed file misses (new size/mtime); an old on-disk format is left behind in its versioned folder.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from foley_studio.core.lru import LRUCache
from foley_studio.core.paths import cache_dir

log = logging.getLogger(__name__)

VIDEO_FEATS_KIND = "video_feats/v1"


def file_identity(path: str | Path) -> tuple[str, int, int]:
    """(resolved path, size, mtime in ns): changes whenever the file is replaced or edited."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return str(resolved), stat.st_size, stat.st_mtime_ns


def audio_key(audio: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()


class VideoFeatureCache:
    """Video encoder features of a time range of a file, for one encoder (named by its weights hash)."""

    def __init__(self, max_entries: int = 64, disk: bool = True):
        self.memory: LRUCache[tuple, torch.Tensor] = LRUCache(max_entries)
        self.disk = disk

    def get_or_compute(self, path: str | Path, encoder_id: str, start: int, end: int,
                       compute: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Features of samples [start, end) of `path`; `compute()` runs only on a miss."""
        key = (*file_identity(path), encoder_id, start, end)
        cached = self.memory.get(key)
        if cached is not None:
            return cached
        disk_path = self._disk_path(key) if self.disk else None
        feats = self._load(disk_path) if disk_path else None
        if feats is None:
            feats = compute().detach().to("cpu", torch.float32).contiguous()
            if disk_path:
                self._save(disk_path, feats)
        self.memory.put(key, feats)
        return feats

    @staticmethod
    def _disk_path(key: tuple) -> Path:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        return cache_dir(VIDEO_FEATS_KIND) / f"{digest}.safetensors"

    @staticmethod
    def _load(path: Path) -> torch.Tensor | None:
        if not path.exists():
            return None
        try:
            return load_file(str(path))["feats"]
        except Exception as exc:  # a torn or foreign cache file is only a miss
            log.warning("ignoring unreadable feature cache %s (%s)", path, exc)
            return None

    @staticmethod
    def _save(path: Path, feats: torch.Tensor) -> None:
        tmp = path.with_suffix(".part")
        try:
            save_file({"feats": feats}, str(tmp))
            tmp.replace(path)
        except OSError as exc:   # a full or read-only cache disk must not fail a generation
            log.warning("cannot write feature cache %s (%s)", path, exc)
            tmp.unlink(missing_ok=True)


class Caches:
    """The caches one pipeline (or several, sharing a JobQueue) keeps."""

    def __init__(self, *, disk: bool = True):
        self.video = VideoFeatureCache(disk=disk)
        self.latents: LRUCache[tuple, torch.Tensor] = LRUCache(128)

    def latents_for(self, audio: np.ndarray, autoencoder_id: str,
                    encode: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Latents of these exact samples under this autoencoder (cached by content)."""
        return self.latents.get_or_compute((audio_key(audio), audio.shape[0], autoencoder_id), encode)
