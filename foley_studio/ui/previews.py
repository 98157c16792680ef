"""Background previews for the timeline: waveform tiles from peak pyramids and video thumbnails.

Rules (STYLE.md, "Drawing fast"; `qt_bridge` for what crosses threads): decoding happens on
`TaskRunner` workers which hand back numpy arrays or QImages; QPixmaps and QPainterPaths are built
only on the GUI thread. Waveforms are cached as tiles
of `TILE_PX` pixels on a grid of quantised zoom levels, thumbnails on a power-of-two frame grid, so
scrolling never recomputes and zooming back reuses what was drawn before.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPainterPath, QPixmap

from foley_studio.core.lru import LRUCache

from .qt_bridge import TaskRunner

log = logging.getLogger(__name__)

TILE_PX = 256
ZOOM_STEPS_PER_OCTAVE = 8


def quantise_spp(spp: float) -> float:
    """Snap a zoom (samples per pixel) to the 2^(k/8) grid all caches are keyed on."""
    k = math.floor(math.log2(max(spp, 1e-9)) * ZOOM_STEPS_PER_OCTAVE + 0.5)
    return 2.0 ** (k / ZOOM_STEPS_PER_OCTAVE)


def _envelope_path(mins: np.ndarray, maxs: np.ndarray) -> QPainterPath:
    """A closed outline (top edge = maxs left to right, bottom = mins back) in unit amplitude."""
    n = len(mins)
    path = QPainterPath()
    if n == 0:
        return path
    from pyqtgraph import functions as fn   # vectorised numpy -> QPainterPath (no per-point Python)
    xs = np.arange(n, dtype=np.float64)
    top = -np.clip(np.asarray(maxs, dtype=np.float64), -1.0, 1.0)
    bottom = -np.clip(np.asarray(mins, dtype=np.float64), -1.0, 1.0)
    # Guarantee at least a hairline where the signal is silent so the clip never looks empty.
    bottom = np.maximum(bottom, top + 0.01)
    x = np.concatenate([xs, xs[::-1] + 1.0])
    y = np.concatenate([top, bottom[::-1]])
    return fn.arrayToQPath(x, y, connect="all")


def _load_pyramid(path: str) -> Any:
    """On a worker: the peak pyramid of `path`, or the exception (drawn on the clip as unreadable)."""
    try:
        from foley_studio.media.peaks import load_peaks
        return load_peaks(path)
    except Exception as exc:     # reported on the clip, never raised in a worker
        log.warning("peaks for %s failed: %s", path, exc)
        return exc


class WaveformCache(QObject):
    """Peak pyramids per source file (loaded in the pool) and waveform tiles per zoom level."""

    updated = Signal()

    def __init__(self, parent: QObject | None = None, max_tiles: int = 6000):
        super().__init__(parent)
        self._pyramids: dict[str, Any] = {}
        self._errors: dict[str, str] = {}
        self._pending: set[str] = set()
        self._tiles: LRUCache[tuple, QPainterPath] = LRUCache(max_tiles)
        self._runner = TaskRunner(self, "peaks", latest_wins=False)

    def pyramid(self, path: str) -> Any | None:
        pyr = self._pyramids.get(path)
        if pyr is None and path not in self._errors and path not in self._pending:
            self._pending.add(path)
            self._runner.submit(lambda: _load_pyramid(path), lambda result: self._on_loaded(path, result))
        return pyr

    def set_pyramid(self, path: str, pyramid: Any) -> None:
        """Install a pyramid made elsewhere (benchmarks, tests with synthetic audio)."""
        self._pyramids[path] = pyramid
        self._errors.pop(path, None)

    def error(self, path: str) -> str | None:
        return self._errors.get(path)

    def forget(self, path: str) -> None:
        """Drop a source (after relinking) so it is loaded again."""
        self._pyramids.pop(path, None)
        self._errors.pop(path, None)
        self._tiles.discard_where(lambda key: key[0] == path)

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._runner.wait(timeout_ms / 1000)

    def shutdown(self) -> None:
        """Drop the loads not yet started and stop the worker (the window is closing)."""
        self._runner.shutdown()

    def _on_loaded(self, path: str, result: Any) -> None:
        self._pending.discard(path)
        if isinstance(result, Exception):
            self._errors[path] = str(result)
        else:
            self._pyramids[path] = result
        self.updated.emit()

    def tile(self, path: str, spp: float, index: int) -> QPainterPath | None:
        """The envelope of source samples [index*TILE_PX*spp, (index+1)*TILE_PX*spp) in unit amplitude."""
        key = (path, spp, index)
        tile = self._tiles.get(key)
        if tile is not None:
            return tile
        pyr = self._pyramids.get(path)
        if pyr is None:
            return None
        start = int(round(index * TILE_PX * spp))
        end = int(round((index + 1) * TILE_PX * spp))
        mins, maxs = pyr.query(start, end, TILE_PX)
        tile = _envelope_path(np.asarray(mins), np.asarray(maxs))
        self._tiles.put(key, tile)
        return tile


# -- thumbnails ------------------------------------------------------------------------------------
def frame_grid_step(frame_seconds: float, thumb_width_px: float, samples_per_pixel: float,
                    sample_rate: int) -> int:
    """Frames between thumbnails: the largest power of two whose spacing is at most one thumbnail
    wide, so the strip is contiguous (each tile shows the centre of its frame's picture).

    Powers of two nest, so every thumbnail of a coarser zoom is also on the finer grid: zooming in
    reuses all decoded frames and only fills the gaps.
    """
    frame_px = frame_seconds * sample_rate / samples_per_pixel
    step = 1
    while (step << 1) * frame_px <= thumb_width_px and step < 1 << 24:
        step <<= 1
    return step


class VideoDecoder:
    """One VideoReader used on one `TaskRunner` worker (latest request wins); subclasses decode.

    Results go to `decoded(path, frame, QImage)`, errors to `failed(path, message)`, both on the
    receiver's thread.
    """

    def __init__(self, receiver: QObject, name: str, decoded: Callable[[str, int, QImage], None],
                 failed: Callable[[str, str], None]):
        self._runner = TaskRunner(receiver, name)
        self._decoded, self._failed = decoded, failed
        self._reader: Any = None
        self._reader_path: str | None = None

    def _reader_for(self, path: str, **options: Any) -> Any:
        if self._reader_path != path:
            self._close()
            from foley_studio.media.video import VideoReader
            self._reader, self._reader_path = VideoReader(path, **options), path
        return self._reader

    def _fail(self, path: str, exc: Exception) -> None:
        self._close()
        self._runner.post(self._failed, path, str(exc))

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._reader, self._reader_path = None, None

    def stop(self) -> None:
        self._runner.shutdown()                  # waits (up to 5 s) for the frame being decoded
        if self._runner.idle:                    # never close a reader a worker still decodes with
            self._close()


class ThumbnailDecoder(VideoDecoder):
    """Decodes requested thumbnail frames; a running request stops at its next frame once a newer
    one waits (scrubbing and zooming post requests far faster than frames decode)."""

    def __init__(self, receiver: QObject, decoded: Callable[[str, int, QImage], None],
                 failed: Callable[[str, str], None]):
        super().__init__(receiver, "thumbnails", decoded, failed)
        # Import the decoder stack now, while the window is still starting, not on the first request.
        self._runner.submit(lambda: __import__("foley_studio.media.video"))

    def submit(self, path: str, fps: float, height: int, frames: list[int], tolerance: float = 0.0) -> None:
        """Decode `frames`; with `tolerance` seconds, a keyframe that close stands in for the exact frame."""
        self._runner.submit(lambda: self._decode(path, fps, height, frames, tolerance))

    def _decode(self, path: str, fps: float, height: int, frames: list[int], tolerance: float) -> None:
        try:
            # No frame threading: thumbnails are seeks + one or two frames each, and a threaded
            # decoder must refill its pipeline after every seek (~3x slower here).
            reader = self._reader_for(path, threads=False)
            wanted = _decode_times(frames, fps, tolerance, reader.keyframe_times() if tolerance else [])
            for t, rgb in reader.iter_thumbnails(list(wanted), height):
                image = _to_qimage(rgb)
                for frame in wanted.get(t, [int(math.floor(t * fps))]):
                    self._runner.post(self._decoded, path, frame, image)
                if self._runner.superseded():
                    break
        except Exception as exc:   # shown once in the status bar; the lane stays drawable
            log.warning("thumbnails for %s failed: %s", path, exc)
            self._fail(path, exc)


def _decode_times(frames: list[int], fps: float, tolerance: float, keyframes: list[float]) -> dict[float, list[int]]:
    """Decode time -> grid frames it stands for.

    Zoomed out, one thumbnail covers many frames, so a keyframe within `tolerance` of the frame is
    as truthful and far cheaper: it decodes alone, while an exact frame may need a whole GOP first.
    """
    import bisect
    out: dict[float, list[int]] = {}
    for frame in frames:
        t = (frame + 0.5) / fps                  # mid-frame: robust to timestamp rounding
        if keyframes:
            i = bisect.bisect_right(keyframes, t)
            near = [k for k in keyframes[max(0, i - 1):i + 1] if abs(k - t) <= tolerance]
            if near:
                t = min(near, key=lambda k: abs(k - t)) + 0.25 / fps
        out.setdefault(t, []).append(frame)
    return out


def _to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    # copy(): the QImage must own its pixels once the numpy buffer goes away.
    return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class ThumbnailCache(QObject):
    """Thumbnails of the project video keyed by frame; requests go to one background worker."""

    updated = Signal()
    failed = Signal(str)

    def __init__(self, height: int = 54, parent: QObject | None = None, max_items: int = 3000):
        super().__init__(parent)
        self.height = height
        self._path: str | None = None
        self._fps = 25.0
        self._pixmaps: LRUCache[int, QPixmap] = LRUCache(max_items)
        self._requested: set[int] = set()
        self._worker = ThumbnailDecoder(self, self._on_decoded, self._on_failed)
        self.first_image_ready_at: float | None = None   # perf_counter of the first decoded frame (benchmarks)

    def set_video(self, path: str | None, fps: float) -> None:
        if path != self._path:
            self._path, self._fps = path, fps
            self._pixmaps.clear()
            self._requested.clear()
            # Frame 0 is on screen in nearly every first view: start decoding it while the window
            # is still being laid out, instead of after the first paint asks for it.
            self.request([0])

    def get(self, frame: int) -> QPixmap | None:
        return self._pixmaps.get(frame)

    def nearest(self, frame: int, step: int) -> QPixmap | None:
        """A cached thumbnail close to `frame` (within a grid step) to show while the exact one decodes."""
        for coarser in (step * 2, step * 4, step * 8):
            pm = self._pixmaps.peek(frame - frame % coarser)
            if pm is not None:
                return pm
        return None

    def request(self, frames: list[int], step: int = 1) -> None:
        """Decode these grid frames (one thumbnail every `step` frames) in the given order."""
        if not self._path:
            return
        missing = [f for f in frames if f not in self._pixmaps]
        if missing and not set(missing) <= self._requested:
            # A new request replaces the queued one: frames no longer visible are not decoded.
            self._requested = set(missing)
            tolerance = 0.5 * step / self._fps if step > 1 else 0.0
            self._worker.submit(self._path, self._fps, self.height, missing, tolerance)

    def _on_decoded(self, path: str, frame: int, image: QImage) -> None:
        if path != self._path:
            return
        if self.first_image_ready_at is None:
            import time
            self.first_image_ready_at = time.perf_counter()
        self._pixmaps.put(frame, QPixmap.fromImage(image))      # GUI thread only
        self._requested.discard(frame)
        self.updated.emit()

    def _on_failed(self, path: str, message: str) -> None:
        self._requested.clear()
        self.failed.emit(f"Video thumbnails unavailable for {path}: {message}")

    def shutdown(self) -> None:
        self._worker.stop()
