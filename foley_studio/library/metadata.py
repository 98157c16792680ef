"""Technical metadata, levels, overview and descriptions of one audio file (no database here).

`read_metadata(path)` is what a scan worker runs per file. Decoding is `media.native_audio`'s:
libsndfile for WAV/BWF, FLAC, AIFF, OGG and MP3, FFmpeg for anything else it can decode. Descriptions come
from the BWF `bext` chunk, iXML, RIFF INFO, Vorbis comments and ID3 tags. Anything wrong with a
file raises `UnreadableAudioError` with a reason a user can act on.
"""
from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foley_studio.media.errors import NativeAudioError
from foley_studio.media.native_audio import NativeAudioInfo, read_native_audio, read_tags

from .errors import UnreadableAudioError
from .features import DEFAULT_EMBEDDER, MAX_SECONDS, AudioEmbedder

AUDIO_EXTENSIONS = frozenset({".wav", ".bwf", ".flac", ".aif", ".aiff", ".aifc", ".ogg", ".oga", ".mp3"})
OVERVIEW_BINS = 128
IXML_LIMIT = 1 << 16
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
        """`block` is (frames, channels) float32, C-contiguous (as `media.native_audio` feeds it)."""
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
# Decoding (through `media.native_audio`: libsndfile, then FFmpeg)
# ---------------------------------------------------------------------------------------------

def _measure(path: Path, embedder: AudioEmbedder | None) -> AudioMetadata:
    """Levels, overview and embedding of one pass over the file at its own rate."""
    passes: list[_LevelMeter] = []

    def start(info: NativeAudioInfo):
        # A second call means the first decoder failed part-way: its meter is dropped.
        passes.append(_LevelMeter(info.frames, info.sample_rate,
                                  int(MAX_SECONDS * info.sample_rate) if embedder else 0))
        return passes[-1].feed

    try:
        info, frames = read_native_audio(path, start)
    except NativeAudioError as exc:
        raise UnreadableAudioError(str(path), exc.reason) from exc
    meter = passes[-1]
    peak_db, rms_db, overview = meter.result()
    return AudioMetadata(
        duration=frames / info.sample_rate, sample_rate=info.sample_rate, channels=info.channels,
        bit_depth=info.bit_depth, codec=info.codec, peak_db=peak_db, rms_db=rms_db, overview=overview,
        description="", tags=dict(info.tags),
        embedding=embedder.embed(meter.head_audio(), info.sample_rate) if embedder else None)


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
    meta = _measure(path, embedder)
    if suffix == ".mp3" and not meta.tags:
        meta.tags = read_tags(path)
    ixml = riff.ixml
    meta.description = compose_description(
        riff.bext_description, ixml.get("description", ""), ixml.get("note", ""), ixml.get("fxname", ""),
        meta.tags.get("comment", ""), meta.tags.get("description", ""), meta.tags.get("title", ""))
    return meta
