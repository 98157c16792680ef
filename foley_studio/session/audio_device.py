"""The sound card's side of playback: a ring of stereo frames and the callback that copies from it.

`Ring` is what the playback engine (`playback.AudioOutput`) and the audio callback share: the
frames (capacity, 2) float32 and a few int64 counters. The engine's feeder thread writes frames
and publishes `written`; the callback (`copy_block`) is the only writer of `read`, `t0_ns`,
`max_block` and `underrun`. Neither side ever waits for the other (see `playback` for the rules).

Where the callback runs is the device's choice:

- `ProcessDevice` (the editor's default): the PortAudio stream lives in a small process of its
  own (`python -m foley_studio.session.audio_device`, started once, asked to open and close
  streams by JSON lines on a pipe), and the rings are a shared memory map. The callback then
  never waits for this process's interpreter lock, which the GUI thread may hold for long
  stretches (painting, decoding, a modal loop): the issue that made playback stutter while the
  editor worked. Only rendering ahead stays here, on a thread with seconds of slack.
- `InProcessDevice`: the stream and callback in this process (tests with a fake `sounddevice`,
  and a fallback where a process cannot be started).

Devices are named as sounddevice selects them ("name, host API"); None is the system default.
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import logging
import mmap
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE

log = logging.getLogger(__name__)

RING_SECONDS = 4.0
RING_FRAMES = int(RING_SECONDS * SAMPLE_RATE)
LATENCY = float(os.environ.get("FOLEY_STUDIO_AUDIO_LATENCY", "0.04"))   # PortAudio's suggested latency, s
REALTIME_PRIORITY = 10        # SCHED_RR priority asked for the device process (modest: JACK uses 70+)
SLOTS = 4                     # rings the device process holds: transport, audition, library preview, spare
OPEN_TIMEOUT_S = 10.0         # a first open may wait for the process to finish starting

# The counters in a ring's header (int64 each). OUTPUT counts every frame the device was given,
# silence included (READ only those copied from the ring); LAST_NS / MAX_GAP_NS time the callbacks
# (the longest wait between two: what a stalled callback thread would show).
WRITTEN, READ, T0_NS, MAX_BLOCK, UNDERRUN, OUTPUT, LAST_NS, MAX_GAP_NS, HEADER = 0, 1, 2, 3, 4, 5, 6, 7, 8


class AudioUnavailable(RuntimeError):
    """No usable output device (the reason is shown in the status bar)."""


class Ring:
    """Stereo frames and the counters both sides read, over one buffer (local or shared memory)."""

    def __init__(self, buffer: Any = None, frames: int = RING_FRAMES, *, slot: int = -1):
        nbytes = HEADER * 8 + frames * 2 * 4
        buffer = bytearray(nbytes) if buffer is None else buffer
        self.header = np.frombuffer(buffer, dtype=np.int64, count=HEADER)
        self.frames = np.frombuffer(buffer, dtype=np.float32, count=frames * 2, offset=HEADER * 8).reshape(frames, 2)
        self.capacity = frames
        self.slot = slot

    @staticmethod
    def nbytes(frames: int = RING_FRAMES) -> int:
        return HEADER * 8 + frames * 2 * 4

    def reset(self) -> None:
        """Empty counters; only while no callback reads this ring (its stream is closed)."""
        self.header[:] = 0


def copy_block(ring: Ring, outdata: np.ndarray, frames: int) -> None:
    """The audio callback's whole job: copy the frames that are ready, silence for the rest.

    No allocation beyond numpy's slicing views, no lock, nothing that waits."""
    h = ring.header
    now = time.monotonic_ns()
    if h[T0_NS] == 0:
        h[T0_NS] = now
    elif now - h[LAST_NS] > h[MAX_GAP_NS]:
        h[MAX_GAP_NS] = now - h[LAST_NS]
    h[LAST_NS] = now
    if frames > h[MAX_BLOCK]:
        h[MAX_BLOCK] = frames
    n = ring.capacity
    r = int(h[READ])
    k = max(0, min(frames, int(h[WRITTEN]) - r))
    i = r % n
    first = min(k, n - i)
    src = ring.frames
    if outdata.shape[1] == 2:
        outdata[:first] = src[i:i + first]
        if k > first:
            outdata[first:k] = src[:k - first]
    else:                                     # a mono device: the fold-down of both channels
        np.add(src[i:i + first, 0], src[i:i + first, 1], out=outdata[:first, 0])
        if k > first:
            np.add(src[:k - first, 0], src[:k - first, 1], out=outdata[first:k, 0])
        outdata[:k] *= 0.5
    if k < frames:
        outdata[k:] = 0.0
        if r + k:                             # silence after audio had started: an underrun
            h[UNDERRUN] += frames - k
    h[READ] = r + k
    h[OUTPUT] += frames


