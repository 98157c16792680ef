"""Mouse gestures on the timeline, one tool object per gesture.

A press picks a tool (`tool_for_press`); the tool owns everything about its gesture until the
release: its state, the one undo step its edits make (`ProjectDocument.begin_gesture`), and its
cancel path (Escape undoes its edits and puts back the selection, region and playhead of before
the press). What a gesture may do to the project is `core.planners`' rule; tools only turn mouse
positions into times and rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from foley_studio.core import planners
from foley_studio.core.errors import FoleyError
from foley_studio.core.project import Clip

from .document import ProjectDocument
from .theme import TIMELINE as C
from .timeline_hits import Part

if TYPE_CHECKING:
    from .timeline_view import TimelineCanvas

DRAG_START_PX = 3


@dataclass(frozen=True)
class ViewState:
    """The view state a press may change (selection, selected track, region, playhead)."""

    clips: tuple[str, ...]
    track: str | None
    region: tuple[int, int] | None
    playhead: int

    @classmethod
    def of(cls, doc: ProjectDocument) -> "ViewState":
        return cls(tuple(doc.selected_clips), doc.selected_track, doc.region, doc.playhead)

    def restore(self, canvas: "TimelineCanvas") -> None:
        doc = canvas.doc
        doc.select_clips(list(self.clips))
        doc.select_track(self.track)
        doc.set_region(self.region)
        if doc.playhead != self.playhead:
            canvas.commands.seek(self.playhead)


class Tool:
    """One gesture from press to release; subclasses say what a drag step does."""

    text = ""                    # the undo step's name
    autoscroll = True            # whether dragging near an edge scrolls the time axis
    cursor: Qt.CursorShape | None = None

    def __init__(self, canvas: "TimelineCanvas", x: float, y: float, before: ViewState):
        self.canvas, self.doc, self.geo = canvas, canvas.doc, canvas.geo
        self.press_x, self.press_y = x, y
        self.press_time = max(0, self.geo.time_at(x))
        self.before = before
        self.started = False         # moved past DRAG_START_PX: a drag, not a click
        self.token = self.doc.begin_gesture(self.text)

    def move(self, x: float, y: float) -> None:
        if not self.started:
            if abs(x - self.press_x) < DRAG_START_PX and abs(y - self.press_y) < DRAG_START_PX:
                return
            self.started = True
        try:
            self.drag(max(0, self.geo.time_at(x)), y)
        except FoleyError as exc:
            self.canvas.statusMessage.emit(str(exc))

    def release(self, y: float) -> None:
        """The button came up: the gesture's edits become one undo step (a click makes none)."""
        if not self.started:
            self.click(y)
        self.doc.commit_gesture(self.token)

    def cancel(self) -> None:
        """Escape: undo this gesture's edits and restore the view state of before the press."""
        self.doc.cancel_gesture(self.token)
        self.before.restore(self.canvas)

    def drag(self, time: int, y: float) -> None:
        """One step of the drag, at timeline sample `time` and widget height `y`."""

    def click(self, y: float) -> None:
        """Released without dragging (at widget height `y`)."""

    def paint(self, p: QPainter) -> None:
        """Draw the gesture's own overlay, if it has one (clipped to the lanes)."""

    def apply(self, edit) -> None:
        self.canvas.commands.apply(edit, self.token)


class MoveTool(Tool):
    """Drag selected clips in time and across tracks; the grabbed clip's edges snap."""

    def __init__(self, canvas, x, y, before, clip_id: str):
        self.clip_id = clip_id
        self.plan = planners.ClipMove.of(canvas.doc.project, canvas.doc.selected_clips)
        self.text = self.plan.text
        super().__init__(canvas, x, y, before)
        self.press_row = self.geo.track_index_at(y)

    def drag(self, time: int, y: float) -> None:
        project = self.doc.project
        start, _row = self.plan.origin[self.clip_id]
        delta = self.plan.clamp_delta(time - self.press_time)
        snapper = self.canvas.snapper(exclude=set(self.plan.origin))
        snapped = snapper.snap_span(start + delta, project.find_clip(self.clip_id).length, self.geo.samples_per_pixel)
        self.canvas.snap_guide = snapped.target
        row_now = self.geo.track_index_at(y)
        row_delta = 0 if row_now is None or self.press_row is None else row_now - self.press_row
        self.apply(self.plan.edit(project, snapped.time - start, row_delta))


