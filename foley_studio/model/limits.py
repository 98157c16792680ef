"""The size of a model config, estimated before any tensor exists.

`estimate_parameters(config)` counts the parameters the config describes, from formulas per
component kind (`ESTIMATORS`); `check_size` refuses a config whose model would not fit in memory
(`width: 2e5` is 500 billion parameters). A kind without a formula is counted by building that
component on PyTorch's meta device, which allocates nothing. `checkpoint.read_config` and
`FoleyModel` call `check_size`; the field-by-field checks of a config read from disk are
`config.check_section`'s, at the JSON boundary (`FoleyConfig.from_dict`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from foley_studio.model.config import AutoencoderConfig, FoleyConfig, TextEncoderConfig, VideoEncoderConfig
from foley_studio.model.errors import ConfigRangeError

log = logging.getLogger(__name__)

MAX_PARAMETERS = 1_500_000_000      # 6 GB of float32: far above any Foley model (the paper's scale is ~0.3 B)


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
