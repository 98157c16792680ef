"""Audio files in and out as float32 numpy arrays at the timeline rate (48 kHz).

soundfile (libsndfile) reads WAV/FLAC/AIFF/OGG exactly and fast, including 8-bit unsigned and 24-bit
PCM; whatever it cannot read (AAC, MP3 in MP4, audio inside a video) is decoded with PyAV. Rate
conversion is always soxr; nothing here hand-rolls DSP. Writes are atomic (temp file, fsync, rename)
so a crash never leaves a half-written export where a good one was.
"""
from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import av
import numpy as np
import soundfile as sf
import soxr

from foley_studio.core.timebase import SAMPLE_RATE

from foley_studio.core.safepaths import remove_stale_staging, staging_file

from .errors import EmptyMediaError, MediaError, MediaWriteError, NoAudioStreamError
from .limits import check_audio_format, check_decoded_size, check_finite
from .probe import check_exists, codec_name, decode_error, open_container, unsupported_codec

log = logging.getLogger(__name__)

# Extra output samples read around a sub-range at another rate so the resampler's filter has
# real context at both edges (soxr's HQ filter is far shorter than this).
_EDGE_PAD = 512
_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".aif": "AIFF", ".aiff": "AIFF", ".ogg": "OGG", ".w64": "W64"}


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
def read_audio(path: str | Path, start: int | None = None, end: int | None = None, *,
               mono: bool = True) -> np.ndarray:
    """Samples [start, end) of a file, resampled to 48 kHz, as float32.

    `start`/`end` are sample indices at 48 kHz (the timeline's unit), clamped to the file.
    Returns (N,) when `mono` (channels averaged), else (C, N) C-contiguous.
    """
    path = check_exists(path)
    if start is not None and not isinstance(start, (int, np.integer)):
        raise TypeError(f"start must be an int sample index at 48 kHz, got {start!r}")
    if end is not None and not isinstance(end, (int, np.integer)):
        raise TypeError(f"end must be an int sample index at 48 kHz, got {end!r}")
    try:
        handle = sf.SoundFile(os.fspath(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        log.debug("soundfile cannot read %s (%s); decoding with PyAV", path, exc)
        data = _read_pyav(path, start, end)
    else:
        with handle:
            data = _read_soundfile(handle, path, start, end)
    if mono:
        return np.ascontiguousarray(data.mean(axis=0, dtype=np.float32))
    return np.ascontiguousarray(data, dtype=np.float32)


def audio_info(path: str | Path) -> tuple[int, int, int]:
    """(native sample rate, channels, frames) without decoding; frames may be 0 if unknown."""
    path = check_exists(path)
    try:
        with sf.SoundFile(os.fspath(path)) as handle:
            return handle.samplerate, handle.channels, handle.frames
    except (sf.LibsndfileError, RuntimeError, TypeError):
        with open_container(path) as container:
            stream = _audio_stream(container, path)
            sr = stream.codec_context.sample_rate
            frames = int(stream.duration * stream.time_base * sr) if stream.duration else 0
            return sr, stream.codec_context.channels, frames


def _native_range(sr: int, start: int, end: int | None) -> tuple[int, int | None, int]:
    """Native-rate [n0, n1) that covers 48 kHz [start, end) plus padding, and the 48 kHz index of n0.

    n0 is chosen on the grid where both rates meet exactly (multiples of sr/gcd), so the
    resampled chunk's first sample lands on an integer 48 kHz index.
    """
    g = math.gcd(sr, SAMPLE_RATE)
    step_in, step_out = sr // g, SAMPLE_RATE // g
    out0 = max(0, start - _EDGE_PAD) // step_out * step_out
    n0 = out0 // step_out * step_in
    if end is None:
        return n0, None, out0
    out1 = -(-(end + _EDGE_PAD) // step_out) * step_out
    return n0, out1 // step_out * step_in, out0


def _read_soundfile(handle: sf.SoundFile, path: Path, start: int | None, end: int | None) -> np.ndarray:
    sr = handle.samplerate
    check_audio_format(path, sr, handle.channels)      # before a resampler is asked for absurd ratios
    if handle.frames == 0:
        raise EmptyMediaError(f"{path}: holds no audio samples (zero length); re-export it")
    start = max(0, start or 0)
    if sr == SAMPLE_RATE:
        handle.seek(min(start, handle.frames))
        n = -1 if end is None else max(0, min(end, handle.frames) - start)
        return _read_block(handle, n, path).T
    n0, n1, out0 = _native_range(sr, start, end)
    handle.seek(min(n0, handle.frames))
    n = -1 if n1 is None else max(0, min(n1, handle.frames) - n0)
    native = _read_block(handle, n, path)
    return _slice(resample(native.T, sr, SAMPLE_RATE), start - out0, None if end is None else end - out0)


def _read_block(handle: sf.SoundFile, n: int, path: Path) -> np.ndarray:
    check_decoded_size(path, n if n >= 0 else handle.frames - handle.tell(), handle.samplerate, handle.channels)
    try:
        block = handle.read(n, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise decode_error(path, exc) from exc
    if not handle.subtype.startswith(("PCM", "ULAW", "ALAW")):     # only float formats can hold NaN/inf
        check_finite(path, block, handle.samplerate, channels_first=False)
    return block


def _slice(data: np.ndarray, a: int, b: int | None) -> np.ndarray:
    a = max(0, a)
    return data[:, a:b] if b is not None else data[:, a:]


def _audio_stream(container: av.container.InputContainer, path: Path) -> av.audio.stream.AudioStream:
    if not container.streams.audio:
        raise NoAudioStreamError(f"{path}: has no audio stream; pick a file with sound "
                                 f"(or add audio to this video first)")
    stream = container.streams.audio[0]
    if codec_name(stream) is None:
        raise unsupported_codec(path, "audio")
    return stream


def decode_audio_native(path: str | Path, start_seconds: float = 0.0,
                        end_seconds: float | None = None) -> tuple[np.ndarray, int, float]:
    """Decode the first audio stream with PyAV: (float32 (C, N) at the native rate, rate, t0).

    Time 0 is the first video frame when the file has a picture (the timeline is scored against
    it), else the start of the audio. t0 >= 0 is the time of the first returned sample: a seek
    lands on a frame boundary at or before `start_seconds`, and sound that starts late starts late.
    """
    path = Path(path)
    with open_container(path) as container:
        stream = _audio_stream(container, path)
        ctx = stream.codec_context
        sr = ctx.sample_rate
        if not sr:
            raise decode_error(path, ValueError("the audio stream has no sample rate"))
        check_audio_format(path, sr, ctx.channels)
        # Format conversion only (to planar float); the rate change is soxr's job.
        converter = av.AudioResampler(format="fltp", layout=ctx.layout, rate=sr)
        origin = _time_origin(container, stream)
        stream_end = None
        if stream.duration:
            first = stream.start_time if stream.start_time is not None else 0
            stream_end = float((first + stream.duration) * stream.time_base) - origin
        if start_seconds > 0:
            container.seek(int((start_seconds + origin) / stream.time_base), stream=stream, backward=True)
        chunks: list[np.ndarray] = []
        decoded = 0
        t0: float | None = None
        try:
            for frame in container.decode(stream):
                if t0 is None:
                    t0 = (float(frame.pts * frame.time_base) - origin) if frame.pts is not None else 0.0
                for converted in converter.resample(frame):
                    chunks.append(converted.to_ndarray())
                    decoded += chunks[-1].shape[-1]
                check_decoded_size(path, decoded, sr, ctx.channels)
                if end_seconds is not None and frame.pts is not None and \
                        float(frame.pts * frame.time_base) - origin > end_seconds:
                    break
            for converted in converter.resample(None):
                chunks.append(converted.to_ndarray())
        except av.error.FFmpegError as exc:
            if not chunks:
                raise decode_error(path, exc) from exc
            # A truncated tail: keep what decoded, as players do, but say so.
            log.warning("%s: decoding stopped early (%s); using the first %d chunks", path, exc, len(chunks))
    if not chunks:
        raise EmptyMediaError(f"{path}: the audio stream holds no samples (zero length)")
    data = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    check_finite(path, data, sr)
    t0 = t0 or 0.0
    if t0 < 0:   # sound before the first picture is not on the timeline
        data, t0 = data[:, int(round(-t0 * sr)):], 0.0
    if stream_end is not None:
        # Codecs like AAC decode whole frames; the header's duration says where the sound ends.
        data = data[:, :max(0, int(round((stream_end - t0) * sr)))]
    return data, sr, t0


def _time_origin(container: av.container.InputContainer, audio: av.audio.stream.AudioStream) -> float:
    """Seconds of container time that the timeline calls 0 (first video frame, else first sample)."""
    for stream in (*container.streams.video[:1], audio):
        if stream.start_time is not None:
            return float(stream.start_time * stream.time_base)
    return 0.0


def _read_pyav(path: Path, start: int | None, end: int | None) -> np.ndarray:
    start = max(0, start or 0)
    seek_to = max(0, start - _EDGE_PAD) / SAMPLE_RATE
    data, sr, t0 = decode_audio_native(path, seek_to, None if end is None else (end + _EDGE_PAD) / SAMPLE_RATE)
    # Drop the few samples before the first point where both rates' grids meet, so the
    # resampled block starts on an exact 48 kHz index (no sub-sample misalignment).
    g = math.gcd(sr, SAMPLE_RATE)
    step_in, step_out = sr // g, SAMPLE_RATE // g
    n_first = int(round(t0 * sr))
    n0 = -(-n_first // step_in) * step_in
    data = data[:, n0 - n_first:]
    out0 = n0 // step_in * step_out
    if sr != SAMPLE_RATE:
        data = resample(data, sr, SAMPLE_RATE)
    if out0 > start:
        # The stream starts later than asked (sound that begins after the picture): silence first.
        data = np.concatenate([np.zeros((data.shape[0], out0 - start), np.float32), data], axis=1)
        out0 = start
    return _slice(data, start - out0, None if end is None else end - out0)


# ---------------------------------------------------------------------------------------------
# Resampling
# ---------------------------------------------------------------------------------------------
def resample(x: np.ndarray, sr_in: int, sr_out: int, *, quality: str = "HQ") -> np.ndarray:
    """Band-limited rate conversion with soxr; `x` is (N,) or (C, N), result float32 the same layout."""
    if sr_in <= 0 or sr_out <= 0:
        raise ValueError(f"sample rates must be positive, got {sr_in=} {sr_out=}")
    x = np.asarray(x, dtype=np.float32)
    if sr_in == sr_out or x.shape[-1] == 0:
        return x.copy()
    if x.ndim == 1:
        return soxr.resample(x, sr_in, sr_out, quality=quality).astype(np.float32, copy=False)
    # soxr wants (N, C); hand it a contiguous transpose and give back (C, N).
    out = soxr.resample(np.ascontiguousarray(x.T), sr_in, sr_out, quality=quality)
    return np.ascontiguousarray(out.T, dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def write_audio(path: str | Path, data: np.ndarray, subtype: str = "PCM_24", *,
                sample_rate: int = SAMPLE_RATE) -> Path:
    """Write (N,) or (C, N) float audio atomically; the format comes from the suffix (.wav, .flac, ...)."""
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise MediaWriteError(f"{path}: unknown audio file type {path.suffix!r}; use one of "
                              f"{', '.join(sorted(_FORMATS))}")
    if not sf.check_format(fmt, subtype):
        raise MediaWriteError(f"{path}: {fmt} cannot hold {subtype} samples; use PCM_16 or PCM_24")
    data = np.asarray(data, dtype=np.float32)
    if data.ndim not in (1, 2):
        raise ValueError(f"audio must be (N,) or (C, N), got {data.shape=}")
    frames = data if data.ndim == 1 else np.ascontiguousarray(data.T)
    check_writable_samples(path, frames)
    frames = _clip_for_pcm(frames, subtype, path)
    with atomic_output(path) as tmp:
        sf.write(tmp, frames, sample_rate, subtype=subtype, format=fmt)
    return path


def check_writable_samples(path: str | Path, samples: np.ndarray, *, channels_first: bool = False) -> None:
    """No NaN or infinity reaches a file or an encoder: say where they came from instead.

    `samples` is (N,), (N, C) as soundfile writes it, or (C, N) with `channels_first`."""
    try:
        check_finite(path, samples, channels_first=channels_first)
    except MediaError as exc:
        raise MediaWriteError(f"{path}: not written, the audio to write is damaged ({str(exc).split(': ', 1)[-1]}); "
                              "a source clip holds values far outside full scale or is corrupt, or a gain is "
                              "extreme: check the clips' gains and sources") from None


def _clip_for_pcm(frames: np.ndarray, subtype: str, path: Path) -> np.ndarray:
    """Integer formats cannot hold |x| > 1; clip (and say so) rather than let values wrap."""
    if not subtype.startswith("PCM") or frames.size == 0:
        return frames
    peak = float(np.max(np.abs(frames)))
    if peak > 1.0:
        log.warning("%s: peak %.2f dBFS clipped to 0 dBFS; lower the gain to avoid distortion",
                    path, 20 * math.log10(peak))
        return np.clip(frames, -1.0, 1.0)
    return frames


class atomic_output:  # noqa: N801 - used as a context manager, reads like one
    """`with atomic_output(path) as tmp:` write to `tmp`; it replaces `path` only on success.

    The temp file lives beside the target (same file system, so the rename is atomic) and is
    fsynced first. Failures become `MediaWriteError` naming the folder and the fix.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.tmp: str | None = None

    def __enter__(self) -> str:
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if "\x00" in str(self.path):
            raise MediaWriteError(f"{self.path!r}: a file name cannot hold a NUL character; choose another name")
        if not folder.is_dir():
            raise MediaWriteError(f"{self.path}: the folder {folder} does not exist; create it first")
        try:
            fd, tmp = staging_file(self.path)
            os.close(fd)
            self.tmp = str(tmp)
        except OSError as exc:
            raise MediaWriteError(f"{self.path}: cannot write into {folder} ({exc.strerror}); "
                                  f"the folder is read-only or full, choose another output folder") from exc
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        assert self.tmp is not None
        if exc_type is not None:
            _remove_quietly(self.tmp)
            if isinstance(exc, OSError) or isinstance(exc, (sf.LibsndfileError, av.error.FFmpegError)):
                raise MediaWriteError(f"{self.path}: writing failed ({exc}); check free space and "
                                      f"permissions of {self.path.parent}") from exc
            return False
        try:
            with open(self.tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(self.tmp, self.path)
        except OSError as exc:
            _remove_quietly(self.tmp)
            raise MediaWriteError(f"{self.path}: cannot replace the file ({exc.strerror}); "
                                  f"is it open elsewhere or the folder read-only?") from exc
        _fsync_dir(self.path.parent)
        remove_stale_staging(self.path.parent)    # what an earlier, killed export left behind
        return False


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
