"""Which model a request names, loaded once per device, with the identity its takes record.

`InstalledModels` asks the model layer's registry for the folder of a name (or accepts a path to
a model folder) and loads it; a name with no trained weights becomes `ModelUnavailableError`, whose
message lists the models there are and how to get or train one — the engine never falls back to
random weights. `StaticModels` serves a
model already in memory (tests, a training preview).
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from foley_studio.model.checkpoint import ModelRegistry, load_pretrained
from foley_studio.model.errors import WeightsMissingError

from .device import set_inference_threads
from .errors import ModelUnavailableError
from .takes import ModelIdentity

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".safetensors", ".json")
_HASH_BLOCK = 1 << 20


class ModelSizes(Protocol):
    """The sizes the engine reads from a model's config."""

    @property
    def hop(self) -> int: ...             # waveform samples per latent frame
    @property
    def window_latents(self) -> int: ...  # latent frames in one model window
    @property
    def latent_channels(self) -> int: ...


class GenerativeModel(Protocol):
    """What the engine needs from a model: `model.foley.FoleyModel` and the tests' fakes promise this.

    Shapes: waves (B, N) float at 48 kHz; latents (B, C_z, T); frames uint8 (T, H, W, 3) read as
    `video_input(native fps) -> (fps, size, fit)` says, encoded to features at `video_fps`. `prepare_conditions` returns whatever `sample` takes.
    `tests/test_engine_model_protocol.py` checks both against this, member by member.
    """

    @property
    def config(self) -> ModelSizes: ...
    @property
    def video_fps(self) -> float: ...
    @property
    def video_size(self) -> int: ...

    def encode_audio(self, wave: torch.Tensor) -> torch.Tensor: ...
    def decode_latents(self, z: torch.Tensor) -> torch.Tensor: ...
    def video_input(self, native_fps: float | None) -> tuple[float, int, str]: ...
    def encode_video(self, frames: torch.Tensor, fps: float | None = None) -> torch.Tensor: ...
    def prepare_conditions(self, *, n_latents: int, video_feats: torch.Tensor | None = None, prompt: str = "",
                           negative_prompt: str | None = None, quality: str | None = None,
                           context_latents: torch.Tensor | None = None, context_mask: torch.Tensor | None = None,
                           reference_latents: torch.Tensor | None = None,
                           reference_video_feats: torch.Tensor | None = None) -> Any: ...
    def sample(self, cond: Any, seeds: list[int], *, steps: int = 25, sampler: str = "dpmpp",
               cfg: float | list[float] | tuple[float, ...] = 4.0,
               callback: Any = None) -> torch.Tensor: ...
    def to(self, device: Any) -> Any: ...
    def eval(self) -> Any: ...
    def state_dict(self) -> dict[str, torch.Tensor]: ...


@dataclass
class LoadedModel:
    """A model ready to run, with the name and weights hash its takes record."""

    model: GenerativeModel
    identity: ModelIdentity
    path: Path | None = None


class ModelProvider(Protocol):
    def get(self, name: str, device: torch.device) -> LoadedModel: ...


class StaticModels:
    """One in-memory model under one name."""

    def __init__(self, model: GenerativeModel, name: str, weights_hash: str | None = None, preset: str = ""):
        self.loaded = LoadedModel(model, ModelIdentity(name, weights_hash or state_dict_hash(model), preset))

    def get(self, name: str, device: torch.device) -> LoadedModel:
        if name != self.loaded.identity.name:
            raise ModelUnavailableError(f"model {name!r} is not loaded here (only {self.loaded.identity.name!r})")
        self.loaded.model.to(device)
        return self.loaded


class InstalledModels:
    """Models the registry finds (the repo's `models/` and the user's models folder), cached per device."""

    def __init__(self, registry: ModelRegistry | None = None):
        self._registry = registry
        self._loaded: dict[tuple[str, str], tuple[tuple, LoadedModel]] = {}
        self._lock = threading.Lock()

    @property
    def registry(self) -> ModelRegistry:
        # Built on first use so the user models folder is looked up when a model is needed.
        if self._registry is None:
            self._registry = ModelRegistry()
        return self._registry

    def get(self, name: str, device: torch.device) -> LoadedModel:
        """The model called `name` on `device`; loaded again only when its files changed (retrained)."""
        with self._lock:
            try:
                folder = Path(self.registry.find(name).path)
            except WeightsMissingError as exc:
                raise ModelUnavailableError(f"{exc}. {NO_RANDOM_WEIGHTS}") from exc
            key, stamp = (name, str(device)), _stamp(folder)
            cached = self._loaded.get(key)
            if cached is None or cached[0] != stamp:
                self._loaded[key] = (stamp, self._load(name, folder, device))
            return self._loaded[key][1]

    @staticmethod
    def _load(name: str, folder: Path, device: torch.device) -> LoadedModel:
        if device.type == "cpu":     # first, so a bad FOLEY_STUDIO_THREADS is reported before the long load
            set_inference_threads()  # no more threads than physical cores (or FOLEY_STUDIO_THREADS)
        try:
            model = load_pretrained(folder, device=device)
        except WeightsMissingError as exc:
            raise ModelUnavailableError(f"{exc}. {NO_RANDOM_WEIGHTS}") from exc
        model.eval()
        log.info("loaded model %r from %s on %s", name, folder, device)
        return LoadedModel(model, ModelIdentity(name, folder_hash(folder), model.config.name), folder)


NO_RANDOM_WEIGHTS = "Foley Studio never generates with untrained weights (they only make noise)."


_folder_hashes: dict[tuple, str] = {}


def _weight_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES
                  and not p.name.startswith("."))


def _stamp(folder: Path) -> tuple:
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in _weight_files(folder))


def folder_hash(folder: str | Path) -> str:
    """sha256 over a checkpoint folder's weight and config files (cached by size and mtime)."""
    folder = Path(folder)
    files = _weight_files(folder)
    cache_key = (str(folder.resolve()), _stamp(folder))
    if cache_key not in _folder_hashes:
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.name.encode() + b"\0")
            with open(path, "rb") as handle:
                while block := handle.read(_HASH_BLOCK):
                    digest.update(block)
        _folder_hashes[cache_key] = digest.hexdigest()
    return _folder_hashes[cache_key]


def state_dict_hash(model: torch.nn.Module) -> str:
    """sha256 over a module's parameters and buffers (for models that never touched a file)."""
    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        digest.update(key.encode() + b"\0")
        digest.update(tensor.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
