"""Pictures from a video file with PyAV: single frames, thumbnail strips, encoder input, its sound.

Times are seconds from the start of the video stream (its first timestamp is time 0), so a file
whose stream starts at a non-zero timestamp lines up with the timeline like any other. Seeking
always lands on a keyframe at or before the target and decodes forward from there; the reader
keeps its decoder position so stepping forwards (scrubbing, strips) never seeks backwards.

Pictures come back upright: a phone clip stored sideways with a display rotation is turned the way
players show it, and every size here (`info.width/height`, `width=`/`height=` arguments, thumbnail
widths) is the displayed one.
"""
from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE

from .audio import atomic_output, decode_audio_native, resample
from .errors import EmptyMediaError, NoVideoStreamError
from .limits import check_picture
from .probe import MediaInfo, check_not_truncated, decode_error, open_container, probe

log = logging.getLogger(__name__)

# Decoding forward is cheaper than a seek (which restarts at a keyframe) when the target is this
# close ahead of the decoder; beyond it, a seek may skip whole GOPs.
_FORWARD_DECODE_SECONDS = 1.0


class VideoReader:
    """Random and sequential access to the frames of one video file.

    Not thread-safe: give each worker thread its own reader.
    """

    def __init__(self, path: str | Path, *, threads: bool = True):
        self.path = Path(path)
        self.info: MediaInfo = probe(self.path)
        if not self.info.has_video:
            raise NoVideoStreamError(f"{self.path}: has no video stream; open a video file "
                                     f"(MP4, MOV, MKV) instead")
        check_picture(self.info)       # a 1x1 or 64-megapixel picture, a frame every 500 s
        self._container = open_container(self.path)
        self._stream = self._container.streams.video[0]
        if threads:
            self._stream.thread_type = "AUTO"   # frame + slice threads: ~2x on multi-core
        tb = self._stream.time_base
        self._tb = float(tb)
        self._origin = self._stream.start_time or 0          # in stream time_base ticks
        self._frames: Iterator[av.VideoFrame] | None = None  # live decoder position
        self._last: av.VideoFrame | None = None              # the most recently decoded frame
        self._pending: av.VideoFrame | None = None           # decoded but not yet shown
        self._keyframes: list[float] | None = None

    # -- basics ---------------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        return self.info.duration

    def close(self) -> None:
        self._frames = None
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _time(self, frame: av.VideoFrame) -> float:
        return ((frame.pts if frame.pts is not None else 0) - self._origin) * self._tb

    # -- decoding -------------------------------------------------------------------------------
    def _seek(self, seconds: float) -> None:
        target = int(seconds / self._tb) + self._origin
        try:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        except av.error.FFmpegError as exc:
            raise decode_error(self.path, exc) from exc
        self._frames = self._container.decode(self._stream)
        self._last = None
        self._pending = None

    def _next(self) -> av.VideoFrame | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        if self._frames is None:
            self._seek(0.0)
        try:
            return next(self._frames)
        except StopIteration:
            return None
        except av.error.FFmpegError as exc:
            raise decode_error(self.path, exc) from exc

    def _frame_shown_at(self, seconds: float) -> av.VideoFrame:
        """The frame on screen at `seconds`: the last one whose timestamp is <= seconds."""
        seconds = max(0.0, seconds)
        last_t = self._time(self._last) if self._last is not None else None
        ahead = last_t is not None and last_t <= seconds
        if not (ahead and (seconds - last_t <= _FORWARD_DECODE_SECONDS or
                           not self._keyframe_between(last_t, seconds))):
            self._seek(seconds)
        eps = 0.25 * self._tb
        while True:
            frame = self._next()
            if frame is None:   # past the end: keep showing the last frame
                break
            if self._time(frame) > seconds + eps:
                if self._last is None:      # the first frame starts after `seconds`
                    self._last = frame
                else:
                    self._pending = frame   # not shown yet; next call may need it
                break
            self._last = frame
        if self._last is None:
            raise EmptyMediaError(f"{self.path}: no video frame could be decoded")
        return self._last

    def _keyframe_between(self, a: float, b: float) -> bool:
        """Whether a keyframe lies in (a, b], i.e. whether seeking could skip decoding work."""
        keys = self.keyframe_times()
        return bisect.bisect_right(keys, b) > bisect.bisect_right(keys, a)

    def keyframe_times(self) -> list[float]:
        """Seconds of every keyframe, from the container's index (MP4/MOV) or a demux pass."""
        if self._keyframes is None:
            entries = self._stream.index_entries
            if entries is not None and len(entries) > 0:
                keys = [(e.timestamp - self._origin) * self._tb for e in entries if e.is_keyframe]
            else:
                keys = self._scan_keyframes()
            self._keyframes = sorted(keys)
        return self._keyframes

    def _scan_keyframes(self) -> list[float]:
        with open_container(self.path) as container:
            stream = container.streams.video[0]
            return [(p.pts - self._origin) * self._tb for p in container.demux(stream)
                    if p.is_keyframe and p.pts is not None]

    # -- public API -----------------------------------------------------------------------------
    def frame_at(self, seconds: float, *, width: int | None = None, height: int | None = None) -> np.ndarray:
        """The upright RGB picture shown at `seconds` as uint8 (H, W, 3), optionally scaled.

        `width`/`height` are displayed sizes; give one and the other keeps the display aspect ratio.
        """
        if height and not width:
            width = self.thumbnail_width(height)
        elif width and not height:
            height = max(1, int(round(width / self.display_aspect)))
        return _to_rgb(self._frame_shown_at(seconds), width, height, self.info.rotation)

    def iter_thumbnails(self, times: Iterable[float], height: int) -> Iterator[tuple[float, np.ndarray]]:
        """Yield (t, uint8 (height, W, 3)) for each time, in time order, each as soon as it decodes.

        The width keeps the display aspect ratio. Times are visited in ascending order so the
        decoder runs forward and seeks only across keyframes it would otherwise decode through.
        """
        if height <= 0:
            raise ValueError(f"thumbnail height must be positive, got {height}")
        width = self.thumbnail_width(height)
        for t in sorted(times):
            yield t, _to_rgb(self._frame_shown_at(t), width, height, self.info.rotation)

    @property
    def display_aspect(self) -> float:
        """Displayed width / height: pixel aspect included, after the display rotation."""
        sar = self._stream.sample_aspect_ratio
        coded_w, coded_h = self.info.coded_size
        aspect = coded_w / max(1, coded_h) * (float(sar) if sar else 1.0)
        return 1.0 / aspect if self.info.rotation in (90, 270) else aspect

    def thumbnail_width(self, height: int) -> int:
        """Width that keeps the picture's display aspect ratio at `height` (even, >= 2)."""
        return max(2, int(round(height * self.display_aspect / 2)) * 2)


