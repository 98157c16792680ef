"""Drawing a scene: a textured backdrop and perspective floor, soft-edged actors, shadows, and a camera's flaws.

Backdrop and floor are textures in world units sampled through the moving camera (so pans, zooms and
shake move them correctly); actors are rasterised from signed distances with a one-pixel soft edge,
far to near; contact shadows darken as an object nears the floor. Then the camera's flaws: motion
blur (sub-frame samples), defocus, exposure flicker, sensor noise, and H.264 compression on write.
"""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates, zoom

from foley_studio.core.timebase import SAMPLE_RATE

from .actors import MATERIAL_LOOKS
from .geometry import DEPTH_FALLOFF, Box, Circle, Look, Primitive, Quad, Segment, box_support, depth_scale
from .plan import Scene

TEX_PPU = 32.0                 # texture pixels per world unit
TEX_X = (-14.0, 14.0)          # world x range the textures cover (wrapped beyond)
WALL_Y = 12.0
FLOOR_Z = (-1.6, 14.0)


# ----------------------------------------------------------------------------- textures

def _octaves(rng: np.random.Generator, shape: tuple[int, int], scales: tuple[int, ...]) -> np.ndarray:
    """Smooth value noise in [-1, 1]-ish: a sum of upsampled random grids, coarse ones strongest."""
    out = np.zeros(shape, np.float32)
    for i, cells in enumerate(scales):
        grid = rng.normal(0, 1, (max(2, shape[0] // cells), max(2, shape[1] // cells))).astype(np.float32)
        up = zoom(grid, (shape[0] / grid.shape[0], shape[1] / grid.shape[1]), order=3)[: shape[0], : shape[1]]
        out[: up.shape[0], : up.shape[1]] += up / (1.6 ** i)
    return out / max(1e-6, float(np.abs(out).max()))


def _palette(rng: np.random.Generator, n: int, sat: float = 0.4) -> np.ndarray:
    hues = rng.uniform(0, 1, n)
    vals = rng.uniform(0.35, 0.9, n)
    cols = []
    for h, v in zip(hues, vals):
        k = (np.array([5.0, 3.0, 1.0]) + h * 6) % 6
        cols.append(v - v * sat * np.clip(np.minimum(k, 4 - k), 0, 1))
    return np.array(cols, np.float32) * 255


def wall_texture(rng: np.random.Generator, style: str) -> np.ndarray:
    h, w = int(WALL_Y * TEX_PPU), int((TEX_X[1] - TEX_X[0]) * TEX_PPU)
    base, accent = _palette(rng, 2, sat=float(rng.uniform(0.05, 0.5)))
    n = _octaves(rng, (h, w), (64, 16, 4))
    img = base[None, None, :] * (1.0 + 0.08 * n[..., None])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if style in ("tiles", "bricks"):
        size = float(rng.uniform(0.2, 0.6)) * TEX_PPU
        row = np.floor(yy / size)
        offset = (row % 2) * size / 2 if style == "bricks" else 0.0
        cw = size * (2.0 if style == "bricks" else 1.0)
        grout = (np.minimum(yy % size, size - yy % size) < 1.2) | (np.minimum((xx + offset) % cw, cw - (xx + offset) % cw) < 1.2)
        cell = rng.normal(0, 0.06, (int(h / size) + 2, int(w / cw) + 3)).astype(np.float32)
        img *= (1.0 + cell[row.astype(int), np.floor((xx + offset) / cw).astype(int)])[..., None]
        img[grout] = img[grout] * 0.55 + accent * 0.2
    elif style == "panels":
        pw = float(rng.uniform(0.3, 0.8)) * TEX_PPU
        stripes = np.sin(xx / pw * 2 * np.pi * 6 + 3 * n) * 0.06
        img *= (1.0 + stripes)[..., None]
        img[(xx % pw) < 1.5] *= 0.6
    elif style in ("photo", "busy"):
        # a lit room: soft colour fields, a window or two, furniture-like blocks; "busy" adds clutter
        col = _octaves(rng, (h, w), (128, 32))
        img = img * (0.75 + 0.35 * col[..., None])
        for _ in range(int(rng.integers(3, 7)) if style == "photo" else int(rng.integers(25, 60))):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            bw, bh = int(rng.integers(8, 160)), int(rng.integers(8, 160))
            c = _palette(rng, 1, sat=0.5)[0]
            a = float(rng.uniform(0.3, 0.9))
            img[y0:y0 + bh, x0:x0 + bw] = (1 - a) * img[y0:y0 + bh, x0:x0 + bw] + a * c
        img = gaussian_filter(img, (1.0, 1.0, 0)) if style == "photo" else img
    light = 1.0 + 0.25 * np.linspace(1, -1, h)[:, None, None]      # brighter towards the top (ceiling light)
    return np.clip(img * light, 0, 255).astype(np.float32)[::-1].copy()   # row 0 = y 0 (floor line)


def floor_texture(rng: np.random.Generator, style: str, material: str) -> np.ndarray:
    h, w = int((FLOOR_Z[1] - FLOOR_Z[0]) * TEX_PPU), int((TEX_X[1] - TEX_X[0]) * TEX_PPU)
    colours = MATERIAL_LOOKS.get(material, (((120, 110, 100),), ()))[0]
    base = np.array(colours[int(rng.integers(len(colours)))], np.float32) * float(rng.uniform(0.7, 1.1))
    n = _octaves(rng, (h, w), (48, 12, 3))
    img = base[None, None, :] * (1.0 + 0.1 * n[..., None])
    zz, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if style == "planks":
        pw = float(rng.uniform(0.15, 0.35)) * TEX_PPU
        idx = np.floor(xx / pw).astype(int)
        shade = rng.normal(0, 0.08, idx.max() + 2).astype(np.float32)
        img *= (1.0 + shade[idx] + 0.05 * np.sin(zz / 3.0 + 5 * n))[..., None]
        img[(xx % pw) < 1.2] *= 0.55
    elif style == "tiles":
        size = float(rng.uniform(0.25, 0.6)) * TEX_PPU
        grout = (np.minimum(zz % size, size - zz % size) < 1.0) | (np.minimum(xx % size, size - xx % size) < 1.0)
        img[grout] *= 0.6
    elif style == "speckle":
        img *= (1.0 + 0.35 * rng.normal(0, 1, (h, w)).astype(np.float32) * (rng.random((h, w)) < 0.5))[..., None]
    return np.clip(gaussian_filter(img, (0.7, 0.7, 0)), 0, 255).astype(np.float32)


# ----------------------------------------------------------------------------- shapes

def _sdf(prim: Primitive, col: np.ndarray, row: np.ndarray, to_px) -> np.ndarray:
    """Signed distance (px) of each pixel centre to the primitive (negative inside)."""
    if isinstance(prim, Circle):
        cx, cy, s = to_px(prim.x, prim.y)
        return np.hypot(col - cx, row - cy) - prim.r * s
    if isinstance(prim, Box):
        cx, cy, s = to_px(prim.x, prim.y)
        c, si = math.cos(prim.angle), math.sin(prim.angle)
        dx, dy = col - cx, -(row - cy)                      # y up
        u, v = c * dx + si * dy, -si * dx + c * dy
        qx, qy = np.abs(u) - prim.hw * s, np.abs(v) - prim.hh * s
        return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0)
    if isinstance(prim, Segment):
        ax, ay, s = to_px(prim.x0, prim.y0)
        bx, by, _ = to_px(prim.x1, prim.y1)
        px, py = col - ax, row - ay
        ex, ey = bx - ax, by - ay
        h = np.clip((px * ex + py * ey) / max(1e-9, ex * ex + ey * ey), 0, 1)
        return np.hypot(px - h * ex, py - h * ey) - prim.half_width * s
    pts = [to_px(x, y)[:2] for x, y in prim.points]
    d = np.full(col.shape, -np.inf, np.float32)
    area = sum(pts[i][0] * pts[(i + 1) % len(pts)][1] - pts[(i + 1) % len(pts)][0] * pts[i][1] for i in range(len(pts)))
    sign = 1.0 if area > 0 else -1.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        ex, ey = x1 - x0, y1 - y0
        length = math.hypot(ex, ey) or 1e-9
        d = np.maximum(d, sign * ((col - x0) * ey - (row - y0) * ex) / length)
    return d


def _bounds(prim: Primitive) -> tuple[float, float, float, float]:
    """World bounding box (x0, x1, y0, y1)."""
    if isinstance(prim, Circle):
        return prim.x - prim.r, prim.x + prim.r, prim.y - prim.r, prim.y + prim.r
    if isinstance(prim, Box):
        ext = math.hypot(prim.hw, prim.hh)
        return prim.x - ext, prim.x + ext, prim.y - ext, prim.y + ext
    if isinstance(prim, Segment):
        w = prim.half_width
        return min(prim.x0, prim.x1) - w, max(prim.x0, prim.x1) + w, min(prim.y0, prim.y1) - w, max(prim.y0, prim.y1) + w
    xs, ys = [p[0] for p in prim.points], [p[1] for p in prim.points]
    return min(xs), max(xs), min(ys), max(ys)


def _shade(look: Look, prim: Primitive, col: np.ndarray, row: np.ndarray, to_px, grain: np.ndarray) -> np.ndarray:
    """Colour of each pixel of the primitive: top-lit, with its finish."""
    x0, x1, y0, y1 = _bounds(prim)
    _, r_top, _ = to_px(x0, y1)
    _, r_bot, _ = to_px(x0, y0)
    v = np.clip((row - r_top) / max(1.0, r_bot - r_top), 0, 1)
    rgb = np.array(look.rgb, np.float32)[None, None, :] * (1.15 - 0.4 * v)[..., None]
    gy, gx = (row.astype(int) % grain.shape[0]), (col.astype(int) % grain.shape[1])
    if look.finish == "grain":
        rgb *= (1.0 + 0.12 * np.sin(0.9 * col + 4 * grain[gy, gx]))[..., None]
    elif look.finish in ("speckle", "cloth"):
        rgb *= (1.0 + 0.18 * grain[gy, gx])[..., None]
    if look.finish in ("shiny", "glass"):
        c_left, r_top2, _ = to_px(x0 + 0.3 * (x1 - x0), y0 + 0.75 * (y1 - y0))
        s = max(1.5, 0.15 * (r_bot - r_top))
        rgb += (90.0 * np.exp(-((col - c_left) ** 2 + (row - r_top2) ** 2) / (2 * s * s)))[..., None]
    if isinstance(prim, Circle) and prim.angle:
        # a stripe through the centre shows spin
        cx, cy, sc = to_px(prim.x, prim.y)
        c, si = math.cos(prim.angle), math.sin(prim.angle)
        dist = np.abs((col - cx) * si + (row - cy) * c)
        rgb *= np.where(dist < 0.18 * prim.r * sc, 0.6, 1.0)[..., None]
    return rgb


def _lowest(prim: Primitive) -> float:
    if isinstance(prim, Box):
        return prim.y - box_support(prim.hw, prim.hh, prim.angle)
    return _bounds(prim)[2]


# ----------------------------------------------------------------------------- frames

class Painter:
    """Renders the frames of one scene (textures made once)."""

    def __init__(self, scene: Scene):
        self.scene = scene
        rng = np.random.default_rng([scene.seed, 7])
        self.wall = wall_texture(rng, scene.style.wall)
        self.floor = floor_texture(rng, scene.style.floor, scene.floor_material)
        self.grain = rng.normal(0, 1, (64, 64)).astype(np.float32)
        h, w = scene.height, scene.width
        self.row, self.col = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
        self.flicker_phase = rng.uniform(0, 2 * np.pi, 3)
        self.flicker_freq = rng.uniform(0.3, 9.0, 3)

    def background(self, t: float) -> np.ndarray:
        sc, cam = self.scene, self.scene.camera
        ppu, cx, hz = cam.ppu(t), cam.centre_x(t), cam.horizon_row(t)
        s_wall = ppu * depth_scale(sc.style.wall_depth)
        wx = cx + (self.col - sc.width / 2) / s_wall
        wy = cam.cam_height - (self.row - hz) / s_wall
        img = np.empty((sc.height, sc.width, 3), np.float32)
        on_wall = wy >= 0
        coords = np.stack([wy * TEX_PPU, (wx - TEX_X[0]) * TEX_PPU])
        for c in range(3):
            img[..., c] = map_coordinates(self.wall[..., c], coords, order=1, mode="grid-wrap")
        below = ~on_wall
        if below.any():
            ds = np.maximum((self.row[below] - hz) / (cam.cam_height * ppu), 1e-3)
            z = (1.0 / ds - 1.0) / DEPTH_FALLOFF
            fx = cx + (self.col[below] - sc.width / 2) / (ppu * ds)
            fc = np.stack([(z - FLOOR_Z[0]) * TEX_PPU, (fx - TEX_X[0]) * TEX_PPU])
            fog = np.clip(1.0 - 0.04 * z, 0.7, 1.0)
            for c in range(3):
                img[below, c] = map_coordinates(self.floor[..., c], fc, order=1, mode="grid-wrap") * fog
            # the floor meets the wall in a soft shadow line
            line = np.exp(-np.clip(z - sc.style.wall_depth, -9, 0) ** 2 / 0.02) * 0.35
            img[below] *= (1.0 - line)[:, None]
        return img

    def _to_px(self, z: float, t: float):
        cam = self.scene.camera

        def to_px(x: float, y: float) -> tuple[float, float, float]:
            return cam.project(x, y, z, t)
        return to_px

    def _composite(self, img: np.ndarray, prim: Primitive, z: float, t: float) -> None:
        to_px = self._to_px(z, t)
        x0, x1, y0, y1 = _bounds(prim)
        c0, r1, _ = to_px(x0, y0)
        c1, r0, _ = to_px(x1, y1)
        h, w = img.shape[:2]
        ca, cb = max(0, int(math.floor(c0)) - 2), min(w, int(math.ceil(c1)) + 2)
        ra, rb = max(0, int(math.floor(r0)) - 2), min(h, int(math.ceil(r1)) + 2)
        if ca >= cb or ra >= rb:
            return
        col, row = self.col[ra:rb, ca:cb], self.row[ra:rb, ca:cb]
        alpha = np.clip(0.5 - _sdf(prim, col, row, to_px), 0.0, 1.0) * prim.look.alpha
        if not alpha.any():
            return
        rgb = _shade(prim.look, prim, col, row, to_px, self.grain)
        patch = img[ra:rb, ca:cb]
        patch += alpha[..., None] * (rgb - patch)

    def _shadow(self, img: np.ndarray, prim: Primitive, z: float, t: float) -> None:
        """A soft dark ellipse on the floor under the primitive, stronger as it nears the floor."""
        height = max(0.0, _lowest(prim))
        if height > 1.5:
            return
        x0, x1, _, _ = _bounds(prim)
        c, r, s = self.scene.camera.project(0.5 * (x0 + x1), 0.0, z, t)
        rx = max(1.0, 0.6 * (x1 - x0) * s * (1 + 0.5 * height))
        ry = max(0.7, 0.25 * rx)
        h, w = img.shape[:2]
        ca, cb = max(0, int(c - 2 * rx)), min(w, int(c + 2 * rx) + 1)
        ra, rb = max(0, int(r - 3 * ry)), min(h, int(r + 3 * ry) + 1)
        if ca >= cb or ra >= rb:
            return
        d = ((self.col[ra:rb, ca:cb] - c) / rx) ** 2 + ((self.row[ra:rb, ca:cb] - r) / ry) ** 2
        img[ra:rb, ca:cb] *= (1.0 - 0.5 * math.exp(-2.0 * height) * np.exp(-d))[..., None]

    def actors_over(self, img: np.ndarray, t: float) -> np.ndarray:
        out = img.copy()
        layers = sorted(((a.z, p) for a in self.scene.actors for p in a.draw(t)), key=lambda zp: -zp[0])
        for z, prim in layers:
            self._shadow(out, prim, z, t)
        for z, prim in layers:
            self._composite(out, prim, z, t)
        return out

    def frame(self, k: int) -> np.ndarray:
        sc = self.scene
        t = float(k / sc.fps)
        bg = self.background(t)
        n = sc.style.blur_samples
        if n > 1:
            shutter = 0.5 / float(sc.fps)                   # a 180-degree shutter
            ts = [t + shutter * (i / (n - 1) - 0.5) for i in range(n)]
            img = np.mean([self.actors_over(bg, ti) for ti in ts], axis=0)
        else:
            img = self.actors_over(bg, t)
        if sc.style.defocus:
            img = gaussian_filter(img, (sc.style.defocus, sc.style.defocus, 0))
        if sc.style.flicker:
            f = float(np.sum(np.sin(2 * np.pi * self.flicker_freq * t + self.flicker_phase))) / 3
            img = img * (1.0 + sc.style.flicker * f)
        if sc.style.noise:
            # noise of frame k depends on k only: frames can be rendered in any order
            noise = np.random.default_rng([sc.seed, 8, k]).normal(0, sc.style.noise, img.shape)
            img = img + noise.astype(np.float32)
        return np.clip(img, 0, 255).astype(np.uint8)


def render_video(scene: Scene) -> np.ndarray:
    """All frames, uint8 (n_frames, H, W, 3)."""
    painter = Painter(scene)
    return np.stack([painter.frame(k) for k in range(scene.n_frames)])


def write_video(path: Path, frames: np.ndarray, audio: np.ndarray | None = None, *, fps: Fraction | int = 24,
                crf: int = 23) -> None:
    """H.264 MP4 at `fps` (optionally with AAC audio at 48 kHz); single-threaded so bytes are reproducible."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        vs = out.add_stream("libx264", rate=Fraction(fps))
        vs.width, vs.height, vs.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        vs.options = {"crf": str(crf), "preset": "medium"}
        vs.thread_count = 1
        aus = None
        if audio is not None:
            aus = out.add_stream("aac", rate=SAMPLE_RATE)
            aus.layout = "mono"
        for frame in frames:
            for packet in vs.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if aus is not None:
            pcm = audio.astype(np.float32)[None, :]
            block = 1024 * 48
            for i in range(0, pcm.shape[1], block):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, i:i + block]), format="fltp", layout="mono")
                af.sample_rate = SAMPLE_RATE
                af.pts = i
                for packet in aus.encode(af):
                    out.mux(packet)
            for packet in aus.encode():
                out.mux(packet)
    tmp.replace(path)
