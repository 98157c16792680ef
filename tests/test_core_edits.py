"""Reversible edits and the undo history: values after do, exact restoration after undo, merging,
transactions, validation before mutation, and a property test over random edit sequences."""
from __future__ import annotations

import copy
import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from foley_studio.core import edits as E
from foley_studio.core.errors import ProjectError
from foley_studio.core.project import Clip, Marker, Project, Take, Track


def _clip(cid: str, start: int, length: int, source_in: int = 0, **kw) -> Clip:
    return Clip(id=cid, source=f"/media/{cid}.wav", start=start, source_in=source_in,
                source_out=source_in + length, **kw)


def _project() -> Project:
    a = Track(id="ta", name="Steps", clips=[
        _clip("c1", 0, 48_000, source_in=1_000, source_length=100_000, fade_in=100, fade_out=200, name="step"),
        _clip("c2", 60_000, 24_000),
    ])
    b = Track(id="tb", name="Cloth", clips=[_clip("c3", 10_000, 30_000, gain_db=-3.0)])
    take = Take(id="k1", path="/proj/takes/k1.wav", region_start=20_000, region_end=80_000,
                settings={"seed": 7, "prompt": "gravel"}, label="gravel #7")
    return Project(tracks=[a, b], takes=[take], markers=[Marker(id="m1", time=5_000, name="hit")])


def _apply(project: Project, edit: E.Edit) -> Project:
    """Do `edit`, check undo restores the project exactly and redo returns to the done state."""
    before = copy.deepcopy(project)
    edit.do(project)
    after = copy.deepcopy(project)
    edit.undo(project)
    assert project == before
    edit.do(project)
    assert project == after
    return project


# ---- single edits ------------------------------------------------------------------------------

def test_remove_clip_undo_reinserts_at_its_index():
    p = _project()
    _apply(p, E.RemoveClip("c1"))
    assert [c.id for c in p.track("ta").clips] == ["c2"]
    h = E.History(p)
    h.push(E.RemoveClip("c2"))
    h.undo()
    assert [c.id for c in p.track("ta").clips] == ["c2"]
    h2 = E.History(q := _project())
    h2.push(E.RemoveClip("c1"))
    h2.undo()
    assert [c.id for c in q.track("ta").clips] == ["c1", "c2"]


def test_move_clip_to_another_track_and_back_on_undo():
    p = _project()
    edit = E.MoveClip("c1", 5_000, new_track_id="tb")
    _apply(p, edit)
    assert [c.id for c in p.track("tb").clips] == ["c3", "c1"]
    assert p.find_clip("c1").start == 5_000
    edit.undo(p)
    assert [c.id for c in p.track("ta").clips] == ["c1", "c2"] and p.find_clip("c1").start == 0


def test_trim_left_keeps_audio_in_place_and_respects_the_source():
    p = _project()
    _apply(p, E.TrimClip("c1", "left", 500))
    c1 = p.find_clip("c1")
    assert (c1.start, c1.source_in, c1.source_out, c1.end) == (500, 1_500, 49_000, 48_000)
    with pytest.raises(E.EditError, match=r"only 0 samples before the clip \(earliest start 60000\)"):
        E.TrimClip("c2", "left", 59_999).do(p)   # one sample before the source's first sample


def test_trim_right_past_source_end_is_refused_without_change():
    p = _project()
    before = copy.deepcopy(p)
    with pytest.raises(E.EditError, match="latest end 99000"):
        E.TrimClip("c1", "right", 99_001).do(p)
    assert p == before
    _apply(p, E.TrimClip("c1", "right", 99_000))
    assert p.find_clip("c1").source_out == 100_000


def test_trim_shorter_than_fades_clamps_them():
    p = _project()
    E.TrimClip("c1", "right", 250).do(p)
    c1 = p.find_clip("c1")
    assert (c1.length, c1.fade_in, c1.fade_out) == (250, 100, 150)


@pytest.mark.parametrize("edge, time", [("left", 48_000), ("right", 0), ("middle", 10)])
def test_trim_to_empty_or_bad_edge_is_refused(edge, time):
    with pytest.raises(E.EditError):
        E.TrimClip("c1", edge, time).do(_project())


