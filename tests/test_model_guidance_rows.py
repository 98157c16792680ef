"""Per-take given latents (N, C_z, L) and the single-branch γ = 0 path, against the behaviour they replace."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from foley_studio.engine.errors import EngineError
from foley_studio.engine.models import StaticModels
from foley_studio.engine.pipeline import Pipeline, regenerate_take
from foley_studio.engine.request import GenerationRequest
from foley_studio.model.config import TINY
from foley_studio.model.errors import ModelError
from foley_studio.model.guidance import _batch_inputs, combine, guided_denoiser
from tests.engine_fakes import expected_window_seed
from tests.model_helpers import tiny_model


T = 48
C = TINY.latent_channels
SEEDS = [3, 5, 7]


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def _mask() -> torch.Tensor:
    mask = torch.zeros(T, dtype=torch.bool)
    mask[:12] = True
    return mask


def _contexts(n: int) -> torch.Tensor:
    return torch.randn(n, C, T, generator=torch.Generator().manual_seed(11))


def _cond(model, context: torch.Tensor, **extra):
    kwargs = dict(n_latents=T, prompt="glass hits wood", negative_prompt="music", quality="high",
                  context_latents=context, context_mask=_mask())
    kwargs.update(extra)
    return model.prepare_conditions(**kwargs)


def _rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    # an untrained model's x0 estimates are large: compare relative to their size
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize("sampler, eta", [("dpmpp", 0.0), ("ddim", 1.0)])
def test_per_row_contexts_in_one_call_equal_one_call_per_take(model, sampler, eta):
    contexts = _contexts(len(SEEDS))
    batched = model.sample(_cond(model, contexts), SEEDS, steps=6, sampler=sampler, eta=eta)
    for row, seed in enumerate(SEEDS):      # the old path: each take with its own context, alone
        single = model.sample(_cond(model, contexts[row]), [seed], steps=6, sampler=sampler, eta=eta)
        assert torch.equal(batched[row, :, :12], contexts[row, :, :12])      # given positions exactly
        assert _rel_error(batched[row], single[0]) < 1e-5


def test_per_row_contexts_with_an_analogy_reference(model):
    contexts = _contexts(2)
    ref = torch.randn(C, 10, generator=torch.Generator().manual_seed(2))
    cond = _cond(model, contexts, reference_latents=ref)
    assert cond.given.shape == (2, C, 10 + T)
    assert torch.equal(cond.given[:, :, :10], ref[None].expand(2, -1, -1))   # the reference in every row
    batched = model.sample(cond, [1, 2], steps=4)
    for row, seed in enumerate([1, 2]):
        single = model.sample(_cond(model, contexts[row], reference_latents=ref), [seed], steps=4)
        assert _rel_error(batched[row], single[0]) < 1e-5


def test_identical_rows_equal_the_shared_form_and_rows_really_differ(model):
    context = _contexts(1)[0]
    shared = model.sample(_cond(model, context), [4, 9], steps=4)
    per_row = model.sample(_cond(model, context[None].repeat(2, 1, 1)), [4, 9], steps=4)
    assert _rel_error(per_row, shared) < 1e-6
    other = context[None].repeat(2, 1, 1)
    other[1] = _contexts(2)[1]
    changed = model.sample(_cond(model, other), [4, 9], steps=4)
    assert _rel_error(changed[0], shared[0]) < 1e-6                     # row 0 kept its context
    assert not torch.allclose(changed[1, :, 12:], shared[1, :, 12:], atol=1e-3)   # row 1 follows its own


def test_per_row_shapes_are_checked(model):
    with pytest.raises(ModelError, match=r"\(seeds, 8, 48\)"):
        model.prepare_conditions(n_latents=T, context_latents=torch.zeros(2, C + 1, T))
    cond = _cond(model, _contexts(3))
    with pytest.raises(ModelError, match="3 seeds"):
        model.sample(cond, [1, 2], steps=2)


# ----------------------------------------------------------------------------- γ = 0
def _two_branch_denoiser(model, cond, n: int, cfg: float):
    """The previous guided denoiser: both branches (2N rows) every step, whatever γ."""
    inputs = _batch_inputs(cond, n, negative=True)

    def denoise(x, t):
        out = model.dit(torch.cat([x, x]), torch.full((2 * n,), float(t)), **inputs)
        x0 = model.schedule.denoised(x, combine(*out.chunk(2), cfg), t)
        return torch.where(inputs["given_mask"][:n, None, :], inputs["given"][:n], x0)

    return denoise


@pytest.mark.parametrize("per_row", [False, True])
def test_cfg_zero_runs_only_the_positive_rows_with_the_same_result(model, per_row):
    n = 3
    cond = _cond(model, _contexts(n) if per_row else _contexts(1)[0])
    rows = []
    handle = model.dit.register_forward_pre_hook(lambda _m, args: rows.append(args[0].shape[0]))
    try:
        x = torch.randn(n, C, T, generator=torch.Generator().manual_seed(5))
        with torch.no_grad():
            fast = guided_denoiser(model.dit, model.schedule, cond, n, cfg=0.0)(x, 0.5)
        assert rows == [n]
        with torch.no_grad():
            old = _two_branch_denoiser(model, cond, n, cfg=0.0)(x, 0.5)
        assert _rel_error(fast, old) < 1e-5
        rows.clear()
        out = model.sample(cond, SEEDS, steps=5, cfg=0.0)
        assert rows == [n] * 5
        rows.clear()
        model.sample(cond, SEEDS, steps=2, cfg=1.5)
        assert rows == [2 * n] * 2                        # guidance still runs both branches
    finally:
        handle.remove()
    assert torch.isfinite(out).all()


# ----------------------------------------------------------------------------- the engine
def _pipeline(model, **kwargs) -> Pipeline:
    return Pipeline(StaticModels(model, "tiny"), device="cpu", **kwargs)


def _request(**kwargs) -> GenerationRequest:
    base = dict(mode="text", region=(0, 20 * 48_000), prompt="footsteps", steps=2, seeds=(1, 2, 3), model="tiny")
    base.update(kwargs)
    return GenerationRequest(**base)


def test_a_long_region_makes_one_sample_call_per_window_for_all_takes(model):
    pipeline = _pipeline(model)
    calls, events = [], []
    sample = model.sample
    model.sample = lambda cond, seeds, **kw: calls.append((list(seeds), cond.given_rows)) or sample(cond, seeds, **kw)
    try:
        rendered = pipeline.render(_request(), events.append)
    finally:
        del model.sample
    windows = len(rendered.windows)
    assert windows >= 3
    assert calls == [([expected_window_seed(s, k) for s in (1, 2, 3)], None if k == 0 else 3) for k in range(windows)]
    sampling = [e for e in events if e.stage == "sampling"]
    assert len(sampling) == windows * 2
    assert {(e.take_first, e.take_last, e.takes) for e in sampling} == {(1, 3, 3)}
    assert sampling[-1].fraction == 1.0


def test_batched_windows_equal_one_take_at_a_time(model):
    batched = _pipeline(model).render(_request())
    alone = _pipeline(model, max_batch=1).render(_request())     # every window of every take on its own
    for seed in (1, 2, 3):
        assert batched.audio[seed].shape == (20 * 48_000,)
        np.testing.assert_allclose(batched.audio[seed], alone.audio[seed], atol=1e-5)
    assert not np.allclose(batched.audio[1], batched.audio[2])


def test_a_take_from_before_batched_windows_says_why_it_differs(model, tmp_path):
    pipeline = _pipeline(model, takes_dir=tmp_path / "takes")
    first, _, _ = pipeline.run(_request(steps=1))
    assert np.array_equal(regenerate_take(first.sidecar_path, pipeline), sf.read(first.wav_path, dtype="float32")[0])
    # a sidecar written by the per-take version (no flag) whose samples differ by rounding
    data = json.loads(first.sidecar_path.read_text())
    del data["extra"]["batched_windows"]
    data["audio"]["sha256"] = "0" * 64
    first.sidecar_path.write_text(json.dumps(data))
    with pytest.raises(EngineError, match="one take at a time"):
        regenerate_take(first.sidecar_path, pipeline)
