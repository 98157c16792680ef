"""Dragging the playhead by its handle in the ruler scrubs (pytest-qt, offscreen): every move is a
seek, the ruler's region drag still works elsewhere, and the window turns the seeks into grains."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from foley_studio.core.project import Marker, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.document import ProjectDocument
from foley_studio.ui.timeline_view import TimelineCanvas

pytestmark = pytest.mark.gui

SR = SAMPLE_RATE


@pytest.fixture
def canvas(qtbot) -> TimelineCanvas:
    project = Project(tracks=[Track(id="track-a", name="Steps"), Track(id="track-b", name="Cloth")],
                      markers=[Marker(id="marker-1", time=6 * SR, name="hit")], name="scrub")
    view = TimelineCanvas(ProjectDocument(project))
    qtbot.addWidget(view)
    view.resize(1000, 300)
    view.show()
    qtbot.waitExposed(view)
    view.zoom_to(0, 10 * SR)
    view.snapping = False
    view.doc.set_playhead(2 * SR)
    yield view
    view.thumbnails.shutdown()           # its worker thread must end before Qt deletes the widget
    view.waveforms.wait(5000)


def _press(qtbot, widget, pos: QPointF) -> None:
    # Wait out the double-click interval so this press is not read as the second click of the last.
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 20)
    qtbot.mousePress(widget, Qt.LeftButton, pos=pos.toPoint())


def _drag(qtbot, widget, start: QPointF, end: QPointF, steps: int = 5) -> None:
    _press(qtbot, widget, start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(widget, pos=(start + (end - start) * (i / steps)).toPoint())
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=end.toPoint())


def _seeks(canvas: TimelineCanvas) -> list[int]:
    seen: list[int] = []
    canvas.seekRequested.connect(seen.append)
    return seen


def test_dragging_the_playhead_handle_seeks_on_every_move(qtbot, canvas):
    g, doc = canvas.geo, canvas.doc
    seen = _seeks(canvas)
    start, end = QPointF(g.x_of(2 * SR), 4), QPointF(g.x_of(4.5 * SR), 4)
    _press(qtbot, canvas, start)
    assert seen == [] and doc.playhead == 2 * SR, "grabbing the handle does not move the playhead"
    assert canvas.cursor().shape() == Qt.SizeHorCursor
    for i in range(1, 6):
        qtbot.mouseMove(canvas, pos=(start + (end - start) * (i / 5)).toPoint())
        assert len(seen) == i and doc.playhead == seen[-1]
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=end.toPoint())
    assert all(b > a for a, b in zip(seen, seen[1:])), seen
    assert seen[0] > 2 * SR
    assert abs(doc.playhead - 4.5 * SR) <= g.samples_per_pixel
    assert doc.region is None, "a playhead drag is not a region drag"
    assert canvas.tool is None and len(seen) == 5
    qtbot.mouseMove(canvas, pos=QPointF(end.x() + 40, 4).toPoint())     # a hover after release: no seeks
    assert len(seen) == 5


def test_a_press_elsewhere_in_the_ruler_still_selects_a_region(qtbot, canvas):
    g, doc = canvas.geo, canvas.doc
    seen = _seeks(canvas)
    _drag(qtbot, canvas, QPointF(g.x_of(3 * SR), 4), QPointF(g.x_of(5 * SR), 4))
    lo, hi = doc.region
    assert abs(lo - 3 * SR) <= g.samples_per_pixel and abs(hi - 5 * SR) <= g.samples_per_pixel
    assert len(seen) == 1 and abs(seen[0] - 3 * SR) <= g.samples_per_pixel, "the press seeks, the drag does not"
    assert doc.playhead == seen[0]


def test_a_click_on_the_handle_keeps_the_playhead_and_the_region(qtbot, canvas):
    g, doc = canvas.geo, canvas.doc
    doc.set_region((SR, 3 * SR))
    seen = _seeks(canvas)
    at = QPointF(g.x_of(2 * SR) + 3, 6)         # 3 px off the line: still the handle
    _press(qtbot, canvas, at)
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=at.toPoint())
    assert seen == [] and doc.playhead == 2 * SR and doc.region == (SR, 3 * SR)


def test_cursor_turns_horizontal_over_the_handle_only(qtbot, canvas):
    g = canvas.geo
    x = g.x_of(2 * SR)
    qtbot.mouseMove(canvas, pos=QPointF(x + 2, 8).toPoint())
    assert canvas.cursor().shape() == Qt.SizeHorCursor
    qtbot.mouseMove(canvas, pos=QPointF(x + 40, 8).toPoint())
    assert canvas.cursor().shape() == Qt.ArrowCursor
    qtbot.mouseMove(canvas, pos=QPointF(x, g.tracks_top + 20).toPoint())   # the line in a lane is no handle
    assert canvas.cursor().shape() == Qt.ArrowCursor


def test_playhead_drag_snaps_to_markers_but_not_to_where_it_started(qtbot, canvas):
    g, doc = canvas.geo, canvas.doc
    canvas.snapping = True
    seen = _seeks(canvas)
    start = QPointF(g.x_of(2 * SR), 4)
    _press(qtbot, canvas, start)
    qtbot.mouseMove(canvas, pos=(start + QPointF(6, 0)).toPoint())    # inside 8 px of its own start
    assert doc.playhead > 2 * SR, "the playhead's own position must not hold it"
    near_marker = QPointF(g.x_of(6 * SR) + 5, 4)
    qtbot.mouseMove(canvas, pos=near_marker.toPoint())
    assert doc.playhead == 6 * SR and canvas.snap_guide == 6 * SR
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=near_marker.toPoint())
    assert seen[-1] == 6 * SR and canvas.snap_guide is None


def test_marker_under_the_playhead_keeps_its_flag_the_triangle_grabs_the_playhead(qtbot, canvas):
    g, doc = canvas.geo, canvas.doc
    doc.set_playhead(6 * SR)                    # on the marker
    x = g.x_of(6 * SR)
    _drag(qtbot, canvas, QPointF(x, g.ruler_height - 8), QPointF(x + 100, g.ruler_height - 8))
    moved = doc.project.markers[0].time
    assert moved > 6 * SR and doc.playhead == 6 * SR, "the flag's band drags the marker"
    _drag(qtbot, canvas, QPointF(x, 4), QPointF(x - 100, 4))
    assert doc.playhead < 6 * SR and doc.project.markers[0].time == moved


def test_editor_window_scrubs_while_the_playhead_is_dragged(qtbot):
    """main_window turns each seek of a stopped transport into `PlaybackController.scrub`."""
    from foley_studio.ui.main_window import MainWindow

    class RecordingPlayback:
        playing = False

        def __init__(self) -> None:
            self.grains: list[int] = []

        def scrub(self, position: int) -> None:
            self.grains.append(position)

    project = Project(tracks=[Track(id="track-a", name="Steps")], name="scrub")
    win = MainWindow(project, audio=False, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1200, 700)
    win.show()
    qtbot.waitExposed(win)
    win.playback = RecordingPlayback()          # the window reads it at each seek
    try:
        canvas = win.canvas
        canvas.zoom_to(0, 10 * SR)
        canvas.snapping = False
        win.doc.set_playhead(SR)
        g = canvas.geo
        _drag(qtbot, canvas, QPointF(g.x_of(SR), 4), QPointF(g.x_of(3 * SR), 4), steps=6)
        grains = win.playback.grains
        assert len(grains) == 6 and grains == sorted(grains) and grains[-1] == win.doc.playhead
    finally:
        win.playback = None
        win.shutdown()


def test_a_playhead_scrolled_off_the_left_is_not_grabbed(qtbot, canvas):
    g, doc = canvas.geo, canvas.doc
    doc.set_playhead(0)
    canvas.scroll_to(2 * g.samples_per_pixel)               # playhead 2 px left of the lanes: hidden
    assert g.x_of(0) < g.header_width
    assert not canvas.hits.on_playhead_handle(g.header_width + 2, 4)
    canvas.scroll_to(0)
    assert canvas.hits.on_playhead_handle(g.x_of(0) + 2, 4)
