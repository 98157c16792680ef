"""Drawing the timeline: ruler with timecode, picture lane of thumbnails, tracks of clips, playhead.

`TimelinePainter.paint` draws the canvas's document as it is now (the canvas calls it from
`paintEvent`; benchmarks and screenshots call it on an offscreen image). Painting is culled to the
visible time range, clips are placed with vectorised arithmetic and filled in one call per colour,
and waveforms come from cached tiles (see `previews`).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPolygonF

from foley_studio.core.project import Clip
from foley_studio.core.timebase import SAMPLE_RATE

from .previews import TILE_PX, frame_grid_step, quantise_spp
from .theme import TIMELINE as C
from .theme import mono_font
from .timeline_hits import FADE_HANDLE_PX
from .timeline_model import summed_overlaps, tick_step_frames

if TYPE_CHECKING:
    from .timeline_view import TimelineCanvas

OVERLAP_COLOUR = "#d9a13b"   # overlaps that sum rather than crossfade (X fixes them)
DIM_OPACITY = 0.4            # tracks the mix does not play (muted, or another track soloed)


def clip_label(clip: Clip) -> str:
    label = clip.name or clip.source.rsplit("/", 1)[-1]
    return label + (f"  {clip.gain_db:+.1f} dB" if clip.gain_db else "")


def layout_labels(clips: list[tuple[Clip, QRectF]], metrics: QFontMetrics,
                  left_edge: float) -> list[tuple[QRectF, str]]:
    """Where the labels of one track's clips go, left to right, so that none overlaps another.

    A label stops where the next clip starts when that clip overlaps it; if too little of it would
    remain, it moves to a second line below instead (the later clip keeps the first line); a label
    with no room on either line is left out (the clip's tooltip names it)."""
    placed: list[tuple[QRectF, str]] = []
    line_ends = [-math.inf, -math.inf]              # right edge of the last label on each line
    ordered = sorted(clips, key=lambda item: item[1].left())
    for i, (clip, rect) in enumerate(ordered):
        label = clip_label(clip)
        x = max(rect.left(), left_edge) + 5
        limit = rect.right() - 4
        if i + 1 < len(ordered) and ordered[i + 1][1].left() < limit:
            limit = ordered[i + 1][1].left() - 4     # the next clip overlaps this one: stop before it
        line = 0 if x >= line_ends[0] + 4 else 1
        if line == 0 and limit - x < min(metrics.horizontalAdvance(label), 48) and rect.height() > 40:
            line, limit = 1, rect.right() - 4
        if line == 1 and x < line_ends[1] + 4:
            continue
        width = limit - x
        if width < 12:
            continue
        text = metrics.elidedText(label, Qt.ElideRight, int(width))
        placed.append((QRectF(x, rect.top() + 1 + 14 * line, width, 14), text))
        line_ends[line] = x + metrics.horizontalAdvance(text)
    return placed


class TimelinePainter:
    """Draws one canvas; keeps its fonts and the per-track clip arrays between paints."""

    def __init__(self, canvas: "TimelineCanvas"):
        self.canvas = canvas
        self.doc = canvas.doc
        self.geo = canvas.geo
        self.waveforms = canvas.waveforms
        self.thumbnails = canvas.thumbnails
        self._font = QFont(canvas.font())
        self._font.setPointSizeF(8.5)
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self._mono = mono_font(8.5)
        self._mono_big = mono_font(13)
        self._mono_big.setBold(True)
        self._spans: list = []
        self._spans_revision = -1
        self._spans_project = None

    def paint(self, p: QPainter) -> None:
        """Draw everything (also called by benchmarks and screenshots on an offscreen image)."""
        g = self.geo
        g.width = self.canvas.width()
        w, h = self.canvas.width(), self.canvas.height()
        p.fillRect(0, 0, w, h, QColor(C.background))
        lo, hi = g.visible_range
        self._paint_lanes(p, w, h)
        p.save()
        p.setClipRect(QRectF(g.header_width, g.tracks_top, w - g.header_width, h - g.tracks_top))
        self._paint_grid(p, lo, hi, h)
        self._paint_clips(p, lo, hi)
        if self.canvas.tool is not None:
            self.canvas.tool.paint(p)             # a gesture's own overlay (the rubber band)
        self._paint_drop_ghost(p)
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
        clock = self.canvas.clock
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
        """Clips of audible tracks at full strength, then those of muted (or not soloed) tracks dimmed."""
        audible = {t.id for t in self.doc.project.audible_tracks()}
        rows = [(row, t.id in audible) for row, t in enumerate(self.doc.project.tracks)]
        self._paint_clip_rows(p, lo, hi, [r for r, on in rows if on])
        dimmed = [r for r, on in rows if not on]
        if dimmed:
            p.save()
            p.setOpacity(DIM_OPACITY)
            self._paint_clip_rows(p, lo, hi, dimmed)
            p.restore()

    def _paint_clip_rows(self, p: QPainter, lo: int, hi: int, rows: list[int]) -> None:
        g = self.geo
        selected = set(self.doc.selected_clips)
        spp = quantise_spp(g.samples_per_pixel)
        body_rects: dict[str, list[QRectF]] = {C.clip: [], C.clip_take: [], C.clip_selected: [], C.missing: []}
        detailed: list[tuple[Clip, QRectF, bool]] = []
        labels: list[list[tuple[Clip, QRectF]]] = []
        overlaps: list[QRectF] = []
        inv = 1.0 / g.samples_per_pixel
        height = g.track_height - 4
        spans = self._clip_spans()
        for row in rows:
            clips, starts, ends, summed = spans[row]
            top = g.track_top(row)
            if top > self.canvas.height() or top + g.track_height < g.tracks_top or not clips:
                continue
            labels.append([])
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
                    if width > 40:
                        labels[-1].append((clip, rect))
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
        for row_labels in labels:
            self._paint_labels(p, row_labels)

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
        if clip.gain_db:
            self._paint_gain_line(p, clip, visible)
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(QColor(C.clip_border if is_selected else "#1a4a60"), 1.5 if is_selected else 1))
        p.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        if is_selected and rect.width() > 4 * FADE_HANDLE_PX:
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(C.fade))
            for fx in (g.x_of(clip.start + clip.fade_in), g.x_of(clip.end - clip.fade_out)):
                p.drawRect(QRectF(fx - FADE_HANDLE_PX / 2, rect.top(), FADE_HANDLE_PX, FADE_HANDLE_PX))

    def _paint_labels(self, p: QPainter, clips: list[tuple[Clip, QRectF]]) -> None:
        """Clip names (with the clip gain) of one track, never drawn over each other (`layout_labels`)."""
        metrics = QFontMetrics(self._font)
        p.setFont(self._font)
        p.setPen(QColor(C.clip_text))
        for rect, text in layout_labels(clips, metrics, self.geo.header_width):
            p.drawText(rect, Qt.AlignLeft | Qt.AlignVCenter, text)

    def _paint_gain_line(self, p: QPainter, clip: Clip, visible: QRectF) -> None:
        """The clip gain as a line across the clip: at the top third for 0 dB, lower for cuts, higher
        for boosts (-40..+12 dB span the clip's height), as DAWs draw a clip's volume."""
        top, height = visible.top() + 3, visible.height() - 6
        frac = (min(max(clip.gain_db, -40.0), 12.0) + 40.0) / 52.0
        y = top + (1.0 - frac) * height
        p.setPen(QPen(QColor(C.fade), 1, Qt.DashLine))
        p.drawLine(QPointF(visible.left(), y), QPointF(visible.right(), y))

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

    def _paint_drop_ghost(self, p: QPainter) -> None:
        ghost = self.canvas.drops.ghost
        if ghost is None:
            return
        row, start, length = ghost
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
        clock = self.canvas.clock
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
            if x < g.header_width or x > self.canvas.width():
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
                   self.canvas.clock.timecode(self.doc.playhead))
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
        audible = {t.id for t in self.doc.project.audible_tracks()}
        for row, track in enumerate(self.doc.project.tracks):
            top = g.track_top(row)
            if top > h or top + g.track_height < g.tracks_top:
                continue
            if track.id == self.doc.selected_track:
                p.fillRect(QRectF(0, top, 3, g.track_height), QColor(C.clip_selected))
            heard = track.id in audible
            n = len(track.clips)
            count = f"{n} clip{'s' if n != 1 else ''}" if heard else ("muted" if track.mute else "not soloed")
            p.setFont(self._font)
            count_w = QFontMetrics(self._font).horizontalAdvance(count) + 6
            name_w = hw - 34 - count_w
            p.setFont(self._bold)
            p.setPen(QColor(C.header_text if heard else C.header_muted))
            p.drawText(QRectF(10, top + 4, name_w, 18), Qt.AlignLeft | Qt.AlignVCenter,
                       QFontMetrics(self._bold).elidedText(track.name, Qt.ElideRight, name_w))
            p.setFont(self._font)
            p.setPen(QColor(C.header_muted if heard else OVERLAP_COLOUR))
            p.drawText(QRectF(hw - 20 - count_w, top + 4, count_w, 18), Qt.AlignRight | Qt.AlignVCenter, count)
            for i, (label, on, colour) in enumerate((("M", track.mute, "#d9a13b"), ("S", track.solo, "#4fbf6a"))):
                r = self.canvas.hits.button_rect(row, i)
                p.setPen(QPen(QColor("#555b65"), 1))
                p.setBrush(QColor(colour) if on else QColor("#30343b"))
                p.drawRoundedRect(r, 3, 3)
                p.setPen(QColor("#101214") if on else QColor(C.header_text))
                p.drawText(r, Qt.AlignCenter, label)
            p.fillRect(QRectF(0, top + g.track_height - 1, hw, 1), QColor(C.separator))
        p.restore()
        p.fillRect(QRectF(hw - 1, 0, 1, h), QColor(C.separator))
        self.canvas.track_controls.follow()          # the fader/pan/meter widgets follow the rows

    def _paint_playhead(self, p: QPainter, h: int) -> None:
        g = self.geo
        if self.canvas.snap_guide is not None:
            x = g.x_of(self.canvas.snap_guide)
            if x >= g.header_width:
                p.setPen(QPen(QColor(C.snap), 1, Qt.DotLine))
                p.drawLine(QPointF(x, g.ruler_height), QPointF(x, h))
        x = round(g.x_of(self.doc.playhead)) + 0.5
        if x < g.header_width or x > self.canvas.width():
            return
        p.setPen(QPen(QColor(C.playhead), 1.5))
        p.drawLine(QPointF(x, 0), QPointF(x, h))
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(C.playhead))
        p.drawPolygon(QPolygonF([QPointF(x - 6, 0), QPointF(x + 6, 0), QPointF(x, 9)]))

