""""Vary γ" takes: one request per γ (the editor's old preset) against one batched request with per-take `cfgs`.

    python benchmarks/vary_cfg_bench.py                       # tiny and demo, 10 DPM++ steps, CPU
    python benchmarks/vary_cfg_bench.py --models demo --takes 4 --seconds 8 --device cuda

For each model: N takes of one seed at N guidance scales spread around 4 (as the Generate panel's
preset makes them), over a region of `--seconds`. "old" runs N requests of one take each, one after
the other (each its own sampling run with both guidance branches); "new" runs one request whose
takes are sampled together (2N rows per step). Wall seconds of `Pipeline.run` (takes written) after
one warm-up run; one run each, no repetition, so read the ratio as indicative. "tiny" is the TINY
preset with random weights; "demo" is the bundled trained model (models/demo) when installed, else
the DEMO preset with random weights (timing does not depend on the weights).
"""
from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

import numpy as np
import torch

from foley_studio.engine.models import StaticModels
from foley_studio.engine.pipeline import Pipeline
from foley_studio.engine.request import GenerationRequest
from foley_studio.model.config import get_preset
from foley_studio.model.foley import FoleyModel

SR = 48_000
SEED = 11


def load_model(name: str) -> tuple[FoleyModel, str]:
    """The model to time and a line saying what it is."""
    if name == "demo":
        from foley_studio.core.paths import BUNDLED_MODELS_DIR
        from foley_studio.model.checkpoint import load_pretrained
        folder = BUNDLED_MODELS_DIR / "demo"
        if (folder / "model.safetensors").is_file():
            return load_pretrained(folder, device="cpu").eval(), f"bundled weights {folder}"
    config = get_preset(name)
    if config.text.kind == "t5":   # T5 weights are not available offline; same width, hashed tokens
        config = dataclasses.replace(config, text=dataclasses.replace(config.text, kind="hash"))
    torch.manual_seed(0)
    return FoleyModel(config).eval(), f"{name} preset, random weights"


def spread(center: float, n: int) -> tuple[float, ...]:
    """The Generate panel's "vary γ" row: n scales from max(1, center - 2) to center + 2, 2 decimals."""
    return tuple(round(float(g), 2) for g in np.linspace(max(1.0, center - 2.0), center + 2.0, n))


def bench(name: str, *, takes: int, seconds: float, steps: int, device: str) -> None:
    model, what = load_model(name)
    cfgs = spread(4.0, takes)
    base = GenerationRequest(region=(0, round(seconds * SR)), prompt="glass bottle hits a wooden table",
                             quality="high", steps=steps, model=name)
    with tempfile.TemporaryDirectory() as folder:
        pipeline = Pipeline(StaticModels(model, name), takes_dir=folder, device=device)
        pipeline.run(dataclasses.replace(base, region=(0, SR), steps=1, seeds=(0,)))      # warm up
        start = time.perf_counter()
        for g in cfgs:                                  # the old preset: one request (job) per γ
            pipeline.run(dataclasses.replace(base, seeds=(SEED,), cfg=g))
        old = time.perf_counter() - start
        start = time.perf_counter()
        results = pipeline.run(dataclasses.replace(base, seeds=(SEED,) * takes, cfgs=cfgs))
        new = time.perf_counter() - start
    assert [r.guidance for r in results] == list(cfgs)
    print(f"| {name} ({what}) | {takes} | {', '.join(f'{g:g}' for g in cfgs)} | {seconds:g} s | {steps} | "
          f"{old:.2f} | {new:.2f} | {old / new:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny", "demo"])
    parser.add_argument("--takes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"vary_cfg_bench: device {args.device}, torch threads {torch.get_num_threads()}\n")
    print("| model | takes | γ | region | steps | old: 1 request per γ, s | new: 1 request, s | old / new |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models:
        bench(name, takes=args.takes, seconds=args.seconds, steps=args.steps, device=args.device)


if __name__ == "__main__":
    main()
