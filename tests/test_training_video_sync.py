"""Video sync pre-training (stage 1b): audio-derived targets, the stage itself, and its hand-over to the DiT."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from foley_studio.core.paths import cache_dir
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.model.config import TINY
from foley_studio.model.encoders import VideoEncoder
from foley_studio.training.config import TrainConfig
from foley_studio.media.manifest import read_manifest
from foley_studio.training.trainer import TrainingError, run_stage
from foley_studio.training.video_sync import (
    SyncClips, SyncProbe, audio_sync_targets, evaluate_sync, event_f1, load_video_encoder_weights,
    pick_onset_frames, sync_loss,
)
from foley_studio.training.warm_start import TrainingInitError, saved_part


def _clicks(times: list[float], seconds: float = 4.0) -> np.ndarray:
    rng = np.random.default_rng(1)
    wave = np.zeros(int(seconds * SAMPLE_RATE), np.float32)
    for t in times:
        i = int(t * SAMPLE_RATE)
        n = SAMPLE_RATE // 10
        wave[i:i + n] += (rng.normal(0, 0.5, n) * np.exp(-np.arange(n) / 800)).astype(np.float32)
    return wave


def test_targets_put_each_onset_in_the_frame_that_covers_it():
    fps, times = 24.0, [0.5, 1.31, 2.07, 3.5]
    targets = audio_sync_targets(_clicks(times), fps, int(4 * fps))
    assert targets.shape == (96, 2) and targets.dtype == np.float32
    assert 0.0 <= targets.min() and targets.max() <= 1.0
    onset_frames = [int(t * fps) for t in times]
    assert sorted(pick_onset_frames(targets[:, 0])) == onset_frames
    quiet = np.ones(96, bool)
    for k in onset_frames:
        quiet[k - 1:k + 2] = False
    assert targets[quiet, 0].max() < 0.1                      # decays and silence give no onset
    assert targets[onset_frames[0], 1] > targets[2, 1] + 0.3    # louder where the click sounds than in silence


def test_peak_picking_and_matching():
    onset = np.array([0, 0.9, 0.9, 0, 0, 0.2, 0, 0.7, 0.1, 0])
    assert pick_onset_frames(onset).tolist() == [1, 7]          # flat top counts once; 0.2 is below threshold
    assert event_f1(np.array([0.1, 0.5, 2.0]), np.array([0.12, 0.53, 1.0])) == (2, 3, 3)
    assert event_f1(np.array([0.1, 0.11]), np.array([0.1])) == (1, 2, 1)   # one-to-one


def _cfg(**kw) -> TrainConfig:
    base = dict(model="tiny", steps=150, batch_size=4, lr=3e-3, warmup_steps=1, log_every=1, checkpoint_every=10,
                sync_crop_seconds=3.0, accelerator="cpu", num_threads=1)
    return TrainConfig(**{**base, **kw})


def test_video_stage_learns_and_hands_its_encoder_to_the_dit(tiny_world, tmp_path):
    cfg = _cfg()
    torch.manual_seed(cfg.seed)
    probe = SyncProbe(TINY.video)                           # the stage's initial weights (same seed)
    clips = SyncClips.build([r for r in read_manifest(tiny_world, "train") if r.video], tiny_world.parent,
                            TINY.video, TINY.window_seconds, cache_dir("training-video-sync/v1"))
    before = evaluate_sync(probe, clips)["val_loss"]
    result = run_stage("video", manifest=tiny_world, out_dir=tmp_path / "video", config=cfg)
    assert result["step"] == 150
    state = load_file(str(tmp_path / "video" / "checkpoint" / "last.safetensors"))
    probe.load_state_dict({k[len("probe/"):]: v for k, v in state.items() if k.startswith("probe/")})
    after = evaluate_sync(probe, clips)["val_loss"]
    # soft targets leave an entropy floor: compare the excess over what perfect logits would score
    t = torch.from_numpy(np.asarray(clips.targets)).clamp(1e-4, 1 - 1e-4)
    floor = float(sync_loss(torch.log(t / (1 - t)), t)[0])
    assert after - floor < 0.7 * (before - floor), (before, after, floor)
    weights = load_file(str(tmp_path / "video" / "video_encoder.safetensors"))
    fresh = VideoEncoder(TINY.video)
    assert not torch.equal(fresh.proj.weight, weights["proj.weight"])
    load_video_encoder_weights(fresh, tmp_path / "video")
    assert torch.equal(fresh.proj.weight, weights["proj.weight"])
    # the DiT stage loads it, keeps it frozen and exports it with the model
    run_stage("dit", manifest=tiny_world, out_dir=tmp_path / "dit",
              config=_cfg(steps=1, freeze_video_encoder=True, video_encoder_from=str(tmp_path / "video"),
                          crop_seconds_dit=2.0))
    saved = load_file(str(tmp_path / "dit" / "checkpoint" / "last.safetensors"))
    assert torch.equal(saved["video_encoder/proj.weight"], weights["proj.weight"])


def test_video_stage_on_audio_only_data_says_it_needs_video(tiny_world, tmp_path):
    from foley_studio.media.manifest import write_manifest
    audio_only = [r for r in read_manifest(tiny_world) if not r.video]
    manifest = tiny_world.parent / "audio_only.jsonl"
    write_manifest(manifest, audio_only)
    with pytest.raises(TrainingError, match="needs manifest rows with a video"):
        run_stage("video", manifest=manifest, out_dir=tmp_path / "video", config=_cfg(steps=1))


def test_video_stage_without_weights_says_which_stage_to_run(tmp_path):
    with pytest.raises(TrainingError, match="train video"):
        load_video_encoder_weights(VideoEncoder(TINY.video), tmp_path / "nothing")


def test_warm_start_checks_only_the_part_it_loads(tiny_world, tmp_path):
    from dataclasses import replace

    from foley_studio.model.checkpoint import save_pretrained
    from foley_studio.model.foley import FoleyModel

    save_pretrained(FoleyModel(TINY), tmp_path / "model")
    faster_video = replace(TINY, video=replace(TINY.video, fps=12.0))
    assert saved_part(tmp_path / "model", "dit", faster_video).keys()          # the DiT does not see the fps
    with pytest.raises(TrainingInitError, match="video_encoder.*fps"):
        saved_part(tmp_path / "model", "video_encoder", faster_video)
    wider = replace(TINY, dit=replace(TINY.dit, width=TINY.dit.width * 2))
    with pytest.raises(TrainingInitError, match="dit"):
        saved_part(tmp_path / "model", "dit", wider)
