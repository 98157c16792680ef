"""Embedding matrices held in memory until the database changes, and the top-k dot-product search."""
from __future__ import annotations

import threading

import numpy as np

from .store import LibraryStore


class VectorCache:
    """(ids, vectors) of one kind of embedding, reloaded when the store's generation moves on."""

    def __init__(self, store: LibraryStore):
        self.store = store
        self._matrices: dict[tuple[str, str], tuple[int, np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def text(self) -> tuple[np.ndarray, np.ndarray]:
        """MiniLM vectors of the descriptions: ids (N,), vectors (N, D) float32."""
        return self._matrix("text", "")

    def audio(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """The audio embedder `kind`'s vectors: ids (N,), vectors (N, D) float32."""
        return self._matrix("audio", kind)

    def _matrix(self, table: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
        gen = self.store.generation()
        with self._lock:
            cached = self._matrices.get((table, kind))
        if cached is not None and cached[0] == gen:
            return cached[1], cached[2]
        conn = self.store.conn()
        if table == "text":
            rows = conn.execute("SELECT file_id, vec FROM text_vectors ORDER BY file_id").fetchall()
        else:
            rows = conn.execute("SELECT file_id, vec FROM audio_vectors WHERE kind=? ORDER BY file_id",
                                (kind,)).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        mat = (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
               if rows else np.zeros((0, 0), dtype=np.float32))
        with self._lock:
            self._matrices[(table, kind)] = (gen, ids, mat)
        return ids, mat


def top_k(ids: np.ndarray, mat: np.ndarray, vec: np.ndarray, k: int,
          allowed: np.ndarray | None = None) -> tuple[list[int], list[float]]:
    """Best k rows by dot product. einsum rather than `mat @ vec`: the product is memory-bound,
    and multithreaded BLAS only adds contention (measured 2x slower on a busy 2-core machine)."""
    scores = np.einsum("ij,j->i", mat, vec.astype(np.float32))
    if allowed is not None:
        scores = np.where(np.isin(ids, allowed), scores, -np.inf)
    k = min(k, len(ids))
    if k <= 0:
        return [], []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    top = top[np.isfinite(scores[top])]
    return [int(i) for i in ids[top]], [float(x) for x in scores[top]]
