"""The editor driven through its real widgets (pytest-qt, offscreen): drawing, drops, edits + undo,
projects, relink. Media is synthesised per test in tmp_path."""
from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from foley_studio.core.project import Clip, Marker, Project
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.ui.main_window import MainWindow, project_from_video
from foley_studio.ui.mime import LibraryDrag, encode_library_drag
from foley_studio.ui.theme import TIMELINE
from tests.media_fixtures import make_tone, make_video
from tests.ui_helpers import forbid_modal_dialogs, show_editor

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    forbid_modal_dialogs(monkeypatch)


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    video = make_video(tmp_path / "picture.mp4", seconds=4.0, fps=24, size=(96, 64), with_audio=False)
    sounds = {name: make_tone(tmp_path / f"{name}.wav", seconds=1.0, freq=f, amplitude=0.6)
              for name, f in (("door", 220.0), ("steps", 660.0), ("glass", 1500.0))}
    return {"video": video, **sounds}


def _project(media: dict[str, Path]) -> Project:
    project = project_from_video(media["video"], n_tracks=2)
    a, b = project.tracks
    a.clips.append(Clip(id="clip-a", source=str(media["door"]), start=SAMPLE_RATE // 2, source_in=0,
                        source_out=SAMPLE_RATE, name="door", source_length=SAMPLE_RATE))
    b.clips.append(Clip(id="clip-b", source=str(media["steps"]), start=2 * SAMPLE_RATE, source_in=4800,
                        source_out=SAMPLE_RATE, name="steps", source_length=SAMPLE_RATE))
    project.markers.append(Marker(id="marker-1", time=SAMPLE_RATE, name="hit"))
    return project


@pytest.fixture
def window(qtbot, media) -> MainWindow:
    win = show_editor(qtbot, MainWindow(_project(media), audio=False, restore_layout=False), 4 * SAMPLE_RATE)
    yield win
    win.shutdown()


def _wait_waveforms(qtbot, win: MainWindow) -> None:
    sources = {c.source for t in win.doc.project.tracks for c in t.clips}
    qtbot.waitUntil(lambda: all(win.waveforms.pyramid(s) is not None for s in sources), timeout=10000)


def _colour_at(win: MainWindow, x: float, y: float) -> QColor:
    image = win.canvas.grab().toImage()
    return image.pixelColor(int(x), int(y))


def _near(colour: QColor, hex_colour: str, tol: int = 12) -> bool:
    ref = QColor(hex_colour)
    return all(abs(a - b) <= tol for a, b in ((colour.red(), ref.red()), (colour.green(), ref.green()),
                                                 (colour.blue(), ref.blue())))


def test_tracks_clips_waveforms_and_thumbnails_are_drawn(qtbot, window):
    _wait_waveforms(qtbot, window)
    canvas = window.canvas
    qtbot.waitUntil(lambda: window.thumbnails.get(0) is not None, timeout=10000)
    clip = window.doc.project.tracks[1].clips[0]
    rect = canvas.hits.clip_rect(clip, 1)
    assert rect.width() > 100, "zoom_to(0, 4 s) must make a 1 s clip wide"
    # Clip body colour near its bottom edge (below the waveform), lane colour just right of it.
    assert _near(_colour_at(window, rect.left() + 3, rect.bottom() - 2), TIMELINE.clip)
    assert _near(_colour_at(window, rect.right() + 6, rect.center().y()), TIMELINE.lane_alt)
    # The waveform of a 0.6-amplitude tone crosses the clip's vertical centre.
    wave_y = rect.top() + 14 + (rect.height() - 14) / 2
    assert _near(_colour_at(window, rect.center().x(), wave_y), TIMELINE.waveform, tol=30)
    # The picture lane shows decoded frames, not the placeholder.
    g = canvas.geo
    qtbot.wait(50)
    thumb = _colour_at(window, g.header_width + 10, g.ruler_height + g.video_height / 2)
    assert not _near(thumb, "#24272c") and not _near(thumb, TIMELINE.video_lane)


