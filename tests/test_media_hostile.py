"""Odd and damaged media: headers that lie, non-finite samples, pictures no one can score against."""
from __future__ import annotations

import os
import time
from fractions import Fraction

import numpy as np
import pytest

from foley_studio.cli import main
from foley_studio.core import store
from foley_studio.core.project import Clip, Project, Track, VideoRef
from foley_studio.engine.sources import project_for_video
from foley_studio.media import limits
from foley_studio.media.audio import read_audio, write_audio
from foley_studio.media.errors import CorruptMediaError, MediaError, MediaNotFoundError, MediaWriteError, \
    UnsupportedCodecError
from foley_studio.media.export import export_mix, export_video
from foley_studio.media.probe import probe
from foley_studio.media.video import VideoReader
from tests import hostile_media as H
from tests.media_fixtures import make_tone, make_video


# -- sample rates and channel counts ------------------------------------------------------------
@pytest.mark.parametrize("rate", [1, 999, 2_147_483_647])
def test_a_sample_rate_no_recording_has_is_refused_before_resampling(tmp_path, rate):
    path = H.write_wav(tmp_path / "x.wav", rate=rate, frames=4800)
    t0 = time.perf_counter()
    with pytest.raises(CorruptMediaError, match=rf"header says the sound runs at {rate:,} Hz; Foley Studio reads "
                                               r"1,000-768,000 Hz"):
        read_audio(path)
    assert time.perf_counter() - t0 < 1.0     # no resampler asked for a 48000x ratio


def test_a_1024_channel_wav_is_reported_truly_and_refused_when_read(tmp_path):
    path = H.write_wav(tmp_path / "x.wav", channels=1024, frames=48)
    info = probe(path)
    assert (info.sample_rate, info.channels) == (48_000, 1024)
    assert "1,024 channels" in limits.audio_problem(info)
    with pytest.raises(UnsupportedCodecError, match=r"has 1,024 channels; Foley Studio reads up to 64"):
        read_audio(path)


def test_a_wav_whose_channel_count_cannot_be_read_is_refused(tmp_path):
    info = probe(H.write_wav(tmp_path / "x.wav", channels=65535, frames=1))
    assert "no channel count can be read" in limits.audio_problem(info)


def test_decoded_size_is_bounded_before_reading():
    with pytest.raises(UnsupportedCodecError, match=r"12\.0 h of 2 channel\(s\) would need 15\.4 GiB to decode"):
        limits.check_decoded_size("long.wav", 48_000 * 3600 * 12, 48_000, 2)
    limits.check_decoded_size("ok.wav", 48_000 * 3600, 48_000, 2)


