"""Every size of the MultiFoley model, as frozen dataclasses with named presets.

A config is JSON on disk and becomes a dataclass at one boundary (`FoleyConfig.from_dict`, which
checks every field with `check_section` first; the model's size is `limits.check_size`'s).
Sizes that follow from others (latent rate, DiT input channels, window length in latents) are
properties, so they cannot drift apart. Presets:

- `PAPER`: the paper's scale (DAC-VAE-like autoencoder, C_z = 64; 12-block DiT; T5-base text;
  8 fps video features of 512 channels). Too slow to train here; the GPU benchmark runs it.
- `DEMO`: small enough to train and run on a 2-core CPU (STFT-domain autoencoder with an iSTFT
  head, a ~7 M-parameter DiT with v-prediction, the bundled MiniLM text encoder, a small conv video
  encoder at 20 fps).
- `TINY`: for tests; builds and runs in milliseconds.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Union

from foley_studio.core import timebase, values
from foley_studio.model.errors import ConfigRangeError, UnknownNameError

CONFIG_VERSION = 1


# ----------------------------------------------------------------------------- autoencoder
@dataclass(frozen=True)
class AutoencoderConfig:
    """Audio autoencoder: 48 kHz mono waveform <-> latents (C_z channels at 40 Hz)."""

    kind: str = "stft"                  # "stft" (STFT encoder + iSTFT head) | "dac" (Snake conv VAE)
    latent_channels: int = 64           # C_z
    sample_rate: int = timebase.SAMPLE_RATE
    hop: int = timebase.LATENT_HOP      # waveform samples per latent frame
    # stft kind
    n_fft: int = 1200                   # analysis / synthesis window length (samples)
    frames_per_latent: int = 4          # STFT frames per latent frame (STFT hop = hop / this)
    hidden: int = 256                   # conv width of the STFT encoder / decoder
    blocks: int = 3                     # ConvNeXt blocks per rate (encoder and decoder)
    # dac kind
    channels: int = 64                  # width of the first waveform conv
    strides: tuple[int, ...] = (2, 4, 5, 6, 5)
    max_channels: int = 1024
    # chunked encode/decode: latents per chunk, and latents of context on each side of a chunk
    chunk_latents: int = 400
    overlap_latents: int = 16

    def __post_init__(self) -> None:
        if self.kind not in ("stft", "dac"):
            raise ValueError(f"autoencoder kind must be 'stft' or 'dac', got {self.kind!r}")
        if self.kind == "dac":
            prod = 1
            for s in self.strides:
                prod *= s
            if prod != self.hop:
                raise ValueError(f"autoencoder strides {self.strides} multiply to {prod}, not hop {self.hop}")
        elif self.hop % self.frames_per_latent:
            raise ValueError(f"hop {self.hop} is not divisible by frames_per_latent {self.frames_per_latent}")

    @property
    def latent_rate(self) -> float:
        return self.sample_rate / self.hop

    @property
    def stft_hop(self) -> int:
        return self.hop // self.frames_per_latent

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1


# ----------------------------------------------------------------------------- encoders
@dataclass(frozen=True)
class TextEncoderConfig:
    """Which text encoder turns prompts into tokens (B, L, dim) for cross-attention."""

    kind: str = "hash"                  # "hash" (trained with the model) | "minilm" (bundled) | "t5"
    dim: int = 64                       # C_t, the token width the encoder outputs
    max_tokens: int = 32
    vocab_size: int = 4096              # hash kind: number of hash buckets
    name: str = "t5-base"               # t5 kind: model name in the user's HF cache
    path: str | None = None             # t5 kind: a local folder (wins over `name`)

    def __post_init__(self) -> None:
        if self.kind not in ("hash", "minilm", "t5"):
            raise ValueError(f"text encoder kind must be 'hash', 'minilm' or 't5', got {self.kind!r}")
        if self.kind == "minilm" and self.dim != 384:
            raise ValueError(f"the MiniLM text encoder outputs 384-d tokens, config says dim={self.dim}")


@dataclass(frozen=True)
class VideoEncoderConfig:
    """The video encoder: frames -> features (T_f, dim) at `fps`.

    "conv" and "pretrained" read frames at `fps`, scaled to cover `size`x`size` and centre-cropped;
    "motion" reads frames at the video's own rate (up to `max_input_fps`), the whole frame squashed
    to `size`x`size`, and resamples its features to `fps` (the latent rate in the demo configs).
    """

    kind: str = "conv"                  # "conv" | "motion" (trained here) | "pretrained" (frozen conv, local file)
    fps: float = 20.0
    size: int = 64
    dim: int = 64                       # C_v
    channels: tuple[int, ...] = (16, 32, 64, 128)
    path: str | None = None             # pretrained kind: safetensors of a conv encoder of this config
    max_input_fps: float = 60.0         # motion kind: faster videos are decimated by a whole factor
    dilations: tuple[int, ...] = (1, 2, 4)   # motion kind: temporal stack; reach ±(2 + sum) input frames
    detail: int = 1                     # motion kind: frames are read at size * detail px; motion is measured
                                        # there and max-pooled down, so small moving things stay visible

    def __post_init__(self) -> None:
        if self.kind not in VIDEO_KINDS:
            raise ValueError(f"video encoder kind must be one of {', '.join(VIDEO_KINDS)}, got {self.kind!r}")
        if self.fps <= 0 or self.size < 8:
            raise ValueError(f"video encoder needs fps > 0 and size >= 8 px, got fps={self.fps}, size={self.size}")
        if self.max_input_fps <= 0:
            raise ValueError(f"video encoder max_input_fps must be > 0, got {self.max_input_fps}")
        if not 1 <= self.detail <= 4:
            raise ValueError(f"video encoder detail must be 1-4, got {self.detail}")

    @property
    def read_size(self) -> int:
        """The square size frames are read at (the motion kind measures motion at `detail` times `size`)."""
        return self.size * (self.detail if self.kind == "motion" else 1)

    @property
    def fit(self) -> str:
        """How a frame becomes `size`x`size`: "squash" keeps the whole picture, "cover" centre-crops it."""
        return "squash" if self.kind == "motion" else "cover"

    def input_fps(self, native_fps: float | None) -> float:
        """The rate to sample a video at for this encoder (its native rate for the motion kind)."""
        if self.kind != "motion":
            return self.fps
        if not native_fps or native_fps <= 0:
            return min(30.0, self.max_input_fps)
        return native_fps / math.ceil(native_fps / self.max_input_fps - 1e-9)


VIDEO_KINDS = ("conv", "motion", "pretrained")


# ----------------------------------------------------------------------------- denoiser
@dataclass(frozen=True)
class DiTConfig:
    """DiT denoiser sizes; its input/conditioning widths come from the other configs."""

    width: int = 256
    depth: int = 6
    heads: int = 4
    mlp_ratio: float = 4.0
    rope_base: float = 10_000.0

    def __post_init__(self) -> None:
        if self.width % self.heads or (self.width // self.heads) % 2:
            raise ValueError(f"DiT width {self.width} must split into {self.heads} heads of even size")

    @property
    def head_dim(self) -> int:
        return self.width // self.heads


@dataclass(frozen=True)
class DiffusionConfig:
    """Noise schedule (cosine in log-SNR, clamped) and what the network predicts."""

    prediction: str = "eps"             # "eps" (paper) | "v"
    logsnr_min: float = -10.0           # at t = 1 (alpha ~ 0.0067)
    logsnr_max: float = 12.0            # at t = 0

    def __post_init__(self) -> None:
        if self.prediction not in ("eps", "v"):
            raise ValueError(f"prediction must be 'eps' or 'v', got {self.prediction!r}")
        if not self.logsnr_min < self.logsnr_max:
            raise ValueError(f"need logsnr_min < logsnr_max, got {self.logsnr_min}, {self.logsnr_max}")


QUALITY_NEGATIVES = ("opposite", "none", "same")


@dataclass(frozen=True)
class GuidanceConfig:
    """How a trained model's guidance is calibrated (a property of the weights, so it travels with them).

    `quality_negative` is the quality tag the negative branch carries when the user asks for one:
    "opposite" (the paper's eq. 4: "high quality" is pushed away from "low quality", the strongest
    effect), "none" (pushed away from the untagged negative) or "same" (the tag only conditions, it is
    not extrapolated by γ: the weakest). A model whose tag overshoots is calibrated to a weaker one by
    `scripts/quality_calibration.py`, which measures each on held-out clips.
    """

    quality_negative: str = "opposite"

    def __post_init__(self) -> None:
        if self.quality_negative not in QUALITY_NEGATIVES:
            raise ValueError(f"quality_negative must be one of {', '.join(QUALITY_NEGATIVES)}, "
                             f"got {self.quality_negative!r}")


# ----------------------------------------------------------------------------- whole model
@dataclass(frozen=True)
class FoleyConfig:
    """A whole MultiFoley model: autoencoder, denoiser, encoders and schedule."""

    name: str = "custom"
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    dit: DiTConfig = field(default_factory=DiTConfig)
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    video: VideoEncoderConfig = field(default_factory=VideoEncoderConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    guidance: GuidanceConfig = field(default_factory=GuidanceConfig)
    window_seconds: float = timebase.MODEL_WINDOW_SECONDS
    version: int = CONFIG_VERSION

    def __post_init__(self) -> None:
        if self.autoencoder.latent_rate != timebase.LATENT_RATE or \
                self.autoencoder.sample_rate != timebase.SAMPLE_RATE:
            raise ValueError(
                f"model rates {self.autoencoder.sample_rate} Hz / {self.autoencoder.latent_rate} Hz differ from "
                f"the timebase's {timebase.SAMPLE_RATE} Hz / {timebase.LATENT_RATE} Hz")

    @property
    def sample_rate(self) -> int:
        return self.autoencoder.sample_rate

    @property
    def latent_rate(self) -> float:
        return self.autoencoder.latent_rate

    @property
    def hop(self) -> int:
        return self.autoencoder.hop

    @property
    def latent_channels(self) -> int:
        return self.autoencoder.latent_channels

    @property
    def window_latents(self) -> int:
        return int(round(self.window_seconds * self.latent_rate))

    @property
    def window_samples(self) -> int:
        return self.window_latents * self.hop

    @property
    def dit_in_channels(self) -> int:
        """[noisy latents, video features, given latents, mask] concatenated on channels."""
        return 2 * self.latent_channels + self.video.dim + 1

    # -- JSON boundary
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FoleyConfig":
        """Build from JSON data; unknown keys raise ValueError naming them (a newer file, or a typo)."""
        parts = {
            "autoencoder": AutoencoderConfig, "dit": DiTConfig, "text": TextEncoderConfig,
            "video": VideoEncoderConfig, "diffusion": DiffusionConfig, "guidance": GuidanceConfig,
        }
        if not isinstance(data, dict):
            raise ValueError(f"the model config must be an object, found {type(data).__name__}")
        version = data.get("version", CONFIG_VERSION)
        if not isinstance(version, int) or version > CONFIG_VERSION:
            raise ValueError(f"model config version {version!r} is newer than this Foley Studio reads "
                             f"({CONFIG_VERSION}); update Foley Studio")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in parts:
                kwargs[key] = _build(parts[key], value, key)
            elif key in {f.name for f in dataclasses.fields(cls)}:
                kwargs[key] = value
            else:
                raise ValueError(f"unknown model config key {key!r}")
        check_section(cls, kwargs, "")
        return cls(**kwargs)


def _build(kind: type, value: dict[str, Any], where: str) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"model config section {where!r} must be an object, found {type(value).__name__}")
    names = {f.name: f for f in dataclasses.fields(kind)}
    unknown = set(value) - set(names)
    if unknown:
        raise ValueError(f"unknown keys in model config section {where!r}: {sorted(unknown)}")
    check_section(kind, value, where)       # before the dataclass divides by a size of 0
    # JSON has lists where the dataclass keeps tuples (hashable, frozen)
    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    return kind(**fixed)


# ----------------------------------------------------------------------------- field values
# Each value of a config read from disk against its field's type and range, before the dataclass is
# built: ints are whole numbers, floats finite, strings bounded, tuples short, each inside the range
# `FIELD_RANGES` gives it (or a generic one by type), so `heads: 0`, `fps: NaN` or `depth: 1e6` stop
# with a message naming the field before the dataclass (or a division by a field) sees them. A new
# field is covered by its type at once; give it a range here when the generic one is too loose.
MAX_ITEMS = 16                      # entries of a tuple field (strides, channel lists)


@dataclass(frozen=True)
class Range:
    lo: float
    hi: float


INT_DEFAULT = Range(0, 65_536)      # a size or count nobody set a range for
FLOAT_DEFAULT = Range(-1e6, 1e6)

FIELD_RANGES: dict[type, dict[str, Range]] = {
    AutoencoderConfig: {
        "latent_channels": Range(1, 1024), "sample_rate": Range(8_000, 384_000), "hop": Range(1, 48_000),
        "n_fft": Range(16, 16_384), "frames_per_latent": Range(1, 64), "hidden": Range(1, 4096),
        "blocks": Range(0, 32), "channels": Range(1, 4096), "strides": Range(1, 64), "max_channels": Range(1, 8192),
        "chunk_latents": Range(1, 4000), "overlap_latents": Range(0, 1000),
    },
    TextEncoderConfig: {"dim": Range(1, 4096), "max_tokens": Range(1, 4096), "vocab_size": Range(2, 1_000_000)},
    VideoEncoderConfig: {"fps": Range(values.MIN_FPS, 240), "size": Range(8, 1024), "dim": Range(1, 4096),
                         "channels": Range(1, 4096), "max_input_fps": Range(values.MIN_FPS, 240),
                         "dilations": Range(1, 64), "detail": Range(1, 4)},
    DiTConfig: {"width": Range(8, 8192), "depth": Range(1, 64), "heads": Range(1, 128), "mlp_ratio": Range(0.25, 16),
                "rope_base": Range(1, 1e9)},
    DiffusionConfig: {"logsnr_min": Range(-40, 40), "logsnr_max": Range(-40, 40)},
    FoleyConfig: {"window_seconds": Range(0.5, 60), "version": Range(1, 1_000)},
}


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def check_section(cls: type, raw: dict[str, Any], where: str) -> None:
    """Each value of one config section against its field's type and range (`ConfigRangeError`)."""
    hints = _hints(cls)
    ranges = FIELD_RANGES.get(cls, {})
    for name, value in raw.items():
        if name in hints and not dataclasses.is_dataclass(hints[name]):
            _check_value(hints[name], value, f"{where}.{name}" if where else name, ranges.get(name))


