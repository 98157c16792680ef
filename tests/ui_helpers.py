"""Helpers shared by the editor's UI tests (pytest-qt, offscreen).

- `forbid_modal_dialogs`, `show_editor`: a main window that can be driven without a person.
- `FakeStream`/`install_fake_sounddevice` (the `fake_sd` fixture in conftest), `pull`, `wait_for`:
  a sound device the test plays block by block through the real PortAudio callback.
- `ramp`, `one_clip_project`, `timeline_samples`: mixes and expectations that say, sample by
  sample, which timeline position was heard.
- `run_on_null_alsa`: a playback script in a subprocess whose ALSA default device is the null one.

    from tests.ui_helpers import forbid_modal_dialogs, show_editor
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from foley_studio.core.project import Clip, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE

REPO = Path(__file__).resolve().parents[1]


# -- the editor window ------------------------------------------------------------------------------
def forbid_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any message box, input or file dialog fail the test at once.

    Offscreen, a modal dialog waits forever for a click. (The "save changes?" prompt at teardown is
    already off: conftest sets FOLEY_STUDIO_NO_PROMPTS for every test.)
    """
    from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"unexpected modal dialog: {args[1:3]}")
    for owner, names in ((QMessageBox, ("question", "warning", "critical", "information")),
                         (QInputDialog, ("getDouble", "getText")),
                         (QFileDialog, ("getOpenFileName", "getSaveFileName", "getExistingDirectory"))):
        for name in names:
            monkeypatch.setattr(owner, name, staticmethod(fail))


def show_editor(qtbot: Any, win: Any, visible_samples: int) -> Any:
    """Show `win` (a MainWindow) at a fixed size, timeline [0, visible_samples) in view, snapping off."""
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(20)                     # let the window's initial zoom-to-fit run first
    win.canvas.zoom_to(0, visible_samples)
    win.canvas.snapping = False
    return win


# -- mixes that say where each sample came from -------------------------------------------------------
def ramp(project: Project, a: int, b: int) -> np.ndarray:
    """A renderer whose 'mix' is the timeline position itself, so every heard sample names its origin."""
    return np.arange(a, b, dtype=np.float32)


def one_clip_project(seconds: float) -> Project:
    """One track holding one clip `seconds` long at 0 (its source is never read: tests pass a renderer)."""
    clip = Clip(id="c", source="x.wav", start=0, source_in=0, source_out=int(seconds * SAMPLE_RATE))
    return Project(tracks=[Track(id="t", name="t", clips=[clip])])


def timeline_samples(origin: int, count: int, rate: int, loop: tuple[int, int] | None) -> np.ndarray:
    """The timeline position of each of `count` frames played from `origin`: inside a loop it wraps,
    forward it steps by `rate`, and reverse plays the samples below the origin, downwards."""
    i = np.arange(count)
    if loop is not None:
        return loop[0] + (origin - loop[0] + i) % (loop[1] - loop[0])
    if rate > 0:
        return origin + rate * i
    return origin - 1 - i


# -- a fake sound device: the test pulls blocks through the real callback ---------------------------
class FakeStream:
    """Stands in for sounddevice.OutputStream; `pull` plays one block as PortAudio would."""

    latency = 0.0

    def __init__(self, *, samplerate, channels, dtype, callback, latency, device=None):
        self.channels, self.callback, self.device = channels, callback, device
        self.started = self.closed = False
        FakeDevice.streams.append(self)

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True

    def pull(self, frames: int) -> np.ndarray:
        buf = np.full((frames, self.channels), np.nan, dtype=np.float32)
        self.callback(buf, frames, None, 0)
        return buf


class FakeDevice:
    """Every stream opened since the fake was installed, oldest first."""

    streams: list[FakeStream] = []


def install_fake_sounddevice(monkeypatch: pytest.MonkeyPatch) -> type[FakeDevice]:
    """Replace the `sounddevice` module with one fake output device; undone with `monkeypatch`.

    Streams then open in this process (the fake module does not exist in the device process)."""
    from foley_studio.session import audio_device
    monkeypatch.setattr(audio_device, "USE_DEVICE_PROCESS", False)
    module = types.ModuleType("sounddevice")
    module.query_devices = lambda device=None, kind=None: {"name": device or "Fake device", "max_output_channels": 2}
    module.OutputStream = FakeStream
    monkeypatch.setitem(sys.modules, "sounddevice", module)
    monkeypatch.setattr(FakeDevice, "streams", [])
    return FakeDevice


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    t0 = time.monotonic()
    while not condition():
        assert time.monotonic() - t0 < timeout, "the feeder thread did not catch up"
        time.sleep(0.001)


def pull(out: Any, stream: FakeStream, frames: int, block: int = 512, *, stereo: bool = False) -> np.ndarray:
    """Play `frames` of `out` (an AudioOutput) like a device that never underruns: each block waits
    until the feeder has applied any posted edit or seek and rendered the block. Returns the left
    channel (frames,), or both as (2, frames) with `stereo`."""
    got = []
    for i in range(0, frames, block):
        n = min(block, frames - i)
        wait_for(lambda: out._pending_project is None and out._pending_seek is None
                 and out._written - out._read >= n)
        block_out = stream.pull(n)
        got.append(block_out.T.copy() if stereo else block_out[:, 0].copy())
    return np.concatenate(got, axis=-1)


# -- a real stream on ALSA's null device, in a subprocess -----------------------------------------------
_NULL_ALSA_RC = "pcm.!default { type null }\nctl.!default { type hw card 0 }\n"

_NULL_DEVICE_HEADER = """\
import sys, time
from PySide6.QtWidgets import QApplication
from foley_studio.core.project import Clip, Project, Track
from foley_studio.ui.document import ProjectDocument
from foley_studio.ui.playback import PlaybackController
app = QApplication([])
clip = Clip(id="c", source=sys.argv[1], start=0, source_in=0, source_out={seconds} * 48000)
doc = ProjectDocument(Project(tracks=[Track(id="t", name="t", clips=[clip])]))
ctl = PlaybackController(doc)
print("available", ctl.available, ctl.unavailable_reason, flush=True)
"""


def run_on_null_alsa(tmp_path: Path, body: str, *, seconds: int) -> str:
    """Run `body` in a fresh Python after a header that makes `app`, `doc` (one clip: a `seconds`-long
    440 Hz tone at amplitude 0.5) and `ctl` (its PlaybackController), with ALSA's default device the
    null one; return its stdout. Skips where PortAudio has no ALSA backend."""
    from tests.media_fixtures import make_tone
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(_NULL_ALSA_RC)
    tone = make_tone(tmp_path / "tone.wav", seconds=float(seconds), amplitude=0.5)
    script = tmp_path / "null_device.py"
    script.write_text(_NULL_DEVICE_HEADER.format(seconds=seconds) + textwrap.dedent(body))
    # ALSA's null device does not pace itself: its callback spins, so it must not run at real-time priority.
    env = dict(os.environ, HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO),
               FOLEY_STUDIO_AUDIO_RT="0")
    run = subprocess.run([sys.executable, str(script), str(tone)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    if "available False" in run.stdout:
        pytest.skip(f"PortAudio has no ALSA backend here: {run.stdout.strip()}")
    return run.stdout
