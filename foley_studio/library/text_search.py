"""Search by words and field filters: FTS5 with bm25 ranking over the text fields."""
from __future__ import annotations

import sqlite3

from .errors import LibraryError
from .query import ParsedQuery
from .records import LibraryEntry
from .store import ENTRY_COLUMNS, LibraryStore, entry_from_row

# bm25 column weights, in files_fts column order: a word in the description or the file name
# says more about the sound than one in a folder name.
_BM25 = "bm25(files_fts, 4.0, 1.0, 2.0, 2.0, 4.0)"


class TextSearch:
    """Ranked word matches (or, for a filter-only query, every match in path order)."""

    def __init__(self, store: LibraryStore):
        self.store = store

    def search(self, parsed: ParsedQuery, limit: int) -> list[LibraryEntry]:
        conn = self.store.conn()
        try:
            if parsed.fts and not parsed.has_filters:
                # Rank inside FTS5 and look up only the winners: joining first would fetch a
                # `files` row for every match (2x slower for a word found in 20% of a library).
                ranked = conn.execute(f"SELECT rowid, {_BM25} AS rank FROM files_fts WHERE files_fts MATCH ? "
                                      "ORDER BY rank LIMIT ?", (parsed.fts, limit)).fetchall()
                return self.store.entries_by_id([r[0] for r in ranked], [-float(r[1]) for r in ranked])
            where, params = filter_sql(parsed)
            cols = ", ".join(f"f.{c.strip()}" for c in ENTRY_COLUMNS.split(","))
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
        return [entry_from_row(r, -float(r["rank"])) for r in rows]

    def allowed_ids(self, parsed: ParsedQuery) -> list[int]:
        """Ids of the files that pass the query's filters (for a semantic search with filters)."""
        where, params = filter_sql(parsed)
        return [r[0] for r in self.store.conn().execute(f"SELECT f.id FROM files f WHERE {where}", params)]


def filter_sql(parsed: ParsedQuery) -> tuple[str, list[object]]:
    """The WHERE clause (over `files f`) and its parameters for the query's filters and exclusions."""
    where = list(parsed.where)
    params = list(parsed.params)
    if parsed.exclude_fts:
        where.append("f.id NOT IN (SELECT rowid FROM files_fts WHERE files_fts MATCH ?)")
        params.append(parsed.exclude_fts)
    return (" AND ".join(where) or "1"), params