def _check_value(hint: Any, value: Any, where: str, bound: Range | None) -> None:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigRangeError(f"{where} is {value!r}; it must be true or false")
    elif hint is int:
        b = bound or INT_DEFAULT
        values.whole_number(value, where, lo=int(b.lo), hi=int(b.hi), error=ConfigRangeError)
    elif hint is float:
        b = bound or FLOAT_DEFAULT
        values.finite_number(value, where, lo=b.lo, hi=b.hi, error=ConfigRangeError)
    elif hint is str:
        values.checked_text(value, where, error=ConfigRangeError)
    elif origin is tuple:
        if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_ITEMS:
            raise ConfigRangeError(f"{where} is {value!r}; it must be a list of 1 to {MAX_ITEMS} whole numbers")
        for i, item in enumerate(value):
            _check_value(int, item, f"{where}[{i}]", bound or Range(1, INT_DEFAULT.hi))


# ----------------------------------------------------------------------------- presets
PAPER = FoleyConfig(
    name="paper",
    autoencoder=AutoencoderConfig(kind="dac", latent_channels=64, channels=64, strides=(2, 4, 5, 6, 5),
                                  max_channels=1024, chunk_latents=400, overlap_latents=24),
    dit=DiTConfig(width=1024, depth=12, heads=16),
    text=TextEncoderConfig(kind="t5", dim=768, max_tokens=77, name="t5-base"),
    video=VideoEncoderConfig(kind="conv", fps=8.0, size=112, dim=512, channels=(32, 64, 128, 256, 512)),
)

