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