def test_split_clip_divides_source_and_fades():
    p = _project()
    edit = E.SplitClip("c1", 20_000, new_clip_id="c1b")
    _apply(p, edit)
    left, right = p.track("ta").clips[:2]
    assert (left.id, left.source_in, left.source_out, left.fade_in, left.fade_out) == ("c1", 1_000, 21_000, 100, 0)
    assert (right.id, right.start, right.source_in, right.source_out, right.fade_in, right.fade_out) == \
        ("c1b", 20_000, 21_000, 49_000, 0, 200)
    assert right.name == "step" and right.source_length == 100_000


@pytest.mark.parametrize("at", [0, 48_000, 70_000, -5])
def test_split_outside_the_clip_is_refused(at):
    p = _project()
    before = copy.deepcopy(p)
    with pytest.raises(E.EditError):
        E.SplitClip("c1", at).do(p)
    assert p == before


def test_split_redo_recreates_the_same_clip_id():
    p = _project()
    h = E.History(p)
    h.push(E.SplitClip("c3", 20_000))
    new_id = p.track("tb").clips[1].id
    h.undo()
    h.redo()
    assert p.track("tb").clips[1].id == new_id


@pytest.mark.parametrize("edit", [
    E.RemoveClip("nope"), E.MoveClip("nope", 0), E.MoveClip("c1", -1), E.MoveClip("c1", 0, "no-track"),
    E.SetClipGain("c1", float("nan")), E.SetClipFades("c1", fade_in=40_000, fade_out=9_000),
    E.SetClipFades("c1", fade_in=-1), E.RemoveTrack("nope"), E.SetTrackProps("ta", pan=1.5),
    E.SetTrackProps("ta", volume=0.5),
    E.SetTrackProps("ta", mute="yes"), E.MoveMarker("m1", -10), E.RemoveMarker("nope"), E.RemoveTake("nope"),
    E.SetTakeKept("k1", 1), E.AddClip("ta", _clip("c2", 0, 10)), E.AddClip("ta", _clip("new", -5, 10)),
    E.AddClip("ta", _clip("new", 0, 10), index=9), E.AddTrack(Track(id="ta", name="dup")),
    E.AddMarker(Marker(id="m1", time=0)), E.AddTake(Take(id="k2", path="x", region_start=5, region_end=5)),
    E.ApplyTake("k1", "ta", 10_000, 30_000), E.ApplyTake("k1", "ta", 30_000, 30_000),
    E.ApplyTake("nope", "ta", 30_000, 40_000), E.ApplyTake("k1", "nope", 30_000, 40_000),
])
def test_impossible_edits_raise_project_errors_before_mutating(edit):
    p = _project()
    before = copy.deepcopy(p)
    with pytest.raises(ProjectError) as info:
        edit.do(p)
    assert p == before
    assert str(info.value)   # a message, not a bare KeyError


def test_error_messages_name_the_thing_and_the_limit():
    p = _project()
    with pytest.raises(E.EditError, match=r"no clip with id 'zz'"):
        E.SetClipGain("zz", 1.0).do(p)
    with pytest.raises(E.EditError, match=r"'step' at 50000: .* inside the clip \(0 to 48000\)"):
        E.SplitClip("c1", 50_000).do(p)
    with pytest.raises(E.EditError, match="known: name, gain_db, mute, solo"):
        E.SetTrackProps("ta", volume=3).do(p)


def test_property_edits_set_values():
    p = _project()
    _apply(p, E.SetClipGain("c2", -6.5))
    _apply(p, E.SetClipFades("c2", fade_out=1_000))
    _apply(p, E.SetTrackProps("tb", mute=True, name="Cloth 2"))
    _apply(p, E.MoveMarker("m1", 9_000))
    _apply(p, E.SetTakeKept("k1", False))
    assert p.find_clip("c2").gain_db == -6.5 and p.find_clip("c2").fade_out == 1_000
    assert p.track("tb").mute is True and p.track("tb").name == "Cloth 2"
    assert p.markers[0].time == 9_000 and p.takes[0].kept is False


