"""Help ▸ Keyboard shortcuts: one table built from the window's own actions, so it cannot drift.

Every `QAction` the window holds that has a shortcut is a row (its menu, its name, its keys as
this platform writes them), followed by the few keys the timeline handles itself
(`timeline_view.CANVAS_KEYS`). Nothing here lists a key by hand that an action already carries.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLineEdit, QMenu,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from .timeline_view import CANVAS_KEYS

PLAIN_NAME = "plainName"       # action property: its name when its text changes (Undo Move clip, Stop)


@dataclass(frozen=True)
class ShortcutRow:
    keys: str
    name: str
    menu: str


def action_name(action: QAction) -> str:
    name = action.property(PLAIN_NAME) or action.text()
    return str(name).replace("&&", "\x00").replace("&", "").replace("\x00", "&").rstrip("…").strip()


def _menu_of(action: QAction) -> str:
    for owner in action.associatedObjects():
        if isinstance(owner, QMenu) and owner.title():
            parent = owner.parent()
            title = owner.title().replace("&", "")
            if isinstance(parent, QMenu) and parent.title():
                return f"{parent.title().replace('&', '')} ▸ {title}"
            return title
    return "Window"


def keys_text(action: QAction) -> str:
    return ", ".join(s.toString(QKeySequence.NativeText) for s in action.shortcuts() if not s.isEmpty())


def shortcut_rows(window: QWidget) -> list[ShortcutRow]:
    """A row per window action with a shortcut (menu order), then the timeline's own keys."""
    rows = [ShortcutRow(keys_text(a), action_name(a), _menu_of(a))
            for a in window.actions() if keys_text(a)]
    order = {title: i for i, title in enumerate(_menu_titles(window))}
    rows.sort(key=lambda r: order.get(r.menu.split(" ▸ ")[0], len(order)))
    rows += [ShortcutRow(keys, name, "Timeline") for keys, name in CANVAS_KEYS]
    return rows


def _menu_titles(window: QWidget) -> list[str]:
    bar = window.menuBar() if hasattr(window, "menuBar") else None
    if bar is None:
        return []
    return [a.text().replace("&", "") for a in bar.actions() if a.menu() is not None]


class ShortcutsDialog(QDialog):
    """The table of `shortcut_rows`, with a filter box."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(620, 640)
        self.rows = shortcut_rows(window)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter: a key or a command…")
        self.filter.setClearButtonEnabled(True)
        self.table = QTableWidget(len(self.rows), 3, self)
        self.table.setHorizontalHeaderLabels(("Keys", "Command", "Menu"))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setAlternatingRowColors(True)
        for i, row in enumerate(self.rows):
            for col, text in enumerate((row.keys, row.name, row.menu)):
                self.table.setItem(i, col, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self._apply_filter)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i, row in enumerate(self.rows):
            hit = not needle or any(needle in part.lower() for part in (row.keys, row.name, row.menu))
            self.table.setRowHidden(i, not hit)

    def visible_rows(self) -> list[ShortcutRow]:
        return [row for i, row in enumerate(self.rows) if not self.table.isRowHidden(i)]


def show_shortcuts(window: QWidget) -> ShortcutsDialog:
    """Open the table beside the editor (not modal: the keys can be tried while it is open)."""
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.show()
    return dialog


__all__ = ["PLAIN_NAME", "ShortcutRow", "ShortcutsDialog", "action_name", "keys_text", "shortcut_rows",
           "show_shortcuts"]
