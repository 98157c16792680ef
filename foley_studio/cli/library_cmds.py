"""`foley-studio library ...`: add folders, rescan, search, find similar, stats.

    foley-studio library add DIR [DIR ...]        add folders and index them
    foley-studio library scan                     bring every folder up to date
    foley-studio library search QUERY [--json] [--limit N] [--mode combined|text|semantic]
    foley-studio library similar FILE [--json] [--limit N]
    foley-studio library stats [--json]
    foley-studio library remove DIR

`--db PATH` picks another library database (default: the one in the user data folder). On a
database that has never had a folder, search and similar first index the bundled demo library.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `library` command family; each action sets `handler=`."""
    lib = sub.add_parser("library", help="index SFX folders and search them by words or meaning")
    lsub = lib.add_subparsers(dest="library_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str, handler) -> argparse.ArgumentParser:
        p = lsub.add_parser(name, help=help_text)
        p.add_argument("--db", type=Path, default=None, help="library database file (default: user data folder)")
        p.set_defaults(handler=handler)
        return p

    add = action("add", "add folders to the library and index them", cmd_add)
    add.add_argument("folders", type=Path, nargs="+", metavar="DIR")
    add.add_argument("--no-scan", action="store_true", help="only remember the folders")
    add.add_argument("--workers", type=int, default=None, help="reader threads (default: CPUs + 1, at most 4)")

    scan = action("scan", "re-scan the library folders (only new and changed files are read)", cmd_scan)
    scan.add_argument("--workers", type=int, default=None)

    search = action("search", "search by words, filters (dur:<2 sr:48000) and meaning", cmd_search)
    search.add_argument("query", nargs="+", help='e.g. metal hit dur:<2, "door slam", wood*; quote a query with '
                        'exclusions ("glass -break") or put -- before one that starts with -')
    search.add_argument("--json", action="store_true", help="print machine-readable JSON")
    search.add_argument("--limit", type=int, default=20, metavar="N")
    search.add_argument("--mode", choices=["combined", "text", "semantic"], default="combined")

    similar = action("similar", "find library sounds that sound like an audio file", cmd_similar)
    similar.add_argument("file", type=Path)
    similar.add_argument("--json", action="store_true", help="print machine-readable JSON")
    similar.add_argument("--limit", type=int, default=20, metavar="N")

    stats = action("stats", "folders, file counts, durations and skipped files", cmd_stats)
    stats.add_argument("--json", action="store_true", help="print machine-readable JSON")

    remove = action("remove", "forget a library folder and its entries", cmd_remove)
    remove.add_argument("folder", type=Path, metavar="DIR")


# ---------------------------------------------------------------------------------------------
def _open(args: argparse.Namespace):
    from foley_studio.library import LibraryIndex

    return LibraryIndex(args.db)


def _progress_printer():
    """Progress on stderr when it is a terminal (one rewritten line), silent otherwise."""
    if not sys.stderr.isatty():
        return None
    from foley_studio.library import ScanProgress

    def show(p: ScanProgress) -> None:
        if p.phase in ("reading", "embedding") and p.total:
            print(f"\r{p.phase} {p.done}/{p.total}", end="", file=sys.stderr, flush=True)
        elif p.phase == "done":
            print("\r" + " " * 40 + "\r", end="", file=sys.stderr, flush=True)
    return show


def _run_scan(index, folders=None, workers=None) -> int:
    report = index.scan(_progress_printer(), folders=folders, workers=workers)
    print(f"indexed {report.added} new, {report.updated} changed, {report.removed} removed, "
          f"{report.unchanged} unchanged, {len(report.skipped)} skipped in {report.seconds:.1f} s")
    for s in report.skipped:
        print(f"  skipped {s.path}: {s.reason}")
    for root in report.offline_roots:
        print(f"  offline (kept): {root}")
    return 0


def _ensure_demo(index) -> None:
    if index.ensure_demo_library():
        print("the library is empty: indexing the bundled demo library first "
              "(`foley-studio library remove` forgets it)", file=sys.stderr)
        index.scan(_progress_printer())


def _entry_json(e) -> dict:
    data = e.to_json()
    data.pop("overview")
    data["title"] = e.title
    return data


def _print_entries(entries, as_json: bool) -> None:
    if as_json:
        print(json.dumps([_entry_json(e) for e in entries], indent=1))
        return
    if not entries:
        print("no matches")
        return
    for i, e in enumerate(entries, 1):
        fmt = f"{e.sample_rate / 1000:g} kHz {e.channels} ch" + (f" {e.bit_depth}-bit" if e.bit_depth else "")
        print(f"{i:3d}. {e.title}  [{e.duration:.2f} s, {fmt}]\n     {e.path}")


# ---------------------------------------------------------------------------------------------
def cmd_add(args: argparse.Namespace) -> int:
    with _open(args) as index:
        added = [index.add_folder(f) for f in args.folders]
        for folder in dict.fromkeys(added):
            print(f"library folder: {folder}")
        if args.no_scan:
            return 0
        return _run_scan(index, folders=dict.fromkeys(added), workers=args.workers)


def cmd_scan(args: argparse.Namespace) -> int:
    with _open(args) as index:
        if not index.folders():
            print("no library folders yet; add one with `foley-studio library add DIR`")
            return 0
        return _run_scan(index, workers=args.workers)


def cmd_search(args: argparse.Namespace) -> int:
    with _open(args) as index:
        _ensure_demo(index)
        _print_entries(index.search(" ".join(args.query), args.limit, mode=args.mode), args.json)
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from foley_studio.library import LibraryError

    if not args.file.is_file():
        raise LibraryError(f"{args.file}: no such file; give the path of an audio (or video) file")
    with _open(args) as index:
        _ensure_demo(index)
        _print_entries(index.similar(args.file, args.limit), args.json)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    with _open(args) as index:
        stats = index.stats()
        skipped = index.skipped()
    if args.json:
        data = asdict(stats)
        data["skipped_files"] = [asdict(s) for s in skipped]
        print(json.dumps(data, indent=1))
        return 0
    print(f"database: {stats.db_path}")
    print(f"folders:  {', '.join(stats.roots) or '(none)'}")
    hours = stats.total_seconds / 3600
    print(f"files:    {stats.files} ({hours:.2f} h, {stats.total_bytes / 1e6:.1f} MB), {stats.skipped} skipped")
    print(f"formats:  {', '.join(f'{k} {v}' for k, v in stats.by_extension.items()) or '-'}")
    print(f"rates:    {', '.join(f'{k} Hz {v}' for k, v in stats.by_sample_rate.items()) or '-'}")
    print(f"semantic: {stats.text_vectors} descriptions embedded; similar: {stats.audio_vectors} audio vectors")
    for s in skipped:
        print(f"  skipped {s.path}: {s.reason}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with _open(args) as index:
        n = index.remove_folder(args.folder)
    print(f"removed {args.folder.expanduser().resolve()} ({n} files) from the library")
    return 0
