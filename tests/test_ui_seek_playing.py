"""Seeking while playing moves the feeder's cursor inside the open stream: no restart, latest seek wins."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from foley_studio.core.project import Project
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.playback import SEEK_MARGIN_SECONDS, AudioOutput
from tests import test_ui_playback
from tests.test_ui_playback import FakeStream, _project, _wait_for

REPO = Path(__file__).resolve().parents[1]
fake_sd = test_ui_playback.fake_sd        # the fake sound device: tests pull blocks through the real callback


def _ramp(project: Project, a: int, b: int) -> np.ndarray:
    """The 'mix' is the timeline position, so each heard sample says where it came from."""
    return np.arange(a, b, dtype=np.float32)


def _pull(out: AudioOutput, stream: FakeStream, frames: int, block: int = 512) -> np.ndarray:
    """A device that never underruns: each block waits until the feeder has rendered it."""
    got = []
    for i in range(0, frames, block):
        n = min(block, frames - i)
        _wait_for(lambda: out._pending_seek is None and out._written - out._read >= n)
        got.append(stream.pull(n)[:, 0].copy())
    return np.concatenate(got)


@pytest.mark.parametrize("rate, loop, target", [
    (1, None, 12 * SAMPLE_RATE + 321),
    (2, None, 2 * SAMPLE_RATE),
    (-1, None, 15 * SAMPLE_RATE),
    (1, (5 * SAMPLE_RATE, 5 * SAMPLE_RATE + 30_000), 5 * SAMPLE_RATE + 20_000),
])
def test_seek_while_playing_is_heard_within_0_3_s_in_the_same_stream(fake_sd, rate, loop, target):
    start = 5 * SAMPLE_RATE + 777
    out = AudioOutput(_ramp)
    out.start(_project(20), start, rate=rate, loop=loop)
    stream = fake_sd.streams[-1]
    before = _pull(out, stream, SAMPLE_RATE // 2)
    _wait_for(lambda: out._written - out._read > 3 * SAMPLE_RATE)      # seconds of the old position queued
    seek_at = out._read
    assert out.seek(target)
    after = _pull(out, stream, SAMPLE_RATE)
    assert fake_sd.streams == [stream] and stream.started and not stream.closed, "the stream was reopened"
    assert out.seeks_applied == 1
    # Up to the cut: the old position, unbroken. From the cut on: the new position, sample by sample.
    i = np.arange(len(before) + len(after))
    if loop is not None:
        old = loop[0] + (start - loop[0] + i) % (loop[1] - loop[0])
    elif rate > 0:
        old = start + rate * i
    else:
        old = start - 1 - i
    heard = np.concatenate([before, after])
    cut = int(np.flatnonzero(heard != old)[0])
    assert cut >= seek_at, "audio queued before the seek was posted must play on"
    delay = (cut - seek_at) / SAMPLE_RATE
    assert delay <= 0.3 and delay <= SEEK_MARGIN_SECONDS + 1e-9, f"seek heard {delay:.3f} s of stream time later"
    j = np.arange(len(heard) - cut)
    if loop is not None:
        new = loop[0] + (target - loop[0] + j) % (loop[1] - loop[0])
    elif rate > 0:
        new = target + rate * j
    else:
        new = target - 1 - j
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
    out.start(_project(30), 0)
    stream = fake_sd.streams[-1]
    _pull(out, stream, SAMPLE_RATE // 4)
    _wait_for(lambda: len(out._ring) - (out._written - out._read) < 6000)    # ring full: the feeder idles
    gate.clear()
    _pull(out, stream, 8192)                         # room for a chunk: the feeder renders, and is held there
    assert blocked.wait(5)
    done = len(rendered)
    targets = [SAMPLE_RATE * k + 17 for k in range(2, 12)]
    for t in targets:                                # one mouse drag of the playhead, faster than the feeder
        assert out.seek(t)
    assert out.position() == targets[-1], "the playhead shows the latest seek before it is heard"
    gate.set()
    heard = _pull(out, stream, SAMPLE_RATE // 2)
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
    doc = ProjectDocument(_project(10))
    ctl = PlaybackController(doc, render=_ramp)
    assert not ctl.seek(SAMPLE_RATE), "stopped: nothing to seek"
    doc.set_region((2 * SAMPLE_RATE, 4 * SAMPLE_RATE))
    ctl.loop_enabled = True
    assert ctl.play()
    out = ctl.output
    assert ctl.seek(3 * SAMPLE_RATE)
    _wait_for(lambda: out.seeks_applied == 1)
    assert out._seek_hold[1] == 3 * SAMPLE_RATE
    assert ctl.seek(8 * SAMPLE_RATE)                 # outside the loop: the loop's start, as play() does
    _wait_for(lambda: out.seeks_applied == 2)
    assert out._seek_hold[1] == 2 * SAMPLE_RATE
    assert len(fake_sd.streams) == 1 and ctl.playing
    ctl.stop()
    assert not out.seek(0), "a stopped output refuses seeks"


def test_editor_window_seeks_inside_the_open_stream(qtbot, fake_sd, monkeypatch):
    from foley_studio.ui import main_window as mw
    monkeypatch.setattr("foley_studio.ui.playback.mixdown_renderer", lambda: _ramp)
    win = mw.MainWindow(_project(10), audio=True, restore_layout=False)
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
        _wait_for(lambda: out._pending_seek is None)
        assert out._seek_hold[1] == 5 * SAMPLE_RATE and 1 <= out.seeks_applied <= 5
        qtbot.wait(80)                                # the transport's poll runs: the playhead stays put
        assert win.doc.playhead == 5 * SAMPLE_RATE
        heard = _pull(out, stream, SAMPLE_RATE // 2)
        assert 5 * SAMPLE_RATE in heard
    finally:
        win.shutdown()


_NULL_DEVICE_SEEK_SCRIPT = textwrap.dedent("""
    import sys, time
    from PySide6.QtWidgets import QApplication
    from foley_studio.core.project import Clip, Project, Track
    from foley_studio.ui.document import ProjectDocument
    from foley_studio.ui.playback import PlaybackController
    app = QApplication([])
    clip = Clip(id="c", source=sys.argv[1], start=0, source_in=0, source_out=8 * 48000)
    doc = ProjectDocument(Project(tracks=[Track(id="t", name="t", clips=[clip])]))
    ctl = PlaybackController(doc)
    print("available", ctl.available, ctl.unavailable_reason, flush=True)

    def run_for(seconds):
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            app.processEvents()
            time.sleep(0.01)
    assert ctl.play(), "play() failed"
    run_for(0.3)
    stream = ctl.output._stream
    doc.set_playhead(5 * 48000)
    assert ctl.seek(5 * 48000)
    run_for(0.4)
    same = ctl.output._stream is stream and ctl.playing
    print("result", doc.playhead, same, ctl.output.seeks_applied, flush=True)
    ctl.stop()
""")


def test_seek_on_the_null_alsa_device_keeps_the_stream(tmp_path):
    from tests.media_fixtures import make_tone
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    tone = make_tone(tmp_path / "tone.wav", seconds=8.0)
    script = tmp_path / "seek.py"
    script.write_text(_NULL_DEVICE_SEEK_SCRIPT)
    env = dict(os.environ, HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    run = subprocess.run([sys.executable, str(script), str(tone)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    if "available False" in run.stdout:
        pytest.skip(f"PortAudio has no ALSA backend here: {run.stdout.strip()}")
    playhead, same, seeks = run.stdout.split("result")[1].split()
    assert same == "True" and int(seeks) == 1, run.stdout
    # 0.4 s after the seek, paced by the clock: past the new position, not back near the old one.
    assert 5 * SAMPLE_RATE < int(playhead) < 5.5 * SAMPLE_RATE, run.stdout
