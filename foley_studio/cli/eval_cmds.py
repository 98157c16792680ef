"""`foley-studio eval`: run the evaluation protocols on a model and write the report; `eval ood-generate`
writes the out-of-domain split, `eval readout` runs the linear onset read-out of a video encoder."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .arguments import count, number

PROTOCOL_NAMES = ("v2a", "text", "extension", "quality", "sampler")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands; each sets `handler=` to a function(args) -> exit code."""
    p = sub.add_parser(
        "eval", help="measure sync, control, extension, quality and samplers on held-out clips",
        description="Generate with a model on the held-out split of a Foley-world manifest and score the "
                    "results against exact ground truth; prints the tables and writes EVALUATION.md and "
                    "EVALUATION.json into --out.")
    p.add_argument("--model", default="demo", help="model name from the registry, or a model folder (default: demo)")
    p.add_argument("--data", type=Path, default=None,
                   help="(required) manifest.jsonl of a Foley world (`foley-studio world generate`); its train "
                        "split trains the evaluation classifier, --split is evaluated")
    p.add_argument("--split", default="test", choices=("test", "val", "train"), help="split to evaluate (default: test)")
    p.add_argument("--n", type=int, default=None, help="evaluate only the first N clips of the split")
    p.add_argument("--protocol", action="append", choices=PROTOCOL_NAMES, dest="protocols",
                   help="protocol to run (repeatable; default: all five)")
    p.add_argument("--out", type=Path, default=None,
                   help="(required) folder for the report and its numbers (<report-name>.md / .json)")
    p.add_argument("--ood", type=Path, default=None, metavar="MANIFEST",
                   help="also report sync on an out-of-domain split (`foley-studio eval ood-generate`): one more "
                        "table with the same sync columns, after the protocols")
    p.add_argument("--report-name", default="EVALUATION.md", help="file name of the markdown report in --out")
    p.add_argument("--cfg", type=float, default=4.0, help="classifier-free guidance scale (default 4.0)")
    p.add_argument("--steps", type=int, default=25, help="DPM++ steps for every protocol but 'sampler' (default 25)")
    p.add_argument("--fast-steps", type=int, default=10, help="few-step DPM++ row of the sampler table (default 10)")
    p.add_argument("--ddim-steps", type=int, default=100, help="DDIM row of the sampler table (default 100)")
    p.add_argument("--seed", type=int, default=0, help="clip i is generated with seed + i (default 0)")
    p.add_argument("--classifier-epochs", type=int, default=None, help="epochs of the evaluation classifier")
    p.add_argument("--retrain-classifier", action="store_true", help="ignore the cached evaluation classifier")
    p.add_argument("--embedder", metavar="NAME=WEIGHTS", default=None,
                   help="a real evaluator for FD and continuity from local weights: clap=FOLDER, "
                        "passt=FILE.pt or vggish=FILE.pt (TorchScript); default: the built-in classifier")
    p.add_argument("--device", default="cpu", help="torch device for the model, e.g. cpu or cuda (default cpu)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads (1 is often fastest on a busy shared CPU; default: torch's choice)")
    p.set_defaults(handler=_eval)
    subcommands = p.add_subparsers(dest="eval_command", metavar="SUBCOMMAND",
                                   help="ood-generate | readout (without one: run the protocols)")
    _register_ood_generate(subcommands)
    _register_readout(subcommands)


def _register_ood_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ood-generate", help="write the out-of-domain evaluation split (clips + manifest.jsonl)",
        description="Render clips unlike the training world (other scenes, framings, frame rates and looks) with "
                    "exact event times and a synthesised reference soundtrack; writes OUT_DIR/manifest.jsonl "
                    "(split 'ood'), OUT_DIR/video, OUT_DIR/audio and OUT_DIR/ood.json.")
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    p.add_argument("--clips", type=count("--clips", 1, 10_000), default=24, help="number of clips (default 24)")
    p.add_argument("--seed", type=count("--seed", 0, 2**31 - 1), default=0, help="seed (default 0)")
    p.add_argument("--seconds", type=number("--seconds", 1.0, 30.0, " s"), default=None,
                   help="length of every clip (default: 5-8 s each)")
    p.add_argument("--scale", type=number("--scale", 0.05, 4.0), default=1.0,
                   help="frame size factor (default 1: 640x360, 480x480, 360x640, 854x480)")
    p.set_defaults(handler=_ood_generate)


def _ood_generate(args: argparse.Namespace) -> int:
    from foley_studio.eval.ood import OODSpec, generate_ood

    def progress(done: int, total: int, what: str) -> None:
        print(f"  [{done}/{total}] {what}", file=sys.stderr, flush=True)

    manifest = generate_ood(OODSpec(args.clips, args.seed, args.seconds, args.scale), args.out_dir, progress=progress)
    print(f"manifest: {manifest}")
    return 0


