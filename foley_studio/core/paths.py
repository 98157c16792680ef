"""Where Foley Studio keeps its data and caches (one place; platformdirs by default).

`FOLEY_STUDIO_HOME` overrides both (tests and CI point it at a temporary folder).
"""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "FoleyStudio"
REPO_ROOT = Path(__file__).resolve().parents[2]
RESOURCES_DIR = REPO_ROOT / "resources"
BUNDLED_MODELS_DIR = REPO_ROOT / "models"
DEMO_DIR = RESOURCES_DIR / "demo"
DEMO_LIBRARY_DIR = DEMO_DIR / "library"


def _home_override() -> Path | None:
    home = os.environ.get("FOLEY_STUDIO_HOME")
    return Path(home) if home else None


def data_dir() -> Path:
    """User data: library database, user-installed models, recovery copies."""
    home = _home_override()
    path = home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(kind: str | None = None) -> Path:
    """Disposable caches (peaks, thumbnails, features); `kind` is a versioned subfolder like 'peaks/v1'."""
    home = _home_override()
    path = home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME))
    if kind:
        path = path / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def recovery_dir() -> Path:
    path = data_dir() / "recovery"
    path.mkdir(parents=True, exist_ok=True)
    return path
