"""Find similar: files whose audio embedding is nearest a file's, a range of it, or any audio."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE

from .errors import LibraryError, UnreadableAudioError
from .features import AudioEmbedder
from .records import LibraryEntry
from .store import LibraryStore
from .vectors import VectorCache, top_k


class SimilarSounds:
    """Nearest neighbours in the audio embedder's space (the stored vector when a file is indexed)."""

    def __init__(self, store: LibraryStore, vectors: VectorCache, audio_embedder: AudioEmbedder):
        self.store = store
        self.vectors = vectors
        self.audio_embedder = audio_embedder

    def to_file(self, path: str | Path, limit: int = 20, *, start: int | None = None,
                end: int | None = None) -> list[LibraryEntry]:
        """Files that sound like `path` (or its [start, end) samples at 48 kHz); the file itself is
        left out. Uses the stored vector when the file is indexed and unchanged."""
        path = Path(path).expanduser().resolve()
        entry = self.store.get(path) if start is None and end is None else None
        vec = None
        if entry is not None:
            row = self.store.conn().execute("SELECT vec FROM audio_vectors WHERE file_id=? AND kind=?",
                                            (entry.id, self.audio_embedder.name)).fetchone()
            vec = np.frombuffer(row[0], dtype=np.float32) if row else None
        if vec is None:
            vec = self._embed_clip(path, start, end)
        return self.to_vector(vec, limit, exclude=str(path))

    def to_audio(self, audio: np.ndarray, sample_rate: int, limit: int = 20) -> list[LibraryEntry]:
        """Files that sound like this audio (for a clip on the timeline, not on disk)."""
        return self.to_vector(self.audio_embedder.embed(audio, sample_rate), limit)

    def to_vector(self, vec: np.ndarray, limit: int = 20, *, exclude: str | None = None) -> list[LibraryEntry]:
        ids, mat = self.vectors.audio(self.audio_embedder.name)
        if len(ids) == 0:
            return []
        top_ids, scores = top_k(ids, mat, vec, limit + 1)
        hits = self.store.entries_by_id(top_ids, scores)
        return [h for h in hits if h.path != exclude][:limit]

    def _embed_clip(self, path: Path, start: int | None, end: int | None) -> np.ndarray:
        from .preview import load_audio

        try:
            audio = load_audio(path, start, end)
        except UnreadableAudioError as exc:
            raise LibraryError(f"cannot find sounds similar to {path}: {exc.reason}") from exc
        return self.audio_embedder.embed(audio, SAMPLE_RATE)
