"""Audio read/write/resample: values, shapes, ranges, formats, atomic writes."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from foley_studio.media.audio import audio_info, read_audio, resample, write_audio
from tests.media_fixtures import make_audio_with_pyav, make_tone, make_video, tone


def test_48k_wav_round_trip_exact_range(tmp_path):
    data = tone(1.0, 48_000, 440)
    path = make_tone(tmp_path / "a.wav", data=data, subtype="FLOAT")
    full = read_audio(path)
    assert full.dtype == np.float32 and full.shape == (48_000,)
    np.testing.assert_array_equal(full, data)
    np.testing.assert_array_equal(read_audio(path, 1000, 2000), data[1000:2000])
    assert read_audio(path, 47_000, 60_000).shape == (1000,)      # clamped at the end
    assert read_audio(path, 10, 10).shape == (0,)
    np.testing.assert_array_equal(read_audio(path, -50, 100), data[:100])   # clamped at the start


@pytest.mark.parametrize("sr", [44_100, 22_050])
def test_sub_range_at_other_rate_matches_full_read(tmp_path, sr):
    path = make_tone(tmp_path / "a.wav", 1.0, sr, freq=300, subtype="FLOAT")
    full = read_audio(path)
    for a, b in [(0, 500), (10_000, 20_000), (30_001, 30_002), (40_000, 47_000)]:
        part = read_audio(path, a, b)
        assert part.shape == (b - a,)
        assert np.abs(part - full[a:b]).max() < 1e-4, (a, b)


def test_stereo_layout_and_mono_mix(tmp_path):
    data = tone(0.1, 48_000, 100, channels=2)
    path = make_tone(tmp_path / "st.wav", data=data, subtype="FLOAT")
    multi = read_audio(path, mono=False)
    assert multi.shape == (2, 4800) and multi.flags.c_contiguous
    np.testing.assert_array_equal(multi[1], data[:, 1])
    np.testing.assert_allclose(read_audio(path), data.mean(axis=1), atol=1e-7)


def test_pyav_fallback_for_aac(tmp_path):
    path = make_audio_with_pyav(tmp_path / "a.m4a", 1.0, 44_100, freq=500)
    with pytest.raises(Exception):
        sf.info(str(path))                 # soundfile really cannot read it
    x = read_audio(path)
    assert x.shape == (48_000,)            # trimmed to the stream's duration, at 48 kHz
    spectrum = np.abs(np.fft.rfft(x[:40_000] * np.hanning(40_000)))
    assert np.argmax(spectrum) * 48_000 / 40_000 == pytest.approx(500, abs=2)
    part = read_audio(path, 10_000, 20_000)
    assert part.shape == (10_000,)
    assert np.abs(part - x[10_000:20_000]).max() < 5e-3   # lossy codec: decoder state at the seek point
    assert audio_info(path)[0] == 44_100


def test_audio_of_a_video(tmp_path):
    path = make_video(tmp_path / "v.mp4", 1.0, freq=1000)
    x = read_audio(path)
    assert x.shape == (48_000,)
    assert 0.3 < np.abs(x[5000:40_000]).max() < 0.7


def test_resample_shapes_and_content():
    x = tone(1.0, 44_100, 1000)
    y = resample(x, 44_100, 48_000)
    assert y.dtype == np.float32 and y.shape == (48_000,)
    np.testing.assert_allclose(y[2000:-2000], tone(1.0, 48_000, 1000)[2000:-2000], atol=1e-3)
    stereo = np.stack([x, -x])
    ys = resample(stereo, 44_100, 48_000)
    assert ys.shape == (2, 48_000)
    np.testing.assert_allclose(ys[1], -ys[0], atol=1e-7)
    same = resample(x, 48_000, 48_000)
    assert same is not x and np.array_equal(same, x)
    with pytest.raises(ValueError, match="positive"):
        resample(x, 0, 48_000)


def test_int_sample_indices_only(tmp_path):
    path = make_tone(tmp_path / "a.wav", 0.1)
    with pytest.raises(TypeError, match="sample index at 48 kHz"):
        read_audio(path, 0.5, 1.0)


@pytest.mark.parametrize("suffix,subtype", [(".wav", "PCM_24"), (".flac", "PCM_24"), (".wav", "PCM_16"),
                                            (".wav", "FLOAT")])
def test_write_round_trip(tmp_path, suffix, subtype):
    data = tone(0.2, 48_000, 700, amplitude=0.9)
    path = write_audio(tmp_path / f"out{suffix}", data, subtype)
    info = sf.info(str(path))
    assert info.samplerate == 48_000 and info.subtype == subtype and info.frames == len(data)
    tol = {"PCM_24": 2.0 ** -23, "PCM_16": 2.0 ** -15, "FLOAT": 0}[subtype]
    assert np.abs(read_audio(path) - data).max() <= tol + 1e-7
    assert [p.name for p in tmp_path.iterdir()] == [path.name]   # no temp file left behind
    assert path.stat().st_mode & 0o044, "exports must be readable by others like any new file"


def test_write_multichannel_and_clip(tmp_path):
    data = np.stack([np.full(100, 1.5, np.float32), np.full(100, -0.25, np.float32)])
    path = write_audio(tmp_path / "two.wav", data)
    back = read_audio(path, mono=False)
    assert back.shape == (2, 100)
    assert back[0].max() <= 1.0 and back[0].min() > 0.99      # clipped, not wrapped to negative
    np.testing.assert_allclose(back[1], -0.25, atol=2.0 ** -23)


def test_write_replaces_atomically(tmp_path):
    path = write_audio(tmp_path / "mix.wav", np.zeros(10, np.float32))
    write_audio(path, np.full(20, 0.5, np.float32))
    assert sf.info(str(path)).frames == 20
    with pytest.raises(ValueError, match="shape"):
        write_audio(path, np.zeros((2, 3, 4), np.float32))   # bad shape: the old file must survive
    assert sf.info(str(path)).frames == 20
    assert len(list(tmp_path.iterdir())) == 1


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    from foley_studio.media import audio as audio_mod
    from foley_studio.media.errors import MediaWriteError
    path = write_audio(tmp_path / "mix.wav", np.full(10, 0.25, np.float32))

    def disk_full(tmp, *args, **kwargs):
        with open(tmp, "wb") as handle:
            handle.write(b"partial")
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(audio_mod.sf, "write", disk_full)
        with pytest.raises(MediaWriteError, match=r"mix\.wav: writing failed .*No space left"):
            write_audio(path, np.zeros(20, np.float32))
    assert sf.info(str(path)).frames == 10
    assert [p.name for p in tmp_path.iterdir()] == ["mix.wav"]
