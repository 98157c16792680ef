"""Evaluation metrics on hand-made signals with known answers."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from foley_studio.eval.embedding import cosine_similarity, frechet_distance
from foley_studio.eval.quality import energy_above, quality_metrics, spectral_rolloff
from foley_studio.eval.sync import (av_offset, detect_onsets, match_onsets, onset_offsets,
                                    onset_scores, sync_metrics)

SR = 48_000
EVENTS = np.array([0.5, 1.3, 2.0, 2.6, 3.1, 3.5, 3.8, 5.0, 6.2, 7.0])


def impulses(times, seconds=8.0, amp=0.9):
    x = np.zeros(int(seconds * SR))
    for t in times:
        x[int(round(t * SR))] = amp
    return x


def impacts(times, seconds=8.0, seed=0, noise=0.0):
    """Noise bursts with a 2 ms attack and 30 ms decay: a crude knock."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * SR))
    for t in times:
        i = int(round(t * SR))
        n = min(int(0.2 * SR), len(x) - i)
        k = np.arange(n)
        x[i:i + n] += 0.3 * rng.standard_normal(n) * np.minimum(k / (0.002 * SR), 1) * np.exp(-k / (0.03 * SR))
    return x + noise * rng.standard_normal(len(x))


# ---- sync -------------------------------------------------------------------------------------

def test_impulse_train_shifted_by_40ms_measures_40ms():
    result = sync_metrics(impulses(EVENTS + 0.040), EVENTS)
    assert result.median_abs_offset_ms == pytest.approx(40.0, abs=2.0)
    assert result.mean_abs_offset_ms == pytest.approx(40.0, abs=2.0)
    assert result.av_offset_s == pytest.approx(0.040, abs=0.003)
    assert result.f1 == 1.0 and result.n_detected == len(EVENTS)


def test_onsets_of_knocks_in_noise_are_within_3ms():
    detected = detect_onsets(impacts(EVENTS, noise=0.003))
    assert len(detected) == len(EVENTS)
    assert np.max(np.abs(detected - EVENTS)) < 0.003


def test_shift_beyond_tolerance_gives_zero_f1_but_still_measures_offset():
    result = sync_metrics(impacts(EVENTS - 0.080), EVENTS)
    assert result.f1 == 0.0
    assert result.median_abs_offset_ms == pytest.approx(80.0, abs=3.0)
    assert result.av_offset_s == pytest.approx(-0.080, abs=0.004)


def test_av_offset_finds_large_lag_within_two_seconds():
    events = np.array([0.4, 1.0, 2.7, 3.1])
    assert av_offset(impacts(events + 1.5), events) == pytest.approx(1.5, abs=0.004)


def test_silence_gives_zero_recall_and_no_offsets():
    result = sync_metrics(np.zeros(8 * SR), EVENTS)
    assert result.recall == 0.0 and result.precision == 0.0 and result.n_detected == 0
    assert math.isnan(result.median_abs_offset_ms) and math.isnan(result.av_offset_s)


def test_steady_sounds_have_no_onsets():
    t = np.arange(4 * SR) / SR
    rng = np.random.default_rng(1)
    assert len(detect_onsets(0.5 * np.sin(2 * np.pi * 440 * t))) == 0
    assert len(detect_onsets(0.1 * rng.standard_normal(len(t)) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)))) == 0


def test_matching_is_one_to_one_and_maximal():
    # one detection between two true events may match only one of them
    assert len(match_onsets(np.array([1.0]), np.array([0.98, 1.02]))) == 1
    # greedy nearest-first would match 1.04->1.0 and leave 0.97 unmatched; maximal matching pairs both
    pairs = match_onsets(np.array([0.97, 1.04]), np.array([1.0, 1.08]))
    assert sorted(pairs) == [(0, 0), (1, 1)]


def test_precision_recall_f1_values():
    scores = onset_scores(np.array([0.5, 1.0, 3.0, 4.0]), np.array([0.52, 1.06, 3.0]))
    assert (scores.n_matched, scores.precision, scores.recall) == (2, 0.5, pytest.approx(2 / 3))
    assert scores.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))


def test_offsets_are_signed_to_nearest_detection():
    offsets = onset_offsets(np.array([2.1, 1.0]), np.array([0.9, 1.2, 1.7, 2.0]))
    np.testing.assert_allclose(offsets, [0.1, -0.2, 0.4, 0.1], atol=1e-12)
    assert len(onset_offsets(np.zeros(0), np.array([1.0]))) == 0


# ---- quality ----------------------------------------------------------------------------------

def test_low_passed_signal_drops_energy_above_8k():
    rng = np.random.default_rng(0)
    white = rng.standard_normal(2 * SR)
    low = sosfiltfilt(butter(8, 6000, fs=SR, output="sos"), white)
    assert energy_above(white, 8000) == pytest.approx(16 / 24, abs=0.02)   # flat spectrum
    assert energy_above(low, 8000) < 0.005
    assert energy_above(white, 16000) == pytest.approx(8 / 24, abs=0.02)
    q_white, q_low = quality_metrics(white), quality_metrics(low)
    assert q_white.energy_above_8k > 100 * q_low.energy_above_8k
    assert q_low.rolloff_99_hz < 7000 < q_white.rolloff_99_hz


def test_rolloff_of_a_sine_is_its_frequency():
    t = np.arange(SR) / SR
    assert spectral_rolloff(np.sin(2 * np.pi * 1000 * t), 0.85) == pytest.approx(1000, abs=SR / 2048)
    assert math.isnan(spectral_rolloff(np.zeros(SR)))


# ---- embeddings -------------------------------------------------------------------------------

def test_frechet_distance_known_values():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 4))
    b = rng.standard_normal((4000, 4))
    assert frechet_distance(a, b) < 0.02
    # mean shift of 3 on one axis: d = 9
    assert frechet_distance(a, b + np.array([3.0, 0, 0, 0])) == pytest.approx(9.0, abs=0.2)
    # scale 2 on every axis: trace term 4 * (1 + 4 - 2*2) = 4
    assert frechet_distance(a, 2 * b) == pytest.approx(4.0, abs=0.2)


def test_cosine_similarity_rows():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    b = np.array([[2.0, 0.0], [-1.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(cosine_similarity(a, b), [1.0, -1.0, 0.0])
