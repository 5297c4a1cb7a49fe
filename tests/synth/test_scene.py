"""Synthetic scenes: determinism, sound exactly at the visual contact, class coverage, knobs, pair and single modes."""

from __future__ import annotations

import numpy as np
import pytest

from egosonics.clip_spec import ClipSpec
from egosonics.media.audio import rms_dbfs
from egosonics.synth.scene import render_pair, render_scene
from egosonics.synth.settings import EVENT_CLASSES, PAIR_MATERIALS, SynthSettings, settings_for
from egosonics.synth.timeline import load_timeline
from tests.synth.conftest import FPS, SR, energy_onset, region_diff

SHORT = SynthSettings(clip=ClipSpec(duration_s=5.0), min_events=2)


def test_same_seed_same_clip_other_seed_other_clip():
    a = render_scene(7, index=2, settings=SHORT)
    b = render_scene(7, index=2, settings=SHORT)
    assert np.array_equal(a.frames, b.frames)
    assert a.audio.tobytes() == b.audio.tobytes()
    assert a.timeline.to_dict() == b.timeline.to_dict()
    c = render_scene(7, index=3, settings=SHORT)
    assert not np.array_equal(a.frames, c.frames)
    assert a.timeline.to_dict()["events"] != c.timeline.to_dict()["events"]


def test_clip_format():
    scene = render_scene(0, settings=SHORT.replace(height=120, width=160))
    clip = SHORT.clip
    assert scene.frames.shape == (clip.num_frames, 120, 160, 3) and scene.frames.dtype == np.uint8
    assert scene.audio.shape == (clip.num_samples,) and scene.audio.dtype == np.float32
    assert np.abs(scene.audio).max() < 1.0
    tl = scene.timeline
    assert (tl.fps, tl.sample_rate, tl.size) == (FPS, SR, (120, 160))
    assert "\n" not in tl.narration and tl.narration.startswith("I ")


