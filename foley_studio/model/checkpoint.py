"""Model checkpoints: a folder with safetensors weights, a JSON config and a model card.

    <dir>/model.safetensors   weights (never pickle: a .pt/.ckpt/.pth/.bin file is refused)
    <dir>/config.json         {"format": "foley-studio-model", "format_version": 1, "config": {...}, "card": {...}}
    <dir>/README.md           the model card, human-readable (data, training, measured quality)

Frozen external encoders (MiniLM, T5, a pretrained video encoder) are referenced by the config and
loaded from their own files, not copied into the checkpoint. `ModelRegistry` finds checkpoints in
the repository's `models/` and in the user's models folder.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from foley_studio.core import paths
from foley_studio.core.jsonfile import JsonProblem, parse_bounded, read_bounded
from foley_studio.core.safepaths import settle_mode, staging_file
from foley_studio.model.config import FoleyConfig
from foley_studio.model.errors import (
    PICKLE_SUFFIXES, CheckpointFormatError, ConfigMismatchError, PickleRefusedError, WeightsMissingError,
)
from foley_studio.model.foley import FoleyModel
from foley_studio.model.limits import check_size

log = logging.getLogger(__name__)

FORMAT = "foley-studio-model"
FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
MAX_CONFIG_BYTES = 16 * 2**20      # a config with its model card is a few KiB
HOW_TO_GET = ("train one with `foley-studio train autoencoder|dit ...`, or copy a model folder "
              "(model.safetensors + config.json) into {user_dir}")


# ----------------------------------------------------------------------------- save
def save_pretrained(model: FoleyModel, directory: str | Path, card: dict[str, Any] | None = None) -> Path:
    """Write weights, config and card into `directory` (created; existing files replaced atomically)."""
    from safetensors.torch import save_file

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.persistent_state_dict().items()}
    card = dict(card or {})
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": model.config.to_dict(), "card": card}
    with _atomic(out / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp), metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION)})
    with _atomic(out / CONFIG_FILE) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    with _atomic(out / CARD_FILE) as tmp:
        tmp.write_text(render_card(model, card))
    log.info("saved model %s (%d tensors) to %s", model.config.name, len(state), out)
    return out


class _atomic:
    """Write to a temporary file beside `path`, then rename over it (no half-written checkpoints)."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> Path:
        fd, self.tmp = staging_file(self.path)      # the finished file's mode, not mkstemp's 0600
        os.close(fd)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            settle_mode(self.tmp, self.path)
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def render_card(model: FoleyModel, card: dict[str, Any]) -> str:
    """A Markdown model card from the config and the caller's facts (data, steps, hardware, metrics)."""
    counts = model.parameter_counts()
    c = model.config
    lines = [f"# Foley Studio model: {card.get('title', c.name)}", ""]
    if card.get("summary"):
        lines += [str(card["summary"]), ""]
    lines += ["## Architecture", "",
              f"- preset/config name: `{c.name}` (config version {c.version})",
              f"- autoencoder: {c.autoencoder.kind}, {c.sample_rate} Hz <-> {c.latent_rate:g} Hz x "
              f"{c.latent_channels} latents, {counts['autoencoder'] / 1e6:.2f} M parameters",
              f"- DiT: width {c.dit.width}, depth {c.dit.depth}, heads {c.dit.heads}, "
              f"{counts['dit'] / 1e6:.2f} M parameters, {c.diffusion.prediction}-prediction",
              f"- text encoder: {c.text.kind} ({c.text.dim}-d tokens)",
              f"- video encoder: {c.video.kind}, {c.video.fps:g} fps, {c.video.size} px, {c.video.dim}-d", ""]
    for key, value in card.items():
        if key in ("title", "summary"):
            continue
        lines += [f"## {key.replace('_', ' ').capitalize()}", ""]
        if isinstance(value, dict):
            lines += [f"- {k}: {v}" for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            lines += [f"- {v}" for v in value]
        else:
            lines.append(str(value))
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- load
def _refuse_special(path: Path) -> None:
    """A model file that is there but is a pipe, device or folder is named as such (not as missing)."""
    if path.exists() and not path.is_file():
        raise CheckpointFormatError(f"{path} is not a regular file (a folder, device, pipe or socket); copy the model "
                                    "folder again or re-export it with `foley-studio train export`")


def read_config(directory: str | Path) -> tuple[FoleyConfig, dict[str, Any]]:
    """(config, card) of a checkpoint folder, with the errors `load_pretrained` gives."""
    folder = _checkpoint_folder(directory)
    config_path = folder / CONFIG_FILE
    _refuse_special(config_path)
    if not config_path.is_file():
        raise WeightsMissingError(f"model folder {folder} has no {CONFIG_FILE}; a Foley Studio model folder "
                                  f"holds {WEIGHTS_FILE} and {CONFIG_FILE} (written by save_pretrained)")
    try:
        # NaN is read so that the section check can name the field that holds it
        meta = parse_bounded(read_bounded(config_path, MAX_CONFIG_BYTES), allow_nan=True)
    except OSError as exc:
        raise CheckpointFormatError(f"cannot read {config_path}: {exc.strerror or exc}") from None
    except JsonProblem as exc:
        raise CheckpointFormatError(f"{config_path} is not a usable model config ({exc.reason}); copy the model "
                                    "folder again or re-export it with `foley-studio train export`") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointFormatError(f"{config_path} is not a Foley Studio model config (no \"format\": \"{FORMAT}\")")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise CheckpointFormatError(f"{config_path} has format_version {version!r}; this Foley Studio reads "
                                    f"versions 1..{FORMAT_VERSION}. Update Foley Studio to load it.")
    if "config" not in meta:
        raise CheckpointFormatError(f"{config_path} has no \"config\" section (the model's sizes); copy the model "
                                    "folder again or re-export it with `foley-studio train export`")
    try:
        config = FoleyConfig.from_dict(meta["config"])
        check_size(config)                  # ConfigRangeError, before anything is built
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointFormatError(f"the model config in {config_path} is invalid: {exc}") from None
    return config, dict(meta.get("card") or {})


def load_pretrained(directory: str | Path, device: str | torch.device | None = None) -> FoleyModel:
    """Build the model its config describes and load its weights (exactly; eval mode)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = _checkpoint_folder(directory)
    config, _ = read_config(folder)
    weights = folder / WEIGHTS_FILE
    _refuse_special(weights)
    if not weights.is_file():
        raise WeightsMissingError(f"model folder {folder} has no {WEIGHTS_FILE}; copy the weights there or "
                                  + HOW_TO_GET.format(user_dir=paths.user_models_dir()))
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError) as exc:
        raise CheckpointFormatError(f"cannot read {weights}: {exc} (truncated or not a safetensors file)") from None
    model = FoleyModel(config)
    _load_state(model, state, weights)
    model.eval()
    if device is not None:
        model.to(device)
    log.info("loaded model %s from %s", config.name, folder)
    return model


def _load_state(model: FoleyModel, state: dict[str, torch.Tensor], source: Path) -> None:
    expected = model.persistent_state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [f"{k}: file {tuple(state[k].shape)} vs config {tuple(v.shape)}"
             for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or wrong:
        details = "; ".join(filter(None, [
            f"missing {len(missing)} (e.g. {', '.join(missing[:3])})" if missing else "",
            f"unexpected {len(unexpected)} (e.g. {', '.join(unexpected[:3])})" if unexpected else "",
            f"shape mismatch {len(wrong)} (e.g. {'; '.join(wrong[:3])})" if wrong else ""]))
        raise ConfigMismatchError(f"weights {source} do not match the config beside them: {details}. "
                                  f"The config.json and model.safetensors must come from the same save.")
    model.load_state_dict(state, strict=False)


def _checkpoint_folder(directory: str | Path) -> Path:
    """The folder of a checkpoint, refusing pickle files with the reason."""
    path = Path(directory)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise PickleRefusedError(path)
    if path.is_file() and path.name in (WEIGHTS_FILE, CONFIG_FILE):
        path = path.parent
    if not path.exists():
        raise WeightsMissingError(f"model folder {path} does not exist; "
                                  + HOW_TO_GET.format(user_dir=paths.user_models_dir()))
    if not path.is_dir():
        raise CheckpointFormatError(f"{path} is not a model folder (expected a folder with {WEIGHTS_FILE} and "
                                    f"{CONFIG_FILE})")
    if not (path / WEIGHTS_FILE).exists():
        pickles = [p for p in path.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES]
        if pickles:
            raise PickleRefusedError(pickles[0])
    return path


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class ModelInfo:
    """A model folder found by the registry."""

    name: str
    path: Path
    config_name: str
    source: str                       # "bundled" | "user"
    card: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


class ModelRegistry:
    """Models in the repository's `models/` and the user's models folder (user wins on name clashes)."""

    def __init__(self, roots: list[tuple[str, Path]] | None = None):
        self.roots = roots if roots is not None else [
            ("bundled", paths.BUNDLED_MODELS_DIR), ("user", paths.user_models_dir())]

    def list(self) -> list[ModelInfo]:
        found: dict[str, ModelInfo] = {}
        for source, root in self.roots:
            if not root.is_dir():
                continue
            for folder in sorted(p for p in root.iterdir() if (p / CONFIG_FILE).is_file()):
                try:
                    config, card = read_config(folder)
                except (CheckpointFormatError, WeightsMissingError) as exc:
                    log.warning("skipping model folder %s: %s", folder, exc)
                    continue
                found[folder.name] = ModelInfo(folder.name, folder, config.name, source, card)
        return sorted(found.values(), key=lambda m: m.name)

    def find(self, name: str) -> ModelInfo:
        """The model called `name`; a path to a model folder is accepted too."""
        path = Path(name)
        if path.exists() or path.suffix.lower() in PICKLE_SUFFIXES or os.sep in name:
            folder = _checkpoint_folder(path)        # a path: refuse a pickle or a file by its own reason
            config, card = read_config(folder)
            return ModelInfo(folder.name, folder, config.name, "path", card)
        models = {m.name: m for m in self.list()}
        if name in models:
            return models[name]
        known = ", ".join(models) or "none"
        raise WeightsMissingError(f"no model named {name!r} (known models: {known}); "
                               + HOW_TO_GET.format(user_dir=paths.user_models_dir()))

    def load(self, name: str, device: str | torch.device | None = None) -> FoleyModel:
        return load_pretrained(self.find(name).path, device=device)