def _register_readout(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "readout", help="linear onset read-out of a model's frozen video encoder, in and out of domain",
        description="Fit a linear (ridge) per-frame onset read-out on frozen video features of the --fit clips and "
                    "score onset F1 within ±50 ms on each --test set, beside a chance read-out of random features. "
                    "A set is MANIFEST or MANIFEST:SPLIT (default split: ood for an out-of-domain manifest, "
                    "else train for --fit and test for --test).")
    p.add_argument("--model", default="demo", help="model name from the registry, or a model folder (default: demo)")
    p.add_argument("--fit", required=True, metavar="MANIFEST[:SPLIT]", help="clips the read-out is fitted on")
    p.add_argument("--test", required=True, action="append", metavar="MANIFEST[:SPLIT]",
                   help="clips it is scored on (repeatable)")
    p.add_argument("--context", type=count("--context", 0, 16), default=0,
                   help="feature frames stacked on each side of a frame (default 0: each frame alone)")
    p.add_argument("--n", type=count("--n", 1, 100_000), default=None, help="use only the first N clips of each set")
    p.add_argument("--group-by", default=None, metavar="KEY",
                   help="also score groups of clips by this manifest meta field (default: scene where the rows "
                        "have it, e.g. an out-of-domain split, else action)")
    p.add_argument("--motion-baseline", action="store_true",
                   help="also read out a hand-made motion-energy encoder (no training) on the same sets: how much "
                        "timing plain motion carries there")
    p.add_argument("--json", type=Path, default=None, help="also write the numbers to this JSON file")
    p.add_argument("--threads", type=count("--threads", 1, 256), default=None, help="torch intra-op threads")
    p.set_defaults(handler=_readout)


def _readout(args: argparse.Namespace) -> int:
    from foley_studio.eval.readout import (MotionEnergyEncoder, ReadoutConfig, readout_markdown, report_json,
                                           run_readout)
    from foley_studio.model import ModelRegistry

    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    model_encoder = ModelRegistry().load(args.model, device="cpu").video_encoder.eval()
    encoders = [(f"`{args.model}` video encoder ({model_encoder.config.kind}, {model_encoder.fps:g} fps, "
                 f"{model_encoder.size} px)", model_encoder)]
    if args.motion_baseline:
        motion = MotionEnergyEncoder(model_encoder.fps, model_encoder.size)
        encoders.append((f"hand-made motion energy (first and second frame differences on a {motion.grid}x"
                         f"{motion.grid} grid, {motion.fps:g} fps, {motion.size} px)", motion))
    reports = []
    for label, encoder in encoders:
        fit_name, fit = _readout_set(args.fit, "train", encoder, args.n, args.group_by)
        tests = dict(_readout_set(text, "test", encoder, args.n, args.group_by) for text in args.test)
        reports.append(run_readout(fit, tests, config=ReadoutConfig(context=args.context), encoder=label,
                                   fit_name=fit_name))
        print(readout_markdown(reports[-1]) + "\n", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        data = [report_json(r) for r in reports]
        args.json.write_text(json.dumps(data[0] if len(data) == 1 else data, indent=1) + "\n")
    return 0


def _readout_set(text: str, default_split: str, encoder, n: int | None, group_by: str | None):
    """(name, features) of one MANIFEST[:SPLIT] set."""
    from foley_studio.eval.data import load_eval_clips
    from foley_studio.eval.readout import clip_features, clip_groups
    from foley_studio.media.manifest import SPLITS, read_manifest

    path, _, split = text.rpartition(":")
    if not path or split not in SPLITS:
        path, split = text, None
    manifest = Path(path)
    if split is None:          # an out-of-domain manifest holds only its "ood" split
        split = "ood" if any(r.split == "ood" for r in read_manifest(manifest)) else default_split
    clips = load_eval_clips(manifest, split, n=n)
    groups = clip_groups(manifest, group_by or "scene")
    if not group_by and not any(groups.values()):
        groups = clip_groups(manifest, "action")

    def progress(message: str) -> None:
        print(f"  {manifest.parent.name}/{split} {message}", file=sys.stderr, flush=True)

    return f"{manifest.parent.name}/{split}", clip_features(encoder, clips, groups=groups, progress=progress)


def _eval(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from foley_studio.core.errors import FoleyError
    from foley_studio.eval.classifier import ClassifierConfig
    from foley_studio.eval.evaluate import EvalRequest, run_evaluation
    from foley_studio.eval.runner import EvalSettings

    if args.data is None or args.out is None:
        raise FoleyError("foley-studio eval needs --data MANIFEST and --out DIR (or a subcommand: "
                         "`eval ood-generate OUT_DIR`, `eval readout --fit ... --test ...`)")
    for name in ("n", "steps", "fast_steps", "ddim_steps", "classifier_epochs", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise FoleyError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    classifier = ClassifierConfig()
    if args.classifier_epochs:
        classifier = replace(classifier, epochs=args.classifier_epochs)
    embedder = None
    if args.embedder:
        name, sep, weights = args.embedder.partition("=")
        if not sep or not weights:
            raise FoleyError(f"--embedder must look like NAME=WEIGHTS (e.g. clap=/models/clap), got {args.embedder!r}")
        embedder = (name, Path(weights))
    request = EvalRequest(embedder=embedder, device=args.device, 
        model=args.model, data=args.data, out=args.out, split=args.split, n=args.n,
        protocols=list(dict.fromkeys(args.protocols or PROTOCOL_NAMES)),
        settings=EvalSettings(cfg=args.cfg, steps=args.steps, fast_steps=args.fast_steps,
                              ddim_steps=args.ddim_steps, seed=args.seed),
        classifier=classifier, retrain_classifier=args.retrain_classifier, report_name=args.report_name,
        ood=args.ood)

    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    def print_table(text: str) -> None:
        print(text + "\n", flush=True)

    _, report = run_evaluation(request, progress=progress, print_table=print_table)
    print(f"report: {report}")
    return 0
