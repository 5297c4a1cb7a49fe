"""Every numeric and enumerated option of every command, walked from the parser itself: a bad value ends in exactly one
line on stderr, ``egosonics COMMAND: error: argument --OPTION: must be RANGE, got 'VALUE' (see '... --help')``, exit
status 2, no traceback, and nothing written."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from egosonics.app.limits import Limits
from egosonics.cli import EXIT_USAGE, build_parser, main
from egosonics.commands.synth import frame_size
from egosonics.errors import EgoSonicsError
from egosonics.options import Bounded, GenerateOptions, device

EGOSONICS = Path(sys.executable).parent / "egosonics"


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...],
                                                                                        argparse.ArgumentParser]]:
    """(argv prefix, parser) of every leaf command: ``("generate",)``, ``("experiment", "summarize")``, ..."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += commands(child, (*path, name))
    return found or [(path, parser)]


def minimal_argv(parser: argparse.ArgumentParser, folder: Path) -> list[str]:
    """Values for the positionals and required options, so that only the option under test can be wrong."""
    argv: list[str] = []
    for action in parser._actions:
        if isinstance(action, (argparse._SubParsersAction, argparse._HelpAction)):
            continue
        value = str(action.choices[0] if action.choices else folder / f"arg-{action.dest}")
        if not action.option_strings:
            argv.append(value)
        elif action.required:
            argv += [action.option_strings[-1], value]
    return argv


def numeric_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if isinstance(a.type, Bounded)]


def bad_values(bounded: Bounded) -> list[str]:
    """0, -1, a huge value, nan and a non-number: those of them outside the option's range."""
    huge = "1000000000000" if bounded.kind is int else "1e12"
    candidates = ["0", "-1", huge, "nan", "twelve"]
    out = []
    for text in candidates:
        try:
            value = bounded.kind(text)
        except ValueError:
            out.append(text)
            continue
        if not bounded.contains(value):
            out.append(text)
    return out


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit status and stderr of ``egosonics ARGV`` in this process (an exception other than SystemExit fails)."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_every_numeric_and_enumerated_option_refuses_bad_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # relative defaults (demo's outputs/demo) land here too
    parser = build_parser()
    leaves = commands(parser)
    tried_commands, tried_options, tries = set(), 0, 0
    # The global options come before a command (synth, the lightest), each command's after its name.
    targets = [((), ["synth", str(tmp_path / "synth-out")], parser, "egosonics")]
    targets += [(path, minimal_argv(sub, tmp_path), sub, sub.prog) for path, sub in leaves]
    for path, rest, sub, prog in targets:
        unchecked = [a.dest for a in sub._actions if a.type in (int, float)]
        assert not unchecked, f"{prog}: numeric options without a range: {unchecked}"
        for action in sub._actions:
            name = "/".join(action.option_strings)
            if isinstance(action.type, Bounded):
                values = bad_values(action.type)
                expected = f"must be {action.type.describe()}"
            elif action.choices and not isinstance(action, argparse._SubParsersAction) and action.option_strings:
                values, expected = ["not-a-choice"], "invalid choice: 'not-a-choice' (choose from"
            elif action.type is frame_size:
                values, expected = ["0", "-1", "1000000000000", "nan", "big", "47x64"], "must be N (square) or HxW"
            elif action.type is device:
                values, expected = ["gpu7", "-1"], "must be one of auto (cuda, then mps, then cpu), cpu, cuda, cuda:N"
            else:
                continue
            assert values, f"{prog} {name}: no invalid value among 0, -1, huge, nan, a word?"
            tried_commands.add(prog)
            tried_options += 1
            for value in values:
                argv = [*path, f"{action.option_strings[-1]}={value}", *rest] if path else \
                    [f"{action.option_strings[-1]}={value}", *rest]
                code, err = run(argv, capsys)
                tries += 1
                assert code == EXIT_USAGE, (argv, code, err)
                assert "Traceback" not in err
                assert err.count("\n") == 1 and err.endswith(f" (see '{prog} --help')\n"), err
                assert err.startswith(f"{prog}: error: argument {name}: {expected}"), err
                if expected.startswith("must be"):  # the value as given
                    assert f"got '{value}'" in err, err
                assert sorted(p.name for p in tmp_path.iterdir()) == [], f"{argv} wrote {list(tmp_path.iterdir())}"
    # Every command was walked, and the walk found the options the issue named.
    assert len(tried_commands) == len(leaves) + 1
    assert tried_options >= 50 and tries >= 150, (tried_options, tries)
    print(f"option walk: {len(tried_commands)} commands (with the global options), {tried_options} options, "
          f"{tries} bad values, 0 tracebacks")


@pytest.mark.parametrize("argv", [
    ["generate", "in.mp4", "-o", "out", "--steps", "0"],
    ["generate", "in.mp4", "-o", "out", "--batch-size", "0"],
    ["generate", "in.mp4", "-o", "out", "--overlap", "10"],
    ["prepare", "src", "out", "--videos-per-shard", "0"],
])
def test_the_installed_command_refuses_in_one_line(tmp_path: Path, argv: list[str]) -> None:
    """The issue's examples, through the console script: each ended in a traceback before."""
    done = subprocess.run([str(EGOSONICS), *argv], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1 and f"argument {argv[-2]}: must be" in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("steps", 0, "steps must be a whole number from 1 to 1000, got 0"),
    ("steps", 2.5, "steps must be a whole number from 1 to 1000, got 2.5"),
    ("guidance", float("nan"), "guidance must be a number from 1 to 100, got nan"),
    ("batch_size", -1, "batch_size must be a whole number from 1 to 4096, got -1"),
    ("overlap_s", 10.0, "overlap_s must be a number >= 0 and < 10 s, got 10.0"),
    ("seed", -1, "seed must be a whole number from 0 to"),
    ("griffin_lim_iters", 10**12, "griffin_lim_iters must be a whole number from 1 to 10000"),
])
def test_generate_options_check_their_fields(field: str, value: float, message: str) -> None:
    with pytest.raises(EgoSonicsError, match="^" + message.replace("(", r"\(")):
        GenerateOptions(**{field: value})


def test_app_initial_settings_must_fit_its_limits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from egosonics.app.web import AppConfig

    with pytest.raises(EgoSonicsError, match="steps must be a whole number from 1 to 10, got 20"):
        AppConfig(limits=Limits(max_steps=10), options=GenerateOptions(steps=20))
    code, err = run(["app", "--max-steps", "10", "--steps", "20", "--model", str(tmp_path / "none")], capsys)
    assert code == 1 and err == "egosonics: error: steps must be a whole number from 1 to 10, got 20\n"


def test_help_imports_nothing_heavy() -> None:
    """``egosonics [COMMAND] --help`` parses without torch, diffusers, gradio, cv2, PyAV, numpy or tqdm (the handler
    imports what it needs; the start-up time itself is measured by benchmarks, not here)."""
    script = (
        "import sys\n"
        "from egosonics.cli import build_parser, main\n"
        "actions = build_parser()._actions\n"
        "names = [None] + [n for a in actions if a.choices and a.dest == 'command' for n in a.choices]\n"
        "for name in names:\n"
        "    try:\n"
        "        main([name, '--help'] if name else ['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ['torch', 'diffusers', 'transformers', 'gradio', 'cv2', 'av', 'numpy', 'matplotlib', 'tqdm']\n"
        "print(len(names), sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "12 []"
