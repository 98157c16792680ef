"""Output level meter: fed by what the audio callback really outputs, ballistics, clip latch, drawing."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtGui import QColor

from foley_studio.core.project import Clip, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.meter import FLOOR_DB, HOLD_SECONDS, LevelMeter, PeakBallistics
from foley_studio.session.audio_device import copy_block
from foley_studio.session.playback import AudioOutput


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _sine(db: float, frames: int, freq: float = 1000.0) -> np.ndarray:
    t = np.arange(frames) / SAMPLE_RATE
    return (10 ** (db / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _output_playing(signal: np.ndarray) -> AudioOutput:
    """An AudioOutput whose ring holds `signal`, ready for the callback (no device, no thread).

    Its clock is far ahead, so what the callback has taken counts as heard at once."""
    out = AudioOutput(lambda _p, a, b: signal[a:b])
    clip = Clip(id="c", source="x.wav", start=0, source_in=0, source_out=len(signal))
    out._project = Project(tracks=[Track(id="t", name="t", clips=[clip])])
    out.start_time, out.rate, out.loop, out.end = 0, 1, None, len(signal)
    out._fill(len(signal))
    out.clock_ns = lambda: 2 ** 62
    return out


def _play(out: AudioOutput, frames: int, block: int = 480) -> None:
    buf = np.empty((block, 2), dtype=np.float32)
    for _ in range(frames // block):
        copy_block(out.ring, buf, block)


@pytest.fixture
def meter(qtbot):
    clock = FakeClock()
    widget = LevelMeter(clock=clock)
    widget._timer.stop()             # tests poll by hand, at times they choose
    widget.clock_for_test = clock
    qtbot.addWidget(widget)
    return widget


def test_a_minus_6_dbfs_sine_through_the_callback_reads_minus_6(meter):
    out = _output_playing(_sine(-6.0, SAMPLE_RATE // 2))
    meter.source = out.take_peak
    _play(out, 4800)
    meter.poll()
    assert meter.state.level_db == pytest.approx(-6.0, abs=0.5)
    assert meter.state.hold_db == pytest.approx(-6.0, abs=0.5)
    assert meter._readout() == "-6.0" and not meter.state.clipped
    assert out.take_peak() is None, "each block is reported once"


def test_peaks_between_polls_are_not_lost_and_silence_reads_floor(meter):
    # A single loud block among quiet ones, all played between two polls: the meter must see it.
    signal = np.concatenate([_sine(-40, 4800), _sine(-3, 480), _sine(-40, 4800)])
    out = _output_playing(signal)
    meter.source = out.take_peak
    _play(out, len(signal))
    meter.poll()
    assert meter.state.level_db == pytest.approx(-3.0, abs=0.5)
    silent = _output_playing(np.zeros(4800, dtype=np.float32))
    fresh = PeakBallistics()
    _play(silent, 4800)
    fresh.feed(silent.take_peak(), 0.0)
    assert fresh.level_db == FLOOR_DB and fresh.max_db == -math.inf


def test_clip_light_latches_at_0_dbfs_until_clicked(meter, qtbot):
    from PySide6.QtCore import Qt
    below = _output_playing(np.full(960, 0.99, dtype=np.float32))
    meter.source = below.take_peak
    _play(below, 960)
    meter.poll()
    assert not meter.state.clipped
    full = _output_playing(np.full(960, 1.0, dtype=np.float32))
    meter.source = full.take_peak
    _play(full, 960)
    meter.poll()
    assert meter.state.clipped and meter.state.level_db == 0.0
    meter.source = None
    meter.clock_for_test.now += 10
    meter.poll()
    assert meter.state.clipped, "the clip light stays on until the user resets it"
    qtbot.mouseClick(meter, Qt.LeftButton)
    assert not meter.state.clipped


def test_peak_hold_lasts_1_5_s_then_falls_with_the_bar():
    b = PeakBallistics()
    b.feed(10 ** (-6 / 20), 0.0)
    b.feed(10 ** (-30 / 20), 0.5)                     # quieter material keeps playing
    assert b.hold_db == pytest.approx(-6.0)
    assert b.level_db == pytest.approx(-6.0 - 0.5 * b.fall)   # the bar falls at once
    b.feed(None, HOLD_SECONDS - 0.01)
    assert b.hold_db == pytest.approx(-6.0), "held for 1.5 s"
    b.feed(None, HOLD_SECONDS + 0.01)
    assert b.hold_db == pytest.approx(b.level_db) and b.hold_db < -20
    b.feed(None, 10.0)
    assert b.level_db == FLOOR_DB and b.hold_db == FLOOR_DB
    b.feed(10 ** (-12 / 20), 10.1)                    # a new peak is held again
    assert b.hold_db == pytest.approx(-12.0)


def test_meter_draws_the_level_hold_and_clip_legibly(meter):
    import os
    out = _output_playing(_sine(-6.0, 4800))
    meter.source = out.take_peak
    _play(out, 4800)
    meter.poll()
    meter.clock_for_test.now += 0.5                   # the bar falls 6 dB, the hold stays at -6
    meter.poll()
    image = meter.grab().toImage()
    path = os.environ.get("FOLEY_METER_SCREENSHOT")
    if path:
        image.save(path)
    y = int(meter.bar_rect().center().y())

    def colour(db: float) -> QColor:
        return image.pixelColor(int(meter.x_of(db)), y)
    assert colour(-30).green() > 150 and colour(-30).red() < 100, "lit green zone"
    assert colour(-15).red() > 180 and colour(-15).green() > 150, "lit yellow zone"
    assert colour(-9).red() < 90, "above the falling bar (-12 dB) the zone is dim"
    hold = image.pixelColor(int(meter.x_of(-6.0)) + 1, y)
    assert hold.red() > 200, "the -6 dB hold marker is drawn"
    assert meter._readout() == "-6.0"


def test_a_short_burst_among_seconds_of_quiet_between_polls_is_kept(meter):
    block = 64
    signal = np.concatenate([_sine(-2, block), np.full(3 * SAMPLE_RATE, 0.001, dtype=np.float32)])
    out = _output_playing(signal)
    _play(out, len(signal), block=block)             # 64 loud frames, then 3 s, all before the next poll
    assert out.take_peak() == pytest.approx(10 ** (-2 / 20), rel=1e-3)
    assert out.take_peak() is None, "what was read is reported once"
    _play(out, block * 40, block=block)              # the ring has run dry: silence is output, not measured
    assert out.take_peak() is None and out.underrun_frames == block * 40


def test_stereo_meter_shows_each_channel_and_the_loudness(meter, qtbot):
    from foley_studio.session.playback import OutputLevels
    stereo = LevelMeter(clock=meter.clock_for_test, channels=2, show_loudness=True)
    stereo._timer.stop()
    qtbot.addWidget(stereo)
    heard = []
    stereo.levelsRead.connect(heard.append)
    stereo.source = lambda: OutputLevels((10 ** (-6 / 20), 10 ** (-20 / 20)), {"t": 0.5}, -21.4, -23.04)
    stereo.poll()
    assert [s.level_db for s in stereo.channel_states] == [pytest.approx(-6.0), pytest.approx(-20.0)]
    assert stereo._readout() == "-6.0" and stereo._loudness_text() == "M -21.4  I -23.0"
    assert len(heard) == 1 and heard[0].tracks == {"t": 0.5}
    image = stereo.grab().toImage()
    left, right = stereo._bar_rects()
    x = int(stereo.x_of(-12.0))
    assert image.pixelColor(x, int(left.center().y())).red() > 180, "left bar lit to -6 dB"
    assert image.pixelColor(x, int(right.center().y())).lightness() < 80, "right bar dim above -20 dB"
