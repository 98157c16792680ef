"""The protocol runner end to end: a tiny model saved to disk, a hand-made world manifest, n = 2."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfiltfilt

from foley_studio.cli import main
from foley_studio.eval.classifier import ClassifierConfig
from foley_studio.eval.evaluate import EvalRequest, run_evaluation
from foley_studio.eval.runner import EvalSettings
from foley_studio.media.manifest import ManifestRow, write_manifest
from foley_studio.training.world import FPS, write_video

SR = 48_000
SECONDS = 4.0     # half the world's 8 s keeps the test fast; extension gives 1.5 s and generates 2.5 s
FAST = EvalSettings(steps=3, fast_steps=2, ddim_steps=3, cfg=3.0, given_s=1.5, generated_s=2.5)
SMALL_CLASSIFIER = ClassifierConfig(channels=(4, 8, 8, 8), embed_dim=8, epochs=2, batch_size=8, crop_s=1.0)


def _clip_audio(material: str, action: str, events: list[float], rng: np.random.Generator) -> np.ndarray:
    n = int(SECONDS * SR)
    t = np.arange(n) / SR
    freq = 3000.0 if material == "metal" else 300.0
    x = 1e-4 * rng.standard_normal(n)
    if action == "hit":
        for e in events:
            i = int(round(e * SR))
            k = np.arange(n - i)
            x[i:] += 0.5 * np.exp(-k / (0.04 * SR)) * np.sin(2 * np.pi * freq * k / SR) * np.minimum(k / 48, 1)
    else:
        span = (t >= events[0]) & (t < events[0] + 2.0)
        x += span * 0.2 * rng.standard_normal(n) * (0.5 + 0.5 * np.sin(2 * np.pi * freq / 100 * t))
    return x.astype(np.float32)


def _video(events: list[float], material: str) -> np.ndarray:
    """A square that flashes on each event, tinted by material."""
    frames = np.full((int(SECONDS * FPS), 32, 32, 3), 40, np.uint8)
    tint = (200, 200, 220) if material == "metal" else (150, 90, 40)
    for e in events:
        k = int(round(e * FPS))
        frames[k:k + 2, 8:24, 8:24] = tint
    return frames


def make_world(root: Path) -> Path:
    """8 train + 2 test clips (metal/wood x hit/scrape), HQ + band-limited LQ rows, like the Foley world."""
    rows = []
    rng = np.random.default_rng(0)
    lowpass = butter(8, 4000, fs=SR, output="sos")
    plan = [(m, a, "train") for m in ("metal", "wood") for a in ("hit", "scrape") for _ in range(2)]
    plan += [("metal", "hit", "test"), ("wood", "hit", "test")]
    for i, (material, action, split) in enumerate(plan):
        events = sorted(rng.uniform(0.3, 3.7, size=4).round(3).tolist()) if action == "hit" else [1.0]
        audio = _clip_audio(material, action, events, rng)
        name = f"c{i:02d}"
        (root / "audio").mkdir(parents=True, exist_ok=True)
        sf.write(root / "audio" / f"{name}_hq.flac", audio, SR, subtype="PCM_16")
        sf.write(root / "audio" / f"{name}_lq.flac", sosfiltfilt(lowpass, audio).astype(np.float32), SR,
                 subtype="PCM_16")
        write_video(root / "video" / f"{name}.mp4", _video(events, material))
        ev = [{"kind": "impact", "time": e} for e in events] if action == "hit" else \
            [{"kind": "scrape", "time": events[0], "end": events[0] + 2.0}]
        common = dict(video=f"video/{name}.mp4", caption=f"{material} {action}", split=split, duration=SECONDS,
                      events=ev, meta={"material": material, "action": action})
        rows.append(ManifestRow(id=f"{name}-hq", audio=f"audio/{name}_hq.flac", quality="high", **common))
        rows.append(ManifestRow(id=f"{name}-lq", audio=f"audio/{name}_lq.flac", quality="low", **common))
    write_manifest(root / "manifest.jsonl", rows)
    return root / "manifest.jsonl"


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """On a shared 2-core machine one intra-op thread is ~10x faster for these tiny tensors (no spinning
    on oversubscribed cores); the runner itself does not depend on it."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return make_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    from foley_studio.model import TINY, FoleyModel, save_pretrained
    import torch
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("models") / "tiny-eval"
    save_pretrained(FoleyModel(TINY).eval(), folder, card={"note": "random weights, evaluation test only"})
    return folder


def by_name(table, prefix):
    return next(r.metrics for r in table.rows if r.name.startswith(prefix))