def _to_rgb(frame: av.VideoFrame, width: int | None, height: int | None, rotation: int = 0) -> np.ndarray:
    """Convert to upright uint8 RGB, scaled to the displayed `width` x `height` when given.

    libswscale scales (area filter for clean downscales) in the coded orientation, so a quarter
    turn swaps the target size first; numpy then turns the small result, which is cheap.
    """
    sideways = rotation in (90, 270)
    if width and height:
        w, h = (height, width) if sideways else (width, height)
        rgb = frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA")
    else:
        rgb = frame.to_ndarray(format="rgb24")
    if rotation:
        # np.rot90 turns counter-clockwise for positive k; the display rotation is clockwise.
        rgb = np.ascontiguousarray(np.rot90(rgb, k=-(rotation // 90)))
    return rgb


def frames_for_encoder(path: str | Path, fps: float, size: int, start: float = 0.0,
                       end: float | None = None, *, fit: str = "cover") -> np.ndarray:
    """Frames sampled at `fps` over [start, end), each made `size`x`size`.

    `fit="cover"` scales to cover the square and centre-crops (the sides of a wide frame are lost);
    `fit="squash"` scales the whole picture into the square (nothing is lost; shapes are stretched).
    Returns uint8 (T, size, size, 3) with T = ceil((end - start) * fps): frame i is the picture
    shown at start + i / fps (the last frame repeats past the end of the video).
    """
    if fit not in ("cover", "squash"):
        raise ValueError(f"fit must be 'cover' or 'squash', got {fit!r}")
    if fit == "squash":
        return frames_squashed_for_encoder(path, fps, size, start, end)

    def cropped(reader: VideoReader, t: float) -> np.ndarray:
        scale = size / min(reader.info.width, reader.info.height)
        w = max(size, int(round(reader.info.width * scale)))
        h = max(size, int(round(reader.info.height * scale)))
        x0, y0 = (w - size) // 2, (h - size) // 2
        return reader.frame_at(t, width=w, height=h)[y0:y0 + size, x0:x0 + size]

    return _sampled_frames(path, fps, size, start, end, cropped)


def frames_squashed_for_encoder(path: str | Path, fps: float, size: int, start: float = 0.0,
                                end: float | None = None) -> np.ndarray:
    """Frames sampled at `fps` over [start, end), each whole picture scaled to `size`x`size`.

    Like `frames_for_encoder`, but nothing is cropped: a wide or tall picture is squashed, so an
    event at the edge of the frame still reaches the encoder. Returns uint8 (T, size, size, 3).
    """
    return _sampled_frames(path, fps, size, start, end,
                           lambda reader, t: reader.frame_at(t, width=size, height=size))


def _sampled_frames(path: str | Path, fps: float, size: int, start: float, end: float | None,
                    picture: Callable[[VideoReader, float], np.ndarray]) -> np.ndarray:
    """(T, size, size, 3): `picture(reader, start + i / fps)` for i < ceil((end - start) * fps)."""
    if fps <= 0 or size <= 0:
        raise ValueError(f"fps and size must be positive, got {fps=} {size=}")
    with VideoReader(path) as reader:
        end = reader.duration if end is None else end
        n = max(0, math.ceil((end - start) * fps - 1e-9))
        out = np.empty((n, size, size, 3), np.uint8)
        for i in range(n):
            out[i] = picture(reader, start + i / fps)
    return out


def encoder_frames(path: str | Path, reading: Callable[[float | None], tuple[float, int, str]],
                   start: float = 0.0, end: float | None = None) -> tuple[np.ndarray, float]:
    """Frames as a video encoder wants them: `reading(native fps) -> (fps, size, fit)` (a model's
    `video_input`) decides; returns the frames and the rate they were sampled at."""
    fps, size, fit = reading(native_fps(path))
    return frames_for_encoder(path, fps, size, start, end, fit=fit), fps


def native_fps(path: str | Path) -> float | None:
    """The video's average frame rate (None when the file does not say)."""
    from .probe import probe
    fps = probe(path).fps
    return float(fps) if fps else None

def write_frames(path: str | Path, frames: Iterable[np.ndarray], fps: Fraction | int, *, crf: int = 23,
                 preset: str = "medium") -> Path:
    """Encode uint8 (H, W, 3) RGB frames (an array (T, H, W, 3) or any iterable of frames, encoded as
    they come) as an H.264 MP4 (yuv420p, no audio) at exactly `fps`.

    Written atomically and single-threaded, so the same frames give the same bytes. `crf` sets the
    compression (higher = more artefacts). H and W must be even (yuv420p).
    """
    path = Path(path)
    rate = Fraction(fps)
    count = 0
    with atomic_output(path) as tmp:
        with av.open(tmp, "w", format="mp4") as out:
            stream = None
            for image in frames:
                image = np.asarray(image)
                if stream is None:
                    stream = _h264_stream(out, image, rate, crf, preset)
                if image.shape != (stream.height, stream.width, 3) or image.dtype != np.uint8:
                    raise ValueError(f"frame {count} is {image.dtype} {image.shape}; every frame must be uint8 "
                                     f"({stream.height}, {stream.width}, 3)")
                # reformat copies into frames of their own: the encoder keeps frames for its lookahead,
                # and a frame that still pointed at `image` would change when the caller reuses it
                picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24").reformat(
                    format="yuv420p")
                picture.pts = count            # frame k at k / fps exactly (the rate control reads it too)
                out.mux(stream.encode(picture))
                count += 1
            if stream is None:
                raise ValueError(f"{path}: no frames to write")
            out.mux(stream.encode())
    return path


def _h264_stream(out: av.container.OutputContainer, first: np.ndarray, rate: Fraction, crf: int, preset: str):
    if first.ndim != 3 or first.shape[-1] != 3:
        raise ValueError(f"frames must be uint8 (H, W, 3), got {first.dtype} {first.shape}")
    height, width = first.shape[:2]
    if height % 2 or width % 2:
        raise ValueError(f"H.264 (yuv420p) needs an even frame size, got {width}x{height}")
    stream = out.add_stream("libx264", rate=rate)
    stream.codec_context.time_base = 1 / rate
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    # no lookahead: with it this x264 build gives different bytes from run to run, even on one thread
    stream.options = {"crf": str(int(crf)), "preset": preset, "threads": "1", "x264-params": "rc-lookahead=0"}
    stream.thread_count = 1
    return stream


def extract_audio(path: str | Path) -> np.ndarray:
    """The file's first audio stream as 48 kHz mono float32 (N,), time 0 at the stream's start."""
    with open_container(path) as container:
        check_not_truncated(path, container)   # a cut-short copy would otherwise decode short, silently
    data, sr, t0 = decode_audio_native(path)
    mono = data.mean(axis=0, dtype=np.float32)
    if sr != SAMPLE_RATE:
        mono = resample(mono, sr, SAMPLE_RATE)
    if t0 > 0:
        # Sound that starts late still belongs at its own time on the timeline.
        mono = np.concatenate([np.zeros(int(round(t0 * SAMPLE_RATE)), np.float32), mono])
    return np.ascontiguousarray(mono)
