"""The timeline's editing rules: what a command or a drag should do to a project, as `edits`.

Each planner reads the project (never changes it) and returns the edit to apply, or None when
there is nothing to do; the caller applies it (one undo step, or one step of a drag). The editor's
tools and menus, the CLI and tests share these, so a rule exists once: which ranges a ripple delete
removes, which clip pairs a crossfade joins, where a drop lands, how far a move or a trim may go.
All times are int samples at 48 kHz.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from .edits import (AddClip, AddMarker, AddTrack, Compound, CrossfadeOverlap, Edit, MoveClip, MoveMarker,
                    MoveTrack, RemoveClip, RemoveMarker, RippleDelete, SetClipFades, SetClipGain, SetTrackProps,
                    SplitClip, TrimClip)
from .project import Clip, Marker, Project, Track, new_id
from .timebase import SAMPLE_RATE

MIN_CLIP_SAMPLES = 64       # a trim never leaves a clip shorter than this (however far zoomed in)
GAIN_STEP_DB = 0.5          # one wheel notch of clip or track gain
FADER_RANGE_DB = (-96.0, 12.0)   # a track fader's travel: -96 dB reads as off, +12 dB of boost


def _one_or_compound(edits: Sequence[Edit], text: str) -> Edit | None:
    if not edits:
        return None
    return edits[0] if len(edits) == 1 else Compound(text, edits)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


# ---------------------------------------------------------------------------------------------
# Ripple delete
# ---------------------------------------------------------------------------------------------

def ripple_ranges(project: Project, clip_ids: Sequence[str], region: tuple[int, int] | None,
                  track_id: str | None) -> list[tuple[str, int, int]]:
    """(track id, start, end) spans to take out: each selected clip's span on its own track
    (touching or overlapping spans merged), else the region on the given track. Latest first on
    each track, so the earlier ranges are still valid after the later ones closed their gaps."""
    if not clip_ids:
        if region and track_id:
            a, b = sorted(region)
            return [(track_id, a, b)] if b > a else []
        return []
    per_track: dict[str, list[tuple[int, int]]] = {}
    for clip_id in clip_ids:
        clip = project.find_clip(clip_id)
        per_track.setdefault(project.track_of_clip(clip_id).id, []).append((clip.start, clip.end))
    ranges: list[tuple[str, int, int]] = []
    for tid, spans in per_track.items():
        merged: list[list[int]] = []
        for a, b in sorted(spans):
            if merged and a <= merged[-1][1]:        # touching or overlapping: one range
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        ranges += [(tid, a, b) for a, b in reversed(merged)]
    return ranges


def plan_ripple_delete(project: Project, clip_ids: Sequence[str], region: tuple[int, int] | None,
                       track_id: str | None) -> Edit | None:
    """Remove the selected clips' time (or the region, on the track) and close the gap: one step."""
    ranges = ripple_ranges(project, clip_ids, region, track_id)
    if not ranges:
        return None
    text = f"Ripple delete {_plural(len(clip_ids), 'clip')}" if clip_ids else "Ripple delete region"
    edit = _one_or_compound([RippleDelete(tid, a, b) for tid, a, b in ranges], text)
    edit.text = text
    return edit


# ---------------------------------------------------------------------------------------------
# Crossfades
# ---------------------------------------------------------------------------------------------

def crossfadable(a: Clip, b: Clip) -> bool:
    """Two clips that overlap with each having a part outside the other (what CrossfadeOverlap takes)."""
    first, second = sorted((a, b), key=lambda c: (c.start, c.end))
    return second.start < first.end and first.start < second.start and first.end < second.end


def crossfade_pairs(project: Project, clip_ids: Sequence[str], pointed: str | None = None) -> list[tuple[str, str]]:
    """Overlapping clip pairs to crossfade: among the selected clips (two or more, per track), else
    between the selected clip, or the clip pointed at, and every clip on its track it overlaps."""
    selected = [project.find_clip(c) for c in clip_ids]
    if len(selected) >= 2:
        by_track: dict[str, list[Clip]] = {}
        for clip in selected:
            by_track.setdefault(project.track_of_clip(clip.id).id, []).append(clip)
        pairs = []
        for clips in by_track.values():
            clips.sort(key=lambda c: (c.start, c.end))
            pairs += [(a.id, b.id) for i, a in enumerate(clips) for b in clips[i + 1:] if crossfadable(a, b)]
        return pairs
    clip_id = selected[0].id if selected else pointed
    if clip_id is None:
        return []
    clip = project.find_clip(clip_id)
    return [(clip.id, other.id) for other in project.track_of_clip(clip.id).clips
            if other.id != clip.id and crossfadable(clip, other)]


