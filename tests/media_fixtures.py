"""Synthesise test media (video with PyAV, audio with soundfile) so tests never need checked-in files.

Reusable by every layer's tests:
    from tests.media_fixtures import make_video, make_tone
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf


def tone(seconds: float, sr: int = 48_000, freq: float = 440.0, amplitude: float = 0.5,
         channels: int = 1, phase: float = 0.0) -> np.ndarray:
    """A sine as float32: (N,) for one channel, (N, C) otherwise (channel c at freq * (c + 1))."""
    t = np.arange(int(round(seconds * sr))) / sr
    if channels == 1:
        return (amplitude * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)
    cols = [amplitude * np.sin(2 * np.pi * freq * (c + 1) * t + phase) for c in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


def make_tone(path: str | Path, seconds: float = 1.0, sr: int = 48_000, *, freq: float = 440.0,
              amplitude: float = 0.5, channels: int = 1, subtype: str | None = None,
              data: np.ndarray | None = None) -> Path:
    """Write a sine (or the given `data`, (N,) or (N, C)) with soundfile; format from the suffix.

    `subtype` picks the sample format, e.g. "PCM_U8", "PCM_16", "PCM_24", "FLOAT".
    """
    path = Path(path)
    if data is None:
        data = tone(seconds, sr, freq, amplitude, channels)
    sf.write(str(path), data, sr, subtype=subtype)
    return path


def frame_image(index: int, width: int, height: int) -> np.ndarray:
    """A frame whose content encodes its index: a bright bar that moves plus a per-frame grey level."""
    img = np.zeros((height, width, 3), np.uint8)
    img[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    img[..., 1] = (index * 37) % 256
    x = (index * 8) % max(1, width - 8)
    img[:, x:x + 8, 2] = 255
    return img


def make_video(path: str | Path, seconds: float = 2.0, fps: int | Fraction | str = 24,
               size: tuple[int, int] = (160, 120), with_audio: bool = True, *,
               codec: str = "libx264", audio_codec: str = "aac", sr: int = 48_000,
               freq: float = 440.0, gop: int | None = None, pts_seconds: list[float] | None = None,
               crf: int = 28, audio_start: float = 0.0, rotation: int = 0,
               images: list[np.ndarray] | None = None, faststart: bool = False) -> Path:
    """Encode a short test video (H.264 by default) with an optional sine soundtrack.

    `size` is (width, height) of the coded picture. `pts_seconds`, when given, are explicit
    presentation times for each frame, which is how a variable-frame-rate file is made.
    `audio_start` delays the soundtrack. `rotation` (clockwise degrees, like a phone's 'rotate'
    tag) writes a display matrix into the container, as phones do for portrait clips; `images`
    replaces the generated pictures (uint8 (height, width, 3) each, cycled). `faststart` puts
    the MP4 index before the data, as web exports do.
    """
    path = Path(path)
    rate = Fraction(fps) if not isinstance(fps, str) else Fraction(fps)
    width, height = size
    n_frames = len(pts_seconds) if pts_seconds is not None else int(round(seconds * rate))
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        vs = out.add_stream(codec, rate=rate)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        if rotation:
            # PyAV takes counter-clockwise degrees; the phone convention is clockwise.
            vs.set_display_rotation(-rotation)
        if codec == "libx264":
            vs.options = {"crf": str(crf), "preset": "ultrafast"}
        if gop:
            vs.codec_context.gop_size = gop
        if pts_seconds is not None:
            vs.time_base = Fraction(1, 90_000)
            vs.codec_context.time_base = Fraction(1, 90_000)
        aus = None
        if with_audio:
            aus = out.add_stream(audio_codec, rate=sr, layout="mono")
        for i in range(n_frames):
            image = images[i % len(images)] if images else frame_image(i, width, height)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if pts_seconds is not None:
                frame.pts = int(round(pts_seconds[i] * 90_000))
                frame.time_base = Fraction(1, 90_000)
            else:
                frame.pts = i
                frame.time_base = 1 / rate
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if aus is not None:
            duration = pts_seconds[-1] if pts_seconds is not None else seconds
            samples = tone(duration, sr, freq)
            step = 1024
            for start in range(0, len(samples), step):
                chunk = samples[start:start + step]
                aframe = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
                aframe.sample_rate = sr
                aframe.pts = start + int(round(audio_start * sr))
                aframe.time_base = Fraction(1, sr)
                for packet in aus.encode(aframe):
                    out.mux(packet)
            for packet in aus.encode():
                out.mux(packet)
    return path


def make_audio_with_pyav(path: str | Path, seconds: float = 1.0, sr: int = 48_000,
                         codec: str = "aac", freq: float = 440.0, channels: int = 1) -> Path:
    """An audio-only file soundfile cannot read (AAC in .m4a, for example), for the PyAV fallback."""
    path = Path(path)
    layout = "mono" if channels == 1 else "stereo"
    samples = tone(seconds, sr, freq, channels=channels)
    planar = samples[None, :] if channels == 1 else np.ascontiguousarray(samples.T)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=sr, layout=layout)
        step = 1024
        for start in range(0, planar.shape[1], step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar[:, start:start + step]),
                                               format="fltp", layout=layout)
            frame.sample_rate = sr
            frame.pts = start
            frame.time_base = Fraction(1, sr)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def video_packets(path: str | Path) -> list[bytes]:
    """Bytes of every video packet in decode order (to prove a stream was copied, not re-encoded)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


