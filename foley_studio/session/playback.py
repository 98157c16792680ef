"""Playback: a feeder thread renders the mix ahead into a ring of stereo frames; the audio callback
(`audio_device.copy_block`) only copies from it: no array allocation, no locks, no Qt.

`AudioOutput` is the session's playback engine, Qt-free; the editor's `ui.playback.PlaybackController`
adapts it (a QTimer polls the position to move the playhead, J/K/L shuttle, looping the selection,
scrubbing) and the takes panel auditions through another one. With no audio device
`AudioOutput.probe()` raises `AudioUnavailable` with a reason and the rest of the editor keeps working.

Where the callback runs is the device's business (`audio_device`): by default in a process of its
own, so it never waits for this process's interpreter lock while the GUI thread paints or decodes.
The ring is then shared memory; the rules below are the same either way.

Threads and who may write what (this is the whole locking story):

- the audio callback is the only writer of the ring's `read`, `t0_ns`, `max_block` and `underrun`
  counters; it reads `written` once per call and copies ring frames below it. It takes no lock.
- the feeder thread is the only writer of the ring's frames, of `written`, of the meter records
  and of the project it renders. It writes frames only at or above `read + guard`, where the guard
  is larger than any block the callback has been asked for, so it never touches the block being
  copied, and it publishes `written` only after the frames below it are in place.
- the GUI thread never touches the frames. It hands the feeder requests (an edited project to play,
  a seek, a scrub grain) through slots guarded by `_request_lock`, held only to swap a reference;
  a newer request of the same kind replaces a pending one (latest wins). It reads meter records
  the feeder appended (a deque: appends and pops are atomic) once they are heard. Counters are
  reset only while no stream reads the ring.

An edit made while playing therefore becomes: GUI posts the copy -> the feeder drops what it had
rendered beyond `read + UPDATE_MARGIN` (by lowering `written`; the callback may still copy frames
below that) and renders on from there with the new project. What the ring holds always maps to
the timeline by frame count alone (`_timeline_of_frame`), so dropping and re-rendering can neither
skip nor repeat a timeline sample. A seek is the same move with a shorter margin
(SEEK_MARGIN_SECONDS) that also re-anchors the mapping; switching the auditioned take is an edit
with the seek's margin.

Meters: the feeder measures what it renders, per SUB_FRAMES (25 ms): the peak of each channel,
the peak of each track, and the K-weighted energy (BS.1770) of the mix. `levels()` returns what
was *heard* since the last call (records up to the frame leaving the speaker now), with the
momentary and integrated loudness since playback started.
"""
from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from foley_studio.core.project import Project, Track
from foley_studio.core.timebase import SAMPLE_RATE

from .audio_device import (MAX_BLOCK, MAX_GAP_NS, OUTPUT, READ, T0_NS, UNDERRUN, WRITTEN,  # noqa: F401
                           AudioUnavailable, Ring, default_device, output_devices)

log = logging.getLogger(__name__)

