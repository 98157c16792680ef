"""Thread-safe access to Hugging Face `transformers` classes.

`transformers` resolves its classes lazily on first attribute access, and two threads doing that
at once can fail with "cannot import name 'AutoModel'" (seen in the editor when the library's
semantic index and the model's text encoder load together). Every caller resolves the classes it
needs here, under one process-wide lock.
"""
from __future__ import annotations

import threading
from typing import Any

_IMPORT_LOCK = threading.Lock()


def transformers_classes(*names: str) -> tuple[Any, ...]:
    """The named `transformers` attributes, resolved under the lock; progress bars switched off."""
    with _IMPORT_LOCK:
        import transformers
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()   # no weight-loading bars on the CLI's or editor's stderr
        return tuple(getattr(transformers, name) for name in names)
