"""Editor performance against issue 5's numbers.

1. Timeline redraw <= 16 ms at five zoom levels on a 2-hour project with 500 clips (offscreen,
   median of repeated redraws with warm caches; the first, cold redraw is reported too).
2. First thumbnails of a 10-minute 1080p video on screen <= 1 s (an open editor gets a new project
   on the video -> a paint that drew a decoded frame; also until every thumbnail in view is drawn).
3. Editor start to first paint <= 3 s (a fresh Python process: interpreter start -> first timeline paint,
   with the library index opened and the demo project loaded, as `foley-studio` does).
4. Editor RSS with the 2-hour project <= 1 GB (no model loaded).

Run: .venv/bin/python benchmarks/timeline_bench.py [--media DIR]. Test media is synthesised once into
DIR (default: a temp folder): 20 source WAVs, a 2-hour 1 fps picture for the long project, and a
10-minute 1080p25 H.264 file made by encoding 10 s and stream-copying it 60 times (real 1080p GOPs
to seek and decode; the content repeats).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

T_PROCESS = time.time()
REPO = Path(__file__).resolve().parents[1]
SR = 48_000
HOURS2 = 2 * 3600 * SR


# -- media --------------------------------------------------------------------------------------------
def make_sources(folder: Path, n: int = 20) -> list[Path]:
    import soundfile as sf
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = folder / f"src_{i:02d}.wav"
        if not path.exists():
            seconds = 2 + (i % 7) * 4
            t = np.arange(int(seconds * SR)) / SR
            env = np.exp(-3 * (t % 1.0))
            x = (0.6 * env * np.sin(2 * np.pi * (110 * (i + 1)) * t) + 0.05 * rng.standard_normal(len(t)))
            sf.write(path, x.astype(np.float32), SR, subtype="PCM_16")
        paths.append(path)
    return paths


def _encode(path: Path, seconds: float, fps: int, size: tuple[int, int], gop: int) -> None:
    import av
    w, h = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(gop), "crf": "30"}
        planes = np.full((h * 3 // 2, w), 128, np.uint8)
        for i in range(int(seconds * fps)):
            planes[:h] = 60
            x = (i * 37) % max(1, w - w // 8)
            planes[h // 3:h // 2, x:x + w // 8] = 220           # a moving bright block (luma)
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _loop_copy(segment: Path, path: Path, times: int) -> None:
    """Concatenate `times` copies of a closed-GOP segment by stream copy (no re-encode)."""
    import av
    with av.open(str(segment)) as src, av.open(str(path), "w") as out:
        vin = src.streams.video[0]
        vout = out.add_stream_from_template(vin)
        packets = [p for p in src.demux(vin) if p.dts is not None]
        span = max(p.pts for p in packets) + packets[0].duration - min(p.pts for p in packets)
        for k in range(times):
            for p in packets:
                q = av.Packet(bytes(p))
                q.pts, q.dts, q.time_base = p.pts + k * span, p.dts + k * span, p.time_base
                q.is_keyframe = p.is_keyframe
                q.stream = vout
                out.mux(q)


def make_long_video(folder: Path) -> tuple[Path, Path]:
    hd = folder / "ten_minutes_1080p.mp4"
    if not hd.exists():
        segment = folder / "segment_1080p.mp4"
        _encode(segment, 10.0, 25, (1920, 1080), gop=250)
        _loop_copy(segment, hd, 60)
    long = folder / "two_hours_1fps.mp4"
    if not long.exists():
        _encode(long, 7200, 1, (160, 90), gop=60)
    return hd, long


def two_hour_project(video: Path, sources: list[Path], n_clips: int = 500, n_tracks: int = 8):
    from foley_studio.core.project import Clip, Project, Track, VideoRef
    from foley_studio.media.audio import read_audio
    lengths = {s: len(read_audio(s)) for s in sources}
    rng = np.random.default_rng(1)
    tracks = [Track(id=f"track-{i}", name=f"Foley {i + 1}") for i in range(n_tracks)]
    slot = HOURS2 // (n_clips // n_tracks + 1)
    for k in range(n_clips):
        track = tracks[k % n_tracks]
        src = sources[k % len(sources)]
        length = min(lengths[src], int(rng.integers(SR, 12 * SR)))
        start = (k // n_tracks) * slot + int(rng.integers(0, max(1, slot - length)))
        track.clips.append(Clip(id=f"clip-{k}", source=str(src), start=start, source_in=0, source_out=length,
                                name=f"sfx {k}", fade_in=2400, fade_out=4800, source_length=lengths[src]))
    ref = VideoRef(path=str(video), fps_num=1, fps_den=1, duration=HOURS2, width=160, height=90)
    return Project(video=ref, tracks=tracks, name="two hours")


# -- measurements ---------------------------------------------------------------------------------------
def _pump(app, until, timeout: float) -> bool:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        app.processEvents()
        if until():
            return True
        time.sleep(0.002)
    return False


def bench_redraw(app, project, repeats: int) -> dict:
    from foley_studio.ui.main_window import MainWindow
    from PySide6.QtGui import QImage, QPainter
    window = MainWindow(project, audio=False, restore_layout=False)
    window.resize(1600, 960)
    window.show()
    canvas = window.canvas
    sources = {c.source for t in project.tracks for c in t.clips}
    _pump(app, lambda: all(window.waveforms.pyramid(s) is not None for s in sources), 120)
    # Centre every zoom level on the clip nearest the middle, so even the 1 s view has a clip in it.
    middle = min((c for t in project.tracks for c in t.clips), key=lambda c: abs(c.start - HOURS2 // 2))
    centre = middle.start + min(middle.length, SR) // 2
    levels = {"2 h (fit)": HOURS2, "10 min": 600 * SR, "1 min": 60 * SR, "10 s": 10 * SR, "1 s": SR}
    image = QImage(canvas.size(), QImage.Format_ARGB32_Premultiplied)
    results = {}
    for label, span in levels.items():
        canvas.zoom_to(centre - span // 2, centre + span // 2)
        times = []
        for i in range(repeats + 1):
            painter = QPainter(image)
            t0 = time.perf_counter()
            canvas.paint(painter)
            times.append((time.perf_counter() - t0) * 1000)
            painter.end()
            if i == 0:   # let the thumbnails of this view arrive, so later redraws draw pictures
                _pump(app, lambda: False, 0.3)
        visible = sum(1 for t in project.tracks for c in t.clips
                      if c.end >= canvas.geo.visible_range[0] and c.start <= canvas.geo.visible_range[1])
        results[label] = {"cold_ms": round(times[0], 2), "median_ms": round(statistics.median(times[1:]), 2),
                          "p95_ms": round(float(np.percentile(times[1:], 95)), 2), "visible_clips": visible}
    rss = _rss_mb()
    window.shutdown()
    window.deleteLater()
    return {"redraw": results, "rss_mb_two_hour_project": rss}


def bench_first_thumbnail(app, video: Path) -> dict:
    """An open editor is given a new project on the video (File > New from video): time until a paint
    shows a decoded thumbnail, and until every thumbnail in view is drawn. Start-up is measured apart."""
    from foley_studio.ui.main_window import MainWindow, project_from_video
    window = MainWindow(audio=False, restore_layout=False)
    window.resize(1600, 960)
    window.show()
    canvas, thumbs = window.canvas, window.thumbnails
    _pump(app, lambda: canvas.paint_count > 0, 30)
    # Paint count when the latest thumbnail arrived: "on screen" means a paint after that.
    last_arrival = {"paints": 0}
    thumbs.updated.connect(lambda: last_arrival.update(paints=canvas.paint_count))
    t0 = time.perf_counter()
    window._install(project_from_video(video), None)
    drawn = {}

    def ready() -> bool:
        if thumbs.first_image_ready_at is not None and "decoded" not in drawn:
            drawn["decoded"] = thumbs.first_image_ready_at
            drawn["paints"] = canvas.paint_count
        return "decoded" in drawn and canvas.paint_count > drawn["paints"]
    ok = _pump(app, ready, 30)
    on_screen = time.perf_counter() - t0
    _pump(app, lambda: not thumbs._requested and canvas.paint_count > last_arrival["paints"], 30)
    all_visible = time.perf_counter() - t0
    count = len(thumbs._pixmaps)
    window.shutdown()
    window.deleteLater()
    return {"first_thumbnail_on_screen_s": round(on_screen, 3) if ok else None,
            "first_decoded_s": round(drawn.get("decoded", float("nan")) - t0, 3),
            "all_visible_thumbnails_on_screen_s": round(all_visible, 3), "thumbnails_in_view": count}


STARTUP_CHILD = """
import time, sys
t_import = time.time()
from foley_studio.ui.app import application, demo_project, open_library
from foley_studio.ui.main_window import MainWindow
app = application([sys.argv[0]])
index, _needs_scan, _message = open_library(scan_demo=False)     # as run_editor does (no first-run scan)
project, path = demo_project()
window = MainWindow(project, path, library_index=index, restore_layout=False)
window.resize(1600, 960)
window.show()
while window.canvas.paint_count == 0:
    app.processEvents()
