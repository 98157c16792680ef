"""Playback through sounddevice: a feeder thread renders the mix ahead into a ring buffer and the
audio callback only copies from it (no array allocation, no locks, no Qt calls in the callback).

`AudioOutput` is the session's playback engine, Qt-free; the editor's `ui.playback.PlaybackController`
adapts it (a QTimer polls the position to move the playhead, J/K/L shuttle, looping the selection,
scrubbing). With no audio device `AudioOutput.probe()` raises `AudioUnavailable` with a reason and
every other part of the editor keeps working.

Threads and who may write what (this is the whole locking story):

- the audio callback (PortAudio's thread) is the only writer of `_read`, `_max_block` and the peak
  slots; it reads `_written` once per call and copies ring frames below it. It takes no lock.
- the feeder thread is the only writer of the ring's contents, of `_written` and of the project it
  renders. It writes ring frames only at or above `_read + guard`, where the guard is larger than
  any block the callback has been asked for, so it never touches the block being copied, and it
  publishes `_written` only after the frames below it are in place.
- the GUI thread never touches the ring. It hands the feeder requests (an edited project to play,
  a seek, a scrub grain) through slots guarded by `_request_lock`, held only to swap a reference;
  a newer request of the same kind replaces a pending one (latest wins).

An edit made while playing therefore becomes: GUI posts the copy -> the feeder drops what it had
rendered beyond `_read + UPDATE_MARGIN` (by lowering `_written`; the callback may still copy frames
below that) and renders on from there with the new project. What the ring holds always maps to
the timeline by frame count alone (`_timeline_of_frame`), so dropping and re-rendering can neither
skip nor repeat a timeline sample.

A seek while playing is the same move with a shorter margin (SEEK_MARGIN_SECONDS): the feeder
drops what lies beyond it and re-anchors the mapping (`start_time` becomes the timeline sample
frame 0 *would* have had) so the frame at the cut maps to the new position. The stream stays open.
"""
from __future__ import annotations

import copy
import logging
import threading
import time
from typing import Callable

import numpy as np

from foley_studio.core.project import Project
from foley_studio.core.timebase import SAMPLE_RATE

log = logging.getLogger(__name__)

RING_SECONDS = 4.0
CHUNK = 6000                      # 125 ms rendered per feeder step
UPDATE_MARGIN_SECONDS = 0.25      # already-rendered audio still played after an edit while playing
SEEK_MARGIN_SECONDS = 0.08        # ... and after a seek: short, a moved playhead should be heard at once
GUARD_FRAMES = 2048               # least distance ahead of the read position the feeder may rewrite
GRAIN_SECONDS = 0.07              # one scrub grain
GRAIN_FADE_SECONDS = 0.008        # raised-cosine edges of a grain: no clicks
SCRUB_INTERVAL_S = 0.04           # at most one grain per 40 ms while the playhead is dragged
SCRUB_IDLE_CLOSE_MS = 2000        # the scrub stream closes after this long without a grain
PEAK_SLOTS = 64                   # callback blocks remembered for the meter (~0.7 s at 512 frames)
Renderer = Callable[[Project, int, int], np.ndarray]


def mixdown_renderer() -> Renderer:
    """The media layer's mixdown with one shared decoded-source cache for the session."""
    from foley_studio.media import mixdown as mx
    sources = mx.SourceCache()

    def render(project: Project, start: int, end: int) -> np.ndarray:
        return mx.mixdown(project, start, end, sources=sources)
    return render


