"""Takes as the session plays and places them, Qt-free.

- `target_track`: the track a take goes on.
- `context_mix`: how a region sounds after "Use" of a take (the project itself untouched).
- `AuditionBuffers`: equal-length context mixes, one per take; the audio callback reads whichever
  is active, so switching takes while playing has no gap and no jump in time.
- `AuditionRenders`: renders those mixes, cached per project revision.

The editor's takes panel (`ui.takes_panel`) draws and plays these; a later mixer or stereo
output builds on the same pieces.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from foley_studio.core.edits import ApplyTake
from foley_studio.core.errors import FoleyError
from foley_studio.core.project import Project, Take


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


class AuditionBuffers:
    """Equal-length context mixes, one per take; `read` continues the same position in whichever is active.

    Switching (`active = k`) takes effect at the next block, so A/B comparison has no gap and no
    jump in time. Only `read` runs on the audio thread: slicing and copying, nothing else.
    """

    def __init__(self, mixes: dict[str, np.ndarray], start: int):
        lengths = {len(m) for m in mixes.values()}
        assert len(lengths) == 1, f"context mixes must have equal lengths, got {lengths}"
        self.ids = list(mixes)
        self._mixes = [np.ascontiguousarray(m, dtype=np.float32) for m in mixes.values()]
        self.length = lengths.pop()
        self.start = start               # timeline sample of buffer index 0
        self.pos = 0
        self.active = 0

    def set_active(self, take_id: str) -> None:
        self.active = self.ids.index(take_id)

    @property
    def active_id(self) -> str:
        return self.ids[self.active]

    @property
    def finished(self) -> bool:
        return self.pos >= self.length

    def read(self, out: np.ndarray) -> None:
        """Fill `out` (frames,) or (frames, channels) and advance; silence past the end."""
        frames = out.shape[0]
        src = self._mixes[self.active]
        a = self.pos
        k = max(0, min(frames, self.length - a))
        if out.ndim == 2:
            out[:k] = src[a:a + k, None]
        else:
            out[:k] = src[a:a + k]
        out[k:] = 0.0
        self.pos = a + k


def context_mix(project: Project, take: Take, track_id: str, start: int, end: int,
                sources: Any = None) -> np.ndarray:
    """The mix of [start, end) as it would sound after "Use" of `take` on `track_id` (project untouched)."""
    from foley_studio.media.mixdown import mixdown
    trial = copy.deepcopy(project)
    ApplyTake(take.id, track_id, take.region_start, take.region_end).do(trial)
    mix = np.asarray(mixdown(trial, start, end, sources=sources), dtype=np.float32)
    out = np.zeros(end - start, np.float32)
    out[:min(len(mix), len(out))] = mix[:len(out)]
    return out


class AuditionRenders:
    """Context mixes of takes, rendered on demand and kept while the project revision is unchanged."""

    def __init__(self) -> None:
        self._sources: Any = None
        self._cache: dict[tuple, np.ndarray] = {}

    def render(self, project: Project, revision: int, take_ids: list[str], fallback_track: str | None, *,
               preroll: int, postroll: int) -> AuditionBuffers:
        """Buffers over the span of every take in `take_ids` plus pre- and post-roll (samples)."""
        from foley_studio.media.mixdown import SourceCache
        takes = [project.take(t) for t in dict.fromkeys(take_ids)]
        start = max(0, min(t.region_start for t in takes) - preroll)
        end = max(t.region_end for t in takes) + postroll
        if self._sources is None:
            self._sources = SourceCache()
        mixes = {}
        for take in takes:
            track_id = target_track(project, take, fallback_track)
            key = (take.id, track_id, start, end, revision)
            if key not in self._cache:
                self._cache[key] = context_mix(project, take, track_id, start, end, self._sources)
            mixes[take.id] = self._cache[key]
        # Old renders are for an older project revision: drop them so memory stays bounded.
        self._cache = {k: v for k, v in self._cache.items() if k[-1] == revision}
        return AuditionBuffers(mixes, start)
