"""The names of the files Foley Studio writes: made safe, kept inside their folder, staged atomically.

A file name that comes from data (a track name, a take id, a project name) goes through
`safe_name`; its path comes from `inside(folder, name, suffix)`, which refuses anything that would
resolve outside `folder` (`..`, absolute paths, a symlinked sub-folder), so no project, however
crafted, can make an export or a take land elsewhere. Every atomic write stages its content under
`staging_file(target)`: a hidden name beside the target that carries the writer's process id, so
`remove_stale_staging` can later delete what a killed process left half-written, and nothing else.
A staged file gets the mode the finished file should have (that of the file it replaces, else what
the umask allows: 0644 under the usual 022), not mkstemp's private 0600.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
import unicodedata
from pathlib import Path

from .errors import FoleyError

log = logging.getLogger(__name__)

MAX_NAME_BYTES = 200          # of a generated file name (file systems allow 255; room for suffixes)
# Names Windows reserves for devices, with any extension ("CON.wav" opens the console there).
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_STAGING = re.compile(r"^\..*\.(?P<pid>\d+)\.[^.]+\.part(\.[^.]*)?$")
_STALE_SECONDS = 24 * 3600    # where a writer's liveness cannot be asked (Windows): age decides
_UMASK_AT_IMPORT = os.umask(0o022)   # read once (setting is the only way to read it) ...
os.umask(_UMASK_AT_IMPORT)           # ... and put straight back


class UnsafePathError(FoleyError):
    """A file name that would put a written file outside the folder meant for it."""


def safe_name(text: str, *, fallback: str = "untitled", max_bytes: int = MAX_NAME_BYTES) -> str:
    """`text` as one file name valid on every common file system, or `fallback` when nothing is left.

    Separators, wildcards, quotes and control characters become '_', leading and trailing dots and
    spaces go (so '..', '...' and '../..' are empty), device names like 'CON' get a '_' in front, and the
    result is cut to `max_bytes` of UTF-8 on a character boundary.
    """
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", str(text))).strip(" .")
    if not name.strip("_ ."):       # nothing but what was replaced: '../..' says nothing about the file
        name = _UNSAFE.sub("_", fallback).strip(" .") or "untitled"
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    encoded = name.encode("utf-8")
    if len(encoded) > max_bytes:
        name = encoded[:max_bytes].decode("utf-8", "ignore").rstrip(" .") or "untitled"
    return name


def inside(folder: str | Path, name: str, suffix: str = "", *, fallback: str = "untitled") -> Path:
    """`folder / (safe_name(name) + suffix)`, checked to resolve inside `folder`.

    `suffix` (".wav") is kept whole; the name is shortened to make room. Raises `UnsafePathError`
    when the result would still leave the folder (the folder or a same-named entry is a symlink
    that points elsewhere).
    """
    if _UNSAFE.search(suffix) or suffix.strip(" .") != suffix.lstrip("."):
        raise UnsafePathError(f"file suffix {suffix!r} is not a plain extension like '.wav'")
    room = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    path = Path(folder) / (safe_name(name, fallback=fallback, max_bytes=room) + suffix)
    confine(folder, path)
    return path


def confine(folder: str | Path, path: str | Path) -> Path:
    """`path`, after checking that it resolves to an entry directly or deeper inside `folder`."""
    base = Path(os.path.realpath(folder))
    target = Path(os.path.realpath(path))
    if target == base or not target.is_relative_to(base):
        raise UnsafePathError(f"refusing to write {path}: it resolves to {target}, outside the folder {base} "
                              "meant for it")
    return Path(path)


# ---------------------------------------------------------------------------------------------
# Staged (atomic) writes
# ---------------------------------------------------------------------------------------------
def staging_file(target: str | Path) -> tuple[int, Path]:
    """A new hidden file beside `target` to write into before renaming it over `target`.

    Returns (open file descriptor, path). The name is '.<start of target name>.<pid>.<random>.part<suffix>',
    short whatever the target's length, so `remove_stale_staging` can tell whose it is.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    stem = safe_name(target.stem, max_bytes=40)
    fd, name = tempfile.mkstemp(prefix=f".{stem}.{os.getpid()}.", suffix=".part" + target.suffix[:16], dir=folder)
    if hasattr(os, "fchmod"):
        with contextlib.suppress(OSError):   # some file systems (FAT, SMB) refuse chmod; the write still counts
            os.fchmod(fd, final_mode(target) | 0o600)     # the writer may reopen it by name
    return fd, Path(name)


def settle_mode(staged: str | Path, target: str | Path) -> None:
    """Give a staged file the mode `staging_file` gave it again, for writers that recreate the
    file they are handed (safetensors does) and so bring back mkstemp's 0600."""
    with contextlib.suppress(OSError):
        os.chmod(staged, final_mode(target))


def final_mode(target: str | Path) -> int:
    """The permission bits a file written to `target` should get: those of the file it replaces,
    else 0666 less the process umask (mkstemp alone would make every written file 0600)."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process umask, read without changing it where the system says it (Linux >= 4.7);
    elsewhere the value read at import (os.umask can only be read by setting it)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    return _UMASK_AT_IMPORT


def is_staging_name(name: str) -> bool:
    return _STAGING.match(name) is not None


def remove_stale_staging(folder: str | Path) -> int:
    """Delete staged files in `folder` whose writer is gone (killed mid-write); returns how many.

    A staged file of a live process (another window writing right now) is left alone.
    """
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = _STAGING.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False) or _writer_alive(entry, int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed += 1
    if removed:
        log.info("removed %d half-written file(s) left in %s by interrupted saves", removed, folder)
    return removed


def _writer_alive(entry: os.DirEntry, pid: int) -> bool:
    if os.name != "posix":    # os.kill(pid, 0) would end the process on Windows: judge by age instead
        with contextlib.suppress(OSError):
            return time.time() - entry.stat().st_mtime < _STALE_SECONDS
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:           # it exists but belongs to someone else
        return True
    return True
