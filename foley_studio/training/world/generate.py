"""Writing a world: clips (video, clean and degraded audio), manifest rows and the world's description."""
from __future__ import annotations

import json
import logging
import multiprocessing as mp
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.media.manifest import ManifestRow, write_manifest

from ..sources import SourceBank
from .actors import FAMILIES
from .picture import render_video, write_video
from .plan import DURATION, FRAME_RATES, FRAME_SIZES, Scene, plan_scene
from .sound import degrade, render_audio

log = logging.getLogger(__name__)
WORLD_VERSION = 2


def split_of(seed: int) -> str:
    """Splits by seed: 80 % train, 10 % val, 10 % test, stable whatever N is."""
    r = seed % 10
    return "test" if r == 9 else "val" if r == 8 else "train"


@dataclass(frozen=True)
class WorldSpec:
    n: int                    # clips with video
    seed: int = 0
    audio_only: int = 0       # extra audio-only items (SFX-library-like, "high quality")
    workers: int = 1          # processes rendering clips (each single-threaded)


def scene_meta(scene: Scene) -> dict:
    cam = scene.camera
    return {"seed": scene.seed, "material": scene.material, "action": scene.action, "object": scene.object_word,
            "fps": float(scene.fps), "fps_rational": f"{scene.fps.numerator}/{scene.fps.denominator}",
            "width": scene.width, "height": scene.height, "world_version": WORLD_VERSION,
            "floor": scene.floor_material,
            "camera": {"zoom": round(cam.zoom, 3), "floor_row": round(cam.floor_row() / scene.height, 3),
                       "shake_px": round(cam.shake_px, 2), "following": cam.follow is not None},
            "style": {"wall": scene.style.wall, "floor": scene.style.floor, "crf": scene.style.crf},
            "actors": [{"family": a.family, "material": a.material, "sounding": a.sounding,
                        **({"partner": a.partner} if a.partner else {})} for a in scene.actors]}


def generate_clip(scene: Scene, bank: SourceBank, out_dir: Path, *, with_video: bool = True) -> list[ManifestRow]:
    """Write one clip's files and return its manifest rows (video+HQ, video+LQ; or audio-only HQ)."""
    name = f"w{scene.seed:07d}"
    audio = render_audio(scene, bank)
    hq = Path("audio") / f"{name}_hq.flac"
    (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    sf.write(str(out_dir / hq), audio, SAMPLE_RATE, subtype="PCM_16")
    meta = scene_meta(scene)
    common = dict(caption=scene.caption, split=split_of(scene.seed), duration=DURATION,
                  events=[e.to_json() for e in scene.events])
    if not with_video:
        return [ManifestRow(id=f"{name}-a", audio=hq.as_posix(), video=None, quality="high", meta=meta, **common)]
    video = Path("video") / f"{name}.mp4"
    write_video(out_dir / video, render_video(scene), fps=scene.fps, crf=scene.style.crf)
    lq_audio, lq_meta = degrade(audio, scene.seed)
    lq = Path("audio") / f"{name}_lq.flac"
    sf.write(str(out_dir / lq), lq_audio, SAMPLE_RATE, subtype="PCM_16")
    return [ManifestRow(id=f"{name}-hq", audio=hq.as_posix(), video=video.as_posix(), quality="high",
                        meta=meta, **common),
            ManifestRow(id=f"{name}-lq", audio=lq.as_posix(), video=video.as_posix(), quality="low",
                        meta={**meta, **lq_meta}, **common)]


# the bank is large: worker processes inherit it (fork) instead of receiving a pickled copy per clip
_BANK: SourceBank | None = None
_JOB: tuple | None = None


def _one(i: int) -> list[ManifestRow]:
    spec, out_dir, materials, floors = _JOB
    scene = plan_scene(spec.seed + i, materials, floors)
    return generate_clip(scene, _BANK, out_dir, with_video=i < spec.n)


def generate_world(spec: WorldSpec, out_dir: Path, bank: SourceBank,
                   progress: Callable[[int, int], None] | None = None) -> Path:
    """Generate `spec.n` video clips and `spec.audio_only` audio items; returns the manifest path."""
    global _BANK, _JOB
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    materials = sorted(bank.materials)
    floors = sorted(m for m, s in bank.materials.items() if s.footsteps) or materials
    total = spec.n + spec.audio_only
    _BANK, _JOB = bank, (spec, out_dir, materials, floors)
    rows: list[ManifestRow] = []
    try:
        if spec.workers > 1 and total > 1:
            with mp.get_context("fork").Pool(spec.workers) as pool:
                for done, clip_rows in enumerate(pool.imap(_one, range(total), chunksize=1), 1):
                    rows.extend(clip_rows)
                    if progress:
                        progress(done, total)
        else:
            for i in range(total):
                rows.extend(_one(i))
                if progress:
                    progress(i + 1, total)
    finally:
        _BANK, _JOB = None, None
    manifest = out_dir / "manifest.jsonl"
    write_manifest(manifest, rows)
    (out_dir / "world.json").write_text(json.dumps({
        "world_version": WORLD_VERSION, "frame_rates": [f"{r.numerator}/{r.denominator}" for r in FRAME_RATES],
        "frame_sizes": [list(s) for s in FRAME_SIZES], "duration": DURATION, "seed": spec.seed, "n": spec.n,
        "audio_only": spec.audio_only, "materials": materials, "floors": floors, "families": list(FAMILIES),
        "sources": bank.licences()}, indent=1))
    log.info("wrote %d rows to %s", len(rows), manifest)
    return manifest