class _ClipEdgeTool(Tool):
    """A gesture on one edge of one clip ("left"/"right" for trims, "in"/"out" for fades)."""

    def __init__(self, canvas, x, y, before, clip_id: str, edge: str):
        super().__init__(canvas, x, y, before)
        self.clip_id, self.edge = clip_id, edge


class TrimTool(_ClipEdgeTool):
    """Drag a clip's left or right edge; the audio stays where it is on the timeline."""

    text = "Trim clip"

    def drag(self, time: int, y: float) -> None:
        clip = self.doc.project.find_clip(self.clip_id)
        new_time = self.canvas.snapped(time, exclude={clip.id})
        self.apply(planners.plan_trim(clip, self.edge, new_time, min_length=int(2 * self.geo.samples_per_pixel),
                                      source_length=self._source_length(clip)))

    def _source_length(self, clip: Clip) -> int | None:
        if clip.source_length:
            return int(clip.source_length)
        pyramid = self.canvas.waveforms.pyramid(clip.source)
        n = getattr(pyramid, "n_samples", None) if pyramid is not None else None
        return int(n) if n else None


class FadeTool(_ClipEdgeTool):
    """Drag a fade handle at a clip's top corner."""

    text = "Fade"

    def drag(self, time: int, y: float) -> None:
        self.apply(planners.plan_fade(self.doc.project.find_clip(self.clip_id), self.edge, time))


class RegionTool(Tool):
    """Drag out the in/out region from the press point; a click clears it (and, off the ruler, seeks)."""

    def __init__(self, canvas, x, y, before, *, seek: bool):
        super().__init__(canvas, x, y, before)
        self.press_time = canvas.snapped(self.press_time)
        if seek:
            canvas.commands.seek(self.press_time)

    def drag(self, time: int, y: float) -> None:
        self.doc.set_region((self.press_time, self.canvas.snapped(time)))

    def click(self, y: float) -> None:
        self.doc.set_region(None)
        if y >= self.geo.ruler_height:
            self.canvas.commands.seek(self.press_time)


class MarkerTool(Tool):
    """Drag a marker along the ruler; a click on it (no drag) puts the playhead on it."""

    text = "Move marker"

    def __init__(self, canvas, x, y, before, marker_id: str):
        super().__init__(canvas, x, y, before)
        self.marker_id = marker_id

    def drag(self, time: int, y: float) -> None:
        self.apply(planners.plan_move_marker(self.marker_id, self.canvas.snapped(time)))

    def click(self, y: float) -> None:
        # A click in the ruler seeks; one that lands within grabbing distance of a marker seeks to
        # the marker itself (what a click there means), and clears the region as any ruler click.
        marker = next((m for m in self.doc.project.markers if m.id == self.marker_id), None)
        self.doc.set_region(None)
        self.canvas.commands.seek(marker.time if marker is not None else self.press_time)


class BandTool(Tool):
    """Ctrl/Shift-drag on empty lanes: a rubber band adds the clips it touches to the selection."""

    def __init__(self, canvas, x, y, before):
        super().__init__(canvas, x, y, before)
        self.base = list(self.doc.selected_clips)
        self.band: QRectF | None = None

    def drag(self, time: int, y: float) -> None:
        g = self.geo
        x = g.x_of(time)
        self.band = QRectF(QPointF(min(self.press_x, x), min(self.press_y, y)),
                           QPointF(max(self.press_x, x), max(self.press_y, y)))
        rows = (g.track_index_at(self.press_y) or 0, g.track_index_at(max(y, g.tracks_top)) or 0)
        hits = planners.clips_in_band(self.doc.project, rows, self.press_time, time)
        self.doc.select_clips(self.base + [h for h in hits if h not in self.base])

    def paint(self, p: QPainter) -> None:
        if self.band is not None:
            p.setPen(QPen(QColor(C.clip_border), 1, Qt.DashLine))
            p.setBrush(QColor(128, 196, 228, 40))
            p.drawRect(self.band)


