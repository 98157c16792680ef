"""Evaluation clips from a manifest (the Foley world's, or external data in the same format).

A world clip has two manifest rows sharing one video: the clean "high quality" audio and the
band-limited "low quality" copy. Evaluation groups them into one `EvalClip` with exact events and
its class labels (material, action) from the row's `meta`.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foley_studio.core.errors import FoleyError
from foley_studio.media.audio import read_audio
from foley_studio.media.manifest import ManifestRow, read_manifest

from .classifier import LabelledClip

log = logging.getLogger(__name__)

LABEL_KEYS = ("material", "action")
IMPACT_KINDS = ("impact",)


class EvalDataError(FoleyError):
    """The evaluation data cannot be used as asked (missing split, labels or files)."""


@dataclass
class EvalClip:
    """One test clip: its video, clean and degraded audio, exact events, caption and class labels."""

    id: str
    video: Path
    audio_hq: Path
    audio_lq: Path | None
    caption: str
    labels: dict[str, str]
    events: list[dict] = field(default_factory=list)
    duration: float = 8.0

    @property
    def onset_times(self) -> np.ndarray:
        """Times (s) of impact events: the onsets a detector can be held to."""
        return np.array(sorted(e["time"] for e in self.events if e.get("kind", "impact") in IMPACT_KINDS))

    @property
    def is_impact_clip(self) -> bool:
        """True when every event is an impact (drop / hit): sync metrics are scored on these.
        Rolling and scraping have onsets too, but their texture makes 'detected onsets' ill-defined."""
        return bool(self.events) and all(e.get("kind", "impact") in IMPACT_KINDS for e in self.events)

    def onsets_between(self, start: float, end: float) -> np.ndarray:
        """Impact times inside [start, end), relative to `start`."""
        t = self.onset_times
        return t[(t >= start) & (t < end)] - start


def _labels(row: ManifestRow) -> dict[str, str] | None:
    labels = {k: str(row.meta[k]) for k in LABEL_KEYS if k in row.meta}
    return labels or None


def _clip_key(row: ManifestRow, root: Path) -> str:
    return str(row.video_path(root)) if row.video else row.id


def load_eval_clips(manifest: Path, split: str = "test", *, n: int | None = None) -> list[EvalClip]:
    """Video clips of `split`, HQ/LQ rows grouped per video, in manifest order (first `n`)."""
    manifest = Path(manifest)
    root = manifest.parent
    groups: dict[str, list[ManifestRow]] = {}
    for row in read_manifest(manifest, split=split):
        if row.video:
            groups.setdefault(_clip_key(row, root), []).append(row)
    clips: list[EvalClip] = []
    for rows in groups.values():
        hq = next((r for r in rows if r.quality == "high"), None) or next((r for r in rows if r.quality is None), None)
        lq = next((r for r in rows if r.quality == "low"), None)
        base = hq or rows[0]
        labels = _labels(base)
        if labels is None:
            raise EvalDataError(f"{manifest}: row {base.id!r} has no class labels (meta.material / meta.action); "
                                "evaluation needs them for the control accuracy")
        clips.append(EvalClip(
            id=base.id.removesuffix("-hq"), video=base.video_path(root),
            audio_hq=base.audio_path(root), audio_lq=lq.audio_path(root) if lq else None,
            caption=base.caption, labels=labels, events=list(base.events), duration=float(base.duration or 8.0)))
        if n is not None and len(clips) >= n:
            break
    if not clips:
        raise EvalDataError(f"{manifest} has no video clips in the {split!r} split; generate a world with "
                            "`foley-studio world generate --n 100 --out DIR` (every 10th seed is test)")
    return clips


def load_training_audio(manifest: Path, *, split: str = "train") -> tuple[list[LabelledClip], list[str]]:
    """Every labelled audio row of the training split (HQ, LQ and audio-only), for the classifier.

    Returns the clips and their row ids (the classifier's cache key). Training on both qualities
    makes the classifier judge class, not bandwidth.
    """
    manifest = Path(manifest)
    rows = [r for r in read_manifest(manifest, split=split) if _labels(r)]
    if not rows:
        raise EvalDataError(f"{manifest} has no labelled rows in the {split!r} split to train the evaluation "
                            "classifier on")
    clips = [LabelledClip(read_audio(r.audio_path(manifest.parent)), _labels(r) or {},
                          [e["time"] for e in r.events]) for r in rows]
    return clips, [r.id for r in rows]


def manifest_fingerprint(manifest: Path) -> str:
    """Content hash of the manifest file: a changed world gets a new classifier."""
    return hashlib.sha256(Path(manifest).read_bytes()).hexdigest()[:16]


def caption_catalogue(manifest: Path) -> dict[tuple[str, str], list[str]]:
    """Captions per (material, action) over the whole manifest: the pool 'another class' prompts
    come from (text only, so using training captions leaks no test audio)."""
    out: dict[tuple[str, str], list[str]] = {}
    for row in read_manifest(Path(manifest)):
        labels = _labels(row)
        if labels and all(k in labels for k in LABEL_KEYS):
            captions = out.setdefault((labels["material"], labels["action"]), [])
            if row.caption not in captions:
                captions.append(row.caption)
    return out


def other_class_prompt(clip: EvalClip, catalogue: dict[tuple[str, str], list[str]], index: int
                       ) -> tuple[str, dict[str, str]] | None:
    """A caption of another material with the same action (the picture's timing still fits it),
    chosen deterministically by `index`; falls back to any other material. None if there is none."""
    material, action = clip.labels.get("material"), clip.labels.get("action")
    same_action = sorted(k for k in catalogue if k[0] != material and k[1] == action)
    keys = same_action or sorted(k for k in catalogue if k[0] != material)
    if not keys:
        return None
    key = keys[index % len(keys)]
    captions = catalogue[key]
    return captions[index % len(captions)], {"material": key[0], "action": key[1]}
