"""Project files: versioned JSON `.fsproj`, atomic saves, recovery copies, missing media and relinking.

On disk a project is one JSON object, `{"format": "foley-studio-project", "version": 1, ...}`, with
the `Project` fields beside those two keys. Media paths are stored relative to the project's
folder (POSIX separators) so a project folder can move with its media; in memory they are absolute.

A save never leaves a half-written file: the JSON goes to a temporary file in the same folder,
which is flushed, fsynced and then renamed over the old file (`os.replace` is atomic on POSIX and
Windows). A file from a newer Foley Studio is refused with `ProjectVersionError`; an older one is
brought up to date by the functions in `MIGRATIONS`, one version step at a time.

Recovery copies (autosave) live in `paths.recovery_dir()`, one per project path, and carry
`"recovery_of"` so their relative paths resolve against the original project's folder.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import hashlib
import json
import logging
import math
import os
import re
import types
import typing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Union

from . import values
from .errors import MissingMediaError, ProjectError, ProjectVersionError
from .jsonfile import JsonProblem, check_tree, parse_bounded, read_bounded
from .paths import recovery_dir
from .project import Clip, Marker, Project, Take, Track, VideoRef
from .safepaths import remove_stale_staging, safe_name, staging_file
from .timebase import SAMPLE_RATE

log = logging.getLogger(__name__)

FORMAT = "foley-studio-project"
FORMAT_VERSION = 2
SUFFIX = ".fsproj"


def _v1_to_v2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds stereo: a pan per track and the project's mix bus layout (and a gain per take,
    0 dB when absent).

    A version-1 project was mixed in mono; it keeps a mono bus (its exports sound exactly as
    before) with every track centred. New projects start stereo.
    """
    for track in document.get("tracks") or []:
        if isinstance(track, dict):
            track.setdefault("pan", 0.0)
    document.setdefault("mix_channels", 1)
    return document


# version n -> function turning a version-n document (a dict) into a version n+1 document.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}

_HEADER_KEYS = ("format", "version", "app_version", "recovery_of", "saved_at")

# A 10,000-clip project is about 3 MiB; anything past these is damage or a different file.
MAX_PROJECT_BYTES = 64 * 2**20
MAX_DEPTH = 32


# ---------------------------------------------------------------------------------------------
# Saving and loading
# ---------------------------------------------------------------------------------------------

def save_project(project: Project, path: str | Path) -> Path:
    """Write `project` to `path` atomically; removes the now stale recovery copy of `path`."""
    path = Path(path)
    base = path.parent.resolve()
    check_savable(project, path)
    document = project_to_document(project, base)
    _atomic_write_json(path, document)
    discard_recovery(path)
    log.info("saved %s", path)
    return path


def load_project(path: str | Path) -> Project:
    """Read a `.fsproj` (or a recovery copy) into a `Project` with absolute media paths."""
    path = Path(path)
    document = _read_document(path)
    document = migrate(document, path)
    original = document.get("recovery_of")
    if original is not None and not isinstance(original, str):
        raise ProjectError(f"{path} is damaged: 'recovery_of' must be a path; restore it from a backup")
    base = Path(original).parent if original else path.parent.resolve()
    return document_to_project(document, base, path)


def project_to_document(project: Project, base_dir: Path | None) -> dict[str, Any]:
    """The JSON-ready dict of a project; paths relative to `base_dir` (absolute when it is None)."""
    from foley_studio import __version__

    body = _plain(project)
    rel = functools.lru_cache(maxsize=None)(lambda p: _relative(p, base_dir))   # media repeat across clips
    if body["video"] is not None:
        body["video"]["path"] = rel(body["video"]["path"])
    for track in body["tracks"]:
        for clip in track["clips"]:
            clip["source"] = rel(clip["source"])
    for take in body["takes"]:
        take["path"] = rel(take["path"])
    return {"format": FORMAT, "version": FORMAT_VERSION, "app_version": __version__, **body}


