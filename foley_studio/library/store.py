"""The library database: connections, schema, folders, lookups, statistics.

One SQLite file (WAL) with the tables described in `schema`. Connections are per thread (SQLite
objects must not cross threads), so the editor can search while a worker thread scans; writers
take `write_lock`. Every change that a cached view depends on bumps the `generation` counter.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

from foley_studio.core import paths

from .errors import LibraryDatabaseError, LibraryError
from .records import LibraryEntry, LibraryStats, SkippedFile
from .schema import SCHEMA, SCHEMA_VERSION

DB_NAME = "library.sqlite3"
ENTRY_COLUMNS = ("id, path, size, mtime_ns, duration, sample_rate, channels, bit_depth, codec, peak_db, rms_db, "
                 "overview, name, folders, category, subcategory, fx_name, creator, description")


class LibraryStore:
    """The database file and what is read from it directly (no searching here)."""

    def __init__(self, db_path: str | Path | None = None):
        self.db_path = Path(db_path) if db_path else paths.data_dir() / DB_NAME
        self.write_lock = threading.Lock()
        self._local = threading.local()
        self._init_schema()

    # -- connections -------------------------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
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

    def _init_schema(self) -> None:
        conn = self.conn()
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

    @staticmethod
    def bump_generation(conn: sqlite3.Connection) -> None:
        """Mark the data changed (inside the writer's transaction), so cached vectors reload."""
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")

    def generation(self) -> int:
        return int(self.conn().execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

    # -- folders -----------------------------------------------------------------------------
    def add_folder(self, folder: str | Path) -> Path:
        """Add a folder (a scan reads it). A folder inside one already added is covered by it; a
        folder that contains added ones takes them over."""
        folder = Path(folder).expanduser().resolve()
        if not folder.is_dir():
            raise LibraryError(f"cannot add {folder} to the library: it is not a folder")
        conn = self.conn()
        with self.write_lock, conn:
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
        conn = self.conn()
        with self.write_lock, conn:
            row = conn.execute("SELECT id FROM roots WHERE path=?", (str(folder),)).fetchone()
            if row is None:
                raise LibraryError(f"{folder} is not a library folder; `foley-studio library stats` lists them")
            n = conn.execute("SELECT count(*) FROM files WHERE root_id=?", (row[0],)).fetchone()[0]
            conn.execute("DELETE FROM roots WHERE id=?", (row[0],))
            self.bump_generation(conn)
        return n

    def ensure_demo_library(self) -> bool:
        """Add the bundled demo library the first time this database is used with no folders, so a
        fresh install has something to search; never again once the user has managed folders.
        Returns True when it was added (the caller scans)."""
        conn = self.conn()
        with self.write_lock, conn:
            offered = conn.execute("SELECT value FROM meta WHERE key='demo_offered'").fetchone()
            has_roots = conn.execute("SELECT 1 FROM roots LIMIT 1").fetchone() is not None
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('demo_offered', '1')")
        if offered or has_roots or not paths.DEMO_LIBRARY_DIR.is_dir():
            return False
        self.add_folder(paths.DEMO_LIBRARY_DIR)
        return True

    def folders(self) -> list[Path]:
        return [Path(r[0]) for r in self.conn().execute("SELECT path FROM roots ORDER BY path")]

    # -- lookups -------------------------------------------------------------------------------
    def get(self, path: str | Path) -> LibraryEntry | None:
        """The entry for `path` if it is indexed (and unchanged on disk, when it still exists)."""
        resolved = str(Path(path).expanduser().resolve())
        row = self.conn().execute(f"SELECT {ENTRY_COLUMNS} FROM files WHERE path=?", (resolved,)).fetchone()
        if row is None:
            return None
        try:
            st = os.stat(resolved)
            if (st.st_size, st.st_mtime_ns) != (row["size"], row["mtime_ns"]):
                return None
        except OSError:
            pass
        return entry_from_row(row)

    def entries_by_id(self, ids: list[int], scores: list[float]) -> list[LibraryEntry]:
        """Entries in the order of `ids`, each with its score (ids no longer present are left out)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = {r["id"]: r for r in self.conn().execute(
            f"SELECT {ENTRY_COLUMNS} FROM files WHERE id IN ({marks})", ids)}
        return [entry_from_row(rows[i], s) for i, s in zip(ids, scores) if i in rows]

    def skipped(self) -> list[SkippedFile]:
        return [SkippedFile(r[0], r[1]) for r in self.conn().execute("SELECT path, reason FROM skipped ORDER BY path")]

    def __len__(self) -> int:
        return int(self.conn().execute("SELECT count(*) FROM files").fetchone()[0])

    def stats(self) -> LibraryStats:
        conn = self.conn()
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


def entry_from_row(row: sqlite3.Row, score: float = 0.0) -> LibraryEntry:
    data = {k: row[k] for k in row.keys() if k != "rank"}
    data["overview"] = np.frombuffer(data["overview"], dtype=np.uint8)
    return LibraryEntry(**data, score=score)
