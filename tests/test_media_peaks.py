"""Peak pyramid (exactness, conservative envelopes, streaming, disk cache) and display spectrograms."""
from __future__ import annotations

import os

import numpy as np
import pytest

from foley_studio.core.paths import cache_dir
from foley_studio.media import peaks as peaks_mod
from foley_studio.media.peaks import BASE_BLOCK, PeakPyramid, build_peaks, load_peaks
from foley_studio.media.spectrogram import display_spectrogram
from tests.media_fixtures import make_tone, make_video, tone


def brute(x: np.ndarray, a: int, b: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    edges = np.linspace(a, b, n + 1)
    mins, maxs = [], []
    for i in range(n):
        lo = int(np.floor(edges[i]))
        hi = max(int(np.floor(edges[i + 1])), lo + 1)
        seg = x[max(lo, 0):max(0, min(hi, len(x)))]
        mn, mx = (seg.min(), seg.max()) if len(seg) else (0.0, 0.0)
        if lo < 0 or hi > len(x):
            mn, mx = min(mn, 0.0), max(mx, 0.0)
        mins.append(mn)
        maxs.append(mx)
    return np.array(mins, np.float32), np.array(maxs, np.float32)


@pytest.fixture(scope="module")
def noise():
    return np.random.default_rng(1).standard_normal(48_000 * 20 + 123).astype(np.float32)


def test_levels_are_256_times_4_to_the_k(noise):
    pyr = PeakPyramid.from_samples(noise)
    assert pyr.n_samples == len(noise)
    for k in range(pyr.n_levels):
        size = BASE_BLOCK * 4 ** k
        assert len(pyr.mins[k]) == -(-len(noise) // size)
        whole = len(noise) // size
        blocks = noise[: whole * size].reshape(whole, size)
        np.testing.assert_array_equal(pyr.mins[k][:whole], blocks.min(1))
        np.testing.assert_array_equal(pyr.maxs[k][:whole], blocks.max(1))
    assert len(pyr.mins[-1]) == 1
    assert pyr.mins[-1][0] == noise.min() and pyr.maxs[-1][0] == noise.max()


def test_query_exact_on_block_grid_and_raw_zoom(noise):
    pyr = PeakPyramid.from_samples(noise)
    size = BASE_BLOCK * 4 ** 3
    n = len(noise) // size
    m = n // 4
    mins, maxs = pyr.query(0, m * 4 * size, m)         # 4 level-3 blocks per bin: exact
    ref = brute(noise, 0, m * 4 * size, m)
    np.testing.assert_array_equal(mins, ref[0])
    np.testing.assert_array_equal(maxs, ref[1])
    mins, maxs = pyr.query(1000, 1500, 100)           # 5 samples per bin: raw samples
    ref = brute(noise, 1000, 1500, 100)
    np.testing.assert_array_equal(mins, ref[0])
    np.testing.assert_array_equal(maxs, ref[1])


@pytest.mark.parametrize("a,b,n", [(12_345, 12_345 + 777_777, 37), (0, 960_123, 800), (5, 100_000, 1000)])
def test_query_is_conservative_and_tight(noise, a, b, n):
    pyr = PeakPyramid.from_samples(noise, keep_samples=False)
    mins, maxs = pyr.query(a, b, n)
    ref_min, ref_max = brute(noise, a, b, n)
    assert np.all(mins <= ref_min) and np.all(maxs >= ref_max)    # never hides a peak
    # ... and not much wider: within the bin widened by a quarter bin (at least one base block,
    # the finest level on disk) on each side.
    edges = np.linspace(a, b, n + 1)
    pad = max((b - a) / n / 4, BASE_BLOCK) + 1
    for i in range(n):
        lo, hi = int(max(0, edges[i] - pad)), int(min(len(noise), edges[i + 1] + pad))
        assert mins[i] >= noise[lo:hi].min() and maxs[i] <= noise[lo:hi].max()


def test_query_past_the_end_is_silence():
    pyr = PeakPyramid.from_samples(np.full(1024, 0.5, np.float32))
    mins, maxs = pyr.query(0, 4096, 4)
    np.testing.assert_array_equal(maxs, [0.5, 0, 0, 0])
    np.testing.assert_array_equal(mins, [0.5, 0, 0, 0])


def test_streaming_build_equals_in_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(peaks_mod, "_STREAM_BLOCK", 3000)   # many short, unaligned chunks
    data = tone(2.0, 48_000, 440, amplitude=0.7) * np.linspace(0, 1, 96_000, dtype=np.float32)
    path = make_tone(tmp_path / "a.wav", data=data, subtype="FLOAT")
    built = build_peaks(path)
    ref = PeakPyramid.from_samples(data)
    assert built.n_levels == ref.n_levels
    for k in range(ref.n_levels):
        np.testing.assert_array_equal(built.mins[k], ref.mins[k])
        np.testing.assert_array_equal(built.maxs[k], ref.maxs[k])


def test_streaming_build_resamples_to_48k(tmp_path):
    path = make_tone(tmp_path / "a.wav", 1.0, 44_100, freq=50, amplitude=0.8, subtype="FLOAT")
    built = build_peaks(path)
    assert abs(built.n_samples - 48_000) <= 1
    assert built.maxs[-1][0] == pytest.approx(0.8, abs=0.01)


def test_disk_cache_hit_and_invalidation(tmp_path, monkeypatch):
    path = make_tone(tmp_path / "a.wav", 1.0, 48_000, amplitude=0.5)
    first = load_peaks(path)
    entries = list(cache_dir("peaks/v1").glob("*.npz"))
    assert len(entries) == 1 and str(entries[0]).startswith(os.environ["FOLEY_STUDIO_HOME"])
    calls = []
    with monkeypatch.context() as patch:
        patch.setattr(peaks_mod, "build_peaks", lambda p: calls.append(p) or first)
        again = load_peaks(path)                            # unchanged file: from disk, no decode
    assert calls == [] and again.n_levels == first.n_levels
    np.testing.assert_array_equal(again.maxs[0], first.maxs[0])
    make_tone(path, 1.0, 48_000, amplitude=0.25)            # same size, new content and mtime
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    changed = load_peaks(path)
    assert changed.maxs[-1][0] == pytest.approx(0.25, abs=1e-3)
    assert len(list(cache_dir("peaks/v1").glob("*.npz"))) == 2


def test_damaged_cache_entry_is_rebuilt(tmp_path):
    path = make_tone(tmp_path / "a.wav", 0.5)
    load_peaks(path)
    (entry,) = cache_dir("peaks/v1").glob("*.npz")
    entry.write_bytes(b"not an npz")
    assert load_peaks(path).maxs[-1][0] == pytest.approx(0.5, abs=1e-3)


def test_spectrogram_layout_and_levels():
    x = tone(1.0, 48_000, 3000, amplitude=1.0)
    spec = display_spectrogram(x, n_fft=1024, hop=256)
    assert spec.db.dtype == np.float32 and spec.db.flags.c_contiguous
    assert spec.db.shape == (513, 48_000 // 256 + 1)
    assert spec.freqs.shape == (513,) and spec.times.shape == (188,)
    column = spec.db[:, 90]
    assert spec.freqs[np.argmax(column)] == pytest.approx(3000, abs=48_000 / 1024)
    assert column.max() == pytest.approx(0.0, abs=0.5)                # full-scale sine = 0 dB
    quiet = display_spectrogram(x * 0.1).db[:, 90].max()
    assert quiet == pytest.approx(-20.0, abs=0.5)
    assert display_spectrogram(np.zeros(4800, np.float32)).db.min() == pytest.approx(-120.0)
    assert spec.times[1] == pytest.approx(256 / 48_000)


def test_spectrogram_rejects_stereo():
    with pytest.raises(ValueError, match="mono"):
        display_spectrogram(np.zeros((2, 100), np.float32))


def test_peaks_of_a_video_soundtrack_keep_its_timing(tmp_path):
    path = make_video(tmp_path / "v.mp4", 2.0, 25, with_audio=True, audio_start=0.5)
    pyr = load_peaks(path)
    assert abs(pyr.n_samples - 120_000) < 1200         # 2 s of sound from 0.5 s
    mins, maxs = pyr.query(0, 120_000, 10)               # 0.25 s per bin
    assert maxs[0] < 0.02 and mins[0] > -0.02 and maxs[4] > 0.3 and maxs[9] > 0.3
