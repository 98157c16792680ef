"""The scene kinds of the out-of-domain split, each planned from its event frames outward.

Every planner draws its event frames first, then builds motion (in metres, at real gravity and the
clip's real frame rate) whose contact gap closes to zero exactly on those frames, then a camera that
frames it. Kinds: a ball bouncing at some camera height, an object dropped that lands and slides
to a stop, a stick hitting a wall or block from the side, a figure walking (footfalls), two objects
colliding in mid-air or on a table, a lid or door closing, and a top-down view (a puck off the rails
or a ball bouncing towards the camera). Styles (plain / photo / busy / dark) apply to all of them.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .draw import (PALETTES, Capsule, Ellipse, Polygon, Sprite, bricks, felt, floor_from_above, gradient, outdoor,
                   room, rotated_box, textured)
from .framing import Camera, CropPath, Framing, shake_offsets
from .motion import (GRAVITY, bounce_flights, closing_gap, flight_height_at, flight_heights, smoothstep)
from .scene import OODEvent, Scene, SoundPlan, Style

SHADOW = (22.0, 18.0, 16.0)


# --------------------------------------------------------------------------- camera and canvas

@dataclass(frozen=True)
class _Stage:
    camera: Camera
    canvas: tuple[int, int]
    crop: CropPath
    framing: Framing
    margin: int                  # canvas rows above the picture's top row at zero shake

    def picture_xy(self, frame: int, x: float, y: float) -> tuple[float, float]:
        """Where world (x, y) appears in the picture at `frame`, as fractions of width and height."""
        px, py = self.camera.px(x, y)
        return (float(px - self.crop.x[frame]) / self.framing.width, float(py - self.crop.y[frame]) / self.framing.height)


def _stage(rng: np.random.Generator, framing: Framing, style: Style, *, scale: float,
           origin: tuple[float, float], pan_px: np.ndarray | None = None) -> _Stage:
    """Camera with world (0, 0) at picture pixel `origin` on frame 0; `pan_px` moves the picture
    right by that many pixels per frame (a camera following the action); shake from the style."""
    n = framing.n_frames
    shake = np.round(shake_offsets(rng, n, style.shake_px, style.jitter_px)).astype(int)
    margin = int(np.abs(shake).max()) + 2
    pan = np.zeros(n, int) if pan_px is None else np.round(pan_px).astype(int)
    lo, hi = int(pan.min()), int(pan.max())
    canvas = (framing.height + 2 * margin, framing.width + 2 * margin + hi - lo)
    crop = CropPath(margin + pan - lo + shake[:, 0], margin + shake[:, 1])
    camera = Camera(scale, origin[0] + margin - lo, origin[1] + margin)
    return _Stage(camera, canvas, crop, framing, margin)


def _side_backdrop(seed: int, stage: _Stage, horizon_picture_row: float, *, indoor: bool, planks: bool,
                   grass: bool) -> Callable[[], np.ndarray]:
    def paint_canvas() -> np.ndarray:
        rng = np.random.default_rng([seed, 101])
        h, w = stage.canvas
        top = int(np.clip(round(horizon_picture_row) + stage.margin, 0, h))
        if indoor:
            palette = PALETTES[int(rng.integers(len(PALETTES)))]
            return room(rng, h, w, top, palette, vanish_x=w * float(rng.uniform(0.3, 0.7)), planks=planks)
        return outdoor(rng, h, w, top, grass=grass)
    return paint_canvas


def _surface(rng: np.random.Generator, *, soft: bool = True) -> tuple[bool, bool, bool, str, str]:
    """(indoor, planks, grass, caption words, footstep surface) of a floor; `soft` allows grass."""
    choice = int(rng.integers(4 if soft else 3))
    return [(True, True, False, "a wooden floor", "wood"), (True, False, False, "a tiled floor", "tile"),
            (False, False, False, "the pavement", "tile"), (False, False, True, "grass", "carpet")][choice]


def _floor_camera(rng: np.random.Generator, framing: Framing, style: Style, *, height_m: float, width_m: float,
                  centre_x: float = 0.0, pan_px: np.ndarray | None = None) -> tuple[_Stage, float, float]:
    """A side view with the contact surface (world y = 0) at a random picture row (the camera's
    height: low cameras see the floor near the bottom edge, high ones see more floor).
    Returns the stage, the contact row and the horizon row (picture pixels)."""
    h, w = framing.height, framing.width
    floor_row = float(rng.uniform(0.55, 0.9)) * h
    horizon = max(0.12 * h, floor_row - float(rng.uniform(0.06, 0.35)) * h)
    scale = min((floor_row - 0.08 * h) / height_m, 0.92 * w / width_m)
    stage = _stage(rng, framing, style, scale=scale, origin=(w / 2 - scale * centre_x, floor_row), pan_px=pan_px)
    return stage, floor_row, horizon


def _shadow(stage: _Stage, x: float, y: float, half_width_m: float, lift_m: float, reach_m: float) -> Sprite:
    """A soft contact shadow on the surface under an object `lift_m` above it."""
    cx, cy = stage.camera.px(x, y)
    k = float(np.clip(lift_m / max(1e-6, reach_m), 0.0, 1.0))
    rx = stage.camera.length(half_width_m) * (1.1 + 0.7 * k)
    return Sprite(Ellipse(cx, cy + 0.1 * rx * 0.3, rx, max(1.0, 0.22 * rx)), SHADOW,
                  softness=1.0 + 0.5 * rx * k + 1.0, opacity=0.55 * (1.0 - 0.7 * k))


def _colour(rgb) -> tuple[float, float, float]:
    return tuple(float(c) for c in rgb)


def _spaced(rng: np.random.Generator, framing: Framing, first: int, gap_s: tuple[float, float]) -> list[int]:
    """Event frames from `first` on, each `gap_s` seconds after the last, ending 3 frames before the end."""
    frames = [min(first, framing.n_frames - 3)]
    while True:
        nxt = frames[-1] + framing.frames(float(rng.uniform(*gap_s)))
        if nxt >= framing.n_frames - 3:
            return frames
        frames.append(nxt)


def _strengths(values: list[float]) -> list[float]:
    top = max(values) if values else 1.0
    return [float(np.clip(v / top, 0.1, 1.0)) if top > 0 else 1.0 for v in values]


# --------------------------------------------------------------------------- bounce

BALLS = (  # name, timbre, colour, world material, radius range (m), pattern
    ("rubber ball", "rubber", (205, 40, 45), "plastic", (0.03, 0.06), "seam"),
    ("tennis ball", "rubber", (205, 225, 60), "plastic", (0.033, 0.034), "seam"),
    ("basketball", "basketball", (215, 110, 40), "plastic", (0.11, 0.12), "seam"),
    ("ping-pong ball", "pingpong", (242, 240, 232), "plastic", (0.02, 0.02), None),
    ("steel ball", "metal", (172, 176, 186), "metal", (0.02, 0.035), None),
    ("wooden ball", "wood", (165, 112, 60), "wood", (0.03, 0.05), "seam"),
    ("glass marble", "glass", (120, 200, 215), "glass", (0.012, 0.02), None),
)


def _bounce_schedule(rng: np.random.Generator, framing: Framing) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """A drop from rest, its bounces, and later kicks back into the air, each bouncing out."""
    n = framing.n_frames
    release = framing.frames(float(rng.uniform(0.0, 0.6)))
    land = release + framing.frames(float(rng.uniform(0.3, 0.55)))
    flights = bounce_flights(rng, land, framing.frames(float(rng.uniform(0.45, 0.85))), n)
    end = flights[-1][1] if flights else land
    while True:
        kick = end + framing.frames(float(rng.uniform(0.3, 0.8)))
        chain = bounce_flights(rng, kick, framing.frames(float(rng.uniform(0.5, 0.9))), n)
        if not chain:
            break
        flights += chain
        end = chain[-1][1]
    return (release, land), flights


def plan_bounce(rng: np.random.Generator, seed: int, framing: Framing, style: Style) -> Scene:
    """A ball dropped on a floor, bouncing and kicked up again, filmed side-on at some camera height."""
    fps = float(framing.fps)
    name, timbre, colour, material, radii, pattern = BALLS[int(rng.integers(len(BALLS)))]
    r = float(rng.uniform(*radii))
    drop, flights = _bounce_schedule(rng, framing)
    apex = max([GRAVITY * ((b - a) / fps) ** 2 / 8 for a, b in flights] + [0.05])
    fall_height = 0.5 * GRAVITY * ((drop[1] - drop[0]) / fps) ** 2
    height_m = max(apex, min(fall_height, 1.3 * apex)) + 2 * r
    air = np.array([_airborne(k, drop, flights) for k in range(framing.n_frames + 1)])
    airtime = np.cumsum(air) / fps
    indoor, planks, grass, floor_words, _ = _surface(rng, soft=False)
    stage, floor_row, horizon = _floor_camera(rng, framing, style, height_m=height_m, width_m=1.2 * height_m)
    visible = framing.width / stage.camera.scale
    direction = float(rng.choice([-1.0, 1.0]))
    vx = direction * min(float(rng.uniform(0.1, 0.9)), 0.6 * visible / max(airtime[-1], 1e-3))
    x0 = -vx * airtime[-1] / 2
    r = max(r, 0.02 * framing.height / stage.camera.scale)     # a speck is not a fair test of anything

    def x_at(t: float) -> float:
        k = int(np.clip(math.floor(t), 0, framing.n_frames - 1))
        partial = (t - k) * air[k] / fps if 0 <= t < framing.n_frames else 0.0
        return x0 + vx * (airtime[k] - air[k] / fps + partial)

    heights = flight_heights(framing.n_frames, fps, flights, drop=drop)
    landings = [drop[1]] + [b for _, b in flights]
    speeds = [math.sqrt(2 * GRAVITY * fall_height)] + [GRAVITY * (b - a) / fps / 2 for a, b in flights]

    def actors(t: float) -> list[Sprite]:
        h = flight_height_at(t, fps, flights, drop=drop)
        x = x_at(t)
        near = min(abs(t - c) for c in landings)
        squash = 0.18 * max(0.0, 1.0 - near / 0.6)
        rpx = stage.camera.length(r)
        cx, bottom = stage.camera.px(x, h)
        ball = Sprite(Ellipse(cx, bottom - rpx * (1 - squash), rpx * (1 + 0.7 * squash), rpx * (1 - squash)),
                      _colour(colour), shading="sphere", pattern=pattern, angle=-x / r)
        return [_shadow(stage, x, 0.0, r, h, apex), ball]

    events = [OODEvent("bounce", c, s, *stage.picture_xy(c, x_at(c), 0.0))
              for c, s in zip(landings, _strengths(speeds))]
    return Scene(seed, "bounce", "side", style, framing, stage.camera, stage.canvas, stage.crop,
                 _side_backdrop(seed, stage, horizon, indoor=indoor, planks=planks, grass=grass), actors, events,
                 {"floor": heights}, SoundPlan({"bounce": ("impact", timbre)}, room_rt60=float(rng.uniform(0.2, 0.6)),
                                               room_wet=0.12 if indoor else 0.03),
                 f"a {name} bouncing on {floor_words}", material, "drop",
                 notes={"camera_floor_row": floor_row / framing.height})


def _airborne(k: int, drop: tuple[int, int], flights: list[tuple[int, int]]) -> float:
    """1 when the ball is in the air between frames k and k + 1 (it moves sideways only then)."""
    return float(drop[0] <= k < drop[1] or any(a <= k < b for a, b in flights))


# --------------------------------------------------------------------------- drop and slide

OBJECTS = (  # name, timbre, colour, world material, half width, half height (m), pattern
    ("cardboard box", "cardboard", (182, 142, 92), "paper", (0.08, 0.2), (0.06, 0.15), None),
    ("wooden block", "wood", (150, 100, 55), "wood", (0.05, 0.12), (0.03, 0.08), "grain"),
    ("book", "cardboard", (60, 82, 140), "paper", (0.08, 0.13), (0.015, 0.03), "stripes"),
    ("phone", "plastic", (32, 32, 38), "plastic", (0.07, 0.08), (0.006, 0.008), None),
    ("metal tin", "metal", (182, 182, 192), "metal", (0.05, 0.1), (0.04, 0.08), "stripes"),
    ("plastic crate", "plastic", (40, 120, 200), "plastic", (0.15, 0.25), (0.1, 0.16), "stripes"),
)


@dataclass(frozen=True)
class _Slider:
    release: int
    land: int
    hop: int                # 0: no hop after the landing
    stop: int               # the slide comes to rest here
    x_release: float
    vx: float
    hw: float
    hh: float
    spin: float             # angle (rad) at release, turning to 0 at the landing

    @property
    def last_landing(self) -> int:
        return self.land + self.hop

    def x_at(self, t: float, fps: float) -> float:
        t = max(t, self.release)
        if t <= self.last_landing:
            return self.x_release + self.vx * (t - self.release) / fps
        x_land = self.x_release + self.vx * (self.last_landing - self.release) / fps
        slide = (self.stop - self.last_landing) / fps
        tau = min(t - self.last_landing, self.stop - self.last_landing) / fps
        return x_land + self.vx * tau - 0.5 * (self.vx / slide) * tau * tau

    def height_at(self, t: float, fps: float) -> float:
        flights = [(self.land, self.land + self.hop)] if self.hop else []
        return flight_height_at(t, fps, flights, drop=(self.release, self.land))

    def angle_at(self, t: float) -> float:
        if t >= self.land:
            return 0.0
        u = (self.land - max(t, self.release)) / (self.land - self.release)
        return self.spin * u * u


def plan_drop_slide(rng: np.random.Generator, seed: int, framing: Framing, style: Style) -> Scene:
    """One or two objects dropped in from above: each lands (maybe hops once) and slides to rest."""
    fps, n = float(framing.fps), framing.n_frames
    name, timbre, colour, material, hws, hhs, pattern = OBJECTS[int(rng.integers(len(OBJECTS)))]
    sliders: list[_Slider] = []
    start = framing.frames(float(rng.uniform(0.1, 0.7)))
    for i in range(1 if rng.random() < 0.5 else 2):
        hw, hh = float(rng.uniform(*hws)), float(rng.uniform(*hhs))
        land = start + framing.frames(float(rng.uniform(0.25, 0.5)))
        hop = int(rng.integers(3, 7)) if rng.random() < 0.5 else 0
        stop = land + hop + framing.frames(float(rng.uniform(0.35, 0.9)))
        if stop >= n - 2:
            if i > 0:
                break
            land, hop, stop = min(land, n - 8), 0, n - 3   # the first object always lands, even in a short clip
        direction = 1.0 if i == 0 else -1.0          # the first slides rightwards, the second leftwards
        vx = direction * float(rng.uniform(0.3, 1.0))
        travel = abs(vx) * ((land + hop - start) / fps + (stop - land - hop) / fps / 2)
        x_release = -direction * (0.05 + hw + travel)   # each ends 5 cm short of the middle: they never meet
        sliders.append(_Slider(start, land, hop, stop, x_release, vx, hw, hh, float(rng.uniform(-0.8, 0.8))))
        start = stop + framing.frames(float(rng.uniform(0.2, 0.6)))
    xs = [s.x_at(t, fps) for s in sliders for t in (s.release, s.stop)]
    span = max(xs) - min(xs) + 2 * max(s.hw for s in sliders)
    indoor, planks, grass, floor_words, _ = _surface(rng, soft=False)
    height_m = max(8 * max(s.hh for s in sliders), 0.4)
    stage, _, horizon = _floor_camera(rng, framing, style, height_m=height_m, width_m=span * 1.15,
                                              centre_x=(max(xs) + min(xs)) / 2)

    def actors(t: float) -> list[Sprite]:
        out = []
        for s in sliders:
            h, x, angle = s.height_at(t, fps), s.x_at(t, fps), s.angle_at(t)
            lowest = s.hw * abs(math.sin(angle)) + s.hh * abs(math.cos(angle))
            cx, cy = stage.camera.px(x, h + lowest)
            out.append(_shadow(stage, x, 0.0, s.hw, h, height_m))
            out.append(Sprite(rotated_box(cx, cy, stage.camera.length(s.hw), stage.camera.length(s.hh), angle),
                              _colour(colour), shading="panel", pattern=pattern, angle=float(seed % 7)))
        return out

    events = []
    for s in sliders:
        landings = [s.land] + ([s.land + s.hop] if s.hop else [])
        for c in landings:
            last = c == s.last_landing
            events.append(OODEvent("land", c, 1.0 if c == s.land else 0.45, *stage.picture_xy(c, s.x_at(c, fps), 0.0),
                                   slide_end=s.stop if last else None))
    contacts = {f"object{i}": np.array([s.height_at(k, fps) for k in range(n)]) for i, s in enumerate(sliders)}
    return Scene(seed, "drop_slide", "side", style, framing, stage.camera, stage.canvas, stage.crop,
                 _side_backdrop(seed, stage, horizon, indoor=indoor, planks=planks, grass=grass), actors, events,
                 contacts, SoundPlan({"land": ("impact", timbre)}, room_rt60=float(rng.uniform(0.2, 0.5))),
                 f"a {name} dropped on {floor_words}, sliding to a stop", material, "drop")


# --------------------------------------------------------------------------- side hit

STICKS = (  # name, timbre, colour, world material, length (m), radius (m)
    ("wooden bat", "wood", (170, 120, 70), "wood", (0.55, 0.8), (0.02, 0.03)),
    ("stick", "wood", (110, 80, 50), "wood", (0.4, 0.7), (0.01, 0.016)),
    ("metal pipe", "metal", (160, 165, 175), "metal", (0.4, 0.7), (0.012, 0.02)),
    ("plastic bat", "plastic", (230, 200, 40), "plastic", (0.45, 0.65), (0.02, 0.03)),
)


def plan_side_hit(rng: np.random.Generator, seed: int, framing: Framing, style: Style) -> Scene:
    """A figure swings a stick into a wall or a block beside it; contacts are the stick's tip
    reaching the wall face (the stick points straight at it at contact)."""
    n = framing.n_frames
    name, timbre, colour, material, lengths, radii = STICKS[int(rng.integers(len(STICKS)))]
    length, radius = float(rng.uniform(*lengths)), float(rng.uniform(*radii))
    tip = radius * (1.5 if "bat" in name else 1.0)
    side = float(rng.choice([-1.0, 1.0]))                      # +1: wall on the right
    variant = "block" if rng.random() < 0.5 else "wall"
    table = float(rng.uniform(0.7, 0.9))
    block_h = float(rng.uniform(0.12, 0.3))
    pivot_y = table + block_h / 2 if variant == "block" else float(rng.uniform(0.9, 1.3))
    pivot_x = -side * (length + tip)
    hits = _spaced(rng, framing, framing.frames(float(rng.uniform(0.4, 1.0))), (0.45, 1.2))
    rest = float(rng.uniform(0.9, 1.4))
    wind_up, settle = float(framing.frames(float(rng.uniform(0.3, 0.5)))), float(framing.frames(0.5))

    def swing(t: float) -> float:
        return closing_gap(t, hits, rest=rest, wind_up=wind_up, settle=settle)

    def tip_xy(t: float) -> tuple[float, float]:
        phi = swing(t)
        return pivot_x + side * length * math.cos(phi), pivot_y + length * math.sin(phi)

    x_lo, x_hi = sorted([pivot_x - side * 0.7, side * 0.25])
    y_lo, y_hi = pivot_y - 0.75, pivot_y + length + 0.15
    scale = min(0.92 * framing.width / (x_hi - x_lo), 0.92 * framing.height / (y_hi - y_lo))
    origin = (framing.width / 2 - scale * (x_lo + x_hi) / 2, framing.height / 2 + scale * (y_lo + y_hi) / 2)
    stage = _stage(rng, framing, style, scale=scale, origin=origin)
    skin = _colour(rng.choice([(224, 180, 150), (170, 120, 90), (110, 75, 55)]))
    shirt = _colour(rng.uniform(30, 220, 3))
    cam = stage.camera

    def actors(t: float) -> list[Sprite]:
        hand = cam.px(pivot_x, pivot_y)
        sway = 0.02 * math.sin(swing(t))
        shoulder = cam.px(pivot_x - side * 0.32, pivot_y + 0.3 + sway)
        hip = cam.px(pivot_x - side * 0.42, pivot_y - 0.45)
        elbow = cam.px(pivot_x - side * 0.18, pivot_y + 0.05 + sway)
        tx, ty = cam.px(*tip_xy(t))
        dx, dy = tx - hand[0], ty - hand[1]
        grip = (hand[0] - 0.12 * dx, hand[1] - 0.12 * dy)
        r_body = cam.length(0.12)
        return [
            Sprite(Capsule(*hip, *shoulder, r_body), shirt, shading="panel"),
            Sprite(Ellipse(shoulder[0], shoulder[1] - cam.length(0.22), cam.length(0.1), cam.length(0.12)), skin,
                   shading="sphere"),
            Sprite(Capsule(*shoulder, *elbow, cam.length(0.045)), shirt),
            Sprite(Capsule(*elbow, *hand, cam.length(0.04)), skin),
            Sprite(Capsule(*grip, tx, ty, cam.length(radius)), _colour(colour), shading="panel",
                   pattern="grain" if timbre == "wood" else None),
            Sprite(Ellipse(tx, ty, cam.length(tip), cam.length(tip)), _colour(colour), shading="sphere"),
        ]

    def backdrop() -> np.ndarray:
        r2 = np.random.default_rng([seed, 101])
        h, w = stage.canvas
        img = room(r2, h, w, int(np.clip(cam.px(0, 0)[1], 0, h)), PALETTES[int(r2.integers(len(PALETTES)))],
                   vanish_x=w / 2, planks=True)
        face = int(round(cam.px(0.0, 0.0)[0]))
        if variant == "wall":
            cols = slice(face, w) if side > 0 else slice(0, max(0, face))
            region = img[:, cols]
            if region.size:
                img[:, cols] = bricks(r2, region.shape[0], region.shape[1], cam.length(0.22))
        else:                     # a table top from the block's foot down to the floor, and the block on it
            top, floor = (int(np.clip(round(cam.px(0, y)[1]), 0, h)) for y in (table, 0.0))
            if floor > top:
                img[top:floor] = textured(r2, gradient(floor - top, w, (120, 80, 50), (80, 52, 32)), 0.1)
            width_px = int(cam.length(float(r2.uniform(0.15, 0.3))))
            x0, x1 = (face, face + width_px) if side > 0 else (face - width_px, face)
            x0, x1 = int(np.clip(x0, 0, w)), int(np.clip(x1, 0, w))
            btop = int(np.clip(round(cam.px(0, table + block_h)[1]), 0, h))
            if top > btop and x1 > x0:
                img[btop:top, x0:x1] = textured(r2, gradient(top - btop, x1 - x0, (200, 160, 110), (160, 120, 80)),
                                                0.12)
        return img

    gap = np.array([-side * tip_xy(k)[0] - tip for k in range(n)])
    events = [OODEvent("hit", c, float(rng.uniform(0.6, 1.0)), *stage.picture_xy(c, 0.0, pivot_y)) for c in hits]
    target = "a brick wall" if variant == "wall" else "a wooden block"
    return Scene(seed, "side_hit", variant, style, framing, cam, stage.canvas, stage.crop, backdrop, actors, events,
                 {"tip": gap}, SoundPlan({"hit": ("impact", timbre)}, room_rt60=float(rng.uniform(0.25, 0.6))),
                 f"a {name} hitting {target} from the side", material, "hit")


# --------------------------------------------------------------------------- walk

@dataclass(frozen=True)
class _Gait:
    landings: list[int]          # every heel strike (both feet), including a few before the clip
    speed: float                 # m/s along `direction`
    direction: float
    step: float                  # step length (m)
    leg: float
    lift_delay: int              # frames a foot stays down after the other one lands
    foot_r: float
    clearance: float             # swing height (m)

    def hip_x(self, t: float, fps: float) -> float:
        return self.direction * self.speed * t / fps

    def foot(self, t: float, fps: float, which: int) -> tuple[float, float]:
        """(x, height above the ground of the foot's sole) of foot `which` (0, 1) at frame t."""
        own = [c for i, c in enumerate(self.landings) if i % 2 == which]
        idx = max(i for i, c in enumerate(own) if c <= t) if any(c <= t for c in own) else 0
        land = own[idx]
        planted = self.hip_x(land, fps) + self.direction * self.step / 2
        if idx + 1 >= len(own):
            return planted, 0.0
        nxt = own[idx + 1]
        others = [c for i, c in enumerate(self.landings) if i % 2 != which and land < c < nxt]
        lift = (others[0] if others else land) + self.lift_delay
        if t <= lift:
            return planted, 0.0
        u = (t - lift) / (nxt - lift)
        target = self.hip_x(nxt, fps) + self.direction * self.step / 2
        x = planted * (1 - smoothstep(u)) + target * smoothstep(u)
        return x, self.clearance * 4.0 * u * (1.0 - u)


def _knee(hip: tuple[float, float], ankle: tuple[float, float], thigh: float, shin: float,
          forward: float) -> tuple[float, float]:
    dx, dy = ankle[0] - hip[0], ankle[1] - hip[1]
    d = min(math.hypot(dx, dy), 0.999 * (thigh + shin))
    a = (thigh * thigh - shin * shin + d * d) / (2 * d)
    h = math.sqrt(max(0.0, thigh * thigh - a * a))
    ux, uy = dx / max(1e-9, math.hypot(dx, dy)), dy / max(1e-9, math.hypot(dx, dy))
    mx, my = hip[0] + a * ux, hip[1] + a * uy
    # the knee bends towards the walking direction: of the two solutions take the forward one
    kx, ky = mx - uy * h, my + ux * h
    if (kx - mx) * forward < 0:
        kx, ky = mx + uy * h, my - ux * h
    return kx, ky


def plan_walk(rng: np.random.Generator, seed: int, framing: Framing, style: Style) -> Scene:
    """A figure walking across (camera fixed) or with a camera following it; events = heel strikes."""
    fps, n = float(framing.fps), framing.n_frames
    period = framing.frames(float(rng.uniform(0.45, 0.62)))
    step = float(rng.uniform(0.55, 0.75))
    speed = step / (period / fps)
    first = framing.frames(float(rng.uniform(0.15, 0.5)))
    landings = [first - 2 * period, first - period]
    t = first
    while t < n - 1:
        landings.append(t)
        t += period + int(rng.choice([-1, 0, 0, 1]))
    direction = float(rng.choice([-1.0, 1.0]))
    leg = float(rng.uniform(0.82, 0.95))
    gait = _Gait(landings, speed, direction, step, leg, max(1, round(0.12 * period)), 0.045,
                 float(rng.uniform(0.06, 0.12)))
    tall = leg * 1.95
    travel = speed * n / fps
    indoor, planks, grass, _, surface = _surface(rng)
    fixed_scale = 0.9 * framing.width / (travel + 1.0)
    follow = rng.random() < 0.5 or fixed_scale * tall < 0.3 * framing.height
    h = framing.height
    floor_row = float(rng.uniform(0.75, 0.92)) * h
    if follow:
        scale = float(rng.uniform(0.45, 0.7)) * h / tall
        pan = np.array([scale * gait.hip_x(k, fps) for k in range(n)])
        origin = (framing.width / 2, floor_row)
    else:
        scale = min(fixed_scale, 0.75 * h / tall)
        pan = None
        origin = (framing.width / 2 - scale * direction * travel / 2, floor_row)
    stage = _stage(rng, framing, style, scale=scale, origin=origin, pan_px=pan)
    horizon = max(0.15 * h, floor_row - float(rng.uniform(0.1, 0.3)) * h)
    cam = stage.camera
    dark = rng.random() < 0.35
    body = _colour((25, 25, 30) if dark else rng.uniform(30, 220, 3))
    legs = _colour((25, 25, 30) if dark else rng.uniform(20, 120, 3))
    skin = body if dark else _colour(rng.choice([(224, 180, 150), (170, 120, 90), (110, 75, 55)]))

    def actors(t: float) -> list[Sprite]:
        hip_x = gait.hip_x(t, fps)
        phase = 2 * math.pi * (t - first) / (2 * period)
        hip = (hip_x, 0.93 * leg + 0.015 * math.cos(2 * phase))
        neck = (hip_x + direction * 0.03, hip[1] + 0.55 * leg)
        out = []
        for which, shade in ((1, 0.75), (0, 1.0)):                   # far limbs first, darker
            fx, fh = gait.foot(t, fps, which)
            ankle = (fx, fh + gait.foot_r)
            knee = _knee(hip, ankle, 0.5 * leg, 0.5 * leg - gait.foot_r, direction)
            toe = (fx + direction * 0.13, ankle[1])
            heel = (fx - direction * 0.03, ankle[1])
            leg_colour = tuple(c * shade for c in legs)
            out += [Sprite(Capsule(*cam.px(*hip), *cam.px(*knee), cam.length(0.06)), leg_colour),
                    Sprite(Capsule(*cam.px(*knee), *cam.px(*ankle), cam.length(0.05)), leg_colour),
                    Sprite(Capsule(*cam.px(*heel), *cam.px(*toe), cam.length(gait.foot_r)), leg_colour)]
            if which == 1:
                out.append(Sprite(Capsule(*cam.px(*hip), *cam.px(*neck), cam.length(0.13)), body, shading="panel"))
            swing = 0.5 * math.sin(phase + (math.pi if which else 0.0))
            hand = (neck[0] + direction * 0.55 * leg * math.sin(swing), neck[1] - 0.6 * leg * math.cos(swing))
            out.append(Sprite(Capsule(*cam.px(*neck), *cam.px(*hand), cam.length(0.04)),
                              tuple(c * shade for c in skin)))
        head = cam.px(neck[0] + direction * 0.02, neck[1] + 0.18)
        out.append(Sprite(Ellipse(*head, cam.length(0.1), cam.length(0.12)), skin, shading="sphere"))
        return out

    events = []
    for i, c in enumerate(landings):
        if 1 <= c <= n - 1:
            x, _ = gait.foot(c, fps, i % 2)
            events.append(OODEvent("step", c, float(rng.uniform(0.6, 1.0)), *stage.picture_xy(c, x, 0.0)))
    contacts = {f"foot{w}": np.array([gait.foot(k, fps, w)[1] for k in range(n)]) for w in (0, 1)}
    words = {"wood": "footsteps on a wooden floor", "tile": "footsteps on a hard floor",
             "carpet": "footsteps on grass"}
    caption = words[surface] if indoor or surface == "carpet" else "footsteps on the pavement"
    material = {"wood": "wood", "tile": "earth", "carpet": "paper"}[surface]
    return Scene(seed, "walk", "follow" if follow else "fixed", style, framing, cam, stage.canvas, stage.crop,
                 _side_backdrop(seed, stage, horizon, indoor=indoor, planks=planks, grass=grass), actors, events,
                 contacts, SoundPlan({"step": ("step", surface)}, room_rt60=float(rng.uniform(0.2, 0.5)),
                                     room_wet=0.12 if indoor else 0.03),
                 caption, material, "hit")


# --------------------------------------------------------------------------- collide

PAIRS = (  # name, timbre, colour, world material, radius range (m)
    ("steel balls", "metal", (175, 178, 188), "metal", (0.02, 0.04)),
    ("billiard balls", "plastic", (235, 230, 215), "plastic", (0.028, 0.029)),
    ("wooden balls", "wood", (165, 112, 60), "wood", (0.03, 0.05)),
    ("glass marbles", "glass", (120, 200, 215), "glass", (0.012, 0.02)),
    ("rubber balls", "rubber", (60, 160, 80), "plastic", (0.03, 0.06)),
)


@dataclass(frozen=True)
class _Meeting:
    """Two balls that meet at (x, y) on frame `frame`, moving along the line of centres."""

    frame: int
    x: float
    y: float
    r: float
    approach: tuple[float, float]     # speeds towards each other (m/s)
    retreat: tuple[float, float]      # speeds apart afterwards
    vy: float                         # common vertical speed at contact (mid-air)
    g: float                          # gravity (0 on a table)

    def centres(self, t: float, fps: float) -> tuple[tuple[float, float], tuple[float, float]]:
        tau = (t - self.frame) / fps
        v1, v2 = (self.approach if tau < 0 else (-self.retreat[0], -self.retreat[1]))
        y = self.y + self.vy * tau - 0.5 * self.g * tau * tau
        return (self.x - self.r + v1 * tau, y), (self.x + self.r - v2 * tau, y)

    def gap(self, t: float, fps: float) -> float:
        (x1, y1), (x2, y2) = self.centres(t, fps)
        return math.hypot(x2 - x1, y2 - y1) - 2 * self.r


def plan_collide(rng: np.random.Generator, seed: int, framing: Framing, style: Style) -> Scene:
    """Pairs of balls that meet and bounce apart: thrown up to meet in mid-air, or rolled towards
    each other across a table. Each pair has left the picture before the next one comes in."""
    fps, n = float(framing.fps), framing.n_frames
    name, timbre, colour, material, radii = PAIRS[int(rng.integers(len(PAIRS)))]
    midair = rng.random() < 0.5
    r = float(rng.uniform(*radii))
    visible = float(rng.uniform(0.6, 1.4))
    scale = framing.width / visible
    half = visible / 2
    meetings: list[_Meeting] = []
    t_in, t_out = float(rng.uniform(0.5, 0.8)), float(rng.uniform(0.5, 0.8))
    frame = framing.frames(t_in + float(rng.uniform(0.0, 0.5)))
    while frame < n - 2:
        x = float(rng.uniform(-0.25, 0.25)) * half
        cross = (half + 3 * r) + abs(x)
        if midair:
            y = float(rng.uniform(0.35, 0.65)) * framing.height / scale
            approach = (float(rng.uniform(0.3, 1.0)), float(rng.uniform(0.3, 1.0)))
            retreat = (approach[0] * float(rng.uniform(0.5, 0.9)), approach[1] * float(rng.uniform(0.5, 0.9)))
            meetings.append(_Meeting(frame, x, y, r, approach, retreat, float(rng.uniform(-0.3, 1.2)), GRAVITY))
        else:
            approach = (cross / t_in, cross / t_in * float(rng.uniform(0.8, 1.25)))
            retreat = (cross / t_out, cross / t_out * float(rng.uniform(0.8, 1.25)))
            meetings.append(_Meeting(frame, x, r, r, approach, retreat, 0.0, 0.0))
        frame += framing.frames(t_in + t_out + float(rng.uniform(0.15, 0.6)))
    floor_row = float(rng.uniform(0.6, 0.85)) * framing.height
    stage = _stage(rng, framing, style, scale=scale, origin=(framing.width / 2, floor_row if not midair else
                                                             framing.height))
    cam = stage.camera
    window = (t_in + 0.4) * fps, (t_out + 1.2 if midair else t_out + 0.4) * fps

    def actors(t: float) -> list[Sprite]:
        out = []
        for m in meetings:
            if not (m.frame - window[0] <= t <= m.frame + window[1]):
                continue
            for (x, y), tint in zip(m.centres(t, fps), (1.0, 0.8)):
                cx, cy = cam.px(x, y)
                if not midair:
                    out.append(_shadow(stage, x, 0.0, r, 0.0, 1.0))
                out.append(Sprite(Ellipse(cx, cy, cam.length(r), cam.length(r)), tuple(c * tint for c in colour),
                                  shading="sphere"))
        return out

    def backdrop() -> np.ndarray:
        r2 = np.random.default_rng([seed, 101])
        h, w = stage.canvas
        if midair:
            return outdoor(r2, h, w, h, grass=False) if r2.random() < 0.5 else \
                textured(r2, gradient(h, w, (150, 150, 160), (110, 110, 120)), 0.1)
        img = room(r2, h, w, int(cam.px(0, 0)[1]) - int(0.12 * framing.height), PALETTES[int(r2.integers(6))],
                   vanish_x=w / 2, planks=False)
        top = int(round(cam.px(0, 0)[1]))
        img[top - int(0.12 * framing.height):top] = textured(r2, gradient(int(0.12 * framing.height), w,
                                                                          (60, 110, 70), (40, 90, 55)), 0.12)
        img[top:top + int(0.06 * framing.height)] = (90, 58, 34)
        return img

    events = [OODEvent("collide", m.frame, float(rng.uniform(0.6, 1.0)), *stage.picture_xy(m.frame, m.x, m.y))
              for m in meetings]
    contacts = {f"pair{i}": np.array([m.gap(k, fps) for k in range(n)]) for i, m in enumerate(meetings)}
    where = "in mid-air" if midair else "on a table"
    return Scene(seed, "collide", "midair" if midair else "table", style, framing, cam, stage.canvas, stage.crop,
                 backdrop, actors, events, contacts,
                 SoundPlan({"collide": ("impact", timbre)}, room_rt60=float(rng.uniform(0.2, 0.5))),
                 f"two {name} colliding {where}", material, "hit")


# --------------------------------------------------------------------------- close

def plan_close(rng: np.random.Generator, seed: int, framing: Framing, style: Style) -> Scene:
    """A hinged lid shutting on a box (side view) or a door swinging shut (seen from the front)."""
    n = framing.n_frames
    door = rng.random() < 0.5
    closes = _spaced(rng, framing, framing.frames(float(rng.uniform(0.5, 1.2))), (1.0, 2.2))
    opened = float(rng.uniform(1.0, 1.5))
    wind_up, settle = float(framing.frames(float(rng.uniform(0.25, 0.45)))), float(framing.frames(0.8))

    def angle(t: float) -> float:
        return closing_gap(t, closes, rest=opened, wind_up=wind_up, settle=settle)

    side = float(rng.choice([-1.0, 1.0]))
    if door:
        width, tall = float(rng.uniform(0.7, 0.9)), 2.0
        scale = min(0.8 * framing.height / tall, 0.8 * framing.width / (2.2 * width))
        stage = _stage(rng, framing, style, scale=scale,
                       origin=(framing.width / 2 - scale * side * width / 2, 0.9 * framing.height))
        cam = stage.camera
        wood = _colour(rng.choice([(150, 100, 60), (235, 232, 225), (90, 60, 40), (60, 90, 120)]))

        def free_x(t: float) -> float:
            return side * width * math.cos(angle(t))

        def actors(t: float) -> list[Sprite]:
            grow = 1.0 + 0.18 * math.sin(angle(t))
            fx = free_x(t)
            quad = (cam.px(0.0, 0.0), cam.px(fx, tall / 2 - grow * tall / 2), cam.px(fx, tall / 2 + grow * tall / 2),
                    cam.px(0.0, tall))
            knob = cam.px(fx - side * 0.07 * math.cos(angle(t)), 1.0)
            return [Sprite(Polygon(quad), wood, shading="panel", pattern="grain" if wood[0] < 200 else None),
                    Sprite(Ellipse(*knob, cam.length(0.03), cam.length(0.03)), (200, 180, 90), shading="sphere")]

        def backdrop() -> np.ndarray:
            r2 = np.random.default_rng([seed, 101])
            h, w = stage.canvas
            img = room(r2, h, w, int(cam.px(0, 0)[1]), PALETTES[int(r2.integers(6))], vanish_x=w / 2, planks=True)
            x0, x1 = sorted([cam.px(0, 0)[0], cam.px(side * width, 0)[0]])
            y0 = int(cam.px(0, tall)[1])
            y1 = int(cam.px(0, 0)[1])
            frame_px = max(2, int(cam.length(0.05)))
            img[max(0, y0 - frame_px):y1, max(0, int(x0) - frame_px):int(x1) + frame_px] = (235, 230, 220)
            img[max(0, y0):y1, max(0, int(x0)):int(x1)] = textured(r2, gradient(y1 - max(0, y0), int(x1) - max(0, int(x0)),
                                                                             (30, 28, 26), (14, 12, 12)), 0.2)
            return img

        gap = np.array([side * (side * width - free_x(k)) for k in range(n)])
        where = (side * width, tall / 2)
        caption = "a door swinging shut"
        voices = {"close": ("close", "door")}
        material = "wood"
    else:
        width, tall = float(rng.uniform(0.3, 0.6)), float(rng.uniform(0.15, 0.35))
        thick = float(rng.uniform(0.015, 0.035))
        reach = tall + width + 0.1
        scale = min(0.7 * framing.height / reach, 0.75 * framing.width / (width + 0.3))
        stage = _stage(rng, framing, style, scale=scale, origin=(framing.width / 2, 0.8 * framing.height))
        cam = stage.camera
        box_name, timbre, colour, material = [("wooden box", "wood", (150, 100, 55), "wood"),
                                              ("metal toolbox", "metal", (190, 40, 40), "metal"),
                                              ("plastic bin", "plastic", (40, 110, 180), "plastic")][int(rng.integers(3))]
        hinge = (side * width / 2, tall)

        def lid(t: float) -> tuple[tuple[float, float], ...]:
            a = angle(t)
            e1 = (-side * math.cos(a), math.sin(a))
            e2 = (side * math.sin(a), math.cos(a))
            return tuple((hinge[0] + p * e1[0] + q * e2[0], hinge[1] + p * e1[1] + q * e2[1])
                         for p, q in ((0, 0), (width, 0), (width, thick), (0, thick)))

        def actors(t: float) -> list[Sprite]:
            body = ((-width / 2, 0.0), (width / 2, 0.0), (width / 2, tall), (-width / 2, tall))
            pattern = "grain" if timbre == "wood" else None
            return [_shadow(stage, 0.0, 0.0, width / 2, 0.0, 1.0),
                    Sprite(Polygon(tuple(cam.px(*p) for p in body)), _colour(colour), shading="panel", pattern=pattern),
                    Sprite(Polygon(tuple(cam.px(*p) for p in lid(t))), tuple(c * 1.1 for c in colour),
                           shading="panel", pattern=pattern)]

        planks = _surface(rng)[1]
        backdrop = _side_backdrop(seed, stage, 0.8 * framing.height - float(rng.uniform(0.1, 0.3)) * framing.height,
                                  indoor=True, planks=planks, grass=False)
        gap = np.array([lid(k)[1][1] - tall for k in range(n)])
        where = (-side * width / 2, tall)
        caption = f"the lid of a {box_name} closing"
        voices = {"close": ("close", timbre)}
    events = [OODEvent("close", c, float(rng.uniform(0.6, 1.0)), *stage.picture_xy(c, *where)) for c in closes]
    return Scene(seed, "close", "door" if door else "lid", style, framing, stage.camera, stage.canvas, stage.crop,
                 backdrop, actors, events, {"closing": gap},
                 SoundPlan(voices, room_rt60=float(rng.uniform(0.3, 0.7)), room_wet=0.15),
                 caption, material, "hit")


# --------------------------------------------------------------------------- top-down

def plan_top_down(rng: np.random.Generator, seed: int, framing: Framing, style: Style) -> Scene:
    """Straight down at a table: a puck knocking off the rails, or a ball bouncing towards the
    camera (it grows as it rises; its shadow stays on the floor)."""
    if rng.random() < 0.5:
        return _puck(rng, seed, framing, style)
    return _ball_from_above(rng, seed, framing, style)


def _puck(rng: np.random.Generator, seed: int, framing: Framing, style: Style) -> Scene:
    fps, n = float(framing.fps), framing.n_frames
    along_x = framing.width >= framing.height
    long_m, short_m = float(rng.uniform(0.8, 1.6)), float(rng.uniform(0.45, 0.9))
    rail = 0.06
    r = float(rng.uniform(0.03, 0.055))
    span_px = (framing.width, framing.height) if along_x else (framing.height, framing.width)
    scale = 0.9 * min(span_px[0] / (long_m + 2 * rail), span_px[1] / (short_m + 2 * rail))
    stage = _stage(rng, framing, style, scale=scale, origin=(framing.width / 2, framing.height / 2))
    cam = stage.camera
    lo, hi = -long_m / 2 + r, long_m / 2 - r           # centre positions at contact with each rail
    first = framing.frames(float(rng.uniform(0.6, 1.2)))
    push = max(1, first - framing.frames(float(rng.uniform(0.15, 0.4))))
    start = float(rng.uniform(-0.2, 0.2)) * long_m
    toward_hi = rng.random() < 0.5
    hits: list[tuple[int, float]] = [(first, hi if toward_hi else lo)]
    while True:
        leg = framing.frames(float(rng.uniform(0.35, 0.9)))
        if hits[-1][0] + leg >= n - 3:
            break
        hits.append((hits[-1][0] + leg, lo if hits[-1][1] == hi else hi))
    stop_frames = framing.frames(float(rng.uniform(0.5, 1.0)))
    coast = float(rng.uniform(0.3, 0.7)) * (hi - lo) / 2
    wobble = (float(rng.uniform(0.05, 0.3)) * (short_m / 2 - r - 0.03), float(rng.uniform(1.5, 4.0)),
              float(rng.uniform(0, 6.28)), float(rng.uniform(-0.3, 0.3)) * (short_m / 2 - r - 0.03))

    def along(t: float) -> float:
        if t <= push:
            return start
        if t <= first:
            u = (t - push) / (first - push)
            return start * (1 - u) + hits[0][1] * u
        for (a, pa), (b, pb) in zip(hits, hits[1:]):
            if a <= t <= b:
                u = (t - a) / (b - a)
                return pa * (1 - u) + pb * u
        last_frame, last = hits[-1]
        u = min(1.0, (t - last_frame) / stop_frames)
        inward = -1.0 if last == hi else 1.0
        return last + inward * coast * (1 - (1 - u) ** 2)

    def across(t: float) -> float:
        amp, period_s, phase, centre = wobble
        return centre + amp * math.sin(2 * math.pi * t / fps / period_s + phase)

    def world(t: float) -> tuple[float, float]:
        a, b = along(t), across(t)
        return (a, b) if along_x else (b, a)

    colour = _colour(rng.choice([(220, 40, 40), (240, 240, 235), (30, 30, 30), (240, 200, 40)]))

    def actors(t: float) -> list[Sprite]:
        x, y = world(t)
        cx, cy = cam.px(x, y)
        rpx = cam.length(r)
        return [Sprite(Ellipse(cx + 0.25 * rpx, cy + 0.3 * rpx, rpx, rpx), SHADOW, softness=0.3 * rpx + 1, opacity=0.5),
                Sprite(Ellipse(cx, cy, rpx, rpx), colour, shading="sphere", pattern="stripes", angle=0.0),
                Sprite(Ellipse(cx, cy, 0.45 * rpx, 0.45 * rpx), tuple(c * 0.8 for c in colour))]

    def backdrop() -> np.ndarray:
        r2 = np.random.default_rng([seed, 101])
        h, w = stage.canvas
        half = (long_m / 2, short_m / 2) if along_x else (short_m / 2, long_m / 2)
        x0, y0 = cam.px(-half[0], half[1])
        x1, y1 = cam.px(half[0], -half[1])
        return felt(r2, h, w, (int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))),
                    max(2, int(cam.length(rail))))

    gaps = {"rail_low": np.array([along(k) - lo for k in range(n)]),
            "rail_high": np.array([hi - along(k) for k in range(n)])}
    events = [OODEvent("knock", c, float(rng.uniform(0.6, 1.0)), *stage.picture_xy(
        c, *((p + (r if p == hi else -r), across(c)) if along_x else (across(c), p + (r if p == hi else -r)))))
        for c, p in hits]
    timbre = "plastic" if rng.random() < 0.6 else "wood"
    return Scene(seed, "top_down", "puck", style, framing, cam, stage.canvas, stage.crop, backdrop, actors, events,
                 gaps, SoundPlan({"knock": ("impact", timbre)}, room_rt60=float(rng.uniform(0.2, 0.4))),
                 "a puck knocking off the rails of a table, seen from above", "plastic", "hit")


