"""Training the onset head of ``MotionOnsetEncoder``: where sounds start, learned from motion on real footage.

Two stages, as in SyncFusion (Comunità et al., 2023): a network that predicts onsets from video, trained on real
footage with its recorded sound, and a generator that places sounds where the onset track says, trained on audio whose
onsets are known (the track computed from the target's own spectrogram). They are trained apart because what makes a
sound start looks different in synthesized scenes and in real footage, while "a sound starts here" is the same.

A generator's training targets get their track from their own audio (``spectrogram.onsets``, written by
``egosonics prepare --encoder motion-onset``); the head that predicts it for silent video is trained here:

    recorded_onset_clip  a video with its recorded sound → its motion E_V and recorded onsets (and motion stops)
    with_scene_events    a synthesized scene's clip with its visible events' onsets (its timeline) as the targets
    fit_onset_head       (E_V, onset times) of real clips → a trained ``MotionOnsetEncoder`` head and its threshold
    pooled_onset_rows    the head's onsets on held-out clips, pooled, beside the chance row and the click track
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.models.frame_encoder import MotionFrameEncoder, MotionOnsetEncoder, onset_track

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnsetClip:
    """One real clip for the onset head: the ``motion`` encoder's E_V of the whole clip and its recorded onsets."""

    name: str
    motion_ev: np.ndarray  # [T, D] float32 at ``fps``
    onsets_s: np.ndarray  # [K] seconds, from the recorded audio (``detect_onsets``)
    fps: float


def onset_targets(clip: OnsetClip) -> np.ndarray:
    """float32 [T]: 1 on the frame nearest each onset and on its two neighbours (an onset detected from audio lands
    within ±1 frame of the frame that shows it)."""
    track = onset_track(np.round(np.asarray(clip.onsets_s) * clip.fps), len(clip.motion_ev))
    return (track > 0).astype(np.float32)


def calibrate_threshold(encoder: MotionOnsetEncoder, probabilities: list[np.ndarray], num_onsets: int) -> float:
    """The threshold (0.05 to 0.99 in steps of 0.01) whose picks over ``probabilities`` number closest to
    ``num_onsets`` (the training clips' recorded onsets): the head predicts as many onsets as real footage has."""
    best, best_gap = 0.5, None
    for threshold in np.round(np.arange(0.05, 0.995, 0.01), 2):
        encoder.register_to_config(threshold=float(threshold))
        gap = abs(sum(len(encoder.pick_onsets(p)) for p in probabilities) - num_onsets)
        if best_gap is None or gap < best_gap:
            best, best_gap = float(threshold), gap
    encoder.register_to_config(threshold=best)
    return best


def fit_onset_head(encoder: MotionOnsetEncoder, clips: Sequence[OnsetClip], *, epochs: int = 60, lr: float = 1e-3,
                   weight_decay: float = 1e-2, seed: int = 0) -> dict[str, Any]:
    """Train ``encoder``'s head in place on ``clips`` from weights drawn with ``seed`` (binary cross-entropy against
    ``onset_targets``, positives weighted by the negatives-to-positives ratio; AdamW, one clip per step, clips
    shuffled every epoch by ``seed``), then ``calibrate_threshold``. The same clips and seed give the same head.
    Returns what a model card needs to say about it."""
    if not clips:
        raise ValueError("fit_onset_head needs at least one clip")
    torch.manual_seed(seed)
    for layer in encoder.head:  # start from the seed's weights, whatever the head held before
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    inputs = [torch.from_numpy(np.asarray(c.motion_ev, np.float32))[None] for c in clips]
    targets = [torch.from_numpy(onset_targets(c)) for c in clips]
    positives = float(sum(t.sum() for t in targets))
    total = float(sum(len(t) for t in targets))
    if positives == 0:
        raise ValueError("the training clips have no onsets")
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((total - positives) / positives))
    optimizer = torch.optim.AdamW(encoder.head.parameters(), lr=lr, weight_decay=weight_decay)
    encoder.train()
    losses = []
    for epoch in range(epochs):
        epoch_loss = 0.0
        for i in np.random.default_rng([seed, epoch]).permutation(len(clips)):
            loss = loss_fn(encoder.onset_logits(inputs[i])[0], targets[i])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
        losses.append(epoch_loss / len(clips))
        if (epoch + 1) % 10 == 0 or epoch + 1 == epochs:
            log.info("onset head: epoch %d/%d, loss %.4f", epoch + 1, epochs, losses[-1])
    encoder.eval()
    with torch.no_grad():
        probabilities = [torch.sigmoid(encoder.onset_logits(x))[0].numpy() for x in inputs]
    num_onsets = sum(len(c.onsets_s) for c in clips)
    threshold = calibrate_threshold(encoder, probabilities, num_onsets)
    return {"clips": len(clips), "epochs": epochs, "learning_rate": lr, "seed": seed, "loss_first": losses[0],
            "loss_last": losses[-1], "threshold": threshold, "train_onsets": num_onsets,
            "train_picks": sum(len(encoder.pick_onsets(p)) for p in probabilities)}