SUB_FRAMES = 1200                 # 25 ms: the meters' resolution; 4 make BS.1770's 100 ms loudness step
CHUNK = 6000                      # 125 ms rendered per feeder step (a whole number of SUB_FRAMES)
PRIME_FRAMES = 4800               # the first render after a start or a cut: short, so it is heard at once
UPDATE_MARGIN_SECONDS = 0.25      # already-rendered audio still played after an edit while playing
SEEK_MARGIN_SECONDS = 0.08        # ... and after a seek or a take switch: a move should be heard at once
GUARD_FRAMES = 2048               # least distance ahead of the read position the feeder may rewrite
GRAIN_SECONDS = 0.07              # one scrub grain
GRAIN_FADE_SECONDS = 0.008        # raised-cosine edges of a grain: no clicks
SCRUB_INTERVAL_S = 0.04           # at most one grain per 40 ms while the playhead is dragged
SCRUB_IDLE_CLOSE_MS = 2000        # the scrub stream closes after this long without a grain
METER_RECORDS = 400               # ~10 s of 25 ms records: older ones are dropped if nobody reads them
LOUDNESS_STEP = 4 * SUB_FRAMES    # 100 ms
Renderer = Callable[[Project, int, int], np.ndarray]


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
class MixRenderer:
    """The media layer's mixdown with one shared decoded-source cache for the session.

    Called as `render(project, start, end)`: the project's mix in its bus layout ((2, n) stereo,
    (n,) mono). Playback passes `each_track` to meter every track as it is mixed."""

    meters_tracks = True

    def __init__(self, sources=None) -> None:
        from foley_studio.media import mixdown as mx
        self._mx = mx
        self.sources = sources if sources is not None else shared_sources()

    def __call__(self, project: Project, start: int, end: int,
                 each_track: Callable[[Track, np.ndarray | None], None] | None = None) -> np.ndarray:
        return self._mx.mixdown(project, start, end, sources=self.sources, channels=project.mix_channels,
                                each_track=each_track)

    def sources_of(self, project: Project) -> list[str]:
        """The files the project plays (read on the editing thread: the project may change after)."""
        return list(dict.fromkeys(c.source for t in self._mx.audible_tracks(project) for c in t.clips))

    def warm(self, paths: list[str]) -> None:
        """Decode these sources (off the GUI thread), so pressing play starts at once."""
        for path in paths:
            try:
                self.sources.get_channels(path)
            except Exception as exc:      # a missing file is reported when it is played
                log.debug("warming %s failed: %s", path, exc)


_SOURCES = None


def shared_sources():
    """The decoded sources every player of this process shares (transport, auditions): decoded once."""
    global _SOURCES
    if _SOURCES is None:
        from foley_studio.media.mixdown import SourceCache
        _SOURCES = SourceCache()
    return _SOURCES


def mixdown_renderer() -> MixRenderer:
    return MixRenderer()


