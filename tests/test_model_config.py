from __future__ import annotations

import json

import pytest

from foley_studio.core import timebase
from foley_studio.model.config import DEMO, PAPER, PRESETS, TINY, AutoencoderConfig, FoleyConfig, get_preset
from foley_studio.model.errors import ModelError


def test_presets_by_name_and_unknown_name_lists_known():
    assert get_preset("tiny") is TINY and get_preset("demo") is DEMO and get_preset("paper") is PAPER
    with pytest.raises(ValueError, match="demo, paper, tiny") as info:
        get_preset("huge")
    assert isinstance(info.value, ModelError)


def test_rates_and_derived_sizes():
    for config in PRESETS.values():
        assert config.sample_rate == timebase.SAMPLE_RATE and config.hop == 1200
        assert config.latent_rate == 40
        assert config.window_latents == 320 and config.window_samples == 384_000
        assert config.dit_in_channels == 2 * config.latent_channels + config.video.dim + 1
    assert PAPER.latent_channels == 64 and PAPER.dit.depth == 12 and PAPER.text.dim == 768


def test_json_round_trip_and_unknown_keys():
    for config in PRESETS.values():
        data = json.loads(json.dumps(config.to_dict()))
        assert FoleyConfig.from_dict(data) == config
    data = TINY.to_dict()
    data["dit"]["wdith"] = 3
    with pytest.raises(ValueError, match="wdith"):
        FoleyConfig.from_dict(data)
    with pytest.raises(ValueError, match="version 7 is newer"):
        FoleyConfig.from_dict({**TINY.to_dict(), "version": 7})


def test_inconsistent_sizes_are_refused():
    with pytest.raises(ValueError, match="multiply to"):
        AutoencoderConfig(kind="dac", strides=(2, 4, 5))
    with pytest.raises(ValueError, match="timebase"):
        FoleyConfig(autoencoder=AutoencoderConfig(hop=960, frames_per_latent=4))


@pytest.mark.parametrize("field, value, message", [
    ("detail", 9, r"video\.detail"), ("detail", 0, r"video\.detail"), ("max_input_fps", -1, r"video\.max_input_fps"),
    ("max_input_fps", float("nan"), r"video\.max_input_fps"), ("dilations", [1, 0], r"video\.dilations"),
    ("kind", "optical-flow", "kind must be one of conv, motion, pretrained"),
])
def test_motion_encoder_fields_out_of_range_are_refused_by_name(field, value, message):
    data = TINY.to_dict()
    data["video"]["kind"] = "motion"
    data["video"][field] = value
    with pytest.raises((ValueError, ModelError), match=message):
        FoleyConfig.from_dict(data)


def test_motion_encoder_reads_whole_frames_at_the_videos_own_rate():
    from foley_studio.model.config import VideoEncoderConfig
    motion = VideoEncoderConfig(kind="motion", fps=40.0, size=48, detail=2, max_input_fps=60.0)
    assert motion.fit == "squash" and motion.read_size == 96
    assert motion.input_fps(25.0) == 25.0 and motion.input_fps(120.0) == 60.0 and motion.input_fps(None) == 30.0
    conv = VideoEncoderConfig(kind="conv", fps=24.0, size=64, detail=2)
    assert conv.fit == "cover" and conv.read_size == 64 and conv.input_fps(25.0) == 24.0
