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
#      realistic and easy scenes; the head alone, leave-one-source-out (scripts/onset_head_cv.py);
#   5. S: a generator trained on the synthesized windows only, measured end to end with every real clip held out in
#      turn (scripts/onset_loso_eval.py).
#   6. the head's probability as a soft track; a head for the synthesized scenes (all 512 columns);
#   7. S-power: S from the shipped tiny-power model (power-pooled rows, no learned super-resolution).
#   8. the scene-head models' cards again with the written audio limited instead of divided by its peak, and
#      S-power's on realistic scenes (docs/TRAINING.md, "The written audio's level").
#   9. S-power trained with the track at 16 (the value it runs with), and the same on 700 more realistic scenes,
#      then trained twice and three times as long (docs/TRAINING.md, "A classifier that hears realistic sound;
#      S-power trained at its track value, ..." and "Longer training, and a scene head that learns the events").
#  10. a scene head trained on the scenes' visible events instead of the onsets in their sound (the same section).
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

# 5. Stage S: a generator that never heard real audio (synthesized windows only, gain 8 from the start, from the
#    motion trial's starting model), so only the head learns from real footage and every real clip can be held out
#    in turn: leave-one-source-out end to end over all 78 clips (scripts/onset_loso_eval.py), with heads trained on
#    real clips only and on real clips (counted 4 times) with the scenes; the 27-clip split beside C; the oracle;
#    the scenes.
mkdir -p "$OUT/data8_synth/shards"
for part in realistic easy; do
    for shard in "$OUT/data8_$part"/shards/*.tar; do
        ln -sf "$(realpath "$shard")" "$OUT/data8_synth/shards/${part}_$(basename "$shard")"
    done
done
$EGO train syncronet     --config configs/trial_onset/train_syncronet_synth.yaml
$EGO train video-to-text --config configs/trial_onset/train_video_to_text_synth.yaml
GEN_S=$OUT/video_to_text_s/model
[ -f "$OUT/model_s/model_index.json" ] || $PY scripts/train_onset_head.py --model "$GEN_S" --out "$OUT/model_s" \
    --holdout-sources "$HOLDOUT" --seed 0 --track-gain 8
$PY scripts/trial_onset_oracle.py --model "$OUT/model_s" --sources "$HOLDOUT" --out "$OUT/oracle_s.json"
$PY scripts/real_clips_eval.py --model "$OUT/model_s" --out "$OUT/eval_real_heldout_s" --sources "$HOLDOUT" \
    --baseline onset-trial-C="$OUT/model_g8b" --baseline default-model=default
$PY scripts/onset_loso_eval.py --model "$GEN_S" --out "$OUT/loso_s" --track-gain 8 --baseline default-model=default
$PY scripts/onset_loso_eval.py --model "$GEN_S" --out "$OUT/loso_s_mixed" --track-gain 8 --real-weight 4 --epochs 15 \
    --synth "$MOTION/synth_realistic" --synth "$MOTION/synth_easy" --baseline default-model=default
# ... how closely S follows its own recorded onsets at a larger track value than in training (the first rows of the
# oracle on the 51 clips outside the 27-clip split), then end to end with every clip held out at 12 and 16
TRAIN_SOURCES="Derposoft/visually-indicated-sounds,MaskVAT/maskvat.github.io,XYPB/CondFoleyGen,YuanGongND/cav-mae,hkchengrex/MMAudio,luosiallen/Diff-Foley,v-iashin/SparseSync,v-iashin/SpecVQGAN,v-iashin/video_features,vasflow1/vasflow,yzxing87/Seeing-and-Hearing"
for gain in 8 12 16 24; do
    $PY scripts/trial_onset_oracle.py --model "$OUT/model_s" --sources "$TRAIN_SOURCES" --track-gain $gain \
        --out "$OUT/oracle_s_train_g$gain.json"
done
for gain in 12 16; do
    $PY scripts/onset_loso_eval.py --model "$GEN_S" --out "$OUT/loso_s_g$gain" --track-gain $gain \
        --baseline default-model=default
done
$PY scripts/onset_loso_eval.py --model "$GEN_S" --out "$OUT/loso_s_mixed_g16" --track-gain 16 --real-weight 4 \
    --epochs 15 --synth "$MOTION/synth_realistic" --synth "$MOTION/synth_easy" --baseline default-model=default
[ -f "$OUT/model_s_g16/model_index.json" ] || $PY scripts/train_onset_head.py --model "$GEN_S" \
    --out "$OUT/model_s_g16" --holdout-sources "$HOLDOUT" --seed 0 --track-gain 16
[ -f "$OUT/model_s_g16_mixed/model_index.json" ] || $PY scripts/train_onset_head.py --model "$GEN_S" \
    --out "$OUT/model_s_g16_mixed" --holdout-sources "$HOLDOUT" --seed 0 --track-gain 16 --epochs 15 --real-weight 4 \
    --synth "$MOTION/synth_realistic" --synth "$MOTION/synth_easy"
for stage in s s_g16 s_g16_mixed; do
    $PY scripts/trial_synth_eval.py "$MOTION/eval_realistic_scenes" "$OUT/eval_realistic_$stage" --model "$OUT/model_$stage"
    $PY scripts/trial_synth_eval.py "$MOTION/eval_easy_scenes" "$OUT/eval_easy_$stage" --model "$OUT/model_$stage"
done

# 6. The head's probability as a soft track instead of its picks (MotionOnsetEncoder track="soft"), every clip held
#    out; a head for the scenes that reads all 512 columns, trained on the scenes only, in front of S's generator.
$PY scripts/onset_loso_eval.py --model "$GEN_S" --out "$OUT/loso_s_soft16" --track-gain 16 --track soft
[ -f "$OUT/model_s_scene16/model_index.json" ] || $PY scripts/train_onset_head.py --model "$GEN_S" \
    --out "$OUT/model_s_scene16" --synth "$MOTION/synth_realistic" --synth "$MOTION/synth_easy" --synth-only \
    --inputs all --epochs 30 --track-gain 16
for scenes in realistic easy; do
    $PY scripts/trial_synth_eval.py "$MOTION/eval_${scenes}_scenes" "$OUT/eval_${scenes}_s_scene16" \
        --model "$OUT/model_s_scene16"
done
$PY scripts/model_card.py --model "$OUT/model_s_scene16" --real-clips none --out outputs/default_model/eval

# 7. S-power: S from the shipped tiny-power model (power-pooled rows, no learned super-resolution), same shards and
#    settings (trained with 2 threads); measured with the same heads as S (copied) and a scene head trained for it.
[ -f "$OUT/init_power/model/model_index.json" ] || $PY scripts/trial_motion_init.py "$OUT/init_power/model"
nice -n 10 .venv/bin/egosonics --threads 2 train syncronet --config configs/trial_onset/train_syncronet_synth_power.yaml
nice -n 10 .venv/bin/egosonics --threads 2 train video-to-text \
    --config configs/trial_onset/train_video_to_text_synth_power.yaml
GEN_SP=$OUT/video_to_text_s_power/model
mkdir -p "$OUT/loso_s_power_g16"
[ -d "$OUT/loso_s_power_g16/heads" ] || cp -r "$OUT/loso_s_g16/heads" "$OUT/loso_s_power_g16/heads"
$PY scripts/onset_loso_eval.py --model "$GEN_SP" --out "$OUT/loso_s_power_g16" --track-gain 16
[ -f "$OUT/model_s_power_scene16/model_index.json" ] || $PY scripts/train_onset_head.py --model "$GEN_SP" \
    --out "$OUT/model_s_power_scene16" --synth "$MOTION/synth_realistic" --synth "$MOTION/synth_easy" --synth-only \
    --inputs all --epochs 30 --track-gain 16
[ -f "$OUT/model_s_power_scene16_same/model_index.json" ] || $PY scripts/train_onset_head.py --model "$GEN_SP" \
    --out "$OUT/model_s_power_scene16_same" --head-from "$OUT/model_s_scene16"
for stage in s_power_scene16 s_power_scene16_same; do
    for scenes in realistic easy; do
        $PY scripts/trial_synth_eval.py "$MOTION/eval_${scenes}_scenes" "$OUT/eval_${scenes}_$stage" \
            --model "$OUT/model_$stage"
    done
done
$PY scripts/model_card.py --model "$OUT/model_s_power_scene16" --real-clips none --out outputs/default_model/eval
$PY scripts/trial_onset_oracle.py --model "$OUT/model_s_power_scene16_same" --sources "$TRAIN_SOURCES" --track-gain 16 \
    --out "$OUT/oracle_s_power_train_g16.json"

# 8. Since generate limits a contact above full scale instead of dividing the whole soundtrack by its peak (the card
#    keys its runs on the limiter): the scene-head models' cards again, and S-power's on realistic scenes with issue
#    12's bars (the shipped model's: scripts/model_card.py --difficulty realistic --n-single 100 --real-clips none).
for stage in s_scene16 s_power_scene16; do
    $PY scripts/model_card.py --model "$OUT/model_$stage" --real-clips none --out outputs/default_model/eval
done
$PY scripts/model_card.py --model "$OUT/model_s_power_scene16" --real-clips none --difficulty realistic \
    --n-single 100 --out outputs/default_model/eval

# 9. S-power with the track at gain 16 in training (the windows of step 1 with the track at 16), then the same with
#    700 more realistic scenes (seed 7), then that one 2,700 steps further twice (the second with the learning rate
#    decayed to 0); each gets S-power's scene head and the realistic card (new classifier).
for part in realistic easy; do
    [ -d "$OUT/data16_$part/shards" ] || $PY scripts/trial_onset_shards.py "$MOTION/data_$part" "$OUT/data16_$part" --gain 16
done
MORE=$OUT/more
[ -f "$MORE/synth_realistic_s7/manifest.jsonl" ] || $EGO -q synth "$MORE/synth_realistic_s7" --difficulty realistic \
    --n 700 --seed 7 --size 128 --workers 1
[ -d "$MORE/data_realistic_s7/shards" ] || $EGO -q prepare "$MORE/synth_realistic_s7" "$MORE/data_realistic_s7" \
    --rms-threshold -70 --videos-per-shard 50 --workers 1 --exclude '*.json,*.jsonl,*.wav' --encoder motion
[ -d "$MORE/data16_realistic_s7/shards" ] || $PY scripts/trial_onset_shards.py "$MORE/data_realistic_s7" \
    "$MORE/data16_realistic_s7" --gain 16
link() {  # link DEST PREFIX SHARD...: the shards under DEST/shards, named PREFIX<name>
    local dest=$1 prefix=$2
    shift 2
    mkdir -p "$dest/shards"
    for f in "$@"; do ln -sf "$(readlink -f "$f")" "$dest/shards/$prefix$(basename "$f")"; done
}
link "$OUT/data16_synth" realistic_ "$OUT"/data16_realistic/shards/*.tar
link "$OUT/data16_synth" easy_ "$OUT"/data16_easy/shards/*.tar
link "$MORE/data16_synth_more" "" "$OUT"/data16_synth/shards/*.tar
link "$MORE/data16_synth_more" s7_ "$MORE"/data16_realistic_s7/shards/*.tar
for stage in g16 g16_more g16_more_long g16_more_long2; do
    nice -n 10 .venv/bin/egosonics --threads 2 train syncronet --config "configs/trial_onset/train_syncronet_synth_power_$stage.yaml"
    nice -n 10 .venv/bin/egosonics --threads 2 train video-to-text \
        --config "configs/trial_onset/train_video_to_text_synth_power_$stage.yaml"
    [ -f "$OUT/model_s_power_${stage}_scene16/model_index.json" ] || $PY scripts/train_onset_head.py \
        --model "$OUT/video_to_text_s_power_$stage/model" --out "$OUT/model_s_power_${stage}_scene16" \
        --head-from "$OUT/model_s_power_scene16"
    $PY scripts/model_card.py --model "$OUT/model_s_power_${stage}_scene16" --real-clips none --difficulty realistic \
        --n-single 100 --out outputs/default_model/eval
done

# 10. A scene head that learns the scenes' visible events (their timelines) instead of the onsets found in their sound,
#     on the 380 scenes and the 700 of seed 7 (docs/TRAINING.md, "Longer training, and a scene head that learns the
#     events"): trained in front of S-power-16-more-long, then put before S-power-16-more-long2; realistic and easy
#     cards.
[ -f "$OUT/model_s_power_g16_more_long_events/model_index.json" ] || $PY scripts/train_onset_head.py \
    --model "$OUT/video_to_text_s_power_g16_more_long/model" --out "$OUT/model_s_power_g16_more_long_events" \
    --synth "$MOTION/synth_realistic" --synth "$MOTION/synth_easy" --synth "$MORE/synth_realistic_s7" --synth-only \
    --inputs all --epochs 30 --scene-onsets events
[ -f "$OUT/model_s_power_g16_more_long2_events/model_index.json" ] || $PY scripts/train_onset_head.py \
    --model "$OUT/video_to_text_s_power_g16_more_long2/model" --out "$OUT/model_s_power_g16_more_long2_events" \
    --head-from "$OUT/model_s_power_g16_more_long_events"
$PY scripts/model_card.py --model "$OUT/model_s_power_g16_more_long2_events" --real-clips none --difficulty realistic \
    --n-single 100 --out outputs/default_model/eval
$PY scripts/model_card.py --model "$OUT/model_s_power_g16_more_long2_events" --real-clips none --difficulty easy \
    --out outputs/default_model/eval

# 11. The generator trained on the track the events head predicts: the same windows with column 510 from each scene's
#     visible events (trial_onset_shards.py --scenes) instead of their sound's onsets, S-power-16-more-long trained
#     2,700 steps further exactly as long2 (cosine to 0), with the events head of step 10; realistic and easy cards;
#     and the easy card of long2 with S-power's scene head (its realistic card is step 9's).
for part in realistic easy; do
    [ -d "$OUT/data16ev_$part/shards" ] || $PY scripts/trial_onset_shards.py "$MOTION/data_$part" "$OUT/data16ev_$part" \
        --gain 16 --scenes "$MOTION/synth_$part"
done
[ -d "$MORE/data16ev_realistic_s7/shards" ] || $PY scripts/trial_onset_shards.py "$MORE/data_realistic_s7" \
    "$MORE/data16ev_realistic_s7" --gain 16 --scenes "$MORE/synth_realistic_s7"
link "$MORE/data16ev_synth_more" realistic_ "$OUT"/data16ev_realistic/shards/*.tar
link "$MORE/data16ev_synth_more" easy_ "$OUT"/data16ev_easy/shards/*.tar
link "$MORE/data16ev_synth_more" s7_ "$MORE"/data16ev_realistic_s7/shards/*.tar
nice -n 10 .venv/bin/egosonics --threads 2 train syncronet --config configs/trial_onset/train_syncronet_synth_power_g16_more_long2ev.yaml
nice -n 10 .venv/bin/egosonics --threads 2 train video-to-text \
    --config configs/trial_onset/train_video_to_text_synth_power_g16_more_long2ev.yaml
[ -f "$OUT/model_s_power_g16_more_long2ev_events/model_index.json" ] || $PY scripts/train_onset_head.py \
    --model "$OUT/video_to_text_s_power_g16_more_long2ev/model" --out "$OUT/model_s_power_g16_more_long2ev_events" \
    --head-from "$OUT/model_s_power_g16_more_long_events"
for difficulty in realistic easy; do
    $PY scripts/model_card.py --model "$OUT/model_s_power_g16_more_long2ev_events" --real-clips none \
        --difficulty "$difficulty" $([ "$difficulty" = realistic ] && echo --n-single 100) --out outputs/default_model/eval
done
$PY scripts/model_card.py --model "$OUT/model_s_power_g16_more_long2_scene16" --real-clips none --difficulty easy \
    --out outputs/default_model/eval
