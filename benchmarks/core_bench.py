"""Core timings: save/load of a large project, and edit + undo throughput (prints a table, asserts nothing).

    .venv/bin/python benchmarks/core_bench.py [--tracks 20] [--clips 500]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from foley_studio.core import edits as E
from foley_studio.core import store
from foley_studio.core.project import Clip, Project, Track


def _big_project(folder: Path, n_tracks: int, n_clips: int) -> Project:
    tracks = []
    for t in range(n_tracks):
        clips = [Clip(id=f"c{t}-{i}", source=str(folder / "media" / f"sfx_{i % 97}.wav"), start=i * 24_000,
                      source_in=0, source_out=20_000, gain_db=-3.0, fade_in=480, fade_out=480, name=f"hit {i}")
                 for i in range(n_clips)]
        tracks.append(Track(id=f"t{t}", name=f"Foley {t + 1}", clips=clips))
    return Project(tracks=tracks, name="bench")


def _timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracks", type=int, default=20)
    parser.add_argument("--clips", type=int, default=500, help="clips per track")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        project = _big_project(folder, args.tracks, args.clips)
        path = folder / "bench.fsproj"
        save_s = _timed(lambda: store.save_project(project, path))
        size_mb = os.path.getsize(path) / 1e6
        load_s = _timed(lambda: store.load_project(path))
        assert store.load_project(path) == project

        history = E.History(project)
        ids = [c.id for c in project.tracks[0].clips]
        n = len(ids)
        t0 = time.perf_counter()
        for i, cid in enumerate(ids):
            history.push(E.MoveClip(cid, i * 24_000 + 10), merge=False)
        push_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        while history.can_undo:
            history.undo()
        undo_s = time.perf_counter() - t0

    n_clips = args.tracks * args.clips
    print(f"{'measure':<40} {'value':>12}")
    print(f"{'project size':<40} {n_clips:>8} clips")
    print(f"{'file size':<40} {size_mb:>10.2f} MB")
    print(f"{'save_project (atomic, fsync), best of 3':<40} {save_s * 1e3:>10.1f} ms")
    print(f"{'load_project, best of 3':<40} {load_s * 1e3:>10.1f} ms")
    print(f"{'MoveClip push (per edit)':<40} {push_s / n * 1e6:>10.1f} us")
    print(f"{'undo (per edit)':<40} {undo_s / n * 1e6:>10.1f} us")


if __name__ == "__main__":
    main()