def plan_crossfade(pairs: Sequence[tuple[str, str]]) -> Edit | None:
    return _one_or_compound([CrossfadeOverlap(a, b) for a, b in pairs], f"Crossfade {len(pairs)} overlaps")


# ---------------------------------------------------------------------------------------------
# Drops
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DropSound:
    """A sound dropped on the timeline: samples [source_in, source_out) of `path`."""

    path: str
    name: str
    source_in: int
    source_out: int

    @classmethod
    def from_seconds(cls, path: str, name: str, span: tuple[float, float]) -> "DropSound":
        a, b = span
        return cls(path, name, int(round(a * SAMPLE_RATE)), int(round(b * SAMPLE_RATE)))

    @property
    def length(self) -> int:
        return self.source_out - self.source_in


@dataclass
class DropPlan:
    edit: Edit
    clip_ids: list[str]          # the new clips, in drop order
    text: str


def drop_row(project: Project, row: int | None) -> int:
    """The track row a drop at `row` goes to; len(tracks) (below the last) means a new track."""
    return min(row if row is not None and row >= 0 else 0, len(project.tracks))


def drop_length(sounds: Iterable[DropSound]) -> int:
    """The span the dropped sounds will fill, placed one after another."""
    return sum(s.length for s in sounds)


def plan_drop(project: Project, row: int, start: int, sounds: Sequence[DropSound]) -> DropPlan | None:
    """Clips for the sounds from `start`, one after another, on track `row` (a new track below the
    last one when `row` is past it): one undo step for the whole drop."""
    if not sounds:
        return None
    children: list[Edit] = []
    row = drop_row(project, row)
    if row >= len(project.tracks):
        track = new_track(project)
        children.append(AddTrack(track))
        track_id = track.id
    else:
        track_id = project.tracks[row].id
    clip_ids = []
    for sound in sounds:
        clip = Clip(id=new_id("clip"), source=sound.path, start=max(0, start), source_in=sound.source_in,
                    source_out=sound.source_out, name=sound.name)
        children.append(AddClip(track_id, clip))
        clip_ids.append(clip.id)
        start = clip.end
    text = f"Add {sounds[0].name}" if len(sounds) == 1 else f"Add {len(sounds)} sounds"
    return DropPlan(_one_or_compound(children, text), clip_ids, text)


# ---------------------------------------------------------------------------------------------
# Clip gestures: move, trim, fade
# ---------------------------------------------------------------------------------------------

@dataclass
class ClipMove:
    """Clips dragged together by one time and track offset from where they were at the press."""

    origin: dict[str, tuple[int, int]]     # clip id -> (start, track row) at the press

    @classmethod
    def of(cls, project: Project, clip_ids: Iterable[str]) -> "ClipMove":
        rows = {t.id: i for i, t in enumerate(project.tracks)}
        return cls({c: (project.find_clip(c).start, rows[project.track_of_clip(c).id]) for c in clip_ids})

    def clamp_delta(self, delta: int) -> int:
        """No clip of the group goes before time zero."""
        return max(delta, -min(start for start, _ in self.origin.values()))

    def clamp_rows(self, row_delta: int, n_tracks: int) -> int:
        """The group stays on existing tracks."""
        rows = [row for _, row in self.origin.values()]
        return max(-min(rows), min(row_delta, n_tracks - 1 - max(rows)))

    def edit(self, project: Project, delta: int, row_delta: int) -> Edit | None:
        """The moves that bring every clip to its origin + (delta, row_delta), clamped."""
        delta = self.clamp_delta(delta)
        row_delta = self.clamp_rows(row_delta, len(project.tracks))
        moves: list[Edit] = []
        for clip_id, (start, row) in self.origin.items():
            clip = project.find_clip(clip_id)
            target = project.tracks[row + row_delta].id
            current = project.track_of_clip(clip_id).id
            if clip.start != start + delta or current != target:
                moves.append(MoveClip(clip_id, start + delta, target if target != current else None))
        return _one_or_compound(moves, f"Move {len(moves)} clips")

    @property
    def text(self) -> str:
        n = len(self.origin)
        return "Move clip" if n == 1 else f"Move {n} clips"