@pytest.mark.parametrize("cls", EVENT_CLASSES)
def test_sound_starts_at_the_onset_sample(class_clips, cls):
    """Each event's own sound is silent before its onset sample (a frame boundary) and loud within 1 ms after."""
    for scene in class_clips[cls]:
        assert scene.timeline.events, f"no {cls} event"
        for event, stem in zip(scene.timeline.events, scene.stems, strict=True):
            assert event.cls == cls
            assert event.onset_sample == event.onset_frame * SR // FPS
            assert event.onset_s == pytest.approx(event.onset_frame / FPS, abs=1e-6)
            assert not stem[:event.onset_sample].any()
            head = np.abs(stem[event.onset_sample:event.onset_sample + SR // 1000]).max()
            assert head > 0.1 * np.abs(stem).max(), f"{cls} at {event.onset_s} s starts too softly"
            assert event.offset_sample > event.onset_sample
            assert not stem[event.offset_sample:].any()


@pytest.mark.parametrize("cls", EVENT_CLASSES)
def test_energy_onsets_match_the_timeline(class_clips, cls):
    """In the mixed soundtrack (with room tone) every event's energy onset is within 1 ms of its timeline onset."""
    for scene in class_clips[cls]:
        for event in scene.timeline.events:
            found = energy_onset(scene.audio, event.onset_sample)
            assert abs(found - event.onset_sample) <= SR // 1000, (cls, event.onset_s, (found - event.onset_sample))


def _box(event, frames, radius=24):
    h, w = frames.shape[1:3]
    x, y = round(event.position[0] * w), round(event.position[1] * h)
    return slice(max(0, y - radius), y + radius), slice(max(0, x - radius), x + radius)


@pytest.mark.parametrize("cls", ["impact", "chop", "saw", "pour", "footsteps"])
def test_frame_difference_peaks_at_the_contact_frame(still_clips, cls):
    """Near the contact (the whole frame for footsteps, whose signature is the view's jolt) the frame difference
    is largest in the onset frame, among the 5 frames either side."""
    for scene in still_clips[cls]:
        frames = scene.frames
        for event in scene.timeline.events:
            k = event.onset_frame
            if not 5 <= k < len(frames) - 5:
                continue
            box = (slice(None), slice(None)) if cls == "footsteps" else _box(event, frames)
            diffs = [region_diff(frames, j, box) for j in range(k - 5, k + 6)]
            assert int(np.argmax(diffs)) == 5, (cls, k, np.round(diffs, 1))


def test_machine_moves_exactly_while_it_hums(still_clips):
    """The grinder's wheel (left of its switch) changes in every frame from the onset to the offset frame and in
    none just before or after, and the hum is silent outside the same span."""
    for scene in still_clips["machine"]:
        frames, u = scene.frames, frames_u(scene)
        for event in scene.timeline.events:
            k, k_end = event.onset_frame, round(event.offset_s * FPS)
            h, w = frames.shape[1:3]
            x, y = round(event.position[0] * w), round(event.position[1] * h)
            wheel = slice(y - round(16 * u), y + round(6 * u)), slice(x - round(27 * u), x - round(5 * u))
            span = range(k - 8, min(k_end + 9, len(frames)))
            moving = [j for j in span if region_diff(frames, j, wheel) > 0]
            assert moving == list(range(k, min(k_end, len(frames) - 1) + 1))
            assert event.offset_sample == min(k_end * SR // FPS, len(scene.audio))


def frames_u(scene) -> float:
    return scene.frames.shape[1] / 128


def test_every_class_appears_and_scenes_have_several_events():
    classes, counts = set(), []
    for index in range(8):
        tl = render_scene(11, index=index).timeline
        classes |= {e.cls for e in tl.events}
        counts.append(len(tl.events))
        onsets = [e.onset_frame for e in tl.events]
        assert onsets == sorted(onsets) and len(set(onsets)) == len(onsets)
        actions = [e.action for e in tl.events]
        assert actions == sorted(actions), "actions overlap in time"
    assert classes == set(EVENT_CLASSES)
    assert all(3 <= n <= 12 for n in counts), counts


def test_single_mode_cycles_through_classes():
    settings = SynthSettings(clip=ClipSpec(duration_s=4.0), mode="single", min_events=1)
    for index, cls in enumerate(EVENT_CLASSES):
        tl = render_scene(5, index=index, settings=settings).timeline
        assert {e.cls for e in tl.events} == {cls}


def test_pair_mode_same_frames_material_heard_and_said():
    wood, metal = render_pair(3, settings=SHORT.replace(mode="pair"))
    assert np.array_equal(wood.frames, metal.frames)
    assert not np.allclose(wood.audio, metal.audio)
    assert {e.material for e in wood.timeline.events} == {PAIR_MATERIALS[0]}
    assert {e.material for e in metal.timeline.events} == {PAIR_MATERIALS[1]}
    assert [e.onset_sample for e in wood.timeline.events] == [e.onset_sample for e in metal.timeline.events]
    assert "wooden" in wood.timeline.narration and "metal" in metal.timeline.narration
    assert wood.timeline.narration.replace("wooden", "metal") == metal.timeline.narration
    assert wood.timeline.pair == metal.timeline.pair
    # Metal rings far longer than wood: the heard difference the narration depends on.
    assert metal.timeline.events[0].offset_s - metal.timeline.events[0].onset_s > 0.5
    assert wood.timeline.events[0].offset_s - wood.timeline.events[0].onset_s < 0.6


def test_knob_noise_level():
    for level in (-60.0, -30.0):
        scene = render_scene(2, settings=SHORT.replace(noise_dbfs=level), stems=True)
        room = scene.audio - np.sum(scene.stems, axis=0)
        assert rms_dbfs(room) == pytest.approx(level, abs=0.5)


def test_knob_offscreen_sounds():
    scene = render_scene(2, settings=SHORT.replace(offscreen=2), stems=True)
    hidden = [(e, s) for e, s in zip(scene.timeline.events, scene.stems, strict=True) if not e.visible]
    assert len(hidden) == 2
    visible = [e.onset_frame for e in scene.timeline.events if e.visible]
    for event, stem in hidden:
        assert event.position is None and event.action == -1
        assert np.abs(stem).max() > 0.01
        assert all(abs(event.onset_frame - k) >= 0.15 * FPS for k in visible)
    assert "Off-screen" in scene.timeline.narration
    # The same clip without them: the pictures do not change.
    plain = render_scene(2, settings=SHORT)
    assert np.array_equal(plain.frames, scene.frames)


def test_knob_distractors_are_silent():
    kinds = set()
    for seed in range(4):
        tl = render_scene(seed, settings=SHORT.replace(clip=ClipSpec(duration_s=8.0), distractors=3)).timeline
        assert len(tl.distractors) == 3
        kinds |= {d.kind for d in tl.distractors}
        for d in tl.distractors:
            if d.kind == "feint":  # a silent action of its own: no sound event starts during it
                assert not any(d.start_s <= e.onset_s <= d.end_s for e in tl.events if e.visible)
    assert kinds == {"feint", "passerby"}


def test_knob_camera_shake_moves_the_view():
    def motion(shake):
        frames = render_scene(6, settings=SHORT.replace(camera_shake=shake)).frames.astype(np.int16)
        return float(np.abs(np.diff(frames, axis=0)).mean())

    still, shaky = motion(0.0), motion(2.0)
    assert shaky > 1.5 * still


def test_timeline_json_round_trip(tmp_path):
    tl = render_scene(1, settings=SHORT.replace(offscreen=1, distractors=1)).timeline
    tl.save(tmp_path / "clip.json")
    back = load_timeline(tmp_path / "clip.json")
    assert back.to_dict() == tl.to_dict()
    assert back.events[0].cls == tl.events[0].cls


def test_settings_errors_name_the_bad_value():
    with pytest.raises(ValueError, match=r"unknown event class.*'sneeze'.*choose from"):
        SynthSettings(classes=("impact", "sneeze"))
    with pytest.raises(ValueError, match="unknown mode 'movie'"):
        SynthSettings(mode="movie")
    with pytest.raises(ValueError, match="unknown difficulty 'extreme'"):
        settings_for("extreme")
    with pytest.raises(ValueError, match="at least 48"):
        SynthSettings(height=32)
    with pytest.raises(ValueError, match="pair mode needs material"):
        render_scene(0, settings=SynthSettings(mode="pair"))
    assert settings_for("hard", noise_dbfs=-50.0).noise_dbfs == -50.0
    assert settings_for("hard").distractors == 3


def test_classes_sound_distinct():
    """A nearest-centroid classifier on log-mel statistics (mean and std per band), fitted on 3 clips per class,
    names the class of 2 unseen clips per class."""
    librosa = pytest.importorskip("librosa")
    mel = librosa.filters.mel(sr=SR, n_fft=1024, n_mels=48)

    def features(audio):
        power = np.abs(librosa.stft(audio, n_fft=1024, hop_length=512)) ** 2
        logmel = np.log(mel @ power + 1e-8)
        return np.concatenate([logmel.mean(axis=1), logmel.std(axis=1)])

    settings = SynthSettings(clip=ClipSpec(duration_s=4.0), mode="single", min_events=1)
    n = len(EVENT_CLASSES)
    clips = [render_scene(30, index=i, settings=settings) for i in range(5 * n)]  # 5 clips per class, in turn
    x = np.stack([features(c.audio) for c in clips])
    y = np.array([c.timeline.events[0].cls for c in clips])
    train = np.arange(len(clips)) < 3 * n
    centroids = {cls: x[train & (y == cls)].mean(axis=0) for cls in EVENT_CLASSES}
    predicted = [min(centroids, key=lambda c: np.linalg.norm(f - centroids[c])) for f in x[~train]]
    assert np.mean(np.array(predicted) == y[~train]) >= 0.9, list(zip(y[~train], predicted, strict=True))
