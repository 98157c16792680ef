"""Window planning and the level-keeping crossfade, on known signals."""
from __future__ import annotations

import numpy as np
import pytest

from foley_studio.engine.windows import Window, correlation, crossfade_gains, join_windows, plan_windows

HOP = 1200


@pytest.mark.parametrize("n", [1, 100, 320, 321, 330, 560, 800, 2400, 2401, 4800])
def test_windows_cover_the_span_with_fixed_overlap(n):
    windows = plan_windows(n, 320, 80, tail_given=80)
    assert windows[0].start == 0 and windows[-1].end == n
    assert all(w.length <= 320 for w in windows)
    for prev, win in zip(windows, windows[1:]):
        assert win.shared == prev.end - win.start == 80
        assert win.end > prev.end
    if len(windows) > 1:
        # the last window generates something before the given tail
        assert windows[-2].end < n - 80


def test_sixty_seconds_is_balanced():
    windows = plan_windows(60 * 40, 320, 80)
    lengths = {w.length for w in windows}
    assert len(windows) == 10 and max(lengths) - min(lengths) <= 1


def test_crossfade_gains_keep_power_for_any_correlation():
    for rho in (0.0, 0.3, 1.0):
        a, b = crossfade_gains(1000, rho)
        power = a * a + b * b + 2 * rho * a * b
        assert np.allclose(power, 1.0)
        assert a[0] > 0.99 and b[-1] > 0.99 and np.all(np.diff(a) < 0) and np.all(np.diff(b) > 0)
    a, b = crossfade_gains(1000, 1.0)
    assert np.allclose(a + b, 1.0)                # identical signals: gains sum to one
    a, b = crossfade_gains(1000, 0.0)
    assert np.allclose(a * a + b * b, 1.0)        # unrelated signals: classic sin/cos


def _cut(signal: np.ndarray, windows: list[Window]) -> list[np.ndarray]:
    return [signal[w.start * HOP:w.end * HOP].copy() for w in windows]


def test_join_of_a_continuous_signal_gives_it_back():
    windows = plan_windows(100, 40, 10)
    assert len(windows) == 3
    t = np.arange(100 * HOP)
    signal = (0.5 * np.sin(2 * np.pi * 97.3 * t / 48_000) * (1 + 0.3 * np.sin(t / 9_000))).astype(np.float32)
    joined = join_windows(_cut(signal, windows), windows, HOP)
    assert np.max(np.abs(joined - signal)) < 1e-5


def test_join_of_unrelated_noise_keeps_level_through_seams():
    rng = np.random.default_rng(0)
    windows = plan_windows(100, 40, 10)
    segments = [rng.standard_normal(w.length * HOP).astype(np.float32) * 0.1 for w in windows]
    joined = join_windows(segments, windows, HOP)
    frame_rms = np.sqrt(np.mean(joined.reshape(-1, 2400) ** 2, axis=1))
    db = 20 * np.log10(frame_rms / 0.1)
    assert np.max(np.abs(db)) < 0.6                # a linear fade would dip 3 dB mid-seam


def test_correlation_is_clipped():
    x = np.sin(np.linspace(0, 20, 500))
    assert correlation(x, x) == pytest.approx(1.0)
    assert correlation(x, -x) == 0.0
    assert correlation(np.zeros(10), x[:10]) == 1.0


def test_join_checks_segment_lengths():
    windows = plan_windows(100, 40, 10)
    with pytest.raises(ValueError, match="samples"):
        join_windows([np.zeros(5, np.float32)] * 3, windows, HOP)
