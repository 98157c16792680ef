"""The procedural Foley world (v2): exact events, contacts that the geometry shows, randomised everything else,
a soundtrack with onsets on the event samples, and the files a world is written to.

Geometry tests run on plans only (no rendering): `actor.draw(t)` gives the primitives the picture draws.
Picture tests are in `test_world_picture.py`.
"""
from __future__ import annotations

import json
import math
from fractions import Fraction

import av
import numpy as np
import pytest
import soundfile as sf

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.media.manifest import read_manifest
from foley_studio.media.probe import probe
from foley_studio.training import world
from foley_studio.training.sources import SourceBank, SourceEntry, split_impacts
from foley_studio.training.source_rules import MATERIAL_WORDS
from foley_studio.training.world.actors import FAMILIES, STICK_HALF_WIDTH
from foley_studio.training.world.geometry import Box, Circle, lowest_point
from foley_studio.training.world.plan import visible_scale

MATERIALS = ["glass", "metal", "paper", "plastic", "stone", "wood"]
FLOORS = ["earth", "gravel", "stone", "wood"]
N_PLANS = 300
TOUCH = 1e-9                 # world units: "exactly" touching, up to float rounding


@pytest.fixture(scope="module")
def plans() -> list[world.Scene]:
    return [world.plan_scene(seed, MATERIALS, FLOORS) for seed in range(N_PLANS)]


def _actors(plans, family: str):
    """(scene, actor) for every actor of `family` in the plans."""
    found = [(sc, a) for sc in plans for a in sc.actors if a.family == family]
    assert len(found) >= 10, f"only {len(found)} {family} actors in {len(plans)} plans"
    return found


def _impacts(actor) -> list[world.Event]:
    return [e for e in actor.events if e.kind == world.ONSET_KIND]


def _box_distance(box: Box, x: float, y: float) -> float:
    """Signed distance (world units) from a point to a rotated box (negative inside)."""
    c, s = math.cos(box.angle), math.sin(box.angle)
    dx, dy = x - box.x, y - box.y
    qx, qy = abs(c * dx + s * dy) - box.hw, abs(-s * dx + c * dy) - box.hh
    return math.hypot(max(qx, 0.0), max(qy, 0.0)) + min(max(qx, qy), 0.0)


def _capsule_box_distance(stick, box: Box, n: int = 64) -> float:
    """Distance from a stick (capsule) to a box's surface, sampled along the stick's axis."""
    return min(_box_distance(box, stick.x0 + (stick.x1 - stick.x0) * k / n, stick.y0 + (stick.y1 - stick.y0) * k / n)
               for k in range(n + 1)) - stick.half_width


# --------------------------------------------------------------------------- the clock

def test_events_sit_exactly_on_frames_and_samples(plans):
    per_frame = {Fraction(24000, 1001): 2002, Fraction(24): 2000, Fraction(25): 1920, Fraction(30): 1600}
    for sc in plans:
        assert sc.fps in per_frame
        assert sc.n_frames == world.frame_count(sc.fps) == math.floor(world.DURATION * sc.fps)
        assert sc.events, sc.seed
        assert sc.events == sorted(sc.events, key=lambda e: (e.frame, e.kind))
        for e in sc.events:
            assert 0 <= e.frame < sc.n_frames
            assert isinstance(e.sample, int) and e.sample == e.frame * per_frame[sc.fps]
            assert Fraction(e.sample, SAMPLE_RATE) == Fraction(e.frame) / sc.fps
            assert e.time == float(Fraction(e.frame) / sc.fps)
            assert 0.15 <= e.strength <= 1.0
            if e.kind == world.ONSET_KIND:
                assert e.end_frame is None
            else:
                assert e.kind in ("scrape", "roll") and e.frame < e.end_frame < sc.n_frames
                assert e.end_sample == e.end_frame * per_frame[sc.fps]
            row = e.to_json()
            assert (row["frame"], row["sample"], row["kind"]) == (e.frame, e.sample, e.kind)


# --------------------------------------------------------------------------- contacts in the geometry

