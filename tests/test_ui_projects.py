"""Project life cycle in the editor: autosave + crash recovery, export with progress, start-up paths."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from foley_studio.core.project import Clip
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.main_window import MainWindow, project_from_video
from tests.media_fixtures import make_tone, make_video

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def no_prompts(monkeypatch):
    monkeypatch.setenv("FOLEY_STUDIO_NO_PROMPTS", "1")


@pytest.fixture
def window(qtbot, tmp_path):
    video = make_video(tmp_path / "v.mp4", seconds=2.0, fps=25, size=(64, 48), with_audio=False)
    project = project_from_video(video, n_tracks=2)
    tone = make_tone(tmp_path / "t.wav", seconds=1.0, freq=440.0, amplitude=0.5)
    project.tracks[0].clips.append(Clip(id="clip-1", source=str(tone), start=SAMPLE_RATE // 2, source_in=0,
                                        source_out=SAMPLE_RATE, name="tone"))
    win = MainWindow(project, audio=False, restore_layout=False)
    qtbot.addWidget(win)
    yield win
    win.shutdown()


def test_autosave_writes_recovery_and_restore_after_crash(qtbot, window, tmp_path, monkeypatch):
    from foley_studio.core import store
    from foley_studio.ui import app as app_module
    assert window.autosave() is None, "a clean project needs no recovery copy"
    window.doc.set_playhead(SAMPLE_RATE)
    window.canvas.add_marker()
    copy_path = window.autosave()
    assert copy_path is not None and copy_path.exists()
    assert store.load_project(copy_path) == window.doc.project
    # A crashed session leaves its lock behind; the next start offers the copy and restores it.
    (app_module.data_dir() / app_module._LOCK).write_text("999999999")
    assert app_module._previous_session_crashed()
    other = MainWindow(audio=False, restore_layout=False)
    qtbot.addWidget(other)
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Yes))
    assert app_module.offer_recovery(other)
    assert other.doc.project == window.doc.project
    assert other.doc.is_dirty, "restored work stays unsaved until the user saves it"
    other.shutdown()
    # Saving discards the recovery copy.
    assert window._save_to(tmp_path / "saved.fsproj")
    assert not copy_path.exists()


def test_export_dialog_writes_mix_stems_video_and_otio(qtbot, window, tmp_path):
    from foley_studio.ui.export_dialog import ExportDialog
    dialog = ExportDialog(window.doc.project, None, window)
    qtbot.addWidget(dialog)
    out = tmp_path / "out"
    targets = {"mix": out / "mix.wav", "stems": out / "stems", "video": out / "with_mix.mp4", "otio": out / "t.otio"}
    for key, (box, edit) in dialog.rows.items():
        box.setChecked(True)
        edit.setText(str(targets[key]))
    dialog.codec.setCurrentIndex(dialog.codec.findData("pcm"))
    dialog.start()
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled(), timeout=30000)
    assert dialog.error == ""
    assert dialog.progress.value() == dialog.progress.maximum() == 5, "one mixdown, then four outputs"
    from foley_studio.media.probe import probe
    assert probe(targets["video"]).audio_codec == "pcm_s24le", "the chosen codec reaches the video"
    mix, sr = sf.read(targets["mix"], always_2d=True)
    assert sr == SAMPLE_RATE and len(mix) == window.doc.project.duration
    assert mix.shape[1] == 2 and probe(targets["video"]).channels == 2, "the project's stereo bus, everywhere"
    onset = int(np.argmax(np.abs(mix).max(axis=1) > 0.05))
    assert abs(onset - SAMPLE_RATE // 2) < 100, "the clip starts at 0.5 s in the mix"
    assert len(list(targets["stems"].glob("*.wav"))) == 2
    assert targets["video"].stat().st_size > 0 and targets["otio"].read_text().startswith("{")


def test_no_display_runs_headless_path(monkeypatch, capsys):
    from foley_studio.cli import editor_cmd
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    called = []
    monkeypatch.setattr(editor_cmd, "headless_demo", lambda: called.append(True) or 0)
    assert editor_cmd.default_handler(argparse.Namespace()) == 0
    assert called and "no display" in capsys.readouterr().err


def test_run_editor_opens_the_demo_and_exits_cleanly(qtbot):
    from foley_studio.ui.app import DEMO_VIDEO, run_editor
    if not DEMO_VIDEO.exists():
        pytest.skip("the demo video is not in this checkout")
    seen = {}

    def close_when_painted():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].canvas.paint_count:
            seen["tracks"] = len(windows[0].doc.project.tracks)
            seen["title"] = windows[0].windowTitle()
            QApplication.closeAllWindows()
        else:
            QTimer.singleShot(50, close_when_painted)
    QTimer.singleShot(50, close_when_painted)
    assert run_editor(None, scan_library=False) == 0
    assert seen["tracks"] >= 1 and "Foley Studio" in seen["title"]


def test_dock_layout_is_remembered(qtbot):
    first = MainWindow(audio=False, restore_layout=True)
    qtbot.addWidget(first)
    first.resize(1300, 800)
    first.show()
    qtbot.waitExposed(first)
    first.docks["spectrogram"].hide()
    first.docks["library"].setFloating(True)
    first.save_layout()
    first.shutdown()
    second = MainWindow(audio=False, restore_layout=True)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert not second.docks["spectrogram"].isVisible()
    assert second.docks["library"].isFloating()
    second.shutdown()


def test_undo_history_after_undo_then_new_edit(qtbot, window):
    doc, canvas = window.doc, window.canvas
    doc.set_playhead(SAMPLE_RATE)
    canvas.add_marker()
    canvas.add_marker()
    doc.undo()
    doc.undo()
    doc.set_playhead(2 * SAMPLE_RATE)
    canvas.add_marker()                     # drops the two undone steps
    assert doc.history.count == 1 and not doc.history.can_redo
    assert [m.time for m in doc.project.markers] == [2 * SAMPLE_RATE]


def test_every_editor_shortcut_is_wired_once(qtbot):
    """Two actions sharing a key make Qt trigger neither; the issue's keys must each do one thing."""
    from collections import Counter
    from PySide6.QtGui import QAction, QKeySequence, QShortcut
    win = MainWindow(audio=False, restore_layout=False)
    qtbot.addWidget(win)
    keys = Counter()
    for action in win.findChildren(QAction):
        for seq in action.shortcuts():
            if not seq.isEmpty() and action.shortcutContext() != Qt.WidgetShortcut:
                keys[seq.toString(QKeySequence.PortableText)] += 1
    for shortcut in win.findChildren(QShortcut):
        if shortcut.isEnabled() and shortcut.context() != Qt.WidgetShortcut:
            keys[shortcut.key().toString(QKeySequence.PortableText)] += 1
    duplicates = {k: n for k, n in keys.items() if n > 1}
    assert not duplicates, f"ambiguous shortcuts: {duplicates}"
    for key in ("Space", "J", "K", "L", "I", "O", "M", "S", "Del", "Ctrl+Z", "Ctrl+Shift+Z", "=", "-", "Z",
                "Shift+Z", "N", "Ctrl+S", "Ctrl+O", "Ctrl+E", "Alt+Left", "Alt+Right"):
        assert keys[key] == 1, f"{key} is not bound"
    win.shutdown()
