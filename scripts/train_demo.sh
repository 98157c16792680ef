#!/usr/bin/env bash
# Train the bundled demo model (models/demo) with Foley Studio's own pipeline, end to end.
#
#   scripts/train_demo.sh            CPU: Foley world v2 (480 clips + 120 audio-only items), then in
#                                    parallel the autoencoder fine-tune (configs/demo2_autoencoder.json,
#                                    warm from models/demo, highs weighted) and the motion video encoder's
#                                    sync pre-training (configs/demo2_video.json), then the DiT
#                                    (configs/demo2_dit.json: warm from models/demo, video encoder frozen),
#                                    export, quality tag calibration (scripts/quality_calibration.py).
#   MODE=gpu scripts/train_demo.sh   one GPU: configs/gpu_*.json (bf16, bigger batches, minutes each).
#   scripts/train_demo.sh --dry-run  the same commands on a 12-clip world with 3 steps per stage and a
#                                    throw-away output folder: proves on a CPU, in a few minutes, that a
#                                    lent GPU machine's time will not be lost to a bug.
#
# Every stage resumes: rerun the same command after an interruption and each stage continues from
# runs/<mode>_<stage>/checkpoint (bit-exact). A stage that has finished is skipped (delete its
# weights file, or raise "steps"/"time_limit_minutes" in its config, to train it further).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PY:-.venv/bin/python}
MODE=${MODE:-cpu}
DRY=0
[[ "${1:-}" == --dry-run ]] && DRY=1
DATA=${DATA:-data/world2}
N=${N:-480}
AUDIO_ONLY=${AUDIO_ONLY:-120}
WORKERS=${WORKERS:-2}
SOURCES=${SOURCES:-all}          # "library" where apt-get cannot reach Debian (e.g. an offline GPU box)
OUT=${OUT:-models/demo}
FS=("$PY" -m foley_studio)

if [[ "$MODE" == gpu ]]; then
    AE_CFG=configs/gpu_autoencoder.json; VIDEO_CFG=configs/gpu_video.json; DIT_CFG=configs/gpu_dit.json; RUN=runs/gpu
else
    AE_CFG=configs/demo2_autoencoder.json; VIDEO_CFG=configs/demo2_video.json; DIT_CFG=configs/demo2_dit.json; RUN=runs/demo2
fi
mkdir -p runs
if (( DRY )); then
    # tiny world, 3 steps per stage, everything under runs/dry/: the output model is thrown away
    DATA=runs/dry/world; N=12; AUDIO_ONLY=2; RUN=runs/dry/$MODE; OUT=runs/dry/model; rm -rf runs/dry; mkdir -p runs/dry
    for name in AE_CFG VIDEO_CFG DIT_CFG; do
        "$PY" - "${!name}" "runs/dry/$(basename "${!name}")" <<'PYEOF'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg.update(steps=3, checkpoint_every=2, log_every=1, time_limit_minutes=0)
json.dump(cfg, open(sys.argv[2], "w"), indent=1)
PYEOF
        printf -v "$name" '%s' "runs/dry/$(basename "${!name}")"
    done
fi

echo "== $(date -u +%H:%M:%S) world: $DATA"
[[ -f "$DATA/manifest.jsonl" ]] || "${FS[@]}" world generate --n "$N" --audio-only "$AUDIO_ONLY" --seed 0 \
    --sources "$SOURCES" --workers "$WORKERS" --out "$DATA"

echo "== $(date -u +%H:%M:%S) autoencoder (${RUN}_ae) and video encoder sync pre-training (${RUN}_video), in parallel"
AE_PID=
if [[ ! -f "${RUN}_ae/autoencoder.safetensors" ]]; then
    "${FS[@]}" -v train autoencoder --config "$AE_CFG" --data "$DATA/manifest.jsonl" --out "${RUN}_ae" &
    AE_PID=$!
fi
[[ -f "${RUN}_video/video_encoder.safetensors" ]] || "${FS[@]}" -v train video --config "$VIDEO_CFG" \
    --data "$DATA/manifest.jsonl" --out "${RUN}_video"
[[ -z "$AE_PID" ]] || wait "$AE_PID"

echo "== $(date -u +%H:%M:%S) dit: ${RUN}_dit"
# the DiT config names its autoencoder and video encoder runs; point them at this mode's run folders
DIT_RUN_CFG="${RUN}_dit.json"
"$PY" - "$DIT_CFG" "${RUN}_ae" "${RUN}_video" "$DIT_RUN_CFG" <<'PYEOF'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["autoencoder_from"], cfg["video_encoder_from"] = sys.argv[2], sys.argv[3]
json.dump(cfg, open(sys.argv[4], "w"), indent=1)
PYEOF
"${FS[@]}" -v train dit --config "$DIT_RUN_CFG" --data "$DATA/manifest.jsonl" --out "${RUN}_dit"

echo "== $(date -u +%H:%M:%S) export: $OUT"
"${FS[@]}" train export --autoencoder "${RUN}_ae" --dit "${RUN}_dit" --out "$OUT" --card scripts/demo_card.json
echo "== $(date -u +%H:%M:%S) quality tag calibration on the val split: $OUT"
"$PY" scripts/quality_calibration.py --model "$OUT" --data "$DATA/manifest.jsonl" --n 6 --write
du -sh "$OUT"
