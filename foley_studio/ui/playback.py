"""Playback through sounddevice: a feeder thread renders the mix ahead into a ring buffer and the
audio callback only copies from it (no allocation, no locks, no Qt calls in the callback).

`AudioOutput` is Qt-free; `PlaybackController` adapts it to the editor (a QTimer polls the position
to move the playhead, J/K/L shuttle, looping the selection). With no audio device the controller
reports `available = False` with a reason and every other part of the editor keeps working.
"""
from __future__ import annotations

import copy
import logging
import threading
import time
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from foley_studio.core.project import Project
from foley_studio.core.timebase import SAMPLE_RATE

log = logging.getLogger(__name__)

RING_SECONDS = 4.0
CHUNK = 6000                      # 125 ms rendered per feeder step
Renderer = Callable[[Project, int, int], np.ndarray]


def mixdown_renderer() -> Renderer:
    """The media layer's mixdown with one shared decoded-source cache for the session."""
    from foley_studio.media import mixdown as mx
    sources = mx.SourceCache()

    def render(project: Project, start: int, end: int) -> np.ndarray:
        return mx.mixdown(project, start, end, sources=sources)
    return render


class AudioUnavailable(RuntimeError):
    """No usable output device (the reason is shown in the status bar)."""


class AudioOutput:
    """One output stream fed from a ring buffer; `rate` -2, -1, 1 or 2 (J/L shuttle speeds)."""

    def __init__(self, render: Renderer, sample_rate: int = SAMPLE_RATE):
        self.render = render
        self.sample_rate = sample_rate
        self._ring = np.zeros(int(RING_SECONDS * sample_rate), dtype=np.float32)
        self._written = 0           # frames the feeder has put in the ring (monotonic)
        self._read = 0              # frames the callback has taken (monotonic)
        self._stream = None
        self._feeder: threading.Thread | None = None
        self._running = False
        self._project: Project | None = None
        self._t0: float | None = None
        self.start_time = 0
        self.rate = 1
        self.loop: tuple[int, int] | None = None
        self.end = 0
        self.channels = 2

    @staticmethod
    def probe() -> str:
        """Name of the default output device, or raise AudioUnavailable with the reason."""
        try:
            import sounddevice as sd
            info = sd.query_devices(kind="output")
        except Exception as exc:     # PortAudio missing, no devices, or no default output
            raise AudioUnavailable(f"no audio output device ({exc}); playback is off, export still works") from exc
        return str(info["name"])

    def start(self, project: Project, start: int, *, rate: int = 1, loop: tuple[int, int] | None = None,
              end: int | None = None) -> None:
        import sounddevice as sd
        self.stop()
        self._project = copy.deepcopy(project)     # the feeder never reads the live, edited model
        self.start_time, self.rate, self.loop = int(start), int(rate), loop
        self.end = project.duration if end is None else int(end)
        self._written = self._read = 0
        self._t0 = None
        self._cursor = int(start)
        self._running = True
        self._fill(min(len(self._ring), 4 * CHUNK))          # something to play before the stream opens
        info = sd.query_devices(kind="output")
        self.channels = max(1, min(2, int(info["max_output_channels"])))
        try:
            self._stream = sd.OutputStream(samplerate=self.sample_rate, channels=self.channels, dtype="float32",
                                           callback=self._callback, latency="low")
            self._stream.start()
        except Exception as exc:
            self._running = False
            self._stream = None
            raise AudioUnavailable(f"the audio device could not be opened ({exc})") from exc
        self._feeder = threading.Thread(target=self._feed, name="playback-feeder", daemon=True)
        self._feeder.start()

    def update_project(self, project: Project) -> None:
        """Edits made while playing are heard from the next rendered chunk on."""
        if self._running:
            self._project = copy.deepcopy(project)

    def stop(self) -> None:
        self._running = False
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception as exc:      # a vanished device must not take the editor down
                log.warning("closing the audio stream failed: %s", exc)
            self._stream = None
        if self._feeder is not None:
            self._feeder.join(timeout=2)
            self._feeder = None

    @property
    def active(self) -> bool:
        return self._running and self._stream is not None

    def position(self) -> int:
        """Timeline sample being heard: frames consumed, bounded by wall time since the first callback.

        The bound matters for devices that do not pace themselves (ALSA's null device eats buffers as
        fast as they come); real devices run at the clock anyway."""
        played = self._read
        if self._t0 is not None:
            played = min(played, int((time.monotonic() - self._t0) * self.sample_rate))
        else:
            played = 0
        # What leaves the speaker now was handed over one output latency ago.
        latency = getattr(self._stream, "latency", 0.0) or 0.0
        played = max(0, played - int(float(latency) * self.sample_rate))
        return self._timeline_at(played * self.rate)

    def _timeline_at(self, offset: int) -> int:
        pos = self.start_time + offset
        if self.loop is not None:
            a, b = self.loop
            if pos >= b and b > a:
                pos = a + (pos - a) % (b - a)
        return max(0, pos)

    # -- threads ----------------------------------------------------------------------------------
    def _callback(self, outdata, frames, time_info, status) -> None:   # noqa: ARG002 (PortAudio signature)
        """Audio thread: copy what is ready, silence for the rest. Nothing else."""
        if self._t0 is None:
            self._t0 = time.monotonic()
        ring = self._ring
        n = ring.shape[0]
        r = self._read
        k = min(frames, self._written - r)
        i = r % n
        first = min(k, n - i)
        outdata[:first] = ring[i:i + first, None]
        if k > first:
            outdata[first:k] = ring[:k - first, None]
        if k < frames:
            outdata[k:] = 0.0
        self._read = r + k

    def _feed(self) -> None:
        while self._running:
            free = len(self._ring) - (self._written - self._read)
            if free < CHUNK:
                time.sleep(0.01)
                continue
            try:
                self._fill(CHUNK)
            except Exception as exc:     # a missing file must not kill playback silently: log, play silence
                log.warning("mixdown for playback failed: %s", exc)
                self._write(np.zeros(CHUNK, dtype=np.float32))

    def _fill(self, frames: int) -> None:
        speed = abs(self.rate)
        span = frames * speed
        if self.rate > 0:
            a = self._cursor
            if self.loop is not None and self.loop[1] > self.loop[0]:
                chunk = self._render_looped(a, span)
                self._cursor = self._timeline_wrap(a + span)
            else:
                chunk = self._render(a, a + span)
                self._cursor = a + span
        else:
            b = self._cursor
            a = max(0, b - span)
            chunk = self._render(a, b)[::-1]
            if len(chunk) < span:
                chunk = np.concatenate([chunk, np.zeros(span - len(chunk), dtype=np.float32)])
            self._cursor = a
        self._write(np.ascontiguousarray(chunk[::speed][:frames], dtype=np.float32))

    def _render(self, a: int, b: int) -> np.ndarray:
        if self._project is None or a >= max(self.end, 1):
            return np.zeros(b - a, dtype=np.float32)
        out = np.asarray(self.render(self._project, a, b), dtype=np.float32)
        if out.ndim > 1:
            out = out.mean(axis=0)
        if len(out) < b - a:
            out = np.concatenate([out, np.zeros(b - a - len(out), dtype=np.float32)])
        return out[:b - a]

    def _render_looped(self, a: int, span: int) -> np.ndarray:
        lo, hi = self.loop
        parts, pos, left = [], a, span
        while left > 0:
            take = min(left, hi - pos)
            parts.append(self._render(pos, pos + take))
            left -= take
            pos = lo if pos + take >= hi else pos + take
        return np.concatenate(parts)

    def _timeline_wrap(self, pos: int) -> int:
        lo, hi = self.loop
        return lo + (pos - lo) % (hi - lo) if pos >= hi else pos

    def _write(self, chunk: np.ndarray) -> None:
        n = len(self._ring)
        w = self._written % n
        first = min(len(chunk), n - w)
        self._ring[w:w + first] = chunk[:first]
        self._ring[:len(chunk) - first] = chunk[first:]
        self._written += len(chunk)