def document_to_project(document: dict[str, Any], base_dir: Path | None, source: Path | str = "project") -> Project:
    """Build a `Project` from a current-version document, checking every field's type."""
    body = {k: v for k, v in document.items() if k not in _HEADER_KEYS}
    try:
        project = _build(Project, body, "project")
        _check_relations(project)
    except _SchemaError as exc:
        raise ProjectError(f"{source} is damaged: {exc}; restore it from a backup or a recovery copy") from None
    _map_media_paths(project, functools.lru_cache(maxsize=None)(lambda p: _absolute(p, base_dir)))
    return project


def migrate(document: dict[str, Any], source: Path | str = "project") -> dict[str, Any]:
    """Bring a document up to `FORMAT_VERSION` with `MIGRATIONS`; refuse one from a newer version."""
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ProjectError(f"{source} has no valid format version (found {version!r}); "
                           "it is damaged or was not written by Foley Studio")
    if version > FORMAT_VERSION:
        raise ProjectVersionError(
            f"{source} was saved by a newer Foley Studio (project format version {version}; this one "
            f"reads versions up to {FORMAT_VERSION}). Update Foley Studio to open it.")
    while version < FORMAT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ProjectError(f"{source} uses project format version {version}, which this Foley Studio "
                               f"cannot convert (no migration from version {version} to {version + 1})")
        log.info("migrating %s from format version %d to %d", source, version, version + 1)
        document = step(copy.deepcopy(document))
        version += 1
        document["version"] = version
    return document


def _read_document(path: Path) -> dict[str, Any]:
    try:
        raw = read_bounded(path, MAX_PROJECT_BYTES)
        document = parse_bounded(raw, max_depth=MAX_DEPTH, check=False)   # fields are checked as they are read
    except FileNotFoundError:
        raise ProjectError(f"project file {path} does not exist; check the path") from None
    except IsADirectoryError:
        raise ProjectError(f"{path} is a folder, not a project file; choose the .fsproj inside it") from None
    except OSError as exc:
        raise ProjectError(f"cannot read project file {path}: {exc.strerror or exc}") from None
    except JsonProblem as exc:
        if exc.kind == "encoding":
            raise ProjectError(f"{path} is not a Foley Studio project ({exc.reason}); choose a .fsproj file") from None
        if exc.kind == "size":
            raise ProjectError(f"{path} cannot be opened as a project: {exc.reason}; choose a .fsproj file") from None
        raise ProjectError(f"{path} is corrupt ({exc.reason}); open its recovery copy or a backup instead") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ProjectError(f"{path} is not a Foley Studio project (its format is {found!r}, expected "
                           f"{FORMAT!r}); choose a .fsproj file")
    return document


# ---------------------------------------------------------------------------------------------
# Atomic writes
# ---------------------------------------------------------------------------------------------

def _atomic_write_json(path: Path, document: dict[str, Any]) -> None:
    """Write JSON so that `path` holds either the old or the complete new content, never a mix."""
    folder = path.parent if str(path.parent) else Path(".")
    if "\x00" in str(path):
        raise ProjectError(f"cannot save to {str(path)!r}: a file name cannot hold a NUL character")
    if not folder.is_dir():
        raise ProjectError(f"cannot save {path}: the folder {folder} does not exist; create it or choose another")
    if os.path.isdir(path):
        raise ProjectError(f"cannot save to {path}: it is a folder; give a file name ending in {SUFFIX}")
    try:
        fd, tmp = staging_file(path)
    except OSError as exc:
        raise ProjectError(f"cannot save {path}: the folder {folder} is not writable ({exc.strerror or exc}); "
                           "choose another folder or change its permissions") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            # Streamed: a failure midway leaves only the temporary file half written.
            for chunk in _json_chunks(document):
                handle.write(chunk)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, (TypeError, ValueError)):
            raise ProjectError(f"cannot save {path}: the project holds a value JSON cannot store ({exc}); "
                               "the previous file is unchanged") from exc
        if isinstance(exc, OSError):
            raise ProjectError(f"cannot save {path}: {exc.strerror or exc}; the previous file is unchanged") from exc
        raise
    _fsync_folder(folder)
    remove_stale_staging(folder)    # what an earlier, killed save left behind


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _json_chunks(value: Any, depth: int = 0) -> Iterator[str]:
    """JSON text in pieces: the outer structure indented, each clip, marker or settings dict on one line.

    One line per clip keeps files diffable and lets the C encoder do the bulk of the work
    (`json.dump` with `indent` falls back to pure Python: ~4x slower on a 10,000-clip project).
    """
    expand = (depth <= 2) if isinstance(value, dict) else (depth <= 3)
    if not isinstance(value, (dict, list)) or not value or not expand:
        yield _ENCODER.encode(value)
        return
    pad = "\n" + "  " * (depth + 1)
    if isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"keys must be strings, found {key!r}")
            yield f"{',' if i else ''}{pad}{_ENCODER.encode(key)}: "
            yield from _json_chunks(item, depth + 1)
        yield "\n" + "  " * depth + "}"
    else:
        yield "["
        for i, item in enumerate(value):
            yield f"{',' if i else ''}{pad}"
            yield from _json_chunks(item, depth + 1)
        yield "\n" + "  " * depth + "]"


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows has no directory handles to sync."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------

