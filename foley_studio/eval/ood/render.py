"""Frames of a planned scene: backdrop crop (camera), silent distractors, actors, camera response."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .draw import Capsule, Ellipse, Sprite, defocus, finish_frame, paint, rotated_box, vignette_mask
from .scene import Scene


def render_frames(scene: Scene, *, clean: bool = False) -> Iterator[np.ndarray]:
    """Yield uint8 (H, W, 3) frames one at a time (a clip never sits in memory whole).

    `clean` leaves out what hides geometry (noise, blur, vignette, exposure and contrast changes,
    motion blur, distractors) but keeps the camera path: the tests measure contacts on it.
    """
    f = scene.framing
    style = scene.style
    look = style.look.without_effects() if clean else style.look
    canvas = defocus(scene.backdrop(), look.defocus).astype(np.float32)
    distract = None if clean or style.clutter == 0 else distractors(scene, style.clutter)
    vignette = vignette_mask(f.height, f.width, look.vignette) if look.vignette > 0 else None
    noise = np.random.default_rng([scene.seed, 11])
    shutter = 0.0 if clean else style.shutter
    moments = list(np.linspace(-shutter / 2, shutter / 2, 5)) if shutter > 0 else [0.0]
    for k in range(f.n_frames):
        x, y = int(scene.crop.x[k]), int(scene.crop.y[k])
        frame = canvas[y:y + f.height, x:x + f.width].copy()
        if distract is not None:
            paint(frame, [distract(k + d) for d in moments], (x, y))
        paint(frame, [scene.actors(k + d) for d in moments], (x, y))
        yield finish_frame(frame, look, noise, vignette)


def distractors(scene: Scene, count: int) -> Callable[[float], list[Sprite]]:
    """Silent background motion for busy scenes: passers-by, drifting balloons, a swinging sign.

    Everything moves smoothly (constant speed or a pendulum) and never touches anything, so it
    makes no sound and has no onsets; it is there to be ignored.
    """
    rng = np.random.default_rng([scene.seed, 23])
    height, width = scene.canvas
    things = []
    for _ in range(count):
        kind = rng.choice(["walker", "balloon", "sign"])
        colour = tuple(float(c) for c in rng.uniform(30, 230, 3))
        size = float(rng.uniform(0.05, 0.16)) * scene.framing.height
        x0, y0 = float(rng.uniform(0, width)), float(rng.uniform(0.15, 0.8) * height)
        speed = float(rng.uniform(0.4, 2.5)) * rng.choice([-1, 1])
        things.append((kind, colour, size, x0, y0, speed, float(rng.uniform(0, 6.28))))

    def at(t: float) -> list[Sprite]:
        out = []
        for kind, colour, size, x0, y0, speed, phase in things:
            x = (x0 + speed * t) % (width + 2 * size) - size
            if kind == "walker":      # a blurred figure crossing far behind the action
                out.append(Sprite(Capsule(x, y0 - size, x, y0 + size, 0.28 * size), colour, softness=2.5,
                                  opacity=0.8))
                out.append(Sprite(Ellipse(x, y0 - 1.45 * size, 0.25 * size, 0.25 * size), colour, softness=2.0,
                                  opacity=0.8))
            elif kind == "balloon":
                yb = y0 + 0.1 * size * np.sin(0.05 * t + phase)
                out.append(Sprite(Ellipse(x, yb, 0.45 * size, 0.55 * size), colour, shading="sphere", opacity=0.9))
            else:                     # a hanging sign swinging slowly
                angle = 0.3 * np.sin(0.08 * t + phase)
                out.append(Sprite(rotated_box(x0, y0, 0.6 * size, 0.35 * size, angle), colour, shading="panel",
                                  pattern="stripes", opacity=0.9))
        return out

    return at
