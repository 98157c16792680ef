"""What is in a media file: streams, duration, rational frame rate, sample format.

`open_container` is the one place PyAV's errors become our `MediaError` family, so every reader in
this package reports a bad file the same way.

Sizes are what a viewer sees: `MediaInfo.width`/`height` are the picture after the container's
display rotation (a phone's portrait clip is coded 1920x1080 with "rotate 90" and reports 1080x1920),
and every frame the readers return is already turned upright.
"""
from __future__ import annotations

import logging
import os
import re
import stat
import struct
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
    """A summary of one file's first video and first audio stream.

    `width`/`height` are the displayed (upright) picture size in pixels: the coded size with
    width and height swapped when `rotation` is 90 or 270. `rotation` is the clockwise turn
    (0/90/180/270) that the container's display matrix asks players to apply, the convention of
    a phone's 'rotate' tag; the readers apply it, so callers never need to.
    """

    path: str
    duration: float                      # seconds (the longer of the streams)
    has_video: bool = False
    fps: Fraction | None = None          # average frame rate (exact rational)
    variable_frame_rate: bool = False
    width: int = 0                       # displayed, i.e. after `rotation`
    height: int = 0
    video_codec: str | None = None
    n_frames: int = 0
    has_audio: bool = False
    sample_rate: int = 0
    channels: int = 0
    audio_codec: str | None = None
    container: str = ""
    rotation: int = 0                    # clockwise degrees applied for display

    @property
    def coded_size(self) -> tuple[int, int]:
        """(width, height) as stored in the stream, before the display rotation."""
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types: the frame rate as "num/den" plus a float for convenience."""
        data = asdict(self)
        data["fps"] = f"{self.fps.numerator}/{self.fps.denominator}" if self.fps else None
        data["fps_float"] = float(self.fps) if self.fps else None
        return data


def check_exists(path: str | Path) -> Path:
    """The path as a `Path`, or `MediaNotFoundError` / `EmptyMediaError` for a missing or 0-byte file."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise MediaNotFoundError(f"{path}: no such file; check the path or relink the media") from None
    except (OSError, ValueError) as exc:    # name too long, a symlink loop, a NUL in the name, no permission
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MediaNotFoundError(f"{path}: cannot be opened ({reason}); check the path or relink the media") from None
    if stat.S_ISDIR(info.st_mode):
        raise MediaError(f"{path}: is a folder, not a media file")
    if not stat.S_ISREG(info.st_mode):
        raise MediaError(f"{path}: is not a regular file (a device, pipe or socket); choose a media file")
    if info.st_size == 0:
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
        damage = iso_bmff_damage(path)
        if damage:
            raise truncated_error(path, damage) from exc
        raise CorruptMediaError(f"{path}: not a readable media file (corrupt, truncated or an "
                                f"unknown format: {exc.strerror or exc}); re-export it") from exc
    except av.error.DemuxerNotFoundError as exc:
        raise UnsupportedCodecError(f"{path}: unsupported container format; convert it to "
                                    f"MP4/MOV/MKV (video) or WAV/FLAC (audio)") from exc
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(f"{path}: cannot be opened ({exc}); re-export it") from exc


def truncated_error(path: str | Path, detail: str) -> CorruptMediaError:
    return CorruptMediaError(f"{path}: the file is truncated ({detail}); it was not completely "
                             f"written or copied (an interrupted recording, download or copy); "
                             f"copy it again or re-export it")


# Top-level boxes an MP4/MOV may start with; anything else is not ISO-BMFF and is left alone.
_ISO_FIRST_BOXES = {b"ftyp", b"wide", b"free", b"skip", b"mdat", b"moov", b"pnot"}


def iso_bmff_damage(path: str | Path) -> str | None:
    """Why an MP4/MOV file is incomplete, from its top-level boxes; None if it is not MP4, looks
    whole, or is damaged in some other way.

    A recording that stopped before it finished has no 'moov' (the index is written last), and a
    partial copy ends inside a box; both are certain from the box sizes alone, which lets the
    error say "truncated" instead of FFmpeg's generic "invalid data".
    """
    path = Path(path)
    size = path.stat().st_size
    if size < 8:
        return None     # too short to hold even one box header: not recognisably MP4 at all
    seen: set[bytes] = set()
    pos = 0
    with open(path, "rb") as handle:
        while pos + 8 <= size:
            handle.seek(pos)
            header = handle.read(16)
            box_size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if pos == 0 and kind not in _ISO_FIRST_BOXES:
                return None
            if box_size == 1 and len(header) == 16:          # 64-bit size follows the type
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:                               # "extends to the end of the file"
                box_size = size - pos
            name = kind.decode("latin-1")
            if box_size < 8 or not name.isprintable():
                return None     # damaged, not merely short: the generic "corrupt" message fits

            if pos + box_size > size:
                return f"the '{name}' box needs {pos + box_size} bytes but the file ends at {size}"
            seen.add(kind)
            pos += box_size
    if b"moov" not in seen and b"moof" not in seen:
        return "its index, the 'moov' box, is missing"
    return None


