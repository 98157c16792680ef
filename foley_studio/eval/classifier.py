"""A small audio classifier over log-mel features, trained only on the world's train split.

It stands in for CLAP / PaSST / VGGish: its class predictions give the control accuracy (does the
generated sound belong to the prompted material / action?), and its pooled embedding feeds the
Fréchet distance (FAD-like) and the extension continuity similarity. Several label "heads"
(e.g. material and action) share one trunk.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from foley_studio.core.errors import FoleyError
from foley_studio.core.timebase import SAMPLE_RATE

from .features import log_mel

log = logging.getLogger(__name__)

MEL_RATE = 100                # mel frames per second (hop 480 @ 48 kHz)
_FORMAT_VERSION = 1


class ClassifierError(FoleyError):
    """The evaluation classifier cannot be trained or loaded as asked."""


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture and training settings; part of the cache key of a trained classifier."""

    n_mels: int = 64
    channels: tuple[int, ...] = (16, 32, 64, 64)   # small: it must train in minutes on a shared CPU
    embed_dim: int = 128
    crop_s: float = 2.0           # training crops (any length works at inference: global pooling)
    epochs: int = 15
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0

    def to_json(self) -> dict:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_json(cls, data: dict) -> "ClassifierConfig":
        return cls(**{**data, "channels": tuple(data["channels"])})


@dataclass
class LabelledClip:
    """One training example: 48 kHz mono audio and its label per head (e.g. material, action)."""

    audio: np.ndarray
    labels: dict[str, str]
    events_s: Sequence[float] = field(default_factory=tuple)   # training crops centre on these


# --------------------------------------------------------------------------------------------------
# network
# --------------------------------------------------------------------------------------------------

