"""The library database schema (SQLite, version `SCHEMA_VERSION`); see `index` for what each table is for."""
from __future__ import annotations

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    duration REAL NOT NULL, sample_rate INTEGER NOT NULL, channels INTEGER NOT NULL,
    bit_depth INTEGER, codec TEXT NOT NULL,
    peak_db REAL, rms_db REAL, overview BLOB NOT NULL,
    name TEXT NOT NULL, folders TEXT NOT NULL, category TEXT NOT NULL, subcategory TEXT NOT NULL,
    fx_name TEXT NOT NULL, creator TEXT NOT NULL, description TEXT NOT NULL,
    indexed REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_root ON files(root_id);
CREATE INDEX IF NOT EXISTS files_duration ON files(duration);
CREATE TABLE IF NOT EXISTS skipped (
    path TEXT PRIMARY KEY, root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS text_vectors (
    file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    model TEXT NOT NULL, vec BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS audio_vectors (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (file_id, kind)
);
CREATE VIRTUAL TABLE IF NOT EXISTS files_fts USING fts5(
    name, folders, category, subcategory, description,
    content='files', content_rowid='id', tokenize='porter unicode61', prefix='2 3'
);
CREATE TRIGGER IF NOT EXISTS files_ai AFTER INSERT ON files BEGIN
    INSERT INTO files_fts(rowid, name, folders, category, subcategory, description)
    VALUES (new.id, new.name, new.folders, new.category, new.subcategory, new.description);
END;
CREATE TRIGGER IF NOT EXISTS files_ad AFTER DELETE ON files BEGIN
    INSERT INTO files_fts(files_fts, rowid, name, folders, category, subcategory, description)
    VALUES ('delete', old.id, old.name, old.folders, old.category, old.subcategory, old.description);
END;
CREATE TRIGGER IF NOT EXISTS files_au AFTER UPDATE ON files BEGIN
    INSERT INTO files_fts(files_fts, rowid, name, folders, category, subcategory, description)
    VALUES ('delete', old.id, old.name, old.folders, old.category, old.subcategory, old.description);
    INSERT INTO files_fts(rowid, name, folders, category, subcategory, description)
    VALUES (new.id, new.name, new.folders, new.category, new.subcategory, new.description);
END;
"""