class PlaybackController(QObject):
    """Transport for the editor: play/stop, J/K/L shuttle, loop; moves the document's playhead."""

    playingChanged = Signal(bool)
    statusMessage = Signal(str)

    def __init__(self, document, render: Renderer | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.doc = document
        self._render = render
        self.output: AudioOutput | None = None
        self.loop_enabled = False
        self.available = True
        self.unavailable_reason = ""
        self.device_name = ""
        try:
            self.device_name = AudioOutput.probe()
        except AudioUnavailable as exc:
            self.available, self.unavailable_reason = False, str(exc)
        self._timer = QTimer(self, interval=30)
        self._timer.timeout.connect(self._poll)
        document.changed.connect(self._on_project_changed)

    @property
    def playing(self) -> bool:
        return self.output is not None and self.output.active

    def _output(self) -> AudioOutput:
        if self.output is None:
            self.output = AudioOutput(self._render or mixdown_renderer())
        return self.output

    def play(self, rate: int = 1) -> bool:
        if not self.available:
            self.statusMessage.emit(f"Playback unavailable: {self.unavailable_reason}")
            return False
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
        if self.output is not None:
            self.output.stop()
        if was:
            self.playingChanged.emit(False)

    def toggle(self) -> None:
        self.stop() if self.playing else self.play()

    def shuttle(self, direction: int) -> None:
        """J (-1) / K (0) / L (+1): pressing the same direction again doubles the speed (max 2x)."""
        if direction == 0:
            self.stop()
            return
        current = self.output.rate if self.playing and self.output else 0
        same_way = current * direction > 0
        self.play(2 * direction if same_way else direction)

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

    def shutdown(self) -> None:
        self.stop()