def _relative(path: str, base: Path | None) -> str:
    if base is None:
        return os.path.abspath(path)
    try:
        return Path(os.path.relpath(os.path.abspath(path), base)).as_posix()
    except ValueError:   # another drive on Windows: no relative path exists
        return os.path.abspath(path)


def _absolute(path: str, base: Path | None) -> str:
    if os.path.isabs(path) or base is None:
        return os.path.normpath(path)
    return os.path.normpath(os.path.join(base, path))


def find_missing_media(project: Project) -> list[str]:
    """Media paths (video, clip sources, takes) that are not files on disk, in project order."""
    return [p for p in project.media_paths() if not os.path.isfile(p)]


def relink(project: Project, old_path: str | Path, new_path: str | Path, *, same_folder: bool = False) -> dict[str, str]:
    """Point every reference to `old_path` at `new_path`; returns {old: new} for all paths changed.

    With `same_folder`, other *missing* media under `old_path`'s folder are relinked too when a file
    with the same relative path exists under `new_path`'s folder (a moved sound-effects folder).
    """
    old = os.path.abspath(old_path)
    new = os.path.abspath(new_path)
    if not os.path.isfile(new):
        raise MissingMediaError(f"cannot relink {old} to {new}: {new} does not exist; choose an existing file", [new])
    if old not in {os.path.abspath(p) for p in project.media_paths()}:
        raise ProjectError(f"cannot relink {old}: the project does not use it")
    mapping = {old: new}
    if same_folder:
        old_dir, new_dir = os.path.dirname(old), os.path.dirname(new)
        for missing in map(os.path.abspath, find_missing_media(project)):
            if missing in mapping or not missing.startswith(old_dir + os.sep):
                continue
            candidate = os.path.join(new_dir, os.path.relpath(missing, old_dir))
            if os.path.isfile(candidate):
                mapping[missing] = candidate
    _rename_media(project, mapping)
    log.info("relinked %d media path(s): %s", len(mapping), mapping)
    return mapping


def _rename_media(project: Project, mapping: dict[str, str]) -> None:
    """Apply {old: new} (absolute, normalised keys) to every media path of the project."""
    _map_media_paths(project, lambda path: mapping.get(os.path.abspath(path), path))


def _map_media_paths(project: Project, change: Callable[[str], str]) -> None:
    """Replace every media path of the project (video, clip sources, takes) by `change(path)`."""
    if project.video is not None:
        project.video.path = change(project.video.path)
    for track in project.tracks:
        for clip in track.clips:
            clip.source = change(clip.source)
    for take in project.takes:
        take.path = change(take.path)


# ---------------------------------------------------------------------------------------------
# Recovery copies
# ---------------------------------------------------------------------------------------------

