"""Start the editor: QApplication, theme, library index, the project to open, crash recovery."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from foley_studio.core.paths import DEMO_DIR, DEMO_LIBRARY_DIR, data_dir
from foley_studio.core.project import Project

from .main_window import MainWindow, project_from_video
from .theme import apply_theme

log = logging.getLogger(__name__)

DEMO_PROJECT = DEMO_DIR / "demo.fsproj"      # the template (read only); the editor opens the user's copy
DEMO_VIDEO = DEMO_DIR / "demo_video.mp4"
_LOCK = "editor.session"


def has_display() -> bool:
    """Whether Qt can open windows here (X11, Wayland, or an explicit offscreen/minimal platform)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.split(":")[0] in ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "cocoa", "windows"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Foley Studio")
    app.setOrganizationName("FoleyStudio")
    apply_theme(app)
    return app


def demo_project() -> tuple[Project, Path | None]:
    """The demo: the user's copy of the bundled project (made on first use; `resources/` is never
    written), else a fresh project on the copied demo video."""
    from foley_studio.session.demo import user_demo_project, user_demo_video
    path = user_demo_project()
    if path is not None:
        from foley_studio.core import store
        return store.load_project(path), path
    return project_from_video(user_demo_video()), None


def open_library(scan_demo: bool = True) -> tuple[Any | None, bool, str | None]:
    """The user's library index, whether it needs a first scan (an empty index gets the demo library
    added), and, when the library is unavailable, why."""
    try:
        from foley_studio.library import LibraryIndex
        index = LibraryIndex()
    except Exception as exc:     # the editor works without a library: say why in the status bar
        log.warning("library unavailable: %s", exc)
        return None, False, f"Library unavailable: {exc}"
    if not (scan_demo and not index.folders() and DEMO_LIBRARY_DIR.is_dir()):
        return index, False, None
    index.add_folder(DEMO_LIBRARY_DIR)          # read only: scanning writes nothing beside the sounds
    return index, True, None


def _previous_session_crashed() -> bool:
    lock = data_dir() / _LOCK
    if not lock.exists():
        return False
    try:
        pid = int(lock.read_text().strip() or 0)
        os.kill(pid, 0)              # still running: another editor, not a crash
        return pid == os.getpid()
    except (ValueError, ProcessLookupError):
        return True
    except PermissionError:
        return False


def _mark_session(running: bool) -> None:
    lock = data_dir() / _LOCK
    if running:
        lock.write_text(str(os.getpid()))
    else:
        lock.unlink(missing_ok=True)


def offer_recovery(window: MainWindow) -> bool:
    """After a crash, offer the newest recovery copy; returns whether one was restored."""
    from foley_studio.core import store
    try:
        recoveries = [r for r in store.list_recoveries() if r.newer_than_original]
    except Exception as exc:
        log.warning("listing recoveries failed: %s", exc)
        return False
    if not recoveries:
        return False
    newest = recoveries[0]
    path = Path(newest.path)
    answer = QMessageBox.question(window, "Restore after a crash?",
                                  f"Foley Studio did not close cleanly. Restore the autosaved copy\n{path}?")
    if answer != QMessageBox.Yes:
        return False
    project = store.load_project(path)
    window.relink_missing(project)
    window._install(project, newest.original)
    window.doc.mark_changed_outside_history()   # restored work is unsaved until the user saves it
    window.show_message(f"Restored {path}")
    return True


def run_editor(target: str | Path | None = None, *, argv: list[str] | None = None,
               scan_library: bool = True) -> int:
    """Open the editor on a project, a video, or (no target) the bundled demo; returns the exit code."""
    app = application(argv)
    crashed = _previous_session_crashed()
    _mark_session(True)
    index, needs_scan, message = open_library(scan_demo=scan_library)
    window = MainWindow(library_index=index)
    if needs_scan:
        window.library.start_scan()              # progress and Cancel in the Library panel
    if message:
        window.show_message(message, 0)
    if target is None:
        project, path = demo_project()
        if path is not None:
            window.relink_missing(project)
        window._install(project, path)
    elif str(target).endswith(".fsproj"):
        window.open_project(target)
    else:
        window._install(project_from_video(target), None)
    window.show()
    if crashed:
        QTimer.singleShot(0, lambda: offer_recovery(window))
    try:
        return app.exec()
    finally:
        _mark_session(False)
        if index is not None:
            index.close()