@pytest.mark.parametrize("family", ["drop", "slide"])
def test_dropped_objects_touch_the_floor_on_each_impact_frame(plans, family):
    for sc, actor in _actors(plans, family):
        hits = _impacts(actor)
        assert hits
        dt = float(1 / sc.fps)
        for e in hits:
            assert abs(lowest_point(actor.draw(e.time))) < TOUCH, (sc.seed, e)
        assert lowest_point(actor.draw(hits[0].time - 0.5 * dt)) > 0, sc.seed      # falling, not lying there
        assert lowest_point(actor.draw(0.0)) > 0
        for a, b in zip(hits, hits[1:]):                                          # in the air between bounces
            assert lowest_point(actor.draw(0.5 * (a.time + b.time))) > 0, (sc.seed, a, b)


def test_a_foot_lands_on_each_step(plans):
    for sc, actor in _actors(plans, "footsteps"):
        steps = _impacts(actor)
        assert len(steps) >= 3
        dt = float(1 / sc.fps)
        for i, e in enumerate(steps):
            legs = actor.draw(e.time)[:2]                   # the two legs; step i lands foot i % 2
            landing = lowest_point([legs[i % 2]])
            assert abs(landing) < TOUCH, (sc.seed, i, landing)
            assert lowest_point(actor.draw(e.time)) > -TOUCH     # nothing below the floor
            before = lowest_point([actor.draw(e.time - 0.5 * dt)[i % 2]])
            assert before > 0, (sc.seed, i, before)             # the foot comes down onto the step


def test_a_walker_always_has_a_foot_on_the_ground(plans):
    for sc, actor in _actors(plans, "footsteps"):
        steps = _impacts(actor)
        dt = float(1 / sc.fps)
        for t in np.arange(steps[0].time, steps[-1].time, 0.25 * dt):
            legs = actor.draw(float(t))[:2]
            assert min(lowest_point([leg]) for leg in legs) < TOUCH, (sc.seed, t)


def test_colliding_balls_meet_on_the_event_frame(plans):
    for sc, actor in _actors(plans, "collide"):
        (e,) = _impacts(actor)
        assert e.partner == actor.partner
        a, b = actor.draw(e.time)[:2]
        assert isinstance(a, Circle) and isinstance(b, Circle)
        gap = math.hypot(a.x - b.x, a.y - b.y) - a.r - b.r
        assert -TOUCH < gap * visible_scale(sc, actor, e.time) < 1.0, (sc.seed, gap)    # touching, to the pixel
        a, b = actor.draw(e.time - float(1 / sc.fps))[:2]
        assert math.hypot(a.x - b.x, a.y - b.y) > a.r + b.r + 0.01                       # apart the frame before


def test_colliding_balls_touch_exactly(plans):
    for sc, actor in _actors(plans, "collide"):
        a, b = actor.draw(_impacts(actor)[0].time)[:2]
        assert math.hypot(a.x - b.x, a.y - b.y) == pytest.approx(a.r + b.r, abs=TOUCH), sc.seed


def test_stick_touches_the_target_on_hit_frames_only(plans):
    for sc, actor in _actors(plans, "hit"):
        hits = _impacts(actor)
        assert len(hits) >= 2
        for e in hits:
            target, stick = actor.draw(e.time)
            cap = _box_distance(target, stick.x0, stick.y0) - stick.half_width    # the stick's end cap
            assert abs(cap) < 0.15 * STICK_HALF_WIDTH, (sc.seed, e, cap)
            assert _capsule_box_distance(stick, target) > -0.15 * STICK_HALF_WIDTH
        for a, b in zip(hits, hits[1:]):
            target, stick = actor.draw(0.5 * (a.time + b.time))
            assert _capsule_box_distance(stick, target) > 0.05, (sc.seed, a, b)   # lifted off between hits
        target, stick = actor.draw(hits[0].time - 0.1)
        assert _capsule_box_distance(stick, target) > 0.01


def _approach(actor) -> np.ndarray:
    """Unit direction from the target surface towards where the striker comes from (before the first hit)."""
    t = _impacts(actor)[0].time
    _, at = actor.draw(t)
    _, before = actor.draw(t - 0.1)
    d = np.array([before.x0 - at.x0, before.y0 - at.y0])
    return d / np.linalg.norm(d)


