"""The editor window: timeline in the centre; picture, library, spectrogram, generate and takes docks.

The window wires views to one `ProjectDocument` and owns the actions (menus, toolbar, shortcuts),
project files (open/save/recent/autosave/recovery/relink) and export. Dock layout is remembered.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QToolBar, QWidget

from foley_studio.core.errors import FoleyError
from foley_studio.core.project import Project, new_project
from foley_studio.session.editor import project_from_video
from foley_studio.session.playback import AudioOutput
from foley_studio.session.transport import next_marker_time

from .about import show_about
from .document import ProjectDocument
from .library_panel import LibraryPanel
from .meter import LevelMeter
from .mime import LIBRARY_MIME, dropped_files, is_video_file
from .playback import PlaybackController
from .previews import ThumbnailCache, WaveformCache
from .settings import editor_settings
from .shortcuts import PLAIN_NAME, show_shortcuts
from .spectrogram_panel import SpectrogramPanel
from .theme import glyph_icon
from .timeline_view import TimelinePanel
from .video_preview import VideoPreview

log = logging.getLogger(__name__)

AUTOSAVE_MS = 60_000
MAX_RECENT = 10
LIBRARY_DOCK_SHARE = 0.2        # of the window's width at first start (each dock keeps its own minimum)
GENERATE_DOCK_SHARE = 0.24      # the generate / takes column
PROJECT_FILTER = "Foley Studio projects (*.fsproj)"
VIDEO_FILTER = "Videos (*.mp4 *.mov *.mkv *.avi *.webm *.m4v);;All files (*)"


settings = editor_settings          # the editor's ini in the data dir (ui.settings)


class MainWindow(QMainWindow):
    """The Foley Studio editor."""

    def __init__(self, project: Project | None = None, path: str | Path | None = None, *,
                 library_index: Any | None = None, audio: bool = True, restore_layout: bool = True):
        super().__init__()
        self.setObjectName("FoleyStudioMainWindow")
        self.resize(1600, 960)
        self.doc = ProjectDocument(project or new_project(), path, self)
        self.waveforms = WaveformCache(self)
        self.thumbnails = ThumbnailCache(parent=self)
        self.timeline = TimelinePanel(self.doc, self.waveforms, self.thumbnails, self)
        self.canvas = self.timeline.canvas
        self.setCentralWidget(self.timeline)
        device = str(settings().value("playback/device", "") or "") or None
        self.playback = PlaybackController(self.doc, parent=self, output_device=device) if audio else None
        self.video = VideoPreview(self.doc, self)
        self.library = LibraryPanel(library_index, self._preview_output() if audio else None, self)
        self.spectrogram = SpectrogramPanel(self.doc, parent=self)
        self.docks: dict[str, QDockWidget] = {}
        self._layout_restored = False
        from .generate_panel import install_generation      # the generate and takes panels and their keys
        self._build_docks()
        self._build_actions()
        self._build_status()
        self.generation = install_generation(self)
        self._autosave = QTimer(self, interval=AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        self.doc.pathChanged.connect(self._update_title)
        self.doc.changed.connect(self._update_title)
        self.canvas.statusMessage.connect(self.show_message)
        self.canvas.seekRequested.connect(self._on_seek_requested)
        self.library.statusMessage.connect(self.show_message)
        if self.playback is not None:
            self.playback.statusMessage.connect(self.show_message)
            self.playback.playingChanged.connect(self._on_playing)
            # One output stream at a time: the timeline and the library preview stop each other.
            self.library.previewStarted.connect(self.playback.stop)
            self.playback.playingChanged.connect(lambda playing: playing and self.library.stop_preview())
        self.setAcceptDrops(True)         # a video dragged in from the file manager (tracks take sounds)
        self._update_title()
        if restore_layout:
            self._restore_layout()
        QTimer.singleShot(0, self.canvas.zoom_fit)

    # -- construction -----------------------------------------------------------------------------
    def _preview_output(self) -> AudioOutput | None:
        try:
            AudioOutput.probe()
        except Exception:
            return None
        output = AudioOutput(lambda _p, a, b: [])
        output.output_device = str(settings().value("playback/device", "") or "") or None
        return output

    def _dock(self, key: str, title: str, widget: QWidget | None, area: Qt.DockWidgetArea) -> QDockWidget:
        """A dock; the generate and takes docks get their panels from `install_generation`."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}Dock")              # saveState() needs stable names
        if widget is not None:
            dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                         | QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _build_docks(self) -> None:
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
        self.setCorner(Qt.TopLeftCorner, Qt.LeftDockWidgetArea)
        self.setCorner(Qt.TopRightCorner, Qt.RightDockWidgetArea)
        library = self._dock("library", "Library", self.library, Qt.LeftDockWidgetArea)
        video = self._dock("video", "Picture", self.video, Qt.TopDockWidgetArea)
        spectrum = self._dock("spectrogram", "Spectrogram", self.spectrogram, Qt.TopDockWidgetArea)
        self.splitDockWidget(video, spectrum, Qt.Horizontal)
        generate = self._dock("generate", "Generate", None, Qt.RightDockWidgetArea)
        takes = self._dock("takes", "Takes", None, Qt.RightDockWidgetArea)
        self.tabifyDockWidget(generate, takes)
        generate.raise_()
        self._default_dock_sizes()

    def _default_dock_sizes(self) -> None:
        d = self.docks
        # Shares of the window, the timeline keeping the most; at 1600 px the takes rows fit the right column.
        self.resizeDocks([d["library"]], [int(LIBRARY_DOCK_SHARE * self.width())], Qt.Horizontal)
        self.resizeDocks([d["generate"]], [int(GENERATE_DOCK_SHARE * self.width())], Qt.Horizontal)
        # The picture row takes a third of a laptop screen at most: the tracks need the height more.
        self.resizeDocks([d["video"]], [min(330, int(0.34 * self.height()))], Qt.Vertical)
        self.resizeDocks([d["video"], d["spectrogram"]], [560, 560], Qt.Horizontal)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_shown_once", False):
            self._shown_once = True
            if not self._layout_restored:      # sizes given before the window had its own are not kept
                self._default_dock_sizes()

    def set_dock_widget(self, key: str, widget: QWidget) -> None:
        """Put a panel into one of the window's docks (the generate and takes panels)."""
        self.docks[key].setWidget(widget)

    def _action(self, menu, text: str, slot: Callable, shortcut: str | QKeySequence | None = None, *,
                checkable: bool = False, checked: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setProperty(PLAIN_NAME, text)       # its name in the shortcut table, whatever it reads later
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.WindowShortcut)
        if checkable:
            action.setCheckable(True)
            action.setChecked(checked)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
        if tip:
            action.setStatusTip(tip)
        menu.addAction(action)
        self.addAction(action)      # shortcuts work even with the menu bar hidden
        return action

    def _build_actions(self) -> None:
        c = self.canvas
        bar = self.menuBar()
        f = bar.addMenu("&File")
        self._action(f, "New from video…", self.new_from_video, "Ctrl+N")
        self._action(f, "Open…", self.open_dialog, QKeySequence.Open)
        self.recent_menu = f.addMenu("Open recent")
        self._fill_recent()
        f.addSeparator()
        self._action(f, "Save", self.save, QKeySequence.Save)
        self._action(f, "Save as…", self.save_as, "Ctrl+Shift+S")
        f.addSeparator()
        self._action(f, "Export…", self.export_dialog, "Ctrl+E")
        self._action(f, "Add library folder…", self.library.add_folder_dialog,
                     tip="Add a folder of sounds to the library and index it (progress in the Library panel)")
        f.addSeparator()
        self._action(f, "Quit", self.close, QKeySequence.Quit)

        e = bar.addMenu("&Edit")
        self.undo_action = self._action(e, "Undo", self.doc.undo, "Ctrl+Z")
        self.redo_action = self._action(e, "Redo", self.doc.redo)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.doc.historyChanged.connect(self._update_undo_actions)
        self._update_undo_actions()
        e.addSeparator()
        self._action(e, "Split at playhead", c.split_at_playhead, "S")
        self._action(e, "Delete", c.delete_selection, QKeySequence.Delete)
        self._action(e, "Delete (Backspace)", c.delete_selection, "Backspace").setVisible(False)
        self._action(e, "Ripple delete", c.ripple_delete, "Shift+Delete",
                     tip="Remove the selected clips' time (or the region on the selected track) and close the gap")
        self._action(e, "Crossfade overlap", c.crossfade_overlap, "X",
                     tip="Fade overlapping clips over exactly their overlap (equal power)")
        self._action(e, "Clip gain…", c.edit_gain, "Shift+G")     # G opens the generate panel
        self._action(e, "Select all clips", c.select_all, QKeySequence.SelectAll)
        e.addSeparator()
        self._action(e, "Add marker", c.add_marker, "M")
        self._action(e, "Set in point", c.set_in, "I")
        self._action(e, "Set out point", c.set_out, "O")
        self._action(e, "Nudge clips left a frame", lambda: c.nudge_selection(-1), "Alt+Left")
        self._action(e, "Nudge clips right a frame", lambda: c.nudge_selection(1), "Alt+Right")
        self._action(e, "Clear selection region", lambda: self.doc.set_region(None), "Escape")
        e.addSeparator()
        self._action(e, "Add track", c.add_track, "Ctrl+T")
        self._action(e, "Remove selected track", c.remove_selected_track)
        self._action(e, "Move track up", lambda: c.move_selected_track(-1), "Alt+Up")
        self._action(e, "Move track down", lambda: c.move_selected_track(1), "Alt+Down")
        self.stereo_action = self._action(e, "Stereo mix bus", self._set_stereo, checkable=True,
                                          checked=self.doc.project.mix_channels == 2,
                                          tip="Mix in stereo with each track panned (off: a mono mix, pan ignored)")
        self.doc.changed.connect(self._sync_stereo_action)
        e.addSeparator()
        self._action(e, "Preferences…", self.preferences, QKeySequence.Preferences)

        v = bar.addMenu("&View")
        self._action(v, "Zoom in", lambda: c.zoom(2 ** 0.5), "=")
        self._action(v, "Zoom in (+)", lambda: c.zoom(2 ** 0.5), "+").setVisible(False)
        self._action(v, "Zoom out", lambda: c.zoom(2 ** -0.5), "-")
        self._action(v, "Zoom to selection", c.zoom_selection, "Z")
        self._action(v, "Zoom to fit", c.zoom_fit, "Shift+Z")
        self._action(v, "Taller tracks", lambda: c.set_track_height(int(c.geo.track_height * 1.25)), "Ctrl+Alt+=")
        self._action(v, "Shorter tracks", lambda: c.set_track_height(int(c.geo.track_height / 1.25)), "Ctrl+Alt+-")
        v.addSeparator()
        self.snap_action = self._action(v, "Snap", self._set_snap, "N", checkable=True, checked=True,
                                        tip="Snap to frames, clip edges, playhead and markers")
        self._action(v, "Follow playhead", self._set_follow, checkable=True, checked=True)
        v.addAction(self.spectrogram.log_action)          # "Log frequency": the spectrogram's own toggle
        v.addSeparator()
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())
        self._action(v, "Reset layout", self.reset_layout)

        t = bar.addMenu("&Transport")
        self.play_action = self._action(t, "Play / stop", self.toggle_play, "Space")
        self.play_action.setText("Play")                 # what pressing it does now ("Stop" while playing)
        for text, direction, key in (("Shuttle back (again: 2×, 4×, 8×)", -1, "J"),
                                     ("Stop (K)", 0, "K"),
                                     ("Shuttle forward (again: 2×, 4×, 8×)", 1, "L")):
            shuttle = self._action(t, text, lambda d=direction: self._shuttle(d), key)
            shuttle.setAutoRepeat(False)      # a held key is one press, not a restart every 30 ms
        self.loop_action = self._action(t, "Loop selection", self._set_loop, "Ctrl+L", checkable=True)
        self._action(t, "Go to start", lambda: self.seek(0), "Home")
        self._action(t, "Go to end", lambda: self.seek(self.doc.project.duration), "End")
        self._action(t, "Next marker", lambda: self.go_to_marker(1), "Shift+M")
        self._action(t, "Previous marker", lambda: self.go_to_marker(-1), "Ctrl+Shift+M")
        t.addSeparator()
        scrubbing = bool(settings().value("playback/scrubbing", True, type=bool))
        self.scrub_action = self._action(t, "Audio scrubbing", self._set_scrubbing, checkable=True, checked=scrubbing,
                                         tip="Moving the playhead while stopped plays a short grain of the mix")
        if self.playback is not None:
            self.playback.set_scrubbing(scrubbing)

        self.help_menu = h = bar.addMenu("&Help")
        self._action(h, "Keyboard shortcuts…", lambda: show_shortcuts(self), "Ctrl+/")
        self._action(h, "About Foley Studio", lambda: show_about(self))

        tools = QToolBar("Transport", self)
        tools.setObjectName("mainToolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.addToolBar(tools)
        for action, glyph in ((self.undo_action, "↶"), (self.redo_action, "↷"), (self.play_action, "▶"),
                              (self.loop_action, "⟲")):
            action.setIcon(glyph_icon(glyph))
        for action in (self.undo_action, self.redo_action):
            tools.addAction(action)
        tools.addSeparator()
        tools.addAction(self.play_action)
        tools.addAction(self.loop_action)
        self.meter = LevelMeter(self._heard_levels if self.playback is not None else None, tools,
                                channels=2, show_loudness=True)
        self.meter.levelsRead.connect(self.canvas.track_controls.show_levels)
        tools.addWidget(self.meter)
        tools.addSeparator()
        tools.addAction(self.snap_action)
        tools.addSeparator()
        for text, slot in (("Split", c.split_at_playhead), ("Marker", c.add_marker),
                           ("Zoom fit", c.zoom_fit), ("Export", self.export_dialog)):
            tools.addAction(text, slot)
        self._steady_toolbar(tools)

    def _steady_toolbar(self, tools: QToolBar) -> None:
        """Buttons whose text changes must not move the others: Undo/Redo show their icon only (the
        step's name is in the tooltip and the Edit menu), Play/Stop keeps the width of its wider text."""
        for action in (self.undo_action, self.redo_action):
            tools.widgetForAction(action).setToolButtonStyle(Qt.ToolButtonIconOnly)
        play, shown = tools.widgetForAction(self.play_action), self.play_action.text()
        widths = []
        for text in ("Play", "Stop"):
            self.play_action.setText(text)
            widths.append(play.sizeHint().width())
        self.play_action.setText(shown)
        play.setFixedWidth(max(widths))

    def _heard_levels(self) -> Any:
        """What the master and track meters show: the transport, else a take being auditioned."""
        levels = self.playback.levels() if self.playback is not None else None
        generation = getattr(self, "generation", None)
        if levels is None and generation is not None:
            levels = generation.takes.auditioner.levels()
        return levels

    def _set_stereo(self, on: bool) -> None:
        from foley_studio.core.edits import SetMixChannels
        if (self.doc.project.mix_channels == 2) != on:
            self.doc.apply(SetMixChannels(2 if on else 1))

    def _sync_stereo_action(self) -> None:
        self.stereo_action.blockSignals(True)
        self.stereo_action.setChecked(self.doc.project.mix_channels == 2)
        self.stereo_action.blockSignals(False)

    def preferences(self) -> None:
        from .preferences import choose_output_device
        current = str(settings().value("playback/device", "") or "") or None
        choose_output_device(self, AudioOutput.devices(), current, self.set_output_device)

    def set_output_device(self, name: str | None) -> None:
        """Play through `name` from now on (remembered); None is the system default."""
        settings().setValue("playback/device", name or "")
        if self.playback is not None:
            self.playback.set_output_device(name)
        generation = getattr(self, "generation", None)
        if generation is not None:
            generation.takes.auditioner.output_device = name
        if self.library.player is not None:
            self.library.player.output_device = name
        self.show_message(f"Output device: {name or 'system default'} (from the next play)")

    def _update_undo_actions(self) -> None:
        history = self.doc.history
        for action, verb, able, text in ((self.undo_action, "Undo", history.can_undo, history.undo_text),
                                         (self.redo_action, "Redo", history.can_redo, history.redo_text)):
            action.setEnabled(able)
            action.setText(f"{verb} {text}" if able and text else verb)
            keys = action.shortcut().toString(QKeySequence.NativeText)
            action.setToolTip(f"{action.text()} ({keys})" if keys else action.text())

    def _build_status(self) -> None:
        status = self.statusBar()
        self.audio_label = QLabel(self)
        self.zoom_label = QLabel(self)
        status.addPermanentWidget(self.zoom_label)
        status.addPermanentWidget(self.audio_label)
        if self.playback is None:
            self.audio_label.setText("Audio: off")
        elif self.playback.available:
            self.audio_label.setText(f"Audio: {self.playback.device_name}")
        else:
            self.audio_label.setText("Audio: no output device")
            self.show_message(f"Playback unavailable: {self.playback.unavailable_reason}", 0)
        self.canvas.zoomChanged.connect(self._update_zoom_label)

    def _update_zoom_label(self) -> None:
        pps = self.canvas.geo.pixels_per_second
        self.zoom_label.setText(f"{pps:.3g} px/s")

    # -- status, title, layout -----------------------------------------------------------------------
    def show_message(self, text: str, timeout_ms: int = 8000) -> None:
        log.info("%s", text)
        self.statusBar().showMessage(text, timeout_ms)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.doc.title} — Foley Studio")

    def _restore_layout(self) -> None:
        s = settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self._layout_restored = self.restoreState(state)

    def save_layout(self) -> None:
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.sync()

    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        s = settings()
        s.remove("window/state")
        self._build_docks_positions()
        self._default_dock_sizes()

    def _build_docks_positions(self) -> None:
        d = self.docks
        self.addDockWidget(Qt.LeftDockWidgetArea, d["library"])
        self.addDockWidget(Qt.TopDockWidgetArea, d["video"])
        self.splitDockWidget(d["video"], d["spectrogram"], Qt.Horizontal)
        self.addDockWidget(Qt.RightDockWidgetArea, d["generate"])
        self.tabifyDockWidget(d["generate"], d["takes"])

    def _set_snap(self, on: bool) -> None:
        self.canvas.snapping = on
        self.show_message(f"Snapping {'on' if on else 'off'}", 2000)

    def _set_follow(self, on: bool) -> None:
        self.canvas.follow_playhead = on

    # -- transport ----------------------------------------------------------------------------------
    def seek(self, samples: int) -> None:
        """Home/End and other jumps: while playing, a seek inside the open stream (no restart)."""
        self.doc.set_playhead(samples)
        if self.playback is not None and self.playback.playing:
            self.playback.seek(samples)

    def toggle_play(self) -> None:
        if self.playback is None:
            self.show_message("Playback is off in this session")
            return
        self.playback.toggle()

    def go_to_marker(self, direction: int) -> bool:
        """Move the playhead to the next (+1) or previous (-1) marker; False when there is none."""
        time_ = next_marker_time((m.time for m in self.doc.project.markers), self.doc.playhead, direction)
        if time_ is None:
            self.show_message(f"No marker {'after' if direction > 0 else 'before'} the playhead", 2000)
            return False
        self.seek(time_)
        return True

    def _shuttle(self, direction: int) -> None:
        if self.playback is not None:
            self.playback.shuttle(direction)

    def _set_loop(self, on: bool) -> None:
        if self.playback is not None:
            self.playback.loop_enabled = on
            if self.playback.playing:
                self.playback.play()

    def _on_seek_requested(self, samples: int) -> None:
        """The timeline moved the playhead by hand: playback follows it, or a scrub grain is heard.

        While playing this is a seek inside the open stream (no copy of the project, no new stream),
        so dragging the playhead during playback stays light; rapid seeks collapse to the latest."""
        if self.playback is None:
            return
        if self.playback.playing:
            self.playback.seek(samples)
        else:
            self.playback.scrub(samples)

    def _set_scrubbing(self, on: bool) -> None:
        if self.playback is not None:
            self.playback.set_scrubbing(on)
        settings().setValue("playback/scrubbing", bool(on))

    def _on_playing(self, playing: bool) -> None:
        self.play_action.setText("Stop" if playing else "Play")
        self.play_action.setIcon(glyph_icon("■" if playing else "▶"))

    # -- drops from the file manager ------------------------------------------------------------------
    def _dropped_video(self, event) -> Path | None:
        """The one video file a drag carries (sounds are the timeline's; library drags are not files here)."""
        mime = event.mimeData()
        if mime.hasFormat(LIBRARY_MIME):
            return None
        paths = dropped_files(mime)
        return paths[0] if len(paths) == 1 and is_video_file(paths[0]) else None

    def dragEnterEvent(self, event) -> None:
        if self._dropped_video(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent      # the same answer wherever the drag is over the window

    def dropEvent(self, event) -> None:
        video = self._dropped_video(event)
        if video is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # Answer the drop first: a question box inside the drop handler would hold the file manager's drag.
        QTimer.singleShot(0, lambda: self.open_dropped_video(video))

    def open_dropped_video(self, path: str | Path) -> bool:
        """A video dropped on the window: offer a new project scored against it (File > New from video).

        With FOLEY_STUDIO_NO_PROMPTS=1 nothing asks: the project is replaced and errors go to the status bar."""
        path = Path(path)
        prompts = os.environ.get("FOLEY_STUDIO_NO_PROMPTS") != "1"
        try:
            project = project_from_video(path)
        except FoleyError as exc:
            self.show_message(f"Cannot use {path.name} as the picture: {exc}", 0)
            if prompts:
                QMessageBox.critical(self, "Cannot use this video", str(exc))
            return False
        if prompts:
            answer = QMessageBox.question(self, "Open video", f"Start a new project scored against {path.name}?",
                                          QMessageBox.Open | QMessageBox.Cancel, QMessageBox.Open)
            if answer != QMessageBox.Open or not self.confirm_discard():
                return False
        self._install(project, None)
        settings().setValue("paths/last_dir", str(path.parent))
        self.show_message(f"New project scored against {path.name}")
        return True

    # -- projects ---------------------------------------------------------------------------------------
    def ask_open_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", str(self._last_dir()), PROJECT_FILTER)
        return path or None

    def ask_save_path(self) -> str | None:
        default = self.doc.path or self._last_dir() / f"{self.doc.project.name}.fsproj"
        path, _ = QFileDialog.getSaveFileName(self, "Save project as", str(default), PROJECT_FILTER)
        if path and not path.endswith(".fsproj"):
            path += ".fsproj"
        return path or None

    def ask_relink(self, missing: str) -> str | None:
        """Ask where a missing media file went (tests replace this)."""
        QMessageBox.warning(self, "Missing media",
                            f"This project uses a file that is not where it was:\n\n{missing}\n\n"
                            "Choose its new location, or cancel to keep the project without it.")
        path, _ = QFileDialog.getOpenFileName(self, f"Relink {Path(missing).name}", str(Path(missing).parent))
        return path or None

    def _last_dir(self) -> Path:
        return Path(str(settings().value("paths/last_dir", str(Path.home()))))

    def open_dialog(self) -> None:
        if self.confirm_discard() and (path := self.ask_open_path()):
            self.open_project(path)

    def open_project(self, path: str | Path) -> bool:
        from foley_studio.core import store
        try:
            project = store.load_project(path)
        except FoleyError as exc:
            self.show_message(str(exc), 0)
            QMessageBox.critical(self, "Cannot open project", str(exc))
            return False
        relinked = self.relink_missing(project)
        self._install(project, path)
        if relinked:
            self.doc.mark_changed_outside_history()     # new media paths are worth saving
        self._add_recent(str(path))
        self.show_message(f"Opened {path}")
        return True

    def relink_missing(self, project: Project) -> list[tuple[str, str]]:
        """Ask for every missing media file; relinks what the user finds. Returns (old, new) pairs."""
        from foley_studio.core import store
        done = []
        for missing in store.find_missing_media(project):
            new = self.ask_relink(missing)
            if new:
                store.relink(project, missing, new)
                self.waveforms.forget(missing)
                done.append((missing, new))
        still = store.find_missing_media(project)
        if still:
            self.show_message(f"{len(still)} media file(s) still missing: {', '.join(Path(p).name for p in still)}", 0)
        return done

    def _install(self, project: Project, path: str | Path | None) -> None:
        if self.playback is not None:
            self.playback.stop()
        self.doc.replace_project(project, path)
        self.canvas.zoom_fit()

    def new_from_video(self, video_path: str | None = None) -> None:
        if not self.confirm_discard():
            return
        if video_path is None:
            video_path, _ = QFileDialog.getOpenFileName(self, "New project from video", str(self._last_dir()),
                                                        VIDEO_FILTER)
            if not video_path:
                return
        try:
            project = project_from_video(video_path)
        except FoleyError as exc:
            QMessageBox.critical(self, "Cannot use this video", str(exc))
            return
        self._install(project, None)

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        return self._save_to(self.doc.path)

    def save_as(self) -> bool:
        path = self.ask_save_path()
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            self.doc.session.save(path)         # atomic; supersedes the autosave copies
        except (FoleyError, OSError) as exc:
            QMessageBox.critical(self, "Cannot save", str(exc))
            return False
        self._add_recent(str(path))
        settings().setValue("paths/last_dir", str(Path(path).parent))
        self.show_message(f"Saved {path}")
        return True

    def confirm_discard(self) -> bool:
        if not self.doc.is_dirty:
            return True
        answer = QMessageBox.question(self, "Unsaved changes", f"Save changes to {self.doc.title.rstrip(' *')}?",
                                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def autosave(self) -> Path | None:
        """Write a recovery copy when there are unsaved changes (every minute)."""
        try:
            return self.doc.session.autosave()
        except (FoleyError, OSError) as exc:
            self.show_message(f"Autosave failed: {exc}")
            return None

    def recent_files(self) -> list[str]:
        value = settings().value("recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if p]

    def _add_recent(self, path: str) -> None:
        items = [path] + [p for p in self.recent_files() if p != path]
        s = settings()
        s.setValue("recent", items[:MAX_RECENT])
        s.sync()
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.confirm_discard() and self.open_project(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    # -- export -------------------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        from .export_dialog import ExportDialog
        ExportDialog(self.doc.project, self.doc.path, self).exec()

    # -- shutdown ----------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if os.environ.get("FOLEY_STUDIO_NO_PROMPTS") != "1" and not self.confirm_discard():
            event.ignore()
            return
        self.save_layout()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop playback and every worker (idempotent; called on close and by tests)."""
        if getattr(self, "_shut_down", False):
            return
        self._shut_down = True
        self._autosave.stop()
        self.generation.shutdown()
        if self.playback is not None:
            self.playback.shutdown()
        self.meter.shutdown()
        self.library.shutdown()
        self.thumbnails.shutdown()
        self.video.shutdown()
        self.waveforms.shutdown()
        self.spectrogram.shutdown()


def wait_for_first_paint(window: MainWindow, timeout_s: float = 10.0) -> float:
    """Seconds until the timeline has painted once (start-up benchmark)."""
    from PySide6.QtWidgets import QApplication
    t0 = time.perf_counter()
    while window.canvas._last_paint_ms == 0.0 and time.perf_counter() - t0 < timeout_s:
        QApplication.processEvents()
    return time.perf_counter() - t0
