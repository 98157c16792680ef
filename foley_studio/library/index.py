"""The SFX library index: folders scanned into SQLite (WAL, FTS5), searched by words and meaning.

One database file (`library.sqlite3` in the user data folder unless a path is given) holds:
`roots` (the folders added), `files` (one row per readable file: technical metadata, levels, a
128-point overview and the text fields), `files_fts` (an FTS5 index over the text fields, kept in
step by triggers), `skipped` (files that could not be read, with the reason), and the embeddings:
`text_vectors` (MiniLM, per description) and `audio_vectors` (spectral features, per file), both
float32 blobs.

`LibraryIndex` is the one object callers hold; each job is its own part:
`store` (connections, schema, folders, lookups), `scanner` (folders -> rows, in batches),
`text` (FTS5 bm25), `semantic` (MiniLM cosine), `similar` (audio embedding neighbours).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .errors import EmbeddingModelMissingError
from .features import DEFAULT_EMBEDDER, AudioEmbedder
from .query import parse_query
from .records import LibraryEntry, LibraryStats, ScanProgress, ScanReport, SkippedFile
from .scanner import LibraryScanner, ProgressFn
from .semantic_search import SemanticSearch
from .similar import SimilarSounds
from .store import DB_NAME, LibraryStore
from .text_search import TextSearch
from .vectors import VectorCache

log = logging.getLogger(__name__)

__all__ = ["DB_NAME", "LibraryEntry", "LibraryIndex", "LibraryStats", "ScanProgress", "ScanReport", "SkippedFile",
           "fuse_rankings", "words_first"]

RRF_K = 60               # reciprocal-rank-fusion constant (Cormack et al. 2009)
SEARCH_MODES = ("combined", "text", "semantic")


class LibraryIndex:
    """An SFX library database; see the module docstring for what it holds."""

    def __init__(self, db_path: str | Path | None = None, *, audio_embedder: AudioEmbedder = DEFAULT_EMBEDDER,
                 text_embedder: Callable[[], object] | None = None):
        self.store = LibraryStore(db_path)
        self.audio_embedder = audio_embedder
        vectors = VectorCache(self.store)
        self.scanner = LibraryScanner(self.store, audio_embedder)
        self.text = TextSearch(self.store)
        self.semantic = SemanticSearch(self.store, vectors, self.text, text_embedder)
        self.similar_sounds = SimilarSounds(self.store, vectors, audio_embedder)
        self._semantic_warned = False

    @property
    def db_path(self) -> Path:
        return self.store.db_path

    def close(self) -> None:
        """Close this thread's connection (other threads' close when their threads end)."""
        self.store.close()

    def __enter__(self) -> "LibraryIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- folders and scanning ------------------------------------------------------------------
    def add_folder(self, folder: str | Path) -> Path:
        return self.store.add_folder(folder)

    def remove_folder(self, folder: str | Path) -> int:
        return self.store.remove_folder(folder)

    def ensure_demo_library(self) -> bool:
        return self.store.ensure_demo_library()

    def folders(self) -> list[Path]:
        return self.store.folders()

    def scan(self, progress: ProgressFn | None = None, *, folders: Iterable[str | Path] | None = None,
             workers: int | None = None, cancel: Callable[[], bool] | None = None,
             embed_text: bool = True) -> ScanReport:
        """Bring the index up to date with the library folders (all, or the given added ones).

        New and changed (size or mtime) files are read in a thread pool; removed files are dropped;
        unreadable ones are recorded in `skipped` with their reason. `cancel()` returning True stops
        after the current batch, keeping what was committed. With `embed_text`, descriptions
        without a MiniLM vector are embedded at the end (skipped with a warning when the encoder
        is not installed).
        """
        t0 = time.perf_counter()
        progress = progress or (lambda p: None)
        cancel = cancel or (lambda: False)
        report = self.scanner.scan(progress, cancel, folders=folders, workers=workers)
        if embed_text and not report.cancelled:
            self.semantic.embed_missing(progress, cancel)
        report.seconds = time.perf_counter() - t0
        progress(ScanProgress("done", report.added + report.updated, report.to_read))
        return report

    # -- searching -----------------------------------------------------------------------------
    def preload_semantic(self):
        """Load the sentence encoder in a background thread (a few seconds). Until it is ready,
        combined searches return text results instead of waiting, so an editor can call this at
        start-up and search as the user types without freezing on the first keystroke."""
        return self.semantic.preload()

    @property
    def semantic_ready(self) -> bool:
        """Whether the sentence encoder is loaded (a semantic query will not have to wait for it)."""
        return self.semantic.ready

    def search(self, query: str, limit: int = 50, *, mode: str = "combined") -> list[LibraryEntry]:
        """Search by words and filters ("text"), by meaning ("semantic"), or both fused ("combined").

        Combined ranking is reciprocal-rank fusion of the FTS5 bm25 ranking and the MiniLM cosine
        ranking, so a file found by both rises above one found by either. A single word ("metal",
        "door") is a name, a category or a tag: every file that carries it comes before files that
        only mean something close (MiniLM rates "Cow" nearer to "metal" than "Crash"). Without the
        encoder, combined falls back to text alone.
        """
        if mode not in SEARCH_MODES:
            raise ValueError(f"search mode must be 'combined', 'text' or 'semantic', not {mode!r}")
        parsed = parse_query(query)
        if mode == "text" or not parsed.text:
            return self.text.search(parsed, limit)
        if mode == "semantic":
            return self.semantic.search(parsed, limit)
        pool = max(limit * 3, 50)
        text_hits = self.text.search(parsed, pool)
        if self.semantic.nonblocking and not self.semantic.ready:
            return text_hits[:limit]     # the encoder is still loading (see preload_semantic)
        try:
            sem_hits = self.semantic.search(parsed, pool)
        except EmbeddingModelMissingError as exc:
            if not self._semantic_warned:
                log.warning("semantic search unavailable, using text search only: %s", exc)
                self._semantic_warned = True
            return text_hits[:limit]
        fused = fuse_rankings([text_hits, sem_hits], len(text_hits) + len(sem_hits))
        if len(parsed.text.split()) == 1:
            fused = words_first(fused, {e.id for e in text_hits})
        return fused[:limit]

    def semantic_search(self, query: str, limit: int = 50) -> list[LibraryEntry]:
        """Files whose description means what `query` says (MiniLM cosine), filters applied."""
        return self.semantic.search(parse_query(query), limit)

    def similar(self, path: str | Path, limit: int = 20, *, start: int | None = None,
                end: int | None = None) -> list[LibraryEntry]:
        """Files that sound like `path` (or its [start, end) samples at 48 kHz), by audio embedding; the file
        itself is left out. Uses the stored vector when the file is indexed and unchanged."""
        return self.similar_sounds.to_file(path, limit, start=start, end=end)

    def similar_to_audio(self, audio: np.ndarray, sample_rate: int, limit: int = 20) -> list[LibraryEntry]:
        """Files that sound like this audio (for a clip on the timeline, not on disk)."""
        return self.similar_sounds.to_audio(audio, sample_rate, limit)

    def similar_to_vector(self, vec: np.ndarray, limit: int = 20, *, exclude: str | None = None) -> list[LibraryEntry]:
        return self.similar_sounds.to_vector(vec, limit, exclude=exclude)

    # -- lookups -------------------------------------------------------------------------------
    def get(self, path: str | Path) -> LibraryEntry | None:
        """The entry for `path` if it is indexed (and unchanged on disk, when it still exists)."""
        return self.store.get(path)

    def skipped(self) -> list[SkippedFile]:
        return self.store.skipped()

    def __len__(self) -> int:
        return len(self.store)

    def stats(self) -> LibraryStats:
        return self.store.stats()


def words_first(ranking: list[LibraryEntry], matched: set[int]) -> list[LibraryEntry]:
    """`ranking` with the entries in `matched` (the word matches) first, each part in its own order."""
    return [e for e in ranking if e.id in matched] + [e for e in ranking if e.id not in matched]


def fuse_rankings(rankings: list[list[LibraryEntry]], limit: int) -> list[LibraryEntry]:
    """Reciprocal-rank fusion: score = sum over rankings of 1 / (RRF_K + rank)."""
    scores: dict[int, float] = {}
    entries: dict[int, LibraryEntry] = {}
    for ranking in rankings:
        for rank, e in enumerate(ranking):
            scores[e.id] = scores.get(e.id, 0.0) + 1.0 / (RRF_K + rank + 1)
            entries.setdefault(e.id, e)
    best = sorted(scores, key=lambda i: -scores[i])[:limit]
    out = []
    for i in best:
        e = entries[i]
        e.score = scores[i]
        out.append(e)
    return out
