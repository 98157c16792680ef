"""The engine's user-facing errors: a request that cannot run, a model that is not there, no memory."""
from __future__ import annotations

from foley_studio.core.errors import FoleyError


class EngineError(FoleyError):
    """A generation request that cannot be carried out as asked."""


class RequestError(EngineError):
    """A `GenerationRequest` field is missing, out of range or inconsistent with the mode."""


class ModelUnavailableError(EngineError):
    """The named model has no trained weights installed."""


class OutOfMemoryFailure(EngineError):
    """Even one take at a time does not fit in the device's memory."""


class TakeWriteError(EngineError):
    """A take cannot be written where it was asked to go (the folder is a file, read-only, full)."""


class TakeSidecarError(EngineError):
    """A take's JSON sidecar is missing, unreadable, or from a newer Foley Studio."""


class GenerationCancelled(Exception):
    """Raised inside the sampler's callback to stop a job; not an error, so not a FoleyError."""
