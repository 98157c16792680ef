"""Errors a user can cause when choosing, loading or saving a model."""
from __future__ import annotations

from foley_studio.core.errors import FoleyError


class ModelError(FoleyError):
    """A model cannot be built, loaded or run as asked."""


class WeightsMissingError(ModelError):
    """Weights (a checkpoint or a pretrained encoder) are not where the configuration says."""


class CheckpointFormatError(ModelError):
    """A checkpoint in a format we refuse (pickle) or cannot read (corrupt, unknown version)."""


class ConfigMismatchError(ModelError):
    """Weights whose names or shapes do not match the configuration stored beside them."""


class UnknownNameError(ModelError, ValueError):
    """A preset, sampler or model name that does not exist; the message lists the known ones."""


class ConfigRangeError(CheckpointFormatError, ValueError):
    """A model config value of the wrong kind or out of range (NaN, a zero head count, a terabyte-sized layer)."""


PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".pkl", ".pickle")


class PickleRefusedError(CheckpointFormatError):
    """Weights stored as a pickle, which can run code when opened: never loaded, whoever points at them."""

    def __init__(self, path: object):
        super().__init__(
            f"refusing to load {path}: pickle checkpoints (.pt/.ckpt/.bin/...) can run arbitrary code when opened. "
            "Convert it once, in a trusted environment, to safetensors (for a Foley Studio model, a folder with "
            "model.safetensors + config.json: foley_studio.model.checkpoint.save_pretrained)")
        self.path = path
