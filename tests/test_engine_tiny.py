"""The engine on a real (tiny, untrained) FoleyModel saved and loaded like an installed one."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile as sf
import torch

from foley_studio.engine.errors import ModelUnavailableError
from foley_studio.engine.models import InstalledModels
from foley_studio.engine.pipeline import Pipeline, regenerate_take
from foley_studio.engine.request import GenerationRequest
from foley_studio.engine.sources import ArrayAudio
from foley_studio.model.checkpoint import ModelRegistry, save_pretrained
from foley_studio.model.config import TINY
from foley_studio.model.foley import FoleyModel

SR = 48_000
HOP = 1200


@pytest.fixture(scope="module")
def models_root(tmp_path_factory):
    """A registry root holding 'tiny1s': the TINY preset with a 1 s window (fast 3-window tests)."""
    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    save_pretrained(FoleyModel(dataclasses.replace(TINY, window_seconds=1.0)), root / "tiny1s",
                    card={"note": "untrained, tests only"})
    return root


def make_pipeline(models_root, tmp_path, **kwargs) -> Pipeline:
    models = InstalledModels(ModelRegistry(roots=[("user", models_root)]))
    return Pipeline(models, takes_dir=str(tmp_path / "takes"), device="cpu", **kwargs)


def request(**kwargs) -> GenerationRequest:
    base = dict(mode="text", region=(0, 20 * HOP), prompt="door slam", steps=3, seeds=(3,), model="tiny1s")
    base.update(kwargs)
    return GenerationRequest(**base)


def test_regenerate_from_sidecar_is_bit_identical_after_reload(models_root, tmp_path):
    results = make_pipeline(models_root, tmp_path).run(request(seeds=(3, 4), region=(HOP // 3, 20 * HOP)))
    fresh = make_pipeline(models_root, tmp_path)           # loads the weights from disk again
    for result in results:
        audio, _ = sf.read(result.wav_path, dtype="float32")
        assert audio.shape == (20 * HOP - HOP // 3,) and np.isfinite(audio).all() and np.abs(audio).max() > 0
        assert np.array_equal(regenerate_take(str(result.sidecar_path), fresh), audio)
    first, second = (sf.read(r.wav_path)[0] for r in results)
    assert not np.allclose(first, second)                  # seeds make different takes


def test_batched_seeds_match_single_runs(models_root, tmp_path):
    pipeline = make_pipeline(models_root, tmp_path)
    batched = pipeline.render(request(seeds=(5, 6, 7)))
    single = pipeline.render(request(seeds=(6,)))
    np.testing.assert_allclose(batched.audio[6], single.audio[6], atol=1e-4)


def test_three_windows_chain_through_given_latents(models_root, tmp_path):
    pipeline = make_pipeline(models_root, tmp_path)
    model = pipeline.models.get("tiny1s", pipeline.device).model
    seen, outputs = [], []
    prepare, sample = model.prepare_conditions, model.sample
    model.prepare_conditions = lambda **kw: seen.append(kw) or prepare(**kw)
    model.sample = lambda *a, **kw: outputs.append(sample(*a, **kw)) or outputs[-1]
    try:
        rendered = pipeline.render(request(region=(0, 100 * HOP), overlap_seconds=0.25))
    finally:
        del model.prepare_conditions, model.sample
    assert [w.length for w in rendered.windows] == [40, 40, 40]
    for k in (1, 2):
        ctx, mask = seen[k]["context_latents"], seen[k]["context_mask"]
        assert mask.tolist() == [True] * 10 + [False] * 30
        assert ctx.shape[0] == 1                   # one context row per take
        assert torch.equal(ctx[0, :, :10], outputs[k - 1][0, :, 30:40])   # the previous window's own output
    take = rendered.audio[3]
    assert take.shape == (100 * HOP,) and np.isfinite(take).all()
    # crossfade regions join smoothly: no sample step at a seam exceeds the take's own largest step
    steps = np.abs(np.diff(take))
    for seam in (30 * HOP, 40 * HOP, 60 * HOP, 70 * HOP):
        assert steps[seam - 2:seam + 2].max() <= steps.max()
        assert steps[seam - 2:seam + 2].max() < 10 * np.median(steps) + 1e-6


def test_out_of_memory_in_the_denoiser_retries_smaller(models_root, tmp_path):
    pipeline = make_pipeline(models_root, tmp_path)
    model = pipeline.models.get("tiny1s", pipeline.device).model
    rows_seen = []

    def oom_above_one_take(_module, args):
        rows_seen.append(args[0].shape[0])
        if args[0].shape[0] > 2:                  # both guidance branches of one take fit, no more
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")

    handle = model.dit.register_forward_pre_hook(oom_above_one_take)
    try:
        results = pipeline.run(request(seeds=(1, 2, 3)))
    finally:
        handle.remove()
    assert [r.seed for r in results] == [1, 2, 3]
    assert rows_seen[0] == 6 and set(rows_seen[1:]) <= {2, 4}
    reference = make_pipeline(models_root, tmp_path).render(request(seeds=(2,)))
    np.testing.assert_allclose(sf.read(results[1].wav_path, dtype="float32")[0], reference.audio[2], atol=1e-4)


def test_extend_with_real_model_keeps_region_length(models_root, tmp_path):
    t = np.arange(4 * SR)
    source = ArrayAudio((0.3 * np.sin(2 * np.pi * 220 * t / SR)).astype(np.float32))
    rendered = make_pipeline(models_root, tmp_path, source=source).render(
        request(mode="extend", region=(2 * SR, 2 * SR + 15 * HOP), context_seconds=0.5))
    assert rendered.audio[3].shape == (15 * HOP,)


def test_missing_model_names_it_and_how_to_train(tmp_path):
    empty = tmp_path / "no_models"
    empty.mkdir()
    pipeline = make_pipeline(empty, tmp_path)
    with pytest.raises(ModelUnavailableError) as info:
        pipeline.render(request(model="demo"))
    message = str(info.value)
    assert "'demo'" in message and "foley-studio train" in message and "untrained" in message
