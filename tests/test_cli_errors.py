"""Bad input through the command line: one line on stderr naming the file and the cause, exit status 1, no
traceback, and nothing left in the output folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from egosonics.cli import main
from egosonics.media.video import write_video
from tests.conftest import clicks, numbered_frames, unknown_codec_copy

SR = 22_050
EGOSONICS = Path(sys.executable).parent / "egosonics"  # the console script of the venv running the tests


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One file per kind of bad input (and a good clip to derive them from)."""
    folder = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(0)
    files: dict[str, Path] = {}

    def path(name: str) -> Path:
        files[name] = folder / name
        return files[name]

    noise = rng.integers(0, 255, (60, 64, 80, 3), np.uint8)  # incompressible, so that half a file is half the frames
    write_video(path("good.mp4"), noise, 30, audio=clicks([0.5, 1.5], 2 * SR), sample_rate=SR)
    path("random.mp4").write_bytes(rng.bytes(20_000))
    path("text.mp4").write_text("this is a text file, not a video\n" * 50)
    path("empty.mp4").write_bytes(b"")
    data = files["good.mp4"].read_bytes()
    path("truncated.mp4").write_bytes(data[: len(data) // 2])  # index (moov) at the end: lost
    write_video(path("faststart.mp4"), noise, 30, audio=clicks([0.5, 1.5], 2 * SR), sample_rate=SR,
                container_options={"movflags": "+faststart"})
    data = files["faststart.mp4"].read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    path("truncated_faststart.mp4").write_bytes(data[: len(data) // 2])  # index intact, half the samples missing
    write_video(path("no_audio.mp4"), numbered_frames(30), 30)
    write_video(path("no_frames.mkv"), np.zeros((0, 64, 80, 3), np.uint8), 30, audio=np.zeros(SR, np.float32))
    write_video(path("8k.mp4"), np.zeros((2, 4320, 7680, 3), np.uint8), 30, audio=clicks([0.01], 2450),
                options={"preset": "ultrafast"})
    unknown_codec_copy(files["good.mp4"], path("unknown_codec.mp4"))
    with_audio_only = path("audio_only.m4a")
    import av

    from egosonics.media.audio import encode_audio

    with av.open(str(with_audio_only), "w") as out:
        encode_audio(out, out.add_stream("aac", rate=SR, layout="mono"), clicks([0.5], SR), SR)
    return files


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert code == 1, err
    assert len(lines) == 1, err
    assert lines[0].startswith("egosonics: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


CASES = {  # input: what the message must say
    "missing.mp4": "no such file",
    "random.mp4": "invalid data",
    "text.mp4": "invalid data",
    "empty.mp4": "empty (0 bytes)",
    "truncated.mp4": "truncated",
    "truncated_faststart.mp4": "truncated or corrupt: its video stops at",
    "no_audio.mp4": "has no audio stream",
    "audio_only.m4a": "has no video stream",
    "no_frames.mkv": "has no video frames",
    "8k.mp4": "7680x4320 exceed the decoding limit",
    "unknown_codec.mp4": "unknown codec",
}


@pytest.mark.parametrize("name", list(CASES))
def test_resynth_bad_input(bad: dict[str, Path], tmp_path: Path, out_dir: Path, capsys: pytest.CaptureFixture[str],
                           name: str) -> None:
    source = bad.get(name, tmp_path / name)
    code, err = run_cli(["resynth", str(source), "-o", str(out_dir / "out.mp4"), "--wav", str(out_dir / "out.wav"),
                         "--iters", "2"], capsys)
    assert_one_line_error(code, err, str(source), CASES[name])
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("name", ["missing.mp4", "random.mp4", "empty.mp4", "truncated_faststart.mp4", "8k.mp4"])
def test_spectrogram_bad_input(bad: dict[str, Path], tmp_path: Path, out_dir: Path,
                               capsys: pytest.CaptureFixture[str], name: str) -> None:
    source = bad.get(name, tmp_path / name)
    code, err = run_cli(["spectrogram", str(source), "-o", str(out_dir / "out.png")], capsys)
    if name == "8k.mp4":  # its audio is fine: the spectrogram command reads only the audio
        assert code == 0, err
        return
    assert_one_line_error(code, err, str(source))
    assert list(out_dir.iterdir()) == []


def test_output_is_the_input(bad: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "clip.mp4"
    source.write_bytes(bad["good.mp4"].read_bytes())
    before = source.read_bytes()
    for out in [source, tmp_path / "." / "clip.mp4"]:
        code, err = run_cli(["resynth", str(source), "-o", str(out)], capsys)
        assert_one_line_error(code, err, str(out), "refusing to overwrite an input")
    code, err = run_cli(["resynth", str(source), "-o", str(tmp_path / "ok.mp4"), "--wav", str(source)], capsys)
    assert_one_line_error(code, err, str(source), "unsupported audio extension")  # refused before any check
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


@pytest.mark.parametrize("where", ["missing_folder", "parent_is_a_file", "proc"])
def test_unwritable_output(bad: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           where: str) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    out = {"missing_folder": tmp_path / "missing" / "out.mp4", "parent_is_a_file": a_file / "out.mp4",
           "proc": Path("/proc/egosonics-test-out.mp4")}[where]  # the last fails for root too
    code, err = run_cli(["resynth", str(bad["good.mp4"]), "-o", str(out), "--iters", "2"], capsys)
    assert_one_line_error(code, err, str(out))
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_unwritable_wav_fails_before_any_output(bad: dict[str, Path], out_dir: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    wav = Path("/proc/egosonics-test-out.wav")
    code, err = run_cli(["resynth", str(bad["good.mp4"]), "-o", str(out_dir / "out.mp4"), "--wav", str(wav),
                         "--iters", "2"], capsys)
    assert_one_line_error(code, err, str(wav))
    assert list(out_dir.iterdir()) == []  # nothing half-done: the video is not written without its WAV


def test_missing_input_with_an_existing_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: comparing a missing input with an existing output raised FileNotFoundError (a traceback)."""
    out = tmp_path / "out.mp4"
    out.write_bytes(b"older output")
    code, err = run_cli(["resynth", str(tmp_path / "missing.mp4"), "-o", str(out)], capsys)
    assert_one_line_error(code, err, "missing.mp4", "no such file")
    assert out.read_bytes() == b"older output"


def test_good_input_still_works(bad: dict[str, Path], out_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["-q", "resynth", str(bad["good.mp4"]), "-o", str(out_dir / "out.mp4"), "--iters", "2",
                 "--wav", str(out_dir / "out.wav")])
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["out.mp4", "out.wav"]


@pytest.mark.parametrize("name", ["random.mp4", "truncated_faststart.mp4"])
def test_installed_command_prints_no_traceback(bad: dict[str, Path], out_dir: Path, name: str) -> None:
    assert EGOSONICS.exists(), f"console script not found at {EGOSONICS}"
    done = subprocess.run([str(EGOSONICS), "resynth", str(bad[name]), "-o", str(out_dir / "out.mp4")],
                          capture_output=True, text=True, timeout=120)
    assert_one_line_error(done.returncode, done.stderr, str(bad[name]))
    assert done.stdout == ""
    assert list(out_dir.iterdir()) == []


def test_unsupported_wav_extension_fails_before_any_work(bad: dict[str, Path], out_dir: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    wav = out_dir / "out.mp3"
    code, err = run_cli(["resynth", str(bad["good.mp4"]), "-o", str(out_dir / "out.mp4"), "--wav", str(wav)], capsys)
    assert_one_line_error(code, err, str(wav), "unsupported audio extension '.mp3'")
    assert list(out_dir.iterdir()) == []


def test_threads_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        assert main(["--threads", "1", "synth", str(tmp_path / "s"), "--n", "1", "--seed", "5", "--duration", "2",
                     "--size", "48"]) == 0
        assert torch.get_num_threads() == 1
        torch.set_num_threads(before)
        # A subcommand with its own --threads (experiment summarize) does not hide the global one.
        assert main(["--threads", "1", "experiment", "summarize", "--data", str(tmp_path / "none"), "-o",
                     str(tmp_path / "o")]) == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    capsys.readouterr()
    for bad in ("0", "two"):
        with pytest.raises(SystemExit) as exc:
            main(["--threads", bad, "synth", str(tmp_path / "t"), "--n", "1"])
        assert exc.value.code == 2
        assert capsys.readouterr().err == (f"egosonics: error: argument --threads: must be a whole number from 1 to "
                                           f"4096, got '{bad}' (see 'egosonics --help')\n")
