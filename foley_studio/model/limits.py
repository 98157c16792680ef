"""Bounds of a model config read from disk, and its size estimated before any tensor exists.

`check_section(cls, values, where)` checks one section's raw JSON values against the field types of
its dataclass: ints are whole numbers, floats finite, strings bounded, tuples short, each inside the
range `FIELD_RANGES` gives it (or a generic one), so `heads: 0`, `fps: NaN` or `depth: 1e6` stop
with a message naming the field before the dataclass (or a division by a field) sees them. A new
field is covered by its type at once; give it a range here when the generic one is too loose.

`estimate_parameters(config)` counts the parameters the config describes, from formulas per
component kind (`ESTIMATORS`); `check_size` refuses a config whose model would not fit in memory
(`width: 2e5` is 500 billion parameters). A kind without a formula is counted by building that
component on PyTorch's meta device, which allocates nothing.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

from foley_studio.core import values
from foley_studio.model.config import (
    AutoencoderConfig, DiffusionConfig, DiTConfig, FoleyConfig, TextEncoderConfig, VideoEncoderConfig,
)
from foley_studio.model.errors import ConfigRangeError

log = logging.getLogger(__name__)

MAX_PARAMETERS = 1_500_000_000      # 6 GB of float32: far above any Foley model (the paper's scale is ~0.3 B)
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
                         "channels": Range(1, 4096)},
    DiTConfig: {"width": Range(8, 8192), "depth": Range(1, 64), "heads": Range(1, 128), "mlp_ratio": Range(0.25, 16),
                "rope_base": Range(1, 1e9)},
    DiffusionConfig: {"logsnr_min": Range(-40, 40), "logsnr_max": Range(-40, 40)},
    FoleyConfig: {"window_seconds": Range(0.5, 60), "version": Range(1, 1_000)},
}


# ----------------------------------------------------------------------------- field values
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


# ----------------------------------------------------------------------------- size
def _stft_parameters(c: AutoencoderConfig) -> int:
    h, k, z, f = c.hidden, c.frames_per_latent, c.latent_channels, c.n_bins
    block = 6 * h * h + 15 * h                           # ConvNeXt: depthwise 7, LayerNorm, 3x MLP, scale
    return (3 * f * h + h) + (k * h * h + h) + (6 * h * z + 2 * z)      \
        + (7 * z * h + h) + (k * h * h + h) + 2 * h + (2 * f * h + 2 * f) + 4 * c.blocks * block


def _dac_parameters(c: AutoencoderConfig) -> int:
    widths = [min(c.channels * 2 ** i, c.max_channels) for i in range(len(c.strides) + 1)]
    z = c.latent_channels

    def conv(cin: int, cout: int, k: int) -> int:     # weight-normed: weight, gain per output, bias
        return cin * cout * k + 2 * cout

    def unit(d: int) -> int:                          # Snake, conv 7, Snake, conv 1
        return 2 * d + conv(d, d, 7) + conv(d, d, 1)
    total = conv(1, widths[0], 7) + widths[-1] + conv(widths[-1], 2 * z, 3)
    total += conv(z, widths[-1], 7) + widths[0] + conv(widths[0], 1, 7)
    for i, s in enumerate(c.strides):
        cin, cout = widths[i], widths[i + 1]
        total += 3 * unit(cin) + cin + conv(cin, cout, 2 * s)                              # down block
        total += cout + (cout * cin * 2 * s + cout + cin) + 3 * unit(cin)                  # up block (back)
    return total


def _dit_parameters(config: FoleyConfig) -> int:
    d, z, v, t = config.dit.width, config.latent_channels, config.video.dim, config.text.dim
    hidden = int(d * config.dit.mlp_ratio)
    block = 14 * d * d + 2 * d * hidden + hidden + 17 * d       # self- and cross-attention, MLP, adaLN
    return ((2 * z + v + 1) * d + d) + (256 * d + d + d * d + d) + (2 * t + t * d + d) + (d * d + d) + t + v \
        + config.dit.depth * block + (2 * d * d + 2 * d) + (d * z + z)


def _video_conv_parameters(c: VideoEncoderConfig) -> int:
    total, cin = 0, 6
    for cout in c.channels:
        total += 9 * cin * cout + 3 * cout                      # conv 3x3 and GroupNorm
        cin = cout
    return total + (cin * c.dim + c.dim) + (5 * c.dim * c.dim + c.dim)


def _hash_text_parameters(c: TextEncoderConfig) -> int:
    return c.vocab_size * c.dim + c.max_tokens * c.dim


# (section, kind) -> parameters of that component; external encoders (loaded from their own files) count 0.
ESTIMATORS: dict[tuple[str, str], Callable[[Any], int]] = {
    ("autoencoder", "stft"): _stft_parameters, ("autoencoder", "dac"): _dac_parameters,
    ("video", "conv"): _video_conv_parameters, ("video", "pretrained"): _video_conv_parameters,
    ("text", "hash"): _hash_text_parameters, ("text", "minilm"): lambda c: 0, ("text", "t5"): lambda c: 0,
}


def estimate_parameters(config: FoleyConfig) -> dict[str, int]:
    """Parameters per component ('autoencoder', 'dit', 'text', 'video') of the model `config` describes."""
    counts = {"dit": _dit_parameters(config)}
    for section in ("autoencoder", "text", "video"):
        part = getattr(config, section)
        estimate = ESTIMATORS.get((section, part.kind))
        counts[section] = estimate(part) if estimate else _meta_parameters(section, part)
    return counts


def _meta_parameters(section: str, part: Any) -> int:
    """Count a component with no formula by building it on the meta device (no memory is allocated)."""
    import torch

    from foley_studio.model.autoencoder import build_autoencoder
    from foley_studio.model.encoders import build_text_encoder, build_video_encoder

    build = {"autoencoder": build_autoencoder, "text": build_text_encoder, "video": build_video_encoder}[section]
    log.debug("no size formula for %s kind %r; counting it on the meta device", section, part.kind)
    with torch.device("meta"):
        module = build(part)
    return sum(p.numel() for p in module.parameters())


def check_size(config: FoleyConfig) -> None:
    """Refuse a config whose model could not be held in memory, before anything is built."""
    counts = estimate_parameters(config)
    total = sum(counts.values())
    if total > MAX_PARAMETERS:
        parts = ", ".join(f"{k} {v / 1e9:,.2f} B" for k, v in counts.items() if v)
        raise ConfigRangeError(
            f"it describes a model of {total / 1e9:,.1f} billion parameters ({parts}; {total * 4 / 1e9:,.0f} GB of "
            f"float32), more than the {MAX_PARAMETERS / 1e9:g} billion Foley Studio loads; the sizes are damaged or "
            "the config is not for this program")