def test_track_marker_take_add_remove_keep_positions():
    p = _project()
    _apply(p, E.AddTrack(Track(id="tc", name="Props"), index=1))
    assert [t.id for t in p.tracks] == ["ta", "tc", "tb"]
    _apply(p, E.RemoveTrack("ta"))
    assert [t.id for t in p.tracks] == ["tc", "tb"]
    _apply(p, E.AddMarker(Marker(id="m2", time=1)))
    _apply(p, E.RemoveMarker("m1"))
    _apply(p, E.AddTake(Take(id="k2", path="/t.wav", region_start=0, region_end=10)))
    _apply(p, E.RemoveTake("k1"))
    assert [m.id for m in p.markers] == ["m2"] and [t.id for t in p.takes] == ["k2"]


# ---- apply take -------------------------------------------------------------------------------

def test_apply_take_hard_cut_clears_region_trims_and_splits():
    p = _project()
    p.track("ta").clips.append(_clip("c4", 30_000, 10_000))          # inside the region: removed
    _apply(p, E.ApplyTake("k1", "ta", 20_000, 70_000, crossfade=0, clip_id="new"))
    clips = {c.id: c for c in p.track("ta").clips}
    assert set(clips) == {"c1", "c2", "new"}
    assert (clips["c1"].start, clips["c1"].end, clips["c1"].fade_out) == (0, 20_000, 0)
    assert (clips["c2"].start, clips["c2"].source_in, clips["c2"].end) == (70_000, 10_000, 84_000)
    new = clips["new"]
    assert (new.start, new.end, new.source, new.source_in, new.source_out, new.take_id) == \
        (20_000, 70_000, "/proj/takes/k1.wav", 0, 50_000, "k1")
    # nothing but the new clip plays inside [20000, 70000)
    assert all(c.end <= 20_000 or c.start >= 70_000 for c in clips.values() if c.id != "new")


def test_apply_take_splits_a_spanning_clip_with_crossfades():
    p = _project()
    _apply(p, E.ApplyTake("k1", "tb", 20_000, 30_000, crossfade=480, clip_id="new"))
    left, right, new = p.track("tb").clips
    assert (left.id, left.start, left.end, left.fade_out) == ("c3", 10_000, 20_480, 480)
    assert (right.start, right.end, right.fade_in, right.source_in) == (29_520, 40_000, 480, 19_520)
    assert (new.start, new.end, new.fade_in, new.fade_out, new.source_in) == (20_000, 30_000, 480, 480, 0)
    assert right.gain_db == left.gain_db == -3.0


def test_apply_take_crossfade_is_capped_by_half_the_region():
    p = _project()
    E.ApplyTake("k1", "tb", 20_000, 20_400, crossfade=10_000, clip_id="new").do(p)
    new = p.track("tb").clips[-1]
    assert new.fade_in == new.fade_out == 200


# ---- history -----------------------------------------------------------------------------------

def test_history_undo_redo_texts_and_dirty_flag():
    p = _project()
    h = E.History(p)
    seen = []
    h.add_listener(lambda: seen.append(h.index))
    assert not h.is_dirty and not h.can_undo
    h.push(E.SetClipGain("c1", -1.0))
    h.push(E.RemoveClip("c2"))
    assert h.is_dirty and h.undo_text == "Delete clip"
    h.mark_clean()
    assert not h.is_dirty
    assert h.undo() == "Delete clip" and h.is_dirty and h.redo_text == "Delete clip"
    h.redo()
    assert not h.is_dirty
    h.undo()
    h.push(E.SetClipGain("c2", 2.0))   # discards the branch holding the saved state
    h.undo()
    h.undo()
    assert h.is_dirty and h.index == 0   # the saved state is unreachable now
    assert seen == [1, 2, 2, 1, 2, 1, 2, 1, 0]
    with pytest.raises(ProjectError, match="nothing to undo"):
        h.undo()


