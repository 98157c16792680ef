"""Actors: things that move through a scene, each a pure function of time, with the events they cause.

Every family plans its contact frames first and then shapes its motion so that the contact happens
exactly on those frames (a flight between two bounces is the parabola that fits the gap, a striker's
tip reaches the surface on the hit frame, a foot lands on its step frame). `draw(t)` returns the
primitives at any time t (sub-frame times give motion blur); `speed(t)` drives friction sounds.

Directions are deliberately mixed: strikers come from above, the side and below; objects move
sideways while they bounce; silent actors (a gentle placement, a pendulum, a passing object) move
as much as sounding ones, so "motion" alone never means "sound" — only a sudden stop or reversal does.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .geometry import ONSET_KIND, Box, Circle, Event, Look, Primitive, Quad, Segment, box_support

# what each material looks like: base colours and finishes (hue is jittered per object)
MATERIAL_LOOKS: dict[str, tuple[tuple[tuple[int, int, int], ...], tuple[str, ...]]] = {
    "metal": (((150, 155, 165), (110, 120, 135), (185, 180, 170)), ("shiny",)),
    "wood": (((140, 95, 55), (170, 120, 70), (110, 70, 40)), ("grain",)),
    "glass": (((170, 215, 225), (200, 230, 215)), ("glass",)),
    "plastic": (((200, 50, 50), (40, 120, 210), (230, 200, 40), (60, 170, 80), (240, 240, 240)), ("matte", "shiny")),
    "paper": (((225, 215, 190), (240, 240, 235), (190, 165, 120)), ("matte",)),
    "stone": (((130, 128, 122), (160, 155, 145), (95, 95, 100)), ("speckle",)),
    "earth": (((105, 80, 55), (130, 100, 70)), ("speckle",)),
    "gravel": (((145, 140, 130), (120, 115, 110)), ("speckle",)),
}
OBJECT_WORDS: dict[str, tuple[str, ...]] = {
    "metal": ("can", "pan", "ball", "bolt", "lid"), "wood": ("block", "ball", "plank", "box"),
    "glass": ("bottle", "jar", "glass"), "plastic": ("ball", "cup", "box", "toy"),
    "paper": ("box", "book", "parcel"), "stone": ("rock", "stone", "brick"),
    "earth": ("clod", "lump"), "gravel": ("pebble", "rock"),
}
STICK_HALF_WIDTH = 0.025
FAMILIES = ("drop", "hit", "slide", "roll", "scrape", "footsteps", "close", "collide")


def look_for(rng: np.random.Generator, material: str) -> Look:
    colours, finishes = MATERIAL_LOOKS.get(material, (((128, 128, 128),), ("matte",)))
    base = np.array(colours[int(rng.integers(len(colours)))], float)
    base = np.clip(base * rng.uniform(0.8, 1.15) + rng.normal(0, 10, 3), 10, 250)
    finish = finishes[int(rng.integers(len(finishes)))]
    return Look(tuple(float(c) for c in base), finish, 0.6 if finish == "glass" else 1.0)


@dataclass
class Stage:
    """What an actor needs to know about the scene it is planned into."""

    fps: Fraction
    n_frames: int
    x_lo: float               # visible world x range at depth 0 (at t = 0), with a margin
    x_hi: float
    y_top: float              # visible height above the floor at depth 0
    floor: str                # floor material (footsteps sound of it)
    gravity: float            # units / s^2

    def t(self, frame: float) -> float:
        return float(frame / self.fps)

    @property
    def size(self) -> float:
        """Object size multiplier: things stay a sensible share of the frame when zoomed out."""
        return float(np.clip(self.y_top / 3.0, 0.7, 2.2))


@dataclass
class Actor:
    family: str
    material: str
    word: str
    z: float
    draw: Callable[[float], list[Primitive]]
    events: list[Event] = field(default_factory=list)
    sounding: bool = True
    speed: Callable[[np.ndarray], np.ndarray] | None = None     # |velocity| for friction envelopes
    x_at: Callable[[float], float] | None = None                # followed by a following camera
    partner: str | None = None
    partner_word: str | None = None


# ----------------------------------------------------------------------------- timing helpers

def contact_frames(rng: np.random.Generator, stage: Stage, first: int, gaps: tuple[float, float],
                   n: int, shrink: float = 1.0) -> list[int]:
    """`n` integer frames from `first`, gaps (s) drawn from `gaps` and multiplied by `shrink` each time."""
    frames, k, scale = [first], first, 1.0
    for _ in range(n - 1):
        gap = max(2, int(round(rng.uniform(*gaps) * scale * float(stage.fps))))
        k += gap
        if k >= stage.n_frames - 2:
            break
        frames.append(k)
        scale *= shrink
    return frames


def bounce_height(t: float, contacts_t: list[float], heights: list[float], h0: float, t_release: float) -> float:
    """Height above rest of a body released at t_release from h0 that touches down at each contact time."""
    if t <= t_release:
        return h0
    if t <= contacts_t[0]:
        s = (t - t_release) / (contacts_t[0] - t_release)
        return h0 * (1.0 - s * s)
    for a, b, h in zip(contacts_t, contacts_t[1:], heights):
        if t <= b:
            s = (t - a) / (b - a)
            return 4.0 * h * s * (1.0 - s)
    return 0.0


# ----------------------------------------------------------------------------- sounding families

def make_drop(rng: np.random.Generator, stage: Stage, material: str, *, slide: bool = False) -> Actor:
    """Released from rest, bounces (and drifts sideways); with `slide`, lands and slides to a stop."""
    fps = stage.fps
    r = float(rng.uniform(0.07, 0.3)) * stage.size
    is_box = rng.random() < 0.45
    hw, hh = (r * rng.uniform(0.8, 1.6), r * rng.uniform(0.5, 1.0)) if is_box else (r, r)
    release = int(rng.integers(int(0.3 * float(fps)), int(2.5 * float(fps))))
    fall = float(rng.uniform(0.3, 0.75))
    first = release + max(3, int(round(fall * float(fps))))
    n_bounce = 1 if slide else int(rng.integers(1, 6))
    frames = contact_frames(rng, stage, first, (0.25, 0.7), n_bounce, shrink=float(rng.uniform(0.55, 0.85)))
    cts = [stage.t(k) for k in frames]
    g = stage.gravity
    h0 = min(0.5 * g * fall ** 2, 0.8 * stage.y_top - 2 * hh)
    heights = [min(g * (b - a) ** 2 / 8.0, 0.8 * h0) for a, b in zip(cts, cts[1:])]
    x0 = float(rng.uniform(stage.x_lo + 0.3 * (stage.x_hi - stage.x_lo), stage.x_hi - 0.3 * (stage.x_hi - stage.x_lo)))
    vx = float(rng.normal(0, 0.35)) if not slide else float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.4))
    tr = stage.t(release)
    angle0 = float(rng.uniform(-0.6, 0.6)) if is_box else 0.0
    spin = float(rng.normal(0, 2.0)) if is_box else 0.0
    slide_end = cts[-1] + float(rng.uniform(0.4, 1.5)) if slide else cts[-1]
    look = look_for(rng, material)

    def x_of(t: float) -> float:
        if t <= tr:
            return x0
        if not slide or t <= cts[-1]:
            return x0 + vx * (min(t, cts[-1] if slide else 1e9) - tr)
        land = x0 + vx * (cts[-1] - tr)
        d = slide_end - cts[-1]
        s = min(1.0, (t - cts[-1]) / d)
        return land + vx * d * (s - 0.5 * s * s)         # constant friction: speed falls linearly to 0

    def angle_of(t: float) -> float:
        if not is_box:
            return 0.0
        settle = cts[-1]
        if t >= settle:
            return 0.0                                    # lands flat
        return (angle0 + spin * (t - tr)) * (settle - t) / max(1e-6, settle - tr)

    def draw(t: float) -> list[Primitive]:
        y = bounce_height(t, cts, heights, h0, tr)
        a = angle_of(t)
        lift = box_support(hw, hh, a) if is_box else r
        if is_box:
            return [Box(x_of(t), y + lift, hw, hh, look, a)]
        return [Circle(x_of(t), y + r, r, look, angle=-(x_of(t) - x0) / r)]

    events = [Event(ONSET_KIND, k, float(np.clip((1.0 if i == 0 else (heights[i - 1] / max(h0, 1e-6)) ** 0.5)
                                                * rng.uniform(0.8, 1.0), 0.15, 1.0)), fps,
                    "slide" if slide else "drop", material) for i, k in enumerate(frames)]
    speed = None
    if slide:
        end_frame = min(stage.n_frames - 1, int(math.ceil(slide_end * float(fps))))
        if end_frame > frames[-1] + 1:
            events.append(Event("scrape", frames[-1], float(rng.uniform(0.5, 0.9)), fps, "slide", material,
                                end_frame=end_frame))

        def speed(ts: np.ndarray) -> np.ndarray:
            d = slide_end - cts[-1]
            s = np.clip((ts - cts[-1]) / d, 0.0, 1.0)
            return np.where(ts < cts[-1], 0.0, abs(vx) * (1.0 - s))
    word = rng.choice(OBJECT_WORDS.get(material, ("object",)))
    return Actor("slide" if slide else "drop", material, str(word), float(rng.uniform(-0.3, 1.2)), draw, events,
                 speed=speed, x_at=x_of)


def make_hit(rng: np.random.Generator, stage: Stage, material: str) -> Actor:
    """A stick strikes a target from above, the side or below; the tip touches the surface on each hit frame."""
    fps = stage.fps
    look, stick_look = look_for(rng, material), look_for(rng, str(rng.choice(["wood", "metal", "plastic"])))
    span = stage.x_hi - stage.x_lo
    kind = str(rng.choice(["block_top", "block_side", "hanging_below", "wall_side", "shelf_top"]))
    hw, hh = float(rng.uniform(0.12, 0.4)) * stage.size, float(rng.uniform(0.08, 0.3)) * stage.size
    cx = float(rng.uniform(stage.x_lo + 0.3 * span, stage.x_hi - 0.3 * span))
    side = float(rng.choice([-1.0, 1.0]))
    if kind in ("block_top", "block_side"):
        cy = hh
    elif kind == "hanging_below":
        cy = float(rng.uniform(0.45, 0.75)) * stage.y_top
    elif kind == "wall_side":
        hw, hh = float(rng.uniform(0.04, 0.08)), float(rng.uniform(0.4, 0.8)) * stage.y_top / 2
        cy = hh
    else:
        cy = float(rng.uniform(0.3, 0.6)) * stage.y_top
    if kind in ("block_top", "shelf_top"):
        normal = np.array([rng.uniform(-0.5, 0.5), 1.0])
        contact0, along = np.array([cx, cy + hh]), np.array([1.0, 0.0])
        reach = hw * 0.7
    elif kind == "hanging_below":
        normal = np.array([rng.uniform(-0.5, 0.5), -1.0])
        contact0, along = np.array([cx, cy - hh]), np.array([1.0, 0.0])
        reach = hw * 0.7
    else:
        normal = np.array([side, rng.uniform(0.0, 0.4)])      # level or from above: never out of the floor
        contact0, along = np.array([cx + side * hw, cy]), np.array([0.0, 1.0])
        reach = hh * 0.7
    normal = normal / np.linalg.norm(normal)
    face_normal = {"block_top": np.array([0.0, 1.0]), "shelf_top": np.array([0.0, 1.0]),
                   "hanging_below": np.array([0.0, -1.0])}.get(kind, np.array([side, 0.0]))
    stick_len = float(rng.uniform(0.5, 1.0)) * stage.size
    stick_dir = normal + along * rng.uniform(-0.5, 0.5)
    if kind != "hanging_below":
        stick_dir[1] = abs(stick_dir[1])          # the handle is held above the contact, never in the floor
    stick_dir = stick_dir / np.linalg.norm(stick_dir)

    first = int(rng.integers(int(0.4 * float(fps)), int(2.0 * float(fps))))
    frames = contact_frames(rng, stage, first, (0.35, 1.2), int(rng.integers(2, 7)))
    hits_t = [stage.t(k) for k in frames]
    spots = [float(rng.uniform(-reach, reach)) for _ in frames]       # different spots: sideways motion
    lift = [float(rng.uniform(0.15, 0.5)) for _ in frames]
    if stick_dir[1] < 0:
        # from below: even drawn back, the whole stick (tip, handle, its width) stays above the floor
        room = max(0.05, contact0[1] - max(lift) * abs(normal[1]) - 2 * STICK_HALF_WIDTH - 0.02)
        stick_len = min(stick_len, room / -stick_dir[1])
    rebound = float(rng.uniform(0.1, 0.25))
    targets_move = rng.random() < 0.4

    def tip_offset(t: float) -> tuple[float, float]:
        """(distance from the surface along the normal, position along the surface)."""
        if t <= hits_t[0]:
            s = max(0.0, 1.0 - (hits_t[0] - t) / 0.6)
            return lift[0] * (1.0 - s ** 1.6), spots[0]        # accelerating approach, full speed at contact
        for i in range(len(hits_t) - 1):
            a, b = hits_t[i], hits_t[i + 1]
            if t <= b:
                s = (t - a) / (b - a)
                peak = max(lift[i + 1], 0.1)
                d = peak * (math.sin(math.pi * s) ** 0.7)
                return d, spots[i] + (spots[i + 1] - spots[i]) * s
        s = min(1.0, (t - hits_t[-1]) / rebound)
        return lift[-1] * math.sin(0.5 * math.pi * s), spots[-1]

    def draw(t: float) -> list[Primitive]:
        d, spot = tip_offset(t)
        tip = contact0 + along * spot + normal * d
        base = tip + stick_dir * stick_len
        jolt = 0.0
        if targets_move:
            for th in hits_t:
                if 0.0 <= t - th < 0.15:
                    jolt = 0.02 * math.sin((t - th) / 0.15 * math.pi) * -side
        # the stick is a capsule: its axis ends half a width off the surface, so its cap touches at d == 0
        end = tip + face_normal * STICK_HALF_WIDTH
        return [Box(cx + jolt, cy, hw, hh, look),
                Segment(float(end[0]), float(end[1]), float(base[0]), float(base[1]), STICK_HALF_WIDTH, stick_look)]

    events = [Event(ONSET_KIND, k, float(rng.uniform(0.5, 1.0)), fps, "hit", material) for k in frames]
    word = {"wall_side": "post", "hanging_below": "plate"}.get(kind, str(rng.choice(OBJECT_WORDS.get(material, ("block",)))))
    return Actor("hit", material, word, float(rng.uniform(-0.2, 1.0)), draw, events, x_at=lambda t: cx)


def make_roll(rng: np.random.Generator, stage: Stage, material: str) -> Actor:
    """A ball rolls across the floor (slowing), and may knock into a block or the frame's wall."""
    fps = stage.fps
    r = float(rng.uniform(0.06, 0.22)) * stage.size
    look = look_for(rng, material)
    span = stage.x_hi - stage.x_lo
    direction = float(rng.choice([-1.0, 1.0]))
    start = int(rng.integers(0, int(1.5 * float(fps))))
    v0 = float(rng.uniform(0.3, 0.7)) * span / 4.0
    decel = v0 / float(rng.uniform(3.0, 7.0))
    x0 = stage.x_lo + 0.1 * span if direction > 0 else stage.x_hi - 0.1 * span
    t0 = stage.t(start)
    stop_t = t0 + v0 / decel
    hits_wall = rng.random() < 0.5
    wall_frame = None
    wall_look = look_for(rng, str(rng.choice(["wood", "stone", "metal"])))
    if hits_wall:
        dt = float(rng.uniform(1.2, 3.0))
        wall_frame = start + int(round(dt * float(fps)))
        if wall_frame >= stage.n_frames - 4 or stage.t(wall_frame) >= stop_t:
            hits_wall, wall_frame = False, None
    t_wall = stage.t(wall_frame) if wall_frame is not None else None
    x_wall = None
    if t_wall is not None:
        dtw = t_wall - t0
        x_wall = x0 + direction * (v0 * dtw - 0.5 * decel * dtw * dtw)
    bw = 0.08

    def x_of(t: float) -> float:
        if t <= t0:
            return x0
        if t_wall is not None and t > t_wall:
            v_at = v0 - decel * (t_wall - t0)
            vb = 0.4 * v_at
            dt = min(t - t_wall, vb / decel)
            return x_wall - direction * (vb * dt - 0.5 * decel * dt * dt)
        dt = min(t - t0, v0 / decel)
        return x0 + direction * (v0 * dt - 0.5 * decel * dt * dt)

    def draw(t: float) -> list[Primitive]:
        x = x_of(t)
        prims: list[Primitive] = [Circle(x, r, r, look, angle=-(x - x0) / r)]
        if x_wall is not None:
            prims.append(Box(x_wall + direction * (r + bw), 0.3, bw, 0.3, wall_look))
        return prims

    def speed(ts: np.ndarray) -> np.ndarray:
        return np.abs(np.gradient(np.array([x_of(float(t)) for t in ts]))) * float(fps)
    end = stage.n_frames - 1 if t_wall is None else wall_frame
    end = min(end, int(math.ceil(stop_t * float(fps))), stage.n_frames - 1)
    events = [Event("roll", start, float(rng.uniform(0.5, 0.9)), fps, "roll", material, end_frame=max(end, start + 2))]
    if wall_frame is not None:
        events.append(Event(ONSET_KIND, wall_frame, float(rng.uniform(0.5, 0.9)), fps, "roll", material))
        tail_end = min(stage.n_frames - 1, wall_frame + int(float(fps) * 0.4 * (v0 - decel * (t_wall - t0)) / decel))
        if tail_end > wall_frame + 2:
            events.append(Event("roll", wall_frame, 0.4, fps, "roll", material, end_frame=tail_end))
    return Actor("roll", material, "ball", float(rng.uniform(-0.3, 1.0)), draw, events, speed=speed, x_at=x_of)