def plan_trim(clip: Clip, edge: str, new_time: int, *, min_length: int = 0,
              source_length: int | None = None) -> Edit | None:
    """Move the clip's `edge` ("left" | "right") towards `new_time`: never past the start of its
    source (or its end, when known) nor closer than `min_length` to the other edge."""
    min_length = max(min_length, MIN_CLIP_SAMPLES)
    if edge == "left":
        new_time = min(max(new_time, clip.start - clip.source_in), clip.end - min_length)
        return TrimClip(clip.id, "left", new_time) if new_time != clip.start else None
    new_time = max(new_time, clip.start + min_length)
    if source_length is not None:
        new_time = min(new_time, clip.start + source_length - clip.source_in)
    return TrimClip(clip.id, "right", new_time) if new_time != clip.end else None


def plan_fade(clip: Clip, edge: str, time: int) -> Edit | None:
    """Drag the fade-in ("in") or fade-out ("out") handle to timeline `time`; the two fades never cross."""
    if edge == "in":
        value = min(max(0, time - clip.start), clip.length - clip.fade_out)
        return SetClipFades(clip.id, fade_in=value) if value != clip.fade_in else None
    value = min(max(0, clip.end - time), clip.length - clip.fade_in)
    return SetClipFades(clip.id, fade_out=value) if value != clip.fade_out else None


def toggled_selection(selected: Sequence[str], clip_id: str) -> list[str]:
    """Ctrl/Shift-click: the clip joins the selection, or leaves it when it was in."""
    ids = [c for c in selected if c != clip_id]
    return ids if clip_id in selected else ids + [clip_id]


def clips_in_band(project: Project, rows: tuple[int, int], start: int, end: int) -> list[str]:
    """Clips on track rows [rows[0], rows[1]] that overlap [start, end) (a rubber band)."""
    lo, hi = sorted(rows)
    a, b = sorted((start, end))
    return [c.id for row, t in enumerate(project.tracks) if lo <= row <= hi for c in t.clips if c.end > a and c.start < b]


# ---------------------------------------------------------------------------------------------
# Clip commands
# ---------------------------------------------------------------------------------------------

def plan_split(project: Project, at: int, clip_ids: Sequence[str], track_id: str | None) -> Edit | None:
    """Split the selected clips under `at`, else every clip of the track under it."""
    clips = [c for c in (project.find_clip(i) for i in clip_ids) if c.start < at < c.end]
    if not clips and track_id:
        clips = [c for c in project.track(track_id).clips if c.start < at < c.end]
    return _one_or_compound([SplitClip(c.id, at) for c in clips], f"Split {len(clips)} clips")


def plan_delete(clip_ids: Sequence[str]) -> Edit | None:
    return _one_or_compound([RemoveClip(c) for c in clip_ids], f"Delete {len(clip_ids)} clips")


def plan_gain(clip_ids: Sequence[str], gain_db: float) -> Edit | None:
    return _one_or_compound([SetClipGain(c, gain_db) for c in clip_ids], f"Gain of {len(clip_ids)} clips")


def plan_gain_step(project: Project, notches: int, *, clip_id: str | None = None,
                   track_id: str | None = None) -> Edit:
    """Wheel notches of GAIN_STEP_DB on a clip's gain, or on a track's."""
    if clip_id is not None:
        clip = project.find_clip(clip_id)
        return SetClipGain(clip.id, round(clip.gain_db + notches * GAIN_STEP_DB, 2))
    track = project.track(track_id)
    return SetTrackProps(track.id, gain_db=round(track.gain_db + notches * GAIN_STEP_DB, 2))


