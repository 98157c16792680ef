from __future__ import annotations

import torch

from foley_studio.model.config import DEMO, TINY
from foley_studio.model.dit import DiT
from tests.model_helpers import tiny_model


C_Z, C_V, C_T, L = TINY.latent_channels, TINY.video.dim, TINY.text.dim, 24


def _inputs(b: int = 2, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return dict(given=torch.randn(b, C_Z, L, generator=g), given_mask=torch.rand(b, L, generator=g) > 0.5,
                video=torch.randn(b, L, C_V, generator=g), video_mask=torch.ones(b, L, dtype=torch.bool),
                text=torch.randn(b, 5, C_T, generator=g), text_mask=torch.ones(b, 5, dtype=torch.bool))


def _dit() -> DiT:
    return tiny_model().dit


def test_adaln_zero_starts_at_zero_output():
    dit = DiT(TINY.dit, latent_channels=C_Z, video_dim=C_V, text_dim=C_T)
    out = dit(torch.randn(2, C_Z, L), torch.rand(2), **_inputs())
    assert out.shape == (2, C_Z, L) and torch.equal(out, torch.zeros_like(out))


def test_padded_text_tokens_are_ignored():
    dit, x, t = _dit(), torch.randn(2, C_Z, L), torch.tensor([0.3, 0.8])
    inputs = _inputs()
    inputs["text_mask"][:, 3:] = False
    with torch.no_grad():
        a = dit(x, t, **inputs)
        inputs["text"][:, 3:] = 100.0
        b = dit(x, t, **inputs)
    assert torch.allclose(a, b, atol=1e-5)


def test_null_embeddings_replace_dropped_text_and_missing_video():
    dit, x, t = _dit(), torch.randn(2, C_Z, L), torch.tensor([0.5, 0.5])
    inputs = _inputs()
    with torch.no_grad():
        base = dit(x, t, **inputs)
        dropped = dit(x, t, **inputs, text_drop=torch.tensor([True, False]))
        other_text = dict(inputs, text=torch.randn(2, 7, C_T), text_mask=torch.ones(2, 7, dtype=torch.bool))
        dropped_other = dit(x, t, **other_text, text_drop=torch.tensor([True, False]))
        inputs["video_mask"][0] = False
        no_video = dit(x, t, **inputs)
        inputs["video"][0] = 50.0                                   # ignored where the mask is False
        no_video_other = dit(x, t, **inputs)
    assert not torch.allclose(dropped[0], base[0], atol=1e-4) and torch.allclose(dropped[1], base[1], atol=1e-5)
    assert torch.allclose(dropped[0], dropped_other[0], atol=1e-5)   # ∅_t whatever the text was
    assert not torch.allclose(no_video[0], base[0], atol=1e-4)
    assert torch.allclose(no_video[0], no_video_other[0], atol=1e-5)


def test_self_attention_sees_the_whole_sequence():
    """Changing the last position moves the output at the first: global context, not a local conv."""
    dit, t = _dit(), torch.tensor([0.5])
    x = torch.randn(1, C_Z, L)
    inputs = _inputs(1)
    with torch.no_grad():
        a = dit(x, t, **inputs)
        x2 = x.clone()
        x2[..., -1] += 3.0
        b = dit(x2, t, **inputs)
    assert (a[..., 0] - b[..., 0]).abs().max() > 1e-5


def test_demo_dit_fits_the_cpu_budget():
    dit = DiT(DEMO.dit, latent_channels=DEMO.latent_channels, video_dim=DEMO.video.dim, text_dim=DEMO.text.dim)
    n = sum(p.numel() for p in dit.parameters())
    assert 4e6 <= n <= 8e6, n


def test_a_row_without_valid_tokens_falls_back_to_null_text():
    dit, x, t = _dit(), torch.randn(2, C_Z, L), torch.tensor([0.5, 0.5])
    inputs = _inputs()
    with torch.no_grad():
        dropped = dit(x, t, **inputs, text_drop=torch.tensor([True, False]))
        inputs["text_mask"][0] = False
        empty = dit(x, t, **inputs)
    assert torch.isfinite(empty).all() and torch.allclose(empty[0], dropped[0], atol=1e-5)
