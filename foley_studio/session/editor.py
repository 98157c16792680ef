"""`EditorSession`: the open project and what editing it means, without Qt.

One session holds the project, its file, the one undo `History`, and the view state the use cases
share (selected clips and track, playhead, region). Every change goes through `apply(edit)`;
gestures (a mouse drag) go through `begin_gesture` / `apply(edit, gesture=token)` /
`commit_gesture` or `cancel_gesture`. The editor's `ui.document.ProjectDocument` turns the
session's listeners into Qt signals; the command line and the tests use the session directly.

Listeners: `listen(kind, callback)` with kind one of `EVENTS`. They run on the thread that made
the change (the GUI thread in the editor), after every piece of state is consistent: a
"changed" listener never sees a selection naming a clip that is gone.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foley_studio.core.edits import Edit, History, new_gesture_token
from foley_studio.core.project import Clip, Project, new_project
from foley_studio.engine.sources import video_ref

from .generation import default_generation_track

log = logging.getLogger(__name__)

# changed: the project (an edit, undo, redo, load); selection: selected clips; track: selected
# track; playhead (called with the sample); region; path: the file or its saved state.
EVENTS = ("changed", "selection", "track", "playhead", "region", "path")
_PROJECT_SERIALS = itertools.count(1)     # shared by every session: a number names one opened project


class EditorSession:
    """The project being edited, its one undo history, selection, playhead, region and file."""

    def __init__(self, project: Project, path: str | Path | None = None, *, keeps_recovery: bool = False):
        # The editor's session autosaves, and its first save supersedes the untitled recovery copy;
        # the command line's leaves alone an untitled copy (of the same name) the editor may hold.
        self.keeps_recovery = keeps_recovery
        self._listeners: dict[str, list[Callable[..., None]]] = {kind: [] for kind in EVENTS}
        self.revision = 0              # bumped on every change of the project; caches key on it
        self._install(project, path)

    @classmethod
    def open(cls, path: str | Path) -> EditorSession:
        """A session on the project file at `path` (raises `ProjectError` for a bad file)."""
        from foley_studio.core.store import load_project
        return cls(load_project(path), path)

    def _install(self, project: Project, path: str | Path | None) -> None:
        self.project = project
        # Which project jobs were asked for: id(project) could be reused by the next one once the old is freed.
        self.project_serial = next(_PROJECT_SERIALS)
        self.path: Path | None = Path(path) if path else None
        self.history = History(project)
        self.history.add_listener(self._on_history)
        self.changed_outside_history = False
        self.selected_clips: list[str] = []
        self.selected_track: str | None = default_generation_track(project)
        self.playhead = 0
        self.region: tuple[int, int] | None = None
        self._was_dirty = False

    # -- listeners ---------------------------------------------------------------------------------
    def listen(self, kind: str, callback: Callable[..., None]) -> None:
        if kind not in self._listeners:
            raise ValueError(f"unknown session event {kind!r}; known: {', '.join(EVENTS)}")
        self._listeners[kind].append(callback)

    def unlisten(self, kind: str, callback: Callable[..., None]) -> None:
        self._listeners[kind].remove(callback)

    def _emit(self, kind: str, *args: Any) -> None:
        for callback in list(self._listeners[kind]):
            callback(*args)

    # -- editing -----------------------------------------------------------------------------------
    def apply(self, edit: Edit, gesture: int | None = None) -> None:
        """Do `edit` as an undoable step; edits under one `gesture` token become one step.

        Outside a gesture every edit is a step of its own: two clicks are two undo steps, in the
        editor and on the command line alike. A `FoleyError` from the edit reaches the caller and
        leaves the project and the history as they were.
        """
        self.history.push(edit, merge=False, gesture=gesture)

    def begin_gesture(self, text: str) -> int:
        """A press: returns the token the gesture's edits are applied with."""
        return self.history.begin_gesture(text)

    def commit_gesture(self, token: int) -> None:
        """The release: the gesture's edits become one undo step (none if nothing was applied)."""
        self.history.commit_gesture(token)

    def cancel_gesture(self, token: int) -> None:
        """Escape: every edit of the gesture is undone and no undo step remains."""
        self.history.cancel_gesture(token)

    def undo(self) -> str | None:
        """Undo one step; returns its text (None when there was nothing to undo)."""
        return self.history.undo() if self.history.can_undo else None

    def redo(self) -> str | None:
        return self.history.redo() if self.history.can_redo else None

    def _on_history(self) -> None:
        self.revision += 1
        # Fix every piece of view state first, then tell: listeners must never see a stale id.
        live = {c.id for t in self.project.tracks for c in t.clips}
        kept = [cid for cid in self.selected_clips if cid in live]
        clips_changed = kept != self.selected_clips
        self.selected_clips = kept
        track_ids = [t.id for t in self.project.tracks]
        track_changed = self.selected_track not in track_ids
        if track_changed:
            self.selected_track = default_generation_track(self.project)
        if clips_changed:
            self._emit("selection")
        if track_changed:
            self._emit("track")
        self._emit("changed")
        self._check_dirty()

    def _check_dirty(self) -> None:
        if self.is_dirty != self._was_dirty:
            self._was_dirty = self.is_dirty
            self._emit("path")

    # -- file --------------------------------------------------------------------------------------
    @property
    def is_dirty(self) -> bool:
        return self.changed_outside_history or self.history.is_dirty

    def mark_changed_outside_history(self) -> None:
        """The project changed in a way undo does not cover (media relinked on open): still unsaved."""
        self.changed_outside_history = True
        self._was_dirty = True
        self._emit("path")

    def mark_saved(self, path: str | Path) -> None:
        self.path = Path(path)
        self.changed_outside_history = False
        self.history.mark_clean()
        self._was_dirty = False
        self._emit("path")

    def save(self, path: str | Path | None = None) -> Path:
        """Write the project (atomically) to `path` or its own file; it is clean afterwards."""
        from foley_studio.core.store import discard_recovery, save_project
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("the project has no file yet; give a path to save it to")
        previous = self.path
        save_project(self.project, target)
        self.mark_saved(target)
        if self.keeps_recovery and previous is None:    # the file's own copy goes with save_project
            discard_recovery(None, self.project.name)    # the untitled copy is superseded by the first save
        return target

    def autosave(self) -> Path | None:
        """A recovery copy of unsaved changes (`core.store.write_recovery`); None when there are none."""
        from foley_studio.core.store import write_recovery
        if not self.is_dirty:
            return None
        return Path(write_recovery(self.project, self.path))

    def replace_project(self, project: Project, path: str | Path | None) -> None:
        """Load another project into this session (clears history and selection)."""
        self._install(project, path)
        self.revision += 1
        self._emit("changed")
        self._emit("selection")
        self._emit("track")
        self._emit("region")
        self._emit("playhead", 0)
        self._emit("path")

    @property
    def title(self) -> str:
        name = self.path.name if self.path else f"{self.project.name} (unsaved)"
        return f"{name}{' *' if self.is_dirty else ''}"

    # -- selection, playhead, region (view state, not undoable) ---------------------------------
    def select_clips(self, clip_ids: list[str]) -> None:
        if clip_ids != self.selected_clips:
            self.selected_clips = list(dict.fromkeys(clip_ids))
            if self.selected_clips:
                try:
                    self.select_track(self.project.track_of_clip(self.selected_clips[-1]).id)
                except KeyError:
                    pass
            self._emit("selection")

    def select_track(self, track_id: str | None) -> None:
        if track_id != self.selected_track:
            self.selected_track = track_id
            self._emit("track")

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
            self._emit("playhead", samples)

    def set_region(self, region: tuple[int, int] | None) -> None:
        if region is not None:
            a, b = sorted((max(0, int(region[0])), max(0, int(region[1]))))
            region = (a, b) if b > a else None
        if region != self.region:
            self.region = region
            self._emit("region")


def new_gesture() -> int:
    """A continuation token: edits applied with it merge into one step while that step is on top."""
    return new_gesture_token()


def project_from_video(path: str | Path, n_tracks: int = 3, name: str | None = None) -> Project:
    """A new project of `n_tracks` empty tracks scored against the video at `path` (File > New from
    video, a video dropped on the editor, `project new`); `MediaError` when it cannot be the picture."""
    return new_project(video_ref(path), n_tracks=n_tracks, name=name or Path(path).stem)
