"""The one request builder and the generation service, headless: the rows of takes the editor and
the command line ask for, and a job from request to undoable takes in the project."""
from __future__ import annotations

import argparse
import copy

import pytest

from foley_studio.cli.generate_cmd import build_request
from foley_studio.core.edits import AddMarker
from foley_studio.core.project import Marker, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE as SR
from foley_studio.engine.errors import RequestError
from foley_studio.engine.jobs import JobState
from foley_studio.engine.models import StaticModels
from foley_studio.session import EditorSession
from foley_studio.session.generation import (GenerationService, GenerationSettings, WarmModels, cfg_spread,
                                             default_generation_track, vary_cfg, vary_seeds)
from tests.engine_fakes import FakeModel


def _clip(cid: str, source: str, take_id: str | None = None):
    from foley_studio.core.project import Clip
    return Clip(id=cid, source=source, start=0, source_in=0, source_out=SR, take_id=take_id)


def test_takes_go_to_the_track_meant_for_them_by_default_never_a_guide():
    from foley_studio.core.edits import RemoveTrack
    from foley_studio.core.project import VideoRef
    picture = VideoRef(path="/m/picture.mp4", fps_num=24, fps_den=1, duration=8 * SR, width=64, height=48)
    guide = Track(id="guide", name="Guide", clips=[_clip("g", "/m/picture.mp4")])          # the picture's sound
    muted = Track(id="muted", name="Old", clips=[_clip("o", "/m/old.wav")], mute=True)
    hits = Track(id="hits", name="Hits", clips=[_clip("h", "/m/hit.wav")])
    empty = Track(id="empty", name="Foley (generate here)")
    project = Project(video=picture, tracks=[guide, muted, hits, empty])
    assert default_generation_track(project) == "empty"          # room for new sound beats a full track
    hits.clips.append(_clip("t", "/m/take.wav", take_id="take-1"))
    assert default_generation_track(project) == "hits"           # where takes went before
    assert default_generation_track(Project(video=picture, tracks=[guide, muted])) == "guide"   # nothing else
    assert default_generation_track(Project()) is None
    # The session starts with that track selected (the generate panel's target) and falls back by the
    # same rule when it is removed.
    session = EditorSession(Project(video=picture, tracks=[guide, muted, Track(id="fx", name="FX"), empty]))
    assert session.selected_track == "fx"
    session.set_region((0, SR))
    service = GenerationService(session)
    try:
        assert service.target()["track_id"] == "fx"
    finally:
        service.shutdown()
    session.apply(RemoveTrack("fx"))
    assert session.selected_track == "empty"


def test_vary_seeds_and_vary_cfg_rows():
    settings = GenerationSettings(prompt="door", cfg=3.0, model="fake")
    seeds = vary_seeds(settings, video=None, region=(0, SR), first_seed=5, n=3)
    assert seeds.takes == [(5, 3.0), (6, 3.0), (7, 3.0)] and seeds.cfgs is None
    gammas = vary_cfg(settings, video=None, region=(0, SR), seed=9, cfgs=(2.0, 4.5, 7.0))
    assert gammas.takes == [(9, 2.0), (9, 4.5), (9, 7.0)] and gammas.cfg == 3.0
    single = vary_cfg(settings, video=None, region=(0, SR), seed=9, cfgs=[6.0])
    assert single.takes == [(9, 6.0)] and single.cfgs is None
    with pytest.raises(RequestError, match="at least one take"):
        vary_seeds(settings, video=None, region=(0, SR), first_seed=0, n=0)


@pytest.mark.parametrize("center, n, row", [
    (4.0, 5, (2.0, 3.0, 4.0, 5.0, 6.0)),
    (1.5, 3, (1.0, 2.25, 3.5)),           # never below 1
    (29.5, 3, (27.5, 28.75, 30.0)),       # never above the largest γ
    (4.0, 3, (2.0, 4.0, 6.0)),
    (4.0, 1, (4.0,)),
])
def test_cfg_spread(center, n, row):
    assert cfg_spread(center, n) == row


def _project() -> Project:
    return Project(tracks=[Track(id="t1", name="Steps"), Track(id="t2", name="Cloth")])


