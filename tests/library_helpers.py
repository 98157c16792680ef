"""Test media for the library tests: tiny WAVs, BWF chunks, broken files (all made in tmp_path)."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf


class BagOfWordsEmbedder:
    """A tiny stand-in for MiniLM: hashed word counts, so tests need no model."""

    name = "bag-of-words"
    dim = 64

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace(",", " ").split():
                out[i, sum(map(ord, w)) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def tone(seconds: float = 0.2, freq: float = 440.0, sr: int = 48000, amp: float = 0.5,
         decay: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t) * np.exp(-decay * t)).astype(np.float32)


def noise(seconds: float = 0.2, sr: int = 48000, amp: float = 0.3, seed: int = 0) -> np.ndarray:
    return (amp * np.random.default_rng(seed).standard_normal(int(seconds * sr))).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray, sr: int = 48000, subtype: str = "PCM_16") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, sr, subtype=subtype)
    return path


def write_bwf(path: Path, audio: np.ndarray, sr: int = 48000, *, bext_description: str = "",
              ixml: str = "") -> Path:
    """A 16-bit WAV with a `bext` chunk (Description field) and/or an iXML chunk before the data."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    chunks = [b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sr, sr * 2, 2, 16)]
    if bext_description:
        body = bext_description.encode("latin-1")[:256].ljust(256, b"\0") + bytes(602 - 256)
        chunks.append(b"bext" + struct.pack("<I", len(body)) + body)
    if ixml:
        body = ixml.encode("utf-8")
        chunks.append(b"iXML" + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b""))
    chunks.append(b"data" + struct.pack("<I", len(pcm)) + pcm)
    payload = b"WAVE" + b"".join(chunks)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(payload)) + payload)
    return path


def write_broken_set(folder: Path) -> dict[str, Path]:
    """A truncated WAV, a text file named .wav and a zero-length file."""
    folder.mkdir(parents=True, exist_ok=True)
    good = write_wav(folder / "_whole.wav", tone(0.5))
    data = good.read_bytes()
    good.unlink()
    truncated = folder / "truncated.wav"
    truncated.write_bytes(data[: len(data) // 2])
    text = folder / "notes.wav"
    text.write_text("this is a text file that someone named .wav\n" * 10)
    empty = folder / "empty.wav"
    empty.write_bytes(b"")
    return {"truncated": truncated, "text": text, "empty": empty}
