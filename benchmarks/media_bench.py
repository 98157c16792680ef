"""Media benchmarks (issue 2, item 8): prints a table, asserts nothing.

    .venv/bin/python benchmarks/media_bench.py [--quick]

- peak pyramid build on 1 h of 48 kHz audio: in memory (`PeakPyramid.from_samples`) and streamed
  from a 16-bit WAV on disk (`build_peaks`), as x real time;
- thumbnails of a generated 60 s 1080p H.264 video: time to the first and to a full strip
  (one thumbnail per second, 90 px high);
- mixdown of a 10-track, 10-minute project (cold: sources decoded; warm: cached), as x real time;
- level-of-detail spectrogram of a 10-minute mono 48 kHz file in the panel (offscreen Qt): time to
  the first visible tile and to the whole view, cold and from the disk cache, and the GUI-thread
  cost of composing + painting the full view (`--only spectrogram` runs just this case).

`--quick` scales every input down 10x to check the script itself.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from foley_studio.core.project import Clip, Project, Track  # noqa: E402
from foley_studio.media.mixdown import SourceCache, mixdown  # noqa: E402
from foley_studio.media.peaks import PeakPyramid, build_peaks  # noqa: E402
from foley_studio.media.video import VideoReader  # noqa: E402
from tests.media_fixtures import make_video, tone  # noqa: E402

SR = 48_000


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def bench_peaks(folder: Path, seconds: float) -> list[tuple[str, str]]:
    rng = np.random.default_rng(0)
    x = (0.3 * rng.standard_normal(int(seconds * SR))).astype(np.float32)
    t_mem, _ = timed(lambda: PeakPyramid.from_samples(x, keep_samples=False))
    path = folder / "long.wav"
    with sf.SoundFile(str(path), "w", SR, 1, subtype="PCM_16") as handle:
        for a in range(0, len(x), SR * 60):
            handle.write(x[a:a + SR * 60])
    del x
    t_file, pyr = timed(lambda: build_peaks(path))
    window = int(min(600, seconds / 2) * SR)
    starts = range(0, int(seconds * SR) - window, max(1, window // 10))
    t_query, _ = timed(lambda: [pyr.query(a, a + window, 1920) for a in starts])
    n_q = len(starts)
    path.unlink()
    label = f"{seconds / 3600:.2g} h"
    return [
        (f"peaks: build in memory ({label} @48k)", f"{t_mem:.2f} s = {seconds / t_mem:,.0f}x real time"),
        (f"peaks: build streamed from 16-bit WAV ({label})", f"{t_file:.2f} s = {seconds / t_file:,.0f}x real time"),
        (f"peaks: query {window / SR / 60:.0f} min -> 1920 px (avg of {n_q})", f"{t_query / n_q * 1000:.2f} ms"),
    ]


def bench_thumbnails(folder: Path, seconds: float) -> list[tuple[str, str]]:
    t_make, path = timed(lambda: make_video(folder / "hd.mp4", seconds, 30, (1920, 1080), False, crf=30))
    times = [float(t) for t in np.arange(0, seconds, 1.0)]
    with VideoReader(path) as reader:
        t0 = time.perf_counter()
        strip = reader.iter_thumbnails(times, 90)
        next(strip)
        t_first = time.perf_counter() - t0
        n = 1 + sum(1 for _ in strip)
        t_all = time.perf_counter() - t0
        t1 = time.perf_counter()
        reader.frame_at(seconds * 0.37)
        t_random = time.perf_counter() - t1
    path.unlink()
    return [
        (f"video: encode {seconds:.0f} s 1080p30 test video (setup)", f"{t_make:.1f} s"),
        ("thumbnails: time to first (90 px)", f"{t_first * 1000:.0f} ms"),
        (f"thumbnails: full strip of {n}", f"{t_all:.2f} s ({t_all / n * 1000:.0f} ms each)"),
        ("video: one random frame_at (keyframe seek)", f"{t_random * 1000:.0f} ms"),
    ]


def bench_mixdown(folder: Path, seconds: float, n_tracks: int = 10) -> list[tuple[str, str]]:
    sources = []
    for i in range(5):
        data = tone(4.0, 44_100 if i % 2 else SR, 200 + 100 * i, amplitude=0.1)
        sources.append(str(folder / f"src{i}.wav"))
        sf.write(sources[-1], data, 44_100 if i % 2 else SR, subtype="PCM_24")
    tracks = []
    n_clips = 0
    for t in range(n_tracks):
        clips = []
        for k, start in enumerate(range(t * 4800, int(seconds * SR) - 3 * SR, 2 * SR)):
            clips.append(Clip(id=f"c{t}-{k}", source=sources[(t + k) % 5], start=start, source_in=4800,
                              source_out=4800 + int(1.5 * SR), gain_db=-3.0, fade_in=480, fade_out=2400))
        n_clips += len(clips)
        tracks.append(Track(id=f"t{t}", name=f"T{t}", clips=clips, gain_db=-1.0))
    project = Project(tracks=tracks)
    cache = SourceCache()
    t_cold, out = timed(lambda: mixdown(project, 0, int(seconds * SR), sources=cache))
    t_warm, _ = timed(lambda: mixdown(project, 0, int(seconds * SR), sources=cache))
    assert out.shape == (int(seconds * SR),)
    return [
        (f"mixdown: {n_tracks} tracks x {seconds / 60:.0f} min, {n_clips} clips, cold",
         f"{t_cold:.2f} s = {seconds / t_cold:,.0f}x real time"),
        ("mixdown: same, sources cached", f"{t_warm:.2f} s = {seconds / t_warm:,.0f}x real time"),
    ]


def bench_spectrogram(folder: Path, seconds: float) -> list[tuple[str, str]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from foley_studio.media.spectrogram import TileStore
    from foley_studio.ui.document import ProjectDocument
    from foley_studio.ui.spectrogram_panel import SpectrogramPanel

    app = QApplication.instance() or QApplication([])
    n = int(seconds * SR)
    rng = np.random.default_rng(3)
    x = (0.01 * rng.standard_normal(n)).astype(np.float32)
    for at in np.arange(5.0, seconds, 7.0):           # a short burst every 7 s
        a = int(at * SR)
        x[a:a + SR // 50] += tone(0.02, SR, 2000.0, amplitude=0.5)
    path = folder / "reel.wav"
    sf.write(str(path), x, SR, subtype="PCM_16")
    del x
    clip = Clip(id="reel", source=str(path), start=0, source_in=0, source_out=n, name="reel")
    doc = ProjectDocument(Project(tracks=[Track(id="t", name="T", clips=[clip])]))

    def open_panel() -> tuple[SpectrogramPanel, float, float, float]:
        panel = SpectrogramPanel(doc, store=TileStore())   # empty memory cache; the disk cache persists
        doc.select_clips([])
        doc.select_track(None)                          # nothing shown until the clip is selected
        panel.resize(1200, 400)
        panel.show()
        app.processEvents()
        t0 = time.perf_counter()
        doc.select_clips(["reel"])
        first, stall = None, 0.0
        while panel.busy and time.perf_counter() - t0 < 600:
            t_step = time.perf_counter()
            app.processEvents()                         # compositions and paints run in here
            stall = max(stall, time.perf_counter() - t_step)
            img = panel.image.image
            if first is None and img is not None and not np.isnan(img).all():
                first = time.perf_counter() - t0
            time.sleep(0.001)
        app.processEvents()
        return panel, first if first is not None else time.perf_counter() - t0, time.perf_counter() - t0, stall

    cold, t_first, t_all, stall = open_panel()
    cols = cold.image.image.shape[1]
    renders = []
    for _ in range(20):                                # GUI thread: compose from memory + paint
        t0 = time.perf_counter()
        cold.recompose()
        cold.plot.grab()
        renders.append(time.perf_counter() - t0)
    computed = cold.store.computed
    cold.hide()
    warm, w_first, w_all, _ = open_panel()
    warm.hide()
    label = f"{seconds / 60:.0f} min"
    return [
        (f"spectrogram: {label} mono 48k, first visible tile (cold)", f"{t_first * 1000:.0f} ms"),
        (f"spectrogram: whole view, {computed} tiles computed (cold)",
         f"{t_all:.2f} s = {seconds / t_all:,.0f}x real time"),
        ("spectrogram: longest GUI-thread step while tiles land (cold)", f"{stall * 1000:.1f} ms"),
        ("spectrogram: reopened, first tile / whole view (disk cache)",
         f"{w_first * 1000:.0f} ms / {w_all * 1000:.0f} ms"),
        (f"spectrogram: full-view render, {cols} columns (median of 20)",
         f"{sorted(renders)[len(renders) // 2] * 1000:.1f} ms (max {max(renders) * 1000:.1f} ms)"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="inputs 10x smaller (checks the script)")
    parser.add_argument("--only", choices=["peaks", "thumbnails", "mixdown", "spectrogram"],
                        help="run one case")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    rows: list[tuple[str, str]] = []
    cases = [("peaks", bench_peaks, 3600), ("thumbnails", bench_thumbnails, 60),
             ("mixdown", bench_mixdown, 600), ("spectrogram", bench_spectrogram, 600)]
    with tempfile.TemporaryDirectory(prefix="foley-bench-") as tmp:
        folder = Path(tmp)
        os.environ.setdefault("FOLEY_STUDIO_HOME", str(folder / "home"))
        for name, case, seconds in cases:
            if args.only in (None, name):
                rows += case(folder, seconds * scale)
    width = max(len(name) for name, _ in rows)
    print(f"{'benchmark':<{width}}  result")
    print(f"{'-' * width}  {'-' * 34}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"\n(cpu count {os.cpu_count()}, numpy {np.__version__}; timings on a shared machine vary)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