def grain_window(length: int, fade: int) -> np.ndarray:
    """Unity gain with raised-cosine ramps of `fade` samples at both ends, float32 (length,)."""
    fade = max(1, min(fade, length // 2))
    window = np.ones(length, dtype=np.float32)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
    window[:fade] = ramp
    window[length - fade:] = ramp[::-1]
    return window


class AudioUnavailable(RuntimeError):
    """No usable output device (the reason is shown in the status bar)."""


class AudioOutput:
    """One output stream fed from a ring buffer.

    Mode "play": the transport, `rate` ±1, ±2, ±4 or ±8 (J/L shuttle speeds), optionally looping.
    Mode "scrub": the stream stays open and plays short faded grains of the mix on request.
    """

    def __init__(self, render: Renderer, sample_rate: int = SAMPLE_RATE):
        self.render = render
        self.sample_rate = sample_rate
        self._ring = np.zeros(int(RING_SECONDS * sample_rate), dtype=np.float32)
        self._written = 0           # frames the feeder has put in the ring (monotonic except edits)
        self._read = 0              # frames the callback has taken (monotonic)
        self._max_block = 0         # largest block the callback was asked for
        self._peaks = np.zeros(PEAK_SLOTS, dtype=np.float64)
        self._peak_count = 0        # blocks measured (callback writes)
        self._peak_seen = 0         # blocks already reported to the meter (GUI writes)
        self._stream = None
        self._feeder: threading.Thread | None = None
        self._running = False
        self._mode: str | None = None
        self._project: Project | None = None
        self._request_lock = threading.Lock()
        self._pending_project: Project | None = None
        self._pending_grain: tuple[Project, int] | None = None
        self._pending_seek: int | None = None
        self._seek_hold = (0, 0)    # (ring frame, timeline sample): until that frame plays, the playhead waits there
        self.seeks_applied = 0      # seeks the feeder has carried out (tests and diagnostics)
        self._wake = threading.Event()
        self._t0: float | None = None
        self.start_time = 0
        self.rate = 1
        self.loop: tuple[int, int] | None = None
        self.end = 0
        self._end_follows_project = True
        self.channels = 2
        self.grains_played = 0      # grains the feeder has written (tests and diagnostics)
        self.grain_length = int(round(GRAIN_SECONDS * sample_rate))
        fade = int(round(GRAIN_FADE_SECONDS * sample_rate))
        self._grain_window = grain_window(self.grain_length, fade)
        self._fade_out = self._grain_window[self.grain_length - fade:].copy()   # 1 -> 0 over one fade

    @staticmethod
    def probe() -> str:
        """Name of the default output device, or raise AudioUnavailable with the reason."""
        try:
            import sounddevice as sd
            info = sd.query_devices(kind="output")
        except Exception as exc:     # PortAudio missing, no devices, or no default output
            raise AudioUnavailable(f"no audio output device ({exc}); playback is off, export still works") from exc
        return str(info["name"])

    # -- control (GUI thread) ---------------------------------------------------------------------
    def start(self, project: Project, start: int, *, rate: int = 1, loop: tuple[int, int] | None = None,
              end: int | None = None) -> None:
        """Play `project` from timeline sample `start` (the project is copied: edits arrive by update)."""
        self.stop()
        self._project = copy.deepcopy(project)     # the feeder never reads the live, edited model
        self.start_time, self.rate, self.loop = int(start), int(rate), loop
        self.end = project.duration if end is None else int(end)
        self._end_follows_project = end is None
        self._reset_ring()
        self._seek_hold = (0, self.start_time)
        self._fill(min(len(self._ring), 4 * CHUNK))          # something to play before the stream opens
        self._open("play")

    def update_project(self, project: Project) -> None:
        """An edit made while playing: heard UPDATE_MARGIN_SECONDS (of stream time) after the feeder takes it."""
        if self._running and self._mode == "play":
            with self._request_lock:
                self._pending_project = copy.deepcopy(project)
            self._wake.set()

    def seek(self, position: int) -> bool:
        """While playing: go on from timeline sample `position` in the open stream.

        Heard SEEK_MARGIN_SECONDS (of stream time) after the feeder takes it; seeks posted before
        then collapse into one at the latest position. Returns False when not playing (nothing to move)."""
        if not (self._running and self._mode == "play"):
            return False
        with self._request_lock:
            self._pending_seek = max(0, int(position))
        self._wake.set()
        return True

    def scrub(self, project: Project, position: int) -> None:
        """Play a short grain of `project`'s mix from `position` (a later request replaces a pending one).

        `project` must be a copy the GUI will not edit. Opens the stream on first use; the caller
        closes it with `stop()` when scrubbing ends.
        """
        if self._mode != "scrub":
            self.stop()
            self._project = None
            self.start_time, self.rate, self.loop, self.end = 0, 1, None, 0
            self._reset_ring()
            self._open("scrub")
        with self._request_lock:
            self._pending_grain = (project, int(position))
        self._wake.set()

    def stop(self) -> None:
        self._running = False
        self._wake.set()
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
        self._mode = None
        with self._request_lock:
            self._pending_project = self._pending_grain = self._pending_seek = None

    @property
    def active(self) -> bool:
        """The transport is playing (scrubbing does not count)."""
        return self._running and self._stream is not None and self._mode == "play"

    @property
    def scrubbing(self) -> bool:
        return self._running and self._stream is not None and self._mode == "scrub"

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
        # After a seek the playhead stays where it was put until audio from there is heard.
        pending = self._pending_seek
        if pending is not None:
            return pending
        hold_frame, hold_time = self._seek_hold
        if played < hold_frame:
            return hold_time
        return self._timeline_of_frame(played)

    def take_peak(self) -> float | None:
        """Largest |sample| the callback has output since the last call; None when no block was played.

        Only the GUI calls this (single reader). It empties the slots it has read; the callback
        folds each block into slot `count % PEAK_SLOTS` with max(), so when more blocks than slots
        pass between two calls (a stalled GUI, or ALSA's unpaced null device) older blocks stay
        folded in instead of being overwritten. Only then can one block racing with the emptying
        be missed."""
        count = self._peak_count
        new = count - self._peak_seen
        if new <= 0:
            return None
        if new >= PEAK_SLOTS:
            idx = np.arange(PEAK_SLOTS)
        else:
            idx = np.arange(self._peak_seen, count) % PEAK_SLOTS
        value = float(self._peaks[idx].max())
        self._peaks[idx] = 0.0
        self._peak_seen = count
        return value

    def _reset_ring(self) -> None:
        self._written = self._read = 0
        self._t0 = None

    def _open(self, mode: str) -> None:
        import sounddevice as sd
        info = sd.query_devices(kind="output")
        self.channels = max(1, min(2, int(info["max_output_channels"])))
        self._mode = mode
        self._running = True
        try:
            self._stream = sd.OutputStream(samplerate=self.sample_rate, channels=self.channels, dtype="float32",
                                           callback=self._callback, latency="low")
            self._stream.start()
        except Exception as exc:
            self._running = False
            self._stream = None
            self._mode = None
            raise AudioUnavailable(f"the audio device could not be opened ({exc})") from exc
        self._feeder = threading.Thread(target=self._feed, name=f"playback-feeder-{mode}", daemon=True)
        self._feeder.start()

    # -- the audio thread -------------------------------------------------------------------------
    def _callback(self, outdata, frames, time_info, status) -> None:   # noqa: ARG002 (PortAudio signature)
        """Audio thread: copy what is ready, silence for the rest, note the block's peak. Nothing else."""
        if self._t0 is None:
            self._t0 = time.monotonic()
        if frames > self._max_block:
            self._max_block = frames
        ring = self._ring
        n = ring.shape[0]
        r = self._read
        k = max(0, min(frames, self._written - r))
        i = r % n
        first = min(k, n - i)
        outdata[:first] = ring[i:i + first, None]
        if k > first:
            outdata[first:k] = ring[:k - first, None]
        if k < frames:
            outdata[k:] = 0.0
        self._read = r + k
        if frames:
            # Two reductions over the block (no temporaries), folded into a slot the GUI empties: lock-free.
            c = self._peak_count
            peak = max(float(outdata.max()), -float(outdata.min()))
            if peak > self._peaks[c % PEAK_SLOTS]:
                self._peaks[c % PEAK_SLOTS] = peak
            self._peak_count = c + 1

    # -- the feeder thread ------------------------------------------------------------------------
    def _guard(self) -> int:
        """Frames past the read position the feeder must leave alone (twice the largest block seen)."""
        return max(GUARD_FRAMES, 2 * self._max_block)

    def _feed(self) -> None:
        step = self._feed_play_step if self._mode == "play" else self._feed_scrub_step
        while self._running:
            self._wake.clear()
            if not step():
                self._wake.wait(0.01)

    def _feed_play_step(self) -> bool:
        """Take an edited project and a seek if waiting, then render one chunk if there is room."""
        with self._request_lock:
            project, self._pending_project = self._pending_project, None
            seek = self._pending_seek
        if project is not None:
            self._project = project
            if self._end_follows_project:      # an edit that lengthens the project plays on to the new end
                self.end = project.duration
            self._drop_unplayed()
        if seek is not None:
            self._apply_seek(seek)
        if len(self._ring) - (self._written - self._read) < CHUNK:
            return False
        self._fill(CHUNK)
        return True

    def _cut_unplayed(self, margin_seconds: float) -> int:
        """Forget what was rendered beyond `margin_seconds` (at least the guard) past the read position,
        so the next chunk rendered follows the new state; returns the frame the ring now ends at."""
        margin = max(int(margin_seconds * self.sample_rate), self._guard())
        keep = min(self._written, self._read + margin)
        if keep < self._written:
            log.debug("dropping %d rendered frames", self._written - keep)
        self._written = keep
        return keep

    def _drop_unplayed(self) -> None:
        """An edit: what plays after the margin comes from the new project."""
        self._cut_unplayed(UPDATE_MARGIN_SECONDS)

    def _apply_seek(self, position: int) -> None:
        """Cut the ring SEEK_MARGIN_SECONDS past the read position and map the cut to `position`."""
        keep = self._cut_unplayed(SEEK_MARGIN_SECONDS)
        self._seek_hold = (keep, position)
        self.start_time = position - keep * self.rate       # so that _timeline_of_frame(keep) == position
        if self._t0 is not None:
            # Restart position()'s clock bound at the frame being read now: a device that does not pace
            # itself (ALSA's null) has `_read` far ahead of the clock, and the cut must still be reached
            # the margin's worth of wall time from here, as on a real device (where this changes next to nothing).
            self._t0 = time.monotonic() - self._read / self.sample_rate
        self.seeks_applied += 1
        # Cleared only now, with the mapping in place: position() never falls back to the old one.
        with self._request_lock:
            if self._pending_seek == position:
                self._pending_seek = None
        log.debug("seek while playing: frame %d plays timeline sample %d", keep, position)

    def _feed_scrub_step(self) -> bool:
        with self._request_lock:
            grain, self._pending_grain = self._pending_grain, None
        if grain is None:
            return False
        project, position = grain
        try:
            samples = self._render_range(project, position, position + self.grain_length, project.duration)
        except Exception as exc:      # a missing file: say so in the log, play nothing
            log.warning("mixdown for a scrub grain failed: %s", exc)
            return True
        self._write_grain(samples * self._grain_window)
        return True

    def _write_grain(self, grain: np.ndarray) -> None:
        """Crossfade into the ring: what still sounds fades out under the new grain's fade-in."""
        r, w = self._read, self._written
        at = min(w, r + self._guard())            # never inside the block the callback is copying
        size = len(self._ring)
        if w > at:                                 # the tail of the previous grain is still to come
            tail = np.arange(at, w) % size
            fade = np.zeros(w - at, dtype=np.float32)
            n_fade = min(len(fade), len(self._fade_out))
            fade[:n_fade] = self._fade_out[:n_fade]
            self._ring[tail] *= fade
        idx = np.arange(at, at + len(grain)) % size
        overlap = max(0, min(w - at, len(grain)))
        mixed = grain.copy()
        mixed[:overlap] += self._ring[idx[:overlap]]
        self._ring[idx] = mixed
        self._written = max(w, at + len(grain))    # published last: the frames are in place
        self.grains_played += 1

    def _fill(self, frames: int) -> None:
        """Render the next `frames` ring frames (timeline position from the frame count) and append them."""
        try:
            chunk = self._render_frames(self._written, frames)
        except Exception as exc:     # a missing file must not kill playback silently: log, play silence
            log.warning("mixdown for playback failed: %s", exc)
            chunk = np.zeros(frames, dtype=np.float32)
        self._write(chunk)

    def _render_frames(self, frame: int, frames: int) -> np.ndarray:
        speed = abs(self.rate)
        span = frames * speed
        a = self._timeline_of_frame(frame)
        if self.rate > 0:
            if self._looping():
                chunk = self._render_looped(a, span)
            else:
                chunk = self._render(a, a + span)
        else:
            lo = max(0, a - span)
            chunk = self._render(lo, a)[::-1]
            if len(chunk) < span:
                chunk = np.concatenate([chunk, np.zeros(span - len(chunk), dtype=np.float32)])
        return np.ascontiguousarray(chunk[::speed][:frames], dtype=np.float32)

    def _looping(self) -> bool:
        return self.loop is not None and self.loop[1] > self.loop[0]

    def _timeline_of_frame(self, frame: int) -> int:
        """Timeline sample at ring frame `frame` (speed and loop are fixed for one start(); a seek moves start)."""
        pos = self.start_time + frame * self.rate
        if self.rate > 0 and self._looping():
            a, b = self.loop
            if pos >= b:
                pos = a + (pos - a) % (b - a)
        return max(0, pos)

    def _render(self, a: int, b: int) -> np.ndarray:
        return self._render_range(self._project, a, b, self.end)

    def _render_range(self, project: Project | None, a: int, b: int, end: int) -> np.ndarray:
        if project is None or a >= max(end, 1):
            return np.zeros(b - a, dtype=np.float32)
        out = np.asarray(self.render(project, a, b), dtype=np.float32)
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

    def _write(self, chunk: np.ndarray) -> None:
        n = len(self._ring)
        w = self._written % n
        first = min(len(chunk), n - w)
        self._ring[w:w + first] = chunk[:first]
        self._ring[:len(chunk) - first] = chunk[first:]
        self._written += len(chunk)
