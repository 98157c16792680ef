"""Write resources/demo/demo_video.mp4: one Foley-world clip with clear, well separated impacts.

Run: .venv/bin/python scripts/make_demo_video.py. The clip is a 'hit' scene (a mallet striking a
metal object) rendered at 2x the world's size for the editor, with its clean soundtrack. Beside it,
demo_video.json holds the exact impact times and the recordings (with licences) its sound draws on.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from foley_studio.core.paths import DEMO_DIR
from foley_studio.training import world
from foley_studio.training.sources import SourceBank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMO_DIR / "demo_video.mp4")
    parser.add_argument("--material", default="metal")
    parser.add_argument("--action", default="hit")
    args = parser.parse_args()
    bank = SourceBank.default()
    materials = sorted(bank.materials)
    for seed in range(10_000, 20_000):
        scene = world.plan_scene(seed, materials)
        impacts = [e.frame for e in scene.events if e.kind == "impact"]
        gaps = np.diff(impacts)
        if scene.material == args.material and scene.action == args.action and len(impacts) >= 8 \
                and gaps.min() >= 8:
            break
    frames = world.render_video(scene).repeat(2, axis=1).repeat(2, axis=2)
    world.write_video(args.out, frames, world.render_audio(scene, bank), crf=20)
    sources = [e for e in bank.licences() if e["material"] == scene.material]
    sidecar = {"seed": seed, "caption": scene.caption, "material": scene.material, "action": scene.action,
               "fps_rendered": world.FPS, "size_rendered": world.SIZE * 2, "world_version": world.WORLD_VERSION,
               "events": [e.to_json() for e in scene.events],
               "sound_sources": [{"file": Path(e["path"]).name, "licence": e["licence"],
                                  "description": e["description"]} for e in sources]}
    args.out.with_suffix(".json").write_text(json.dumps(sidecar, indent=1) + "\n")
    times = ", ".join(f"{e.time:.3f}" for e in scene.events)
    print(f"{args.out}: seed {seed}, '{scene.caption}', impacts at {times} s")


if __name__ == "__main__":
    main()