def check_not_truncated(path: str | Path, container: av.container.InputContainer) -> None:
    """Raise `CorruptMediaError` when the container's index points past the end of the file.

    A partly copied MP4 whose index sits at the front still opens, and decoders just stop early,
    which would silently shorten the picture and the sound; the index's last sample gives it away.
    """
    size = Path(path).stat().st_size
    for stream in container.streams:
        try:
            entries = stream.index_entries
        except Exception:   # noqa: BLE001 - some stream kinds have no index in PyAV
            continue
        if entries is None or len(entries) == 0:
            continue
        last = entries[len(entries) - 1]
        if last.pos >= 0 and last.pos + last.size > size:
            raise truncated_error(path, f"its index refers to {last.pos + last.size} bytes but the "
                                        f"file holds only {size}")


def decode_error(path: str | Path, exc: Exception) -> MediaError:
    """Translate an error raised while decoding (after a successful open)."""
    if isinstance(exc, av.error.DecoderNotFoundError):
        return UnsupportedCodecError(f"{path}: no decoder for this codec; convert the file to "
                                     f"H.264/AAC (video) or WAV/FLAC (audio)")
    return CorruptMediaError(f"{path}: decoding failed ({exc}); the file is corrupt or truncated, "
                             f"re-export it")


def unsupported_codec(path: str | Path, kind: str, codec: str | None = None) -> UnsupportedCodecError:
    what = f"{codec}: " if codec else ""
    return UnsupportedCodecError(f"{path}: the {kind} codec is not supported ({what}this FFmpeg build has "
                                 f"no decoder for it); convert the file to H.264/AAC (video) or "
                                 f"WAV/FLAC (audio)")


def describe_undecodable(container: av.container.InputContainer, stream: av.stream.Stream) -> str | None:
    """Name a stream's codec when there is no decoder for it, e.g. "evc (fourcc 'evc1')".

    PyAV only exposes codec names through a decoder, so read FFmpeg's own stream summary (the
    `av_dump_format` text). It is only logged at INFO, so the level is raised for this one call.
    """
    old = av.logging.get_level()
    try:
        av.logging.set_level(av.logging.INFO)
        text = container.dumps_format()
    except Exception as exc:   # noqa: BLE001 - a nicer message is optional, never a new failure
        log.debug("could not describe stream %d: %s", stream.index, exc)
        return None
    finally:
        av.logging.set_level(old)
    line = re.search(rf"Stream #\d+:{stream.index}\b[^\n]*?: \w+: ([^\n]*)", text)
    if line is None:
        return None
    name = line.group(1).split(",")[0].split(" ")[0]
    tag = re.search(r"\(([^()/]+?) / (0x[0-9a-fA-F]+)\)", line.group(1).split(",")[0])
    name = None if name in ("", "none") else name
    if tag is None:
        return name
    # FFmpeg spells unprintable tag bytes as "[0]"; a WAV format tag reads better as hex.
    label = f"tag {tag.group(2)}" if "[" in tag.group(1) else f"fourcc {tag.group(1)!r}"
    return f"{name or 'unknown'} ({label})"


