"""Training stages end to end on a tiny Foley world: loss goes down, resume is bit-exact, 2 ranks agree."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from foley_studio.core.paths import cache_dir
from foley_studio.model.config import TINY
from foley_studio.model.foley import FoleyModel
from foley_studio.training.config import TrainConfig, TrainConfigError
from foley_studio.training.data import build_feature_cache, select_rows
from foley_studio.training.dit_stage import DiTObjective, make_dit_batch, probe_dit_loss
from foley_studio.training.state import EMA
from foley_studio.training.trainer import run_stage


def _cfg(**kw) -> TrainConfig:
    base = dict(model="tiny", steps=4, batch_size=2, lr=3e-3, warmup_steps=1, log_every=1, checkpoint_every=2,
                crop_seconds=0.25, crop_seconds_dit=2.0, accelerator="cpu", num_threads=1)
    return TrainConfig(**{**base, **kw})


def test_config_json_boundary(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model": "tiny", "steps": 3, "stft_scales": [256, 512]}))
    cfg = TrainConfig.load(path)
    assert cfg.steps == 3 and cfg.stft_scales == (256, 512)
    path.write_text(json.dumps({"model": "tiny", "stepz": 3}))
    with pytest.raises(TrainConfigError, match="stepz"):
        TrainConfig.load(path)
    path.write_text(json.dumps({"model": "huge"}))
    with pytest.raises(TrainConfigError, match="known presets"):
        TrainConfig.load(path)


def test_autoencoder_stage_writes_weights_with_latent_stats(tiny_world, tmp_path):
    result = run_stage("autoencoder", manifest=tiny_world, out_dir=tmp_path / "ae", config=_cfg(steps=2))
    assert result["step"] == 2 and np.isfinite(result["loss"])
    state = load_file(str(tmp_path / "ae" / "autoencoder.safetensors"))
    assert not torch.allclose(state["latent_std"], torch.ones_like(state["latent_std"]))
    lines = [json.loads(x) for x in (tmp_path / "ae" / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines if "loss" in x] == [1, 2]


def test_dit_overfits_a_tiny_set(tiny_world):
    torch.manual_seed(0)
    model = FoleyModel(TINY)
    rows = select_rows(tiny_world, "train", ("high", "low", None))[:2]
    cache = build_feature_cache(model, rows, tiny_world.parent, cache_dir("test-features"))
    cfg = _cfg(p_drop_video=0.0, p_drop_caption=0.0, p_drop_tag=0.0, p_drop_text=0.0, ema_decay=0.0)
    objective = DiTObjective(model)
    ema = EMA(objective, cfg.ema_decay)
    before = probe_dit_loss(objective, ema, cache, cfg, torch.device("cpu"), TINY.text.dim)
    opt = torch.optim.AdamW(objective.parameters(), lr=3e-3)
    for step in range(30):
        g = torch.Generator().manual_seed(step)
        loss, _ = objective(make_dit_batch(cache, cfg, g, 4, torch.device("cpu"), TINY.text.dim))
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema.update(objective, step)
    after = probe_dit_loss(objective, ema, cache, cfg, torch.device("cpu"), TINY.text.dim)
    assert after < 0.8 * before, (before, after)


def test_dit_resume_is_bit_exact(tiny_world, tmp_path):
    cfg = _cfg(steps=4, ema_decay=0.9)
    straight = run_stage("dit", manifest=tiny_world, out_dir=tmp_path / "a", config=cfg)
    run_stage("dit", manifest=tiny_world, out_dir=tmp_path / "b", config=cfg.replace(steps=2))
    resumed = run_stage("dit", manifest=tiny_world, out_dir=tmp_path / "b", config=cfg)
    assert resumed["step"] == straight["step"] == 4
    a = load_file(str(tmp_path / "a" / "checkpoint" / "last.safetensors"))
    b = load_file(str(tmp_path / "b" / "checkpoint" / "last.safetensors"))
    assert a.keys() == b.keys() and any(k.startswith("optim/") for k in a) and any(k.startswith("ema/") for k in a)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    steps = [json.loads(x)["step"] for x in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert steps[-1] == 4 and 3 in steps                        # the resumed run went on from step 2


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["autoencoder", "video", "dit"])
def test_two_gloo_processes_agree_after_a_step(tiny_world, tmp_path, stage):
    cfg = _cfg(steps=2, batch_size=4, devices=2, strategy="ddp_spawn")
    result = run_stage(stage, manifest=tiny_world, out_dir=tmp_path / stage, config=cfg)
    sums = result["rank_checksums"]
    assert len(sums) == 2 and sums[0] == sums[1]
    single = run_stage(stage, manifest=tiny_world, out_dir=tmp_path / f"{stage}-1", config=cfg.replace(devices=1,
                                                                                                       strategy="auto"))
    assert single["weights_checksum"] != sums[0]               # the 2-rank run really saw 2 shards


def test_export_writes_ema_weights_and_warm_starts(tiny_world, tmp_path):
    from foley_studio.model.checkpoint import load_pretrained
    from foley_studio.training.export import export_model, run_summary

    run_stage("autoencoder", manifest=tiny_world, out_dir=tmp_path / "ae", config=_cfg(steps=1))
    cfg = _cfg(steps=2, ema_decay=0.5, autoencoder_from=str(tmp_path / "ae"))
    run_stage("dit", manifest=tiny_world, out_dir=tmp_path / "dit", config=cfg)
    card = {"training_dit": run_summary(tmp_path / "dit")}
    assert card["training_dit"]["steps"] == 2
    export_model(tmp_path / "ae", tmp_path / "dit", tmp_path / "model", card)
    model = load_pretrained(tmp_path / "model")
    state = load_file(str(tmp_path / "dit" / "checkpoint" / "last.safetensors"))
    w = model.dit.final.proj.weight
    assert torch.equal(w, state["ema/dit.final.proj.weight"]) and not torch.equal(w, state["objective/dit.final.proj.weight"])
    assert "steps: 2" in (tmp_path / "model" / "MODEL_CARD.md").read_text()
    # a fresh run warm-started from the exported folder begins from those weights
    warm = run_stage("dit", manifest=tiny_world, out_dir=tmp_path / "dit2",
                     config=_cfg(steps=1, lr=0.0, warmup_steps=1, init_from=str(tmp_path / "model")))
    after = load_file(str(tmp_path / "dit2" / "checkpoint" / "last.safetensors"))
    assert torch.equal(after["objective/dit.final.proj.weight"], w)
    assert warm["step"] == 1
