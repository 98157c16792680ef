"""Seeking while playing moves the feeder's cursor inside the open stream: no restart, latest seek wins."""
from __future__ import annotations

import textwrap
import threading

import numpy as np
import pytest

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.session.playback import SEEK_MARGIN_SECONDS, AudioOutput
from tests.ui_helpers import one_clip_project, pull, ramp, run_on_null_alsa, timeline_samples, wait_for

# `fake_sd` (conftest): the fake sound device; tests pull blocks through the real callback.


@pytest.mark.parametrize("rate, loop, target", [
    (1, None, 12 * SAMPLE_RATE + 321),
    (2, None, 2 * SAMPLE_RATE),
    (-1, None, 15 * SAMPLE_RATE),
    (1, (5 * SAMPLE_RATE, 5 * SAMPLE_RATE + 30_000), 5 * SAMPLE_RATE + 20_000),
])
def test_seek_while_playing_is_heard_within_0_3_s_in_the_same_stream(fake_sd, rate, loop, target):
    start = 5 * SAMPLE_RATE + 777
    out = AudioOutput(ramp)
    out.start(one_clip_project(20), start, rate=rate, loop=loop)
    stream = fake_sd.streams[-1]
    before = pull(out, stream, SAMPLE_RATE // 2)
    wait_for(lambda: out._written - out._read > 3 * SAMPLE_RATE)      # seconds of the old position queued
    seek_at = out._read
    assert out.seek(target)
    after = pull(out, stream, SAMPLE_RATE)
    assert fake_sd.streams == [stream] and stream.started and not stream.closed, "the stream was reopened"
    assert out.seeks_applied == 1
    # Up to the cut: the old position, unbroken. From the cut on: the new position, sample by sample.
    old = timeline_samples(start, len(before) + len(after), rate, loop)
    heard = np.concatenate([before, after])
    cut = int(np.flatnonzero(heard != old)[0])
    assert cut >= seek_at, "audio queued before the seek was posted must play on"
    delay = (cut - seek_at) / SAMPLE_RATE
    assert delay <= 0.3 and delay <= SEEK_MARGIN_SECONDS + 1e-9, f"seek heard {delay:.3f} s of stream time later"
    new = timeline_samples(target, len(heard) - cut, rate, loop)
    assert np.array_equal(heard[cut:], new.astype(np.float32)), "after the seek samples are skipped or repeated"
    # The playhead is drawn from the same mapping.
    assert out._timeline_of_frame(out._read) == (new[-1] + rate if rate > 0 else new[-1])
    out.stop()


def test_ten_rapid_seeks_render_once_at_the_last_position(fake_sd):
    rendered: list[int] = []
    gate, blocked = threading.Event(), threading.Event()
    gate.set()

    def render(_p, a, b):
        if not gate.is_set():
            blocked.set()
            gate.wait(5)
        rendered.append(a)
        return np.arange(a, b, dtype=np.float32)
    out = AudioOutput(render)
    out.start(one_clip_project(30), 0)
    stream = fake_sd.streams[-1]
    pull(out, stream, SAMPLE_RATE // 4)
    wait_for(lambda: len(out._ring) - (out._written - out._read) < 6000)    # ring full: the feeder idles
    gate.clear()
    pull(out, stream, 8192)                         # room for a chunk: the feeder renders, and is held there
    assert blocked.wait(5)
    done = len(rendered)
    targets = [SAMPLE_RATE * k + 17 for k in range(2, 12)]
    for t in targets:                                # one mouse drag of the playhead, faster than the feeder
        assert out.seek(t)
    assert out.position() == targets[-1], "the playhead shows the latest seek before it is heard"
    gate.set()
    heard = pull(out, stream, SAMPLE_RATE // 2)
    assert out.seeks_applied == 1, "rapid seeks must collapse into one"
    after = rendered[done + 1:]                      # past the chunk that was being rendered when they came
    assert after[0] == targets[-1], f"the re-render started at {after[0]}, not at the last seek"
    assert not set(targets[:-1]) & set(rendered)
    assert targets[-1] in heard and not set(targets[:-1]) & set(heard.astype(int).tolist())
    assert fake_sd.streams == [stream]
    out.stop()


def test_controller_seek_keeps_the_loop_and_is_a_no_op_when_stopped(qtbot, fake_sd):
    from foley_studio.ui.document import ProjectDocument
    from foley_studio.ui.playback import PlaybackController
    doc = ProjectDocument(one_clip_project(10))
    ctl = PlaybackController(doc, render=ramp)
    assert not ctl.seek(SAMPLE_RATE), "stopped: nothing to seek"
    doc.set_region((2 * SAMPLE_RATE, 4 * SAMPLE_RATE))
    ctl.loop_enabled = True
    assert ctl.play()
    out = ctl.output
    assert ctl.seek(3 * SAMPLE_RATE)
    wait_for(lambda: out.seeks_applied == 1)
    assert out._seek_hold[1] == 3 * SAMPLE_RATE
    assert ctl.seek(8 * SAMPLE_RATE)                 # outside the loop: the loop's start, as play() does
    wait_for(lambda: out.seeks_applied == 2)
    assert out._seek_hold[1] == 2 * SAMPLE_RATE
    assert len(fake_sd.streams) == 1 and ctl.playing
    ctl.stop()
    assert not out.seek(0), "a stopped output refuses seeks"


def test_editor_window_seeks_inside_the_open_stream(qtbot, fake_sd, monkeypatch):
    from foley_studio.ui import main_window as mw
    monkeypatch.setattr("foley_studio.ui.playback.mixdown_renderer", lambda: ramp)
    win = mw.MainWindow(one_clip_project(10), audio=True, restore_layout=False)
    qtbot.addWidget(win)
    try:
        assert win.playback.play()
        out, stream = win.playback.output, fake_sd.streams[-1]
        copies = []
        monkeypatch.setattr(out, "start", lambda *a, **k: copies.append(a))    # a restart would call this
        for k in range(1, 6):                         # dragging the playhead: a seek per mouse move
            win.doc.set_playhead(k * SAMPLE_RATE)
            win.canvas.seekRequested.emit(k * SAMPLE_RATE)
        assert not copies and fake_sd.streams == [stream] and win.playback.playing
        wait_for(lambda: out._pending_seek is None)
        assert out._seek_hold[1] == 5 * SAMPLE_RATE and 1 <= out.seeks_applied <= 5
        qtbot.wait(80)                                # the transport's poll runs: the playhead stays put
        assert win.doc.playhead == 5 * SAMPLE_RATE
        heard = pull(out, stream, SAMPLE_RATE // 2)
        assert 5 * SAMPLE_RATE in heard
    finally:
        win.shutdown()


_SEEK_ON_NULL_DEVICE = textwrap.dedent("""
    def run_for(seconds):
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            app.processEvents()
            time.sleep(0.01)
    assert ctl.play(), "play() failed"
    run_for(0.3)
    stream = ctl.output._opened
    doc.set_playhead(5 * 48000)
    assert ctl.seek(5 * 48000)
    run_for(0.4)
    same = ctl.output._opened is stream and ctl.playing
    print("result", doc.playhead, same, ctl.output.seeks_applied, flush=True)
    ctl.stop()
""")


def test_seek_on_the_null_alsa_device_keeps_the_stream(tmp_path):
    stdout = run_on_null_alsa(tmp_path, _SEEK_ON_NULL_DEVICE, seconds=8)
    playhead, same, seeks = stdout.split("result")[1].split()
    assert same == "True" and int(seeks) == 1, stdout
    # 0.4 s after the seek, paced by the clock: past the new position, not back near the old one.
    assert 5 * SAMPLE_RATE < int(playhead) < 5.5 * SAMPLE_RATE, stdout
