"""What the editor does, Qt-free, so the command line, the tests and the screen run the same code.

- `editor.EditorSession`: the project, its one undo `History` (with gestures), selection,
  playhead, region, file (save, autosave) and listeners; `project_from_video` starts a project.
- `generation.GenerationService`: the one builder of `GenerationRequest`s, the job queue that
  runs them, and the edits that put finished takes into the project.
- `export`: every output of a project with progress (`media.export.export_all` underneath).
- `playback.AudioOutput`: the playback engine (sounddevice), with its threading contract.
- `takes`: where a take goes, how it sounds in context, the audition buffers.
- `views`: display sources the editor's views read from the project (a track's spectrogram).

May import `core`, `media`, `engine` and `library`; nothing below imports it, and Qt never appears here.
"""
from .editor import EVENTS, EditorSession, new_gesture, project_from_video

__all__ = ["EVENTS", "EditorSession", "new_gesture", "project_from_video"]
