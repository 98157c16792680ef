"""What a user can get wrong with the SFX library (all derive from `FoleyError`)."""
from __future__ import annotations

from foley_studio.core.errors import FoleyError


class LibraryError(FoleyError):
    """A library folder, database or query that cannot be used as asked."""


class LibraryDatabaseError(LibraryError):
    """The library database cannot be opened or has a newer schema than this Foley Studio knows."""


class QuerySyntaxError(LibraryError):
    """A search query with a malformed field filter such as `dur:<abc`."""


class UnreadableAudioError(LibraryError):
    """A file that looks like audio by its name but cannot be decoded; `reason` says why."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class EmbeddingModelMissingError(LibraryError):
    """The MiniLM sentence encoder for semantic search is not installed."""
