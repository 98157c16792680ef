"""The timeline's editing rules, headless: ripple ranges, crossfade pairs, drop placement, move/trim/fade
limits and the commands' plans, each applied through `History` and undone exactly."""
from __future__ import annotations

import copy
from fractions import Fraction

import pytest

from foley_studio.core import planners as P
from foley_studio.core.edits import History
from foley_studio.core.project import Clip, Marker, Project, Track

SR = 48_000


def _clip(cid: str, start: float, seconds: float, source_in: float = 0.0, **kw) -> Clip:
    return Clip(id=cid, source=f"/{cid}.wav", start=int(start * SR), source_in=int(source_in * SR),
                source_out=int((source_in + seconds) * SR), name=cid, **kw)


@pytest.fixture
def project() -> Project:
    a = Track(id="ta", name="Steps", clips=[_clip("a1", 0.5, 1.0), _clip("a2", 2.0, 1.0, 0.5), _clip("a3", 3.5, 0.5, 1.0)])
    b = Track(id="tb", name="Cloth", clips=[_clip("b1", 1.0, 1.0)])
    return Project(tracks=[a, b, Track(id="tc", name="Props")], markers=[Marker(id="m1", time=3 * SR, name="hit")])


def _apply(project: Project, edit) -> History:
    history = History(project)
    history.push(edit)
    return history


def _spans(project: Project, track_id: str) -> list[tuple[str, int, int]]:
    return [(c.id, c.start, c.end) for c in project.track(track_id).clips]


# -- ripple delete ----------------------------------------------------------------------------

