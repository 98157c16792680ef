"""Small widgets the panels share."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QWidget

ELIDED_MIN_WIDTH = 48     # px an elided label asks for at least, whatever it says: a word and the ellipsis


class ElidedLabel(QLabel):
    """One line of plain text that never makes its window wider: when the text is longer than the
    room it has, it ends in '…' and the whole text is the tooltip.

    A plain QLabel asks for its whole text as its *minimum* width, so a long status line (a job's
    progress, a file name) widens the dock and then the window; this one asks for that width only
    as its preferred size.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setTextFormat(Qt.PlainText)
        self.setWordWrap(False)

    def minimumSizeHint(self) -> QSize:
        # The same whatever the text: a label whose minimum followed its text would still move its
        # neighbours (and, added up, the window) each time the text changed.
        return QSize(ELIDED_MIN_WIDTH, super().minimumSizeHint().height())

    def elided_text(self) -> str:
        return self.fontMetrics().elidedText(self.text(), Qt.ElideRight, max(0, self.contentsRect().width()))

    @property
    def is_elided(self) -> bool:
        return self.elided_text() != self.text()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._update_tip()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_tip()

    def _update_tip(self) -> None:
        self.setToolTip(self.text() if self.is_elided else "")

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment()), self.palette(),
                                  self.isEnabled(), self.elided_text(), self.foregroundRole())
        painter.end()


__all__ = ["ElidedLabel"]
