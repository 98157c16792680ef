"""Render a project's timeline (or a region of it) to one 48 kHz float32 signal, mono or stereo.

Per clip: source samples [source_in, source_out) of the source decoded at 48 kHz, times the clip
gain and the track gain (dB), shaped by equal-power fades, summed at the clip's timeline start.
A track plays when it is not muted and, if any track is soloed, it is soloed too. Sources are
decoded once into a `SourceCache` shared by the mixer, the exporter and the engine.

Mono (`channels=1`, (N,)): every source folded to mono (channels averaged), pan ignored; this is
what the model hears as context and what a mono export writes. Stereo (`channels=2`, (2, N)):
each track is panned on the equal-power law (`pan_gains`: a centred mono sound is -3 dB in each
channel, and the power L^2 + R^2 is the same wherever it is panned); a stereo source keeps its
two channels and the pan balances them (`balance_gains`: unity at the centre, the far side falls
on the same sine law). Sources with more than two channels are folded to mono and panned.
"""
from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Callable, Iterable
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
TrackListener = Callable[[Track, "np.ndarray | None"], None]


class _Decoded:
    """One decoded source: its channels (C, N) with C 1 or 2, and the mono fold (N,)."""

    __slots__ = ("stamp", "channels", "mono")

    def __init__(self, stamp: tuple[int, int], channels: np.ndarray):
        if channels.shape[0] > 2:       # surround and other layouts: centred mono
            channels = channels.mean(axis=0, dtype=np.float32)[None, :]
        channels = np.ascontiguousarray(channels, dtype=np.float32)
        channels.setflags(write=False)
        mono = channels[0] if channels.shape[0] == 1 else channels.mean(axis=0, dtype=np.float32)
        mono.setflags(write=False)
        self.stamp, self.channels, self.mono = stamp, channels, mono

    @property
    def nbytes(self) -> int:
        return self.channels.nbytes + (self.mono.nbytes if self.channels.shape[0] > 1 else 0)


class SourceCache:
    """Decoded 48 kHz sources keyed by path, dropped when the file changes (size/mtime).

    Thread-safe; least recently used sources are evicted above `max_bytes`. Returned arrays are
    read-only views so one caller cannot change what another sees. `get` gives the mono fold,
    `get_channels` the source's own channels (1 or 2).
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = max_bytes
        # path -> decoded source; a stale stamp is a miss, so hits are counted here.
        self._items: LRUCache[str, _Decoded] = LRUCache(max_size=max_bytes, size_of=lambda item: item.nbytes)
        self.hits = 0
        self.misses = 0

    def get(self, path: str | Path) -> np.ndarray:
        """The whole source folded to mono, float32 (N,) at 48 kHz (decoded on first use)."""
        return self._decoded(path).mono

    def get_channels(self, path: str | Path) -> np.ndarray:
        """The whole source as float32 (C, N) at 48 kHz, C = 1 (mono) or 2 (stereo)."""
        return self._decoded(path).channels

    def _decoded(self, path: str | Path) -> _Decoded:
        key = os.fspath(path)
        try:
            stamp = _stamp(Path(key))
        except OSError:
            check_exists(key)   # raises the MediaError that names the problem
            raise
        item = self._items.get(key)
        if item is not None and item.stamp == stamp:
            self.hits += 1
            return item
        decoded = _Decoded(stamp, read_audio(key, mono=False))   # decoded unlocked: other sources stay available
        self.misses += 1
        self._items.put(key, decoded)
        return decoded

    def put(self, path: str | Path, data: np.ndarray) -> None:
        """Register audio already in memory, (N,) or (C, N) (a fresh take), so it is not decoded again."""
        key = os.fspath(path)
        data = np.asarray(data, dtype=np.float32)
        self._items.put(key, _Decoded(_stamp(Path(key)), data[None, :] if data.ndim == 1 else data))

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
    """Tracks that play: unmuted and, when any track is soloed, soloed (`Project.audible_tracks`)."""
    return project.audible_tracks()


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


def pan_gains(pan: float) -> tuple[float, float]:
    """Equal-power pan of a mono sound: (left, right) = (cos θ, sin θ), θ = (pan + 1) π/4.

    pan -1 is hard left (1, 0), 0 the centre (-3 dB each: 0.7071, 0.7071), +1 hard right (0, 1);
    left^2 + right^2 = 1 everywhere, so a sound keeps its loudness as it moves."""
    theta = (min(max(float(pan), -1.0), 1.0) + 1.0) * math.pi / 4.0
    return math.cos(theta), math.sin(theta)


def balance_gains(pan: float) -> tuple[float, float]:
    """Balance of a stereo sound: both channels at unity when centred; towards one side, the other
    channel falls on the equal-power sine law (hard left: (1, 0))."""
    left, right = pan_gains(pan)
    return min(1.0, math.sqrt(2.0) * left), min(1.0, math.sqrt(2.0) * right)


def render_clip(clip: Clip, source: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """The clip's samples as they sound on the timeline (gain and fades applied), float32 (length,)."""
    return _render_part(clip, source, gain, clip.start, clip.end)


def mixdown(project: Project, start: int = 0, end: int | None = None, *,
            track_ids: Iterable[str] | None = None, sources: SourceCache | None = None,
            channels: int = 1, each_track: TrackListener | None = None) -> np.ndarray:
    """The sum of the audible tracks over timeline samples [start, end): float32 (end - start,) for
    `channels=1`, (2, end - start) panned for `channels=2`.

    `track_ids` mixes exactly those tracks (ignoring mute/solo: the caller chose them, e.g. for
    stems). `end=None` means the project's duration. `each_track(track, audio)` is called with each
    mixed track's own contribution before it is summed (None when the track is silent there):
    the playback engine meters tracks with it.
    """
    end = project.duration if end is None else end
    if end < start:
        raise ValueError(f"mixdown region must not be reversed, got {start=} {end=}")
    if channels not in (1, 2):
        raise ValueError(f"a mix is mono (1) or stereo (2), got {channels=}")
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
    out = np.zeros((end - start,) if channels == 1 else (2, end - start), np.float32)
    for track in tracks:
        rendered = render_track(track, start, end, sources=sources, channels=channels)
        if each_track is not None:
            each_track(track, rendered)
        if rendered is not None:
            out += rendered
    return out


def render_track(track: Track, start: int, end: int, *, sources: SourceCache,
                 channels: int = 1) -> np.ndarray | None:
    """One track over [start, end) with its fader (and, in stereo, its pan); None when no clip sounds there."""
    track_gain = db_to_gain(track.gain_db)
    out = None
    for clip in track.clips:
        a, b = max(clip.start, start), min(clip.end, end)
        if b <= a:
            continue
        if out is None:
            out = np.zeros((end - start,) if channels == 1 else (2, end - start), np.float32)
        if channels == 1:
            out[a - start:b - start] += _render_part(clip, sources.get(clip.source), track_gain, a, b)
            continue
        source = sources.get_channels(clip.source)
        if source.shape[0] == 1:
            part = _render_part(clip, source[0], track_gain, a, b)
            left, right = pan_gains(track.pan)
            out[0, a - start:b - start] += left * part
            out[1, a - start:b - start] += right * part
        else:
            left, right = balance_gains(track.pan)
            for ch, pan_gain in enumerate((left, right)):
                if pan_gain:
                    out[ch, a - start:b - start] += _render_part(clip, source[ch], track_gain * pan_gain, a, b)
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
