"""The SFX library: index folders of sound effects, search them by words and meaning, audition.

Qt-free; the editor's library panel sits on top of `LibraryIndex` and `load_preview`.
"""
from .errors import LibraryError, QuerySyntaxError, UnreadableAudioError
from .index import LibraryEntry, LibraryIndex, LibraryStats, ScanProgress, ScanReport, SkippedFile
from .preview import load_preview

__all__ = ["LibraryEntry", "LibraryError", "LibraryIndex", "LibraryStats", "QuerySyntaxError", "ScanProgress",
           "ScanReport", "SkippedFile", "UnreadableAudioError", "load_preview"]
