"""The playback path never waits on the GUI thread: the audio callback runs in the device process,
so a GUI thread holding the interpreter lock in one long call does not stall it; in this process's own
PortAudio thread the same stall stops the callback for as long (the contrast shows the test can fail).
Also: the callback takes no lock the GUI holds, and the feeder renders ahead off the GUI thread."""
from __future__ import annotations

import textwrap
import threading
import time

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.session.audio_device import Ring, copy_block
from foley_studio.session.playback import CHUNK, AudioOutput
from tests.ui_helpers import one_clip_project, pull, ramp, run_on_null_alsa, wait_for

_HOLD_THE_LOCK = textwrap.dedent("""
    from foley_studio.session import audio_device
    from foley_studio.session.playback import AudioOutput, MixRenderer

    def hold_lock(seconds):
        # One call into C that never lets the interpreter lock go: what a long paint, a decode or a
        # big numpy operation on the GUI thread does.
        n = 300_000
        t = time.perf_counter(); sum(range(n)); per = (time.perf_counter() - t) / n
        return int(seconds / per)

    steps = hold_lock(1.0)
    results = {}
    for name, device in (("process", audio_device.ProcessDevice()), ("thread", audio_device.InProcessDevice())):
        out = AudioOutput(MixRenderer(), device=device)
        out.start(doc.project, 0)
        time.sleep(0.4)
        out.reset_callback_gap()
        time.sleep(0.05)
        t = time.perf_counter(); sum(range(steps)); held = time.perf_counter() - t
        time.sleep(0.1)
        results[name] = (held, out.longest_callback_gap, out._read)
        out.close()
        if name == "process":
            device.shutdown()
    print("result", results["process"][0], results["process"][1], results["thread"][0], results["thread"][1],
          results["process"][2], flush=True)
""")


def test_a_gui_thread_holding_the_interpreter_lock_does_not_stall_the_device_process(tmp_path):
    stdout = run_on_null_alsa(tmp_path, _HOLD_THE_LOCK, seconds=3)
    held_p, gap_p, held_t, gap_t, read = (float(v) for v in stdout.split("result")[1].split())
    assert held_p > 0.3 and held_t > 0.3, f"the lock was not held long enough to tell: {stdout}"
    assert read > 0, "the device process played nothing"
    # A shared, loaded machine delays any process by tens of milliseconds now and then; what must not
    # happen is a wait as long as the lock was held.
    assert gap_p < 0.4 * held_p, f"the device process's callback waited {gap_p:.3f} s while the GUI held the lock"
    assert gap_t > 0.8 * held_t, (f"in-process the callback should have waited about {held_t:.2f} s, "
                                  f"it waited {gap_t:.2f} s (is the test still measuring anything?)")


def test_the_callback_takes_no_lock_the_gui_holds():
    out = AudioOutput(ramp)
    out._project, out.start_time, out.rate, out.loop, out.end = one_clip_project(10), 0, 1, None, 10 * SAMPLE_RATE
    out._fill(4 * CHUNK)
    block = np.empty((512, 2), np.float32)
    taken: list[float] = []

    def callback_thread() -> None:
        for _ in range(20):
            t = time.perf_counter()
            copy_block(out.ring, block, 512)
            taken.append(time.perf_counter() - t)
    with out._request_lock:                 # the GUI posting an edit, held for as long as it likes
        worker = threading.Thread(target=callback_thread)
        worker.start()
        worker.join(2.0)
        finished = not worker.is_alive()
    assert finished and len(taken) == 20, "the callback waited for the request lock"
    assert out._read == 20 * 512 and max(taken) < 0.05


def test_the_feeder_renders_ahead_on_its_own_thread(fake_sd):
    threads: list[str] = []

    def render(_p, a, b):
        threads.append(threading.current_thread().name)
        return np.arange(a, b, dtype=np.float32)
    out = AudioOutput(render)
    out.start(one_clip_project(20), 0)
    assert not threads or all(n != threading.main_thread().name for n in threads)
    wait_for(lambda: out._written - out._read > 3 * SAMPLE_RATE)   # seconds ahead without being asked
    assert set(threads) == {"playback-feeder-play"}, f"rendered on {set(threads)}"
    heard = pull(out, fake_sd.streams[-1], SAMPLE_RATE // 4)
    np.testing.assert_array_equal(heard, np.arange(SAMPLE_RATE // 4, dtype=np.float32))
    out.stop()


def test_a_ring_in_shared_memory_reads_the_same_frames():
    import mmap
    shared = mmap.mmap(-1, Ring.nbytes(4096))
    writer, reader = Ring(memoryview(shared), 4096), Ring(memoryview(shared), 4096)
    writer.frames[:100] = np.arange(200, dtype=np.float32).reshape(100, 2)
    writer.header[0] = 100                                  # written
    out = np.zeros((128, 2), np.float32)
    copy_block(reader, out, 128)
    np.testing.assert_array_equal(out[:100], writer.frames[:100])
    assert not out[100:].any() and int(writer.header[1]) == 100   # read, seen by the writer's side


_KILL_THE_DEVICE = textwrap.dedent("""
    import os, signal
    assert ctl.play(), "play() failed"
    time.sleep(0.3)
    ctl.stop()
    device = ctl.output.device
    os.kill(device._process.pid, signal.SIGKILL)         # the sound-card process dies (a driver crash)
    device._process.wait(5)
    assert ctl.play(), "play() after the device process died"
    time.sleep(0.3)
    print("result", ctl.playing, ctl.output._read > 0, device._process.poll() is None, flush=True)
    ctl.stop()
""")


def test_a_dead_device_process_is_replaced_at_the_next_play(tmp_path):
    stdout = run_on_null_alsa(tmp_path, _KILL_THE_DEVICE, seconds=3)
    playing, reading, alive = stdout.split("result")[1].split()
    assert (playing, reading, alive) == ("True", "True", "True"), stdout
