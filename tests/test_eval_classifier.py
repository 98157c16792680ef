"""The evaluation classifier learns hand-made material/action classes and round-trips through disk."""
from __future__ import annotations

import numpy as np
import pytest

from foley_studio.eval.classifier import (ClassifierConfig, ClassifierError, LabelledClip, accuracy,
                                          load_classifier, save_classifier, train_classifier)
from foley_studio.eval.embedding import cosine_similarity

SR = 48_000
SMALL = ClassifierConfig(channels=(8, 16, 16, 16), embed_dim=16, epochs=10, batch_size=16, crop_s=1.0, lr=2e-2)


def synth(material: str, action: str, rng: np.random.Generator, seconds: float = 2.0):
    """'metal' rings at 3 kHz, 'wood' thumps at 300 Hz; 'hit' is one short event, 'scrape' a long one."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    freq = (3000.0 if material == "metal" else 300.0) * rng.uniform(0.9, 1.1)
    start = rng.uniform(0.1, 0.8)
    length = 0.08 if action == "hit" else 1.0
    env = ((t >= start) & (t < start + length)) * np.exp(-(t - start) / (length / 2))
    x = env * np.sin(2 * np.pi * freq * t) * rng.uniform(0.3, 0.8) + 0.002 * rng.standard_normal(n)
    return x.astype(np.float32), [start]


def dataset(n_per_class: int, seed: int):
    rng = np.random.default_rng(seed)
    clips = []
    for material in ("metal", "wood"):
        for action in ("hit", "scrape"):
            for _ in range(n_per_class):
                audio, events = synth(material, action, rng)
                clips.append(LabelledClip(audio, {"material": material, "action": action}, events))
    return clips


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One intra-op thread: much faster for small convolutions on a shared, oversubscribed CPU."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained():
    return train_classifier(dataset(8, seed=0), config=SMALL)


def test_learns_material_and_action(trained):
    test = dataset(4, seed=1)
    acc = accuracy(trained, [c.audio for c in test], [c.labels for c in test])
    assert acc["material"] >= 0.9 and acc["action"] >= 0.8 and acc["joint"] >= 0.75


def test_embedding_separates_classes(trained):
    test = dataset(3, seed=2)
    emb = trained.embed([c.audio for c in test])
    assert emb.shape == (12, SMALL.embed_dim)
    same = cosine_similarity(emb[0], emb[1])          # metal hit vs metal hit
    other = cosine_similarity(emb[0], emb[9])         # metal hit vs wood scrape
    assert same > other


def test_save_and_load_give_identical_predictions(trained, tmp_path):
    save_classifier(trained, tmp_path / "clf", meta={"train": "synthetic"})
    loaded = load_classifier(tmp_path / "clf")
    clips = [c.audio for c in dataset(1, seed=3)]
    np.testing.assert_array_equal(trained.embed(clips), loaded.embed(clips))
    assert loaded.heads == {"action": ["hit", "scrape"], "material": ["metal", "wood"]}


def test_missing_classifier_names_the_folder(tmp_path):
    with pytest.raises(ClassifierError, match="no evaluation classifier in"):
        load_classifier(tmp_path / "nothing")


def test_single_class_training_set_is_refused():
    rng = np.random.default_rng(0)
    clips = [LabelledClip(synth("metal", "hit", rng)[0], {"material": "metal"}) for _ in range(3)]
    with pytest.raises(ClassifierError, match="at least 2 classes"):
        train_classifier(clips, config=SMALL)
