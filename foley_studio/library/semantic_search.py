"""Search by meaning: MiniLM vectors of the descriptions, compared with the query's by cosine.

The sentence encoder (`semantic.TextEmbedder`) is loaded on first use, or in the background by
`preload`; until it is ready a non-blocking caller gets no semantic hits rather than a freeze.
Descriptions are embedded at the end of a scan (`embed_missing`), each distinct text once.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

import numpy as np

from .errors import EmbeddingModelMissingError
from .query import ParsedQuery
from .records import LibraryEntry, ScanProgress
from .scanner import CancelFn, ProgressFn, chunks
from .store import LibraryStore
from .text_search import TextSearch
from .vectors import VectorCache, top_k

log = logging.getLogger(__name__)

SEMANTIC_FLOOR = 0.3     # MiniLM cosine between unrelated short captions reaches ~0.3; below is noise


class SemanticSearch:
    """The encoder, the description vectors it writes, and the cosine search over them."""

    def __init__(self, store: LibraryStore, vectors: VectorCache, text: TextSearch,
                 embedder_factory: Callable[[], object] | None = None):
        self.store = store
        self.vectors = vectors
        self.text = text
        self._factory = embedder_factory
        self._embedder = None
        self._lock = threading.Lock()
        self.nonblocking = False          # set by preload: callers then skip semantic hits until ready

    # -- the encoder ---------------------------------------------------------------------------
    def embedder(self):
        with self._lock:
            if self._embedder is None:
                from .semantic import shared_text_embedder

                self._embedder = (self._factory or shared_text_embedder)()
            return self._embedder

    def preload(self) -> threading.Thread:
        """Load the encoder in a background thread (a few seconds)."""
        self.nonblocking = True

        def load() -> None:
            try:
                self.embedder()
            except EmbeddingModelMissingError as exc:
                log.warning("semantic search disabled: %s", exc)

        thread = threading.Thread(target=load, name="library-encoder-load", daemon=True)
        thread.start()
        return thread

    @property
    def ready(self) -> bool:
        """Whether the encoder is loaded (a query will not have to wait for it)."""
        return self._embedder is not None

    # -- vectors of the descriptions -----------------------------------------------------------
    def embed_missing(self, progress: ProgressFn, cancel: CancelFn, batch: int = 256) -> int:
        """Embed descriptions that have no vector yet; returns how many were embedded."""
        conn = self.store.conn()
        rows = conn.execute(
            """SELECT id, description, fx_name, category, subcategory FROM files
               WHERE id NOT IN (SELECT file_id FROM text_vectors)""").fetchall()
        if not rows:
            return 0
        try:
            embedder = self.embedder()
        except EmbeddingModelMissingError as exc:
            log.warning("semantic search disabled: %s", exc)
            return 0
        done = 0
        for chunk in chunks(rows, batch):
            if cancel():
                break
            texts = [semantic_text(r) for r in chunk]
            unique = list(dict.fromkeys(texts))   # libraries repeat descriptions; embed each once
            by_text = dict(zip(unique, embedder.encode(unique)))
            with self.store.write_lock, conn:
                conn.executemany("INSERT OR REPLACE INTO text_vectors VALUES (?, ?, ?)",
                                 ((r["id"], embedder.name, by_text[t].tobytes()) for r, t in zip(chunk, texts)))
                self.store.bump_generation(conn)
            done += len(chunk)
            progress(ScanProgress("embedding", done, len(rows)))
        return done

    # -- searching -----------------------------------------------------------------------------
    def search(self, parsed: ParsedQuery, limit: int) -> list[LibraryEntry]:
        """Files whose description means what the query's words say, its filters applied."""
        if not parsed.text:
            return []
        ids, mat = self.vectors.text()
        if len(ids) == 0:
            return []
        qvec = self.embedder().encode([parsed.text])[0]
        allowed = np.asarray(self.text.allowed_ids(parsed), dtype=np.int64) if parsed.has_filters else None
        top_ids, scores = top_k(ids, mat, qvec, limit, allowed)
        keep = [i for i, sc in enumerate(scores) if sc >= SEMANTIC_FLOOR]
        return self.store.entries_by_id([top_ids[i] for i in keep], [scores[i] for i in keep])


def semantic_text(row: sqlite3.Row | dict) -> str:
    """What MiniLM embeds for a file: its description, else its UCS category and name."""
    if row["description"]:
        return row["description"]
    return " ".join(p for p in (row["category"], row["subcategory"], row["fx_name"]) if p).replace("_", " ")
