"""The ``motion-onset`` frame encoder: the onset track, its head, training the head, the target's own onsets in
``prepare``, and the ``tiny-onset`` preset."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from egosonics.models.frame_encoder import (
    FRAME_ENCODERS,
    MOTION_GLOBALS,
    MotionFrameEncoder,
    MotionOnsetEncoder,
    build_frame_encoder,
    frame_encoder_name,
    onset_track,
)
from egosonics.spectrogram.onsets import spectrogram_onsets
from egosonics.spectrogram.params import SpectrogramParams
from egosonics.training.onset import OnsetClip, fit_onset_head, onset_targets
from tests.models.test_motion_encoder import pan_and_square

FPS = 30.0


def test_onset_track_marks_each_onset_frame_and_its_neighbours():
    track = onset_track(np.array([0, 5, 6, 12]), 12)  # 12 is past the end: only its neighbour 11 shows
    expected = np.zeros(12, np.float32)
    expected[[0, 5, 6]] = 1.0
    expected[[1, 4, 7, 11]] = 0.5
    assert np.array_equal(track, expected)
    assert onset_track(np.array([], np.int64), 4).tolist() == [0, 0, 0, 0]


def test_pick_onsets_takes_local_maxima_above_the_threshold_and_keeps_them_apart():
    encoder = MotionOnsetEncoder(threshold=0.5, spacing_frames=3)
    p = np.zeros(40)
    p[[5, 7]] = [0.9, 0.8]  # 7 is within 3 frames of a higher peak: dropped
    p[20] = 0.6
    p[30] = 0.4  # below the threshold
    assert encoder.pick_onsets(p).tolist() == [5, 20]
    encoder.register_to_config(threshold=0.3)
    assert encoder.pick_onsets(p).tolist() == [5, 20, 30]


def test_encoder_is_the_motion_ev_with_the_heads_track_in_the_brightness_column():
    encoder = MotionOnsetEncoder(threshold=0.0).eval()  # every local maximum of the untrained head is an onset
    frames, _ = pan_and_square(n=40, stop_at=20)
    motion = MotionFrameEncoder().encode_video(frames)
    ev = encoder.encode_video(frames)
    column = encoder.layout["onset_track"]
    assert column == MotionFrameEncoder().layout["brightness"] and encoder.embedding_dim == 512
    others = np.ones(512, bool)
    others[column] = False
    assert np.array_equal(ev[:, others], motion[:, others])
    with torch.no_grad():
        probability = torch.sigmoid(encoder.onset_logits(torch.from_numpy(motion)[None]))[0].numpy()
    picks = encoder.pick_onsets(probability)
    assert len(picks) >= 3
    assert np.array_equal(ev[:, column][:, 0], encoder.config.track_gain * onset_track(picks, 40))
    # the head reads exactly the 16 global features: changing a cell feature does not move its logits
    touched = motion.copy()
    touched[:, encoder.layout["local_magnitude"]] += 0.5
    with torch.no_grad():
        assert torch.equal(encoder.onset_logits(torch.from_numpy(motion)[None]),
                           encoder.onset_logits(torch.from_numpy(touched)[None]))
    assert torch.equal(encoder(torch.from_numpy(frames)[None])[0], torch.from_numpy(ev))



def test_soft_track_maps_the_threshold_to_half_and_certainty_to_the_full_gain(tmp_path):
    encoder = MotionOnsetEncoder(threshold=0.7, track="soft")
    p = np.array([0.0, 0.2, 0.7, 0.9, 1.0, 1.3, -0.1])  # outside [0, 1] is clipped
    track = encoder.soft_track(p)
    k = np.log(0.5) / np.log(0.7)  # 1.943...
    assert np.allclose(track, np.clip(p, 0, 1) ** k, atol=1e-6)
    assert track[2] == pytest.approx(0.5, abs=1e-6) and track[4] == 1.0 and track[0] == 0.0
    assert track[1] < 0.2 < track[3] < 1.0  # quieter below the threshold than p, and monotone
    # encode_video writes gain · soft track; the picks setting of the same head writes its picks' track
    frames, _ = pan_and_square(n=40, stop_at=20)
    encoder.eval()
    motion = MotionFrameEncoder().encode_video(frames)
    with torch.no_grad():
        probability = torch.sigmoid(encoder.onset_logits(torch.from_numpy(motion)[None]))[0].numpy()
    column = encoder.layout["onset_track"]
    assert np.allclose(encoder.encode_video(frames)[:, column][:, 0],
                       encoder.config.track_gain * encoder.soft_track(probability), atol=1e-6)
    encoder.save_pretrained(tmp_path / "soft")
    assert MotionOnsetEncoder.from_pretrained(tmp_path / "soft").config.track == "soft"
    encoder.register_to_config(track="picks")
    assert np.array_equal(encoder.encode_video(frames)[:, column][:, 0],
                          encoder.config.track_gain * onset_track(encoder.pick_onsets(probability), 40))
    # a folder saved before the setting existed reads as picks
    config = json.loads((tmp_path / "soft" / "config.json").read_text())
    del config["track"]
    (tmp_path / "soft" / "config.json").write_text(json.dumps(config))
    assert MotionOnsetEncoder.from_pretrained(tmp_path / "soft").config.track == "picks"



def test_a_head_with_every_input_reads_the_cell_features_the_global_head_ignores(tmp_path):
    frames, _ = pan_and_square(n=40, stop_at=20)
    motion = torch.from_numpy(MotionFrameEncoder().encode_video(frames))[None]
    touched = motion.clone()
    touched[..., MotionOnsetEncoder().layout["local_magnitude"]] += 0.5
    wide = MotionOnsetEncoder(inputs="all").eval()
    assert wide.head[1].in_channels == 512 and MotionOnsetEncoder().head[1].in_channels == len(MOTION_GLOBALS)
    with torch.no_grad():
        assert not torch.allclose(wide.onset_logits(motion), wide.onset_logits(touched))
    wide.save_pretrained(tmp_path / "wide")
    loaded = MotionOnsetEncoder.from_pretrained(tmp_path / "wide").eval()
    assert loaded.config.inputs == "all"
    with torch.no_grad():
        assert torch.equal(loaded.onset_logits(motion), wide.onset_logits(motion))
    with pytest.raises(ValueError, match="inputs must be one of globals, all"):
        MotionOnsetEncoder(inputs="cells")

def test_soft_track_refuses_unknown_settings():
    with pytest.raises(ValueError, match="track must be one of picks, soft"):
        MotionOnsetEncoder(track="probability")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        MotionOnsetEncoder(threshold=0.0, track="soft").soft_track(np.array([0.5]))


def crafted_clip(seed: int, *, related: bool = True, frames: int = 300) -> OnsetClip:
    """Noise E_V whose ``stop_max_cell`` spikes on 8 random frames; the onsets are those frames (``related``) or 8
    other random frames."""
    rng = np.random.default_rng(seed)
    layout = MotionFrameEncoder().layout
    ev = rng.normal(0, 0.1, (frames, 512)).astype(np.float32)
    spikes = np.sort(rng.choice(np.arange(10, frames - 10, 12), 8, replace=False))
    ev[spikes, layout["stop_max_cell"]] = 1.0
    onsets = spikes if related else np.sort(rng.choice(np.arange(10, frames - 10), 8, replace=False))
    return OnsetClip(name=f"c{seed}", motion_ev=ev, onsets_s=onsets / FPS, fps=FPS)


def picked_f1(encoder: MotionOnsetEncoder, clip: OnsetClip) -> float:
    from egosonics.evaluation.sync.onset import onset_f1

    with torch.no_grad():
        p = torch.sigmoid(encoder.onset_logits(torch.from_numpy(clip.motion_ev)[None]))[0].numpy()
    return onset_f1(clip.onsets_s, encoder.pick_onsets(p) / FPS, window_s=0.05).f1


def test_fit_onset_head_learns_the_feature_that_marks_onsets_and_matches_their_count():
    assert len(MOTION_GLOBALS) == 16
    clip = crafted_clip(0)
    targets = onset_targets(clip)
    frames = np.round(clip.onsets_s * FPS).astype(int)
    assert targets[frames].all() and targets[frames + 1].all() and targets.sum() == 3 * len(frames)

    encoder = MotionOnsetEncoder(hidden=16, kernel=3)
    summary = fit_onset_head(encoder, [crafted_clip(s) for s in range(6)], epochs=30, seed=0)
    assert summary["loss_last"] < summary["loss_first"]
    assert abs(summary["train_picks"] - summary["train_onsets"]) <= 0.1 * summary["train_onsets"]
    assert encoder.config.threshold == summary["threshold"]
    assert min(picked_f1(encoder, crafted_clip(s)) for s in (100, 101)) >= 0.9

    unrelated = MotionOnsetEncoder(hidden=16, kernel=3)
    fit_onset_head(unrelated, [crafted_clip(s, related=False) for s in range(6)], epochs=30, seed=0)
    assert max(picked_f1(unrelated, crafted_clip(s)) for s in (100, 101)) < 0.5


def test_fit_onset_head_gives_the_same_head_for_the_same_seed_whatever_came_before():
    clips = [crafted_clip(s) for s in range(2)]
    torch.manual_seed(1)
    first = MotionOnsetEncoder(hidden=8, kernel=3)
    torch.manual_seed(2)
    second = MotionOnsetEncoder(hidden=8, kernel=3)
    torch.rand(5)  # the global generator moved on
    for encoder in (first, second):
        fit_onset_head(encoder, clips, epochs=2, seed=3)
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_fit_onset_head_refuses_clips_without_onsets():
    empty = OnsetClip(name="quiet", motion_ev=np.zeros((30, 512), np.float32), onsets_s=np.zeros(0), fps=FPS)
    with pytest.raises(ValueError, match="no onsets"):
        fit_onset_head(MotionOnsetEncoder(), [empty], epochs=1)
    with pytest.raises(ValueError, match="at least one clip"):
        fit_onset_head(MotionOnsetEncoder(), [], epochs=1)


def test_spectrogram_onsets_are_the_onsets_the_evaluation_finds_in_the_waveform():
    from egosonics.evaluation.sync.onset import DEFAULT_ONSET_CONFIG, detect_onsets
    from egosonics.spectrogram.onsets import ONSET_DELTA
    from egosonics.spectrogram.transform import waveform_to_unit

    assert DEFAULT_ONSET_CONFIG.delta == ONSET_DELTA  # one peak-picking setting for training targets and evaluation
    sr = 22050
    rng = np.random.default_rng(0)
    waveform = rng.normal(0, 0.002, 10 * sr).astype(np.float32)
    true = np.array([0.8, 2.1, 3.7, 5.0, 6.6, 8.3])
    for t in true:
        n = int(0.15 * sr)
        burst = rng.normal(0, 0.5, n) * np.exp(-np.arange(n) / (0.03 * sr))
        waveform[int(t * sr):int(t * sr) + n] += burst.astype(np.float32)
    params = SpectrogramParams()
    found = spectrogram_onsets(waveform_to_unit(torch.from_numpy(waveform), params).numpy(), params)
    reference = detect_onsets(waveform, sr) / sr
    assert len(found) == len(reference) == len(true)
    assert np.abs(found - reference).max() <= 0.024  # one STFT hop
    assert np.abs(found - true).max() <= 0.05


def test_prepare_with_motion_onset_writes_each_windows_own_onsets_as_the_track(tmp_path):
    from egosonics.clip_spec import ClipSpec
    from egosonics.preprocess.prepare import PrepareConfig, prepare
    from egosonics.preprocess.shards import read_shard
    from egosonics.synth.bounce import render_bounce
    from tests.training.conftest import make_sources

    src = make_sources(tmp_path / "src", good=1, seconds=10.5)
    prepare(PrepareConfig(src=str(src), out=str(tmp_path / "data"), rms_threshold_dbfs=-60.0, encoder="motion-onset"))
    rows = [json.loads(line) for line in (tmp_path / "data" / "manifest.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r["status"] == "kept")
    _, sample = next(s for s in read_shard(tmp_path / "data" / "shards" / row["shard"]) if s[0] == row["key"])
    column = MotionOnsetEncoder().layout["onset_track"]
    track = sample["ev"][:, column][:, 0].astype(np.float32)
    own = np.round(spectrogram_onsets(sample["spec"], SpectrogramParams()) * FPS)
    gain = MotionOnsetEncoder().config.track_gain
    assert np.array_equal(track, gain * onset_track(own, 300))
    # the bouncing ball's impacts (known from the scene, shifted by the window's start) are the track's onsets
    scene = render_bounce(0, clip=ClipSpec(duration_s=10.5), size=(48, 64))  # good0.mp4 of make_sources
    events = np.array(scene.events_s) - row["start_s"]
    events = events[(events > 0.1) & (events < 9.9)]
    onset_frames = np.flatnonzero(track == gain)
    assert len(events) >= 5
    assert all(np.abs(onset_frames - e * FPS).min() <= 2 for e in events)


def test_motion_onset_is_registered_and_the_tiny_onset_preset_round_trips_its_head(tmp_path):
    from egosonics.pipeline import EgoSonicsPipeline

    assert FRAME_ENCODERS["motion-onset"] is MotionOnsetEncoder
    assert frame_encoder_name(build_frame_encoder("motion-onset")) == "motion-onset"
    pipe = EgoSonicsPipeline.from_preset("tiny-onset")
    assert isinstance(pipe.frame_encoder, MotionOnsetEncoder)
    pipe.frame_encoder.register_to_config(threshold=0.37)
    pipe.save_pretrained(tmp_path / "model")
    loaded = EgoSonicsPipeline.from_pretrained(tmp_path / "model")
    assert loaded.config.preset == "tiny-onset" and loaded.frame_encoder.config.threshold == 0.37
    for (name, a), (_, b) in zip(pipe.frame_encoder.state_dict().items(),
                                 loaded.frame_encoder.state_dict().items(), strict=True):
        assert torch.equal(a, b), name



def test_the_power_row_trial_presets_are_tiny_power_with_the_motion_encoders():
    from egosonics.models.presets import get_preset

    power = get_preset("tiny-power")
    for name, encoder in (("tiny-motion-power", "motion"), ("tiny-onset-power", "motion-onset")):
        preset = get_preset(name)
        assert preset.frame_encoder == encoder and preset.spectrogram == power.spectrogram
        assert preset.spectrogram.freq_pooling == "power" and preset.pixel_norm == power.pixel_norm

def test_recorded_onset_clip_reads_the_motion_ev_the_recorded_onsets_and_the_stops(tmp_path):
    from egosonics.clip_spec import ClipSpec
    from egosonics.evaluation.sync.click_track import pick_stops
    from egosonics.media.video import read_frames
    from egosonics.synth.bounce import render_bounce
    from egosonics.training.onset import recorded_onset_clip
    from tests.training.conftest import make_sources

    src = make_sources(tmp_path / "src", good=1, seconds=6.0)
    clip, stops = recorded_onset_clip(src / "good0.mp4")
    frames = read_frames(src / "good0.mp4", duration_s=None, size=128, crop=True).frames
    encoder = MotionFrameEncoder()
    assert clip.name == "good0" and clip.fps == FPS and clip.motion_ev.shape == (180, 512)
    assert np.array_equal(clip.motion_ev, encoder.encode_video(frames))
    assert np.array_equal(stops, pick_stops(encoder.motion_signals(frames)["stop_max_cell"], fps=FPS))
    events = np.array(render_bounce(0, clip=ClipSpec(duration_s=6.0), size=(48, 64)).events_s)
    assert len(events) >= 3 and all(np.abs(clip.onsets_s - e).min() <= 0.05 for e in events)


def test_with_scene_events_takes_the_visible_events_of_the_timeline_as_the_onsets(tmp_path):
    from egosonics.training.onset import with_scene_events

    clip = crafted_clip(0)
    timeline = tmp_path / "scene-0.json"
    timeline.write_text(json.dumps({"events": [{"onset_s": 2.5, "visible": True}, {"onset_s": 0.75},
                                               {"onset_s": 1.25, "visible": False}]}))
    scene = with_scene_events(clip, timeline)
    assert np.array_equal(scene.onsets_s, [0.75, 2.5])  # sorted, the off-screen sound left out
    assert scene.motion_ev is clip.motion_ev and scene.name == clip.name and scene.fps == clip.fps
    with pytest.raises(FileNotFoundError, match=r"scene-1\.json: no timeline JSON beside the scene"):
        with_scene_events(clip, tmp_path / "scene-1.json")


def test_pooled_onset_rows_scores_each_clip_with_its_own_head_beside_chance_and_clicks():
    from egosonics.training.onset import pooled_onset_rows

    trained = MotionOnsetEncoder(hidden=16, kernel=3)
    fit_onset_head(trained, [crafted_clip(s) for s in range(6)], epochs=30, seed=0)
    untrained = MotionOnsetEncoder(hidden=16, kernel=3, threshold=2.0)  # a probability never reaches 2: no onsets
    clips = [crafted_clip(s) for s in (200, 201)]
    spikes = [np.round(c.onsets_s * FPS) / FPS for c in clips]
    rows = pooled_onset_rows([trained, untrained], clips, [spikes[0], np.zeros(0)])
    head, chance, clicks = rows["onset head"], rows["another clip's onsets (chance)"], rows["click at motion stops"]
    assert head["n_reference"] == 16 and head["n_estimated"] == 8 and head["hits"] >= 7  # clip 2's head is silent
    assert chance["n_estimated"] == 16 and chance["hits"] < 8
    assert clicks["hits"] == clicks["n_estimated"] == 8


def test_trial_shard_copy_writes_the_bytes_prepare_writes_with_motion_onset(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from egosonics.preprocess.prepare import PrepareConfig, prepare
    from egosonics.preprocess.shards import read_shard
    from tests.training.conftest import make_sources

    src = make_sources(tmp_path / "src", good=1, seconds=10.5)
    for encoder in ("motion", "motion-onset"):
        prepare(PrepareConfig(src=str(src), out=str(tmp_path / encoder), rms_threshold_dbfs=-60.0, encoder=encoder))
    script = Path(__file__).resolve().parents[2] / "scripts" / "trial_onset_shards.py"
    subprocess.run([sys.executable, str(script), str(tmp_path / "motion"), str(tmp_path / "copy"), "--gain",
                    str(MotionOnsetEncoder().config.track_gain)], check=True, capture_output=True)

    def windows(folder: str) -> dict:
        return {k: s for shard in sorted((tmp_path / folder / "shards").glob("*.tar")) for k, s in read_shard(shard)}

    prepared, copied = windows("motion-onset"), windows("copy")
    assert prepared.keys() == copied.keys() and prepared
    for key in prepared:
        assert np.array_equal(prepared[key]["ev"], copied[key]["ev"])
        assert np.array_equal(prepared[key]["spec"], copied[key]["spec"])
    assert any((prepared[k]["ev"][:, 510] == 8.0).any() for k in prepared)  # the default gain reached the shard


def test_trial_shard_copy_with_scenes_writes_the_track_of_each_scenes_visible_events(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from egosonics.preprocess.prepare import PrepareConfig, prepare
    from egosonics.preprocess.shards import read_shard
    from tests.training.conftest import make_sources

    src = make_sources(tmp_path / "src", good=2, seconds=10.5)
    prepare(PrepareConfig(src=str(src), out=str(tmp_path / "motion"), rms_threshold_dbfs=-60.0, encoder="motion"))
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    events = {"good0": [1.0, 4.5, 10.4], "good1": [0.6]}
    for stem, onsets in events.items():
        timeline = [{"onset_s": t, "visible": True} for t in onsets] + [{"onset_s": 3.0, "visible": False}]
        (scenes / f"{stem}.json").write_text(json.dumps({"events": timeline}))
    script = Path(__file__).resolve().parents[2] / "scripts" / "trial_onset_shards.py"
    subprocess.run([sys.executable, str(script), str(tmp_path / "motion"), str(tmp_path / "copy"), "--gain", "16",
                    "--scenes", str(tmp_path / "elsewhere"), "--scenes", str(scenes)], check=True, capture_output=True)

    def windows(folder: str) -> dict:
        return {k: s for shard in sorted((tmp_path / folder / "shards").glob("*.tar")) for k, s in read_shard(shard)}

    motion, copied = windows("motion"), windows("copy")
    assert motion.keys() == copied.keys() and len(copied) == 2
    encoder = MotionOnsetEncoder(track_gain=16.0)
    for key, window in copied.items():
        stem, start = Path(window["json"]["source"]).stem, window["json"]["start_s"]
        frames = [round((t - start) * FPS) for t in events[stem] if 0 <= t - start < 10.0]
        assert frames  # the window holds at least one event
        expected = encoder.with_onset_track(motion[key]["ev"].astype(np.float32), np.array(frames))
        assert np.array_equal(window["ev"], expected.astype(np.float16))  # the off-screen event left out
        assert np.flatnonzero(window["ev"][:, 510] == 16.0).tolist() == frames
    (scenes / "good1.json").unlink()
    failed = subprocess.run([sys.executable, str(script), str(tmp_path / "motion"), str(tmp_path / "copy2"), "--gain",
                             "16", "--scenes", str(scenes)], capture_output=True, text=True)
    assert failed.returncode != 0 and "no timeline good1.json in" in failed.stderr.strip().splitlines()[-1]
    assert not list((tmp_path / "copy2" / "shards").glob("*.tmp"))  # no half-written shard left behind
