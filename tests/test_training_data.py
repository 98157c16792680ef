"""Manifests for external data (VGGSound-style MP4 with its soundtrack, SFX-style audio + caption) and the feature cache."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from foley_studio.core.paths import cache_dir
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.model.config import TINY
from foley_studio.model.foley import FoleyModel
from foley_studio.training import world
from foley_studio.training.data import AudioCrops, build_feature_cache, select_rows, text_variants
from foley_studio.media.manifest import ManifestError, read_manifest


@pytest.fixture
def external(tmp_path):
    """A 3 s MP4 with a click track (its own audio), and a 2 s SFX file; manifest rows as a user writes them."""
    frames = np.zeros((3 * world.FPS, 32, 32, 3), np.uint8)
    frames[:, :, :16] = 200
    audio = np.zeros(3 * SAMPLE_RATE, np.float32)
    audio[SAMPLE_RATE: SAMPLE_RATE + 480] = 0.8
    world.write_video(tmp_path / "clip.mp4", frames, audio)
    sf.write(str(tmp_path / "sfx.wav"), np.sin(np.arange(2 * SAMPLE_RATE) * 0.05).astype(np.float32) * 0.3,
             SAMPLE_RATE)
    rows = [{"id": "vgg-1", "audio": "clip.mp4", "video": "clip.mp4", "caption": "dog barking", "quality": "low",
             "split": "train", "label_source": "vggsound"},
            {"id": "sfx-1", "audio": str(tmp_path / "sfx.wav"), "caption": "hum", "quality": "high"}]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return tmp_path / "m.jsonl"


def test_external_rows_read_with_defaults(external):
    rows = read_manifest(external)
    assert [r.id for r in rows] == ["vgg-1", "sfx-1"]
    assert rows[1].video is None and rows[1].split == "train"
    assert rows[0].meta["label_source"] == "vggsound"                    # unknown keys are kept in meta
    assert rows[0].audio_path(external.parent) == external.parent / "clip.mp4"
    assert select_rows(external, "train", ("high",))[0].id == "sfx-1"


@pytest.mark.parametrize("line, message", [
    ('{"id": "x", "audio": "a.wav"}', "caption"),
    ('{"id": "x", "audio": "a.wav", "caption": "c", "quality": "best"}', "quality"),
    ('{"id": "x", "audio": "a.wav", "caption": "c", "split": "dev"}', "split"),
    ("{not json", "not valid JSON"),
])
def test_bad_manifest_lines_name_the_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "audio": "a.wav", "caption": "c"}\n' + line + "\n")
    with pytest.raises(ManifestError, match=f"bad.jsonl:2: .*{message}"):
        read_manifest(path)


def test_audio_crops_read_from_video_files(external):
    crops = AudioCrops(read_manifest(external), external.parent, SAMPLE_RATE)
    batch = crops.batch(torch.Generator().manual_seed(0), 6)
    assert batch.shape == (6, SAMPLE_RATE) and float(batch.abs().max()) > 0.1


def test_feature_cache_pads_to_the_window_and_is_reused(external):
    torch.manual_seed(0)
    model = FoleyModel(TINY)
    rows = read_manifest(external)
    cache = build_feature_cache(model, rows, external.parent, cache_dir("t"))
    n = TINY.window_latents
    assert cache.latents.shape == (2, TINY.latent_channels, n)
    assert cache.n_valid.tolist() == [120, 80]                           # 3 s and 2 s at 40 Hz
    assert float(cache.latents[1, :, 80:].abs().max()) == 0.0           # padding stays zero
    assert cache.video_index == [0, -1] and not cache.video_is_features
    assert cache.video.shape == (1, int(TINY.window_seconds * TINY.video.fps), TINY.video.size, TINY.video.size, 3)
    again = build_feature_cache(model, rows, external.parent, cache_dir("t"))
    assert torch.equal(again.latents, cache.latents)
    folders = list(cache_dir("t").iterdir())
    assert len(folders) == 1
    feats = build_feature_cache(model, rows, external.parent, cache_dir("t"), video_features=True)
    assert feats.video_is_features and feats.video.shape[-1] == TINY.video.dim
    assert len(list(cache_dir("t").iterdir())) == 2                      # a different cache, not a clash


def test_text_variants_cover_the_dropout_scheme():
    assert text_variants("metal hit", "low") == ["", "low quality", "metal hit", "metal hit, low quality"]
    assert text_variants("metal hit", None) == ["", "metal hit"]


def test_dit_crops_keep_frames_aligned_with_latents():
    from foley_studio.training.config import TrainConfig
    from foley_studio.training.data import FeatureCache
    from foley_studio.training.dit_stage import make_dit_batch

    n_lat, fps = 320, 20.0
    latents = torch.arange(n_lat, dtype=torch.float32).repeat(3, 2, 1)          # value = latent index
    frames = np.broadcast_to(np.arange(160, dtype=np.uint8)[None, :, None, None, None], (3, 160, 4, 4, 3)).copy()
    cache = FeatureCache(latents=latents, n_valid=torch.full((3,), n_lat), video_index=[0, 1, 2], video=frames,
                         video_is_features=False, captions=["x"] * 3, qualities=["high"] * 3, ids=["a", "b", "c"],
                         text={}, video_rate=fps)
    cfg = TrainConfig(model="tiny", crop_seconds_dit=2.0, p_drop_video=0.0)
    for seed in range(5):
        batch = make_dit_batch(cache, cfg, torch.Generator().manual_seed(seed), 3, torch.device("cpu"), 32)
        assert batch["latents"].shape == (3, 2, 80)
        for z, f in zip(batch["latents"], batch["frames"]):
            start = int(z[0, 0])
            assert start % 2 == 0 and f.shape[0] == 40                           # 2 s of 20 fps frames
            assert int(f[0, 0, 0, 0]) == start // 2                              # frame i covers latents 2i, 2i+1
