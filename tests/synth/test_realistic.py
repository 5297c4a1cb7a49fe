"""Realistic synthetic scenes (``--difficulty realistic``): contacts look like physics, not like a cue; formats vary;
recordings are licence-filtered and attributed; the same seed gives the same clip; easy scenes are unchanged."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging

import numpy as np
import pytest
import soundfile as sf

from egosonics.cli import main
from egosonics.clip_spec import ClipSpec
from egosonics.errors import EgoSonicsError
from egosonics.synth.realistic import sfx as sfx_module
from egosonics.synth.realistic.actions import Chop, Door, Place, Strike
from egosonics.synth.realistic.physics import Gait
from egosonics.synth.realistic.sfx import SfxLibrary, licence_allows, read_sources
from egosonics.synth.realistic.walk import Walk
from egosonics.synth.scene import render_pair, render_scene
from egosonics.synth.settings import FRAME_RATES, REALISTIC_CLASSES, SFX_CLASSES, settings_for
from egosonics.synth.world import Layout, Look
from tests.synth.conftest import SR

SFX_DIR = sfx_module.default_sfx_dir()
needs_sfx = pytest.mark.skipif(SFX_DIR is None, reason="no ../shared/data/sfx")
CONTACT_CLASSES = ("impact", "chop", "place")


def realistic(duration: float = 4.0, **changes):
    values = {"clip": ClipSpec(duration_s=duration), "height": 48, "width": 48, "min_events": 1, **changes}
    return settings_for("realistic", **values)


def pooled(frames: np.ndarray, f: int = 4) -> np.ndarray:
    """Frames averaged over f x f blocks (float32): motion measured above the sensor noise. [N, H/f, W/f, 3]"""
    n, h, w = frames.shape[:3]
    h, w = h // f * f, w // f * f
    return frames[:, :h, :w].astype(np.float32).reshape(n, h // f, f, w // f, f, 3).mean(axis=(2, 4))


def local_diffs(frames: np.ndarray, event, before: int = 5) -> list[float]:
    """Mean |frame j - frame j-1| near the contact (pooled frames, a box of ~40 % of the height), j = k-before..k."""
    p = pooled(frames)
    h, w = p.shape[1:3]
    x, y, r = round(event.position[0] * w), round(event.position[1] * h), max(3, round(0.2 * h))
    box = (slice(max(0, y - r), y + r), slice(max(0, x - r), x + r))
    k = event.onset_frame
    return [float(np.abs(p[j][box] - p[j - 1][box]).mean()) for j in range(k - before, k + 1)]


@pytest.fixture(scope="module")
def contact_clips():
    """Realistic single-class clips of the contact classes, 4 seeds each, with and without head motion."""
    out = {}
    for still in (False, True):
        knobs = {"camera_shake": 0.0, "head_motion": 0.0} if still else {}
        out[still] = [render_scene(seed, settings=realistic(classes=(cls,), mode="single", offscreen=0,
                                                            distractors=0, **knobs))
                      for cls in CONTACT_CLASSES for seed in range(4)]
    return out


# ------------------------------------------------------------------------------------------------ easy unchanged


EASY_PIN = "f973f5210c3d5da2e1994b45de4a07fc785e188041884a49bc8dc9f2cd792847"


def test_easy_output_is_unchanged():
    """Frames, audio and timelines of easy scenes (scene and pair mode, with distractors and off-screen sounds) hash
    to what the renderer produced before the realistic mode existed."""
    s = settings_for("easy", clip=ClipSpec(duration_s=3.0), height=64, width=80, min_events=2, offscreen=1,
                     distractors=2)
    h = hashlib.sha256()
    scenes = [render_scene(seed, index=seed, settings=s) for seed in (0, 1)]
    scenes += list(render_pair(2, settings=s.replace(mode="pair")))
    for scene in scenes:
        h.update(scene.frames.tobytes())
        h.update(scene.audio.tobytes())
        h.update(json.dumps(scene.timeline.to_dict(), sort_keys=True).encode())
        assert "render" not in scene.timeline.to_dict() and "sfx" not in scene.timeline.to_dict()
        assert "realistic" not in scene.timeline.settings and "sfx_dir" not in scene.timeline.settings
    assert h.hexdigest() == EASY_PIN


# ------------------------------------------------------------------------------------------------ determinism, formats


def test_same_seed_same_clip_other_index_other_clip():
    s = realistic(3.0, distractors=1, offscreen=1)
    a, b = (render_scene(5, index=1, settings=s) for _ in range(2))
    assert np.array_equal(a.frames, b.frames)
    assert a.audio.tobytes() == b.audio.tobytes()
    assert a.timeline.to_dict() == b.timeline.to_dict()
    assert a.video_options == b.video_options
    c = render_scene(5, index=2, settings=s)
    assert a.frames.shape != c.frames.shape or not np.array_equal(a.frames, c.frames)


def test_same_seed_same_files(tmp_path):
    """MP4 (H.264 at the drawn bitrate, one thread), WAV and JSON are byte-identical across runs."""
    from egosonics.synth.dataset import synthesize

    s = realistic(1.5)
    for folder in ("a", "b"):
        synthesize(tmp_path / folder, n=2, seed=3, settings=s, show_progress=False)
    for name in ("scene-3-00000", "scene-3-00001"):
        for ext in ("mp4", "wav", "json"):
            assert (tmp_path / "a" / f"{name}.{ext}").read_bytes() == (tmp_path / "b" / f"{name}.{ext}").read_bytes()


def test_frame_rates_and_sizes_vary_across_seeds():
    fps, sizes, bitrates = set(), set(), set()
    for seed in range(8):
        scene = render_scene(seed, settings=realistic(1.0, min_events=1, max_events=2))
        tl = scene.timeline
        assert tl.fps in FRAME_RATES and 24 <= tl.fps <= 60
        assert scene.frames.shape == (round(1.0 * tl.fps), *tl.size, 3)
        assert tl.size[0] % 2 == 0 and tl.size[1] % 2 == 0 and min(tl.size) >= 48
        assert tl.render["bitrate_kbps"] >= 30 and 0.25 <= tl.render["shutter"] <= 0.9
        fps.add(tl.fps)
        sizes.add(tl.size)
        bitrates.add(tl.render["bitrate_kbps"])
    assert len(fps) >= 3 and len(sizes) >= 4 and len(bitrates) >= 2, (fps, sizes, bitrates)


# ------------------------------------------------------------------------------------------------ physics, not a cue


def test_contact_frame_is_not_a_frame_difference_outlier(contact_clips):
    """Over many contacts: the onset frame is never the clip's largest frame difference, and near the contact it is
    the largest of the last 6 frames no more often than chance (easy scenes: always, by construction)."""
    local_max, n = 0, 0
    for scene in contact_clips[False]:
        frames = scene.frames
        whole = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))  # whole[j - 1]: j vs j - 1
        for event in scene.timeline.visible_events:
            k = event.onset_frame
            if not 6 <= k < len(frames):
                continue
            n += 1
            assert whole[k - 1] < whole.max() and int(np.argmax(whole)) != k - 1, (event, scene.timeline.name)
            diffs = local_diffs(frames, event)
            local_max += diffs[-1] >= max(diffs[:-1])
    assert n >= 20
    assert local_max / n <= 0.25, f"contact frame is the local motion peak in {local_max} of {n} contacts"


def test_heel_strike_frame_is_not_a_frame_difference_outlier():
    """Footsteps: the view moves as much around a heel strike as elsewhere in the stride (easy: it jolts there)."""
    local_max, n = 0, 0
    for seed in range(4):
        scene = render_scene(seed, settings=realistic(classes=("footsteps",), mode="single", offscreen=0,
                                                      distractors=0))
        diffs = np.abs(np.diff(pooled(scene.frames), axis=0)).mean(axis=(1, 2, 3))  # diffs[j - 1]: j vs j - 1
        for event in scene.timeline.visible_events:
            k = event.onset_frame
            if not 6 <= k < len(scene.frames):
                continue
            n += 1
            assert diffs[k - 1] < diffs.max()
            local_max += diffs[k - 1] >= diffs[k - 6:k - 1].max()
    assert n >= 10 and local_max / n <= 0.25, (local_max, n)


def test_motion_slows_into_the_contact_with_a_still_camera(contact_clips):
    """With the head held still, what moves near the contact moves less in the onset frame than in the frames before:
    it decelerated and was stopped by the surface (no single-frame jump)."""
    slower, n = 0, 0
    for scene in contact_clips[True]:
        for event in scene.timeline.visible_events:
            if not 6 <= event.onset_frame < len(scene.frames):
                continue
            diffs = local_diffs(scene.frames, event)
            n += 1
            slower += diffs[-1] < max(diffs[:-1])
    assert n >= 20 and slower / n >= 0.9, (slower, n)


@pytest.mark.parametrize("fps", [24, 30, 60])
def test_struck_object_speed_decreases_over_the_frames_before_contact(fps):
    """For tools, knives, placed objects and doors: the speed at the last three frame times before each contact
    falls frame after frame, and arrives at a fraction of the approach's peak speed."""
    layout = Layout(96, 128, fps, SR)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        look = Look.draw(rng, "wood")
        actions = [Strike(layout, look, rng, 0.3, 200.0, 3, "metal"), Chop(layout, look, rng, 0.3, 200.0, 3),
                   Place(layout, look, rng, 0.3, 200.0, 2), Door(layout, look, rng, 0.3, 200.0)]
        for action in actions:
            paths = [action.angle] if isinstance(action, Door) else [getattr(action, "path", None)]
            if isinstance(action, Place):
                paths = [item[2] for item in action.items]
            for event in action.events:
                tc = event.time_s
                path = next(p for p in paths if p.times[0] <= tc <= p.end)
                speeds = [path.speed(tc - j / fps) for j in (3, 2, 1)] + [path.speed(tc)]
                assert all(a > b for a, b in itertools.pairwise(speeds)), (action.kind, fps, speeds)
                peak = max(path.speed(t) for t in np.linspace(tc - 0.6, tc, 200))
                assert speeds[-1] < 0.35 * peak, (action.kind, speeds[-1], peak)


