"""What media Foley Studio can use, checked as soon as a header is read, before anything is decoded.

Sample rates, channel counts, decoded sizes, picture sizes and frame rates outside these bounds come
from damaged headers (a WAV that says 1 Hz or 2,147,483,647 Hz) or from files this editor cannot
serve (1024 channels, a 64-megapixel picture, one frame every 500 s); each gets a `MediaError` that
names the file, the value and what to do, instead of a resampler asking for terabytes. Samples that
are not finite numbers (NaN, infinities in a float WAV) are refused where they are read, so they
never reach a mix or an encoder.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.core.values import MAX_FPS, MAX_TIMELINE_SECONDS, MIN_FPS

from .errors import CorruptMediaError, UnsupportedCodecError

if TYPE_CHECKING:
    from .probe import MediaInfo

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1_000, 768_000   # telephone-grade 8 kHz ... DXD 384 kHz, with margin
MAX_CHANNELS = 64                                   # more than any Atmos bed or ambisonic order 7
MAX_DECODED_VALUES = 2**30                          # 4 GiB of float32: ~6 h of mono at 48 kHz
MIN_PICTURE_SIDE = 16
MAX_PICTURE_PIXELS = 8192 * 4320                    # DCI 8K
_CHECK_BLOCK = 1 << 20


def check_audio_format(path: str | Path, sample_rate: int, channels: int) -> None:
    """Refuse a sample rate or channel count that no real recording has (or this editor cannot mix)."""
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise CorruptMediaError(f"{path}: its header says the sound runs at {sample_rate:,} Hz; Foley Studio reads "
                                f"{MIN_SAMPLE_RATE:,}-{MAX_SAMPLE_RATE:,} Hz, so the header is damaged or the file "
                                "is not audio; re-export it (48 kHz WAV is best)")
    if channels < 1:
        raise CorruptMediaError(f"{path}: no channel count can be read from its header (the file is damaged, "
                                f"or has more channels than can be read); re-export it with at most {MAX_CHANNELS}")
    if channels > MAX_CHANNELS:
        raise UnsupportedCodecError(f"{path}: has {channels:,} channels; Foley Studio reads up to {MAX_CHANNELS}. "
                                    "Mix it down or split it into fewer channels first")


def check_decoded_size(path: str | Path, frames: int, sample_rate: int, channels: int) -> None:
    """Refuse a file that would decode to more float32 samples than fit in memory, before reading it."""
    values = frames * channels * max(1.0, SAMPLE_RATE / sample_rate)
    if values > MAX_DECODED_VALUES:
        hours = frames / sample_rate / 3600
        raise UnsupportedCodecError(
            f"{path}: {hours:,.1f} h of {channels} channel(s) would need {values * 4 / 2**30:,.1f} GiB to decode; "
            f"Foley Studio reads files up to {MAX_DECODED_VALUES * 4 / 2**30:.0f} GiB decoded. Split it into "
            "shorter files or fewer channels")


def check_finite(path: str | Path, data: np.ndarray, sample_rate: int = SAMPLE_RATE, *,
                 channels_first: bool = True) -> None:
    """Refuse samples that are NaN or infinite (a damaged float file); checked in blocks (little memory).

    `data` is (N,), (C, N) or, with `channels_first=False`, (N, C) as soundfile reads it.
    """
    flat = data.reshape(-1)      # a view: every layout here is C-contiguous
    for a in range(0, flat.size, _CHECK_BLOCK):
        bad = ~np.isfinite(flat[a:a + _CHECK_BLOCK])
        if bad.any():
            first = a + int(np.argmax(bad))
            if data.ndim == 1:
                frame, channels = first, 1
            elif channels_first:
                frame, channels = first % data.shape[1], data.shape[0]
            else:
                frame, channels = first // data.shape[1], data.shape[1]
            count = int(np.count_nonzero(~np.isfinite(flat)))
            raise CorruptMediaError(
                f"{path}: holds {count:,} sample(s) that are not finite numbers (NaN or infinity), the first at "
                f"{frame / sample_rate:.3f} s{'' if channels == 1 else ' in one of its channels'}; the file is "
                "damaged. Re-export it from its source, or repair it in an audio editor")


def picture_problem(info: MediaInfo) -> str | None:
    """Why a video's picture cannot be scored against (None when it can)."""
    if not info.has_video:
        return None
    w, h = info.width, info.height
    if min(w, h) < MIN_PICTURE_SIDE:
        return (f"its picture is {w}x{h} pixels, smaller than the {MIN_PICTURE_SIDE}x{MIN_PICTURE_SIDE} a picture "
                "needs to be followed; re-export it at a usual size")
    if w * h > MAX_PICTURE_PIXELS:
        return (f"its picture is {w}x{h} pixels ({w * h / 1e6:.0f} MP), larger than 8K "
                f"({MAX_PICTURE_PIXELS / 1e6:.1f} MP); make a smaller proxy (e.g. 1920x1080) to score against")
    if info.fps is None:
        return "it does not say its frame rate; re-export it with a constant frame rate"
    fps = float(info.fps)
    if not MIN_FPS <= fps <= MAX_FPS:
        return (f"its frame rate is {fps:g} fps; Foley Studio scores pictures of {MIN_FPS:g}-{MAX_FPS:g} fps "
                "(a slideshow or time-lapse? render it as a video of 24 or 25 fps)")
    if info.duration > MAX_TIMELINE_SECONDS:
        return (f"it lasts {info.duration / 3600:,.1f} h, longer than the {MAX_TIMELINE_SECONDS // 3600} h a "
                "timeline can span; cut it into parts")
    return None


def audio_problem(info: MediaInfo) -> str | None:
    """Why a file's sound cannot be read (None when it can, or when it has none)."""
    if not info.has_audio:
        return None
    try:
        check_audio_format(info.path, info.sample_rate, info.channels)
    except (CorruptMediaError, UnsupportedCodecError) as exc:
        return str(exc).split(": ", 1)[-1]
    return None


def check_picture(info: MediaInfo) -> None:
    problem = picture_problem(info)
    if problem:
        raise UnsupportedCodecError(f"{info.path}: {problem}")
