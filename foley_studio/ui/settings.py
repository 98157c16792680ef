"""The editor's settings: one ini file in the data folder (`FOLEY_STUDIO_HOME` in tests and CI), so no
test or CI run ever touches the user's own, and no platform registry is involved."""
from __future__ import annotations

from PySide6.QtCore import QSettings

from foley_studio.core.paths import data_dir


def editor_settings() -> QSettings:
    return QSettings(str(data_dir() / "editor.ini"), QSettings.IniFormat)


__all__ = ["editor_settings"]
