"""Levels and mastering: true peak, integrated loudness (pyloudnorm), the limiter's ceiling, loudness
targets, the live meter's loudness against the file measurement, and both reachable from the CLI."""
from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from foley_studio.media import loudness as L
from media_fixtures import make_tone, tone

SR = 48_000


def _programme(seconds: float = 6.0, seed: int = 1) -> np.ndarray:
    """Stereo material with a loud burst that clips: a tone left, noise right, +12 dB for one second."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.15 * rng.standard_normal(t.size)]).astype(np.float32)
    x[:, 2 * SR:3 * SR] *= 4.0
    return x


def test_true_peak_finds_the_peak_between_samples():
    # A 12 kHz sine sampled 45 degrees off its crests: every sample is at -3 dB, the wave reaches 0 dB.
    s = np.sin(2 * np.pi * 12_000 * np.arange(SR) / SR + np.pi / 4).astype(np.float32)
    assert L.to_db(np.abs(s).max()) == pytest.approx(-3.01, abs=0.01)
    assert L.to_db(L.true_peak(s)) == pytest.approx(0.0, abs=0.2)
    levels = L.measure(s)
    assert levels.clipped == 0 and levels.channels == 1 and levels.frames == SR


def test_measure_agrees_with_pyloudnorm_and_counts_clipping():
    x = _programme()
    levels = L.measure(x)
    reference = pyloudnorm.Meter(SR).integrated_loudness(x.T.astype(np.float64))
    assert levels.loudness_lufs == pytest.approx(reference, abs=1e-6)
    assert levels.clipped == int(np.count_nonzero(np.abs(x) > 1.0)) > 0
    assert levels.peak_db == pytest.approx(L.to_db(float(np.abs(x).max())))
    assert "clipped samples" in levels.describe() and "LUFS" in levels.describe()
    assert L.measure(np.zeros(SR // 10, np.float32)).loudness_lufs is None          # too short to gate


def test_limiter_holds_the_true_peak_under_the_ceiling_and_leaves_quiet_parts_alone():
    x = _programme()
    y = L.limit_true_peak(x, -1.0)
    assert y.shape == x.shape
    assert L.to_db(L.true_peak(y)) <= -1.0 + 0.05
    quiet = slice(int(0.5 * SR), int(1.5 * SR))                  # a second before the burst
    np.testing.assert_allclose(y[:, quiet], x[:, quiet], atol=1e-6)
    gain = L.limiter_gain(x, -1.0)
    assert np.abs(np.diff(gain)).max() < 0.05, "the gain moves smoothly (no steps, no clicks)"
    assert L.limiter_gain(x * 0.01, -1.0).min() == 1.0           # nothing to limit: unity


@pytest.mark.parametrize("target", [-23.0, -14.0])
def test_mastering_reaches_the_loudness_target_then_limits(target):
    x = _programme() * 0.2
    out, report = L.Mastering(loudness_lufs=target, ceiling_db=-1.0).apply(x)
    assert report.before.loudness_lufs == pytest.approx(L.integrated_loudness(x))
    assert report.gain_db == pytest.approx(target - report.before.loudness_lufs)
    assert report.after.true_peak_db <= -0.95
    # The limiter only takes off what pokes above the ceiling: loudness stays within a dB of the target.
    assert report.after.loudness_lufs == pytest.approx(target, abs=1.0)
    plain, same = L.Mastering().apply(x)
    assert plain is not None and same.before == same.after and same.gain_db == 0.0


def test_live_loudness_matches_the_file_measurement():
    x = _programme(8.0, seed=3)
    weighting, live = L.KWeighting(2), L.LiveLoudness()
    for a in range(0, x.shape[1], SR // 10):                    # 100 ms steps, as the playback meter feeds it
        live.feed(weighting.energy(x[:, a:a + SR // 10]))
    assert live.integrated == pytest.approx(L.integrated_loudness(x), abs=0.01)
    meter = pyloudnorm.Meter(SR)
    meter.integrated_loudness(x.T.astype(np.float64))
    assert live.momentary == pytest.approx(meter.blockwise_loudness[-1], abs=0.01)    # the last 400 ms
    live.reset()
    assert live.integrated is None and live.momentary is None


def test_cli_export_normalises_limits_and_reports(tmp_path, capsys):
    from foley_studio.cli import main
    loud = make_tone(tmp_path / "loud.wav", data=tone(2.0, SR, 220, amplitude=1.6), subtype="FLOAT")
    project = tmp_path / "p.fsproj"
    from foley_studio.core.project import Clip, Project, Track
    from foley_studio.core.store import save_project
    save_project(Project(tracks=[Track(id="t", name="Loud", pan=-0.25,
                                       clips=[Clip("c", str(loud), 0, 0, 2 * SR)])]), project)
    assert main(["export", str(project), "--mix", str(tmp_path / "plain.wav")]) == 0
    captured = capsys.readouterr()
    assert "clipped samples" in captured.out and "warning:" in captured.err and "--true-peak-limit" in captured.err
    assert main(["export", str(project), "--mix", str(tmp_path / "web.flac"), "--loudness", "web",
                 "--true-peak-limit"]) == 0
    out = capsys.readouterr().out
    assert "after loudness to -14 LUFS, true-peak limit at -1.0 dBTP" in out
    data, sr = sf.read(str(tmp_path / "web.flac"), always_2d=True)
    assert data.shape[1] == 2 and sr == SR
    levels = L.measure(data.T.astype(np.float32))
    assert levels.loudness_lufs == pytest.approx(-14.0, abs=1.0) and levels.true_peak_db <= -0.9
    assert levels.clipped == 0
    with pytest.raises(SystemExit) as refused:
        main(["export", str(project), "--mix", str(tmp_path / "x.wav"), "--loudness", "+5"])
    assert refused.value.code == 2 and "LUFS" in capsys.readouterr().err
