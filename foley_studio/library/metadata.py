"""Technical metadata, levels, overview and descriptions of one audio file (no database here).

`read_metadata(path)` is what a scan worker runs per file. soundfile (libsndfile) decodes WAV/BWF,
FLAC, AIFF, OGG and MP3; PyAV is the fallback for anything else it can decode. Descriptions come
from the BWF `bext` chunk, iXML, RIFF INFO, Vorbis comments and ID3 tags. Anything wrong with a
file raises `UnreadableAudioError` with a reason a user can act on.
"""
from __future__ import annotations

import logging
import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import UnreadableAudioError
from .features import DEFAULT_EMBEDDER, MAX_SECONDS, AudioEmbedder

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = frozenset({".wav", ".bwf", ".flac", ".aif", ".aiff", ".aifc", ".ogg", ".oga", ".mp3"})
OVERVIEW_BINS = 128
BLOCK_FRAMES = 1 << 18
IXML_LIMIT = 1 << 16
_BIT_DEPTH = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "DOUBLE": 64,
              "ALAC_16": 16, "ALAC_20": 20, "ALAC_24": 24, "ALAC_32": 32}
_IXML_TAGS = ("DESCRIPTION", "NOTE", "FXNAME", "TRACK_NAME")


@dataclass
class AudioMetadata:
    """Everything the index stores about one readable file."""

    duration: float
    sample_rate: int
    channels: int
    bit_depth: int | None     # None for lossy codecs
    codec: str
    peak_db: float | None     # None for digital silence
    rms_db: float | None
    overview: bytes           # OVERVIEW_BINS max-abs values, 0..255 linear
    description: str
    tags: dict[str, str] = field(default_factory=dict)
    embedding: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
# RIFF chunks: BWF bext, iXML, INFO, and truncation
# ---------------------------------------------------------------------------------------------

@dataclass
class RiffInfo:
    bext_description: str = ""
    ixml: dict[str, str] = field(default_factory=dict)
    truncated_bytes: int = 0  # how many bytes of the declared data chunk are missing


def read_riff_chunks(path: Path, file_size: int) -> RiffInfo:
    """Walk the chunk list of a RIFF/WAVE file, reading only the small chunks we want."""
    info = RiffInfo()
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            return info
        pos = 12
        while pos + 8 <= file_size:
            f.seek(pos)
            cid, size = struct.unpack("<4sI", f.read(8))
            if cid == b"data":
                if head[:4] == b"RIFF" and pos + 8 + size > file_size:
                    info.truncated_bytes = pos + 8 + size - file_size
                if size == 0xFFFFFFFF or pos + 8 + size > file_size:
                    break  # RF64 / streaming writers: the data runs to the end
            elif cid == b"bext":
                info.bext_description = _cstring(f.read(min(size, 256)))
            elif cid == b"iXML":
                info.ixml = parse_ixml(f.read(min(size, IXML_LIMIT)).decode("utf-8", errors="replace"))
            pos += 8 + size + (size & 1)
    return info


def _cstring(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


def parse_ixml(text: str) -> dict[str, str]:
    """The descriptive tags of an iXML document (first occurrence of each), without an XML parser
    because recorders write iXML that is frequently not well-formed."""
    found = {}
    for tag in _IXML_TAGS:
        m = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S | re.I)
        if m and m.group(1).strip():
            found[tag.lower()] = re.sub(r"\s+", " ", m.group(1)).strip()
    return found


def compose_description(*candidates: str) -> str:
    """Unique non-empty descriptions in priority order, joined; case-insensitive duplicates dropped."""
    seen, parts = set(), []
    for c in candidates:
        c = (c or "").strip()
        if c and c.lower() not in seen:
            seen.add(c.lower())
            parts.append(c)
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Levels and overview, computed block by block so long files never sit in memory whole
# ---------------------------------------------------------------------------------------------

