"""Hit-testing the timeline: which clip, clip part, marker, header button or playhead is under a point.

Widget coordinates in, project objects out; the painter draws with the same rectangles, so what
looks grabbable is what is grabbed.
"""
from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QPointF, QRectF

from foley_studio.core.project import Clip, Marker, Track

from .document import ProjectDocument
from .timeline_model import TimelineGeometry

EDGE_PX = 6          # grab zone for trimming at each clip edge
FADE_HANDLE_PX = 7   # square fade handles at the top corners
PLAYHEAD_GRAB_PX = 5  # half-width of the playhead's grab zone in the ruler
PLAYHEAD_HEAD_PX = 9  # height of the playhead's triangle (its handle) at the top of the ruler
MARKER_GRAB_PX = 5
HEADER_BUTTONS = ("mute", "solo")   # the toggles at the bottom left of each track header


class Part(Enum):
    BODY = "body"
    LEFT = "left"
    RIGHT = "right"
    FADE_IN = "fade_in"
    FADE_OUT = "fade_out"


class TimelineHits:
    """Geometry of drawn things, and what lies under a widget position."""

    def __init__(self, document: ProjectDocument, geometry: TimelineGeometry):
        self.doc = document
        self.geo = geometry

    def clip_rect(self, clip: Clip, row: int) -> QRectF:
        g = self.geo
        x0, x1 = g.x_of(clip.start), g.x_of(clip.end)
        return QRectF(x0, g.track_top(row) + 2, max(x1 - x0, 1.0), g.track_height - 4)

    def button_rect(self, row: int, index: int) -> QRectF:
        """The header's `index`-th toggle (HEADER_BUTTONS) of track `row`."""
        top = self.geo.track_top(row)
        return QRectF(10 + index * 26, top + self.geo.track_height - 26, 22, 18)

    def track_at(self, y: float) -> tuple[int, Track] | None:
        """(row, track) under y, or None above the tracks or below the last one."""
        row = self.geo.track_index_at(y)
        tracks = self.doc.project.tracks
        return (row, tracks[row]) if row is not None and row < len(tracks) else None

    def header_button_at(self, x: float, y: float) -> str | None:
        """"mute" or "solo" when (x, y) is on that toggle of a track header."""
        hit = self.track_at(y)
        if hit is None:
            return None
        return next((prop for i, prop in enumerate(HEADER_BUTTONS)
                     if self.button_rect(hit[0], i).contains(QPointF(x, y))), None)

    def hit_clip(self, x: float, y: float) -> tuple[Clip, Track, Part] | None:
        """The clip under (x, y) and the part grabbed: a fade handle, an edge, or the body."""
        hit = self.track_at(y)
        if hit is None or x < self.geo.header_width:
            return None
        row, track = hit
        t = self.geo.time_at(x)
        slack = EDGE_PX * self.geo.samples_per_pixel
        for clip in reversed(track.clips):           # topmost (last drawn) first
            if clip.start - slack <= t < clip.end + slack:
                part = self._part(clip, self.clip_rect(clip, row), x, y, t)
                if part is not None:
                    return clip, track, part
        return None

    def _part(self, clip: Clip, rect: QRectF, x: float, y: float, t: int) -> Part | None:
        in_fade_band = y - rect.top() <= FADE_HANDLE_PX + 3 and rect.width() > 4 * FADE_HANDLE_PX
        if in_fade_band and abs(x - self.geo.x_of(clip.start + clip.fade_in)) <= FADE_HANDLE_PX:
            return Part.FADE_IN
        if in_fade_band and abs(x - self.geo.x_of(clip.end - clip.fade_out)) <= FADE_HANDLE_PX:
            return Part.FADE_OUT
        if rect.width() > 3 * EDGE_PX:
            if x - rect.left() <= EDGE_PX:
                return Part.LEFT
            if rect.right() - x <= EDGE_PX:
                return Part.RIGHT
        return Part.BODY if clip.contains(t) else None

    def on_playhead_handle(self, x: float, y: float) -> bool:
        """Whether (x, y) grabs the playhead: in the ruler, within a few px of its line.

        A marker sitting under the playhead (markers are often added at it) keeps the lower part of
        the ruler, where its flag is drawn; the triangle at the top always grabs the playhead."""
        g = self.geo
        if not 0 <= y < g.ruler_height or x < g.header_width:
            return False
        head_x = g.x_of(self.doc.playhead)
        if head_x < g.header_width or abs(x - head_x) > PLAYHEAD_GRAB_PX:   # scrolled off: not drawn, not grabbed
            return False
        return y <= PLAYHEAD_HEAD_PX + 3 or self.marker_at(x) is None

    def marker_at(self, x: float) -> Marker | None:
        for marker in self.doc.project.markers:
            if abs(self.geo.x_of(marker.time) - x) <= MARKER_GRAB_PX:
                return marker
        return None
