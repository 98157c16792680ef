"""The picture at the playhead: a worker decodes the newest requested frame; the widget scales it.

Requests coalesce (only the latest time is decoded), so scrubbing never queues up stale frames.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QWidget

from foley_studio.core.timebase import SAMPLE_RATE

from .previews import VideoDecoder, _to_qimage
from .theme import mono_font

log = logging.getLogger(__name__)


class _FrameDecoder(VideoDecoder):
    """Decodes the newest requested frame for the preview."""

    def __init__(self, receiver: QWidget, decoded: Callable[[str, int, QImage], None],
                 failed: Callable[[str, str], None]):
        super().__init__(receiver, "video-frame", decoded, failed)

    def request(self, path: str, fps: float, frame: int, height: int) -> None:
        self._runner.submit(lambda: self._decode(path, fps, frame, height))

    def _decode(self, path: str, fps: float, frame: int, height: int) -> None:
        try:
            rgb = self._reader_for(path).frame_at((frame + 0.5) / fps, height=height)
            self._runner.post(self._decoded, path, frame, _to_qimage(rgb))
        except Exception as exc:   # a broken file shows a message in the preview, never a crash
            log.warning("frame %d of %s failed: %s", frame, path, exc)
            self._fail(path, exc)


class VideoPreview(QWidget):
    """Shows the frame under the playhead with its timecode."""

    def __init__(self, document, parent=None, decode_height: int = 360):
        super().__init__(parent)
        self.doc = document
        self.decode_height = decode_height
        self.setMinimumSize(240, 135)
        self._pixmap: QPixmap | None = None
        self._frame = -1
        self._shown_frame = -1
        self._message = ""
        self._worker = _FrameDecoder(self, self._on_decoded,
                                     lambda _p, msg: self._set_message(f"Cannot show the video: {msg}"))
        self._tc_font = mono_font(11)
        self._tc_font.setBold(True)
        document.playheadChanged.connect(self.show_time)
        document.changed.connect(lambda: self.show_time(self.doc.playhead, force=False))
        self.show_time(document.playhead)

    def _set_message(self, text: str) -> None:
        self._message = text
        self.update()

    def show_time(self, samples: int, force: bool = False) -> None:
        video = self.doc.project.video
        if video is None:
            self._pixmap = None
            self._set_message("No video in this project (File ▸ New from video…)")
            return
        clock = video.clock
        last = clock.frame_at_sample(max(video.duration - 1, 0))
        frame = min(clock.frame_at_sample(samples), last)
        if frame != self._frame or force:
            self._frame = frame
            self._worker.request(video.path, float(video.fps), frame, self.decode_height)
        self.update()

    def _on_decoded(self, path: str, frame: int, image: QImage) -> None:
        video = self.doc.project.video
        if video is None or path != video.path:
            return
        self._pixmap = QPixmap.fromImage(image)
        self._shown_frame = frame
        self._message = ""
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#0e0f11"))
        if self._pixmap is not None:
            pm = self._pixmap
            scale = min(self.width() / pm.width(), (self.height() - 22) / pm.height())
            w, h = pm.width() * scale, pm.height() * scale
            target = QRectF((self.width() - w) / 2, (self.height() - 22 - h) / 2, w, h)
            p.setRenderHint(QPainter.SmoothPixmapTransform)
            p.drawPixmap(target, pm, QRectF(pm.rect()))
        video = self.doc.project.video
        if video is not None:
            p.setFont(self._tc_font)
            p.setPen(QColor("#e6e9ee"))
            tc = video.clock.timecode(self.doc.playhead)
            p.drawText(QRectF(8, self.height() - 22, self.width() - 16, 20), Qt.AlignLeft | Qt.AlignVCenter, tc)
            room = self.width() - 16 - QFontMetrics(self._tc_font).horizontalAdvance(tc) - 12
            p.setFont(QFont(self.font()))
            p.setPen(QColor("#8a909b"))
            detail = self._fitting_detail(QFontMetrics(p.font()), room)
            if detail:
                p.drawText(QRectF(8, self.height() - 22, self.width() - 16, 20), Qt.AlignRight | Qt.AlignVCenter,
                           detail)
        if self._message:
            p.setPen(QColor("#c5cad3"))
            p.drawText(self.rect().adjusted(10, 10, -10, -30), Qt.AlignCenter | Qt.TextWordWrap, self._message)
        p.end()

    def _fitting_detail(self, metrics: QFontMetrics, room: float) -> str:
        """The frame/seconds label, shortened (never overlapping the timecode) in a narrow panel."""
        for text in (f"frame {self._frame}  ·  {self.doc.playhead / SAMPLE_RATE:.3f} s", f"frame {self._frame}"):
            if metrics.horizontalAdvance(text) <= room:
                return text
        return ""

    @property
    def shown_frame(self) -> int:
        return self._shown_frame

    def shutdown(self) -> None:
        self._worker.stop()
