"""Write resources/demo/demo.fsproj: the demo video with a guide track, hits on its impacts, and ambience.

Run: .venv/bin/python scripts/make_demo_project.py. Impacts are found in the video's own (clean)
soundtrack by an energy threshold, so the hits line up with what is seen; each becomes a marker and
a short library sound on the "Hits" track. Paths in the project are stored relative to it.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from foley_studio.core import store
from foley_studio.core.paths import DEMO_DIR, DEMO_LIBRARY_DIR
from foley_studio.core.project import Clip, Marker, Track
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.media.audio import read_audio
from foley_studio.media.video import extract_audio
from foley_studio.ui.main_window import project_from_video

HOP = 240                      # 5 ms energy frames
MIN_GAP_S = 0.25
HIT_SOUNDS = ("opensfx_20_cash_till.flac", "opensfx_17_crash.flac")
AMBIENCE = "opensfx_52_wind.flac"


def find_impacts(x: np.ndarray, threshold: float = 0.25) -> list[int]:
    """Samples where the short-time energy first rises above `threshold` x its maximum."""
    energy = np.sqrt(np.convolve(x.astype(np.float64) ** 2, np.ones(HOP) / HOP, "same")[::HOP])
    above = energy > threshold * energy.max()
    rises = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    onsets: list[int] = []
    for frame in rises:
        if not onsets or (frame - onsets[-1]) * HOP >= MIN_GAP_S * SAMPLE_RATE:
            onsets.append(int(frame))
    # The threshold is crossed a few ms into the attack; start the hit a frame earlier.
    return [max(0, (f - 1) * HOP) for f in onsets]


def _length(path: Path) -> int:
    return len(read_audio(path))


def build(video: Path, out: Path) -> Path:
    project = project_from_video(video, n_tracks=0)
    project.name = "Demo: mallet on metal"
    duration = project.video.duration
    impacts = find_impacts(extract_audio(video))

    guide = Track(id="track-guide", name="Guide (production)", mute=True, gain_db=-6.0)
    guide.clips.append(Clip(id="clip-guide", source=str(video.resolve()), start=0, source_in=0,
                            source_out=duration, name="production sound", source_length=duration))
    hits = Track(id="track-hits", name="Hits")
    for i, at in enumerate(impacts):
        source = DEMO_LIBRARY_DIR / HIT_SOUNDS[i % len(HIT_SOUNDS)]
        full = _length(source)
        length = min(int(0.35 * SAMPLE_RATE), full)
        hits.clips.append(Clip(id=f"clip-hit-{i + 1:02d}", source=str(source.resolve()), start=at, source_in=0,
                               source_out=length, name=f"hit {i + 1}", fade_out=int(0.08 * SAMPLE_RATE),
                               gain_db=-3.0, source_length=full))
        project.markers.append(Marker(id=f"marker-{i + 1:02d}", time=at, name=f"hit {i + 1}"))
    ambience = Track(id="track-ambience", name="Ambience", gain_db=-14.0)
    source = DEMO_LIBRARY_DIR / AMBIENCE
    full, start, n = _length(source), 0, 0
    while start < duration:
        length = min(full, duration - start)
        n += 1
        ambience.clips.append(Clip(id=f"clip-wind-{n}", source=str(source.resolve()), start=start, source_in=0,
                                   source_out=length, name=f"wind {n}", fade_in=int(0.2 * SAMPLE_RATE),
                                   fade_out=int(0.2 * SAMPLE_RATE), source_length=full))
        start += length
    project.tracks = [guide, hits, ambience, Track(id="track-foley", name="Foley (generate here)")]
    store.save_project(project, out)
    print(f"{out}: {len(impacts)} impacts at "
          f"{', '.join(f'{t / SAMPLE_RATE:.3f}' for t in impacts)} s; {sum(len(t.clips) for t in project.tracks)} clips")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEMO_DIR / "demo_video.mp4")
    parser.add_argument("--out", type=Path, default=DEMO_DIR / "demo.fsproj")
    args = parser.parse_args()
    build(args.video, args.out)


if __name__ == "__main__":
    main()
