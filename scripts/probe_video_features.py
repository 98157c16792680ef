"""Linear probe of a video encoder's timing information (ablation for the video sync stage).

Trains only a linear head, on *frozen* encoder features, to predict the soundtrack's onsets and
loudness (the same targets as `foley-studio train video`), then reports val onset F1 at ±50 ms
against the world's true impacts. Compare a randomly initialised encoder (what demo v1 froze) with a
sync-pretrained one:

    python scripts/probe_video_features.py --config configs/demo_video.json --data data/world/manifest.jsonl
    python scripts/probe_video_features.py --config configs/demo_video.json --data data/world/manifest.jsonl \
        --encoder runs/demo_video
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from foley_studio.core.paths import cache_dir
from foley_studio.media.manifest import read_manifest
from foley_studio.training.config import TrainConfig
from foley_studio.training.video_sync import SyncClips, SyncProbe, evaluate_sync, load_video_encoder_weights, sync_loss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--encoder", type=Path, default=None, help="video sync run folder (default: seeded random init)")
    ap.add_argument("--steps", type=int, default=600)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = TrainConfig.load(args.config)
    mcfg = cfg.model_config()
    torch.manual_seed(cfg.seed)
    probe = SyncProbe(mcfg.video)
    if args.encoder:
        load_video_encoder_weights(probe.encoder, args.encoder)
    probe.encoder.requires_grad_(False)
    caches = cache_dir("training-video-sync/v1")
    rows = {s: [r for r in read_manifest(args.data, s) if r.video] for s in ("train", "val")}
    train, val = (SyncClips.build(rows[s], args.data.parent, mcfg.video, mcfg.window_seconds, caches)
                  for s in ("train", "val"))
    with torch.no_grad():      # frozen encoder: its features once, then only the head trains
        feats = {name: torch.stack([probe.encoder.encode(torch.from_numpy(np.array(c.frames[i])))
                                    for i in range(len(c))]) for name, c in (("train", train), ("val", val))}
    opt = torch.optim.AdamW(probe.head.parameters(), lr=3e-3)
    targets = torch.from_numpy(np.asarray(train.targets))
    g = torch.Generator().manual_seed(0)
    for _ in range(args.steps):
        idx = torch.randint(len(train), (32,), generator=g)
        loss, _ = sync_loss(probe.head(feats["train"][idx]), targets[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    result = evaluate_sync(probe, val)
    print(json.dumps({"encoder": str(args.encoder or "random init (seed %d)" % cfg.seed), **result}))


if __name__ == "__main__":
    main()
