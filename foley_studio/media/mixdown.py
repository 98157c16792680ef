"""Render a project's timeline (or a region of it) to one 48 kHz mono float32 signal.

Per clip: source samples [source_in, source_out) of the source decoded at 48 kHz, times the clip
gain and the track gain (dB), shaped by equal-power fades, summed at the clip's timeline start.
A track plays when it is not muted and, if any track is soloed, it is soloed too. Sources are
decoded once into a `SourceCache` shared by the mixer, the exporter and the engine.
"""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from foley_studio.core.lru import LRUCache
from foley_studio.core.project import Clip, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE, format_seconds

from .audio import read_audio
from .errors import MediaError
from .probe import check_exists

log = logging.getLogger(__name__)

DEFAULT_CACHE_BYTES = 2 * 1024 ** 3   # decoded sources kept in memory (float32 at 48 kHz: ~3 h)
MAX_MIX_SECONDS = 4 * 3600            # one mix in memory: 2.8 GB of float32


class SourceCache:
    """Decoded 48 kHz mono sources keyed by path, dropped when the file changes (size/mtime).

    Thread-safe; least recently used sources are evicted above `max_bytes`. Returned arrays are
    read-only views so one caller cannot change what another sees.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = max_bytes
        # path -> ((size, mtime), samples); a stale stamp is a miss, so hits are counted here.
        self._items: LRUCache[str, tuple[tuple[int, int], np.ndarray]] = LRUCache(
            max_size=max_bytes, size_of=lambda item: item[1].nbytes)
        self.hits = 0
        self.misses = 0

    def get(self, path: str | Path) -> np.ndarray:
        """The whole source as float32 (N,) at 48 kHz (decoded on first use)."""
        key = os.fspath(path)
        try:
            stamp = _stamp(Path(key))
        except OSError:
            check_exists(key)   # raises the MediaError that names the problem
            raise
        item = self._items.get(key)
        if item is not None and item[0] == stamp:
            self.hits += 1
            return item[1]
        data = read_audio(key, mono=True)   # decode unlocked: other sources stay available meanwhile
        data.setflags(write=False)
        self.misses += 1
        self._items.put(key, (stamp, data))
        return data

    def put(self, path: str | Path, data: np.ndarray) -> None:
        """Register audio already in memory (a fresh take) so it is not decoded again."""
        key = os.fspath(path)
        data = np.ascontiguousarray(data, dtype=np.float32)
        data.setflags(write=False)
        self._items.put(key, (_stamp(Path(key)), data))

    def invalidate(self, path: str | Path | None = None) -> None:
        if path is None:
            self._items.clear()
        else:
            self._items.pop(os.fspath(path))

    @property
    def nbytes(self) -> int:
        return self._items.size


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def audible_tracks(project: Project) -> list[Track]:
    """Tracks that play: unmuted and, when any track is soloed, soloed."""
    any_solo = any(t.solo for t in project.tracks)
    return [t for t in project.tracks if not t.mute and (t.solo or not any_solo)]


def fade_envelope(length: int, fade_in: int, fade_out: int) -> np.ndarray | None:
    """Equal-power gain curve over a clip, or None when it has no fades.

    Fade-in sample i of F is sin(pi/2 * i/F) and fade-out sample j of F is cos(pi/2 * j/F), so a
    fade-out and a fade-in laid over the same F samples sum to constant power (sin^2 + cos^2 = 1).
    """
    fade_in, fade_out = min(max(0, fade_in), length), min(max(0, fade_out), length)
    if not fade_in and not fade_out:
        return None
    env = np.ones(length, np.float32)
    if fade_in:
        env[:fade_in] *= _fade_curve(fade_in, "in")
    if fade_out:
        env[length - fade_out:] *= _fade_curve(fade_out, "out")
    return env


def render_clip(clip: Clip, source: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """The clip's samples as they sound on the timeline (gain and fades applied), float32 (length,)."""
    return _render_part(clip, source, gain, clip.start, clip.end)


def mixdown(project: Project, start: int = 0, end: int | None = None, *,
            track_ids: Iterable[str] | None = None, sources: SourceCache | None = None) -> np.ndarray:
    """The sum of the audible tracks over timeline samples [start, end) as float32 (end - start,).

    `track_ids` mixes exactly those tracks (ignoring mute/solo: the caller chose them, e.g. for
    stems). `end=None` means the project's duration.
    """
    end = project.duration if end is None else end
    if end < start:
        raise ValueError(f"mixdown region must not be reversed, got {start=} {end=}")
    if end - start > MAX_MIX_SECONDS * SAMPLE_RATE:
        raise MediaError(f"the mix from {format_seconds(start / SAMPLE_RATE)} to {format_seconds(end / SAMPLE_RATE)} "
                         f"is longer than the {MAX_MIX_SECONDS // 3600} h Foley Studio mixes at once; export it in parts")
    if track_ids is not None:
        wanted = set(track_ids)
        unknown = wanted - {t.id for t in project.tracks}
        if unknown:
            raise KeyError(f"no such track(s) in the project: {sorted(unknown)}")
        tracks = [t for t in project.tracks if t.id in wanted]
    else:
        tracks = audible_tracks(project)
    sources = sources if sources is not None else SourceCache()
    out = np.zeros(end - start, np.float32)
    for track in tracks:
        track_gain = db_to_gain(track.gain_db)
        for clip in track.clips:
            a, b = max(clip.start, start), min(clip.end, end)
            if b <= a:
                continue
            rendered = _render_part(clip, sources.get(clip.source), track_gain, a, b)
            out[a - start:b - start] += rendered
    return out


def _render_part(clip: Clip, source: np.ndarray, gain: float, a: int, b: int) -> np.ndarray:
    """Timeline samples [a, b) of a clip, computing only that part (long clips, short regions)."""
    off_a, off_b = a - clip.start, b - clip.start
    part = np.zeros(off_b - off_a, np.float32)
    s_a, s_b = clip.source_in + off_a, clip.source_in + off_b
    c_a, c_b = max(0, s_a), min(len(source), s_b)
    if c_b > c_a:
        part[c_a - s_a:c_b - s_a] = source[c_a:c_b]
    part *= np.float32(gain * db_to_gain(clip.gain_db))
    _apply_fades(part, clip, off_a, off_b)
    return part


def _apply_fades(part: np.ndarray, clip: Clip, off_a: int, off_b: int) -> None:
    """Multiply in the equal-power fades where they overlap clip offsets [off_a, off_b).

    Only the faded stretches are touched, so a short region of a long clip stays cheap; the
    curves are exactly those of `fade_envelope` (cached per length: fades repeat a lot).
    """
    length = clip.length
    fade_in, fade_out = min(max(0, clip.fade_in), length), min(max(0, clip.fade_out), length)
    if fade_in:
        i0, i1 = off_a, min(off_b, fade_in)
        if i1 > i0:
            part[:i1 - off_a] *= _fade_curve(fade_in, "in")[i0:i1]
    if fade_out:
        j0 = length - fade_out
        i0 = max(off_a, j0)
        if off_b > i0:
            part[i0 - off_a:] *= _fade_curve(fade_out, "out")[i0 - j0:off_b - j0]


@functools.lru_cache(maxsize=128)
def _fade_curve(n: int, kind: str) -> np.ndarray:
    x = 0.5 * np.pi * np.arange(n) / n
    curve = (np.sin(x) if kind == "in" else np.cos(x)).astype(np.float32)
    curve.setflags(write=False)
    return curve
