"""Fuzzing `model.checkpoint.read_config` with model configs, valid, near-valid and hostile.

Reading succeeds or raises `CheckpointFormatError` / `WeightsMissingError`, never anything else; a
config that passes describes a model that fits (and, when small, builds with the estimated size).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foley_studio.model import limits
from foley_studio.model.checkpoint import read_config
from foley_studio.model.config import DEMO, PAPER, TINY
from foley_studio.model.errors import CheckpointFormatError, WeightsMissingError
from tests.fuzz_strategies import FUZZ, FUZZ_LONG, dump_json, json_values, mutated

def _meta(config: dict) -> dict:
    return {"format": "foley-studio-model", "format_version": 1, "config": config, "card": {}}


CONFIGS = [TINY.to_dict(), DEMO.to_dict(), PAPER.to_dict()]


def _check_config(meta: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(dump_json(meta), encoding="utf-8")
        try:
            config, _ = read_config(folder)
        except (CheckpointFormatError, WeightsMissingError):
            return
    counts = limits.estimate_parameters(config)
    assert sum(counts.values()) <= limits.MAX_PARAMETERS
    if sum(counts.values()) < 2_000_000 and config.text.kind == "hash" and config.video.kind == "conv":
        from foley_studio.model.foley import FoleyModel
        model = FoleyModel(config)                          # a config that passes builds
        assert sum(p.numel() for p in model.dit.parameters()) == counts["dit"]


@FUZZ
@given(st.sampled_from(CONFIGS).flatmap(lambda c: mutated(c, n_max=4)))
def test_near_valid_model_configs_load_or_raise_checkpoint_errors(config):
    _check_config(_meta(config))


@FUZZ
@given(json_values)
def test_arbitrary_json_as_a_model_config_raises_checkpoint_errors(value):
    _check_config(_meta(value))
    _check_config(value)


@pytest.mark.slow
@FUZZ_LONG
@given(st.sampled_from(CONFIGS).flatmap(lambda c: mutated(c, n_max=6)))
def test_near_valid_model_configs_long_run(config):
    _check_config(_meta(config))
