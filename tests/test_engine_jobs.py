"""The job queue: progress events, cancellation within a step, errors as values."""
from __future__ import annotations

import threading

import pytest

from foley_studio.engine.jobs import JobQueue, JobState
from foley_studio.engine.models import StaticModels
from foley_studio.engine.pipeline import Pipeline
from foley_studio.engine.request import GenerationRequest
from tests.engine_fakes import FakeModel

SR = 48_000


def request(**kwargs) -> GenerationRequest:
    base = dict(mode="text", region=(0, SR), prompt="glass clink", steps=6, seeds=(1, 2), model="fake")
    base.update(kwargs)
    return GenerationRequest(**base)


@pytest.fixture
def pipeline(tmp_path):
    return Pipeline(StaticModels(FakeModel(), "fake"), takes_dir=str(tmp_path / "takes"), device="cpu")


def test_job_reports_progress_and_takes(pipeline, tmp_path):
    events = []
    with JobQueue(pipeline, on_event=events.append) as jobs:
        job = jobs.submit(request())
        result = job.wait(30)
    assert result is not None and result.state is JobState.DONE
    assert [t.seed for t in result.takes] == [1, 2]
    assert all(t.wav_path.exists() and t.sidecar_path.exists() for t in result.takes)
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["queued", "started"] and kinds[-1] == "finished"
    steps = [e.progress for e in events if e.kind == "progress" and e.progress.stage == "sampling"]
    assert [p.step for p in steps] == [1, 2, 3, 4, 5, 6]
    assert steps[0].describe() == "step 1/6, takes 1–2 of 2"
    fractions = [e.progress.fraction for e in events if e.kind == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_cancel_stops_within_one_step_and_leaves_no_take(tmp_path):
    model = FakeModel()
    pipeline = Pipeline(StaticModels(model, "fake"), takes_dir=str(tmp_path / "takes"), device="cpu")
    holder = {}

    def on_event(event):
        if event.kind == "progress" and event.progress.stage == "sampling" and event.progress.step == 2:
            holder["job"].cancel()
            holder["steps_at_cancel"] = model.steps_run

    queue = JobQueue(pipeline, on_event=on_event)
    holder["job"] = job = queue.submit(request(steps=50))
    result = job.wait(30)
    assert result.state is JobState.CANCELLED and result.takes == [] and result.error is None
    assert model.steps_run - holder["steps_at_cancel"] <= 1
    takes_dir = tmp_path / "takes"
    assert not takes_dir.exists() or list(takes_dir.iterdir()) == []     # no take, no staged part file
    assert queue.wait_idle(5) and queue.idle
    # the queue still works after a cancellation
    assert queue.submit(request(steps=2)).wait(30).state is JobState.DONE
    queue.close()


def test_errors_come_back_as_values(pipeline):
    with JobQueue(pipeline) as jobs:
        missing = jobs.submit(request(model="demo")).wait(30)
        bad = jobs.submit(request(cfg=-1.0)).wait(30)
        good = jobs.submit(request(seeds=(9,))).wait(30)
    assert missing.state is JobState.FAILED and "demo" in missing.error
    assert missing.error_type == "ModelUnavailableError"
    assert bad.state is JobState.FAILED and "cfg" in bad.error
    assert good.state is JobState.DONE


def test_a_bug_in_the_pipeline_fails_the_job_not_the_worker(pipeline, monkeypatch):
    monkeypatch.setattr(pipeline, "render", lambda *a, **k: 1 / 0)
    with JobQueue(pipeline) as jobs:
        result = jobs.submit(request()).wait(30)
        assert result.state is JobState.FAILED and "ZeroDivisionError" in result.error
        monkeypatch.undo()
        assert jobs.submit(request()).wait(30).state is JobState.DONE


def test_jobs_run_in_order_and_queued_ones_can_be_cancelled(pipeline):
    gate = threading.Event()
    order = []
    original = pipeline.run

    def slow_run(req, progress=None, cancel=None):
        gate.wait(10)
        order.append(req.prompt)
        return original(req, progress, cancel)

    pipeline.run = slow_run
    with JobQueue(pipeline) as jobs:
        first = jobs.submit(request(prompt="one"))
        second = jobs.submit(request(prompt="two"))
        third = jobs.submit(request(prompt="three"))
        second.cancel()
        assert not jobs.idle
        gate.set()
        assert third.wait(30).state is JobState.DONE
        assert first.result.state is JobState.DONE and second.result.state is JobState.CANCELLED
        assert jobs.wait_idle(5)
    assert order == ["one", "three"]
