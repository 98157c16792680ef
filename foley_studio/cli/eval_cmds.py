"""`foley-studio eval`: run the evaluation protocols on a model and write the report."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROTOCOL_NAMES = ("v2a", "text", "extension", "quality", "sampler")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands; each sets `handler=` to a function(args) -> exit code."""
    p = sub.add_parser(
        "eval", help="measure sync, control, extension, quality and samplers on held-out clips",
        description="Generate with a model on the held-out split of a Foley-world manifest and score the "
                    "results against exact ground truth; prints the tables and writes EVALUATION.md and "
                    "EVALUATION.json into --out.")
    p.add_argument("--model", default="demo", help="model name from the registry, or a model folder (default: demo)")
    p.add_argument("--data", type=Path, required=True,
                   help="manifest.jsonl of a Foley world (`foley-studio world generate`); its train split "
                        "trains the evaluation classifier, --split is evaluated")
    p.add_argument("--split", default="test", choices=("test", "val", "train"), help="split to evaluate (default: test)")
    p.add_argument("--n", type=int, default=None, help="evaluate only the first N clips of the split")
    p.add_argument("--protocol", action="append", choices=PROTOCOL_NAMES, dest="protocols",
                   help="protocol to run (repeatable; default: all five)")
    p.add_argument("--out", type=Path, required=True, help="folder for the report and its numbers (<report-name>.md / .json)")
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


def _eval(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from foley_studio.core.errors import FoleyError
    from foley_studio.eval.classifier import ClassifierConfig
    from foley_studio.eval.evaluate import EvalRequest, run_evaluation
    from foley_studio.eval.runner import EvalSettings

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
        classifier=classifier, retrain_classifier=args.retrain_classifier, report_name=args.report_name)

    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    def print_table(text: str) -> None:
        print(text + "\n", flush=True)

    _, report = run_evaluation(request, progress=progress, print_table=print_table)
    print(f"report: {report}")
    return 0