print(t_import, time.time())
window.shutdown()
"""


# The same start-up with the generate panel (issue 6) replaced by a stub: separates the editor's own
# start-up from the panel's model discovery (which imports torch on the GUI thread when it is built).
NO_GENERATE_PANEL = """
import foley_studio.ui.generate_panel as gp
class _Stub:
    def shutdown(self):
        pass
gp.install_generation = lambda window: _Stub()
"""


def _startup_once(prelude: str = "") -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO),
               FOLEY_STUDIO_HOME=tempfile.mkdtemp(prefix="foley-startup-"))
    t_spawn = time.time()
    out = subprocess.run([sys.executable, "-c", prelude + STARTUP_CHILD], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    t_import, t_paint = float(out[-2]), float(out[-1])
    return {"process_start_to_first_paint_s": round(t_paint - t_spawn, 3),
            "imports_to_first_paint_s": round(t_paint - t_import, 3)}


def bench_startup() -> dict:
    report = {"full_editor": _startup_once()}
    import importlib.util
    if importlib.util.find_spec("foley_studio.ui.generate_panel") is not None:   # only if this build has it
        report["without_generate_panel"] = _startup_once(NO_GENERATE_PANEL)
    return report


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=Path(tempfile.gettempdir()) / "foley_bench_media")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("FOLEY_STUDIO_HOME", tempfile.mkdtemp(prefix="foley-bench-"))
    os.environ["FOLEY_STUDIO_NO_PROMPTS"] = "1"
    args.media.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    sources = make_sources(args.media)
    hd, long = make_long_video(args.media)
    print(f"media ready in {time.perf_counter() - t:.1f} s ({args.media})", file=sys.stderr)
    from foley_studio.ui.app import application
    app = application([sys.argv[0]])
    report = {"startup": bench_startup()}
    report["thumbnails_10min_1080p"] = bench_first_thumbnail(app, hd)
    report.update(bench_redraw(app, two_hour_project(long, sources), args.repeats))
    print(json.dumps(report, indent=2))
    from PySide6.QtCore import QCoreApplication, QEvent
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)   # windows go before Qt itself
    import gc
    gc.collect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