def test_strikers_come_from_above_the_side_and_below(plans):
    normals = np.array([_approach(a) for _, a in _actors(plans, "hit")])
    assert (normals[:, 1] > 0.85).sum() >= 5            # from above
    assert (normals[:, 1] < -0.85).sum() >= 5           # from below
    assert (normals[:, 0] > 0.85).sum() >= 3 and (normals[:, 0] < -0.85).sum() >= 3   # from the left and right


def test_strikers_stay_above_the_floor(plans):
    for sc, actor in _actors(plans, "hit"):
        for k in range(0, sc.n_frames, 2):
            stick = actor.draw(float(k / sc.fps))[1]
            assert lowest_point([stick]) > -0.01, (sc.seed, k)


def test_doors_lids_and_drawers_shut_on_the_event_frame(plans):
    kinds = set()
    for sc, actor in _actors(plans, "close"):
        (e,) = _impacts(actor)
        kinds.add(actor.word)
        shut = actor.draw(world.DURATION)                              # long after: at rest, closed
        assert actor.draw(e.time) == shut, sc.seed                      # closed exactly on the event frame...
        assert actor.draw(e.time - float(1 / sc.fps)) != shut, sc.seed  # ...and still moving one frame before
        assert actor.draw(0.0) != shut
    assert kinds == {"door", "lid", "drawer"}


def test_a_closed_lid_covers_its_box(plans):
    for sc, actor in _actors(plans, "close"):
        if actor.word == "lid":
            body, lid = actor.draw(world.DURATION)
            assert (lid.x - lid.hw, lid.x + lid.hw) == pytest.approx((body.x - body.hw, body.x + body.hw)), sc.seed


def test_rolling_ball_reaches_the_wall_on_the_knock_frame(plans):
    knocks = 0
    for sc, actor in _actors(plans, "roll"):
        spans = [e for e in actor.events if e.kind == "roll"]
        assert spans and spans[0].end_frame > spans[0].frame
        for e in _impacts(actor):
            ball, wall = actor.draw(e.time)[:2]
            assert abs(_box_distance(wall, ball.x, ball.y) - ball.r) < TOUCH, sc.seed
            assert abs(lowest_point([ball])) < TOUCH                                   # rolling on the floor
            ball, wall = actor.draw(e.time - float(1 / sc.fps))[:2]
            assert _box_distance(wall, ball.x, ball.y) - ball.r > 0
            knocks += 1
    assert knocks >= 5


# --------------------------------------------------------------------------- randomisation

def test_randomisation_spans_the_promised_ranges(plans):
    assert {sc.fps for sc in plans} == set(world.FRAME_RATES)
    sizes = {(sc.width, sc.height) for sc in plans}
    assert len(sizes) >= 6 and sizes <= set(world.FRAME_SIZES)
    assert any(h > w for w, h in sizes) and any(w > h for w, h in sizes) and any(w == h for w, h in sizes)
    floor = np.array([sc.camera.floor_row() / sc.height for sc in plans])
    assert floor.min() < 0.53 and floor.max() > 0.87 and np.percentile(floor, 5) > 0.45
    zoom = np.array([sc.camera.zoom for sc in plans])
    assert zoom.min() < 0.55 and zoom.max() > 1.45 and 0.5 <= zoom.min() and zoom.max() <= 1.5
    heights = np.array([sc.camera.cam_height for sc in plans])
    assert heights.max() - heights.min() > 0.8
    shaken = sum(sc.camera.shake_px > 0 for sc in plans)
    assert 0.15 * N_PLANS < shaken < 0.6 * N_PLANS
    following = [sc for sc in plans if sc.camera.follow is not None]
    assert following and all(sc.action == "footsteps" for sc in following)
    assert any(sc.camera.drift for sc in plans) and any(sc.camera.zoom_rate for sc in plans)
    assert {sc.action for sc in plans} == set(FAMILIES)
    assert {sc.actors[0].family for sc in plans} == set(FAMILIES)
    assert sum(len(sc.sounding) >= 2 for sc in plans) > 0.15 * N_PLANS
    assert any(len(sc.sounding) == 3 for sc in plans)
    silent = [a for sc in plans for a in sc.actors if a.family == "silent"]
    assert {a.word for a in silent} == {"place", "pendulum", "pass", "float"}
    assert all(not a.sounding and not a.events for a in silent)
    assert sum(any(a.family == "occluder" for a in sc.actors) for sc in plans) > 0.1 * N_PLANS
    assert any(sc.actors[-1].z < 0 for sc in plans if sc.actors[-1].family == "occluder")
    assert {sc.style.wall for sc in plans} >= {"plain", "tiles", "bricks", "photo", "busy"}
    assert {sc.style.noise for sc in plans} >= {0.0, 6.0} and {sc.style.blur_samples for sc in plans} == {1, 3}
    assert len({sc.material for sc in plans}) >= 6


