"""Level-of-detail spectrogram tiles: exactness against the whole STFT, max-pooled levels, the
memory LRU, the disk cache (hit, changed file, damaged entry) and composition of a view."""
from __future__ import annotations

import os

import numpy as np
import pytest

from foley_studio.core.paths import cache_dir
from foley_studio.media.spectrogram import (
    CACHE_KIND, N_LEVELS, TILE_FRAMES, TileStore, array_tile_source, choose_level, columns_per_tile,
    compose, compute_tile, display_spectrogram, file_tile_source, max_pool_columns, pool_factor, tile_levels,
)
from tests.media_fixtures import make_tone, tone

SR = 48_000
TILE_SAMPLES = TILE_FRAMES * 256


def burst_signal(seconds: float, at: float, freq: float = 3000.0, length: float = 0.02) -> np.ndarray:
    x = np.zeros(int(seconds * SR), np.float32)
    a = int(at * SR)
    x[a:a + int(length * SR)] = tone(length, SR, freq, amplitude=0.5)
    return x


def test_tiles_equal_the_whole_stft():
    rng = np.random.default_rng(1)
    x = (0.2 * rng.standard_normal(int(TILE_SAMPLES * 1.6))).astype(np.float32)
    whole = display_spectrogram(x).db
    src = array_tile_source(x, "noise")
    t0, t1 = compute_tile(src, 0), compute_tile(src, 1)
    assert t0.shape == (513, TILE_FRAMES) and t0.dtype == np.float32
    np.testing.assert_allclose(t0, whole[:, :TILE_FRAMES], atol=1e-3)
    n_rest = whole.shape[1] - TILE_FRAMES
    np.testing.assert_allclose(t1[:, :n_rest], whole[:, TILE_FRAMES:], atol=1e-3)   # across the seam
    assert t1[:, n_rest + 2:].max() == pytest.approx(-120.0)                        # past the end: floor


def test_levels_max_pool_so_a_short_burst_survives():
    x = burst_signal(11.0, 7.3)
    levels = tile_levels(compute_tile(array_tile_source(x, "burst"), 0))
    assert [lv.shape[1] for lv in levels] == [columns_per_tile(k) for k in range(N_LEVELS)]
    row = int(round(3000 / (SR / 1024)))
    for k, lv in enumerate(levels):
        col = int(7.31 * SR / 256) // 4 ** k
        assert lv[row].max() == pytest.approx(levels[0][row].max(), abs=1e-4), k   # not averaged away
        assert abs(int(np.argmax(lv[row])) - col) <= 1, k
        assert lv[row, :max(1, col - 5)].max() < -90      # and nothing before it
    # A mean would have diluted the 20 ms burst into a 5.5 s column by ~-24 dB.
    assert levels[5][row].max() > -8


def test_max_pool_keeps_a_short_last_group_and_skips_nan():
    db = np.arange(10, dtype=np.float32)[None, :].repeat(2, axis=0)
    pooled = max_pool_columns(db, 4)
    np.testing.assert_array_equal(pooled[0], [3, 7, 9])
    db[:, 1:8] = np.nan                                  # not computed yet
    np.testing.assert_array_equal(max_pool_columns(db, 2)[0], [0, np.nan, np.nan, np.nan, 9])


@pytest.mark.parametrize("frames, pixels", [(500, 1000), (4000, 1000), (112_500, 800), (112_500, 1600),
                                            (10 ** 8, 500), (2047, 1000)])
def test_pool_factor_never_leaves_more_columns_than_pixels(frames, pixels):
    level = choose_level(frames, pixels)
    k = pool_factor(frames, pixels, level)
    assert frames / (4 ** level * k) <= pixels                       # never more than one per pixel
    assert k == 1 or frames / (4 ** level * (k - 1)) > pixels        # and no coarser than needed


@pytest.mark.parametrize("frames, pixels, level", [(500, 1000, 0), (1000, 1000, 0), (4000, 1000, 1),
                                                   (112_500, 800, 4), (112_500, 1600, 3), (10 ** 8, 500, 5)])
def test_choose_level_keeps_about_one_column_per_pixel(frames, pixels, level):
    assert choose_level(frames, pixels) == level


def test_store_reuses_memory_then_disk(tmp_path):
    path = make_tone(tmp_path / "long.wav", data=burst_signal(25.0, 20.0))
    store = TileStore()
    src = file_tile_source(path)
    a = store.fetch(src, 1, 2)
    assert store.computed == 1 and store.fetch(src, 1, 2) is a
    assert store.peek(src.key, 1, 0) is None             # finer levels went to disk, not memory
    assert store.peek(src.key, 1, 5) is not None
    fresh = TileStore()                                  # a new session: the disk cache answers
    again = fresh.fetch(file_tile_source(path), 1, 2)
    assert fresh.computed == 0 and fresh.disk_hits == 1
    np.testing.assert_allclose(again, a, atol=0.25)      # uint8 on disk: within half a 0.47 dB step
    fine = fresh.fetch(file_tile_source(path), 1, 0)
    assert fresh.computed == 0 and fine.shape == (513, TILE_FRAMES)


