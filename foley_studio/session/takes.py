"""Takes as the session plays and places them, Qt-free.

- `target_track`: the track a take goes on.
- `audition_project`: the project as it would be after "Use" of a take (a private copy): the
  takes panel plays it through a playback engine, so an audition is heard exactly like the
  timeline (stereo, faders, pan) and switching takes is an edit made while playing.
- `context_mix`: how a region sounds after "Use" of a take (the project itself untouched).
- `TakeLevel` / `take_level`: a take's peak and loudness, as its sidecar states them (the engine
  normalises takes) or measured from its audio.
"""
from __future__ import annotations

import copy
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from foley_studio.core.edits import ApplyTake
from foley_studio.core.errors import FoleyError
from foley_studio.core.project import Project, Take

log = logging.getLogger(__name__)


def target_track(project: Project, take: Take, fallback: str | None) -> str:
    """The track a take goes on: the one it was made for when it still exists, else `fallback`."""
    ids = [t.id for t in project.tracks]
    if take.track_id in ids:
        return take.track_id
    if fallback in ids:
        return fallback
    if not ids:
        raise FoleyError("the project has no audio track to put the take on; add a track (Ctrl+T)")
    return ids[0]


def audition_project(project: Project, take: Take, track_id: str) -> Project:
    """A copy of `project` with `take` used on `track_id` over its region (the project is untouched)."""
    trial = copy.deepcopy(project)
    ApplyTake(take.id, track_id, take.region_start, take.region_end).do(trial)
    return trial


def context_mix(project: Project, take: Take, track_id: str, start: int, end: int,
                sources: Any = None, channels: int = 1) -> np.ndarray:
    """The mix of [start, end) as it would sound after "Use" of `take` on `track_id` (project untouched):
    (n,) mono, or (2, n) with `channels=2`."""
    from foley_studio.media.mixdown import mixdown
    mix = np.asarray(mixdown(audition_project(project, take, track_id), start, end, sources=sources,
                             channels=channels), dtype=np.float32)
    out = np.zeros(mix.shape[:-1] + (end - start,), np.float32)
    n = min(mix.shape[-1], end - start)
    out[..., :n] = mix[..., :n]
    return out


@dataclass(frozen=True)
class TakeLevel:
    """How loud a take is: sample peak (dBFS) and integrated loudness (LUFS, None if unmeasurable)."""

    peak_db: float
    loudness_lufs: float | None
    stated: bool             # True: from the take's sidecar (the engine's normalised level); False: measured

    def describe(self) -> str:
        peak = "-inf" if self.peak_db == -math.inf else f"{self.peak_db:+.1f}"
        loud = f"{self.loudness_lufs:.1f} LUFS" if self.loudness_lufs is not None else "-- LUFS"
        return f"{peak} dBFS · {loud}"


_PEAK_KEYS = ("peak_dbfs", "peak_db", "sample_peak_dbfs")
_LOUDNESS_KEYS = ("loudness_lufs", "integrated_lufs", "lufs")


def stated_level(take: Take) -> TakeLevel | None:
    """The level a take's settings or JSON sidecar state (`level: {peak_dbfs, loudness_lufs}`, at the top
    or under `extra`), or None when neither does. Reads the sidecar file: call it off the GUI thread."""
    sources: list[Any] = [take.settings]
    sidecar = Path(take.path).with_suffix(".json")
    try:
        if sidecar.is_file() and sidecar.stat().st_size < 4 * 2**20:
            sources.append(json.loads(sidecar.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        log.debug("take sidecar %s unreadable: %s", sidecar, exc)
    for source in sources:
        if not isinstance(source, dict):
            continue
        for holder in (source, source.get("extra")):
            level = holder.get("level") if isinstance(holder, dict) else None
            if isinstance(level, dict):
                peak = next((level[k] for k in _PEAK_KEYS if isinstance(level.get(k), (int, float))), None)
                loud = next((level[k] for k in _LOUDNESS_KEYS if isinstance(level.get(k), (int, float))), None)
                if peak is not None and math.isfinite(peak):
                    return TakeLevel(float(peak), float(loud) if loud is not None and math.isfinite(loud) else None,
                                     True)
    return None


def take_level(take: Take, audio: np.ndarray | None = None) -> TakeLevel:
    """The stated level when there is one, else measured from `audio` (or the take's file)."""
    stated = stated_level(take)
    if stated is not None:
        return stated
    from foley_studio.media.loudness import measure
    if audio is None:
        from foley_studio.media.audio import read_audio
        audio = read_audio(take.path, mono=False)
    levels = measure(audio)
    return TakeLevel(levels.peak_db, levels.loudness_lufs, False)
