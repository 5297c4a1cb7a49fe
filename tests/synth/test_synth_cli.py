"""``egosonics synth``: the files it writes, their agreement with the renderer, and bad output paths."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from egosonics.cli import main
from egosonics.clip_spec import ClipSpec
from egosonics.media.audio import read_audio
from egosonics.media.video import read_frames
from egosonics.synth.dataset import read_manifest, synthesize
from egosonics.synth.scene import render_scene
from egosonics.synth.settings import SynthSettings
from egosonics.synth.timeline import load_timeline
from tests.synth.conftest import SR, energy_onset

ARGS = ["--duration", "3", "--min-events", "1", "--difficulty", "easy"]


def test_cli_writes_clips_timelines_and_manifest(out_dir, capsys):
    assert main(["synth", str(out_dir), "--n", "2", "--seed", "4", *ARGS]) == 0
    assert "wrote 2 clips" in capsys.readouterr().out
    records = read_manifest(out_dir / "manifest.jsonl")
    assert [r.name for r in records] == ["scene-4-00000", "scene-4-00001"]
    settings = SynthSettings(clip=ClipSpec(duration_s=3.0), min_events=1)
    for record in records:
        scene = render_scene(4, index=record.index, settings=settings)
        # The WAV is the rendered audio (16-bit), the JSON its timeline.
        wav, rate = sf.read(out_dir / record.audio, dtype="float32")
        assert rate == SR and np.abs(wav - scene.audio).max() <= 1.5 / 32768
        timeline = load_timeline(out_dir / record.timeline)
        assert timeline.to_dict() == scene.timeline.to_dict()
        assert record.n_events == len(timeline.events) and record.narration == timeline.narration
        # The MP4: the same frames (up to H.264 loss), and AAC audio whose onsets are still in place.
        clip = read_frames(out_dir / record.video, duration_s=None)
        assert clip.frames.shape == scene.frames.shape
        assert np.abs(clip.frames.astype(np.int16) - scene.frames).mean() < 6
        audio = read_audio(out_dir / record.video, duration_s=3.0)
        for event in timeline.events:
            assert abs(energy_onset(audio, event.onset_sample) - event.onset_sample) <= 2 * SR // 1000
    run = json.loads((out_dir / "synth-scene-4.json").read_text())
    assert run["seed"] == 4 and run["settings"]["clip"]["duration_s"] == 3.0


def test_same_seed_same_files_and_manifest_merges(out_dir, tmp_path):
    settings = SynthSettings(clip=ClipSpec(duration_s=2.0), min_events=1)
    synthesize(out_dir, n=2, seed=1, settings=settings)
    again = tmp_path / "again"
    synthesize(again, n=2, seed=1, settings=settings)
    for name in ("scene-1-00000", "scene-1-00001"):
        for ext in ("mp4", "wav", "json"):  # libx264 on one thread and PyAV's AAC are deterministic
            assert (out_dir / f"{name}.{ext}").read_bytes() == (again / f"{name}.{ext}").read_bytes(), (name, ext)
    synthesize(out_dir, n=1, seed=2, settings=settings)
    assert [r.name for r in read_manifest(out_dir / "manifest.jsonl")] == [
        "scene-1-00000", "scene-1-00001", "scene-2-00000"]


def test_cli_pair_and_single_modes(out_dir):
    assert main(["synth", str(out_dir / "pairs"), "--n", "1", "--mode", "pair", *ARGS]) == 0
    names = sorted(r.name for r in read_manifest(out_dir / "pairs" / "manifest.jsonl"))
    assert names == ["pair-0-00000-metal", "pair-0-00000-wood"]
    assert main(["synth", str(out_dir / "single"), "--n", "2", "--mode", "single", "--classes", "pour,chop",
                 "--size", "96x128", *ARGS]) == 0
    records = read_manifest(out_dir / "single" / "manifest.jsonl")
    assert [r.classes for r in records] == [["pour"], ["chop"]]
    assert load_timeline(out_dir / "single" / records[0].timeline).size == (96, 128)


def test_progress_bar_for_many_clips(out_dir, capsys):
    settings = SynthSettings(clip=ClipSpec(duration_s=1.0), min_events=1)
    synthesize(out_dir, n=4, seed=0, settings=settings, show_progress=True)
    assert "synth" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["file", "under_file"])
def test_bad_output_path_is_one_line(out_dir, capsys, case):
    blocker = out_dir / "taken"
    blocker.write_text("not a folder\n")
    target = blocker if case == "file" else blocker / "clips"
    assert main(["synth", str(target), "--n", "1", *ARGS]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("egosonics: error: ") and len(err.splitlines()) == 1
    assert str(target) in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["taken"]


def test_bad_settings_are_one_line(out_dir, capsys):
    assert main(["synth", str(out_dir), "--classes", "impact,sneeze", *ARGS]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("egosonics: error: synth: unknown event class") and "sneeze" in err
    assert len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as exc:  # refused by the parser: status 2, one line naming the option
        main(["synth", str(out_dir), "--size", "big", *ARGS])
    assert exc.value.code == 2
    assert capsys.readouterr().err == ("egosonics synth: error: argument --size: must be N (square) or HxW, each even "
                                       "and a whole number from 48 to 4096 pixels, got 'big' (see 'egosonics synth "
                                       "--help')\n")