def test_heel_strike_is_a_jerk_not_a_jump():
    """Walking, the head's height is continuous at a heel strike while its vertical speed turns from down to up."""
    gait = Gait([1.0, 1.5, 2.0, 2.5], bob=4.0, sway=2.0, shudder=0.8)
    for strike in (1.5, 2.0):
        eps = 1e-4
        before, at, after = gait(strike - eps)[1], gait(strike)[1], gait(strike + eps)[1]
        assert abs(after - before) < 0.01
        v_before = (gait(strike - eps)[1] - gait(strike - 0.02)[1]) / (0.02 - eps)
        v_after = (gait(strike + 0.02)[1] - gait(strike + eps)[1]) / (0.02 - eps)
        assert v_before > 20 and v_after < -5, (v_before, v_after)  # y is down: falling, then rising
        assert at == pytest.approx(4.0, abs=0.05)  # lowest at the strike
    rng = np.random.default_rng(0)
    walk = Walk(Layout(96, 128, 30, SR), Look.draw(rng, "wood"), rng, 0.2, 200.0, 4, 200.0, "wood")
    for event in walk.events:  # the camera, too, moves continuously through each strike
        y0, y1 = walk.view(event.time_s - 1e-4)[1], walk.view(event.time_s + 1e-4)[1]
        assert abs(y1 - y0) < 0.05


