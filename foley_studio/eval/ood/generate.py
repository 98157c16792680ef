"""Writing the out-of-domain split: an MP4 and a FLAC per clip, and a manifest the evaluation reads.

Layout of OUT_DIR (the same as a Foley world's, so `eval.data.load_eval_clips(OUT_DIR /
"manifest.jsonl", "ood")` loads it):
    manifest.jsonl          one row per clip, split "ood", quality "high"
    ood.json                version, settings and what the clips cover
    video/ood0000.mp4       H.264, the clip's own size and frame rate, no audio
    audio/ood0000.flac      the synthesised reference soundtrack, 48 kHz mono 24-bit
Clip i is a pure function of (seed, i): kind, style, size and frame rate cycle with i so that any
24 consecutive clips cover every kind, style, size and rate; the details come from the seed.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from foley_studio.media.audio import write_audio
from foley_studio.media.manifest import ManifestRow, write_manifest
from foley_studio.media.video import write_frames

from .framing import FRAME_RATES, FRAME_SIZES, Framing
from .planners import PLANNERS, SCENE_KINDS
from .render import render_frames
from .scene import EVENT_KIND, OODEvent, Scene
from .sound import render_soundtrack
from .styles import STYLE_NAMES, make_style

log = logging.getLogger(__name__)

OOD_VERSION = 1
OOD_SPLIT = "ood"
CLIP_SECONDS = (5.0, 8.0)       # clip lengths are drawn from this range (one model window at most)
MAX_CLIPS = 10_000


@dataclass(frozen=True)
class OODSpec:
    """What to generate: `n` clips from `seed`; `seconds` fixes every clip's length (default: drawn
    from `CLIP_SECONDS`); `scale` shrinks the frame sizes (tests render tiny clips)."""

    n: int = 24
    seed: int = 0
    seconds: float | None = None
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.n <= MAX_CLIPS:
            raise ValueError(f"the number of clips must be 1..{MAX_CLIPS}, got {self.n}")
        if self.seconds is not None and not 1.0 <= self.seconds <= 30.0:
            raise ValueError(f"clip length must be 1..30 s, got {self.seconds}")
        if not 0.05 <= self.scale <= 4.0:
            raise ValueError(f"frame scale must be 0.05..4, got {self.scale}")


def clip_seed(spec: OODSpec, index: int) -> int:
    return spec.seed * 100_003 + index


def clip_setup(spec: OODSpec, index: int) -> tuple[str, str, Framing]:
    """(scene kind, style name, framing) of clip `index`."""
    kind = SCENE_KINDS[index % len(SCENE_KINDS)]
    style = STYLE_NAMES[(index + 2 * (index // len(SCENE_KINDS))) % len(STYLE_NAMES)]   # each kind meets every style
    width, height = FRAME_SIZES[(index // 2) % len(FRAME_SIZES)]
    fps = FRAME_RATES[(index + index // 4) % len(FRAME_RATES)]
    rng = np.random.default_rng([clip_seed(spec, index), 2])
    seconds = spec.seconds if spec.seconds is not None else float(rng.uniform(*CLIP_SECONDS))
    size = tuple(max(16, int(round(v * spec.scale / 2)) * 2) for v in (width, height))
    return kind, style, Framing(size[0], size[1], fps, max(8, int(round(seconds * float(fps)))))


def plan_clip(spec: OODSpec, index: int) -> Scene:
    kind, style, framing = clip_setup(spec, index)
    seed = clip_seed(spec, index)
    return PLANNERS[kind](np.random.default_rng([seed, 1]), seed, framing,
                          make_style(style, np.random.default_rng([seed, 4])))


def clip_id(index: int) -> str:
    return f"ood{index:04d}"


def event_json(event: OODEvent, framing: Framing) -> dict:
    """An event as the manifest stores it: kind "impact" (what the sync metrics score), the exact
    time as a fraction and as the nearest float, its frame and its sample."""
    t = framing.time_of(event.frame)
    out = {"kind": EVENT_KIND, "source": event.source, "frame": int(event.frame), "time": float(t),
           "time_exact": f"{t.numerator}/{t.denominator}", "sample": framing.sample_of(event.frame),
           "strength": round(float(event.strength), 4), "x": round(float(event.x), 4), "y": round(float(event.y), 4)}
    if event.slide_end is not None:
        out["slide_end"] = float(framing.time_of(event.slide_end))
        out["slide_end_frame"] = int(event.slide_end)
    return out


def in_centre_square(event: OODEvent, framing: Framing) -> bool:
    """Whether the event is inside the largest centred square: what a centre-cropping reader keeps."""
    w, h = framing.width, framing.height
    if w >= h:
        return abs(event.x - 0.5) <= 0.5 * h / w
    return abs(event.y - 0.5) <= 0.5 * w / h


def write_clip(scene: Scene, out_dir: Path, name: str) -> ManifestRow:
    """Render and write one clip; its manifest row (paths relative to `out_dir`)."""
    f = scene.framing
    video, audio = Path("video") / f"{name}.mp4", Path("audio") / f"{name}.flac"
    write_frames(out_dir / video, render_frames(scene), f.fps, crf=scene.style.crf)
    write_audio(out_dir / audio, render_soundtrack(scene.sound, scene.events, f, scene.seed), "PCM_24")
    events = sorted(scene.events, key=lambda e: e.frame)
    meta = {"material": scene.material, "action": scene.action, "scene": scene.kind, "variant": scene.variant,
            "style": scene.style.name, "width": f.width, "height": f.height,
            "fps": f"{f.fps.numerator}/{f.fps.denominator}", "frames": f.n_frames, "seed": scene.seed,
            "crf": scene.style.crf, "ood_version": OOD_VERSION,
            "events_in_centre_square": int(sum(in_centre_square(e, f) for e in events)), **scene.notes}
    return ManifestRow(id=name, audio=audio.as_posix(), video=video.as_posix(), caption=scene.caption,
                       quality="high", split=OOD_SPLIT, duration=float(f.duration),
                       events=[event_json(e, f) for e in events], meta=meta)


def generate_ood(spec: OODSpec, out_dir: Path, *, progress: Callable[[int, int, str], None] | None = None) -> Path:
    """Write `spec.n` clips and the manifest into `out_dir`; returns the manifest's path."""
    out_dir = Path(out_dir)
    for sub in ("video", "audio"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(spec.n):
        scene = plan_clip(spec, i)
        rows.append(write_clip(scene, out_dir, clip_id(i)))
        if progress:
            progress(i + 1, spec.n, f"{clip_id(i)} {scene.kind}/{scene.variant} {scene.style.name} "
                                    f"{scene.framing.width}x{scene.framing.height}@{float(scene.framing.fps):.3f}")
    manifest = out_dir / "manifest.jsonl"
    write_manifest(manifest, rows)
    summary = {"ood_version": OOD_VERSION, "split": OOD_SPLIT, "spec": asdict(spec), "clips": len(rows),
               "events": sum(len(r.events) for r in rows),
               "scenes": dict(Counter(r.meta["scene"] for r in rows)),
               "styles": dict(Counter(r.meta["style"] for r in rows)),
               "sizes": dict(Counter(f"{r.meta['width']}x{r.meta['height']}" for r in rows)),
               "fps": dict(Counter(r.meta["fps"] for r in rows))}
    (out_dir / "ood.json").write_text(json.dumps(summary, indent=1) + "\n")
    return manifest
