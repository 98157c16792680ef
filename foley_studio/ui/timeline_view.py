"""The timeline: ruler with timecode, picture lane of thumbnails, audio tracks of clips, playhead.

`TimelineCanvas` paints the document and turns mouse/keyboard gestures into `core` edits through
`ProjectDocument.apply`; it holds no editing rules of its own (those live in `core.edits`). Painting
is culled to the visible time range and waveforms come from cached tiles (see `previews`).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QFont, QFontMetrics,
                           QKeyEvent, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen, QPolygonF,
                           QResizeEvent, QWheelEvent)
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QMenu, QScrollBar, QVBoxLayout, QWidget

from foley_studio.core.errors import FoleyError
from foley_studio.core.project import Clip, Marker, Track, new_id
from foley_studio.core.timebase import SAMPLE_RATE, VideoClock, format_seconds

from .document import ProjectDocument, new_gesture
from .mime import FileDrop, LibraryDrag, decode_library_drag, dropped_files, is_video_file, scan_audio_files
from .previews import TILE_PX, ThumbnailCache, WaveformCache, frame_grid_step, quantise_spp
from .theme import TIMELINE as C
from .theme import mono_font
from .timeline_model import Snapper, TimelineGeometry, summed_overlaps, tick_step_frames

log = logging.getLogger(__name__)

EDGE_PX = 6          # grab zone for trimming at each clip edge
FADE_HANDLE_PX = 7   # square fade handles at the top corners
DRAG_START_PX = 3
PLAYHEAD_GRAB_PX = 5  # half-width of the playhead's grab zone in the ruler
PLAYHEAD_HEAD_PX = 9  # height of the playhead's triangle (its handle) at the top of the ruler
OVERLAP_COLOUR = "#d9a13b"   # overlaps that sum rather than crossfade (X fixes them)


def _edits():
    """`core.edits`, imported where used so this module loads before the layer below is complete."""
    from foley_studio.core import edits
    return edits


class Part(Enum):
    BODY = "body"
    LEFT = "left"
    RIGHT = "right"
    FADE_IN = "fade_in"
    FADE_OUT = "fade_out"


@dataclass
class _Drag:
    kind: str                       # "move", "trim", "fade", "region", "marker", "band", "track", "playhead"
    press_x: float
    press_y: float
    press_time: int
    gesture: int = field(default_factory=new_gesture)
    clip_id: str | None = None
    part: Part | None = None
    origin: dict[str, tuple[int, int]] = field(default_factory=dict)   # clip id -> (start, track index)
    marker_id: str | None = None
    track_id: str | None = None     # the track whose header is being dragged
    started: bool = False


class TimelineCanvas(QWidget):
    """Paints the timeline and edits the document through gestures."""

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
        self._drag: _Drag | None = None
        self._snap_guide: int | None = None
        self._drop_ghost: tuple[int, int, int] | None = None   # (track row, start, length)
        self._file_scan: tuple[tuple[str, ...], FileDrop] | None = None   # probed files of the drag in progress
        self._hover: QPointF | None = None     # last mouse position over the canvas (for X on a clip)
        self._thumb_failed = False
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.setMinimumHeight(200)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._font = QFont(self.font())
        self._font.setPointSizeF(8.5)
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self._mono = mono_font(8.5)
        self._mono_big = mono_font(13)
        self._mono_big.setBold(True)
        self._last_paint_ms = 0.0
        self.paint_count = 0                 # benchmarks and tests wait on it
        self._spans: list = []
        self._band: QRectF | None = None        # rubber band being dragged (widget coordinates)
        self._band_base: list[str] = []
        self._spans_revision = -1
        self._spans_project = None
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
        if self.follow_playhead and self._drag is None:
            lo, hi = self.geo.visible_range
            if not lo <= samples < hi:
                # Page the view like a tape machine: the playhead re-enters at the left tenth.
                self.geo.left = max(0.0, samples - 0.1 * (hi - lo))
                self.zoomChanged.emit()
        self.update()

    # -- geometry helpers --------------------------------------------------------------------------
    @property
    def clock(self) -> VideoClock:
        video = self.doc.project.video
        return video.clock if video else VideoClock(fps=__import__("fractions").Fraction(25))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.geo.width = self.width()
        self.zoomChanged.emit()
        super().resizeEvent(event)

    def content_length(self) -> int:
        return max(self.doc.project.duration, 10 * SAMPLE_RATE)

    def set_track_height(self, height: int) -> None:
        """Taller tracks show waveforms in more detail; shorter ones fit more tracks."""
        self.geo.track_height = int(min(max(height, 40), 240))
        self.zoomChanged.emit()
        self.update()

    def content_height(self) -> int:
        return self.geo.tracks_top + (len(self.doc.project.tracks) + 1) * self.geo.track_height

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

    def clip_rect(self, clip: Clip, row: int) -> QRectF:
        g = self.geo
        x0, x1 = g.x_of(clip.start), g.x_of(clip.end)
        top = g.track_top(row)
        return QRectF(x0, top + 2, max(x1 - x0, 1.0), g.track_height - 4)

    def hit_clip(self, x: float, y: float) -> tuple[Clip, Track, Part] | None:
        row = self.geo.track_index_at(y)
        if row is None or x < self.geo.header_width or row >= len(self.doc.project.tracks):
            return None
        track = self.doc.project.tracks[row]
        t = self.geo.time_at(x)
        slack = EDGE_PX * self.geo.samples_per_pixel
        for clip in reversed(track.clips):           # topmost (last drawn) first
            if clip.start - slack <= t < clip.end + slack:
                rect = self.clip_rect(clip, row)
                in_fade_band = y - rect.top() <= FADE_HANDLE_PX + 3 and rect.width() > 4 * FADE_HANDLE_PX
                fade_in_x = self.geo.x_of(clip.start + clip.fade_in)
                fade_out_x = self.geo.x_of(clip.end - clip.fade_out)
                if in_fade_band and abs(x - fade_in_x) <= FADE_HANDLE_PX:
                    return clip, track, Part.FADE_IN
                if in_fade_band and abs(x - fade_out_x) <= FADE_HANDLE_PX:
                    return clip, track, Part.FADE_OUT
                if rect.width() > 3 * EDGE_PX:
                    if x - rect.left() <= EDGE_PX:
                        return clip, track, Part.LEFT
                    if rect.right() - x <= EDGE_PX:
                        return clip, track, Part.RIGHT
                if clip.contains(t):
                    return clip, track, Part.BODY
        return None

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
            if abs(self.geo.x_of(marker.time) - x) <= 5:
                return marker
        return None

    # -- painting --------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        import time
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
        g = self.geo
        g.width = self.width()
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, QColor(C.background))
        lo, hi = g.visible_range
        self._paint_lanes(p, w, h)
        p.save()
        p.setClipRect(QRectF(g.header_width, g.tracks_top, w - g.header_width, h - g.tracks_top))
        self._paint_grid(p, lo, hi, h)
        self._paint_clips(p, lo, hi)
        self._paint_ghost(p)
        p.restore()
        if g.has_video:
            self._paint_video_lane(p, lo, hi, w)
        self._paint_region(p, h)
        self._paint_ruler(p, lo, hi, w)
        self._paint_markers(p, h)
        self._paint_headers(p, h)
        self._paint_playhead(p, h)

    def _paint_lanes(self, p: QPainter, w: int, h: int) -> None:
        g = self.geo
        for row, track in enumerate(self.doc.project.tracks):
            top = g.track_top(row)
            if top > h or top + g.track_height < g.tracks_top:
                continue
            colour = C.lane_selected if track.id == self.doc.selected_track else (C.lane if row % 2 == 0 else C.lane_alt)
            p.fillRect(QRectF(g.header_width, top, w - g.header_width, g.track_height), QColor(colour))
            p.fillRect(QRectF(0, top + g.track_height - 1, w, 1), QColor(C.separator))

    def _ticks(self, lo: int, hi: int) -> tuple[list[tuple[int, int]], int]:
        """(frame, sample) of labelled ticks in [lo, hi] and the frames between them."""
        clock = self.clock
        step = tick_step_frames(clock, self.geo.samples_per_pixel)
        first = clock.frame_at_sample(lo) // step * step
        last = clock.frame_at_sample(hi) + step
        spf = SAMPLE_RATE / float(clock.fps)      # float is exact enough for pixels, and 20x faster
        return [(f, int(math.ceil(f * spf))) for f in range(first, last + 1, step)], step

    def _paint_grid(self, p: QPainter, lo: int, hi: int, h: int) -> None:
        ticks, _ = self._ticks(lo, hi)
        p.setPen(QPen(QColor(C.grid), 1))
        top = self.geo.tracks_top
        lines = [QPointF(round(self.geo.x_of(s)) + 0.5, y) for _, s in ticks for y in (top, h)]
        if lines:
            p.drawLines(lines)

    def _clip_spans(self) -> list[tuple[list[Clip], np.ndarray, np.ndarray, list[tuple[int, int]]]]:
        """Per track: its clips with start/end arrays and un-crossfaded overlaps, rebuilt only when
        the project changes."""
        if self._spans_revision != self.doc.revision or self._spans_project is not self.doc.project:
            self._spans = [(list(t.clips), np.fromiter((c.start for c in t.clips), np.int64, len(t.clips)),
                            np.fromiter((c.end for c in t.clips), np.int64, len(t.clips)), summed_overlaps(t.clips))
                           for t in self.doc.project.tracks]
            self._spans_revision, self._spans_project = self.doc.revision, self.doc.project
        return self._spans

    def _paint_clips(self, p: QPainter, lo: int, hi: int) -> None:
        g = self.geo
        selected = set(self.doc.selected_clips)
        spp = quantise_spp(g.samples_per_pixel)
        body_rects: dict[str, list[QRectF]] = {C.clip: [], C.clip_take: [], C.clip_selected: [], C.missing: []}
        detailed: list[tuple[Clip, QRectF, bool]] = []
        overlaps: list[QRectF] = []
        inv = 1.0 / g.samples_per_pixel
        height = g.track_height - 4
        for row, (clips, starts, ends, summed) in enumerate(self._clip_spans()):
            top = g.track_top(row)
            if top > self.height() or top + g.track_height < g.tracks_top or not clips:
                continue
            # Vectorised culling and placement: zoomed out, hundreds of clips share one track.
            visible = np.flatnonzero((ends >= lo) & (starts <= hi))
            x0s = g.header_width + (starts[visible] - g.left) * inv
            widths = np.maximum((ends[visible] - starts[visible]) * inv, 1.0)
            for i, x0, width in zip(visible.tolist(), x0s.tolist(), widths.tolist()):
                clip = clips[i]
                rect = QRectF(x0, top + 2, width, height)
                is_selected = clip.id in selected
                missing = self.waveforms.error(clip.source) is not None
                colour = (C.missing if missing else C.clip_selected if is_selected
                          else C.clip_take if clip.take_id else C.clip)
                body_rects[colour].append(rect)
                if width >= 6:
                    detailed.append((clip, rect, is_selected))
            overlaps += [QRectF(g.x_of(a), top + 2, max((b - a) * inv, 1.0), height)
                         for a, b in summed if b >= lo and a <= hi]
        # Batched fills: one call per colour however many clips there are.
        p.setPen(Qt.NoPen)
        for colour, rects in body_rects.items():
            if rects:
                p.setBrush(QColor(colour))
                p.drawRects(rects)
        for clip, rect, is_selected in detailed:
            self._paint_clip_detail(p, clip, rect, is_selected, spp)
        if overlaps:
            self._paint_overlaps(p, overlaps)

    def _paint_overlaps(self, p: QPainter, rects: list[QRectF]) -> None:
        """Overlaps the mix sums (louder, maybe phasey): an amber wash and a bar along the bottom."""
        wash = QColor(OVERLAP_COLOUR)
        wash.setAlpha(60)
        p.setPen(Qt.NoPen)
        p.setBrush(wash)
        p.drawRects(rects)
        p.setBrush(QColor(OVERLAP_COLOUR))
        p.drawRects([QRectF(r.left(), r.bottom() - 4, r.width(), 4) for r in rects])

    def _paint_clip_detail(self, p: QPainter, clip: Clip, rect: QRectF, is_selected: bool, spp: float) -> None:
        g = self.geo
        visible = rect.intersected(QRectF(g.header_width, rect.top(), g.lanes_width, rect.height()))
        if visible.isEmpty():
            return
        self._paint_waveform(p, clip, rect, visible, spp)
        if clip.fade_in or clip.fade_out:
            self._paint_fades(p, clip, rect)
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(QColor(C.clip_border if is_selected else "#1a4a60"), 1.5 if is_selected else 1))
        p.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        if rect.width() > 40:
            p.setFont(self._font)
            p.setPen(QColor(C.clip_text))
            label = clip.name or clip.source.rsplit("/", 1)[-1]
            if clip.gain_db:
                label += f"  {clip.gain_db:+.1f} dB"
            x = max(rect.left(), g.header_width) + 5
            text_rect = QRectF(x, rect.top() + 1, rect.right() - x - 4, 14)
            p.drawText(text_rect, Qt.AlignLeft | Qt.AlignVCenter,
                       QFontMetrics(self._font).elidedText(label, Qt.ElideRight, int(text_rect.width())))
        if is_selected and rect.width() > 4 * FADE_HANDLE_PX:
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(C.fade))
            for fx in (g.x_of(clip.start + clip.fade_in), g.x_of(clip.end - clip.fade_out)):
                p.drawRect(QRectF(fx - FADE_HANDLE_PX / 2, rect.top(), FADE_HANDLE_PX, FADE_HANDLE_PX))

    def _paint_waveform(self, p: QPainter, clip: Clip, rect: QRectF, visible: QRectF, spp: float) -> None:
        pyr = self.waveforms.pyramid(clip.source)
        if pyr is None:
            return
        g = self.geo
        # Source sample shown at pixel x: source_in + (x - rect.left) * spp_true. Tiles are drawn at the
        # quantised zoom and stretched by the (near 1) ratio to the true one.
        stretch = spp / g.samples_per_pixel
        x_source0 = rect.left() - clip.source_in / g.samples_per_pixel    # x where source sample 0 would be
        src_lo = max(clip.source_in, clip.source_in + (visible.left() - rect.left()) * g.samples_per_pixel)
        src_hi = min(clip.source_out, clip.source_in + (visible.right() - rect.left()) * g.samples_per_pixel)
        k0, k1 = int(src_lo // (TILE_PX * spp)), int(src_hi // (TILE_PX * spp))
        label_band = 14 if rect.width() > 40 else 0
        mid = rect.top() + label_band + (rect.height() - label_band) / 2
        half = (rect.height() - label_band) / 2 - 2
        amp = min(10 ** (clip.gain_db / 20), 4.0) * half
        p.save()
        p.setClipRect(visible, Qt.IntersectClip)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(C.waveform))
        for k in range(k0, k1 + 1):
            tile = self.waveforms.tile(clip.source, spp, k)
            if tile is None:
                break
            p.save()
            p.translate(x_source0 + k * TILE_PX * stretch, mid)
            p.scale(stretch, amp)
            p.drawPath(tile)
            p.restore()
        p.restore()

    def _paint_fades(self, p: QPainter, clip: Clip, rect: QRectF) -> None:
        g = self.geo
        p.save()
        p.setClipRect(rect, Qt.IntersectClip)
        shade = QColor(0, 0, 0, 90)
        p.setPen(QPen(QColor(C.fade), 1.2))
        for length, at_start in ((clip.fade_in, True), (clip.fade_out, False)):
            if length <= 0:
                continue
            x0 = g.x_of(clip.start) if at_start else g.x_of(clip.end - length)
            x1 = g.x_of(clip.start + length) if at_start else g.x_of(clip.end)
            n = max(2, min(48, int(x1 - x0)))
            # Equal-power (sine) shape, as mixdown applies it.
            pts = []
            for i in range(n + 1):
                u = i / n
                gain = math.sin(0.5 * math.pi * (u if at_start else 1 - u))
                pts.append(QPointF(x0 + u * (x1 - x0), rect.bottom() - gain * rect.height()))
            poly = QPolygonF(pts + [QPointF(x1 if at_start else x0, rect.top())])
            shaded = QPainterPath()
            shaded.addPolygon(poly)
            p.fillPath(shaded, shade)
            p.drawPolyline(QPolygonF(pts))
        p.restore()

    def _paint_ghost(self, p: QPainter) -> None:
        if self._band is not None:
            p.setPen(QPen(QColor(C.clip_border), 1, Qt.DashLine))
            p.setBrush(QColor(128, 196, 228, 40))
            p.drawRect(self._band)
        if self._drop_ghost is None:
            return
        row, start, length = self._drop_ghost
        g = self.geo
        rect = QRectF(g.x_of(start), g.track_top(row) + 2, max(length / g.samples_per_pixel, 2), g.track_height - 4)
        p.setPen(QPen(QColor(C.clip_border), 1, Qt.DashLine))
        p.setBrush(QColor(63, 149, 189, 90))
        p.drawRect(rect)

    def _paint_video_lane(self, p: QPainter, lo: int, hi: int, w: int) -> None:
        g = self.geo
        video = self.doc.project.video
        top, height = g.ruler_height, g.video_height
        p.fillRect(QRectF(g.header_width, top, w - g.header_width, height), QColor(C.video_lane))
        if video is None:
            return
        thumb_h = height - 4
        thumb_w = thumb_h * video.width / max(video.height, 1)
        step = frame_grid_step(1 / float(video.fps), thumb_w, g.samples_per_pixel, SAMPLE_RATE)
        clock = video.clock
        last_frame = clock.frame_at_sample(max(video.duration - 1, 0))
        spf = SAMPLE_RATE / float(video.fps)
        first = clock.frame_at_sample(lo) // step * step
        end_frame = min(clock.frame_at_sample(hi), last_frame)
        frames = list(range(first, end_frame + 1, step))
        p.save()
        p.setClipRect(QRectF(g.header_width, top, w - g.header_width, height))
        wanted = []
        for frame in frames:
            x = g.x_of(frame * spf)
            span = step * spf / g.samples_per_pixel
            pm = self.thumbnails.get(frame)
            if pm is None:
                wanted.append(frame)
                pm = self.thumbnails.nearest(frame, step)
            self._draw_thumb_span(p, pm, x, top + 2, span, thumb_w, thumb_h)
        end_x = g.x_of(video.duration)
        if end_x < w:
            p.fillRect(QRectF(end_x, top, w - end_x, height), QColor(C.background))
        p.restore()
        p.fillRect(QRectF(0, top + height - 1, w, 1), QColor(C.separator))
        if wanted:
            # Centre-out order: what is under the eye arrives first.
            centre = (first + end_frame) / 2
            self.thumbnails.request(sorted(wanted, key=lambda f: abs(f - centre)), step)

    @staticmethod
    def _draw_thumb_span(p: QPainter, pm, x: float, y: float, span: float, thumb_w: float, thumb_h: float) -> None:
        """Fill [x, x+span) with a frame's picture: centre-cropped when narrower than a thumbnail,
        repeated when a single frame is wider (deep zoom), so the strip never has gaps."""
        if pm is None:
            p.fillRect(QRectF(x + 1, y + 1, span - 2, thumb_h - 2), QColor("#24272c"))
            return
        src = QRectF(pm.rect())
        if span <= thumb_w:
            crop = src.width() * span / thumb_w
            p.drawPixmap(QRectF(x, y, span, thumb_h), pm, QRectF((src.width() - crop) / 2, 0, crop, src.height()))
            return
        n = int(math.ceil(span / thumb_w))
        for i in range(n):
            w = min(thumb_w, span - i * thumb_w)
            p.drawPixmap(QRectF(x + i * thumb_w, y, w, thumb_h), pm, QRectF(0, 0, src.width() * w / thumb_w, src.height()))
        p.fillRect(QRectF(x, y, 1, thumb_h), QColor(0, 0, 0, 120))     # frame boundary

    def _paint_region(self, p: QPainter, h: int) -> None:
        if not self.doc.region:
            return
        g = self.geo
        a, b = self.doc.region
        x0, x1 = max(g.x_of(a), g.header_width), g.x_of(b)
        if x1 <= x0:
            return
        colour = QColor(C.region)
        colour.setAlpha(46)
        p.fillRect(QRectF(x0, 0, x1 - x0, h), colour)
        colour.setAlpha(200)
        p.fillRect(QRectF(x0, 0, x1 - x0, 4), colour)

    def _paint_ruler(self, p: QPainter, lo: int, hi: int, w: int) -> None:
        g = self.geo
        p.fillRect(QRectF(g.header_width, 0, w - g.header_width, g.ruler_height), QColor(C.ruler))
        ticks, step = self._ticks(lo, hi)
        clock = self.clock
        p.save()
        p.setClipRect(QRectF(g.header_width, 0, w - g.header_width, g.ruler_height))
        p.setFont(self._mono)
        minor = max(1, step // 5) if step >= 5 else 1
        spf = SAMPLE_RATE / float(clock.fps)
        frame_px = spf / g.samples_per_pixel
        p.setPen(QPen(QColor(C.ruler_tick), 1))
        if minor * frame_px >= 6 and ticks:
            minor_lines = []
            for f in range(ticks[0][0], ticks[-1][0] + 1, minor):
                x = round(g.x_of(f * spf)) + 0.5
                minor_lines += [QPointF(x, g.ruler_height - 5), QPointF(x, g.ruler_height)]
            p.drawLines(minor_lines)
        for frame, sample in ticks:
            x = round(g.x_of(sample)) + 0.5
            if x < g.header_width:
                continue                 # a label cut by the header edge reads as garbage: skip it
            p.setPen(QPen(QColor(C.ruler_tick), 1))
            p.drawLine(QPointF(x, g.ruler_height - 12), QPointF(x, g.ruler_height))
            p.setPen(QColor(C.ruler_text))
            p.drawText(QRectF(x + 4, 2, 110, 16), Qt.AlignLeft | Qt.AlignVCenter, clock.timecode(sample))
        p.restore()
        p.fillRect(QRectF(0, g.ruler_height - 1, w, 1), QColor(C.separator))

    def _paint_markers(self, p: QPainter, h: int) -> None:
        g = self.geo
        p.setFont(self._font)
        metrics = QFontMetrics(self._font)
        line = QColor(C.marker)
        line.setAlpha(120)                   # guides, not content: keep them quieter than clips
        ordered = sorted(self.doc.project.markers, key=lambda m: m.time)
        xs = [g.x_of(m.time) for m in ordered] + [float("inf")]
        for i, marker in enumerate(ordered):
            x = xs[i]
            if x < g.header_width or x > self.width():
                continue
            p.setPen(QPen(line, 1, Qt.DashLine))
            p.drawLine(QPointF(x, g.ruler_height), QPointF(x, h))
            flag = QPolygonF([QPointF(x, g.ruler_height - 14), QPointF(x + 9, g.ruler_height - 9),
                              QPointF(x, g.ruler_height - 4)])
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(C.marker))
            p.drawPolygon(flag)
            if marker.name and xs[i + 1] - x > metrics.horizontalAdvance(marker.name) + 18:
                p.setPen(QColor(C.marker))
                p.drawText(QPointF(x + 11, g.ruler_height - 5), marker.name)

    def _paint_headers(self, p: QPainter, h: int) -> None:
        g = self.geo
        hw = g.header_width
        p.fillRect(QRectF(0, 0, hw, h), QColor(C.header))
        # Corner: playhead timecode, large and fixed-pitch.
        p.fillRect(QRectF(0, 0, hw, g.ruler_height), QColor("#17191c"))
        p.setFont(self._mono_big)
        p.setPen(QColor(C.ruler_text))
        p.drawText(QRectF(8, 0, hw - 10, g.ruler_height), Qt.AlignLeft | Qt.AlignVCenter,
                   self.clock.timecode(self.doc.playhead))
        if g.has_video:
            p.setFont(self._bold)
            p.setPen(QColor(C.header_text))
            p.drawText(QRectF(10, g.ruler_height, hw - 14, g.video_height), Qt.AlignLeft | Qt.AlignVCenter, "Picture")
            video = self.doc.project.video
            p.setFont(self._font)
            p.setPen(QColor(C.header_muted))
            p.drawText(QRectF(10, g.ruler_height + g.video_height / 2 + 4, hw - 14, 16), Qt.AlignLeft,
                       f"{float(video.fps):.3f} fps" if video else "")
        p.save()
        p.setClipRect(QRectF(0, g.tracks_top, hw, h - g.tracks_top))
        for row, track in enumerate(self.doc.project.tracks):
            top = g.track_top(row)
            if top > h or top + g.track_height < g.tracks_top:
                continue
            if track.id == self.doc.selected_track:
                p.fillRect(QRectF(0, top, 3, g.track_height), QColor(C.clip_selected))
            p.setFont(self._bold)
            p.setPen(QColor(C.header_text))
            p.drawText(QRectF(10, top + 6, hw - 20, 18), Qt.AlignLeft | Qt.AlignVCenter,
                       QFontMetrics(self._bold).elidedText(track.name, Qt.ElideRight, hw - 20))
            p.setFont(self._font)
            p.setPen(QColor(C.header_muted))
            n = len(track.clips)
            p.drawText(QRectF(10, top + 24, hw - 20, 16), Qt.AlignLeft | Qt.AlignVCenter,
                       f"{n} clip{'s' if n != 1 else ''}   {track.gain_db:+.1f} dB")
            for i, (label, on, colour) in enumerate((("M", track.mute, "#d9a13b"), ("S", track.solo, "#4fbf6a"))):
                r = self._button_rect(row, i)
                p.setPen(QPen(QColor("#555b65"), 1))
                p.setBrush(QColor(colour) if on else QColor("#30343b"))
                p.drawRoundedRect(r, 3, 3)
                p.setPen(QColor("#101214") if on else QColor(C.header_text))
                p.drawText(r, Qt.AlignCenter, label)
            p.fillRect(QRectF(0, top + g.track_height - 1, hw, 1), QColor(C.separator))
        p.restore()
        p.fillRect(QRectF(hw - 1, 0, 1, h), QColor(C.separator))

    def _button_rect(self, row: int, index: int) -> QRectF:
        top = self.geo.track_top(row)
        return QRectF(10 + index * 26, top + self.geo.track_height - 26, 22, 18)

    def _paint_playhead(self, p: QPainter, h: int) -> None:
        g = self.geo
        if self._snap_guide is not None:
            x = g.x_of(self._snap_guide)
            if x >= g.header_width:
                p.setPen(QPen(QColor(C.snap), 1, Qt.DotLine))
                p.drawLine(QPointF(x, g.ruler_height), QPointF(x, h))
        x = round(g.x_of(self.doc.playhead)) + 0.5
        if x < g.header_width or x > self.width():
            return
        p.setPen(QPen(QColor(C.playhead), 1.5))
        p.drawLine(QPointF(x, 0), QPointF(x, h))
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(C.playhead))
        p.drawPolygon(QPolygonF([QPointF(x - 6, 0), QPointF(x + 6, 0), QPointF(x, 9)]))

    # -- mouse ---------------------------------------------------------------------------------------
    def _snapped(self, time: int, exclude: set[str] = frozenset()) -> int:
        snapper = Snapper.for_project(self.doc.project, self.doc.playhead, exclude_clips=exclude,
                                      enabled=self.snapping)
        result = snapper.snap(time, self.geo.samples_per_pixel)
        self._snap_guide = result.target
        return result.time

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        x, y = event.position().x(), event.position().y()
        self._hover = QPointF(x, y)
        g = self.geo
        if event.button() == Qt.RightButton:
            self._context_menu(event)
            return
        if event.button() != Qt.LeftButton:
            return
        time = max(0, g.time_at(x))
        if x < g.header_width:
            self._press_header(x, y)
            return
        if y < g.ruler_height:
            marker = self.marker_at(x)
            if self.on_playhead_handle(x, y):
                # Grabbing the handle does not move the playhead; dragging it scrubs (_drag_playhead).
                self._drag = _Drag("playhead", x, y, self.doc.playhead)
                self.setCursor(Qt.SizeHorCursor)
            elif marker is not None:
                self._drag = _Drag("marker", x, y, time, marker_id=marker.id)
            else:
                self._drag = _Drag("region", x, y, self._snapped(time))
                self._seek(self._drag.press_time)
            return
        if g.has_video and y < g.tracks_top:
            self._drag = _Drag("region", x, y, self._snapped(time))
            self._seek(self._drag.press_time)
            return
        hit = self.hit_clip(x, y)
        ctrl = bool(event.modifiers() & (Qt.ControlModifier | Qt.ShiftModifier))
        if hit is None:
            row = g.track_index_at(y)
            if row is not None and row < len(self.doc.project.tracks):
                self.doc.select_track(self.doc.project.tracks[row].id)
            if ctrl:      # Ctrl/Shift-drag on empty lanes: rubber band adds clips to the selection
                self._drag = _Drag("band", x, y, time)
                self._band_base = list(self.doc.selected_clips)
                return
            self.doc.select_clips([])
            self._drag = _Drag("region", x, y, self._snapped(time))
            return
        clip, track, part = hit
        if ctrl:
            ids = [c for c in self.doc.selected_clips if c != clip.id]
            if clip.id not in self.doc.selected_clips:
                ids.append(clip.id)
            self.doc.select_clips(ids)
            if clip.id not in ids:
                return
        elif clip.id not in self.doc.selected_clips:
            self.doc.select_clips([clip.id])
        kind = "move" if part is Part.BODY else "trim" if part in (Part.LEFT, Part.RIGHT) else "fade"
        drag = _Drag(kind, x, y, time, clip_id=clip.id, part=part)
        index = {t.id: i for i, t in enumerate(self.doc.project.tracks)}
        for c in self.doc.selected_clip_objects():
            drag.origin[c.id] = (c.start, index[self.doc.project.track_of_clip(c.id).id])
        self._drag = drag

    def _press_header(self, x: float, y: float) -> None:
        row = self.geo.track_index_at(y)
        tracks = self.doc.project.tracks
        if row is None or row >= len(tracks):
            return
        track = tracks[row]
        self.doc.select_track(track.id)
        for i, prop in enumerate(("mute", "solo")):
            if self._button_rect(row, i).contains(QPointF(x, y)):
                self._apply(_edits().SetTrackProps(track.id, **{prop: not getattr(track, prop)}))
                return
        # Anywhere else on the header: dragging it up or down reorders the tracks.
        self._drag = _Drag("track", x, y, 0, track_id=track.id)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        x, y = event.position().x(), event.position().y()
        if y < self.geo.ruler_height and (marker := self.marker_at(x)) is not None:
            self._drag = None
            self.rename_marker(marker.id)
            return
        if x < self.geo.header_width:
            row = self.geo.track_index_at(y)
            if row is not None and row < len(self.doc.project.tracks):
                self.rename_track(self.doc.project.tracks[row].id)
            return
        hit = self.hit_clip(x, y)
        if hit is not None:
            self.edit_gain(hit[0].id)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x, y = event.position().x(), event.position().y()
        self._hover = QPointF(x, y)
        drag = self._drag
        if drag is None:
            self._update_cursor(x, y)
            return
        if not drag.started:
            if abs(x - drag.press_x) < DRAG_START_PX and abs(y - drag.press_y) < DRAG_START_PX:
                return
            drag.started = True
        time = max(0, self.geo.time_at(x))
        try:
            getattr(self, f"_drag_{drag.kind}")(drag, time, y)
        except FoleyError as exc:
            self.statusMessage.emit(str(exc))
        if drag.kind != "track":       # a header drag is vertical: never scroll the time axis
            self._autoscroll(x)
        self.update()

    def leaveEvent(self, event) -> None:
        self._hover = None
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self._drag = self._drag, None
        self._snap_guide = None
        self._band = None
        if drag is not None and drag.kind in ("track", "playhead"):
            x, y = event.position().x(), event.position().y()
            self._update_cursor(x, y)
        if drag is not None and not drag.started:
            if drag.kind in ("move", "trim", "fade"):
                pass            # a click on a clip only selects it
            elif drag.kind == "region" and event.position().y() >= self.geo.ruler_height:
                self.doc.set_region(None)
                self._seek(drag.press_time)
            elif drag.kind == "region":
                self.doc.set_region(None)
        self.update()

    def _drag_band(self, drag: _Drag, time: int, y: float) -> None:
        g = self.geo
        a, b = sorted((drag.press_time, time))
        rows = sorted((g.track_index_at(drag.press_y) or 0, g.track_index_at(max(y, g.tracks_top)) or 0))
        self._band = QRectF(QPointF(min(drag.press_x, g.x_of(time)), min(drag.press_y, y)),
                            QPointF(max(drag.press_x, g.x_of(time)), max(drag.press_y, y)))
        hits = [c.id for row, t in enumerate(self.doc.project.tracks) if rows[0] <= row <= rows[1]
                for c in t.clips if c.end > a and c.start < b]
        self.doc.select_clips(self._band_base + [h for h in hits if h not in self._band_base])

    def _drag_track(self, drag: _Drag, time: int, y: float) -> None:
        """The dragged header's track takes the row under the mouse (all moves of a drag: one step)."""
        tracks = self.doc.project.tracks
        row = self.geo.track_index_at(y)
        target = min(max(row if row is not None else 0, 0), len(tracks) - 1)
        current = next((i for i, t in enumerate(tracks) if t.id == drag.track_id), None)
        self.setCursor(Qt.ClosedHandCursor)
        if current is not None and target != current:
            self._apply(_edits().MoveTrack(drag.track_id, target), drag.gesture)

    def _drag_playhead(self, drag: _Drag, time: int, y: float) -> None:
        """The playhead follows the mouse; each new position is a seek, so the window scrubs.

        Snapping is that of a click in the ruler, less the playhead's own position (the point being
        dragged would otherwise hold it in place)."""
        snapper = Snapper.for_project(self.doc.project, 0, enabled=self.snapping)   # 0 is always a point
        result = snapper.snap(time, self.geo.samples_per_pixel)
        self._snap_guide = result.target
        if result.time != self.doc.playhead:
            self._seek(result.time)

    def _drag_region(self, drag: _Drag, time: int, y: float) -> None:
        end = self._snapped(time)
        self.doc.set_region((drag.press_time, end))

    def _drag_marker(self, drag: _Drag, time: int, y: float) -> None:
        self._apply(_edits().MoveMarker(drag.marker_id, self._snapped(time)), drag.gesture)

    def _drag_move(self, drag: _Drag, time: int, y: float) -> None:
        project = self.doc.project
        primary_start, _ = drag.origin[drag.clip_id]
        primary = project.find_clip(drag.clip_id)
        lowest = min(start for start, _ in drag.origin.values())
        delta = max(time - drag.press_time, -lowest)
        snapper = Snapper.for_project(project, self.doc.playhead, exclude_clips=set(drag.origin),
                                      enabled=self.snapping)
        snapped = snapper.snap_span(primary_start + delta, primary.length, self.geo.samples_per_pixel)
        self._snap_guide = snapped.target
        delta = max(snapped.time - primary_start, -lowest)
        row_now = self.geo.track_index_at(y)
        row_delta = 0 if row_now is None else row_now - self.geo.track_index_at(drag.press_y)
        rows = [r for _, r in drag.origin.values()]
        row_delta = max(-min(rows), min(row_delta, len(project.tracks) - 1 - max(rows)))
        moves = []
        for clip_id, (start, row) in drag.origin.items():
            clip = project.find_clip(clip_id)
            target_track = project.tracks[row + row_delta].id
            current_track = project.track_of_clip(clip_id).id
            if clip.start != start + delta or current_track != target_track:
                moves.append(_edits().MoveClip(clip_id, start + delta,
                                               target_track if target_track != current_track else None))
        if moves:
            edit = moves[0] if len(moves) == 1 else _edits().Compound(f"Move {len(moves)} clips", moves)
            self._apply(edit, drag.gesture)

    def _drag_trim(self, drag: _Drag, time: int, y: float) -> None:
        clip = self.doc.project.find_clip(drag.clip_id)
        new_time = self._snapped(time, exclude={clip.id})
        min_len = max(int(2 * self.geo.samples_per_pixel), 64)
        if drag.part is Part.LEFT:
            new_time = min(max(new_time, clip.start - clip.source_in), clip.end - min_len)
            if new_time != clip.start:
                self._apply(_edits().TrimClip(clip.id, "left", new_time), drag.gesture)
        else:
            limit = self._source_length(clip)
            new_time = max(new_time, clip.start + min_len)
            if limit is not None:
                new_time = min(new_time, clip.start + limit - clip.source_in)
            if new_time != clip.end:
                self._apply(_edits().TrimClip(clip.id, "right", new_time), drag.gesture)

    def _drag_fade(self, drag: _Drag, time: int, y: float) -> None:
        clip = self.doc.project.find_clip(drag.clip_id)
        if drag.part is Part.FADE_IN:
            value = min(max(0, time - clip.start), clip.length - clip.fade_out)
            if value != clip.fade_in:
                self._apply(_edits().SetClipFades(clip.id, fade_in=value), drag.gesture)
        else:
            value = min(max(0, clip.end - time), clip.length - clip.fade_in)
            if value != clip.fade_out:
                self._apply(_edits().SetClipFades(clip.id, fade_out=value), drag.gesture)

    def _source_length(self, clip: Clip) -> int | None:
        known = getattr(clip, "source_length", None)
        if known:
            return int(known)
        pyr = self.waveforms.pyramid(clip.source)
        n = getattr(pyr, "n_samples", None) if pyr is not None else None
        return int(n) if n else None

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
        if self.on_playhead_handle(x, y):
            self.setCursor(Qt.SizeHorCursor)
            self.setToolTip("Drag the playhead to scrub")
            return
        hit = self.hit_clip(x, y) if y >= self.geo.tracks_top else None
        if hit is None:
            self.unsetCursor()
            self.setToolTip("")
            return
        clip, _track, part = hit
        tc = self.clock.timecode
        self.setToolTip(f"{clip.name or clip.source.rsplit('/', 1)[-1]}\n{tc(clip.start)} – {tc(clip.end)}"
                        f"  ({format_seconds(clip.length / SAMPLE_RATE)})\ngain {clip.gain_db:+.1f} dB"
                        f"   fades {clip.fade_in / SAMPLE_RATE:.2f} / {clip.fade_out / SAMPLE_RATE:.2f} s\n{clip.source}")
        shape = {Part.LEFT: Qt.SizeHorCursor, Part.RIGHT: Qt.SizeHorCursor, Part.FADE_IN: Qt.PointingHandCursor,
                 Part.FADE_OUT: Qt.PointingHandCursor}.get(part, Qt.OpenHandCursor)
        self.setCursor(shape)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        mods = event.modifiers()
        x = event.position().x()
        if mods & Qt.ControlModifier:
            self.zoom(2 ** (delta.y() / 120 / 4), anchor_x=max(x, self.geo.header_width))
        elif mods & Qt.AltModifier:
            # Alt+wheel: 0.5 dB steps on the clip under the mouse, or on the track over its header.
            step = 0.5 if (delta.y() or delta.x()) > 0 else -0.5
            row = self.geo.track_index_at(event.position().y())
            if x < self.geo.header_width and row is not None and row < len(self.doc.project.tracks):
                track = self.doc.project.tracks[row]
                self._apply(_edits().SetTrackProps(track.id, gain_db=round(track.gain_db + step, 2)))
            elif (hit := self.hit_clip(x, event.position().y())) is not None:
                self._apply(_edits().SetClipGain(hit[0].id, round(hit[0].gain_db + step, 2)))
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

    # -- drops from the library and from the file manager -------------------------------------------
    def _dragged_sounds(self, mime) -> FileDrop | None:
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

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        drop = self._dragged_sounds(event.mimeData())
        if drop is not None and drop.sounds:
            event.acceptProposedAction()
            return
        if drop is not None and drop.refused:        # refused here; say why instead of a silent no-entry cursor
            self.statusMessage.emit(f"Cannot drop: {drop.describe_refused()}")
        event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        drop = self._dragged_sounds(event.mimeData())
        pos = event.position()
        if drop is None or not drop.sounds or pos.x() < self.geo.header_width or pos.y() < self.geo.tracks_top:
            self._drop_ghost = None
            event.ignore()
        else:
            row, start = self.drop_target(pos.x(), pos.y())
            # The ghost spans every sound, as they will be placed: one after another.
            length = sum(int(round((b - a) * SAMPLE_RATE)) for a, b in (item.span for item in drop.sounds))
            self._drop_ghost = (row, start, length)
            event.acceptProposedAction()
        self.update()

    def dragLeaveEvent(self, event) -> None:
        self._drop_ghost = None
        self._snap_guide = None
        self._file_scan = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop_ghost = None
        self._snap_guide = None
        drop = self._dragged_sounds(event.mimeData())
        self._file_scan = None                        # the next drag probes its files afresh
        pos = event.position()
        added = drop is not None and bool(drop.sounds) and bool(self.drop_library_items(drop.sounds, pos.x(), pos.y()))
        if drop is not None and drop.refused:
            lead = "Skipped" if added else "Nothing added"
            self.statusMessage.emit(f"{lead} — {drop.describe_refused()}")
        if added:
            event.acceptProposedAction()
        else:
            event.ignore()
        self.update()

    def drop_target(self, x: float, y: float) -> tuple[int, int]:
        """(track row, snapped start sample) for a drop at widget position (x, y)."""
        row = self.geo.track_index_at(y)
        row = min(row if row is not None else 0, len(self.doc.project.tracks))
        return row, self._snapped(max(0, self.geo.time_at(x)))

    def drop_library_items(self, items: list[LibraryDrag], x: float, y: float) -> list[str]:
        """Add the dragged sounds at (x, y), one after another; a drop below the last track adds a track.

        Returns the new clip ids (one undo step for the whole drop)."""
        if x < self.geo.header_width or y < self.geo.tracks_top:
            return []
        E = _edits()
        row, start = self.drop_target(x, y)
        children = []
        tracks = self.doc.project.tracks
        if row >= len(tracks):
            track = Track(id=new_id("track"), name=f"Foley {len(tracks) + 1}")
            children.append(E.AddTrack(track))
            track_id = track.id
        else:
            track_id = tracks[row].id
        new_ids = []
        for item in items:
            a, b = item.span
            clip = Clip(id=new_id("clip"), source=item.path, start=start,
                        source_in=int(round(a * SAMPLE_RATE)), source_out=int(round(b * SAMPLE_RATE)),
                        name=item.name)
            children.append(E.AddClip(track_id, clip))
            new_ids.append(clip.id)
            start = clip.end
        text = f"Add {items[0].name}" if len(items) == 1 else f"Add {len(items)} sounds"
        if not self._apply(children[0] if len(children) == 1 else E.Compound(text, children)):
            return []
        self.doc.select_clips(new_ids)
        self.statusMessage.emit(f"{text} at {self.clock.timecode(self.doc.project.find_clip(new_ids[0]).start)}")
        return new_ids

    # -- commands (menu / shortcuts) -----------------------------------------------------------------
    def _apply(self, edit, gesture: int | None = None) -> bool:
        try:
            self.doc.apply(edit, gesture)
            return True
        except (FoleyError, KeyError, ValueError) as exc:
            self.statusMessage.emit(f"{edit.text}: {exc}")
            return False

    def _seek(self, samples: int) -> None:
        self.doc.set_playhead(samples)
        self.seekRequested.emit(samples)

    def split_at_playhead(self) -> None:
        at = self.doc.playhead
        clips = [c for c in self.doc.selected_clip_objects() if c.start < at < c.end]
        if not clips and self.doc.selected_track:
            clips = [c for c in self.doc.project.track(self.doc.selected_track).clips if c.start < at < c.end]
        if not clips:
            self.statusMessage.emit("Split: no clip under the playhead on the selected track")
            return
        E = _edits()
        splits = [E.SplitClip(c.id, at) for c in clips]
        self._apply(splits[0] if len(splits) == 1 else E.Compound(f"Split {len(splits)} clips", splits))

    def delete_selection(self) -> None:
        ids = list(self.doc.selected_clips)
        if not ids:
            return
        E = _edits()
        removes = [E.RemoveClip(cid) for cid in ids]
        self._apply(removes[0] if len(removes) == 1 else E.Compound(f"Delete {len(ids)} clips", removes))

    def add_marker(self) -> None:
        n = len(self.doc.project.markers) + 1
        self._apply(_edits().AddMarker(Marker(id=new_id("marker"), time=self.doc.playhead, name=f"M{n}")))

    def set_in(self) -> None:
        end = self.doc.region[1] if self.doc.region else self.content_length()
        self.doc.set_region((self.doc.playhead, max(end, self.doc.playhead + 1)))

    def set_out(self) -> None:
        start = self.doc.region[0] if self.doc.region else 0
        self.doc.set_region((min(start, self.doc.playhead), self.doc.playhead))

    def select_all(self) -> None:
        self.doc.select_clips([c.id for t in self.doc.project.tracks for c in t.clips])

    def add_track(self) -> None:
        n = len(self.doc.project.tracks) + 1
        self._apply(_edits().AddTrack(Track(id=new_id("track"), name=f"Foley {n}")))

    def remove_selected_track(self) -> None:
        if self.doc.selected_track:
            self._apply(_edits().RemoveTrack(self.doc.selected_track))

    def move_track(self, track_id: str, delta: int) -> bool:
        """Move a track `delta` rows (negative: up); False when it is already at that end."""
        tracks = self.doc.project.tracks
        index = next((i for i, t in enumerate(tracks) if t.id == track_id), None)
        if index is None:
            return False
        target = min(max(index + delta, 0), len(tracks) - 1)
        if target == index:
            self.statusMessage.emit(f"Track {tracks[index].name!r} is already the "
                                    f"{'top' if delta < 0 else 'bottom'} track")
            return False
        return self._apply(_edits().MoveTrack(track_id, target))

    def move_selected_track(self, delta: int) -> bool:
        return bool(self.doc.selected_track) and self.move_track(self.doc.selected_track, delta)

    def ripple_delete(self) -> bool:
        """Remove the selected clips' time (or the region, on the selected track) and close the gap.

        With clips selected, each one's span is taken out of its own track and later clips on that
        track move left; other tracks and the markers stay. Without, the in/out region is taken out
        of the selected track. One undo step either way.
        """
        E = _edits()
        ranges = self._ripple_ranges()
        if not ranges:
            self.statusMessage.emit("Ripple delete: select clips, or a region and a track")
            return False
        edits = [E.RippleDelete(track_id, a, b) for track_id, a, b in ranges]
        n = len(self.doc.selected_clips)
        text = f"Ripple delete {n} clip{'s' if n != 1 else ''}" if n else "Ripple delete region"
        edit = edits[0] if len(edits) == 1 else E.Compound(text, edits)
        edit.text = text
        return self._apply(edit)

    def _ripple_ranges(self) -> list[tuple[str, int, int]]:
        """(track id, start, end) to remove, latest first on each track so earlier ranges stay valid."""
        project = self.doc.project
        if not self.doc.selected_clips:
            if self.doc.region and self.doc.selected_track:
                a, b = sorted(self.doc.region)
                return [(self.doc.selected_track, a, b)] if b > a else []
            return []
        per_track: dict[str, list[tuple[int, int]]] = {}
        for clip in self.doc.selected_clip_objects():
            per_track.setdefault(project.track_of_clip(clip.id).id, []).append((clip.start, clip.end))
        ranges: list[tuple[str, int, int]] = []
        for track_id, spans in per_track.items():
            merged: list[list[int]] = []
            for a, b in sorted(spans):
                if merged and a <= merged[-1][1]:        # touching or overlapping: one range
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            ranges += [(track_id, a, b) for a, b in reversed(merged)]
        return ranges

    def crossfade_pairs(self) -> list[tuple[str, str]]:
        """Overlapping clip pairs to crossfade: among the selected clips (two or more), else between
        the selected clip, or the clip under the mouse, and every clip on its track it overlaps."""
        project = self.doc.project
        selected = self.doc.selected_clip_objects()
        if len(selected) >= 2:
            pairs = []
            by_track: dict[str, list[Clip]] = {}
            for clip in selected:
                by_track.setdefault(project.track_of_clip(clip.id).id, []).append(clip)
            for clips in by_track.values():
                clips.sort(key=lambda c: (c.start, c.end))
                pairs += [(a.id, b.id) for i, a in enumerate(clips) for b in clips[i + 1:]
                          if _crossfadable(a, b)]
            return pairs
        if selected:
            clip = selected[0]
        elif self._hover is not None and (hit := self.hit_clip(self._hover.x(), self._hover.y())) is not None:
            clip = hit[0]
        else:
            return []
        track = project.track_of_clip(clip.id)
        return [(clip.id, other.id) for other in track.clips if other.id != clip.id and _crossfadable(clip, other)]

    def crossfade_overlap(self) -> bool:
        """Set the fades of overlapping clips to their overlap (X): an equal-power crossfade."""
        pairs = self.crossfade_pairs()
        if not pairs:
            self.statusMessage.emit("Crossfade: select two overlapping clips on one track, "
                                    "or point at a clip that overlaps a neighbour")
            return False
        E = _edits()
        edits = [E.CrossfadeOverlap(a, b) for a, b in pairs]
        if len(edits) == 1:
            edit = edits[0]
        else:
            edit = E.Compound(f"Crossfade {len(edits)} overlaps", edits)
        if not self._apply(edit):
            return False
        first = self.doc.project.find_clip(pairs[0][0])
        second = self.doc.project.find_clip(pairs[0][1])
        length = E.overlap_of(first, second)
        self.statusMessage.emit(f"{edit.text}: {length / SAMPLE_RATE * 1000:.0f} ms")
        return True

    def rename_track(self, track_id: str) -> None:
        track = self.doc.project.track(track_id)
        name, ok = QInputDialog.getText(self, "Rename track", "Name:", text=track.name)
        if ok and name.strip() and name.strip() != track.name:
            self._apply(_edits().SetTrackProps(track_id, name=name.strip()))

    def edit_gain(self, clip_id: str | None = None) -> None:
        ids = [clip_id] if clip_id else list(self.doc.selected_clips)
        if not ids:
            return
        first = self.doc.project.find_clip(ids[0])
        value, ok = QInputDialog.getDouble(self, "Clip gain", "Gain (dB):", first.gain_db, -60.0, 24.0, 1)
        if ok:
            E = _edits()
            edits = [E.SetClipGain(cid, value) for cid in ids]
            self._apply(edits[0] if len(edits) == 1 else E.Compound(f"Gain of {len(ids)} clips", edits))

    def _context_menu(self, event: QMouseEvent) -> None:
        x, y = event.position().x(), event.position().y()
        menu = QMenu(self)
        if y < self.geo.ruler_height and (marker := self.marker_at(x)) is not None:
            menu.addAction("Rename marker…", lambda: self.rename_marker(marker.id))
            menu.addAction(f"Delete marker {marker.name}",
                           lambda: self._apply(_edits().RemoveMarker(marker.id)))
        elif (hit := self.hit_clip(x, y)) is not None:
            clip = hit[0]
            if clip.id not in self.doc.selected_clips:
                self.doc.select_clips([clip.id])
            menu.addAction("Gain…", lambda: self.edit_gain())
            menu.addAction("Split at playhead", self.split_at_playhead)
            menu.addAction("Delete", self.delete_selection)
            menu.addAction("Ripple delete", self.ripple_delete)
            crossfade = menu.addAction("Crossfade overlap", self.crossfade_overlap)
            crossfade.setEnabled(bool(self.crossfade_pairs()))
            menu.addSeparator()
            menu.addAction(f"{format_seconds(clip.length / SAMPLE_RATE)} of {clip.source.rsplit('/', 1)[-1]}").setEnabled(False)
        elif x < self.geo.header_width:
            menu.addAction("Add track", self.add_track)
            row = self.geo.track_index_at(y)
            if row is not None and row < len(self.doc.project.tracks):
                track_id = self.doc.project.tracks[row].id
                self.doc.select_track(track_id)
                menu.addAction("Rename…", lambda: self.rename_track(track_id))
                up = menu.addAction("Move track up", lambda: self.move_track(track_id, -1))
                up.setEnabled(row > 0)
                down = menu.addAction("Move track down", lambda: self.move_track(track_id, 1))
                down.setEnabled(row < len(self.doc.project.tracks) - 1)
                menu.addAction("Remove track", lambda: self._apply(_edits().RemoveTrack(track_id)))
        else:
            menu.addAction("Add marker at playhead", self.add_marker)
            menu.addAction("Add track", self.add_track)
        menu.exec(event.globalPosition().toPoint())

    def nudge_selection(self, frames: int) -> None:
        """Move the selected clips by whole video frames (one undo step; stops at time zero)."""
        clips = self.doc.selected_clip_objects()
        if not clips or frames == 0:
            return
        delta = round(frames * SAMPLE_RATE / float(self.clock.fps))
        delta = max(delta, -min(c.start for c in clips))
        if delta == 0:
            return
        E = _edits()
        moves = [E.MoveClip(c.id, c.start + delta) for c in clips]
        text = f"Nudge {len(moves)} clip{'s' if len(moves) > 1 else ''} {frames:+d} frame{'s' if abs(frames) > 1 else ''}"
        self._apply(moves[0] if len(moves) == 1 else E.Compound(text, moves))

    def rename_marker(self, marker_id: str) -> None:
        marker = next((m for m in self.doc.project.markers if m.id == marker_id), None)
        if marker is None:
            return
        name, ok = QInputDialog.getText(self, "Rename marker", "Name:", text=marker.name)
        if ok and name.strip() != marker.name:
            E = _edits()
            renamed = Marker(id=marker.id, time=marker.time, name=name.strip())
            self._apply(E.Compound(f"Rename marker {marker.name}",
                                   [E.RemoveMarker(marker.id), E.AddMarker(renamed)]))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Arrow keys move the playhead by a frame (Shift: a second); Alt+arrows nudge the selected
        # clips by a frame (Alt+Shift: ten). Other keys are the window's shortcuts.
        if event.key() in (Qt.Key_Up, Qt.Key_Down) and event.modifiers() & Qt.AltModifier:
            self.move_selected_track(-1 if event.key() == Qt.Key_Up else 1)
            return
        if event.key() in (Qt.Key_Left, Qt.Key_Right) and event.modifiers() & Qt.AltModifier:
            sign = -1 if event.key() == Qt.Key_Left else 1
            self.nudge_selection(sign * (10 if event.modifiers() & Qt.ShiftModifier else 1))
            return
        if event.key() in (Qt.Key_Left, Qt.Key_Right):
            sign = -1 if event.key() == Qt.Key_Left else 1
            if event.modifiers() & Qt.ShiftModifier:
                self._seek(max(0, self.doc.playhead + sign * SAMPLE_RATE))
            else:
                clock = self.clock
                self._seek(clock.sample_of_frame(max(0, clock.frame_at_sample(self.doc.playhead) + sign)))
            return
        super().keyPressEvent(event)


def _crossfadable(a: Clip, b: Clip) -> bool:
    """Two clips that overlap with each having a part outside the other (what CrossfadeOverlap takes)."""
    first, second = sorted((a, b), key=lambda c: (c.start, c.end))
    return second.start < first.end and first.start < second.start and first.end < second.end


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
