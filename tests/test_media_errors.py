"""Bad input (issue 2, item 7): each case raises its own MediaError type naming the file, or reads right."""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess

import numpy as np
import pytest
import soundfile as sf

from foley_studio.core.errors import FoleyError
from foley_studio.media.audio import read_audio, write_audio
from foley_studio.media.errors import (CorruptMediaError, EmptyMediaError, MediaError, MediaNotFoundError,
                                       MediaWriteError, NoAudioStreamError, NoVideoStreamError,
                                       UnsupportedCodecError)
from foley_studio.media.export import export_stems
from foley_studio.media.probe import probe
from foley_studio.media.video import VideoReader, extract_audio, frames_for_encoder
from tests.media_fixtures import make_tone, make_video, tone, with_video_fourcc


def wav_with_format_tag(path, tag: int, n: int = 4800, sr: int = 48_000):
    """A RIFF/WAVE file whose fmt chunk names a codec nobody decodes."""
    data = np.arange(n, dtype="<i2").tobytes()
    fmt = struct.pack("<HHIIHH", tag, 1, sr, sr * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_family_roots_at_foley_error():
    for cls in (CorruptMediaError, UnsupportedCodecError, NoVideoStreamError, NoAudioStreamError,
                EmptyMediaError, MediaWriteError, MediaNotFoundError):
        assert issubclass(cls, MediaError) and issubclass(cls, FoleyError)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.wav"
    with pytest.raises(MediaNotFoundError, match="nowhere.wav: no such file"):
        read_audio(path)
    with pytest.raises(MediaNotFoundError, match="nowhere.wav"):
        probe(path)


def test_garbage_is_corrupt(tmp_path):
    path = tmp_path / "garbage.mp4"
    path.write_bytes(b"\x00\x01not a movie" * 500)
    for fn in (probe, read_audio, VideoReader):
        with pytest.raises(CorruptMediaError, match=r"garbage\.mp4: not a readable media file"):
            fn(path)


VIDEO_OPENERS = [probe, VideoReader, lambda p: frames_for_encoder(p, 8, 32), extract_audio]


@pytest.mark.parametrize("faststart", [False, True], ids=["index_at_end", "index_first"])
def test_half_written_mp4_says_truncated(tmp_path, faststart):
    """Cut in half: with the index last it is lost; with the index first it points past the end.

    The second case opens and decodes "fine" up to the cut, so without the check the picture and
    sound would silently stop halfway.
    """
    good = make_video(tmp_path / "good.mp4", 1.0, faststart=faststart)
    data = good.read_bytes()
    assert (data.find(b"moov") < data.find(b"mdat")) == faststart
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    detail = "the 'mdat' box needs" if not faststart else "its index refers to"
    for fn in VIDEO_OPENERS:
        with pytest.raises(CorruptMediaError, match=rf"cut\.mp4: the file is truncated \({detail} \d+ "
                                                    rf"bytes.*not completely written or copied"):
            fn(cut)
    assert probe(good).duration == pytest.approx(1.0, abs=0.05)     # the whole file is fine


def test_mp4_without_index_says_truncated(tmp_path):
    """A recording that stopped before its index ('moov') was written: every box is whole."""
    good = make_video(tmp_path / "good.mp4", 0.5)
    data = good.read_bytes()
    moov = data.index(b"moov") - 4
    assert moov + int.from_bytes(data[moov:moov + 4], "big") == len(data)     # moov is the last box
    unfinished = tmp_path / "unfinished.mp4"
    unfinished.write_bytes(data[:moov])
    with pytest.raises(CorruptMediaError, match=r"unfinished\.mp4: the file is truncated \(its index, "
                                                r"the 'moov' box, is missing\)"):
        probe(unfinished)


def test_wav_cut_after_header_is_corrupt(tmp_path):
    good = make_tone(tmp_path / "good.wav", 0.2)
    cut = tmp_path / "header_only.wav"
    cut.write_bytes(good.read_bytes()[:30])
    with pytest.raises(CorruptMediaError, match="header_only.wav"):
        read_audio(cut)


def test_truncated_wav_reads_the_part_that_is_there(tmp_path):
    data = tone(1.0, 48_000, 300)
    good = make_tone(tmp_path / "good.wav", data=data, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[: 44 + 2 * 20_000])
    x = read_audio(cut)
    assert 19_000 <= len(x) <= 20_000
    assert np.abs(x - data[: len(x)]).max() < 1e-4


def test_zero_byte_and_zero_length(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(EmptyMediaError, match=r"empty\.wav: the file is empty \(0 bytes\)"):
        read_audio(empty)
    with pytest.raises(EmptyMediaError, match="0 bytes"):
        probe(empty)
    zero = tmp_path / "zero.wav"
    sf.write(zero, np.zeros(0, np.float32), 48_000)
    with pytest.raises(EmptyMediaError, match=r"zero\.wav: holds no audio samples"):
        read_audio(zero)
    with pytest.raises(EmptyMediaError, match=r"zero\.wav: has zero duration"):
        probe(zero)


def test_unsupported_codec(tmp_path):
    path = wav_with_format_tag(tmp_path / "odd_codec.wav", 0x7777)
    with pytest.raises(UnsupportedCodecError, match=r"odd_codec\.wav: the audio codec is not supported"):
        read_audio(path)
    with pytest.raises(UnsupportedCodecError, match=r"odd_codec\.wav: the audio codec is not supported "
                                                    r"\(unknown \(tag 0x7777\): this FFmpeg build has no "
                                                    r"decoder for it\); convert the file"):
        probe(path)


def _has_decoder(name: str) -> bool:
    import av
    try:
        av.Codec(name, "r")
    except Exception:   # noqa: BLE001 - PyAV raises UnknownCodecError or ValueError by version
        return False
    return True


@pytest.mark.parametrize("fourcc,named", [(b"evc1", "evc (fourcc 'evc1')"), (b"zzzz", "unknown (fourcc 'zzzz')")],
                         ids=["known_codec_no_decoder", "unknown_fourcc"])
def test_unsupported_video_codec(tmp_path, fourcc, named):
    """An H.264 MP4 relabelled as MPEG-5 EVC (which FFmpeg knows but this build cannot decode) or as
    a made-up fourcc: every entry point says which codec and how to fix it."""
    if fourcc == b"evc1" and _has_decoder("evc"):
        pytest.skip("this FFmpeg build decodes EVC")
    good = make_video(tmp_path / "good.mp4", 0.5)
    path = with_video_fourcc(good, tmp_path / "odd_video.mp4", fourcc)
    message = (rf"odd_video\.mp4: the video codec is not supported \({re.escape(named)}: this FFmpeg build "
               rf"has no decoder for it\); convert the file to H\.264")
    for fn in (probe, VideoReader, lambda p: frames_for_encoder(p, 8, 32)):
        with pytest.raises(UnsupportedCodecError, match=message):
            fn(path)
    assert probe(good).video_codec == "h264"            # the patch, not the file, is what breaks it


def test_no_video_stream(tmp_path):
    wav = make_tone(tmp_path / "sound.wav", 0.2)
    with pytest.raises(NoVideoStreamError, match=r"sound\.wav: has no video stream"):
        VideoReader(wav)
    with pytest.raises(NoVideoStreamError, match="sound.wav"):
        frames_for_encoder(wav, 8, 32)


def test_no_audio_stream(tmp_path):
    silent = make_video(tmp_path / "silent.mp4", 0.5, with_audio=False)
    with pytest.raises(NoAudioStreamError, match=r"silent\.mp4: has no audio stream"):
        read_audio(silent)
    with pytest.raises(NoAudioStreamError, match="silent.mp4"):
        extract_audio(silent)


def test_u8_and_24_bit_wav_read_exactly(tmp_path):
    data = tone(0.25, 48_000, 500, amplitude=0.8)
    u8 = read_audio(make_tone(tmp_path / "u8.wav", data=data, subtype="PCM_U8"))
    assert u8.dtype == np.float32 and u8.shape == data.shape
    assert np.abs(u8 - data).max() <= 1 / 128 + 1e-6          # one 8-bit step, centred at 0 not 128
    assert abs(float(u8.mean())) < 0.01
    s24 = read_audio(make_tone(tmp_path / "s24.wav", data=data, subtype="PCM_24"))
    assert np.abs(s24 - data).max() <= 2.0 ** -23 + 1e-7


def test_six_channels(tmp_path):
    data = tone(0.2, 48_000, 200, channels=6, amplitude=0.3)   # (N, 6), channel c at 200 * (c + 1) Hz
    path = make_tone(tmp_path / "surround.wav", data=data, subtype="FLOAT")
    multi = read_audio(path, mono=False)
    assert multi.shape == (6, len(data)) and multi.flags.c_contiguous
    np.testing.assert_allclose(multi, data.T, atol=1e-7)
    np.testing.assert_allclose(read_audio(path), data.mean(axis=1), atol=1e-6)
    assert probe(path).channels == 6


def test_stereo_probe(tmp_path):
    """Channel counts come from the layout for compressed and PCM stereo alike."""
    from tests.media_fixtures import make_audio_with_pyav
    aac = probe(make_audio_with_pyav(tmp_path / "stereo.m4a", 0.3, channels=2))
    wav = probe(make_tone(tmp_path / "stereo.wav", 0.3, channels=2))
    assert (aac.channels, aac.audio_codec, aac.sample_rate) == (2, "aac", 48_000)
    assert (wav.channels, wav.audio_codec) == (2, "pcm_s16le")
    assert not aac.has_video and aac.rotation == 0


@pytest.mark.parametrize("sr", [11_025, 22_050, 96_000])
def test_odd_sample_rates_come_back_at_48k(tmp_path, sr):
    path = make_tone(tmp_path / f"tone_{sr}.wav", 0.5, sr, freq=1000, subtype="FLOAT")
    x = read_audio(path)
    n_native = sf.info(str(path)).frames
    assert abs(len(x) - n_native * 48_000 / sr) <= 1
    middle = x[2000:-2000]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    assert np.argmax(spectrum) * 48_000 / len(middle) == pytest.approx(1000, abs=3)   # still 1 kHz
    expected = tone(1.0, 48_000, 1000)[: len(x)]
    assert np.abs(x[1000:-1000] - expected[1000:-1000]).max() < 2e-3


def test_variable_frame_rate_detected_and_frames_by_time(tmp_path):
    times = [0.0, 0.04, 0.08, 0.2, 0.25, 0.5, 0.55, 0.6]
    path = make_video(tmp_path / "vfr.mp4", pts_seconds=times, with_audio=False)
    info = probe(path)
    assert info.variable_frame_rate
    cfr = probe(make_video(tmp_path / "cfr.mp4", 1.0, 25, with_audio=False))
    assert not cfr.variable_frame_rate
    import av
    with av.open(str(path)) as c:
        reference = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with VideoReader(path) as reader:
        # 0.3 s shows the frame stamped 0.25 (index 4), 0.1 s the one stamped 0.08 (index 2).
        np.testing.assert_array_equal(reader.frame_at(0.3), reference[4])
        np.testing.assert_array_equal(reader.frame_at(0.1), reference[2])
        np.testing.assert_array_equal(reader.frame_at(0.52), reference[5])


def test_non_ascii_paths(tmp_path):
    folder = tmp_path / "Geräusche 音"
    folder.mkdir()
    audio = make_tone(folder / "schritte_é.wav", 0.2)
    assert len(read_audio(audio)) == 9600
    video = make_video(folder / "видео.mp4", 0.5)
    assert probe(video).has_video
    with VideoReader(video) as reader:
        assert reader.frame_at(0.2).shape == (120, 160, 3)
    out = write_audio(folder / "mix_ü.flac", np.zeros(100, np.float32))
    assert sf.info(str(out)).frames == 100


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder the OS refuses to write into, even for root (via chattr +i where chmod is not enough)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(folder, 0o555)
    immutable = False
    if os.geteuid() == 0 and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    try:
        probe_file = folder / ".probe"
        try:
            probe_file.touch()
        except OSError:
            pass
        else:
            probe_file.unlink()
            pytest.skip("cannot make a read-only folder here (root without chattr)")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=False)
        os.chmod(folder, 0o755)


def test_read_only_output_folder(read_only_dir, tmp_path):
    with pytest.raises(MediaWriteError, match=r"mix\.wav: cannot write into .*locked.*choose another output folder"):
        write_audio(read_only_dir / "mix.wav", np.zeros(480, np.float32))
    assert list(read_only_dir.iterdir()) == []
    from foley_studio.core.project import new_project
    with pytest.raises(MediaWriteError, match="locked"):
        export_stems(new_project(None, n_tracks=1), read_only_dir / "stems")


def test_missing_output_folder(tmp_path):
    with pytest.raises(MediaWriteError, match=r"the folder .*nope does not exist"):
        write_audio(tmp_path / "nope" / "mix.wav", np.zeros(10, np.float32))


def test_unknown_output_type(tmp_path):
    with pytest.raises(MediaWriteError, match=r"unknown audio file type '\.xyz'"):
        write_audio(tmp_path / "mix.xyz", np.zeros(10, np.float32))
