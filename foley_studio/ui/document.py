"""The open project as the editor sees it: the `core` project, its undo stack, its file and selection.

Every change goes through `ProjectDocument.apply(edit)`, which wraps a `core.edits` edit in a
`EditCommand` (a QUndoCommand) so Ctrl+Z works everywhere. Views listen to `changed` and redraw;
they never mutate the project themselves.
"""
from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from foley_studio.core.project import Clip, Project

log = logging.getLogger(__name__)

_gesture_counter = itertools.count(1)


class Edit(Protocol):
    """What `core.edits` promises (docs/CONTRACTS.md)."""

    text: str

    def do(self, project: Project) -> None: ...
    def undo(self, project: Project) -> None: ...
    def merge_with(self, other: Any) -> bool: ...


def new_gesture() -> int:
    """A token shared by all edits of one mouse drag, so the drag becomes one undo step."""
    return next(_gesture_counter)


class EditCommand(QUndoCommand):
    """A QUndoCommand over a sequence of core edits (usually one; a drag accumulates its steps)."""

    def __init__(self, document: "ProjectDocument", edit: Edit, gesture: int | None = None):
        super().__init__(edit.text)
        self._document = document
        self.edits: list[Edit] = [edit]
        self.gesture = gesture
        self.applied = False      # set when the edit was already done by ProjectDocument.apply

    def redo(self) -> None:
        if self.applied:          # first push: done already, outside Qt, so errors reach the caller
            self.applied = False
            self._document.notify_changed()
            return
        for edit in self.edits:
            edit.do(self._document.project)
        self._document.notify_changed()

    def undo(self) -> None:
        for edit in reversed(self.edits):
            edit.undo(self._document.project)
        self._document.notify_changed()

    def absorb(self, edit: Edit) -> None:
        """Take in a further, already applied step of the same gesture (merging where the edit allows)."""
        if not self.edits[-1].merge_with(edit):
            self.edits.append(edit)


