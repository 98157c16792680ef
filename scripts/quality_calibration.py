"""Calibrate a model's "high quality" tag: which negative-branch tag keeps its brightness near clean audio.

For each `GuidanceConfig.quality_negative` policy ("opposite", "none", "same") this generates the
first N clips of a world split (default: val, so the test split stays out of model selection) with
video, the true caption and the "high quality" tag, and measures the share of energy above 8 kHz
against the clean audio of the same clips. It also reports untagged takes, which every policy
leaves alone. The chosen policy is the one whose ratio to clean is closest to 1 (in log terms);
`--write` stores it in the model folder's config.json, with the measurement in its card.

    python scripts/quality_calibration.py --model runs/demo2_model --data /work/data/w2/manifest.jsonl --n 6
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from foley_studio.eval.data import load_eval_clips
from foley_studio.eval.quality import quality_metrics
from foley_studio.eval.runner import EvalSettings, Harness
from foley_studio.model.checkpoint import load_pretrained, read_config
from foley_studio.training.export import save_model_folder
from foley_studio.model.config import QUALITY_NEGATIVES, GuidanceConfig


def e8k_percent(outputs) -> float:
    return 100.0 * float(np.nanmean([quality_metrics(o.audio).energy_above_8k for o in outputs]))


def measure(model, clips, settings: EvalSettings) -> dict[str, float]:
    rows: dict[str, float] = {}
    base = model.config
    for policy in QUALITY_NEGATIVES:
        model.config = dataclasses.replace(base, guidance=GuidanceConfig(quality_negative=policy))
        h = Harness(model, clips, None, settings)       # a fresh generation cache per policy
        t = time.perf_counter()
        rows[f"high quality, negative tag: {policy}"] = e8k_percent(
            [h.generate(c, h.default_gen(prompt=c.caption, quality="high")) for c in clips])
        print(f"  {policy}: {rows[f'high quality, negative tag: {policy}']:.2f} % ({time.perf_counter() - t:.0f} s)",
              flush=True)
    model.config = base
    rows["no tag"] = e8k_percent([h.generate(c, h.default_gen(prompt=c.caption)) for c in clips])
    rows["clean audio"] = e8k_percent(h.true_audio("hq"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--cfg", type=float, default=4.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write", action="store_true", help="store the chosen policy in the model folder")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_pretrained(args.model).eval()
    clips = load_eval_clips(args.data, args.split, n=args.n)
    if not clips:
        raise SystemExit(f"no video clips in the {args.split!r} split of {args.data}: nothing to calibrate on")
    t0 = time.perf_counter()
    rows = measure(model, clips, EvalSettings(cfg=args.cfg))
    clean = rows["clean audio"]
    print(f"\n| {args.split} clips: {len(clips)}, CFG {args.cfg:g} | >8 kHz % | × clean |\n|---|---:|---:|")
    for name, value in rows.items():
        print(f"| {name} | {value:.2f} | {value / clean:.2f} |")
    best = min(QUALITY_NEGATIVES, key=lambda p: abs(math.log(max(rows[f"high quality, negative tag: {p}"], 1e-6) / clean)))
    print(f"\nchosen: quality_negative = {best!r} ({time.perf_counter() - t0:.0f} s)")
    if args.write:
        _config, card = read_config(args.model)
        model.config = dataclasses.replace(model.config, guidance=GuidanceConfig(quality_negative=best))
        card["quality tag calibration"] = (
            f"`scripts/quality_calibration.py --n {len(clips)} --split {args.split}` (CFG {args.cfg:g}): energy above "
            "8 kHz with 'high quality', by the tag the negative branch carries: " + ", ".join(
                f"{p} {rows[f'high quality, negative tag: {p}']:.2f} %" for p in QUALITY_NEGATIVES)
            + f"; no tag {rows['no tag']:.2f} %; clean audio {clean:.2f} %. Chosen: {best}.")
        save_model_folder(model, args.model, card)
        print(json.dumps({"written": str(args.model), "quality_negative": best}))


if __name__ == "__main__":
    main()
