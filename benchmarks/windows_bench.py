"""Long regions with several takes: later windows batched over the takes vs one call per take.

    python benchmarks/windows_bench.py                        # tiny, 20 s region, 4 takes, CPU
    python benchmarks/windows_bench.py --preset demo --steps 25

Every window after the first continues each take's own previous window, so its given latents
differ per take. The engine now passes them as one context row per take and samples all takes in
one call per window; before, it made one `model.sample` call per take for those windows. The old
path is emulated here by a model wrapper that splits each per-row call into single-take calls
(same seeds, same conditions row by row: the takes it makes are the same to float rounding).
Both paths run the whole `Pipeline.render` (conditions, sampling, decoding, crossfades), in
interleaved rounds; the best wall time of each counts. Also timed: one guided step at γ = 0
(positive rows only) vs γ = 4 (both branches). Weights are random (timing does not depend on them).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np
import torch

from foley_studio.engine.models import StaticModels
from foley_studio.engine.pipeline import Pipeline
from foley_studio.engine.request import GenerationRequest
from foley_studio.model.config import get_preset
from foley_studio.model.foley import FoleyModel
from foley_studio.model.guidance import guided_denoiser

SR = 48_000


class Wrapped(torch.nn.Module):
    """A FoleyModel that counts and times its sample calls; with `per_take`, a call carrying one
    context row per take (a later window) runs one take at a time, as the engine did before."""

    def __init__(self, model: FoleyModel, *, per_take: bool):
        super().__init__()
        self.inner = model
        self.per_take = per_take
        self.calls = 0
        self.seconds = 0.0        # in model.sample during the last render

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.inner, name)

    def sample(self, cond, seeds: list[int], **kwargs) -> torch.Tensor:
        start = time.perf_counter()
        if self.per_take and cond.given_rows is not None:
            rows = [self.inner.sample(dataclasses.replace(cond, given=cond.given[b]), [seed], **kwargs)
                    for b, seed in enumerate(seeds)]
            out, self.calls = torch.cat(rows), self.calls + len(seeds)
        else:
            out, self.calls = self.inner.sample(cond, seeds, **kwargs), self.calls + 1
        self.seconds += time.perf_counter() - start
        return out


def build(preset: str) -> FoleyModel:
    config = get_preset(preset)
    if config.text.kind == "t5":   # T5 weights are not available offline; same width, hashed tokens
        config = dataclasses.replace(config, text=dataclasses.replace(config.text, kind="hash"))
    torch.manual_seed(0)
    model = FoleyModel(config).eval()
    with torch.no_grad():      # open the zero-initialised layers so every path computes real numbers
        for p in model.dit.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model


def step_times(model: FoleyModel, takes: int, repeats: int) -> dict[str, float]:
    """Seconds of one guided denoiser step of `takes` rows over one full window, γ = 0 and γ = 4."""
    n = model.config.window_latents
    cond = model.prepare_conditions(n_latents=n, prompt="footsteps on gravel", negative_prompt="music")
    x = torch.randn(takes, model.config.latent_channels, n)
    denoisers = {cfg: guided_denoiser(model.dit, model.schedule, cond, takes, cfg) for cfg in (0.0, 4.0)}
    best = {cfg: float("inf") for cfg in denoisers}
    with torch.no_grad():
        for fn in denoisers.values():
            fn(x, 0.5)                      # warm-up
        for _ in range(max(3, repeats)):
            for cfg, fn in denoisers.items():
                start = time.perf_counter()
                fn(x, 0.5)
                best[cfg] = min(best[cfg], time.perf_counter() - start)
    return {"cfg0": best[0.0], "cfg4": best[4.0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--takes", type=int, default=4)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=2, help="interleaved rounds; the best time of each counts")
    args = parser.parse_args()
    model = build(args.preset)
    request = GenerationRequest(region=(0, int(args.seconds * SR)), prompt="footsteps on gravel", steps=args.steps,
                                seeds=tuple(range(args.takes)), model=args.preset)
    paths = {"batched": Wrapped(model, per_take=False), "per take": Wrapped(model, per_take=True)}
    pipelines = {k: Pipeline(StaticModels(m, args.preset, weights_hash="bench"), device="cpu")
                 for k, m in paths.items()}
    best = {k: float("inf") for k in paths}
    sampling = dict(best)
    audio = {}
    for _ in range(args.repeats):
        for key, pipeline in pipelines.items():
            paths[key].calls, paths[key].seconds = 0, 0.0
            start = time.perf_counter()
            rendered = pipeline.render(request)
            best[key] = min(best[key], time.perf_counter() - start)
            sampling[key] = min(sampling[key], paths[key].seconds)
            audio[key] = rendered.audio
    windows = len(rendered.windows)
    gap = max(float(np.abs(audio["batched"][s] - audio["per take"][s]).max()) for s in request.seeds)
    steps = step_times(model, args.takes, args.repeats)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"windows_bench: preset {args.preset}, {args.seconds:g} s region, {args.takes} takes, {windows} windows, "
          f"{args.steps} DPM++ steps, CPU, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"load average {load:.1f}\n")
    print("| path | sample calls | wall s (render) | of it in model.sample | s per take-second |")
    print("|---|---|---|---|---|")
    for key in paths:
        print(f"| {key} | {paths[key].calls} | {best[key]:.2f} | {sampling[key]:.2f} | "
              f"{best[key] / (args.seconds * args.takes):.3f} |")
    print(f"\nper take / batched: render {best['per take'] / best['batched']:.2f}x, "
          f"model.sample {sampling['per take'] / sampling['batched']:.2f}x; "
          f"largest sample difference between the paths: {gap:.2e}")
    print(f"one guided step of {args.takes} takes x {model.config.window_latents} latents: "
          f"γ=4 {steps['cfg4'] * 1e3:.1f} ms, γ=0 {steps['cfg0'] * 1e3:.1f} ms, "
          f"ratio γ=4 / γ=0 {steps['cfg4'] / steps['cfg0']:.2f}")


if __name__ == "__main__":
    main()
