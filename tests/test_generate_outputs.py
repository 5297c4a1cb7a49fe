"""``egosonics generate``'s outputs never destroy inputs or each other (real tiny videos through PyAV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from egosonics.cli import main
from egosonics.media.video import write_video
from egosonics.pipeline import EgoSonicsPipeline
from tests.conftest import video_packets

FAST = ["--steps", "1", "--gl-iters", "2", "--guidance", "1"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model") / "tiny"
    EgoSonicsPipeline.from_preset("tiny", seed=0).save_pretrained(folder)
    return folder


def make_video(path: Path, shade: int = 0, seconds: float = 1.0) -> Path:
    """A short silent clip; ``shade`` makes clips of the same name tell apart."""
    n = round(seconds * 15)
    frames = np.full((n, 48, 64, 3), shade, np.uint8)
    frames[:, :, :, 1] = (np.arange(n) * 9 % 256)[:, None, None]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, frames, 15)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def generate(model_dir: Path, *argv: str) -> int:
    return main(["-q", "generate", *argv, "--model", str(model_dir), *FAST])


def test_a_second_run_into_the_input_folder_reads_the_same_inputs(model_dir: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "clips"
    make_video(folder / "a.mp4")
    make_video(folder / "b.avi", shade=60)  # .avi: an input must not be replaced before it is read
    sources = snapshot(folder)
    assert generate(model_dir, str(folder), "-o", str(folder)) == 0
    first = snapshot(folder)
    assert sorted(first) == ["a.egosonics.mp4", "a.mp4", "b.avi", "b.egosonics.avi"]
    assert generate(model_dir, str(folder), "-o", str(folder)) == 0
    second = snapshot(folder)
    assert sorted(second) == sorted(first)  # no a.egosonics.egosonics.mp4: its own outputs are not inputs
    assert {k: second[k] for k in sources} == sources  # the inputs are untouched
    for name in ("a.egosonics.mp4", "b.egosonics.avi"):  # the outputs still carry the inputs' video
        assert video_packets(folder / name) == video_packets(folder / name.replace(".egosonics", ""))
    assert "wrote" in capsys.readouterr().out


def test_an_output_that_is_an_input_is_refused_before_anything_is_read(model_dir: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "clips"
    make_video(folder / "b.avi")
    make_video(folder / "b.egosonics.avi", shade=60)  # named as an output, but given as an input
    before = snapshot(folder)
    code = generate(model_dir, str(folder / "b.avi"), str(folder / "b.egosonics.avi"), "-o", str(folder))
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert err == (f"egosonics: error: {folder / 'b.egosonics.avi'}: output path is the input file "
                   f"{folder / 'b.egosonics.avi'}; refusing to overwrite an input\n")
    assert snapshot(folder) == before


@pytest.mark.parametrize("spelling", ["same", "dot"])
def test_a_single_output_equal_to_its_input_is_refused(model_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str], spelling: str) -> None:
    src = make_video(tmp_path / "v.avi")
    before = src.read_bytes()
    out = src if spelling == "same" else tmp_path / "." / "v.avi"
    assert generate(model_dir, str(src), "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "refusing to overwrite an input" in err and "Traceback" not in err
    assert src.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["v.avi"]


def test_same_names_in_different_folders_mirror_the_tree(model_dir: Path, tmp_path: Path) -> None:
    tree = tmp_path / "in"
    make_video(tree / "kitchen" / "clip.mp4", shade=0)
    make_video(tree / "garage" / "clip.mp4", shade=120)
    make_video(tree / "top.mp4", shade=200)
    out = tmp_path / "out"
    assert generate(model_dir, str(tree), "-o", str(out)) == 0
    assert sorted(snapshot(out)) == ["garage/clip.egosonics.mp4", "kitchen/clip.egosonics.mp4", "top.egosonics.mp4"]
    for rel in ("garage/clip", "kitchen/clip", "top"):
        assert video_packets(out / f"{rel}.egosonics.mp4") == video_packets(tree / f"{rel}.mp4")
    # Files named on the command line mirror their folders below the one they share.
    out2 = tmp_path / "out2"
    assert generate(model_dir, str(tree / "kitchen" / "clip.mp4"), str(tree / "garage" / "clip.mp4"),
                    "-o", str(out2)) == 0
    assert sorted(snapshot(out2)) == ["garage/clip.egosonics.mp4", "kitchen/clip.egosonics.mp4"]


def test_two_inputs_that_would_share_an_output_are_refused(model_dir: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    make_video(folder / "clip.mp4")
    make_video(folder / "clip.MP4", shade=90)  # both would become clip.egosonics.mp4
    out = tmp_path / "out"
    assert generate(model_dir, str(folder), "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "would both be written here" in err and "Traceback" not in err
    assert not out.exists() or list(out.rglob("*")) == []
