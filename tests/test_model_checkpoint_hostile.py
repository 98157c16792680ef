"""Hostile model folders: every bad config or weights file is a ModelError naming the file and field,
refused before anything big is allocated; pickles are never opened."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time

import pytest
import torch

from foley_studio.model import limits
from foley_studio.model.checkpoint import load_pretrained, read_config, save_pretrained
from foley_studio.model.config import DEMO, PAPER, TINY, AutoencoderConfig, FoleyConfig
from foley_studio.model.errors import CheckpointFormatError, ModelError, PickleRefusedError, WeightsMissingError
from foley_studio.model.foley import FoleyModel
from tests import hostile_media as H


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models") / "tiny"
    torch.manual_seed(0)
    save_pretrained(FoleyModel(TINY), folder)
    return folder


def _with(tiny_folder, tmp_path, change) -> str:
    folder = tmp_path / "model"
    shutil.copytree(tiny_folder, folder)
    meta = json.loads((folder / "config.json").read_text())
    change(meta["config"])
    (folder / "config.json").write_text(H.dumps_loose(meta))
    return folder


@pytest.mark.parametrize("section, key, value, message", [
    ("dit", "heads", 0, r"dit\.heads is 0; it must be from 1 to 128"),
    ("dit", "width", 1e9, r"dit\.width is 1000000000\.0; it must be a whole number from 8 to 8192"),
    ("dit", "width", 2e5, r"dit\.width is 200000\.0; it must be a whole number"),
    ("dit", "width", 200_000, r"dit\.width is 200000; it must be from 8 to 8192"),
    ("dit", "depth", 1e6, r"dit\.depth is 1000000\.0; it must be a whole number from 1 to 64"),
    ("dit", "mlp_ratio", float("nan"), r"dit\.mlp_ratio is nan; it must be a finite number from 0\.25 to 16"),
    ("autoencoder", "hidden", 1e9, r"autoencoder\.hidden is 1000000000\.0; it must be a whole number"),
    ("autoencoder", "frames_per_latent", 0, r"autoencoder\.frames_per_latent is 0"),
    ("autoencoder", "strides", [0], r"autoencoder\.strides\[0\] is 0"),
    ("autoencoder", "strides", "abc", r"autoencoder\.strides is 'abc'; it must be a list"),
    ("text", "vocab_size", 1, r"text\.vocab_size is 1; it must be from 2"),
    ("video", "fps", float("nan"), r"video\.fps is nan; it must be a finite number from 1 to 240"),
    ("video", "fps", float("inf"), r"video\.fps is inf"),
    ("video", "size", 10**6, r"video\.size is 1000000; it must be from 8 to 1024"),
    ("video", "channels", [10**9], r"video\.channels\[0\] is 1000000000"),
    ("video", "path", "a\x00b", r"video\.path holds a NUL character"),
    ("", "window_seconds", float("nan"), r"window_seconds is nan"),
    ("", "window_seconds", 0.0, r"window_seconds is 0\.0; it must be from 0\.5 to 60"),
])
def test_a_config_value_out_of_range_is_refused_naming_the_field(tiny_folder, tmp_path, section, key, value, message):
    def change(config):
        (config[section] if section else config)[key] = value
    folder = _with(tiny_folder, tmp_path, change)
    with pytest.raises(CheckpointFormatError, match=r"the model config in .*config\.json is invalid: " + message):
        load_pretrained(folder)


def test_a_config_describing_a_huge_model_is_refused_before_any_tensor(tiny_folder, tmp_path, monkeypatch):
    def change(config):
        config["dit"].update(width=8192, depth=64, heads=64)
    folder = _with(tiny_folder, tmp_path, change)
    monkeypatch.setattr(FoleyModel, "__init__", lambda *a, **k: pytest.fail("the model must not be built"))
    t0 = time.perf_counter()
    with pytest.raises(CheckpointFormatError, match=r"it describes a model of \d+\.\d billion parameters \(dit \d+\.\d+ B"
                                                    r".* more than the 1\.5 billion Foley Studio loads"):
        load_pretrained(folder)
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.parametrize("config", [TINY, DEMO, dataclasses.replace(
    TINY, autoencoder=AutoencoderConfig(kind="dac", latent_channels=8, channels=4, strides=(2, 4, 5, 6, 5),
                                        max_channels=32))])
def test_the_parameter_estimate_matches_the_built_model(config):
    model = FoleyModel(config)
    built = {"autoencoder": model.autoencoder, "dit": model.dit, "video": model.video_encoder}
    if not model.text_encoder.external_weights:
        built["text"] = model.text_encoder
    estimate = limits.estimate_parameters(config)
    for name, module in built.items():
        assert estimate[name] == sum(p.numel() for p in module.parameters()), name


def test_the_paper_scale_fits_and_an_unknown_kind_is_counted_on_the_meta_device(monkeypatch):
    assert 0.2e9 < sum(limits.estimate_parameters(PAPER).values()) < limits.MAX_PARAMETERS
    monkeypatch.delitem(limits.ESTIMATORS, ("video", "conv"))
    assert limits.estimate_parameters(TINY)["video"] == sum(
        p.numel() for p in FoleyModel(TINY).video_encoder.parameters())


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe\x00garbage\x80", r"is not a usable model config \(not UTF-8 text at byte 0\)"),
    (H.nested_json(100_000).encode(), r"is not a usable model config \(it is nested deeper than 32 levels\)"),
    (b"[]", r"is not a Foley Studio model config"),
    (b'{"format": "foley-studio-model", "format_version": 1, "config": 5}', r"must be an object, found int"),
    (b'{"format": "foley-studio-model", "format_version": 1, "config": {"dit": 5}}',
     r"section 'dit' must be an object, found int"),
])
def test_unreadable_configs_are_checkpoint_format_errors(tiny_folder, tmp_path, content, message):
    folder = tmp_path / "model"
    shutil.copytree(tiny_folder, folder)
    (folder / "config.json").write_bytes(content)
    with pytest.raises(CheckpointFormatError, match=message):
        read_config(folder)


def test_a_pretrained_video_encoder_that_is_not_safetensors_is_refused(tiny_folder, tmp_path):
    not_tensors = tmp_path / "enc.safetensors"
    not_tensors.write_text("not tensors")
    pickle = H.write_pickle(tmp_path / "enc.pt")
    for i, (target, error, message) in enumerate(((not_tensors, CheckpointFormatError, "cannot read the video encoder weights .*not "
                                                                        "a safetensors file"),
                                   (pickle, PickleRefusedError, r"refusing to load .*enc\.pt: pickle checkpoints"),
                                   (H.write_pickle(tmp_path / "p.safetensors"), CheckpointFormatError, "cannot read"))):
        folder = _with(tiny_folder, tmp_path / f"case{i}",
                       lambda c, t=target: c["video"].update(kind="pretrained", path=str(t)))
        with pytest.raises(error, match=message):
            load_pretrained(folder)


def test_weights_for_another_video_encoder_shape_are_a_model_error(tiny_folder, tmp_path):
    from safetensors.torch import save_file

    wrong = tmp_path / "enc.safetensors"
    save_file({"proj.weight": torch.zeros(3, 3), "proj.bias": torch.zeros(3)}, str(wrong))
    folder = _with(tiny_folder, tmp_path, lambda c: c["video"].update(kind="pretrained", path=str(wrong)))
    with pytest.raises(ModelError, match="video encoder weights .* do not fit the config's video section"):
        load_pretrained(folder)


def test_a_t5_folder_holding_only_a_pickle_is_refused_like_any_pickle(tiny_folder, tmp_path):
    t5 = tmp_path / "t5"
    t5.mkdir()
    (t5 / "config.json").write_text('{"model_type": "t5"}')
    H.write_pickle(t5 / "pytorch_model.bin")
    folder = _with(tiny_folder, tmp_path, lambda c: c["text"].update(kind="t5", dim=64, path=str(t5)))
    with pytest.raises(PickleRefusedError, match=r"refusing to load .*pytorch_model\.bin: pickle checkpoints"):
        load_pretrained(folder)


def test_a_model_path_that_is_a_pickle_is_refused_by_the_registry(tmp_path):
    from foley_studio.model.checkpoint import ModelRegistry

    pickle = H.write_pickle(tmp_path / "model.pt")
    with pytest.raises(PickleRefusedError):
        ModelRegistry(roots=[]).find(str(pickle))
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsMissingError, match="has no config.json"):
        ModelRegistry(roots=[]).find(str(tmp_path / "empty"))


def test_presets_and_the_bundled_demo_config_pass_the_bounds():
    from foley_studio.core.paths import BUNDLED_MODELS_DIR

    for preset in (PAPER, DEMO, TINY):
        assert FoleyConfig.from_dict(preset.to_dict()) == preset
    config, card = read_config(BUNDLED_MODELS_DIR / "demo")
    # demo v2: the motion video encoder at the latent rate, and its quality tag calibrated (see its card)
    assert (config.video.kind, config.video.fps) == ("motion", 40.0)
    assert config.guidance.quality_negative == "same" and "Chosen: same" in card["quality tag calibration"]


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
@pytest.mark.parametrize("special", ["pipe", "folder"])
def test_a_model_file_that_is_a_pipe_or_a_folder_is_named_so_without_waiting(tiny_folder, tmp_path, name, special):
    folder = tmp_path / "model"
    shutil.copytree(tiny_folder, folder)
    (folder / name).unlink()
    os.mkfifo(folder / name) if special == "pipe" else (folder / name).mkdir()
    t0 = time.perf_counter()
    with pytest.raises(CheckpointFormatError, match=rf"{name} is not a regular file \(a folder, device, pipe"):
        load_pretrained(folder)
    assert time.perf_counter() - t0 < 5.0
