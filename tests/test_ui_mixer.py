"""The mixer in the track headers and around it, driven like a user: fader and pan drags, typed values,
double-click resets, Escape, undo; meters per track; mute/solo dimming; the stereo bus; the output
device chooser; the export dialog's levels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionSlider

from foley_studio.core.project import Clip, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE as SR
from foley_studio.ui.main_window import MainWindow
from foley_studio.ui.track_controls import fader_db, fader_position, parse_pan, pan_text
from tests.media_fixtures import make_tone

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path):
    loud = make_tone(tmp_path / "loud.wav", seconds=2.0, freq=220.0, amplitude=0.8)
    soft = make_tone(tmp_path / "soft.wav", seconds=2.0, freq=440.0, amplitude=0.3)
    project = Project(tracks=[Track(id="t1", name="Hits", clips=[Clip("c1", str(loud), 0, 0, 2 * SR)]),
                              Track(id="t2", name="Room", clips=[Clip("c2", str(soft), 0, 0, 2 * SR)])])
    win = MainWindow(project, audio=False, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.canvas.zoom_to(0, 3 * SR)
    qtbot.waitUntil(lambda: all(win.waveforms.pyramid(c.source) is not None
                                for t in win.doc.project.tracks for c in t.clips), timeout=10_000)
    yield win
    win.shutdown()


def _mouse(widget, kind: QEvent.Type, pos: QPointF, buttons=Qt.LeftButton) -> None:
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos.toPoint()), Qt.LeftButton, buttons, Qt.NoModifier)
    QApplication.sendEvent(widget, event)


def _handle_centre(slider) -> QPointF:
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    rect = slider.style().subControlRect(QStyle.CC_Slider, option, QStyle.SC_SliderHandle, slider)
    return QPointF(rect.center())


def _drag_fader(slider, dx: float, *, release: bool = True) -> None:
    start = _handle_centre(slider)
    _mouse(slider, QEvent.MouseButtonPress, start)
    for step in range(1, 6):
        _mouse(slider, QEvent.MouseMove, start + QPointF(dx * step / 5, 0))
    if release:
        _mouse(slider, QEvent.MouseButtonRelease, start + QPointF(dx, 0), Qt.NoButton)


def test_fader_law_and_pan_text_round_trip():
    assert fader_db(fader_position(0.0)) == pytest.approx(0.0, abs=0.05)
    assert fader_db(fader_position(-20.0)) == pytest.approx(-20.0, abs=0.1)
    assert fader_db(0) == -96.0 and fader_db(1000) == 12.0
    assert [pan_text(p) for p in (-1.0, -0.3, 0.0, 0.45)] == ["L100", "L30", "C", "R45"]
    assert [parse_pan(t) for t in ("L30", "r 45", "C", "-20", "+5", "L200", "x")] == [-0.3, 0.45, 0.0, -0.2, 0.05,
                                                                                       None, None]


def test_a_fader_drag_is_one_undo_step(qtbot, window):
    strip = window.canvas.track_controls.strip("t1")
    assert strip.fader.isVisible() and strip.gain.isVisible() and strip.pan.isVisible()
    steps = window.doc.history.index
    _drag_fader(strip.fader, -40)
    gain = window.doc.project.track("t1").gain_db
    assert gain < -3.0, "dragging the fader left lowers the track's gain"
    assert gain == pytest.approx(fader_db(strip.fader.value()), abs=0.05)
    assert strip.gain.value() == pytest.approx(gain), "the number follows the fader"
    assert window.doc.history.index == steps + 1 and window.doc.history.undo_text == "Fader of Hits"
    window.doc.undo()
    assert window.doc.project.track("t1").gain_db == 0.0
    assert strip.fader.value() == fader_position(0.0) and strip.gain.value() == 0.0, "undo moves the fader back"


def test_escape_during_a_fader_drag_cancels_it(qtbot, window):
    strip = window.canvas.track_controls.strip("t1")
    steps = window.doc.history.index
    strip.fader.setFocus()
    _drag_fader(strip.fader, -40, release=False)
    assert window.doc.project.track("t1").gain_db < -3.0
    QTest.keyClick(strip.fader, Qt.Key_Escape)
    assert window.doc.project.track("t1").gain_db == 0.0 and window.doc.history.index == steps
    _mouse(strip.fader, QEvent.MouseMove, _handle_centre(strip.fader) + QPointF(-30, 0))   # still held: ignored
    _mouse(strip.fader, QEvent.MouseButtonRelease, _handle_centre(strip.fader), Qt.NoButton)
    assert window.doc.project.track("t1").gain_db == 0.0 and window.doc.history.index == steps


def test_typed_gain_and_pan_and_double_click_resets(qtbot, window):
    strip = window.canvas.track_controls.strip("t2")
    window.activateWindow()
    qtbot.waitActive(window)
    strip.gain.setFocus()
    strip.gain.selectAll()
    QTest.keyClicks(strip.gain, "-7.5")
    QTest.keyClick(strip.gain, Qt.Key_Return)
    assert window.doc.project.track("t2").gain_db == -7.5
    assert strip.fader.value() == fader_position(-7.5)
    strip.pan_box.setFocus()
    strip.pan_box.selectAll()
    QTest.keyClicks(strip.pan_box, "L30")
    QTest.keyClick(strip.pan_box, Qt.Key_Return)
    assert window.doc.project.track("t2").pan == pytest.approx(-0.3)
    assert strip.pan.value() == -30 and strip.pan_box.text() == "L30"
    QTest.mouseDClick(strip.pan, Qt.LeftButton)
    assert window.doc.project.track("t2").pan == 0.0 and strip.pan_box.text() == "C"
    QTest.mouseDClick(strip.fader, Qt.LeftButton, pos=QPoint(5, strip.fader.height() // 2))
    assert window.doc.project.track("t2").gain_db == 0.0
    texts = [window.doc.history.undo_text]
    while window.doc.history.can_undo:
        window.doc.undo()
        texts.append(window.doc.history.undo_text)
    assert window.doc.project.track("t2").gain_db == 0.0 and window.doc.project.track("t2").pan == 0.0
    assert "Change track pan" in texts and "Change track gain" in texts


def test_track_meters_follow_what_is_heard(qtbot, window):
    from foley_studio.session.playback import OutputLevels
    meters = {tid: s.meter for tid, s in window.canvas.track_controls.strips.items()}
    window.meter.levelsRead.emit(OutputLevels((0.5, 0.5), {"t1": 0.5, "t2": 10 ** (-30 / 20)}, None, None))
    assert meters["t1"].state.level_db == pytest.approx(-6.02, abs=0.05)
    assert meters["t2"].state.level_db == pytest.approx(-30.0, abs=0.05)
    image = meters["t1"].grab().toImage()
    lit = image.pixelColor(3, int(meters["t1"].y_of(-9.0)))
    assert lit.red() > 180 and lit.green() > 150, "the -6 dB bar reaches the yellow zone"
    window.meter.levelsRead.emit(None)                   # nothing heard: the meters fall (not freeze)
    assert meters["t1"].state.level_db <= -6.0


def _lane_brightness(window, track_index: int) -> float:
    canvas = window.canvas
    image = QImage(canvas.size(), QImage.Format_RGB32)
    painter = QPainter(image)
    canvas.paint(painter)
    painter.end()
    g = canvas.geo
    top = g.track_top(track_index)
    x0, x1 = int(g.x_of(SR // 4)), int(g.x_of(SR + SR // 2))
    values = [image.pixelColor(x, y).lightness() for x in range(x0, x1, 7) for y in range(top + 20, top + 60, 5)]
    return float(np.mean(values))


def test_muted_and_not_soloed_tracks_are_dimmed(qtbot, window):
    before = _lane_brightness(window, 0), _lane_brightness(window, 1)
    strip = window.canvas.track_controls.strip("t1")
    window.canvas.commands.apply(__import__("foley_studio.core.edits", fromlist=["SetTrackProps"]).SetTrackProps(
        "t1", mute=True))
    muted = _lane_brightness(window, 0)
    assert muted < 0.8 * before[0], "a muted track's clips are drawn dimmed"
    assert _lane_brightness(window, 1) == pytest.approx(before[1], rel=0.02)
    window.doc.undo()
    window.canvas.commands.apply(__import__("foley_studio.core.edits", fromlist=["SetTrackProps"]).SetTrackProps(
        "t2", solo=True))
    assert _lane_brightness(window, 0) < 0.8 * before[0], "soloing another track dims this one"
    assert _lane_brightness(window, 1) == pytest.approx(before[1], rel=0.02)
    assert strip.meter.isVisible()


def test_the_stereo_bus_switch_is_undoable_and_disables_pan(qtbot, window):
    strip = window.canvas.track_controls.strip("t1")
    assert window.stereo_action.isChecked() and strip.pan.isEnabled()
    window.stereo_action.trigger()
    assert window.doc.project.mix_channels == 1 and not strip.pan.isEnabled() and not strip.pan_box.isEnabled()
    window.doc.undo()
    assert window.doc.project.mix_channels == 2 and window.stereo_action.isChecked() and strip.pan.isEnabled()


def test_output_device_is_chosen_remembered_and_used(qtbot, tmp_path, fake_sd, monkeypatch):
    from foley_studio.session.playback import AudioOutput
    from foley_studio.ui import main_window as mw
    from foley_studio.ui.preferences import PreferencesDialog
    from tests.ui_helpers import one_clip_project, ramp
    monkeypatch.setattr(AudioOutput, "devices", staticmethod(lambda: ["Speakers, ALSA", "USB interface, ALSA"]))
    monkeypatch.setattr("foley_studio.ui.playback.mixdown_renderer", lambda: ramp)
    dialog = PreferencesDialog(AudioOutput.devices(), None)
    qtbot.addWidget(dialog)
    assert [dialog.device.itemText(i) for i in range(dialog.device.count())] == [
        "System default", "Speakers, ALSA", "USB interface, ALSA"]
    dialog.device.setCurrentIndex(2)
    assert dialog.chosen_device() == "USB interface, ALSA"
    win = mw.MainWindow(one_clip_project(4), audio=True, restore_layout=False)
    qtbot.addWidget(win)
    try:
        win.set_output_device(dialog.chosen_device())
        assert mw.settings().value("playback/device") == "USB interface, ALSA"
        assert win.playback.play()
        assert fake_sd.streams[-1].device == "USB interface, ALSA"
        win.playback.stop()
    finally:
        win.shutdown()
    again = mw.MainWindow(one_clip_project(4), audio=True, restore_layout=False)    # remembered
    qtbot.addWidget(again)
    try:
        assert again.playback.output_device == "USB interface, ALSA"
    finally:
        again.shutdown()


def test_export_dialog_shows_clipping_and_the_limiter_removes_it(qtbot, tmp_path):
    from foley_studio.ui.export_dialog import ExportDialog
    hot = make_tone(tmp_path / "hot.wav", seconds=1.0, freq=220.0, amplitude=1.0, subtype="FLOAT")
    project = Project(tracks=[Track(id="t", name="Hot", gain_db=6.0, clips=[Clip("c", str(hot), 0, 0, SR)])])
    dialog = ExportDialog(project, tmp_path / "p.fsproj")
    qtbot.addWidget(dialog)
    qtbot.waitUntil(dialog.levels_ready, timeout=10_000)
    assert dialog.report.before.clipped > 0 and "clips" in dialog.levels.text()
    dialog.limiter.setChecked(True)
    dialog.loudness.setCurrentIndex(dialog.loudness.findData(-14.0))
    qtbot.waitUntil(dialog.levels_ready, timeout=10_000)
    assert dialog.report.after.clipped == 0 and dialog.report.after.true_peak_db <= -0.9
    assert "As exported" in dialog.levels.text()
    targets = dialog.targets()
    assert targets.mastering.ceiling_db == -1.0 and targets.mastering.loudness_lufs == -14.0
    assert targets.channels == 2


def test_labels_of_overlapping_clips_do_not_collide(qtbot):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QFont, QFontMetrics

    from foley_studio.ui.timeline_paint import layout_labels
    metrics = QFontMetrics(QFont())
    clips = [(Clip("a", "/x/first long clip name.wav", 0, 0, 1), QRectF(100, 10, 300, 70)),
             (Clip("b", "/x/second overlapping clip.wav", 0, 0, 1, gain_db=-6.0), QRectF(130, 10, 300, 70)),
             (Clip("c", "/x/third, later still.wav", 0, 0, 1), QRectF(150, 10, 300, 70)),
             (Clip("d", "/x/apart.wav", 0, 0, 1, gain_db=-6.0), QRectF(600, 10, 200, 70))]
    placed = layout_labels(clips, metrics, 0)
    rects = [QRectF(r.left(), r.top(), metrics.horizontalAdvance(t), r.height()) for r, t in placed]
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not a.intersects(b), f"labels overlap: {placed}"
    texts = [t for _r, t in placed]
    assert "apart.wav  -6.0 dB" in texts, f"a clip with room keeps its whole label and gain: {texts}"
    assert len(placed) == 3, "three clips starting within 50 px share two lines: one name is left to the tooltip"
    assert {r.top() for r, _t in placed} == {11.0, 25.0}, "the second line is used"
