"""The editor's dark theme: one palette, one style sheet, and the colours the timeline paints with.

Colours live here (not scattered through paint code) so contrast can be judged and changed in one
place. The palette keeps text at >= 7:1 contrast against the window background.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class TimelineColors:
    """Everything the timeline paints, named by role."""

    background: str = "#1b1d21"
    lane: str = "#22252a"
    lane_alt: str = "#1f2226"
    lane_selected: str = "#2a2f38"
    header: str = "#26292f"
    header_text: str = "#d8dce3"
    header_muted: str = "#8a909b"
    separator: str = "#33373f"
    ruler: str = "#2b2e34"
    ruler_text: str = "#e6e9ee"
    ruler_tick: str = "#7c8390"
    grid: str = "#2c3036"
    clip: str = "#2f6f8f"
    clip_take: str = "#6b4f9a"
    clip_selected: str = "#3f95bd"
    clip_border: str = "#80c4e4"
    clip_text: str = "#f2f5f8"
    waveform: str = "#bfe4f5"
    fade: str = "#ffd27a"
    playhead: str = "#ff5a4f"
    marker: str = "#f2b84b"
    region: str = "#4f8fd8"
    missing: str = "#8f3a3a"
    snap: str = "#7cf29c"
    video_lane: str = "#15171a"


TIMELINE = TimelineColors()

_WINDOW = "#202226"
_BASE = "#17191c"
_TEXT = "#e3e6eb"
_ACCENT = "#3f95bd"

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {_WINDOW}; }}
QDockWidget {{ color: {_TEXT}; titlebar-close-icon: none; }}
QDockWidget::title {{ background: #2a2d33; padding: 4px 8px; border-bottom: 1px solid #3a3e46; }}
QToolBar {{ background: #26292f; border: none; border-bottom: 1px solid #33373f; spacing: 4px; padding: 2px; }}
QToolButton {{ color: {_TEXT}; padding: 4px 8px; border-radius: 3px; }}
QToolButton:hover {{ background: #353a42; }}
QToolButton:checked {{ background: #2f5d78; }}
QStatusBar {{ background: #26292f; color: #c5cad3; border-top: 1px solid #33373f; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
    background: {_BASE}; color: {_TEXT}; border: 1px solid #3a3e46; border-radius: 3px; padding: 3px 6px;
    selection-background-color: {_ACCENT};
}}
QLineEdit:focus {{ border: 1px solid {_ACCENT}; }}
QTableView, QListView, QTreeView {{
    background: {_BASE}; alternate-background-color: #1d2024; color: {_TEXT};
    gridline-color: #2c3036; border: 1px solid #2c3036; selection-background-color: #2f5d78;
}}
QHeaderView::section {{ background: #2a2d33; color: #c5cad3; border: none; border-right: 1px solid #3a3e46;
    padding: 4px 6px; }}
QMenuBar {{ background: #26292f; color: {_TEXT}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: #2f5d78; }}
QMenu {{ background: #2a2d33; color: {_TEXT}; border: 1px solid #3a3e46; }}
QPushButton {{ background: #30343b; color: {_TEXT}; border: 1px solid #454a53; border-radius: 3px; padding: 4px 12px; }}
QPushButton:hover {{ background: #3a3f47; }}
QPushButton:default {{ border: 1px solid {_ACCENT}; }}
QProgressBar {{ background: {_BASE}; border: 1px solid #3a3e46; border-radius: 3px; color: {_TEXT}; text-align: center; }}
QProgressBar::chunk {{ background: {_ACCENT}; }}
QScrollBar:horizontal {{ background: #1b1d21; height: 12px; }}
QScrollBar:vertical {{ background: #1b1d21; width: 12px; }}
QScrollBar::handle {{ background: #454a53; border-radius: 4px; min-width: 24px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QLabel {{ color: {_TEXT}; }}
QLabel[role="hint"] {{ color: #8a909b; }}
QAbstractSpinBox[compact="true"]::up-button, QAbstractSpinBox[compact="true"]::down-button {{ width: 0px; border: none; }}
"""


def dark_palette() -> QPalette:
    pal = QPalette()
    roles = {
        QPalette.Window: _WINDOW, QPalette.WindowText: _TEXT, QPalette.Base: _BASE,
        QPalette.AlternateBase: "#1d2024", QPalette.ToolTipBase: "#2a2d33", QPalette.ToolTipText: _TEXT,
        QPalette.Text: _TEXT, QPalette.Button: "#30343b", QPalette.ButtonText: _TEXT,
        QPalette.BrightText: "#ff6b6b", QPalette.Highlight: "#2f5d78", QPalette.HighlightedText: "#ffffff",
        QPalette.Link: "#6cb8e0", QPalette.PlaceholderText: "#7a808a",
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        pal.setColor(QPalette.Disabled, role, QColor("#6a6f78"))
    return pal


def apply_theme(app: QApplication) -> None:
    """Fusion style + the dark palette + the style sheet (Fusion honours palettes on every platform)."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)
    font = app.font()
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    app.setFont(font)


def mono_font(point_size: float = 9.0) -> QFont:
    """A fixed-pitch font for timecode so digits do not jitter while the playhead moves."""
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.Monospace)
    font.setPointSizeF(point_size)
    return font


def glyph_icon(glyph: str, colour: str = _TEXT, size: int = 32):
    """A toolbar icon drawn from a font glyph in the theme's text colour.

    Qt's standard icons are dark grey and vanish on a dark toolbar; these keep full contrast.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QIcon, QPainter, QPixmap
    icon = QIcon()
    for mode, tint in ((QIcon.Normal, colour), (QIcon.Disabled, "#5a606b")):
        pm = QPixmap(size, size)
        pm.fill(Qt.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.Antialiasing)
        p.setRenderHint(QPainter.TextAntialiasing)
        font = QFont("DejaVu Sans")
        font.setPixelSize(int(size * 0.8))
        p.setFont(font)
        p.setPen(QColor(tint))
        p.drawText(pm.rect(), Qt.AlignCenter, glyph)
        p.end()
        icon.addPixmap(pm, mode)
    return icon
