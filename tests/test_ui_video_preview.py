"""The picture panel's frame/seconds label never overlaps the timecode in a narrow panel."""
from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtGui import QFont, QFontMetrics

from foley_studio.ui.video_preview import VideoPreview


def test_detail_label_shortens_then_disappears_as_room_shrinks(qapp):
    metrics = QFontMetrics(QFont())
    panel = SimpleNamespace(_frame=44, doc=SimpleNamespace(playhead=89_856))
    full = "frame 44  ·  1.872 s"
    fit = VideoPreview._fitting_detail
    assert fit(panel, metrics, metrics.horizontalAdvance(full)) == full
    assert fit(panel, metrics, metrics.horizontalAdvance(full) - 1) == "frame 44"
    assert fit(panel, metrics, metrics.horizontalAdvance("frame 44") - 1) == ""
