"""Real-evaluator slots: clear errors without weights; CLAP and TorchScript embedders load from local files."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from foley_studio.core.errors import FoleyError
from foley_studio.eval.evaluators import (AudioEmbedder, EvaluatorMissingError, TextAudioScorer,
                                          load_evaluator)

SR = 48_000


@pytest.mark.parametrize("name", ["clap", "passt", "vggish", "imagebind", "synchformer"])
def test_missing_weights_name_what_to_get(name, tmp_path):
    with pytest.raises(EvaluatorMissingError) as info:
        load_evaluator(name, tmp_path / "absent")
    message = str(info.value)
    assert name in message.lower()
    assert "absent" in message or "pip install" in message or "install" in message
    assert isinstance(info.value, FoleyError)


def test_unknown_evaluator_lists_known_ones():
    with pytest.raises(EvaluatorMissingError, match="known: clap, passt, vggish"):
        load_evaluator("fad-magic", None)


def test_clap_from_a_local_folder_embeds_audio(tmp_path):
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel
    audio = dict(hidden_size=128, depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 1, 1],
                 patch_embeds_hidden_size=16, projection_dim=8, window_size=8, spec_size=256, enable_fusion=False)
    text = dict(vocab_size=100, hidden_size=16, num_hidden_layers=1, num_attention_heads=1, intermediate_size=16,
                projection_dim=8, max_position_embeddings=64)
    torch.manual_seed(0)
    ClapModel(ClapConfig(text_config=text, audio_config=audio, projection_dim=8)).save_pretrained(tmp_path / "clap")
    ClapFeatureExtractor().save_pretrained(tmp_path / "clap")
    clap = load_evaluator("clap", tmp_path / "clap")
    assert isinstance(clap, AudioEmbedder) and isinstance(clap, TextAudioScorer)
    rng = np.random.default_rng(0)
    clips = [0.1 * rng.standard_normal(2 * SR).astype(np.float32), 0.1 * rng.standard_normal(SR).astype(np.float32)]
    emb = clap.embed(clips)
    assert emb.shape == (2, 8)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(clap.embed(clips[:1]), emb[:1], atol=1e-5)   # deterministic, batch-independent


def test_clap_folder_without_model_is_refused(tmp_path):
    (tmp_path / "clap").mkdir()
    with pytest.raises(EvaluatorMissingError, match="not a CLAP model folder"):
        load_evaluator("clap", tmp_path / "clap")


class _Spectral(torch.nn.Module):
    """Mean magnitude in 4 bands (0-2-4-6-8 kHz at 16 kHz) of 1 s frames: (frames, 4)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = x[0].unfold(0, 16000, 16000)
        mag = torch.fft.rfft(frames).abs()[:, :8000]
        return mag.reshape(mag.shape[0], 4, 2000).mean(dim=-1)


def _save(kind: str, path):
    if kind == "export":
        n = torch.export.Dim("n", min=32000, max=960000)
        torch.export.save(torch.export.export(_Spectral(), (torch.zeros(1, 32000),), dynamic_shapes={"x": {1: n}}),
                          str(path))
    else:
        torch.jit.script(_Spectral()).save(str(path))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("kind,name", [("export", "vggish.pt2"), ("script", "vggish.pt")])
def test_exported_embedder_resamples_and_averages_frames(kind, name, tmp_path):
    _save(kind, tmp_path / name)
    vggish = load_evaluator("vggish", tmp_path / name)
    t = np.arange(3 * SR) / SR
    low, high = np.sin(2 * np.pi * 500 * t), np.sin(2 * np.pi * 7000 * t)   # bands 0 and 3 at 16 kHz
    emb = vggish.embed([low, high])
    assert emb.shape == (2, 4)
    assert np.argmax(emb[0]) == 0 and np.argmax(emb[1]) == 3


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_not_a_model_file_is_refused(tmp_path):
    path = tmp_path / "passt.pt"
    path.write_bytes(b"not a model")
    with pytest.raises(EvaluatorMissingError, match="is not a torch.export"):
        load_evaluator("passt", path)