def test_the_editor_and_the_command_line_build_the_same_request():
    session = EditorSession(_project())
    session.set_region((SR, 3 * SR))
    service = GenerationService(session)
    settings = GenerationSettings(prompt="gravel", negative_prompt="music", quality="high", cfg=4.0, steps=10,
                                  model="fake")
    editor = service.request_for_session(settings, n=3, vary="cfg", seed=11)
    args = argparse.Namespace(input="p.fsproj", region="1:3", cfg=",".join(str(g) for g in editor.cfgs), takes=None,
                              seed=11, reference=None, mode="text", prompt="gravel", negative="music",
                              quality="high", steps=10, sampler="dpmpp", model="fake", context=2.0)
    cli = build_request(args, session.project, None)
    assert editor.takes == cli.takes == [(11, 2.0), (11, 4.0), (11, 6.0)]
    assert (editor.region, editor.prompt, editor.negative_prompt, editor.quality, editor.steps) == \
        (cli.region, cli.prompt, cli.negative_prompt, cli.quality, cli.steps)
    assert editor.track_id == "t1" and cli.track_id is None          # the editor aims at the selected track
    service.shutdown()


def test_missing_region_or_track_is_named():
    session = EditorSession(Project(tracks=[]))
    service = GenerationService(session)
    with pytest.raises(RequestError, match="no region selected"):
        service.request_for_session(GenerationSettings(), n=1)
    session.set_region((0, SR))
    with pytest.raises(RequestError, match="no audio track"):
        service.request_for_session(GenerationSettings(), n=1)


def test_a_job_becomes_one_undoable_step_of_takes(tmp_path):
    session = EditorSession(_project(), tmp_path / "p.fsproj")
    session.set_region((0, SR))
    model = FakeModel()
    service = GenerationService(session, WarmModels(lambda: StaticModels(model, "fake")), device="cpu")
    heard: list[str] = []
    service.add_listener(lambda event: heard.append(event.kind))
    request = service.request_for_session(GenerationSettings(model="fake", steps=2), n=2, seed=40)
    [job] = service.generate([request])
    assert service.wait_idle(60)
    info = service.jobs[job]
    assert info.state is JobState.DONE and info.fraction == 1.0, info.message
    assert heard[:2] == ["queued", "started"] and heard[-1] == "finished" and "progress" in heard
    assert model.sample_calls == [[40, 41]], "both takes in one batch"
    assert all(r.wav_path.parent == tmp_path / "takes" for r in info.result.takes)
    ids = service.add_takes(info.result)
    assert [t.id for t in session.project.takes] == ids and session.history.count == 1
    assert [t.label for t in session.project.takes] == ["seed 40 · γ 4", "seed 41 · γ 4"]
    session.undo()
    assert session.project.takes == []
    service.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        service.generate([request])


def _service_on(session: EditorSession, model: FakeModel) -> GenerationService:
    return GenerationService(session, WarmModels(lambda: StaticModels(model, "fake")), device="cpu")


def test_out_of_memory_and_a_cancelled_job_leave_the_project_history_and_takes_as_they_were(tmp_path):
    session = EditorSession(_project(), tmp_path / "p.fsproj")
    session.set_region((0, SR))
    session.apply(AddMarker(Marker(id="m1", time=100, name="hit")))
    before = copy.deepcopy(session.project)
    service = _service_on(session, FakeModel(oom_above=0, oom_error=RuntimeError))     # the CPU allocator's error
    [job] = service.generate([service.request_for_session(GenerationSettings(model="fake", steps=2), n=2, seed=1)])
    assert service.wait_idle(60)
    info = service.jobs[job]
    assert info.state is JobState.FAILED and info.result.error_type == "OutOfMemoryFailure"
    assert info.result.error.startswith("out of memory on cpu even for one take of 1.0 s")
    assert "Nothing was written" in info.result.error and info.result.takes == []
    service.shutdown()

    model = FakeModel()
    service = _service_on(session, model)
    at_cancel: list[int] = []

    def cancel_at_step_2(event) -> None:           # the user presses Cancel while it samples
        if event.kind == "progress" and event.progress.stage == "sampling" and event.progress.step == 2:
            at_cancel.append(model.steps_run)
            service.cancel(event.job_id)
    service.add_listener(cancel_at_step_2)
    [job] = service.generate([service.request_for_session(GenerationSettings(model="fake", steps=400), n=2, seed=1)])
    assert service.wait_idle(60)
    assert service.jobs[job].state is JobState.CANCELLED and service.jobs[job].result.takes == []
    assert model.steps_run - at_cancel[0] <= 1, "stopped within a step"
    assert session.project == before and session.history.count == 1 and session.history.undo_text == "Add marker"
    takes = tmp_path / "takes"
    assert not takes.exists() or list(takes.iterdir()) == [], "no take and no staged half is left"
    service.shutdown()