def grain_window(length: int, fade: int) -> np.ndarray:
    """Unity gain with raised-cosine ramps of `fade` samples at both ends, float32 (length,)."""
    fade = max(1, min(fade, length // 2))
    window = np.ones(length, dtype=np.float32)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
    window[:fade] = ramp
    window[length - fade:] = ramp[::-1]
    return window


def _stereo(audio: np.ndarray, frames: int) -> np.ndarray:
    """(2, frames) float32 from a render: mono is heard at unity on both sides; short renders padded."""
    out = np.asarray(audio, dtype=np.float32)
    if out.ndim == 1:
        out = np.broadcast_to(out, (2, out.shape[0]))
    elif out.shape[0] != 2:
        out = np.broadcast_to(out.mean(axis=0), (2, out.shape[1]))
    if out.shape[1] < frames:
        out = np.concatenate([out, np.zeros((2, frames - out.shape[1]), np.float32)], axis=1)
    return out[:, :frames]


# ---------------------------------------------------------------------------------------------
# Meters
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeterRecord:
    """What the feeder measured over ring frames [start, end)."""

    start: int
    end: int
    peak: tuple[float, float]                 # |sample| peak of the left and right channel
    energy: float | None                      # K-weighted mean square summed over channels (None: no loudness)
    tracks: dict[str, float]                  # track id -> peak of what that track added


@dataclass
class OutputLevels:
    """What was heard since the last `levels()` call."""

    peak: tuple[float, float] = (0.0, 0.0)
    tracks: dict[str, float] = field(default_factory=dict)
    momentary: float | None = None            # LUFS over the last 400 ms heard
    integrated: float | None = None           # LUFS, gated, since playback started

    @property
    def max_peak(self) -> float:
        return max(self.peak)


class _Meters:
    """The feeder's measurements, kept until heard; loudness integrated as they are."""

    def __init__(self) -> None:
        from foley_studio.media.loudness import KWeighting, LiveLoudness
        self.records: deque[MeterRecord] = deque(maxlen=METER_RECORDS)
        self.weighting = KWeighting(2)
        self.loudness = LiveLoudness()
        self._step_energy = 0.0
        self._step_frames = 0

    def reset(self) -> None:
        self.records.clear()
        self.weighting.reset()
        self.loudness.reset()
        self._step_energy = 0.0
        self._step_frames = 0

    def measure(self, frame: int, chunk: np.ndarray, tracks: dict[str, np.ndarray], *, loudness: bool = True) -> None:
        """Records for `chunk` (2, n) placed at ring frame `frame`, one per SUB_FRAMES (one for a grain);
        `tracks` holds each track's part of the chunk, (2, n)."""
        n = chunk.shape[1]
        if not n:
            return
        parts = n // SUB_FRAMES if n % SUB_FRAMES == 0 else 1
        size = n // parts
        peaks = np.abs(chunk).reshape(2, parts, size).max(axis=2)
        energies = self.weighting.energies(chunk, parts) if loudness else [None] * parts
        track_peaks = {tid: np.abs(audio).reshape(2, parts, size).max(axis=(0, 2)) for tid, audio in tracks.items()}
        for i in range(parts):
            self.records.append(MeterRecord(frame + i * size, frame + (i + 1) * size,
                                            (float(peaks[0, i]), float(peaks[1, i])),
                                            None if energies[i] is None else float(energies[i]),
                                            {tid: float(p[i]) for tid, p in track_peaks.items()}))

    def drop_from(self, frame: int) -> None:
        """Forget records at or after `frame` (the feeder re-renders from there)."""
        records = self.records
        while records and records[-1].start >= frame:
            records.pop()

    def heard(self, frame: int) -> OutputLevels | None:
        """Fold the records heard by `frame` into one reading (GUI thread; the only consumer)."""
        records = self.records
        left = right = 0.0
        tracks: dict[str, float] = {}
        seen = False
        while records and records[0].end <= frame:
            r = records.popleft()
            seen = True
            left, right = max(left, r.peak[0]), max(right, r.peak[1])
            for tid, p in r.tracks.items():
                tracks[tid] = max(tracks.get(tid, 0.0), p)
            if r.energy is not None:
                self._step_energy += r.energy * (r.end - r.start)
                self._step_frames += r.end - r.start
                if self._step_frames >= LOUDNESS_STEP:
                    self.loudness.feed(self._step_energy / self._step_frames)
                    self._step_energy, self._step_frames = 0.0, 0
        if not seen:
            return None
        return OutputLevels((left, right), tracks, self.loudness.momentary, self.loudness.integrated)


def _collect_tracks(frames: int, into: dict[str, np.ndarray]) -> Callable[[Track, np.ndarray | None], None]:
    """A mixdown `each_track` hook keeping what each track added, as (2, frames) (silent tracks: zeros)."""
    def keep(track: Track, audio: np.ndarray | None) -> None:
        into[track.id] = np.zeros((2, frames), np.float32) if audio is None else _stereo(audio, frames)
    return keep


def _join_tracks(parts: list[dict[str, np.ndarray]], lengths: list[int]) -> dict[str, np.ndarray]:
    """Per-track audio of consecutive renders joined end to end (a track missing from one part: silence there)."""
    ids = list(dict.fromkeys(tid for part in parts for tid in part))
    return {tid: np.concatenate([part.get(tid, np.zeros((2, n), np.float32)) for part, n in zip(parts, lengths)],
                                axis=1) for tid in ids}


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------
class AudioOutput:
    """One output stream fed from a ring buffer.

    Mode "play": the transport, `rate` ±1, ±2, ±4 or ±8 (J/L shuttle speeds), optionally looping.
    Mode "scrub": the stream stays open and plays short faded grains of the mix on request.
    """

    def __init__(self, render: Renderer, sample_rate: int = SAMPLE_RATE, *, device=None):
        self.render = render
        self.sample_rate = sample_rate
        self.device = device                   # None: the process-wide default (audio_device.default_device)
        self.output_device: str | None = None  # the chosen output ("name, host API"); None: the system's
        self.ring = Ring()                     # replaced by the device's own ring when a stream first opens
        self._device_ring: Ring | None = None
        self._opened = None                    # (device, ring) a stream is open on
        self._feeder: threading.Thread | None = None
        self._running = False
        self._mode: str | None = None
        self._project: Project | None = None
        self._request_lock = threading.Lock()
        self._pending_project: tuple[Project, float] | None = None
        self._pending_grain: tuple[Project, int] | None = None
        self._pending_seek: int | None = None
        self._seek_hold = (0, 0)    # (ring frame, timeline sample): until that frame plays, the playhead waits there
        self._clock_origin_ns: int | None = None    # position()'s clock bound, moved by a seek
        self.seeks_applied = 0      # seeks the feeder has carried out (tests and diagnostics)
        self._wake = threading.Event()
        self.start_time = 0
        self.rate = 1
        self.loop: tuple[int, int] | None = None
        self.end = 0
        self._end_follows_project = True
        self.channels = 2
        self.latency = 0.0
        self.stream_device = ""
        self.grains_played = 0      # grains the feeder has written (tests and diagnostics)
        self.grain_length = int(round(GRAIN_SECONDS * sample_rate))
        fade = int(round(GRAIN_FADE_SECONDS * sample_rate))
        self._grain_window = grain_window(self.grain_length, fade)
        self._fade_out = self._grain_window[self.grain_length - fade:].copy()   # 1 -> 0 over one fade
        self._meters = _Meters()
        self.clock_ns: Callable[[], int] = time.monotonic_ns   # the clock position() is bounded by (tests set it)
        self._warming: threading.Thread | None = None
        self._warm_next: list[str] | None = None

    @staticmethod
    def probe() -> str:
        """Name of the default output device, or raise AudioUnavailable with the reason."""
        try:
            import sounddevice as sd
            info = sd.query_devices(kind="output")
        except Exception as exc:     # PortAudio missing, no devices, or no default output
            raise AudioUnavailable(f"no audio output device ({exc}); playback is off, export still works") from exc
        return str(info["name"])

    @staticmethod
    def devices() -> list[str]:
        """Output devices a user can choose ("name, host API"), the default first."""
        return output_devices()

    # -- ring counters, named as the engine has always called them ---------------------------
    @property
    def _written(self) -> int:
        return int(self.ring.header[WRITTEN])

    @_written.setter
    def _written(self, value: int) -> None:
        self.ring.header[WRITTEN] = value

    @property
    def _read(self) -> int:
        return int(self.ring.header[READ])

    @_read.setter
    def _read(self, value: int) -> None:
        self.ring.header[READ] = value

    @property
    def _ring(self) -> np.ndarray:
        return self.ring.frames

    @property
    def underrun_frames(self) -> int:
        """Frames of silence the callback had to play after sound started (0 when it never starved)."""
        return int(self.ring.header[UNDERRUN])

    @property
    def longest_callback_gap(self) -> float:
        """Seconds of the longest wait between two audio callbacks since the stream opened (or the reset)."""
        return int(self.ring.header[MAX_GAP_NS]) / 1e9

    def reset_callback_gap(self) -> None:
        self.ring.header[MAX_GAP_NS] = 0

    # -- control (GUI thread) ---------------------------------------------------------------------
    def warm_up(self) -> None:
        """Start the device (a process, by default) in the background, before the first play."""
        try:
            self._device().warm_up()
        except Exception as exc:
            log.info("audio device warm-up failed: %s", exc)

    def prepare(self, project: Project) -> None:
        """Decode the project's sources on a background thread (latest request wins), if the renderer can."""
        sources_of = getattr(self.render, "sources_of", None)
        if sources_of is not None:
            self.prepare_sources(sources_of(project))

    def prepare_sources(self, paths: list[str]) -> None:
        """Decode these files on a background thread (latest request wins), if the renderer caches sources."""
        warm = getattr(self.render, "warm", None)
        if warm is None:
            return
        self._warm_next = list(paths)
        if self._warming is not None and self._warming.is_alive():
            return

        def run() -> None:
            while (paths := self._warm_next) is not None:
                self._warm_next = None
                warm(paths)
        self._warming = threading.Thread(target=run, name="playback-warm", daemon=True)
        self._warming.start()

    def start(self, project: Project, start: int, *, rate: int = 1, loop: tuple[int, int] | None = None,
              end: int | None = None, owned: bool = False) -> None:
        """Play `project` from timeline sample `start` (copied unless `owned`: edits arrive by update)."""
        self.stop()
        self._project = project if owned else copy.deepcopy(project)   # the feeder never reads the live model
        self.start_time, self.rate, self.loop = int(start), int(rate), loop
        self.end = project.duration if end is None else int(end)
        self._end_follows_project = end is None
        self._open("play")

    def update_project(self, project: Project, *, margin_seconds: float = UPDATE_MARGIN_SECONDS,
                       owned: bool = False) -> None:
        """An edit made while playing: heard `margin_seconds` (of stream time) after the feeder takes it."""
        if self._running and self._mode == "play":
            new = project if owned else copy.deepcopy(project)
            with self._request_lock:
                self._pending_project = (new, margin_seconds)
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
            self._open("scrub")
        with self._request_lock:
            self._pending_grain = (project, int(position))
        self._wake.set()

    def stop(self) -> None:
        self._running = False
        self._wake.set()
        if self._opened is not None:
            device, ring = self._opened
            self._opened = None
            try:
                device.close(ring)
            except Exception as exc:      # a vanished device must not take the editor down
                log.warning("closing the audio stream failed: %s", exc)
        if self._feeder is not None:
            self._feeder.join(timeout=2)
            self._feeder = None
        self._mode = None
        with self._request_lock:
            self._pending_project = self._pending_grain = self._pending_seek = None

    def close(self) -> None:
        """Stop and give the device its ring back (the output can still be started again)."""
        self.stop()
        if self._device_ring is not None:
            self._device().release(self._device_ring)
            self._device_ring = None
            self.ring = Ring()

    @property
    def active(self) -> bool:
        """The transport is playing (scrubbing does not count)."""
        return self._running and self._opened is not None and self._mode == "play"

    @property
    def scrubbing(self) -> bool:
        return self._running and self._opened is not None and self._mode == "scrub"

    def _played_frames(self) -> int:
        """Frames heard so far: consumed by the callback, bounded by wall time since the first callback,
        less the output latency (what leaves the speaker now was handed over that long ago).

        The clock bound matters for devices that do not pace themselves (ALSA's null device eats
        buffers as fast as they come); real devices run at the clock anyway."""
        t0 = self._clock_origin_ns if self._clock_origin_ns is not None else int(self.ring.header[T0_NS])
        if not t0:
            return 0
        played = min(self._read, int((self.clock_ns() - t0) * self.sample_rate // 1_000_000_000))
        return max(0, played - int(self.latency * self.sample_rate))

    def _heard_frames(self) -> int:
        """Ring frames that have reached the speaker: like `_played_frames`, but once the device has
        gone on to play silence after them (the end of a grain or of playback) they count as heard."""
        t0 = int(self.ring.header[T0_NS])
        if not t0:
            return 0
        clock = int((self.clock_ns() - t0) * self.sample_rate // 1_000_000_000)
        given = min(int(self.ring.header[OUTPUT]), clock)
        return max(0, min(self._read, given - int(self.latency * self.sample_rate)))

    def position(self) -> int:
        """Timeline sample being heard."""
        played = self._played_frames()
        # After a seek the playhead stays where it was put until audio from there is heard.
        pending = self._pending_seek
        if pending is not None:
            return pending
        hold_frame, hold_time = self._seek_hold
        if played < hold_frame:
            return hold_time
        return self._timeline_of_frame(played)

    def levels(self) -> OutputLevels | None:
        """Peaks (per channel, per track) and loudness of what was heard since the last call; None when
        nothing was. Only the GUI calls this (single consumer)."""
        return self._meters.heard(self._heard_frames())

    def take_peak(self) -> float | None:
        """Largest |sample| heard since the last call (None when nothing played): a one-bar meter's source."""
        levels = self.levels()
        return None if levels is None else levels.max_peak

    def _device(self):
        if self.device is None:
            self.device = default_device()
        return self.device

    def _open(self, mode: str) -> None:
        device = self._device()
        if self._device_ring is None or not device.owns(self._device_ring):
            self._device_ring = device.ring()      # first use, or the device process was restarted
        self.ring = self._device_ring
        self.ring.reset()                      # no stream reads this ring now
        self._meters.reset()
        self._clock_origin_ns = None
        self._seek_hold = (0, self.start_time)
        self._mode = mode
        self._running = True
        # The feeder renders the first frames while the device opens its stream.
        self._feeder = threading.Thread(target=self._feed, name=f"playback-feeder-{mode}", daemon=True)
        self._feeder.start()
        try:
            info = device.open(self.ring, self.output_device)
        except Exception as exc:
            self._running = False
            self._wake.set()
            self._feeder.join(timeout=2)
            self._feeder = None
            self._mode = None
            raise exc if isinstance(exc, AudioUnavailable) else AudioUnavailable(
                f"the audio device could not be opened ({exc})") from exc
        self._opened = (device, self.ring)
        self.channels, self.latency, self.stream_device = info.channels, info.latency, info.device

    # -- the feeder thread ------------------------------------------------------------------------
    def _guard(self) -> int:
        """Frames past the read position the feeder must leave alone (twice the largest block seen)."""
        return max(GUARD_FRAMES, 2 * int(self.ring.header[MAX_BLOCK]))

    def _feed(self) -> None:
        step = self._feed_play_step if self._mode == "play" else self._feed_scrub_step
        if self._mode == "play":
            self._fill(PRIME_FRAMES)
        while self._running:
            self._wake.clear()
            if not step():
                self._wake.wait(0.01)

    def _feed_play_step(self) -> bool:
        """Take an edited project and a seek if waiting, then render one chunk if there is room."""
        with self._request_lock:
            pending, self._pending_project = self._pending_project, None
            seek = self._pending_seek
        if pending is not None:
            project, margin = pending
            self._project = project
            if self._end_follows_project:      # an edit that lengthens the project plays on to the new end
                self.end = project.duration
            self._cut_unplayed(margin)
        if seek is not None:
            self._apply_seek(seek)
        if self.ring.capacity - (self._written - self._read) < CHUNK:
            return False
        # Right after a cut only the margin is queued: render a short piece first, so it is in time.
        self._fill(PRIME_FRAMES if pending is not None or seek is not None else CHUNK)
        return True

    def _cut_unplayed(self, margin_seconds: float) -> int:
        """Forget what was rendered beyond `margin_seconds` (at least the guard) past the read position,
        so the next chunk rendered follows the new state; returns the frame the ring now ends at.

        The cut falls on a whole SUB_FRAMES (at or before the margin, never inside the guard) so the
        meter records stay aligned with the frames."""
        r = self._read
        margin = max(int(margin_seconds * self.sample_rate), self._guard())
        keep = max((r + margin) // SUB_FRAMES, -(-(r + self._guard()) // SUB_FRAMES)) * SUB_FRAMES
        keep = min(self._written, keep)
        if keep < self._written:
            log.debug("dropping %d rendered frames", self._written - keep)
        self._written = keep
        self._meters.drop_from(keep)
        return keep

    def _apply_seek(self, position: int) -> None:
        """Cut the ring SEEK_MARGIN_SECONDS past the read position and map the cut to `position`."""
        keep = self._cut_unplayed(SEEK_MARGIN_SECONDS)
        self._seek_hold = (keep, position)
        self.start_time = position - keep * self.rate       # so that _timeline_of_frame(keep) == position
        if self.ring.header[T0_NS]:
            # Restart position()'s clock bound at the frame being read now: a device that does not pace
            # itself (ALSA's null) has `read` far ahead of the clock, and the cut must still be reached
            # the margin's worth of wall time from here, as on a real device (where this changes next to nothing).
            self._clock_origin_ns = self.clock_ns() - self._read * 1_000_000_000 // self.sample_rate
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
        """Crossfade (2, n) into the ring: what still sounds fades out under the new grain's fade-in."""
        r, w = self._read, self._written
        at = min(w, r + self._guard())            # never inside the block the callback is copying
        size = self.ring.capacity
        frames = self.ring.frames
        length = grain.shape[1]
        if w > at:                                 # the tail of the previous grain is still to come
            tail = np.arange(at, w) % size
            fade = np.zeros(w - at, dtype=np.float32)
            n_fade = min(len(fade), len(self._fade_out))
            fade[:n_fade] = self._fade_out[:n_fade]
            frames[tail] *= fade[:, None]
        idx = np.arange(at, at + length) % size
        overlap = max(0, min(w - at, length))
        mixed = grain.T.copy()
        mixed[:overlap] += frames[idx[:overlap]]
        frames[idx] = mixed
        self._meters.drop_from(at)
        self._meters.measure(at, mixed.T, {}, loudness=False)
        self._written = max(w, at + length)       # published last: the frames are in place
        self.grains_played += 1

    def _fill(self, frames: int) -> None:
        """Render the next `frames` ring frames (timeline position from the frame count) and append them."""
        at = self._written
        tracks: dict[str, np.ndarray] = {}
        try:
            chunk = self._render_frames(at, frames, tracks)
        except Exception as exc:     # a missing file must not kill playback silently: log, play silence
            log.warning("mixdown for playback failed: %s", exc)
            chunk, tracks = np.zeros((2, frames), dtype=np.float32), {}
        self._meters.measure(at, chunk, tracks, loudness=abs(self.rate) == 1)
        self._write(chunk)

    def _render_frames(self, frame: int, frames: int, tracks: dict[str, np.ndarray]) -> np.ndarray:
        """(2, frames) for ring frames [frame, frame + frames); `tracks` gets each track's part of them."""
        speed = abs(self.rate)
        span = frames * speed
        a = self._timeline_of_frame(frame)
        parts: dict[str, np.ndarray] = {}
        if self.rate > 0:
            if self._looping():
                chunk = self._render_looped(a, span, parts)
            else:
                chunk = self._render(a, a + span, parts)
        else:
            lo = max(0, a - span)
            chunk = self._render(lo, a, parts)[:, ::-1]
            parts = {tid: audio[:, ::-1] for tid, audio in parts.items()}
            if chunk.shape[1] < span:            # before time zero: silence
                pad = np.zeros((2, span - chunk.shape[1]), np.float32)
                chunk = np.concatenate([chunk, pad], axis=1)
                parts = {tid: np.concatenate([audio, pad], axis=1) for tid, audio in parts.items()}
        for tid, audio in parts.items():
            tracks[tid] = audio[:, ::speed][:, :frames]
        return np.ascontiguousarray(chunk[:, ::speed][:, :frames], dtype=np.float32)

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

    def _render(self, a: int, b: int, tracks: dict[str, np.ndarray] | None = None) -> np.ndarray:
        return self._render_range(self._project, a, b, self.end, tracks)

    def _render_range(self, project: Project | None, a: int, b: int, end: int,
                      tracks: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """(2, b - a): the render of [a, b), silent past `end`; `tracks` gets each track's (2, b - a)
        when the renderer can meter tracks."""
        if project is None or a >= max(end, 1):
            return np.zeros((2, b - a), dtype=np.float32)
        if tracks is not None and getattr(self.render, "meters_tracks", False):
            out = self.render(project, a, b, each_track=_collect_tracks(b - a, tracks))
        else:
            out = self.render(project, a, b)
        return _stereo(out, b - a)

    def _render_looped(self, a: int, span: int, tracks: dict[str, np.ndarray]) -> np.ndarray:
        lo, hi = self.loop
        parts, track_parts, lengths, pos, left = [], [], [], a, span
        while left > 0:
            take = min(left, hi - pos)
            part_tracks: dict[str, np.ndarray] = {}
            parts.append(self._render(pos, pos + take, part_tracks))
            track_parts.append(part_tracks)
            lengths.append(take)
            left -= take
            pos = lo if pos + take >= hi else pos + take
        tracks.update(_join_tracks(track_parts, lengths))
        return np.concatenate(parts, axis=1)

    def _write(self, chunk: np.ndarray) -> None:
        """Append (2, n) at `written`, then publish the new `written`."""
        frames = self.ring.frames
        n = self.ring.capacity
        w = self._written % n
        length = chunk.shape[1]
        first = min(length, n - w)
        frames[w:w + first] = chunk[:, :first].T
        frames[:length - first] = chunk[:, first:].T
        self._written = self._written + length


def level_db(peak: float) -> float:
    """Linear peak to dBFS (silence: -inf)."""
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf
