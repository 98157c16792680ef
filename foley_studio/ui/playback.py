"""The editor's transport over the session's playback engine (`session.playback.AudioOutput`).

`PlaybackController` polls the engine's position with a QTimer to move the document's playhead,
and adds J/K/L shuttle, looping the selection and scrubbing. The engine and its threading
contract (who may write what) are described in `session/playback.py`; nothing here touches the
ring buffer or runs on the audio thread.
"""
from __future__ import annotations

import copy
import logging
import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from foley_studio.core.project import Project
from foley_studio.session import playback as _engine
from foley_studio.session.playback import (SCRUB_IDLE_CLOSE_MS, SCRUB_INTERVAL_S, AudioOutput, AudioUnavailable,
                                           OutputLevels, Renderer)
from foley_studio.session.transport import next_shuttle_rate

log = logging.getLogger(__name__)

__all__ = ["PlaybackController", "mixdown_renderer"]


def mixdown_renderer() -> Renderer:
    """The session's renderer (looked up at call time, so tests can stand in for it here)."""
    return _engine.mixdown_renderer()


class PlaybackController(QObject):
    """Transport for the editor: play/stop, J/K/L shuttle, loop, scrub; moves the document's playhead."""

    playingChanged = Signal(bool)
    statusMessage = Signal(str)

    def __init__(self, document, render: Renderer | None = None, parent: QObject | None = None, *,
                 output_device: str | None = None):
        super().__init__(parent)
        self.doc = document
        self._render = render
        self.output: AudioOutput | None = None
        self.output_device = output_device     # "name, host API" from the preferences; None: the system's
        self.loop_enabled = False
        self.scrubbing_enabled = True
        self.available = True
        self.unavailable_reason = ""
        self.device_name = ""
        try:
            self.device_name = AudioOutput.probe()
        except AudioUnavailable as exc:
            self.available, self.unavailable_reason = False, str(exc)
        self._timer = QTimer(self, interval=30)
        self._timer.timeout.connect(self._poll)
        self._scrub_target: int | None = None
        self._last_grain = -1e9
        self._grain_timer = QTimer(self, singleShot=True)
        self._grain_timer.timeout.connect(self._play_grain)
        self._scrub_idle = QTimer(self, singleShot=True, interval=SCRUB_IDLE_CLOSE_MS)
        self._scrub_idle.timeout.connect(self._end_scrub)
        self._snapshot: tuple[int, int, Project] | None = None
        # Sources are decoded in the background a moment after each change, so Space starts at once.
        self._prepare = QTimer(self, singleShot=True, interval=300)
        self._prepare.timeout.connect(self._prepare_sources)
        document.changed.connect(self._on_project_changed)
        if self.available:
            self._output().warm_up()           # the device process starts while the editor opens
            self._prepare.start()

    @property
    def playing(self) -> bool:
        return self.output is not None and self.output.active

    def _output(self) -> AudioOutput:
        if self.output is None:
            self.output = AudioOutput(self._render or mixdown_renderer())
            self.output.output_device = self.output_device
        return self.output

    def set_output_device(self, name: str | None) -> None:
        """Play through `name` ("name, host API"; None: the system default) from the next start."""
        self.output_device = name or None
        if self.output is not None:
            self.output.output_device = self.output_device

    def _prepare_sources(self) -> None:
        if self.available:
            self._output().prepare(self.doc.project)

    def play(self, rate: int = 1) -> bool:
        if not self.available:
            self.statusMessage.emit(f"Playback unavailable: {self.unavailable_reason}")
            return False
        self._cancel_scrub()
        loop = self.doc.region if self.loop_enabled and self.doc.region else None
        start = self.doc.playhead
        if loop is not None and not loop[0] <= start < loop[1]:
            start = loop[0]
        if rate > 0 and loop is None and start >= self.doc.project.duration:
            start = 0                          # at the end: play from the top, as every editor does
        try:
            self._output().start(self.doc.project, start, rate=rate, loop=loop)
        except (AudioUnavailable, Exception) as exc:
            self.available = False
            self.unavailable_reason = str(exc)
            self.statusMessage.emit(f"Playback unavailable: {exc}")
            return False
        self._timer.start()
        self.playingChanged.emit(True)
        return True

    def stop(self) -> None:
        was = self.playing
        self._timer.stop()
        self._cancel_scrub()
        if self.output is not None:
            self.output.stop()
        if was:
            self.playingChanged.emit(False)

    def seek(self, position: int) -> bool:
        """The playhead was moved while playing: go on from `position` without reopening the stream.

        Looping keeps play()'s rule (a position outside the loop starts the loop). Returns False when
        stopped; the caller then scrubs or just moves the playhead."""
        if not self.playing or self.output is None:
            return False
        position = max(0, int(position))
        loop = self.output.loop
        if loop is not None and not loop[0] <= position < loop[1]:
            position = loop[0]
        return self.output.seek(position)

    def toggle(self) -> None:
        self.stop() if self.playing else self.play()

    def shuttle(self, direction: int) -> None:
        """J (-1) / K (0) / L (+1): the same direction again doubles the speed, up to 8x
        (`session.transport.next_shuttle_rate`); J plays backwards at that speed."""
        current = self.output.rate if self.playing and self.output else 0
        rate = next_shuttle_rate(current, direction)
        if rate == 0:
            self.stop()
        else:
            self.play(rate)

    # -- scrubbing --------------------------------------------------------------------------------
    def scrub(self, position: int) -> None:
        """The playhead was moved by hand: play a short grain of the mix there (when stopped).

        At most one grain per SCRUB_INTERVAL_S; requests in between collapse into one grain at the
        latest position, played when the interval is up."""
        if not (self.scrubbing_enabled and self.available) or self.playing:
            return
        self._scrub_target = int(position)
        if self._grain_timer.isActive():
            return                                   # the pending grain will take the latest position
        wait = SCRUB_INTERVAL_S - (time.monotonic() - self._last_grain)
        if wait > 0:
            self._grain_timer.start(max(1, int(np.ceil(wait * 1000))))
        else:
            self._play_grain()

    def set_scrubbing(self, on: bool) -> None:
        self.scrubbing_enabled = bool(on)
        if not on:
            self._end_scrub()

    def _play_grain(self) -> None:
        position, self._scrub_target = self._scrub_target, None
        if position is None or self.playing or not self.available:
            return
        self._last_grain = time.monotonic()
        try:
            self._output().scrub(self._project_snapshot(), position)
        except AudioUnavailable as exc:
            self.scrubbing_enabled = False           # do not retry on every mouse move
            self.statusMessage.emit(f"Scrubbing unavailable: {exc}")
            return
        self._scrub_idle.start()

    def _cancel_scrub(self) -> None:
        self._grain_timer.stop()
        self._scrub_idle.stop()
        self._scrub_target = None

    def _end_scrub(self) -> None:
        self._cancel_scrub()
        if self.output is not None and self.output.scrubbing:
            self.output.stop()

    def _project_snapshot(self) -> Project:
        """A copy of the project for the feeder thread, made once per document revision."""
        key = (id(self.doc.project), self.doc.revision)
        if self._snapshot is None or self._snapshot[:2] != key:
            self._snapshot = (*key, copy.deepcopy(self.doc.project))
        return self._snapshot[2]

    # -- meter ------------------------------------------------------------------------------------
    def output_peak(self) -> float | None:
        """Largest |sample| heard since the last call (None when nothing played): a one-bar meter's source."""
        return self.output.take_peak() if self.output is not None else None

    def levels(self) -> OutputLevels | None:
        """Peaks per channel and per track, and loudness, of what was heard since the last call."""
        return self.output.levels() if self.output is not None else None

    def _poll(self) -> None:
        out = self.output
        if out is None or not out.active:
            self.stop()
            return
        pos = out.position()
        self.doc.set_playhead(pos)
        if out.loop is None and ((out.rate > 0 and pos >= out.end) or (out.rate < 0 and pos <= 0)):
            self.stop()

    def _on_project_changed(self) -> None:
        if self.playing and self.output is not None:
            self.output.update_project(self.doc.project)
        if self.available:
            self._prepare.start()

    def shutdown(self) -> None:
        self.stop()
        if self.output is not None:
            self.output.close()
