"""Turn finished training runs into a model folder the editor and `foley-studio generate` load.

`export_model` combines the autoencoder run's weights with the DiT run's EMA weights (and its video
encoder) into one `FoleyModel` and writes it with `save_pretrained` (safetensors + config.json +
README.md card), plus MODEL_CARD.md with the same card; `warm_start.saved_part` reads one part of
such a folder back for a warm start.
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from safetensors.torch import load_file

from foley_studio.model.checkpoint import save_pretrained
from foley_studio.model.foley import FoleyModel

from .autoencoder_stage import load_autoencoder_weights
from .config import TrainConfig
from .dit_stage import DiTObjective
from .state import EMA

log = logging.getLogger(__name__)


def run_summary(run_dir: Path) -> dict[str, Any]:
    """Steps, wall time and the last losses of a run, read from its log and checkpoint."""
    run_dir = Path(run_dir)
    lines = [json.loads(x) for x in (run_dir / "log.jsonl").read_text().splitlines() if x.strip()]
    losses = [x for x in lines if "loss" in x]
    probes = [x for x in lines if "probe_loss" in x]
    info = json.loads((run_dir / "checkpoint" / "last.json").read_text())
    # wall time restarts with each (resumed) process: add up the segments
    wall, prev = 0.0, 0.0
    for x in lines:
        if x["wall_s"] < prev:
            wall += prev
        prev = x["wall_s"]
    wall += prev
    tail = losses[-10:]
    out = {"steps": info["step"], "wall_minutes": round(wall / 60, 1),
           "final_train_loss_mean_of_last_logs": round(sum(x["loss"] for x in tail) / max(1, len(tail)), 4)}
    if losses:
        out["first_logged_train_loss"] = round(losses[0]["loss"], 4)
    if probes:
        out["probe_loss_first"] = probes[0]["probe_loss"]
        out["probe_loss_last"] = probes[-1]["probe_loss"]
        out["probe_rows"] = probes[-1].get("probe_rows")
    for key in ("stft", "wave", "kl"):
        if tail and key in tail[-1]:
            out[f"final_{key}"] = round(sum(x[key] for x in tail) / len(tail), 4)
    return out


def build_trained_model(ae_run: Path, dit_run: Path) -> FoleyModel:
    """A FoleyModel with the autoencoder stage's weights and the DiT stage's EMA weights."""
    cfg = TrainConfig.from_dict({k: v for k, v in json.loads((Path(dit_run) / "config.json").read_text()).items()
                                 if k != "stage"})
    model = FoleyModel(cfg.model_config())
    load_autoencoder_weights(model, ae_run)
    objective = DiTObjective(model, freeze_video=cfg.freeze_video_encoder)
    tensors = load_file(str(Path(dit_run) / "checkpoint" / "last.safetensors"))
    objective.load_state_dict({k[len("objective/"):]: v for k, v in tensors.items() if k.startswith("objective/")})
    if objective.video_encoder is None:
        model.video_encoder.load_state_dict({k[len("video_encoder/"):]: v for k, v in tensors.items()
                                             if k.startswith("video_encoder/")})
    ema = EMA(objective, cfg.ema_decay)
    for k in ema.shadow:
        ema.shadow[k].copy_(tensors[f"ema/{k}"])
    objective.load_state_dict(ema.shadow, strict=False)     # export the averaged weights
    return model.eval()


def save_model_folder(model: FoleyModel, dest: Path, card: dict[str, Any]) -> Path:
    """`save_pretrained`, plus the card again as MODEL_CARD.md: what an exported model folder holds."""
    save_pretrained(model, dest, card=card)
    shutil.copyfile(Path(dest) / "README.md", Path(dest) / "MODEL_CARD.md")
    return Path(dest)


def export_model(ae_run: Path, dit_run: Path, dest: Path, card: dict[str, Any]) -> Path:
    model = build_trained_model(ae_run, dit_run)
    save_model_folder(model, dest, card)
    log.info("exported %s + %s to %s", ae_run, dit_run, dest)
    return Path(dest)
