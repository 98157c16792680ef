"""Planning a scene: everything that is not the event is drawn at random, the events are exact.

A scene is a camera (frame size, zoom, floor height, tilt, drift, shake, maybe following a walker),
1-3 sounding actors from the Foley families, 0-2 silent ones, maybe an occluder, and a picture style
(backdrop, floor, noise, flicker, blur, compression). All of it is a pure function of the seed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from foley_studio.training.source_rules import MATERIAL_WORDS

from .actors import FAMILIES, Actor, Stage, make_family, make_occluder, make_silent
from .geometry import Camera, Event, depth_scale

DURATION = 8.0
FRAME_RATES = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30))
FRAME_SIZES = ((192, 108), (160, 120), (128, 128), (224, 126), (108, 192), (256, 144), (176, 132), (144, 144),
               (240, 136), (120, 160))
FAMILY_WEIGHTS = {"drop": 0.2, "hit": 0.2, "slide": 0.1, "roll": 0.09, "scrape": 0.09, "footsteps": 0.13,
                  "close": 0.1, "collide": 0.09}
WALL_STYLES = ("plain", "tiles", "bricks", "panels", "photo", "busy")
FLOOR_STYLES = ("planks", "tiles", "noise", "speckle")
FLOOR_LOOK_MATERIAL = {"planks": "wood", "tiles": "stone", "noise": "earth", "speckle": "gravel"}


@dataclass
class PictureStyle:
    wall: str
    floor: str
    wall_depth: float
    noise: float              # sensor noise, uint8 units RMS
    flicker: float            # exposure flicker, relative RMS
    blur_samples: int         # motion-blur sub-frames (1: none)
    defocus: float            # gaussian sigma in px
    crf: int


@dataclass
class Scene:
    seed: int
    fps: Fraction
    n_frames: int
    width: int
    height: int
    camera: Camera
    actors: list[Actor]
    floor_material: str
    style: PictureStyle
    caption: str
    material: str              # the primary sounding actor's
    action: str
    object_word: str
    events: list[Event] = field(default_factory=list)

    @property
    def sounding(self) -> list[Actor]:
        return [a for a in self.actors if a.sounding]


def frame_count(fps: Fraction, duration: float = DURATION) -> int:
    return int(math.floor(Fraction(duration) * fps))


def _camera(rng: np.random.Generator, width: int, height: int) -> Camera:
    zoom = float(rng.uniform(0.5, 1.5))
    floor_frac = float(rng.uniform(0.5, 0.9))       # the floor line at depth 0, as a fraction of the frame height
    cam_height = float(rng.uniform(0.25, 1.4))
    horizon = floor_frac - cam_height * zoom / 4.0
    cam = Camera(width, height, zoom, cam_height, horizon, x0=float(rng.normal(0, 0.3)),
                 drift=float(rng.normal(0, 0.05)) if rng.random() < 0.5 else 0.0,
                 zoom_rate=float(rng.normal(0, 0.02)) if rng.random() < 0.3 else 0.0,
                 shake_px=float(rng.uniform(0.3, 2.5)) if rng.random() < 0.35 else 0.0)
    cam.seed_shake(rng)
    return cam


def _stage(rng: np.random.Generator, cam: Camera, fps: Fraction, n_frames: int, floor: str) -> Stage:
    x_lo, x_hi, y_top = cam.view(0.0, 0.0)
    margin = 0.08 * (x_hi - x_lo)
    return Stage(fps, n_frames, x_lo + margin, x_hi - margin, max(0.8, 0.9 * y_top), floor,
                 gravity=float(rng.uniform(4.0, 14.0)))


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def describe(actor: Actor) -> str:
    """How an actor sounds, in the words a sound designer would type."""
    adj = MATERIAL_WORDS.get(actor.material, actor.material)
    w = actor.word
    if actor.family == "drop":
        return f"a {adj} {w} dropped, bouncing" if len(actor.events) > 1 else f"a {adj} {w} dropped on the floor"
    if actor.family == "slide":
        return f"a {adj} {w} dropped, sliding to a stop"
    if actor.family == "hit":
        return f"hitting a {adj} {w}"
    if actor.family == "roll":
        return f"a {adj} ball rolling" + (" into a wall" if len(actor.events) > 1 else "")
    if actor.family == "scrape":
        return f"scraping a {adj} {w} across the floor"
    if actor.family == "footsteps":
        return f"footsteps on {adj}" if actor.material in ("earth", "gravel") else f"footsteps on a {adj} floor"
    if actor.family == "close":
        return f"a {adj} {w} closing"
    if actor.family == "collide":
        other = MATERIAL_WORDS.get(actor.partner or actor.material, actor.partner)
        return f"two {adj} balls colliding" if actor.partner == actor.material else f"a {adj} ball hitting a {other} ball"
    return ""


def plan_scene(seed: int, materials: list[str], floors: list[str] | None = None) -> Scene:
    """The scene of `seed`; `materials` can sound impacts, `floors` (default: all) have footstep recordings."""
    rng = np.random.default_rng([seed, 2])
    materials = sorted(materials)
    floors = sorted(floors) if floors else materials
    fps = FRAME_RATES[int(rng.integers(len(FRAME_RATES)))]
    n_frames = frame_count(fps)
    width, height = FRAME_SIZES[int(rng.integers(len(FRAME_SIZES)))]
    cam = _camera(rng, width, height)
    floor_style = _pick(rng, list(FLOOR_STYLES))
    families = list(FAMILY_WEIGHTS)
    weights = np.array([FAMILY_WEIGHTS[f] for f in families])
    primary = families[int(rng.choice(len(families), p=weights / weights.sum()))]
    floor = _pick(rng, floors) if primary == "footsteps" else FLOOR_LOOK_MATERIAL[floor_style]
    stage = _stage(rng, cam, fps, n_frames, floor)
    actors: list[Actor] = []
    n_sounding = 1 + int(rng.random() < 0.3) + int(rng.random() < 0.1)
    for i in range(n_sounding):
        family = primary if i == 0 else _pick(rng, [f for f in FAMILIES if f not in ("footsteps", primary)])
        material = floor if family == "footsteps" else _pick(rng, materials)
        actors.append(make_family(rng, stage, family, material, _pick(rng, materials)))
    actors += [make_silent(rng, stage) for _ in range(int(rng.choice([0, 1, 1, 2])))]
    if rng.random() < 0.2:
        actors.append(make_occluder(rng, stage))
    if primary == "footsteps" and rng.random() < 0.5:
        cam.follow = actors[0].x_at                       # a camera operator following the walker
        cam.drift = 0.0
    style = PictureStyle(wall=_pick(rng, list(WALL_STYLES)), floor=floor_style,
                         wall_depth=float(rng.uniform(1.6, 4.0)), noise=float(rng.choice([0.0, 1.5, 3.0, 6.0])),
                         flicker=float(rng.choice([0.0, 0.0, 0.02, 0.05])), blur_samples=int(rng.choice([1, 3])),
                         defocus=float(rng.choice([0.0, 0.0, 0.5, 1.0])), crf=int(rng.integers(16, 35)))
    head = actors[0]
    caption = describe(head)
    others = [describe(a) for a in actors[1:n_sounding]]
    if others:
        caption += ", and " + " and ".join(others)
    events = sorted((e for a in actors if a.sounding for e in a.events), key=lambda e: (e.frame, e.kind))
    return Scene(seed, fps, n_frames, width, height, cam, actors, floor, style, caption, head.material, head.family,
                 head.word, events)


def visible_scale(scene: Scene, actor: Actor, t: float = 0.0) -> float:
    """Pixels per unit at the actor's depth (tests and the picture use it)."""
    return scene.camera.ppu(t) * depth_scale(actor.z)
