"""Track reorder, ripple delete and overlap crossfades driven through the real editor (pytest-qt,
offscreen): header drags, context menus and shortcuts, each one undo step that restores the
project exactly. Media (stationary noise) is synthesised per test in tmp_path."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QMenu

from foley_studio.core.project import Clip, Marker, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.main_window import MainWindow
from foley_studio.ui.timeline_model import summed_overlaps
from foley_studio.ui.timeline_paint import OVERLAP_COLOUR
from tests.media_fixtures import make_tone
from tests.ui_helpers import forbid_modal_dialogs, show_editor

pytestmark = pytest.mark.gui

SR = SAMPLE_RATE


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    forbid_modal_dialogs(monkeypatch)


def _project(tmp_path: Path) -> Project:
    rng = np.random.default_rng(11)
    noise = str(make_tone(tmp_path / "noise.wav", data=(0.2 * rng.standard_normal(2 * SR)).astype(np.float32),
                          subtype="FLOAT"))
    tone = str(make_tone(tmp_path / "tone.wav", seconds=1.0, freq=330.0, amplitude=0.5))

    def clip(cid: str, source: str, start: float, source_in: float, seconds: float, **kw) -> Clip:
        return Clip(id=cid, source=source, start=int(start * SR), source_in=int(source_in * SR),
                    source_out=int((source_in + seconds) * SR), name=cid, source_length=2 * SR, **kw)
    a = Track(id="track-a", name="Steps", clips=[
        clip("a1", noise, 0.5, 0.0, 1.0, fade_in=480, gain_db=-1.5),
        clip("a2", noise, 2.0, 0.5, 1.0, fade_out=960),
        clip("a3", noise, 3.5, 1.0, 0.5),
    ])
    b = Track(id="track-b", name="Cloth", clips=[clip("b1", tone, 1.0, 0.0, 1.0)], gain_db=-3.0)
    c = Track(id="track-c", name="Props")
    return Project(tracks=[a, b, c], markers=[Marker(id="marker-1", time=3 * SR, name="hit")], name="edit")


@pytest.fixture
def window(qtbot, tmp_path) -> MainWindow:
    win = show_editor(qtbot, MainWindow(_project(tmp_path), audio=False, restore_layout=False), 5 * SR)
    win.activateWindow()
    qtbot.waitActive(win)              # shortcuts only reach an active window
    win.canvas.setFocus()
    yield win
    win.shutdown()


def _pause(qtbot) -> None:
    # Wait out the double-click interval so the next press is not read as a double click.
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 20)


def _drag(qtbot, widget, start: QPointF, end: QPointF, steps: int = 6) -> None:
    _pause(qtbot)
    qtbot.mousePress(widget, Qt.LeftButton, pos=start.toPoint())
    for i in range(1, steps + 1):
        qtbot.mouseMove(widget, pos=(start + (end - start) * (i / steps)).toPoint())
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=end.toPoint())


def _click(qtbot, widget, pos: QPointF, modifier=Qt.NoModifier) -> None:
    _pause(qtbot)
    qtbot.mouseClick(widget, Qt.LeftButton, modifier, pos.toPoint())


def _clip_centre(win: MainWindow, clip_id: str) -> QPointF:
    project = win.doc.project
    row = project.tracks.index(project.track_of_clip(clip_id))
    rect = win.canvas.hits.clip_rect(project.find_clip(clip_id), row)
    return QPointF(rect.center().x(), rect.center().y() + 10)      # below the fade handle band


def _header(win: MainWindow, row: int) -> QPointF:
    g = win.canvas.geo
    return QPointF(g.header_width - 30, g.track_top(row) + 12)      # on the name, clear of M/S buttons


def _undo_all_restores(win: MainWindow, original: Project, steps: int) -> None:
    assert win.doc.history.count == steps
    for _ in range(steps):
        win.undo_action.trigger()
    assert win.doc.project == original


def _ids(project: Project) -> list[str]:
    return [t.id for t in project.tracks]


# ---- track reorder ----------------------------------------------------------------------------

def test_dragging_a_header_down_reorders_tracks_in_one_step(qtbot, window):
    doc, canvas = window.doc, window.canvas
    original = copy.deepcopy(doc.project)
    h = canvas.geo.track_height
    _drag(qtbot, canvas, _header(window, 0), _header(window, 0) + QPointF(0, 2 * h), steps=8)
    assert _ids(doc.project) == ["track-b", "track-c", "track-a"]
    assert [c.id for c in doc.project.tracks[2].clips] == ["a1", "a2", "a3"]
    assert canvas.geo.left == 0.0, "a header drag must not scroll the time axis"
    # Drawn where it now is: the clip a1 is hit on the bottom row.
    hit = canvas.hits.hit_clip(*(lambda p: (p.x(), p.y()))(_clip_centre(window, "a1")))
    assert hit is not None and hit[0].id == "a1" and hit[1].id == "track-a"
    # Dragging back up past the top clamps at row 0.
    _drag(qtbot, canvas, _header(window, 2), _header(window, 2) - QPointF(0, 5 * h), steps=8)
    assert _ids(doc.project) == ["track-a", "track-b", "track-c"]
    _undo_all_restores(window, original, 2)


def test_mute_button_click_still_toggles_and_does_not_reorder(qtbot, window):
    doc, canvas = window.doc, window.canvas
    mute = canvas.hits.button_rect(1, 0).center()
    _drag(qtbot, canvas, mute, mute + QPointF(0, canvas.geo.track_height))
    assert doc.project.track("track-b").mute and _ids(doc.project) == ["track-a", "track-b", "track-c"]


def test_alt_up_down_and_context_menu_move_the_selected_track(qtbot, window):
    doc, canvas = window.doc, window.canvas
    original = copy.deepcopy(doc.project)
    _click(qtbot, canvas, _header(window, 1))
    assert doc.selected_track == "track-b"
    qtbot.keyClick(canvas, Qt.Key_Up, Qt.AltModifier)
    assert _ids(doc.project) == ["track-b", "track-a", "track-c"]
    qtbot.keyClick(canvas, Qt.Key_Up, Qt.AltModifier)              # already on top: no step
    assert doc.history.count == 1
    qtbot.keyClick(canvas, Qt.Key_Down, Qt.AltModifier)
    qtbot.keyClick(canvas, Qt.Key_Down, Qt.AltModifier)
    assert _ids(doc.project) == ["track-a", "track-c", "track-b"]

    chosen: list[str] = []

    def pick() -> None:     # the menu is open (modal): choose "Move track up" as a user would
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        actions = {a.text(): a for a in menu.actions()}
        chosen.append(f"down enabled: {actions['Move track down'].isEnabled()}")
        menu.close()
        actions["Move track up"].trigger()
    QTimer.singleShot(100, pick)
    qtbot.mouseClick(canvas, Qt.RightButton, pos=_header(window, 2).toPoint())
    qtbot.waitUntil(lambda: bool(chosen), timeout=3000)
    assert chosen == ["down enabled: False"], "the bottom track cannot move down"
    assert _ids(doc.project) == ["track-a", "track-b", "track-c"]
    _undo_all_restores(window, original, 4)


# ---- ripple delete ------------------------------------------------------------------------------

def test_shift_delete_ripples_the_selected_clip_out_of_its_track(qtbot, window):
    doc, canvas = window.doc, window.canvas
    original = copy.deepcopy(doc.project)
    _click(qtbot, canvas, _clip_centre(window, "a2"))
    assert doc.selected_clips == ["a2"]
    qtbot.keyClick(canvas, Qt.Key_Delete, Qt.ShiftModifier)
    track = doc.project.track("track-a")
    assert [(c.id, c.start, c.end) for c in track.clips] == [("a1", SR // 2, 3 * SR // 2),
                                                             ("a3", 5 * SR // 2, 3 * SR)]
    a3 = track.clip("a3")
    assert (a3.source_in, a3.source_out) == (SR, 3 * SR // 2)
    assert doc.project.track("track-b") == original.track("track-b")
    assert doc.project.markers == original.markers
    assert window.undo_action.text().endswith("Ripple delete 1 clip")
    _undo_all_restores(window, original, 1)


def test_shift_delete_of_clips_on_two_tracks_is_one_step(qtbot, window):
    doc, canvas = window.doc, window.canvas
    original = copy.deepcopy(doc.project)
    doc.select_clips(["a1", "a3", "b1"])
    qtbot.keyClick(canvas, Qt.Key_Delete, Qt.ShiftModifier)
    # a3 goes first (latest first), then a1's second: a2 ends up at 2.0 - 1.0 s.
    assert [(c.id, c.start) for c in doc.project.track("track-a").clips] == [("a2", SR)]
    assert doc.project.track("track-b").clips == []
    assert doc.selected_clips == []
    _undo_all_restores(window, original, 1)


def test_shift_delete_ripples_a_region_out_of_the_selected_track(qtbot, window):
    doc, canvas = window.doc, window.canvas
    original = copy.deepcopy(doc.project)
    g = canvas.geo
    _click(qtbot, canvas, QPointF(g.x_of(4.5 * SR), g.track_top(0) + 30))   # empty lane: selects track-a
    assert doc.selected_track == "track-a" and doc.selected_clips == []
    # Region from 1.0 s to 2.5 s dragged on the ruler: the end of a1 and the start of a2.
    _drag(qtbot, canvas, QPointF(g.x_of(SR), 10), QPointF(g.x_of(5 * SR // 2), 10))
    lo, hi = doc.region
    assert abs(lo - SR) <= 2 * g.samples_per_pixel and abs(hi - 5 * SR // 2) <= 2 * g.samples_per_pixel
    qtbot.keyClick(canvas, Qt.Key_Delete, Qt.ShiftModifier)
    gap = hi - lo
    clips = {c.id: c for c in doc.project.track("track-a").clips}
    assert sorted(clips) == ["a1", "a2", "a3"]
    assert (clips["a1"].start, clips["a1"].end) == (SR // 2, lo)
    assert (clips["a2"].start, clips["a2"].end, clips["a2"].source_in) == (lo, 3 * SR - gap, SR // 2 + hi - 2 * SR)
    assert clips["a3"].start == 7 * SR // 2 - gap
    assert doc.project.track("track-b") == original.track("track-b")
    _undo_all_restores(window, original, 1)


# ---- crossfade overlap --------------------------------------------------------------------------

def _colour_at(canvas, pos: QPointF) -> QColor:
    return canvas.grab().toImage().pixelColor(int(pos.x()), int(pos.y()))


def _is_amber(colour: QColor) -> bool:
    ref = QColor(OVERLAP_COLOUR)
    return all(abs(a - b) <= 12 for a, b in ((colour.red(), ref.red()), (colour.green(), ref.green()),
                                                (colour.blue(), ref.blue())))


def test_summed_overlaps_lists_overlaps_that_are_not_exact_crossfades():
    def c(cid: str, start: int, end: int, fade_in: int = 0, fade_out: int = 0) -> Clip:
        return Clip(id=cid, source="/x.wav", start=start, source_in=0, source_out=end - start,
                    fade_in=fade_in, fade_out=fade_out)
    clips = [c("late", 900, 1_500, fade_in=100), c("early", 0, 1_000, fade_out=100),   # crossfaded exactly
             c("inner", 200, 300),                                                    # inside "early"
             c("next", 1_400, 2_000, fade_in=50)]                                     # fade shorter than overlap
    assert summed_overlaps(clips) == [(200, 300), (1_400, 1_500)]
    assert summed_overlaps([c("a", 0, 10), c("b", 10, 20)]) == []                     # touching is not overlapping
    # Three at once always sum, even where two of them crossfade; adjacent summed spans merge.
    stacked = [c("p", 0, 100, fade_out=50), c("q", 50, 150, fade_in=50), c("r", 60, 200)]
    assert summed_overlaps(stacked) == [(60, 150)]


def _rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


def test_x_crossfades_two_overlapping_selected_clips_without_a_level_bump(qtbot, window):
    from foley_studio.media.mixdown import mixdown
    doc, canvas = window.doc, window.canvas
    g = canvas.geo
    original = copy.deepcopy(doc.project)
    doc.project.track("track-b").mute = True      # listen to the noise track alone
    original.track("track-b").mute = True
    # Drag a2 left by ~0.8 s so it overlaps the last ~0.3 s of a1.
    start = _clip_centre(window, "a2")
    _drag(qtbot, canvas, start, start - QPointF(0.8 * SR / g.samples_per_pixel, 0))
    a1, a2 = doc.project.find_clip("a1"), doc.project.find_clip("a2")
    overlap = a1.end - a2.start
    assert 0.25 * SR < overlap < 0.35 * SR
    _click(qtbot, canvas, _clip_centre(window, "a1"))
    _click(qtbot, canvas, _clip_centre(window, "a2"), Qt.ControlModifier)
    assert sorted(doc.selected_clips) == ["a1", "a2"]
    bumped = _rms_db(mixdown(doc.project, a2.start, a1.end))
    # The summed overlap is flagged by an amber bar along the bottom of the lane, until crossfaded.
    bar = QPointF(g.x_of((a2.start + a1.end) / 2), canvas.hits.clip_rect(a1, 0).bottom() - 2)
    assert _is_amber(_colour_at(canvas, bar))
    qtbot.keyClick(canvas, Qt.Key_X)
    assert not _is_amber(_colour_at(canvas, bar))
    assert (a1.fade_in, a1.fade_out) == (480, overlap)
    assert (a2.fade_in, a2.fade_out) == (overlap, 960)
    # The level through the overlap matches the clips' level around it (it was ~3 dB up).
    inside = _rms_db(mixdown(doc.project, a2.start, a1.end))
    around = _rms_db(np.concatenate([mixdown(doc.project, a1.start + SR // 10, a2.start),
                                     mixdown(doc.project, a1.end, a2.end - SR // 10)]))
    assert abs(inside - around) <= 1.5 and bumped - around > 2.0
    _undo_all_restores(window, original, 2)


def test_x_on_the_clip_under_the_mouse_crossfades_it_with_its_neighbour(qtbot, window):
    doc, canvas = window.doc, window.canvas
    g = canvas.geo
    original = copy.deepcopy(doc.project)
    # Trim a3's left edge out to 2.75 s: it now overlaps the last 0.25 s of a2.
    rect = canvas.hits.clip_rect(doc.project.find_clip("a3"), 0)
    edge = QPointF(rect.left() + 2, rect.center().y() + 10)
    _drag(qtbot, canvas, edge, QPointF(g.x_of(11 * SR // 4), edge.y()))
    a2, a3 = doc.project.find_clip("a2"), doc.project.find_clip("a3")
    overlap = a2.end - a3.start
    assert abs(overlap - SR // 4) <= 2 * g.samples_per_pixel
    _click(qtbot, canvas, QPointF(g.x_of(4.6 * SR), g.track_top(0) + 30))   # empty lane: nothing selected
    assert doc.selected_clips == []
    qtbot.keyClick(canvas, Qt.Key_X)                                         # the mouse is not on a clip
    assert doc.history.count == 1
    qtbot.mouseMove(canvas, _clip_centre(window, "a3").toPoint())
    qtbot.keyClick(canvas, Qt.Key_X)
    assert (a2.fade_in, a2.fade_out, a3.fade_in, a3.fade_out) == (0, overlap, overlap, 0)
    _undo_all_restores(window, original, 2)
