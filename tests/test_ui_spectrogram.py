"""The level-of-detail spectrogram panel over long material (pytest-qt, offscreen).

A 3-minute file with a 50 ms 3 kHz burst at 150 s: the whole file shows, the burst sits at the
right second and frequency at full view (max-pooled columns) and zoomed in (full resolution);
tiles appear progressively while the worker is held; a second view reuses the tile cache; gain
recolours without recomputing; a track view spans past the old 60 s cap.
"""
from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest

from foley_studio.core.edits import SetClipFades, SetClipGain
from foley_studio.core.project import Clip, Project, Track
from foley_studio.media.spectrogram import TileStore
from foley_studio.ui.document import ProjectDocument
from foley_studio.ui.spectrogram_panel import MARGIN, SpectrogramPanel
from tests.media_fixtures import make_tone, tone

pytestmark = pytest.mark.gui
log = logging.getLogger(__name__)

SR = 48_000
BURST_AT, BURST_HZ, LONG_S = 150.0, 3000.0, 180.0


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    """3 min of quiet noise with one 50 ms burst of 3 kHz (amplitude 0.5 = -6 dBFS) at 150 s."""
    rng = np.random.default_rng(7)
    x = (1e-4 * rng.standard_normal(int(LONG_S * SR))).astype(np.float32)
    a = int(BURST_AT * SR)
    x[a:a + SR // 20] += tone(0.05, SR, BURST_HZ, amplitude=0.5)
    return make_tone(tmp_path_factory.mktemp("long") / "reel.wav", data=x, subtype="PCM_16")


@pytest.fixture
def make_panel(qtbot, long_wav, tmp_path):
    panels = []

    def make(store: TileStore | None = None, clip_start: int = 0) -> SpectrogramPanel:
        short = make_tone(tmp_path / "short.wav", 1.0, freq=440.0)
        n = int(LONG_S * SR)
        project = Project(tracks=[
            Track(id="t1", name="Production", clips=[
                Clip(id="long", source=str(long_wav), start=clip_start, source_in=0, source_out=n, name="reel"),
                Clip(id="short", source=str(short), start=clip_start + n, source_in=0, source_out=SR, name="beep"),
            ])])
        doc = ProjectDocument(project)
        panel = SpectrogramPanel(doc, store=store if store is not None else TileStore())
        qtbot.addWidget(panel)
        panel.resize(900, 360)
        panel.show()
        qtbot.waitExposed(panel)
        panels.append(panel)
        return panel
    yield make
    for panel in panels:
        panel.shutdown(10000)


def _settled(qtbot, panel: SpectrogramPanel, timeout: int = 30000) -> None:
    qtbot.waitUntil(lambda: not panel.busy and "computing" not in panel.caption.text(), timeout=timeout)


def _long_clip_settled(qtbot, make_panel) -> SpectrogramPanel:
    """A new panel showing the 3-minute clip, every tile of the view computed."""
    panel = make_panel()
    _settled(qtbot, panel)          # the first view (whatever is selected at start) may still be computing:
    panel.store.computed = 0        # let it finish, then count only this view's tiles
    panel.doc.select_clips(["long"])
    _settled(qtbot, panel)
    return panel


def _column_at(panel: SpectrogramPanel, seconds: float) -> int:
    """The image column drawn at `seconds` on the plot's time axis (from the item's placement)."""
    rect = panel.image.mapRectToParent(panel.image.boundingRect())     # view coordinates: s x Hz
    n = panel.image.image.shape[1]
    return int((seconds - rect.left()) / rect.width() * n)


def _row_at(panel: SpectrogramPanel, hz: float) -> int:
    rect = panel.image.mapRectToParent(panel.image.boundingRect())
    return int((hz - rect.top()) / rect.height() * panel.image.image.shape[0])


def test_whole_long_file_shows_the_burst_at_its_time_and_frequency(qtbot, make_panel):
    panel = _long_clip_settled(qtbot, make_panel)
    (x0, x1), _ = panel.viewbox.viewRange()
    assert (x0, x1) == (pytest.approx(0.0), pytest.approx(LONG_S))           # no 60 s cap
    img = panel.image.image
    assert img.dtype == np.float32 and img.flags.c_contiguous and img.shape[0] == 513
    assert not np.isnan(img).any()
    # Level of detail: at most a column per pixel (a scaled image would drop columns, and with
    # them transients), not 33 750 frames.
    assert img.shape[1] <= (1 + 2 * MARGIN) * panel.viewbox.width() + 2
    assert "max of" in panel.caption.text()
    col = _column_at(panel, BURST_AT + 0.025)
    row = int(np.argmax(img[:, col]))
    assert abs(panel.last_spectrogram.freqs[row] - BURST_HZ) < 60
    assert abs(row - _row_at(panel, BURST_HZ)) <= 1                          # the Hz axis agrees
    # Max-pooled: the 50 ms burst keeps its level in a column spanning ~0.3 s (-6 dBFS).
    assert img[row, col] > -10
    assert img[row, _column_at(panel, 100.0)] < -60 and img[row, _column_at(panel, 149.0)] < -60
    assert abs(panel.last_spectrogram.times[col] - BURST_AT) < 0.5


def test_zoomed_in_is_full_resolution_and_still_aligned(qtbot, make_panel):
    panel = _long_clip_settled(qtbot, make_panel)
    computed = panel.store.computed
    panel.viewbox.setXRange(BURST_AT - 0.5, BURST_AT + 0.5, padding=0)
    _settled(qtbot, panel)
    img = panel.image.image
    assert "full resolution" in panel.caption.text()
    assert img.shape[1] < 400                         # ~1.5 s of 5.3 ms frames, not whole tiles
    assert panel.store.computed == computed           # full-resolution levels came from the disk cache
    col = _column_at(panel, BURST_AT + 0.025)
    row = _row_at(panel, BURST_HZ)
    assert img[row, col] > -10
    assert img[row, _column_at(panel, BURST_AT - 0.1)] < -60                 # sharp in time now
    assert img[row, _column_at(panel, BURST_AT + 0.15)] < -60


def test_tiles_appear_progressively_and_the_gui_never_waits(qtbot, make_panel):
    gate = threading.Event()

    class HeldStore(TileStore):
        """Once armed, lets two more tiles through, then holds the worker until the test opens the gate."""
        armed_at: int | None = None

        def fetch(self, source, tile, level):
            if self.armed_at is not None and self.computed >= self.armed_at + 2:
                gate.wait(30)
            return super().fetch(source, tile, level)
    panel = make_panel(HeldStore(use_disk=False))
    _settled(qtbot, panel)                               # the first view's tiles are not the ones under test
    panel.store.armed_at = panel.store.computed
    try:
        t0 = time.perf_counter()
        panel.doc.select_clips(["long"])                 # refresh + first composition
        refresh_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        panel.plot.grab()                                # a full paint of the plot
        paint_ms = (time.perf_counter() - t0) * 1000
        log.info("refresh %.1f ms, paint %.1f ms while tiles compute", refresh_ms, paint_ms)   # measured, not asserted
        assert panel.busy and "computing" in panel.caption.text()
        qtbot.waitUntil(lambda: "computing… 2/" in panel.caption.text(), timeout=20000)
        img = panel.image.image
        shown = ~np.isnan(img).all(axis=0)
        assert 0 < shown.sum() < img.shape[1]            # two tiles drawn, the rest transparent
        centre = _column_at(panel, LONG_S / 2)
        assert shown[centre]                             # the middle of the view was computed first
        # The GUI thread is free: the view still zooms while the worker is held.
        panel.viewbox.setXRange(10.0, 20.0, padding=0)
        assert panel.busy
    finally:
        gate.set()
    _settled(qtbot, panel)
    assert not np.isnan(panel.image.image).any()


def test_second_view_reuses_the_tile_cache(qtbot, make_panel):
    panel = _long_clip_settled(qtbot, make_panel)
    first = panel.image.image.copy()
    computed = panel.store.computed
    assert computed == 17                             # ceil(180 s / 10.92 s) tiles, each once
    panel.doc.select_clips(["short"])
    _settled(qtbot, panel)
    assert panel.caption.text().startswith("Clip: beep")
    panel.doc.select_clips(["long"])
    assert not panel.busy                             # composed from memory at once, nothing queued
    assert panel.store.computed == computed + 1       # only the short clip's one tile was new
    np.testing.assert_array_equal(panel.image.image, first)
    # Gain is a dB offset on the same tiles: recoloured, not recomputed.
    panel.doc.apply(SetClipGain("long", -12.0))
    assert not panel.busy and panel.store.computed == computed + 1
    col, row = _column_at(panel, BURST_AT + 0.025), _row_at(panel, BURST_HZ)
    assert panel.image.image[row, col] == pytest.approx(first[row, col] - 12.0, abs=0.01)


def test_track_view_spans_the_whole_project(qtbot, make_panel):
    panel = make_panel(clip_start=10 * SR)
    panel.doc.select_clips([])
    panel.doc.select_track("t1")
    panel._key = None
    panel.refresh()
    _settled(qtbot, panel)
    assert panel.caption.text().startswith("Track: Production")
    (x0, x1), _ = panel.viewbox.viewRange()
    assert x1 == pytest.approx(10.0 + LONG_S + 1.0)
    col, row = _column_at(panel, 10.0 + BURST_AT + 0.025), _row_at(panel, BURST_HZ)
    assert panel.image.image[row, col] > -10
    assert panel.image.image[row, _column_at(panel, 10.0 + 100.0)] < -60


def test_fades_attenuate_their_columns_only(qtbot, make_panel):
    panel = _long_clip_settled(qtbot, make_panel)
    before = panel.image.image.copy()
    computed = panel.store.computed
    panel.doc.apply(SetClipFades("long", fade_in=20 * SR))
    assert not panel.busy and panel.store.computed == computed
    after = panel.image.image
    row = _row_at(panel, 5000.0)                     # a quiet band: only the envelope changes it
    col = _column_at(panel, 2.0)
    rect = panel.image.mapRectToParent(panel.image.boundingRect())
    right_edge_s = rect.left() + (col + 1) * rect.width() / after.shape[1]
    expected = 20 * np.log10(np.sin(0.5 * np.pi * right_edge_s / 20.0))   # the column's loudest point
    assert after[row, col] - before[row, col] == pytest.approx(expected, abs=0.3)
    later = _column_at(panel, 60.0)
    np.testing.assert_array_equal(after[:, later], before[:, later])         # past the fade: untouched


def test_missing_source_is_named_in_the_caption(qtbot, make_panel, tmp_path):
    panel = make_panel()
    clip = panel.doc.project.tracks[0].clips[1]
    clip.source = str(tmp_path / "gone.wav")
    panel.doc.select_clips(["short"])
    assert "gone.wav" in panel.caption.text()
    assert not panel.busy


def test_unreadable_source_fails_in_the_worker_and_says_so(qtbot, make_panel, tmp_path):
    panel = make_panel()
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF" + b"\0" * 64)             # exists (so the view opens) but cannot decode
    panel.doc.project.tracks[0].clips[1].source = str(bad)
    panel.doc.select_clips(["short"])
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)
    assert panel.caption.text().startswith("Clip: beep: ") and "bad.wav" in panel.caption.text()