def make_scrape(rng: np.random.Generator, stage: Stage, material: str) -> Actor:
    """A box pushed along the floor by a stick, in bursts: friction while it moves."""
    fps = stage.fps
    hw, hh = float(rng.uniform(0.12, 0.35)) * stage.size, float(rng.uniform(0.08, 0.25)) * stage.size
    look, stick_look = look_for(rng, material), look_for(rng, "wood")
    span = stage.x_hi - stage.x_lo
    direction = float(rng.choice([-1.0, 1.0]))
    n_push = int(rng.integers(1, 4))
    ts, xs = [0.0], [stage.x_lo + 0.25 * span if direction > 0 else stage.x_hi - 0.25 * span]
    t = float(rng.uniform(0.3, 1.5))
    for _ in range(n_push):
        dur, dist = float(rng.uniform(0.5, 1.8)), float(rng.uniform(0.1, 0.25)) * span
        ts += [t, t + dur]
        xs += [xs[-1], xs[-1] + direction * dist]
        t += dur + float(rng.uniform(0.3, 1.2))
    ts.append(max(t, ts[-1] + 0.1))
    xs.append(xs[-1])
    grid = np.linspace(0.0, stage.t(stage.n_frames), 4 * stage.n_frames)
    # smooth the pushes (ease in/out) so friction swells and fades
    raw = np.interp(grid, ts, xs)
    kernel = np.hanning(9) / np.hanning(9).sum()
    smooth = np.convolve(np.pad(raw, 4, mode="edge"), kernel, mode="valid")

    def x_of(t: float) -> float:
        return float(np.interp(t, grid, smooth))

    def speed(tq: np.ndarray) -> np.ndarray:
        v = np.abs(np.gradient(smooth, grid))
        return np.interp(tq, grid, v)

    def draw(t: float) -> list[Primitive]:
        x = x_of(t)
        back = x - direction * hw
        return [Box(x, hh, hw, hh, look),
                Segment(back - direction * 0.03, hh, back - direction * 0.6, hh + 0.35, 0.025, stick_look)]

    events = []
    moving = speed(grid) > 0.02
    edges = np.flatnonzero(np.diff(moving.astype(int)))
    bounds = [0] + list(edges + 1) + [len(grid)]
    for a, b in zip(bounds, bounds[1:]):
        if moving[a]:
            f0, f1 = int(grid[a] * float(fps)), min(stage.n_frames - 1, int(math.ceil(grid[b - 1] * float(fps))))
            if f1 > f0 + 1:
                events.append(Event("scrape", f0, float(rng.uniform(0.5, 0.9)), fps, "scrape", material, end_frame=f1))
    word = str(rng.choice(OBJECT_WORDS.get(material, ("box",))))
    return Actor("scrape", material, word, float(rng.uniform(-0.2, 0.8)), draw, events, speed=speed, x_at=x_of)


