"""The drag payload between the library panel, the timeline and the generate panel's reference slot."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from PySide6.QtCore import QMimeData, QUrl

LIBRARY_MIME = "application/x-foley-studio-library-clip"


@dataclass
class LibraryDrag:
    """A library sound (or a span of it) being dragged; times in seconds of the source file."""

    path: str
    name: str
    duration: float
    start: float = 0.0
    end: float | None = None
    description: str = ""

    @property
    def span(self) -> tuple[float, float]:
        return self.start, self.end if self.end is not None else self.duration


def encode_library_drag(items: list[LibraryDrag]) -> QMimeData:
    mime = QMimeData()
    mime.setData(LIBRARY_MIME, json.dumps([asdict(i) for i in items]).encode("utf-8"))
    # Plain file URLs too, so other applications (a file manager, another DAW) accept the drop.
    mime.setUrls([QUrl.fromLocalFile(i.path) for i in items])
    return mime


def decode_library_drag(mime: QMimeData) -> list[LibraryDrag]:
    if not mime.hasFormat(LIBRARY_MIME):
        return []
    try:
        raw = json.loads(bytes(mime.data(LIBRARY_MIME)).decode("utf-8"))
        return [LibraryDrag(**item) for item in raw]
    except (ValueError, TypeError):
        return []