def test_changed_file_misses_and_damaged_entry_is_recomputed(tmp_path):
    path = make_tone(tmp_path / "a.wav", 2.0, freq=500.0)
    store = TileStore()
    store.fetch(file_tile_source(path), 0, 0)
    make_tone(path, 2.0, freq=2000.0)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10 ** 9))
    src = file_tile_source(path)
    fresh = TileStore()
    db = fresh.fetch(src, 0, 0)
    assert fresh.computed == 1
    assert abs(np.argmax(db[:, 100]) * SR / 1024 - 2000) < 50
    for entry in (cache_dir(CACHE_KIND) / src.disk_key).glob("*.npz"):
        entry.write_bytes(b"damaged")
    other = TileStore()
    assert other.fetch(src, 0, 3).shape == (513, columns_per_tile(3)) and other.computed == 1


def test_memory_is_bounded():
    store = TileStore(max_bytes=6 * 1024 ** 2, use_disk=False)
    src = array_tile_source(np.zeros(TILE_SAMPLES * 4, np.float32), "silence")
    for tile in range(4):
        store.fetch(src, tile, 0)
    assert store.nbytes <= 6 * 1024 ** 2
    assert store.peek(src.key, 3, 0) is not None and store.peek(src.key, 0, 0) is None


def test_compose_stitches_levels_and_marks_what_is_missing():
    x = burst_signal(40.0, 30.0)
    src = array_tile_source(x, "b")
    store = TileStore(use_disk=False)
    level = 3
    per = columns_per_tile(level)
    store.fetch(src, 0, level)
    store.fetch(src, 2, level)
    view = compose(store, src.key, 513, level, per // 2, 3 * per + 5)
    assert view.missing == [1, 3] and view.db.shape == (513, 3 * per + 5 - per // 2)
    assert np.isnan(view.db[:, per - per // 2 + 1]).all() and not np.isnan(view.db[:, 0]).any()
    burst_col = int(30.0 * SR / 256) // 4 ** level - view.first_column
    assert view.db[64, burst_col] > -10                  # 3 kHz row at the burst
    # A finer level is drawn from the coarse one (repeated columns) until it is computed.
    fine = compose(store, src.key, 513, 1, 2 * columns_per_tile(1), 3 * columns_per_tile(1))
    assert fine.missing == [2] and fine.stand_ins == 1 and not np.isnan(fine.db).any()
    assert fine.db[64].max() > -10


def test_log_frequency_rows_keep_a_tones_level_and_put_it_in_its_band():
    from foley_studio.media.spectrogram import LOG_ROWS, log_frequency_edges, to_log_frequency
    sr, n_fft = 48_000, 1024
    df = sr / n_fft
    t = np.arange(sr) / sr
    edges = log_frequency_edges(sr)
    assert len(edges) == LOG_ROWS + 1 and edges[0] == pytest.approx(20.0) and edges[-1] == pytest.approx(sr / 2)
    assert np.allclose(np.diff(np.log(edges)), np.log(edges[1] / edges[0]))          # even steps in log f
    for hz in (60.0, 440.0, 3000.0, 15000.0):
        spec = display_spectrogram(np.sin(2 * np.pi * hz * t).astype(np.float32), sr, n_fft)
        rows = to_log_frequency(spec.db, sr, n_fft)
        assert rows.shape == (LOG_ROWS, spec.db.shape[1]) and rows.dtype == np.float32 and rows.flags.c_contiguous
        column = rows[:, spec.db.shape[1] // 2]
        peak = int(np.argmax(column))
        # The tone's band, give or take the FFT's own resolution (a bin) at the bottom.
        assert edges[peak] - df <= hz <= edges[peak + 1] + df, (hz, edges[peak], edges[peak + 1])
        assert column[peak] == pytest.approx(spec.db[:, spec.db.shape[1] // 2].max(), abs=1.0)
    flat = np.full((n_fft // 2 + 1, 3), -40.0, np.float32)
    flat[:, 1] = np.nan                                              # a column not computed yet
    out = to_log_frequency(flat, sr, n_fft)
    assert np.allclose(out[:, [0, 2]], -40.0) and np.isnan(out[:, 1]).all()
    with pytest.raises(ValueError, match="rows for n_fft"):
        to_log_frequency(flat[:100], sr, n_fft)
