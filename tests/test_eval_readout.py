"""The linear onset read-out: planted timing is found, random features are not, whole frames reach
the encoder, and the command prints its table."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from foley_studio.cli import main
from foley_studio.eval.data import EvalClip
from foley_studio.eval.readout import (MotionEnergyEncoder, ReadoutClip, clip_features, encode_frames, fit_readout,
                                       run_readout, score_readout)
from foley_studio.media.video import frames_for_encoder, frames_squashed_for_encoder, write_frames

FPS = 24.0


class FlashEncoder:
    """Planted onset feature: the brightness of the left quarter of each frame, plus 7 noise channels."""

    fps, size = FPS, 16

    def encode(self, frames: torch.Tensor, fps: float) -> torch.Tensor:
        assert fps == self.fps
        x = frames.float() / 255.0
        left = x[:, :, : x.shape[2] // 4].mean(dim=(1, 2, 3))
        noise = torch.randn(len(frames), 7, generator=torch.Generator().manual_seed(len(frames)))
        return torch.cat([left[:, None], 0.3 * noise], dim=1)


class RandomEncoder:
    """Features that know nothing of the picture."""

    fps, size = FPS, 16

    def __init__(self, seed: int):
        self.g = torch.Generator().manual_seed(seed)

    def encode(self, frames: torch.Tensor, fps: float) -> torch.Tensor:
        return torch.randn(len(frames), 8, generator=self.g)


def _flash_clip(rng: np.random.Generator, n: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Noisy 16x16 frames; on each onset frame the left quarter flashes. Returns (frames, onset times)."""
    frames = rng.integers(0, 90, (n, 16, 16, 3)).astype(np.uint8)
    onsets = np.sort(rng.choice(np.arange(4, n - 4, 6), size=5, replace=False))
    frames[onsets, :, :4] = 250
    return frames, onsets / FPS


def _clips(encoder, seed: int, count: int) -> list[ReadoutClip]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        frames, onsets = _flash_clip(rng)
        out.append(ReadoutClip(f"c{i}", encode_frames(encoder, frames, FPS), FPS, onsets))
    return out


def test_planted_onsets_are_read_out_and_random_features_are_not():
    planted = run_readout(_clips(FlashEncoder(), 0, 8), {"held out": _clips(FlashEncoder(), 1, 6)})
    held_out = planted.rows[1]
    assert held_out.name == "held out" and held_out.score.n_true == 30
    assert held_out.score.f1 >= 0.95 and held_out.score.median_abs_offset_ms < 5.0
    assert held_out.chance.f1 < 0.5                       # random features of the same clips
    noise = RandomEncoder(3)
    random = fit_readout(_clips(noise, 0, 8))
    score = score_readout(random, _clips(noise, 1, 6))
    assert score.f1 < 0.4 and held_out.score.f1 - score.f1 > 0.5


def test_whole_frames_reach_the_encoder(tmp_path):
    """A flash at the left edge of a 4:1 frame: a centre crop loses it, the squashed frame keeps it."""
    rng = np.random.default_rng(5)
    clips = []
    for i in range(6):
        frames, onsets = _flash_clip(rng)
        wide = np.repeat(frames, 4, axis=2)               # 16 x 64: the flash covers columns 0..15
        wide[:, :, 16:] = wide[:, :, 16:] // 3            # the rest stays dark
        path = write_frames(tmp_path / f"w{i}.mp4", np.repeat(np.repeat(wide, 2, 1), 2, 2), 24, crf=12)
        clips.append(EvalClip(f"w{i}", path, tmp_path / "none.flac", None, "", {"material": "x"},
                              [{"kind": "impact", "time": float(t)} for t in onsets], duration=96 / FPS))
    squashed = frames_squashed_for_encoder(clips[0].video, FPS, 16)
    assert squashed.shape == (96, 16, 16, 3)
    assert squashed[:, :, :4].mean() > 2 * squashed[:, :, 8:].mean()        # the left edge is still there
    cropped = frames_for_encoder(clips[0].video, FPS, 16)
    assert abs(cropped[:, :, :4].mean() - cropped[:, :, 8:].mean()) < 10      # a centre crop cut it away
    feats = clip_features(FlashEncoder(), clips)
    assert [f.features.shape for f in feats] == [(96, 8)] * 6
    report = run_readout(feats[:4], {"test": feats[4:]})
    assert report.rows[1].score.f1 >= 0.9


def test_motion_energy_peaks_where_motion_turns_round():
    """A square falling at constant speed and bouncing straight back up on frame 20: the second
    difference (the change of velocity) is largest on the bounce."""
    frames = np.zeros((40, 64, 64, 3), np.uint8)
    for t in range(40):
        y = 50 - 2 * abs(t - 20)
        frames[t, y:y + 8, 28:36] = 255
    feats = encode_frames(MotionEnergyEncoder(FPS, 64), frames, FPS)
    second_max = feats[:, -1]
    assert feats.shape == (40, 34) and int(np.argmax(second_max)) == 20


def test_readout_command_prints_its_table(tmp_path, tiny_model_folder, capsys):
    assert main(["eval", "ood-generate", str(tmp_path / "ood"), "--clips", "2", "--seconds", "2", "--scale",
                 "0.25"]) == 0
    manifest = tmp_path / "ood" / "manifest.jsonl"
    code = main(["eval", "readout", "--model", str(tiny_model_folder), "--fit", str(manifest),
                 "--test", str(manifest), "--json", str(tmp_path / "r.json"), "--threads", "1", "--motion-baseline"])
    out = capsys.readouterr().out
    assert code == 0 and "Linear onset read-out" in out and "| ood/ood (in-sample) | 2 |" in out
    model, motion = json.loads(Path(tmp_path / "r.json").read_text())
    assert [r["name"] for r in model["rows"]] == ["ood/ood (in-sample)", "ood/ood"]
    assert set(model["rows"][1]["groups"]) == {"bounce", "drop_slide"}
    assert "motion energy" in motion["encoder"] and motion["dim"] == 34
    assert main(["eval", "readout", "--model", str(tiny_model_folder), "--fit", f"{manifest}:train",
                 "--test", str(manifest)]) == 2
    assert "no video clips in the 'train' split" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
