"""The four looks of the out-of-domain split, each drawn with some spread per clip."""
from __future__ import annotations

import numpy as np

from .draw import Look
from .scene import Style

STYLE_NAMES = ("plain", "photo", "busy", "dark")


def make_style(name: str, rng: np.random.Generator) -> Style:
    """`plain`: a steady, clean phone shot; `photo`: hand-held, soft focus, grain and vignette;
    `busy`: strong shake and moving clutter; `dark`: an under-exposed, low-contrast, noisy room."""
    u = rng.uniform
    if name == "plain":
        return Style(name, Look(noise=u(1.0, 2.5), vignette=u(0.0, 0.15), flicker=0.004),
                     shake_px=u(0.0, 1.5), jitter_px=0.2, shutter=0.4, crf=int(rng.integers(20, 25)))
    if name == "photo":
        warm = u(-0.06, 0.06)
        return Style(name, Look(noise=u(2.0, 4.0), defocus=u(0.5, 1.2), vignette=u(0.25, 0.5), flicker=0.01,
                                tint=(1.0 + warm, 1.0, 1.0 - warm)),
                     shake_px=u(2.0, 5.0), jitter_px=u(0.3, 0.8), shutter=0.5, clutter=int(rng.integers(0, 2)),
                     crf=int(rng.integers(24, 29)))
    if name == "busy":
        return Style(name, Look(noise=u(3.0, 5.0), defocus=u(0.0, 0.5), vignette=0.2, flicker=0.02),
                     shake_px=u(6.0, 12.0), jitter_px=u(1.5, 2.5), shutter=0.6, clutter=int(rng.integers(5, 10)),
                     crf=int(rng.integers(26, 31)))
    if name == "dark":
        return Style(name, Look(noise=u(5.0, 9.0), exposure=u(0.3, 0.45), contrast=u(0.6, 0.75), flicker=0.03,
                                vignette=u(0.4, 0.6), tint=(0.85, 0.95, 1.15)),
                     shake_px=u(1.0, 3.0), jitter_px=0.4, shutter=0.8, crf=int(rng.integers(28, 33)))
    raise ValueError(f"unknown out-of-domain style {name!r}; known: {', '.join(STYLE_NAMES)}")
