"""Reversible edits of the project model: small command objects and a headless undo history.

Every change to a `Project` goes through an `Edit`: `do(project)` validates and applies it,
`undo(project)` restores exactly what was there (old values, and a removed item's index so it comes
back where it was). Edits refer to tracks, clips, takes and markers by id, never by object, so a
redo after undo finds the same things again. `do` checks everything it needs *before* it changes
anything; an impossible edit raises `EditError` (a `ProjectError`) and leaves the project as it was.

`merge_with(other)` lets repeated changes of one property (a clip dragged twice, a gain slider)
collapse into one undo step. `Compound` groups edits; `ApplyTake` is a compound planned from the
state it is first applied to. `History` is the one undo stack: the editor (through
`session.EditorSession`), the command line and the tests all run it.
"""
from __future__ import annotations

import copy
import itertools
import logging
import math
import operator
from contextlib import contextmanager
from dataclasses import fields, replace
from typing import Any, Callable, Iterator, Sequence

from .errors import ProjectError
from .project import Clip, Marker, Project, Take, Track, new_id

log = logging.getLogger(__name__)

DEFAULT_CROSSFADE = 480   # samples (10 ms at 48 kHz): short enough to keep a hit crisp, long enough to hide the cut


class EditError(ProjectError):
    """An edit that cannot be applied to the project as it is; the project was left unchanged."""


# ---------------------------------------------------------------------------------------------
# Lookups and checks shared by the edits (all raise EditError before anything is mutated)
# ---------------------------------------------------------------------------------------------

def _samples(value: Any, what: str, *, minimum: int | None = 0) -> int:
    """An integer sample count (numpy integers accepted) that is at least `minimum`."""
    if isinstance(value, bool):
        raise EditError(f"{what} must be a whole number of samples, got {value!r}")
    try:
        samples = operator.index(value)
    except TypeError:
        raise EditError(f"{what} must be a whole number of samples at 48 kHz, got {value!r}") from None
    if minimum is not None and samples < minimum:
        raise EditError(f"{what} must be at least {minimum} samples, got {samples}")
    return samples


def _finite(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EditError(f"{what} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise EditError(f"{what} must be a finite number, got {value!r}")
    return number


def _locate_clip(project: Project, clip_id: str) -> tuple[Track, int]:
    for track in project.tracks:
        for index, clip in enumerate(track.clips):
            if clip.id == clip_id:
                return track, index
    raise EditError(f"no clip with id {clip_id!r} in the project (it may have been deleted)")


def _clip_exists(project: Project, clip_id: str) -> bool:
    return any(c.id == clip_id for t in project.tracks for c in t.clips)


def _find_track(project: Project, track_id: str) -> tuple[Track, int]:
    for index, track in enumerate(project.tracks):
        if track.id == track_id:
            return track, index
    raise EditError(f"no track with id {track_id!r} in the project (it may have been deleted)")


def _index_by_id(items: Sequence[Any], item_id: str, kind: str) -> int:
    for index, item in enumerate(items):
        if item.id == item_id:
            return index
    raise EditError(f"no {kind} with id {item_id!r} in the project (it may have been deleted)")


def _insert_index(index: int | None, size: int, what: str) -> int:
    """Position for an insert: None appends; otherwise 0..size."""
    if index is None:
        return size
    position = _samples(index, f"{what} index")
    if position > size:
        raise EditError(f"{what} index {position} is past the end (there are {size})")
    return position


def _clip_name(clip: Clip) -> str:
    return repr(clip.name) if clip.name else clip.id


def _check_clip(clip: Clip) -> None:
    """A clip that could live on a track: non-negative times, a non-empty span inside its source."""
    what = f"clip {_clip_name(clip)}"
    _samples(clip.start, f"{what} start")
    _samples(clip.source_in, f"{what} source in")
    _samples(clip.source_out, f"{what} source out")
    if clip.source_out <= clip.source_in:
        raise EditError(f"{what} is empty: source out ({clip.source_out}) must be after source in ({clip.source_in})")
    if clip.source_length is not None and clip.source_out > clip.source_length:
        raise EditError(f"{what} ends at source sample {clip.source_out}, past the end of "
                        f"{clip.source} ({clip.source_length} samples)")
    _check_fades(clip, clip.fade_in, clip.fade_out)
    _finite(clip.gain_db, f"{what} gain")


def _check_fades(clip: Clip, fade_in: int, fade_out: int) -> None:
    what = f"clip {_clip_name(clip)}"
    _samples(fade_in, f"{what} fade in")
    _samples(fade_out, f"{what} fade out")
    if fade_in + fade_out > clip.length:
        raise EditError(f"{what} fades ({fade_in} + {fade_out} samples) are longer than the clip "
                        f"({clip.length} samples); shorten them")


def _clamp_fades(clip: Clip) -> None:
    """Keep fades inside a clip that got shorter (fade in wins over fade out)."""
    clip.fade_in = min(clip.fade_in, clip.length)
    clip.fade_out = min(clip.fade_out, clip.length - clip.fade_in)


def _assign(target: Any, snapshot: Any) -> None:
    """Copy every dataclass field of `snapshot` onto `target`, keeping `target`'s identity."""
    for f in fields(target):
        setattr(target, f.name, getattr(snapshot, f.name))


def _unique_ids(items: Sequence[Any], kind: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise EditError(f"two {kind}s share the id {item.id!r}; ids must be unique")
        seen.add(item.id)


# ---------------------------------------------------------------------------------------------
# The command protocol
# ---------------------------------------------------------------------------------------------

class Edit:
    """A reversible change of a `Project`; `text` is what Undo/Redo menus show."""

    text: str = ""

    def do(self, project: Project) -> None:
        raise NotImplementedError

    def undo(self, project: Project) -> None:
        raise NotImplementedError

    def merge_with(self, other: Edit) -> bool:
        """Absorb `other` (done right after this edit) into this one; True when merged."""
        return False

    def __repr__(self) -> str:
        public = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in public.items())})"


