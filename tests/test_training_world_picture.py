"""The procedural Foley world's picture: frames of the scene's size, objects drawn where the camera projects them
(touching the floor line on impact frames), and rendering that is a pure function of the seed.

Only a few frames of small scenes are rendered. Measurements use a clean copy of a scene's style (no sensor
noise, flicker, blur or defocus) so that a pixel either shows the backdrop or an actor.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from foley_studio.training import world
from foley_studio.training.world import Painter
from foley_studio.training.world.geometry import Box, Circle, lowest_point

MATERIALS = ["metal", "stone", "wood"]


def _scene(seed: int) -> world.Scene:
    return world.plan_scene(seed, MATERIALS)


def _seeds(where, n: int, limit: int = 300) -> list[int]:
    found = [s for s in range(limit) if where(_scene(s))]
    assert len(found) >= n
    return found[:n]


def _clean(scene: world.Scene, actors: list) -> world.Scene:
    style = dataclasses.replace(scene.style, noise=0.0, flicker=0.0, blur_samples=1, defocus=0.0)
    return dataclasses.replace(scene, style=style, actors=actors)


def _changed(painter: Painter, k: int) -> np.ndarray:
    """Pixels of frame k that differ from the backdrop (the frame is the float backdrop, truncated to uint8)."""
    t = float(k / painter.scene.fps)
    return (np.abs(painter.frame(k).astype(np.float32) - painter.background(t)) > 1.5).any(axis=-1)


def _projected_bounds(scene: world.Scene, z: float, prim, t: float) -> tuple[float, float, float, float]:
    """(col0, col1, row0, row1) of the primitive in the frame, in continuous pixel coordinates."""
    if isinstance(prim, Circle):
        pts = [(prim.x + dx * prim.r, prim.y + dy * prim.r)
               for dx, dy in ((math.cos(a), math.sin(a)) for a in np.linspace(0, 2 * np.pi, 64))]
    else:
        assert isinstance(prim, Box)
        c, s = math.cos(prim.angle), math.sin(prim.angle)
        pts = [(prim.x + c * u - s * v, prim.y + s * u + c * v)
               for u in (-prim.hw, prim.hw) for v in (-prim.hh, prim.hh)]
    px = [scene.camera.project(x, y, z, t)[:2] for x, y in pts]
    cols, rows = [p[0] for p in px], [p[1] for p in px]
    return min(cols), max(cols), min(rows), max(rows)


def _mask_bounds(mask: np.ndarray) -> tuple[float, float, float, float]:
    rows, cols = np.nonzero(mask)
    return cols.min(), cols.max() + 1.0, rows.min(), rows.max() + 1.0


def test_frames_have_the_scene_size_and_show_a_textured_backdrop():
    portrait = _seeds(lambda sc: sc.height > sc.width, 1)[0]
    landscape = _seeds(lambda sc: sc.width > sc.height, 1)[0]
    for seed in (portrait, landscape):
        scene = _scene(seed)
        painter = Painter(scene)
        frame = painter.frame(0)
        assert frame.shape == (scene.height, scene.width, 3) and frame.dtype == np.uint8
        assert painter.background(0.0).shape == frame.shape
        assert frame.std() > 5 and len(np.unique(frame.reshape(-1, 3), axis=0)) > 100
        floor_row = int(scene.camera.floor_row())
        if 4 <= floor_row < scene.height - 4:                       # backdrop above the floor line, floor below
            wall, floor = frame[: floor_row - 2].reshape(-1, 3), frame[floor_row + 2:].reshape(-1, 3)
            assert np.abs(wall.mean(0) - floor.mean(0)).max() > 3


def _drop_scenes(per_shape: int = 2) -> list[tuple[world.Scene, object]]:
    """Clean scenes holding only their primary drop actor (balls and boxes), whose floor line is in the frame."""
    found: dict[type, list] = {Circle: [], Box: []}
    for seed in range(300):
        sc = _scene(seed)
        if sc.action != "drop":
            continue
        actor = sc.actors[0]
        edge = sc.camera.project(0.0, 0.0, actor.z, 0.0)[1]
        shape = found[type(actor.draw(0.0)[0])]
        if 3 < edge < sc.height - 3 and len(shape) < per_shape:
            shape.append((_clean(sc, [actor]), actor))
    assert all(len(v) == per_shape for v in found.values())
    return found[Circle] + found[Box]


@pytest.fixture
def no_shadows(monkeypatch):
    """Contact shadows darken the floor under an object; without them only the object itself changes pixels."""
    monkeypatch.setattr(Painter, "_shadow", lambda self, img, prim, z, t: None)


def test_a_dropped_object_is_drawn_where_the_camera_projects_it(no_shadows):
    for scene, actor in _drop_scenes():
        painter = Painter(scene)
        for k in (0, actor.events[0].frame):
            t = float(k / scene.fps)
            (prim,) = actor.draw(t)
            col, row, _ = scene.camera.project(prim.x, prim.y, actor.z, t)
            assert 0 <= col < scene.width and 0 <= row < scene.height, (scene.seed, k)
            mask = _changed(painter, k)
            assert mask[int(row), int(col)], (scene.seed, k)               # the centre shows the object
            want = _projected_bounds(scene, actor.z, prim, t)
            got = _mask_bounds(mask)
            for w, g, limit in zip(want, got, (0, scene.width, 0, scene.height)):
                if 1 < w < limit - 1:                                    # edges cut by the frame border aside
                    assert abs(w - g) <= 1.5, (scene.seed, k, want, got)


def test_a_dropped_object_meets_the_floor_line_on_its_impact_frame(no_shadows):
    for scene, actor in _drop_scenes():
        painter = Painter(scene)
        first = actor.events[0].frame
        assert lowest_point(actor.draw(float(first // 2 / scene.fps))) > 0
        for k, touching in ((first, True), (first // 2, False)):               # on the floor; up in the air
            t = float(k / scene.fps)
            floor_edge = scene.camera.project(0.0, 0.0, actor.z, t)[1]
            bottom = _mask_bounds(_changed(painter, k))[3]
            if touching:
                assert abs(bottom - floor_edge) <= 1.0, (scene.seed, k, bottom, floor_edge)
            else:
                assert bottom < floor_edge - 2.0, (scene.seed, k, bottom, floor_edge)


def test_rendering_is_a_pure_function_of_the_seed():
    seed = _seeds(lambda sc: sc.style.noise > 0 and sc.width * sc.height <= 160 * 120, 1)[0]
    a, b = _scene(seed), _scene(seed)
    frames = (0, a.events[0].frame)
    pa, pb = Painter(a), Painter(b)
    for k in frames:
        np.testing.assert_array_equal(pa.frame(k), pb.frame(k))
    other = _scene(seed + 1)
    po = Painter(other)
    for k in frames:
        f, g = pa.frame(k), po.frame(k)
        assert f.shape != g.shape or np.abs(f.astype(int) - g).mean() > 5