def recorded_onset_clip(path: str | os.PathLike[str], *, fps: float = DEFAULT_CLIP.fps,
                        encoder: MotionFrameEncoder | None = None) -> tuple[OnsetClip, np.ndarray]:
    """A whole video with its recorded sound → (its ``OnsetClip``: the ``motion`` E_V at ``fps``, 128 × 128 centre
    crop as ``generate`` decodes, and the onsets ``onset_times`` finds in its audio; the click track's motion stops
    in seconds, ``pick_stops`` on the same flow)."""
    from egosonics.evaluation.sync.click_track import pick_stops
    from egosonics.evaluation.sync.onset import onset_times
    from egosonics.media.audio import read_audio
    from egosonics.media.video import read_frames

    encoder = encoder or MotionFrameEncoder()
    clip = read_frames(path, duration_s=None, fps=fps, size=encoder.config.input_size, crop=True)
    signals = encoder.motion_signals(clip.frames[:clip.num_valid])
    waveform = read_audio(path, sample_rate=DEFAULT_CLIP.sample_rate)
    onset_clip = OnsetClip(name=Path(path).stem, motion_ev=encoder.squash(signals),
                           onsets_s=onset_times(waveform, DEFAULT_CLIP.sample_rate), fps=fps)
    return onset_clip, pick_stops(signals["stop_max_cell"], fps=fps)


def with_scene_events(clip: OnsetClip, timeline: str | os.PathLike[str]) -> OnsetClip:
    """``clip`` (a synthesized scene's ``recorded_onset_clip``) with the onsets of the scene's visible events, read from
    its timeline JSON (``egosonics synth``), in place of the onsets found in its audio: where the scene's sounds start
    by construction, without the detector's latency (about a frame, which varies with the sound) and without the
    sounds whose source is off screen, which no video can show."""
    from egosonics.evaluation.sync.onset import event_onsets

    path = Path(timeline)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no timeline JSON beside the scene (egosonics synth writes one per scene)")
    return replace(clip, onsets_s=event_onsets(path))


def pooled_onset_rows(heads: Sequence[MotionOnsetEncoder], clips: Sequence[OnsetClip],
                      stops_s: Sequence[np.ndarray]) -> dict[str, dict[str, float]]:
    """Pooled onset F1 (``evaluation.sync.pooled``: ±50 ms, first 0.25 s left out) of each clip's head's onsets
    (``heads[i]`` scores ``clips[i]``: one that never saw its source), beside another clip's recorded onsets (clip i
    scored with clip i + 1's: the chance row) and the click track's motion stops."""
    from egosonics.evaluation.sync.pooled import onset_counts, pooled_f1

    rows: dict[str, list] = {"onset head": [], "another clip's onsets (chance)": [], "click at motion stops": []}
    for i, (head, clip, stops) in enumerate(zip(heads, clips, stops_s, strict=True)):
        with torch.no_grad():
            probability = torch.sigmoid(head.onset_logits(torch.from_numpy(clip.motion_ev)[None]))[0].numpy()
        rows["onset head"].append(onset_counts(clip.onsets_s, head.pick_onsets(probability) / clip.fps))
        rows["another clip's onsets (chance)"].append(onset_counts(clip.onsets_s, clips[(i + 1) % len(clips)].onsets_s))
        rows["click at motion stops"].append(onset_counts(clip.onsets_s, stops))
    return {name: pooled_f1(counts) for name, counts in rows.items()}