class Compound(Edit):
    """Several edits as one undo step; if a child fails, the ones already done are undone."""

    def __init__(self, text: str, children: Sequence[Edit]):
        self.text = text
        self.children = list(children)

    def do(self, project: Project) -> None:
        done: list[Edit] = []
        try:
            for child in self.children:
                child.do(project)
                done.append(child)
        except BaseException:
            for child in reversed(done):
                child.undo(project)
            raise

    def undo(self, project: Project) -> None:
        for child in reversed(self.children):
            child.undo(project)


class _Planned(Edit):
    """An edit made of child edits planned from the state it is first done on; redo replays the plan.

    Replaying is exact because the history only redoes onto the state the plan was made from.
    """

    _plan: Compound | None = None

    def _planned(self, project: Project) -> list[Edit]:
        raise NotImplementedError

    def do(self, project: Project) -> None:
        plan = self._plan or Compound(self.text, self._planned(project))
        plan.do(project)
        self._plan = plan

    def undo(self, project: Project) -> None:
        assert self._plan is not None, "undo before do"
        self._plan.undo(project)


# ---------------------------------------------------------------------------------------------
# Clips
# ---------------------------------------------------------------------------------------------

class AddClip(Edit):
    """Put `clip` on a track (appended, or at `index` in the track's clip list)."""

    def __init__(self, track_id: str, clip: Clip, index: int | None = None):
        self.track_id, self.clip, self.index = track_id, clip, index
        self.text = f"Add clip {clip.name}".rstrip()

    def do(self, project: Project) -> None:
        track, _ = _find_track(project, self.track_id)
        _check_clip(self.clip)
        if _clip_exists(project, self.clip.id):
            raise EditError(f"a clip with id {self.clip.id!r} is already in the project")
        track.clips.insert(_insert_index(self.index, len(track.clips), "clip"), self.clip)

    def undo(self, project: Project) -> None:
        track, index = _locate_clip(project, self.clip.id)
        del track.clips[index]


class RemoveClip(Edit):
    def __init__(self, clip_id: str):
        self.clip_id = clip_id
        self.text = "Delete clip"
        self._removed: tuple[str, int, Clip] | None = None

    def do(self, project: Project) -> None:
        track, index = _locate_clip(project, self.clip_id)
        self._removed = (track.id, index, track.clips[index])
        del track.clips[index]

    def undo(self, project: Project) -> None:
        assert self._removed is not None, "undo before do"
        track_id, index, clip = self._removed
        _find_track(project, track_id)[0].clips.insert(index, clip)


class MoveClip(Edit):
    """Move a clip in time and, optionally, onto another track (where it is appended)."""

    def __init__(self, clip_id: str, new_start: int, new_track_id: str | None = None):
        self.clip_id, self.new_start, self.new_track_id = clip_id, new_start, new_track_id
        self.text = "Move clip"
        self._old: tuple[str, int, int] | None = None   # track id, index in it, start

    def do(self, project: Project) -> None:
        track, index = _locate_clip(project, self.clip_id)
        start = _samples(self.new_start, "clip start")
        target = track
        if self.new_track_id is not None and self.new_track_id != track.id:
            target, _ = _find_track(project, self.new_track_id)
        clip = track.clips[index]
        self._old = (track.id, index, clip.start)
        clip.start = start
        if target is not track:
            del track.clips[index]
            target.clips.append(clip)

    def undo(self, project: Project) -> None:
        assert self._old is not None, "undo before do"
        old_track_id, old_index, old_start = self._old
        track, index = _locate_clip(project, self.clip_id)
        clip = track.clips[index]
        clip.start = old_start
        if track.id != old_track_id:
            del track.clips[index]
            _find_track(project, old_track_id)[0].clips.insert(old_index, clip)

    def merge_with(self, other: Edit) -> bool:
        if not (isinstance(other, MoveClip) and other.clip_id == self.clip_id and self._old):
            return False
        landed_on = self.new_track_id or self._old[0]
        # A second change of track would append the clip again: merged, it would land elsewhere.
        if other.new_track_id not in (None, landed_on):
            return False
        self.new_start = other.new_start
        return True


