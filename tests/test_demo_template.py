"""The bundled demo is a template: the editor works on a copy in the user's data folder, and an editing
session on it (edit, save, generate a take, export) leaves every byte under resources/ as shipped."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from foley_studio.core import store
from foley_studio.core.paths import DEMO_DIR, RESOURCES_DIR, user_models_dir
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.engine.jobs import JobState
from foley_studio.session.demo import user_demo_dir, user_demo_folder, user_demo_project
from tests.ui_helpers import forbid_modal_dialogs

pytestmark = pytest.mark.skipif(not (DEMO_DIR / "demo.fsproj").is_file(), reason="no demo in this checkout")


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under `root`, by relative path (a new, changed or missing file shows)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_first_use_copies_the_template_and_later_uses_keep_the_users_copy():
    folder = user_demo_folder()
    assert folder == user_demo_dir() and not folder.is_relative_to(RESOURCES_DIR)
    assert tree_digest(folder) == tree_digest(DEMO_DIR)
    project = user_demo_project()
    edited = store.load_project(project)
    edited.name = "my version"
    store.save_project(edited, project)
    (folder / "demo_video.mp4").unlink()            # the picture the user deleted comes back
    assert user_demo_project() == project
    assert store.load_project(project).name == "my version"      # the user's work is never overwritten
    assert (folder / "demo_video.mp4").read_bytes() == (DEMO_DIR / "demo_video.mp4").read_bytes()
    assert not list(folder.parent.glob(".demo.*"))                 # no staging folder left behind


def test_an_editing_session_on_the_demo_leaves_resources_byte_identical(qtbot, monkeypatch, tiny_weights):
    from foley_studio.ui.app import demo_project
    from foley_studio.ui.export_dialog import ExportDialog
    from foley_studio.ui.main_window import MainWindow

    before = tree_digest(RESOURCES_DIR)
    forbid_modal_dialogs(monkeypatch)
    shutil.copytree(tiny_weights, user_models_dir() / "tiny")
    project, path = demo_project()
    assert path is not None and path.parent == user_demo_dir()
    win = MainWindow(project, path, audio=False, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitActive(win)                      # shortcuts only reach an active window
    panel = win.generation.panel
    qtbot.waitUntil(lambda: panel.models_ready, timeout=30_000)

    # Edit (M adds a marker at the playhead) and save with Ctrl+S: the user's copy changes.
    markers = len(win.doc.project.markers)
    win.doc.set_playhead(SAMPLE_RATE // 2)
    qtbot.keyClick(win.canvas, Qt.Key_M)
    assert len(win.doc.project.markers) == markers + 1
    qtbot.keyClick(win.canvas, Qt.Key_S, Qt.ControlModifier)
    assert not win.doc.is_dirty and win.doc.path == path
    assert len(store.load_project(path).markers) == markers + 1

    # Generate one take on the default target (the Foley track, not the muted guide).
    panel.model.setCurrentIndex(panel.model.findData("tiny"))
    panel.steps.setValue(2)
    panel.n_takes.setValue(1)
    panel.prompt.setCurrentText("mallet on metal")
    win.doc.set_region((SAMPLE_RATE, 2 * SAMPLE_RATE))
    jobs = panel.generate()
    worker = win.generation.worker
    qtbot.waitUntil(lambda: all(worker.jobs[j].state.finished for j in jobs) and worker.idle, timeout=60_000)
    assert worker.jobs[jobs[0]].state is JobState.DONE, worker.jobs[jobs[0]].message
    take = win.doc.project.takes[-1]
    assert take.track_id == "track-foley"
    assert Path(take.path).parent == user_demo_dir() / "takes"

    # Export the mix and the timeline beside the project, then save again.
    dialog = ExportDialog(win.doc.project, win.doc.path, win)
    dialog.rows["video"][0].setChecked(False)
    dialog.start()
    qtbot.waitUntil(lambda: bool(dialog.written or dialog.error), timeout=60_000)
    assert not dialog.error and dialog.written
    assert all(Path(p).is_relative_to(user_demo_dir()) for p in dialog.written)
    dialog.done(0)
    assert win.save()
    win.shutdown()

    assert tree_digest(RESOURCES_DIR) == before
