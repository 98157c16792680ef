"""The MultiFoley model in pure torch: autoencoder, DiT, encoders, samplers, guidance, checkpoints.

Knows no files beyond its own checkpoints, no jobs and no screens. Heavy imports (torch) happen when
these names are first used, so `import foley_studio.model` stays cheap for the CLI's help.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "FoleyConfig": "config", "get_preset": "config", "PAPER": "config", "DEMO": "config", "TINY": "config",
    "FoleyModel": "foley", "Conditions": "guidance",
    "save_pretrained": "checkpoint", "load_pretrained": "checkpoint", "ModelRegistry": "checkpoint",
    "ModelError": "errors", "WeightsMissingError": "errors", "CheckpointFormatError": "errors",
    "ConfigMismatchError": "errors", "UnknownNameError": "errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:   # pragma: no cover
    from foley_studio.model.checkpoint import ModelRegistry, load_pretrained, save_pretrained
    from foley_studio.model.config import DEMO, PAPER, TINY, FoleyConfig, get_preset
    from foley_studio.model.errors import (
        CheckpointFormatError, ConfigMismatchError, ModelError, UnknownNameError, WeightsMissingError,
    )
    from foley_studio.model.foley import FoleyModel
    from foley_studio.model.guidance import Conditions


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'foley_studio.model' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f"foley_studio.model.{_EXPORTS[name]}"), name)
