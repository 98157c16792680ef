"""The DiT stage's conditioning masks: the given span never reaches the loss."""
from __future__ import annotations

import numpy as np
import torch

from foley_studio.model.config import TINY
from foley_studio.model.foley import FoleyModel
from foley_studio.training.config import TrainConfig
from foley_studio.training.data import FeatureCache
from foley_studio.training.masking import loss_mask, masked_mse, sample_condition_mask
from foley_studio.training.dit_stage import DiTObjective, make_dit_batch


def test_spans_follow_the_paper():
    g = torch.Generator().manual_seed(0)
    n_valid = torch.full((4000,), 320)
    given = sample_condition_mask(n_valid, 320, p=0.25, max_latents=80, generator=g)
    lengths = given.sum(1)
    assert 0.22 < (lengths > 0).float().mean() < 0.28          # p = 0.25 (a 0-length span counts as none)
    assert int(lengths.max()) <= 80                             # at most 2 s at 40 Hz
    for row in given[lengths > 0][:200]:                        # one contiguous span
        idx = torch.nonzero(row).flatten()
        assert int(idx[-1] - idx[0] + 1) == len(idx)


def test_span_stays_inside_valid_length_and_loss_skips_it():
    g = torch.Generator().manual_seed(1)
    n_valid = torch.tensor([40, 100, 320, 7])
    given = sample_condition_mask(n_valid, 320, p=1.0, max_latents=80, generator=g)
    positions = torch.arange(320)[None]
    assert not (given & (positions >= n_valid[:, None])).any()
    lm = loss_mask(given, n_valid)
    assert not (lm & given).any()
    assert torch.equal(lm | given, positions < n_valid[:, None])


def test_masked_mse_ignores_masked_positions():
    pred, target = torch.zeros(2, 3, 10), torch.zeros(2, 3, 10)
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[:, 4:6] = False
    target[:, :, 4:6] = 100.0                                   # huge error only where masked out
    assert float(masked_mse(pred, target, mask)) == 0.0
    target[0, 0, 0] = 1.0
    assert np.isclose(float(masked_mse(pred, target, mask)), 1.0 / (2 * 3 * 8))


def _tiny_cache(n: int = 6, length: int = 80) -> FeatureCache:
    g = torch.Generator().manual_seed(3)
    frames = np.random.default_rng(0).integers(0, 255, (n, int(length / 40 * TINY.video.fps), 32, 32, 3),
                                               dtype=np.uint8)
    return FeatureCache(latents=torch.randn(n, TINY.latent_channels, length, generator=g),
                        n_valid=torch.full((n,), length), video_index=list(range(n)), video=frames,
                        video_is_features=False, captions=["a metal ball bounces"] * n,
                        qualities=["high", "low"] * (n // 2), ids=[f"r{i}" for i in range(n)], text={},
                        video_rate=TINY.video.fps)


def test_the_model_gets_no_gradient_from_given_positions():
    torch.manual_seed(0)
    model = FoleyModel(TINY)
    objective = DiTObjective(model)
    cfg = TrainConfig(model="tiny", p_condition=1.0)
    batch = make_dit_batch(_tiny_cache(), cfg, torch.Generator().manual_seed(5), 6, torch.device("cpu"),
                           TINY.text.dim)
    assert batch["given"].any(1).sum() >= 4
    seen = {}

    def keep_output(module, inputs, output):
        output.retain_grad()
        seen["out"] = output

    model.dit.register_forward_hook(keep_output)
    loss, _ = objective(batch)
    loss.backward()
    grad = seen["out"].grad.abs().sum(1)                        # (B, L)
    assert float(grad[batch["given"]].max()) == 0.0
    assert bool((grad[~batch["given"]] > 0).all())
