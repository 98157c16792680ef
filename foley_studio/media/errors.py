"""What can go wrong with a user's media: one family under `FoleyError`.

Every message names the file and what to do, because the CLI and editor show it verbatim.
"""
from __future__ import annotations

from foley_studio.core.errors import FoleyError


class MediaError(FoleyError):
    """A media file that cannot be read or written as asked."""


class MediaNotFoundError(MediaError):
    """The file does not exist (moved, renamed or never created)."""


class CorruptMediaError(MediaError):
    """The file exists but its contents cannot be parsed or decoded (corrupt or truncated)."""


class UnsupportedCodecError(MediaError):
    """The container opens but its codec or format has no decoder here."""


class NoVideoStreamError(MediaError):
    """A picture was needed but the file has no video stream."""


class NoAudioStreamError(MediaError):
    """Sound was needed but the file has no audio stream."""


class EmptyMediaError(MediaError):
    """The file holds no samples or frames (zero bytes or zero duration)."""


class MediaWriteError(MediaError):
    """An output file could not be written (folder missing or read-only, disk full, bad format)."""


class NativeAudioError(MediaError):
    """An audio file that no decoder here can read through; `reason` says why in a few words."""

    def __init__(self, path: object, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
