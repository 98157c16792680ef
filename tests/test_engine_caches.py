"""Caches keyed by content identity, device choice, and OOM recognition."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from foley_studio.core import paths
from foley_studio.engine.caches import Caches, LRUCache, VideoFeatureCache
from foley_studio.engine.device import autocast_dtype, choose_device, is_out_of_memory
from foley_studio.engine.errors import EngineError


def test_lru_evicts_least_recently_used():
    cache: LRUCache[int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3


def test_video_features_hit_in_memory_and_on_disk_and_miss_when_the_file_changes(tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not really a video")
    calls = []

    def compute():
        calls.append(1)
        return torch.arange(6.0).reshape(3, 2)

    cache = VideoFeatureCache()
    first = cache.get_or_compute(video, "enc1", 0, 48_000, compute)
    assert torch.equal(cache.get_or_compute(video, "enc1", 0, 48_000, compute), first) and len(calls) == 1
    assert len(list(paths.cache_dir("video_feats/v1").glob("*.safetensors"))) == 1
    fresh = VideoFeatureCache()                         # a new session reads the disk cache
    assert torch.equal(fresh.get_or_compute(video, "enc1", 0, 48_000, compute), first) and len(calls) == 1
    fresh.get_or_compute(video, "enc2", 0, 48_000, compute)        # another encoder
    fresh.get_or_compute(video, "enc1", 0, 96_000, compute)        # another range
    assert len(calls) == 3
    video.write_bytes(b"an edited video, longer")
    os.utime(video, ns=(1, 1))
    fresh.get_or_compute(video, "enc1", 0, 48_000, compute)
    assert len(calls) == 4


def test_latents_are_cached_by_audio_content():
    caches = Caches(disk=False)
    calls = []
    audio = np.linspace(-1, 1, 2400, dtype=np.float32)

    def encode():
        calls.append(1)
        return torch.zeros(4, 2)

    caches.latents_for(audio, "ae", encode)
    caches.latents_for(audio.copy(), "ae", encode)
    assert len(calls) == 1
    changed = audio.copy()
    changed[5] += 1e-3
    caches.latents_for(changed, "ae", encode)
    caches.latents_for(audio, "other-ae", encode)
    assert len(calls) == 3


def test_device_choice_on_this_machine():
    device = choose_device()
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert device.type == expected
    assert choose_device("cpu").type == "cpu" and autocast_dtype(torch.device("cpu")) is None
    if not torch.cuda.is_available():
        with pytest.raises(EngineError, match="no CUDA GPU"):
            choose_device("cuda")


def test_out_of_memory_is_recognised():
    assert is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"))
    try:
        torch.empty(2**50, dtype=torch.uint8)                  # a petabyte: the CPU allocator's own words
    except RuntimeError as exc:
        assert is_out_of_memory(exc), exc
    else:
        pytest.fail("a petabyte was allocated")
    assert is_out_of_memory(MemoryError("Unable to allocate 8.00 PiB for an array"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert not is_out_of_memory(ValueError("out of memory"))
