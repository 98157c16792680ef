"""The pipeline against a known-answer fake model: layout, context, windows, takes, OOM."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from foley_studio.engine.errors import EngineError, OutOfMemoryFailure, RequestError
from foley_studio.engine.models import StaticModels
from foley_studio.engine.pipeline import Pipeline, regenerate_take
from foley_studio.engine.request import GenerationRequest, ReferenceClip
from foley_studio.engine.sources import ArrayAudio
from foley_studio.engine.takes import read_sidecar
from tests.engine_fakes import HOP, FakeModel, sine, expected_window_seed

SR = 48_000


def make_pipeline(tmp_path, model=None, source=None, **kwargs) -> tuple[Pipeline, FakeModel]:
    model = model or FakeModel()
    pipeline = Pipeline(StaticModels(model, "fake"), takes_dir=str(tmp_path / "takes"), source=source,
                        device="cpu", **kwargs)
    return pipeline, model


def request(**kwargs) -> GenerationRequest:
    base = dict(mode="text", region=(0, SR), prompt="footsteps on gravel", steps=3, seeds=(7,), model="fake")
    base.update(kwargs)
    return GenerationRequest(**base)


def test_takes_and_sidecars_written_and_regenerated_bit_identically(tmp_path):
    pipeline, _ = make_pipeline(tmp_path)
    req = request(region=(SR // 2, SR // 2 + 30_000), seeds=(1, 2, 3))
    results = pipeline.run(req)
    assert [r.seed for r in results] == [1, 2, 3]
    files = sorted(p.name for p in (tmp_path / "takes").iterdir())
    assert files == sorted([f"{r.take_id}.wav" for r in results] + [f"{r.take_id}.json" for r in results])
    for result in results:
        audio, rate = sf.read(result.wav_path, dtype="float32")
        assert rate == SR and audio.shape == (30_000,)     # exactly the region, not whole latents
        side = read_sidecar(result.sidecar_path)
        assert side.seed == result.seed and side.request.seeds == (1, 2, 3)
        assert side.request.prompt == "footsteps on gravel" and side.model.name == "fake"
        again = regenerate_take(str(result.sidecar_path), pipeline)
        assert np.array_equal(again, audio)
    raw = json.loads(results[0].sidecar_path.read_text())
    assert raw["model"]["hash"] == pipeline.models.get("fake", pipeline.device).identity.hash
    # each take states its level; every file peaks at it, never above full scale
    for result in results:
        level = json.loads(result.sidecar_path.read_text())["extra"]["level"]
        peak = 20 * np.log10(np.abs(sf.read(result.wav_path, dtype="float32")[0]).max())
        assert level["mode"] == "peak" and peak == pytest.approx(level["peak_dbfs"], abs=0.01) and peak <= -0.99
    assert not np.array_equal(sf.read(results[0].wav_path)[0], sf.read(results[1].wav_path)[0])


def test_regenerate_detects_changed_context(tmp_path):
    source = ArrayAudio(0.4 * sine(6 * SR).astype(np.float32))
    pipeline, _ = make_pipeline(tmp_path, source=source)
    [take] = pipeline.run(request(mode="extend", region=(3 * SR, 4 * SR)))
    source.samples[2 * SR:3 * SR] *= 0.5
    with pytest.raises(EngineError, match="audio around the region"):
        regenerate_take(str(take.sidecar_path), pipeline)


def test_seeds_are_batched_in_one_call(tmp_path):
    pipeline, model = make_pipeline(tmp_path)
    batched = pipeline.render(request(seeds=(4, 5, 6)))
    assert model.sample_calls == [[4, 5, 6]]
    single = make_pipeline(tmp_path)[0].render(request(seeds=(5,)))
    assert np.array_equal(batched.audio[5], single.audio[5])


def test_extend_hands_preceding_audio_to_the_model(tmp_path):
    source = ArrayAudio(0.4 * sine(10 * SR).astype(np.float32))
    pipeline, model = make_pipeline(tmp_path, source=source)
    rendered = pipeline.render(request(mode="extend", region=(4 * SR, 6 * SR), context_seconds=2.0))
    [cond] = model.conditions
    head = 80                                   # 2 s of latents at 40 Hz
    assert cond["n_latents"] == head + 80
    mask = cond["context_mask"]
    assert mask.dtype == torch.bool and mask[:head].all() and not mask[head:].any()
    ctx = cond["context_latents"]
    assert ctx.shape == (2, head + 80)
    assert torch.allclose(ctx[0, :head], torch.full((head,), 0.4), atol=1e-3)
    # the fake continues the last given value, so the take starts where the context left off
    take = rendered.audio[7]
    first_frame_amp = np.sqrt(2 * np.mean(take[:HOP] ** 2))
    assert first_frame_amp == pytest.approx(0.4, abs=0.01)


def test_inpaint_gives_both_sides(tmp_path):
    source = ArrayAudio(0.4 * sine(10 * SR).astype(np.float32))
    pipeline, model = make_pipeline(tmp_path, source=source)
    pipeline.render(request(mode="inpaint", region=(4 * SR, 5 * SR), context_seconds=1.0))
    mask = model.conditions[0]["context_mask"]
    assert mask.tolist() == [True] * 40 + [False] * 40 + [True] * 40


def test_extend_over_silence_is_refused(tmp_path):
    pipeline, _ = make_pipeline(tmp_path, source=ArrayAudio(np.zeros(10 * SR, np.float32)))
    with pytest.raises(RequestError, match="silent"):
        pipeline.render(request(mode="extend", region=(4 * SR, 6 * SR)))


def test_three_windows_join_without_gap_or_click(tmp_path):
    # 40-latent windows sharing 10: a 100-latent region takes exactly three windows.
    model = FakeModel(window_latents=40, slope=0.01)
    pipeline, _ = make_pipeline(tmp_path, model=model)
    req = request(region=(0, 100 * HOP), seeds=(11, 12), overlap_seconds=0.25)
    rendered = pipeline.render(req)
    assert len(rendered.windows) == 3
    # one batched call per window; later windows carry each take's own context row
    assert model.sample_calls == [[11, 12]] + [[expected_window_seed(s, k) for s in (11, 12)] for k in (1, 2)]
    # later windows get their shared span as given latents
    assert model.conditions[1]["context_mask"].tolist() == [True] * 10 + [False] * 30
    assert model.conditions[1]["context_latents"].shape == (2, 2, 40)
    for seed in (11, 12):
        take = rendered.audio[seed]
        base = 0.3 + 0.2 * torch.rand(1, generator=torch.Generator().manual_seed(seed)).item()
        ideal = model.decode_latents((base + 0.01 * torch.arange(1, 101, dtype=torch.float64))
                                     .float()[None, None].repeat(1, 2, 1))[0].numpy()
        assert take.shape == ideal.shape
        level = rendered.levels[req.seeds.index(seed)]        # takes leave at a stated peak level
        assert level.mode == "peak" and level.peak_dbfs == pytest.approx(-1.0, abs=0.01)
        ideal = ideal * 10 ** (level.gain_db / 20)
        assert np.max(np.abs(take - ideal)) < 2e-3          # continuous through both seams
        clicks = np.max(np.abs(np.diff(take)))
        assert clicks <= np.max(np.abs(np.diff(ideal))) * 1.01
        rms = np.sqrt(np.mean(take.reshape(-1, 600) ** 2, axis=1))
        ideal_rms = np.sqrt(np.mean(ideal.reshape(-1, 600) ** 2, axis=1))
        assert np.max(np.abs(20 * np.log10(rms / ideal_rms))) < 0.1   # no dip or bump at the seams


def test_out_of_memory_retries_with_smaller_batches(tmp_path):
    pipeline, model = make_pipeline(tmp_path, model=FakeModel(oom_above=2))
    results = pipeline.run(request(seeds=(1, 2, 3, 4, 5)))
    assert model.sample_calls == [[1, 2], [3, 4], [5]]
    assert [r.seed for r in results] == [1, 2, 3, 4, 5]
    assert read_sidecar(results[2].sidecar_path).request.seeds == (3, 4)   # the batch it was made in


@pytest.mark.parametrize("error", [RuntimeError, MemoryError], ids=["torch CPU allocator", "numpy"])
def test_out_of_memory_on_the_cpu_retries_with_smaller_batches(tmp_path, error):
    pipeline, model = make_pipeline(tmp_path, model=FakeModel(oom_above=1, oom_error=error))
    results = pipeline.run(request(seeds=(1, 2, 3)))
    assert model.sample_calls == [[1], [2], [3]] and [r.seed for r in results] == [1, 2, 3]


@pytest.mark.parametrize("error", [None, RuntimeError, MemoryError], ids=["CUDA", "torch CPU allocator", "numpy"])
def test_out_of_memory_even_for_one_take_is_a_clear_error(tmp_path, error):
    pipeline, _ = make_pipeline(tmp_path, model=FakeModel(oom_above=0, oom_error=error))
    with pytest.raises(OutOfMemoryFailure, match=r"out of memory on cpu even for one take of 1\.0 s with model "
                                                  r"'fake'; close other programs to free memory, or choose a "
                                                  r"shorter region\. Nothing was written"):
        pipeline.run(request(seeds=(1, 2)))
    assert not (tmp_path / "takes").exists() or not any((tmp_path / "takes").iterdir())


def test_analogy_prepends_reference_latents(tmp_path):
    ref_path = tmp_path / "ref.wav"
    sf.write(ref_path, (0.25 * sine(2 * SR)).astype(np.float32), SR)
    pipeline, model = make_pipeline(tmp_path)
    pipeline.render(request(mode="analogy", reference=ReferenceClip(str(ref_path), 0, SR)))
    cond = model.conditions[0]
    assert cond["reference_latents"].shape == (2, 40)
    assert torch.allclose(cond["reference_latents"][0], torch.full((40,), 0.25), atol=1e-3)
    assert cond["reference_video_feats"] is None           # a library sound has no picture: ∅_v
    assert cond["context_latents"] is None


def test_analogy_reference_from_the_timeline(tmp_path):
    source = ArrayAudio(0.3 * sine(4 * SR).astype(np.float32))
    pipeline, model = make_pipeline(tmp_path, source=source)
    pipeline.render(request(mode="analogy", region=(2 * SR, 3 * SR), reference=ReferenceClip(None, 0, SR)))
    assert torch.allclose(model.conditions[0]["reference_latents"][0], torch.full((40,), 0.3), atol=1e-3)


def test_text_mode_needs_no_project(tmp_path):
    pipeline, model = make_pipeline(tmp_path)
    rendered = pipeline.render(request(region=(0, SR)))
    assert model.conditions[0]["context_mask"] is None
    assert model.conditions[0]["prompt"] == "footsteps on gravel"
    assert rendered.audio[7].dtype == np.float32


def test_progress_counts_every_window_of_every_take(tmp_path):
    pipeline, _ = make_pipeline(tmp_path, model=FakeModel(window_latents=40))
    events = []
    pipeline.render(request(region=(0, 100 * HOP), seeds=(1, 2), steps=4, overlap_seconds=0.25), events.append)
    sampling = [e for e in events if e.stage == "sampling"]
    assert len(sampling) == 3 * 4                  # every window batched over both takes
    fractions = [e.fraction for e in sampling]
    assert all(b > a for a, b in zip(fractions, fractions[1:])) and fractions[-1] == 1.0
    assert fractions[3] == pytest.approx(1 / 3)    # window 1 of 3 done for both takes
    assert sampling[4].describe() == "step 1/4, takes 1–2 of 2, window 2/3"
    assert sampling[8].describe() == "step 1/4, takes 1–2 of 2, window 3/3"


def test_out_of_memory_while_encoding_context_is_a_clear_error(tmp_path):
    model = FakeModel()

    def encode_oom(wave):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (fake, encoder)")

    model.encode_audio = encode_oom
    pipeline, _ = make_pipeline(tmp_path, model=model, source=ArrayAudio(0.4 * sine(4 * SR).astype(np.float32)))
    with pytest.raises(OutOfMemoryFailure, match="out of memory"):
        pipeline.run(request(mode="extend", region=(2 * SR, 3 * SR)))


def test_a_sixty_second_region_is_one_continuous_take(tmp_path):
    model = FakeModel(slope=0.0005)
    pipeline, _ = make_pipeline(tmp_path, model=model)
    rendered = pipeline.render(request(region=(SR, 61 * SR), steps=1))
    assert len(rendered.windows) == 10
    take = rendered.audio[7]
    assert take.shape == (60 * SR,)
    # one amplitude ramp from start to end: frame RMS never jumps between neighbouring frames
    rms = np.sqrt(2 * np.mean(take.reshape(-1, HOP) ** 2, axis=1)) / 10 ** (rendered.levels[0].gain_db / 20)
    assert np.max(np.abs(np.diff(rms))) < 0.0015 and rms[-1] - rms[0] == pytest.approx(0.0005 * 2399, rel=0.01)


def test_a_missing_video_is_a_media_error(tmp_path):
    from foley_studio.media.errors import MediaError
    pipeline, _ = make_pipeline(tmp_path)
    with pytest.raises(MediaError, match="no such file"):
        pipeline.render(request(video=str(tmp_path / "moved.mp4")))


def test_video_features_per_window_and_for_a_timeline_reference(tmp_path):
    from tests.media_fixtures import make_video
    video = make_video(tmp_path / "shot.mp4", seconds=2.0, fps=10, size=(64, 48))
    source = ArrayAudio(0.3 * sine(2 * SR).astype(np.float32), video=str(video))
    pipeline, model = make_pipeline(tmp_path, source=source)
    pipeline.render(request(mode="analogy", video=str(video), region=(SR, 2 * SR),
                            reference=ReferenceClip(None, 0, SR // 2)))
    cond = model.conditions[0]
    assert cond["video_feats"].shape == (10, 4)              # 1 s at the model's 10 fps
    assert cond["reference_video_feats"].shape == (5, 4)      # the reference's own picture, 0.5 s
    # frames differ over time (the fixture's moving bar), so the two ranges are different pictures
    assert not torch.equal(cond["video_feats"][:5], cond["reference_video_feats"])


def test_long_context_and_overlap_are_fitted_to_the_window(tmp_path):
    source = ArrayAudio(0.4 * sine(30 * SR).astype(np.float32))
    pipeline, model = make_pipeline(tmp_path, source=source)
    rendered = pipeline.render(request(mode="inpaint", region=(5 * SR, 20 * SR), context_seconds=4.0,
                                       overlap_seconds=4.0, steps=1))
    first, last = model.conditions[0]["context_mask"], model.conditions[-1]["context_mask"]
    assert int(first[:130].sum()) == 120                    # 3 s of the 8 s window, not 4 s
    assert last[-120:].all() and not last[-121]             # the right context, also 3 s
    assert all(w.length <= 320 for w in rendered.windows)
    assert rendered.audio[7].shape == (15 * SR,)


def test_window_seeds_are_pinned_and_differ_per_window():
    """Pinned values: a rule change (say, every window reusing the take's seed) fails here even if
    the helper that the engine uses changed with it."""
    from foley_studio.engine.pipeline import window_seed
    assert [window_seed(11, k) for k in range(3)] == [11, 6936391194016819354, 2285832879557383523]
    assert [window_seed(12, k) for k in range(3)] == [12, 797725230161168311, 4622515661327350155]
    assert window_seed(7, 1) == 6801174921074823891 == expected_window_seed(7, 1)
