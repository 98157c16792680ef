"""The editor's use cases headless: `EditorSession` edits, gestures, undo, selection and listeners
behave as the editor shows them, with no Qt loaded."""
from __future__ import annotations

import copy
import subprocess
import sys
from fractions import Fraction

import pytest

from foley_studio.core import edits as E
from foley_studio.core.project import Clip, Marker, Project, Track
from foley_studio.core.store import load_project
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.media.errors import MediaError, NoVideoStreamError
from foley_studio.session import EditorSession
from foley_studio.session.editor import project_from_video
from tests.media_fixtures import make_tone, make_video


def _project() -> Project:
    clips = [Clip(id="a", source="/m/a.wav", start=0, source_in=0, source_out=48_000),
             Clip(id="b", source="/m/b.wav", start=96_000, source_in=0, source_out=48_000)]
    return Project(tracks=[Track(id="t1", name="Steps", clips=clips), Track(id="t2", name="Cloth")],
                   markers=[Marker(id="m", time=1_000, name="hit")])


def _recorder(session: EditorSession) -> list[str]:
    heard: list[str] = []
    for kind in ("changed", "selection", "track", "region", "path"):
        session.listen(kind, lambda kind=kind: heard.append(kind))
    session.listen("playhead", lambda samples: heard.append(f"playhead {samples}"))
    return heard


def test_a_drag_is_one_undo_step_and_escape_leaves_nothing():
    session = EditorSession(_project())
    original = copy.deepcopy(session.project)
    heard = _recorder(session)
    # Press, three moves, release: each move is applied (and heard) at once, one step in the end.
    token = session.begin_gesture("Move clip")
    for start in (10_000, 20_000, 30_000):
        session.apply(E.MoveClip("a", start, new_track_id="t2"), gesture=token)
        assert session.project.find_clip("a").start == start
    session.commit_gesture(token)
    assert heard.count("changed") == 4 and heard.count("path") == 1      # 3 moves + the step; dirty once
    assert session.history.count == 1 and session.is_dirty and session.title.endswith(" *")
    assert session.project.track_of_clip("a").id == "t2"
    # A second drag cancelled with Escape: the project is back where the first drag left it.
    moved = copy.deepcopy(session.project)
    token = session.begin_gesture("Trim clip")
    session.apply(E.TrimClip("b", "right", 120_000), gesture=token)
    session.cancel_gesture(token)
    assert session.project == moved and session.history.count == 1
    assert session.undo() == "Move clip"
    assert session.project == original and not session.is_dirty
    assert session.undo() is None                                          # nothing left: no error


def test_clicks_outside_a_gesture_are_steps_of_their_own():
    """One rule for the editor and the command line: two gain changes are two steps."""
    session = EditorSession(_project())
    session.apply(E.SetClipGain("a", -1.0))
    session.apply(E.SetClipGain("a", -2.0))
    assert session.history.count == 2
    session.undo()
    assert session.project.find_clip("a").gain_db == -1.0


def test_selection_follows_edits_and_listeners_never_see_a_stale_clip():
    session = EditorSession(_project())
    session.select_clips(["b"])
    assert session.selected_track == "t1"
    seen: list[list[str]] = []
    session.listen("changed", lambda: seen.append(
        [c.id for c in session.selected_clip_objects()] + list(session.selected_clips)))
    session.apply(E.RemoveClip("b"))
    assert session.selected_clips == [] and seen == [[]]
    session.apply(E.RemoveTrack("t1"))
    assert session.selected_track == "t2"
    session.set_region((50, 10))
    assert session.region == (10, 50)
    session.set_region((5, 5))
    assert session.region is None
    session.set_playhead(-4)
    assert session.playhead == 0


def test_a_project_file_round_trips_through_the_session(tmp_path):
    path = tmp_path / "p.fsproj"
    session = EditorSession(_project())
    session.apply(E.AddMarker(Marker(id="m2", time=2_000, name="M2")))
    assert session.save(path) == path and not session.is_dirty
    again = EditorSession.open(path)
    assert again.project == session.project and again.path == path and not again.is_dirty
    assert [m.id for m in load_project(path).markers] == ["m", "m2"]




def test_the_editors_first_save_supersedes_its_untitled_copy_and_the_command_lines_leaves_it(tmp_path):
    from foley_studio.core.store import list_recoveries, recovery_path_for
    editor = EditorSession(_project(), keeps_recovery=True)
    assert editor.autosave() is None                                  # clean: nothing to keep
    editor.apply(E.AddMarker(Marker(id="m2", time=2_000, name="M2")))
    untitled = editor.autosave()
    assert untitled == recovery_path_for(None, editor.project.name) and untitled.exists()

    command_line = EditorSession(_project())                          # `project new` of the same name
    command_line.save(tmp_path / "other.fsproj")
    assert untitled.exists(), "the command line must not delete the editor's unsaved work"

    editor.save(tmp_path / "p.fsproj")
    assert not untitled.exists() and list_recoveries() == []
    editor.apply(E.AddMarker(Marker(id="m3", time=3_000, name="M3")))
    assert editor.autosave() == recovery_path_for(tmp_path / "p.fsproj") and len(list_recoveries()) == 1
    editor.save()
    assert list_recoveries() == []                                    # the file's own copy goes with the save


def test_a_new_project_from_a_video_has_its_exact_picture_and_refuses_what_cannot_be_scored(tmp_path):
    """One way a video becomes the picture, for the editor's File > New from video and `project new`."""
    video = make_video(tmp_path / "v.mp4", 1.0, Fraction(30000, 1001), (64, 48), with_audio=False)
    project = project_from_video(video, n_tracks=2)
    ref = project.video
    assert (ref.fps_num, ref.fps_den, ref.width, ref.height) == (30000, 1001, 64, 48)
    assert abs(ref.duration - SAMPLE_RATE) <= SAMPLE_RATE // 20 and ref.path == str(video.resolve())
    assert [t.clips for t in project.tracks] == [[], []] and project.name == "v"
    tiny = make_video(tmp_path / "tiny.mp4", 0.5, 24, (2, 2), with_audio=False, codec="mpeg4")
    with pytest.raises(MediaError, match=r"its picture is 2x2 pixels, smaller than the 16x16"):
        project_from_video(tiny)
    with pytest.raises(NoVideoStreamError, match="has no video stream"):
        project_from_video(make_tone(tmp_path / "a.wav", 0.5))


def test_the_session_loads_no_qt():
    """The session is what the command line runs: importing all of it must not bring Qt in."""
    code = ("import sys, foley_studio.session.editor, foley_studio.session.generation, "
            "foley_studio.session.export, foley_studio.session.playback, foley_studio.session.takes, "
            "foley_studio.session.views; "
            "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'foley_studio.ui'))); "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