@dataclass
class Recovery:
    """One autosaved copy found in the recovery folder."""

    path: Path                  # the recovery copy itself (open it with `load_project`)
    original: Path | None       # the project it protects; None for a never-saved project
    name: str
    saved_at: datetime
    newer_than_original: bool   # written after the project file last changed (or that file is gone)


def recovery_path_for(project_path: str | Path | None, name: str = "Untitled") -> Path:
    """Where the recovery copy of a project lives: one file per project path (or per name if unsaved)."""
    if project_path is not None:
        key_text = os.path.abspath(project_path)
        stem = Path(project_path).stem
    else:
        key_text, stem = f"untitled:{name}", f"untitled-{name}"
    key = hashlib.sha1(key_text.encode("utf-8")).hexdigest()[:16]
    safe_stem = safe_name(re.sub(r"[^\w.-]+", "_", stem)[:60], fallback="project")
    return recovery_dir() / f"{safe_stem}-{key}{SUFFIX}"


def write_recovery(project: Project, path: str | Path | None) -> Path:
    """Autosave a copy of `project` (whose file is `path`, or None if never saved); returns the copy's path."""
    original = os.path.abspath(path) if path is not None else None
    base = Path(original).parent if original else None
    check_savable(project, path or project.name)
    document = project_to_document(project, base)
    document["recovery_of"] = original
    document["saved_at"] = datetime.now(timezone.utc).isoformat()
    target = recovery_path_for(path, project.name)
    _atomic_write_json(target, document)
    log.debug("wrote recovery copy %s", target)
    return target


def list_recoveries() -> list[Recovery]:
    """Recovery copies in the recovery folder, newest first (unreadable ones are skipped and logged)."""
    found: list[Recovery] = []
    for copy_path in recovery_dir().glob(f"*{SUFFIX}"):
        try:
            document = _read_document(copy_path)
            saved_at = datetime.fromisoformat(document["saved_at"])
        except (ProjectError, KeyError, TypeError, ValueError) as exc:
            log.warning("skipping unreadable recovery copy %s: %s", copy_path, exc)
            continue
        original = Path(document["recovery_of"]) if document.get("recovery_of") else None
        try:
            newer = original is None or original.stat().st_mtime < saved_at.timestamp()
        except OSError:
            newer = True
        found.append(Recovery(path=copy_path, original=original, name=str(document.get("name", "")),
                              saved_at=saved_at, newer_than_original=newer))
    found.sort(key=lambda r: r.saved_at, reverse=True)
    return found


def discard_recovery(project_path: str | Path | None, name: str = "Untitled") -> bool:
    """Delete the recovery copy of a project (after a save or a deliberate discard); True if one existed."""
    target = recovery_path_for(project_path, name)
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Typed reading of the JSON body
# ---------------------------------------------------------------------------------------------

class _SchemaError(Exception):
    pass


_SAMPLES = (0, values.MAX_TIMELINE_SAMPLES)     # any timeline position or length
_GAIN = (values.MIN_GAIN_DB, values.MAX_GAIN_DB)
# (class, field) -> allowed range, checked as each field is read; other ints get _ANY_INT, every
# float must be finite and every string is bounded (paths and ids may not hold NUL).
_FIELD_RANGES: dict[tuple[type, str], tuple[float, float]] = {
    (VideoRef, "fps_num"): (1, 10**6), (VideoRef, "fps_den"): (1, 10**6), (VideoRef, "duration"): _SAMPLES,
    (VideoRef, "width"): (0, 65_535), (VideoRef, "height"): (0, 65_535),
    **{(Clip, name): _SAMPLES for name in ("start", "source_in", "source_out", "fade_in", "fade_out", "source_length")},
    (Clip, "gain_db"): _GAIN, (Track, "gain_db"): _GAIN, (Take, "gain_db"): _GAIN, (Track, "pan"): (-1.0, 1.0),
    (Project, "mix_channels"): (1, 2),
    (Take, "region_start"): _SAMPLES, (Take, "region_end"): _SAMPLES, (Marker, "time"): _SAMPLES,
    (Project, "sample_rate"): (SAMPLE_RATE, SAMPLE_RATE),
}
_ANY_INT = (-(2**53), 2**53)
_ANY_FLOAT = (-1.8e308, 1.8e308)       # every finite double
_UNITS = {"gain_db": " dB", "sample_rate": " Hz"}