def make_footsteps(rng: np.random.Generator, stage: Stage, material: str) -> Actor:
    """A figure walks across; each foot lands exactly on its step frame. `material` is the floor."""
    fps = stage.fps
    scale = float(rng.uniform(0.6, 1.3)) * min(1.0, 0.8 * stage.y_top / 1.8)
    leg, step_len = 0.85 * scale, float(rng.uniform(0.35, 0.55)) * scale
    period = float(rng.uniform(0.42, 0.65))            # seconds per step
    direction = float(rng.choice([-1.0, 1.0]))
    span = stage.x_hi - stage.x_lo
    first = int(rng.integers(int(0.3 * float(fps)), int(1.2 * float(fps))))
    frames = [first]
    while True:
        k = first + int(round(len(frames) * period * float(fps)))
        if k >= stage.n_frames - 2 or len(frames) >= 14:
            break
        frames.append(k)
    cts = [stage.t(k) for k in frames]
    x_start = stage.x_lo + 0.15 * span if direction > 0 else stage.x_hi - 0.15 * span
    plants = [x_start + direction * step_len * i for i in range(len(frames))]
    body_look = look_for(rng, str(rng.choice(["plastic", "paper", "stone"])))
    head_look = Look((float(rng.uniform(150, 230)), float(rng.uniform(110, 180)), float(rng.uniform(90, 150))))
    lift = 0.12 * scale

    def feet(t: float) -> tuple[tuple[float, float], tuple[float, float]]:
        """Positions (x, y) of the two feet: foot i % 2 lands at plants[i] at cts[i]."""
        out = []
        for foot in (0, 1):
            own = [i for i in range(len(cts)) if i % 2 == foot]
            prev = [i for i in own if cts[i] <= t]
            nxt = [i for i in own if cts[i] > t]
            if not prev and nxt:
                j = nxt[0]
                lift_off = cts[j] - 2 * period
                x_from = plants[j] - 2 * direction * step_len
                s = float(np.clip((t - lift_off) / (cts[j] - lift_off), 0, 1))
            elif prev and nxt:
                i, j = prev[-1], nxt[0]
                stance = 1.15 * period                   # planted until just after the other foot lands: walking
                if t <= cts[i] + stance:
                    out.append((plants[i], 0.0))
                    continue
                lift_off = cts[i] + stance
                x_from = plants[i]
                s = float(np.clip((t - lift_off) / (cts[j] - lift_off), 0, 1))
            else:
                i = prev[-1]
                out.append((plants[i], 0.0))
                continue
            x = x_from + (plants[j] - x_from) * s
            out.append((x, lift * math.sin(math.pi * s) ** 0.8))
        return out[0], out[1]

    def hip_x(t: float) -> float:
        (a, _), (b, _) = feet(t)
        return 0.5 * (a + b)

    def draw(t: float) -> list[Primitive]:
        (fx0, fy0), (fx1, fy1) = feet(t)
        hx = 0.5 * (fx0 + fx1)
        spread = abs(fx0 - fx1)
        hy = math.sqrt(max(leg ** 2 - (spread / 2) ** 2, (0.8 * leg) ** 2)) + 0.03 * scale
        w = 0.045 * scale
        shoulder = hy + 0.6 * scale
        swing = 0.15 * scale * math.sin(math.pi * (t - cts[0]) / period)
        return [Segment(hx, hy, fx0, fy0 + w, w, body_look), Segment(hx, hy, fx1, fy1 + w, w, body_look),
                Segment(hx, hy, hx, shoulder, 1.6 * w, body_look),
                Segment(hx, shoulder - 0.05, hx + swing, shoulder - 0.45 * scale, 0.8 * w, body_look),
                Segment(hx, shoulder - 0.05, hx - swing, shoulder - 0.45 * scale, 0.8 * w, body_look),
                Circle(hx, shoulder + 0.16 * scale, 0.12 * scale, head_look)]

    events = [Event(ONSET_KIND, k, float(rng.uniform(0.5, 1.0)), fps, "footsteps", material) for k in frames]
    return Actor("footsteps", material, "footsteps", float(rng.uniform(0.0, 1.5)), draw, events, x_at=hip_x)


