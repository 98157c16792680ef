"""Each timeline gesture driven with real mouse presses, moves and releases in the editor window
(pytest-qt, offscreen): Escape in mid-drag undoes what the drag did and puts back the selection,
region and playhead of before the press, leaving no undo step; a finished drag is one step.
Media (tones) is synthesised per test in tmp_path."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from foley_studio.core.project import Clip, Marker, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.main_window import MainWindow
from tests.media_fixtures import make_tone
from tests.ui_helpers import forbid_modal_dialogs, show_editor

pytestmark = pytest.mark.gui

SR = SAMPLE_RATE


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    forbid_modal_dialogs(monkeypatch)


def _project(tmp_path: Path) -> Project:
    tone = str(make_tone(tmp_path / "tone.wav", seconds=2.0, freq=330.0, amplitude=0.5))

    def clip(cid: str, start: float, seconds: float, source_in: float = 0.0, **kw) -> Clip:
        return Clip(id=cid, source=tone, start=int(start * SR), source_in=int(source_in * SR),
                    source_out=int((source_in + seconds) * SR), name=cid, source_length=2 * SR, **kw)
    a = Track(id="track-a", name="Steps", clips=[clip("a1", 0.5, 1.0, fade_in=480), clip("a2", 2.0, 1.0, 0.5),
                                                  clip("a3", 3.5, 0.5, 1.0)])
    b = Track(id="track-b", name="Cloth", clips=[clip("b1", 1.0, 1.0)])
    return Project(tracks=[a, b, Track(id="track-c", name="Props")],
                   markers=[Marker(id="marker-1", time=3 * SR, name="hit")], name="tools")


@pytest.fixture
def window(qtbot, tmp_path) -> MainWindow:
    win = show_editor(qtbot, MainWindow(_project(tmp_path), audio=False, restore_layout=False), 5 * SR)
    win.activateWindow()
    qtbot.waitActive(win)              # window shortcuts (Escape, Ctrl+Z) only reach an active window
    win.canvas.setFocus()
    yield win
    win.shutdown()


def _press_and_drag(qtbot, canvas, start: QPointF, end: QPointF, steps: int = 6, modifier=Qt.NoModifier) -> None:
    """Press at `start` and move to `end`, leaving the button down."""
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 20)   # not read as a double click
    qtbot.mousePress(canvas, Qt.LeftButton, modifier, start.toPoint())
    for i in range(1, steps + 1):
        qtbot.mouseMove(canvas, pos=(start + (end - start) * (i / steps)).toPoint())


def _escape_then_release(qtbot, canvas, end: QPointF) -> None:
    qtbot.keyClick(canvas, Qt.Key_Escape)
    assert canvas.tool is None and canvas.snap_guide is None
    # The button is still down: moving on and letting go must do nothing more.
    qtbot.mouseMove(canvas, pos=(end + QPointF(40, 30)).toPoint())
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=(end + QPointF(40, 30)).toPoint())


def _view(doc) -> tuple:
    return list(doc.selected_clips), doc.selected_track, doc.region, doc.playhead


def _assert_as_before(window, project: Project, view: tuple, steps: int = 0) -> None:
    doc = window.doc
    assert doc.project == project
    assert _view(doc) == view
    assert doc.history.count == steps and not doc.history.can_redo


def _clip_centre(window, clip_id: str) -> QPointF:
    project = window.doc.project
    row = project.tracks.index(project.track_of_clip(clip_id))
    rect = window.canvas.hits.clip_rect(project.find_clip(clip_id), row)
    return QPointF(rect.center().x(), rect.center().y() + 10)      # below the fade handle band


def _before(window, *, clips=(), region=None, playhead=0) -> tuple[Project, tuple]:
    doc = window.doc
    doc.select_clips(list(clips))
    doc.set_region(region)
    doc.set_playhead(playhead)
    return copy.deepcopy(doc.project), _view(doc)


# ---- move ------------------------------------------------------------------------------------

def test_escape_mid_move_puts_the_clip_back_and_keeps_the_earlier_selection(qtbot, window):
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    project, view = _before(window, clips=["b1"], region=(4 * SR, 9 * SR // 2), playhead=SR // 4)
    start = _clip_centre(window, "a2")
    end = start + QPointF(0.6 * SR / g.samples_per_pixel, g.track_height)
    _press_and_drag(qtbot, canvas, start, end)
    assert doc.selected_clips == ["a2"] and doc.project.track_of_clip("a2").id == "track-b"
    assert doc.project.find_clip("a2").start > 2 * SR
    qtbot.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier)          # no undo under a half-done drag
    assert doc.project.track_of_clip("a2").id == "track-b"
    _escape_then_release(qtbot, canvas, end)
    _assert_as_before(window, project, view)
    # The canvas is usable straight away: the same drag, finished, is one undo step.
    _press_and_drag(qtbot, canvas, start, end)
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=end.toPoint())
    assert doc.project.track_of_clip("a2").id == "track-b" and doc.history.count == 1
    assert doc.history.undo_text == "Move clip"
    window.undo_action.trigger()
    assert doc.project == project


# ---- trim and fade ------------------------------------------------------------------------------

def test_escape_mid_trim_restores_the_edge(qtbot, window):
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    project, view = _before(window, clips=["a1"])
    rect = canvas.hits.clip_rect(doc.project.find_clip("a3"), 0)
    start = QPointF(rect.left() + 2, rect.center().y() + 10)
    end = QPointF(g.x_of(3.2 * SR), start.y())
    _press_and_drag(qtbot, canvas, start, end)
    a3 = doc.project.find_clip("a3")
    assert abs(a3.start - 3.2 * SR) <= 2 * g.samples_per_pixel and a3.end == 4 * SR
    _escape_then_release(qtbot, canvas, end)
    _assert_as_before(window, project, view)


def test_escape_mid_fade_restores_the_fade(qtbot, window):
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    project, view = _before(window, clips=["a1"])
    rect = canvas.hits.clip_rect(doc.project.find_clip("a1"), 0)
    start = QPointF(g.x_of(doc.project.find_clip("a1").start + 480), rect.top() + 2)
    end = start + QPointF(80, 0)
    _press_and_drag(qtbot, canvas, start, end)
    assert abs(doc.project.find_clip("a1").fade_in - (480 + 80 * g.samples_per_pixel)) <= 3 * g.samples_per_pixel
    _escape_then_release(qtbot, canvas, end)
    _assert_as_before(window, project, view)


# ---- region, marker, playhead (the ruler) ------------------------------------------------------------

def test_escape_mid_region_drag_restores_the_old_region_and_playhead(qtbot, window):
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    project, view = _before(window, region=(4 * SR, 9 * SR // 2), playhead=SR // 4)
    seeks: list[int] = []
    canvas.seekRequested.connect(seeks.append)
    start, end = QPointF(g.x_of(1.25 * SR), 14), QPointF(g.x_of(2.25 * SR), 14)
    _press_and_drag(qtbot, canvas, start, end)
    lo, hi = doc.region
    assert abs(lo - 1.25 * SR) <= g.samples_per_pixel and abs(hi - 2.25 * SR) <= g.samples_per_pixel
    assert doc.playhead == lo, "a press in the ruler seeks"
    _escape_then_release(qtbot, canvas, end)
    _assert_as_before(window, project, view)      # not cleared by the window's Escape shortcut
    assert seeks[-1] == SR // 4, "playback and the picture are sent back too"
    # Without a drag, Escape is the window's again: it clears the region.
    qtbot.keyClick(canvas, Qt.Key_Escape)
    assert doc.region is None


def test_a_marker_drag_is_one_step_and_escape_mid_drag_leaves_it_where_it_was(qtbot, window):
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    project, view = _before(window)
    start, end = QPointF(g.x_of(3 * SR), g.ruler_height - 8), QPointF(g.x_of(4 * SR), g.ruler_height - 8)
    _press_and_drag(qtbot, canvas, start, end)
    assert abs(doc.project.markers[0].time - 4 * SR) <= g.samples_per_pixel
    _escape_then_release(qtbot, canvas, end)
    _assert_as_before(window, project, view)
    _press_and_drag(qtbot, canvas, start, end)
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=end.toPoint())
    assert abs(doc.project.markers[0].time - 4 * SR) <= g.samples_per_pixel
    assert doc.history.count == 1 and doc.history.undo_text == "Move marker"
    assert doc.region is None, "a marker drag is not a region drag"
    window.undo_action.trigger()
    assert doc.project == project


def test_escape_mid_scrub_puts_the_playhead_back(qtbot, window):
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    project, view = _before(window, playhead=SR)
    seeks: list[int] = []
    canvas.seekRequested.connect(seeks.append)
    start, end = QPointF(g.x_of(SR), 4), QPointF(g.x_of(2.5 * SR), 4)
    _press_and_drag(qtbot, canvas, start, end)
    assert abs(doc.playhead - 2.5 * SR) <= g.samples_per_pixel and len(seeks) >= 5
    _escape_then_release(qtbot, canvas, end)
    _assert_as_before(window, project, view)
    assert seeks[-1] == SR


# ---- band select and track drag ------------------------------------------------------------------

def test_escape_mid_band_select_restores_the_selection(qtbot, window):
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    project, view = _before(window, clips=["a3"])
    start = QPointF(g.x_of(SR // 4), g.track_top(2) + 20)             # empty lane of the third track
    end = QPointF(g.x_of(int(2.4 * SR)), g.track_top(0) + 8)
    _press_and_drag(qtbot, canvas, start, end, modifier=Qt.ShiftModifier)
    assert sorted(doc.selected_clips) == ["a1", "a2", "a3", "b1"]
    assert canvas.tool is not None and canvas.tool.band is not None
    _escape_then_release(qtbot, canvas, end)
    _assert_as_before(window, project, view)


def test_escape_mid_track_drag_restores_the_track_order(qtbot, window):
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    project, view = _before(window)
    assert doc.selected_track == "track-c"       # by default the empty track (generation's target)
    start = QPointF(g.header_width - 30, g.track_top(1) + 12)           # on the name, clear of M/S
    end = start + QPointF(0, g.track_height)
    _press_and_drag(qtbot, canvas, start, end, steps=8)
    assert [t.id for t in doc.project.tracks] == ["track-a", "track-c", "track-b"]
    assert doc.selected_track == "track-b", "pressing a header selects its track"
    _escape_then_release(qtbot, canvas, end)
    assert [t.id for t in doc.project.tracks] == ["track-a", "track-b", "track-c"]
    _assert_as_before(window, project, view)
    assert canvas.cursor().shape() != Qt.ClosedHandCursor