@dataclass(frozen=True)
class StreamInfo:
    channels: int
    latency: float            # seconds from a frame leaving the callback to the speaker
    device: str


def output_devices() -> list[str]:
    """Output devices as "name, host API" (what `device=` accepts), the default first."""
    import sounddevice as sd
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default = sd.query_devices(kind="output")["name"]
    except Exception as exc:      # PortAudio missing or no devices at all
        log.info("no output devices: %s", exc)
        return []
    names = [f"{d['name']}, {apis[d['hostapi']]['name']}" for d in devices if d["max_output_channels"] > 0]
    names.sort(key=lambda name: not name.startswith(f"{default}, "))
    return names


def _open_stream(ring: Ring, device: str | None) -> tuple[Any, StreamInfo]:
    """A started sounddevice stream whose callback copies from `ring` (falls back to the default device)."""
    import sounddevice as sd
    try:
        info = sd.query_devices(device, kind="output") if device else sd.query_devices(kind="output")
    except Exception as exc:
        if device is None:
            raise AudioUnavailable(f"no audio output device ({exc}); playback is off, export still works") from exc
        log.warning("output device %r is not available (%s); using the default", device, exc)
        return _open_stream(ring, None)
    channels = max(1, min(2, int(info["max_output_channels"])))

    def callback(outdata, frames, _time, _status) -> None:    # PortAudio's signature
        copy_block(ring, outdata, frames)
    try:
        stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=channels, dtype="float32", callback=callback,
                                 latency=LATENCY, device=device)
        stream.start()
    except Exception as exc:
        raise AudioUnavailable(f"the audio device could not be opened ({exc})") from exc
    latency = float(getattr(stream, "latency", 0.0) or 0.0)
    return stream, StreamInfo(channels, latency, str(info["name"]))


def _close_stream(stream: Any) -> None:
    try:
        stream.stop()
        stream.close()
    except Exception as exc:      # a vanished device must not take the editor down
        log.warning("closing the audio stream failed: %s", exc)


# ---------------------------------------------------------------------------------------------
# In this process
# ---------------------------------------------------------------------------------------------
class InProcessDevice:
    """Streams opened in this process: the callback runs on PortAudio's thread here."""

    def __init__(self) -> None:
        self._streams: dict[int, Any] = {}

    def ring(self) -> Ring:
        return Ring()

    def owns(self, ring: Ring) -> bool:
        return True

    def release(self, ring: Ring) -> None:
        self.close(ring)

    def open(self, ring: Ring, device: str | None = None) -> StreamInfo:
        self.close(ring)
        stream, info = _open_stream(ring, device)
        self._streams[id(ring)] = stream
        return info

    def close(self, ring: Ring) -> None:
        stream = self._streams.pop(id(ring), None)
        if stream is not None:
            _close_stream(stream)

    def warm_up(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# In a process of its own
# ---------------------------------------------------------------------------------------------
PROCESS_FLAG = "--audio-device-process"     # how a packaged app is asked to be the device process


def _device_command(path: str, slots: int, frames: int) -> list[str]:
    args = [path, str(slots), str(frames)]
    if getattr(sys, "frozen", False):           # the packaged app: its launcher knows the flag
        return [sys.executable, PROCESS_FLAG, *args]
    return [sys.executable, "-m", "foley_studio.session.audio_device", *args]


def raise_priority() -> str:
    """Ask the OS to run this process ahead of ordinary work, as audio software does: real-time
    round-robin scheduling where allowed (root, an rtprio limit, CAP_SYS_NICE), else a higher nice
    level, else nothing. FOLEY_STUDIO_AUDIO_RT=0 turns it off. Returns what was granted."""
    if os.environ.get("FOLEY_STUDIO_AUDIO_RT", "1") == "0":
        return "normal (off by FOLEY_STUDIO_AUDIO_RT=0)"
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))
        return f"real-time (round-robin, priority {REALTIME_PRIORITY})"
    except (AttributeError, OSError):
        pass
    try:
        os.nice(-10)
        return "raised (nice -10)"
    except (AttributeError, OSError):
        return "normal (the system grants no higher priority)"


