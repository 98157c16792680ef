"""Scanning library folders into the store: new and changed files read in a thread pool.

Files are compared with the database by size and mtime; what vanished is dropped, what is new or
changed is read (`metadata.read_metadata`, with its audio embedding) and written in committed
batches of `BATCH`, so a scan that is killed loses at most one batch and the next one carries on.
Unreadable files are recorded in `skipped` with their reason and not retried while unchanged.
"""
from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .errors import LibraryError, UnreadableAudioError
from .features import AudioEmbedder
from .metadata import AUDIO_EXTENSIONS, AudioMetadata, read_metadata
from .records import FileState, ScanProgress, ScanReport, SkippedFile
from .store import LibraryStore
from .textfields import name_fields

log = logging.getLogger(__name__)

BATCH = 128              # files per committed transaction during a scan

ProgressFn = Callable[[ScanProgress], None]
CancelFn = Callable[[], bool]
_Item = tuple[int, Path, FileState, bool]         # (root id, root, file state, is an update)
_Result = tuple[AudioMetadata | None, str | None]  # (metadata, or the reason it could not be read)


class LibraryScanner:
    """Brings the store up to date with the folders on disk."""

    def __init__(self, store: LibraryStore, audio_embedder: AudioEmbedder):
        self.store = store
        self.audio_embedder = audio_embedder

    def scan(self, progress: ProgressFn, cancel: CancelFn, *, folders: Iterable[str | Path] | None = None,
             workers: int | None = None) -> ScanReport:
        """Read what is new or changed in the library folders (all, or the given added ones)."""
        report = ScanReport()
        conn = self.store.conn()
        wanted = {str(Path(f).expanduser().resolve()) for f in folders} if folders is not None else None
        roots = [(r["id"], Path(r["path"])) for r in conn.execute("SELECT id, path FROM roots")
                 if wanted is None or r["path"] in wanted]
        if wanted is not None and len(roots) < len(wanted):
            missing = sorted(wanted - {str(p) for _, p in roots})
            raise LibraryError(f"not library folders: {', '.join(missing)}; add them first (library add DIR)")
        todo: list[_Item] = []
        for root_id, root in roots:
            if not root.is_dir():
                log.warning("library folder %s is offline; keeping its entries", root)
                report.offline_roots.append(str(root))
                continue
            progress(ScanProgress("listing", 0, 0, str(root)))
            todo.extend((root_id, root, st, upd) for st, upd in self._plan_root(root_id, root, report))
        report.to_read = len(todo)
        self._read_all(todo, report, progress, cancel, workers)
        return report

    def _plan_root(self, root_id: int, root: Path, report: ScanReport) -> list[tuple[FileState, bool]]:
        """Compare the folder with the database: drop what vanished, return what must be read."""
        conn = self.store.conn()
        on_disk = {st.path: st for st in walk_audio_files(root)}
        known = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT path, size, mtime_ns FROM files WHERE root_id=?", (root_id,))}
        skipped = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT path, size, mtime_ns FROM skipped WHERE root_id=?", (root_id,))}
        reasons = dict(conn.execute("SELECT path, reason FROM skipped WHERE root_id=?", (root_id,)).fetchall())
        gone = [p for p in known if p not in on_disk]
        gone_skipped = [p for p in skipped if p not in on_disk]
        if gone or gone_skipped:
            with self.store.write_lock, conn:
                conn.executemany("DELETE FROM files WHERE path=?", ((p,) for p in gone))
                conn.executemany("DELETE FROM skipped WHERE path=?", ((p,) for p in gone_skipped))
                self.store.bump_generation(conn)
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

    def _read_all(self, todo: list[_Item], report: ScanReport, progress: ProgressFn, cancel: CancelFn,
                  workers: int | None) -> None:
        workers = workers or min(4, (os.cpu_count() or 1) + 1)
        total = len(todo)
        done = 0
        embedder = self.audio_embedder

        def work(item: _Item) -> _Result:
            try:
                return read_metadata(item[2].path, embedder=embedder), None
            except UnreadableAudioError as exc:
                return None, exc.reason
            except Exception as exc:  # a decoder bug on one file must never stop the scan
                log.exception("unexpected error reading %s", item[2].path)
                return None, f"unexpected error: {type(exc).__name__}: {exc}"

        # Two batches in flight: the pool reads the next batch while this thread writes one.
        batches = chunks(todo, BATCH)
        in_flight: deque[tuple[list[_Item], list[Future]]] = deque()
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
                self.write_batch(batch, results, report)
                done += len(batch)
                progress(ScanProgress("reading", done, total, batch[-1][2].path))

    def write_batch(self, batch: list[_Item], results: list[_Result], report: ScanReport) -> None:
        """Store one batch of read files (or their reasons) in one transaction."""
        conn = self.store.conn()
        now = time.time()
        with self.store.write_lock, conn:
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
            self.store.bump_generation(conn)


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


def chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]
