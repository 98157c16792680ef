"""Frame sizes, frame rates and the camera of an out-of-domain clip.

Times are exact: a clip has a whole number of frames at a rational frame rate, and every frame
starts on a whole audio sample (48 kHz divided by 24000/1001, 24, 25 or 30 fps is a whole number),
so an event on frame k happens at exactly k / fps seconds and at sample k * 48000 / fps.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE

# (width, height): phone landscape, square, phone portrait, 16:9 SD
FRAME_SIZES: tuple[tuple[int, int], ...] = ((640, 360), (480, 480), (360, 640), (854, 480))
FRAME_RATES: tuple[Fraction, ...] = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30))


@dataclass(frozen=True)
class Framing:
    """Picture size, frame rate and length of one clip."""

    width: int
    height: int
    fps: Fraction
    n_frames: int

    def __post_init__(self) -> None:
        if (SAMPLE_RATE / Fraction(self.fps)).denominator != 1:
            raise ValueError(f"{self.fps} fps does not start every frame on a whole 48 kHz sample")
        if self.width % 2 or self.height % 2:
            raise ValueError(f"frame size must be even for H.264, got {self.width}x{self.height}")

    @property
    def duration(self) -> Fraction:
        return self.n_frames / self.fps

    @property
    def samples_per_frame(self) -> int:
        return int(SAMPLE_RATE / self.fps)

    @property
    def n_samples(self) -> int:
        return self.n_frames * self.samples_per_frame

    def time_of(self, frame: int) -> Fraction:
        return Fraction(frame) / self.fps

    def sample_of(self, frame: int) -> int:
        return frame * self.samples_per_frame

    def seconds(self, frames: float) -> float:
        """A (fractional) number of frames in seconds, for physics."""
        return float(frames / self.fps)

    def frames(self, seconds: float) -> int:
        """Seconds as a whole number of frames (at least 1)."""
        return max(1, int(round(seconds * float(self.fps))))


@dataclass(frozen=True)
class Camera:
    """World (metres, y up) to canvas pixels (y down): a fixed scale and the pixel of world (0, 0).

    The picture is a crop of the canvas; panning and shake move the crop window (`window`), never
    the world, so geometry and contact gaps do not depend on them.
    """

    scale: float          # pixels per metre
    origin_x: float       # canvas column of world x = 0
    origin_y: float       # canvas row of world y = 0 (the contact surface of most scenes)

    def px(self, x: float, y: float) -> tuple[float, float]:
        return self.origin_x + self.scale * x, self.origin_y - self.scale * y

    def length(self, metres: float) -> float:
        return self.scale * metres


@dataclass(frozen=True)
class CropPath:
    """Where the picture sits on the canvas at each frame: pan plus shake, whole pixels."""

    x: np.ndarray         # (n_frames,) left column
    y: np.ndarray         # (n_frames,) top row

    @staticmethod
    def steady(n_frames: int, x: int, y: int) -> "CropPath":
        return CropPath(np.full(n_frames, x, int), np.full(n_frames, y, int))


def shake_offsets(rng: np.random.Generator, n_frames: int, amplitude_px: float, jitter_px: float) -> np.ndarray:
    """(n_frames, 2) hand-held camera offsets: a slow wander of about `amplitude_px` plus frame jitter."""
    if amplitude_px <= 0 and jitter_px <= 0:
        return np.zeros((n_frames, 2))
    steps = rng.standard_normal((n_frames + 16, 2))
    kernel = np.hanning(17)
    kernel /= kernel.sum()
    wander = np.stack([np.convolve(steps[:, i], kernel, mode="same")[8:8 + n_frames] for i in range(2)], axis=1)
    wander *= amplitude_px / max(1e-9, float(np.abs(wander).max()))
    return wander + jitter_px * rng.standard_normal((n_frames, 2))
