"""Slots for the paper's evaluators behind the interfaces our own metrics use.

The paper scores with CLAP (text-audio similarity, zero-shot class accuracy), PaSST and VGGish
(embeddings for FAD), ImageBind (audio-visual similarity) and Synchformer (AV offset). None of their
weights can be fetched here, so the harness measures with its own classifier and onset metrics; a
user who has the weights locally plugs them in through these slots. Every slot loads from a local
path only and, when the package or the weights are missing, raises `EvaluatorMissingError` naming
what to install and where the weights must be.

Interfaces (structural): `AudioEmbedder.embed(clips) -> (N, D)` — what FD and continuity need,
and what the built-in `AudioClassifier` provides; `TextAudioScorer.text_similarity(clips, texts)`
— the CLAP score; `SyncEstimator.av_offset(video, audio) -> seconds` — the AV-Sync number.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from foley_studio.core.errors import FoleyError
from foley_studio.core.timebase import SAMPLE_RATE

log = logging.getLogger(__name__)


class EvaluatorMissingError(FoleyError):
    """A real evaluator was asked for but its package or local weights are not there."""


@runtime_checkable
class AudioEmbedder(Protocol):
    name: str

    def embed(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """48 kHz mono clips -> (N, D) embeddings."""


@runtime_checkable
class TextAudioScorer(Protocol):
    name: str

    def text_similarity(self, clips: Sequence[np.ndarray], texts: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each clip with its text: (N,)."""


@runtime_checkable
class SyncEstimator(Protocol):
    name: str

    def av_offset(self, video: Path, audio: np.ndarray) -> float:
        """Estimated audio-video offset in seconds (audio late > 0)."""


@dataclass(frozen=True)
class EvaluatorSpec:
    """What a slot needs: packages to import, the weights it expects, how to get them."""

    name: str
    role: str
    packages: tuple[str, ...]
    install: str
    weights: str
    loader: Callable[[Path], object]


def _require(spec: EvaluatorSpec, path: Path | None) -> Path:
    missing = [p for p in spec.packages if importlib.util.find_spec(p) is None]
    if missing:
        raise EvaluatorMissingError(
            f"the {spec.name} evaluator ({spec.role}) needs the Python package(s) {', '.join(missing)}: "
            f"{spec.install}; then pass its weights ({spec.weights})")
    if path is None or not Path(path).exists():
        where = f"{path} does not exist" if path is not None else "no weights path was given"
        raise EvaluatorMissingError(
            f"the {spec.name} evaluator ({spec.role}) loads local weights only and {where}; "
            f"download {spec.weights} on a machine with internet and pass its path")
    return Path(path)


# ---- CLAP (transformers) ------------------------------------------------------------------------

