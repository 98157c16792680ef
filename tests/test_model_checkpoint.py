from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from foley_studio.core import paths
from foley_studio.model.checkpoint import ModelRegistry, load_pretrained, read_config, save_pretrained
from foley_studio.model.config import TINY, DiTConfig
from foley_studio.model.errors import CheckpointFormatError, ConfigMismatchError, ModelError, WeightsMissingError
from foley_studio.model.foley import FoleyModel
from tests.model_helpers import tiny_model



def test_save_then_load_is_bit_exact_and_samples_the_same(tmp_path):
    model = tiny_model(seed=3)
    with torch.no_grad():
        model.autoencoder.latent_std.fill_(1.7)          # buffers travel too
    save_pretrained(model, tmp_path / "m", card={"data": "unit test", "metrics": {"loss": 0.1}})
    loaded = load_pretrained(tmp_path / "m")
    original, reloaded = model.state_dict(), loaded.state_dict()
    assert original.keys() == reloaded.keys()
    assert all(torch.equal(original[k], reloaded[k]) for k in original)
    assert loaded.config == model.config and not loaded.training
    cond_a = model.prepare_conditions(n_latents=16, prompt="door slam")
    cond_b = loaded.prepare_conditions(n_latents=16, prompt="door slam")
    assert torch.equal(model.sample(cond_a, [4], steps=3), loaded.sample(cond_b, [4], steps=3))
    card = (tmp_path / "m" / "README.md").read_text()
    assert "unit test" in card and "width 64" in card
    assert read_config(tmp_path / "m")[1]["metrics"] == {"loss": 0.1}


def test_pickle_checkpoints_are_refused_with_the_reason(tmp_path):
    torch.save(FoleyModel(TINY).state_dict(), tmp_path / "model.pt")
    with pytest.raises(CheckpointFormatError, match="arbitrary code"):
        load_pretrained(tmp_path / "model.pt")
    with pytest.raises(CheckpointFormatError, match="arbitrary code"):
        load_pretrained(tmp_path)                       # a folder with only a pickle in it


def test_missing_folder_and_missing_weights(tmp_path):
    with pytest.raises(WeightsMissingError, match="does not exist"):
        load_pretrained(tmp_path / "nothing")
    save_pretrained(FoleyModel(TINY), tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(WeightsMissingError, match="model.safetensors"):
        load_pretrained(tmp_path / "m")


def test_shape_mismatch_names_the_tensor(tmp_path):
    save_pretrained(FoleyModel(TINY), tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "config.json").read_text())
    meta["config"]["dit"]["width"] = 32                  # config no longer matches the weights
    (tmp_path / "m" / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigMismatchError, match="shape mismatch .*dit"):
        load_pretrained(tmp_path / "m")


def test_unknown_version_and_corrupt_files(tmp_path):
    save_pretrained(FoleyModel(TINY), tmp_path / "m")
    meta_path = tmp_path / "m" / "config.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(CheckpointFormatError, match="format_version 99"):
        load_pretrained(tmp_path / "m")
    meta_path.write_text(json.dumps(meta))
    (tmp_path / "m" / "model.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(CheckpointFormatError, match="cannot read"):
        load_pretrained(tmp_path / "m")
    meta_path.write_text("{not json")
    with pytest.raises(CheckpointFormatError):
        load_pretrained(tmp_path / "m")


def test_external_text_encoder_weights_are_not_saved(tmp_path):
    config = dataclasses.replace(TINY, text=dataclasses.replace(TINY.text, kind="minilm", dim=384),
                                 dit=DiTConfig(width=32, depth=1, heads=2))
    model = FoleyModel(config)
    save_pretrained(model, tmp_path / "m")
    from safetensors import safe_open
    with safe_open(str(tmp_path / "m" / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert keys and not any(k.startswith("text_encoder.") for k in keys)
    loaded = load_pretrained(tmp_path / "m")
    assert torch.equal(loaded.dit.null_text, model.dit.null_text)


def test_registry_lists_bundled_and_user_models(tmp_path):
    bundled = tmp_path / "bundled"
    save_pretrained(FoleyModel(TINY), bundled / "demo")
    save_pretrained(FoleyModel(TINY), paths.user_models_dir() / "mine")
    (paths.user_models_dir() / "junk").mkdir()
    registry = ModelRegistry([("bundled", bundled), ("user", paths.user_models_dir())])
    listed = {m.name: m.source for m in registry.list()}
    assert listed == {"demo": "bundled", "mine": "user"}
    assert registry.load("mine").config == TINY
    with pytest.raises(ModelError, match="known models: demo, mine"):
        registry.find("huge")