class ProjectDocument(QObject):
    """The project being edited plus undo history, selection, playhead and file path."""

    changed = Signal()                 # the project model changed (edit, undo, redo, load)
    selectionChanged = Signal()
    playheadChanged = Signal(int)      # samples
    regionChanged = Signal()
    pathChanged = Signal()
    selectedTrackChanged = Signal()

    def __init__(self, project: Project, path: str | Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.path: Path | None = Path(path) if path else None
        self.undo_stack = QUndoStack(self)
        self._commands: list[EditCommand] = []
        self.selected_clips: list[str] = []
        self.selected_track: str | None = project.tracks[0].id if project.tracks else None
        self.playhead = 0
        self.region: tuple[int, int] | None = None
        self.revision = 0              # bumped on every change; caches key on it
        self.changed_outside_history = False
        self._open_gestures: dict[int, tuple[str, list[Edit]]] = {}   # token -> (text, edits applied so far)
        # Signal-to-signal: Qt drops the connection when either object dies (a lambda would outlive us).
        self.undo_stack.cleanChanged.connect(self.pathChanged)

    # -- editing -------------------------------------------------------------------------------
    def apply(self, edit: Edit, gesture: int | None = None) -> None:
        """Do `edit` as an undoable step; edits sharing a `gesture` token merge into one step.

        The edit runs here first, so a `FoleyError` it raises reaches the caller and nothing is
        pushed; exceptions must not travel through QUndoStack's C++ frames. A token from
        `begin_gesture` collects the edit for that gesture's one step instead.
        """
        edit.do(self.project)
        if gesture in self._open_gestures:
            applied = self._open_gestures[gesture][1]
            if not (applied and applied[-1].merge_with(edit)):
                applied.append(edit)
            self.notify_changed()
            return
        top = self._top_command()
        if gesture is not None and top is not None and top.gesture == gesture:
            # Merged here rather than through QUndoCommand.mergeWith: Qt deleting a Python-made
            # command inside push() corrupts PySide's reference counts (crash at interpreter exit).
            top.absorb(edit)
            self.notify_changed()
            return
        command = EditCommand(self, edit, gesture)
        self._push_applied(command)

    def _push_applied(self, command: EditCommand) -> None:
        command.applied = True
        self._commands.append(command)        # Python keeps every command alive as long as the stack
        self.undo_stack.push(command)
        if len(self._commands) > self.undo_stack.count():
            # push() dropped the redo history; forget those commands too.
            self._commands = [self.undo_stack.command(i) for i in range(self.undo_stack.count())]

    # -- gestures: a drag is one undo step, or none ------------------------------------------------
    def begin_gesture(self, text: str) -> int:
        """Open a gesture; edits applied with `gesture=` the returned token join its one step."""
        token = new_gesture()
        self._open_gestures[token] = (text, [])
        return token

    def commit_gesture(self, token: int) -> None:
        """Close the gesture: what it applied becomes ONE undo step named by its text (none if nothing)."""
        text, applied = self._open_gestures.pop(token, ("", []))
        if not applied:
            return
        command = EditCommand(self, applied[0], token)
        command.edits = applied
        command.setText(text)
        self._push_applied(command)

    def cancel_gesture(self, token: int) -> None:
        """Undo every edit the gesture applied, newest first; no undo step remains."""
        _text, applied = self._open_gestures.pop(token, ("", []))
        for edit in reversed(applied):
            edit.undo(self.project)
        if applied:
            self.notify_changed()

    def _top_command(self) -> "EditCommand | None":
        index = self.undo_stack.index()
        if index == 0 or index != self.undo_stack.count():
            return None                       # nothing, or redo history above: a new step starts
        command = self.undo_stack.command(index - 1)
        return command if isinstance(command, EditCommand) else None

    def notify_changed(self) -> None:
        self.revision += 1
        # Fix every piece of view state first, then signal: listeners must never see a stale id.
        live = {c.id for t in self.project.tracks for c in t.clips}
        kept = [cid for cid in self.selected_clips if cid in live]
        clips_changed = kept != self.selected_clips
        self.selected_clips = kept
        track_ids = [t.id for t in self.project.tracks]
        track_changed = self.selected_track not in track_ids
        if track_changed:
            self.selected_track = track_ids[0] if track_ids else None
        if clips_changed:
            self.selectionChanged.emit()
        if track_changed:
            self.selectedTrackChanged.emit()
        self.changed.emit()

    @property
    def is_dirty(self) -> bool:
        return self.changed_outside_history or not self.undo_stack.isClean()

    def mark_changed_outside_history(self) -> None:
        """The project changed in a way undo does not cover (media relinked on open): still unsaved."""
        self.changed_outside_history = True
        self.pathChanged.emit()

    def mark_saved(self, path: str | Path) -> None:
        self.path = Path(path)
        self.changed_outside_history = False
        self.undo_stack.setClean()
        self.pathChanged.emit()

    def replace_project(self, project: Project, path: str | Path | None) -> None:
        """Load another project into this document (clears history and selection)."""
        self.project = project
        self.path = Path(path) if path else None
        self.undo_stack.clear()
        self._commands.clear()
        self.changed_outside_history = False
        self.selected_clips = []
        self.selected_track = project.tracks[0].id if project.tracks else None
        self.region = None
        self.playhead = 0
        self.notify_changed()
        self.selectionChanged.emit()
        self.regionChanged.emit()
        self.playheadChanged.emit(0)
        self.pathChanged.emit()

    # -- selection, playhead, region (view state, not undoable) -----------------------------------
    def select_clips(self, clip_ids: list[str]) -> None:
        if clip_ids != self.selected_clips:
            self.selected_clips = list(dict.fromkeys(clip_ids))
            if self.selected_clips:
                try:
                    self.select_track(self.project.track_of_clip(self.selected_clips[-1]).id)
                except KeyError:
                    pass
            self.selectionChanged.emit()

    def select_track(self, track_id: str | None) -> None:
        if track_id != self.selected_track:
            self.selected_track = track_id
            self.selectedTrackChanged.emit()

    def selected_clip_objects(self) -> list[Clip]:
        out = []
        for cid in self.selected_clips:
            try:
                out.append(self.project.find_clip(cid))
            except KeyError:
                pass
        return out

    def set_playhead(self, samples: int) -> None:
        samples = max(0, int(samples))
        if samples != self.playhead:
            self.playhead = samples
            self.playheadChanged.emit(samples)

    def set_region(self, region: tuple[int, int] | None) -> None:
        if region is not None:
            a, b = sorted((max(0, int(region[0])), max(0, int(region[1]))))
            region = (a, b) if b > a else None
        if region != self.region:
            self.region = region
            self.regionChanged.emit()

    @property
    def title(self) -> str:
        name = self.path.name if self.path else f"{self.project.name} (unsaved)"
        return f"{name}{' *' if self.is_dirty else ''}"