@pytest.mark.parametrize("args, message", [
    (lambda p: H.write_wav(p, rate=1), r"its sound cannot be used: its header says the sound runs at 1 Hz"),
    (lambda p: H.write_wav(p, rate=2_147_483_647), r"runs at 2,147,483,647 Hz"),
    (lambda p: H.write_wav(p, channels=1024, frames=48), r"has 1,024 channels"),
])
def test_info_describes_the_file_then_says_why_it_cannot_be_used(tmp_path, capsys, args, message):
    path = args(tmp_path / "x.wav")
    assert main(["info", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "audio      pcm_s16le" in out and " 0 channel" not in out
    assert err.startswith(f"foley-studio: error: {path}: ") and "Traceback" not in err
    import re
    assert re.search(message, err)


# -- non-finite samples ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_samples_are_refused_where_they_are_read(tmp_path, bad):
    path = H.write_float_wav(tmp_path / "bad.wav", H.tone_with(bad, at=24_000))
    with pytest.raises(CorruptMediaError, match=r"holds 1 sample\(s\) that are not finite numbers \(NaN or "
                                               r"infinity\), the first at 0\.500 s; the file is damaged"):
        read_audio(path)


def test_non_finite_samples_at_another_rate_are_refused_before_the_resampler(tmp_path):
    path = H.write_float_wav(tmp_path / "bad.wav", H.tone_with(float("nan"), n=44_100, at=4410), rate=44_100)
    with pytest.raises(CorruptMediaError, match=r"the first at 0\.100 s"):
        read_audio(path)


def test_add_clip_of_a_nan_wav_is_a_clear_error_and_the_project_is_unchanged(tmp_path, capsys):
    video = make_video(tmp_path / "v.mp4", 1.0, 24, (64, 48))
    project = tmp_path / "p.fsproj"
    assert main(["project", "new", str(video), "-o", str(project)]) == 0
    before = project.read_bytes()
    bad = H.write_float_wav(tmp_path / "nan.wav", H.tone_with(float("nan")))
    assert main(["project", "add-clip", str(project), str(bad), "--at", "0"]) == 2
    err = capsys.readouterr().err
    assert "not finite numbers (NaN or infinity)" in err and str(bad) in err
    assert project.read_bytes() == before


def test_a_project_clip_holding_nan_never_reaches_the_encoder(tmp_path, capsys):
    """A project made elsewhere may point at a damaged float WAV: the video export names it, not AAC."""
    video = make_video(tmp_path / "v.mp4", 1.0, 24, (64, 48))
    bad = H.write_float_wav(tmp_path / "nan.wav", H.tone_with(float("nan")))
    project = Project(video=VideoRef(str(video), 24, 1, 48_000, 64, 48),
                      tracks=[Track(id="t", name="t", clips=[Clip(id="c", source=str(bad), start=0, source_in=0,
                                                                  source_out=48_000)])])
    path = tmp_path / "p.fsproj"
    store.save_project(project, path)
    assert main(["export", str(path), "--video", str(tmp_path / "out.mp4")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "not finite numbers" in err and "container" not in err
    assert not (tmp_path / "out.mp4").exists()


def test_writers_refuse_non_finite_samples_and_name_the_likely_cause(tmp_path):
    mix = np.zeros(4800, np.float32)
    mix[10] = np.inf
    with pytest.raises(MediaWriteError, match=r"not written, the audio to write is damaged .*check the clips' gains"):
        write_audio(tmp_path / "m.wav", mix)
    video = make_video(tmp_path / "v.mp4", 0.5, 24, (64, 48))
    project = Project(video=VideoRef(str(video), 24, 1, 24_000, 64, 48))
    with pytest.raises(MediaWriteError, match=r"out\.mp4: not written, the audio to write is damaged"):
        export_video(project, tmp_path / "out.mp4", mix=np.full(24_000, np.nan, np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_huge_but_finite_samples_that_sum_to_infinity_are_caught_at_the_mix(tmp_path):
    loud = H.write_float_wav(tmp_path / "loud.wav", np.full(4800, 3e38, np.float32))
    clips = [Clip(id=f"c{i}", source=str(loud), start=0, source_in=0, source_out=4800) for i in range(2)]
    project = Project(tracks=[Track(id="t", name="t", clips=clips)])
    with pytest.raises(MediaWriteError, match="damaged"):
        export_mix(project, tmp_path / "mix.wav")


# -- pictures -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda d: make_video(d / "tiny.mp4", 0.5, 24, (2, 2), with_audio=False, codec="mpeg4"),
     r"its picture is 2x2 pixels, smaller than the 16x16"),
    (lambda d: make_video(d / "slow.mp4", 1000.0, Fraction(1, 500), (64, 48), with_audio=False),
     r"its frame rate is 0\.002 fps; Foley Studio scores pictures of 1-1000 fps"),
])
def test_pictures_that_cannot_be_followed_are_refused_by_every_reader(tmp_path, make, message):
    path = make(tmp_path)
    assert probe(path).has_video          # the facts are still there to show
    for open_it in (VideoReader, project_for_video):
        with pytest.raises(UnsupportedCodecError, match=message):
            open_it(path)


def test_an_8000x8000_picture_is_refused_from_its_header(tmp_path):
    from foley_studio.media.probe import MediaInfo

    info = MediaInfo(path="big.mp4", duration=1.0, has_video=True, fps=Fraction(24), width=8000, height=8000)
    assert "8000x8000 pixels (64 MP), larger than 8K" in limits.picture_problem(info)
    info.width, info.height = 7680, 4320
    assert limits.picture_problem(info) is None


def test_a_one_frame_video_is_a_valid_picture(tmp_path):
    path = make_video(tmp_path / "one.mp4", 1 / 24, 24, (64, 48), with_audio=False)
    project = project_for_video(path)
    assert project.video is not None and project.video.duration == 2000
    with VideoReader(path) as reader:
        assert reader.frame_at(0.0).shape == (48, 64, 3)


# -- paths that are not media files ---------------------------------------------------------------
def test_a_name_too_long_or_a_pipe_is_a_media_error(tmp_path):
    with pytest.raises(MediaNotFoundError, match="File name too long"):
        probe(tmp_path / ("x" * 300 + ".wav"))
    os.mkfifo(tmp_path / "fifo.wav")
    with pytest.raises(MediaError, match=r"not a regular file \(a device, pipe or socket\)"):
        read_audio(tmp_path / "fifo.wav")


def test_a_file_shorter_than_a_box_is_not_called_a_truncated_mp4(tmp_path):
    path = tmp_path / "x.wav"
    path.write_bytes(b"R")
    with pytest.raises(CorruptMediaError) as info:
        probe(path)
    assert "moov" not in str(info.value)
