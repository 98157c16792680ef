"""Hostile inputs made on the spot: WAV headers that lie, damaged JSON, odd model folders.

Shared by the hardening tests and `benchmarks/hostile_cases.py`, so both try the same files:
    from tests.hostile_media import wav_bytes, write_float_wav, nested_json
"""
from __future__ import annotations

import copy
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

WAVE_PCM, WAVE_FLOAT = 1, 3


def wav_bytes(*, rate: int = 48_000, channels: int = 1, bits: int = 16, tag: int = WAVE_PCM,
              frames: int = 4800, data: bytes | None = None, declared_data: int | None = None,
              block_align: int | None = None) -> bytes:
    """A RIFF/WAVE file whose header says exactly what it is told to, true or not.

    `data` defaults to `frames` frames of zero samples; `declared_data` overrides the data chunk's
    size field (a lie about the length); `block_align` overrides bytes per frame.
    """
    align = block_align if block_align is not None else channels * bits // 8
    if data is None:
        data = bytes(max(0, frames * channels * bits // 8))
    fmt = struct.pack("<HHIIHH", tag, channels & 0xFFFF, rate & 0xFFFFFFFF,
                      (rate * align) & 0xFFFFFFFF, align & 0xFFFF, bits)
    size = len(data) if declared_data is None else declared_data
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size & 0xFFFFFFFF) + data
    return b"RIFF" + struct.pack("<I", len(body) & 0xFFFFFFFF) + body


def write_wav(path: str | Path, **kwargs: Any) -> Path:
    path = Path(path)
    path.write_bytes(wav_bytes(**kwargs))
    return path


def write_float_wav(path: str | Path, samples: np.ndarray, rate: int = 48_000) -> Path:
    """A 32-bit float mono WAV holding `samples` exactly (NaN and Inf included)."""
    values = np.asarray(samples, dtype="<f4")
    return write_wav(path, rate=rate, channels=1, bits=32, tag=WAVE_FLOAT, data=values.tobytes())


def tone_with(bad: float, n: int = 48_000, at: int = 1000, freq: float = 440.0) -> np.ndarray:
    """A 1 s sine with one sample replaced by `bad` (NaN, inf, ...)."""
    x = (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / 48_000)).astype(np.float32)
    x[at] = bad
    return x


def nested_json(depth: int, *, kind: str = "object", leaf: str = "1") -> str:
    """JSON nested `depth` levels deep: {"a": {"a": ... 1}} or [[[... 1]]]."""
    if kind == "object":
        return '{"a": ' * depth + leaf + "}" * depth
    return "[" * depth + leaf + "]" * depth


def mutated(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `document` with the item at a dotted path ('tracks.0.clips.0.gain_db') set."""
    out = copy.deepcopy(document)
    keys = path.split(".")
    node: Any = out
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def dumps_loose(document: Any) -> str:
    """JSON text that may hold NaN/Infinity literals (as other tools write them)."""
    return json.dumps(document, allow_nan=True)


def model_folder(folder: str | Path, meta: dict[str, Any], weights: str | Path | None) -> Path:
    """A model folder: `config.json` from `meta` (written loosely: NaN allowed) and the weights linked in."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(dumps_loose(meta), encoding="utf-8")
    if weights is not None:
        link = folder / "model.safetensors"
        link.unlink(missing_ok=True)
        link.symlink_to(Path(weights).resolve())
    return folder


def write_pickle(path: str | Path) -> Path:
    """A small torch pickle (the kind of file we refuse to unpickle)."""
    import torch

    path = Path(path)
    torch.save({"weight": torch.zeros(2, 2)}, path)
    return path
