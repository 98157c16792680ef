"""Video: probe metadata, frame-exact random access with keyframe seeks, thumbnails, encoder frames, audio."""
from __future__ import annotations

import math
from fractions import Fraction

import av
import numpy as np
import pytest

from foley_studio.media.probe import probe
from foley_studio.media.video import VideoReader, extract_audio, frames_for_encoder
from tests.media_fixtures import UPRIGHT_H, UPRIGHT_W, assert_upright, make_phone_video, make_video


def decode_all(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def ntsc_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "ntsc.mp4"
    return make_video(path, 3.0, Fraction(30000, 1001), (160, 120), True, gop=12, freq=660)


def test_probe_ntsc(ntsc_video):
    info = probe(ntsc_video)
    assert info.fps == Fraction(30000, 1001)
    assert not info.variable_frame_rate
    assert (info.width, info.height) == (160, 120)
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert info.sample_rate == 48_000 and info.channels == 1
    assert info.n_frames == 90
    assert info.duration == pytest.approx(3.0, abs=0.05)
    data = info.to_json()
    assert data["fps"] == "30000/1001" and data["fps_float"] == pytest.approx(29.97, abs=0.01)


def test_frame_at_is_frame_exact_in_any_order(ntsc_video):
    reference = decode_all(ntsc_video)
    fps = Fraction(30000, 1001)
    with VideoReader(ntsc_video) as reader:
        assert reader.keyframe_times()[:3] == pytest.approx([0.0, 12 / float(fps), 24 / float(fps)])
        # Backwards, forwards, across GOPs, at and just before frame boundaries.
        for index in [45, 3, 4, 89, 0, 60, 61, 13, 12, 11]:
            t = float(index / fps)
            np.testing.assert_array_equal(reader.frame_at(t), reference[index], err_msg=f"frame {index}")
            before = float((index + Fraction(99, 100)) / fps)
            np.testing.assert_array_equal(reader.frame_at(before), reference[index])
        np.testing.assert_array_equal(reader.frame_at(100.0), reference[-1])   # past the end: last frame
        np.testing.assert_array_equal(reader.frame_at(-1.0), reference[0])


def test_frame_at_scaled(ntsc_video):
    with VideoReader(ntsc_video) as reader:
        img = reader.frame_at(1.0, width=80, height=60)
    assert img.shape == (60, 80, 3) and img.dtype == np.uint8


def test_thumbnails_yield_in_order_with_aspect(ntsc_video):
    reference = decode_all(ntsc_video)
    with VideoReader(ntsc_video) as reader:
        stream = reader.iter_thumbnails([2.0, 0.0, 1.0], height=30)
        first_t, first = next(stream)            # a generator: the first arrives before the rest decode
        rest = list(stream)
    assert first_t == 0.0 and [t for t, _ in rest] == [1.0, 2.0]
    assert first.shape == (30, 40, 3)
    # Downscaled frame 0 keeps its content: the mean colour matches the full-size frame.
    np.testing.assert_allclose(first.reshape(-1, 3).mean(0), reference[0].reshape(-1, 3).mean(0), atol=4)


def test_frames_for_encoder(ntsc_video):
    frames = frames_for_encoder(ntsc_video, 8, 64, start=0.5, end=2.5)
    assert frames.shape == (16, 64, 64, 3) and frames.dtype == np.uint8
    reference = decode_all(ntsc_video)
    fps = Fraction(30000, 1001)
    with VideoReader(ntsc_video) as reader:
        for i in (0, 7, 15):
            t = 0.5 + i / 8
            shown = reference[int(Fraction(t).limit_denominator(10**6) * fps)]
            assert abs(float(frames[i].mean()) - float(shown[:, 20:140].mean())) < 6
            scaled = reader.frame_at(t, width=85, height=64)[:, 10:74]
            np.testing.assert_array_equal(frames[i], scaled)      # cover-scale, centre crop
    whole = frames_for_encoder(ntsc_video, 8, 32)
    assert whole.shape[0] == int(np.ceil(probe(ntsc_video).duration * 8 - 1e-9))
    tail = frames_for_encoder(ntsc_video, 8, 32, start=2.9, end=3.5)   # past the end: last frame repeats
    assert tail.shape[0] == 5 and np.array_equal(tail[-1], tail[-2])


def test_extract_audio(ntsc_video):
    x = extract_audio(ntsc_video)
    assert x.dtype == np.float32 and x.ndim == 1
    assert len(x) == pytest.approx(3.0 * 48_000, abs=48)
    spectrum = np.abs(np.fft.rfft(x[4800:100_000] * np.hanning(95_200)))
    assert np.argmax(spectrum) * 48_000 / 95_200 == pytest.approx(660, abs=2)


def test_non_zero_start_time(tmp_path):
    """A stream whose first timestamp is not 0 still starts at time 0 for the reader."""
    path = make_video(tmp_path / "late.mp4", pts_seconds=[1.0 + i / 10 for i in range(10)], with_audio=False)
    reference = decode_all(path)
    with VideoReader(path) as reader:
        np.testing.assert_array_equal(reader.frame_at(0.0), reference[0])
        np.testing.assert_array_equal(reader.frame_at(0.35), reference[3])


def test_sound_that_starts_late_stays_in_place(tmp_path):
    path = make_video(tmp_path / "late_audio.mp4", 2.0, 25, with_audio=True, audio_start=0.5, freq=300)
    from foley_studio.media.audio import read_audio
    for x in (extract_audio(path), read_audio(path)):
        assert np.abs(x[:20_000]).max() < 0.02            # silence before 0.5 s (AAC pre-roll aside)
        assert np.abs(x[26_000:40_000]).max() > 0.3


# -- rotated (phone) video ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def phone_video(tmp_path_factory):
    return make_phone_video(tmp_path_factory.mktemp("phone") / "portrait.mp4", 90)


def test_rotated_probe_reports_displayed_size(phone_video):
    info = probe(phone_video)
    assert info.rotation == 90
    assert (info.width, info.height) == (UPRIGHT_W, UPRIGHT_H)        # displayed: portrait
    assert info.coded_size == (UPRIGHT_H, UPRIGHT_W)                  # stored: landscape
    assert info.to_json()["rotation"] == 90
    plain = probe(make_video(phone_video.parent / "plain.mp4", 0.2, 25, (64, 48), with_audio=False))
    assert plain.rotation == 0 and plain.coded_size == (64, 48)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_frames_come_back_upright(tmp_path, rotation):
    path = make_phone_video(tmp_path / f"rot{rotation}.mp4", rotation, seconds=0.4)
    with av.open(str(path)) as container:                 # the stored picture really is sideways
        stored = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert stored.shape[:2] == ((UPRIGHT_W, UPRIGHT_H) if rotation != 180 else (UPRIGHT_H, UPRIGHT_W))
    assert probe(path).rotation == rotation
    with VideoReader(path) as reader:
        full = reader.frame_at(0.2)
        assert full.shape == (UPRIGHT_H, UPRIGHT_W, 3) and full.flags.c_contiguous
        assert_upright(full)
        scaled = reader.frame_at(0.2, width=24, height=32)
        assert scaled.shape == (32, 24, 3)
        assert_upright(scaled)
        assert reader.frame_at(0.2, height=32).shape == (32, 24, 3)     # other side from the displayed aspect
        assert reader.frame_at(0.2, width=24).shape == (32, 24, 3)
        (_, thumb), = reader.iter_thumbnails([0.1], height=32)
        assert thumb.shape == (32, 24, 3)
        assert_upright(thumb)


def test_rotated_frames_for_encoder_are_upright(phone_video):
    frames = frames_for_encoder(phone_video, 8, 32, end=0.5)
    assert frames.shape == (4, 32, 32, 3)
    with VideoReader(phone_video) as reader:
        upright = reader.frame_at(0.0, width=32, height=43)           # cover 32x32 in a 48x64 picture
    assert_upright(upright)
    np.testing.assert_array_equal(frames[0], upright[5:37])           # centre crop of the upright frame
    red, green = frames[0][0, 2].astype(int), frames[0][0, -3].astype(int)
    assert red[0] > 200 > red[1] and green[1] > 200 > green[0]      # red top-left, green top-right


def test_encoder_frames_read_as_the_model_asks_and_refuse_an_unknown_fit(ntsc_video):
    from foley_studio.media.video import encoder_frames, native_fps
    frames, fps = encoder_frames(ntsc_video, lambda native: (native, 32, "squash"), 0.0, 1.0)
    assert fps == pytest.approx(native_fps(ntsc_video)) and frames.shape[1:] == (32, 32, 3)
    assert frames.shape[0] == math.ceil(fps - 1e-9)
    with pytest.raises(ValueError, match="fit must be 'cover' or 'squash'"):
        frames_for_encoder(ntsc_video, 8, 32, fit="stretch")