class TrimClip(Edit):
    """Move a clip's left or right edge to timeline sample `new_time`, keeping the audio in place."""

    def __init__(self, clip_id: str, edge: str, new_time: int):
        self.clip_id, self.edge, self.new_time = clip_id, edge, new_time
        self.text = "Trim clip"
        self._old: Clip | None = None
        self._fades_after: tuple[int, int] | None = None   # set by merging: the fades the last trim left
        self._done_fades: tuple[int, int] | None = None    # the fades as this edit left them

    def do(self, project: Project) -> None:
        track, index = _locate_clip(project, self.clip_id)
        clip = track.clips[index]
        start, source_in, source_out = self._trimmed(clip)
        self._old = copy.copy(clip)
        clip.start, clip.source_in, clip.source_out = start, source_in, source_out
        _clamp_fades(clip)
        if self._fades_after is not None:
            clip.fade_in, clip.fade_out = self._fades_after
        self._done_fades = (clip.fade_in, clip.fade_out)

    def _trimmed(self, clip: Clip) -> tuple[int, int, int]:
        name = _clip_name(clip)
        time = _samples(self.new_time, f"trim of clip {name}")
        if self.edge == "left":
            source_in = clip.source_in + (time - clip.start)
            if source_in < 0:
                raise EditError(f"cannot trim clip {name} to start at {time}: its source has only "
                                f"{clip.source_in} samples before the clip (earliest start {clip.start - clip.source_in})")
            if time >= clip.end:
                raise EditError(f"cannot trim clip {name} to start at {time}: it ends at {clip.end}")
            return time, source_in, clip.source_out
        if self.edge == "right":
            source_out = clip.source_in + (time - clip.start)
            if time <= clip.start:
                raise EditError(f"cannot trim clip {name} to end at {time}: it starts at {clip.start}")
            if clip.source_length is not None and source_out > clip.source_length:
                raise EditError(f"cannot trim clip {name} to end at {time}: its source {clip.source} ends "
                                f"{clip.source_length - clip.source_out} samples after the clip "
                                f"(latest end {clip.end + clip.source_length - clip.source_out})")
            return clip.start, clip.source_in, source_out
        raise EditError(f"trim edge must be 'left' or 'right', got {self.edge!r}")

    def undo(self, project: Project) -> None:
        assert self._old is not None, "undo before do"
        track, index = _locate_clip(project, self.clip_id)
        _assign(track.clips[index], self._old)

    def merge_with(self, other: Edit) -> bool:
        if not (isinstance(other, TrimClip) and other.clip_id == self.clip_id and other.edge == self.edge
                and self._old is not None and other._done_fades is not None):
            return False
        self.new_time = other.new_time
        # A trim that shortened past a fade clamped it; lengthening again does not bring it back,
        # so the merged edit must reproduce the fades as the last trim left them.
        self._fades_after = other._done_fades
        return True


class SplitClip(Edit):
    """Cut a clip in two at timeline sample `at`; the right part gets `new_clip_id`."""

    def __init__(self, clip_id: str, at: int, new_clip_id: str | None = None):
        self.clip_id, self.at = clip_id, at
        self.new_clip_id = new_clip_id or new_id("clip")   # fixed now, so redo recreates the same id
        self.text = "Split clip"
        self._old: Clip | None = None

    def do(self, project: Project) -> None:
        track, index = _locate_clip(project, self.clip_id)
        clip = track.clips[index]
        at = _samples(self.at, "split point")
        if not clip.start < at < clip.end:
            raise EditError(f"cannot split clip {_clip_name(clip)} at {at}: the point must lie inside "
                            f"the clip ({clip.start} to {clip.end})")
        if _clip_exists(project, self.new_clip_id):
            raise EditError(f"a clip with id {self.new_clip_id!r} is already in the project")
        self._old = copy.copy(clip)
        cut = clip.source_in + (at - clip.start)
        right = replace(clip, id=self.new_clip_id, start=at, source_in=cut, fade_in=0)
        clip.source_out, clip.fade_out = cut, 0
        _clamp_fades(clip)
        _clamp_fades(right)
        track.clips.insert(index + 1, right)

    def undo(self, project: Project) -> None:
        assert self._old is not None, "undo before do"
        track, index = _locate_clip(project, self.new_clip_id)
        del track.clips[index]
        track, index = _locate_clip(project, self.clip_id)
        _assign(track.clips[index], self._old)


