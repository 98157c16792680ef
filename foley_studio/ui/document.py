"""The open project as Qt sees it: signals over one `session.EditorSession`.

`ProjectDocument` holds no editing rules and no undo stack of its own: every change goes through
the session (`apply`, gestures, undo/redo on its one `core.edits.History`), and the session's
listeners are re-emitted here as Qt signals so views redraw. Views never mutate the project
themselves.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from foley_studio.core.edits import Edit, History
from foley_studio.core.project import Clip, Project
from foley_studio.session.editor import EditorSession, new_gesture

log = logging.getLogger(__name__)

__all__ = ["ProjectDocument", "new_gesture"]


class ProjectDocument(QObject):
    """The project being edited plus undo history, selection, playhead and file path, as signals."""

    changed = Signal()                 # the project model changed (edit, undo, redo, load)
    selectionChanged = Signal()
    playheadChanged = Signal(int)      # samples
    regionChanged = Signal()
    pathChanged = Signal()
    selectedTrackChanged = Signal()
    historyChanged = Signal()          # undo/redo availability or texts may differ

    def __init__(self, project: Project | None = None, path: str | Path | None = None,
                 parent: QObject | None = None, *, session: EditorSession | None = None):
        super().__init__(parent)
        if session is None:
            if project is None:
                raise ValueError("ProjectDocument needs a project or a session")
            session = EditorSession(project, path, keeps_recovery=True)     # the editor autosaves
        self.session = session
        for kind, signal in (("changed", self.changed), ("selection", self.selectionChanged),
                             ("track", self.selectedTrackChanged), ("playhead", self.playheadChanged),
                             ("region", self.regionChanged), ("path", self.pathChanged)):
            session.listen(kind, signal.emit)
        session.listen("changed", self.historyChanged.emit)
        session.listen("path", self.historyChanged.emit)

    # -- state (the session's) ------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.session.project

    @property
    def path(self) -> Path | None:
        return self.session.path

    @property
    def history(self) -> History:
        return self.session.history

    @property
    def selected_clips(self) -> list[str]:
        return self.session.selected_clips

    @property
    def selected_track(self) -> str | None:
        return self.session.selected_track

    @property
    def playhead(self) -> int:
        return self.session.playhead

    @property
    def region(self) -> tuple[int, int] | None:
        return self.session.region

    @property
    def revision(self) -> int:
        return self.session.revision

    @property
    def is_dirty(self) -> bool:
        return self.session.is_dirty

    @property
    def title(self) -> str:
        return self.session.title

    # -- editing ---------------------------------------------------------------------------------
    def apply(self, edit: Edit, gesture: int | None = None) -> None:
        """Do `edit` as an undoable step; edits sharing a `gesture` token merge into one step."""
        self.session.apply(edit, gesture)

    def begin_gesture(self, text: str) -> int:
        return self.session.begin_gesture(text)

    def commit_gesture(self, token: int) -> None:
        self.session.commit_gesture(token)

    def cancel_gesture(self, token: int) -> None:
        self.session.cancel_gesture(token)

    def undo(self) -> str | None:
        return self.session.undo()

    def redo(self) -> str | None:
        return self.session.redo()

    # -- file ------------------------------------------------------------------------------------
    def mark_changed_outside_history(self) -> None:
        self.session.mark_changed_outside_history()

    def mark_saved(self, path: str | Path) -> None:
        self.session.mark_saved(path)

    def replace_project(self, project: Project, path: str | Path | None) -> None:
        self.session.replace_project(project, path)

    # -- selection, playhead, region ---------------------------------------------------------------
    def select_clips(self, clip_ids: list[str]) -> None:
        self.session.select_clips(clip_ids)

    def select_track(self, track_id: str | None) -> None:
        self.session.select_track(track_id)

    def selected_clip_objects(self) -> list[Clip]:
        return self.session.selected_clip_objects()

    def set_playhead(self, samples: int) -> None:
        self.session.set_playhead(samples)

    def set_region(self, region: tuple[int, int] | None) -> None:
        self.session.set_region(region)