def plan_nudge(clips: Sequence[Clip], frames: int, fps: Fraction) -> Edit | None:
    """Move clips together by whole video frames, stopping at time zero."""
    if not clips or frames == 0:
        return None
    delta = max(round(frames * SAMPLE_RATE / float(fps)), -min(c.start for c in clips))
    if delta == 0:
        return None
    moves = [MoveClip(c.id, c.start + delta) for c in clips]
    frame_word = f"frame{'s' if abs(frames) > 1 else ''}"
    return _one_or_compound(moves, f"Nudge {_plural(len(moves), 'clip')} {frames:+d} {frame_word}")


# ---------------------------------------------------------------------------------------------
# Markers, tracks, region
# ---------------------------------------------------------------------------------------------

def plan_add_marker(project: Project, at: int) -> Edit:
    return AddMarker(Marker(id=new_id("marker"), time=at, name=f"M{len(project.markers) + 1}"))


def plan_move_marker(marker_id: str, time: int) -> Edit:
    return MoveMarker(marker_id, max(0, time))


def plan_rename_marker(project: Project, marker_id: str, name: str) -> Edit | None:
    marker = next((m for m in project.markers if m.id == marker_id), None)
    name = name.strip()
    if marker is None or name == marker.name:
        return None
    renamed = Marker(id=marker.id, time=marker.time, name=name)
    return Compound(f"Rename marker {marker.name}", [RemoveMarker(marker.id), AddMarker(renamed)])


def new_track(project: Project) -> Track:
    return Track(id=new_id("track"), name=f"Foley {len(project.tracks) + 1}")


def plan_add_track(project: Project) -> Edit:
    return AddTrack(new_track(project))


def plan_rename_track(project: Project, track_id: str, name: str) -> Edit | None:
    name = name.strip()
    track = project.track(track_id)
    return SetTrackProps(track_id, name=name) if name and name != track.name else None


def plan_fader(project: Project, track_id: str, gain_db: float) -> Edit | None:
    """A track fader moved to `gain_db` (clamped to FADER_RANGE_DB, 0.1 dB steps); None when unchanged."""
    lo, hi = FADER_RANGE_DB
    gain_db = round(min(max(float(gain_db), lo), hi), 1)
    if project.track(track_id).gain_db == gain_db:
        return None
    return SetTrackProps(track_id, gain_db=gain_db)


def plan_pan(project: Project, track_id: str, pan: float) -> Edit | None:
    """A track's pan set to `pan` (clamped to -1..+1, steps of 0.01); None when unchanged."""
    pan = round(min(max(float(pan), -1.0), 1.0), 2)
    if project.track(track_id).pan == pan:
        return None
    return SetTrackProps(track_id, pan=pan)


def plan_toggle(project: Project, track_id: str, prop: str) -> Edit:
    """Flip a track's "mute" or "solo"."""
    if prop not in ("mute", "solo"):
        raise ValueError(f"a track toggles 'mute' or 'solo', not {prop!r}")
    return SetTrackProps(track_id, **{prop: not getattr(project.track(track_id), prop)})


def plan_move_track(project: Project, track_id: str, delta: int) -> Edit | None:
    """Move a track `delta` rows (negative: up); None when it is already at that end (or unknown)."""
    index = next((i for i, t in enumerate(project.tracks) if t.id == track_id), None)
    if index is None:
        return None
    return plan_track_to_row(project, track_id, index + delta)


def plan_track_to_row(project: Project, track_id: str, row: int | None) -> Edit | None:
    """The track takes row `row` (clamped to the tracks there are); None when it is there already."""
    tracks = project.tracks
    current = next((i for i, t in enumerate(tracks) if t.id == track_id), None)
    target = min(max(row if row is not None else 0, 0), len(tracks) - 1)
    return MoveTrack(track_id, target) if current is not None and target != current else None


def region_with_in(region: tuple[int, int] | None, at: int, content_end: int) -> tuple[int, int]:
    """The region after "set in" at `at`: its out point kept (the end of the content when none)."""
    end = region[1] if region else content_end
    return at, max(end, at + 1)


def region_with_out(region: tuple[int, int] | None, at: int) -> tuple[int, int]:
    """The region after "set out" at `at`: its in point kept (time zero when none)."""
    start = region[0] if region else 0
    return min(start, at), at
