"""Spectrograms for display: float32 dB, (freq, time), C-contiguous, ready for a pyqtgraph ImageItem.

0 dB is a full-scale sine (the window's coherent gain is divided out), so colour maps can use
fixed levels such as (-100, 0) across files.

Two ways in:

- `display_spectrogram(x)`: the whole STFT of a short signal in memory (take previews, tests).
- Level-of-detail tiles for signals of any length (the spectrogram panel over a 10-minute reel):
  the STFT frame grid (frame f centred on sample f * hop, exactly as `display_spectrogram`) is cut
  into tiles of `TILE_FRAMES` frames. Each tile is computed once, then max-pooled over time by 4
  per level (2048, 512, 128, 32, 8, 2 columns), so a zoomed-out view reads a few columns per tile
  and a 20 ms transient still shows at full strength rather than averaged away. `TileStore` keeps
  tiles in a byte-bounded memory LRU and, for files, on disk under `cache_dir("spectrogram/v1")`
  keyed by path + size + mtime (like the peak pyramids); `compose` stitches cached tiles of one
  level into the image of a column range, NaN where a tile is still being computed.
"""
from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foley_studio.core.lru import LRUCache
from foley_studio.core.paths import cache_dir
from foley_studio.core.timebase import SAMPLE_RATE

from .audio import atomic_output, read_audio
from .peaks import cache_key
from .probe import check_exists

log = logging.getLogger(__name__)

FLOOR_DB = -120.0
_CHUNK_FRAMES = 2048   # frames transformed at once: bounds memory for hour-long signals

TILE_FRAMES = 2048     # STFT frames per tile: 10.9 s at hop 256 and 48 kHz
POOL = 4               # each level max-pools this many columns of the one below
N_LEVELS = 6           # columns per tile: 2048, 512, 128, 32, 8, 2 (4**5 divides TILE_FRAMES)
CACHE_KIND = "spectrogram/v1"
DEFAULT_MEMORY_BYTES = 256 * 1024 ** 2
_Q_STEP = -FLOOR_DB / 255.0   # disk tiles are uint8: 0.47 dB steps, finer than a 256-colour LUT over 100 dB


@dataclass
class Spectrogram:
    """Magnitude in dB: row f is frequency `freqs[f]` Hz, column t is centred at `times[t]` s."""

    db: np.ndarray      # float32 (F, T), C-contiguous
    freqs: np.ndarray   # float32 (F,)
    times: np.ndarray   # float64 (T,)


