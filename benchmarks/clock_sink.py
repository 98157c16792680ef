"""A stand-in sound card for `playback_realtime.py --sink clock`: the device process's protocol
(`session.audio_device.serve`: JSON lines on stdin/stdout, rings in a shared map), but the "stream"
is a thread that calls the real callback (`copy_block`) every 10 ms on an absolute real-time
schedule and records what it was given, with the time of each block.

Run by the benchmark in place of `python -m foley_studio.session.audio_device`; it writes the
recording of each stream (`<FOLEY_CLOCK_SINK_OUT>/slot<N>-<k>.npz`: frames (n, 2) and block times) on close.
"""
from __future__ import annotations

import json
import mmap
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from foley_studio.session.audio_device import Ring, copy_block

BLOCK = 480                      # 10 ms at 48 kHz, like a low-latency device
LATENCY = 0.02


class ClockStream:
    def __init__(self, ring: Ring, out: Path):
        self.ring, self.out = ring, out
        self.blocks: list[np.ndarray] = []
        self.times: list[int] = []
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        period = BLOCK / 48_000
        start = time.monotonic()
        k = 0
        buf = np.zeros((BLOCK, 2), np.float32)
        while self.running:
            due = start + k * period
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            copy_block(self.ring, buf, BLOCK)
            self.blocks.append(buf.copy())
            self.times.append(time.monotonic_ns())
            k += 1

    def close(self) -> None:
        self.running = False
        self.thread.join()
        frames = np.concatenate(self.blocks) if self.blocks else np.zeros((0, 2), np.float32)
        np.savez(self.out, frames=frames, times=np.asarray(self.times, np.int64), block=BLOCK)


def main(path: str, slots: int, frames: int) -> int:
    out_dir = Path(os.environ["FOLEY_CLOCK_SINK_OUT"])
    size = Ring.nbytes(frames)
    with open(path, "r+b") as handle:
        shared = mmap.mmap(handle.fileno(), size * slots)
    rings = [Ring(memoryview(shared)[i * size:(i + 1) * size], frames, slot=i) for i in range(slots)]
    streams: dict[int, ClockStream] = {}
    count = 0

    def reply(kind: str, value=None) -> None:
        sys.stdout.write(json.dumps({"reply": kind, "value": value}) + "\n")
        sys.stdout.flush()
    reply("ready", "normal (the clock sink)")
    for line in sys.stdin:
        request = json.loads(line)
        op, slot = request["op"], int(request.get("slot", -1))
        if op == "quit":
            break
        if slot in streams:
            streams.pop(slot).close()
        if op == "open":
            count += 1
            streams[slot] = ClockStream(rings[slot], out_dir / f"slot{slot}-{count:03d}.npz")
            reply("opened", {"channels": 2, "latency": LATENCY, "device": "clock sink"})
        else:
            reply("closed")
    for stream in streams.values():
        stream.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
