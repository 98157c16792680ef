"""Real-time playback while the editor works: delivered audio, gaps and start latency (issue 15, item 1).

Plays the bundled demo project for --seconds (looped) into a recording sink while the editor window
repaints and zooms every 40 ms, then auditions takes (switching every 0.6 s, a new audition as soon
as one ends) for as long again, and reports for each:

- delivered: seconds of audio that reached the sink / wall seconds from its first audio to stop
  (target >= 0.99), and the same from pressing play (which also counts each start's latency: many
  short auditions pay it many times),
- gaps: stretches longer than 20 ms where the sink got silence instead of audio (target: none),
- start latency: pressing play (or a take's number) -> its first audio at the sink (target <= 150 ms),
- the ring's own view: frames the callback had to fill with silence, the longest wait between callbacks.

How audio is recognised: the project gets one extra track, a continuous 6 kHz pilot tone at -20 dBFS
(the demo's own tracks play as they are); the sink's recording is cut into 5 ms windows and the
pilot's amplitude measured in each (exact for 6 kHz in 240 samples). A window holds delivered audio
when the pilot is there at half its level or more, or when the window is far louder than the pilot
(a loud hit can mask the pilot's bin for a few milliseconds; a dropout is silence, it cannot).

Sinks: `--sink pulse` (PulseAudio's null sink, recorded with `parec`; the default when `pactl` finds
a server; times are when the sink rendered the audio) or `--sink clock` (a stand-in sound card
process, `clock_sink.py`, that calls the real callback every 10 ms on a real-time schedule and
records it; times are when the callback delivered the audio, without a device's output latency). `--device thread` runs the callback in
this process instead of the device process (the old design), for comparison.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python benchmarks/playback_realtime.py
    .venv/bin/python benchmarks/playback_realtime.py --sink clock --seconds 10 --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SR = 48_000
PILOT_HZ = 6000.0
PILOT_DB = -20.0
WINDOW = 240                     # 5 ms: 30 whole cycles of the pilot
GAP_S = 0.020


# -- recording sinks --------------------------------------------------------------------------------
class PulseSink:
    """A PulseAudio null sink made for the run, recorded with parec from its monitor."""

    name = "foley_bench"

    def __init__(self) -> None:
        self.module = subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={self.name}",
                                      "rate=48000", "channels=2"], check=True, capture_output=True,
                                     text=True).stdout.strip()
        os.environ["PULSE_SINK"] = self.name         # PortAudio -> ALSA's pulse plugin -> this sink
        self.chunks: list[np.ndarray] = []
        self.arrivals: list[tuple[float, int]] = []  # (monotonic time of a read, frames received by then)
        self.proc = subprocess.Popen(["parec", "-d", f"{self.name}.monitor", "--format=float32le", "--rate=48000",
                                      "--channels=2", "--latency-msec=5", "--raw"], stdout=subprocess.PIPE)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        total = 0
        while True:
            data = self.proc.stdout.read1(WINDOW * 8) if hasattr(self.proc.stdout, "read1") else \
                self.proc.stdout.read(WINDOW * 8)
            if not data:
                return
            now = time.monotonic()
            frames = np.frombuffer(data[: len(data) // 8 * 8], np.float32).reshape(-1, 2)
            self.chunks.append(frames)
            total += len(frames)
            self.arrivals.append((now, total))

    def windows(self) -> tuple[np.ndarray, np.ndarray]:
        """(start time of each 5 ms window, pilot amplitude in it) over everything recorded."""
        frames = np.concatenate(self.chunks) if self.chunks else np.zeros((0, 2), np.float32)
        # Sample k was captured no later than it was read: the earliest arrival bounds the clock.
        t0 = min(t - n / SR for t, n in self.arrivals) if self.arrivals else 0.0
        amps = pilot_amplitudes(frames)
        return t0 + np.arange(len(amps[0])) * WINDOW / SR, amps

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        subprocess.run(["pactl", "unload-module", self.module], capture_output=True)

    @staticmethod
    def available() -> str | None:
        if not (shutil.which("pactl") and shutil.which("parec")):
            return "pactl/parec not installed (apt-get install pulseaudio pulseaudio-utils)"
        if subprocess.run(["pactl", "info"], capture_output=True).returncode != 0:
            subprocess.run(["pulseaudio", "--start", "--exit-idle-time=-1"], capture_output=True)
            if subprocess.run(["pactl", "info"], capture_output=True).returncode != 0:
                return "no PulseAudio server (pulseaudio --start failed)"
        return None


class ClockSink:
    """The stand-in sound card process (`clock_sink.py`) in place of the device process."""

    def __init__(self) -> None:
        from foley_studio.session import audio_device
        self.folder = Path(tempfile.mkdtemp(prefix="foley-clock-sink-"))
        os.environ["FOLEY_CLOCK_SINK_OUT"] = str(self.folder)
        script = str(REPO / "benchmarks" / "clock_sink.py")
        audio_device._device_command = lambda path, slots, frames: [sys.executable, script, path, str(slots),
                                                                     str(frames)]

    def windows(self) -> tuple[np.ndarray, np.ndarray]:
        times, amps = [], []
        for file in sorted(self.folder.glob("*.npz")):
            data = np.load(file)
            frames, block = data["frames"], int(data["block"])
            per_block = block // WINDOW
            # Timed when the callback delivered them (a real device adds its output latency to this);
            # windows within a block follow each other.
            starts = (data["times"] / 1e9)[:, None] + np.arange(per_block)[None, :] * WINDOW / SR
            times.append(starts.reshape(-1))
            amps.append(pilot_amplitudes(frames[: len(data["times"]) * block]))
        if not times:
            return np.zeros(0), np.zeros((2, 0))
        t, a = np.concatenate(times), np.concatenate(amps, axis=1)
        order = np.argsort(t)
        return t[order], a[:, order]

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def pilot_amplitudes(frames: np.ndarray) -> np.ndarray:
    """(2, windows): the pilot's amplitude and the RMS of each whole 5 ms window of (n, 2) frames
    (channels averaged)."""
    mono = frames.mean(axis=1) if frames.ndim == 2 else frames
    n = len(mono) // WINDOW
    x = mono[: n * WINDOW].reshape(n, WINDOW).astype(np.float64)
    phasor = np.exp(-2j * np.pi * PILOT_HZ * np.arange(WINDOW) / SR)
    return np.stack([2 * np.abs(x @ phasor) / WINDOW, np.sqrt(np.mean(x ** 2, axis=1))])


# -- analysis ------------------------------------------------------------------------------------------
@dataclass
class Run:
    what: str
    wall_s: float = 0.0               # from each first audio to its stop
    wall_from_press_s: float = 0.0    # from each press to its stop
    delivered_s: float = 0.0
    gaps: list[float] = field(default_factory=list)       # seconds, each > 20 ms
    gap_times: list[float] = field(default_factory=list)  # where each gap began, seconds after its span's press
    start_latency_s: list[float] = field(default_factory=list)
    underrun_frames: int = 0
    longest_callback_gap_s: float = 0.0
    paints: int = 0

    @property
    def ratio(self) -> float:
        return self.delivered_s / self.wall_s if self.wall_s else 0.0

    @property
    def ratio_from_press(self) -> float:
        return self.delivered_s / self.wall_from_press_s if self.wall_from_press_s else 0.0

    def row(self) -> str:
        lat = self.start_latency_s
        lat_text = (f"{1000 * lat[0]:.0f} ms" if len(lat) == 1 else
                    f"median {1000 * float(np.median(lat)):.0f} / max {1000 * max(lat):.0f} ms ({len(lat)} starts)"
                    if lat else "never started")
        gap_text = f"{len(self.gaps)} (longest {1000 * max(self.gaps):.0f} ms)" if self.gaps else "0"
        return (f"{self.what:<22} {self.delivered_s:7.2f} s / {self.wall_s:6.2f} s = {self.ratio:.4f} "
                f"(from pressing play: / {self.wall_from_press_s:.2f} s = {self.ratio_from_press:.4f})   "
                f"gaps > 20 ms: {gap_text:<22} start: {lat_text}   ring underrun {self.underrun_frames} frames, "
                f"longest callback wait {1000 * self.longest_callback_gap_s:.0f} ms, {self.paints} paints")


def analyse(run: Run, times: np.ndarray, amps: np.ndarray, spans: list[tuple[float, float]], level: float, *,
            natural_end: bool = False) -> None:
    """Fill `run` from the windows heard during each (pressed, stopped) span.

    `natural_end`: the span ended by itself (an audition plays its region once), so its wall time
    ends with its last audio rather than when the editor noticed the end and closed the stream."""
    pilot, rms = amps
    present = (pilot >= 0.5 * level) | (rms >= 4 * level)
    step = WINDOW / SR
    for pressed, stopped in spans:
        inside = (times >= pressed) & (times < stopped)
        heard = np.flatnonzero(inside & present)
        if natural_end and len(heard):
            stopped = float(times[heard[-1]] + step)
            inside &= times < stopped
        run.wall_from_press_s += stopped - pressed
        run.delivered_s += float(present[inside].sum()) * step
        if not len(heard):
            continue
        run.wall_s += stopped - float(times[heard[0]])
        run.start_latency_s.append(float(times[heard[0]] - pressed))
        # Between the first and the last audio of the span: runs of windows without it.
        run_length = 0.0
        for i in range(heard[0], heard[-1] + 1):
            if present[i]:
                if run_length > GAP_S:
                    run.gaps.append(run_length)
                    run.gap_times.append(float(times[i] - run_length - pressed))
                run_length = 0.0
            else:
                run_length += step
        tail = stopped - (times[heard[-1]] + step)   # silence at the end that is not the stop's latency
        if tail > GAP_S + 0.2:
            run.gaps.append(tail)


# -- the editor under load ------------------------------------------------------------------------------
def pilot_file(folder: Path, seconds: float) -> Path:
    import soundfile as sf
    t = np.arange(int(round(seconds * SR))) / SR
    path = folder / "pilot 6 kHz.wav"
    sf.write(str(path), (10 ** (PILOT_DB / 20) * np.sin(2 * np.pi * PILOT_HZ * t)).astype(np.float32), SR,
             subtype="FLOAT")
    return path


def make_takes(folder: Path, region: tuple[int, int], track_id: str):
    import soundfile as sf

    from foley_studio.core.project import Take
    rng = np.random.default_rng(1)
    n = region[1] - region[0]
    takes = []
    for i in range(3):
        audio = np.exp(-(np.arange(n) % (SR // 5)) / (0.05 * SR)) * rng.standard_normal(n) * 0.1   # a hit every 0.2 s
        path = folder / f"take{i}.wav"
        sf.write(str(path), audio.astype(np.float32), SR, subtype="FLOAT")
        takes.append(Take(id=f"bench-take-{i}", path=str(path), region_start=region[0], region_end=region[1],
                          settings={"seed": i, "mode": "text"}, track_id=track_id))
    return takes


def run_editor(seconds: float, device: str) -> tuple[Run, Run, list]:
    from PySide6.QtCore import QTimer

    from foley_studio.core.edits import AddTake, AddTrack
    from foley_studio.core.paths import DEMO_DIR
    from foley_studio.core.project import Clip, Track
    from foley_studio.core.store import load_project
    from foley_studio.session import audio_device
    from foley_studio.ui.app import application
    from foley_studio.ui.main_window import MainWindow

    audio_device.USE_DEVICE_PROCESS = device == "process"
    app = application(sys.argv[:1])
    work = Path(tempfile.mkdtemp(prefix="foley-rt-"))
    project = load_project(DEMO_DIR / "demo.fsproj")
    window = MainWindow(project, None, restore_layout=False, audio=True)
    window.resize(1600, 960)
    window.show()
    doc = window.doc
    duration = doc.project.duration
    pilot = pilot_file(work, duration / SR)
    doc.apply(AddTrack(Track(id="track-pilot", name="Pilot 6 kHz", clips=[
        Clip(id="clip-pilot", source=str(pilot), start=0, source_in=0, source_out=duration, name="pilot")])))
    level = 10 ** (PILOT_DB / 20) * np.sqrt(0.5) if doc.project.mix_channels == 2 else 10 ** (PILOT_DB / 20)
    foley = next(t for t in doc.project.tracks if "generate" in t.name.lower())
    region = (2 * SR, 4 * SR)
    for take in make_takes(work, region, foley.id):
        doc.apply(AddTake(take))

    def pump(s: float, until=None) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < s and not (until and until()):
            app.processEvents()
            time.sleep(0.002)
    # The GUI's own work: zoom in and out and scroll every 40 ms, besides following the playhead.
    canvas = window.canvas
    phase = {"k": 0}

    def churn() -> None:
        phase["k"] += 1
        k = phase["k"]
        canvas.zoom(1.3 if (k // 6) % 2 == 0 else 1 / 1.3)
        canvas.scroll_to((k * 7919) % max(1, duration))
        canvas.update()
    churner = QTimer(interval=40)
    churner.timeout.connect(churn)
    pump(1.5)                                      # first paints, sources decoding, the device process starting
    transport = Run("transport (looped)")
    audition = Run("take audition")
    spans: dict[str, list[tuple[float, float]]] = {"transport": [], "audition": []}
    playback = window.playback
    playback.loop_enabled = True
    doc.set_region((0, duration))
    doc.set_playhead(0)
    churner.start()
    paints0 = canvas.paint_count
    pressed = time.monotonic()
    if not playback.play():
        raise SystemExit(f"play failed: {window.statusBar().currentMessage()}")
    pump(seconds)
    out = playback.output
    transport.underrun_frames, transport.longest_callback_gap_s = out.underrun_frames, out.longest_callback_gap
    playback.stop()
    spans["transport"].append((pressed, time.monotonic()))
    transport.paints = canvas.paint_count - paints0
    doc.set_region(region)
    takes = window.generation.takes
    window.docks["takes"].show()
    window.docks["takes"].raise_()
    pump(1.0, lambda: all(r.view.preview is not None for r in takes.rows))
    auditioner = takes.auditioner
    paints0 = canvas.paint_count
    t_end = time.monotonic() + seconds
    k = 0
    while time.monotonic() < t_end:
        pressed = time.monotonic()
        takes.audition_number(1 + k % 3)
        k += 1
        next_switch = pressed + 0.6
        while auditioner.playing and time.monotonic() < t_end:
            app.processEvents()
            if time.monotonic() >= next_switch:
                takes.audition_number(1 + k % 3)         # while playing: a switch, not a restart
                k += 1
                next_switch += 0.6
            time.sleep(0.002)
        if auditioner.output is not None:
            audition.underrun_frames += auditioner.output.underrun_frames
            audition.longest_callback_gap_s = max(audition.longest_callback_gap_s,
                                                  auditioner.output.longest_callback_gap)
        auditioner.stop()
        spans["audition"].append((pressed, time.monotonic()))
    audition.paints = canvas.paint_count - paints0
    churner.stop()
    priority = getattr(audio_device.default_device(), "priority", "") or "this process, normal priority"
    window.shutdown()
    shutil.rmtree(work, ignore_errors=True)
    return transport, audition, [spans, level, priority]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sink", choices=["auto", "pulse", "clock"], default="auto")
    parser.add_argument("--device", choices=["process", "thread"], default="process",
                        help="where the callback runs: the device process (the editor's) or this process")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("FOLEY_STUDIO_HOME", tempfile.mkdtemp(prefix="foley-rt-home-"))
    os.environ["FOLEY_STUDIO_NO_PROMPTS"] = "1"
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sink_kind = args.sink
    if sink_kind in ("auto", "pulse"):
        why = PulseSink.available()
        if why and sink_kind == "pulse":
            print(f"no PulseAudio: {why}")
            return 2
        sink_kind = "clock" if why else "pulse"
    if sink_kind == "clock" and args.device == "thread":
        print("--device thread needs a real sink (--sink pulse): the clock sink is a device process")
        return 2
    sink = PulseSink() if sink_kind == "pulse" else ClockSink()
    try:
        transport, audition, (spans, level, priority) = run_editor(args.seconds, args.device)
        time.sleep(0.3)                                # the sink's last audio arrives
        times, amps = sink.windows()
    finally:
        sink.close()
    analyse(transport, times, amps, spans["transport"], level)
    analyse(audition, times, amps, spans["audition"], level, natural_end=True)
    platform = os.environ.get("QT_QPA_PLATFORM") or ("xcb" if os.environ.get("DISPLAY") else "?")
    print(f"sink: {sink_kind}, callback: {args.device} ({priority}), Qt platform: {platform}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("target: delivered >= 0.99, no gap > 20 ms, start <= 150 ms")
    for run in (transport, audition):
        print(run.row())
        for at, length in zip(run.gap_times, run.gaps):
            print(f"    gap of {1000 * length:.0f} ms at {at:.3f} s after pressing play")
    if args.json:
        args.json.write_text(json.dumps({"sink": sink_kind, "device": args.device, "runs": [
            {**asdict(r), "ratio": r.ratio, "ratio_from_press": r.ratio_from_press} for r in (transport, audition)]},
            indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
