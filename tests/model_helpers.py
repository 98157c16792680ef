"""Shared helpers for the model tests: a tiny model whose zero-initialised layers are opened up."""
from __future__ import annotations

import torch

from foley_studio.model.config import TINY, FoleyConfig
from foley_studio.model.foley import FoleyModel


def tiny_model(config: FoleyConfig = TINY, *, seed: int = 0) -> FoleyModel:
    """A TINY model whose outputs depend on every input (adaLN-Zero starts with the output at zero)."""
    torch.manual_seed(seed)
    model = FoleyModel(config).eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.dit.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    return model
