"""Measure a trained model on held-out Foley-world clips, for its model card (a quick subset of the
evaluation issue's protocol: video-to-audio with the true caption and the "high quality" tag).

    .venv/bin/python scripts/measure_demo.py --model models/demo --data data/world/manifest.jsonl --n 8

Prints JSON: onset F1 at ±50 ms and median |offset| for generated takes, for the autoencoder
reconstruction of the true audio (the oracle) and for the true audio with its events shuffled in time
(a random-timing baseline), the true audio itself (the detector's ceiling), plus the autoencoder's reconstruction SNR and energy above 8 kHz.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from foley_studio.eval.sync import sync_metrics
from foley_studio.media.audio import read_audio
from foley_studio.media.video import frames_for_encoder
from foley_studio.model.checkpoint import load_pretrained
from foley_studio.training.losses import multi_resolution_stft_loss
from foley_studio.media.manifest import read_manifest


def _impacts(row) -> np.ndarray:
    return np.array([e["time"] for e in row.events if e["kind"] == "impact"])


def _mean(results: list, key: str) -> float:
    vals = [getattr(r, key) for r in results if not np.isnan(getattr(r, key))]
    return round(float(np.mean(vals)), 3) if vals else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/demo"))
    parser.add_argument("--data", type=Path, default=Path("data/world/manifest.jsonl"))
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--cfg", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_pretrained(args.model, device="cpu")
    rows = [r for r in read_manifest(args.data, "test") if r.video and r.quality == "high"
            and r.meta.get("action") in ("drop", "hit")][: args.n]
    root = args.data.parent
    gen, oracle, shuffled, real, snrs, hf, stft = [], [], [], [], [], [], []
    rng = np.random.default_rng(0)
    t0 = time.monotonic()
    for i, row in enumerate(rows):
        events = _impacts(row)
        truth = read_audio(row.audio_path(root))
        n_lat = model.config.window_latents
        frames = torch.from_numpy(frames_for_encoder(row.video_path(root), model.video_fps, model.video_size, 0.0,
                                                     n_lat / model.config.latent_rate))
        feats = model.encode_video(frames)
        wave = model.generate(n_latents=n_lat, seeds=[i], steps=args.steps, cfg=args.cfg, video_feats=feats,
                              prompt=row.caption, quality="high")[0].numpy()
        gen.append(sync_metrics(wave, events))
        recon = model.decode_latents(model.encode_audio(torch.from_numpy(truth)[None]))[0].numpy()[: len(truth)]
        oracle.append(sync_metrics(recon, events))
        real.append(sync_metrics(truth, events))
        shuffled.append(sync_metrics(truth, np.sort(rng.uniform(0.2, 7.8, len(events)))))
        stft.append(float(multi_resolution_stft_loss(torch.from_numpy(recon)[None], torch.from_numpy(truth)[None],
                                                     (256, 512, 1024, 2048))))
        snrs.append(10 * np.log10(np.sum(truth ** 2) / max(1e-12, np.sum((truth - recon) ** 2))))
        spec = np.abs(np.fft.rfft(wave)) ** 2
        freqs = np.fft.rfftfreq(len(wave), 1 / 48_000)
        hf.append(float(spec[freqs > 8000].sum() / max(1e-12, spec.sum())))
    table = {}
    for name, res in (("generated", gen), ("autoencoder_oracle", oracle), ("true_audio", real),
                      ("random_timing", shuffled)):
        table[name] = {"onset_f1_50ms": _mean(res, "f1"), "median_abs_offset_ms": _mean(res, "median_abs_offset_ms"),
                       "precision": _mean(res, "precision"), "recall": _mean(res, "recall")}
    print(json.dumps({"clips": len(rows), "split": "test", "actions": "drop+hit", "steps": args.steps,
                      "cfg": args.cfg, "sync": table,
                      "autoencoder_recon_snr_db": round(float(np.mean(snrs)), 2),
                      "autoencoder_recon_stft_loss": round(float(np.mean(stft)), 3),
                      "generated_energy_above_8khz": round(float(np.mean(hf)), 4),
                      "wall_s": round(time.monotonic() - t0, 1)}, indent=1))


if __name__ == "__main__":
    main()
