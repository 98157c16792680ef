from __future__ import annotations

import math

import pytest
import torch

from foley_studio.model.autoencoder import DacAutoencoder, StftAutoencoder, build_autoencoder
from foley_studio.model.config import TINY, AutoencoderConfig

# Chunked and unchunked runs see the same samples inside each chunk's receptive field, so they differ
# only by float rounding of differently sized convolutions.
CHUNK_TOLERANCE = 1e-5

TINY_DAC = AutoencoderConfig(kind="dac", latent_channels=4, channels=1, max_channels=4,
                             strides=(2, 4, 5, 6, 5), chunk_latents=64, overlap_latents=16)


def _tone(seconds: float, *, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * 48_000)) / 48_000
    clicks = (torch.rand(t.shape, generator=gen) > 0.999).float()
    return (0.3 * torch.sin(2 * math.pi * 440 * t) + 0.5 * clicks)[None]


def test_rates_8_seconds_is_320_latents_and_384000_samples():
    ae = build_autoencoder(TINY.autoencoder).eval()
    with torch.no_grad():
        z = ae.encode(_tone(8.0))
        y = ae.decode(z)
    assert z.shape == (1, TINY.latent_channels, 320)
    assert y.shape == (1, 384_000)


def test_partial_latent_frame_is_padded_up():
    ae = build_autoencoder(TINY.autoencoder).eval()
    with torch.no_grad():
        z = ae.encode(torch.zeros(2, 1201))
    assert z.shape == (2, TINY.latent_channels, 2)


@pytest.mark.parametrize("config, seconds, chunks", [(TINY.autoencoder, 3.0, (7, 32)), (TINY_DAC, 0.5, (10,))],
                         ids=["stft", "dac"])
def test_chunked_equals_unchunked(config, seconds, chunks):
    torch.manual_seed(0)
    ae = build_autoencoder(config).eval()
    wave = _tone(seconds)
    n_latents = int(seconds * 40)
    with torch.no_grad():
        whole = ae.encode(wave, chunk_latents=10_000)
        for chunk in chunks:
            parts = ae.encode(wave, chunk_latents=chunk)
            assert torch.allclose(parts, whole, atol=CHUNK_TOLERANCE, rtol=0), (parts - whole).abs().max()
        y_whole = ae.decode(whole, chunk_latents=10_000)
        y_parts = ae.decode(whole, chunk_latents=chunks[0])
    assert y_whole.shape == (1, n_latents * 1200)
    assert y_whole.abs().max() > 1e-4       # an untrained decoder still outputs signal, not zeros
    assert torch.allclose(y_parts, y_whole, atol=CHUNK_TOLERANCE, rtol=0), (y_parts - y_whole).abs().max()


def test_stft_analysis_and_synthesis_invert_each_other():
    ae = StftAutoencoder(TINY.autoencoder)
    wave = _tone(1.0)
    spec = ae.spectrum(wave)
    assert spec.shape == (1, 601, 160)       # 4 frames per latent frame, 40 latents per second
    back = ae.istft(spec)
    # the ends lack overlapping frames; everything a window away from them is reconstructed exactly
    assert torch.allclose(back[:, 1200:-1200], wave[:, 1200:-1200], atol=1e-4)


def test_training_pass_gives_gradients_and_kl():
    ae = build_autoencoder(TINY.autoencoder)
    wave = _tone(0.5)
    out = ae(wave, generator=torch.Generator().manual_seed(1))
    assert out.recon.shape == wave.shape and out.mean.shape == (1, TINY.latent_channels, 20)
    loss = (out.recon - wave).pow(2).mean() + 1e-3 * out.kl()
    loss.backward()
    assert out.kl().item() >= 0
    assert ae.enc_in.weight.grad is not None and ae.enc_in.weight.grad.abs().sum() > 0


def test_latent_normalisation_is_applied_and_undone():
    ae = build_autoencoder(TINY.autoencoder).eval()
    wave = _tone(1.0)
    with torch.no_grad():
        raw, _ = ae.encode_distribution(wave)
        ae.latent_mean.fill_(0.5)
        ae.latent_std.fill_(2.0)
        z = ae.encode(wave)
        assert torch.allclose(z, (raw - 0.5) / 2.0, atol=1e-6)
        assert torch.allclose(ae.denormalize(z), raw, atol=1e-6)


def test_dac_has_snake_and_weight_norm():
    ae = DacAutoencoder(TINY_DAC)
    names = [n for n, _ in ae.named_parameters()]
    assert any(n.endswith("alpha") for n in names)
    assert any("parametrizations.weight.original0" in n for n in names)
