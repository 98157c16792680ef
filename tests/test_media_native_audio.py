"""Audio read at its own rate for a library scan: blocks, format and tags, the FFmpeg fallback, reasons."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from foley_studio.library.metadata import read_metadata
from foley_studio.media import native_audio
from foley_studio.media.errors import NativeAudioError
from foley_studio.media.native_audio import read_native_audio


def _collect(path, **kw):
    starts, blocks = [], []

    def start(info):
        starts.append(info)
        blocks.clear()
        return blocks.append
    info, frames = read_native_audio(path, start, **kw)
    return info, frames, starts, np.concatenate(blocks)


def test_blocks_carry_every_sample_with_the_files_format_and_tags(tmp_path):
    rng = np.random.default_rng(3)
    data = np.clip(0.3 * rng.standard_normal((10_000, 2)), -0.99, 0.99).astype(np.float32)
    path = tmp_path / "st.wav"
    with sf.SoundFile(path, "w", 44_100, 2, subtype="PCM_24") as f:
        f.comment = "two channels"
        f.write(data)
    info, frames, starts, got = _collect(path, block_frames=4_096)
    assert (info.sample_rate, info.channels, info.frames, info.bit_depth) == (44_100, 2, 10_000, 24)
    assert info.codec == "wav/pcm_24" and info.tags["comment"] == "two channels"
    assert frames == 10_000 and len(starts) == 1
    assert got.shape == (10_000, 2) and got.dtype == np.float32 and got.flags["C_CONTIGUOUS"]
    assert np.max(np.abs(got - data)) < 2 ** -22          # 24-bit quantisation only


def test_a_libsndfile_failure_part_way_restarts_the_measurement_with_ffmpeg(tmp_path, monkeypatch):
    t = np.arange(48_000) / 48_000
    path = tmp_path / "tone.wav"
    sf.write(path, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48_000, subtype="PCM_16")
    clean = read_metadata(path)
    real_blocks = sf.SoundFile.blocks

    def fail_after_one(self, *args, **kwargs):
        gen = real_blocks(self, *args, **kwargs)
        yield next(gen)
        raise RuntimeError("Internal psf_fseek() failed")   # what a damaged file can do mid-read
    monkeypatch.setattr(sf.SoundFile, "blocks", fail_after_one)
    info, frames, starts, got = _collect(path, block_frames=1_000)
    assert len(starts) == 2 and info.codec == "pcm_s16le" and frames == 48_000 and got.shape == (48_000, 1)
    again = read_metadata(path)                           # the half-fed first pass must not count
    assert again.duration == clean.duration and again.overview == clean.overview
    assert again.peak_db == pytest.approx(clean.peak_db, abs=1e-6)
    assert again.rms_db == pytest.approx(clean.rms_db, abs=1e-6)


def test_what_no_decoder_reads_gives_one_reason_from_each(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("not audio\n" * 20)
    with pytest.raises(NativeAudioError) as caught:
        read_native_audio(text, lambda info: None)
    assert caught.value.path == str(text)
    assert caught.value.reason.startswith("not a recognised audio format; not decodable audio (")
    assert str(caught.value).startswith(f"{text}: ")


def test_an_empty_recording_is_not_retried(tmp_path, monkeypatch):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 48_000)
    monkeypatch.setattr(native_audio, "_read_with_pyav", lambda *a: pytest.fail("retried with FFmpeg"))
    with pytest.raises(NativeAudioError, match="no audio frames"):
        read_native_audio(path, lambda info: None)
