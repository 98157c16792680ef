"""The timeline: ruler with timecode, picture lane of thumbnails, audio tracks of clips, playhead.

`TimelineCanvas` routes events and dispatches painting; the work is done by its parts:
`TimelinePainter` (drawing), `TimelineHits` (what is under a point), one tool per mouse gesture
(`timeline_tools`; Escape cancels the one in progress), `TimelineDrops`, the context menus and
`TimelineCommands` (menus and shortcuts). The editing rules are `core.planners`'.
"""
from __future__ import annotations

import math
import time
from fractions import Fraction

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import (QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeyEvent, QMouseEvent, QPainter, QPaintEvent,
                           QResizeEvent, QWheelEvent)
from PySide6.QtWidgets import QHBoxLayout, QScrollBar, QVBoxLayout, QWidget

from foley_studio.core.project import Clip
from foley_studio.core.timebase import SAMPLE_RATE, VideoClock, format_seconds

from .document import ProjectDocument
from .previews import ThumbnailCache, WaveformCache, quantise_spp
from .timeline_commands import TimelineCommands
from .timeline_drops import TimelineDrops
from .timeline_hits import Part, TimelineHits
from .timeline_menus import show_context_menu
from .timeline_model import Snapper, TimelineGeometry
from .timeline_paint import TimelinePainter
from .timeline_tools import Tool, tool_for_press
from .track_controls import TrackControls

_CURSORS = {Part.LEFT: Qt.SizeHorCursor, Part.RIGHT: Qt.SizeHorCursor, Part.FADE_IN: Qt.PointingHandCursor,
            Part.FADE_OUT: Qt.PointingHandCursor}

# Keys the timeline itself handles when it has the focus (the window's actions list their own
# keys): shown in Help ▸ Keyboard shortcuts as (keys, what they do).
CANVAS_KEYS = (
    ("Left, Right", "Playhead one frame back / forward"),
    ("Shift+Left, Shift+Right", "Playhead one second back / forward"),
    ("Alt+Shift+Left, Alt+Shift+Right", "Nudge the selected clips ten frames"),
    ("Esc (while dragging)", "Cancel the drag and undo what it did"),
)