def test_demo_project_opens_with_its_tracks(qtbot):
    from foley_studio.ui.app import DEMO_VIDEO, demo_project
    if not DEMO_VIDEO.exists():
        pytest.skip("the demo video is not in this checkout")
    project, _path = demo_project()
    win = MainWindow(project, audio=False, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    assert win.doc.project.video is not None and len(win.doc.project.tracks) >= 1
    for row, track in enumerate(win.doc.project.tracks):
        top = win.canvas.geo.track_top(row)
        assert win.canvas.geo.track_index_at(top + 5) == row
    for track in win.doc.project.tracks:
        for clip in track.clips:
            assert Path(clip.source).exists(), f"demo clip source missing: {clip.source}"
    win.shutdown()


def test_library_drop_creates_clip_at_time_and_track(qtbot, window, media):
    canvas = window.canvas
    g = canvas.geo
    mime = encode_library_drag([LibraryDrag(path=str(media["glass"]), name="glass", duration=1.0)])
    x = g.x_of(int(1.5 * SAMPLE_RATE)) + 0.4
    y = g.track_top(1) + g.track_height / 2
    expected_start = g.time_at(x)
    enter = QDragEnterEvent(QPointF(x, y).toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(canvas, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(x, y), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(canvas, drop)
    track = window.doc.project.tracks[1]
    added = [c for c in track.clips if c.name == "glass"]
    assert len(added) == 1
    assert added[0].start == expected_start
    assert (added[0].source_in, added[0].source_out) == (0, SAMPLE_RATE)
    assert window.doc.selected_clips == [added[0].id]
    # One undo step removes it again.
    window.undo_action.trigger()
    assert not [c for c in window.doc.project.tracks[1].clips if c.name == "glass"]


def test_drop_snaps_to_the_playhead_and_below_tracks_adds_a_track(qtbot, window, media):
    canvas = window.canvas
    canvas.snapping = True
    window.doc.set_playhead(3 * SAMPLE_RATE)
    g = canvas.geo
    x = g.x_of(3 * SAMPLE_RATE) + 4          # 4 px off: inside the 8 px snap threshold
    y = g.track_top(2) + g.track_height / 2   # below the last track
    ids = canvas.drops.drop_library_items([LibraryDrag(path=str(media["glass"]), name="glass", duration=1.0)], x, y)
    assert len(window.doc.project.tracks) == 3
    clip = window.doc.project.find_clip(ids[0])
    assert clip.start == 3 * SAMPLE_RATE
    assert window.doc.project.track_of_clip(clip.id) is window.doc.project.tracks[2]
    window.undo_action.trigger()
    assert len(window.doc.project.tracks) == 2


def _drag(qtbot, widget, start: QPointF, end: QPointF, steps: int = 6) -> None:
    # Wait out the double-click interval so this press is not read as the second click of the last.
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 20)
    qtbot.mousePress(widget, Qt.LeftButton, pos=start.toPoint())
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        qtbot.mouseMove(widget, pos=p.toPoint())
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=end.toPoint())


def test_move_trim_split_delete_then_undo_all_restores_exactly(qtbot, window):
    _wait_waveforms(qtbot, window)
    doc, canvas = window.doc, window.canvas
    original = copy.deepcopy(doc.project)
    g = canvas.geo
    clip = doc.project.find_clip("clip-a")
    rect = canvas.hits.clip_rect(clip, 0)
    # Move: drag the body right by 100 px and down one track: one undo step.
    start = QPointF(rect.center().x(), rect.center().y())
    _drag(qtbot, canvas, start, start + QPointF(100, g.track_height))
    assert doc.history.count == 1
    moved = doc.project.find_clip("clip-a")
    assert doc.project.track_of_clip("clip-a") is doc.project.tracks[1]
    assert abs(moved.start - (original.find_clip("clip-a").start + 100 * g.samples_per_pixel)) <= 2 * g.samples_per_pixel
    # Trim the right edge of clip-b 40 px to the left.
    clip_b = doc.project.find_clip("clip-b")
    rb = canvas.hits.clip_rect(clip_b, 1)
    _drag(qtbot, canvas, QPointF(rb.right() - 2, rb.center().y() + 10), QPointF(rb.right() - 42, rb.center().y() + 10))
    assert doc.history.count == 2
    assert doc.project.find_clip("clip-b").end < original.find_clip("clip-b").end
    # Split clip-b at the playhead, then delete the right part.
    b = doc.project.find_clip("clip-b")
    doc.set_playhead((b.start + b.end) // 2)
    doc.select_clips(["clip-b"])
    canvas.split_at_playhead()
    assert len(doc.project.tracks[1].clips) == 3
    right = max(doc.project.tracks[1].clips, key=lambda c: c.start)
    doc.select_clips([right.id])
    canvas.delete_selection()
    assert right.id not in {c.id for c in doc.project.tracks[1].clips}
    # Fade and gain as well.
    doc.apply(__import__("foley_studio.core.edits", fromlist=["x"]).SetClipGain("clip-b", -6.0))
    assert doc.history.count == 5
    while doc.history.can_undo:
        doc.undo()
    assert doc.project == original
    while doc.history.can_redo:
        doc.redo()
    assert doc.project.find_clip("clip-b").gain_db == -6.0


def test_fade_handle_drag_and_marker_key(qtbot, window):
    _wait_waveforms(qtbot, window)
    doc, canvas = window.doc, window.canvas
    doc.select_clips(["clip-a"])
    clip = doc.project.find_clip("clip-a")
    rect = canvas.hits.clip_rect(clip, 0)
    _drag(qtbot, canvas, QPointF(rect.left() + 1, rect.top() + 2), QPointF(rect.left() + 61, rect.top() + 2))
    fade = doc.project.find_clip("clip-a").fade_in
    assert abs(fade - 60 * canvas.geo.samples_per_pixel) <= 3 * canvas.geo.samples_per_pixel
    doc.set_playhead(SAMPLE_RATE * 3)
    canvas.add_marker()
    assert [m.time for m in doc.project.markers] == [SAMPLE_RATE, 3 * SAMPLE_RATE]
    doc.undo()
    doc.undo()
    assert doc.project.find_clip("clip-a").fade_in == 0 and len(doc.project.markers) == 1


def test_region_from_ruler_drag_and_in_out(qtbot, window):
    canvas, g = window.canvas, window.canvas.geo
    a, b = g.x_of(1.25 * SAMPLE_RATE), g.x_of(2.5 * SAMPLE_RATE)     # away from the marker at 1 s
    _drag(qtbot, canvas, QPointF(a, 10), QPointF(b, 10))
    lo, hi = window.doc.region
    assert abs(lo - 1.25 * SAMPLE_RATE) <= g.samples_per_pixel and abs(hi - 2.5 * SAMPLE_RATE) <= g.samples_per_pixel
    window.doc.set_playhead(SAMPLE_RATE // 2)
    canvas.set_in()
    assert window.doc.region[0] == SAMPLE_RATE // 2


def test_save_then_reopen_gives_an_equal_project(qtbot, window, tmp_path):
    from foley_studio.core import store
    path = tmp_path / "session.fsproj"
    window.canvas.add_marker()
    assert window.doc.is_dirty
    assert window._save_to(path)
    assert not window.doc.is_dirty and path.exists()
    reopened = store.load_project(path)
    assert reopened == window.doc.project
    other = MainWindow(audio=False, restore_layout=False)
    qtbot.addWidget(other)
    assert other.open_project(path)
    assert other.doc.project == window.doc.project
    assert str(path) in other.recent_files()
    other.shutdown()


def test_missing_media_triggers_relink_not_a_crash(qtbot, window, tmp_path, monkeypatch, media):
    from foley_studio.core import store
    path = tmp_path / "relink.fsproj"
    assert window._save_to(path)
    moved_dir = tmp_path / "moved"
    moved_dir.mkdir()
    new_door = moved_dir / "door.wav"
    shutil.move(str(media["door"]), new_door)
    asked: list[str] = []

    def ask(missing: str) -> str | None:
        asked.append(missing)
        return str(new_door)
    monkeypatch.setattr(window, "ask_relink", ask)
    assert window.open_project(path)
    assert asked == [str(media["door"])]
    assert window.doc.project.find_clip("clip-a").source == str(new_door)
    assert store.find_missing_media(window.doc.project) == []
    assert window.doc.is_dirty and window.windowTitle().startswith("relink.fsproj *")
    # Declining to relink keeps the project open and says what is missing.
    shutil.move(str(new_door), tmp_path / "gone.wav")
    assert window._save_to(path)
    monkeypatch.setattr(window, "ask_relink", lambda missing: None)
    assert window.open_project(path)
    assert "missing" in window.statusBar().currentMessage()
    window.canvas.repaint()       # drawing a clip whose file is gone must not raise


def test_spectrogram_of_selected_clip(qtbot, window):
    window.docks["spectrogram"].show()
    window.doc.select_clips(["clip-b"])
    panel = window.spectrogram
    panel.refresh()
    qtbot.waitUntil(lambda: panel.caption.text().startswith("Clip: steps") and "computing" not in panel.caption.text(),
                    timeout=10000)
    image = panel.image.image
    assert image.dtype == np.float32 and image.flags["C_CONTIGUOUS"]
    assert image.shape[0] == 513                   # n_fft 1024 -> 513 frequency rows (row-major)
    assert panel.image.levels is not None and tuple(panel.image.levels) == (-100.0, 0.0)
    assert panel.image.lut.shape == (256, 4)
    # The 660 Hz tone is the loudest row.
    freqs = panel.last_spectrogram.freqs
    peak_row = int(np.argmax(image.mean(axis=1)))
    assert abs(freqs[peak_row] - 660.0) < 60


def test_zoom_keeps_anchor_and_is_quantised(qtbot, window):
    canvas, g = window.canvas, window.canvas.geo
    x = g.header_width + 300
    t = g.time_at(x)
    canvas.zoom(2.0, anchor_x=x)
    assert abs(g.time_at(x) - t) <= 2 * g.samples_per_pixel
    from foley_studio.ui.previews import quantise_spp
    assert g.samples_per_pixel == pytest.approx(quantise_spp(g.samples_per_pixel))


def test_rubber_band_multi_select_then_move_together(qtbot, window):
    _wait_waveforms(qtbot, window)
    doc, canvas, g = window.doc, window.canvas, window.canvas.geo
    start = QPointF(g.x_of(SAMPLE_RATE // 4), g.track_top(0) + 4)
    end = QPointF(g.x_of(int(3.2 * SAMPLE_RATE)), g.track_top(1) + g.track_height - 6)
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 20)
    qtbot.mousePress(canvas, Qt.LeftButton, Qt.ShiftModifier, start.toPoint())
    qtbot.mouseMove(canvas, ((start + end) / 2).toPoint())
    qtbot.mouseMove(canvas, end.toPoint())
    qtbot.mouseRelease(canvas, Qt.LeftButton, Qt.ShiftModifier, end.toPoint())
    assert sorted(doc.selected_clips) == ["clip-a", "clip-b"]
    before = {c: doc.project.find_clip(c).start for c in ("clip-a", "clip-b")}
    rect = canvas.hits.clip_rect(doc.project.find_clip("clip-b"), 1)
    _drag(qtbot, canvas, rect.center(), rect.center() + QPointF(-80, 0))
    moved = {c: doc.project.find_clip(c).start - before[c] for c in before}
    assert moved["clip-a"] == moved["clip-b"] < 0
    assert doc.history.count == 1
    doc.undo()
    assert {c: doc.project.find_clip(c).start for c in before} == before


def test_alt_wheel_sets_clip_and_track_gain(qtbot, window):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent
    canvas, g, doc = window.canvas, window.canvas.geo, window.doc
    rect = canvas.hits.clip_rect(doc.project.find_clip("clip-a"), 0)

    def wheel(pos: QPointF, notches: int) -> None:
        event = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(), QPoint(0, 120 * notches), Qt.NoButton,
                            Qt.AltModifier, Qt.NoScrollPhase, False)
        QApplication.sendEvent(canvas, event)
    wheel(rect.center(), 1)
    wheel(rect.center(), 1)
    assert doc.project.find_clip("clip-a").gain_db == 1.0
    wheel(QPointF(40, g.track_top(1) + 10), -1)
    assert doc.project.tracks[1].gain_db == -0.5
    assert doc.project.find_clip("clip-a").gain_db == 1.0


def test_mute_solo_buttons_are_undoable_edits(qtbot, window):
    canvas, doc = window.canvas, window.doc
    mute = canvas.hits.button_rect(1, 0)
    qtbot.mouseClick(canvas, Qt.LeftButton, pos=mute.center().toPoint())
    assert doc.project.tracks[1].mute and doc.selected_track == doc.project.tracks[1].id
    solo = canvas.hits.button_rect(0, 1)
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 20)
    qtbot.mouseClick(canvas, Qt.LeftButton, pos=solo.center().toPoint())
    assert doc.project.tracks[0].solo
    doc.undo()
    doc.undo()
    assert not doc.project.tracks[1].mute and not doc.project.tracks[0].solo


def test_qt_binding_keeps_none_refcount_when_painting(qtbot):
    """PySide6 6.12.0 decrefs None on every void QPainter call; a few thousand calls abort Python,
    so the editor would die within seconds of playback. Fail loudly if such a binding is installed."""
    import sys
    from PySide6.QtGui import QImage, QPainter
    image = QImage(8, 8, QImage.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    colour = QColor("#3f95bd")
    before = sys.getrefcount(None)
    for _ in range(1000):
        painter.setBrush(colour)
    painter.end()
    assert sys.getrefcount(None) - before > -100, "this PySide6 build corrupts None's refcount (6.12.0?)"


def test_nudge_by_frames_and_rename_marker(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QInputDialog
    doc, canvas = window.doc, window.canvas
    doc.select_clips(["clip-a", "clip-b"])
    starts = {c: doc.project.find_clip(c).start for c in ("clip-a", "clip-b")}
    canvas.nudge_selection(3)                       # 3 frames at 24 fps = 6000 samples
    assert {c: doc.project.find_clip(c).start - starts[c] for c in starts} == {"clip-a": 6000, "clip-b": 6000}
    canvas.nudge_selection(-1000)                   # clamps at time zero, both move together
    assert min(doc.project.find_clip(c).start for c in starts) == 0
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("door slam", True)))
    canvas.commands.rename_marker("marker-1")
    assert [(m.id, m.time, m.name) for m in doc.project.markers] == [("marker-1", SAMPLE_RATE, "door slam")]
    for _ in range(3):
        doc.undo()
    assert {c: doc.project.find_clip(c).start for c in starts} == starts
    assert doc.project.markers[0].name == "hit"
    canvas.set_track_height(500)
    assert canvas.geo.track_height == 240