def _ball_from_above(rng: np.random.Generator, seed: int, framing: Framing, style: Style) -> Scene:
    fps, n = float(framing.fps), framing.n_frames
    name, timbre, colour, material, radii, pattern = BALLS[int(rng.integers(len(BALLS)))]
    r = max(float(rng.uniform(*radii)), 0.03)
    cam_height = float(rng.uniform(2.2, 3.2))
    view = float(rng.uniform(1.2, 2.2))                           # floor metres across the short side
    focal = min(framing.width, framing.height) / view * cam_height
    drop, flights = _bounce_schedule(rng, framing)
    fall_height = 0.5 * GRAVITY * ((drop[1] - drop[0]) / fps) ** 2
    cap = cam_height - 4 * r - 0.3
    if fall_height > cap:                                         # keep the drop below the camera
        fall = math.sqrt(2 * cap / GRAVITY) * fps
        drop = (drop[1] - max(2, int(fall)), drop[1])
        fall_height = 0.5 * GRAVITY * ((drop[1] - drop[0]) / fps) ** 2
    flights = [(a, b) for a, b in flights if GRAVITY * ((b - a) / fps) ** 2 / 8 < cap]
    stage = _stage(rng, framing, style, scale=focal / cam_height, origin=(framing.width / 2, framing.height / 2))
    cam = stage.camera
    drift = (float(rng.uniform(-0.15, 0.15)), float(rng.uniform(-0.15, 0.15)))
    light = (float(rng.uniform(-0.3, 0.3)), float(rng.uniform(-0.3, 0.3)))

    def ground(t: float) -> tuple[float, float]:
        return drift[0] * t / fps - drift[0] * n / fps / 2, drift[1] * t / fps - drift[1] * n / fps / 2

    def actors(t: float) -> list[Sprite]:
        z = flight_height_at(t, fps, flights, drop=drop)
        gx, gy = ground(t)
        sx, sy = cam.px(gx + light[0] * z, gy + light[1] * z)
        near = focal / (cam_height - z - r)                       # pixels per metre at the ball's centre
        ox, oy = framing.width / 2 + (cam.origin_x - framing.width / 2), cam.origin_y
        bx, by = ox + near * gx, oy - near * gy
        return [Sprite(Ellipse(sx, sy, cam.length(r) * (1 + 0.3 * z), cam.length(r) * (1 + 0.3 * z)), SHADOW,
                       softness=1.0 + 4.0 * z, opacity=0.55 / (1 + z)),
                Sprite(Ellipse(bx, by, near * r, near * r), _colour(colour), shading="sphere", pattern=pattern,
                       angle=0.3 * t)]

    def backdrop() -> np.ndarray:
        r2 = np.random.default_rng([seed, 101])
        h, w = stage.canvas
        palette = PALETTES[int(r2.integers(len(PALETTES)))]
        return floor_from_above(r2, h, w, palette, planks=bool(r2.random() < 0.6))

    heights = flight_heights(n, fps, flights, drop=drop)
    landings = [drop[1]] + [b for _, b in flights]
    speeds = [math.sqrt(2 * GRAVITY * fall_height)] + [GRAVITY * (b - a) / fps / 2 for a, b in flights]
    events = [OODEvent("bounce", c, s, *stage.picture_xy(c, *ground(c))) for c, s in zip(landings, _strengths(speeds))]
    return Scene(seed, "top_down", "ball", style, framing, cam, stage.canvas, stage.crop, backdrop, actors, events,
                 {"floor": heights}, SoundPlan({"bounce": ("impact", timbre)}, room_rt60=float(rng.uniform(0.2, 0.5))),
                 f"a {name} bouncing on the floor, seen from above", material, "drop")


PLANNERS: dict[str, Callable[[np.random.Generator, int, Framing, Style], Scene]] = {
    "bounce": plan_bounce, "drop_slide": plan_drop_slide, "side_hit": plan_side_hit, "walk": plan_walk,
    "collide": plan_collide, "close": plan_close, "top_down": plan_top_down,
}
SCENE_KINDS = tuple(PLANNERS)
