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
    gen.add_argument("--sources", choices=("all", "library", "debian"), default="all",
                     help="which real recordings to use (default: Debian packages + demo library)")
    gen.set_defaults(handler=_world_generate)
    fetch = wsub.add_parser("fetch-sources", help="download the Debian sound packages into the cache")
    fetch.set_defaults(handler=_world_fetch)

    train = sub.add_parser("train", help="train the autoencoder or the DiT on a manifest")
    train.add_argument("stage", choices=("autoencoder", "dit"))
    train.add_argument("--config", type=Path, required=True, help="training config JSON")
    train.add_argument("--data", type=Path, required=True, help="manifest.jsonl")
    train.add_argument("--out", type=Path, required=True, help="run folder (checkpoints, logs, samples)")
    train.add_argument("--max-steps", type=int, default=None, help="override the config's step count")
    train.set_defaults(handler=_train)


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

    manifest = generate_world(WorldSpec(n=args.n, seed=args.seed, audio_only=args.audio_only), args.out,
                              _bank(args.sources), progress=progress)
    print(manifest)
    return 0


def _world_fetch(args: argparse.Namespace) -> int:
    from foley_studio.training.sources import fetch_debian_sources
    print(fetch_debian_sources())
    return 0


def _train(args: argparse.Namespace) -> int:
    from foley_studio.training.trainer import run_stage
    run_stage(args.stage, config_path=args.config, manifest=args.data, out_dir=args.out, max_steps=args.max_steps)
    return 0
