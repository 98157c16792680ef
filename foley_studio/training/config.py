"""Training configuration: a frozen dataclass per run, read from JSON at one boundary.

One file describes one stage's run (autoencoder or DiT): which model (a preset name or a full model
config), the data mix, optimisation, the conditioning scheme of the paper, and how to distribute it.
Distribution is configuration only: `devices`, `num_nodes`, `strategy` and `precision` go straight to
Lightning Fabric, so the same file runs on this CPU, on one GPU or on several nodes.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foley_studio.core.errors import FoleyError
from foley_studio.model.config import FoleyConfig, get_preset


class TrainConfigError(FoleyError):
    """A training config that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs besides the data manifest and the output folder."""

    model: str | dict = "demo"          # preset name, or a full model config dict (FoleyConfig JSON)
    # optimisation
    steps: int = 1000
    batch_size: int = 8                 # global batch (split across ranks)
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 100
    grad_clip: float = 1.0
    seed: int = 0
    init_from: str | None = None        # warm start (fresh optimizer) from a saved model folder, e.g. models/demo
    # autoencoder stage
    crop_seconds: float = 1.0           # random crops of this length
    stft_scales: tuple[int, ...] = (256, 512, 1024, 2048)
    w_stft: float = 1.0
    w_stft_hf: float = 0.0              # >0: also the STFT loss of pre-emphasised audio (sharper highs)
    w_wave: float = 1.0
    w_kl: float = 1e-4
    # DiT stage
    autoencoder_from: str | None = None  # run folder (or weights file) of a trained autoencoder
    p_condition: float = 0.25           # probability that a row gets a given span (paper: 0.25)
    max_condition_seconds: float = 2.0  # span length uniform in [0, this] (paper: 0-2 s)
    p_drop_video: float = 0.1
    p_drop_caption: float = 0.2
    p_drop_tag: float = 0.2
    p_drop_text: float = 0.1            # whole text (caption and tag) -> the null token ∅_t
    ema_decay: float = 0.999
    crop_seconds_dit: float = 0.0       # >0: train on random crops of this length (RoPE lets the DiT run longer)
    freeze_video_encoder: bool = False  # keep the video encoder fixed (initial or loaded weights) and cache its features
    video_encoder_from: str | None = None  # run folder of a finished video sync stage (loaded before freezing)
    # video sync stage (stage 1b)
    sync_crop_seconds: float = 3.2      # random crops of this length per row
    sync_augment: bool = False          # crop-and-resize, shift, mirror and colour jitter of each crop
    qualities: tuple[str | None, ...] = ("high", "low", None)   # which manifest rows to use
    # bookkeeping
    log_every: int = 10
    checkpoint_every: int = 200
    sample_every: int = 0               # 0: no audio samples during training
    n_samples: int = 2
    sample_steps: int = 25
    # distribution (Lightning Fabric)
    accelerator: str = "auto"
    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "auto"             # "auto": bf16-mixed on GPU, 32-true on CPU
    num_threads: int = 0                # CPU threads per rank (0: torch's default)
    time_limit_minutes: float = 0.0     # >0: stop cleanly (checkpoint, finish) after this much wall time

    def model_config(self) -> FoleyConfig:
        return get_preset(self.model) if isinstance(self.model, str) else FoleyConfig.from_dict(self.model)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise TrainConfigError(f"{where}: unknown training config key(s) {unknown}; known: {sorted(names)}")
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        try:
            config = cls(**fixed)
            config.model_config()
        except (TypeError, ValueError) as exc:
            raise TrainConfigError(f"{where}: {exc}") from exc
        return config

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        path = Path(path)
        if not path.exists():
            raise TrainConfigError(f"training config {path} does not exist; see configs/ for examples")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise TrainConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        return cls.from_dict(data, where=str(path))

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


DEFAULT_STAGE_CONFIGS: dict[str, TrainConfig] = {
    "autoencoder": TrainConfig(steps=2000, batch_size=8, lr=5e-4),
    "dit": TrainConfig(steps=4000, batch_size=16, lr=3e-4),
    "video": TrainConfig(steps=1500, batch_size=16, lr=1e-3),
}