def _value_ok(cls: type, name: str, value: Any) -> bool:
    """Whether one field keeps its rule: plain comparisons, as this runs for every field of every clip."""
    kind = type(value)
    if kind is int:
        lo, hi = _FIELD_RANGES.get((cls, name), _ANY_INT)
        return lo <= value <= hi
    if kind is float:
        lo, hi = _FIELD_RANGES.get((cls, name), _ANY_FLOAT)
        return lo <= value <= hi            # False for NaN and, with finite bounds, for infinities
    if kind is str:
        return len(value) <= values.MAX_TEXT and ("\x00" not in value or name in ("name", "label"))
    return True


def _check_value(cls: type, name: str, value: Any, where: str) -> None:
    """The rule of one field, as a `_SchemaError` naming it and the allowed range when broken."""
    if _value_ok(cls, name, value):
        return
    unit = _UNITS.get(name, "")
    if type(value) is int:
        lo, hi = _FIELD_RANGES.get((cls, name), _ANY_INT)
        values.whole_number(value, where, lo=int(lo), hi=int(hi), error=_SchemaError, unit=unit)
    elif type(value) is float:
        lo, hi = _FIELD_RANGES.get((cls, name), (None, None))
        values.finite_number(value, where, lo=lo, hi=hi, error=_SchemaError, unit=unit)
    values.checked_text(value, where, allow_nul=name in ("name", "label"), error=_SchemaError)


def check_savable(project: Project, path: Path | str = "project") -> None:
    """Refuse to save what `load_project` would refuse to open (a gain of +1000 dB, a clip a week long)."""
    try:
        if not _fields_ok(project):
            _check_fields(project, "project")     # the slow walk, only to name what is wrong
        _check_relations(project)
    except _SchemaError as exc:
        raise ProjectError(f"cannot save {path}: {exc}; undo the change that made it") from None


def _fields_ok(obj: Any) -> bool:
    """`_check_fields` without building any message: true when every field keeps its rule."""
    cls = type(obj)
    for name, kind in _field_kinds(cls):
        value = getattr(obj, name)
        if kind == "value":
            if not _value_ok(cls, name, value):
                return False
        elif kind == "object":
            if value is not None and not _fields_ok(value):
                return False
        elif kind == "objects":
            if not all(_fields_ok(item) for item in value):
                return False
        else:
            try:
                check_tree(value, max_depth=MAX_DEPTH)
            except JsonProblem:
                return False
    return True


def _check_fields(obj: Any, where: str) -> None:
    """Every field of a project's dataclasses against the rules `_build` applies when reading it."""
    cls = type(obj)
    for name, kind in _field_kinds(cls):
        value = getattr(obj, name)
        if kind == "value":
            _check_value(cls, name, value, f"{where}.{name}")
        elif kind == "object":
            if value is not None:
                _check_fields(value, f"{where}.{name}")
        elif kind == "objects":
            for i, item in enumerate(value):
                _check_fields(item, f"{where}.{name}[{i}]")
        else:
            try:
                check_tree(value, max_depth=MAX_DEPTH)
            except JsonProblem as exc:
                raise _SchemaError(f"{where}.{name}: {exc.reason}") from None


@functools.lru_cache(maxsize=None)
def _field_kinds(cls: type) -> tuple[tuple[str, str], ...]:
    """(name, 'value' | 'object' | 'objects' | 'tree') per field: how `_check_fields` walks it."""
    kinds = []
    for name, hint, _ in _schema(cls):
        options = [a for a in typing.get_args(hint) if a is not type(None)] \
            if typing.get_origin(hint) in (Union, types.UnionType) else [hint]
        base = options[0]
        origin = typing.get_origin(base)
        if dataclasses.is_dataclass(base):
            kinds.append((name, "object"))
        elif origin is list and dataclasses.is_dataclass(typing.get_args(base)[0]):
            kinds.append((name, "objects"))
        elif origin is dict or base is Any:
            kinds.append((name, "tree"))
        else:
            kinds.append((name, "value"))
    return tuple(kinds)


