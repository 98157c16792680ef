"""Warm starts from a saved model folder (what `export.export_model` writes, what `load_pretrained` reads).

A later session continues from a committed model folder when the optimizer state of the original
run is gone: `saved_part` hands one part's weights to a stage, after checking that the part's config
(and only that) matches the run's.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from foley_studio.core.errors import FoleyError
from foley_studio.model.checkpoint import WEIGHTS_FILE, read_config
from foley_studio.model.config import FoleyConfig


class TrainingInitError(FoleyError):
    """A warm start from a model folder that does not fit the run's model config."""


def is_model_folder(path: Path) -> bool:
    """A saved model folder (one weights file for every part), not a stage's run folder."""
    return path.is_dir() and (path / WEIGHTS_FILE).exists()


def saved_part(source: Path, part: str, config: FoleyConfig) -> dict[str, torch.Tensor]:
    """Weights of one part ('autoencoder', 'dit', 'video_encoder') of a saved model folder (warm start)."""
    saved_config, _ = read_config(source)
    mine, theirs = _part_config(config, part), _part_config(saved_config, part)
    if mine != theirs:
        raise TrainingInitError(f"cannot warm-start the {part} from {source}: its config differs "
                                f"({_config_diff(theirs, mine)}); use the same {part} config")
    tensors = load_file(str(Path(source) / WEIGHTS_FILE))
    prefix = f"{part}."
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _part_config(config: FoleyConfig, part: str) -> dict[str, Any]:
    """What a part's weights depend on: its own section, and for the DiT the sizes of what it reads.

    So a run may change, say, the video encoder's frame rate and still warm-start the DiT.
    """
    d = config.to_dict()
    if part == "dit":
        return {"dit": d["dit"], "diffusion": d["diffusion"], "latent_channels": config.latent_channels,
                "video_dim": d["video"]["dim"], "text_dim": d["text"]["dim"]}
    return {part: d[{"autoencoder": "autoencoder", "video_encoder": "video", "text_encoder": "text"}[part]]}


def _config_diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {a[k]} != {b.get(k)}" for k in a if a[k] != b.get(k))[:300]