class _SetAttributes(Edit):
    """Shared machinery: set some attributes of one object found by id, remember the old values."""

    def __init__(self, target_id: str, values: dict[str, Any]):
        self.target_id = target_id
        self.values = values
        self._old: dict[str, Any] | None = None

    def _target(self, project: Project) -> Any:
        raise NotImplementedError

    def _validated(self, target: Any, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def do(self, project: Project) -> None:
        target = self._target(project)
        values = self._validated(target, self.values)
        self._old = {name: getattr(target, name) for name in values}
        for name, value in values.items():
            setattr(target, name, value)

    def undo(self, project: Project) -> None:
        assert self._old is not None, "undo before do"
        target = self._target(project)
        for name, value in self._old.items():
            setattr(target, name, value)

    def _merge_values(self, other: Edit) -> bool:
        """Merge when `other` sets the same attributes of the same object (a slider being dragged)."""
        if type(other) is not type(self) or other.target_id != self.target_id or self._old is None:
            return False
        assert isinstance(other, _SetAttributes)
        if set(other.values) != set(self.values):
            return False
        self.values = dict(other.values)
        return True


class SetClipGain(_SetAttributes):
    def __init__(self, clip_id: str, gain_db: float):
        super().__init__(clip_id, {"gain_db": gain_db})
        self.text = "Change clip gain"

    def _target(self, project: Project) -> Clip:
        track, index = _locate_clip(project, self.target_id)
        return track.clips[index]

    def _validated(self, target: Clip, values: dict[str, Any]) -> dict[str, Any]:
        return {"gain_db": _finite(values["gain_db"], f"gain of clip {_clip_name(target)}")}

    def merge_with(self, other: Edit) -> bool:
        return self._merge_values(other)


class SetClipFades(_SetAttributes):
    """Set a clip's fade in and/or fade out (None keeps the current value)."""

    def __init__(self, clip_id: str, fade_in: int | None = None, fade_out: int | None = None):
        values = {k: v for k, v in (("fade_in", fade_in), ("fade_out", fade_out)) if v is not None}
        super().__init__(clip_id, values)
        self.text = "Change clip fades"

    def _target(self, project: Project) -> Clip:
        track, index = _locate_clip(project, self.target_id)
        return track.clips[index]

    def _validated(self, target: Clip, values: dict[str, Any]) -> dict[str, Any]:
        fade_in = values.get("fade_in", target.fade_in)
        fade_out = values.get("fade_out", target.fade_out)
        _check_fades(target, fade_in, fade_out)
        return {name: operator.index(value) for name, value in values.items()}

    def merge_with(self, other: Edit) -> bool:
        return self._merge_values(other)


# ---------------------------------------------------------------------------------------------
# Tracks
# ---------------------------------------------------------------------------------------------

class AddTrack(Edit):
    def __init__(self, track: Track, index: int | None = None):
        self.track, self.index = track, index
        self.text = f"Add track {track.name}".rstrip()

    def do(self, project: Project) -> None:
        if any(t.id == self.track.id for t in project.tracks):
            raise EditError(f"a track with id {self.track.id!r} is already in the project")
        _unique_ids(self.track.clips, "clip")
        for clip in self.track.clips:
            _check_clip(clip)
            if _clip_exists(project, clip.id):
                raise EditError(f"a clip with id {clip.id!r} is already in the project")
        project.tracks.insert(_insert_index(self.index, len(project.tracks), "track"), self.track)

    def undo(self, project: Project) -> None:
        _, index = _find_track(project, self.track.id)
        del project.tracks[index]


class RemoveTrack(Edit):
    def __init__(self, track_id: str):
        self.track_id = track_id
        self.text = "Delete track"
        self._removed: tuple[int, Track] | None = None

    def do(self, project: Project) -> None:
        track, index = _find_track(project, self.track_id)
        self._removed = (index, track)
        del project.tracks[index]

    def undo(self, project: Project) -> None:
        assert self._removed is not None, "undo before do"
        index, track = self._removed
        project.tracks.insert(index, track)


class MoveTrack(Edit):
    """Put a track (with its clips) at `new_index` in the track list; the others close up around it."""

    def __init__(self, track_id: str, new_index: int):
        self.track_id, self.new_index = track_id, new_index
        self.text = "Move track"
        self._old_index: int | None = None

    def do(self, project: Project) -> None:
        track, index = _find_track(project, self.track_id)
        target = _samples(self.new_index, "track index")
        if target >= len(project.tracks):
            raise EditError(f"cannot move track {track.name!r} to position {target}: "
                            f"there are only {len(project.tracks)} tracks (positions 0 to {len(project.tracks) - 1})")
        self._old_index = index
        del project.tracks[index]
        project.tracks.insert(target, track)

    def undo(self, project: Project) -> None:
        assert self._old_index is not None, "undo before do"
        track, index = _find_track(project, self.track_id)
        del project.tracks[index]
        project.tracks.insert(self._old_index, track)

    def merge_with(self, other: Edit) -> bool:
        # A header dragged over several rows is one move: the first old index, the last new one.
        if not (isinstance(other, MoveTrack) and other.track_id == self.track_id and self._old_index is not None):
            return False
        self.new_index = other.new_index
        return True


_TRACK_PROPS: dict[str, type] = {"name": str, "gain_db": float, "mute": bool, "solo": bool, "pan": float}
_TOGGLES = {"mute", "solo"}   # each click is its own undo step, never merged


class SetTrackProps(_SetAttributes):
    """Set any of a track's name, gain_db (its fader), pan (-1 left .. +1 right), mute and solo."""

    def __init__(self, track_id: str, **props: Any):
        super().__init__(track_id, props)
        self.text = "Change track " + ", ".join(sorted(props)).replace("_db", "")

    def _target(self, project: Project) -> Track:
        return _find_track(project, self.target_id)[0]

    def _validated(self, target: Track, values: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(values) - set(_TRACK_PROPS))
        if unknown:
            raise EditError(f"tracks have no property {', '.join(unknown)}; known: {', '.join(_TRACK_PROPS)}")
        if not values:
            raise EditError("SetTrackProps needs at least one property to set")
        checked: dict[str, Any] = {}
        for name, value in values.items():
            what = f"{name} of track {target.name!r}"
            if _TRACK_PROPS[name] is float:
                checked[name] = _finite(value, what)
                if name == "pan" and not -1.0 <= checked[name] <= 1.0:
                    raise EditError(f"{what} must lie between -1 (left) and +1 (right), got {value!r}")
            elif not isinstance(value, _TRACK_PROPS[name]):
                raise EditError(f"{what} must be a {_TRACK_PROPS[name].__name__}, got {value!r}")
            else:
                checked[name] = value
        return checked

    def merge_with(self, other: Edit) -> bool:
        if _TOGGLES & set(self.values):
            return False
        return self._merge_values(other)


class SetMixChannels(Edit):
    """Make the project's mix bus stereo (2: tracks are panned) or mono (1: pan is ignored)."""

    def __init__(self, channels: int):
        if channels not in (1, 2):
            raise EditError(f"the mix bus is mono (1) or stereo (2), got {channels!r}")
        self.channels = channels
        self.text = "Stereo mix" if channels == 2 else "Mono mix"
        self._old: int | None = None

    def do(self, project: Project) -> None:
        self._old = project.mix_channels
        project.mix_channels = self.channels

    def undo(self, project: Project) -> None:
        assert self._old is not None, "undo before do"
        project.mix_channels = self._old


# ---------------------------------------------------------------------------------------------
# Markers and takes
# ---------------------------------------------------------------------------------------------

class AddMarker(Edit):
    def __init__(self, marker: Marker):
        self.marker = marker
        self.text = "Add marker"

    def do(self, project: Project) -> None:
        _samples(self.marker.time, "marker time")
        if any(m.id == self.marker.id for m in project.markers):
            raise EditError(f"a marker with id {self.marker.id!r} is already in the project")
        project.markers.append(self.marker)

    def undo(self, project: Project) -> None:
        del project.markers[_index_by_id(project.markers, self.marker.id, "marker")]


class RemoveMarker(Edit):
    def __init__(self, marker_id: str):
        self.marker_id = marker_id
        self.text = "Delete marker"
        self._removed: tuple[int, Marker] | None = None

    def do(self, project: Project) -> None:
        index = _index_by_id(project.markers, self.marker_id, "marker")
        self._removed = (index, project.markers.pop(index))

    def undo(self, project: Project) -> None:
        assert self._removed is not None, "undo before do"
        project.markers.insert(*self._removed)


class MoveMarker(_SetAttributes):
    def __init__(self, marker_id: str, time: int):
        super().__init__(marker_id, {"time": time})
        self.text = "Move marker"

    def _target(self, project: Project) -> Marker:
        return project.markers[_index_by_id(project.markers, self.target_id, "marker")]

    def _validated(self, target: Marker, values: dict[str, Any]) -> dict[str, Any]:
        return {"time": _samples(values["time"], f"time of marker {target.name or target.id!r}")}

    def merge_with(self, other: Edit) -> bool:
        return self._merge_values(other)


class AddTake(Edit):
    def __init__(self, take: Take):
        self.take = take
        self.text = "Add take"

    def do(self, project: Project) -> None:
        start = _samples(self.take.region_start, "take region start")
        if _samples(self.take.region_end, "take region end") <= start:
            raise EditError(f"take {self.take.id!r} has an empty region "
                            f"({self.take.region_start} to {self.take.region_end})")
        if any(t.id == self.take.id for t in project.takes):
            raise EditError(f"a take with id {self.take.id!r} is already in the project")
        project.takes.append(self.take)

    def undo(self, project: Project) -> None:
        del project.takes[_index_by_id(project.takes, self.take.id, "take")]


class RemoveTake(Edit):
    def __init__(self, take_id: str):
        self.take_id = take_id
        self.text = "Delete take"
        self._removed: tuple[int, Take] | None = None

    def do(self, project: Project) -> None:
        index = _index_by_id(project.takes, self.take_id, "take")
        self._removed = (index, project.takes.pop(index))

    def undo(self, project: Project) -> None:
        assert self._removed is not None, "undo before do"
        project.takes.insert(*self._removed)


class SetTakeKept(_SetAttributes):
    def __init__(self, take_id: str, kept: bool):
        super().__init__(take_id, {"kept": kept})
        self.text = "Keep take" if kept else "Discard take"

    def _target(self, project: Project) -> Take:
        return project.takes[_index_by_id(project.takes, self.target_id, "take")]

    def _validated(self, target: Take, values: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(values["kept"], bool):
            raise EditError(f"kept of take {target.id!r} must be True or False, got {values['kept']!r}")
        return values


class SetTakeGain(_SetAttributes):
    """A take's own gain in dB (heard when auditioned; the clip made by "Use" gets it)."""

    def __init__(self, take_id: str, gain_db: float):
        super().__init__(take_id, {"gain_db": gain_db})
        self.text = "Change take gain"

    def _target(self, project: Project) -> Take:
        return project.takes[_index_by_id(project.takes, self.target_id, "take")]

    def _validated(self, target: Take, values: dict[str, Any]) -> dict[str, Any]:
        return {"gain_db": _finite(values["gain_db"], f"gain of take {target.id!r}")}

    def merge_with(self, other: Edit) -> bool:
        return self._merge_values(other)


# ---------------------------------------------------------------------------------------------
# Applying a take to the timeline
# ---------------------------------------------------------------------------------------------

class ApplyTake(_Planned):
    """Put [start, end) of a take's audio on a track, replacing what was there.

    Clips inside the region are removed; clips crossing its edges are trimmed (a clip spanning the
    whole region is split and both parts trimmed). With `crossfade` > 0 the old audio is kept for
    `crossfade` samples into the region and faded out while the take fades in (and the mirror at
    the end), so the join is an equal-power crossfade in the mixdown rather than a click. The take's
    audio file starts at its `region_start` on the timeline.
    """

    def __init__(self, take_id: str, track_id: str, start: int, end: int,
                 crossfade: int = DEFAULT_CROSSFADE, clip_id: str | None = None):
        self.take_id, self.track_id, self.start, self.end = take_id, track_id, start, end
        self.crossfade = crossfade
        self.clip_id = clip_id or new_id("clip")
        self.text = "Apply take"

    def _planned(self, project: Project) -> list[Edit]:
        take = project.takes[_index_by_id(project.takes, self.take_id, "take")]
        track, _ = _find_track(project, self.track_id)
        start = _samples(self.start, "apply-take start")
        end = _samples(self.end, "apply-take end")
        if end <= start:
            raise EditError(f"apply-take region is empty ({start} to {end})")
        if start < take.region_start or end > take.region_end:
            raise EditError(f"apply-take region {start} to {end} lies outside take {take.id!r}, "
                            f"which covers {take.region_start} to {take.region_end}")
        if _clip_exists(project, self.clip_id):
            raise EditError(f"a clip with id {self.clip_id!r} is already in the project")
        fade = min(_samples(self.crossfade, "crossfade"), (end - start) // 2)

        plan: list[Edit] = []
        for clip in list(track.clips):
            plan += _clear_region(clip, start, end, fade)
        offset = take.region_start
        plan.append(AddClip(track.id, Clip(
            id=self.clip_id, source=take.path, start=start, source_in=start - offset,
            source_out=end - offset, fade_in=fade, fade_out=fade, name=take.label or "Take",
            take_id=take.id, source_length=take.region_end - take.region_start, gain_db=take.gain_db)))
        return plan


def _clear_region(clip: Clip, start: int, end: int, fade: int) -> list[Edit]:
    """Edits that empty [start + fade, end - fade) of one clip and fade its new edges over `fade`."""
    if clip.end <= start or clip.start >= end:
        return []
    if clip.start >= start and clip.end <= end:
        return [RemoveClip(clip.id)]
    edits: list[Edit] = []
    left_id: str | None = None
    right_id: str | None = None
    if clip.start < start and clip.end > end:
        split = SplitClip(clip.id, end - fade)
        edits.append(split)
        left_id, right_id = clip.id, split.new_clip_id
        left_end, right_start = end - fade, end - fade
    elif clip.start < start:
        left_id, left_end = clip.id, clip.end
    else:
        right_id, right_start = clip.id, clip.start

    if left_id is not None:
        new_end = min(left_end, start + fade)
        if new_end < left_end:
            edits.append(TrimClip(left_id, "right", new_end))
        fade_out = new_end - start
        fade_in = min(clip.fade_in, new_end - clip.start - fade_out)
        edits.append(SetClipFades(left_id, fade_in=fade_in, fade_out=fade_out))
    if right_id is not None:
        new_start = max(right_start, end - fade)
        if new_start > right_start:
            edits.append(TrimClip(right_id, "left", new_start))
        fade_in = end - new_start
        fade_out = min(clip.fade_out, clip.end - new_start - fade_in)
        edits.append(SetClipFades(right_id, fade_in=fade_in, fade_out=fade_out))
    return edits


# ---------------------------------------------------------------------------------------------
# Ripple delete and crossfades (planned compounds, like ApplyTake)
# ---------------------------------------------------------------------------------------------

class RippleDelete(_Planned):
    """Remove timeline samples [start, end) from one track and close the gap.

    Clips inside the range go; clips crossing an edge are trimmed to it (one spanning the whole
    range is split at `end`, its right part becoming a new clip); every clip at or after `end`
    moves left by `end - start`. Other tracks and the markers stay where they are, as in a
    single-track "shuffle" edit.
    """

    def __init__(self, track_id: str, start: int, end: int):
        self.track_id, self.start, self.end = track_id, start, end
        self.text = "Ripple delete"

    def _planned(self, project: Project) -> list[Edit]:
        track, _ = _find_track(project, self.track_id)
        start = _samples(self.start, "ripple delete start")
        end = _samples(self.end, "ripple delete end")
        if end <= start:
            raise EditError(f"ripple delete range is empty ({start} to {end}); select a range with a length")
        gap = end - start
        plan: list[Edit] = []
        for clip in list(track.clips):
            if clip.end <= start:
                continue
            if clip.start >= end:
                plan.append(MoveClip(clip.id, clip.start - gap))
            elif clip.start >= start and clip.end <= end:
                plan.append(RemoveClip(clip.id))
            elif clip.start < start and clip.end > end:
                split = SplitClip(clip.id, end)
                plan += [split, TrimClip(clip.id, "right", start), MoveClip(split.new_clip_id, start)]
            elif clip.start < start:
                plan.append(TrimClip(clip.id, "right", start))
            else:
                plan += [TrimClip(clip.id, "left", end), MoveClip(clip.id, start)]
        if not plan:
            raise EditError(f"nothing to ripple delete on track {track.name!r}: no clip lies at or after {start}")
        return plan


def overlap_of(first: Clip, second: Clip) -> int:
    """Samples two clips share on the timeline (0 when they do not overlap)."""
    return max(0, min(first.end, second.end) - max(first.start, second.start))


class CrossfadeOverlap(_Planned):
    """Crossfade two overlapping clips of one track over exactly their overlap.

    The earlier clip's fade-out and the later clip's fade-in both become the overlap length, so
    the mixdown's equal-power fades (cos over sin) keep the level of uncorrelated material steady
    through the join instead of summing it. A fade at the clip's other end that would no longer
    fit is shortened. One clip lying wholly inside the other cannot be crossfaded (it has no
    side to fade from) and raises `EditError`.
    """

    def __init__(self, clip_a: str, clip_b: str):
        self.clip_a, self.clip_b = clip_a, clip_b
        self.text = "Crossfade overlap"

    def _planned(self, project: Project) -> list[Edit]:
        track_a, index_a = _locate_clip(project, self.clip_a)
        track_b, index_b = _locate_clip(project, self.clip_b)
        a, b = track_a.clips[index_a], track_b.clips[index_b]
        if a.id == b.id:
            raise EditError(f"crossfade needs two different clips, got {_clip_name(a)} twice")
        if track_a is not track_b:
            raise EditError(f"clips {_clip_name(a)} and {_clip_name(b)} are on different tracks "
                            f"({track_a.name!r}, {track_b.name!r}); only clips on one track crossfade")
        first, second = sorted((a, b), key=lambda c: (c.start, c.end))
        overlap = overlap_of(first, second)
        if overlap == 0:
            raise EditError(f"clips {_clip_name(first)} and {_clip_name(second)} do not overlap; "
                            f"move one over the other first")
        if second.start == first.start or second.end <= first.end:
            inner, outer = (second, first) if second.end <= first.end else (first, second)
            raise EditError(f"clip {_clip_name(inner)} lies wholly inside clip {_clip_name(outer)}; "
                            f"trim one so that each has a part outside the other")
        return [SetClipFades(first.id, fade_in=min(first.fade_in, first.length - overlap), fade_out=overlap),
                SetClipFades(second.id, fade_in=overlap, fade_out=min(second.fade_out, second.length - overlap))]


# ---------------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------------

_gesture_tokens = itertools.count(1)


def new_gesture_token() -> int:
    """A token no other gesture has: edits pushed with it merge into one undo step."""
    return next(_gesture_tokens)


class _Step(Compound):
    """One undo step made by a gesture: its edits, the token they came with, the gesture's text."""

    def __init__(self, text: str, children: Sequence[Edit], token: int):
        super().__init__(text, children)
        self.token = token

    def absorb(self, edit: Edit) -> None:
        """Take in a further, already applied edit of the same gesture (merged where the edit allows)."""
        if not (self.children and self.children[-1].merge_with(edit)):
            self.children.append(edit)


class History:
    """The undo/redo stack over one project: the editor's and the command line's.

    `push` applies an edit and records it (merging it into the previous step when they allow and
    `merge` is true). Two ways group edits into one step:

    - `transaction(text)`, a block: the edits pushed inside it become one step, and an exception
      undoes them all.
    - a gesture, for input that spans events (a mouse drag): `begin_gesture(text)` opens it and
      returns a token; each `push(edit, gesture=token)` applies at once (listeners hear of it, so
      views follow the drag) and merges into the gesture's step; `commit_gesture(token)` records
      the step (nothing if no edit was applied) and `cancel_gesture(token)` undoes every edit of
      the gesture, leaving no step. A token that was never begun (`new_gesture_token()`) works as
      a continuation: its edits merge into the top step while that step is still the one the
      token made.

    Only one gesture is open at a time. Anything else that records a step (a push without the
    token, a transaction, undo, redo, a new gesture) first commits the open gesture, so the undo
    stack is always in the order the edits were applied.

    `mark_clean` records the saved state; `is_dirty` says whether the project differs from it.
    Listeners (`add_listener`) run after every change of the project or the stack.
    """

    def __init__(self, project: Project, *, limit: int | None = None):
        self.project = project
        self.limit = limit
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []
        self._clean: int | None = 0       # len(self._undo) at the clean state; None: no longer reachable
        self._open: list[list[Edit]] = []  # edits done inside each open transaction, innermost last
        self._gesture: _Step | None = None  # the open gesture (its edits are applied, not yet recorded)
        self._listeners: list[Callable[[], None]] = []

    # -- state -----------------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return (bool(self._undo) or self._gesture_has_edits) and not self._open

    @property
    def can_redo(self) -> bool:
        return bool(self._redo) and not self._open and not self._gesture_has_edits

    @property
    def undo_text(self) -> str:
        if self._gesture_has_edits:
            return self._gesture.text
        return self._undo[-1].text if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1].text if self._redo else ""

    @property
    def index(self) -> int:
        """Number of steps that can be undone (the position in the stack, as in QUndoStack)."""
        return len(self._undo)

    @property
    def count(self) -> int:
        return len(self._undo) + len(self._redo)

    @property
    def is_dirty(self) -> bool:
        return self._clean != len(self._undo) or self._gesture_has_edits

    @property
    def gesture_open(self) -> bool:
        return self._gesture is not None

    def mark_clean(self) -> None:
        self._clean = len(self._undo)
        self._notify()

    def add_listener(self, callback: Callable[[], None]) -> None:
        """`callback()` runs after every push, undo, redo, gesture step and clean change."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.remove(callback)

    def clear(self) -> None:
        if self._open:
            raise RuntimeError("cannot clear the history inside a transaction")
        self._gesture = None               # its edits stay applied: the project is the new start
        self._clean = 0 if self._clean == len(self._undo) else None
        self._undo.clear()
        self._redo.clear()
        self._notify()

    # -- changes ---------------------------------------------------------------------------------
    def push(self, edit: Edit, *, merge: bool = True, gesture: int | None = None) -> None:
        """Apply `edit` to the project and record it; raises (leaving the project as it was) if invalid.

        With `gesture`, the edit joins that gesture's step (see the class notes).
        """
        if gesture is not None and not self._open:
            self._push_gesture(edit, gesture)
            return
        self._close_gesture()
        edit.do(self.project)
        if self._open:
            self._open[-1].append(edit)
            return
        self._record(edit, merge)
        self._notify()

    def undo(self) -> str:
        """Undo one step; returns its text."""
        self._check_no_transaction("undo")
        self._close_gesture()
        if not self._undo:
            raise ProjectError("nothing to undo")
        edit = self._undo.pop()
        edit.undo(self.project)
        self._redo.append(edit)
        self._notify()
        return edit.text

    def redo(self) -> str:
        self._check_no_transaction("redo")
        self._close_gesture()
        if not self._redo:
            raise ProjectError("nothing to redo")
        edit = self._redo.pop()
        edit.do(self.project)
        self._undo.append(edit)
        self._notify()
        return edit.text

    @contextmanager
    def transaction(self, text: str) -> Iterator[History]:
        """Group the edits pushed in the block into one undo step; an exception undoes them all."""
        self._close_gesture()
        self._open.append([])
        try:
            yield self
        except BaseException:
            for edit in reversed(self._open.pop()):
                edit.undo(self.project)
            raise
        done = self._open.pop()
        if not done:
            return
        step = Compound(text, done)
        if self._open:
            self._open[-1].append(step)
        else:
            self._record(step, merge=False)
            self._notify()

    # -- gestures --------------------------------------------------------------------------------
    def begin_gesture(self, text: str) -> int:
        """Open a gesture (a press); returns the token its edits are pushed with."""
        self._check_no_transaction("begin a gesture")
        self._close_gesture()
        token = new_gesture_token()
        self._gesture = _Step(text, [], token)
        return token

    def commit_gesture(self, token: int) -> None:
        """End the gesture (a release): its edits become one undo step, or none if there were none."""
        if self._gesture is not None and self._gesture.token == token:
            self._close_gesture()

    def cancel_gesture(self, token: int) -> None:
        """Abandon the gesture (Escape): undo every edit it applied; no undo step remains."""
        step = self._gesture
        if step is None or step.token != token:
            return
        self._gesture = None
        if step.children:
            step.undo(self.project)
            self._notify()

    # -- internals -------------------------------------------------------------------------------
    @property
    def _gesture_has_edits(self) -> bool:
        return self._gesture is not None and bool(self._gesture.children)

    def _push_gesture(self, edit: Edit, token: int) -> None:
        step = self._gesture
        if step is not None and step.token == token:
            edit.do(self.project)
            step.absorb(edit)
            self._notify()
            return
        self._close_gesture()              # another gesture's edit: the open one is over
        top = self._undo[-1] if self._undo and not self._redo else None
        edit.do(self.project)
        if isinstance(top, _Step) and top.token == token and self._clean != len(self._undo):
            top.absorb(edit)               # a continuation token: its step is still on top
        else:
            self._record(_Step(edit.text, [edit], token), merge=False)
        self._notify()

    def _close_gesture(self) -> None:
        step, self._gesture = self._gesture, None
        if step is not None and step.children:
            self._record(step, merge=False)
            self._notify()

    def _record(self, edit: Edit, merge: bool) -> None:
        if self._redo:
            if self._clean is not None and self._clean > len(self._undo):
                self._clean = None   # the saved state was on the branch being discarded
            self._redo.clear()
        # Merging into the step that reaches the saved state would change that state unseen.
        if merge and self._undo and self._clean != len(self._undo) and self._undo[-1].merge_with(edit):
            log.debug("merged %r into %r", edit, self._undo[-1])
            return
        self._undo.append(edit)
        if self.limit is not None and len(self._undo) > self.limit:
            del self._undo[0]
            if self._clean is not None:
                self._clean = self._clean - 1 if self._clean > 0 else None

    def _check_no_transaction(self, action: str) -> None:
        if self._open:
            raise RuntimeError(f"cannot {action} while a transaction is open")

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()


__all__ = [
    "DEFAULT_CROSSFADE", "EditError", "Edit", "Compound", "AddClip", "RemoveClip", "MoveClip", "TrimClip",
    "SplitClip", "SetClipGain", "SetClipFades", "AddTrack", "RemoveTrack", "MoveTrack", "SetTrackProps",
    "SetMixChannels", "AddMarker", "RemoveMarker", "MoveMarker", "AddTake", "RemoveTake", "SetTakeKept",
    "SetTakeGain", "ApplyTake", "RippleDelete", "CrossfadeOverlap", "overlap_of", "History", "new_gesture_token",
]
