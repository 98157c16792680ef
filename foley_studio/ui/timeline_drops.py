"""Drops on the timeline: library sounds and audio files from a file manager, with a ghost of where
they will land. Where and how they land is `core.planners.plan_drop`'s rule."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

from foley_studio.core import planners

from .mime import FileDrop, LibraryDrag, decode_library_drag, dropped_files, is_video_file, scan_audio_files

if TYPE_CHECKING:
    from .timeline_view import TimelineCanvas


def drop_sounds(items: list[LibraryDrag]) -> list[planners.DropSound]:
    return [planners.DropSound.from_seconds(item.path, item.name, item.span) for item in items]


class TimelineDrops:
    """The drag-and-drop handling of one canvas; `ghost` is (track row, start, length) while hovering."""

    def __init__(self, canvas: "TimelineCanvas"):
        self.canvas = canvas
        self.doc = canvas.doc
        self.ghost: tuple[int, int, int] | None = None
        self._file_scan: tuple[tuple[str, ...], FileDrop] | None = None   # probed files of the drag in progress

    def dragged_sounds(self, mime) -> FileDrop | None:
        """The sounds a drag carries: library items as they are, or local files (probed once per drag).

        None when the drag is not for the tracks: no sounds at all, or only videos (those go to the
        window, which offers them as the picture)."""
        items = decode_library_drag(mime)
        if items:
            return FileDrop(items, [])
        paths = dropped_files(mime)
        if not paths or all(is_video_file(p) for p in paths):
            return None
        key = tuple(str(p) for p in paths)
        if self._file_scan is None or self._file_scan[0] != key:
            self._file_scan = (key, scan_audio_files(paths))
        return self._file_scan[1]

    def enter(self, event: QDragEnterEvent) -> None:
        drop = self.dragged_sounds(event.mimeData())
        if drop is not None and drop.sounds:
            event.acceptProposedAction()
            return
        if drop is not None and drop.refused:        # refused here; say why instead of a silent no-entry cursor
            self.canvas.statusMessage.emit(f"Cannot drop: {drop.describe_refused()}")
        event.ignore()

    def move(self, event: QDragMoveEvent) -> None:
        drop = self.dragged_sounds(event.mimeData())
        pos = event.position()
        if drop is None or not drop.sounds or not self._on_lanes(pos.x(), pos.y()):
            self.ghost = None
            event.ignore()
        else:
            row, start = self.drop_target(pos.x(), pos.y())
            # The ghost spans every sound, as they will be placed: one after another.
            self.ghost = (row, start, planners.drop_length(drop_sounds(drop.sounds)))
            event.acceptProposedAction()
        self.canvas.update()

    def leave(self) -> None:
        self.ghost = None
        self.canvas.snap_guide = None
        self._file_scan = None
        self.canvas.update()

    def drop(self, event: QDropEvent) -> None:
        self.ghost = None
        self.canvas.snap_guide = None
        drop = self.dragged_sounds(event.mimeData())
        self._file_scan = None                        # the next drag probes its files afresh
        pos = event.position()
        added = drop is not None and bool(drop.sounds) and bool(self.drop_library_items(drop.sounds, pos.x(), pos.y()))
        if drop is not None and drop.refused:
            lead = "Skipped" if added else "Nothing added"
            self.canvas.statusMessage.emit(f"{lead} — {drop.describe_refused()}")
        if added:
            event.acceptProposedAction()
        else:
            event.ignore()
        self.canvas.update()

    def _on_lanes(self, x: float, y: float) -> bool:
        return x >= self.canvas.geo.header_width and y >= self.canvas.geo.tracks_top

    def drop_target(self, x: float, y: float) -> tuple[int, int]:
        """(track row, snapped start sample) for a drop at widget position (x, y)."""
        g = self.canvas.geo
        return planners.drop_row(self.doc.project, g.track_index_at(y)), self.canvas.snapped(max(0, g.time_at(x)))

    def drop_library_items(self, items: list[LibraryDrag], x: float, y: float) -> list[str]:
        """Add the dragged sounds at (x, y), one after another; a drop below the last track adds a track.

        Returns the new clip ids (one undo step for the whole drop)."""
        if not self._on_lanes(x, y):
            return []
        row, start = self.drop_target(x, y)
        plan = planners.plan_drop(self.doc.project, row, start, drop_sounds(items))
        if plan is None or not self.canvas.commands.apply(plan.edit):
            return []
        self.doc.select_clips(plan.clip_ids)
        first = self.doc.project.find_clip(plan.clip_ids[0])
        self.canvas.statusMessage.emit(f"{plan.text} at {self.canvas.clock.timecode(first.start)}")
        return plan.clip_ids