def test_repeated_moves_and_gains_merge_into_one_step():
    p = _project()
    original = copy.deepcopy(p)
    h = E.History(p)
    for start in (1_000, 2_000, 3_000):
        h.push(E.MoveClip("c1", start))
    for gain in (-1.0, -2.0, -4.0):
        h.push(E.SetClipGain("c1", gain))
    assert h.index == 2
    assert p.find_clip("c1").start == 3_000 and p.find_clip("c1").gain_db == -4.0
    h.undo()
    assert p.find_clip("c1").gain_db == 0.0
    h.undo()
    assert p == original
    h.redo()
    h.redo()
    assert p.find_clip("c1").start == 3_000 and p.find_clip("c1").gain_db == -4.0


def test_merges_that_would_change_the_result_are_refused():
    p = _project()
    h = E.History(p)
    h.push(E.MoveClip("c1", 100, new_track_id="tb"))
    h.push(E.MoveClip("c1", 200, new_track_id="ta"))   # back to its first track: appended, not re-inserted
    h.push(E.SetTrackProps("ta", mute=True))
    h.push(E.SetTrackProps("ta", mute=False))           # toggles stay separate steps
    h.push(E.SetClipGain("c2", 1.0), merge=False)
    h.push(E.SetClipGain("c2", 2.0), merge=False)
    assert h.index == 6


def test_merged_trim_reproduces_clamped_fades_on_redo():
    p = _project()
    h = E.History(p)
    h.push(E.TrimClip("c1", "right", 150))     # shorter than the fades: they clamp
    h.push(E.TrimClip("c1", "right", 40_000))  # longer again: the fades stay clamped
    done = copy.deepcopy(p)
    assert h.index == 1
    h.undo()
    h.redo()
    assert p == done


def test_no_merge_into_the_saved_state():
    p = _project()
    h = E.History(p)
    h.push(E.SetClipGain("c1", -1.0))
    h.mark_clean()
    h.push(E.SetClipGain("c1", -2.0))
    assert h.index == 2 and h.is_dirty
    h.undo()
    assert not h.is_dirty and p.find_clip("c1").gain_db == -1.0


def test_transaction_groups_edits_and_rolls_back_on_error():
    p = _project()
    original = copy.deepcopy(p)
    h = E.History(p)
    with h.transaction("Nudge and louder"):
        h.push(E.MoveClip("c1", 100))
        h.push(E.SetClipGain("c1", 3.0))
        with h.transaction("inner"):
            h.push(E.RemoveMarker("m1"))
    assert h.index == 1 and h.undo_text == "Nudge and louder"
    h.undo()
    assert p == original
    h.redo()
    done = copy.deepcopy(p)

    with pytest.raises(E.EditError):
        with h.transaction("doomed"):
            h.push(E.RemoveClip("c2"))
            h.push(E.SplitClip("c3", 0))          # outside the clip
    assert p == done and h.index == 1 and h.redo_text == ""
    with pytest.raises(KeyError):
        with h.transaction("also doomed"):
            h.push(E.RemoveTrack("tb"))
            raise KeyError("caller failed")
    assert p == done and h.index == 1


def test_history_limit_drops_oldest_steps():
    p = _project()
    h = E.History(p, limit=2)
    for i in range(4):
        h.push(E.MoveMarker("m1", i), merge=False)
    assert h.index == 2
    h.undo()
    h.undo()
    assert p.markers[0].time == 1 and not h.can_undo and h.is_dirty


# ---- property test -----------------------------------------------------------------------------

