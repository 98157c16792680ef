"""The SFX library index: folders scanned into SQLite (WAL, FTS5), searched by words and meaning.

One database file (`library.sqlite3` in the user data folder unless a path is given) holds:
`roots` (the folders added), `files` (one row per readable file: technical metadata, levels, a
128-point overview and the text fields), `files_fts` (an FTS5 index over the text fields, kept in
step by triggers), `skipped` (files that could not be read, with the reason), and the embeddings:
`text_vectors` (MiniLM, per description) and `audio_vectors` (spectral features, per file), both
float32 blobs. Scans commit in batches, so a scan that is killed loses at most one batch and the
next scan simply carries on.

Connections are per thread (SQLite objects must not cross threads), so the editor can search
while a worker thread scans.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from foley_studio.core import paths

from .errors import EmbeddingModelMissingError, LibraryDatabaseError, LibraryError, UnreadableAudioError
from .features import DEFAULT_EMBEDDER, AudioEmbedder
from .metadata import AUDIO_EXTENSIONS, AudioMetadata, read_metadata
from .query import ParsedQuery, parse_query
from .records import LibraryEntry, LibraryStats, ScanProgress, ScanReport, SkippedFile, FileState
from .schema import SCHEMA, SCHEMA_VERSION
from .textfields import name_fields

log = logging.getLogger(__name__)

DB_NAME = "library.sqlite3"
BATCH = 128              # files per committed transaction during a scan
RRF_K = 60               # reciprocal-rank-fusion constant (Cormack et al. 2009)
SEMANTIC_FLOOR = 0.3     # MiniLM cosine between unrelated short captions reaches ~0.3; below is noise


# bm25 column weights, in files_fts column order: a word in the description or the file name
# says more about the sound than one in a folder name.
_BM25 = "bm25(files_fts, 4.0, 1.0, 2.0, 2.0, 4.0)"
_ENTRY_COLUMNS = ("id, path, size, mtime_ns, duration, sample_rate, channels, bit_depth, codec, peak_db, rms_db, "
                  "overview, name, folders, category, subcategory, fx_name, creator, description")


ProgressFn = Callable[[ScanProgress], None]


# ---------------------------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------------------------

class LibraryIndex:
    """An SFX library database; see the module docstring for what it holds."""

    def __init__(self, db_path: str | Path | None = None, *, audio_embedder: AudioEmbedder = DEFAULT_EMBEDDER,
                 text_embedder: Callable[[], object] | None = None):
        self.db_path = Path(db_path) if db_path else paths.data_dir() / DB_NAME
        self.audio_embedder = audio_embedder
        self._text_embedder_factory = text_embedder
        self._text_embedder = None
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._matrices: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}   # kind -> (generation, ids, vectors)
        self._semantic_warned = False
        self._embedder_lock = threading.Lock()
        self._nonblocking_semantic = False
        self._init_schema()

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.db_path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.db_path, timeout=30.0)
                conn.execute("PRAGMA journal_mode=WAL")
            except (sqlite3.Error, OSError) as exc:
                raise LibraryDatabaseError(
                    f"cannot open the library database {self.db_path}: {exc}; check the folder is writable "
                    "or delete the file to rebuild the library") from exc
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (other threads' close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __enter__(self) -> "LibraryIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _init_schema(self) -> None:
        conn = self._conn()
        try:
            with conn:
                conn.executescript(SCHEMA)
                row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    conn.execute("INSERT INTO meta VALUES ('schema', ?), ('generation', '0')", (str(SCHEMA_VERSION),))
                elif int(row[0]) > SCHEMA_VERSION:
                    raise LibraryDatabaseError(
                        f"{self.db_path} was written by a newer Foley Studio (library schema {row[0]}); "
                        "update Foley Studio or point it at another library file")
        except sqlite3.DatabaseError as exc:
            raise LibraryDatabaseError(
                f"{self.db_path} is not a usable library database ({exc}); delete it to rebuild the library") from exc

    def _bump_generation(self, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")

    def _generation(self) -> int:
        return int(self._conn().execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

    # -- folders -----------------------------------------------------------------------------

    def add_folder(self, folder: str | Path) -> Path:
        """Add a folder to the library (scan() reads it). A folder inside one already added is
        covered by it; a folder that contains added ones takes them over."""
        folder = Path(folder).expanduser().resolve()
        if not folder.is_dir():
            raise LibraryError(f"cannot add {folder} to the library: it is not a folder")
        conn = self._conn()
        with self._write_lock, conn:
            for row in conn.execute("SELECT id, path FROM roots").fetchall():
                existing = Path(row["path"])
                if folder == existing or folder.is_relative_to(existing):
                    return existing
            conn.execute("INSERT INTO roots(path, added) VALUES (?, ?)", (str(folder), time.time()))
            new_id = conn.execute("SELECT id FROM roots WHERE path=?", (str(folder),)).fetchone()[0]
            for row in conn.execute("SELECT id, path FROM roots WHERE id != ?", (new_id,)).fetchall():
                if Path(row["path"]).is_relative_to(folder):
                    conn.execute("UPDATE files SET root_id=? WHERE root_id=?", (new_id, row["id"]))
                    conn.execute("UPDATE skipped SET root_id=? WHERE root_id=?", (new_id, row["id"]))
                    conn.execute("DELETE FROM roots WHERE id=?", (row["id"],))
        return folder

    def remove_folder(self, folder: str | Path) -> int:
        """Forget a folder and everything indexed from it; returns how many files were dropped."""
        folder = Path(folder).expanduser().resolve()
        conn = self._conn()
        with self._write_lock, conn:
            row = conn.execute("SELECT id FROM roots WHERE path=?", (str(folder),)).fetchone()
            if row is None:
                raise LibraryError(f"{folder} is not a library folder; `foley-studio library stats` lists them")
            n = conn.execute("SELECT count(*) FROM files WHERE root_id=?", (row[0],)).fetchone()[0]
            conn.execute("DELETE FROM roots WHERE id=?", (row[0],))
            self._bump_generation(conn)
        return n

    def ensure_demo_library(self) -> bool:
        """Add the bundled demo library the first time this database is used with no folders, so a
        fresh install has something to search; never again once the user has managed folders.
        Returns True when it was added (the caller scans)."""
        conn = self._conn()
        with self._write_lock, conn:
            offered = conn.execute("SELECT value FROM meta WHERE key='demo_offered'").fetchone()
            has_roots = conn.execute("SELECT 1 FROM roots LIMIT 1").fetchone() is not None
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('demo_offered', '1')")
        if offered or has_roots or not paths.DEMO_LIBRARY_DIR.is_dir():
            return False
        self.add_folder(paths.DEMO_LIBRARY_DIR)
        return True

    def folders(self) -> list[Path]:
        return [Path(r[0]) for r in self._conn().execute("SELECT path FROM roots ORDER BY path")]

    # -- scanning ----------------------------------------------------------------------------

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
        report = ScanReport()
        progress = progress or (lambda p: None)
        cancel = cancel or (lambda: False)
        conn = self._conn()
        wanted = {str(Path(f).expanduser().resolve()) for f in folders} if folders is not None else None
        roots = [(r["id"], Path(r["path"])) for r in conn.execute("SELECT id, path FROM roots")
                 if wanted is None or r["path"] in wanted]
        if wanted is not None and len(roots) < len(wanted):
            known = {str(p) for _, p in roots}
            missing = sorted(wanted - known)
            raise LibraryError(f"not library folders: {', '.join(missing)}; add them first (library add DIR)")
        todo: list[tuple[int, Path, FileState, bool]] = []   # (root id, root, state, is update)
        for root_id, root in roots:
            if not root.is_dir():
                log.warning("library folder %s is offline; keeping its entries", root)
                report.offline_roots.append(str(root))
                continue
            progress(ScanProgress("listing", 0, 0, str(root)))
            todo.extend((root_id, root, st, upd) for st, upd in self._plan_root(root_id, root, report))
        self._read_all(todo, report, progress, cancel, workers)
        if embed_text and not report.cancelled:
            self._embed_missing_text(progress, cancel)
        report.seconds = time.perf_counter() - t0
        progress(ScanProgress("done", report.added + report.updated, len(todo)))
        return report

    def _plan_root(self, root_id: int, root: Path, report: ScanReport) -> list[tuple[FileState, bool]]:
        """Compare the folder with the database: drop what vanished, return what must be read."""
        conn = self._conn()
        on_disk = {st.path: st for st in walk_audio_files(root)}
        known = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT path, size, mtime_ns FROM files WHERE root_id=?", (root_id,))}
        skipped = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT path, size, mtime_ns FROM skipped WHERE root_id=?", (root_id,))}
        reasons = dict(conn.execute("SELECT path, reason FROM skipped WHERE root_id=?", (root_id,)).fetchall())
        gone = [p for p in known if p not in on_disk]
        gone_skipped = [p for p in skipped if p not in on_disk]
        if gone or gone_skipped:
            with self._write_lock, conn:
                conn.executemany("DELETE FROM files WHERE path=?", ((p,) for p in gone))
                conn.executemany("DELETE FROM skipped WHERE path=?", ((p,) for p in gone_skipped))
                self._bump_generation(conn)
        report.removed += len(gone)
        todo = []
        for path, st in on_disk.items():
            old = known.get(path) or skipped.get(path)
            if old == (st.size, st.mtime_ns):
                if path in skipped:
                    report.skipped.append(SkippedFile(path, reasons[path]))
                else:
                    report.unchanged += 1
                continue
            todo.append((st, path in known))
        return todo

    def _read_all(self, todo: list[tuple[int, Path, FileState, bool]], report: ScanReport,
                  progress: ProgressFn, cancel: Callable[[], bool], workers: int | None) -> None:
        workers = workers or min(4, (os.cpu_count() or 1) + 1)
        total = len(todo)
        done = 0
        embedder = self.audio_embedder

        def work(item: tuple[int, Path, FileState, bool]) -> tuple[AudioMetadata | None, str | None]:
            try:
                return read_metadata(item[2].path, embedder=embedder), None
            except UnreadableAudioError as exc:
                return None, exc.reason
            except Exception as exc:  # a decoder bug on one file must never stop the scan
                log.exception("unexpected error reading %s", item[2].path)
                return None, f"unexpected error: {type(exc).__name__}: {exc}"

        # Two batches in flight: the pool reads the next batch while this thread writes one.
        batches = _chunks(todo, BATCH)
        in_flight: deque[tuple[list, list[Future]]] = deque()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="library-scan") as pool:
            def submit_next() -> None:
                batch = next(batches, None)
                if batch:
                    in_flight.append((batch, [pool.submit(work, item) for item in batch]))

            submit_next()
            submit_next()
            while in_flight:
                batch, futures = in_flight.popleft()
                if cancel():
                    report.cancelled = True
                    for _, pending in in_flight:
                        for fut in pending:
                            fut.cancel()
                    break
                results = [fut.result() for fut in futures]
                submit_next()
                self._write_batch(batch, results, report)
                done += len(batch)
                progress(ScanProgress("reading", done, total, batch[-1][2].path))

    def _write_batch(self, batch: list[tuple[int, Path, FileState, bool]],
                     results: list[tuple[AudioMetadata | None, str | None]], report: ScanReport) -> None:
        conn = self._conn()
        now = time.time()
        with self._write_lock, conn:
            for (root_id, root, st, is_update), (meta, reason) in zip(batch, results):
                if meta is None:
                    conn.execute("DELETE FROM files WHERE path=?", (st.path,))
                    conn.execute("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?, ?)",
                                 (st.path, root_id, st.size, st.mtime_ns, reason))
                    report.skipped.append(SkippedFile(st.path, reason))
                    continue
                fields = name_fields(Path(st.path), root)
                file_id = conn.execute(
                    """INSERT INTO files (root_id, path, size, mtime_ns, duration, sample_rate, channels, bit_depth,
                           codec, peak_db, rms_db, overview, name, folders, category, subcategory, fx_name, creator,
                           description, indexed)
                       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                       ON CONFLICT(path) DO UPDATE SET root_id=excluded.root_id, size=excluded.size,
                           mtime_ns=excluded.mtime_ns, duration=excluded.duration,
                           sample_rate=excluded.sample_rate, channels=excluded.channels,
                           bit_depth=excluded.bit_depth, codec=excluded.codec, peak_db=excluded.peak_db,
                           rms_db=excluded.rms_db, overview=excluded.overview, name=excluded.name,
                           folders=excluded.folders, category=excluded.category,
                           subcategory=excluded.subcategory, fx_name=excluded.fx_name,
                           creator=excluded.creator, description=excluded.description, indexed=excluded.indexed
                       RETURNING id""",
                    (root_id, st.path, st.size, st.mtime_ns, meta.duration, meta.sample_rate, meta.channels,
                     meta.bit_depth, meta.codec, meta.peak_db, meta.rms_db, meta.overview, fields.name,
                     fields.folders, fields.category, fields.subcategory, fields.fx_name,
                     fields.creator or meta.tags.get("artist", ""), meta.description, now)).fetchone()[0]
                conn.execute("DELETE FROM skipped WHERE path=?", (st.path,))
                conn.execute("DELETE FROM text_vectors WHERE file_id=?", (file_id,))
                if meta.embedding is not None:
                    conn.execute("INSERT OR REPLACE INTO audio_vectors VALUES (?, ?, ?)",
                                 (file_id, self.audio_embedder.name, meta.embedding.astype(np.float32).tobytes()))
                if is_update:
                    report.updated += 1
                else:
                    report.added += 1
            self._bump_generation(conn)

    # -- text embeddings ---------------------------------------------------------------------

    def _get_text_embedder(self):
        with self._embedder_lock:
            if self._text_embedder is None:
                from .semantic import shared_text_embedder

                self._text_embedder = (self._text_embedder_factory or shared_text_embedder)()
            return self._text_embedder

    def preload_semantic(self) -> threading.Thread:
        """Load the sentence encoder in a background thread (a few seconds). Until it is ready,
        combined searches return text results instead of waiting, so an editor can call this at
        start-up and search as the user types without freezing on the first keystroke."""
        self._nonblocking_semantic = True

        def load() -> None:
            try:
                self._get_text_embedder()
            except EmbeddingModelMissingError as exc:
                log.warning("semantic search disabled: %s", exc)

        thread = threading.Thread(target=load, name="library-encoder-load", daemon=True)
        thread.start()
        return thread

    @property
    def semantic_ready(self) -> bool:
        """Whether the sentence encoder is loaded (a semantic query will not have to wait for it)."""
        return self._text_embedder is not None

    def _embed_missing_text(self, progress: ProgressFn, cancel: Callable[[], bool], batch: int = 256) -> int:
        """Embed descriptions that have no vector yet; returns how many were embedded."""
        conn = self._conn()
        rows = conn.execute(
            """SELECT id, description, fx_name, category, subcategory FROM files
               WHERE id NOT IN (SELECT file_id FROM text_vectors)""").fetchall()
        if not rows:
            return 0
        try:
            embedder = self._get_text_embedder()
        except EmbeddingModelMissingError as exc:
            log.warning("semantic search disabled: %s", exc)
            return 0
        done = 0
        for chunk in _chunks(rows, batch):
            if cancel():
                break
            texts = [semantic_text(r) for r in chunk]
            unique = list(dict.fromkeys(texts))   # libraries repeat descriptions; embed each once
            by_text = dict(zip(unique, embedder.encode(unique)))
            with self._write_lock, conn:
                conn.executemany("INSERT OR REPLACE INTO text_vectors VALUES (?, ?, ?)",
                                 ((r["id"], embedder.name, by_text[t].tobytes()) for r, t in zip(chunk, texts)))
                self._bump_generation(conn)
            done += len(chunk)
            progress(ScanProgress("embedding", done, len(rows)))
        return done

    def _matrix(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids (N,), vectors (N, D) float32) of one kind of embedding, held in memory until the
        database changes: "text" (MiniLM descriptions) or "audio" (the audio embedder's vectors)."""
        gen = self._generation()
        cached = self._matrices.get(kind)
        if cached is not None and cached[0] == gen:
            return cached[1], cached[2]
        if kind == "text":
            rows = self._conn().execute("SELECT file_id, vec FROM text_vectors ORDER BY file_id").fetchall()
        else:
            rows = self._conn().execute("SELECT file_id, vec FROM audio_vectors WHERE kind=? ORDER BY file_id",
                                        (self.audio_embedder.name,)).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        mat = (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
               if rows else np.zeros((0, 0), dtype=np.float32))
        self._matrices[kind] = (gen, ids, mat)
        return ids, mat

    def _top_k(self, ids: np.ndarray, mat: np.ndarray, vec: np.ndarray, k: int,
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

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: str, limit: int = 50, *, mode: str = "combined") -> list[LibraryEntry]:
        """Search by words and filters ("text"), by meaning ("semantic"), or both fused ("combined").

        Combined ranking is reciprocal-rank fusion of the FTS5 bm25 ranking and the MiniLM cosine
        ranking, so a file found by both rises above one found by either. Without the encoder,
        combined falls back to text alone.
        """
        if mode not in ("combined", "text", "semantic"):
            raise ValueError(f"search mode must be 'combined', 'text' or 'semantic', not {mode!r}")
        parsed = parse_query(query)
        if mode == "text" or not parsed.text:
            return self._text_search(parsed, limit)
        if mode == "semantic":
            return self._semantic(parsed, limit)
        pool = max(limit * 3, 50)
        text_hits = self._text_search(parsed, pool)
        if self._nonblocking_semantic and not self.semantic_ready:
            return text_hits[:limit]     # the encoder is still loading (see preload_semantic)
        try:
            sem_hits = self._semantic(parsed, pool)
        except EmbeddingModelMissingError as exc:
            if not self._semantic_warned:
                log.warning("semantic search unavailable, using text search only: %s", exc)
                self._semantic_warned = True
            return text_hits[:limit]
        return fuse_rankings([text_hits, sem_hits], limit)

    def semantic_search(self, query: str, limit: int = 50) -> list[LibraryEntry]:
        """Files whose description means what `query` says (MiniLM cosine), filters applied."""
        return self._semantic(parse_query(query), limit)

    def _filter_sql(self, parsed: ParsedQuery) -> tuple[str, list[object]]:
        where = list(parsed.where)
        params = list(parsed.params)
        if parsed.exclude_fts:
            where.append("f.id NOT IN (SELECT rowid FROM files_fts WHERE files_fts MATCH ?)")
            params.append(parsed.exclude_fts)
        return (" AND ".join(where) or "1"), params

    def _text_search(self, parsed: ParsedQuery, limit: int) -> list[LibraryEntry]:
        conn = self._conn()
        try:
            if parsed.fts and not parsed.has_filters:
                # Rank inside FTS5 and look up only the winners: joining first would fetch a
                # `files` row for every match (2x slower for a word found in 20% of a library).
                ranked = conn.execute(f"SELECT rowid, {_BM25} AS rank FROM files_fts WHERE files_fts MATCH ? "
                                      "ORDER BY rank LIMIT ?", (parsed.fts, limit)).fetchall()
                return self._entries_by_id([r[0] for r in ranked], [-float(r[1]) for r in ranked])
            where, params = self._filter_sql(parsed)
            cols = ", ".join(f"f.{c.strip()}" for c in _ENTRY_COLUMNS.split(","))
            if parsed.fts:
                sql = (f"SELECT {cols}, {_BM25} AS rank FROM files_fts JOIN files f ON f.id = files_fts.rowid "
                       f"WHERE files_fts MATCH ? AND {where} ORDER BY rank LIMIT ?")
                args = [parsed.fts, *params, limit]
            else:
                sql = f"SELECT {cols}, 0.0 AS rank FROM files f WHERE {where} ORDER BY f.path LIMIT ?"
                args = [*params, limit]
            rows = conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            raise LibraryError(f"cannot search for {parsed.fts!r}: {exc}") from exc
        return [_entry(r, -float(r["rank"])) for r in rows]

    def _semantic(self, parsed: ParsedQuery, limit: int) -> list[LibraryEntry]:
        if not parsed.text:
            return []
        ids, mat = self._matrix("text")
        if len(ids) == 0:
            return []
        qvec = self._get_text_embedder().encode([parsed.text])[0]
        allowed = None
        if parsed.has_filters:
            where, params = self._filter_sql(parsed)
            allowed = np.fromiter((r[0] for r in self._conn().execute(f"SELECT f.id FROM files f WHERE {where}",
                                                                      params)), dtype=np.int64)
        top_ids, scores = self._top_k(ids, mat, qvec, limit, allowed)
        keep = [i for i, sc in enumerate(scores) if sc >= SEMANTIC_FLOOR]
        return self._entries_by_id([top_ids[i] for i in keep], [scores[i] for i in keep])

    def _entries_by_id(self, ids: list[int], scores: list[float]) -> list[LibraryEntry]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = {r["id"]: r for r in self._conn().execute(
            f"SELECT {_ENTRY_COLUMNS} FROM files WHERE id IN ({marks})", ids)}
        return [_entry(rows[i], s) for i, s in zip(ids, scores) if i in rows]

    # -- find similar --------------------------------------------------------------------------

    def similar(self, path: str | Path, limit: int = 20, *, start: int | None = None,
                end: int | None = None) -> list[LibraryEntry]:
        """Files that sound like `path` (or its [start, end) samples at 48 kHz), by audio embedding; the file
        itself is left out. Uses the stored vector when the file is indexed and unchanged."""
        path = Path(path).expanduser().resolve()
        entry = self.get(path) if start is None and end is None else None
        vec = None
        if entry is not None:
            row = self._conn().execute("SELECT vec FROM audio_vectors WHERE file_id=? AND kind=?",
                                       (entry.id, self.audio_embedder.name)).fetchone()
            vec = np.frombuffer(row[0], dtype=np.float32) if row else None
        if vec is None:
            vec = self._embed_clip(path, start, end)
        return self.similar_to_vector(vec, limit, exclude=str(path))

    def similar_to_audio(self, audio: np.ndarray, sample_rate: int, limit: int = 20) -> list[LibraryEntry]:
        """Files that sound like this audio (for a clip on the timeline, not on disk)."""
        return self.similar_to_vector(self.audio_embedder.embed(audio, sample_rate), limit)

    def similar_to_vector(self, vec: np.ndarray, limit: int = 20, *, exclude: str | None = None) -> list[LibraryEntry]:
        ids, mat = self._matrix("audio")
        if len(ids) == 0:
            return []
        top_ids, scores = self._top_k(ids, mat, vec, limit + 1)
        hits = self._entries_by_id(top_ids, scores)
        return [h for h in hits if h.path != exclude][:limit]

    def _embed_clip(self, path: Path, start: int | None, end: int | None) -> np.ndarray:
        from .preview import load_audio

        try:
            audio = load_audio(path, start, end)
        except UnreadableAudioError as exc:
            raise LibraryError(f"cannot find sounds similar to {path}: {exc.reason}") from exc
        return self.audio_embedder.embed(audio, 48000)

    # -- lookups -------------------------------------------------------------------------------

    def get(self, path: str | Path) -> LibraryEntry | None:
        """The entry for `path` if it is indexed (and unchanged on disk, when it still exists)."""
        resolved = str(Path(path).expanduser().resolve())
        row = self._conn().execute(f"SELECT {_ENTRY_COLUMNS} FROM files WHERE path=?", (resolved,)).fetchone()
        if row is None:
            return None
        try:
            st = os.stat(resolved)
            if (st.st_size, st.st_mtime_ns) != (row["size"], row["mtime_ns"]):
                return None
        except OSError:
            pass
        return _entry(row)

    def skipped(self) -> list[SkippedFile]:
        return [SkippedFile(r[0], r[1]) for r in self._conn().execute("SELECT path, reason FROM skipped ORDER BY path")]

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM files").fetchone()[0])

    def stats(self) -> LibraryStats:
        conn = self._conn()
        files, seconds, size = conn.execute(
            "SELECT count(*), coalesce(sum(duration), 0), coalesce(sum(size), 0) FROM files").fetchone()
        by_ext: dict[str, int] = {}
        for (p,) in conn.execute("SELECT path FROM files"):
            ext = os.path.splitext(p)[1].lower()
            by_ext[ext] = by_ext.get(ext, 0) + 1
        return LibraryStats(
            db_path=str(self.db_path), roots=[str(p) for p in self.folders()], files=files,
            skipped=conn.execute("SELECT count(*) FROM skipped").fetchone()[0],
            total_seconds=float(seconds), total_bytes=int(size), by_extension=dict(sorted(by_ext.items())),
            by_sample_rate={r[0]: r[1] for r in conn.execute(
                "SELECT sample_rate, count(*) FROM files GROUP BY sample_rate ORDER BY sample_rate")},
            text_vectors=conn.execute("SELECT count(*) FROM text_vectors").fetchone()[0],
            audio_vectors=conn.execute("SELECT count(*) FROM audio_vectors").fetchone()[0])


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def _entry(row: sqlite3.Row, score: float = 0.0) -> LibraryEntry:
    data = {k: row[k] for k in row.keys() if k != "rank"}
    data["overview"] = np.frombuffer(data["overview"], dtype=np.uint8)
    return LibraryEntry(**data, score=score)


def semantic_text(row: sqlite3.Row | dict) -> str:
    """What MiniLM embeds for a file: its description, else its UCS category and name."""
    if row["description"]:
        return row["description"]
    return " ".join(p for p in (row["category"], row["subcategory"], row["fx_name"]) if p).replace("_", " ")


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


def walk_audio_files(root: Path) -> Iterator[FileState]:
    """Audio files under `root` by extension, depth first; hidden folders, macOS `._` resource
    forks and symlinked folders (possible loops) are left out."""
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            log.warning("cannot list %s: %s", folder, exc)
            continue
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif os.path.splitext(e.name)[1].lower() in AUDIO_EXTENSIONS and e.is_file():
                    st = e.stat()
                    yield FileState(e.path, st.st_size, st.st_mtime_ns)
            except OSError as exc:
                log.warning("cannot stat %s: %s", e.path, exc)


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]
