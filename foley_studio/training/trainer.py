"""Run one training stage by name: the stage registry and the Fabric launch.

Stages, in the order a model is trained: 'autoencoder' (`autoencoder_stage`), 'video' (the video
encoder's sync pre-training, `video_sync`), 'dit' (`dit_stage`, with the autoencoder frozen). What
they share lives in `harness`; warm starts from a saved model folder in `warm_start`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from lightning_fabric import Fabric

from .autoencoder_stage import autoencoder_main
from .config import TrainConfig
from .dit_stage import dit_main
from .harness import TrainingError, make_fabric
from .video_sync import video_sync_main

__all__ = ["STAGES", "TrainingError", "run_stage"]

StageMain = Callable[[Fabric, TrainConfig, Path, Path], dict]

STAGES: dict[str, StageMain] = {"autoencoder": autoencoder_main, "video": video_sync_main, "dit": dit_main}


def run_stage(stage: str, *, manifest: Path, out_dir: Path, config_path: Path | None = None,
              config: TrainConfig | None = None, max_steps: int | None = None) -> dict:
    """Train one stage ('autoencoder' | 'video' | 'dit') as configured; resumes from `out_dir` when it holds
    a checkpoint."""
    cfg = config if config is not None else TrainConfig.load(config_path)
    if max_steps is not None:
        cfg = cfg.replace(steps=max_steps)
    main = STAGES.get(stage)
    if main is None:
        raise TrainingError(f"unknown training stage {stage!r}; use one of {sorted(STAGES)}")
    manifest, out_dir = Path(manifest).resolve(), Path(out_dir).resolve()
    fabric = make_fabric(cfg)
    # Fabric's launcher walks its arguments and refuses frozen dataclasses: send the config as plain data
    return fabric.launch(_entry, stage, cfg.to_dict(), str(manifest), str(out_dir))


def _entry(fabric: Fabric, stage: str, cfg: dict, manifest: str, out_dir: str) -> dict:
    result = STAGES[stage](fabric, TrainConfig.from_dict(cfg), Path(manifest), Path(out_dir))
    if fabric.world_size > 1 and torch.distributed.is_initialized():
        # A rank that exits with its gloo group alive can abort in gloo's threads at teardown
        # ("terminate called without an active exception"): close the group together first.
        fabric.barrier()
        torch.distributed.destroy_process_group()
    return result
