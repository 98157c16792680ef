"""Resumable training state without pickle: tensors in safetensors, everything else in JSON.

A run folder holds `checkpoint/last.safetensors` + `checkpoint/last.json`. The JSON is written last
and names the step stored in the tensors, so a crash mid-write leaves the previous pair usable.
Optimizer state is flattened to `optim/<param index>/<key>` tensors plus its param groups in JSON;
EMA weights are `ema/<name>`. Because every random draw of a step is seeded by (seed, step, rank),
model + optimizer + EMA + step is all that a bit-exact resume needs.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn


class EMA:
    """Exponential moving average of a module's floating-point state (parameters and buffers)."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in module.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, module: nn.Module, step: int) -> None:
        # warm-up: early on the average follows the weights closely (decay grows to `decay`)
        d = min(self.decay, (1 + step) / (10 + step))
        for k, v in module.state_dict().items():
            if k in self.shadow:
                self.shadow[k].lerp_(v.detach(), 1.0 - d)

    @contextlib.contextmanager
    def applied(self, module: nn.Module) -> Iterator[None]:
        """Temporarily load the averaged weights into `module` (for samples, probes and export)."""
        backup = {k: v.detach().clone() for k, v in module.state_dict().items() if k in self.shadow}
        module.load_state_dict(self.shadow, strict=False)
        try:
            yield
        finally:
            module.load_state_dict(backup, strict=False)


def step_generator(seed: int, step: int, rank: int) -> torch.Generator:
    """The one source of randomness of a training step on a rank (data, masks, noise, dropout)."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 1_009 + rank)


def save_state(folder: Path, *, step: int, modules: dict[str, nn.Module], optimizer: torch.optim.Optimizer,
               ema: EMA | None = None, meta: dict | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, Tensor] = {"meta/step": torch.tensor(step)}
    for name, module in modules.items():
        for k, v in module.state_dict().items():
            tensors[f"{name}/{k}"] = v.detach().cpu().contiguous()
    if ema is not None:
        for k, v in ema.shadow.items():
            tensors[f"ema/{k}"] = v.cpu().contiguous()
    opt = optimizer.state_dict()
    scalars: dict[str, dict] = {}
    for idx, entry in opt["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"optim/{idx}/{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    tmp = folder / "last.safetensors.part"
    save_file(tensors, str(tmp))
    os.replace(tmp, folder / "last.safetensors")
    info = {"step": step, "param_groups": opt["param_groups"], "optim_scalars": scalars, "meta": meta or {}}
    tmp_json = folder / "last.json.part"
    tmp_json.write_text(json.dumps(info, indent=1))
    os.replace(tmp_json, folder / "last.json")
    return folder / "last.safetensors"


def load_state(folder: Path, *, modules: dict[str, nn.Module], optimizer: torch.optim.Optimizer | None = None,
               ema: EMA | None = None) -> dict | None:
    """Restore what `save_state` wrote; returns its JSON (with 'step'), or None when there is none."""
    folder = Path(folder)
    if not (folder / "last.json").exists():
        return None
    info = json.loads((folder / "last.json").read_text())
    tensors = load_file(str(folder / "last.safetensors"))
    if int(tensors["meta/step"]) != info["step"]:
        raise RuntimeError(f"{folder}: checkpoint tensors (step {int(tensors['meta/step'])}) and JSON "
                           f"(step {info['step']}) disagree; delete the folder's last.* files to restart")
    for name, module in modules.items():
        prefix = f"{name}/"
        module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    if ema is not None:
        for k in ema.shadow:
            ema.shadow[k].copy_(tensors[f"ema/{k}"])
    if optimizer is not None:
        state: dict[int, dict] = {}
        for k, v in tensors.items():
            if k.startswith("optim/"):
                _, idx, key = k.split("/", 2)
                state.setdefault(int(idx), {})[key] = v
        for idx, entry in info["optim_scalars"].items():
            state.setdefault(int(idx), {}).update(entry)
        optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})
    return info
