"""Preferences: the output device playback, auditions and previews go to.

The choice is kept in the editor's settings ("playback/device", a sounddevice name "name, host API";
empty means the system default) and applies from the next play. A device that has gone away falls
back to the default with a note in the log, so a stale choice never silences the editor.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

SYSTEM_DEFAULT = "System default"


class PreferencesDialog(QDialog):
    """Choose the output device from those PortAudio lists (the default first)."""

    def __init__(self, devices: list[str], current: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(460)
        self.device = QComboBox(self)
        self.device.addItem(SYSTEM_DEFAULT, "")
        for name in devices:
            self.device.addItem(name, name)
        if current and current not in devices:
            self.device.addItem(f"{current} (not connected)", current)
        index = self.device.findData(current or "")
        self.device.setCurrentIndex(max(0, index))
        self.device.setToolTip("Where the timeline, take auditions and library previews play")
        note = QLabel("Applies from the next time you press play.", self)
        note.setProperty("role", "hint")
        if not devices:
            note.setText("No output devices were found: playback is off, export still works.")
        form = QFormLayout()
        form.addRow("Output device", self.device)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, parent=self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def chosen_device(self) -> str | None:
        return self.device.currentData() or None


def choose_output_device(parent: QWidget, devices: list[str], current: str | None,
                         apply: Callable[[str | None], None]) -> bool:
    """Show the dialog; on OK hand the choice to `apply`. Returns whether it was accepted."""
    dialog = PreferencesDialog(devices, current, parent)
    if dialog.exec() != QDialog.Accepted:
        return False
    apply(dialog.chosen_device())
    return True
