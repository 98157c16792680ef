"""Read-out gate: linear onset read-out of sync-trained motion encoders, fit on world v2 train, tested on
world v2 test and OOD (with per-scene rows), beside the hand-made motion-energy reference
(`readout.MotionEnergyEncoder`, no training) read the same way.

    python scripts/readout_gate.py WORLD2_MANIFEST OOD_MANIFEST [VIDEO_RUN ...]   (default run: runs/demo2_video)
"""
import json, sys, time, torch
from pathlib import Path
from foley_studio.eval.data import load_eval_clips
from foley_studio.eval.readout import MotionEnergyEncoder, clip_features, clip_groups, readout_markdown, run_readout
from foley_studio.model.config import FoleyConfig
from foley_studio.model.encoders import build_video_encoder
from foley_studio.training.config import TrainConfig
from foley_studio.training.video_sync import load_video_encoder_weights
torch.set_num_threads(1)
w2 = Path(sys.argv[1] if len(sys.argv) > 1 else 'data/world2/manifest.jsonl')
ood = Path(sys.argv[2] if len(sys.argv) > 2 else 'data/ood/manifest.jsonl')
runs = [Path(r) for r in sys.argv[3:]] or [Path('runs/demo2_video')]
fit = load_eval_clips(w2, 'train', n=40); test = load_eval_clips(w2, 'test', n=24); oodc = load_eval_clips(ood, 'ood')
scenes = clip_groups(ood, 'scene')
model = TrainConfig.load(Path('configs/demo2_video.json')).model_config()
cfg = model.video  # the shipped encoder's size: the hand-made reference reads frames at it


def motion_encoder(run: Path):
    """A sync run's encoder, built from the config the run wrote beside its weights."""
    saved = json.loads((run / 'video_encoder.json').read_text())['video']
    enc = build_video_encoder(FoleyConfig.from_dict({**model.to_dict(), 'video': saved}).video)
    load_video_encoder_weights(enc, run)
    return enc.eval()


encoders = [(f'motion ({run})', enc, enc.config.read_size) for run in runs for enc in [motion_encoder(run)]]
encoders.append(('hand-made motion energy (no training)', MotionEnergyEncoder(fps=cfg.fps, size=cfg.read_size), cfg.read_size))
for name, enc, size in encoders:
    t = time.time()
    with torch.no_grad():
        feats = {k: clip_features(enc, v, size=size, groups=scenes if k == 'ood' else None)
                 for k, v in (('fit', fit), ('w2 test', test), ('ood', oodc))}
    rep = run_readout(feats['fit'], {'world v2 test': feats['w2 test'], 'OOD': feats['ood']}, encoder=name,
                      fit_name='world v2 train (40)')
    print(readout_markdown(rep)); print(f'({time.time()-t:.0f} s)', flush=True)
