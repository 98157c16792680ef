"""JSON files from outside (projects, model configs, take sidecars) read within bounds.

`read_bounded` reads at most `max_bytes` of a regular file (a device, a pipe or a 100 GB file is
refused at once instead of read forever); `parse_bounded` decodes it and refuses documents nested
deeper than `max_depth` or holding NaN/Infinity, which Python's json would otherwise accept. Both
raise `JsonProblem(kind, reason)`; each caller turns it into its own error family, with its own
advice.
"""
from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

MAX_DEPTH = 32


class JsonProblem(Exception):
    """Why a JSON file cannot be used: `kind` is 'size', 'encoding', 'syntax' or 'content'."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def read_bounded(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; OSError as from open(), JsonProblem('size').

    Opened without blocking: a plain open() of a named pipe waits for a writer forever, before
    there is a descriptor to look at (O_NONBLOCK changes nothing for a regular file).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise JsonProblem("size", "it is not a regular file (a device, pipe or socket)")
        if info.st_size > max_bytes:
            raise JsonProblem("size", f"it is {info.st_size / 2**20:,.1f} MiB, more than the "
                                      f"{max_bytes / 2**20:,.0f} MiB this kind of file can be")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:   # grew while being read
        raise JsonProblem("size", f"it is more than the {max_bytes / 2**20:,.0f} MiB this kind of file can be")
    return data


def _refuse_constant(name: str) -> float:
    raise JsonProblem("content", f"it holds {name}, which is not a number JSON allows")


def parse_bounded(raw: bytes, *, max_depth: int = MAX_DEPTH, check: bool = True, allow_nan: bool = False) -> Any:
    """Decode UTF-8 JSON (a BOM is tolerated); refuse NaN/Infinity, non-finite floats and deep nesting.

    `check=False` leaves the walk over the whole tree to a caller that checks every part it uses
    itself (the project reader checks typed fields, and walks only its free-form dicts);
    `allow_nan=True` reads NaN/Infinity for a caller whose field checks name them better.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonProblem("encoding", f"not UTF-8 text at byte {exc.start}") from None
    try:
        value = json.loads(text, parse_constant=None if allow_nan else _refuse_constant)
    except json.JSONDecodeError as exc:
        raise JsonProblem("syntax", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise JsonProblem("content", f"it is nested deeper than {max_depth} levels") from None
    except ValueError as exc:       # e.g. an integer of more than 4300 digits
        raise JsonProblem("content", f"it holds a value Python cannot read ({exc})") from None
    if check:
        check_tree(value, max_depth=max_depth, finite=not allow_nan)
    return value


def check_tree(value: Any, *, max_depth: int = MAX_DEPTH, finite: bool = True) -> None:
    """Refuse nesting deeper than `max_depth` and (with `finite`) non-finite floats anywhere; iteratively."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            if finite and isinstance(node, float) and not math.isfinite(node):
                raise JsonProblem("content", f"it holds the number {node}, which is not finite")
            continue
        if depth > max_depth:
            raise JsonProblem("content", f"it is nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)
