"""Drag payloads: the library's own (library panel -> timeline, generate panel's reference slot) and
plain files dragged in from a file manager (text/uri-list), probed into the same item type."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

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


# -- files dragged from a file manager (text/uri-list) ---------------------------------------------
AUDIO_EXTENSIONS = frozenset({".wav", ".wave", ".bwf", ".flac", ".aif", ".aiff", ".aifc", ".mp3", ".ogg", ".oga",
                              ".opus", ".m4a", ".aac", ".caf", ".w64"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mxf", ".mpg", ".mpeg"})


@dataclass
class FileDrop:
    """Local files dropped from outside: the usable sounds (as library items) and the refused files."""

    sounds: list[LibraryDrag]
    refused: list[tuple[str, str]]          # (file name, reason the user can act on)

    def describe_refused(self) -> str:
        """One status-bar line naming every refused file and why."""
        return "; ".join(f"{name}: {reason}" for name, reason in self.refused)


def dropped_files(mime: QMimeData) -> list[Path]:
    """Local files among the drag's URLs (remote URLs and folders are left out), in drag order."""
    if not mime.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return [p for p in paths if str(p) and not p.is_dir()]


def is_video_file(path: Path) -> bool:
    """Cheap test used while hovering: the extension says picture (the drop probes it properly)."""
    return path.suffix.lower() in VIDEO_EXTENSIONS


def scan_audio_files(paths: list[Path]) -> FileDrop:
    """Probe each file: audio-only media becomes a `LibraryDrag` (length from `media.probe`), the rest is refused.

    A file with a picture is refused too: it belongs in the picture lane (the window opens it), and
    scoring a video's own sound onto a track is rarely what a drop from the file manager means."""
    from foley_studio.media.errors import MediaError
    from foley_studio.media.probe import probe
    sounds: list[LibraryDrag] = []
    refused: list[tuple[str, str]] = []
    for path in paths:
        audio_name = path.suffix.lower() in AUDIO_EXTENSIONS
        try:
            info = probe(path)
        except MediaError as exc:
            reason = (_short_reason(exc, path) if audio_name or path.suffix.lower() in VIDEO_EXTENSIONS
                      else "not an audio file; drop WAV, FLAC, AIFF or MP3 files")
            refused.append((path.name, reason))
            continue
        if info.has_video:
            refused.append((path.name, "a video file, not a sound; drop it on its own to use it as the picture"))
        elif not info.has_audio or info.duration <= 0:
            refused.append((path.name, "holds no audio"))
        else:
            sounds.append(LibraryDrag(path=str(path.resolve()), name=path.stem, duration=float(info.duration)))
    return FileDrop(sounds, refused)


def _short_reason(exc: Exception, path: Path) -> str:
    """A media error's message without the leading path (the status line names the file already)."""
    text = str(exc)
    for prefix in (f"{path}: ", f"{path.name}: "):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text