def test_all_protocols_end_to_end(world, tiny_model_dir, tmp_path):
    request = EvalRequest(model=str(tiny_model_dir), data=world, out=tmp_path / "report", n=2,
                          settings=FAST, classifier=SMALL_CLASSIFIER, command="pytest")
    tables, report = run_evaluation(request)
    by_key = {t.key: t for t in tables}
    assert list(by_key) == ["v2a", "text", "extension", "quality", "sampler"]

    # the ground truth is synchronised with itself; shifting it in time destroys that
    truth = by_name(by_key["v2a"], "Ground truth")
    shifted = by_name(by_key["v2a"], "Baseline")
    assert truth["sync_clips"] == 2 and truth["onset_f1"] >= 90.0 and truth["av_offset_s"] < 0.01
    assert shifted["av_offset_s"] > 0.1 and shifted["onset_f1"] < truth["onset_f1"]
    # the true degraded copy is band-limited at 4 kHz
    q = by_key["quality"]
    assert by_name(q, "Ground truth: degraded")["e8k"] < 0.1 * by_name(q, "Ground truth: clean")["e8k"]
    # every model row has every column as a finite number or a stated NaN, and the right sizes
    for table in tables:
        for row in table.rows:
            assert row.metrics["n"] == 2
            assert 0.0 <= row.metrics["acc"] <= 100.0
    ext = by_key["extension"]
    assert [r.name for r in ext.rows][1:] == [f"Model: {s}" for s in
                                              ("{V}", "{V,T}", "{V,A}", "{V,A,Vc}", "{V,T,A,Vc}")]
    assert all(-1.0 <= r.metrics["continuity"] <= 1.0 for r in ext.rows)
    sampler = by_key["sampler"]
    assert [r.metrics["steps"] for r in sampler.rows] == [3, 2, 3]
    assert all(r.metrics["wall_s"] > 0 for r in sampler.rows)

    text = report.read_text()
    for table in tables:
        assert table.title in text
    assert "Where the model stands against the goals" in text and "Hardware:" in text
    results = json.loads(report.with_suffix(".json").read_text())
    assert [t["key"] for t in results["tables"]] == list(by_key)
    assert len(results["goals"]) == 4


def test_shared_settings_generate_once(world, tiny_model_dir):
    from foley_studio.eval.classifier import train_classifier
    from foley_studio.eval.data import caption_catalogue, load_eval_clips, load_training_audio
    from foley_studio.eval.protocols import run_protocols
    from foley_studio.eval.runner import Harness
    from foley_studio.model import load_pretrained

    clips = load_eval_clips(world, "test", n=2)
    assert [c.labels["material"] for c in clips] == ["metal", "wood"] and all(c.is_impact_clip for c in clips)
    classifier = train_classifier(load_training_audio(world)[0], config=SMALL_CLASSIFIER)
    h = Harness(load_pretrained(tiny_model_dir), clips, classifier, FAST, catalogue=caption_catalogue(world))
    run_protocols(h, ["v2a", "quality", "sampler"])
    # v2a 1, quality 3 new (its "no tag" row is the v2a generation), sampler 1 new (DDIM-3; DPM++-2 is
    # new too, DPM++-3 is the v2a generation): 1 + 3 + 2 = 6 per clip
    assert h.generation_count == 12
    # the same settings and seed give the same take
    a = h.generate(clips[0], h.default_gen(prompt=clips[0].caption)).audio
    h._generated.clear()
    np.testing.assert_allclose(h.generate(clips[0], h.default_gen(prompt=clips[0].caption)).audio, a, atol=1e-5)


def test_cli_runs_one_protocol_and_reports_missing_data(world, tiny_model_dir, tmp_path, capsys):
    code = main(["eval", "--model", str(tiny_model_dir), "--data", str(world), "--n", "1", "--protocol", "v2a",
                 "--steps", "2", "--classifier-epochs", "1", "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Video-to-audio" in out and (tmp_path / "r" / "EVALUATION.md").exists()
    code = main(["eval", "--model", str(tiny_model_dir), "--data", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path)])
    assert code == 2
    assert "nope.jsonl does not exist" in capsys.readouterr().err


def test_ood_manifest_adds_a_sync_table_beside_the_world_split(world, tiny_model_dir, tmp_path, capsys):
    from foley_studio.eval.ood import OODSpec, generate_ood
    ood = generate_ood(OODSpec(n=2, seed=0, seconds=2.0, scale=0.25), tmp_path / "ood")
    code = main(["eval", "--model", str(tiny_model_dir), "--data", str(world), "--n", "2", "--protocol", "v2a",
                 "--steps", "2", "--classifier-epochs", "1", "--ood", str(ood), "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0 and "Video-to-audio" in out and "Out-of-domain split: sync" in out
    results = json.loads((tmp_path / "r" / "EVALUATION.json").read_text())
    assert [t["key"] for t in results["tables"]] == ["v2a", "ood"]
    rows = {r["name"]: r["metrics"] for r in results["tables"][1]["rows"]}
    assert list(rows) == ["Ground truth (reference audio)", "Oracle: autoencoder reconstruction",
                          "Baseline: true audio, random timing", "Model: video, no prompt",
                          "Model: video + fitting prompt"]
    truth, shifted = rows["Ground truth (reference audio)"], rows["Baseline: true audio, random timing"]
    assert truth["sync_clips"] == 2 and truth["onset_f1"] >= 80.0 and truth["av_offset_s"] < 0.01
    assert shifted["onset_f1"] < truth["onset_f1"]
    assert all("acc" not in m for m in rows.values())          # the world's classifier does not judge these
    assert "Out-of-domain split:" in (tmp_path / "r" / "EVALUATION.md").read_text()
