"""Spectrogram of the selected clip (or the selected track over the region / view) with pyqtgraph.

The STFT runs in the thread pool (`media.spectrogram.display_spectrogram`); the GUI thread only
hands the float32 row-major (freq, time) array to an `ImageItem` with explicit levels and a
256-entry lookup table, placed in seconds x Hz so the axes read true values.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from foley_studio.core.timebase import SAMPLE_RATE

from .document import ProjectDocument

log = logging.getLogger(__name__)

MAX_SECONDS = 60.0        # longer selections show their first minute (display, not analysis)
LEVELS = (-100.0, 0.0)    # dBFS mapped onto the LUT


def inferno_lut() -> np.ndarray:
    """256 x 4 uint8 RGBA lookup table ('inferno': perceptually ordered, readable on dark UI)."""
    cmap = pg.colormap.get("inferno")
    return cmap.getLookupTable(0.0, 1.0, 256, alpha=True).astype(np.ubyte)


class _Result(QObject):
    ready = Signal(int)     # request serial; the result waits in the panel's locked inbox


class _Job(QRunnable):
    def __init__(self, serial: int, audio_fn, start_s: float, title: str, signals: _Result,
                 inbox: dict[int, tuple[Any, float, str]], lock: threading.Lock):
        super().__init__()
        self.serial, self.audio_fn, self.start_s, self.title, self.signals = serial, audio_fn, start_s, title, signals
        self.inbox, self.lock = inbox, lock

    def run(self) -> None:
        try:
            from foley_studio.media.spectrogram import display_spectrogram
            spec: Any = display_spectrogram(np.asarray(self.audio_fn(), dtype=np.float32))
        except Exception as exc:   # shown in the panel's caption
            log.warning("spectrogram failed: %s", exc)
            spec = exc
        with self.lock:
            self.inbox[self.serial] = (spec, self.start_s, self.title)
        self.signals.ready.emit(self.serial)


class SpectrogramPanel(QWidget):
    """Shows the spectrogram of what is selected; recomputes only when the selection changes."""

    def __init__(self, document: ProjectDocument, sources: Any | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = document
        self.sources = sources
        self.caption = QLabel("Select a clip or a track to see its spectrogram", self)
        self.caption.setProperty("role", "hint")
        pg.setConfigOptions(antialias=False)
        self.plot = pg.PlotWidget(self, background="#17191c")
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        self._serial = 0
        self._key: tuple | None = None
        self._signals = _Result(self)
        self._signals.ready.connect(self._on_ready)
        self._inbox: dict[int, tuple[Any, float, str]] = {}
        self._inbox_lock = threading.Lock()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.last_spectrogram = None
        document.selectionChanged.connect(self.refresh)
        document.selectedTrackChanged.connect(self.refresh)
        document.changed.connect(self.refresh)

    def _source_cache(self):
        if self.sources is None:
            from foley_studio.media.mixdown import SourceCache
            self.sources = SourceCache()
        return self.sources

    def refresh(self) -> None:
        if not self.isVisible():
            self._key = None       # recompute when shown
            return
        clips = self.doc.selected_clip_objects()
        project = self.doc.project
        if not clips and self.doc.selected_track not in {t.id for t in project.tracks}:
            return
        if clips:
            clip = clips[-1]
            key = ("clip", clip.source, clip.source_in, clip.source_out, clip.gain_db, clip.fade_in, clip.fade_out)
            start, end = clip.start, min(clip.end, clip.start + int(MAX_SECONDS * SAMPLE_RATE))
            title = f"Clip: {clip.name or clip.source.rsplit('/', 1)[-1]}"
            track_ids = [project.track_of_clip(clip.id).id]
            solo_clip = clip
        elif self.doc.selected_track:
            track = project.track(self.doc.selected_track)
            start, end = self.doc.region or (0, project.duration)
            end = min(end, start + int(MAX_SECONDS * SAMPLE_RATE))
            key = ("track", track.id, start, end, self.doc.revision)
            title = f"Track: {track.name}"
            track_ids, solo_clip = [track.id], None
        else:
            return
        if key == self._key or end <= start:
            return
        self._key = key
        self._serial += 1
        sources = self._source_cache()

        def audio() -> np.ndarray:
            if solo_clip is not None:
                from foley_studio.media.mixdown import render_clip
                return render_clip(solo_clip, sources.get(solo_clip.source))[: end - start]
            from foley_studio.media.mixdown import mixdown
            return mixdown(project, start, end, track_ids=track_ids, sources=sources)

        self.caption.setText(f"{title} (computing…)")
        self.pool.start(_Job(self._serial, audio, start / SAMPLE_RATE, title, self._signals, self._inbox,
                             self._inbox_lock))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def _on_ready(self, serial: int) -> None:
        with self._inbox_lock:
            item = self._inbox.pop(serial, None)
        if item is None or serial != self._serial:
            return                      # a newer selection is on its way
        spec, start_s, title = item
        if isinstance(spec, Exception):
            self.caption.setText(f"{title}: {spec}")
            return
        self.last_spectrogram = spec
        db = np.ascontiguousarray(spec.db, dtype=np.float32)          # (F, T) row-major
        self.image.setImage(db, levels=LEVELS, autoLevels=False)
        duration = float(spec.times[-1] - spec.times[0]) if len(spec.times) > 1 else 0.0
        top = float(spec.freqs[-1]) if len(spec.freqs) else SAMPLE_RATE / 2
        self.image.setRect(QRectF(start_s + float(spec.times[0]) if len(spec.times) else start_s, 0.0,
                                  max(duration, 1e-3), top))
        self.plot.setXRange(start_s, start_s + max(duration, 1e-3), padding=0)
        self.plot.setYRange(0, top, padding=0)
        self.caption.setText(f"{title}  ·  {duration:.2f} s  ·  {LEVELS[0]:.0f}…{LEVELS[1]:.0f} dBFS")

    def wait(self, timeout_ms: int = 10000) -> bool:
        return self.pool.waitForDone(timeout_ms)
