"""Generation in the editor, driven through the real main window (pytest-qt, offscreen) with a TINY model
installed in the user models folder: takes, cancel, Use + undo, extend context, analogy reference,
save/reopen, engine errors."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QDropEvent

from foley_studio.core.paths import user_models_dir
from foley_studio.core.project import Clip
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.engine.jobs import JobState
from foley_studio.ui.main_window import MainWindow, project_from_video
from foley_studio.ui.mime import LibraryDrag, encode_library_drag
from tests.media_fixtures import make_tone, make_video

pytestmark = pytest.mark.gui

SR = SAMPLE_RATE
REGION = (SR, 2 * SR)                 # 1 s at 1.0–2.0 s: one TINY window, a second of work at most


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    video = make_video(tmp_path / "picture.mp4", seconds=4.0, fps=24, size=(64, 48), with_audio=False)
    return {"video": video,
            "door": make_tone(tmp_path / "door.wav", seconds=1.0, freq=220.0, amplitude=0.6),
            "glass": make_tone(tmp_path / "glass.wav", seconds=1.5, freq=1500.0, amplitude=0.5)}


@pytest.fixture
def window(qtbot, media, tiny_weights):
    shutil.copytree(tiny_weights, user_models_dir() / "tiny")
    project = project_from_video(media["video"], n_tracks=2)
    project.tracks[0].clips.append(Clip(id="clip-door", source=str(media["door"]), start=SR // 2, source_in=0,
                                        source_out=SR, name="door", source_length=SR))
    win = MainWindow(project, audio=False, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    panel = win.generation.panel
    qtbot.waitUntil(lambda: panel.models_ready, timeout=30_000)     # listed off the GUI thread
    panel.model.setCurrentIndex(panel.model.findData("tiny"))        # the bundled demo model is listed too
    assert panel.model_name == "tiny"
    panel.steps.setValue(3)
    panel.prompt.setCurrentText("door slam")
    win.doc.set_region(REGION)
    win.doc.select_track(project.tracks[1].id)
    yield win
    win.shutdown()


def _wait_done(qtbot, win, jobs, timeout=60_000):
    worker = win.generation.worker
    qtbot.waitUntil(lambda: all(worker.jobs[j].state.finished for j in jobs) and worker.idle, timeout=timeout)


def _generate_one_take(qtbot, win):
    """Generate a single take with the panel's current settings; its finished job's info."""
    g = win.generation
    g.panel.n_takes.setValue(1)
    jobs = g.panel.generate()
    _wait_done(qtbot, win, jobs)
    return g.worker.jobs[jobs[0]]


def test_three_text_takes_on_the_demo_project_become_three_rows(qtbot, window):
    from foley_studio.ui.app import demo_project
    project, _path = demo_project()
    window._install(project, None)          # unsaved: takes go to the data dir, never into resources/
    foley = next(t for t in project.tracks if "generate" in t.name.lower())
    window.doc.set_region(REGION)
    window.doc.select_track(foley.id)
    g = window.generation
    g.panel.n_takes.setValue(3)
    g.panel.seed_mode.setCurrentIndex(1)          # fixed seed: the recorded seeds are known
    g.panel.seed.setValue(40)
    jobs = g.panel.generate()
    assert len(jobs) == 1
    _wait_done(qtbot, window, jobs)
    assert g.worker.jobs[jobs[0]].state is JobState.DONE, g.worker.jobs[jobs[0]].message
    takes = window.doc.project.takes
    assert len(takes) == 3
    qtbot.waitUntil(lambda: len(g.takes.rows) == 3)
    assert [r.take.id for r in g.takes.rows] == [t.id for t in takes]
    audio = [sf.read(t.path, dtype="float32")[0] for t in takes]
    for a in audio:
        assert a.shape == (REGION[1] - REGION[0],) and np.isfinite(a).all() and np.abs(a).max() > 0
    assert not np.allclose(audio[0], audio[1]) and not np.allclose(audio[1], audio[2])
    assert sorted(t.settings["seed"] for t in takes) == [40, 41, 42]
    for take in takes:
        s = take.settings
        assert (s["mode"], s["prompt"], s["steps"], s["model"], s["cfg"]) == ("text", "door slam", 3, "tiny", 4.0)
        assert s["quality"] is None                      # no tag by default, as the CLI
        assert (take.region_start, take.region_end) == REGION
        assert take.track_id == foley.id
        assert Path(take.path).with_suffix(".json").is_file()          # the sidecar beside the WAV
    # The previews (waveform + spectrogram) arrive from the pool and are drawn in each row.
    qtbot.waitUntil(lambda: all(r.view.preview is not None for r in g.takes.rows), timeout=10_000)
    assert g.takes.rows[0].view.preview.spectrogram.width() > 10
    assert "seed 40" in g.takes.rows[0].info.text() and "γ 4" in g.takes.rows[0].info.text()
    # One undo step removes the whole batch from the project (the files stay on disk).
    window.doc.undo()
    assert window.doc.project.takes == []


def test_cancel_during_a_run_leaves_no_take_and_the_worker_idle(qtbot, window):
    g = window.generation
    g.panel.steps.setValue(200)
    g.panel.n_takes.setValue(2)
    seen = []

    def on_progress(job_id, event):
        if event.stage == "sampling" and not seen:
            seen.append(event.step)
            g.panel.cancel()
    g.worker.progress.connect(on_progress)
    ticks = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    jobs = g.panel.generate()
    _wait_done(qtbot, window, jobs)
    timer.stop()
    # The GUI thread kept running its timers while the engine loaded torch, the model and sampled.
    # (How many ticks depends on how fast the job ends; the gap between them is what matters.)
    assert len(ticks) >= 2 and max(np.diff(ticks)) < 1.5, ticks
    info = g.worker.jobs[jobs[0]]
    assert seen and info.state is JobState.CANCELLED
    assert info.fraction < 0.5                     # it stopped early, not at the end
    assert window.doc.project.takes == []
    takes_dir = g.panel.takes_dir()
    assert not takes_dir.exists() or not list(takes_dir.glob("*.wav"))
    assert g.worker.idle and g.worker.running_job is None
    assert g.panel.progress.format() == "cancelled" and not g.panel.cancel_button.isEnabled()
    assert g.panel.jobs.state_of(jobs[0]) == "cancelled"


def test_use_drops_the_take_on_the_target_track_and_undo_removes_it(qtbot, window):
    g = window.generation
    g.panel.n_takes.setValue(2)
    _wait_done(qtbot, window, g.panel.generate())
    take = window.doc.project.takes[1]
    g.takes.audition_number(2)                     # no audio device here: still marks it auditioned
    assert g.takes.current_take == take.id
    target = window.doc.project.tracks[1]
    before = list(target.clips)
    g.actions["use"].trigger()                     # Enter (focus is not in the generate panel)
    assert len(target.clips) == len(before) + 1
    clip = next(c for c in target.clips if c.take_id == take.id)
    assert (clip.start, clip.end, clip.source) == (REGION[0], REGION[1], take.path)
    assert window.doc.history.undo_text == "Apply take"
    window.doc.undo()
    assert [c.id for c in window.doc.project.tracks[1].clips] == [c.id for c in before]
    assert take in window.doc.project.takes         # undoing Use keeps the take itself


def test_extend_gives_the_engine_the_audio_before_the_region(qtbot, window, monkeypatch):
    from foley_studio.engine.sources import ProjectAudio
    reads = []
    original = ProjectAudio.read

    def spy(self, start, end):
        out = original(self, start, end)
        reads.append((start, end, float(np.abs(out).max())))
        return out
    monkeypatch.setattr(ProjectAudio, "read", spy)
    g = window.generation
    g.panel.set_mode("extend")
    clock = window.doc.project.video.clock
    assert f"continues the mix {clock.timecode(0)} – {clock.timecode(REGION[0])}" in g.panel.context.text()
    info = _generate_one_take(qtbot, window)
    request = info.request
    assert (request.mode, request.region, request.context_seconds) == ("extend", REGION, 2.0)
    assert info.state is JobState.DONE, info.message
    # The 1 s before the region (the door clip plays 0.5–1.5 s) was read from the mix and is audible.
    assert any(end == REGION[0] and start == 0 and peak > 0.1 for start, end, peak in reads), reads
    assert window.doc.project.takes[0].settings["mode"] == "extend"


def test_analogy_passes_the_dropped_library_clip_as_the_reference(qtbot, window, media):
    g = window.generation
    slot = g.panel.reference_slot
    drag = LibraryDrag(path=str(media["glass"]), name="glass.wav", duration=1.5, start=0.25, end=1.25)
    mime = encode_library_drag([drag])
    g.panel.set_mode("analogy")
    drop = QDropEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    slot.dropEvent(drop)
    assert slot.reference is not None and slot.reference.path == str(media["glass"])
    assert "glass.wav" in g.panel.context.text()
    info = _generate_one_take(qtbot, window)
    assert info.state is JobState.DONE, info.message
    ref = info.request.reference
    assert (info.request.mode, ref.path, ref.start, ref.end) == ("analogy", str(media["glass"]), SR // 4,
                                                                 SR + SR // 4)
    assert window.doc.project.takes[0].settings["reference"]["path"] == str(media["glass"])


def test_takes_survive_save_and_reopen_and_regenerate_from_the_sidecar(qtbot, window, tmp_path):
    g = window.generation
    g.panel.n_takes.setValue(2)
    _wait_done(qtbot, window, g.panel.generate())
    g.takes.set_kept(window.doc.project.takes[0].id, False)
    path = tmp_path / "scene" / "scene.fsproj"
    path.parent.mkdir()
    assert window._save_to(path)
    saved = [(t.id, t.path, t.settings, t.kept) for t in window.doc.project.takes]
    assert window.open_project(path)
    reopened = window.doc.project.takes
    assert [(t.id, t.path, t.settings, t.kept) for t in reopened] == saved
    assert all(Path(t.path).is_file() for t in reopened)
    # Made before the first save, the takes were copied into the project's own folder with it.
    assert all(Path(t.path).parent == path.parent / "takes" for t in reopened)
    qtbot.waitUntil(lambda: len(g.takes.rows) == 2)
    assert g.takes.rows[0].keep_button.text() == "Restore"   # the discarded take is still marked so
    # Regenerate from the sidecar: the same settings and seed give the same audio again.
    original = reopened[1]
    job = g.panel.regenerate_take(original.id)
    _wait_done(qtbot, window, [job])
    assert len(window.doc.project.takes) == 3
    again = window.doc.project.takes[2]
    assert again.settings["seed"] == original.settings["seed"]
    np.testing.assert_allclose(sf.read(again.path, dtype="float32")[0], sf.read(original.path, dtype="float32")[0],
                               atol=1e-4)


def test_a_missing_model_is_reported_and_the_ui_stays_responsive(qtbot, window, tiny_weights, tmp_path, monkeypatch):
    from foley_studio.core import paths
    monkeypatch.setattr(paths, "BUNDLED_MODELS_DIR", tmp_path / "no-bundled-models")   # hide models/demo
    g = window.generation
    shutil.rmtree(user_models_dir() / "tiny")        # weights vanish after the picker was filled
    jobs = g.panel.generate()
    _wait_done(qtbot, window, jobs)
    info = g.worker.jobs[jobs[0]]
    assert info.state is JobState.FAILED
    assert "no model named 'tiny'" in info.result.error
    assert g.panel.error.isVisible() and "no model named 'tiny'" in g.panel.error.text()
    assert "no model named 'tiny'" in window.statusBar().currentMessage()
    assert g.panel.jobs.state_of(jobs[0]) == "failed"
    assert g.worker.idle and window.doc.project.takes == []
    g.panel.refresh_models()                          # the picker now explains instead of offering it
    qtbot.waitUntil(lambda: g.panel.models_ready)
    assert not g.panel.generate_button.isEnabled() and "No generative model" in g.panel.model_hint.text()
    # The same worker carries on once the model is back: the failure did not wedge the engine thread.
    shutil.copytree(tiny_weights, user_models_dir() / "tiny")
    g.panel.refresh_models()
    qtbot.waitUntil(lambda: g.panel.models_ready)
    assert _generate_one_take(qtbot, window).state is JobState.DONE and len(window.doc.project.takes) == 1
    assert not g.panel.error.isVisible()


def test_no_region_is_refused_with_a_message(qtbot, window):
    window.doc.set_region(None)
    assert window.generation.panel.generate() == []
    assert "no region selected" in window.generation.panel.error.text()


def test_vary_cfg_is_one_batched_job_and_each_take_shows_its_own_cfg(qtbot, window):
    g = window.generation
    g.panel.n_takes.setValue(3)
    g.panel.cfg.setValue(4.0)
    g.panel.preset.setCurrentIndex(g.panel.preset.findData("vary γ"))
    qtbot.mouseClick(g.panel.generate_button, Qt.LeftButton)
    jobs = g.panel.current_jobs
    assert len(jobs) == 1                                   # one request: one sampling run for all γ
    request = g.worker.jobs[jobs[0]].request
    assert request.cfgs == (2.0, 4.0, 6.0)
    assert len(request.seeds) == 3 and len(set(request.seeds)) == 1      # one seed, three γ
    _wait_done(qtbot, window, jobs)
    takes = window.doc.project.takes
    assert [t.settings["cfg"] for t in takes] == [2.0, 4.0, 6.0]
    assert [t.label for t in takes] == [f"seed {request.seeds[0]} · γ {g:g}" for g in (2, 4, 6)]
    qtbot.waitUntil(lambda: len(g.takes.rows) == 3)
    shown = sorted(row.info.text().splitlines()[1].split("γ ")[1] for row in g.takes.rows)   # "mode · γ 4"
    assert shown == ["2", "4", "6"]
    # Regenerating one of them runs it alone at its own γ, from its sidecar.
    job = g.panel.regenerate_take(takes[1].id)
    assert g.worker.jobs[job].request.takes == [(request.seeds[0], 4.0)]
    _wait_done(qtbot, window, [job])
    again = window.doc.project.takes[3]
    assert again.settings["cfg"] == 4.0
    np.testing.assert_allclose(sf.read(again.path, dtype="float32")[0], sf.read(takes[1].path, dtype="float32")[0],
                               atol=1e-4)


def test_warm_models_keep_one_model_and_unload_it_on_switch():
    import weakref

    from foley_studio.session.generation import WarmModels

    class Provider:
        loads: list[str] = []

        def get(self, name, device):
            Provider.loads.append(name)
            return object()

    warm = WarmModels(Provider)
    warm.get("a", "cpu")
    first = weakref.ref(warm._inner)
    warm.get("a", "cpu")
    assert first() is warm._inner and warm.loaded_name == "a"        # kept warm: same provider
    warm.get("b", "cpu")
    assert first() is None and warm.loaded_name == "b"               # the old one is gone
    warm.unload()
    assert warm.loaded_name is None and Provider.loads == ["a", "a", "b"]


def test_analogy_from_a_timeline_clip_references_the_mix_with_its_picture(qtbot, window):
    g = window.generation
    target = window.doc.selected_track
    window.doc.select_clips(["clip-door"])
    window.doc.select_track(target)
    assert g.panel.reference_slot.use_selected_clip()
    assert g.panel.mode_value == "analogy"                   # a reference implies analogy
    assert "with its picture" in g.panel.reference_slot.label.text()
    info = _generate_one_take(qtbot, window)
    assert info.state is JobState.DONE, info.message
    ref = info.request.reference
    assert (ref.path, ref.start, ref.end) == (None, SR // 2, SR // 2 + SR)   # the project mix over the clip


def test_inpaint_describes_and_sends_both_sides(qtbot, window):
    g = window.generation
    g.panel.set_mode("inpaint")
    assert "before and" in g.panel.context.text() and "after the region" in g.panel.context.text()
    info = _generate_one_take(qtbot, window)
    assert info.state is JobState.DONE, info.message
    assert info.request.mode == "inpaint" and window.doc.project.takes[0].settings["mode"] == "inpaint"


def test_g_focuses_the_prompt_and_warms_the_model_up(qtbot, window):
    g = window.generation
    assert g.worker.loaded_model is None
    with qtbot.waitSignal(g.worker.modelLoaded, timeout=30_000) as loaded:
        g.actions["focus"].trigger()
    assert loaded.args == ["tiny", ""] and g.worker.loaded_model == "tiny"
    assert window.docks["generate"].isVisible()


def test_closing_the_window_before_the_model_listing_starts_is_quiet(qtbot, tmp_path):
    """The first model listing is deferred past the first paint; a window shut down before then
    must not start it (it used to emit on a deleted panel)."""
    from foley_studio.ui.main_window import MainWindow

    win = MainWindow(project_from_video(make_video(tmp_path / "v.mp4", seconds=1.0, fps=24, size=(32, 24),
                                                   with_audio=False)), audio=False, restore_layout=False)
    qtbot.addWidget(win)
    win.shutdown()                            # before the event loop ran the deferred listing
    qtbot.wait(50)
    assert win.generation.panel._lister.idle
    assert win.generation.panel.models_ready is False


def test_the_jobs_list_belongs_to_the_open_project(qtbot, window, media):
    g = window.generation
    jobs_list = g.panel.jobs
    first = _generate_one_take(qtbot, window)
    assert jobs_list.job_ids() == [first.job_id] and jobs_list.state_of(first.job_id) == "done (1)"
    # A slow job is still running when another project is opened: it stays listed (it can be
    # cancelled), marked as the earlier project's; the finished one goes.
    g.panel.steps.setValue(200)
    g.panel.n_takes.setValue(1)
    slow = g.panel.generate()[0]
    qtbot.waitUntil(lambda: g.worker.jobs[slow].state is JobState.RUNNING, timeout=30_000)
    window._install(project_from_video(media["video"], n_tracks=1), None)
    assert jobs_list.job_ids() == [slow]
    assert "(earlier project)" in jobs_list.table.item(0, 2).text()
    jobs_list.table.selectRow(0)
    qtbot.mouseClick(jobs_list.cancel_button, Qt.LeftButton)
    _wait_done(qtbot, window, [slow])
    assert g.worker.jobs[slow].state is JobState.CANCELLED
    qtbot.mouseClick(jobs_list.clear_button, Qt.LeftButton)
    assert jobs_list.job_ids() == []
    window.doc.set_region(REGION)
    g.panel.steps.setValue(3)
    mine = _generate_one_take(qtbot, window)
    assert jobs_list.job_ids() == [mine.job_id]
    assert "(earlier project)" not in jobs_list.table.item(0, 2).text()
    assert len(window.doc.project.takes) == 1            # the new project got its own take, and only that
