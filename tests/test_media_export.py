"""Export: mix and stems (24-bit WAV/FLAC), video with copied picture + mix, OpenTimelineIO."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf

from foley_studio.core.project import Clip, Marker, Project, Track, VideoRef
from foley_studio.media.audio import read_audio
from foley_studio.media.errors import CorruptMediaError, MediaError, MediaWriteError
from foley_studio.media.export import (build_otio, export_all, export_mix, export_otio, export_stems,
                                       export_video)
from foley_studio.media.mixdown import mixdown
from foley_studio.media.probe import probe
from tests.media_fixtures import (UPRIGHT_H, UPRIGHT_W, assert_upright, make_phone_video, make_tone, make_video, tone,
                            video_packets)

Q24 = 2.0 ** -23


@pytest.fixture
def project(tmp_path) -> Project:
    video = make_video(tmp_path / "pic.mp4", 2.0, Fraction(25), (128, 96), True, freq=200)
    info = probe(video)
    ref = VideoRef(str(video), 25, 1, int(round(info.duration * 48_000)), 128, 96)
    a = make_tone(tmp_path / "a.wav", data=tone(1.0, 48_000, 440, amplitude=0.3), subtype="FLOAT")
    b = make_tone(tmp_path / "b.wav", data=tone(0.5, 44_100, 880, amplitude=0.2))
    tracks = [
        Track(id="t1", name="Steps/Left", clips=[Clip("c1", str(a), 12_000, 0, 24_000, gain_db=-3, fade_in=480)]),
        Track(id="t2", name="Cloth", gain_db=2.0, clips=[Clip("c2", str(b), 48_000, 0, 24_000),
                                                         Clip("c3", str(a), 60_000, 100, 20_100)]),
        Track(id="t3", name="Muted", mute=True, clips=[Clip("c4", str(a), 0, 0, 48_000)]),
    ]
    return Project(video=ref, tracks=tracks, markers=[Marker("m1", 24_000, "hit")], name="Test", mix_channels=1)


def test_mix_wav_and_flac_are_24_bit_and_equal_the_mixdown(project, tmp_path):
    expected = mixdown(project)
    for name in ("mix.wav", "mix.flac"):
        path = export_mix(project, tmp_path / name)
        info = sf.info(str(path))
        assert info.subtype == "PCM_24" and info.samplerate == 48_000 and info.channels == 1
        assert np.abs(read_audio(path) - expected).max() <= Q24 + 1e-7
    region = export_mix(project, tmp_path / "region.wav", start=12_000, end=36_000)
    assert sf.info(str(region)).frames == 24_000


def test_stems_per_track_sum_to_the_mix(project, tmp_path):
    paths = export_stems(project, tmp_path / "stems")
    assert [p.name for p in paths] == ["01 Steps_Left.wav", "02 Cloth.wav"]      # muted track skipped
    stems = [read_audio(p) for p in paths]
    assert len({len(s) for s in stems}) == 1
    np.testing.assert_allclose(sum(stems), mixdown(project), atol=3 * Q24)
    all_paths = export_stems(project, tmp_path / "all", include_muted=True, fmt="flac")
    assert len(all_paths) == 3 and all_paths[2].suffix == ".flac"
    with pytest.raises(MediaWriteError, match="unknown format"):
        export_stems(project, tmp_path / "x", fmt="mp3")


@pytest.mark.parametrize("name,codec", [("out.mp4", "aac"), ("out.mov", "pcm"), ("out.mkv", "pcm")])
def test_video_copies_picture_and_carries_the_mix(project, tmp_path, name, codec):
    out = export_video(project, tmp_path / name, audio_codec=codec)
    original = Path(project.video.path)
    assert video_packets(out) == video_packets(original)          # byte-identical: copied, not re-encoded
    info, src = probe(out), probe(original)
    assert info.fps == src.fps and (info.width, info.height) == (128, 96) and info.n_frames == src.n_frames
    assert info.has_audio and info.sample_rate == 48_000 and info.channels == 1
    if name.endswith(".mp4"):
        data = out.read_bytes()
        assert data.find(b"moov") < data.find(b"mdat")          # index first ("faststart")
    with av.open(str(out)) as c:
        assert len(c.streams.audio) == 1 and len(c.streams.video) == 1
        assert c.streams.audio[0].codec_context.name == ("aac" if codec == "aac" else "pcm_s24le")
    mix = mixdown(project, 0, project.video.duration)
    sound = read_audio(out)
    n = min(len(sound), len(mix))
    assert n >= len(mix) - 2
    if codec == "pcm":
        assert np.abs(sound[:n] - mix[:n]).max() <= Q24 + 1e-7
    else:   # lossy, but the same signal: high correlation, same level
        corr = np.corrcoef(sound[2000:n - 2000], mix[2000:n - 2000])[0, 1]
        assert corr > 0.98
        assert np.sqrt(np.mean(sound[:n] ** 2)) == pytest.approx(np.sqrt(np.mean(mix[:n] ** 2)), rel=0.1)


@pytest.mark.parametrize("name,codec", [("phone.mp4", "aac"), ("phone.mov", "pcm"), ("phone.mkv", "pcm")])
def test_video_export_keeps_the_display_rotation(tmp_path, name, codec):
    """A portrait phone clip (coded sideways + rotate 90) must still play upright once muxed."""
    from foley_studio.media.probe import display_matrix
    from foley_studio.media.video import VideoReader
    src = make_phone_video(tmp_path / "portrait.mp4", 90, seconds=0.4)
    info = probe(src)
    project = Project(video=VideoRef(str(src), 25, 1, int(round(info.duration * 48_000)), info.width, info.height))
    out = export_video(project, tmp_path / name, audio_codec=codec)
    assert video_packets(out) == video_packets(src)                  # still a copy, not a re-encode
    muxed = probe(out)
    assert muxed.rotation == 90 and (muxed.width, muxed.height) == (UPRIGHT_W, UPRIGHT_H)
    assert display_matrix(out) == display_matrix(src) == [0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30]
    with VideoReader(out) as reader:
        assert_upright(reader.frame_at(0.2))
    plain = export_video(Project(video=VideoRef(str(make_video(tmp_path / "flat.mp4", 0.3, 25, (64, 48), False)),
                                                25, 1, 14_400, 64, 48)), tmp_path / ("flat_" + name),
                         audio_codec=codec)
    assert probe(plain).rotation == 0 and display_matrix(plain) is None   # nothing invented


def test_video_export_errors(project, tmp_path):
    with pytest.raises(MediaWriteError, match="unknown audio codec 'mp3'"):
        export_video(project, tmp_path / "o.mp4", audio_codec="mp3")
    with pytest.raises(MediaError, match="has no video"):
        export_video(Project(tracks=project.tracks), tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()
    whole = make_video(tmp_path / "whole.mp4", 1.0, 25, (64, 48), False, faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    cut_project = Project(video=VideoRef(str(cut), 25, 1, 48_000, 64, 48))
    with pytest.raises(CorruptMediaError, match=r"cut\.mp4: the file is truncated"):
        export_video(cut_project, tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()


def _track_items(track) -> list:
    return list(track)


def test_otio_round_trip_times(project, tmp_path):
    project.tracks[1].clips.append(Clip("c5", project.tracks[1].clips[0].source, 50_000, 0, 1000))  # overlaps c2
    path = export_otio(project, tmp_path / "t.otio")
    timeline = otio.adapters.read_from_file(str(path))
    video, *audio = timeline.tracks
    assert video.kind == otio.schema.TrackKind.Video
    (pic,) = _track_items(video)
    assert pic.media_reference.target_url == Path(project.video.path).as_uri()
    assert pic.source_range.duration.to_seconds() == pytest.approx(2.0, abs=0.05)
    placed = {}
    for track in audio:
        assert track.kind == otio.schema.TrackKind.Audio
        for item in track.find_clips():
            placed[item.metadata["foley_studio"]["clip_id"]] = (
                item.range_in_parent().start_time.to_seconds(), item.source_range.start_time.to_seconds(),
                item.source_range.duration.to_seconds(), track.name, track.enabled)
    assert placed["c1"][:3] == pytest.approx((0.25, 0.0, 0.5))
    assert placed["c2"][:3] == pytest.approx((1.0, 0.0, 0.5))
    assert placed["c3"][:3] == pytest.approx((1.25, 100 / 48_000, 20_000 / 48_000))
    assert placed["c5"][0] == pytest.approx(50_000 / 48_000) and placed["c5"][3] == "Cloth (2)"   # own lane
    assert placed["c4"][4] is False                                                    # muted: disabled
    assert [m.name for m in timeline.tracks.markers] == ["hit"]


def test_otio_without_video():
    timeline = build_otio(Project(tracks=[Track(id="t", name="t")]))
    assert [t.kind for t in timeline.tracks] == [otio.schema.TrackKind.Audio]


def test_export_all_shares_one_mix(project, tmp_path):
    written = export_all(project, mix=tmp_path / "m.wav", stems=tmp_path / "s", video=tmp_path / "v.mov",
                         otio_path=tmp_path / "t.otio", audio_codec="pcm")
    assert [p.name for p in written] == ["m.wav", "01 Steps_Left.wav", "02 Cloth.wav", "v.mov", "t.otio"]
    assert all(p.exists() for p in written)
