"""Pixels of the out-of-domain scenes: anti-aliased shapes, shading, backdrops and camera effects.

Shapes are signed distance fields evaluated only inside their bounding box, so drawing costs what
the object covers. A sprite drawn at several instants within one frame and averaged gives motion
blur. Backdrops are painted once per clip on a canvas larger than the picture; the camera (pan and
shake) is a crop window on it. Everything is float32 RGB in 0..255 until `finish_frame`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.ndimage import gaussian_filter, zoom

RGB = tuple[float, float, float]


# --------------------------------------------------------------------------- shapes

@dataclass(frozen=True)
class Ellipse:
    """An axis-aligned ellipse (a disc when rx == ry); canvas pixels."""

    cx: float
    cy: float
    rx: float
    ry: float

    def bbox(self) -> tuple[float, float, float, float]:
        return self.cx - self.rx, self.cy - self.ry, self.cx + self.rx, self.cy + self.ry

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        k = min(self.rx, self.ry)
        return (np.hypot((x - self.cx) / self.rx, (y - self.cy) / self.ry) - 1.0) * k

    def local(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x - self.cx) / self.rx, (y - self.cy) / self.ry


@dataclass(frozen=True)
class Capsule:
    """A segment with round ends (limbs, sticks)."""

    x0: float
    y0: float
    x1: float
    y1: float
    r: float

    def bbox(self) -> tuple[float, float, float, float]:
        return (min(self.x0, self.x1) - self.r, min(self.y0, self.y1) - self.r,
                max(self.x0, self.x1) + self.r, max(self.y0, self.y1) + self.r)

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        dx, dy = self.x1 - self.x0, self.y1 - self.y0
        length2 = dx * dx + dy * dy
        h = np.clip(((x - self.x0) * dx + (y - self.y0) * dy) / length2, 0.0, 1.0) if length2 > 0 else 0.0
        return np.hypot(x - self.x0 - h * dx, y - self.y0 - h * dy) - self.r

    def local(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        length = max(1e-6, math.hypot(self.x1 - self.x0, self.y1 - self.y0))
        ux, uy = (self.x1 - self.x0) / length, (self.y1 - self.y0) / length
        along = ((x - self.x0) * ux + (y - self.y0) * uy) / length
        across = (-(x - self.x0) * uy + (y - self.y0) * ux) / max(self.r, 1e-6)
        return along, across


@dataclass(frozen=True)
class Polygon:
    """A convex polygon (corners in order, either winding); boxes, lids, doors, bats."""

    points: tuple[tuple[float, float], ...]

    def bbox(self) -> tuple[float, float, float, float]:
        xs, ys = zip(*self.points)
        return min(xs), min(ys), max(xs), max(ys)

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        pts = np.asarray(self.points, float)
        area = 0.5 * float(np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1]))
        sign = 1.0 if area > 0 else -1.0
        out = np.full(np.broadcast(x, y).shape, -np.inf)
        for (ax, ay), (bx, by) in zip(pts, np.roll(pts, -1, axis=0)):
            ex, ey = bx - ax, by - ay
            length = math.hypot(ex, ey) or 1.0
            # outward distance to this edge's line (exact inside; a close bound outside)
            out = np.maximum(out, sign * ((x - ax) * ey - (y - ay) * ex) / length)
        return out

    def local(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = self.bbox()
        return (x - x0) / max(1e-6, x1 - x0), (y - y0) / max(1e-6, y1 - y0)


def rotated_box(cx: float, cy: float, hw: float, hh: float, angle: float) -> Polygon:
    """A w x h rectangle turned by `angle` (radians, counter-clockwise on screen) about its centre."""
    c, s = math.cos(angle), math.sin(angle)
    corners = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
    return Polygon(tuple((cx + c * x + s * y, cy - s * x + c * y) for x, y in corners))


Shape = Ellipse | Capsule | Polygon


# --------------------------------------------------------------------------- sprites

@dataclass(frozen=True)
class Sprite:
    """A shape with its look. `shading`: flat | sphere | shadow | panel; `pattern`: None | seam | grain
    | stripes. `angle` turns the pattern (a ball's spin)."""

    shape: Shape
    colour: RGB
    shading: str = "flat"        # "flat" | "sphere" | "panel" (polygons)
    pattern: str | None = None
    angle: float = 0.0
    softness: float = 1.0
    opacity: float = 1.0


_LIGHT = np.array([-0.45, -0.6, 0.66])
_LIGHT /= np.linalg.norm(_LIGHT)


def _shade(sprite: Sprite, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(h, w, 3) colour of `sprite` at pixel centres x, y."""
    colour = np.asarray(sprite.colour, np.float32)
    u, v = sprite.shape.local(x, y)
    if sprite.shading == "sphere":
        nz = np.sqrt(np.clip(1.0 - u * u - v * v, 0.0, 1.0))
        lambert = np.clip(u * _LIGHT[0] + v * _LIGHT[1] + nz * _LIGHT[2], 0.0, 1.0)
        gain = 0.28 + 0.85 * lambert
        spec = 90.0 * lambert ** 24
    elif sprite.shading == "panel":
        gain = 1.1 - 0.25 * np.clip(v, 0.0, 1.0)          # lit from above: the lower part darker
        spec = 0.0
    else:
        gain, spec = np.ones_like(x), 0.0
    gain = gain * _pattern(sprite, u, v)
    return colour[None, None, :] * np.asarray(gain, np.float32)[..., None] + np.asarray(spec, np.float32)[..., None]


def _pattern(sprite: Sprite, u: np.ndarray, v: np.ndarray) -> np.ndarray | float:
    if sprite.pattern == "seam":       # a ball's seam: a band through the centre, turned by its spin
        c, s = math.cos(sprite.angle), math.sin(sprite.angle)
        return 1.0 - 0.45 * (np.abs(u * c + v * s) < 0.13)
    if sprite.pattern == "grain":      # wood: wavy bands along the long side
        return 0.86 + 0.14 * np.sin(40.0 * v + 3.0 * np.sin(7.0 * u + sprite.angle))
    if sprite.pattern == "stripes":
        return 0.8 + 0.2 * (np.sin(18.0 * u + sprite.angle) > 0)
    return 1.0


def paint(frame: np.ndarray, instants: list[list[Sprite]], offset: tuple[int, int] = (0, 0)) -> None:
    """Draw sprites onto `frame` (H, W, 3 float32) in order, in place.

    `instants` holds the same sprites (same order) at several moments inside the frame's exposure;
    coverage is averaged over them (motion blur) and the colour is taken from the middle one.
    `offset` is the canvas position of the frame's top-left pixel.
    """
    if not instants:
        return
    height, width = frame.shape[:2]
    ox, oy = offset
    middle = instants[len(instants) // 2]
    if any(len(moment) != len(middle) for moment in instants):
        instants = [middle]          # something enters or leaves within this frame: draw it sharp
    for i, sprite in enumerate(middle):
        shapes = [moment[i].shape for moment in instants]
        pad = 2.0 + sprite.softness
        boxes = np.array([s.bbox() for s in shapes])
        x0 = max(0, int(math.floor(boxes[:, 0].min() - pad)) - ox)
        y0 = max(0, int(math.floor(boxes[:, 1].min() - pad)) - oy)
        x1 = min(width, int(math.ceil(boxes[:, 2].max() + pad)) - ox)
        y1 = min(height, int(math.ceil(boxes[:, 3].max() + pad)) - oy)
        if x1 <= x0 or y1 <= y0:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        xs += ox + 0.5
        ys += oy + 0.5
        alpha = np.zeros(xs.shape, np.float32)
        for shape in shapes:
            alpha += np.clip(0.5 - shape.sdf(xs, ys) / sprite.softness, 0.0, 1.0)
        alpha *= sprite.opacity / len(shapes)
        region = frame[y0:y1, x0:x1]
        region += alpha[..., None] * (_shade(sprite, xs, ys) - region)


# --------------------------------------------------------------------------- textures and backdrops

def smooth_noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Value noise in [-1, 1] with features about `cell` pixels across: (height, width)."""
    gh, gw = max(2, int(height / cell) + 2), max(2, int(width / cell) + 2)
    coarse = rng.standard_normal((gh, gw))
    fine = zoom(coarse, (height / (gh - 1) + 1e-3, width / (gw - 1) + 1e-3), order=3)[:height, :width]
    return (fine / max(1e-6, float(np.abs(fine).max()))).astype(np.float32)


def gradient(height: int, width: int, top: RGB, bottom: RGB) -> np.ndarray:
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    return np.broadcast_to((1 - t) * np.asarray(top, np.float32) + t * np.asarray(bottom, np.float32),
                           (height, width, 3)).copy()


def textured(rng: np.random.Generator, img: np.ndarray, amount: float, cells: tuple[float, ...] = (60.0, 9.0, 2.0)
             ) -> np.ndarray:
    """Multiply by blotches at several scales (plaster, fabric, asphalt)."""
    h, w = img.shape[:2]
    field_ = sum(smooth_noise(rng, h, w, c) * (0.55 ** i) for i, c in enumerate(cells))
    return img * (1.0 + amount * field_)[..., None]


@dataclass(frozen=True)
class Palette:
    """Colours of one backdrop: wall, floor (or ground, felt) and accents."""

    wall: RGB
    floor: RGB
    accent: RGB
    seams: RGB = (40.0, 30.0, 25.0)


PALETTES = (
    Palette((196, 188, 172), (150, 102, 62), (236, 232, 222)),      # beige wall, oak floor
    Palette((120, 140, 160), (84, 84, 90), (220, 220, 226)),        # blue-grey wall, slate floor
    Palette((210, 200, 190), (190, 170, 140), (120, 60, 50)),       # cream wall, light wood
    Palette((90, 110, 80), (110, 92, 70), (200, 190, 150)),         # olive wall, worn wood
    Palette((230, 228, 224), (160, 160, 156), (60, 70, 90)),        # white wall, concrete
    Palette((150, 80, 60), (70, 50, 40), (210, 190, 160)),          # brick red, dark wood
)


def room(rng: np.random.Generator, height: int, width: int, floor_top: int, palette: Palette, *,
         vanish_x: float, planks: bool) -> np.ndarray:
    """A wall down to `floor_top` with a skirting board, then a floor seen in perspective."""
    img = gradient(height, width, tuple(c * 1.08 for c in palette.wall), tuple(c * 0.86 for c in palette.wall))
    if rng.random() < 0.4:     # wallpaper stripes
        cols = np.arange(width, dtype=np.float32)
        img *= (0.96 + 0.04 * np.sign(np.sin(cols / rng.uniform(6, 20))))[None, :, None]
    img = textured(rng, img, 0.06)
    floor_h = height - floor_top
    if floor_h > 0:
        rows = np.arange(floor_h, dtype=np.float32)[:, None] + 1.0
        cols = np.arange(width, dtype=np.float32)[None, :]
        depth = 1.0 / rows                                   # far rows are deep
        fl = gradient(floor_h, width, tuple(c * 0.75 for c in palette.floor), tuple(c * 1.1 for c in palette.floor))
        world_x = (cols - vanish_x) / rows                   # floor x; lines converge at the vanishing point
        if planks:
            plank = np.floor(world_x * rng.uniform(4, 9))
            tone = 0.9 + 0.2 * np.sin(plank * 12.9898 + rng.uniform(0, 6)) ** 2
            seam = (np.abs(world_x * rng.uniform(4, 9) % 1.0 - 0.5) > 0.47)
            fl *= (tone * (1.0 - 0.35 * seam))[..., None]
        else:                                                # tiles
            across = (np.abs((world_x * 3.0) % 1.0 - 0.5) > 0.46) | (np.abs((depth * 40.0) % 1.0 - 0.5) > 0.45)
            fl *= (1.0 - 0.3 * across)[..., None]
        fl = textured(rng, fl, 0.1, (30.0, 5.0, 1.5))
        img[floor_top:] = fl
        skirt = max(2, height // 60)
        img[max(0, floor_top - skirt):floor_top] = np.asarray(palette.accent, np.float32) * 0.9
    return img


def floor_from_above(rng: np.random.Generator, height: int, width: int, palette: Palette, *, planks: bool
                     ) -> np.ndarray:
    """A floor seen straight down: parallel planks (or square tiles), no perspective."""
    img = gradient(height, width, palette.floor, tuple(c * 0.9 for c in palette.floor))
    cols = np.arange(width, dtype=np.float32)[None, :]
    rows = np.arange(height, dtype=np.float32)[:, None]
    pitch = float(rng.uniform(0.06, 0.12)) * min(height, width)
    if planks:
        plank = np.floor(cols / pitch)
        tone = 0.9 + 0.2 * np.sin(plank * 12.9898 + rng.uniform(0, 6)) ** 2
        ends = (np.abs(((rows / (6 * pitch)) + 0.37 * plank) % 1.0 - 0.5) > 0.49)
        seam = (cols % pitch < 1.2) | ends
        img *= np.broadcast_to(tone * (1.0 - 0.35 * seam), (height, width))[..., None]
    else:
        grout = (cols % (2 * pitch) < 1.5) | (rows % (2 * pitch) < 1.5)
        img *= (1.0 - 0.3 * grout)[..., None]
    return textured(rng, img, 0.1, (30.0, 5.0, 1.5))


def outdoor(rng: np.random.Generator, height: int, width: int, ground_top: int, *, grass: bool) -> np.ndarray:
    """Sky with clouds above a distant tree line and a patchy ground (grass or asphalt)."""
    img = gradient(height, width, (118, 160, 214), (200, 214, 228))
    clouds = np.clip(smooth_noise(rng, height, width, 80.0) * 1.6 - 0.4, 0.0, 1.0)
    img += clouds[..., None] * (250.0 - img) * 0.7
    trees = ground_top - (8 + 10 * (smooth_noise(rng, 1, width, 25.0)[0] + 1.0)).astype(int) * max(1, height // 200)
    rows = np.arange(height)[:, None]
    img[(rows >= trees[None, :]) & (rows < ground_top)] = (58, 84, 52)
    if ground_top >= height:
        return img
    base = (92, 130, 60) if grass else (96, 96, 100)
    img[ground_top:] = gradient(height - ground_top, width, tuple(c * 0.8 for c in base), base)
    img[ground_top:] = textured(rng, img[ground_top:], 0.25 if grass else 0.12, (20.0, 4.0, 1.2))
    return img


def bricks(rng: np.random.Generator, height: int, width: int, brick_px: float) -> np.ndarray:
    """A brick wall texture (height, width, 3)."""
    base = np.asarray(rng.choice([(150, 70, 50), (170, 110, 80), (120, 110, 105)]), np.float32)
    rows = np.arange(height)[:, None] / (brick_px * 0.45)
    cols = np.arange(width)[None, :] / brick_px + 0.5 * (np.floor(rows) % 2)
    mortar = (rows % 1.0 < 0.12) | (cols % 1.0 < 0.06)
    tone = 0.85 + 0.3 * ((np.sin(np.floor(rows) * 78.23 + np.floor(cols) * 12.9898) * 43758.5) % 1.0)
    img = base[None, None, :] * tone[..., None]
    img[mortar] = (190, 185, 175)
    return textured(rng, img, 0.12, (8.0, 2.0))


def felt(rng: np.random.Generator, height: int, width: int, inner: tuple[int, int, int, int], rail_px: int
         ) -> np.ndarray:
    """A table from above: felt inside `inner` (x0, y0, x1, y1), wooden rails around it, floor beyond."""
    img = textured(rng, gradient(height, width, (70, 64, 60), (60, 55, 52)), 0.15)
    x0, y0, x1, y1 = inner
    colour = rng.choice([(30, 110, 60), (40, 80, 140), (120, 40, 45)])
    wood = np.asarray((120, 74, 40), np.float32)
    rx0, ry0, rx1, ry1 = x0 - rail_px, y0 - rail_px, x1 + rail_px, y1 + rail_px
    img[max(0, ry0):ry1, max(0, rx0):rx1] = wood
    img[max(0, ry0):ry1, max(0, rx0):rx1] = textured(rng, img[max(0, ry0):ry1, max(0, rx0):rx1], 0.12, (12.0, 3.0))
    img[y0:y1, x0:x1] = textured(rng, gradient(y1 - y0, x1 - x0, colour, tuple(c * 0.85 for c in colour)), 0.1,
                                 (40.0, 3.0, 1.0))
    return img


# --------------------------------------------------------------------------- camera effects

@dataclass(frozen=True)
class Look:
    """How the camera renders a clip: sensor noise, exposure, contrast, blur, vignette."""

    noise: float = 0.0          # sensor noise, standard deviation in 8-bit levels
    exposure: float = 1.0       # gain before the tone curve (dark scenes < 1)
    contrast: float = 1.0       # < 1 pulls colours towards grey
    flicker: float = 0.0        # relative exposure wobble per frame (mains lighting)
    defocus: float = 0.0        # backdrop blur, pixels
    vignette: float = 0.0       # corner darkening, 0..1
    tint: RGB = (1.0, 1.0, 1.0)
    extra: dict = field(default_factory=dict)

    def without_effects(self) -> Look:
        return replace(self, noise=0.0, flicker=0.0, vignette=0.0, defocus=0.0, exposure=1.0, contrast=1.0,
                       tint=(1.0, 1.0, 1.0))


def vignette_mask(height: int, width: int, amount: float) -> np.ndarray:
    y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    return (1.0 - amount * np.clip(x * x + y * y - 0.25, 0.0, None) / 1.75)[..., None]


def finish_frame(frame: np.ndarray, look: Look, rng: np.random.Generator, vignette: np.ndarray | None) -> np.ndarray:
    """Camera response of one frame: exposure (+ flicker), tint, contrast, vignette, noise -> uint8.

    Works in place on `frame` (float32, the caller's scratch copy): a clip is hundreds of frames.
    """
    gain = look.exposure * (1.0 + look.flicker * float(rng.standard_normal()))
    frame *= (gain * np.asarray(look.tint, np.float32))
    if look.contrast != 1.0:
        mean = frame.mean(axis=(0, 1), keepdims=True)
        frame -= mean
        frame *= look.contrast
        frame += mean
    if vignette is not None:
        frame *= vignette
    if look.noise > 0:
        grain = rng.standard_normal(frame.shape, dtype=np.float32)
        grain *= look.noise
        frame += grain
    np.clip(frame, 0.0, 255.0, out=frame)
    return frame.astype(np.uint8)


def defocus(img: np.ndarray, sigma: float) -> np.ndarray:
    return gaussian_filter(img, sigma=(sigma, sigma, 0)) if sigma > 0 else img