def serve(path: str, slots: int, frames: int, requests: Any = None, replies: Any = None) -> int:
    """The device process: open and close streams on the rings mapped from `path` as the editor asks.

    One JSON request per line on stdin, one reply per line on stdout; ends on "quit" or when the
    editor's end of the pipe closes (the editor exited or crashed). It only ever copies frames,
    so it asks for a high scheduling priority (`raise_priority`): on a busy machine an ordinary
    process can wait longer than the device's buffer lasts."""
    requests = requests or sys.stdin
    replies = replies or sys.stdout
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s audio-device: %(message)s", stream=sys.stderr)
    priority = raise_priority()

    def reply(kind: str, value: Any = None) -> None:
        replies.write(json.dumps({"reply": kind, "value": value}) + "\n")
        replies.flush()
    size = Ring.nbytes(frames)
    with open(path, "r+b") as handle:
        shared = mmap.mmap(handle.fileno(), size * slots)
    rings = [Ring(memoryview(shared)[i * size:(i + 1) * size], frames, slot=i) for i in range(slots)]
    streams: dict[int, Any] = {}
    try:
        import sounddevice  # noqa: F401  (PortAudio starts now, not on the first Space)
        reply("ready", priority)
    except Exception as exc:
        reply("error", f"no audio output device (PortAudio did not start: {exc}); playback is off, export still works")
    for line in requests:
        try:
            request = json.loads(line)
            op, slot = request["op"], int(request.get("slot", -1))
            if op == "quit":
                break
            if slot in streams:
                _close_stream(streams.pop(slot))
            if op == "open":
                streams[slot], info = _open_stream(rings[slot], request.get("device"))
                reply("opened", dataclasses.asdict(info))
            else:
                reply("closed")
        except Exception as exc:
            reply("error", str(exc))
    for stream in streams.values():
        _close_stream(stream)
    return 0