def test_sounds_start_at_the_exact_contact_sample():
    """Every event's own sound (procedural or recorded) is silent before its onset sample and audible within 2 ms."""
    classes = tuple(c for c in REALISTIC_CLASSES if SFX_DIR is not None or c not in SFX_CLASSES)
    for i, cls in enumerate(classes):
        scene = render_scene(i, settings=realistic(5.0, classes=(cls,), mode="single"), stems=True)
        assert scene.timeline.visible_events, cls
        for event, stem in zip(scene.timeline.events, scene.stems, strict=True):
            assert event.onset_sample == round(event.onset_s * SR)
            assert event.onset_frame == int(np.ceil(event.onset_s * scene.timeline.fps - 1e-9))
            assert not stem[:event.onset_sample].any(), (cls, event)
            head = np.abs(stem[event.onset_sample:event.onset_sample + 2 * SR // 1000]).max()
            assert head > 0.02 * np.abs(stem).max(), (cls, event.onset_s, head)


def test_distractors_offscreen_sounds_and_overlaps():
    """Silent look-alike motions, sounds with nothing to see, and sounds that start while another still sounds."""
    overlaps, kinds = 0, set()
    for seed in range(4):
        tl = render_scene(seed, settings=realistic(8.0, distractors=3, offscreen=2)).timeline
        assert len(tl.distractors) == 3
        kinds |= {d.kind for d in tl.distractors}
        hidden = [e for e in tl.events if not e.visible]
        assert len(hidden) == 2 and all(e.position is None and e.action == -1 for e in hidden)
        assert "Off-screen" in tl.narration
        for d in tl.distractors:
            if d.kind == "feint":
                assert not any(d.start_s <= e.onset_s <= d.end_s for e in tl.visible_events)
        for e in tl.visible_events:  # the contact is in view
            assert 0.0 <= e.position[0] <= 1.0 and 0.0 <= e.position[1] <= 1.0, e
        overlaps += sum(b.onset_s < a.offset_s for a, b in itertools.pairwise(tl.events))
    assert kinds == {"feint", "passerby"} and overlaps >= 1


# ------------------------------------------------------------------------------------------------ recordings


def test_licence_filter_refuses_share_alike_and_gpl():
    for ok in ("CC0 1.0", "CC0", "CC BY 3.0", "CC BY 4.0", "cc by"):
        assert licence_allows(ok), ok
    for bad in ("CC BY-SA 3.0", "CC BY-NC 4.0", "CC BY-ND 3.0", "GPL-2+", "LGPL 2.1", "", "unknown"):
        assert not licence_allows(bad), bad


def test_library_offers_only_cc0_and_cc_by_files(tmp_path, monkeypatch):
    rows = {"a.wav": "CC0 1.0", "b.wav": "CC BY 3.0", "c.wav": "CC BY-SA 3.0", "d.wav": "GPL-2+"}
    table = ["| file | source | path | commit | license | author / upstream |", "|---|---|---|---|---|---|"]
    for name, licence in rows.items():
        sf.write(tmp_path / name, 0.5 * np.sin(np.arange(2205) / 5.0), SR)
        table.append(f"| `{name}` | test | {name} | - | {licence} | someone |")
    sf.write(tmp_path / "e.wav", np.ones(100) * 0.1, SR)  # not listed: refused too
    (tmp_path / "SOURCES.md").write_text("# test\n\n" + "\n".join(table) + "\n")
    monkeypatch.setitem(sfx_module.USES, "door", ("a.wav", "b.wav", "c.wav", "d.wav", "e.wav"))
    library = SfxLibrary(tmp_path)
    assert [s.file for s in library.allowed("door")] == ["a.wav", "b.wav"]
    assert library.refuse("c.wav") and library.refuse("d.wav") and library.refuse("e.wav")
    picked = {library.pick("door", np.random.default_rng(i), SR)[1].file for i in range(20)}
    assert picked == {"a.wav", "b.wav"}
    monkeypatch.setitem(sfx_module.USES, "door", ("c.wav", "d.wav"))
    with pytest.raises(EgoSonicsError, match="no CC0 / CC BY recording for 'door'"):
        library.check("door")


@needs_sfx
def test_shared_sfx_folder_uses_no_share_alike_or_gpl_file():
    sources = read_sources(SFX_DIR)
    library = SfxLibrary(SFX_DIR)
    for use in sfx_module.USES:
        for src in library.allowed(use):
            assert licence_allows(src.licence) and src.author
    refused = [name for name in sources if library.refuse(name)]
    assert any(n.startswith("tuxpaint_") for n in refused)  # GPL
    assert "minetest_default_dirt_footstep_1.ogg" in refused  # CC BY-SA


@needs_sfx
def test_scene_records_the_recordings_it_used():
    tl = render_scene(0, settings=realistic(3.0, classes=("door", "water"), offscreen=0)).timeline
    assert {e.cls for e in tl.events} >= {"door"} or {e.cls for e in tl.events} >= {"water"}
    assert tl.sfx, "no attribution recorded"
    for entry in tl.sfx:
        assert set(entry) == {"file", "licence", "author", "source", "used_as"}
        assert licence_allows(entry["licence"]) and entry["author"]
    assert tl.to_dict()["sfx"] == tl.sfx


@needs_sfx
def test_attributions_of_a_folder_of_scenes(tmp_path):
    from egosonics.synth.dataset import synthesize
    from egosonics.synth.realistic.sfx import attributions

    synthesize(tmp_path, n=2, seed=1, settings=realistic(3.0, classes=("door", "water", "roll")), show_progress=False)
    rows = attributions(tmp_path)
    used = {}
    for name in ("scene-1-00000", "scene-1-00001"):
        for entry in json.loads((tmp_path / f"{name}.json").read_text()).get("sfx", []):
            used.setdefault(entry["file"], set()).add(name)
    assert [r["file"] for r in rows] == sorted(used) and rows
    for row in rows:
        assert row["scenes"] == len(used[row["file"]]) and licence_allows(row["licence"]) and row["used_as"]


def test_sfx_classes_without_a_folder(monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(sfx_module, "DEFAULT_SFX_DIRS", (tmp_path / "absent",))
    with pytest.raises(ValueError, match=r"door need sound recordings: no sfx folder at .*absent; pass --sfx-dir"):
        settings_for("realistic", classes=("impact", "door"))
    with caplog.at_level(logging.WARNING):
        s = settings_for("realistic")
    assert not set(s.classes) & set(SFX_CLASSES) and s.sfx_dir is None
    assert "leave out the recorded classes" in caplog.text
    with pytest.raises(ValueError, match="not an sfx folder"):
        settings_for("realistic", sfx_dir=str(tmp_path / "nowhere"))


def test_cli_realistic_is_the_default_and_errors_are_one_line(tmp_path, capsys, monkeypatch):
    out = tmp_path / "clips"
    assert main(["synth", str(out), "--n", "1", "--duration", "1", "--size", "48", "--min-events", "1"]) == 0
    tl = json.loads((out / "scene-0-00000.json").read_text())
    assert tl["settings"]["realistic"] is True and tl["fps"] in FRAME_RATES and "bitrate_kbps" in tl["render"]
    from egosonics.media.video import read_frames

    clip = read_frames(out / "scene-0-00000.mp4", duration_s=None, fps=tl["fps"])
    assert clip.frames.shape[1:3] == tuple(tl["size"])
    kbits = (out / "scene-0-00000.mp4").stat().st_size * 8 / 1000
    assert kbits < 3 * tl["render"]["bitrate_kbps"] + 120  # compressed at (about) the drawn bitrate, plus AAC
    monkeypatch.setattr(sfx_module, "DEFAULT_SFX_DIRS", (tmp_path / "absent",))
    capsys.readouterr()
    assert main(["synth", str(tmp_path / "x"), "--classes", "door", "--duration", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("egosonics: error: synth:") and "--sfx-dir" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()
    assert main(["synth", str(tmp_path / "y"), "--sfx-dir", str(tmp_path / "none"), "--duration", "1"]) == 1
    assert "not an sfx folder" in capsys.readouterr().err
    assert main(["synth", str(tmp_path / "z"), "--difficulty", "easy", "--classes", "door"]) == 1
    assert "need --difficulty realistic" in capsys.readouterr().err


def test_realistic_classes_sound_distinct():
    """A nearest-centroid classifier on log-mel statistics, fitted on 3 clips per class, names the class of 2 unseen
    clips per class (ten classes with recordings, seven without) at least 75 % of the time."""
    librosa = pytest.importorskip("librosa")
    mel = librosa.filters.mel(sr=SR, n_fft=1024, n_mels=48)

    def features(audio):
        power = np.abs(librosa.stft(audio, n_fft=1024, hop_length=512)) ** 2
        logmel = np.log(mel @ power + 1e-8)
        return np.concatenate([logmel.mean(axis=1), logmel.std(axis=1)])

    s = realistic(5.0, mode="single", offscreen=0, distractors=0)
    classes = s.classes
    n = len(classes)
    clips = [render_scene(30, index=i, settings=s) for i in range(5 * n)]  # 5 clips per class, in turn
    assert all(c.timeline.events for c in clips)
    x = np.stack([features(c.audio) for c in clips])
    y = np.array([classes[i % n] for i in range(5 * n)])
    train = np.arange(len(clips)) < 3 * n
    centroids = {cls: x[train & (y == cls)].mean(axis=0) for cls in classes}
    predicted = [min(centroids, key=lambda c: np.linalg.norm(f - centroids[c])) for f in x[~train]]
    assert np.mean(np.array(predicted) == y[~train]) >= 0.75, list(zip(y[~train], predicted, strict=True))


def test_the_shortest_water_run_with_the_slowest_turn_plans_a_valid_hand_path():
    """A realistic single-event water clip failed to plan (keyframe before the previous one) when the water ran its
    shortest (1.2 s) and the handle turned its slowest (0.35 s): the hand's rest before closing ended before it
    began."""
    from egosonics.synth.realistic.actions import Water

    class Ends:
        """``uniform`` gives the low or the high end of each range, in turn."""

        def __init__(self, *ends: str) -> None:
            self.ends = iter(ends)

        def uniform(self, low: float, high: float) -> float:
            return low if next(self.ends) == "low" else high

    rng = np.random.default_rng(0)
    water = Water(Layout(96, 128, 30, SR), Look.draw(rng, "wood"), Ends("low", "low", "high", "low", "low"), 0.3,
                  200.0)
    assert all(b >= a for a, b in itertools.pairwise(water.hand.times))
    assert [event.time_s for event in water.events] == [pytest.approx(water.t_on)]
