#!/usr/bin/env bash
# Train the bundled demo model (models/demo) with Foley Studio's own pipeline, end to end.
#
#   scripts/train_demo.sh            CPU: Foley world (320 clips + 120 audio-only items), autoencoder
#                                    stage (configs/demo_autoencoder.json, 2000 steps), video encoder
#                                    sync pre-training (configs/demo_video.json, 1500 steps, ~20 min),
#                                    DiT stage (configs/demo_dit.json: v-prediction, 8 s windows, video
#                                    encoder frozen), export.
#   MODE=gpu scripts/train_demo.sh   one GPU: configs/gpu_*.json (bf16, bigger batches), about 10
#                                    minutes in all on one H100, exported the same way.
#
# Every stage resumes: rerun the same command after an interruption and each stage continues from
# runs/<mode>_<stage>/checkpoint (bit-exact). A stage that has finished is skipped (delete its
# autoencoder.safetensors, or raise "steps"/"time_limit_minutes" in its config, to train it further).
# To continue from the committed model when the runs/ folder is gone, set "init_from": "models/demo"
# in a copy of the config (a warm start with a fresh optimizer).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PY:-.venv/bin/python}
MODE=${MODE:-cpu}
DATA=${DATA:-data/world}
N=${N:-320}
AUDIO_ONLY=${AUDIO_ONLY:-120}
SOURCES=${SOURCES:-all}          # "library" where apt-get cannot reach Debian (e.g. an offline GPU box)
OUT=${OUT:-models/demo}
FS=("$PY" -m foley_studio)

if [[ "$MODE" == gpu ]]; then
    AE_CFG=configs/gpu_autoencoder.json; VIDEO_CFG=configs/gpu_video.json; DIT_CFG=configs/gpu_dit.json; RUN=runs/gpu
else
    AE_CFG=configs/demo_autoencoder.json; VIDEO_CFG=configs/demo_video.json; DIT_CFG=configs/demo_dit.json; RUN=runs/demo
fi
mkdir -p runs

echo "== $(date -u +%H:%M:%S) world: $DATA"
[[ -f "$DATA/manifest.jsonl" ]] || "${FS[@]}" world generate --n "$N" --audio-only "$AUDIO_ONLY" --seed 0 \
    --sources "$SOURCES" --out "$DATA"

echo "== $(date -u +%H:%M:%S) autoencoder: ${RUN}_ae"
[[ -f "${RUN}_ae/autoencoder.safetensors" ]] || "${FS[@]}" -v train autoencoder --config "$AE_CFG" \
    --data "$DATA/manifest.jsonl" --out "${RUN}_ae"

echo "== $(date -u +%H:%M:%S) video encoder (sync pre-training): ${RUN}_video"
[[ -f "${RUN}_video/video_encoder.safetensors" ]] || "${FS[@]}" -v train video --config "$VIDEO_CFG" \
    --data "$DATA/manifest.jsonl" --out "${RUN}_video"

echo "== $(date -u +%H:%M:%S) dit: ${RUN}_dit"
# the DiT config names its autoencoder and video encoder runs; point them at this mode's run folders
DIT_RUN_CFG="runs/$(basename "$DIT_CFG")"
"$PY" - "$DIT_CFG" "${RUN}_ae" "${RUN}_video" "$DIT_RUN_CFG" <<'PYEOF'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["autoencoder_from"], cfg["video_encoder_from"] = sys.argv[2], sys.argv[3]
json.dump(cfg, open(sys.argv[4], "w"), indent=1)
PYEOF
"${FS[@]}" -v train dit --config "$DIT_RUN_CFG" --data "$DATA/manifest.jsonl" --out "${RUN}_dit"

echo "== $(date -u +%H:%M:%S) export: $OUT"
"${FS[@]}" train export --autoencoder "${RUN}_ae" --dit "${RUN}_dit" --out "$OUT" --card scripts/demo_card.json
du -sh "$OUT"
