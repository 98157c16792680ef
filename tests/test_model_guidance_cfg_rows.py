"""Per-take guidance scales ("vary γ"): one γ per row through the guidance, the model's `sample`, the
request, the pipeline's windows and the take sidecars, checked against one call per γ."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from foley_studio.engine.errors import RequestError
from foley_studio.engine.models import StaticModels
from foley_studio.engine.pipeline import Pipeline, regenerate_take
from foley_studio.engine.request import GenerationRequest
from foley_studio.engine.takes import read_sidecar
from foley_studio.model.config import TINY
from foley_studio.model.errors import ModelError
from foley_studio.model.guidance import cfg_values, combine, guided_denoiser
from tests.engine_fakes import expected_window_seed
from tests.model_helpers import tiny_model


T = 48
C = TINY.latent_channels
SR = 48_000


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def _cond(model, context: torch.Tensor | None = None):
    mask = torch.zeros(T, dtype=torch.bool)
    mask[:12] = True
    extra = dict(context_latents=context, context_mask=mask) if context is not None else {}
    return model.prepare_conditions(n_latents=T, prompt="glass hits wood", negative_prompt="music",
                                    quality="high", **extra)


def _rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    # an untrained model's x0 estimates are large: compare relative to their size
    return float((a - b).norm() / b.norm())


def _count_rows(model):
    rows: list[int] = []
    handle = model.dit.register_forward_pre_hook(lambda _m, args: rows.append(args[0].shape[0]))
    return rows, handle


# ----------------------------------------------------------------------------- the model
@pytest.mark.parametrize("sampler, eta, per_row_context", [("dpmpp", 0.0, False), ("ddim", 1.0, True)])
def test_each_row_equals_sampling_it_alone_at_its_own_cfg(model, sampler, eta, per_row_context):
    seeds, cfgs = [3, 3, 5, 8], [0.0, 2.0, 4.5, 7.0]       # a zero γ among non-zero ones, a repeated seed
    contexts = torch.randn(len(seeds), C, T, generator=torch.Generator().manual_seed(1))
    cond = _cond(model, contexts if per_row_context else None)
    rows, handle = _count_rows(model)
    try:
        batched = model.sample(cond, seeds, steps=5, sampler=sampler, eta=eta, cfg=cfgs)
    finally:
        handle.remove()
    assert rows == [2 * len(seeds)] * 5                    # mixed zero / non-zero: both branches, one forward
    for row, (seed, cfg) in enumerate(zip(seeds, cfgs)):
        alone = model.sample(_cond(model, contexts[row] if per_row_context else None), [seed],
                             steps=5, sampler=sampler, eta=eta, cfg=cfg)
        assert _rel_error(batched[row], alone[0]) < 1e-5
    # the scales really act: the same seed at γ 0 and γ 2 gives different latents
    assert _rel_error(batched[0], batched[1]) > 1e-2


def test_all_zero_cfgs_run_only_the_positive_rows(model):
    cond = _cond(model)
    rows, handle = _count_rows(model)
    try:
        per_row = model.sample(cond, [1, 2, 3], steps=3, cfg=[0.0, 0.0, 0.0])
        assert rows == [3] * 3
        rows.clear()
        scalar = model.sample(cond, [1, 2, 3], steps=3, cfg=0.0)
        assert rows == [3] * 3
    finally:
        handle.remove()
    assert torch.equal(per_row, scalar)


def test_equal_cfgs_take_the_scalar_path_exactly(model):
    cond = _cond(model)
    x = torch.randn(2, C, T, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        listed = guided_denoiser(model.dit, model.schedule, cond, 2, [3.0, 3.0])(x, 0.4)
        scalar = guided_denoiser(model.dit, model.schedule, cond, 2, 3.0)(x, 0.4)
    assert torch.equal(listed, scalar)


def test_combine_broadcasts_one_cfg_per_row():
    pos, neg = torch.ones(3, 2, 4), torch.zeros(3, 2, 4)
    out = combine(pos, neg, torch.tensor([0.0, 1.0, 2.5]).view(3, 1, 1))
    assert out[:, 0, 0].tolist() == [1.0, 2.0, 3.5]


def test_bad_cfg_rows_are_refused(model):
    assert cfg_values(2, 3) == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="2 guidance scales for 3 rows"):
        cfg_values([1.0, 2.0], 3)
    cond = _cond(model)
    with pytest.raises(ModelError, match="cfg.*2 guidance scales for 3 rows"):
        model.sample(cond, [1, 2, 3], steps=1, cfg=[1.0, 2.0])
    with pytest.raises(ModelError, match=r"cfg.*>= 0.*-1\.0"):
        model.sample(cond, [1, 2], steps=1, cfg=[1.0, -1.0])


# ----------------------------------------------------------------------------- the request
def _vary(**kwargs) -> GenerationRequest:
    base = dict(prompt="door", seeds=(7, 7, 7), cfgs=[2.0, 4.0, 6.0], model="tiny")
    base.update(kwargs)
    return GenerationRequest(**base)


def test_request_with_cfgs_round_trips_and_repeats_a_seed():
    req = _vary().validate()
    assert req.cfgs == (2.0, 4.0, 6.0) and req.take_cfgs == (2.0, 4.0, 6.0)
    assert req.takes == [(7, 2.0), (7, 4.0), (7, 6.0)]
    again = GenerationRequest.from_json(req.to_json())
    assert again == req and hash(again) == hash(req)
    assert json.loads(req.to_json())["cfgs"] == [2.0, 4.0, 6.0]
    # a request without per-take γ writes no cfgs at all (older readers of sidecars keep working)
    plain = GenerationRequest(seeds=(1, 2), cfg=3.0)
    assert "cfgs" not in plain.to_dict() and plain.take_cfgs == (3.0, 3.0)


def test_selecting_takes_keeps_each_take_its_own_cfg():
    req = _vary(seeds=(7, 7, 9), cfgs=(2.0, 4.0, 6.0))
    assert req.select([2, 0]).takes == [(9, 6.0), (7, 2.0)]
    assert req.with_seeds([9]).takes == [(9, 6.0)]
    one = req.for_take(7, 4.0)
    assert (one.seeds, one.cfg, one.cfgs) == ((7,), 4.0, None)
    one.validate()
    with pytest.raises(ValueError, match="seed 7 names 2 takes"):
        req.with_seeds([7])
    with pytest.raises(ValueError, match="seed 7 at γ 5 names 0 takes"):
        req.row_of(7, 5.0)


@pytest.mark.parametrize("changes, words", [
    (dict(cfgs=[2.0, 4.0]), "cfgs (per-take guidance scales) has 2 values for 3 seeds"),
    (dict(cfgs=[2.0, -1.0, 6.0]), "cfgs[1] (guidance scale of take 2) -1.0 must be a number from 0 to 30"),
    (dict(cfgs=[2.0, float("nan"), 6.0]), "cfgs[1]"),
    (dict(cfgs=[2.0, 4.0, 31.0]), "cfgs[2]"),
    (dict(cfgs=[2.0, "4", 6.0]), "cfgs[1]"),
    (dict(cfgs=[2.0, 4.0, 2.0]), "takes 1 and 3 both use seed 7 at γ 2 (cfgs)"),
    (dict(cfgs=5.0), "cfgs 5.0 must be a list"),
    (dict(seeds=(7, 7, 7), cfgs=None), "repeat"),
])
def test_bad_cfgs_are_named(changes, words):
    with pytest.raises(RequestError) as info:
        _vary(**changes).validate()
    assert words in str(info.value)


def test_malformed_cfgs_in_json_are_a_request_error():
    with pytest.raises(RequestError, match="cfgs"):
        GenerationRequest.from_dict({**_vary().to_dict(), "cfgs": [1.0]}).validate()


# ----------------------------------------------------------------------------- the pipeline
def _pipeline(model, tmp_path=None, **kwargs) -> Pipeline:
    takes = {"takes_dir": tmp_path / "takes"} if tmp_path is not None else {}
    return Pipeline(StaticModels(model, "tiny"), device="cpu", **takes, **kwargs)


def test_every_window_gets_each_takes_own_cfg_in_one_call(model):
    req = _vary(region=(0, 12 * SR), steps=2)
    calls = []
    sample = model.sample
    model.sample = lambda cond, seeds, **kw: calls.append((list(seeds), kw["cfg"])) or sample(cond, seeds, **kw)
    try:
        rendered = _pipeline(model).render(req)
    finally:
        del model.sample
    windows = len(rendered.windows)
    assert windows >= 2
    assert calls == [([expected_window_seed(7, k)] * 3, [2.0, 4.0, 6.0]) for k in range(windows)]
    assert rendered.batches == [(0, 1, 2)] * 3
    # each take equals generating it alone at its γ (float rounding apart), and the γ values matter
    for cfg in (2.0, 4.0, 6.0):
        alone = _pipeline(model).render(req.for_take(7, cfg))
        np.testing.assert_allclose(rendered.take(7, cfg), alone.audio[7], atol=1e-5)
    assert not np.allclose(rendered.rows[0], rendered.rows[2], atol=1e-3)
    with pytest.raises(ValueError, match="several γ"):
        rendered.audio


def test_each_take_records_its_own_cfg_and_regenerates_identically(model, tmp_path):
    pipeline = _pipeline(model, tmp_path)
    results = pipeline.run(_vary(region=(0, SR), steps=2))
    assert [r.guidance for r in results] == [2.0, 4.0, 6.0]
    for result in results:
        data = json.loads(result.sidecar_path.read_text())
        assert data["cfg"] == result.guidance and data["request"]["cfgs"] == [2.0, 4.0, 6.0]
        take = result.to_take()
        assert take.settings["cfg"] == result.guidance and take.label == f"seed 7 · γ {result.guidance:g}"
        sidecar = read_sidecar(result.sidecar_path)
        assert sidecar.guidance == result.guidance
        assert sidecar.take_request().takes == [(7, result.guidance)]
    middle = results[1]
    again = regenerate_take(middle.sidecar_path, pipeline)        # verifies the recorded hash too
    assert np.array_equal(again, sf.read(middle.wav_path, dtype="float32")[0])
    assert not np.array_equal(again, sf.read(results[0].wav_path, dtype="float32")[0])


def test_a_split_batch_records_the_takes_it_was_sampled_with(model, tmp_path):
    results = _pipeline(model, tmp_path, max_batch=2).run(_vary(region=(0, SR), steps=1))
    assert [r.request.takes for r in results] == [[(7, 2.0), (7, 4.0)], [(7, 2.0), (7, 4.0)], [(7, 6.0)]]
    assert results[2].request.cfgs == (6.0,)


def test_a_sidecar_from_before_per_take_cfg_reads_its_requests_cfg(model, tmp_path):
    result = _pipeline(model, tmp_path).run(GenerationRequest(region=(0, SR), steps=1, seeds=(1,), cfg=3.5,
                                                              model="tiny"))[0]
    data = json.loads(result.sidecar_path.read_text())
    del data["cfg"]
    result.sidecar_path.write_text(json.dumps(data))
    sidecar = read_sidecar(result.sidecar_path)
    assert sidecar.guidance == 3.5 and sidecar.take_request().cfg == 3.5