def make_close(rng: np.random.Generator, stage: Stage, material: str) -> Actor:
    """A door swinging shut, a lid falling closed or a drawer pushed in: one impact when it stops."""
    fps = stage.fps
    look, frame_look = look_for(rng, material), look_for(rng, str(rng.choice(["wood", "stone", "metal"])))
    kind = str(rng.choice(["door", "lid", "drawer"]))
    span = stage.x_hi - stage.x_lo
    cx = float(rng.uniform(stage.x_lo + 0.3 * span, stage.x_hi - 0.3 * span))
    k = int(rng.integers(int(1.2 * float(fps)), stage.n_frames - int(1.5 * float(fps))))
    tc = stage.t(k)
    dur = float(rng.uniform(0.4, 1.2))
    t_start = tc - dur
    bounce = rng.random() < 0.3

    def s_of(t: float) -> float:
        """Closing progress 0 (open) .. 1 (shut); accelerating, full speed at contact."""
        if t <= t_start:
            return 0.0
        if t >= tc:
            if bounce and t < tc + 0.12:
                return 1.0 - 0.06 * math.sin(math.pi * (t - tc) / 0.12)
            return 1.0
        u = (t - t_start) / dur
        return u * u

    if kind == "door":
        w, h = float(rng.uniform(0.4, 0.7)), float(rng.uniform(0.65, 0.9)) * stage.y_top
        hinge_left = rng.random() < 0.5
        x0 = cx - w / 2

        def draw(t: float) -> list[Primitive]:
            open_w = w * math.cos(0.5 * math.pi * (1.0 - s_of(t)) * 0.85)
            xa, xb = (x0, x0 + open_w) if hinge_left else (x0 + w - open_w, x0 + w)
            return [Box(cx, h / 2 + 0.02, w / 2 + 0.06, h / 2 + 0.06, frame_look),
                    Box(cx, h / 2, w / 2, h / 2, Look((20.0, 20.0, 25.0))),
                    Quad(((xa, 0.0), (xb, 0.0), (xb, h), (xa, h)), look)]
        word = "door"
    elif kind == "lid":
        w, h = float(rng.uniform(0.3, 0.6)) * stage.size, float(rng.uniform(0.15, 0.35)) * stage.size
        th = 0.03

        def draw(t: float) -> list[Primitive]:
            a = (1.0 - s_of(t)) * float(1.2)
            hx, hy = cx - w, 2 * h              # hinge at the back-left top corner
            lx, ly = hx + 2 * w * math.cos(a), hy + th + 2 * w * math.sin(a)
            return [Box(cx, h, w, h, frame_look), Box(0.5 * (hx + lx), 0.5 * (hy + th + ly), w, th, look, angle=a)]
        word = "lid"
    else:
        w, h = float(rng.uniform(0.3, 0.5)) * stage.size, float(rng.uniform(0.25, 0.4)) * stage.size
        out_d = float(rng.uniform(0.2, 0.45))
        direction = float(rng.choice([-1.0, 1.0]))

        def draw(t: float) -> list[Primitive]:
            off = out_d * (1.0 - s_of(t))
            return [Box(cx, h, w, h, frame_look),
                    Box(cx + direction * off, h, w * 0.92, h * 0.35, look),
                    Box(cx + direction * (off + w * 0.92), h, 0.03, 0.05, Look((40.0, 40.0, 40.0)))]
        word = "drawer"
    events = [Event(ONSET_KIND, k, float(rng.uniform(0.6, 1.0)), fps, "close", material)]
    return Actor("close", material, word, float(rng.uniform(0.3, 1.5)), draw, events, x_at=lambda t: cx)


