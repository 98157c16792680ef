"""The dataset manifest shared by training and evaluation: one JSON object per line, for any data.

A row is one (audio, caption, quality) item, with or without a video:
    {"id": "...", "audio": "audio/x.flac", "video": "video/x.mp4" | null, "caption": "...",
     "quality": "high" | "low" | null, "split": "train" | "val" | "test" | "ood", "duration": 8.0,
     "events": [{"kind": "impact", "time": 1.25, ...}], "meta": {...}}
Paths are relative to the manifest's folder (absolute paths are kept as they are). `audio` may name the
video file itself (VGGSound-style MP4 with its soundtrack). `quality`: "low" for in-the-wild video audio,
"high" for professional 48 kHz library audio, null when unknown (the tag is then left out of the caption).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from foley_studio.core.errors import FoleyError

QUALITIES = ("high", "low", None)
SPLITS = ("train", "val", "test", "ood")   # "ood": out-of-domain evaluation clips, never trained on


class ManifestError(FoleyError):
    """A manifest line that cannot be used; the message names the file and line."""


@dataclass
class ManifestRow:
    id: str
    audio: str
    caption: str
    video: str | None = None
    quality: str | None = None
    split: str = "train"
    duration: float | None = None
    events: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def audio_path(self, root: Path) -> Path:
        return _resolve(root, self.audio)

    def video_path(self, root: Path) -> Path | None:
        return _resolve(root, self.video) if self.video else None


def _resolve(root: Path, rel: str) -> Path:
    p = Path(rel)
    return p if p.is_absolute() else root / p


def write_manifest(path: Path, rows: list[ManifestRow]) -> None:
    path = Path(path)
    tmp = path.with_suffix(".jsonl.part")
    with tmp.open("w") as f:
        for row in rows:
            f.write(json.dumps(asdict(row), sort_keys=True) + "\n")
    tmp.replace(path)


def read_manifest(path: Path, split: str | None = None) -> list[ManifestRow]:
    """Rows of a manifest (optionally one split), validated; errors name the line to fix."""
    path = Path(path)
    if not path.exists():
        raise ManifestError(f"manifest {path} does not exist; make one with `foley-studio world generate` "
                            "or write JSONL rows as described in foley_studio/media/manifest.py")
    rows = []
    known = set(ManifestRow.__dataclass_fields__)
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{path}:{i}: not valid JSON ({exc.msg})") from exc
        missing = {"id", "audio", "caption"} - set(data)
        if missing:
            raise ManifestError(f"{path}:{i}: missing field(s) {sorted(missing)}")
        if data.get("quality") not in QUALITIES:
            raise ManifestError(f"{path}:{i}: quality must be 'high', 'low' or null, got {data.get('quality')!r}")
        if data.get("split", "train") not in SPLITS:
            raise ManifestError(f"{path}:{i}: split must be one of {SPLITS}, got {data.get('split')!r}")
        extra = {k: v for k, v in data.items() if k not in known}
        row = ManifestRow(**{k: v for k, v in data.items() if k in known})
        row.meta = {**row.meta, **extra}
        if split is None or row.split == split:
            rows.append(row)
    return rows
