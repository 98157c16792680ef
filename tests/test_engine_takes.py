"""Take files go through `media`: written and read back bit for bit, other rates refused, damage named."""
from __future__ import annotations

import numpy as np
import pytest

from foley_studio.core.errors import FoleyError
from foley_studio.engine.errors import TakeSidecarError
from foley_studio.engine.request import GenerationRequest
from foley_studio.engine.takes import ModelIdentity, TakeStore, audio_sha256, read_take_audio
from foley_studio.media.audio import write_audio

SR = 48_000


def test_a_written_take_reads_back_bit_identically_and_leaves_no_staged_files(tmp_path):
    request = GenerationRequest(mode="text", region=(0, 4_800), prompt="door", steps=2, seeds=(5,), model="fake")
    audio = (np.random.default_rng(0).standard_normal(4_800) * 0.7).astype(np.float32)
    audio[0] = 1.75                        # float takes keep values beyond full scale exactly
    store = TakeStore(tmp_path / "takes")
    result = store.write(audio, request=request, seed=5, model=ModelIdentity("fake", "abc"))
    back = read_take_audio(result.wav_path)
    assert back.dtype == np.float32 and back.shape == (4_800,)
    assert audio_sha256(back) == result.audio_sha256 == audio_sha256(audio)
    assert sorted(p.name for p in (tmp_path / "takes").iterdir()) == sorted(
        [result.wav_path.name, result.sidecar_path.name])
    assert store.list_takes() == [result.take_id]


def test_take_audio_at_another_rate_or_damaged_is_a_clear_error(tmp_path):
    slow = write_audio(tmp_path / "slow.wav", np.zeros(441, np.float32), "FLOAT", sample_rate=44_100)
    with pytest.raises(TakeSidecarError, match="44100 Hz, expected 48000"):
        read_take_audio(slow)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
    with pytest.raises(FoleyError, match="broken.wav"):
        read_take_audio(broken)
