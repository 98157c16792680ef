"""Files dragged in from a file manager (text/uri-list): sounds land on the tracks like library drops,
unusable files are refused with the reason, and a video dropped on the window becomes the picture."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from foley_studio.core.project import Project, Track
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.main_window import MainWindow
from foley_studio.ui.mime import scan_audio_files
from tests.media_fixtures import make_tone, make_video
from tests.ui_helpers import forbid_modal_dialogs, show_editor

pytestmark = pytest.mark.gui

SR = SAMPLE_RATE


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    forbid_modal_dialogs(monkeypatch)


@pytest.fixture
def window(qtbot) -> MainWindow:
    project = Project(tracks=[Track(id="track-a", name="Steps"), Track(id="track-b", name="Cloth")], name="drops")
    win = show_editor(qtbot, MainWindow(project, audio=False, restore_layout=False), 10 * SR)
    yield win
    win.shutdown()


def _files(*paths: Path) -> QMimeData:
    """What a file manager puts on a drag: file URLs only."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


# The handlers get real Qt event objects directly: QApplication's drag routing needs a drag in
# progress (its drop target is remembered from the enter), which an offscreen test has not got.
def _enter(widget, mime: QMimeData, pos: QPointF) -> QDragEnterEvent:
    event = QDragEnterEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    event.ignore()                                  # refused unless the handler accepts it
    widget.dragEnterEvent(event)
    return event


def _move(widget, mime: QMimeData, pos: QPointF) -> QDragMoveEvent:
    event = QDragMoveEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    event.ignore()
    widget.dragMoveEvent(event)
    return event


def _drop(widget, mime: QMimeData, pos: QPointF) -> QDropEvent:
    event = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    event.ignore()
    widget.dropEvent(event)
    return event


def _clips(win: MainWindow) -> list[tuple[str, str, int, int, int]]:
    return [(t.id, c.name, c.start, c.source_in, c.source_out) for t in win.doc.project.tracks for c in t.clips]


def _corrupt_wav(path: Path) -> Path:
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    return path


def test_two_files_land_one_after_another_with_a_ghost_and_one_undo_step(qtbot, window, tmp_path):
    door = make_tone(tmp_path / "door.wav", seconds=1.0, freq=220.0)
    cloth = make_tone(tmp_path / "cloth rustle.flac", seconds=0.75, sr=44_100, freq=660.0)   # resampled on play
    canvas, g = window.canvas, window.canvas.geo
    mime = _files(door, cloth)
    # Whole pixels, as Qt delivers drag positions.
    pos = QPointF(round(g.x_of(int(2.5 * SR))), round(g.track_top(1) + g.track_height / 2))
    expected_start = g.time_at(pos.x())
    assert _enter(canvas, mime, pos).isAccepted()
    assert _move(canvas, mime, pos).isAccepted()
    assert canvas.drops.ghost == (1, expected_start, SR + int(0.75 * SR)), "the ghost spans both sounds"
    steps = window.doc.history.count
    assert _drop(canvas, mime, pos).isAccepted()
    assert canvas.drops.ghost is None
    added = window.doc.project.tracks[1].clips
    assert [(c.name, c.start, c.source_in, c.source_out) for c in added] == [
        ("door", expected_start, 0, SR), ("cloth rustle", expected_start + SR, 0, int(0.75 * SR))]
    assert Path(added[0].source) == door.resolve() and Path(added[1].source) == cloth.resolve()
    assert not window.doc.project.tracks[0].clips
    assert window.doc.selected_clips == [c.id for c in added]
    assert window.doc.history.count == steps + 1, "the whole drop is one undo step"
    window.undo_action.trigger()
    assert _clips(window) == []
    window.redo_action.trigger()
    assert [c.name for c in window.doc.project.tracks[1].clips] == ["door", "cloth rustle"]


