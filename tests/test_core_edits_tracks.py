"""Track reorder, ripple delete and overlap crossfades as core edits: values after do, exact
restoration after undo, one history step each, validation before mutation, and the mixdown of a
crossfaded overlap holding its level."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from foley_studio.core import edits as E
from foley_studio.core.project import Clip, Marker, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE
from tests.media_fixtures import make_tone


def _clip(cid: str, start: int, length: int, source_in: int = 0, **kw) -> Clip:
    return Clip(id=cid, source=f"/media/{cid}.wav", start=start, source_in=source_in,
                source_out=source_in + length, **kw)


def _project() -> Project:
    a = Track(id="ta", name="Steps", clips=[
        _clip("c1", 0, 10_000, source_in=500, fade_in=100, fade_out=300, gain_db=-2.0, name="step"),
        _clip("c2", 20_000, 10_000, source_in=2_000, fade_in=400, fade_out=600),
        _clip("c3", 40_000, 5_000, gain_db=3.0),
    ])
    b = Track(id="tb", name="Cloth", clips=[_clip("c4", 25_000, 30_000)])
    c = Track(id="tc", name="Props")
    return Project(tracks=[a, b, c], markers=[Marker(id="m1", time=30_000, name="hit")])


def _check_undo_redo(project: Project, edit: E.Edit) -> Project:
    """Push `edit` on a History; undo must restore the project exactly, redo the edited state."""
    before = copy.deepcopy(project)
    history = E.History(project)
    history.push(edit)
    after = copy.deepcopy(project)
    assert history.index == 1, "one user action is one undo step"
    history.undo()
    assert project == before
    history.redo()
    assert project == after
    return project


def _spans(track: Track) -> list[tuple[str, int, int, int]]:
    """(id, start, end, source_in) sorted by start: what a listener hears from the track."""
    return sorted(((c.id, c.start, c.end, c.source_in) for c in track.clips), key=lambda s: s[1])


# ---- MoveTrack ---------------------------------------------------------------------------------

def test_move_track_down_and_up_carries_its_clips():
    p = _project()
    _check_undo_redo(p, E.MoveTrack("ta", 2))
    assert [t.id for t in p.tracks] == ["tb", "tc", "ta"]
    assert [c.id for c in p.track("ta").clips] == ["c1", "c2", "c3"]
    _check_undo_redo(p, E.MoveTrack("tc", 0))
    assert [t.id for t in p.tracks] == ["tc", "tb", "ta"]


def test_move_track_merges_a_drag_into_one_step_and_rejects_bad_indices():
    p = _project()
    h = E.History(p)
    h.push(E.MoveTrack("ta", 1))
    h.push(E.MoveTrack("ta", 2))
    assert h.index == 1 and [t.id for t in p.tracks] == ["tb", "tc", "ta"]
    h.undo()
    assert [t.id for t in p.tracks] == ["ta", "tb", "tc"]
    for bad in (3, -1, 1.5, True):
        with pytest.raises(E.EditError):
            E.MoveTrack("ta", bad).do(p)
    with pytest.raises(E.EditError, match="no track"):
        E.MoveTrack("nope", 0).do(p)
    assert [t.id for t in p.tracks] == ["ta", "tb", "tc"]


# ---- RippleDelete ------------------------------------------------------------------------------

def test_ripple_delete_a_gap_shifts_later_clips_only_on_that_track():
    p = _project()
    _check_undo_redo(p, E.RippleDelete("ta", 12_000, 18_000))
    assert _spans(p.track("ta")) == [("c1", 0, 10_000, 500), ("c2", 14_000, 24_000, 2_000),
                                     ("c3", 34_000, 39_000, 0)]
    assert _spans(p.track("tb")) == [("c4", 25_000, 55_000, 0)]
    assert [(m.id, m.time) for m in p.markers] == [("m1", 30_000)]
    c2 = p.find_clip("c2")
    assert (c2.fade_in, c2.fade_out, c2.gain_db) == (400, 600, 0.0)


def test_ripple_delete_trims_clips_across_the_edges():
    p = _project()
    # [5000, 25000): the tail of c1, the head of c2; everything later moves left by 20000.
    _check_undo_redo(p, E.RippleDelete("ta", 5_000, 25_000))
    assert _spans(p.track("ta")) == [("c1", 0, 5_000, 500), ("c2", 5_000, 10_000, 7_000),
                                     ("c3", 20_000, 25_000, 0)]
    c1, c2 = p.find_clip("c1"), p.find_clip("c2")
    assert (c1.fade_in, c1.fade_out, c1.gain_db) == (100, 300, -2.0)
    assert (c2.fade_in, c2.fade_out) == (400, 600)


def test_ripple_delete_inside_one_clip_splits_it_and_closes_the_gap():
    p = _project()
    edit = E.RippleDelete("ta", 22_000, 26_000)
    _check_undo_redo(p, edit)
    spans = _spans(p.track("ta"))
    assert [s[0] for s in spans][:2] == ["c1", "c2"]
    new_id = spans[2][0]
    assert new_id not in {"c1", "c2", "c3"}
    # c2 played source [2000, 12000) at 20000; now [2000, 4000) then [8000, 12000) back to back.
    assert spans == [("c1", 0, 10_000, 500), ("c2", 20_000, 22_000, 2_000), (new_id, 22_000, 26_000, 8_000),
                     ("c3", 36_000, 41_000, 0)]
    left, right = p.find_clip("c2"), p.find_clip(new_id)
    assert (left.fade_in, left.fade_out, right.fade_in, right.fade_out) == (400, 0, 0, 600)
    # Redo after undo recreates the same id (the plan is replayed, not re-planned).
    h = E.History(p)
    h.push(E.RippleDelete("ta", 0, 1_000))
    h.undo()
    h.redo()
    assert new_id in {c.id for c in p.track("ta").clips}


def test_ripple_delete_removes_whole_clips_and_keeps_ids_on_undo():
    p = _project()
    before = copy.deepcopy(p)
    h = E.History(p)
    h.push(E.RippleDelete("ta", 19_000, 31_000))
    assert _spans(p.track("ta")) == [("c1", 0, 10_000, 500), ("c3", 28_000, 33_000, 0)]
    h.undo()
    assert p == before and [c.id for c in p.track("ta").clips] == ["c1", "c2", "c3"]


def test_ripple_delete_validates_before_changing_anything():
    p = _project()
    before = copy.deepcopy(p)
    for args, message in ((("ta", 5_000, 5_000), "empty"), (("ta", -5, 10), "at least 0"),
                          (("tc", 0, 1_000), "nothing to ripple delete"),
                          (("ta", 50_000, 60_000), "nothing to ripple delete"), (("zz", 0, 1), "no track")):
        with pytest.raises(E.EditError, match=message):
            E.History(p).push(E.RippleDelete(*args))
    assert p == before


# ---- CrossfadeOverlap --------------------------------------------------------------------------

def _overlapping() -> Project:
    p = _project()
    # c2 dragged left so that it overlaps the last 3000 samples of c1.
    p.find_clip("c2").start = 7_000
    return p


def test_crossfade_overlap_sets_both_fades_to_the_overlap_in_either_order():
    for order in (("c1", "c2"), ("c2", "c1")):
        p = _overlapping()
        _check_undo_redo(p, E.CrossfadeOverlap(*order))
        c1, c2 = p.find_clip("c1"), p.find_clip("c2")
        assert (c1.fade_in, c1.fade_out) == (100, 3_000)
        assert (c2.fade_in, c2.fade_out) == (3_000, 600)
        assert E.overlap_of(c1, c2) == 3_000


def test_crossfade_overlap_shortens_the_far_fade_when_it_no_longer_fits():
    p = _overlapping()
    p.find_clip("c1").fade_in = 9_000       # 9000 + 3000 > 10000: the fade in must give way
    _check_undo_redo(p, E.CrossfadeOverlap("c1", "c2"))
    c1 = p.find_clip("c1")
    assert (c1.fade_in, c1.fade_out) == (7_000, 3_000)


def test_crossfade_overlap_refuses_what_cannot_crossfade():
    p = _overlapping()
    p.track("ta").clips.append(_clip("inner", 1_000, 2_000))
    before = copy.deepcopy(p)
    for pair, message in ((("c2", "c3"), "do not overlap"), (("c1", "c4"), "different tracks"),
                          (("c1", "inner"), "wholly inside"), (("c1", "c1"), "two different")):
        with pytest.raises(E.EditError, match=message):
            E.History(p).push(E.CrossfadeOverlap(*pair))
    assert p == before


def _rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


def test_crossfaded_overlap_of_the_same_noise_keeps_its_level(tmp_path: Path):
    from foley_studio.media.mixdown import mixdown
    rng = np.random.default_rng(3)
    noise = (0.2 * rng.standard_normal(2 * SAMPLE_RATE)).astype(np.float32)
    path = str(make_tone(tmp_path / "noise.wav", data=noise, subtype="FLOAT"))
    n = len(noise)
    # Two copies of the same source; the second starts 1.5 s in, so in the 0.5 s overlap the first
    # plays source 1.5-2 s and the second 0-0.5 s: the same stationary noise, uncorrelated.
    first = Clip(id="a", source=path, start=0, source_in=0, source_out=n, source_length=n)
    second = Clip(id="b", source=path, start=3 * SAMPLE_RATE // 2, source_in=0, source_out=n, source_length=n)
    p = Project(tracks=[Track(id="t", name="Noise", clips=[first, second])])
    lo, hi = 3 * SAMPLE_RATE // 2, 2 * SAMPLE_RATE
    outside = np.concatenate([mixdown(p, 0, lo), mixdown(p, hi, 7 * SAMPLE_RATE // 2)])
    summed = mixdown(p, lo, hi)
    assert _rms_db(summed) - _rms_db(outside) > 2.5, "summed, the overlap is ~3 dB louder"

    h = E.History(p)
    h.push(E.CrossfadeOverlap("b", "a"))
    assert (first.fade_out, second.fade_in) == (hi - lo, hi - lo)
    faded = mixdown(p, lo, hi)
    outside = np.concatenate([mixdown(p, 0, lo), mixdown(p, hi, 7 * SAMPLE_RATE // 2)])
    assert abs(_rms_db(faded) - _rms_db(outside)) <= 1.5
    # Also in shorter windows across the join, not only on average.
    for k in range(5):
        window = faded[k * 4_800:(k + 1) * 4_800]
        assert abs(_rms_db(window) - _rms_db(outside)) <= 1.5, k
    h.undo()
    assert (first.fade_out, second.fade_in) == (0, 0)
