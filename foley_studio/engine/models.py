"""Which model a request names, loaded once per device, with the identity its takes record.

`InstalledModels` asks the model layer's registry for the folder of a name and loads it; a name
with no trained weights becomes `ModelUnavailableError`, whose message says where we looked and
how to get or train one — the engine never falls back to random weights. `StaticModels` serves a
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

from .errors import ModelUnavailableError
from .takes import ModelIdentity

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".safetensors", ".json")
_HASH_BLOCK = 1 << 20


@dataclass
class LoadedModel:
    """A model ready to run, with the name and weights hash its takes record."""

    model: Any                 # foley_studio.model.foley.FoleyModel (duck-typed: tests use fakes)
    identity: ModelIdentity
    path: Path | None = None


class ModelProvider(Protocol):
    def get(self, name: str, device: torch.device) -> LoadedModel: ...


class StaticModels:
    """One in-memory model under one name."""

    def __init__(self, model: Any, name: str, weights_hash: str | None = None, preset: str = ""):
        self.loaded = LoadedModel(model, ModelIdentity(name, weights_hash or state_dict_hash(model), preset))

    def get(self, name: str, device: torch.device) -> LoadedModel:
        if name != self.loaded.identity.name:
            raise ModelUnavailableError(f"model {name!r} is not loaded here (only {self.loaded.identity.name!r})")
        self.loaded.model.to(device)
        return self.loaded


class InstalledModels:
    """Models the registry finds (the repo's `models/` and the user's models folder), cached per device."""

    def __init__(self, registry: Any | None = None):
        self._registry = registry
        self._loaded: dict[tuple[str, str], LoadedModel] = {}
        self._lock = threading.Lock()

    @property
    def registry(self) -> Any:
        if self._registry is None:
            from foley_studio.model.checkpoint import ModelRegistry
            self._registry = ModelRegistry()
        return self._registry

    def get(self, name: str, device: torch.device) -> LoadedModel:
        key = (name, str(device))
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = self._load(name, device)
            return self._loaded[key]

    def _load(self, name: str, device: torch.device) -> LoadedModel:
        from foley_studio.model.checkpoint import load_pretrained
        from foley_studio.model.errors import WeightsMissingError
        folder = self._find(name)
        try:
            model = load_pretrained(folder, device=device)
        except WeightsMissingError as exc:
            raise ModelUnavailableError(f"{exc}\n{train_hint(name)}") from exc
        model.eval()
        preset = getattr(getattr(model, "config", None), "name", "")
        log.info("loaded model %r from %s on %s", name, folder, device)
        return LoadedModel(model, ModelIdentity(name, folder_hash(folder), preset), folder)

    def _find(self, name: str) -> Path:
        try:
            folder = self.registry.find(name)
        except (KeyError, LookupError, FileNotFoundError):
            folder = None
        if folder is None:
            from foley_studio.core.paths import BUNDLED_MODELS_DIR, user_models_dir
            raise ModelUnavailableError(
                f"model {name!r} is not installed: no trained weights in {BUNDLED_MODELS_DIR / name} "
                f"or {user_models_dir() / name}.\n{train_hint(name)}")
        return Path(folder)


def train_hint(name: str) -> str:
    return (f"Train one with `foley-studio train` (see `foley-studio train --help`) and save it as "
            f"'{name}', or copy a trained model folder (config.json + *.safetensors) into the user models "
            "folder; untrained weights would only make noise, so none are used.")


_folder_hashes: dict[tuple, str] = {}


def folder_hash(folder: str | Path) -> str:
    """sha256 over a checkpoint folder's weight and config files (cached by size and mtime)."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES
                   and not p.name.startswith("."))
    key = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    cache_key = (str(folder.resolve()), key)
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
        digest.update(tensor.detach().to("cpu").contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