class _ConvBlock(nn.Module):
    """conv3x3 -> BN -> ReLU, twice, then 2x2 average pooling."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.AvgPool2d(2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class AudioClassifier(nn.Module):
    """Log-mel CNN with one linear head per label set; `embed` gives the pooled trunk features."""

    def __init__(self, *, heads: dict[str, list[str]], config: ClassifierConfig = ClassifierConfig()):
        super().__init__()
        if not heads or any(len(classes) < 2 for classes in heads.values()):
            raise ClassifierError(f"every classifier head needs at least 2 classes, got {heads}")
        self.config = config
        self.heads = {name: list(classes) for name, classes in heads.items()}
        chans = (1, *config.channels)
        self.trunk = nn.Sequential(*[_ConvBlock(a, b) for a, b in zip(chans[:-1], chans[1:])])
        freq_bins = config.n_mels >> len(config.channels)
        if freq_bins < 1:
            raise ClassifierError(f"{config.n_mels} mel bands cannot be pooled {len(config.channels)} times")
        self.project = nn.Linear(2 * chans[-1] * freq_bins, config.embed_dim)
        self.logits = nn.ModuleDict({name: nn.Linear(config.embed_dim, len(c)) for name, c in heads.items()})
        self.register_buffer("mel_mean", torch.zeros(config.n_mels))
        self.register_buffer("mel_std", torch.ones(config.n_mels))

    def features(self, mel_db: torch.Tensor) -> torch.Tensor:
        """(B, n_mels, T) log-mel dB -> (B, embed_dim) embedding."""
        x = (mel_db - self.mel_mean[:, None]) / self.mel_std[:, None]
        h = self.trunk(x[:, None])                      # (B, C, F', T')
        # keep frequency position (convolutions alone cannot tell 300 Hz from 3 kHz): fold F' into C
        h = h.flatten(1, 2)                             # (B, C*F', T')
        pooled = torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=-1)   # (B, 2*C*F')
        return F.relu(self.project(pooled))

    def forward(self, mel_db: torch.Tensor) -> dict[str, torch.Tensor]:
        emb = self.features(mel_db)
        return {name: head(emb) for name, head in self.logits.items()}

    # ---- numpy-facing helpers (inference) -----------------------------------------------------

    @torch.no_grad()
    def analyse(self, audio: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One pass over one clip: its embedding (embed_dim,) and class probabilities per head."""
        self.eval()
        emb = self.features(_mel_tensor(audio, self.config)[None])
        proba = {name: torch.softmax(head(emb), dim=-1)[0].double().numpy() for name, head in self.logits.items()}
        return emb[0].double().numpy(), proba

    def label_of(self, proba: dict[str, np.ndarray]) -> dict[str, str]:
        """Most likely class per head from `analyse`'s probabilities."""
        return {name: self.heads[name][int(np.argmax(p))] for name, p in proba.items()}

    @torch.no_grad()
    def embed(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings of 48 kHz mono clips (any lengths): float64 (N, embed_dim)."""
        self.eval()
        return np.stack([self.features(_mel_tensor(c, self.config)[None]).squeeze(0).double().numpy()
                         for c in clips]) if len(clips) else np.zeros((0, self.config.embed_dim))

    @torch.no_grad()
    def predict_proba(self, clips: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """Class probabilities per head: {head: (N, n_classes)}."""
        self.eval()
        out: dict[str, list[np.ndarray]] = {name: [] for name in self.heads}
        for clip in clips:
            logits = self(_mel_tensor(clip, self.config)[None])
            for name, value in logits.items():
                out[name].append(torch.softmax(value, dim=-1).squeeze(0).double().numpy())
        return {name: np.stack(v) if v else np.zeros((0, len(self.heads[name]))) for name, v in out.items()}

    def predict(self, clips: Sequence[np.ndarray]) -> list[dict[str, str]]:
        """Most likely class per head for each clip."""
        proba = self.predict_proba(clips)
        return [{name: self.heads[name][int(np.argmax(p[i]))] for name, p in proba.items()}
                for i in range(len(clips))]


def _mel_tensor(audio: np.ndarray, config: ClassifierConfig) -> torch.Tensor:
    mel = log_mel(audio, n_mels=config.n_mels, hop=SAMPLE_RATE // MEL_RATE)
    if mel.shape[1] < 16:   # four 2x poolings need at least 16 frames
        mel = np.pad(mel, ((0, 0), (0, 16 - mel.shape[1])), mode="edge")
    return torch.from_numpy(mel)


# --------------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------------

def _crop(mel: np.ndarray, frames: int, events_s: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """A `frames`-long window, around a random true event when the clip has them (so crops hear
    the class rather than silence)."""
    total = mel.shape[1]
    if total <= frames:
        return np.pad(mel, ((0, 0), (0, frames - total)), mode="edge")
    if len(events_s):
        centre = int(rng.choice(np.asarray(events_s)) * MEL_RATE) + int(rng.integers(-frames // 3, frames // 3 + 1))
        start = int(np.clip(centre - frames // 2, 0, total - frames))
    else:
        start = int(rng.integers(0, total - frames + 1))
    return mel[:, start:start + frames]


def train_classifier(clips: Sequence[LabelledClip], *, config: ClassifierConfig = ClassifierConfig(),
                     progress: Callable[[int, int, float], None] | None = None) -> AudioClassifier:
    """Train on labelled clips (the world's train split only); returns the model in eval mode."""
    if len(clips) < 2:
        raise ClassifierError(f"need at least 2 labelled training clips, got {len(clips)}")
    head_names = sorted(clips[0].labels)
    heads = {h: sorted({c.labels[h] for c in clips}) for h in head_names}
    if any(len(v) < 2 for v in heads.values()):
        raise ClassifierError(f"the training split must hold at least 2 classes per label, got {heads}")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = AudioClassifier(heads=heads, config=config)
    mels = [_mel_tensor(c.audio, config).numpy() for c in clips]
    stacked = np.concatenate(mels, axis=1)
    model.mel_mean.copy_(torch.from_numpy(stacked.mean(axis=1)))
    model.mel_std.copy_(torch.from_numpy(stacked.std(axis=1) + 1e-3))
    targets = {h: torch.tensor([heads[h].index(c.labels[h]) for c in clips]) for h in head_names}
    frames = int(config.crop_s * MEL_RATE)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(clips) / config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr,
                                                total_steps=config.epochs * steps_per_epoch)
    model.train()
    for epoch in range(config.epochs):
        order = rng.permutation(len(clips))
        total_loss = 0.0
        for start in range(0, len(order), config.batch_size):
            idx = order[start:start + config.batch_size]
            batch = np.stack([_crop(mels[i], frames, clips[i].events_s, rng) for i in idx])
            batch = batch + rng.normal(0.0, 3.0, size=(len(idx), 1, 1))   # random gain, ±3 dB
            logits = model(torch.from_numpy(batch.astype(np.float32)))
            loss = sum(F.cross_entropy(logits[h], targets[h][idx]) for h in head_names)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total_loss += float(loss.detach()) * len(idx)
        mean_loss = total_loss / len(clips)
        log.info("classifier epoch %d/%d loss %.4f", epoch + 1, config.epochs, mean_loss)
        if progress:
            progress(epoch + 1, config.epochs, mean_loss)
    return model.eval()


def accuracy(model: AudioClassifier, clips: Sequence[np.ndarray], labels: Sequence[dict[str, str]]
             ) -> dict[str, float]:
    """Accuracy per head and `joint` (every head right) of clips against their target labels."""
    if len(clips) != len(labels):
        raise ValueError(f"{len(clips)=} != {len(labels)=}")
    if not clips:
        return {**{h: math.nan for h in model.heads}, "joint": math.nan}
    predicted = model.predict(clips)
    result = {h: float(np.mean([p[h] == t[h] for p, t in zip(predicted, labels) if h in t]))
              for h in model.heads}
    result["joint"] = float(np.mean([all(p[h] == t[h] for h in t if h in model.heads)
                                     for p, t in zip(predicted, labels)]))
    return result


# --------------------------------------------------------------------------------------------------
# persistence
# --------------------------------------------------------------------------------------------------

def save_classifier(model: AudioClassifier, directory: Path, *, meta: dict | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(directory / "classifier.safetensors"))
    info = {"format_version": _FORMAT_VERSION, "heads": model.heads, "config": model.config.to_json(),
            "meta": meta or {}}
    (directory / "classifier.json").write_text(json.dumps(info, indent=2))


def load_classifier(directory: Path) -> AudioClassifier:
    weights, info_path = directory / "classifier.safetensors", directory / "classifier.json"
    if not weights.exists() or not info_path.exists():
        raise ClassifierError(f"no evaluation classifier in {directory} (expected classifier.json and "
                              "classifier.safetensors); train one with `foley-studio eval` on a world manifest")
    info = json.loads(info_path.read_text())
    if info.get("format_version") != _FORMAT_VERSION:
        raise ClassifierError(f"{info_path} has format {info.get('format_version')}, this version reads "
                              f"{_FORMAT_VERSION}; delete the folder so it is retrained")
    model = AudioClassifier(heads=info["heads"], config=ClassifierConfig.from_json(info["config"]))
    model.load_state_dict(load_file(str(weights)))
    return model.eval()


def cache_key(train_ids: Sequence[str], config: ClassifierConfig, data_fingerprint: str = "") -> str:
    """Stable key of (training items, settings): the cache reuses a classifier only for the same data."""
    h = hashlib.sha256()
    h.update(json.dumps(config.to_json(), sort_keys=True).encode())
    h.update("\n".join(sorted(train_ids)).encode())
    h.update(data_fingerprint.encode())
    return h.hexdigest()[:16]