def test_a_drop_below_the_last_track_adds_a_track(qtbot, window, tmp_path):
    steps = make_tone(tmp_path / "steps.aiff", seconds=0.5)
    g = window.canvas.geo
    pos = QPointF(g.x_of(SR), g.track_top(2) + g.track_height / 2)
    assert _drop(window.canvas, _files(steps), pos).isAccepted()
    tracks = window.doc.project.tracks
    assert len(tracks) == 3 and [(c.name, c.source_out) for c in tracks[2].clips] == [("steps", SR // 2)]
    window.undo_action.trigger()
    assert len(window.doc.project.tracks) == 2 and _clips(window) == []


def test_text_and_corrupt_wav_are_refused_with_the_reason(qtbot, window, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("door slam at 00:01\n")
    broken = _corrupt_wav(tmp_path / "broken.wav")
    canvas, g = window.canvas, window.canvas.geo
    mime = _files(notes, broken)
    pos = QPointF(g.x_of(SR), g.track_top(0) + g.track_height / 2)
    assert not _enter(canvas, mime, pos).isAccepted(), "nothing usable: the drag is refused"
    assert not _move(canvas, mime, pos).isAccepted()
    assert canvas.drops.ghost is None
    steps = window.doc.history.count
    assert not _drop(canvas, mime, pos).isAccepted()
    assert _clips(window) == [] and window.doc.history.count == steps
    message = window.statusBar().currentMessage()
    assert message.startswith("Nothing added")
    assert "notes.txt: not an audio file" in message
    assert "broken.wav: not a readable media file" in message


def test_usable_files_are_added_and_the_refused_one_named(qtbot, window, tmp_path):
    good = make_tone(tmp_path / "glass.wav", seconds=0.25)
    missing = tmp_path / "gone.wav"                  # deleted between the drag and the drop
    g = window.canvas.geo
    pos = QPointF(g.x_of(0) + 1, g.track_top(0) + 5)
    assert _drop(window.canvas, _files(missing, good), pos).isAccepted()
    assert [(c.name, c.source_out) for c in window.doc.project.tracks[0].clips] == [("glass", SR // 4)]
    message = window.statusBar().currentMessage()
    assert message.startswith("Skipped") and "gone.wav: no such file" in message


def test_scan_refuses_video_and_silent_files(tmp_path):
    video = make_video(tmp_path / "shot.mp4", seconds=1.0, size=(64, 48), with_audio=True)
    wav = make_tone(tmp_path / "hit.wav", seconds=0.5, channels=2)
    drop = scan_audio_files([video, wav])
    assert [(s.name, s.duration) for s in drop.sounds] == [("hit", pytest.approx(0.5))]
    assert [name for name, _ in drop.refused] == ["shot.mp4"] and "picture" in drop.refused[0][1]


def test_a_video_dropped_on_the_window_becomes_the_picture(qtbot, window, tmp_path):
    video = make_video(tmp_path / "scene 12.mp4", seconds=2.0, fps=24, size=(96, 64), with_audio=False)
    canvas, g = window.canvas, window.canvas.geo
    mime = _files(video)
    pos = QPointF(g.x_of(SR), g.track_top(0) + g.track_height / 2)
    assert not _enter(canvas, mime, pos).isAccepted(), "the tracks take sounds, not pictures"
    routed = QDragEnterEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    routed.ignore()
    QApplication.sendEvent(canvas, routed)          # Qt hands a drag the tracks refuse on to the window
    assert routed.isAccepted() and canvas.drops.ghost is None
    centre = QPointF(window.width() / 2, window.height() / 2)
    assert _enter(window, mime, centre).isAccepted()
    assert _drop(window, mime, centre).isAccepted()
    qtbot.waitUntil(lambda: window.doc.project.video is not None, timeout=5000)
    ref = window.doc.project.video
    assert Path(ref.path) == video.resolve() and (ref.width, ref.height) == (96, 64)
    assert ref.duration == 2 * SR and window.doc.project.name == "scene 12"
    assert "scene 12.mp4" in window.statusBar().currentMessage()


def test_an_unreadable_video_drop_leaves_the_project_and_says_why(qtbot, window, tmp_path):
    bad = tmp_path / "render.mov"
    bad.write_bytes(b"\x00\x00\x00\x18ftypqt  " + b"\x01" * 500)
    before = window.doc.project
    centre = QPointF(window.width() / 2, window.height() / 2)
    assert _drop(window, _files(bad), centre).isAccepted()
    qtbot.waitUntil(lambda: "render.mov" in window.statusBar().currentMessage(), timeout=5000)
    assert window.doc.project is before and before.video is None
    assert window.statusBar().currentMessage().startswith("Cannot use render.mov as the picture")
