"""Spectrogram of the selected clip (or the selected track over the region / whole project), any length.

Level of detail (see `media.spectrogram`): the STFT is cut into tiles of 2048 frames (10.9 s),
each computed once and max-pooled over time into coarser levels, cached in memory (bounded LRU)
and, for files, on disk. The GUI thread only *composes*: it picks the level whose columns match
the plot's pixels, stitches the cached tiles covering the visible range plus a margin
(`compose`, memory only, a few ms) and hands the float32 row-major (freq, time) image to one
`ImageItem` with fixed levels and a 256-entry LUT, placed in seconds x Hz so the axes read true
values. Missing tiles are fetched or computed by one worker in `pool`, nearest the centre of the
view first; each appears as soon as it lands (until then a coarser cached level stands in, or
the area stays transparent). Wheel/drag zoom and pan time only. "Log frequency" (remembered in the
editor's settings) redraws the same columns on a log-frequency axis (`media.spectrogram.to_log_frequency`).

A clip is shown from its *source file's* tiles: gain and fades are dB offsets applied while
composing (changing them recolours without recomputing) and a trim re-crops the same tiles. Frames
at a clip's edges may hear up to half a window (10 ms) of the source beyond the trim.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from foley_studio.core.project import Clip, Track
from foley_studio.media.spectrogram import (
    FLOOR_DB, LOG_MIN_HZ, Spectrogram, TileSource, TileStore, choose_level, columns_per_tile, compose, fft_freqs,
    file_tile_source, frames_per_column, log_frequency_edges, max_pool_columns, pool_factor, to_log_frequency,
)
from foley_studio.session.views import track_tile_source

from .document import ProjectDocument
from .qt_bridge import TaskRunner
from .settings import editor_settings
from .widgets import ElidedLabel

log = logging.getLogger(__name__)

LEVELS = (-100.0, 0.0)    # dBFS mapped onto the LUT
MARGIN = 0.25             # composed beyond each side of the view, in view widths: small pans redraw nothing
COALESCE_MS = 30          # tiles landing within this are drawn in one composition
LOG_SETTING = "spectrogram/log_frequency"


class FrequencyAxis(pg.AxisItem):
    """Hz as people write it (500, 2k, 12.5k), on a linear axis or on a log one (values are log10 Hz)."""

    def tickStrings(self, values, scale, spacing):
        if self.logMode:
            return self.logTickStrings(values, scale, spacing)
        return [_hz(v * scale) for v in values]

    def logTickStrings(self, values, scale, spacing):
        return [_hz(10.0 ** v * scale) for v in values]


def _hz(hz: float) -> str:
    return f"{hz / 1000:g}k" if abs(hz) >= 1000 else f"{hz:g}"


def inferno_lut() -> np.ndarray:
    """256 x 4 uint8 RGBA lookup table ('inferno': perceptually ordered, readable on dark UI)."""
    cmap = pg.colormap.get("inferno")
    return cmap.getLookupTable(0.0, 1.0, 256, alpha=True).astype(np.ubyte)


# ---------------------------------------------------------------------------------------------
# What is shown
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Fades:
    """A clip's envelope on its source: offset o = source sample - source_in, 0 <= o < length."""

    source_in: int
    length: int
    fade_in: int
    fade_out: int


@dataclass
class _View:
    """A source's frames [f_lo, f_hi) placed on the timeline: frame f is centred on sample f*hop + offset."""

    source: TileSource
    title: str
    key: tuple
    f_lo: int
    f_hi: int
    offset: int
    start: int                  # timeline samples of the content, for the axis limits
    end: int
    gain_db: float = 0.0
    fades: _Fades | None = None

    @property
    def range_key(self) -> tuple:
        return self.source.key, self.f_lo, self.f_hi, self.offset


@dataclass
class _Composed:
    level: int
    pool: int                   # level columns max-pooled into one image column
    frame_lo: int               # frames covered by the image
    frame_hi: int
    complete: bool