class _LevelMeter:
    def __init__(self, total_frames: int, sample_rate: int, embed_frames: int):
        self.total = max(total_frames, 1)
        self.peak = 0.0
        self.sum_sq = 0.0
        self.count = 0
        self.bins = np.zeros(OVERVIEW_BINS, dtype=np.float32)
        self.pos = 0
        self.head: list[np.ndarray] = []   # first seconds, mono, for the embedding
        self.head_left = embed_frames

    def feed(self, block: np.ndarray) -> None:
        """`block` is (frames, channels) float32, C-contiguous (as soundfile returns it)."""
        n = len(block)
        if n == 0:
            return
        absmax = np.abs(block[:, 0]) if block.shape[1] == 1 else np.abs(block).max(axis=1)
        flat = block.reshape(-1)
        self.sum_sq += float(np.einsum("i,i->", flat, flat, dtype=np.float64))  # einsum: no BLAS threads
        self.count += flat.size
        # Overview bin b covers frames [ceil(b * total / BINS), ceil((b + 1) * total / BINS)); take
        # the bins this block touches and reduce each one's run of frames in one call.
        b0 = self.pos * OVERVIEW_BINS // self.total
        b1 = min((self.pos + n - 1) * OVERVIEW_BINS // self.total, OVERVIEW_BINS - 1)
        starts = (-(-np.arange(b0, b1 + 1) * self.total // OVERVIEW_BINS) - self.pos).clip(0, n - 1)
        maxima = np.maximum.reduceat(absmax, starts)
        np.maximum(self.bins[b0:b1 + 1], maxima, out=self.bins[b0:b1 + 1])
        self.peak = max(self.peak, float(maxima.max()))
        self.pos += n
        if self.head_left > 0:
            take = block[: self.head_left]
            take = take[:, 0] if take.shape[1] == 1 else take.mean(axis=1)
            self.head.append(take)
            self.head_left -= len(take)

    def result(self) -> tuple[float | None, float | None, bytes]:
        peak_db = 20 * math.log10(self.peak) if self.peak > 0 else None
        rms = math.sqrt(self.sum_sq / self.count) if self.count else 0.0
        rms_db = 20 * math.log10(rms) if rms > 0 else None
        overview = np.clip(np.round(self.bins * 255.0), 0, 255).astype(np.uint8).tobytes()
        return peak_db, rms_db, overview

    def head_audio(self) -> np.ndarray:
        return np.concatenate(self.head) if self.head else np.zeros(0, dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# Decoders
# ---------------------------------------------------------------------------------------------

def _read_with_soundfile(path: Path, embedder: AudioEmbedder | None) -> AudioMetadata:
    with sf.SoundFile(path) as f:
        sr, ch, frames = f.samplerate, f.channels, f.frames
        if frames <= 0:
            raise UnreadableAudioError(str(path), "no audio frames (empty recording)")
        meter = _LevelMeter(frames, sr, int(MAX_SECONDS * sr) if embedder else 0)
        for block in f.blocks(BLOCK_FRAMES, dtype="float32", always_2d=True):
            meter.feed(block)
        if meter.pos == 0:
            raise UnreadableAudioError(str(path), "no audio frames could be decoded")
        tags = {k: v for k, v in f.copy_metadata().items() if v}
        subtype = f.subtype
        fmt = f.format
    peak_db, rms_db, overview = meter.result()
    return AudioMetadata(
        duration=meter.pos / sr, sample_rate=sr, channels=ch, bit_depth=_BIT_DEPTH.get(subtype),
        codec=f"{fmt.lower()}/{subtype.lower()}", peak_db=peak_db, rms_db=rms_db, overview=overview,
        description="", tags=tags,
        embedding=embedder.embed(meter.head_audio(), sr) if embedder else None)


def _read_with_pyav(path: Path, embedder: AudioEmbedder | None) -> AudioMetadata:
    import av  # imported lazily: only files libsndfile cannot read need it

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise UnreadableAudioError(str(path), "contains no audio stream")
            stream = container.streams.audio[0]
            sr, ch = stream.rate, stream.channels
            est = int((stream.duration * stream.time_base) * sr) if stream.duration else sr * 60
            meter = _LevelMeter(est, sr, int(MAX_SECONDS * sr) if embedder else 0)
            chunks = []
            for frame in container.decode(stream):
                chunks.append(frame.to_ndarray().astype(np.float32, copy=False))
            if not chunks:
                raise UnreadableAudioError(str(path), "no audio frames could be decoded")
            data = _planar_to_frames(chunks, frame.format.is_planar, ch, frame.format.name)
            meter.total = max(len(data), 1)
            meter.feed(data)
            tags = {k.lower(): v for k, v in {**container.metadata, **stream.metadata}.items() if v}
            bits = {"s16": 16, "s16p": 16, "s32": 32, "s32p": 32, "flt": 32, "fltp": 32, "u8": 8}
            lossless = stream.codec_context.name.startswith(("pcm", "flac", "alac"))
            bit_depth = bits.get(stream.format.name) if lossless else None
            codec = stream.codec_context.name
    except av.error.FFmpegError as exc:
        raise UnreadableAudioError(str(path), f"not decodable audio ({exc.strerror or exc})") from exc
    peak_db, rms_db, overview = meter.result()
    return AudioMetadata(
        duration=len(data) / sr, sample_rate=sr, channels=ch, bit_depth=bit_depth, codec=codec,
        peak_db=peak_db, rms_db=rms_db, overview=overview, description="", tags=tags,
        embedding=embedder.embed(meter.head_audio(), sr) if embedder else None)


def _planar_to_frames(chunks: list[np.ndarray], planar: bool, channels: int, fmt: str) -> np.ndarray:
    """PyAV frames -> (frames, channels) float32 in [-1, 1]."""
    data = np.concatenate(chunks, axis=1)
    if not planar:
        data = data.reshape(-1, channels).T
    scale = {"s16": 32768.0, "s16p": 32768.0, "s32": 2147483648.0, "s32p": 2147483648.0}.get(fmt)
    if scale:
        data = data / scale
    elif fmt in ("u8", "u8p"):
        data = (data - 128.0) / 128.0
    return np.ascontiguousarray(data.T, dtype=np.float32)


def read_metadata(path: str | Path, *, embedder: AudioEmbedder | None = DEFAULT_EMBEDDER) -> AudioMetadata:
    """Decode `path` once and describe it; raises `UnreadableAudioError` with the reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableAudioError(str(path), f"cannot be opened ({exc.strerror})") from exc
    if size == 0:
        raise UnreadableAudioError(str(path), "empty file (0 bytes)")
    suffix = path.suffix.lower()
    riff = RiffInfo()
    if suffix in (".wav", ".bwf"):
        riff = read_riff_chunks(path, size)
        if riff.truncated_bytes:
            raise UnreadableAudioError(
                str(path), f"truncated: {riff.truncated_bytes} bytes of audio data missing from the end "
                           "(an interrupted copy or recording); re-copy the file")
    try:
        meta = _read_with_soundfile(path, embedder)
    except UnreadableAudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as sf_exc:
        log.debug("soundfile cannot read %s (%s); trying PyAV", path, sf_exc)
        try:
            meta = _read_with_pyav(path, embedder)
        except UnreadableAudioError as av_exc:
            raise UnreadableAudioError(str(path), f"{_soundfile_reason(sf_exc)}; {av_exc.reason}") from av_exc
    if suffix == ".mp3" and not meta.tags:
        meta.tags = _id3_tags(path)
    ixml = riff.ixml
    meta.description = compose_description(
        riff.bext_description, ixml.get("description", ""), ixml.get("note", ""), ixml.get("fxname", ""),
        meta.tags.get("comment", ""), meta.tags.get("description", ""), meta.tags.get("title", ""))
    return meta


def _soundfile_reason(exc: Exception) -> str:
    text = str(exc)
    if "Format not recognised" in text or "unknown format" in text.lower():
        return "not a recognised audio format"
    return f"libsndfile: {text.split(': ', 1)[-1]}"


def _id3_tags(path: Path) -> dict[str, str]:
    try:
        import av

        with av.open(str(path)) as c:
            return {k.lower(): v for k, v in c.metadata.items() if v}
    except Exception as exc:  # tags are optional; a broken ID3 block must not fail the scan
        log.debug("no ID3 tags from %s: %s", path, exc)
        return {}
