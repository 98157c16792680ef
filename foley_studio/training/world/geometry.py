"""What the world is made of: events on an exact clock, drawable primitives, and the camera.

World coordinates are in *units* (about the height of a small table), x to the right, y up, the floor
at y = 0. An actor stands at a depth z >= 0 in front of the backdrop; the camera is a pinhole at
height `height` above the floor looking horizontally, so everything at depth z is scaled by
`depth_scale(z)` and the floor line of depth z lies `ppu * depth_scale(z) * height` pixels below
the horizon row. Primitives are described in world units; `picture.py` projects and rasterises them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE

ONSET_KIND = "impact"                   # events with a sharp onset (manifest `kind`; the eval scores these)
SPAN_KINDS = ("scrape", "roll")         # continuous friction / rolling from `frame` to `end_frame`
DEPTH_FALLOFF = 0.6                      # depth_scale(z) = 1 / (1 + DEPTH_FALLOFF * z)


def depth_scale(z: float) -> float:
    return 1.0 / (1.0 + DEPTH_FALLOFF * z)


def frame_sample(frame: int, fps: Fraction) -> int:
    """The audio sample at which video frame `frame` is shown; exact for every rate the world uses."""
    samples = Fraction(frame) * SAMPLE_RATE / fps
    assert samples.denominator == 1, f"frame {frame} at {fps} fps falls between samples ({samples})"
    return int(samples)


# --------------------------------------------------------------------------- events

@dataclass(frozen=True)
class Event:
    """One sound-making moment: an onset at `frame`, or friction/rolling from `frame` to `end_frame`."""

    kind: str                 # ONSET_KIND | "scrape" | "roll"
    frame: int
    strength: float           # 0..1, drives gain
    fps: Fraction
    action: str               # the family that made it: drop, hit, footsteps, close, collide, slide, roll, scrape
    material: str             # what sounds
    end_frame: int | None = None
    partner: str | None = None   # collide: the other object's material (both sound)

    @property
    def time(self) -> float:
        return float(self.frame / self.fps)

    @property
    def sample(self) -> int:
        return frame_sample(self.frame, self.fps)

    @property
    def end_sample(self) -> int | None:
        return None if self.end_frame is None else frame_sample(self.end_frame, self.fps)

    def to_json(self) -> dict:
        out = {"kind": self.kind, "time": round(self.time, 6), "frame": self.frame, "sample": self.sample,
               "strength": round(self.strength, 4), "action": self.action, "material": self.material}
        if self.end_frame is not None:
            out["end"] = round(float(self.end_frame / self.fps), 6)
            out["end_frame"] = self.end_frame
        if self.partner:
            out["partner"] = self.partner
        return out


# --------------------------------------------------------------------------- primitives

@dataclass(frozen=True)
class Look:
    """How a surface is painted: base colour (0..255), finish and opacity."""

    rgb: tuple[float, float, float]
    finish: str = "matte"     # matte | shiny | grain | speckle | glass | cloth | dark
    alpha: float = 1.0


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    r: float
    look: Look
    angle: float = 0.0        # spin, drawn as a stripe so rolling shows


@dataclass(frozen=True)
class Box:
    x: float                  # centre
    y: float
    hw: float                 # half width / half height before rotation
    hh: float
    look: Look
    angle: float = 0.0        # radians, counter-clockwise


@dataclass(frozen=True)
class Segment:
    x0: float
    y0: float
    x1: float
    y1: float
    half_width: float
    look: Look


@dataclass(frozen=True)
class Quad:
    points: tuple[tuple[float, float], ...]   # convex, in order
    look: Look


Primitive = Circle | Box | Segment | Quad


def box_support(hw: float, hh: float, angle: float) -> float:
    """Half the vertical extent of a rotated box: how far its lowest point lies below its centre."""
    return hw * abs(math.sin(angle)) + hh * abs(math.cos(angle))


def lowest_point(prims: list[Primitive]) -> float:
    """The lowest y of a list of primitives (tests check contacts with it)."""
    lows = []
    for p in prims:
        if isinstance(p, Circle):
            lows.append(p.y - p.r)
        elif isinstance(p, Box):
            lows.append(p.y - box_support(p.hw, p.hh, p.angle))
        elif isinstance(p, Segment):
            lows.append(min(p.y0, p.y1) - p.half_width)
        else:
            lows.append(min(y for _, y in p.points))
    return min(lows)


# --------------------------------------------------------------------------- camera

def _smooth_noise(rng: np.random.Generator, n_waves: int, f_lo: float, f_hi: float):
    """A sum of a few sinusoids with random frequencies and phases, unit RMS: handheld shake, drift."""
    freqs = rng.uniform(f_lo, f_hi, n_waves)
    phases = rng.uniform(0, 2 * np.pi, n_waves)
    amps = rng.uniform(0.5, 1.0, n_waves)
    amps = amps / np.sqrt(0.5 * np.sum(amps ** 2))

    def at(t: float | np.ndarray) -> float | np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        return np.sum(amps[:, None] * np.sin(2 * np.pi * freqs[:, None] * t.reshape(1, -1) + phases[:, None]),
                      axis=0).reshape(t.shape)
    return at


@dataclass
class Camera:
    """A pinhole camera that can drift, shake, zoom slowly and follow a subject."""

    width: int
    height_px: int
    zoom: float               # 1.0: the frame is 4 units tall at depth 0
    cam_height: float         # units above the floor
    horizon_frac: float       # horizon row / frame height (camera tilt)
    x0: float = 0.0
    drift: float = 0.0        # units per second
    zoom_rate: float = 0.0    # relative zoom change per second
    shake_px: float = 0.0     # RMS shake in pixels
    follow: object | None = None     # callable t -> x of a subject to keep in frame
    follow_lag: float = 0.35  # seconds of smoothing of a following camera
    _shake_x: object = field(default=None, repr=False)
    _shake_y: object = field(default=None, repr=False)

    def seed_shake(self, rng: np.random.Generator) -> None:
        self._shake_x = _smooth_noise(rng, 3, 1.0, 8.0)
        self._shake_y = _smooth_noise(rng, 3, 1.0, 8.0)

    def ppu(self, t: float) -> float:
        """Pixels per unit at depth 0."""
        return self.zoom * (1.0 + self.zoom_rate * t) * self.height_px / 4.0

    def centre_x(self, t: float) -> float:
        x = self.x0 + self.drift * t
        if self.follow is not None:
            # a camera operator lags the subject: average its position over the last `follow_lag` s
            ts = t - self.follow_lag * np.linspace(0.0, 1.0, 6)
            x += float(np.mean([self.follow(max(0.0, s)) for s in ts]))
        if self._shake_x is not None and self.shake_px:
            x += float(self._shake_x(t)) * self.shake_px / self.ppu(t)
        return x

    def horizon_row(self, t: float) -> float:
        row = self.horizon_frac * self.height_px
        if self._shake_y is not None and self.shake_px:
            row += float(self._shake_y(t)) * self.shake_px
        return row

    def project(self, x: float, y: float, z: float, t: float) -> tuple[float, float, float]:
        """World point at depth z -> (column, row, pixels per unit there) at time t."""
        scale = self.ppu(t) * depth_scale(z)
        col = self.width / 2.0 + (x - self.centre_x(t)) * scale
        row = self.horizon_row(t) + (self.cam_height - y) * scale
        return col, row, scale

    def floor_row(self, t: float = 0.0, z: float = 0.0) -> float:
        return self.project(0.0, 0.0, z, t)[1]

    def view(self, z: float = 0.0, t: float = 0.0) -> tuple[float, float, float]:
        """(x_left, x_right, y_top) of the visible world at depth z and time t."""
        scale = self.ppu(t) * depth_scale(z)
        half = self.width / 2.0 / scale
        cx = self.x0 + self.drift * t
        return cx - half, cx + half, self.cam_height + self.horizon_row(t) / scale