def display_rotation(frame: av.VideoFrame) -> int:
    """Clockwise degrees (0/90/180/270) the frame's display matrix asks for; 0 without one.

    PyAV reports FFmpeg's counter-clockwise angle; players turn the picture the other way
    (FFmpeg's own autorotate does the same), so a phone's portrait clip reads 90 here.
    """
    ccw = frame.rotation
    if not ccw:
        return 0
    quarter = round(-ccw / 90)
    if abs(-ccw - 90 * quarter) > 1:
        log.warning("display rotation %s degrees is not a quarter turn; using %d", -ccw, 90 * quarter)
    return (90 * quarter) % 360


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
        check_not_truncated(path, container)
        durations = []
        if container.streams.video:
            vs = container.streams.video[0]
            info.has_video = True
            info.video_codec = codec_name(vs)
            if info.video_codec is None:
                raise unsupported_codec(path, "video", describe_undecodable(container, vs))
            fps = vs.average_rate or vs.guessed_rate or vs.base_rate
            info.fps = Fraction(fps) if fps else None
            info.rotation = _first_frame_rotation(path, container, vs)
            info.width, info.height = vs.codec_context.width, vs.codec_context.height
            if info.rotation in (90, 270):
                info.width, info.height = info.height, info.width
            dur = stream_duration(vs, container)
            durations.append(dur)
            info.n_frames = vs.frames or (int(round(dur * info.fps)) if info.fps else 0)
            info.variable_frame_rate = detect_vfr(container, vs)
        if container.streams.audio and codec_name(container.streams.audio[0]) is None:
            if not info.has_video:
                raise unsupported_codec(path, "audio", describe_undecodable(container, container.streams.audio[0]))
            # The picture is still usable; the sound is reported as absent rather than failing.
            log.warning("%s: audio codec not supported; treating the file as video-only", path)
        elif container.streams.audio:
            aus = container.streams.audio[0]
            info.has_audio = True
            info.audio_codec = codec_name(aus)
            info.sample_rate = aus.codec_context.sample_rate or aus.rate or 0
            info.channels = _channel_count(aus)
            if info.channels == 0:
                # FFmpeg's WAV reader gives up on very wide files (1024 channels reads as 0);
                # libsndfile reads the header as it is, so the count can be reported truly.
                info.sample_rate, info.channels = _header_format(path) or (info.sample_rate, 0)
            durations.append(stream_duration(aus, container))
        if not info.has_video and not info.has_audio:
            raise EmptyMediaError(f"{path}: contains no audio or video stream")
        info.duration = max(durations, default=0.0)
        if info.duration <= 0 and not _has_any_packet(container):
            raise EmptyMediaError(f"{path}: has zero duration (no frames or samples)")
    return info


def display_matrix(path: str | Path) -> list[int] | None:
    """The first video stream's 3x3 display matrix (FFmpeg's 9 int32s), or None when it has none.

    Read from the first decoded frame, where FFmpeg attaches the stream's matrix; the exporter
    writes it back verbatim so flips survive along with the rotation.
    """
    with open_container(path) as container:
        if not container.streams.video:
            return None
        try:
            frame = next(iter(container.decode(container.streams.video[0])), None)
        except av.error.FFmpegError as exc:
            raise decode_error(path, exc) from exc
    if frame is None:
        return None
    data = frame.side_data.get(av.sidedata.sidedata.Type.DISPLAYMATRIX)
    if data is None:
        return None
    raw = bytes(data)
    return list(struct.unpack("=9i", raw[:36])) if len(raw) >= 36 else None


def _first_frame_rotation(path: Path, container: av.container.InputContainer,
                          stream: av.video.stream.VideoStream) -> int:
    """The display rotation, read from the first decoded frame (PyAV exposes it only on frames)."""
    try:
        for frame in container.decode(stream):
            return display_rotation(frame)
    except av.error.FFmpegError as exc:
        # The picture may still be readable further on; the readers report real decode failures.
        log.warning("%s: first video frame did not decode (%s); assuming no rotation", path, exc)
    return 0


def _channel_count(stream: av.audio.stream.AudioStream) -> int:
    """Channels from the layout when it is known (stereo, 5.1), else the raw count."""
    ctx = stream.codec_context
    layout = getattr(ctx, "layout", None)
    n = getattr(layout, "nb_channels", 0) if layout is not None else 0
    return int(n or getattr(ctx, "channels", 0) or 0)


def _header_format(path: Path) -> tuple[int, int] | None:
    """(sample rate, channels) as libsndfile reads the header, or None when it cannot."""
    import soundfile as sf

    try:
        found = sf.info(os.fspath(path))
    except Exception:   # noqa: BLE001 - only a better number for a message, never a new failure
        return None
    return int(found.samplerate), int(found.channels)


def _has_any_packet(container: av.container.InputContainer) -> bool:
    try:
        container.seek(0)
        return any(p.size for p in container.demux())
    except av.error.FFmpegError:
        return False