class TimelineCanvas(QWidget):
    """Routes the timeline's events to its tools, drops, menus and commands, and paints it."""

    statusMessage = Signal(str)
    seekRequested = Signal(int)          # samples; the window moves playback and the picture
    zoomChanged = Signal()

    def __init__(self, document: ProjectDocument, waveforms: WaveformCache | None = None,
                 thumbnails: ThumbnailCache | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = document
        self.geo = TimelineGeometry()
        self.waveforms = waveforms or WaveformCache(self)
        self.thumbnails = thumbnails or ThumbnailCache(parent=self)
        self.snapping = True
        self.follow_playhead = True
        self.tool: Tool | None = None          # the gesture in progress
        self.snap_guide: int | None = None     # the snap point in use, drawn as a guide
        self._hover: QPointF | None = None     # last mouse position over the canvas (for X on a clip)
        self._thumb_failed = False
        self.hits = TimelineHits(document, self.geo)
        self.commands = TimelineCommands(self)
        self.drops = TimelineDrops(self)
        self.painter = TimelinePainter(self)
        self.track_controls = TrackControls(self)      # fader, pan and meter widgets over the headers
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.setMinimumHeight(200)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._last_paint_ms = 0.0
        self.paint_count = 0                 # benchmarks and tests wait on it
        self._repaint = QTimer(self, singleShot=True, interval=15)   # coalesces bursts of preview arrivals
        self._repaint.timeout.connect(self.update)
        document.changed.connect(self._on_project_changed)
        document.selectionChanged.connect(self.update)
        document.selectedTrackChanged.connect(self.update)
        document.regionChanged.connect(self.update)
        document.playheadChanged.connect(self._on_playhead)
        self.waveforms.updated.connect(self._repaint.start)
        self.thumbnails.updated.connect(self._repaint.start)
        self.thumbnails.failed.connect(self._on_thumb_failed)
        self._on_project_changed()

    # -- model signals -------------------------------------------------------------------------
    def _on_project_changed(self) -> None:
        video = self.doc.project.video
        self.geo.has_video = video is not None
        if video is not None:
            self.thumbnails.set_video(video.path, float(video.fps))
        self.update()
        self.zoomChanged.emit()    # content length may have changed: scroll bars follow

    def _on_thumb_failed(self, message: str) -> None:
        if not self._thumb_failed:
            self._thumb_failed = True
            self.statusMessage.emit(message)

    def _on_playhead(self, samples: int) -> None:
        if self.follow_playhead and self.tool is None:
            lo, hi = self.geo.visible_range
            if not lo <= samples < hi:
                # Page the view like a tape machine: the playhead re-enters at the left tenth.
                self.geo.left = max(0.0, samples - 0.1 * (hi - lo))
                self.zoomChanged.emit()
        self.update()

    # -- geometry ------------------------------------------------------------------------------
    @property
    def clock(self) -> VideoClock:
        video = self.doc.project.video
        return video.clock if video else VideoClock(fps=Fraction(25))

    def content_length(self) -> int:
        return max(self.doc.project.duration, 10 * SAMPLE_RATE)

    def content_height(self) -> int:
        return self.geo.tracks_top + (len(self.doc.project.tracks) + 1) * self.geo.track_height

    def set_track_height(self, height: int) -> None:
        """Taller tracks show waveforms in more detail; shorter ones fit more tracks."""
        self.geo.track_height = int(min(max(height, 40), 240))
        self.zoomChanged.emit()
        self.update()

    def set_zoom(self, samples_per_pixel: float, anchor_x: float | None = None) -> None:
        anchor = self.geo.header_width + self.geo.lanes_width / 2 if anchor_x is None else anchor_x
        self.geo.zoom_around(anchor, self.geo.samples_per_pixel / quantise_spp(self.geo.clamp_zoom(samples_per_pixel)))
        self.zoomChanged.emit()
        self.update()

    def zoom(self, factor: float, anchor_x: float | None = None) -> None:
        steps = round(math.log2(factor) * 8) or (1 if factor > 1 else -1)
        self.set_zoom(quantise_spp(self.geo.samples_per_pixel) * 2.0 ** (-steps / 8), anchor_x)

    def zoom_to(self, start: int, end: int) -> None:
        self.geo.show_range(start, end)
        # Round up to the cache grid so cached tiles are reused and the range still fits.
        self.geo.samples_per_pixel = quantise_spp(self.geo.samples_per_pixel * 2 ** (1 / 16))
        self.zoomChanged.emit()
        self.update()

    def zoom_fit(self) -> None:
        self.zoom_to(0, self.content_length())

    def zoom_selection(self) -> None:
        if self.doc.region:
            self.zoom_to(*self.doc.region)
        elif clips := self.doc.selected_clip_objects():
            self.zoom_to(min(c.start for c in clips), max(c.end for c in clips))

    def scroll_to(self, left: float) -> None:
        self.geo.left = max(0.0, float(left))
        self.update()

    def snapper(self, *, exclude: set[str] = frozenset(), playhead: int | None = None) -> Snapper:
        """Snap points of the project now (clip edges but `exclude`'s, markers, the playhead)."""
        at = self.doc.playhead if playhead is None else playhead
        return Snapper.for_project(self.doc.project, at, exclude_clips=exclude, enabled=self.snapping)

    def snapped(self, time: int, exclude: set[str] = frozenset()) -> int:
        result = self.snapper(exclude=exclude).snap(time, self.geo.samples_per_pixel)
        self.snap_guide = result.target
        return result.time

    def hovered_clip(self) -> Clip | None:
        """The clip under the mouse, if it is over one."""
        hit = self.hits.hit_clip(self._hover.x(), self._hover.y()) if self._hover is not None else None
        return hit[0] if hit else None

    # -- painting ------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        t0 = time.perf_counter()
        p = QPainter(self)
        try:
            self.paint(p)
        finally:
            p.end()
        self._last_paint_ms = (time.perf_counter() - t0) * 1000
        self.paint_count += 1

    def paint(self, p: QPainter) -> None:
        """Draw everything (also called by benchmarks and screenshots on an offscreen image)."""
        self.painter.paint(p)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.geo.width = self.width()
        self.zoomChanged.emit()
        super().resizeEvent(event)

    # -- mouse ---------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        x, y = event.position().x(), event.position().y()
        self._hover = QPointF(x, y)
        if self.tool is not None:           # another button during a drag: the drag goes on
            return
        if event.button() == Qt.RightButton:
            show_context_menu(self, x, y, event.globalPosition().toPoint())
            return
        if event.button() != Qt.LeftButton:
            return
        extend = bool(event.modifiers() & (Qt.ControlModifier | Qt.ShiftModifier))
        self.tool = tool_for_press(self, x, y, extend)
        if self.tool is not None and self.tool.cursor is not None:
            self.setCursor(self.tool.cursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x, y = event.position().x(), event.position().y()
        self._hover = QPointF(x, y)
        if self.tool is None:
            self._update_cursor(x, y)
            return
        self.tool.move(x, y)
        if self.tool.started and self.tool.autoscroll:
            self._autoscroll(x)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.LeftButton or self.tool is None:
            return
        tool, self.tool = self.tool, None
        tool.release(event.position().y())
        self._end_gesture(event.position().x(), event.position().y())

    def _end_gesture(self, x: float, y: float) -> None:
        self.snap_guide = None
        self._update_cursor(x, y)
        self.update()

    def cancel_gesture(self) -> bool:
        """Escape during a drag: the gesture's edits are undone and the view is as before the press."""
        if self.tool is None:
            return False
        tool, self.tool = self.tool, None
        tool.cancel()
        self.statusMessage.emit("Cancelled")
        hover = self._hover or QPointF(-1, -1)
        self._end_gesture(hover.x(), hover.y())
        return True

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        x, y = event.position().x(), event.position().y()
        if y < self.geo.ruler_height and (marker := self.hits.marker_at(x)) is not None:
            self.commands.rename_marker(marker.id)
        elif x < self.geo.header_width:
            if (track := self.hits.track_at(y)) is not None:
                self.commands.rename_track(track[1].id)
        elif (hit := self.hits.hit_clip(x, y)) is not None:
            self.commands.edit_gain(hit[0].id)

    def leaveEvent(self, event) -> None:
        self._hover = None
        super().leaveEvent(event)

    def _autoscroll(self, x: float) -> None:
        g = self.geo
        edge = 24
        if x > self.width() - edge:
            g.left += 12 * g.samples_per_pixel
            self.zoomChanged.emit()
        elif x < g.header_width + edge and g.left > 0:
            g.left = max(0.0, g.left - 12 * g.samples_per_pixel)
            self.zoomChanged.emit()

    def _update_cursor(self, x: float, y: float) -> None:
        if self.hits.on_playhead_handle(x, y):
            self.setCursor(Qt.SizeHorCursor)
            self.setToolTip("Drag the playhead to scrub")
            return
        hit = self.hits.hit_clip(x, y) if y >= self.geo.tracks_top else None
        if hit is None:
            self.unsetCursor()
            self.setToolTip("")
            return
        clip, _track, part = hit
        tc = self.clock.timecode
        self.setToolTip(f"{clip.name or clip.source.rsplit('/', 1)[-1]}\n{tc(clip.start)} – {tc(clip.end)}"
                        f"  ({format_seconds(clip.length / SAMPLE_RATE)})\ngain {clip.gain_db:+.1f} dB"
                        f"   fades {clip.fade_in / SAMPLE_RATE:.2f} / {clip.fade_out / SAMPLE_RATE:.2f} s\n{clip.source}")
        self.setCursor(_CURSORS.get(part, Qt.OpenHandCursor))

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        mods = event.modifiers()
        x, y = event.position().x(), event.position().y()
        if mods & Qt.ControlModifier:
            self.zoom(2 ** (delta.y() / 120 / 4), anchor_x=max(x, self.geo.header_width))
        elif mods & Qt.AltModifier:
            self.commands.gain_step(x, y, 1 if (delta.y() or delta.x()) > 0 else -1)
        elif mods & Qt.ShiftModifier or delta.x():
            amount = delta.x() or delta.y()
            self.scroll_to(self.geo.left - amount / 120 * 80 * self.geo.samples_per_pixel)
            self.zoomChanged.emit()
        else:
            max_scroll = max(0, self.content_height() - self.height())
            self.geo.scroll_y = int(min(max(0, self.geo.scroll_y - delta.y() / 120 * 40), max_scroll))
            self.zoomChanged.emit()
            self.update()
        event.accept()

    # -- keys ------------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # During a drag every key is the gesture's: window shortcuts (Escape clears the region,
        # Ctrl+Z undoes) must not run under a half-done edit.
        if event.type() == QEvent.ShortcutOverride and self.tool is not None:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # What this handles is listed in CANVAS_KEYS (Help ▸ Keyboard shortcuts): keep the two together.
        if self.tool is not None:
            if event.key() == Qt.Key_Escape:
                self.cancel_gesture()
            return
        # Arrow keys move the playhead by a frame (Shift: a second); Alt+arrows nudge the selected
        # clips by a frame (Alt+Shift: ten). Other keys are the window's shortcuts.
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key_Up, Qt.Key_Down) and mods & Qt.AltModifier:
            self.commands.move_selected_track(-1 if key == Qt.Key_Up else 1)
        elif key in (Qt.Key_Left, Qt.Key_Right):
            sign = -1 if key == Qt.Key_Left else 1
            if mods & Qt.AltModifier:
                self.commands.nudge_selection(sign * (10 if mods & Qt.ShiftModifier else 1))
            else:
                self.commands.step_playhead(sign, by_second=bool(mods & Qt.ShiftModifier))
        else:
            super().keyPressEvent(event)

    # -- drops --------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.drops.enter(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.drops.move(event)

    def dragLeaveEvent(self, event) -> None:
        self.drops.leave()

    def dropEvent(self, event: QDropEvent) -> None:
        self.drops.drop(event)

    # -- the commands the window's menus and shortcuts call (TimelineCommands does them) --------------
    def split_at_playhead(self) -> None:
        self.commands.split_at_playhead()

    def delete_selection(self) -> None:
        self.commands.delete_selection()

    def ripple_delete(self) -> bool:
        return self.commands.ripple_delete()

    def crossfade_overlap(self) -> bool:
        return self.commands.crossfade_overlap()

    def edit_gain(self, clip_id: str | None = None) -> None:
        self.commands.edit_gain(clip_id)

    def select_all(self) -> None:
        self.commands.select_all()

    def add_marker(self) -> None:
        self.commands.add_marker()

    def set_in(self) -> None:
        self.commands.set_in()

    def set_out(self) -> None:
        self.commands.set_out()

    def nudge_selection(self, frames: int) -> None:
        self.commands.nudge_selection(frames)

    def add_track(self) -> None:
        self.commands.add_track()

    def remove_selected_track(self) -> None:
        self.commands.remove_selected_track()

    def move_selected_track(self, delta: int) -> bool:
        return self.commands.move_selected_track(delta)


class TimelinePanel(QWidget):
    """The canvas plus its scroll bars, kept in step with the canvas's geometry."""

    def __init__(self, document: ProjectDocument, waveforms: WaveformCache | None = None,
                 thumbnails: ThumbnailCache | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = TimelineCanvas(document, waveforms, thumbnails, self)
        self.hbar = QScrollBar(Qt.Horizontal, self)
        self.vbar = QScrollBar(Qt.Vertical, self)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.canvas, 1)
        row.addWidget(self.vbar)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addLayout(row, 1)
        col.addWidget(self.hbar)
        self._syncing = False
        self.canvas.zoomChanged.connect(self._sync_bars)
        self.hbar.valueChanged.connect(self._on_hbar)
        self.vbar.valueChanged.connect(self._on_vbar)

    # Scroll bars count in pixels of the lanes (ints), the canvas in samples.
    def _sync_bars(self) -> None:
        self._syncing = True
        try:
            g = self.canvas.geo
            total_px = int(self.canvas.content_length() * 1.1 / g.samples_per_pixel)
            self.hbar.setRange(0, max(0, total_px - g.lanes_width))
            self.hbar.setPageStep(g.lanes_width)
            self.hbar.setSingleStep(40)
            self.hbar.setValue(int(g.left / g.samples_per_pixel))
            max_y = max(0, self.canvas.content_height() - self.canvas.height())
            self.vbar.setRange(0, max_y)
            self.vbar.setPageStep(max(1, self.canvas.height() - g.tracks_top))
            self.vbar.setValue(g.scroll_y)
        finally:
            self._syncing = False

    def _on_hbar(self, value: int) -> None:
        if not self._syncing:
            self.canvas.scroll_to(value * self.canvas.geo.samples_per_pixel)

    def _on_vbar(self, value: int) -> None:
        if not self._syncing:
            self.canvas.geo.scroll_y = value
            self.canvas.update()
