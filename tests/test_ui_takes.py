"""The takes panel without a model: takes made of known tones, auditioned in context through a fake
sound device (A/B switching without a gap), keep/discard, gains, levels on one scale, the keyboard
flow, and the previews."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from foley_studio.core.edits import AddTake
from foley_studio.core.project import Clip, Take
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.session.playback import SEEK_MARGIN_SECONDS
from foley_studio.session.takes import context_mix, stated_level, take_level
from foley_studio.ui.main_window import MainWindow, project_from_video
from foley_studio.ui.takes_panel import make_preview
from tests.media_fixtures import make_tone, make_video, tone
from tests.ui_helpers import pull

pytestmark = pytest.mark.gui

SR = SAMPLE_RATE
REGION = (SR, 2 * SR)


@pytest.fixture
def window(qtbot, tmp_path: Path, fake_sd):
    video = make_video(tmp_path / "picture.mp4", seconds=3.0, fps=24, size=(64, 48), with_audio=False)
    bed = make_tone(tmp_path / "bed.wav", seconds=3.0, freq=110.0, amplitude=0.2)
    project = project_from_video(video, n_tracks=2)
    project.tracks[0].clips.append(Clip(id="clip-bed", source=str(bed), start=0, source_in=0, source_out=3 * SR,
                                        name="bed", source_length=3 * SR))
    win = MainWindow(project, audio=False, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    takes = []
    for i, freq in enumerate((440.0, 880.0, 1760.0)):
        path = make_tone(tmp_path / f"take{i}.wav", seconds=1.0, freq=freq, amplitude=0.5)
        take = Take(id=f"take-{i}", path=str(path), region_start=REGION[0], region_end=REGION[1],
                    settings={"seed": i, "cfg": 4.0, "mode": "text", "prompt": "beep"},
                    track_id=project.tracks[1].id, label=f"seed {i}")
        win.doc.apply(AddTake(take))
        takes.append(take)
    win.doc.set_region(REGION)
    win.streams = fake_sd.streams          # the auditioner's streams open on the fake device
    yield win
    win.shutdown()


def test_rows_follow_the_region_and_show_previews(qtbot, window):
    panel = window.generation.takes
    assert [r.take.id for r in panel.rows] == ["take-0", "take-1", "take-2"]
    qtbot.waitUntil(lambda: all(r.view.preview is not None for r in panel.rows), timeout=10_000)
    window.doc.set_region((0, SR // 2))          # no take overlaps: no rows
    assert panel.rows == [] and panel.empty_hint.isVisibleTo(panel)
    window.doc.set_region(None)                  # no region: every take of the project
    assert len(panel.rows) == 3


def test_preview_spectrogram_puts_a_tone_at_its_frequency():
    preview = make_preview(tone(1.0, freq=6000.0, amplitude=0.5))
    image = preview.spectrogram
    assert preview.maxs.max() == pytest.approx(0.5, abs=0.01)
    assert preview.mins.min() == pytest.approx(-0.5, abs=0.01)
    # Rows run from the top (24 kHz) down to 0 Hz: the brightest row sits a quarter of the way down.
    column = [image.pixelColor(image.width() // 2, y).lightness() for y in range(image.height())]
    brightest = int(np.argmax(column)) / (image.height() - 1)
    assert brightest == pytest.approx(1 - 6000 / 24000, abs=0.02)


def _heard_at_once(panel) -> None:
    """The fake device does not pace itself: count what the callback took as heard (the playhead)."""
    panel.auditioner.output.clock_ns = lambda: 2 ** 62


def test_audition_switches_takes_at_the_same_instant(window):
    panel = window.generation.takes
    panel.preroll.setValue(0.5)
    panel.audition_number(1)
    auditioner = panel.auditioner
    assert len(window.streams) == 1 and auditioner.playing
    start, end = auditioner.span
    assert start == REGION[0] - SR // 2                    # pre-roll before the region
    out, stream = auditioner.output, window.streams[0]
    _heard_at_once(panel)
    project = window.doc.project
    track = project.tracks[1].id
    mixes = {t.id: context_mix(project, t, track, start, end, channels=2) for t in project.takes}
    first = pull(out, stream, SR, stereo=True)              # 0.5 s pre-roll + 0.5 s of take 1
    np.testing.assert_allclose(first, mixes["take-0"][:, :SR], atol=1e-6)
    np.testing.assert_allclose(first[0], first[1], atol=1e-6)            # centred tracks: the same both sides
    # The context is the whole mix: the bed on the other track is heard under the take (centred: -3 dB).
    bed = tone(3.0, freq=110.0, amplitude=0.2)[start:start + SR // 2] * np.sqrt(0.5)
    np.testing.assert_allclose(first[0, :SR // 2], bed, atol=1e-4)
    switched_at = out._read
    panel.audition_number(2)                                # B while playing: same stream, no restart
    assert len(window.streams) == 1 and panel.current_take == "take-1"
    second = pull(out, stream, SR // 2, stereo=True)
    heard = second[0]
    old, new = mixes["take-0"][0, SR:SR + SR // 2], mixes["take-1"][0, SR:SR + SR // 2]
    cut = int(np.flatnonzero(np.abs(heard - old) > 1e-5)[0])
    assert cut / SR <= SEEK_MARGIN_SECONDS + 1e-9, f"switch heard {cut / SR:.3f} s later"
    np.testing.assert_allclose(heard[:cut], old[:cut], atol=1e-6)         # no gap before ...
    np.testing.assert_allclose(heard[cut:], new[cut:], atol=1e-6)         # ... and no jump in time after
    assert switched_at + cut == SR + cut
    auditioner._poll()
    assert window.doc.playhead == start + SR + SR // 2      # the picture follows the audition
    auditioner.stop()
    assert window.streams[0].closed and not auditioner.playing


def test_a_take_gain_is_heard_and_given_to_the_clip(window):
    panel = window.generation.takes
    panel.preroll.setValue(0.0)
    panel.rows[2].gain.setValue(-6.0)                       # typed into the row's box
    take = window.doc.project.take("take-2")
    assert take.gain_db == -6.0 and window.doc.history.undo_text == "Change take gain"
    panel.audition_number(3)
    _heard_at_once(panel)
    out, stream = panel.auditioner.output, window.streams[-1]
    heard = pull(out, stream, SR // 2, stereo=True)
    loud = tone(1.0, freq=1760.0, amplitude=0.5)[:SR // 2] * np.sqrt(0.5) * 10 ** (-6 / 20)
    bed = tone(3.0, freq=110.0, amplitude=0.2)[REGION[0]:REGION[0] + SR // 2] * np.sqrt(0.5)
    from foley_studio.core.edits import DEFAULT_CROSSFADE
    fade = DEFAULT_CROSSFADE                                # ApplyTake's short fade-in at the region's edge
    np.testing.assert_allclose(heard[0, fade:], (loud + bed)[fade:], atol=1e-4)
    panel.auditioner.stop()
    assert panel.use_take("take-2")
    clip = next(c for c in window.doc.project.tracks[1].clips if c.take_id == "take-2")
    assert clip.gain_db == -6.0


def test_takes_are_drawn_on_one_scale_with_their_levels(qtbot, window, tmp_path):
    quiet = make_tone(tmp_path / "quiet.wav", seconds=1.0, freq=440.0, amplitude=0.125, subtype="FLOAT")
    take = Take(id="take-q", path=str(quiet), region_start=REGION[0], region_end=REGION[1],
                settings={"seed": 2_147_483_000, "cfg": 3.5, "mode": "inpaint"}, track_id=window.doc.project.tracks[1].id)
    window.doc.apply(AddTake(take))
    panel = window.generation.takes
    qtbot.waitUntil(lambda: all(r.view.preview is not None for r in panel.rows), timeout=10_000)
    rows = {r.take.id: r for r in panel.rows}
    scales = {r.view.full_scale for r in panel.rows}
    assert len(scales) == 1 and scales.pop() == pytest.approx(0.5, rel=1e-3)    # the loudest take's peak
    loud, soft = rows["take-0"].view, rows["take-q"].view
    assert soft.wave_scale() == pytest.approx(loud.wave_scale())
    window.docks["takes"].show()
    window.docks["takes"].raise_()
    qtbot.wait(50)

    def drawn_height(view) -> int:
        image = view.grab().toImage()
        x = int(view.x_of((REGION[0] + REGION[1]) // 2))
        wave_rows = [y for y in range(int(view.height() * 0.55))
                     if image.pixelColor(x, y).blue() > 200 and image.pixelColor(x, y).red() > 150]
        return max(wave_rows) - min(wave_rows) + 1
    ratio = drawn_height(loud) / drawn_height(soft)
    assert 3.0 < ratio < 5.0, f"a take 12 dB quieter must look about 4x smaller, got {ratio:.2f}"
    info = rows["take-q"].info.text().splitlines()
    assert info[0] == "seed 2147483000", "the whole seed is shown"
    assert info[1].startswith("inpaint") and "γ 3.5" in info[1]
    assert info[2].startswith("-18.1 dBFS") and "LUFS" in info[2]             # 0.125 = -18.06 dBFS
    assert rows["take-q"].number.text() == "4"


def test_rows_past_eight_are_numbered_and_a_stated_level_is_shown(window, tmp_path):
    import json
    sidecar_take = None
    for i in range(7):
        path = make_tone(tmp_path / f"extra{i}.wav", seconds=1.0, freq=300.0 + 50 * i, amplitude=0.3)
        if i == 6:
            path.with_suffix(".json").write_text(json.dumps({"extra": {"level": {"peak_dbfs": -1.0,
                                                                                  "loudness_lufs": -16.0}}}))
        extra = Take(id=f"x{i}", path=str(path), region_start=REGION[0], region_end=REGION[1],
                     settings={"seed": i, "mode": "text"})
        window.doc.apply(AddTake(extra))
        sidecar_take = extra
    panel = window.generation.takes
    assert [r.number.text() for r in panel.rows] == [str(n) for n in range(1, 11)]
    assert "Press 8" in panel.rows[7].number.toolTip() and "Press" not in panel.rows[8].number.toolTip()
    level = stated_level(sidecar_take)
    assert level is not None and level.stated and (level.peak_db, level.loudness_lufs) == (-1.0, -16.0)
    measured = take_level(window.doc.project.take("x0"))
    assert not measured.stated and measured.peak_db == pytest.approx(20 * np.log10(0.3), abs=0.05)
    assert not panel.audition_number(9), "keys reach the first eight takes only"


def test_keyboard_flow_audition_then_enter_uses_the_take(qtbot, window):
    window.activateWindow()
    qtbot.waitActive(window)                 # shortcuts only reach an active window
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key_3)
    assert window.generation.takes.current_take == "take-2"
    QTest.keyClick(window.canvas, Qt.Key_Return)
    clips = window.doc.project.tracks[1].clips
    assert [(c.take_id, c.start, c.end) for c in clips] == [("take-2", REGION[0], REGION[1])]
    QTest.keyClick(window.canvas, Qt.Key_G)
    panel = window.generation.panel
    assert window.generation.panel.prompt.lineEdit().hasFocus()
    QTest.keyClicks(panel.prompt.lineEdit(), "glass 12")       # digits typed into the prompt stay text
    assert panel.prompt.currentText() == "glass 12"
    panel.steps.setFocus()
    panel.steps.selectAll()
    QTest.keyClicks(panel.steps, "17")                          # and into number fields
    assert panel.steps.value() == 17
    assert window.generation.takes.current_take == "take-2"


def test_discard_is_undoable_and_can_hide_the_row(window):
    panel = window.generation.takes
    panel.rows[1].keep_button.click()
    assert window.doc.project.take("take-1").kept is False
    assert panel.rows[1].keep_button.text() == "Restore"
    panel.hide_discarded.setChecked(True)
    assert [r.take.id for r in panel.rows] == ["take-0", "take-2"]
    window.doc.undo()
    assert window.doc.project.take("take-1").kept is True
    assert [r.take.id for r in panel.rows] == ["take-0", "take-1", "take-2"]
