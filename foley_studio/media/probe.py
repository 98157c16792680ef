"""What is in a media file: streams, duration, rational frame rate, sample format.

`open_container` is the one place PyAV's errors become our `MediaError` family, so every reader in
this package reports a bad file the same way.
"""
from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from .errors import (CorruptMediaError, EmptyMediaError, MediaError, MediaNotFoundError,
                     UnsupportedCodecError)

log = logging.getLogger(__name__)

# Packets scanned to decide whether the frame rate varies: enough to see a few seconds of a
# screen recording or phone clip, cheap because demuxing does not decode.
_VFR_SCAN_PACKETS = 600
# Durations may jitter by a tick of rounding in a constant-rate file; more than this is real.
_VFR_TOLERANCE = 0.02


@dataclass
class MediaInfo:
    """A summary of one file's first video and first audio stream."""

    path: str
    duration: float                      # seconds (the longer of the streams)
    has_video: bool = False
    fps: Fraction | None = None          # average frame rate (exact rational)
    variable_frame_rate: bool = False
    width: int = 0
    height: int = 0
    video_codec: str | None = None
    n_frames: int = 0
    has_audio: bool = False
    sample_rate: int = 0
    channels: int = 0
    audio_codec: str | None = None
    container: str = ""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types: the frame rate as "num/den" plus a float for convenience."""
        data = asdict(self)
        data["fps"] = f"{self.fps.numerator}/{self.fps.denominator}" if self.fps else None
        data["fps_float"] = float(self.fps) if self.fps else None
        return data


def check_exists(path: str | Path) -> Path:
    """The path as a `Path`, or `MediaNotFoundError` / `EmptyMediaError` for a missing or 0-byte file."""
    path = Path(path)
    if not path.exists():
        raise MediaNotFoundError(f"{path}: no such file; check the path or relink the media")
    if path.is_dir():
        raise MediaError(f"{path}: is a folder, not a media file")
    if path.stat().st_size == 0:
        raise EmptyMediaError(f"{path}: the file is empty (0 bytes); re-export or re-copy it")
    return path


def open_container(path: str | Path) -> av.container.InputContainer:
    """Open for reading with PyAV, turning its errors into `MediaError`s that name the file."""
    path = check_exists(path)
    try:
        return av.open(os.fspath(path), "r")
    except av.error.FileNotFoundError as exc:
        raise MediaNotFoundError(f"{path}: no such file; check the path or relink the media") from exc
    except (av.error.InvalidDataError, av.error.EOFError) as exc:
        raise CorruptMediaError(f"{path}: not a readable media file (corrupt, truncated or an "
                                f"unknown format: {exc.strerror or exc}); re-export it") from exc
    except av.error.DemuxerNotFoundError as exc:
        raise UnsupportedCodecError(f"{path}: unsupported container format; convert it to "
                                    f"MP4/MOV/MKV (video) or WAV/FLAC (audio)") from exc
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(f"{path}: cannot be opened ({exc}); re-export it") from exc


def decode_error(path: str | Path, exc: Exception) -> MediaError:
    """Translate an error raised while decoding (after a successful open)."""
    if isinstance(exc, av.error.DecoderNotFoundError):
        return UnsupportedCodecError(f"{path}: no decoder for this codec; convert the file to "
                                     f"H.264/AAC (video) or WAV/FLAC (audio)")
    return CorruptMediaError(f"{path}: decoding failed ({exc}); the file is corrupt or truncated, "
                             f"re-export it")


def unsupported_codec(path: str | Path, kind: str) -> UnsupportedCodecError:
    return UnsupportedCodecError(f"{path}: the {kind} codec is not supported (no decoder for it); "
                                 f"convert the file to H.264/AAC (video) or WAV/FLAC (audio)")


def codec_name(stream: av.stream.Stream) -> str | None:
    """The codec's short name, or None when FFmpeg does not know it."""
    try:
        ctx = stream.codec_context
    except Exception:   # noqa: BLE001 - PyAV raises assorted errors for unknown codecs
        return None
    if ctx is None:
        return None
    name = ctx.name
    return None if name in (None, "", "none") else name


def stream_duration(stream: av.stream.Stream, container: av.container.InputContainer) -> float:
    """Seconds covered by a stream (from its own header, else the container's)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def detect_vfr(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> bool:
    """True when frame durations vary: the header's rates disagree or scanned timestamps jitter."""
    avg, base = stream.average_rate, stream.base_rate
    if avg and base and abs(float(avg) - float(base)) / float(base) > _VFR_TOLERANCE:
        return True
    pts = []
    try:
        container.seek(0, stream=stream)
        for packet in container.demux(stream):
            if packet.pts is not None:
                pts.append(packet.pts)
            if len(pts) >= _VFR_SCAN_PACKETS:
                break
    except av.error.FFmpegError as exc:
        log.debug("VFR scan stopped early: %s", exc)
    if len(pts) < 3:
        return False
    diffs = [b - a for a, b in zip(sorted(pts), sorted(pts)[1:])]
    typical = sorted(diffs)[len(diffs) // 2]
    return typical > 0 and any(abs(d - typical) > max(1, _VFR_TOLERANCE * typical) for d in diffs)


def probe(path: str | Path) -> MediaInfo:
    """Streams, duration, frame rate and audio format of a file (raises a `MediaError` if unusable)."""
    path = Path(path)
    with open_container(path) as container:
        info = MediaInfo(path=str(path), duration=0.0, container=container.format.name)
        durations = []
        if container.streams.video:
            vs = container.streams.video[0]
            info.has_video = True
            info.video_codec = codec_name(vs)
            if info.video_codec is None:
                raise unsupported_codec(path, "video")
            fps = vs.average_rate or vs.guessed_rate or vs.base_rate
            info.fps = Fraction(fps) if fps else None
            info.width, info.height = vs.codec_context.width, vs.codec_context.height
            dur = stream_duration(vs, container)
            durations.append(dur)
            info.n_frames = vs.frames or (int(round(dur * info.fps)) if info.fps else 0)
            info.variable_frame_rate = detect_vfr(container, vs)
        if container.streams.audio and codec_name(container.streams.audio[0]) is None:
            if not info.has_video:
                raise unsupported_codec(path, "audio")
            # The picture is still usable; the sound is reported as absent rather than failing.
            log.warning("%s: audio codec not supported; treating the file as video-only", path)
        elif container.streams.audio:
            aus = container.streams.audio[0]
            info.has_audio = True
            info.audio_codec = codec_name(aus)
            info.sample_rate = aus.codec_context.sample_rate or aus.rate or 0
            info.channels = aus.codec_context.channels
            durations.append(stream_duration(aus, container))
        if not info.has_video and not info.has_audio:
            raise EmptyMediaError(f"{path}: contains no audio or video stream")
        info.duration = max(durations, default=0.0)
        if info.duration <= 0 and not _has_any_packet(container):
            raise EmptyMediaError(f"{path}: has zero duration (no frames or samples)")
    return info


def _has_any_packet(container: av.container.InputContainer) -> bool:
    try:
        container.seek(0)
        return any(p.size for p in container.demux())
    except av.error.FFmpegError:
        return False
