"""What every training stage shares: the Fabric it runs on, the learning-rate schedule, the step
(backward, clip, optimizer), logging and the time limit, the run folder, and weight checksums.

Distribution is Fabric's: `devices`, `num_nodes`, `strategy` and `precision` come from the config,
so the same code runs on one CPU process, on 2 gloo processes (tested), on GPUs in bf16 or across
nodes. Every random draw of step s on rank r comes from `state.step_generator(seed, s, r)`, which
makes a resumed run continue bit-exactly (tested) and keeps ranks from drawing the same batch.

Run folder layout: `config.json` (the training config, with its stage), `checkpoint/last.{safetensors,json}`
(resume), `log.jsonl` (one line per logged step), plus what each stage writes when it finishes.
"""
from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any, Iterator

import torch
from lightning_fabric import Fabric
from lightning_fabric.strategies import DDPStrategy
from torch import Tensor, nn

from foley_studio.core.errors import FoleyError

from .config import TrainConfig
from .state import step_generator

log = logging.getLogger(__name__)


class TrainingError(FoleyError):
    """A training run that cannot start as configured; the message says what to change."""


def make_fabric(cfg: TrainConfig) -> Fabric:
    """The Fabric the config asks for ('auto' picks CUDA + bf16 when there is a GPU)."""
    accelerator = cfg.accelerator
    if accelerator == "auto":
        accelerator = "cuda" if torch.cuda.is_available() else "cpu"
    precision = cfg.precision
    if precision == "auto":
        precision = "bf16-mixed" if accelerator == "cuda" else "32-true"
    strategy: Any = cfg.strategy
    if strategy in ("ddp", "ddp_spawn"):
        # condition dropout leaves some parameters (∅_t, ∅_v) without gradients in some steps
        strategy = DDPStrategy(start_method="spawn" if strategy == "ddp_spawn" else "popen",
                               find_unused_parameters=True,
                               process_group_backend="gloo" if accelerator == "cpu" else None)
    return Fabric(accelerator=accelerator, devices=cfg.devices, num_nodes=cfg.num_nodes,
                  strategy=strategy, precision=precision)


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress))))


def training_steps(fabric: Fabric, cfg: TrainConfig, start: int, optimizer) -> Iterator[tuple[int, torch.Generator]]:
    """Steps `start` .. `cfg.steps - 1`, each with its learning rate set on `optimizer` and the generator
    every random draw of that step on this rank comes from."""
    for step in range(start, cfg.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(cfg, step)
        yield step, step_generator(cfg.seed, step, fabric.global_rank)


def out_of_time(fabric: Fabric, cfg: TrainConfig, t0: float) -> bool:
    """Same answer on every rank (rank 0's clock decides), so all ranks leave the loop together."""
    if not cfg.time_limit_minutes:
        return False
    over = torch.tensor(float(time.monotonic() - t0 > 60 * cfg.time_limit_minutes))
    return bool(fabric.broadcast(over, src=0) > 0)


def local_batch(cfg: TrainConfig, fabric: Fabric) -> int:
    """Each process's share of `batch_size`."""
    if cfg.batch_size % fabric.world_size:
        raise TrainingError(f"batch_size {cfg.batch_size} does not split over {fabric.world_size} processes; "
                            "make it a multiple of devices x num_nodes")
    return cfg.batch_size // fabric.world_size


def optimizer_step(fabric: Fabric, module: nn.Module, optimizer, loss: Tensor, cfg: TrainConfig) -> None:
    """Backward through Fabric (DDP all-reduce, mixed precision), clip, step: the same in every stage."""
    optimizer.zero_grad(set_to_none=True)
    fabric.backward(loss)
    if cfg.grad_clip:
        fabric.clip_gradients(module, optimizer, max_norm=cfg.grad_clip)
    optimizer.step()


def log_and_check(fabric: Fabric, cfg: TrainConfig, run_log: "RunLog", t0: float, step: int,
                  last: dict) -> tuple[bool, bool]:
    """After step `step`: write the log line when due; return (stop: out of time, checkpoint due)."""
    stop = out_of_time(fabric, cfg, t0)
    done = step + 1 == cfg.steps or stop
    if (step + 1) % cfg.log_every == 0 or done:
        run_log.write(**last, lr=learning_rate(cfg, step))
    return stop, (step + 1) % cfg.checkpoint_every == 0 or done


class RunLog:
    """log.jsonl in the run folder (rank 0 only) and the module logger."""

    def __init__(self, out_dir: Path, enabled: bool):
        self.path = out_dir / "log.jsonl"
        self.enabled = enabled
        self.t0 = time.monotonic()

    def write(self, **record: Any) -> None:
        if not self.enabled:
            return
        record = {"wall_s": round(time.monotonic() - self.t0, 2), **record}
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        log.info("%s", record)


def prepare_run(cfg: TrainConfig, out_dir: Path, stage: str) -> None:
    """Create the run folder and write its config.json (rank 0 only)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps({"stage": stage, **cfg.to_dict()}, indent=1))


def rank_checksums(fabric: Fabric, module: nn.Module) -> dict:
    """This rank's weight checksum and every rank's (gathered), to check that ranks agree."""
    mine = _checksum(module)
    gathered = fabric.all_gather(torch.tensor(mine, dtype=torch.float64))
    return {"weights_checksum": mine, "rank_checksums": gathered.reshape(-1).tolist()}


def _checksum(module: nn.Module) -> float:
    return tensor_checksum(module.state_dict())


def tensor_checksum(state: dict[str, Tensor]) -> float:
    """Sum of every floating-point tensor, in float64."""
    return float(sum(v.double().sum() for v in state.values() if v.is_floating_point()))