def test_captions_name_what_sounds(plans):
    for sc in plans:
        head = sc.actors[0]
        assert sc.caption and MATERIAL_WORDS[head.material] in sc.caption, (sc.seed, sc.caption)
        assert (sc.action, sc.material) == (head.family, head.material)
        assert sc.caption.count(", and ") == (len(sc.sounding) > 1)
        if sc.action == "footsteps":
            assert sc.material == sc.floor_material and sc.caption.startswith("footsteps on")


# --------------------------------------------------------------------------- determinism

def test_the_same_seed_gives_the_same_plan(plans):
    for seed in (0, 7, 123, 299):
        again = world.plan_scene(seed, MATERIALS, FLOORS)
        first = plans[seed]
        assert again.events == first.events and again.caption == first.caption
        assert (again.fps, again.width, again.height) == (first.fps, first.width, first.height)
        assert world.scene_meta(again) == world.scene_meta(first)
        t = 1.37
        for a, b in zip(again.actors, first.actors):
            assert a.draw(t) == b.draw(t)
    different = {(tuple(sc.events), sc.caption) for sc in plans}
    assert len(different) == N_PLANS
    assert len({json.dumps(world.scene_meta(sc), sort_keys=True) for sc in plans}) == N_PLANS


def test_split_of_is_stable_and_covers_all_splits():
    splits = [world.split_of(s) for s in range(1000)]
    assert splits.count("train") == 800 and splits.count("val") == 100 and splits.count("test") == 100
    assert [world.split_of(s) for s in (0, 8, 9, 18, 19, 1_000_009)] == ["train", "val", "test", "val", "test", "test"]


# --------------------------------------------------------------------------- sound

