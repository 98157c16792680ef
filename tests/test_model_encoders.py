from __future__ import annotations

import pytest
import torch

from foley_studio.model.config import TextEncoderConfig, VideoEncoderConfig
from foley_studio.model.encoders import (
    HashTextEncoder, MotionVideoEncoder, PretrainedTextEncoder, VideoEncoder, build_text_encoder,
    build_video_encoder, caption_with_quality,
)
from foley_studio.model.errors import ModelError, WeightsMissingError


def test_quality_tags_join_captions_in_one_place():
    assert caption_with_quality("glass breaks", "high") == "glass breaks, high quality"
    assert caption_with_quality("  glass breaks ", None) == "glass breaks"
    assert caption_with_quality("", "low") == "low quality"
    assert caption_with_quality("", None) == ""
    with pytest.raises(ModelError, match="quality"):
        caption_with_quality("x", "best")


def test_hash_encoder_tokens_and_mask():
    enc = HashTextEncoder(TextEncoderConfig(kind="hash", dim=16, max_tokens=8, vocab_size=100))
    tokens, mask = enc.encode(["Glass hits wood", "", "one two three four five six seven eight nine"])
    assert tokens.shape == (3, 8, 16) and mask.dtype == torch.bool
    assert mask.sum(1).tolist() == [4, 1, 8]            # start token + words, capped at max_tokens
    assert enc.token_ids("glass HITS") == enc.token_ids("Glass hits")
    again, _ = enc.encode(["Glass hits wood"])
    assert torch.equal(again[0, :4], tokens[0, :4])


def _tiny_t5(folder):
    """A randomly initialised 2-layer T5 encoder and a word-level tokenizer saved like a HF model."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel

    words = ["<pad>", "<unk>", "glass", "hits", "wood", "high", "quality", "low", ","]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>").save_pretrained(folder)
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(words), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
    T5EncoderModel(config).save_pretrained(folder)


def test_t5_encoder_loads_offline_from_a_local_folder_and_caches_per_prompt(tmp_path):
    _tiny_t5(tmp_path / "t5")
    enc = build_text_encoder(TextEncoderConfig(kind="t5", dim=32, path=str(tmp_path / "t5")))
    assert isinstance(enc, PretrainedTextEncoder) and enc.external_weights
    calls = []
    enc.backbone.register_forward_hook(lambda *a: calls.append(1))
    tokens, mask = enc.encode(["glass hits wood", "wood"])
    assert tokens.shape == (2, 3, 32) and mask.sum(1).tolist() == [3, 1]
    assert not any(p.requires_grad for p in enc.backbone.parameters())
    again, again_mask = enc.encode(["wood", "glass hits wood"])   # both cached: no new forward
    assert len(calls) == 1
    assert torch.equal(again[1], tokens[0]) and again_mask.sum(1).tolist() == [1, 3]


def test_t5_dim_mismatch_and_missing_folder_are_clear(tmp_path):
    _tiny_t5(tmp_path / "t5")
    with pytest.raises(ModelError, match="text.dim=64"):
        build_text_encoder(TextEncoderConfig(kind="t5", dim=64, path=str(tmp_path / "t5")))
    with pytest.raises(WeightsMissingError, match="nowhere"):
        build_text_encoder(TextEncoderConfig(kind="t5", dim=32, path=str(tmp_path / "nowhere")))


def test_bundled_minilm_gives_real_token_embeddings():
    enc = build_text_encoder(TextEncoderConfig(kind="minilm", dim=384))
    tokens, mask = enc.encode(["a glass bottle shatters", "glass breaking", "footsteps on gravel"])
    assert tokens.shape[0] == 3 and tokens.shape[2] == 384
    pooled = (tokens * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    sim = torch.nn.functional.cosine_similarity
    # real weights: paraphrases are closer than unrelated sounds
    assert sim(pooled[0], pooled[1], dim=0) > sim(pooled[0], pooled[2], dim=0) + 0.05


def _frames(n, size=48, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, size, size, 3), generator=gen, dtype=torch.uint8)


def test_video_encoder_resizes_and_resamples_fps():
    enc = VideoEncoder(VideoEncoderConfig(fps=10.0, size=32, dim=12, channels=(8, 16))).eval()
    with torch.no_grad():
        assert enc.encode(_frames(15)).shape == (15, 12)
        assert enc.encode(_frames(40), fps=20.0).shape == (20, 12)
        assert enc.encode(_frames(0)).shape == (0, 12)


def test_video_features_are_local_in_time():
    """A change in frame k may move features only near k: what makes impacts line up with sound."""
    enc = VideoEncoder(VideoEncoderConfig(fps=10.0, size=32, dim=12, channels=(8, 16))).eval()
    frames = _frames(30)
    changed = frames.clone()
    changed[15] = 255 - changed[15]
    with torch.no_grad():
        diff = (enc.encode(changed) - enc.encode(frames)).abs().sum(1)
    moved = torch.nonzero(diff > 1e-5).flatten().tolist()
    assert 15 in moved and min(moved) >= 13 and max(moved) <= 18


def _motion_encoder() -> MotionVideoEncoder:
    torch.manual_seed(0)
    return MotionVideoEncoder(VideoEncoderConfig(kind="motion", fps=40.0, size=24, dim=16, channels=(8, 16),
                                                 dilations=(1, 2), detail=2)).eval()


def _ball_stops(n: int = 50, stop: int = 25, contrast: float = 1.0) -> torch.Tensor:
    """uint8 (n, 48, 48, 3): a bright 8 px square falling on grey that stops dead at frame `stop`."""
    frames = torch.full((n, 48, 48, 3), 128.0)
    for t in range(n):
        y = 4 + 1.5 * min(t, stop)
        frames[t, int(y):int(y) + 8, 20:28] = 128 + 100 * contrast
    return frames.round().to(torch.uint8)


def test_motion_encoder_gives_features_at_its_rate_from_any_frame_rate():
    enc = _motion_encoder()
    with torch.no_grad():
        assert enc.encode(_ball_stops(50), fps=25.0).shape == (80, 16)          # 2 s at 40 Hz
        assert enc.encode(_ball_stops(60), fps=30.0, n_out=70).shape == (70, 16)
        assert enc.encode(_ball_stops(50)[:0], fps=25.0).shape == (0, 16)


def test_motion_inputs_keep_a_contact_louder_than_stillness_and_ignore_contrast():
    """The inputs are scaled per clip, not per frame: the frame where the square stops carries far more
    second-difference energy than the frames after it, and halving the footage's contrast changes nothing."""
    enc = _motion_encoder()
    x = _ball_stops().permute(0, 3, 1, 2).float() / 127.5 - 1.0
    inputs = enc.motion_inputs(x)
    d2_energy = inputs[:, 12:15].abs().mean(dim=(1, 2, 3))
    assert d2_energy[24:27].max() > 20 * d2_energy[35:45].max()
    faint = _ball_stops(contrast=0.5).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    assert torch.allclose(enc.motion_inputs(faint), inputs, atol=0.05)


