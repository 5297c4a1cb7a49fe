"""Does a ``tiny-onset`` generator follow its onset track? Generate the first 10 s of real clips from the motion E_V
with four tracks, and score each against the recorded audio.

    .venv/bin/python scripts/trial_onset_oracle.py --model FOLDER --sources A,B,... [--track-gain G] [--out FILE.json]

Tracks: the clip's own recorded onsets (the oracle: what the generator does with a perfect track), the model's onset
head (what ``generate`` does), another clip's recorded onsets (the chance row for a track), and no onsets at all.
Pooled onset F1 (±50 ms, first 0.25 s left out) over the clips of ``--sources`` (their first 10 s), 20 DDIM steps,
guidance 3, seed 0, as ``generate``. ``--track-gain`` replaces the model's track value at an onset (the generator
follows a larger value than it was trained with more closely).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from real_clips_eval import SETS  # the real clip folders (scripts/ is on the path of a script run from it)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--sources", required=True, help="comma-separated source repositories (held-out clips)")
    parser.add_argument("--track-gain", type=float, help="the track's value at an onset (default: the model's)")
    parser.add_argument("--out", help="JSON file for the numbers")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    import torch

    from egosonics.clip_spec import DEFAULT_CLIP
    from egosonics.evaluation.sync.onset import onset_times
    from egosonics.evaluation.sync.pooled import onset_counts, pooled_f1
    from egosonics.loading import load_pipeline
    from egosonics.media.audio import read_audio
    from egosonics.media.video import read_frames
    from egosonics.models.frame_encoder import MotionOnsetEncoder
    from egosonics.spectrogram.onsets import spectrogram_onsets
    from egosonics.spectrogram.params import SpectrogramParams
    from egosonics.spectrogram.transform import waveform_to_unit
    from egosonics.training.vocoder import read_sources_table

    torch.set_num_threads(1)
    sources = {s.strip() for s in args.sources.split(",") if s.strip()}
    clips = [v for folder in SETS.values() for v in sorted(folder.glob("*.mp4"))
             if read_sources_table(folder).get(v.name, {}).get("source") in sources]
    pipe = load_pipeline(args.model)
    encoder = pipe.frame_encoder
    if not isinstance(encoder, MotionOnsetEncoder):
        raise SystemExit(f"{args.model}: not a tiny-onset model (frame encoder {type(encoder).__name__})")
    if args.track_gain is not None:
        encoder.register_to_config(track_gain=args.track_gain)
    params, fps, sr = SpectrogramParams(), DEFAULT_CLIP.fps, DEFAULT_CLIP.sample_rate
    data = []
    for video in clips:
        span = DEFAULT_CLIP.duration_s
        frames = read_frames(video, duration_s=span, fps=fps, size=encoder.config.input_size, crop=True).frames
        audio = read_audio(video, sample_rate=sr, duration_s=span)
        motion = encoder.motion.encode_video(frames)
        with torch.no_grad():
            head = encoder.pick_onsets(torch.sigmoid(encoder.onset_logits(torch.from_numpy(motion)[None]))[0].numpy())
        own = np.round(spectrogram_onsets(waveform_to_unit(torch.from_numpy(audio), params).numpy(), params) * fps)
        data.append({"name": video.stem, "motion": motion, "head": head, "own": own,
                     "recorded": onset_times(audio, sr)})
    rows: dict[str, list] = {"own onsets (oracle)": [], "onset head": [], "another clip's onsets": [],
                             "no onsets": []}
    for i, clip in enumerate(data):
        tracks = {"own onsets (oracle)": clip["own"], "onset head": clip["head"],
                  "another clip's onsets": data[(i + 1) % len(data)]["own"], "no onsets": np.zeros(0)}
        for name, onsets in tracks.items():
            ev = torch.from_numpy(encoder.with_onset_track(clip["motion"], onsets))[None]
            out = pipe(video_embedding=ev, generator=torch.Generator().manual_seed(0))
            waveform = out.waveforms[0].float().cpu().numpy()
            rows[name].append(onset_counts(clip["recorded"], onset_times(waveform, sr)))
        print(clip["name"], {k: (v[-1].hits, v[-1].n_estimated, v[-1].n_reference) for k, v in rows.items()},
              flush=True)
    result = {name: pooled_f1(counts) for name, counts in rows.items()}
    result["track vs recorded (no generation)"] = pooled_f1([onset_counts(c["recorded"], c["head"] / fps)
                                                             for c in data])
    for name, r in result.items():
        print(f"{name}: pooled F1 {r['f1']:.3f} (hits {r['hits']} / est. {r['n_estimated']} / ref. {r['n_reference']})")
    if args.out:
        Path(args.out).write_text(json.dumps({"model": args.model, "track_gain": encoder.config.track_gain,
                                              "clips": [c["name"] for c in data],
                                              "rows": result}, indent=1))


if __name__ == "__main__":
    main()
