"""The timeline's context menus: on a marker, a clip, a track header, or the empty lanes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu

from foley_studio.core.timebase import SAMPLE_RATE, format_seconds

if TYPE_CHECKING:
    from .timeline_view import TimelineCanvas


def context_menu(canvas: "TimelineCanvas", x: float, y: float) -> QMenu:
    """The menu for a right-click at (x, y); choosing what it is on may select that clip or track."""
    menu = QMenu(canvas)
    commands, hits, doc = canvas.commands, canvas.hits, canvas.doc
    if y < canvas.geo.ruler_height and (marker := hits.marker_at(x)) is not None:
        menu.addAction("Rename marker…", lambda: commands.rename_marker(marker.id))
        menu.addAction(f"Delete marker {marker.name}", lambda: commands.remove_marker(marker.id))
    elif (hit := hits.hit_clip(x, y)) is not None:
        clip = hit[0]
        if clip.id not in doc.selected_clips:
            doc.select_clips([clip.id])
        menu.addAction("Gain…", lambda: commands.edit_gain())
        menu.addAction("Split at playhead", commands.split_at_playhead)
        menu.addAction("Delete", commands.delete_selection)
        menu.addAction("Ripple delete", commands.ripple_delete)
        crossfade = menu.addAction("Crossfade overlap", commands.crossfade_overlap)
        crossfade.setEnabled(bool(commands.crossfade_pairs()))
        menu.addSeparator()
        source = clip.source.rsplit("/", 1)[-1]
        menu.addAction(f"{format_seconds(clip.length / SAMPLE_RATE)} of {source}").setEnabled(False)
    elif x < canvas.geo.header_width:
        menu.addAction("Add track", commands.add_track)
        if (track_hit := hits.track_at(y)) is not None:
            row, track = track_hit
            doc.select_track(track.id)
            menu.addAction("Rename…", lambda: commands.rename_track(track.id))
            up = menu.addAction("Move track up", lambda: commands.move_track(track.id, -1))
            up.setEnabled(row > 0)
            down = menu.addAction("Move track down", lambda: commands.move_track(track.id, 1))
            down.setEnabled(row < len(doc.project.tracks) - 1)
            menu.addAction("Remove track", lambda: commands.remove_track(track.id))
    else:
        menu.addAction("Add marker at playhead", commands.add_marker)
        menu.addAction("Add track", commands.add_track)
    return menu


def show_context_menu(canvas: "TimelineCanvas", x: float, y: float, global_pos: QPoint) -> None:
    context_menu(canvas, x, y).exec(global_pos)
