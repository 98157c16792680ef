"""Shared fixtures: every test gets its own Foley Studio home (data dir, caches) in a temp folder."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def foley_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("foley_home")
    monkeypatch.setenv("FOLEY_STUDIO_HOME", str(home))
    # A modal "save changes?" box at widget teardown would block the suite forever.
    monkeypatch.setenv("FOLEY_STUDIO_NO_PROMPTS", "1")
    return home


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory):
    """A 3-clip Foley world (+1 audio-only item) rendered from two synthetic impact recordings."""
    import numpy as np
    import soundfile as sf

    from foley_studio.training import world
    from foley_studio.training.sources import SourceBank, SourceEntry

    root = tmp_path_factory.mktemp("world")
    rng = np.random.default_rng(0)
    entries = []
    for material, decay in (("metal", 0.08), ("wood", 0.015)):
        sr = 44_100
        t = np.arange(int(0.3 * sr)) / sr
        x = np.concatenate([rng.normal(0, 0.4, t.size) * np.exp(-t / decay), np.zeros(sr // 10)] * 3)
        sf.write(str(root / f"{material}.wav"), x.astype(np.float32), sr)
        entries.append(SourceEntry(str(root / f"{material}.wav"), material, "impact", "test", ""))
    return world.generate_world(world.WorldSpec(n=3, seed=20, audio_only=1), root / "w", SourceBank(entries))


@pytest.fixture
def fake_sd(monkeypatch):
    """A fake `sounddevice` with one output device; `.streams` lists the streams opened (tests/ui_helpers.py)."""
    from tests.ui_helpers import install_fake_sounddevice
    return install_fake_sounddevice(monkeypatch)


@pytest.fixture(scope="module")
def tiny_model_folder(tmp_path_factory):
    """A saved TINY model with a 1 s window: real weights files for the command line, built in a second."""
    import dataclasses

    import torch

    from foley_studio.model.checkpoint import save_pretrained
    from foley_studio.model.config import TINY
    from foley_studio.model.foley import FoleyModel

    folder = tmp_path_factory.mktemp("models") / "tiny1s"
    torch.manual_seed(0)
    save_pretrained(FoleyModel(dataclasses.replace(TINY, window_seconds=1.0)), folder)
    return folder


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A TINY model (layers opened up so takes differ by seed) saved like an installed one; copy it into
    `user_models_dir() / "tiny"` to install it."""
    from foley_studio.model.checkpoint import save_pretrained
    from tests.model_helpers import tiny_model
    folder = tmp_path_factory.mktemp("weights") / "tiny"
    save_pretrained(tiny_model(), folder, card={"note": "untrained, tests only"})
    return folder


@pytest.fixture(scope="module")
def short_video(tmp_path_factory):
    """A 2 s, 10 fps, 64x48 H.264 video with a sine soundtrack."""
    from tests.media_fixtures import make_video

    return make_video(tmp_path_factory.mktemp("media") / "shot.mp4", seconds=2.0, fps=10, size=(64, 48))
