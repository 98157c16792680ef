"""The window keeps the width the user gave it: generating (long prompts, progress, new takes) never widens
it, and the toolbar's buttons stay where they are when the Undo text or Play/Stop changes."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QPushButton, QToolBar, QToolButton

from foley_studio.core.paths import user_models_dir
from foley_studio.core.timebase import SAMPLE_RATE as SR
from foley_studio.engine.jobs import JobState
from foley_studio.ui.main_window import MainWindow, project_from_video
from tests.media_fixtures import make_video
from tests.ui_helpers import forbid_modal_dialogs

pytestmark = pytest.mark.gui

LONG_PROMPT = ("a heavy cast-iron radiator dragged slowly across a wet concrete basement floor, scraping and "
               "juddering, distant dripping water, a low electrical hum, footsteps on the stairs above and a "
               "door that creaks open twice")


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path, tiny_weights):
    forbid_modal_dialogs(monkeypatch)
    shutil.copytree(tiny_weights, user_models_dir() / "tiny")
    video = make_video(tmp_path / "a picture with a rather long file name for a scene.mp4", seconds=3.0, fps=24,
                       size=(64, 48), with_audio=False)
    win = MainWindow(project_from_video(video, n_tracks=2), audio=False, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1600, 960)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitActive(win)
    panel = win.generation.panel
    qtbot.waitUntil(lambda: panel.models_ready, timeout=30_000)
    panel.model.setCurrentIndex(panel.model.findData("tiny"))
    yield win
    win.shutdown()


def test_generating_with_long_prompts_never_widens_the_window(qtbot, window):
    widths: list[int] = []
    least: list[int] = []            # the width the window's layout asks for at least: what would widen it
    sampler = QTimer(window, interval=5)
    sampler.timeout.connect(lambda: (widths.append(window.width()), least.append(window.minimumSizeHint().width())))
    qtbot.wait(50)
    width = window.width()
    least_before = window.minimumSizeHint().width()
    assert width == 1600
    sampler.start()
    g = window.generation
    g.panel.steps.setValue(3)
    g.panel.n_takes.setValue(4)
    window.doc.set_region((SR // 2, int(1.5 * SR)))
    jobs = []
    for i in range(3):                                  # three jobs: one runs while the others wait
        g.panel.prompt.setCurrentText(f"{LONG_PROMPT} (take {i})")
        jobs += g.panel.generate()
    worker = g.worker
    qtbot.waitUntil(lambda: all(worker.jobs[j].state.finished for j in jobs) and worker.idle, timeout=120_000)
    assert {worker.jobs[j].state for j in jobs} == {JobState.DONE}
    qtbot.waitUntil(lambda: len(g.takes.rows) == 12, timeout=10_000)
    window.docks["generate"].raise_()                    # the jobs list, with its three long rows
    qtbot.wait(50)
    window.docks["takes"].raise_()
    qtbot.wait(50)
    sampler.stop()
    assert widths and set(widths) == {width}, f"the window widened to {max(widths)} px"
    assert window.width() == width
    for button in g.takes.findChildren(QPushButton) + [g.panel.jobs.clear_button, g.panel.cancel_button]:
        if button.isVisible():
            right = button.mapTo(window, button.rect().topRight()).x()
            assert right <= window.width(), f"{button.text()!r} is off the window ({right} > {window.width()})"
    assert max(least) <= least_before, (least_before, max(least))
    assert least_before <= 1366 - 100, "the editor must fit a 1366 px laptop screen"


def test_toolbar_buttons_stay_put_when_the_undo_text_or_play_changes(qtbot, window):
    bar = window.findChild(QToolBar, "mainToolbar")
    widgets = [w for w in bar.findChildren(QToolButton) if w.isVisible()]
    assert len(widgets) >= 6

    def places() -> list[tuple[int, int]]:
        QApplication.processEvents()
        return [(w.x(), w.width()) for w in widgets]
    before = places()
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key_M)            # the Undo action now reads "Undo Add marker"
    assert window.undo_action.text() == "Undo Add marker"
    assert "Ctrl+Z" in window.undo_action.toolTip()
    assert places() == before
    window._on_playing(True)                            # Play becomes Stop
    assert window.play_action.text() == "Stop"
    assert places() == before
    window._on_playing(False)
    assert places() == before


def test_export_dialog_browse_buttons_say_browse_and_are_not_cut(qtbot, window):
    from foley_studio.ui.export_dialog import ExportDialog
    dialog = ExportDialog(window.doc.project, None, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert set(dialog.browse_buttons) == {"mix", "stems", "video", "otio"}
    for button in dialog.browse_buttons.values():
        assert button.text() == "Browse…"
        assert button.width() >= button.sizeHint().width(), "the label would be cut"
    dialog.done(0)


def test_a_long_recent_prompt_does_not_widen_the_next_window(qtbot, tmp_path):
    from foley_studio.ui.settings import editor_settings

    def least_width() -> int:
        win = MainWindow(audio=False, restore_layout=False)
        qtbot.addWidget(win)
        win.resize(1366, 768)
        win.show()
        qtbot.waitExposed(win)
        try:
            return win.minimumSizeHint().width()
        finally:
            win.shutdown()
    plain = least_width()
    settings = editor_settings()
    settings.setValue("generate/recent_prompts", [LONG_PROMPT * 2, "door"])
    settings.sync()
    assert least_width() == plain