def _draw_edit(data: st.DataObject, p: Project, fresh: str) -> E.Edit:
    """Any edit the editor can issue, with values drawn near the project's real bounds (some invalid)."""
    clips = [c for t in p.tracks for c in t.clips]
    track_ids = [t.id for t in p.tracks]
    times = st.integers(-2_000, 150_000)
    kinds = ["add_track", "add_marker", "add_take"]
    if clips:
        kinds += ["move", "trim", "split", "gain", "fades", "remove_clip"] * 3
    if track_ids:
        kinds += ["add_clip", "add_clip", "remove_track", "track_props", "apply_take"]
    if p.markers:
        kinds += ["move_marker", "remove_marker"]
    if p.takes:
        kinds += ["kept", "remove_take"]
    kind = data.draw(st.sampled_from(kinds))
    clip = data.draw(st.sampled_from(clips)) if clips else None
    track_id = data.draw(st.sampled_from(track_ids)) if track_ids else "none"
    if kind == "move":
        return E.MoveClip(clip.id, data.draw(times), data.draw(st.sampled_from([None, *track_ids])))
    if kind == "trim":
        edge = data.draw(st.sampled_from(["left", "right"]))
        return E.TrimClip(clip.id, edge, data.draw(st.integers(clip.start - 3_000, clip.end + 3_000)))
    if kind == "split":
        return E.SplitClip(clip.id, data.draw(st.integers(clip.start - 10, clip.end + 10)), fresh)
    if kind == "gain":
        return E.SetClipGain(clip.id, data.draw(st.floats(-60, 12)))
    if kind == "fades":
        return E.SetClipFades(clip.id, data.draw(st.none() | st.integers(0, 30_000)),
                              data.draw(st.none() | st.integers(0, 30_000)))
    if kind == "remove_clip":
        return E.RemoveClip(clip.id)
    if kind == "add_clip":
        length = data.draw(st.integers(1, 40_000))
        return E.AddClip(track_id, _clip(fresh, data.draw(times), length, source_in=data.draw(st.integers(0, 500))),
                         data.draw(st.none() | st.integers(0, 3)))
    if kind == "remove_track":
        return E.RemoveTrack(track_id)
    if kind == "track_props":
        props = data.draw(st.dictionaries(st.sampled_from(["name", "gain_db", "mute", "solo"]),
                                          st.just(None), min_size=1))
        values = {"name": "renamed", "gain_db": data.draw(st.floats(-20, 6)),
                  "mute": data.draw(st.booleans()), "solo": data.draw(st.booleans())}
        return E.SetTrackProps(track_id, **{k: values[k] for k in props})
    if kind == "apply_take" and p.takes:
        take = data.draw(st.sampled_from(p.takes))
        start = data.draw(st.integers(take.region_start - 100, take.region_end))
        end = data.draw(st.integers(start, take.region_end + 100))
        return E.ApplyTake(take.id, track_id, start, end, crossfade=data.draw(st.sampled_from([0, 1, 480, 5_000])),
                           clip_id=fresh)
    if kind == "move_marker":
        return E.MoveMarker(data.draw(st.sampled_from(p.markers)).id, data.draw(times))
    if kind == "remove_marker":
        return E.RemoveMarker(data.draw(st.sampled_from(p.markers)).id)
    if kind == "kept":
        return E.SetTakeKept(data.draw(st.sampled_from(p.takes)).id, data.draw(st.booleans()))
    if kind == "remove_take":
        return E.RemoveTake(data.draw(st.sampled_from(p.takes)).id)
    if kind == "add_track":
        return E.AddTrack(Track(id=fresh, name="new"), data.draw(st.none() | st.integers(0, 3)))
    if kind == "add_marker":
        return E.AddMarker(Marker(id=fresh, time=data.draw(times)))
    start = data.draw(st.integers(0, 100_000))
    return E.AddTake(Take(id=fresh, path=f"/t/{fresh}.wav", region_start=start,
                          region_end=start + data.draw(st.integers(0, 50_000))))


def _undo_redo_property(data: st.DataObject) -> None:
    p = _project()
    history = E.History(p)
    states = [copy.deepcopy(p)]          # states[i]: the project with i steps on the undo stack
    serial = itertools.count()           # fresh ids for new clips, tracks, markers and takes
    for _ in range(data.draw(st.integers(1, 30), label="n_edits")):
        before = copy.deepcopy(p)
        group = data.draw(st.integers(1, 3), label="edits in this step")
        how = data.draw(st.sampled_from(["push", "transaction", "gesture", "continuation"]), label="grouping")
        if how in ("gesture", "continuation"):
            # The editor's way: a press opens, each move applies at once, release commits, Escape rolls back.
            token = history.begin_gesture("drag") if how == "gesture" else E.new_gesture_token()
            for _ in range(group):
                state = copy.deepcopy(p)
                try:
                    history.push(_draw_edit(data, p, f"x{next(serial)}"), gesture=token)
                except ProjectError:
                    assert p == state    # a refused move changes nothing; the gesture goes on
            if how == "gesture" and data.draw(st.booleans(), label="escape"):
                history.cancel_gesture(token)
                assert p == before and not history.gesture_open
            elif how == "gesture":
                history.commit_gesture(token)
        else:
            try:
                if how == "push" or group == 1:
                    history.push(_draw_edit(data, p, f"x{next(serial)}"),
                                 merge=data.draw(st.booleans(), label="merge"))
                else:
                    with history.transaction("group"):
                        for _ in range(group):
                            history.push(_draw_edit(data, p, f"x{next(serial)}"))
            except ProjectError:
                assert p == before       # a refused edit (or a rolled-back group) changed nothing
                continue
        del states[history.index:]       # a merge replaced the top state rather than adding one
        states.append(copy.deepcopy(p))
    assert len(states) == history.index + 1
    while history.can_undo:
        history.undo()
        assert p == states[history.index]
    assert p == states[0]
    while history.can_redo:
        history.redo()
        assert p == states[history.index]
    assert p == states[-1]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_edit_sequences_undo_to_the_original_and_redo_to_the_end(data):
    _undo_redo_property(data)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_edit_sequences_many_examples(data):
    _undo_redo_property(data)


