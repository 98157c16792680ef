"""Screenshots of the mixer parts of the editor: track headers (fader, pan, meters, mute/solo dimming),
the master meter, the takes panel (levels on one scale, gains, seeds) and the export dialog's levels.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python scripts/screenshot_mixer.py --size 1920x1080
    .venv/bin/python scripts/screenshot_mixer.py --size 1366x768         # offscreen when there is no display

Works on a copy of the demo project in a temporary home (nothing under resources/ is written). Nine
synthetic takes at levels from -34 to -6 dBFS stand in for generated ones (two state their level in a
sidecar, as normalised takes do); the meters are fed a recorded reading so they show levels without a
sound card. Writes PNGs (never committed) and prints their paths.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from screenshot import prepare_environment, settle   # scripts/ is on sys.path when run as a script


def _fake_takes(folder: Path, region: tuple[int, int], track_id: str):
    """Nine takes: decaying noise bursts at different levels, long seeds, two with a stated level."""
    import soundfile as sf

    from foley_studio.core.project import Take
    from foley_studio.core.timebase import SAMPLE_RATE
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(4)
    n = region[1] - region[0]
    t = np.arange(n) / SAMPLE_RATE
    takes = []
    for i, peak_db in enumerate((-34, -20, -9, -14, -26, -6, -18, -12, -30)):
        hits = np.zeros(n)
        for at in rng.uniform(0.05, 0.8, 3) * n:
            k = int(at)
            hits[k:] += np.exp(-(t[:n - k]) / 0.06)
        audio = hits * rng.standard_normal(n)
        audio *= 10 ** (peak_db / 20) / np.abs(audio).max()
        seed = int(rng.integers(10**9, 2**32))
        path = folder / f"take-{i}.wav"
        sf.write(str(path), audio.astype(np.float32), SAMPLE_RATE, subtype="FLOAT")
        if i in (2, 5):   # as an engine that normalises takes states it
            path.with_suffix(".json").write_text(json.dumps({"level": {"peak_dbfs": float(peak_db),
                                                                       "loudness_lufs": float(peak_db - 9.5)}}))
        settings = {"seed": seed, "cfg": 4.0 + (i % 3), "mode": ("text", "extend", "inpaint")[i % 3],
                    "prompt": "mallet on metal", "steps": 25, "sampler": "dpmpp", "model": "demo"}
        takes.append(Take(id=f"take-{i}", path=str(path), region_start=region[0], region_end=region[1],
                          settings=settings, track_id=track_id, label=f"seed {seed}"))
    return takes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "foley_screens")
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    prepare_environment(args.out, "foley-mixer-")

    from PySide6.QtCore import QTimer

    from foley_studio.core.edits import AddTake, SetClipGain, SetTrackProps
    from foley_studio.core.paths import DEMO_DIR, data_dir
    from foley_studio.core.store import load_project
    from foley_studio.core.timebase import SAMPLE_RATE
    from foley_studio.session.playback import OutputLevels
    from foley_studio.ui.app import application
    from foley_studio.ui.main_window import MainWindow

    app = application(sys.argv[:1])
    work = data_dir() / "screens"
    shutil.copytree(DEMO_DIR, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns("takes", "export"))
    project = load_project(work / "demo.fsproj")
    window = MainWindow(project, None, restore_layout=False, audio=False)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    doc = window.doc
    tracks = doc.project.tracks
    doc.apply(SetTrackProps(tracks[1].id, gain_db=-4.5, pan=-0.3))
    doc.apply(SetTrackProps(tracks[2].id, gain_db=-12.0, pan=0.45))
    doc.apply(SetClipGain(tracks[1].clips[3].id, -9.0))
    hits = tracks[1].clips
    region = (hits[1].start - SAMPLE_RATE // 10, hits[3].end + SAMPLE_RATE // 10)
    for take in _fake_takes(work / "takes", region, tracks[3].id):
        doc.apply(AddTake(take))
    sources = {c.source for t in tracks for c in t.clips}
    settle(app, 15, lambda: all(window.waveforms.pyramid(s) is not None or window.waveforms.error(s)
                                 for s in sources))
    window.canvas.zoom_fit()
    doc.set_playhead(int(2.0 * SAMPLE_RATE))
    doc.select_track(tracks[1].id)
    # The meters as they read while the demo plays (one reading, repeated, instead of a sound card).
    reading = OutputLevels((10 ** (-7.5 / 20), 10 ** (-10.2 / 20)),
                           {tracks[1].id: 10 ** (-8 / 20), tracks[2].id: 10 ** (-27 / 20)}, -19.6, -21.3)
    window.meter.source = lambda: reading
    feed = QTimer(interval=33)
    feed.start()
    shots = []

    def shot(name: str, widget=None) -> None:
        file = args.out / f"{name}_{args.size}.png"
        (widget or window).grab().save(str(file))
        shots.append(file)

    settle(app, 2)
    shot("20_mixer_window")
    shot("21_track_headers", window.timeline)
    window.docks["takes"].show()
    window.docks["takes"].raise_()
    takes_panel = window.generation.takes
    settle(app, 15, lambda: all(r.view.preview is not None for r in takes_panel.rows))
    doc.set_region(region)
    window.canvas.zoom_to(region[0] - SAMPLE_RATE // 2, region[1] + SAMPLE_RATE // 2)
    settle(app, 2)
    shot("22_takes_window")
    shot("23_takes_panel", window.docks["takes"])
    doc.set_region(None)
    tracks_now = doc.project.tracks
    doc.apply(SetTrackProps(tracks_now[2].id, solo=True))       # the others dim
    settle(app, 1)
    shot("24_solo_dimming", window.timeline)
    from foley_studio.ui.export_dialog import ExportDialog
    dialog = ExportDialog(doc.project, work / "demo.fsproj", window)
    dialog.show()
    settle(app, 20, lambda: dialog.levels_ready())
    shot("25_export_dialog", dialog)
    dialog.loudness.setCurrentIndex(dialog.loudness.findData(-14.0))
    dialog.limiter.setChecked(True)
    settle(app, 20, lambda: dialog.levels_ready())
    shot("26_export_dialog_mastered", dialog)
    dialog.close()
    for file in shots:
        print(file)
    feed.stop()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