def display_spectrogram(x: np.ndarray, sr: int = SAMPLE_RATE, n_fft: int = 1024, hop: int = 256,
                        *, floor_db: float = FLOOR_DB) -> Spectrogram:
    """Hann-windowed STFT magnitude of a mono signal, frames centred on multiples of `hop`."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"display_spectrogram wants a mono (N,) signal, got {x.shape=}")
    _check_fft(n_fft, hop)
    n_frames = len(x) // hop + 1 if len(x) else 0
    padded = np.pad(x, (n_fft // 2, n_fft // 2 + hop))
    db = _stft_db(padded, n_frames, n_fft, hop, floor_db)
    times = np.arange(n_frames) * hop / sr
    return Spectrogram(db=db, freqs=fft_freqs(n_fft, sr), times=times)


def fft_freqs(n_fft: int = 1024, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Centre frequency (Hz) of each row, float32 (n_fft // 2 + 1,)."""
    return (np.arange(n_fft // 2 + 1) * sr / n_fft).astype(np.float32)


def _check_fft(n_fft: int, hop: int) -> None:
    if n_fft <= 0 or hop <= 0:
        raise ValueError(f"n_fft and hop must be positive, got {n_fft=} {hop=}")


def _stft_db(padded: np.ndarray, n_frames: int, n_fft: int, hop: int, floor_db: float) -> np.ndarray:
    """dB of frames padded[f*hop : f*hop + n_fft] for f < n_frames, float32 (n_fft//2 + 1, n_frames)."""
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)   # periodic Hann
    scale = np.float32(2.0 / window.sum())                     # full-scale sine -> magnitude 1
    db = np.empty((n_fft // 2 + 1, n_frames), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]
    floor_amp = np.float32(10.0 ** (floor_db / 20.0))
    for a in range(0, n_frames, _CHUNK_FRAMES):
        chunk = frames[a:a + _CHUNK_FRAMES] * window            # (t, n_fft)
        mag = np.abs(np.fft.rfft(chunk, axis=1)).astype(np.float32) * scale
        db[:, a:a + len(chunk)] = (20.0 * np.log10(np.maximum(mag, floor_amp))).T
    return db


# ---------------------------------------------------------------------------------------------
# Log-frequency display
# ---------------------------------------------------------------------------------------------
LOG_MIN_HZ = 20.0      # bottom of a log-frequency view: the low end of hearing
LOG_ROWS = 256         # rows of a log-frequency view (a plot is rarely taller)


def log_frequency_edges(sr: int = SAMPLE_RATE, *, n_rows: int = LOG_ROWS, f_min: float = LOG_MIN_HZ) -> np.ndarray:
    """Band edges (Hz, float64 (n_rows + 1,)) spaced evenly in log frequency from `f_min` to Nyquist."""
    if not 0 < f_min < sr / 2 or n_rows < 1:
        raise ValueError(f"log-frequency bands need 0 < f_min < Nyquist and rows >= 1, got {f_min=} {n_rows=}")
    return np.geomspace(f_min, sr / 2, n_rows + 1)


def to_log_frequency(db: np.ndarray, sr: int = SAMPLE_RATE, n_fft: int = 1024, *, n_rows: int = LOG_ROWS,
                     f_min: float = LOG_MIN_HZ) -> np.ndarray:
    """(F, T) dB rows on the FFT's linear axis -> (n_rows, T) rows on a log axis (`log_frequency_edges`).

    A band that holds FFT bins takes their maximum, so a tone keeps its level however wide the band;
    a band narrower than one bin (the bottom octaves) interpolates between the two nearest bins.
    NaN (a part not computed yet) stays NaN. float32, C-contiguous.
    """
    db = np.asarray(db, dtype=np.float32)
    n_bins = n_fft // 2 + 1
    if db.ndim != 2 or db.shape[0] != n_bins:
        raise ValueError(f"to_log_frequency wants ({n_bins}, T) rows for n_fft={n_fft}, got {db.shape=}")
    edges = log_frequency_edges(sr, n_rows=n_rows, f_min=f_min)
    df = sr / n_fft
    first = np.ceil(edges[:-1] / df - 1e-9).astype(np.int64)      # bins centred in [lo, hi)
    stop = np.ceil(edges[1:] / df - 1e-9).astype(np.int64)
    stop[-1] = n_bins                                             # the Nyquist bin belongs to the top band
    out = np.empty((n_rows, db.shape[1]), np.float32)
    pooled = stop > first
    if pooled.any():
        # Bands with bins cover consecutive bins, so one reduceat over their starts pools each band.
        out[pooled] = np.maximum.reduceat(db[:stop[pooled][-1]], first[pooled], axis=0)
    thin = ~pooled
    if thin.any():
        centre = np.sqrt(edges[:-1][thin] * edges[1:][thin]) / df
        j = np.clip(np.floor(centre).astype(np.int64), 0, n_bins - 2)
        w = (centre - j).astype(np.float32)[:, None]
        out[thin] = db[j] * (1 - w) + db[j + 1] * w
    return out


# ---------------------------------------------------------------------------------------------
# Tiles and levels
# ---------------------------------------------------------------------------------------------
def frames_per_column(level: int) -> int:
    return POOL ** level


def columns_per_tile(level: int) -> int:
    return TILE_FRAMES // POOL ** level


def choose_level(n_frames: float, n_pixels: int) -> int:
    """The level whose column count for `n_frames` is nearest to one per pixel (within 0.5x..2x).

    Coarser would smear neighbouring events into one column; finer costs compose time for detail
    the screen cannot show. A view with more columns than pixels must still be pooled to at most
    one column per pixel (`pool_factor`): a scaled image drops columns, and with them transients.
    """
    per_pixel = max(n_frames, 1.0) / max(n_pixels, 1)
    level = int(round(math.log(per_pixel, POOL))) if per_pixel > 1 else 0
    return min(max(level, 0), N_LEVELS - 1)


def pool_factor(n_frames: float, n_pixels: int, level: int) -> int:
    """Columns of `level` to max-pool into one so that `n_frames` take at most `n_pixels` columns."""
    per_pixel = max(n_frames, 1.0) / max(n_pixels, 1)
    return max(1, math.ceil(per_pixel / frames_per_column(level) - 1e-9))


def max_pool_columns(db: np.ndarray, factor: int) -> np.ndarray:
    """Max over groups of `factor` columns of (F, T): a loud transient survives zooming out.

    NaN (a part not computed yet) is ignored unless a whole group is NaN; a short last group
    pools what it has.
    """
    if factor <= 1:
        return db
    n = db.shape[1]
    whole = n // factor * factor
    # Strided pairwise fmax: one pass over the data (a reduce over a short last axis is ~10x slower).
    out = np.array(db[:, 0:whole:factor], dtype=np.float32, order="C")
    for j in range(1, factor):
        np.fmax(out, db[:, j:whole:factor], out=out)
    if whole < n:
        out = np.concatenate([out, np.fmax.reduce(db[:, whole:], axis=1, keepdims=True)], axis=1)
    return out


def tile_levels(level0: np.ndarray) -> list[np.ndarray]:
    """All N_LEVELS of one tile from its full-resolution (F, TILE_FRAMES) columns."""
    levels = [level0]
    for _ in range(1, N_LEVELS):
        levels.append(max_pool_columns(levels[-1], POOL))
    return levels


@dataclass(frozen=True)
class TileSource:
    """A mono 48 kHz signal to tile: `read(a, b)` returns samples [a, b) (0 <= a), shorter at its end.

    `key` identifies the content in memory caches (two sources with equal keys must sound the
    same); `disk_key`, when set, names its folder in the disk cache (files only: a mix has no
    stable identity on disk).
    """

    key: Hashable
    read: Callable[[int, int], np.ndarray] = field(compare=False, repr=False)
    disk_key: str | None = None
    n_fft: int = 1024
    hop: int = 256
    sr: int = SAMPLE_RATE

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    def tile_of_frame(self, frame: int) -> int:
        return frame // TILE_FRAMES


def file_tile_source(path: str | Path, *, n_fft: int = 1024, hop: int = 256) -> TileSource:
    """Tiles of a file's mono 48 kHz audio, read a tile's span at a time (never the whole file)."""
    path = check_exists(path)
    identity = f"{cache_key(path)}-{n_fft}-{hop}"

    def read(a: int, b: int) -> np.ndarray:
        return read_audio(path, a, b, mono=True)
    return TileSource(key=("file", identity), read=read, disk_key=identity, n_fft=n_fft, hop=hop)


def array_tile_source(x: np.ndarray, key: Hashable, *, n_fft: int = 1024, hop: int = 256) -> TileSource:
    """Tiles of a signal already in memory (tests, benchmarks, a take just generated)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"array_tile_source wants a mono (N,) signal, got {x.shape=}")
    return TileSource(key=("array", key, n_fft, hop), read=lambda a, b: x[a:b], n_fft=n_fft, hop=hop)


def compute_tile(source: TileSource, index: int, *, floor_db: float = FLOOR_DB) -> np.ndarray:
    """Full-resolution dB of frames [index * TILE_FRAMES, (index + 1) * TILE_FRAMES): (F, TILE_FRAMES).

    Column j equals `display_spectrogram(whole_signal)` column index * TILE_FRAMES + j; frames past
    the signal's end see silence (the floor).
    """
    _check_fft(source.n_fft, source.hop)
    first = index * TILE_FRAMES
    a = first * source.hop - source.n_fft // 2
    b = (first + TILE_FRAMES - 1) * source.hop + source.n_fft // 2
    segment = np.zeros(b - a, np.float32)
    lo = max(a, 0)
    if b > lo:
        got = np.asarray(source.read(lo, b), dtype=np.float32)[: b - lo]
        segment[lo - a:lo - a + len(got)] = got
    return _stft_db(segment, TILE_FRAMES, source.n_fft, source.hop, floor_db)


# ---------------------------------------------------------------------------------------------
# The tile store: memory LRU + disk cache
# ---------------------------------------------------------------------------------------------
class TileStore:
    """Tile levels by (source key, tile, level): a thread-safe memory LRU bounded in bytes, then disk.

    `peek` never does I/O (the GUI thread composes from it); `fetch` may read the disk or compute
    (worker threads only). `computed` and `disk_hits` count tiles, for tests and benchmarks.
    """

    def __init__(self, max_bytes: int = DEFAULT_MEMORY_BYTES, *, use_disk: bool = True,
                 floor_db: float = FLOOR_DB):
        self.max_bytes = max_bytes
        self.use_disk = use_disk
        self.floor_db = floor_db
        self._items: LRUCache[tuple, np.ndarray] = LRUCache(max_size=max_bytes, size_of=lambda arr: arr.nbytes)
        self._lock = threading.Lock()     # guards the counters
        self.computed = 0
        self.disk_hits = 0

    @property
    def nbytes(self) -> int:
        return self._items.size

    def peek(self, source_key: Hashable, tile: int, level: int) -> np.ndarray | None:
        return self._items.get((source_key, tile, level))

    def best(self, source_key: Hashable, tile: int, level: int) -> tuple[int, np.ndarray] | None:
        """The cached level closest to `level` at or above it (coarser), to stand in while it computes."""
        for lv in range(level, N_LEVELS):
            item = self.peek(source_key, tile, lv)
            if item is not None:
                return lv, item
        return None

    def fetch(self, source: TileSource, tile: int, level: int) -> np.ndarray:
        """One level of one tile, from memory, the disk cache, or computed (and then cached)."""
        item = self.peek(source.key, tile, level)
        if item is not None:
            return item
        path = self._disk_path(source, tile)
        if path is not None and path.exists():
            levels = self._load(path, level)
            if levels is not None:
                with self._lock:
                    self.disk_hits += 1
                self._put_levels(source.key, tile, levels)
                return levels[level]
        levels = tile_levels(compute_tile(source, tile, floor_db=self.floor_db))
        with self._lock:
            self.computed += 1
        if path is not None:
            self._save(path, levels)
        # Only the asked level and coarser ones stay in memory: a zoomed-out view over an hour
        # must not evict its own small columns with full-resolution tiles nobody is looking at.
        self._put_levels(source.key, tile, {lv: levels[lv] for lv in range(level, N_LEVELS)})
        return levels[level]

    def clear_memory(self) -> None:
        self._items.clear()

    def _put_levels(self, source_key: Hashable, tile: int, levels: dict[int, np.ndarray]) -> None:
        for lv, arr in levels.items():
            arr.setflags(write=False)
            self._items.put((source_key, tile, lv), arr)

    # -- disk ----------------------------------------------------------------------------------
    def _disk_path(self, source: TileSource, tile: int) -> Path | None:
        if not self.use_disk or source.disk_key is None:
            return None
        return cache_dir(CACHE_KIND) / source.disk_key / f"tile{tile}.npz"

    def _load(self, path: Path, level: int) -> dict[int, np.ndarray] | None:
        """The asked level and coarser ones (npz members are read lazily: a coarse view reads little)."""
        try:
            with np.load(path) as data:
                return {lv: self._dequantise(data[f"L{lv}"]) for lv in range(level, N_LEVELS)}
        except (OSError, ValueError, KeyError, EOFError) as exc:   # a damaged entry is just a miss
            log.info("discarding unreadable spectrogram tile %s: %s", path, exc)
            return None

    def _save(self, path: Path, levels: list[np.ndarray]) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(path) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, **{f"L{lv}": self._quantise(arr) for lv, arr in enumerate(levels)})
        except Exception as exc:  # noqa: BLE001 - a cache that cannot be written must not fail a view
            log.warning("could not cache spectrogram tile in %s: %s", path, exc)

    def _quantise(self, db: np.ndarray) -> np.ndarray:
        return np.clip(np.rint((db - self.floor_db) / _Q_STEP), 0, 255).astype(np.uint8)

    def _dequantise(self, q: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(q.astype(np.float32) * np.float32(_Q_STEP) + np.float32(self.floor_db))


# ---------------------------------------------------------------------------------------------
# Composition of a view
# ---------------------------------------------------------------------------------------------
@dataclass
class ViewImage:
    """Columns [first_column, first_column + db.shape[1]) of one level; NaN where nothing is cached."""

    db: np.ndarray           # float32 (F, C), C-contiguous
    level: int
    first_column: int
    missing: list[int]       # tiles whose `level` is not in memory yet (to fetch)
    stand_ins: int = 0       # of those, tiles drawn from a coarser cached level meanwhile

    @property
    def complete(self) -> bool:
        return not self.missing


def compose(store: TileStore, source_key: Hashable, n_freqs: int, level: int,
            col_lo: int, col_hi: int) -> ViewImage:
    """Stitch columns [col_lo, col_hi) of `level` from cached tiles (memory only: no I/O).

    A tile missing at `level` is drawn from a coarser cached level, columns repeated, when there
    is one (zooming in shows a blurred picture at once), else left NaN (transparent).
    """
    col_lo, col_hi = max(0, col_lo), max(col_lo, col_hi)
    per_tile = columns_per_tile(level)
    out = np.full((n_freqs, col_hi - col_lo), np.nan, np.float32)
    missing: list[int] = []
    stand_ins = 0
    for tile in range(col_lo // per_tile, -(-col_hi // per_tile)):
        t0 = tile * per_tile
        a, b = max(col_lo, t0) - t0, min(col_hi, t0 + per_tile) - t0
        cols = store.peek(source_key, tile, level)
        if cols is None:
            missing.append(tile)
            found = store.best(source_key, tile, level)
            if found is None:
                continue
            coarse_level, coarse = found
            rep = POOL ** (coarse_level - level)
            cols = np.repeat(coarse[:, a // rep:-(-b // rep)], rep, axis=1)
            a, b = a - a // rep * rep, b - a // rep * rep
            stand_ins += 1
        dst = max(col_lo, t0) - col_lo
        out[:, dst:dst + (b - a)] = cols[:, a:b]
    return ViewImage(db=out, level=level, first_column=col_lo, missing=missing, stand_ins=stand_ins)
