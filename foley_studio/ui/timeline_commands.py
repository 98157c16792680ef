"""What the timeline's menus, shortcuts and wheel do: a `core.planners` plan applied to the document.

Each command asks a planner what to do, applies it as one undo step and says in the status bar
when there is nothing to do or the edit was refused. Dialogs (gain, rename) are asked here, never
in the planners.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QInputDialog

from foley_studio.core import planners
from foley_studio.core.edits import RemoveMarker, RemoveTrack, overlap_of
from foley_studio.core.errors import FoleyError
from foley_studio.core.timebase import SAMPLE_RATE

if TYPE_CHECKING:
    from .timeline_view import TimelineCanvas


class TimelineCommands:
    """The editing commands of one canvas (its document, selection, playhead and pointer)."""

    def __init__(self, canvas: "TimelineCanvas"):
        self.canvas = canvas
        self.doc = canvas.doc

    def _say(self, message: str) -> None:
        self.canvas.statusMessage.emit(message)

    def apply(self, edit, gesture: int | None = None) -> bool:
        """Apply `edit` (under a drag's `gesture` token, if any); a refused edit is reported, not raised."""
        if edit is None:
            return False
        try:
            self.doc.apply(edit, gesture=gesture)
            return True
        except (FoleyError, KeyError, ValueError) as exc:
            self._say(f"{edit.text}: {exc}")
            return False

    def seek(self, samples: int) -> None:
        """Move the playhead; the window moves playback and the picture with it."""
        self.doc.set_playhead(samples)
        self.canvas.seekRequested.emit(samples)

    def step_playhead(self, sign: int, *, by_second: bool = False) -> None:
        """One video frame (or one second) left or right."""
        if by_second:
            self.seek(max(0, self.doc.playhead + sign * SAMPLE_RATE))
            return
        clock = self.canvas.clock
        self.seek(clock.sample_of_frame(max(0, clock.frame_at_sample(self.doc.playhead) + sign)))

    # -- clips ---------------------------------------------------------------------------------
    def split_at_playhead(self) -> None:
        edit = planners.plan_split(self.doc.project, self.doc.playhead, self.doc.selected_clips, self.doc.selected_track)
        if edit is None:
            self._say("Split: no clip under the playhead on the selected track")
            return
        self.apply(edit)

    def delete_selection(self) -> None:
        self.apply(planners.plan_delete(self.doc.selected_clips))

    def ripple_delete(self) -> bool:
        """Remove the selected clips' time (or the region, on the selected track) and close the gap.

        With clips selected, each one's span is taken out of its own track and later clips on that
        track move left; other tracks and the markers stay. Without, the in/out region is taken out
        of the selected track. One undo step either way.
        """
        edit = planners.plan_ripple_delete(self.doc.project, self.doc.selected_clips, self.doc.region,
                                           self.doc.selected_track)
        if edit is None:
            self._say("Ripple delete: select clips, or a region and a track")
            return False
        return self.apply(edit)

    def crossfade_pairs(self) -> list[tuple[str, str]]:
        hit = self.canvas.hovered_clip()
        return planners.crossfade_pairs(self.doc.project, self.doc.selected_clips, hit.id if hit else None)

    def crossfade_overlap(self) -> bool:
        """Set the fades of overlapping clips to their overlap (X): an equal-power crossfade."""
        pairs = self.crossfade_pairs()
        edit = planners.plan_crossfade(pairs)
        if edit is None:
            self._say("Crossfade: select two overlapping clips on one track, "
                      "or point at a clip that overlaps a neighbour")
            return False
        if not self.apply(edit):
            return False
        first, second = (self.doc.project.find_clip(c) for c in pairs[0])
        self._say(f"{edit.text}: {overlap_of(first, second) / SAMPLE_RATE * 1000:.0f} ms")
        return True

    def edit_gain(self, clip_id: str | None = None) -> None:
        ids = [clip_id] if clip_id else list(self.doc.selected_clips)
        if not ids:
            return
        first = self.doc.project.find_clip(ids[0])
        value, ok = QInputDialog.getDouble(self.canvas, "Clip gain", "Gain (dB):", first.gain_db, -60.0, 24.0, 1)
        if ok:
            self.apply(planners.plan_gain(ids, value))

    def gain_step(self, x: float, y: float, notches: int) -> None:
        """Alt+wheel: steps of clip gain under the mouse, or of track gain over its header."""
        hits = self.canvas.hits
        track = hits.track_at(y)
        if x < self.canvas.geo.header_width and track is not None:
            self.apply(planners.plan_gain_step(self.doc.project, notches, track_id=track[1].id))
        elif (hit := hits.hit_clip(x, y)) is not None:
            self.apply(planners.plan_gain_step(self.doc.project, notches, clip_id=hit[0].id))

    def nudge_selection(self, frames: int) -> None:
        """Move the selected clips by whole video frames (one undo step; stops at time zero)."""
        self.apply(planners.plan_nudge(self.doc.selected_clip_objects(), frames, self.canvas.clock.fps))

    def select_all(self) -> None:
        self.doc.select_clips([c.id for t in self.doc.project.tracks for c in t.clips])

    # -- markers and the region ------------------------------------------------------------------
    def add_marker(self) -> None:
        self.apply(planners.plan_add_marker(self.doc.project, self.doc.playhead))

    def remove_marker(self, marker_id: str) -> None:
        self.apply(RemoveMarker(marker_id))

    def rename_marker(self, marker_id: str) -> None:
        marker = next((m for m in self.doc.project.markers if m.id == marker_id), None)
        if marker is None:
            return
        name, ok = QInputDialog.getText(self.canvas, "Rename marker", "Name:", text=marker.name)
        if ok:
            self.apply(planners.plan_rename_marker(self.doc.project, marker_id, name))

    def set_in(self) -> None:
        self.doc.set_region(planners.region_with_in(self.doc.region, self.doc.playhead, self.canvas.content_length()))

    def set_out(self) -> None:
        self.doc.set_region(planners.region_with_out(self.doc.region, self.doc.playhead))

    # -- tracks ------------------------------------------------------------------------------------
    def add_track(self) -> None:
        self.apply(planners.plan_add_track(self.doc.project))

    def remove_track(self, track_id: str) -> None:
        self.apply(RemoveTrack(track_id))

    def remove_selected_track(self) -> None:
        if self.doc.selected_track:
            self.remove_track(self.doc.selected_track)

    def rename_track(self, track_id: str) -> None:
        track = self.doc.project.track(track_id)
        name, ok = QInputDialog.getText(self.canvas, "Rename track", "Name:", text=track.name)
        if ok:
            self.apply(planners.plan_rename_track(self.doc.project, track_id, name))

    def toggle_track(self, track_id: str, prop: str) -> None:
        self.apply(planners.plan_toggle(self.doc.project, track_id, prop))

    def move_track(self, track_id: str, delta: int) -> bool:
        """Move a track `delta` rows (negative: up); False when it is already at that end."""
        tracks = self.doc.project.tracks
        index = next((i for i, t in enumerate(tracks) if t.id == track_id), None)
        if index is None:
            return False
        edit = planners.plan_move_track(self.doc.project, track_id, delta)
        if edit is None:
            self._say(f"Track {tracks[index].name!r} is already the {'top' if delta < 0 else 'bottom'} track")
            return False
        return self.apply(edit)

    def move_selected_track(self, delta: int) -> bool:
        return bool(self.doc.selected_track) and self.move_track(self.doc.selected_track, delta)
