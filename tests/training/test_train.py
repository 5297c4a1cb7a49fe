"""``egosonics train``: every component, exact resume after kill -9, and two processes matching one."""

from __future__ import annotations

import csv
import io
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from egosonics.pipeline import EgoSonicsPipeline
from egosonics.training.config import load_config
from egosonics.training.trainer import train
from tests.training.conftest import REPO, run_cli


def write_config(path: Path, **settings) -> Path:
    base = {"preset": "tiny", "batch_size": 2, "max_steps": 4, "checkpointing_steps": 2,
            "checkpoints_total_limit": 2, "log_every": 1, "deterministic": True}
    path.write_text(yaml.safe_dump({**base, **settings}))
    return path


def losses(run: Path) -> list[float]:
    with open(run / "metrics.csv") as f:
        return [float(row["loss"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def base_model(prepared, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("base")
    cfg = write_config(out / "base.yaml", component="base", data=str(prepared), output_dir=str(out / "run"))
    return train(load_config(cfg))


def test_base_run_writes_checkpoints_logs_and_a_model(base_model):
    run = base_model.parent
    assert [p.name for p in sorted(run.glob("checkpoint-*"))] == ["checkpoint-2", "checkpoint-4"]
    assert not list(run.rglob("*.bin")) and not list(run.rglob("*.pt")) and not list(run.rglob("*.pkl"))
    assert len(losses(run)) == 4
    assert list((run / "logs").rglob("events.out.tfevents.*")), "TensorBoard log missing"
    assert yaml.safe_load((run / "config.yaml").read_text())["component"] == "base"
    model = EgoSonicsPipeline.from_pretrained(base_model)  # the final folder is a complete model
    # Syncronet starts as a copy of the *trained* encoder (ControlNet), with its zero convolutions still zero.
    fresh = EgoSonicsPipeline.from_preset("tiny", seed=0).unet.down_blocks.state_dict()
    trained = model.unet.down_blocks.state_dict()
    assert any(not torch.equal(fresh[k], trained[k]) for k in trained)
    copy = model.syncronet.down_blocks.state_dict()
    assert all(torch.equal(copy[k], trained[k]) for k in trained)
    assert all(not p.any() for p in model.syncronet.zero_convs.parameters())


@pytest.mark.parametrize("component", ["syncronet", "superres", "video-to-text"])
def test_each_component_trains_only_its_module(component, base_model, prepared, tmp_path):
    cfg = write_config(tmp_path / "c.yaml", component=component, data=str(prepared), output_dir=str(tmp_path / "r"),
                       init_model=str(base_model), max_steps=2, validation_inference_steps=2,
                       validation_steps=2 if component == "syncronet" else None)
    final = train(load_config(cfg))
    before, after = EgoSonicsPipeline.from_pretrained(base_model), EgoSonicsPipeline.from_pretrained(final)
    trained = {"syncronet": "syncronet", "superres": "superres", "video-to-text": "video_to_text"}[component]
    for name in ("unet", "syncronet", "superres", "video_to_text"):
        same = all(torch.equal(a, b) for a, b in zip(getattr(before, name).state_dict().values(),
                                                     getattr(after, name).state_dict().values(), strict=True))
        assert same != (name == trained), name
    if component == "syncronet":
        outputs = sorted(p.suffix for p in (tmp_path / "r" / "validation").rglob("*.*"))
        assert outputs == [".mp4", ".png", ".wav"], outputs


def wait_for(path: Path, proc: subprocess.Popen, timeout_s: float, what: str) -> None:
    """Poll until ``path`` exists; fail clearly if the process ends or ``timeout_s`` passes first."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the process ended (status {proc.returncode}) before {what} appeared ({path})")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout_s:.0f} s ({path}); nothing to kill it after")
        time.sleep(0.01)


def metrics_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), fieldnames=["step", "loss", "lr", "samples_per_s"]))


def test_kill_9_then_resume_gives_bit_identical_weights(prepared, tmp_path):
    """Killed right after a checkpoint, the rerun starts at that checkpoint's step, runs only the later steps (same
    losses as the uninterrupted run's) and ends with bit-identical weights. A deterministic run that ignored its
    checkpoints would also end with identical weights, so where it restarted is checked from its log and metrics."""
    max_steps = 8

    def config(name: str) -> Path:
        return write_config(tmp_path / f"{name}.yaml", component="base", data=str(prepared),
                            output_dir=str(tmp_path / name), max_steps=max_steps, checkpointing_steps=2)

    assert run_cli("-q", "train", "base", "--config", str(config("whole"))).returncode == 0
    broken = tmp_path / "broken"
    kill_after = random.Random().choice([2, 4, 6])
    proc = subprocess.Popen([sys.executable, "-m", "egosonics.cli", "-q", "train", "base", "--config",
                             str(config("broken"))], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(broken / f"checkpoint-{kill_after}" / "trainer.json", proc, 240, f"checkpoint-{kill_after}")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (broken / "model").exists(), "the run finished before it could be killed"
    # The checkpoint it resumes from: the latest complete one (the run may have written another before the kill).
    done = sorted(int(p.parent.name.split("-")[1]) for p in broken.glob("checkpoint-*/trainer.json"))
    resume_at = done[-1]
    assert kill_after <= resume_at < max_steps, (kill_after, done)
    metrics = broken / "metrics.csv"
    logged_before = metrics.read_text()
    result = run_cli("train", "base", "--config", str(config("broken")))  # not -q: the log says where it starts
    assert result.returncode == 0, result.stderr[-3000:]
    resumed = re.search(r"resumed from \S*checkpoint-(\d+) \(step (\d+)\)", result.stderr)
    assert resumed, f"the rerun does not say it resumed from checkpoint-{resume_at}:\n{result.stderr[-2000:]}"
    assert (int(resumed[1]), int(resumed[2])) == (resume_at, resume_at), resumed[0]
    assert f"steps = {max_steps} (starting at {resume_at})" in result.stderr, result.stderr[-2000:]
    # Its own metrics rows (appended after the killed run's): exactly the steps after the checkpoint, each with the
    # uninterrupted run's loss.
    text = metrics.read_text()
    assert text.startswith(logged_before), "the rerun rewrote the metrics of the killed run"
    rows = metrics_rows(text[len(logged_before):])
    assert [int(r["step"]) for r in rows] == list(range(resume_at + 1, max_steps + 1)), (
        f"the rerun trained steps {[r['step'] for r in rows]}, not {resume_at + 1}..{max_steps}")
    whole_loss = {int(r["step"]): r["loss"] for r in csv.DictReader(io.StringIO(
        (tmp_path / "whole" / "metrics.csv").read_text()))}
    assert [r["loss"] for r in rows] == [whole_loss[int(r["step"])] for r in rows]
    whole = load_file(tmp_path / "whole" / "model" / "unet" / "diffusion_pytorch_model.safetensors")
    final = load_file(broken / "model" / "unet" / "diffusion_pytorch_model.safetensors")
    assert whole.keys() == final.keys()
    assert all(torch.equal(whole[k], final[k]) for k in whole), f"weights differ after a resume at step {resume_at}"


def test_two_processes_match_one_with_the_same_effective_batch(prepared, tmp_path):
    one = write_config(tmp_path / "one.yaml", component="base", data=str(prepared), output_dir=str(tmp_path / "one"),
                       batch_size=2, max_steps=5, deterministic=False)
    two = write_config(tmp_path / "two.yaml", component="base", data=str(prepared), output_dir=str(tmp_path / "two"),
                       batch_size=1, max_steps=5, deterministic=False)
    assert run_cli("-q", "train", "base", "--config", str(one)).returncode == 0
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "egosonics.cli",
           "train", "base", "--config", str(two)]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300,
                            env={**os.environ, "ACCELERATE_USE_CPU": "true", "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "processes = 2" in result.stderr, "two ranks must really run"
    a, b = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert len(a) == len(b) == 5
    assert all(abs(x - y) <= 1e-3 * max(abs(x), 1e-3) for x, y in zip(a, b, strict=True)), (a, b)