class TrackTool(Tool):
    """Drag a track header up or down: the track takes the row under the mouse."""

    text = "Move track"
    autoscroll = False               # a header drag is vertical: never scroll the time axis

    def __init__(self, canvas, x, y, before, track_id: str):
        super().__init__(canvas, x, y, before)
        self.track_id = track_id

    def drag(self, time: int, y: float) -> None:
        self.canvas.setCursor(Qt.ClosedHandCursor)
        self.apply(planners.plan_track_to_row(self.doc.project, self.track_id, self.geo.track_index_at(y)))


class PlayheadTool(Tool):
    """Drag the playhead's handle in the ruler: each new position is a seek, so the window scrubs."""

    cursor = Qt.SizeHorCursor

    def drag(self, time: int, y: float) -> None:
        # Snapping is that of a click in the ruler, less the playhead's own position (the point
        # being dragged would otherwise hold it in place); 0 is always a point.
        result = self.canvas.snapper(playhead=0).snap(time, self.geo.samples_per_pixel)
        self.canvas.snap_guide = result.target
        if result.time != self.doc.playhead:
            self.canvas.commands.seek(result.time)


def tool_for_press(canvas: "TimelineCanvas", x: float, y: float, extend: bool) -> Tool | None:
    """The tool a left press at (x, y) starts (`extend`: Ctrl or Shift held); None for a press
    that is complete in itself (a header toggle, a Ctrl-click that deselects)."""
    g, hits, doc = canvas.geo, canvas.hits, canvas.doc
    before = ViewState.of(doc)
    if x < g.header_width:
        return _press_header(canvas, x, y, before)
    if y < g.ruler_height:
        if hits.on_playhead_handle(x, y):         # grabbing it does not move it; dragging scrubs
            return PlayheadTool(canvas, x, y, before)
        if (marker := hits.marker_at(x)) is not None:
            return MarkerTool(canvas, x, y, before, marker.id)
        return RegionTool(canvas, x, y, before, seek=True)
    if g.has_video and y < g.tracks_top:
        return RegionTool(canvas, x, y, before, seek=True)
    hit = hits.hit_clip(x, y)
    if hit is None:
        if (track := hits.track_at(y)) is not None:
            doc.select_track(track[1].id)
        if extend:
            return BandTool(canvas, x, y, before)
        doc.select_clips([])
        return RegionTool(canvas, x, y, before, seek=False)
    clip, _track, part = hit
    if extend:
        doc.select_clips(planners.toggled_selection(doc.selected_clips, clip.id))
        if clip.id not in doc.selected_clips:
            return None
    elif clip.id not in doc.selected_clips:
        doc.select_clips([clip.id])
    if part is Part.BODY:
        return MoveTool(canvas, x, y, before, clip.id)
    if part in (Part.LEFT, Part.RIGHT):
        return TrimTool(canvas, x, y, before, clip.id, part.value)
    return FadeTool(canvas, x, y, before, clip.id, "in" if part is Part.FADE_IN else "out")


def _press_header(canvas: "TimelineCanvas", x: float, y: float, before: ViewState) -> Tool | None:
    hit = canvas.hits.track_at(y)
    if hit is None:
        return None
    track = hit[1]
    canvas.doc.select_track(track.id)
    if (prop := canvas.hits.header_button_at(x, y)) is not None:
        canvas.commands.toggle_track(track.id, prop)
        return None
    # Anywhere else on the header: dragging it up or down reorders the tracks.
    return TrackTool(canvas, x, y, before, track.id)


__all__ = ["BandTool", "FadeTool", "MarkerTool", "MoveTool", "PlayheadTool", "RegionTool", "Tool", "TrackTool",
           "TrimTool", "ViewState", "tool_for_press"]
