"""The About dialog: name, version (from pyproject via `foley_studio.__version__`), build and folders.

Also the application icon, shared by the About dialog and the main window.
"""
from __future__ import annotations

import html
import platform
import sys
from importlib.metadata import PackageNotFoundError, version as dist_version

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from foley_studio import __version__
from foley_studio.core.paths import BUNDLED_MODELS_DIR, RESOURCES_DIR, data_dir

ICONS_DIR = RESOURCES_DIR / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def app_icon() -> QIcon:
    """The application icon from the hicolor PNGs (no SVG plugin needed); empty if they are missing."""
    icon = QIcon()
    for size in ICON_SIZES:
        png = ICONS_DIR / "hicolor" / f"{size}x{size}" / "apps" / "foley-studio.png"
        if png.exists():
            icon.addFile(str(png))
    return icon


def _torch_version() -> str:
    # Read the installed metadata instead of importing torch: the dialog must open instantly.
    torch = sys.modules.get("torch")
    if torch is not None:
        return str(torch.__version__)
    try:
        return dist_version("torch")
    except PackageNotFoundError:
        return "not installed"


def build_info() -> dict[str, str]:
    """What the dialog shows, as plain strings (also handy in bug reports)."""
    frozen = getattr(sys, "frozen", False)
    return {
        "Version": __version__,
        "Build": "desktop app" if frozen else "Python package",
        "Python": platform.python_version(),
        "Qt": f"{qVersion()} (PySide6 {pyside_version})",
        "PyTorch": _torch_version(),
        "Platform": platform.platform(terse=True),
        "Bundled models": str(BUNDLED_MODELS_DIR),
        "User data": str(data_dir()),
    }


class AboutDialog(QDialog):
    """Modal About box; `version_label` holds the version text (tests read it)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About Foley Studio")
        self.setWindowIcon(app_icon())
        layout = QVBoxLayout(self)

        logo = QLabel(self)
        logo.setPixmap(app_icon().pixmap(96, 96))
        logo.setAlignment(Qt.AlignCenter)
        layout.addWidget(logo)

        title = QLabel("<h2>Foley Studio</h2>", self)
        title.setAlignment(Qt.AlignCenter)
        layout.addWidget(title)
        self.version_label = QLabel(f"Version {__version__}", self)
        self.version_label.setAlignment(Qt.AlignCenter)
        self.version_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.version_label)

        blurb = QLabel("A Foley editor with a local MultiFoley generative model: sound for picture from "
                       "video, text and reference audio.", self)
        blurb.setWordWrap(True)
        blurb.setAlignment(Qt.AlignCenter)
        layout.addWidget(blurb)

        rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                       for k, v in build_info().items())
        details = QLabel(f"<table>{rows}</table>", self)
        details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(details)

        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)


def show_about(parent: QWidget | None = None) -> None:
    AboutDialog(parent).exec()