def _clean_recording(path, rng, decay: float) -> None:
    """A fake recording: three short noise bursts, each followed by more silence than a grain is long."""
    sr = 44_100
    t = np.arange(int(0.1 * sr)) / sr
    burst = rng.normal(0, 0.4, t.size) * np.exp(-t / decay)
    x = np.concatenate([np.zeros(sr // 10)] + [burst, np.zeros(sr)] * 3)
    sf.write(str(path), x.astype(np.float32), sr)


@pytest.fixture(scope="module")
def impact_bank(tmp_path_factory) -> SourceBank:
    """Impacts only (no footsteps, closes or textures), with sharp onsets and 10 ms decays."""
    root = tmp_path_factory.mktemp("sources")
    rng = np.random.default_rng(1)
    entries = []
    for material in ("metal", "wood"):
        _clean_recording(root / f"{material}.wav", rng, 0.01)
        entries.append(SourceEntry(str(root / f"{material}.wav"), material, "impact", "test", ""))
    return SourceBank(entries)


def _onset_only_scenes(bank: SourceBank, families: tuple[str, ...]) -> list[world.Scene]:
    """The first onset-only scene (no friction or rolling) with each family as primary."""
    materials, found = sorted(bank.materials), {}
    for seed in range(400):
        sc = world.plan_scene(seed, materials)
        if sc.action in families and sc.action not in found and all(e.kind == world.ONSET_KIND for e in sc.events):
            found[sc.action] = sc
    assert set(found) == set(families)
    return [found[f] for f in families]


def _rise(audio: np.ndarray, at: int) -> int:
    """Where (relative to `at`) the signal first reaches half the peak of the 5 ms after `at`, from 10 ms before."""
    peak = np.abs(audio[at: at + 240]).max()
    start = at - 480
    return int(np.argmax(np.abs(audio[start: at + 240]) >= 0.5 * peak)) + start - at


def test_soundtrack_onsets_land_on_the_event_samples(impact_bank):
    scenes = _onset_only_scenes(impact_bank, ("drop", "hit", "collide", "footsteps", "close"))
    for sc in scenes:
        audio = world.render_audio(sc, impact_bank)
        assert audio.shape == (world.N_SAMPLES,) == (8 * SAMPLE_RATE,) and audio.dtype == np.float32
        assert 0.3 < np.abs(audio).max() <= 1.0
        samples = sorted({e.sample for e in sc.events})
        for at in samples:
            rise = _rise(audio, at)
            assert 0 <= rise <= 3 * SAMPLE_RATE // 1000, (sc.seed, sc.action, at, rise)    # within 3 ms after
            after, before = np.abs(audio[at: at + 240]).max(), np.abs(audio[at - 480: at]).max()
            assert after > 20 * before, (sc.seed, at, after, before)                       # quiet just before
        # and no onset anywhere else: every sharp rise of the 5 ms envelope is at an event
        env = np.abs(audio[: len(audio) // 240 * 240]).reshape(-1, 240).max(axis=1)
        rises = np.flatnonzero((env[1:] > 4 * env[:-1]) & (env[1:] > 0.1 * env.max())) + 1
        for block in rises:
            assert min(abs(block * 240 - s) for s in samples) <= 480, (sc.seed, block * 240, samples)
        for at in samples:
            assert np.abs(rises * 240 - at).min() <= 480, (sc.seed, at)


def test_missing_footstep_and_close_recordings_fall_back_to_impacts(impact_bank):
    assert not any(s.footsteps or s.closes for s in impact_bank.materials.values())
    steps, close = _onset_only_scenes(impact_bank, ("footsteps", "close"))
    for sc in (steps, close):
        audio = world.render_audio(sc, impact_bank)
        assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
        for e in sc.events:
            assert np.abs(audio[e.sample: e.sample + 480]).max() > 0.02, (sc.seed, e)


def test_soundtrack_is_deterministic(impact_bank):
    scene = world.plan_scene(11, sorted(impact_bank.materials))
    np.testing.assert_array_equal(world.render_audio(scene, impact_bank),
                                  world.render_audio(world.plan_scene(11, sorted(impact_bank.materials)), impact_bank))
    assert not np.array_equal(world.render_audio(scene, impact_bank),
                              world.render_audio(world.plan_scene(12, sorted(impact_bank.materials)), impact_bank))


def test_low_quality_copy_is_band_limited_noisy_and_bounded(impact_bank):
    scene = world.plan_scene(7, sorted(impact_bank.materials))
    hq = world.render_audio(scene, impact_bank)
    lq, meta = world.degrade(hq, 7)
    assert lq.shape == hq.shape and lq.dtype == np.float32 and np.abs(lq).max() <= 1.0
    assert meta["cutoff_hz"] in (4000, 5500, 8000) and 18 <= meta["snr_db"] <= 30 and 1 <= meta["drive"] <= 3
    spec_hq, spec_lq = np.abs(np.fft.rfft(hq)) ** 2, np.abs(np.fft.rfft(lq)) ** 2
    band = np.fft.rfftfreq(hq.size, 1 / SAMPLE_RATE) > meta["cutoff_hz"] + 1500
    assert spec_lq[band].sum() / spec_lq.sum() < 0.1 * spec_hq[band].sum() / spec_hq.sum()
    quiet = np.abs(hq) < 1e-3 * np.abs(hq).max()
    assert np.std(lq[quiet]) > 3 * np.std(hq[quiet])                      # hiss and hum fill the gaps
    again, meta_again = world.degrade(hq, 7)
    np.testing.assert_array_equal(lq, again)
    assert meta_again == meta


def test_splits_impacts_at_onsets():
    x = np.zeros(SAMPLE_RATE, np.float32)
    for at in (4_800, 24_000):
        x[at: at + 2_400] = np.exp(-np.arange(2_400) / 300.0)
    grains = split_impacts(x)
    assert len(grains) == 2
    for g in grains:
        assert int(np.argmax(np.abs(g) >= 0.5)) == SAMPLE_RATE // 1000     # 1 ms pre-roll, then the hit


# --------------------------------------------------------------------------- files

GEN_SEED = 39                # clips 39 (23.976 fps, test split) and 40 (30 fps, train), audio-only 41


def test_generate_world_writes_manifest_and_media(impact_bank, tmp_path):
    manifest = world.generate_world(world.WorldSpec(n=2, seed=GEN_SEED, audio_only=1), tmp_path, impact_bank)
    rows = read_manifest(manifest)
    assert [r.quality for r in rows] == ["high", "low", "high", "low", "high"]
    assert rows[-1].video is None and rows[0].video == rows[1].video != rows[2].video
    materials = sorted(impact_bank.materials)
    scenes = [world.plan_scene(GEN_SEED + i, materials) for i in range(3)]
    assert scenes[0].fps == Fraction(24000, 1001) and scenes[1].fps == 30
    for row, sc in zip(rows, [scenes[0], scenes[0], scenes[1], scenes[1], scenes[2]]):
        meta = row.meta
        assert meta["world_version"] == world.WORLD_VERSION == 2 and meta["seed"] == sc.seed
        assert meta["fps_rational"] == f"{sc.fps.numerator}/{sc.fps.denominator}" and meta["fps"] == float(sc.fps)
        assert (meta["width"], meta["height"]) == (sc.width, sc.height)
        assert [a["family"] for a in meta["actors"]] == [a.family for a in sc.actors]
        assert meta["action"] == sc.action and meta["material"] in impact_bank.materials
        assert row.caption == sc.caption and row.split == world.split_of(sc.seed) and row.duration == world.DURATION
        assert row.events == [e.to_json() for e in sc.events]
        for ev in row.events:
            assert Fraction(ev["sample"]) == Fraction(ev["frame"]) * SAMPLE_RATE / sc.fps
        audio, sr = sf.read(str(row.audio_path(tmp_path)))
        assert sr == SAMPLE_RATE and audio.shape == (world.N_SAMPLES,) and np.abs(audio).max() > 0.01
    assert [rows[0].split, rows[2].split] == ["test", "train"]
    assert {"cutoff_hz", "snr_db", "drive"} <= set(rows[1].meta) and "cutoff_hz" not in rows[0].meta
    for row, sc in ((rows[0], scenes[0]), (rows[2], scenes[1])):
        info = probe(row.video_path(tmp_path))
        assert info.fps == sc.fps and (info.width, info.height) == (sc.width, sc.height)
        assert info.n_frames == sc.n_frames == world.frame_count(sc.fps)
        with av.open(str(row.video_path(tmp_path))) as container:
            assert sum(1 for _ in container.decode(video=0)) == sc.n_frames
    described = json.loads((tmp_path / "world.json").read_text())
    assert described["world_version"] == 2 and described["families"] == list(FAMILIES)
    assert described["frame_rates"] == ["24000/1001", "24/1", "25/1", "30/1"]
    assert described["materials"] == materials and described["n"] == 2 and described["audio_only"] == 1
    assert len(described["sources"]) == 2


def test_cli_generates_a_world_from_the_demo_library(tmp_path, capsys):
    from foley_studio.cli import main

    assert main(["world", "generate", "--n", "0", "--audio-only", "1", "--seed", "9", "--sources", "library",
                 "--out", str(tmp_path)]) == 0
    manifest = tmp_path / "manifest.jsonl"
    assert capsys.readouterr().out.strip() == str(manifest)
    (row,) = read_manifest(manifest)
    assert row.split == "test" and row.video is None and row.meta["world_version"] == 2   # seed 9 -> test split
    assert sf.info(str(row.audio_path(tmp_path))).frames == world.N_SAMPLES
    assert json.loads((tmp_path / "world.json").read_text())["sources"][0]["licence"]
