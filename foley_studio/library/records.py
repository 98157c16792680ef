"""Plain data the library hands out: entries, scan progress and reports, statistics."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class LibraryEntry:
    """One indexed file as search results and the library panel see it."""

    id: int
    path: str
    size: int
    mtime_ns: int
    duration: float
    sample_rate: int
    channels: int
    bit_depth: int | None
    codec: str
    peak_db: float | None
    rms_db: float | None
    overview: np.ndarray       # uint8 (128,), max-abs per bin, 255 = full scale
    name: str
    folders: str
    category: str
    subcategory: str
    fx_name: str
    creator: str
    description: str
    score: float = 0.0

    @property
    def title(self) -> str:
        """What to show in a list: the description when there is one, else the file name."""
        return self.description or Path(self.path).stem

    def to_json(self) -> dict:
        data = asdict(self)
        data["overview"] = self.overview.tolist()
        return data


@dataclass
class ScanProgress:
    """Reported while scanning: phase is 'listing', 'reading', 'embedding' or 'done'."""

    phase: str
    done: int
    total: int
    path: str = ""


@dataclass
class SkippedFile:
    """A file that looked like audio but could not be read, and why."""

    path: str
    reason: str


@dataclass
class ScanReport:
    """What one scan did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    offline_roots: list[str] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0
    to_read: int = 0            # files found new or changed, to be read by this scan

    @property
    def files_per_second(self) -> float:
        read = self.added + self.updated + len(self.skipped)
        return read / self.seconds if self.seconds > 0 else 0.0


@dataclass
class LibraryStats:
    """What `library stats` shows."""

    db_path: str
    roots: list[str]
    files: int
    skipped: int
    total_seconds: float
    total_bytes: int
    by_extension: dict[str, int]
    by_sample_rate: dict[int, int]
    text_vectors: int
    audio_vectors: int


@dataclass
class FileState:
    """A file as found on disk by a scan."""

    path: str
    size: int
    mtime_ns: int