def _fade_gain(offsets: np.ndarray, f: _Fades) -> np.ndarray:
    """Equal-power clip envelope at source offsets (the curves of `media.mixdown.fade_envelope`)."""
    o = offsets.astype(np.float64)
    g = ((o >= 0) & (o < f.length)).astype(np.float64)
    if f.fade_in:
        rising = (o >= 0) & (o < f.fade_in)
        g[rising] *= np.sin(0.5 * np.pi * o[rising] / f.fade_in)
    if f.fade_out:
        j0 = f.length - f.fade_out
        falling = (o >= j0) & (o < f.length)
        g[falling] *= np.cos(0.5 * np.pi * (o[falling] - j0) / f.fade_out)
    return g


def column_gain_db(view: _View, m: int, c_lo: int, c_hi: int) -> np.ndarray | None:
    """dB to add to columns [c_lo, c_hi) of `m` frames each for the clip's gain and fades (None: nothing).

    Columns are max-pooled, so each gets the envelope's maximum over its span: the fades are
    monotone, so that is at an edge, the centre, or 1 where the column meets the unfaded middle.
    """
    if view.fades is None or not (view.fades.fade_in or view.fades.fade_out):
        return None if view.gain_db == 0.0 else np.full(c_hi - c_lo, view.gain_db, np.float32)
    f, hop = view.fades, view.source.hop
    edges = (np.arange(c_lo, c_hi + 1) * m - 0.5) * hop - f.source_in     # source offsets of column edges
    left, right = edges[:-1], edges[1:]
    env = np.maximum.reduce([_fade_gain(left, f), _fade_gain(right, f), _fade_gain(0.5 * (left + right), f)])
    flat_a, flat_b = f.fade_in, f.length - f.fade_out
    if flat_b > flat_a:
        env[(right >= flat_a) & (left < flat_b)] = 1.0
    return (view.gain_db + 20.0 * np.log10(np.maximum(env, 1e-6))).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# The worker
# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
# The panel
# ---------------------------------------------------------------------------------------------
class SpectrogramPanel(QWidget):
    """Shows the spectrogram of what is selected, at the plot's zoom, composed from cached tiles."""

    def __init__(self, document: ProjectDocument, sources: Any | None = None, parent: QWidget | None = None,
                 *, store: TileStore | None = None):
        super().__init__(parent)
        self.doc = document
        self.sources = sources
        self.store = store if store is not None else TileStore()
        self.caption = ElidedLabel("Select a clip or a track to see its spectrogram", self)
        self.caption.setProperty("role", "hint")
        self.log_action = QAction("Log frequency", self, checkable=True)
        self.log_action.setToolTip("Show the frequency axis in octaves (log) instead of linear Hz")
        self.log_action.setChecked(bool(editor_settings().value(LOG_SETTING, False, type=bool)))
        self.log_action.toggled.connect(self.set_log_frequency)
        self.log_button = QToolButton(self)
        self.log_button.setDefaultAction(self.log_action)
        pg.setConfigOptions(antialias=False)
        self.plot = pg.PlotWidget(self, background="#17191c", axisItems={"left": FrequencyAxis("left")})
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "Hz")
        self.plot.setLabel("bottom", "s")
        self.plot.getPlotItem().hideButtons()
        for axis in ("left", "bottom"):
            ax = self.plot.getAxis(axis)
            ax.setTextPen(pg.mkPen("#c5cad3"))
            ax.setPen(pg.mkPen("#5a606b"))
            ax.enableAutoSIPrefix(False)      # seconds and Hz as they are, never "x0.001"
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(inferno_lut())
        self.plot.addItem(self.image)
        self.viewbox = self.plot.getViewBox()
        self.viewbox.setMouseEnabled(x=True, y=False)    # zoom and pan time; frequency stays whole
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        header = QHBoxLayout()
        header.addWidget(self.caption, 1)
        header.addWidget(self.log_button)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)
        self.plot.getAxis("left").setLogMode(self.log_frequency)
        self._key: tuple | None = None
        self._view: _View | None = None
        self._composed: _Composed | None = None
        self._tiles = TaskRunner(self, "spectrogram-tiles")     # the newest view's tiles win
        self._tile_errors: dict[tuple[Hashable, int], str] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._compose)
        self._framing = False                 # True while a new selection sets the axes: no composing yet
        self.viewbox.sigXRangeChanged.connect(lambda *_: self._compose())
        self.viewbox.sigResized.connect(lambda *_: self._compose())
        self.last_spectrogram: Spectrogram | None = None
        self.compositions = 0                 # how often an image was composed (tests, benchmarks)
        document.selectionChanged.connect(self.refresh)
        document.selectedTrackChanged.connect(self.refresh)
        document.changed.connect(self.refresh)

    @property
    def log_frequency(self) -> bool:
        return self.log_action.isChecked()

    def set_log_frequency(self, on: bool) -> None:
        """Linear or log frequency axis (remembered); the cached columns are redrawn, nothing recomputed."""
        if self.log_action.isChecked() != bool(on):
            self.log_action.setChecked(bool(on))       # toggled comes back here
            return
        editor_settings().setValue(LOG_SETTING, bool(on))
        self.plot.getAxis("left").setLogMode(bool(on))
        self._composed = None
        if self._view is not None:
            self._frame_content(self._view)
        self._compose()

    def _frequency_range(self, sr: int) -> tuple[float, float]:
        """The y axis in plot units: Hz, or log10 Hz from LOG_MIN_HZ on a log axis."""
        if self.log_frequency:
            return math.log10(LOG_MIN_HZ), math.log10(sr / 2)
        return 0.0, sr / 2

    def _source_cache(self):
        if self.sources is None:
            from foley_studio.media.mixdown import SourceCache
            self.sources = SourceCache()
        return self.sources

    # -- selection -> view ---------------------------------------------------------------------------
    def refresh(self) -> None:
        if not self.isVisible():
            self._key = None       # recompose when shown
            return
        try:
            view = self._view_of_selection()
        except Exception as exc:   # a missing/unreadable source: say so where the picture would be
            log.warning("spectrogram unavailable: %s", exc)
            self._key, self._view, self._composed, self.last_spectrogram = None, None, None, None
            self._tiles.clear()              # the previous selection's tiles are no longer wanted
            self.image.clear()
            self.caption.setText(f"Spectrogram unavailable: {exc}")
            return
        if view is None or view.key == self._key:
            return
        new_range = self._view is None or view.range_key != self._view.range_key
        self._key, self._view, self._composed = view.key, view, None
        self.caption.setText(f"{view.title} (computing…)")
        if new_range:
            self._frame_content(view)      # whole content in view (a new selection, not a recolour)
        self._compose()

    def _view_of_selection(self) -> _View | None:
        project = self.doc.project
        clips = self.doc.selected_clip_objects()
        if clips:
            return self._clip_view(clips[-1])
        if self.doc.selected_track in {t.id for t in project.tracks}:
            track = project.track(self.doc.selected_track)
            start, end = self.doc.region or (0, project.duration)
            return self._track_view(track, start, end) if end > start else None
        return None

    def _clip_view(self, clip: Clip) -> _View:
        source = file_tile_source(clip.source)
        hop = source.hop
        f_lo = -(-clip.source_in // hop)                          # frames centred inside the clip
        f_hi = max(f_lo + 1, -(-clip.source_out // hop))
        fades = _Fades(clip.source_in, clip.length, clip.fade_in, clip.fade_out)
        key = ("clip", source.key, clip.start, clip.source_in, clip.source_out, clip.gain_db,
               clip.fade_in, clip.fade_out)
        title = f"Clip: {clip.name or clip.source.rsplit('/', 1)[-1]}"
        return _View(source, title, key, f_lo, f_hi, clip.start - clip.source_in, clip.start, clip.end,
                     gain_db=clip.gain_db, fades=fades)

    def _track_view(self, track: Track, start: int, end: int) -> _View:
        source = track_tile_source(track, self._source_cache())
        content = source.key[1]
        f_lo, f_hi = -(-start // source.hop), max(-(-start // source.hop) + 1, -(-end // source.hop))
        return _View(source, f"Track: {track.name}", ("track", content, start, end), f_lo, f_hi, 0, start, end)

    def _frame_content(self, view: _View) -> None:
        sr = view.source.sr
        a, b = view.start / sr, max(view.end, view.start + 1) / sr
        low, high = self._frequency_range(sr)
        # The limits and range emit range changes on the way; composing for those in-between
        # ranges would queue tiles of a view nobody asked for.
        self._framing = True
        try:
            self.viewbox.setLimits(xMin=a, xMax=b, yMin=low, yMax=high, minXRange=min(b - a, 0.02))
            self.viewbox.setRange(xRange=(a, b), yRange=(low, high), padding=0)
        finally:
            self._framing = False

    # -- composition (GUI thread, memory only) -----------------------------------------------------
    def _visible_frames(self, view: _View) -> tuple[float, float]:
        (x0, x1), _ = self.viewbox.viewRange()
        sr, hop = view.source.sr, view.source.hop
        fa = max(float(view.f_lo), (x0 * sr - view.offset) / hop)
        fb = min(float(view.f_hi), (x1 * sr - view.offset) / hop)
        return (fa, fb) if fb > fa else (float(view.f_lo), float(view.f_hi))

    def _fetch(self, source: TileSource, tiles: list[int], level: int) -> None:
        """On the worker: fetch or compute the wanted tiles, middle first, until a newer view wants others."""
        for tile in tiles:
            if self._tiles.superseded():
                return
            try:
                self.store.fetch(source, tile, level)
            except Exception as exc:   # shown in the caption; the tile is not asked for again
                log.warning("spectrogram tile %d of %s failed: %s", tile, source.key, exc)
                self._tiles.post(self._tile_failed, source.key, tile, str(exc))
            self._tiles.post(self._on_landed)

    def _tile_failed(self, key: Hashable, tile: int, message: str) -> None:
        self._tile_errors[(key, tile)] = message

    def _on_landed(self) -> None:
        # Throttle, not debounce: tiles landing every 25 ms must not keep postponing the picture.
        if not self._timer.isActive():
            self._timer.start()

    def _compose(self) -> None:
        view = self._view
        if view is None or self._framing or not self.isVisible():
            return
        fa, fb = self._visible_frames(view)
        pixels = int(self.viewbox.width()) or 600
        level = choose_level(fb - fa, pixels)
        k = pool_factor(fb - fa, pixels, level)
        done = self._composed
        if (done is not None and done.complete and (done.level, done.pool) == (level, k)
                and done.frame_lo <= fa and fb <= done.frame_hi):
            return                          # the image on screen already covers this view
        # Screen columns ("groups") of k level columns, on a grid fixed in time so panning does
        # not change which frames pool together.
        m = frames_per_column(level)
        eff = m * k
        margin = MARGIN * (fb - fa)
        g_lo = max(int((fa - margin) // eff), view.f_lo // eff)
        g_hi = min(math.ceil((fb + margin) / eff), -(-view.f_hi // eff))
        c_lo, c_hi = g_lo * k, min(g_hi * k, -(-view.f_hi // m))
        composed = compose(self.store, view.source.key, view.source.n_freqs, level, c_lo, c_hi)
        db = max_pool_columns(composed.db, k)
        gain = column_gain_db(view, eff, g_lo, g_lo + db.shape[1])
        if gain is not None:
            db += gain[None, :]
            np.maximum(db, np.float32(FLOOR_DB), out=db)         # NaN (not yet computed) stays NaN
        self._show(view, db, eff, g_lo, c_hi * m)
        failed = {tile: msg for (key, tile), msg in self._tile_errors.items() if key == view.source.key}
        wanted = [t for t in composed.missing if t not in failed]
        centre_tile = 0.5 * (fa + fb) / (columns_per_tile(0))
        wanted.sort(key=lambda t: abs(t + 0.5 - centre_tile))     # the middle of the view first
        if wanted:
            source = view.source
            self._tiles.submit(lambda: self._fetch(source, wanted, level))
        else:
            self._tiles.clear()
        self._composed = _Composed(level, k, c_lo * m, c_hi * m, not wanted)   # failed tiles: not waited for
        self._caption(view, composed.missing, failed, c_lo, c_hi, level, eff)

    def _show(self, view: _View, db: np.ndarray, m: int, c_lo: int, frame_end: int) -> None:
        """Place columns c_lo.. of `m` frames each (the last may stop short, at `frame_end`)."""
        sr, hop = view.source.sr, view.source.hop
        # Column c covers frames [c*m, (c+1)*m), centred on their hops: its left edge is half a hop early.
        x0 = ((c_lo * m - 0.5) * hop + view.offset) / sr
        x1 = ((min((c_lo + db.shape[1]) * m, frame_end) - 0.5) * hop + view.offset) / sr
        if self.log_frequency:
            db = to_log_frequency(db, sr, view.source.n_fft)
            edges = log_frequency_edges(sr)
            y0, y1 = math.log10(edges[0]), math.log10(edges[-1])      # rows are even steps of log10 Hz
            freqs = np.sqrt(edges[:-1] * edges[1:]).astype(np.float32)
        else:
            df = sr / view.source.n_fft
            y0, y1 = -0.5 * df, (db.shape[0] - 0.5) * df
            freqs = fft_freqs(view.source.n_fft, sr)
        self.image.setImage(db, levels=LEVELS, autoLevels=False)
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        times = (((np.arange(db.shape[1]) + c_lo + 0.5) * m - 0.5) * hop + view.offset) / sr
        self.last_spectrogram = Spectrogram(db=db, freqs=freqs, times=times)
        self.compositions += 1

    def _caption(self, view: _View, missing: list[int], failed: dict[int, str], c_lo: int, c_hi: int,
                 level: int, frames_per_screen_column: int) -> None:
        per = columns_per_tile(level)
        n_tiles = -(-c_hi // per) - c_lo // per
        visible_failed = [msg for t, msg in failed.items() if c_lo // per <= t < -(-c_hi // per)]
        if visible_failed:
            self.caption.setText(f"{view.title}: {visible_failed[0]}")
        elif missing:
            self.caption.setText(f"{view.title} (computing… {n_tiles - len(missing)}/{n_tiles} tiles)")
        else:
            seconds = (view.end - view.start) / view.source.sr
            zoom = ("full resolution" if frames_per_screen_column == 1
                    else f"max of {frames_per_screen_column} frames per column")
            self.caption.setText(f"{view.title}  ·  {seconds:.2f} s  ·  {zoom}  ·  "
                                 f"{LEVELS[0]:.0f}…{LEVELS[1]:.0f} dBFS")

    # -- visibility and lifetime ---------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._tiles.clear()                  # nobody is looking: stop computing
        self._key, self._composed = None, None

    def recompose(self) -> None:
        """Compose the current view again from the cache (benchmarks; normally changes trigger it)."""
        self._composed = None
        self._compose()

    @property
    def busy(self) -> bool:
        """True while tiles of the current view are still being fetched or computed."""
        return self._composed is not None and not self._composed.complete

    def wait(self, timeout_ms: int = 10000) -> bool:
        return self._tiles.wait(timeout_ms / 1000)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Drop the tiles still wanted and stop the worker (the window is closing)."""
        self._tiles.shutdown(timeout_ms / 1000)
