"""Playback: the ring-buffer copy logic (no device) and a real stream on ALSA's null device."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from foley_studio.core.project import Clip, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.playback import CHUNK, AudioOutput

REPO = Path(__file__).resolve().parents[1]


def _ramp_renderer(project: Project, a: int, b: int) -> np.ndarray:
    """The 'mix' is the timeline position itself, so every copied sample says where it came from."""
    return np.arange(a, b, dtype=np.float32)


def _project(seconds: float) -> Project:
    clip = Clip(id="c", source="x.wav", start=0, source_in=0, source_out=int(seconds * SAMPLE_RATE))
    return Project(tracks=[Track(id="t", name="t", clips=[clip])])


def _prime(out: AudioOutput, project: Project, start: int, *, rate: int = 1, loop=None) -> None:
    out._project, out.start_time, out.rate, out.loop = project, start, rate, loop
    out.end = project.duration
    out._written, out._read = 0, 0


def test_callback_copies_in_order_and_pads_underruns_with_silence():
    out = AudioOutput(_ramp_renderer)
    _prime(out, _project(10), 1000)
    out._fill(CHUNK)
    buf = np.full((CHUNK + 512, 2), 7.0, dtype=np.float32)
    out._callback(buf, len(buf), None, None)
    assert np.array_equal(buf[:CHUNK, 0], np.arange(1000, 1000 + CHUNK, dtype=np.float32))
    assert np.array_equal(buf[:CHUNK, 0], buf[:CHUNK, 1])
    assert not buf[CHUNK:].any(), "an underrun must output silence, not stale samples"
    assert out._read == CHUNK


def test_ring_wraps_and_loop_and_reverse():
    out = AudioOutput(_ramp_renderer)
    loop = (SAMPLE_RATE, SAMPLE_RATE + 2 * CHUNK + 100)
    _prime(out, _project(10), loop[0], loop=loop)
    n = len(out._ring)
    got = []
    for _ in range(2 * n // CHUNK):                 # several trips round the ring
        out._fill(CHUNK)
        buf = np.empty((CHUNK, 1), dtype=np.float32)
        out._callback(buf, CHUNK, None, None)
        got.append(buf[:, 0].copy())
    heard = np.concatenate(got)
    length = loop[1] - loop[0]
    expected = loop[0] + np.arange(len(heard)) % length
    assert np.array_equal(heard, expected.astype(np.float32))
    assert out._timeline_of_frame(length + 5) == loop[0] + 5
    rev = AudioOutput(_ramp_renderer)
    _prime(rev, _project(10), 5 * CHUNK, rate=-1)
    rev._fill(CHUNK)
    buf = np.empty((CHUNK, 1), dtype=np.float32)
    rev._callback(buf, CHUNK, None, None)
    assert buf[0, 0] == 5 * CHUNK - 1 and buf[-1, 0] == 4 * CHUNK


_NULL_DEVICE_SCRIPT = textwrap.dedent("""
    import sys, time
    from PySide6.QtWidgets import QApplication
    from foley_studio.core.project import Clip, Project, Track
    from foley_studio.ui.document import ProjectDocument
    from foley_studio.ui.playback import PlaybackController
    app = QApplication([])
    clip = Clip(id="c", source=sys.argv[1], start=0, source_in=0, source_out=3 * 48000)
    doc = ProjectDocument(Project(tracks=[Track(id="t", name="t", clips=[clip])]))
    ctl = PlaybackController(doc)
    print("available", ctl.available, ctl.unavailable_reason, flush=True)
    assert ctl.play(), "play() failed"
    positions = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.8:
        app.processEvents()
        positions.append(doc.playhead)
        time.sleep(0.01)
    ctl.stop()
    print("positions", positions[0], positions[len(positions) // 2], positions[-1], flush=True)
""")


def test_playback_on_the_null_alsa_device_moves_the_playhead(tmp_path):
    from tests.media_fixtures import make_tone
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    tone = make_tone(tmp_path / "tone.wav", seconds=3.0)
    script = tmp_path / "play.py"
    script.write_text(_NULL_DEVICE_SCRIPT)
    env = dict(os.environ, HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    run = subprocess.run([sys.executable, str(script), str(tone)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    if "available False" in run.stdout:
        pytest.skip(f"PortAudio has no ALSA backend here: {run.stdout.strip()}")
    first, middle, last = (int(v) for v in run.stdout.split("positions")[1].split())
    assert first < middle < last, run.stdout
    # Paced by the clock (the null device itself does not pace): 0.8 s of playing is ~38 400 samples.
    assert 0.4 * SAMPLE_RATE < last < 1.2 * SAMPLE_RATE, run.stdout


def test_no_device_means_status_message_not_a_failure(qtbot, monkeypatch):
    from foley_studio.ui import playback
    from foley_studio.ui.document import ProjectDocument

    def no_device() -> str:
        raise playback.AudioUnavailable("no audio output device (test); playback is off, export still works")
    monkeypatch.setattr(playback.AudioOutput, "probe", staticmethod(no_device))
    doc = ProjectDocument(_project(1))
    ctl = playback.PlaybackController(doc)
    messages = []
    ctl.statusMessage.connect(messages.append)
    assert not ctl.available and not ctl.play()
    assert messages and "no audio output device" in messages[0]
    assert doc.playhead == 0


def test_jkl_shuttle_rates_and_loop_start(qtbot, monkeypatch):
    from foley_studio.ui import playback
    from foley_studio.ui.document import ProjectDocument
    started: list[tuple[int, int, object]] = []

    class FakeOutput:
        """The transport's view of an output stream, without a device."""

        probe = staticmethod(lambda: "fake device")

        def __init__(self, render):
            self.rate, self.loop, self.end, self._active = 1, None, 0, False

        def start(self, project, start, *, rate=1, loop=None, end=None):
            self.rate, self.loop, self._active = rate, loop, True
            started.append((start, rate, loop))

        def stop(self):
            self._active = False

        @property
        def active(self):
            return self._active

        def position(self):
            return 0

        def update_project(self, project):
            pass
    monkeypatch.setattr(playback, "AudioOutput", FakeOutput)
    doc = ProjectDocument(_project(4))
    ctl = playback.PlaybackController(doc, render=_ramp_renderer)
    ctl.shuttle(1)
    ctl.shuttle(1)
    ctl.shuttle(1)
    ctl.shuttle(-1)
    assert [r for _, r, _ in started] == [1, 2, 2, -1]
    ctl.shuttle(0)
    assert not ctl.playing
    doc.set_region((SAMPLE_RATE, 2 * SAMPLE_RATE))
    ctl.loop_enabled = True
    assert ctl.play()
    assert started[-1] == (SAMPLE_RATE, 1, (SAMPLE_RATE, 2 * SAMPLE_RATE)), "looping starts inside the loop"
    ctl.stop()
