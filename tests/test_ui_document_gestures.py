"""Gesture transactions on `ProjectDocument`: a drag is one undo step, or none when cancelled."""
from __future__ import annotations

import copy

import pytest

from foley_studio.core import edits as E
from foley_studio.core.project import Clip, Marker, Project, Track
from foley_studio.ui.document import ProjectDocument

pytestmark = pytest.mark.gui


def _doc(qtbot) -> ProjectDocument:
    clips = [Clip(id="a", source="/a.wav", start=1_000, source_in=0, source_out=4_000),
             Clip(id="b", source="/b.wav", start=9_000, source_in=0, source_out=2_000)]
    project = Project(tracks=[Track(id="t1", name="one", clips=clips), Track(id="t2", name="two")],
                      markers=[Marker(id="m", time=500, name="hit")])
    return ProjectDocument(project)


def test_edits_of_a_committed_gesture_are_one_undo_step_named_by_the_gesture(qtbot):
    doc = _doc(qtbot)
    original = copy.deepcopy(doc.project)
    seen: list[int] = []
    doc.changed.connect(lambda: seen.append(doc.revision))
    token = doc.begin_gesture("Move 2 clips")
    for dx in (100, 200, 300):
        doc.apply(E.Compound("step", [E.MoveClip("a", 1_000 + dx), E.MoveClip("b", 9_000 + dx)]), gesture=token)
    doc.apply(E.MoveClip("a", 1_400, "t2"), gesture=token)
    assert len(seen) == 4, "views redraw after every step of the drag"
    assert doc.history.count == 0, "nothing is on the stack while the gesture is open"
    doc.commit_gesture(token)
    assert doc.history.count == 1 and doc.history.undo_text == "Move 2 clips"
    assert doc.project.track_of_clip("a").id == "t2" and doc.project.find_clip("b").start == 9_300
    assert doc.is_dirty
    moved = copy.deepcopy(doc.project)
    doc.undo()
    assert doc.project == original
    doc.redo()
    assert doc.project == moved


def test_a_cancelled_gesture_restores_the_project_and_leaves_no_step(qtbot):
    doc = _doc(qtbot)
    doc.apply(E.SetClipGain("a", -3.0))               # an ordinary step before the drag
    before = copy.deepcopy(doc.project)
    token = doc.begin_gesture("Trim clip")
    doc.apply(E.TrimClip("a", "right", 4_000), gesture=token)
    doc.apply(E.TrimClip("a", "right", 3_500), gesture=token)
    doc.apply(E.MoveMarker("m", 2_000), gesture=token)
    assert doc.project != before
    doc.cancel_gesture(token)
    assert doc.project == before
    assert doc.history.count == 1 and doc.history.undo_text == E.SetClipGain("a", -3.0).text
    assert not doc.history.can_redo
    doc.commit_gesture(token)                         # a closed token is a no-op
    assert doc.history.count == 1
    doc.undo()
    assert doc.project.find_clip("a").gain_db == 0.0


def test_a_gesture_that_applied_nothing_adds_no_step_and_leaves_the_document_clean(qtbot):
    doc = _doc(qtbot)
    doc.commit_gesture(doc.begin_gesture("Move clip"))
    doc.cancel_gesture(doc.begin_gesture("Move clip"))
    assert doc.history.count == 0 and not doc.is_dirty


def test_a_failing_edit_inside_a_gesture_raises_and_the_rest_still_cancels(qtbot):
    doc = _doc(qtbot)
    before = copy.deepcopy(doc.project)
    token = doc.begin_gesture("Move clip")
    doc.apply(E.MoveClip("a", 2_000), gesture=token)
    with pytest.raises(E.EditError):
        doc.apply(E.MoveClip("a", 3_000, "no-such-track"), gesture=token)
    assert doc.project.find_clip("a").start == 2_000
    doc.cancel_gesture(token)
    assert doc.project == before and doc.history.count == 0


def test_committing_after_an_undo_drops_the_redo_history(qtbot):
    doc = _doc(qtbot)
    doc.apply(E.MoveClip("b", 10_000))
    doc.undo()
    assert doc.history.can_redo
    token = doc.begin_gesture("Move clip")
    doc.apply(E.MoveClip("a", 5_000), gesture=token)
    doc.commit_gesture(token)
    assert doc.history.count == 1 and not doc.history.can_redo
    assert doc.project.find_clip("b").start == 9_000 and doc.project.find_clip("a").start == 5_000


def test_edits_outside_a_gesture_stay_their_own_steps(qtbot):
    doc = _doc(qtbot)
    token = doc.begin_gesture("Fade")
    doc.apply(E.SetClipFades("a", fade_in=100), gesture=token)
    doc.apply(E.SetClipFades("a", fade_in=300), gesture=token)
    doc.commit_gesture(token)
    doc.apply(E.SetClipFades("a", fade_in=50))
    assert doc.history.count == 2
    doc.undo()
    assert doc.project.find_clip("a").fade_in == 300
    doc.undo()
    assert doc.project.find_clip("a").fade_in == 0
