#!/usr/bin/env bash
# Trial (issue 12, item 3: timbre): the shipped default model's recipe (scripts/train_default_model.sh: the same
# 1,000 easy scenes, seeds, steps and stage configs) with the 32 frequency rows of the model image pooled by power
# instead of by dB means (preset tiny-power, SpectrogramParams.freq_pooling), then measured by scripts/model_card.py
# beside the shipped model's card. NOT the shipped model. Every stage resumes: rerun after an interruption.
#   SYNC_STEPS=1500 scripts/train_power_trial.sh    # Syncronet steps (default 3000, as shipped)
set -euo pipefail
cd "$(dirname "$0")/.."
EGOSONICS=${EGOSONICS:-.venv/bin/egosonics}
OUT=outputs/power_trial
SYNC_STEPS=${SYNC_STEPS:-3000}
CONFIGS=configs/default_model

# 1. The shipped model's training data (scripts/train_default_model.sh, step 1).
if [ ! -f outputs/default_model/data/manifest.jsonl ]; then
    echo "no outputs/default_model/data: run step 1 of scripts/train_default_model.sh first" >&2
    exit 1
fi
# 2. The four stages; only the base's preset differs from the shipped model's (the later stages inherit it).
$EGOSONICS train base --config configs/power_trial/train_base.yaml
$EGOSONICS train syncronet --config $CONFIGS/train_syncronet.yaml --output-dir $OUT/syncronet_$SYNC_STEPS \
    --init-model $OUT/base/model --max-steps "$SYNC_STEPS"
$EGOSONICS train superres --config $CONFIGS/train_superres.yaml --output-dir $OUT/superres_$SYNC_STEPS \
    --init-model $OUT/syncronet_$SYNC_STEPS/model
$EGOSONICS train video-to-text --config $CONFIGS/train_video_to_text.yaml --output-dir $OUT/model_$SYNC_STEPS \
    --init-model $OUT/superres_$SYNC_STEPS/model
# 3. Measured as the shipped model is (its card's tables, class of single-event audio, real clips).
.venv/bin/python scripts/model_card.py --model $OUT/model_$SYNC_STEPS/model --out $OUT/eval
