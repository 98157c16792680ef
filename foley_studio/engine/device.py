"""Which device runs the model, in which precision, and how to recognise running out of its memory."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import torch

from .errors import EngineError

log = logging.getLogger(__name__)


def choose_device(preference: str | None = None) -> torch.device:
    """CUDA, then Apple MPS, then CPU; `preference` ('cpu', 'cuda', 'cuda:1', 'mps') overrides."""
    if preference:
        device = torch.device(preference)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise EngineError(f"device {preference!r} was asked for but no CUDA GPU is available; "
                              "use --device cpu or install a CUDA build of torch")
        if device.type == "mps" and not _mps_available():
            raise EngineError(f"device {preference!r} was asked for but Apple MPS is not available; use --device cpu")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 on GPUs (the DiT is trained for it and it halves memory); full precision on the CPU,
    where bf16 matmuls are slower and would break bit-for-bit regeneration across machines."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.bfloat16
    return None


@contextlib.contextmanager
def autocast(device: torch.device) -> Iterator[None]:
    dtype = autocast_dtype(device)
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA's OutOfMemoryError and for the RuntimeErrors MPS and the allocator raise."""
    oom_types = tuple(t for t in (getattr(torch, "OutOfMemoryError", None),
                                  getattr(torch.cuda, "OutOfMemoryError", None)) if t is not None)
    if oom_types and isinstance(exc, oom_types):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def release_memory(device: torch.device) -> None:
    """Give cached blocks back after an OOM so the retry with a smaller batch can use them."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return str(device)