class ProcessDevice:
    """Streams opened by the device process; the rings are a shared memory map in fixed slots."""

    def __init__(self, slots: int = SLOTS, frames: int = RING_FRAMES):
        self.slots, self.frames = slots, frames
        self._lock = threading.Lock()          # one request in flight; held only for a reply (ms)
        self._process: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._map: mmap.mmap | None = None
        self._path: str | None = None
        self._rings: list[Ring] = []
        self._free: list[int] = []
        self._ready = False
        self._failed: str | None = None
        self.priority = ""                     # the scheduling the device process was granted

    def warm_up(self) -> None:
        """Start the process now (it imports PortAudio in the background; the first open waits for it)."""
        with self._lock:
            self._start()

    def owns(self, ring: Ring) -> bool:
        """Whether `ring` is one of the running process's (a ring of a process that died is not)."""
        return any(ring is mine for mine in self._rings) and self._process is not None \
            and self._process.poll() is None

    def _start(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                return
            log.warning("the audio device process ended (exit code %s); starting a new one", self._process.returncode)
            self._process = None
            self._ready, self._failed = False, None
            self._replies = queue.Queue()
        size = Ring.nbytes(self.frames) * self.slots
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else None     # memory, not disk, where there is one
        fd, self._path = tempfile.mkstemp(prefix="foley-audio-", suffix=".ring", dir=folder)
        os.ftruncate(fd, size)
        self._map = mmap.mmap(fd, size)
        os.close(fd)
        one = Ring.nbytes(self.frames)
        self._rings = [Ring(memoryview(self._map)[i * one:(i + 1) * one], self.frames, slot=i)
                       for i in range(self.slots)]
        self._free = list(range(self.slots))
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(_device_command(self._path, self.slots, self.frames), env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._read_replies, args=(self._process,), name="audio-device-replies",
                         daemon=True).start()
        atexit.register(self.shutdown)

    def _read_replies(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            try:
                message = json.loads(line)
                self._replies.put((message["reply"], message.get("value")))
            except (ValueError, KeyError):
                log.debug("audio device said: %s", line.rstrip())
        self._replies.put(("error", "the audio device process stopped"))

    def ring(self) -> Ring:
        with self._lock:
            self._start()
            if not self._free:
                raise AudioUnavailable(f"all {self.slots} playback streams are in use")
            return self._rings[self._free.pop(0)]

    def release(self, ring: Ring) -> None:
        self.close(ring)
        with self._lock:
            if ring.slot >= 0 and ring.slot not in self._free:
                self._free.append(ring.slot)

    def open(self, ring: Ring, device: str | None = None) -> StreamInfo:
        kind, value = self._ask({"op": "open", "slot": ring.slot, "device": device})
        if kind != "opened":
            text = str(value)
            raise AudioUnavailable(text if text.startswith(("no audio", "the audio")) else
                                   f"the audio device could not be opened ({text})")
        return StreamInfo(**value)

    def close(self, ring: Ring) -> None:
        if self._process is not None and self._process.poll() is None:
            self._ask({"op": "close", "slot": ring.slot})

    def _ask(self, request: dict[str, Any]) -> tuple[str, Any]:
        with self._lock:
            self._start()
            if not self._ready:
                self._wait_ready()
            try:
                self._process.stdin.write(json.dumps(request) + "\n")
                self._process.stdin.flush()
                return self._replies.get(timeout=OPEN_TIMEOUT_S)
            except queue.Empty:
                raise AudioUnavailable(f"the audio device process did not answer in {OPEN_TIMEOUT_S:.0f} s") from None
            except (OSError, ValueError) as exc:
                raise AudioUnavailable(f"the audio device process stopped ({exc})") from exc

    def _wait_ready(self) -> None:
        if self._failed:
            raise AudioUnavailable(self._failed)
        try:
            kind, value = self._replies.get(timeout=OPEN_TIMEOUT_S)
        except queue.Empty:
            kind, value = "error", f"the audio device process did not start in {OPEN_TIMEOUT_S:.0f} s"
        if kind != "ready":
            self._failed = str(value)
            raise AudioUnavailable(self._failed)
        self._ready = True
        self.priority = str(value)
        log.info("audio device process ready, scheduling: %s", value)
        self._forget_map_file()

    def _forget_map_file(self) -> None:
        """Both processes have the map open: the file's name is no longer needed (POSIX keeps the memory)."""
        if self._path is not None and os.name == "posix":
            with contextlib.suppress(OSError):
                os.unlink(self._path)
            self._path = None

    def shutdown(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            process.stdin.close()
            process.wait(timeout=2)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            process.kill()
        self._ready = False
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
            self._path = None


_DEFAULT: InProcessDevice | ProcessDevice | None = None
USE_DEVICE_PROCESS = True       # tests with a fake sounddevice module turn this off


def default_device() -> InProcessDevice | ProcessDevice:
    """The device every playback engine of this process shares."""
    global _DEFAULT
    wanted = ProcessDevice if USE_DEVICE_PROCESS else InProcessDevice
    if not isinstance(_DEFAULT, wanted):
        _DEFAULT = wanted()
    return _DEFAULT


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