def test_log_frequency_is_a_click_redraws_from_the_cache_and_is_remembered(qtbot, make_panel):
    import math

    from PySide6.QtCore import Qt

    from foley_studio.media.spectrogram import LOG_MIN_HZ, LOG_ROWS
    panel = _long_clip_settled(qtbot, make_panel)
    computed = panel.store.computed
    assert not panel.log_frequency
    qtbot.mouseClick(panel.log_button, Qt.LeftButton)
    _settled(qtbot, panel)
    assert panel.log_frequency and panel.store.computed == computed          # redrawn, not recomputed
    img = panel.image.image
    assert img.shape[0] == LOG_ROWS
    _, (y0, y1) = panel.viewbox.viewRange()
    assert (y0, y1) == (pytest.approx(math.log10(LOG_MIN_HZ)), pytest.approx(math.log10(SR / 2)))
    col = _column_at(panel, BURST_AT + 0.025)
    row = int(np.argmax(img[:, col]))
    assert abs(panel.last_spectrogram.freqs[row] - BURST_HZ) < 100
    assert abs(row - _row_at(panel, math.log10(BURST_HZ))) <= 1               # the log axis agrees
    assert img[row, col] > -10
    assert panel.plot.getAxis("left").tickStrings([2.0, 3.0, 4.0], 1, 1) == ["100", "1k", "10k"]
    again = make_panel(panel.store)                                            # a new window: still log
    assert again.log_frequency
    qtbot.mouseClick(panel.log_button, Qt.LeftButton)
    _settled(qtbot, panel)
    assert panel.image.image.shape[0] == 513 and not panel.log_frequency
    assert panel.plot.getAxis("left").tickStrings([500.0, 5000.0], 1, 1) == ["500", "5k"]
