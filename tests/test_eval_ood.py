"""The out-of-domain split: exact contacts from geometry, pixels that touch, deterministic files the
evaluation loader reads, and the command that writes them."""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from foley_studio.cli import main
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.eval.data import load_eval_clips
from foley_studio.eval.ood import OOD_SPLIT, SCENE_KINDS, OODSpec, contact_onsets, event_json, plan_clip
from foley_studio.eval.ood.draw import paint
from foley_studio.eval.sync import detect_onsets, onset_scores
from foley_studio.media.audio import read_audio
from foley_studio.media.manifest import read_manifest
from foley_studio.media.probe import probe

TINY = dict(seconds=2.0, scale=0.25)          # 2 s clips at a quarter of the real frame sizes


@pytest.mark.parametrize("index", range(2 * len(SCENE_KINDS)))
def test_contacts_close_exactly_on_the_event_frames(index):
    scene = plan_clip(OODSpec(n=2 * len(SCENE_KINDS), seed=3, seconds=3.0), index)
    assert scene.kind == SCENE_KINDS[index % len(SCENE_KINDS)]
    n = scene.framing.n_frames
    assert scene.events, f"{scene.kind} planned no event"
    from_geometry = sorted(int(k) for gap in scene.contacts.values() for k in contact_onsets(gap))
    assert from_geometry == scene.event_frames
    for gap in scene.contacts.values():
        assert gap.shape == (n,) and gap.min() >= -1e-9           # surfaces never pass through each other
    for event in scene.events:
        assert 1 <= event.frame < n
        row = event_json(event, scene.framing)
        exact = Fraction(event.frame) / scene.framing.fps
        assert row["kind"] == "impact" and Fraction(row["time_exact"]) == exact and row["time"] == float(exact)
        assert row["sample"] == exact * SAMPLE_RATE                 # a whole sample, exactly


def _lowest_ball_row(scene, k: int) -> float:
    """Lowest picture row the ball's drawn pixels cover (coverage > 1/2) on frame k, shadow left out."""
    f = scene.framing
    frame = np.zeros((f.height, f.width, 3), np.float32)
    ball = [replace(s, colour=(255.0, 255.0, 255.0), shading="flat", pattern=None)
            for s in scene.actors(float(k)) if s.shading == "sphere"]
    paint(frame, [ball], (int(scene.crop.x[k]), int(scene.crop.y[k])))
    rows = np.flatnonzero(frame[..., 0].max(axis=1) > 127.5)
    return float(rows.max() + 1) if len(rows) else -1.0


def test_the_drawn_ball_touches_the_floor_on_event_frames_only():
    scene = plan_clip(OODSpec(n=1, seed=5), 0)
    assert scene.kind == "bounce"
    for c in scene.event_frames:
        floor = scene.camera.origin_y - scene.crop.y[c]              # the floor row in this frame's picture
        assert abs(_lowest_ball_row(scene, c) - floor) <= 1.0
        before = scene.camera.origin_y - scene.crop.y[c - 1]
        assert _lowest_ball_row(scene, c - 1) < before - 1.0         # in the air on the frame before


def test_generate_is_deterministic_and_the_eval_loader_reads_it(tmp_path, capsys):
    code = main(["eval", "ood-generate", str(tmp_path / "a"), "--clips", "2", "--seed", "1", "--seconds", "2",
                 "--scale", "0.25"])
    assert code == 0 and "manifest:" in capsys.readouterr().out
    from foley_studio.eval.ood import generate_ood
    generate_ood(OODSpec(n=2, seed=1, **TINY), tmp_path / "b")
    for rel in ["manifest.jsonl", "video/ood0000.mp4", "video/ood0001.mp4", "audio/ood0000.flac"]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel

    manifest = tmp_path / "a" / "manifest.jsonl"
    rows = read_manifest(manifest)
    assert [r.split for r in rows] == [OOD_SPLIT, OOD_SPLIT] and all(r.quality == "high" for r in rows)
    clips = load_eval_clips(manifest, OOD_SPLIT)
    assert [c.id for c in clips] == ["ood0000", "ood0001"]
    for clip, row in zip(clips, rows):
        assert clip.is_impact_clip and len(clip.onset_times) == len(row.events) > 0
        info = probe(clip.video)
        fps = Fraction(row.meta["fps"])
        assert info.fps == fps and info.n_frames == row.meta["frames"]
        assert (info.width, info.height) == (row.meta["width"], row.meta["height"])
        audio = read_audio(clip.audio_hq)
        assert len(audio) == row.meta["frames"] * SAMPLE_RATE / fps and abs(clip.duration - len(audio) / SAMPLE_RATE) < 1e-9
        # the reference sound starts where the picture's contact is
        assert onset_scores(detect_onsets(audio), clip.onset_times, 0.01).f1 >= 0.8
    with pytest.raises(Exception, match="no video clips in the 'test' split"):
        load_eval_clips(manifest, "test")


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["eval", "ood-generate", "out", "--clips", "0"])
    assert "--clips" in capsys.readouterr().err
    assert main(["eval", "--model", "demo"]) == 2
    assert "needs --data MANIFEST and --out DIR" in capsys.readouterr().err
