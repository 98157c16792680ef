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