def with_video_fourcc(src: str | Path, dst: str | Path, fourcc: bytes) -> Path:
    """Copy an MP4 with its video sample entry renamed (e.g. b"evc1"), so no decoder claims it.

    The entry's type sits right after the 'stsd' box header; the 'avc1' in the file's 'ftyp'
    brand list is left alone.
    """
    data = Path(src).read_bytes()
    at = data.index(b"avc1", data.index(b"stsd"))
    Path(dst).write_bytes(data[:at] + fourcc + data[at + 4:])
    return Path(dst)


def oriented_image(width: int, height: int) -> np.ndarray:
    """A grey picture with red top-left, green top-right and blue bottom-left corner blocks.

    Three distinct corners pin down any turn or mirror, so an upright check cannot pass by symmetry.
    """
    img = np.full((height, width, 3), 128, np.uint8)
    b = min(width, height) // 4
    img[:b, :b] = (255, 0, 0)
    img[:b, -b:] = (0, 255, 0)
    img[-b:, :b] = (0, 0, 255)
    return img


# -- rotated (phone) video ----------------------------------------------------------------------
UPRIGHT_W, UPRIGHT_H = 48, 64     # what the viewer should see: a portrait picture


def corner_colours(img: np.ndarray) -> dict[str, tuple[int, ...]]:
    """Mean colour of the middle of each corner block of `oriented_image` (away from chroma edges)."""
    b = min(img.shape[0], img.shape[1]) // 4
    m = max(1, b // 4)

    def mean(ys: slice, xs: slice) -> tuple[int, ...]:
        return tuple(int(v) for v in img[ys, xs].reshape(-1, 3).mean(0))
    return {"tl": mean(slice(m, b - m), slice(m, b - m)), "tr": mean(slice(m, b - m), slice(-b + m, -m)),
            "bl": mean(slice(-b + m, -m), slice(m, b - m)), "br": mean(slice(-b + m, -m), slice(-b + m, -m))}


def assert_upright(img: np.ndarray) -> None:
    """Each corner of an `oriented_image` frame (any size) is where it belongs: not turned, not mirrored."""
    corners = corner_colours(img)
    for name, expected in (("tl", (255, 0, 0)), ("tr", (0, 255, 0)), ("bl", (0, 0, 255)), ("br", (128, 128, 128))):
        assert np.abs(np.subtract(corners[name], expected)).max() < 40, (name, corners)


def make_phone_video(path: str | Path, rotation: int, seconds: float = 1.0) -> Path:
    """Store the upright picture turned counter-clockwise by `rotation` plus a display matrix that
    turns it back (clockwise), as a phone does; rotation 90 writes the exact matrix of an iPhone
    portrait clip, [0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30]."""
    coded = np.ascontiguousarray(np.rot90(oriented_image(UPRIGHT_W, UPRIGHT_H), k=rotation // 90))
    height, width = coded.shape[:2]
    return make_video(path, seconds, 25, (width, height), with_audio=False, rotation=rotation,
                      images=[coded], crf=12)
