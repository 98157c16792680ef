"""Audio autoencoder: 48 kHz mono waveform <-> Gaussian latents at 40 Hz (C_z channels).

Two architectures behind one interface (`AudioAutoencoder`):

- `StftAutoencoder` (demo, tiny): log-magnitude STFT -> ConvNeXt encoder -> latents -> ConvNeXt
  decoder -> complex spectrum (magnitude and phase) -> inverse STFT (a Vocos-style head). All
  convolutions run at 160 Hz / 40 Hz instead of 48 kHz, which is what makes it trainable on a CPU.
- `DacAutoencoder` (paper): DAC-style waveform convolutions with Snake activations and weight norm,
  strided down by 2*4*5*6*5 = 1200.

Both are fully convolutional with a finite receptive field, so `encode`/`decode` process any length
in chunks with `overlap_latents` of context on each side and crop it away. Each run (chunked or
not) sees the signal zero-padded by that margin at its ends, so chunked and unchunked results agree
to float rounding whenever the margin covers the receptive field (tested).

Latents are normalised per channel with `latent_mean`/`latent_std` buffers, which the trainer sets
from data after fitting the autoencoder (so the diffusion model sees roughly unit variance).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from foley_studio.model.config import AutoencoderConfig

LOGVAR_RANGE = (-30.0, 20.0)


@dataclass
class AutoencoderOutput:
    """One training pass: reconstruction and the posterior it was sampled from (raw latents)."""

    recon: Tensor       # (B, N)
    mean: Tensor        # (B, C_z, T)
    logvar: Tensor      # (B, C_z, T)
    latents: Tensor     # (B, C_z, T), a sample of the posterior

    def kl(self) -> Tensor:
        """KL(q(z|x) || N(0, I)), averaged over every latent value."""
        return 0.5 * (self.mean.pow(2) + self.logvar.exp() - 1.0 - self.logvar).mean()


# ----------------------------------------------------------------------------- base
class AudioAutoencoder(nn.Module):
    """Shared chunking, normalisation and training pass; subclasses give `_encode_raw`/`_decode_raw`."""

    def __init__(self, config: AutoencoderConfig):
        super().__init__()
        self.config = config
        self.register_buffer("latent_mean", torch.zeros(config.latent_channels))
        self.register_buffer("latent_std", torch.ones(config.latent_channels))

    # subclasses: (B, n*hop) -> (B, 2*C_z, n); (B, C_z, n) -> (B, n*hop)
    def _encode_raw(self, wave: Tensor) -> Tensor:
        raise NotImplementedError

    def _decode_raw(self, z: Tensor) -> Tensor:
        raise NotImplementedError

    # -- public
    def encode(self, wave: Tensor, *, chunk_latents: int | None = None) -> Tensor:
        """(B, N) waveform -> (B, C_z, ceil(N / hop)) normalised posterior means."""
        mean, _ = self.encode_distribution(wave, chunk_latents=chunk_latents)
        return self.normalize(mean)

    def encode_distribution(self, wave: Tensor, *, chunk_latents: int | None = None) -> tuple[Tensor, Tensor]:
        """(B, N) -> raw (mean, logvar), each (B, C_z, T); the audio is zero-padded up to T * hop."""
        assert wave.dim() == 2, f"expected (B, N) waveform, got {tuple(wave.shape)=}"
        hop = self.config.hop
        n_latents = -(-wave.shape[-1] // hop)
        wave = F.pad(wave, (0, n_latents * hop - wave.shape[-1]))
        stats = self._chunked(self._encode_raw, wave, n_latents, hop, 1, chunk_latents)
        mean, logvar = stats.chunk(2, dim=1)
        return mean, logvar.clamp(*LOGVAR_RANGE)

    def decode(self, z: Tensor, *, chunk_latents: int | None = None) -> Tensor:
        """(B, C_z, T) normalised latents -> (B, T * hop) waveform."""
        assert z.dim() == 3 and z.shape[1] == self.config.latent_channels, f"{tuple(z.shape)=}"
        raw = self.denormalize(z)
        return self._chunked(self._decode_raw, raw, z.shape[-1], 1, self.config.hop, chunk_latents)

    def normalize(self, raw: Tensor) -> Tensor:
        return (raw - self.latent_mean[:, None]) / self.latent_std[:, None]

    def denormalize(self, z: Tensor) -> Tensor:
        return z * self.latent_std[:, None] + self.latent_mean[:, None]

    def forward(self, wave: Tensor, *, generator: torch.Generator | None = None,
                margin_latents: int = 2) -> AutoencoderOutput:
        """Training pass on (B, N) audio with N a multiple of hop: sample z ~ q(z|x) and decode.

        Training crops are cut from longer audio, so what lies beyond them is not silence either
        way; a short zero margin (instead of the full `overlap_latents` of inference) keeps a 1 s
        crop from costing nearly twice as much.
        """
        assert wave.shape[-1] % self.config.hop == 0, f"{wave.shape[-1]=} is not a multiple of {self.config.hop}"
        n = wave.shape[-1] // self.config.hop
        margin = margin_latents
        stats = _crop(self._encode_raw(_pad_time(wave, margin * self.config.hop)), margin, n)
        mean, logvar = stats.chunk(2, dim=1)
        logvar = logvar.clamp(*LOGVAR_RANGE)
        noise = torch.randn(mean.shape, generator=generator, device="cpu").to(mean)
        latents = mean + (0.5 * logvar).exp() * noise
        recon = _crop(self._decode_raw(_pad_time(latents, margin)), margin * self.config.hop, n * self.config.hop)
        return AutoencoderOutput(recon=recon, mean=mean, logvar=logvar, latents=latents)

    # -- chunking
    def _chunked(self, fn: Callable[[Tensor], Tensor], x: Tensor, n_latents: int,
                 in_per_latent: int, out_per_latent: int, chunk_latents: int | None) -> Tensor:
        """Run `fn` over latent-aligned chunks of `x` (time on the last axis) with overlap, and join."""
        chunk = chunk_latents or self.config.chunk_latents
        margin = self.config.overlap_latents
        outputs = []
        for start in range(0, n_latents, chunk):
            stop = min(start + chunk, n_latents)
            lo, hi = (start - margin) * in_per_latent, (stop + margin) * in_per_latent
            piece = x[..., max(lo, 0):min(hi, x.shape[-1])]
            piece = F.pad(piece, (max(0, -lo), max(0, hi - x.shape[-1])))  # zeros beyond the signal
            y = fn(piece)
            outputs.append(y[..., margin * out_per_latent:(margin + stop - start) * out_per_latent])
        return torch.cat(outputs, dim=-1)


def _pad_time(x: Tensor, n: int) -> Tensor:
    return F.pad(x, (n, n))


def _crop(x: Tensor, start: int, length: int) -> Tensor:
    return x[..., start:start + length]


# ----------------------------------------------------------------------------- STFT kind
class ConvNeXtBlock(nn.Module):
    """Depthwise conv (k=7) -> LayerNorm -> MLP, residual with a small learned scale."""

    def __init__(self, dim: int, *, expansion: int = 3):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * expansion)
        self.fc2 = nn.Linear(dim * expansion, dim)
        self.scale = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x: Tensor) -> Tensor:   # (B, C, T)
        h = self.dwconv(x).transpose(1, 2)     # (B, T, C)
        h = self.fc2(F.gelu(self.fc1(self.norm(h))))
        return x + (self.scale * h).transpose(1, 2)


class StftAutoencoder(AudioAutoencoder):
    """Log-magnitude STFT encoder and a magnitude+phase iSTFT decoder, both ConvNeXt stacks."""

    def __init__(self, config: AutoencoderConfig):
        super().__init__(config)
        c, h, k = config, config.hidden, config.frames_per_latent
        self.register_buffer("window", torch.hann_window(c.n_fft, periodic=True), persistent=False)
        # encoder: spectrum frames (k per latent) -> latent rate
        # kernel 3, not 7: the 601-bin input conv dominated a training step; the blocks add context
        self.enc_in = nn.Conv1d(c.n_bins, h, 3, padding=1)
        self.enc_fast = nn.Sequential(*[ConvNeXtBlock(h) for _ in range(c.blocks)])
        self.enc_down = nn.Conv1d(h, h, k, stride=k)
        self.enc_slow = nn.Sequential(*[ConvNeXtBlock(h) for _ in range(c.blocks)])
        self.enc_out = nn.Conv1d(h, 2 * c.latent_channels, 3, padding=1)
        # decoder: latent rate -> spectrum frames -> magnitude and phase per bin
        self.dec_in = nn.Conv1d(c.latent_channels, h, 7, padding=3)
        self.dec_slow = nn.Sequential(*[ConvNeXtBlock(h) for _ in range(c.blocks)])
        self.dec_up = nn.ConvTranspose1d(h, h, k, stride=k)
        self.dec_fast = nn.Sequential(*[ConvNeXtBlock(h) for _ in range(c.blocks)])
        self.dec_norm = nn.LayerNorm(h)
        self.dec_out = nn.Linear(h, 2 * c.n_bins)

    def spectrum(self, wave: Tensor) -> Tensor:
        """(B, n*hop) -> complex STFT (B, bins, n*k); frame j is centred on sample (j + 1/2) * stft_hop."""
        c = self.config
        pad = (c.n_fft - c.stft_hop) // 2
        padded = F.pad(wave, (pad, c.n_fft - c.stft_hop - pad))
        return torch.stft(padded, c.n_fft, c.stft_hop, window=self.window, center=False, return_complex=True)

    def _encode_raw(self, wave: Tensor) -> Tensor:
        logmag = self.spectrum(wave).abs().clamp(min=1e-5).log()        # (B, F, n*k)
        h = self.enc_fast(self.enc_in(logmag))
        h = self.enc_slow(self.enc_down(h))                               # (B, H, n)
        return self.enc_out(h)                                            # (B, 2C_z, n)

    def _decode_raw(self, z: Tensor) -> Tensor:
        h = self.dec_slow(self.dec_in(z))
        h = self.dec_fast(self.dec_up(h))                                 # (B, H, n*k)
        out = self.dec_out(self.dec_norm(h.transpose(1, 2))).transpose(1, 2)
        logmag, phase = out.chunk(2, dim=1)                               # (B, F, n*k) each
        mag = logmag.clamp(max=8.0).exp()   # bound: exp(8) ~ 3000 is far above any real bin
        spec = torch.polar(mag, phase)
        return self.istft(spec)

    def istft(self, spec: Tensor) -> Tensor:
        """Inverse of `spectrum`: windowed overlap-add normalised by the window envelope."""
        c = self.config
        n_frames = spec.shape[-1]
        frames = torch.fft.irfft(spec, n=c.n_fft, dim=1) * self.window[None, :, None]   # (B, n_fft, L)
        total = (n_frames - 1) * c.stft_hop + c.n_fft
        y = F.fold(frames, (1, total), (1, c.n_fft), stride=(1, c.stft_hop))[:, 0, 0]  # (B, total)
        env = F.fold(self.window.pow(2)[None, :, None].expand(1, -1, n_frames), (1, total),
                     (1, c.n_fft), stride=(1, c.stft_hop))[:, 0, 0]
        y = y / env.clamp(min=1e-8)
        pad = (c.n_fft - c.stft_hop) // 2
        return y[:, pad:pad + n_frames * c.stft_hop]


# ----------------------------------------------------------------------------- DAC kind
class Snake(nn.Module):
    """x + sin^2(alpha x) / alpha with a learned alpha per channel (periodic inductive bias)."""

    def __init__(self, channels: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return x + (self.alpha * x).sin().pow(2) / (self.alpha + 1e-9)


def _wn_conv(*args, **kwargs) -> nn.Module:
    return weight_norm(nn.Conv1d(*args, **kwargs))


def _wn_tconv(*args, **kwargs) -> nn.Module:
    return weight_norm(nn.ConvTranspose1d(*args, **kwargs))


class ResidualUnit(nn.Module):
    """Snake -> dilated conv (k=7) -> Snake -> 1x1 conv, residual."""

    def __init__(self, dim: int, dilation: int):
        super().__init__()
        self.block = nn.Sequential(Snake(dim), _wn_conv(dim, dim, 7, dilation=dilation, padding=3 * dilation),
                                   Snake(dim), _wn_conv(dim, dim, 1))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x)


def _down_block(cin: int, cout: int, stride: int) -> nn.Module:
    return nn.Sequential(ResidualUnit(cin, 1), ResidualUnit(cin, 3), ResidualUnit(cin, 9), Snake(cin),
                         _wn_conv(cin, cout, 2 * stride, stride=stride, padding=math.ceil(stride / 2)))


def _up_block(cin: int, cout: int, stride: int) -> nn.Module:
    return nn.Sequential(Snake(cin),
                         _wn_tconv(cin, cout, 2 * stride, stride=stride, padding=math.ceil(stride / 2),
                                   output_padding=stride % 2),
                         ResidualUnit(cout, 1), ResidualUnit(cout, 3), ResidualUnit(cout, 9))


class DacAutoencoder(AudioAutoencoder):
    """DAC-style waveform VAE: Snake activations, weight norm, strides multiplying to the hop."""

    def __init__(self, config: AutoencoderConfig):
        super().__init__(config)
        c = config
        widths = [min(c.channels * 2 ** i, c.max_channels) for i in range(len(c.strides) + 1)]
        enc: list[nn.Module] = [_wn_conv(1, widths[0], 7, padding=3)]
        enc += [_down_block(widths[i], widths[i + 1], s) for i, s in enumerate(c.strides)]
        enc += [Snake(widths[-1]), _wn_conv(widths[-1], 2 * c.latent_channels, 3, padding=1)]
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [_wn_conv(c.latent_channels, widths[-1], 7, padding=3)]
        for i, s in reversed(list(enumerate(c.strides))):
            dec.append(_up_block(widths[i + 1], widths[i], s))
        dec += [Snake(widths[0]), _wn_conv(widths[0], 1, 7, padding=3), nn.Tanh()]
        self.decoder = nn.Sequential(*dec)

    def _encode_raw(self, wave: Tensor) -> Tensor:
        return self.encoder(wave[:, None])            # (B, 1, N) -> (B, 2C_z, N / hop)

    def _decode_raw(self, z: Tensor) -> Tensor:
        return self.decoder(z)[:, 0]                  # (B, C_z, T) -> (B, T * hop)


def build_autoencoder(config: AutoencoderConfig) -> AudioAutoencoder:
    """The autoencoder architecture that `config.kind` names."""
    return {"stft": StftAutoencoder, "dac": DacAutoencoder}[config.kind](config)
