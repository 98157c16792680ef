from __future__ import annotations

import dataclasses

import pytest
import torch

from foley_studio.model.config import TINY, DiffusionConfig, FoleyConfig, GuidanceConfig
from foley_studio.model.diffusion import NoiseSchedule, get_sampler, make_schedule
from foley_studio.model.errors import ModelError
from foley_studio.model.guidance import _batch_inputs, guided_denoiser
from tests.model_helpers import tiny_model


T = 48   # latent frames per test generation (1.2 s): long enough for context + generated parts


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def _video(model, seconds: float, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    frames = torch.randint(0, 256, (int(seconds * model.video_fps), 40, 40, 3), generator=gen, dtype=torch.uint8)
    return model.encode_video(frames)


def _context(model, seed: int = 1) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(TINY.latent_channels, T, generator=gen)


# ----------------------------------------------------------------------------- schedule
@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_schedule_conversions_are_consistent(prediction):
    sched = NoiseSchedule(DiffusionConfig(prediction=prediction))
    a, s = sched.alpha_sigma(torch.linspace(0, 1, 11))
    assert torch.allclose(a ** 2 + s ** 2, torch.ones(11, dtype=torch.float64))
    assert torch.all(a[1:] < a[:-1])                               # noise grows with t
    assert sched.logsnr(0.0).item() == pytest.approx(12.0) and sched.logsnr(1.0).item() == pytest.approx(-10.0)
    x0, noise = torch.randn(4, 3, 5), torch.randn(4, 3, 5)
    t = torch.tensor([0.1, 0.4, 0.7, 0.95])
    xt = sched.add_noise(x0, noise, t)
    assert torch.allclose(sched.denoised(xt, sched.target(x0, noise, t), t), x0, atol=1e-4)


@pytest.mark.parametrize("sampler, steps, eta", [("dpmpp", 25, 0.0), ("ddim", 100, 0.0), ("ddim", 100, 1.0)])
def test_samplers_transport_noise_to_a_known_gaussian(sampler, steps, eta):
    """With the exact denoiser of N(mu, v0) data, samples must come out with that mean and spread."""
    sched = NoiseSchedule(DiffusionConfig())
    mu, v0 = 0.7, 0.25

    def exact_denoiser(x, t):
        a, s = (float(c) for c in sched.alpha_sigma(t))
        return mu + (a * v0 / (a * a * v0 + s * s)) * (x - a * mu)

    gens = [torch.Generator().manual_seed(i) for i in range(512)]
    x = torch.stack([torch.randn(16, generator=g) for g in gens])
    kwargs = {"eta": eta} if sampler == "ddim" else {}
    out = get_sampler(sampler)(exact_denoiser, x, make_schedule(sched, steps), generator=gens, **kwargs)
    assert out.mean().item() == pytest.approx(mu, abs=0.03)
    assert out.std().item() == pytest.approx(v0 ** 0.5, rel=0.05)


def test_unknown_sampler_names_the_known_ones():
    with pytest.raises(ModelError, match="ddim, dpmpp"):
        get_sampler("euler")


# ----------------------------------------------------------------------------- guidance
def _cond(model, **extra):
    mask = torch.zeros(T, dtype=torch.bool)
    mask[:12] = True
    kwargs = dict(n_latents=T, video_feats=_video(model, T / 40), prompt="glass hits wood", negative_prompt="music",
                  quality="high", context_latents=_context(model), context_mask=mask)
    kwargs.update(extra)
    return model.prepare_conditions(**kwargs)


def _branch(model, cond, x, t, negative: bool):
    """One guidance branch run on its own (no batching with the other branch)."""
    n = x.shape[0]
    inputs = {k: v[n:] if negative else v[:n] for k, v in _batch_inputs(cond, n).items()}
    return model.dit(x, torch.full((n,), t), **inputs)


def test_gamma_zero_equals_the_conditional_branch(model):
    cond = _cond(model)
    x = torch.randn(2, TINY.latent_channels, T, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        guided = guided_denoiser(model.dit, model.schedule, cond, 2, cfg=0.0)(x, 0.6)
        conditional = model.schedule.denoised(x, _branch(model, cond, x, 0.6, negative=False), 0.6)
    free = ~cond.given_mask
    assert torch.allclose(guided[..., free], conditional[..., free], atol=1e-5)


def test_guidance_is_eq_2_to_4_over_the_two_branches(model):
    cond = _cond(model)
    x = torch.randn(2, TINY.latent_channels, T, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        guided = guided_denoiser(model.dit, model.schedule, cond, 2, cfg=3.0)(x, 0.4)
        pos = _branch(model, cond, x, 0.4, negative=False)
        neg = _branch(model, cond, x, 0.4, negative=True)
    expected = model.schedule.denoised(x, 4.0 * pos - 3.0 * neg, 0.4)
    free = ~cond.given_mask
    assert not torch.allclose(pos, neg, atol=1e-3)            # the negative branch really differs
    assert torch.allclose(guided[..., free], expected[..., free], atol=1e-4)


def test_negative_branch_sees_null_video_no_context_and_negative_text(model):
    cond = _cond(model)
    inputs = _batch_inputs(cond, 3)
    assert inputs["video_mask"][:3].all() and not inputs["video_mask"][3:].any()
    assert inputs["given_mask"][:3, :12].all() and not inputs["given_mask"][3:].any()
    assert cond.caption == "glass hits wood, high quality" and cond.negative_caption == "music, low quality"
    empty = model.prepare_conditions(n_latents=T)
    assert empty.text_null and empty.neg_text_null


@pytest.mark.parametrize("policy, negative", [("opposite", "music, low quality"), ("none", "music"),
                                              ("same", "music, high quality")])
def test_the_models_guidance_config_picks_the_negative_branchs_quality_tag(policy, negative):
    calibrated = tiny_model(dataclasses.replace(TINY, guidance=GuidanceConfig(quality_negative=policy)))
    cond = _cond(calibrated)
    assert cond.caption == "glass hits wood, high quality" and cond.negative_caption == negative
    untagged = _cond(calibrated, quality=None)
    assert untagged.negative_caption == "music"               # no tag asked: every policy leaves it alone


def test_a_calibrated_policy_changes_the_guided_output(model):
    same = tiny_model(dataclasses.replace(TINY, guidance=GuidanceConfig(quality_negative="same")))
    x = torch.randn(1, TINY.latent_channels, T, generator=torch.Generator().manual_seed(3))
    outs = [guided_denoiser(m.dit, m.schedule, _cond(m), 1, 4.0)(x, 0.5) for m in (model, same)]
    assert not torch.allclose(outs[0], outs[1], atol=1e-4)


def test_the_calibration_travels_with_the_saved_model(tmp_path):
    from foley_studio.model.checkpoint import load_pretrained, save_pretrained
    config = dataclasses.replace(TINY, guidance=GuidanceConfig(quality_negative="none"))
    save_pretrained(tiny_model(config), tmp_path / "m")
    assert load_pretrained(tmp_path / "m").config.guidance.quality_negative == "none"


def test_an_unknown_quality_negative_policy_is_refused_by_name():
    data = TINY.to_dict()
    data["guidance"] = {"quality_negative": "louder"}
    with pytest.raises(ValueError, match="quality_negative must be one of opposite, none, same"):
        FoleyConfig.from_dict(data)
    old = TINY.to_dict()
    del old["guidance"]                                        # configs written before the section load as before
    assert FoleyConfig.from_dict(old).guidance.quality_negative == "opposite"


def test_one_batched_forward_of_2n_rows_per_step(model, monkeypatch):
    calls = []
    forward = type(model.dit).forward

    def counting(self, x, t, **kw):
        calls.append(x.shape[0])
        return forward(self, x, t, **kw)

    monkeypatch.setattr(type(model.dit), "forward", counting)
    model.sample(_cond(model), [1, 2, 3], steps=5)
    assert calls == [6] * 5


# ----------------------------------------------------------------------------- sampling
def test_given_positions_come_back_exactly(model):
    cond = _cond(model)
    out = model.sample(cond, [0, 1], steps=6)
    ctx = _context(model)
    assert torch.equal(out[:, :, :12], ctx[None, :, :12].expand(2, -1, -1))
    assert not torch.allclose(out[:, :, 12:], torch.zeros_like(out[:, :, 12:]))


def test_inpainting_context_on_both_sides(model):
    mask = torch.zeros(T, dtype=torch.bool)
    mask[:10] = True
    mask[-10:] = True
    out = model.sample(_cond(model, context_mask=mask), [5], steps=4, sampler="ddim")
    ctx = _context(model)
    assert torch.equal(out[0][:, mask], ctx[:, mask])


@pytest.mark.parametrize("sampler, eta", [("dpmpp", 0.0), ("ddim", 1.0)])
def test_batched_seeds_equal_single_runs(model, sampler, eta):
    cond = _cond(model)
    batched = model.sample(cond, [3, 5, 7], steps=6, sampler=sampler, eta=eta)
    for row, seed in enumerate([3, 5, 7]):
        single = model.sample(cond, [seed], steps=6, sampler=sampler, eta=eta)
        # an untrained model's x0 estimates are large; compare relative to their size
        error = (batched[row] - single[0]).norm() / single[0].norm()
        assert error < 1e-5, error


def test_same_seed_same_output_other_seed_other_output(model):
    cond = _cond(model)
    a = model.sample(cond, [11], steps=5)
    b = model.sample(cond, [11], steps=5)
    c = model.sample(cond, [12], steps=5)
    assert torch.equal(a, b)
    assert not torch.allclose(a[..., 12:], c[..., 12:], atol=1e-3)


def test_callback_sees_each_step_and_raising_stops_sampling(model):
    seen = []

    class Cancelled(Exception):
        pass

    def callback(info):
        seen.append(info)
        if info["i"] == 2:
            raise Cancelled

    cond = _cond(model, reference_latents=_context(model, seed=9)[:, :20])
    with pytest.raises(Cancelled):
        model.sample(cond, [1, 2], steps=10, callback=callback)
    assert [s["i"] for s in seen] == [0, 1, 2]
    assert all(s["n"] == 10 for s in seen)
    assert seen[0]["x"].shape == (2, TINY.latent_channels, T)       # reference prefix cropped
    assert seen[0]["denoised"].shape == (2, TINY.latent_channels, T)


def test_analogy_reference_is_prepended_and_cropped(model):
    ref = _context(model, seed=9)[:, :20]
    cond = _cond(model, reference_latents=ref, reference_video_feats=_video(model, 0.5, seed=2))
    assert cond.length == T + 20 and cond.given_mask[:20].all()
    out = model.sample(cond, [1], steps=4)
    assert out.shape == (1, TINY.latent_channels, T)
    plain = model.sample(_cond(model), [1], steps=4)
    assert not torch.allclose(out[..., 12:], plain[..., 12:], atol=1e-4)   # the reference changes the result


def test_generate_returns_waveforms_of_the_region(model):
    wave = model.generate(n_latents=T, seeds=[0, 1], steps=3, prompt="steps on gravel")
    assert wave.shape == (2, T * 1200) and torch.isfinite(wave).all()


def test_bad_condition_shapes_are_user_errors(model):
    with pytest.raises(ModelError, match="context_latents"):
        model.prepare_conditions(n_latents=T, context_latents=torch.zeros(3, T))
    with pytest.raises(ModelError, match="video features"):
        model.prepare_conditions(n_latents=T, video_feats=torch.zeros(10, 3))
    with pytest.raises(ModelError, match="quality"):
        model.prepare_conditions(n_latents=T, quality="medium")


def test_v_prediction_model_samples(model):
    config = dataclasses.replace(TINY, diffusion=DiffusionConfig(prediction="v"))
    v_model = tiny_model(config)
    out = v_model.sample(v_model.prepare_conditions(n_latents=T, prompt="door"), [0], steps=4)
    assert out.shape == (1, TINY.latent_channels, T) and torch.isfinite(out).all()
