"""The procedural Foley world: deterministic, and its events match the picture and the sound exactly."""
from __future__ import annotations

import json

import av
import numpy as np
import pytest
import soundfile as sf

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.training import world
from foley_studio.media.manifest import read_manifest
from foley_studio.training.sources import SourceBank, SourceEntry, classify, split_impacts


def _recording(path, rng, n_hits: int, decay: float) -> None:
    """A fake 'recording': a few decaying noise bursts separated by silence, at 44.1 kHz."""
    sr = 44_100
    x = np.zeros(int(0.4 * sr * n_hits), np.float32)
    for i in range(n_hits):
        t = np.arange(int(0.3 * sr)) / sr
        burst = rng.normal(0, 1, t.size) * np.exp(-t / decay)
        x[int(i * 0.4 * sr): int(i * 0.4 * sr) + t.size] += 0.5 * burst
    sf.write(str(path), x, sr)


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    rng = np.random.default_rng(0)
    entries = []
    for material, decay in (("metal", 0.08), ("wood", 0.02), ("paper", 0.01)):
        path = root / f"{material}.wav"
        _recording(path, rng, 3, decay)
        entries.append(SourceEntry(str(path), material, "impact", "test", ""))
    return SourceBank(entries)


def _object_bottom_rows(scene: world.Scene) -> np.ndarray:
    """Lowest pixel row of whatever moves, per frame, measured on the rendered pixels."""
    background = world.render_background(scene).astype(np.uint8)
    rows = []
    for k in range(world.N_FRAMES):
        diff = np.abs(world.render_frame(scene, world.render_background(scene), k).astype(int) - background).sum(-1)
        ys = np.flatnonzero(diff.max(axis=1) > 0)
        rows.append(ys.max() if ys.size else -1)
    return np.array(rows)


def test_splits_impacts_at_onsets():
    x = np.zeros(SAMPLE_RATE, np.float32)
    for at in (4_800, 24_000):
        x[at: at + 2_400] = np.hanning(2_400) * 0 + np.exp(-np.arange(2_400) / 300.0)
    grains = split_impacts(x)
    assert len(grains) == 2
    for g in grains:
        onset = int(np.argmax(np.abs(g) >= 0.5))
        assert onset == SAMPLE_RATE // 1000     # 1 ms pre-roll, then the hit


def test_classify_rules():
    assert classify("/c/bucklespring-data/usr/share/buckle/wav/17-0.wav", "")[:2] == ("plastic", "impact")
    assert classify("/lib/x.flac", '"Cash till"')[0] == "metal"
    assert classify("/lib/y.flac", "Sheep") is None


def test_generation_is_deterministic(bank):
    materials = sorted(bank.materials)
    a, b = world.plan_scene(1234, materials), world.plan_scene(1234, materials)
    assert a.caption == b.caption and a.events == b.events
    np.testing.assert_array_equal(world.render_frame(a, world.render_background(a), 50),
                                  world.render_frame(b, world.render_background(b), 50))
    np.testing.assert_array_equal(world.render_audio(a, bank), world.render_audio(b, bank))
    c = world.plan_scene(1235, materials)
    assert (c.events != a.events) or (c.caption != a.caption) or (c.material != a.material)


@pytest.mark.parametrize("action", ["drop", "hit"])
def test_impact_frames_touch_the_surface(bank, action):
    materials = sorted(bank.materials)
    seed = next(s for s in range(500) if world.plan_scene(s, materials).action == action)
    scene = world.plan_scene(seed, materials)
    bottoms = _object_bottom_rows(scene)
    contact_row = world.FLOOR_Y - 1 if action == "drop" else world.FLOOR_Y - 11
    impact_frames = [e.frame for e in scene.events if e.kind == "impact"]
    assert len(impact_frames) >= 3
    for e in scene.events:
        assert e.frame == round(e.time * world.FPS)
        assert bottoms[e.frame] == contact_row, (e, bottoms[e.frame - 2: e.frame + 3])
    # and it touches nowhere else (frames right next to a contact may still be < 1 px above it;
    # a dropped object comes to rest after its last bounce)
    touching = np.flatnonzero(bottoms == contact_row)
    if action == "drop":
        touching = touching[touching <= impact_frames[-1]]
    nearest = np.min(np.abs(touching[:, None] - np.array(impact_frames)[None, :]), axis=1)
    assert nearest.max() <= 2, touching[nearest > 2]


def test_sound_onsets_at_event_samples(bank):
    materials = sorted(bank.materials)
    seed = next(s for s in range(500) if world.plan_scene(s, materials).action == "hit")
    scene = world.plan_scene(seed, materials)
    audio = world.render_audio(scene, bank)
    assert audio.shape == (world.N_SAMPLES,) and np.abs(audio).max() <= 1.0
    for e in scene.events:
        at = e.frame * SAMPLE_RATE // world.FPS
        before = np.abs(audio[at - 480: at - 48]).max()       # 10 ms .. 1 ms before
        after = np.abs(audio[at: at + 480]).max()             # the first 10 ms
        assert after > 3 * before, (e, before, after)


def test_low_quality_copy_is_band_limited(bank):
    scene = world.plan_scene(7, sorted(bank.materials))
    hq = world.render_audio(scene, bank)
    lq, meta = world.degrade(hq, 7)
    spec_hq, spec_lq = np.abs(np.fft.rfft(hq)) ** 2, np.abs(np.fft.rfft(lq)) ** 2
    freqs = np.fft.rfftfreq(hq.size, 1 / SAMPLE_RATE)
    band = freqs > meta["cutoff_hz"] + 1500
    assert spec_lq[band].sum() / spec_lq.sum() < 0.1 * spec_hq[band].sum() / spec_hq.sum()


def test_generate_world_writes_manifest_and_media(bank, tmp_path):
    manifest = world.generate_world(world.WorldSpec(n=2, seed=40, audio_only=1), tmp_path, bank)
    rows = read_manifest(manifest)
    assert [r.quality for r in rows] == ["high", "low", "high", "low", "high"]
    assert rows[-1].video is None and rows[0].video == rows[1].video
    for row in rows:
        audio, sr = sf.read(str(row.audio_path(tmp_path)))
        assert sr == SAMPLE_RATE and audio.shape == (world.N_SAMPLES,)
        assert row.events and row.caption and row.meta["material"] in bank.materials
    with av.open(str(rows[0].video_path(tmp_path))) as c:
        stream = c.streams.video[0]
        assert stream.average_rate == world.FPS and (stream.width, stream.height) == (world.SIZE, world.SIZE)
        assert sum(1 for _ in c.decode(video=0)) == world.N_FRAMES
    info = json.loads((tmp_path / "world.json").read_text())
    assert info["materials"] == sorted(bank.materials) and len(info["sources"]) == 3
    assert {world.split_of(s) for s in range(20)} == {"train", "val", "test"}


def test_cli_generates_a_world_from_the_demo_library(tmp_path, capsys):
    from foley_studio.cli import main

    assert main(["world", "generate", "--n", "1", "--audio-only", "1", "--seed", "9", "--sources", "library",
                 "--out", str(tmp_path)]) == 0
    manifest = tmp_path / "manifest.jsonl"
    assert capsys.readouterr().out.strip() == str(manifest)
    rows = read_manifest(manifest)
    assert len(rows) == 3 and rows[0].split == "test"                  # seed 9 -> test split
    assert json.loads((tmp_path / "world.json").read_text())["sources"][0]["licence"]