def make_collide(rng: np.random.Generator, stage: Stage, material: str, partner: str) -> Actor:
    """Two objects moving toward each other (on the floor or swinging on strings) meet on the contact frame."""
    fps = stage.fps
    r1, r2 = float(rng.uniform(0.07, 0.22)) * stage.size, float(rng.uniform(0.07, 0.22)) * stage.size
    l1, l2 = look_for(rng, material), look_for(rng, partner)
    span = stage.x_hi - stage.x_lo
    xc = float(rng.uniform(stage.x_lo + 0.35 * span, stage.x_hi - 0.35 * span))
    k = int(rng.integers(int(1.0 * float(fps)), stage.n_frames - int(1.0 * float(fps))))
    tc = stage.t(k)
    v1, v2 = float(rng.uniform(0.3, 1.0)), float(rng.uniform(0.3, 1.0))
    airborne = rng.random() < 0.4
    y = float(rng.uniform(0.3, 0.6)) * stage.y_top if airborne else 0.0
    e = float(rng.uniform(0.2, 0.6))                   # restitution

    # centres at contact: level in the air (r1 + r2 apart); on the floor the centres sit at r1 and r2,
    # so they touch when 2 sqrt(r1 r2) apart sideways
    sep = (r1 + r2) if airborne else 2.0 * math.sqrt(r1 * r2)
    a0, b0 = xc - sep * r1 / (r1 + r2), xc + sep * r2 / (r1 + r2)

    def pos(t: float) -> tuple[float, float]:
        dt = t - tc
        if dt <= 0:
            return a0 + v1 * dt, b0 - v2 * dt
        vm = (v1 - v2) * 0.5
        return a0 + (vm - e * v1) * dt, b0 + (vm + e * v2) * dt

    string = Look((60.0, 60.0, 60.0))

    def draw(t: float) -> list[Primitive]:
        a, b = pos(t)
        # on the floor both rest on it; in the air both hang with their centres level, so they touch at r1 + r2
        ya, yb = (y + r1, y + r2) if not airborne else (y + max(r1, r2), y + max(r1, r2))
        prims: list[Primitive] = [Circle(a, ya, r1, l1), Circle(b, yb, r2, l2)]
        if airborne:
            top = stage.y_top * 1.1
            prims += [Segment(a, ya + r1, a0, top, 0.01, string), Segment(b, yb + r2, b0, top, 0.01, string)]
        return prims

    events = [Event(ONSET_KIND, k, float(rng.uniform(0.6, 1.0)), fps, "collide", material, partner=partner)]
    return Actor("collide", material, "ball", float(rng.uniform(-0.2, 1.0)), draw, events,
                 x_at=lambda t: xc, partner=partner, partner_word="ball")


