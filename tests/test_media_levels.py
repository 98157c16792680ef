"""media.levels: every take leaves the engine at a stated level and never above full scale."""
from __future__ import annotations

import json

import numpy as np
import pytest

from foley_studio.media.levels import MAX_BOOST_DB, TAKE_PEAK_DBFS, normalise_take, peak_dbfs


def _tone(peak: float, n: int = 48_000) -> np.ndarray:
    return (peak * np.sin(np.linspace(0, 400 * np.pi, n))).astype(np.float32)


@pytest.mark.parametrize("raw_peak", [10 ** (-34 / 20), 0.5, 10 ** (8.8 / 20)])
def test_peak_mode_puts_every_take_at_the_same_peak(raw_peak):
    y, level = normalise_take(_tone(raw_peak))
    assert peak_dbfs(y) == pytest.approx(TAKE_PEAK_DBFS, abs=0.01)
    assert level.mode == "peak" and level.raw_peak_dbfs == pytest.approx(20 * np.log10(raw_peak), abs=0.01)
    assert level.gain_db == pytest.approx(TAKE_PEAK_DBFS - level.raw_peak_dbfs, abs=0.01)
    assert np.abs(y).max() <= 1.0


def test_limit_mode_only_turns_hot_takes_down():
    quiet, level = normalise_take(_tone(0.1), "limit")
    assert level.gain_db == 0.0 and np.array_equal(quiet, _tone(0.1))
    hot, level = normalise_take(_tone(3.0), "limit")
    assert level.gain_db < 0 and peak_dbfs(hot) == pytest.approx(TAKE_PEAK_DBFS, abs=0.01)


def test_near_silence_is_not_blown_up_into_noise_and_silence_stays_silent():
    y, level = normalise_take(_tone(1e-4))
    assert level.gain_db == pytest.approx(MAX_BOOST_DB) and peak_dbfs(y) < -39.9
    zeros, level = normalise_take(np.zeros(4800, np.float32))
    assert level.gain_db == 0.0 and not zeros.any()


def test_the_level_record_is_json_and_bad_input_is_refused():
    _, level = normalise_take(_tone(0.3))
    record = json.loads(json.dumps(level.to_json()))
    assert set(record) == {"mode", "target_dbfs", "gain_db", "raw_peak_dbfs", "peak_dbfs", "loudness_lufs"}
    with pytest.raises(ValueError, match="non-finite"):
        normalise_take(np.array([0.0, np.nan], np.float32))
    with pytest.raises(ValueError, match="mode"):
        normalise_take(_tone(0.3), "loud")
