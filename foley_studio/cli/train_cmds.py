"""`foley-studio world ...` (the procedural Foley world) and `foley-studio train ...` (the training stages)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands; each sets `handler=` to a function(args) -> exit code."""
    world = sub.add_parser("world", help="generate the procedural Foley world (training/evaluation data)")
    wsub = world.add_subparsers(dest="world_command", metavar="ACTION", required=True)
    gen = wsub.add_parser("generate", help="render N clips (video + HQ/LQ audio) and a JSONL manifest")
    gen.add_argument("--n", type=int, required=True, help="number of video clips")
    gen.add_argument("--out", type=Path, required=True, help="output folder (manifest.jsonl, video/, audio/)")
    gen.add_argument("--seed", type=int, default=0, help="seed of the first clip; clip i uses seed+i")
    gen.add_argument("--audio-only", type=int, default=0, help="extra audio-only captioned items")
    gen.add_argument("--workers", type=int, default=1, help="processes rendering clips (each single-threaded)")
    gen.add_argument("--sources", choices=("all", "library", "debian"), default="all",
                     help="which real recordings to use (default: Debian packages + demo library)")
    gen.set_defaults(handler=_world_generate)
    fetch = wsub.add_parser("fetch-sources", help="download the Debian sound packages into the cache")
    fetch.set_defaults(handler=_world_fetch)

    train = sub.add_parser("train", help="train the autoencoder, the video encoder or the DiT on a manifest; export a model")
    tsub = train.add_subparsers(dest="stage", metavar="STAGE", required=True)
    for stage, text in (("autoencoder", "stage 1: the audio autoencoder (STFT + waveform + KL losses)"),
                        ("video", "stage 1b: sync pre-training of the video encoder (predicts the soundtrack's "
                                  "onsets and loudness from frames)"),
                        ("dit", "stage 2: the DiT with the autoencoder frozen (masked conditioning, EMA)")):
        p = tsub.add_parser(stage, help=text, description=text)
        p.add_argument("--config", type=Path, required=True, help="training config JSON (see configs/)")
        p.add_argument("--data", type=Path, required=True, help="manifest.jsonl")
        p.add_argument("--out", type=Path, required=True,
                       help="run folder (checkpoints, log.jsonl, samples); an existing one is resumed")
        p.add_argument("--max-steps", type=int, default=None, help="override the config's step count")
        p.set_defaults(handler=_train)
    exp = tsub.add_parser("export", help="combine an autoencoder run and a DiT run into a model folder")
    exp.add_argument("--autoencoder", type=Path, required=True,
                     help="autoencoder run folder (or a model folder whose autoencoder to keep)")
    exp.add_argument("--dit", type=Path, required=True, help="DiT run folder")
    exp.add_argument("--out", type=Path, required=True, help="model folder to write (e.g. models/demo)")
    exp.add_argument("--card", type=Path, default=None, help="JSON with extra model-card sections")
    exp.set_defaults(handler=_export)


def _bank(which: str):
    from foley_studio.core.paths import DEMO_LIBRARY_DIR
    from foley_studio.training.sources import SourceBank, discover_sources, fetch_debian_sources
    debian = fetch_debian_sources() if which in ("all", "debian") else None
    library = DEMO_LIBRARY_DIR if which in ("all", "library") else None
    return SourceBank(discover_sources(debian, library))


def _world_generate(args: argparse.Namespace) -> int:
    from foley_studio.training.world import WorldSpec, generate_world

    def progress(i: int, n: int) -> None:
        if i == n or i % 25 == 0:
            print(f"\r{i}/{n} clips", end="\n" if i == n else "", file=sys.stderr, flush=True)

    manifest = generate_world(WorldSpec(n=args.n, seed=args.seed, audio_only=args.audio_only,
                                                    workers=args.workers), args.out,
                              _bank(args.sources), progress=progress)
    print(manifest)
    return 0


def _world_fetch(args: argparse.Namespace) -> int:
    from foley_studio.training.sources import fetch_debian_sources
    print(fetch_debian_sources())
    return 0


def _export(args: argparse.Namespace) -> int:
    import json

    from foley_studio.training.export import export_model, run_summary
    card = json.loads(args.card.read_text()) if args.card else {}
    if (args.autoencoder / "log.jsonl").exists():
        card.setdefault("training_autoencoder", run_summary(args.autoencoder))
    card.setdefault("training_dit", run_summary(args.dit))
    print(export_model(args.autoencoder, args.dit, args.out, card))
    return 0


def _train(args: argparse.Namespace) -> int:
    from foley_studio.training.trainer import run_stage
    run_stage(args.stage, config_path=args.config, manifest=args.data, out_dir=args.out, max_steps=args.max_steps)
    return 0
