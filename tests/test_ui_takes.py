"""The takes panel without a model: takes made of known tones, auditioned in context through a fake
output stream (A/B switching without a gap), keep/discard, the keyboard flow, and the previews."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from foley_studio.core.edits import AddTake
from foley_studio.core.project import Clip, Take
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.main_window import MainWindow, project_from_video
from foley_studio.session.takes import AuditionBuffers, context_mix
from foley_studio.ui.takes_panel import make_preview
from tests.media_fixtures import make_tone, make_video, tone

pytestmark = pytest.mark.gui

SR = SAMPLE_RATE
REGION = (SR, 2 * SR)


class FakeStream:
    """Stands in for a sounddevice stream: the test pulls blocks through the callback itself."""

    def __init__(self, callback):
        self.callback = callback
        self.stopped = False

    def pull(self, frames: int) -> np.ndarray:
        out = np.full((frames, 2), np.nan, np.float32)
        self.callback(out, frames)
        return out

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        pass


@pytest.fixture
def window(qtbot, tmp_path: Path):
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
    streams: list[FakeStream] = []
    win.generation.takes.auditioner.stream_factory = lambda cb: streams.append(FakeStream(cb)) or streams[-1]
    win.streams = streams
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


def test_audition_switches_takes_at_the_same_instant(window):
    panel = window.generation.takes
    panel.preroll.setValue(0.5)
    panel.audition_number(1)
    assert len(window.streams) == 1 and panel.auditioner.playing
    buffers = panel.auditioner.buffers
    assert buffers.start == REGION[0] - SR // 2            # pre-roll before the region
    stream = window.streams[0]
    project = window.doc.project
    track = project.tracks[1].id
    mixes = {t.id: context_mix(project, t, track, buffers.start, buffers.start + buffers.length)
             for t in project.takes}
    first = stream.pull(SR)                                 # 0.5 s pre-roll + 0.5 s of take 1
    np.testing.assert_allclose(first[:, 0], mixes["take-0"][:SR], atol=1e-6)
    np.testing.assert_array_equal(first[:, 0], first[:, 1])
    panel.audition_number(2)                                # B while playing: same stream, no restart
    assert len(window.streams) == 1 and panel.current_take == "take-1"
    second = stream.pull(SR // 4)
    np.testing.assert_allclose(second[:, 0], mixes["take-1"][SR:SR + SR // 4], atol=1e-6)
    assert not np.allclose(mixes["take-0"][SR:SR + SR // 4], mixes["take-1"][SR:SR + SR // 4])
    # The context is the whole mix: the bed on the other track is heard under the take.
    bed = tone(3.0, freq=110.0, amplitude=0.2)[buffers.start:buffers.start + SR // 2]
    np.testing.assert_allclose(first[:SR // 2, 0], bed, atol=1e-4)
    panel.auditioner._poll()
    assert window.doc.playhead == buffers.start + SR + SR // 4   # the picture follows the audition
    panel.auditioner.stop()
    assert window.streams[0].stopped and not panel.auditioner.playing


def test_audition_buffers_read_past_the_end_gives_silence():
    buffers = AuditionBuffers({"a": np.ones(10, np.float32), "b": np.full(10, 2.0, np.float32)}, start=100)
    out = np.empty(6, np.float32)
    buffers.read(out)
    buffers.set_active("b")
    buffers.read(out)
    assert out.tolist() == [2.0] * 4 + [0.0] * 2 and buffers.finished


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