# ----------------------------------------------------------------------------- silent actors

def make_silent(rng: np.random.Generator, stage: Stage) -> Actor:
    """Motion without sound: a gentle placement (slows to rest), a pendulum, a passing or floating object."""
    fps = stage.fps
    material = str(rng.choice(list(MATERIAL_LOOKS)))
    look = look_for(rng, material)
    r = float(rng.uniform(0.06, 0.25)) * stage.size
    span = stage.x_hi - stage.x_lo
    kind = str(rng.choice(["place", "pendulum", "pass", "float"]))
    x0 = float(rng.uniform(stage.x_lo + 0.15 * span, stage.x_hi - 0.15 * span))
    t_end = stage.t(stage.n_frames)
    if kind == "place":
        h0 = float(rng.uniform(0.3, 0.7)) * stage.y_top
        t0, dur = float(rng.uniform(0.3, t_end - 2.5)), float(rng.uniform(1.0, 2.0))

        def y_of(t: float) -> float:
            s = float(np.clip((t - t0) / dur, 0.0, 1.0))
            return h0 * (1.0 - s) ** 2                     # slows to zero speed at the floor: no impact

        def draw(t: float) -> list[Primitive]:
            y = y_of(t)
            return [Box(x0, y + r, r, r, look), Segment(x0, y + 2 * r, x0 + 0.1, y + 2 * r + 0.7, 0.04,
                                                        Look((200.0, 160.0, 130.0)))]
    elif kind == "pendulum":
        length = float(rng.uniform(0.4, 0.8)) * stage.y_top
        top = stage.y_top * 1.05
        amp, w = float(rng.uniform(0.3, 0.8)), 2 * math.pi / float(rng.uniform(1.2, 2.5))
        ph = float(rng.uniform(0, 2 * math.pi))

        def draw(t: float) -> list[Primitive]:
            a = amp * math.sin(w * t + ph)
            bx, by = x0 + length * math.sin(a), top - length * math.cos(a)
            return [Segment(x0, top, bx, by, 0.01, Look((60.0, 60.0, 60.0))), Circle(bx, by, r, look)]
    elif kind == "pass":
        v = float(rng.choice([-1, 1]) * rng.uniform(0.2, 0.6)) * span / 4
        y = float(rng.uniform(0.1, 0.6)) * stage.y_top

        def draw(t: float) -> list[Primitive]:
            return [Circle(x0 + v * (t - t_end / 2), y + r, r, look)]
    else:
        y0, amp, w = float(rng.uniform(0.3, 0.7)) * stage.y_top, float(rng.uniform(0.05, 0.2)), float(rng.uniform(1, 3))

        def draw(t: float) -> list[Primitive]:
            return [Box(x0 + 0.3 * amp * math.sin(0.7 * w * t), y0 + amp * math.sin(w * t), r, r * 0.7, look,
                        angle=0.3 * math.sin(0.5 * w * t))]
    return Actor("silent", material, kind, float(rng.uniform(-0.3, 1.5)), draw, [], sounding=False)


