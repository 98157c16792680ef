"""Where the time of one generation goes in the engine, as a Markdown table (all rows from one run).

    python benchmarks/engine_bench.py                         # tiny preset on the CPU
    python benchmarks/engine_bench.py --preset demo --steps 25 --device cuda

For a region of 8 s (one window) and of 24 s (four windows sharing 2 s), with 1 and 4 takes:
wall seconds of `Pipeline.run` (takes written), the share spent in the model's sampler, in the
autoencoder, and everything else (context, planning, crossfades, WAV + sidecar writes). The
"sampler calls" column counts `model.sample` calls: one per window for all takes together (later
windows carry each take's own shared span as one context row; see windows_bench.py for the old
one-call-per-take path). Weights are random (timing does not depend on them).
"""
from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

import torch

from foley_studio.engine.models import StaticModels
from foley_studio.engine.pipeline import Pipeline
from foley_studio.engine.request import GenerationRequest
from foley_studio.model.config import get_preset
from foley_studio.model.foley import FoleyModel

SR = 48_000


class Timed:
    """Wraps a bound method and adds up the seconds spent in it."""

    def __init__(self, fn):
        self.fn, self.seconds, self.calls = fn, 0.0, 0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    config = get_preset(args.preset)
    if config.text.kind == "t5":   # T5 weights are not available offline; same width, hashed tokens
        config = dataclasses.replace(config, text=dataclasses.replace(config.text, kind="hash"))
    torch.manual_seed(0)
    model = FoleyModel(config).eval()
    sample, decode = Timed(model.sample), Timed(model.decode_latents)
    model.sample, model.decode_latents = sample, decode
    print(f"engine_bench: preset {args.preset}, {args.steps} DPM++ steps, device {args.device}, "
          f"torch threads {torch.get_num_threads()}\n")
    print("| region | takes | windows | sampler calls | wall s | sampler % | autoencoder % | engine % | s per take-second |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        pipeline = Pipeline(StaticModels(model, args.preset), takes_dir=folder, device=args.device)
        pipeline.run(GenerationRequest(region=(0, SR), steps=1, seeds=(0,), model=args.preset))   # warm up
        for seconds in (8, 24):
            for takes in (1, 4):
                sample.seconds = decode.seconds = 0.0
                sample.calls = 0
                request = GenerationRequest(region=(0, seconds * SR), prompt="footsteps on gravel", steps=args.steps,
                                            seeds=tuple(range(takes)), model=args.preset)
                start = time.perf_counter()
                results = pipeline.run(request)
                wall = time.perf_counter() - start
                windows = results[0].extra["windows"]
                other = wall - sample.seconds - decode.seconds
                print(f"| {seconds} s | {takes} | {windows} | {sample.calls} | {wall:.2f} | "
                      f"{100 * sample.seconds / wall:.0f} | {100 * decode.seconds / wall:.0f} | "
                      f"{100 * other / wall:.0f} | {wall / (seconds * takes):.3f} |")


if __name__ == "__main__":
    main()