def test_motion_features_change_only_near_a_changed_frame():
    enc = _motion_encoder()
    frames = _ball_stops(60)
    changed = frames.clone()
    changed[30, 30:36, 5:11] = 250
    with torch.no_grad():
        diff = (enc.encode(changed, fps=20.0) - enc.encode(frames, fps=20.0)).abs().sum(1)
    moved = torch.nonzero(diff > 1e-3 * diff.max()).flatten() / 40.0          # seconds
    # the changed frame also shifts the clip's mean frame and scale a little everywhere; the big moves
    # stay within the encoder's reach of about ±9 frames (±0.45 s at 20 fps) around 1.5 s
    strong = torch.nonzero(diff > 0.2 * diff.max()).flatten() / 40.0
    assert strong.min() >= 1.5 - 0.5 and strong.max() <= 1.5 + 0.55 and len(moved) > 0


def test_pretrained_video_slot_loads_frozen_weights(tmp_path):
    from safetensors.torch import save_file

    config = VideoEncoderConfig(fps=10.0, size=32, dim=12, channels=(8, 16))
    source = VideoEncoder(config)
    save_file(source.state_dict(), str(tmp_path / "video.safetensors"))
    loaded = build_video_encoder(VideoEncoderConfig(kind="pretrained", fps=10.0, size=32, dim=12, channels=(8, 16),
                                                    path=str(tmp_path / "video.safetensors")))
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), loaded.state_dict().values()))
    assert loaded.external_weights and not any(p.requires_grad for p in loaded.parameters())
    with pytest.raises(WeightsMissingError, match="video.path"):
        build_video_encoder(VideoEncoderConfig(kind="pretrained", path=str(tmp_path / "none.safetensors")))