def test_ripple_ranges_merge_touching_spans_per_track_latest_first(project):
    project.track("ta").clips.append(_clip("a4", 1.5, 0.5))          # touches a1's end and a2's start
    ranges = P.ripple_ranges(project, ["a1", "a4", "a2", "a3", "b1"], None, None)
    assert ranges == [("ta", int(3.5 * SR), 4 * SR), ("ta", SR // 2, 3 * SR), ("tb", SR, 2 * SR)]
    assert P.ripple_ranges(project, [], (3 * SR, SR), "tb") == [("tb", SR, 3 * SR)]   # region order normalised
    assert P.ripple_ranges(project, [], (SR, SR), "tb") == []
    assert P.ripple_ranges(project, [], (SR, 2 * SR), None) == []
    assert P.plan_ripple_delete(project, [], None, "ta") is None


def test_ripple_delete_of_clips_on_two_tracks_is_one_step_that_undoes_exactly(project):
    original = copy.deepcopy(project)
    edit = P.plan_ripple_delete(project, ["a1", "a3", "b1"], None, "ta")
    assert edit.text == "Ripple delete 3 clips"
    history = _apply(project, edit)
    assert _spans(project, "ta") == [("a2", SR, 2 * SR)]                # 2.0 s - a1's 1.0 s
    assert project.track("tb").clips == [] and project.markers == original.markers
    history.undo()
    assert project == original


def test_ripple_delete_of_a_region_trims_and_closes_the_gap_on_that_track_only(project):
    original = copy.deepcopy(project)
    lo, hi = SR, 5 * SR // 2
    edit = P.plan_ripple_delete(project, [], (lo, hi), "ta")
    assert edit.text == "Ripple delete region"
    _apply(project, edit)
    clips = {c.id: c for c in project.track("ta").clips}
    assert (clips["a1"].start, clips["a1"].end) == (SR // 2, lo)
    assert (clips["a2"].start, clips["a2"].end, clips["a2"].source_in) == (lo, 3 * SR - (hi - lo), SR // 2 + hi - 2 * SR)
    assert clips["a3"].start == 7 * SR // 2 - (hi - lo)
    assert project.track("tb") == original.track("tb")


# -- crossfades ---------------------------------------------------------------------------------

def test_crossfade_pairs_among_the_selection_or_around_one_clip(project):
    ta = project.track("ta")
    ta.clips[1].start = int(1.2 * SR)                      # a2 [1.2, 2.2) overlaps a1 [0.5, 1.5)
    ta.clips.append(_clip("inner", 0.6, 0.2))              # inside a1: never crossfadable
    assert P.crossfadable(ta.clip("a1"), ta.clip("a2")) and not P.crossfadable(ta.clip("a1"), ta.clip("inner"))
    assert P.crossfade_pairs(project, ["a2", "a1", "b1"]) == [("a1", "a2")]   # b1 is alone on its track
    assert P.crossfade_pairs(project, ["a1"]) == [("a1", "a2")]
    assert P.crossfade_pairs(project, [], pointed="a2") == [("a2", "a1")]
    assert P.crossfade_pairs(project, [], pointed=None) == []
    assert P.crossfade_pairs(project, ["a3"]) == [] and P.plan_crossfade([]) is None
    edit = P.plan_crossfade(P.crossfade_pairs(project, ["a1", "a2"]))
    original = copy.deepcopy(project)
    history = _apply(project, edit)
    overlap = int(0.3 * SR)
    assert (ta.clip("a1").fade_out, ta.clip("a2").fade_in) == (overlap, overlap)
    history.undo()
    assert project == original


# -- drops --------------------------------------------------------------------------------------

def test_a_drop_places_sounds_one_after_another_and_below_the_tracks_adds_one(project):
    sounds = [P.DropSound.from_seconds("/door.wav", "door", (0.0, 1.0)), P.DropSound("/glass.wav", "glass", 100, 700)]
    assert P.drop_length(sounds) == SR + 600
    assert P.drop_row(project, None) == 0 and P.drop_row(project, 7) == 3 and P.drop_row(project, 1) == 1
    original = copy.deepcopy(project)
    plan = P.plan_drop(project, 1, 3 * SR, sounds)
    assert plan.text == "Add 2 sounds"
    history = _apply(project, plan.edit)
    door, glass = (project.find_clip(i) for i in plan.clip_ids)
    assert project.track_of_clip(door.id).id == "tb" and (door.start, door.source_in, door.source_out) == (3 * SR, 0, SR)
    assert (glass.start, glass.source_in, glass.source_out) == (4 * SR, 100, 700)
    history.undo()
    assert project == original
    below = P.plan_drop(project, 9, SR, sounds[:1])
    assert below.text == "Add door"
    _apply(project, below.edit)
    assert len(project.tracks) == 4 and project.tracks[3].name == "Foley 4"
    assert project.track_of_clip(below.clip_ids[0]) is project.tracks[3]
    assert P.plan_drop(project, 0, 0, []) is None


# -- move, trim, fade -----------------------------------------------------------------------------

def test_a_group_move_stops_at_zero_and_at_the_outer_tracks(project):
    move = P.ClipMove.of(project, ["a2", "b1"])
    assert move.origin == {"a2": (2 * SR, 0), "b1": (SR, 1)} and move.text == "Move 2 clips"
    assert move.clamp_delta(-5 * SR) == -SR                         # b1 reaches zero first
    assert move.clamp_rows(5, 3) == 1 and move.clamp_rows(-2, 3) == 0
    assert move.edit(project, 0, 0) is None
    original = copy.deepcopy(project)
    history = _apply(project, move.edit(project, -5 * SR, 9))
    assert project.find_clip("b1").start == 0 and project.find_clip("a2").start == SR
    assert project.track_of_clip("a2").id == "tb" and project.track_of_clip("b1").id == "tc"
    history.undo()
    assert project == original


def test_trims_stop_at_the_source_and_at_a_minimum_length(project):
    a2 = project.find_clip("a2")                               # [2.0, 3.0) playing source [0.5, 1.5)
    left = P.plan_trim(a2, "left", 0)
    assert (left.edge, left.new_time) == ("left", int(1.5 * SR))    # cannot reveal audio before the source
    assert P.plan_trim(a2, "left", 4 * SR).new_time == 3 * SR - P.MIN_CLIP_SAMPLES
    assert P.plan_trim(a2, "left", 4 * SR, min_length=1_000).new_time == 3 * SR - 1_000
    assert P.plan_trim(a2, "right", 10 * SR, source_length=2 * SR).new_time == 2 * SR + 2 * SR - SR // 2
    assert P.plan_trim(a2, "right", 10 * SR).new_time == 10 * SR      # unknown source length: no bound
    assert P.plan_trim(a2, "right", 0).new_time == 2 * SR + P.MIN_CLIP_SAMPLES
    assert P.plan_trim(a2, "right", 3 * SR) is None and P.plan_trim(a2, "left", 2 * SR) is None


def test_fades_stay_inside_the_clip_and_never_cross(project):
    a1 = project.find_clip("a1")                               # [0.5, 1.5)
    a1.fade_out = SR // 4
    assert P.plan_fade(a1, "in", 0) is None                   # already 0
    assert P.plan_fade(a1, "in", 5 * SR).values == {"fade_in": SR - SR // 4}   # up to the fade-out
    assert P.plan_fade(a1, "in", SR).values == {"fade_in": SR // 2}
    assert P.plan_fade(a1, "out", 0).values == {"fade_out": SR}             # the whole clip (fade-in is 0)
    assert P.plan_fade(a1, "out", 5 * SR).values == {"fade_out": 0}


# -- selection helpers ------------------------------------------------------------------------------

def test_toggling_and_banding_the_selection(project):
    assert P.toggled_selection(["a1", "b1"], "a1") == ["b1"]
    assert P.toggled_selection(["b1"], "a2") == ["b1", "a2"]
    assert P.clips_in_band(project, (1, 0), int(1.4 * SR), int(2.1 * SR)) == ["a1", "a2", "b1"]
    assert P.clips_in_band(project, (1, 1), 3 * SR, 4 * SR) == []


# -- commands -----------------------------------------------------------------------------------------

def test_split_takes_the_selection_under_the_playhead_else_the_track(project):
    assert P.plan_split(project, int(2.5 * SR), ["a1"], "tb") is None           # a1 not under; b1 neither
    edit = P.plan_split(project, int(2.5 * SR), ["a1"], "ta")
    assert edit.clip_id == "a2"
    both = P.plan_split(project, int(1.25 * SR), ["a1", "b1"], None)
    assert both.text == "Split 2 clips"
    _apply(project, both)
    assert len(project.track("ta").clips) == 4 and len(project.track("tb").clips) == 2


def test_nudge_moves_by_frames_and_stops_at_zero(project):
    clips = [project.find_clip("a1"), project.find_clip("b1")]
    edit = P.plan_nudge(clips, 3, Fraction(24))
    assert edit.text == "Nudge 2 clips +3 frames"
    assert [m.new_start for m in edit.children] == [SR // 2 + 6_000, SR + 6_000]
    back = P.plan_nudge(clips, -1000, Fraction(24))
    assert [m.new_start for m in back.children] == [0, SR // 2]
    assert P.plan_nudge(clips, 0, Fraction(24)) is None and P.plan_nudge([], 1, Fraction(24)) is None
    assert P.plan_nudge([project.find_clip("a1")], -1, Fraction(25)).new_start == SR // 2 - 1_920


def test_delete_gain_and_gain_steps(project):
    assert P.plan_delete([]) is None and P.plan_delete(["a1", "b1"]).text == "Delete 2 clips"
    assert P.plan_gain(["a1"], -6.0).values == {"gain_db": -6.0}
    clip_step = P.plan_gain_step(project, 2, clip_id="a1")
    track_step = P.plan_gain_step(project, -1, track_id="tb")
    _apply(project, clip_step)
    _apply(project, track_step)
    assert project.find_clip("a1").gain_db == 1.0 and project.track("tb").gain_db == -0.5


def test_markers_tracks_and_the_region(project):
    add = P.plan_add_marker(project, 2 * SR)
    assert (add.marker.time, add.marker.name) == (2 * SR, "M2")
    assert P.plan_rename_marker(project, "m1", " hit ") is None and P.plan_rename_marker(project, "nope", "x") is None
    history = _apply(project, P.plan_rename_marker(project, "m1", "door slam"))
    assert [(m.id, m.time, m.name) for m in project.markers] == [("m1", 3 * SR, "door slam")]
    history.undo()
    assert project.markers[0].name == "hit"
    assert P.plan_move_marker("m1", -5).values == {"time": 0}
    assert P.plan_add_track(project).track.name == "Foley 4"
    assert P.plan_rename_track(project, "ta", "  ") is None and P.plan_rename_track(project, "ta", "Steps") is None
    assert P.plan_toggle(project, "tb", "solo").values == {"solo": True}
    with pytest.raises(ValueError, match="mute"):
        P.plan_toggle(project, "tb", "gain")
    assert P.plan_move_track(project, "ta", -1) is None and P.plan_move_track(project, "zz", 1) is None
    assert P.plan_move_track(project, "ta", 1).new_index == 1
    assert P.plan_track_to_row(project, "tc", None).new_index == 0 and P.plan_track_to_row(project, "tc", 9) is None
    assert P.region_with_in(None, 2 * SR, 10 * SR) == (2 * SR, 10 * SR)
    assert P.region_with_in((0, SR), 2 * SR, 10 * SR) == (2 * SR, 2 * SR + 1)
    assert P.region_with_out(None, 2 * SR) == (0, 2 * SR) and P.region_with_out((3 * SR, 4 * SR), SR) == (SR, SR)
