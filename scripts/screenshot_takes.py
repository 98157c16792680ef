"""Generate four takes on the demo project through the editor's own panels, time it, and screenshot them.

    .venv/bin/python scripts/screenshot_takes.py [--out DIR] [--model NAME] [--steps N]

Uses the installed model NAME (default: `demo` when it is installed). Without one, it saves an
*untrained* model of the `--untrained` preset (TINY by default) into a temporary Foley Studio home and says so: its takes show the panel's
layout, not what a trained model sounds like. Prints the wall time from Generate to the takes being
in the project, for a cold start (torch import + model load + sampling) and warm (model kept loaded).
Writes PNGs of the window and of the takes panel (never committed).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from screenshot import prepare_environment, settle   # scripts/ is on sys.path when run as a script


def _install_untrained(preset: str) -> str:
    """A model of `preset` with its zero-initialised output layers opened up, so seeds give different takes.

    Untrained weights cost exactly what trained ones do, so the timing is the real one for that size.
    """
    import torch

    from foley_studio.core.paths import user_models_dir
    from foley_studio.model.checkpoint import save_pretrained
    from foley_studio.model.config import get_preset
    from foley_studio.model.foley import FoleyModel
    torch.manual_seed(0)
    model = FoleyModel(get_preset(preset)).eval()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.dit.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    name = f"{preset}-untrained"
    save_pretrained(model, user_models_dir() / name, card={"note": "untrained; screenshots and timing only"})
    return name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "foley_screens")
    parser.add_argument("--model", default=None, help="installed model name (default: demo if installed)")
    parser.add_argument("--untrained", default="tiny", help="preset of the untrained stand-in when no model is "
                        "installed (tiny | demo: the demo model's size, for timing)")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--takes", type=int, default=4)
    parser.add_argument("--size", default="1600x960")
    args = parser.parse_args()
    prepare_environment(args.out, "foley-takes-")

    from foley_studio.core.timebase import SAMPLE_RATE
    from foley_studio.model.checkpoint import ModelRegistry
    from foley_studio.ui.app import application, demo_project
    from foley_studio.ui.main_window import MainWindow

    app = application(sys.argv[:1])
    installed = {m.name for m in ModelRegistry().list()}
    model = args.model or ("demo" if "demo" in installed else None)
    if model is None:
        model = _install_untrained(args.untrained)
        print(f"no demo model installed: using an UNTRAINED {args.untrained} model (layout and timing only, "
              "not a quality result)")
    elif model not in installed:
        print(f"model {model!r} is not installed (installed: {', '.join(sorted(installed)) or 'none'})")
        return 2
    project, path = demo_project()
    # Generated takes go to this run's temporary home, never into resources/demo/takes.
    window = MainWindow(project, None, restore_layout=False, audio=False)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    settle(app, 3)
    g = window.generation
    g.panel.refresh_models()
    settle(app, 60, lambda: g.panel.models_ready)
    g.panel.model.setCurrentIndex(g.panel.model.findData(model))
    hits = next(t for t in project.tracks if t.name.startswith("Hits")).clips
    foley = next((t for t in project.tracks if "generate" in t.name.lower()), project.tracks[-1])
    region = (hits[1].start - SAMPLE_RATE // 10, hits[3].end + SAMPLE_RATE // 10)
    window.doc.set_region(region)
    window.doc.select_track(foley.id)
    window.canvas.zoom_to(region[0] - SAMPLE_RATE // 2, region[1] + SAMPLE_RATE // 2)
    g.panel.prompt.setCurrentText("wooden stick hits a metal pot")
    g.panel.quality.setCurrentIndex(0)
    g.panel.steps.setValue(args.steps)
    g.panel.n_takes.setValue(args.takes)
    g.panel.seed_mode.setCurrentIndex(1)
    g.panel.seed.setValue(1)

    timings = []
    for attempt in ("cold", "warm"):
        before = len(window.doc.project.takes)
        t0 = time.perf_counter()
        jobs = g.panel.generate()
        if not jobs:
            print("generate refused:", g.panel.error.text())
            return 1
        done = settle(app, 900, lambda: g.worker.idle)
        elapsed = time.perf_counter() - t0
        info = g.worker.jobs[jobs[0]]
        if not done or info.state.value != "done":
            print(f"{attempt}: job ended {info.state.value}: {info.message}")
            return 1
        timings.append(elapsed)
        print(f"{attempt}: {args.takes} takes of {(region[1] - region[0]) / SAMPLE_RATE:.2f} s, {args.steps} steps, "
              f"model {model}: Generate -> takes in project {elapsed:.2f} s")
        if attempt == "cold":    # the screenshot shows one batch: drop the first one's takes
            g.panel.seed.setValue(101)
            window.doc.undo()
            assert len(window.doc.project.takes) == before
    window.docks["takes"].raise_()
    window.resizeDocks([window.docks["takes"]], [720], __import__("PySide6.QtCore").QtCore.Qt.Horizontal)
    settle(app, 10, lambda: all(r.view.preview is not None for r in g.takes.rows))
    g.takes.audition_number(2)           # no audio device offscreen: marks take 2 as the auditioned one
    window.doc.set_playhead(region[0] + (region[1] - region[0]) // 3)
    g.takes.auditioner.stop()
    settle(app, 1)
    shots = [args.out / "10_takes_window.png", args.out / "11_takes_panel.png"]
    window.grab().save(str(shots[0]))
    window.docks["takes"].grab().save(str(shots[1]))
    window.docks["generate"].raise_()
    settle(app, 1)
    shots.append(args.out / "12_generate_panel.png")
    window.docks["generate"].grab().save(str(shots[2]))
    for file in shots:
        print(file)
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
