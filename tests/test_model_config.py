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