# ---- gestures (what the editor's drags run) ---------------------------------------------------

def test_a_gesture_is_one_step_and_every_move_is_heard():
    p = _project()
    original = copy.deepcopy(p)
    h = E.History(p)
    heard = []
    h.add_listener(lambda: heard.append(p.find_clip("c1").start))
    token = h.begin_gesture("Move clip")
    for start in (1_000, 2_000, 3_000):
        h.push(E.MoveClip("c1", start), gesture=token)
    assert heard == [1_000, 2_000, 3_000], "views must follow the drag as it happens"
    assert h.index == 0 and h.is_dirty and h.undo_text == "Move clip"
    h.commit_gesture(token)
    assert h.index == 1 and h.undo_text == "Move clip"
    assert len(h._undo[0].children) == 1, "consecutive moves of one clip merge into one edit"
    h.undo()
    assert p == original
    h.redo()
    assert p.find_clip("c1").start == 3_000


def test_escape_rolls_a_gesture_back_and_leaves_no_step():
    p = _project()
    h = E.History(p)
    h.push(E.SetClipGain("c2", -3.0))
    before = copy.deepcopy(p)
    token = h.begin_gesture("Trim clip")
    h.push(E.TrimClip("c1", "right", 30_000), gesture=token)
    h.push(E.SetClipFades("c1", fade_in=5_000), gesture=token)
    h.cancel_gesture(token)
    assert p == before and h.index == 1 and h.undo_text == "Change clip gain"
    h.commit_gesture(token)              # release after Escape: nothing more happens
    assert h.index == 1
    empty = h.begin_gesture("Click")
    h.commit_gesture(empty)
    assert h.index == 1, "a press and release without a move is no undo step"


def test_another_edit_during_a_gesture_closes_it_first():
    p = _project()
    h = E.History(p)
    token = h.begin_gesture("Move marker")
    h.push(E.MoveMarker("m1", 9_000), gesture=token)
    h.push(E.AddTake(Take(id="k2", path="/proj/takes/k2.wav", region_start=0, region_end=100)))   # a job finished meanwhile
    assert h.index == 2 and not h.gesture_open
    h.push(E.MoveMarker("m1", 9_500), gesture=token)               # the drag goes on: a step of its own
    h.commit_gesture(token)
    assert h.index == 3
    h.undo()
    assert [m.time for m in p.markers] == [9_000]
    h.undo()
    h.undo()
    assert p == _project()


def test_continuation_tokens_merge_only_while_their_step_is_on_top():
    p = _project()
    h = E.History(p)
    token = E.new_gesture_token()
    h.push(E.MoveClip("c1", 1_000), gesture=token)
    h.push(E.MoveClip("c1", 2_000), gesture=token)
    assert h.index == 1 and not h.gesture_open
    h.mark_clean()
    h.push(E.MoveClip("c1", 3_000), gesture=token)        # never into the saved state
    assert h.index == 2
    h.push(E.SetClipGain("c1", -1.0))
    h.push(E.MoveClip("c1", 4_000), gesture=token)        # something else came between: a new step
    assert h.index == 4
