"""The one place that knows Foley Studio's rates and converts between time units.

Timeline positions are integers in samples at `SAMPLE_RATE` so edits are exact and undo restores
values bit for bit. The model works in latent frames at `LATENT_RATE`; the picture in video frames
at the video's own rational frame rate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

SAMPLE_RATE = 48_000          # Hz, every timeline and model waveform
LATENT_RATE = 40              # latent frames per second (paper: DAC-VAE at 40 Hz)
LATENT_HOP = SAMPLE_RATE // LATENT_RATE   # 1200 samples per latent frame
MODEL_WINDOW_SECONDS = 8.0    # one generation window (paper: 8 s clips)
MODEL_WINDOW_LATENTS = int(MODEL_WINDOW_SECONDS * LATENT_RATE)   # 320

assert SAMPLE_RATE % LATENT_RATE == 0, f"{SAMPLE_RATE=} must be a multiple of {LATENT_RATE=}"


def seconds_to_samples(seconds: float) -> int:
    """Nearest sample; `seconds` must be finite (values from users are checked by `core.values` first)."""
    if not math.isfinite(seconds):
        raise ValueError(f"seconds must be a finite number, got {seconds!r}")
    return int(round(seconds * SAMPLE_RATE))


def samples_to_seconds(samples: int) -> float:
    return samples / SAMPLE_RATE


def samples_to_latents(samples: int) -> int:
    """Latent frames needed to cover `samples` (rounded up: a partial frame still needs a latent)."""
    return -(-samples // LATENT_HOP)


def latents_to_samples(latents: int) -> int:
    return latents * LATENT_HOP


def seconds_to_latents(seconds: float) -> int:
    return samples_to_latents(seconds_to_samples(seconds))


def parse_fps(value: str | float | Fraction | tuple[int, int]) -> Fraction:
    """'30000/1001', 29.97, (30000, 1001) or Fraction -> exact Fraction; NTSC-like floats snap to x/1001."""
    if isinstance(value, Fraction):
        fps = value
    elif isinstance(value, tuple):
        fps = Fraction(value[0], value[1])
    elif isinstance(value, str) and "/" in value:
        num, den = value.split("/", 1)
        fps = Fraction(int(num), int(den))
    else:
        as_float = float(value)
        ntsc = Fraction(round(as_float * 1.001) * 1000, 1001)
        fps = ntsc if abs(float(ntsc) - as_float) < 1e-3 and ntsc.denominator == 1001 and as_float % 1 else \
            Fraction(as_float).limit_denominator(1001)
    if fps <= 0:
        raise ValueError(f"frame rate must be positive, got {value!r}")
    return fps


@dataclass(frozen=True)
class VideoClock:
    """Converts between timeline samples and frames of one video with a rational frame rate."""

    fps: Fraction

    def frame_at_sample(self, samples: int) -> int:
        """Index of the frame shown at a timeline position (the frame whose interval contains it)."""
        return math.floor(Fraction(samples, SAMPLE_RATE) * self.fps)

    def frame_at_seconds(self, seconds: float) -> int:
        return math.floor(Fraction(seconds).limit_denominator(SAMPLE_RATE * 1000) * self.fps + Fraction(1, 10**9))

    def sample_of_frame(self, frame: int) -> int:
        """First timeline sample inside a frame (rounded up, so `frame_at_sample` maps it back)."""
        return math.ceil(Fraction(frame) / self.fps * SAMPLE_RATE)

    def seconds_of_frame(self, frame: int) -> float:
        return float(Fraction(frame) / self.fps)

    def snap_samples(self, samples: int) -> int:
        """Nearest frame boundary to a timeline position."""
        return self.sample_of_frame(round(Fraction(samples, SAMPLE_RATE) * self.fps))

    @property
    def timecode_base(self) -> int:
        """Frames per timecode second: 30 for 29.97, 24 for 23.976, 25 for 25."""
        return round(self.fps)

    @property
    def drop_frame(self) -> bool:
        return self.fps.denominator == 1001 and self.timecode_base in (30, 60)

    def timecode(self, samples: int) -> str:
        """SMPTE timecode HH:MM:SS:FF (drop-frame, with ';', for 29.97 and 59.94)."""
        frame = self.frame_at_sample(max(0, samples))
        base = self.timecode_base
        if self.drop_frame:
            frame = _drop_frame_number(frame, base)
        ff = frame % base
        total_seconds = frame // base
        hh, rem = divmod(total_seconds, 3600)
        mm, ss = divmod(rem, 60)
        sep = ";" if self.drop_frame else ":"
        return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"

    def parse_timecode(self, text: str) -> int:
        """Inverse of `timecode`: 'HH:MM:SS:FF' (or ';FF') -> timeline samples of that frame."""
        parts = text.replace(";", ":").split(":")
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            raise ValueError(f"timecode must look like HH:MM:SS:FF, got {text!r}")
        hh, mm, ss, ff = (int(p) for p in parts)
        base = self.timecode_base
        if ff >= base or mm >= 60 or ss >= 60:
            raise ValueError(f"timecode {text!r} is out of range for {float(self.fps):.3f} fps")
        frame = ((hh * 60 + mm) * 60 + ss) * base + ff
        if self.drop_frame:
            drop = 2 * (base // 30)
            total_minutes = hh * 60 + mm
            frame -= drop * (total_minutes - total_minutes // 10)
        return self.sample_of_frame(frame)


def _drop_frame_number(frame: int, base: int) -> int:
    """Frame count -> drop-frame display number (skips frame labels 0 and 1 of most minutes)."""
    drop = 2 * (base // 30)
    per_10min = base * 600 - drop * 9
    per_min = base * 60 - drop
    tens, rem = divmod(frame, per_10min)
    if rem > drop:
        return frame + drop * 9 * tens + drop * ((rem - drop) // per_min)
    return frame + drop * 9 * tens


def format_seconds(seconds: float) -> str:
    """Human duration for lists and status bars: 'M:SS.mmm' or 'H:MM:SS.mmm'."""
    sign = "-" if seconds < 0 else ""
    ms_total = int(round(abs(seconds) * 1000))
    s, ms = divmod(ms_total, 1000)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}.{ms:03d}" if h else f"{sign}{m}:{s:02d}.{ms:03d}"
