#!/usr/bin/env bash
# TRIAL (issue 12): an onset track between the video and the generator (SyncFusion's two stages). Not the shipped
# model: results stay in outputs/trial_onset/ (docs/TRAINING.md, "Trial: onset track"). The stages are the ones
# measured, in order:
#   1. data: the motion trial's shards (its realistic and easy scenes and real training clips) copied with the onset
#      track of each window's own audio in E_V's column 510, at gain 1 and at gain 8 (scripts/trial_onset_shards.py;
#      gain 8 is what `egosonics prepare --encoder motion-onset` writes from the videos);
#   2. Syncronet from the motion trial's model: A 900 steps at gain 1, B 1,200 steps at gain 8, C 1,200 more;
#   3. the onset head trained on the real clips of the training sources (scripts/train_onset_head.py), written into
#      each generator's model as its motion-onset frame encoder (preset tiny-onset): models A, B and C; and a head
#      trained on those real clips (counted 4 times) with the synthesized scenes, on generator C (C-mixed);
#   4. measure: the generator with its own track, the head's, another clip's and none (scripts/trial_onset_oracle.py);
#      held-out real clips (whole sources never trained on) beside the motion trial and the shipped model; unseen
#      realistic and easy scenes; the head alone, leave-one-source-out (scripts/onset_head_cv.py).
# Needs outputs/trial_motion/ (scripts/train_motion_trial.sh). Every stage resumes. One thread, niced.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export PYTHONPATH=$PWD/src
PY="nice -n 10 .venv/bin/python"
EGO="nice -n 10 .venv/bin/egosonics --threads 1"
MOTION=outputs/trial_motion
OUT=outputs/trial_onset
HOLDOUT="open-mmlab/FoleyCrafter,jvoas655/avsync-ego4d.github.io,Donghyeok-Jo/Ego-OSS,frieren-v2a/frieren-v2a.github.io,OpenNLPLab/AVSBench,aashishrai3799/EgoSonics,facebookresearch/EgoBlur"
[ -f "$MOTION/video_to_text/model/model_index.json" ] || { echo "run scripts/train_motion_trial.sh first"; exit 1; }

# 1. Data.
for part in realistic easy real; do
    [ -d "$OUT/data_$part/shards" ] || $PY scripts/trial_onset_shards.py "$MOTION/data_$part" "$OUT/data_$part" --gain 1
    [ -d "$OUT/data8_$part/shards" ] || $PY scripts/trial_onset_shards.py "$MOTION/data_$part" "$OUT/data8_$part" --gain 8
done

# 2. The generator.
$EGO train syncronet --config configs/trial_onset/train_syncronet.yaml
$EGO train syncronet --config configs/trial_onset/train_syncronet_gain8.yaml
$EGO train syncronet --config configs/trial_onset/train_syncronet_gain8_more.yaml

# 3. The onset head (seed 0), into models A (gain 1), B and C (gain 8).
heads() { echo "a 1" ; echo "g8 8" ; echo "g8b 8" ; }  # stage, track gain
heads | while read -r stage gain; do
    [ -f "$OUT/model_$stage/model_index.json" ] || $PY scripts/train_onset_head.py --model "$OUT/syncronet_$stage/model" \
        --out "$OUT/model_$stage" --holdout-sources "$HOLDOUT" --seed 0 --track-gain "$gain"
done

# ... and generator C with a head that also learned the synthesized scenes' contacts (real clips counted 4 times).
[ -f "$OUT/model_g8b_mixed/model_index.json" ] || $PY scripts/train_onset_head.py --model "$OUT/syncronet_g8b/model" \
    --out "$OUT/model_g8b_mixed" --holdout-sources "$HOLDOUT" --seed 0 --track-gain 8 --epochs 15 --real-weight 4 \
    --synth "$MOTION/synth_realistic" --synth "$MOTION/synth_easy"

# 4. Measure.
{ heads ; echo "g8b_mixed 8" ; } | while read -r stage _; do
    MODEL=$OUT/model_$stage
    [ "$stage" = g8b_mixed ] || $PY scripts/trial_onset_oracle.py --model "$MODEL" --sources "$HOLDOUT" \
        --out "$OUT/oracle_$stage.json"
    $PY scripts/real_clips_eval.py --model "$MODEL" --out "$OUT/eval_real_heldout_$stage" --sources "$HOLDOUT" \
        --baseline motion-trial="$MOTION/video_to_text/model" --baseline default-model=default
done
for stage in g8 g8b g8b_mixed; do
    $PY scripts/trial_synth_eval.py "$MOTION/eval_realistic_scenes" "$OUT/eval_realistic_$stage" --model "$OUT/model_$stage"
    $PY scripts/trial_synth_eval.py "$MOTION/eval_easy_scenes" "$OUT/eval_easy_$stage" --model "$OUT/model_$stage"
done
$PY scripts/onset_head_cv.py --out "$OUT/cv_real.json"
$PY scripts/onset_head_cv.py --synth "$MOTION/synth_realistic" --synth-only --out "$OUT/cv_synth_only.json"