def _check_relations(project: Project) -> None:
    """Rules between fields: spans not reversed, the picture's rate inside what a clock can show."""
    video = project.video
    if video is not None:
        fps = video.fps_num / video.fps_den
        if not values.MIN_FPS <= fps <= values.MAX_FPS:
            raise _SchemaError(f"project.video frame rate {video.fps_num}/{video.fps_den} ({fps:g} fps) is outside "
                               f"{values.MIN_FPS:g}-{values.MAX_FPS:g} fps")
    for t, track in enumerate(project.tracks):
        for c, clip in enumerate(track.clips):
            where = f"project.tracks[{t}].clips[{c}]"
            if clip.source_out < clip.source_in:
                raise _SchemaError(f"{where} ends (source_out {clip.source_out}) before it starts "
                                   f"(source_in {clip.source_in})")
            if clip.end > values.MAX_TIMELINE_SAMPLES:
                raise _SchemaError(f"{where} ends {clip.end / SAMPLE_RATE:,.0f} s into the timeline, past the "
                                   f"{values.MAX_TIMELINE_SECONDS:,} s a project can span")
    for i, take in enumerate(project.takes):
        if take.region_end < take.region_start:
            raise _SchemaError(f"project.takes[{i}] region ends ({take.region_end}) before it starts "
                               f"({take.region_start})")


def _plain(value: Any) -> Any:
    """Dataclasses -> dicts, lists copied, other dicts deep-copied (like `dataclasses.asdict`, ~5x faster)."""
    if value is None or type(value) in (int, float, str, bool):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name, _, _ in _schema(type(value))}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return copy.deepcopy(value)
    return value


@functools.lru_cache(maxsize=None)
def _schema(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, resolved type hint, required) per field; resolving hints is slow, so once per class."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name],
                  f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
                 for f in dataclasses.fields(cls))


def _build(cls: type, data: Any, where: str) -> Any:
    """A dataclass from a dict, checking each field against its annotation; extra keys are ignored."""
    if not isinstance(data, dict):
        raise _SchemaError(f"{where} must be an object, found {type(data).__name__}")
    kwargs: dict[str, Any] = {}
    for name, hint, required in _schema(cls):
        if name in data:
            kwargs[name] = _convert(hint, data[name], f"{where}.{name}")
            if not _value_ok(cls, name, kwargs[name]):
                _check_value(cls, name, kwargs[name], f"{where}.{name}")
        elif required:
            raise _SchemaError(f"{where} lacks the field {name!r}")
    if len(kwargs) < len(data):
        unknown = set(data) - set(kwargs)
        log.warning("%s: ignoring unknown field(s) %s", where, ", ".join(sorted(unknown)))
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(hint)):
            return None
        return _convert(options[0], value, where)
    if origin is list:
        if not isinstance(value, list):
            raise _SchemaError(f"{where} must be a list, found {type(value).__name__}")
        (item,) = typing.get_args(hint)
        return [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _SchemaError(f"{where} must be an object, found {type(value).__name__}")
        try:
            check_tree(value, max_depth=MAX_DEPTH)      # free-form (take settings): nothing else looks inside
        except JsonProblem as exc:
            raise _SchemaError(f"{where}: {exc.reason}") from None
        return value
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if hint is Any:
        return value
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    raise _SchemaError(f"{where} must be {getattr(hint, '__name__', hint)}, found {value!r}")


__all__ = [
    "FORMAT", "FORMAT_VERSION", "SUFFIX", "MIGRATIONS", "Recovery", "save_project", "load_project",
    "project_to_document", "document_to_project", "migrate", "find_missing_media", "relink",
    "write_recovery", "list_recoveries", "discard_recovery", "recovery_path_for", "check_savable",
    "MAX_PROJECT_BYTES",
]
