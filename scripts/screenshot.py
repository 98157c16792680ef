"""Open the editor in given states and write PNGs (for looking at, never committed).

Run: .venv/bin/python scripts/screenshot.py [--out DIR]. Works offscreen (the default when there is no
display) or under Xvfb (`xvfb-run -a .venv/bin/python scripts/screenshot.py`). Uses a temporary
Foley Studio home so the demo library is indexed fresh and the user's settings are untouched.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def settle(app, seconds: float, until=None) -> bool:
    """Run the event loop for up to `seconds`, or until `until()` is true (then True)."""
    t0 = time.perf_counter()
    reached = until is None
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        if until is not None and until():
            reached = True
            break
        time.sleep(0.005)
    for _ in range(5):
        app.processEvents()
    return reached


def prepare_environment(out: Path, home_prefix: str) -> None:
    """Offscreen when there is no display, a throwaway Foley Studio home, no modal prompts."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("FOLEY_STUDIO_HOME", tempfile.mkdtemp(prefix=home_prefix))
    os.environ["FOLEY_STUDIO_NO_PROMPTS"] = "1"
    out.mkdir(parents=True, exist_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "foley_screens")
    parser.add_argument("--size", default="1600x960")
    parser.add_argument("--no-library", action="store_true", help="skip indexing the demo library")
    args = parser.parse_args()
    prepare_environment(args.out, "foley-shots-")

    from foley_studio.core.paths import DEMO_LIBRARY_DIR
    from foley_studio.core.timebase import SAMPLE_RATE
    from foley_studio.ui.app import application, demo_project
    from foley_studio.ui.main_window import MainWindow

    app = application(sys.argv[:1])
    index = None
    if not args.no_library:
        from foley_studio.library import LibraryIndex
        index = LibraryIndex()
        index.add_folder(DEMO_LIBRARY_DIR)
        t0 = time.perf_counter()
        report = index.scan()
        print(f"library: {report.added} sounds indexed in {time.perf_counter() - t0:.1f} s")
    project, path = demo_project()
    window = MainWindow(project, path, library_index=index, restore_layout=False)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    canvas = window.canvas
    sources = {c.source for t in project.tracks for c in t.clips}
    settle(app, 15, lambda: all(window.waveforms.pyramid(s) is not None or window.waveforms.error(s)
                                 for s in sources) and window.thumbnails.get(0) is not None)
    canvas.zoom_fit()
    window.doc.set_playhead(int(2.0 * SAMPLE_RATE))
    window.doc.select_track(project.tracks[1].id)
    settle(app, 3)
    shots = []

    def shot(name: str) -> None:
        file = args.out / f"{name}.png"
        window.grab().save(str(file))
        shots.append(file)

    shot("01_demo_project")
    hits = project.tracks[1].clips
    canvas.zoom_to(hits[1].start - SAMPLE_RATE // 4, hits[3].end + SAMPLE_RATE // 4)
    window.doc.select_clips([hits[2].id])
    window.doc.set_region((hits[1].start, hits[2].end))
    window.doc.set_playhead(hits[2].start + 4800)
    settle(app, 4, lambda: window.thumbnails.get(window.doc.project.video.clock.frame_at_sample(hits[2].start))
            is not None)
    shot("02_zoomed_in")
    window.doc.set_region(None)
    window.docks["spectrogram"].raise_()
    window.resizeDocks([window.docks["spectrogram"]], [900], __import__("PySide6.QtCore").QtCore.Qt.Horizontal)
    window.doc.select_clips([project.tracks[2].clips[0].id])
    window.spectrogram.refresh()
    settle(app, 8, lambda: "computing" not in window.spectrogram.caption.text()
            and window.spectrogram.last_spectrogram is not None)
    shot("03_spectrogram")
    window.docks["library"].raise_()
    window.library.search_box.setText("crash")
    window.library.run_search()
    if window.library.model.rowCount():
        window.library.table.selectRow(0)
    settle(app, 2)
    shot("04_library_search")
    window.spectrogram.set_log_frequency(True)
    settle(app, 8, lambda: "computing" not in window.spectrogram.caption.text())
    shot("05_spectrogram_log")
    window.spectrogram.set_log_frequency(False)
    g = window.generation
    window.docks["generate"].raise_()
    g.panel.set_mode("analogy")
    flac = sorted(DEMO_LIBRARY_DIR.glob("*.flac"))[17]
    from foley_studio.ui.mime import LibraryDrag
    g.panel.reference_slot.set_library_sound(LibraryDrag(path=str(flac), name=flac.stem, duration=1.0))
    window.doc.set_region((hits[1].start, hits[2].end))
    settle(app, 2)
    shot("06_generate_analogy")
    g.panel.set_mode("text")

    def dialog_shot(name: str, dialog) -> None:
        dialog.show()
        settle(app, 1)
        file = args.out / f"{name}.png"
        dialog.grab().save(str(file))
        shots.append(file)
        dialog.close()
    from foley_studio.ui.export_dialog import ExportDialog
    from foley_studio.ui.shortcuts import ShortcutsDialog
    dialog_shot("07_export_dialog", ExportDialog(window.doc.project, window.doc.path, window))
    dialog_shot("08_keyboard_shortcuts", ShortcutsDialog(window))
    if index is not None:
        window.docks["library"].raise_()
        bar = window.library.scan_bar              # the scan bar as it looks while a folder is read
        bar.show_progress("reading", 128, 940, "")
        bar.show()
        settle(app, 0.5)
        shot("09_library_scanning")
        bar.hide()
    for file in shots:
        print(file)
    window.shutdown()
    if index is not None:
        index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
