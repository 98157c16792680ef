from __future__ import annotations

import torch

from foley_studio.model.config import TINY
from foley_studio.model.foley import FoleyModel, resample_features
from tests.model_helpers import tiny_model



def test_video_features_land_on_the_latent_frames_of_their_time():
    """An event in video frame k (at 10 fps) must reach the latent frames covering k/10 .. (k+1)/10 s."""
    feats = torch.zeros(30, 1)
    feats[12] = 1.0                                    # frame 12 spans 1.2 s .. 1.3 s
    out, mask = resample_features(feats, 10.0, 40.0, 160)
    peak = torch.nonzero(out[:, 0] == out[:, 0].max()).flatten().tolist()
    assert all(48 <= j < 52 for j in peak)            # latents 48..51 cover 1.2 s .. 1.3 s
    assert out[:44, 0].abs().max() == 0 and out[56:, 0].abs().max() == 0
    assert mask[:120].all() and not mask[120:].any()   # 3 s of video, 4 s requested


def test_resample_between_non_integer_rates_is_linear():
    feats = torch.arange(50, dtype=torch.float32)[:, None]          # value = frame index at 25 fps
    out, _ = resample_features(feats, 25.0, 40.0, 40)
    expected = ((torch.arange(40) + 0.5) / 40 * 25 - 0.5).clamp(min=0)
    assert torch.allclose(out[:, 0], expected, atol=1e-5)


def test_model_facts_and_parts():
    model = FoleyModel(TINY)
    assert model.video_fps == TINY.video.fps and model.video_size == TINY.video.size
    assert model.device.type == "cpu"
    counts = model.parameter_counts()
    assert set(counts) == {"autoencoder", "dit", "text_encoder", "video_encoder"} and all(counts.values())


def test_encode_video_has_gradients_only_while_training():
    model = tiny_model()
    frames = torch.randint(0, 256, (5, 32, 32, 3), dtype=torch.uint8)
    assert not model.encode_video(frames).requires_grad
    model.train()
    assert model.encode_video(frames).requires_grad


def test_audio_round_trip_runs_in_float32_inside_autocast():
    model = tiny_model()
    wave = torch.randn(1, 48_000) * 0.1
    with torch.autocast("cpu", dtype=torch.bfloat16):
        z = model.encode_audio(wave)
        y = model.decode_latents(z)
    assert z.dtype == torch.float32 and y.dtype == torch.float32 and y.shape == (1, 48_000)
