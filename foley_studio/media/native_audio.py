"""One pass over an audio file at its own rate, block by block, with its format and tags.

What a library scan needs to measure a file (levels, an overview, a short embedding) without
resampling it or holding a long file in memory. libsndfile (soundfile) reads WAV/BWF, FLAC, AIFF,
OGG and MP3 in blocks; whatever it refuses, or fails on part-way, is decoded again with FFmpeg
(PyAV). Failures raise `NativeAudioError`, whose `reason` is a few words a list of skipped
files can show next to the path.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import NativeAudioError

log = logging.getLogger(__name__)

BLOCK_FRAMES = 1 << 18
BlockSink = Callable[[np.ndarray], None]     # receives (frames, channels) float32, C-contiguous

_SOUNDFILE_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "DOUBLE": 64,
                   "ALAC_16": 16, "ALAC_20": 20, "ALAC_24": 24, "ALAC_32": 32}
_FFMPEG_BITS = {"s16": 16, "s16p": 16, "s32": 32, "s32p": 32, "flt": 32, "fltp": 32, "u8": 8}
_FFMPEG_SCALE = {"s16": 32768.0, "s16p": 32768.0, "s32": 2147483648.0, "s32p": 2147483648.0}


@dataclass(frozen=True)
class NativeAudioInfo:
    """What the file says about itself."""

    sample_rate: int
    channels: int
    frames: int                 # exact for libsndfile; for FFmpeg, the frames actually decoded
    codec: str                  # "wav/pcm_16" (libsndfile format/subtype) or FFmpeg's codec name
    bit_depth: int | None       # None for lossy codecs
    tags: dict[str, str] = field(default_factory=dict)


def read_native_audio(path: str | Path, start: Callable[[NativeAudioInfo], BlockSink], *,
                      block_frames: int = BLOCK_FRAMES) -> tuple[NativeAudioInfo, int]:
    """Feed every sample of `path`, at its own rate, to the sink `start(info)` returns.

    Returns (info, frames fed). Should libsndfile fail part-way, `start` is called again for an
    FFmpeg pass: whatever the first sink measured must be dropped. Raises `NativeAudioError`.
    """
    path = Path(path)
    try:
        return _read_with_soundfile(path, start, block_frames)
    except NativeAudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as sf_exc:
        log.debug("soundfile cannot read %s (%s); trying PyAV", path, sf_exc)
        try:
            return _read_with_pyav(path, start)
        except NativeAudioError as av_exc:
            raise NativeAudioError(path, f"{_soundfile_reason(sf_exc)}; {av_exc.reason}") from av_exc


def read_tags(path: str | Path) -> dict[str, str]:
    """The container's tags (ID3 for MP3), lower-case keys; {} when there are none or they are broken."""
    import av

    try:
        with av.open(str(path)) as container:
            return {k.lower(): v for k, v in container.metadata.items() if v}
    except Exception as exc:  # tags are optional; a broken ID3 block must not fail a scan
        log.debug("no tags from %s: %s", path, exc)
        return {}


def _read_with_soundfile(path: Path, start: Callable[[NativeAudioInfo], BlockSink],
                         block_frames: int) -> tuple[NativeAudioInfo, int]:
    with sf.SoundFile(path) as f:
        if f.frames <= 0:
            raise NativeAudioError(path, "no audio frames (empty recording)")
        info = NativeAudioInfo(
            sample_rate=f.samplerate, channels=f.channels, frames=f.frames,
            codec=f"{f.format.lower()}/{f.subtype.lower()}", bit_depth=_SOUNDFILE_BITS.get(f.subtype),
            tags={k: v for k, v in f.copy_metadata().items() if v})
        feed = start(info)
        fed = 0
        for block in f.blocks(block_frames, dtype="float32", always_2d=True):
            feed(block)
            fed += len(block)
    if fed == 0:
        raise NativeAudioError(path, "no audio frames could be decoded")
    return info, fed


def _read_with_pyav(path: Path, start: Callable[[NativeAudioInfo], BlockSink]) -> tuple[NativeAudioInfo, int]:
    import av  # imported lazily: only files libsndfile cannot read need it

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise NativeAudioError(path, "contains no audio stream")
            stream = container.streams.audio[0]
            chunks = []
            for frame in container.decode(stream):
                chunks.append(frame.to_ndarray().astype(np.float32, copy=False))
            if not chunks:
                raise NativeAudioError(path, "no audio frames could be decoded")
            data = _planar_to_frames(chunks, frame.format.is_planar, stream.channels, frame.format.name)
            lossless = stream.codec_context.name.startswith(("pcm", "flac", "alac"))
            info = NativeAudioInfo(
                sample_rate=stream.rate, channels=stream.channels, frames=len(data),
                codec=stream.codec_context.name,
                bit_depth=_FFMPEG_BITS.get(stream.format.name) if lossless else None,
                tags={k.lower(): v for k, v in {**container.metadata, **stream.metadata}.items() if v})
    except av.error.FFmpegError as exc:
        raise NativeAudioError(path, f"not decodable audio ({exc.strerror or exc})") from exc
    start(info)(data)
    return info, len(data)


def _planar_to_frames(chunks: list[np.ndarray], planar: bool, channels: int, fmt: str) -> np.ndarray:
    """PyAV frames -> (frames, channels) float32 in [-1, 1]."""
    data = np.concatenate(chunks, axis=1)
    if not planar:
        data = data.reshape(-1, channels).T
    scale = _FFMPEG_SCALE.get(fmt)
    if scale:
        data = data / scale
    elif fmt in ("u8", "u8p"):
        data = (data - 128.0) / 128.0
    return np.ascontiguousarray(data.T, dtype=np.float32)


def _soundfile_reason(exc: Exception) -> str:
    text = str(exc)
    if "Format not recognised" in text or "unknown format" in text.lower():
        return "not a recognised audio format"
    return f"libsndfile: {text.split(': ', 1)[-1]}"