DEMO = FoleyConfig(
    name="demo",
    autoencoder=AutoencoderConfig(kind="stft", latent_channels=32, n_fft=1200, frames_per_latent=4,
                                  hidden=192, blocks=3, overlap_latents=16),
    dit=DiTConfig(width=192, depth=8, heads=4),
    text=TextEncoderConfig(kind="minilm", dim=384, max_tokens=32),
    video=VideoEncoderConfig(kind="conv", fps=20.0, size=64, dim=64, channels=(16, 32, 64, 128)),
    # v, not the paper's eps: with eps, the x0 estimate at t = 1 is the network's error times
    # sigma/alpha ~ 150, which a briefly trained small model turns into blown-up first sampler steps
    diffusion=DiffusionConfig(prediction="v"),
)

TINY = FoleyConfig(
    name="tiny",
    autoencoder=AutoencoderConfig(kind="stft", latent_channels=8, n_fft=1200, frames_per_latent=4,
                                  hidden=32, blocks=1, chunk_latents=64, overlap_latents=8),
    dit=DiTConfig(width=64, depth=2, heads=4),
    text=TextEncoderConfig(kind="hash", dim=32, max_tokens=16, vocab_size=512),
    video=VideoEncoderConfig(kind="conv", fps=10.0, size=32, dim=16, channels=(8, 16)),
)

PRESETS: dict[str, FoleyConfig] = {c.name: c for c in (PAPER, DEMO, TINY)}


def get_preset(name: str) -> FoleyConfig:
    """The preset called `name`; ValueError names the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownNameError(f"unknown model preset {name!r}; known presets: {', '.join(sorted(PRESETS))}") from None
