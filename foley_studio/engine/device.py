"""Which device runs the model, in which precision, how many CPU threads it may use, and how to
recognise running out of its memory."""
from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import torch

from .errors import EngineError

log = logging.getLogger(__name__)

THREADS_ENV = "FOLEY_STUDIO_THREADS"
_SYS_CPU = Path("/sys/devices/system/cpu")
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def choose_device(preference: str | None = None) -> torch.device:
    """CUDA, then Apple MPS, then CPU; `preference` ('cpu', 'cuda', 'cuda:1', 'mps') overrides."""
    if preference:
        try:
            device = torch.device(preference)
        except (RuntimeError, ValueError):
            raise EngineError(f"device {preference!r} is not a device name; use cpu, cuda, cuda:N or mps") from None
        if device.type not in ("cpu", "cuda", "mps"):
            raise EngineError(f"device {preference!r} is not one Foley Studio runs on; use cpu, cuda, cuda:N or mps")
        if device.type == "cuda" and not torch.cuda.is_available():
            raise EngineError(f"device {preference!r} was asked for but no CUDA GPU is available; "
                              "use --device cpu or install a CUDA build of torch")
        if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
            raise EngineError(f"device {preference!r} was asked for but this machine has "
                              f"{torch.cuda.device_count()} CUDA GPU(s); use cuda:0 or --device cpu")
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


# What the allocators say when they run out: CUDA and MPS ("... out of memory ..."), and PyTorch's
# CPU allocator ("DefaultCPUAllocator: can't allocate memory: you tried to allocate ... bytes").
_OOM_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory")


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA's OutOfMemoryError, Python's MemoryError (numpy) and the RuntimeErrors the MPS and
    CPU allocators raise."""
    oom_types = tuple(t for t in (getattr(torch, "OutOfMemoryError", None),
                                  getattr(torch.cuda, "OutOfMemoryError", None)) if t is not None)
    if isinstance(exc, MemoryError) or (oom_types and isinstance(exc, oom_types)):
        return True
    return isinstance(exc, RuntimeError) and any(words in str(exc).lower() for words in _OOM_WORDS)


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


# ----------------------------------------------------------------------------- CPU threads
def thread_cap_from_env(environ: Mapping[str, str] | None = None) -> int | None:
    """The user's cap on inference threads from `FOLEY_STUDIO_THREADS` (None when unset or empty)."""
    raw = (os.environ if environ is None else environ).get(THREADS_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise EngineError(f"environment variable {THREADS_ENV}={raw!r} is not a positive whole number; set it to the "
                          f"most CPU threads generation may use (e.g. {THREADS_ENV}=4) or unset it")
    return value


def physical_cores() -> int:
    """CPU cores this process may really use: hyper-thread siblings count once, and the CPU affinity
    mask and a cgroup (container) CPU quota are respected. Falls back to the logical CPU count."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    cores = set()
    for cpu in cpus:
        topology = _SYS_CPU / f"cpu{cpu}" / "topology"
        try:
            package = (topology / "physical_package_id").read_text().strip()
            cores.add((package, (topology / "core_id").read_text().strip()))
        except OSError:          # no sysfs topology (macOS, Windows, some containers): one core per CPU
            cores.add(("", str(cpu)))
    count = max(1, len(cores))
    quota = _cgroup_cpu_quota()
    return count if quota is None else max(1, min(count, quota))


def _cgroup_cpu_quota() -> int | None:
    """Whole CPUs a cgroup v2 quota allows (`cpu.max` "quota period"), None without a quota."""
    try:
        quota, period = _CGROUP_CPU_MAX.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def set_inference_threads(environ: Mapping[str, str] | None = None) -> int:
    """Set torch's intra-op threads for CPU inference; returns the count now in effect.

    Threads beyond the physical cores only contend with each other (and with the UI thread), so
    the count is at most the physical cores. `FOLEY_STUDIO_THREADS` caps it further and, being the
    user's explicit choice for Foley Studio, is honoured as asked; without it the count is never
    raised above what the process already uses, so `OMP_NUM_THREADS` or an earlier
    `torch.set_num_threads` that asked for fewer still wins.
    """
    cap = thread_cap_from_env(environ)
    current = torch.get_num_threads()
    threads = min(physical_cores(), cap if cap is not None else current)
    if threads != current:
        torch.set_num_threads(threads)
        log.info("CPU inference uses %d thread(s) (was %d; %s)", threads, current,
                 f"{THREADS_ENV}={cap}" if cap is not None else "physical cores")
    return threads