class ClapEvaluator:
    """LAION CLAP through `transformers` (ClapModel + ClapProcessor) from a local folder."""

    name = "clap"

    def __init__(self, folder: Path):
        from transformers import ClapFeatureExtractor, ClapModel
        self.folder = Path(folder)
        try:
            self.model = ClapModel.from_pretrained(str(folder), local_files_only=True).eval()
            self.features = ClapFeatureExtractor.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EvaluatorMissingError(f"{folder} is not a CLAP model folder (config.json, weights and "
                                        f"preprocessor_config.json from `laion/clap-htsat-unfused`): {exc}") from exc
        self._tokenizer = None

    def _audio_inputs(self, clips: Sequence[np.ndarray]) -> dict:
        sr = self.features.sampling_rate
        if sr != SAMPLE_RATE:
            from foley_studio.media.audio import resample
            clips = [resample(np.asarray(c, np.float32), SAMPLE_RATE, sr) for c in clips]
        # the unfused checkpoints take one mel view; "fusion" would stack four (the fused model's input)
        truncation = "fusion" if self.model.config.audio_config.enable_fusion else "rand_trunc"
        return self.features([np.asarray(c, np.float32) for c in clips], sampling_rate=sr, truncation=truncation,
                             return_tensors="pt")

    @staticmethod
    def _pooled(output) -> "torch.Tensor":   # noqa: F821 - torch imported lazily
        # transformers 4 returns the projected tensor, 5 an output object holding it
        return output if hasattr(output, "shape") else output.pooler_output

    def embed(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        import torch
        with torch.no_grad():
            feats = self._pooled(self.model.get_audio_features(**self._audio_inputs(clips)))
        return torch.nn.functional.normalize(feats, dim=-1).double().numpy()

    def text_similarity(self, clips: Sequence[np.ndarray], texts: Sequence[str]) -> np.ndarray:
        import torch
        if self._tokenizer is None:
            from transformers import AutoTokenizer
            try:
                self._tokenizer = AutoTokenizer.from_pretrained(str(self.folder), local_files_only=True)
            except (OSError, ValueError) as exc:
                raise EvaluatorMissingError(f"{self.folder} has no tokenizer files for CLAP text: {exc}") from exc
        tokens = self._tokenizer(list(texts), padding=True, return_tensors="pt")
        with torch.no_grad():
            text = torch.nn.functional.normalize(self._pooled(self.model.get_text_features(**tokens)), dim=-1)
        audio = torch.from_numpy(self.embed(clips)).to(text.dtype)
        return (audio * text).sum(-1).double().numpy()


# ---- exported embedders (PaSST, VGGish) -------------------------------------------------------

class ExportedEmbedder:
    """An embedding network exported with `torch.export` (.pt2) or TorchScript (.pt):
    waveform (1, N) at `sample_rate` -> (D,) or (T, D) (frames are averaged).

    PaSST and VGGish ship as research packages whose weights download on first use; exporting the
    network once on a machine that has them (`torch.export.save(torch.export.export(model, (x,),
    dynamic_shapes=...), "passt.pt2")`) gives a self-contained file that loads here without the
    package and without unpickling Python objects.
    """

    def __init__(self, name: str, path: Path, sample_rate: int):
        import torch
        self.name, self.sample_rate = name, sample_rate
        try:
            if Path(path).suffix == ".pt2":
                self.module = torch.export.load(str(path)).module()
            else:
                self.module = torch.jit.load(str(path), map_location="cpu").eval()
        except (RuntimeError, ValueError) as exc:
            raise EvaluatorMissingError(f"{path} is not a torch.export (.pt2) or TorchScript file for the {name} "
                                        f"evaluator: {exc}") from exc

    def embed(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        import torch
        from foley_studio.media.audio import resample
        rows = []
        with torch.no_grad():
            for clip in clips:
                x = np.asarray(clip, np.float32)
                if self.sample_rate != SAMPLE_RATE:
                    x = resample(x, SAMPLE_RATE, self.sample_rate)
                out = self.module(torch.from_numpy(np.ascontiguousarray(x))[None]).float()
                rows.append((out.reshape(-1, out.shape[-1]).mean(dim=0)).double().numpy())   # average frames
        return np.stack(rows)


def _load_imagebind(path: Path) -> object:
    raise EvaluatorMissingError(
        "the ImageBind slot is not wired up in this build: install `imagebind` and contribute an adapter "
        f"(weights given: {path})")


def _load_synchformer(path: Path) -> object:
    raise EvaluatorMissingError(
        "the Synchformer slot is not wired up in this build (it ships as research code, not a package); "
        f"the onset-envelope AV offset is used instead (weights given: {path})")


SPECS: dict[str, EvaluatorSpec] = {s.name: s for s in (
    EvaluatorSpec("clap", "text-audio similarity and zero-shot accuracy", ("transformers",),
                  "it is a dependency of Foley Studio", "a `laion/clap-htsat-unfused` folder "
                  "(config.json, model.safetensors, preprocessor_config.json, tokenizer files)",
                  lambda p: ClapEvaluator(p)),
    EvaluatorSpec("passt", "audio embeddings for FAD (32 kHz)", (), "no package needed at evaluation time",
                  "PaSST-S exported with torch.export (.pt2) or TorchScript (.pt) from hear21passt",
                  lambda p: ExportedEmbedder("passt", p, 32_000)),
    EvaluatorSpec("vggish", "audio embeddings for FAD (16 kHz)", (), "no package needed at evaluation time",
                  "VGGish (with its log-mel front end) exported with torch.export (.pt2) or TorchScript (.pt)",
                  lambda p: ExportedEmbedder("vggish", p, 16_000)),
    EvaluatorSpec("imagebind", "audio-visual similarity", ("imagebind",),
                  "pip install git+https://github.com/facebookresearch/ImageBind", "imagebind_huge.pth",
                  _load_imagebind),
    EvaluatorSpec("synchformer", "audio-visual offset (AV-Sync)", ("synchformer",),
                  "install the Synchformer research code as a package", "the Synchformer checkpoint",
                  _load_synchformer),
)}


def load_evaluator(name: str, weights: Path | str | None = None) -> object:
    """A real evaluator from local weights; `EvaluatorMissingError` says what to install otherwise."""
    spec = SPECS.get(name)
    if spec is None:
        raise EvaluatorMissingError(f"unknown evaluator {name!r}; known: {', '.join(SPECS)}")
    path = _require(spec, Path(weights) if weights is not None else None)
    log.info("loading the %s evaluator from %s", name, path)
    return spec.loader(path)
