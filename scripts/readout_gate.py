"""Read-out gate: old demo encoder vs the new motion encoder, fit on world v2 train, tested on world v2 test and OOD."""
import json, sys, time, torch
from pathlib import Path
from safetensors.torch import load_file
from foley_studio.eval.data import load_eval_clips
from foley_studio.eval.readout import clip_features, run_readout, readout_markdown
from foley_studio.model.checkpoint import load_pretrained
from foley_studio.model.encoders import build_video_encoder
from foley_studio.training.config import TrainConfig
torch.set_num_threads(1)
w2 = Path(sys.argv[1] if len(sys.argv) > 1 else 'data/world2/manifest.jsonl')
ood = Path(sys.argv[2] if len(sys.argv) > 2 else 'data/ood/manifest.jsonl')
fit = load_eval_clips(w2, 'train', n=40); test = load_eval_clips(w2, 'test', n=24); oodc = load_eval_clips(ood, 'ood')
cfg = TrainConfig.load(Path('configs/demo2_video.json')).model_config().video
new = build_video_encoder(cfg); new.load_state_dict(load_file('runs/demo2_video/video_encoder.safetensors')); new.eval()
old = load_pretrained('models/demo').video_encoder.eval()
for name, enc, size in (('demo (conv, v1-trained)', old, old.size), ('motion (world v2, 5000 steps, clip-scaled inputs)', new, cfg.read_size)):
    t = time.time()
    with torch.no_grad():
        feats = {k: clip_features(enc, v, size=size) for k, v in (('fit', fit), ('w2 test', test), ('ood', oodc))}
    rep = run_readout(feats['fit'], {'world v2 test': feats['w2 test'], 'OOD': feats['ood']}, encoder=name, fit_name='world v2 train (40)')
    print(readout_markdown(rep)); print(f'({time.time()-t:.0f} s)', flush=True)
