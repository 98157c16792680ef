"""Transport by hand: a click on a marker seeks (a drag moves it), J/K/L shuttle to 8x (J backwards, heard
through a fake sound device), next/previous marker keys, and Help ▸ Keyboard shortcuts built from the actions."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication

from foley_studio.core.project import Marker
from foley_studio.core.timebase import SAMPLE_RATE as SR
from foley_studio.session.transport import SHUTTLE_SPEEDS, next_marker_time, next_shuttle_rate
from foley_studio.ui.main_window import MainWindow
from foley_studio.ui.shortcuts import keys_text, shortcut_rows, show_shortcuts
from foley_studio.ui.timeline_view import CANVAS_KEYS
from tests.ui_helpers import forbid_modal_dialogs, one_clip_project, pull, ramp, show_editor

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, monkeypatch):
    forbid_modal_dialogs(monkeypatch)
    project = one_clip_project(20)
    project.markers = [Marker(id="m1", time=3 * SR, name="one"), Marker(id="m2", time=7 * SR, name="two")]
    win = show_editor(qtbot, MainWindow(project, audio=False, restore_layout=False), 10 * SR)
    win.activateWindow()
    qtbot.waitActive(win)                  # shortcuts only reach an active window
    win.canvas.setFocus()
    yield win
    win.shutdown()


def _click(qtbot, canvas, x: float, y: float) -> None:
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 20)     # never read as a double click
    qtbot.mouseClick(canvas, Qt.LeftButton, pos=QPoint(round(x), round(y)))


def test_shuttle_speeds_and_marker_steps_are_plain_rules():
    rates, rate = [], 0
    for _ in range(5):
        rate = next_shuttle_rate(rate, 1)
        rates.append(rate)
    assert rates == [1, 2, 4, 8, 8] and SHUTTLE_SPEEDS[-1] == 8
    assert next_shuttle_rate(8, -1) == -1 and next_shuttle_rate(-4, -1) == -8 and next_shuttle_rate(2, 0) == 0
    times = [3 * SR, 7 * SR]
    assert next_marker_time(times, 0, 1) == 3 * SR and next_marker_time(times, 3 * SR, 1) == 7 * SR
    assert next_marker_time(times, 7 * SR, 1) is None and next_marker_time(times, 7 * SR, -1) == 3 * SR
    assert next_marker_time(times, 3 * SR, -1) is None


def test_a_click_near_a_marker_seeks_to_it_and_a_drag_moves_it(qtbot, window):
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    y = g.ruler_height - 4                          # the marker flag's band of the ruler
    _click(qtbot, canvas, g.x_of(3 * SR) + 4, y)    # 4 px off the marker: within grabbing distance
    assert doc.playhead == 3 * SR
    assert doc.project.markers[0].time == 3 * SR and doc.history.count == 0, "a click moves no marker"
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 20)
    start = QPoint(round(g.x_of(7 * SR)) + 2, y)
    qtbot.mousePress(canvas, Qt.LeftButton, pos=start)
    for dx in (10, 30, 60):
        qtbot.mouseMove(canvas, pos=start + QPoint(dx, 0))
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=start + QPoint(60, 0))
    moved = doc.project.markers[1].time
    assert 50 * g.samples_per_pixel < moved - 7 * SR < 65 * g.samples_per_pixel
    assert doc.history.count == 1 and doc.history.undo_text == "Move marker"
    assert doc.playhead == 3 * SR, "dragging a marker does not seek"


def test_next_and_previous_marker_keys(qtbot, window):
    doc, canvas = window.doc, window.canvas
    doc.set_playhead(SR)
    qtbot.keyClick(canvas, Qt.Key_M, Qt.ShiftModifier)
    assert doc.playhead == 3 * SR
    qtbot.keyClick(canvas, Qt.Key_M, Qt.ShiftModifier)
    assert doc.playhead == 7 * SR
    qtbot.keyClick(canvas, Qt.Key_M, Qt.ShiftModifier)           # none after: stays, says so
    assert doc.playhead == 7 * SR and "No marker after" in window.statusBar().currentMessage()
    qtbot.keyClick(canvas, Qt.Key_M, Qt.ControlModifier | Qt.ShiftModifier)
    assert doc.playhead == 3 * SR


def test_j_shuttles_backwards_up_to_8x_heard_on_the_device(qtbot, fake_sd, monkeypatch):
    monkeypatch.setattr("foley_studio.ui.playback.mixdown_renderer", lambda: ramp)   # the mix names its sample
    win = show_editor(qtbot, MainWindow(one_clip_project(20), audio=True, restore_layout=False), 20 * SR)
    try:
        win.activateWindow()
        qtbot.waitActive(win)
        win.canvas.setFocus()
        start = 15 * SR
        win.doc.set_playhead(start)
        rates = []
        for _ in range(5):
            qtbot.keyClick(win.canvas, Qt.Key_J)
            rates.append(win.playback.output.rate)
        assert rates == [-1, -2, -4, -8, -8]
        out = win.playback.output
        heard = pull(out, fake_sd.streams[-1], SR // 2)
        expected = start - 1 - 8 * np.arange(len(heard))        # every 8th sample, going down
        assert np.array_equal(heard, expected.astype(np.float32))
        qtbot.wait(300)
        assert start - 8 * len(heard) <= win.doc.playhead <= start - SR, "the playhead runs back at speed"
        qtbot.keyClick(win.canvas, Qt.Key_K)
        assert not win.playback.playing
        qtbot.keyClick(win.canvas, Qt.Key_L)
        qtbot.keyClick(win.canvas, Qt.Key_L)
        assert win.playback.output.rate == 2
        qtbot.keyClick(win.canvas, Qt.Key_J)                          # the other way starts again at 1x
        assert win.playback.output.rate == -1
    finally:
        win.shutdown()


def test_the_shortcut_table_lists_every_action_with_a_key_and_cannot_drift(qtbot, window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles[-2:] == ["Generate", "Help"]              # Help stays the last menu
    extra = QAction("Frobnicate the timeline", window)   # an action added later is listed too
    extra.setShortcut(QKeySequence("Ctrl+Alt+F"))
    window.addAction(extra)
    help_menu = window.help_menu
    opener = next(a for a in help_menu.actions() if a.text().startswith("Keyboard shortcuts"))
    assert opener.shortcut().toString() == "Ctrl+/"
    opener.trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "Keyboard shortcuts")
    qtbot.waitExposed(dialog)
    table = {(dialog.table.item(r, 0).text(), dialog.table.item(r, 1).text()) for r in range(dialog.table.rowCount())}
    with_keys = [a for a in window.actions() if keys_text(a)]
    assert len(with_keys) > 40
    sequences = [s.toString() for a in with_keys for s in a.shortcuts()]
    assert len(sequences) == len(set(sequences)), "a key bound twice is ambiguous: Qt then runs neither"
    for action in with_keys:
        assert any(keys == keys_text(action) for keys, _name in table), action.text()
    names = {name for _keys, name in table}
    for expected in ("Undo", "Play / stop", "Next marker", "Previous marker", "Generate takes", "Audition take 3",
                     "Frobnicate the timeline", "Keyboard shortcuts"):
        assert expected in names, expected
    assert {(k, n) for k, n in CANVAS_KEYS} <= table
    assert len(dialog.rows) == len(with_keys) + len(CANVAS_KEYS) == dialog.table.rowCount()
    qtbot.keyClicks(dialog.filter, "marker")
    assert {r.name for r in dialog.visible_rows()} >= {"Add marker", "Next marker", "Previous marker"}
    assert all("marker" in (r.name + r.keys + r.menu).lower() for r in dialog.visible_rows())
    dialog.close()
    assert shortcut_rows(window) and show_shortcuts(window).close()