def make_occluder(rng: np.random.Generator, stage: Stage) -> Actor:
    """Something near the camera drifting across the view (a post, a plant): it may hide a contact."""
    look = look_for(rng, str(rng.choice(["wood", "stone", "plastic"])))
    span = stage.x_hi - stage.x_lo
    w = float(rng.uniform(0.06, 0.18)) * span
    v = float(rng.choice([-1, 1]) * rng.uniform(0.02, 0.12)) * span
    x0 = float(rng.uniform(stage.x_lo, stage.x_hi))
    t_mid = stage.t(stage.n_frames) / 2

    def draw(t: float) -> list[Primitive]:
        x = x0 + v * (t - t_mid)
        return [Box(x, stage.y_top, w / 2, stage.y_top * 1.5, look)]
    return Actor("occluder", "wood", "post", -float(rng.uniform(0.5, 0.9)), draw, [], sounding=False)


def make_family(rng: np.random.Generator, stage: Stage, family: str, material: str, partner: str) -> Actor:
    if family in ("drop", "slide"):
        return make_drop(rng, stage, material, slide=family == "slide")
    makers = {"hit": make_hit, "roll": make_roll, "scrape": make_scrape, "footsteps": make_footsteps,
              "close": make_close}
    if family == "collide":
        return make_collide(rng, stage, material, partner)
    return makers[family](rng, stage, material)
