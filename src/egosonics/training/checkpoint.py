"""Checkpoints without pickle: models in ``save_pretrained`` format, optimizer and schedule state as safetensors + JSON.

A checkpoint folder ``checkpoint-STEP/`` holds ``<component>/`` (config.json + safetensors), ``optimizer.safetensors``
and ``optimizer.json`` (tensors and the rest of the optimizer's state), ``trainer.json`` (step, learning-rate schedule
state, the resolved config). It is written to a temporary folder and renamed, so a crash never leaves a checkpoint that
looks complete. Old ones are rotated away.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from egosonics.errors import EgoSonicsError

log = logging.getLogger(__name__)


def _optimizer_to_flat(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {"param_groups": state["param_groups"], "state": {}}
    for pid, values in state["state"].items():
        scalars["state"][str(pid)] = {}
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{pid}.{name}"] = value.detach().cpu().contiguous()
                scalars["state"][str(pid)][name] = "__tensor__"
            else:
                scalars["state"][str(pid)][name] = value
    return tensors, scalars


def _optimizer_from_flat(tensors: dict[str, torch.Tensor], scalars: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for pid, values in scalars["state"].items():
        state[int(pid)] = {name: tensors[f"{pid}.{name}"] if value == "__tensor__" else value
                           for name, value in values.items()}
    return {"state": state, "param_groups": scalars["param_groups"]}


def save_checkpoint(folder: Path, *, models: dict[str, Any], optimizer: torch.optim.Optimizer,
                    scheduler: Any, trainer_state: dict[str, Any]) -> Path:
    """Write a checkpoint folder atomically (temporary sibling, then rename)."""
    tmp = folder.with_name(f".{folder.name}.partial-{uuid.uuid4().hex[:6]}")
    try:
        tmp.mkdir(parents=True)
        for name, model in models.items():
            model.save_pretrained(tmp / name, safe_serialization=True)
        tensors, scalars = _optimizer_to_flat(optimizer.state_dict())
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        (tmp / "optimizer.json").write_text(json.dumps(scalars))
        state = {**trainer_state, "scheduler": scheduler.state_dict()}
        (tmp / "trainer.json").write_text(json.dumps(state, indent=1, sort_keys=True, default=str))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise EgoSonicsError(f"{folder}: cannot write checkpoint ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def load_checkpoint(folder: Path, *, models: dict[str, torch.nn.Module], optimizer: torch.optim.Optimizer,
                    scheduler: Any) -> dict[str, Any]:
    """Restore models, optimizer and schedule from ``folder``; returns the trainer state."""
    for name, model in models.items():
        weights = folder / name / "diffusion_pytorch_model.safetensors"
        if not weights.is_file():
            raise EgoSonicsError(f"{weights}: missing; {folder} is not a complete checkpoint")
        model.load_state_dict(load_file(str(weights)), strict=True)
    scalars = json.loads((folder / "optimizer.json").read_text())
    optimizer.load_state_dict(_optimizer_from_flat(load_file(str(folder / "optimizer.safetensors")), scalars))
    state = json.loads((folder / "trainer.json").read_text())
    scheduler.load_state_dict(state.pop("scheduler"))
    return state


def list_checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    found = [p for p in output_dir.glob("checkpoint-*") if p.is_dir() and (p / "trainer.json").is_file()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def rotate_checkpoints(output_dir: Path, keep: int | None) -> None:
    """Delete the oldest checkpoints beyond ``keep``."""
    if not keep:
        return
    for old in list_checkpoints(output_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
        log.info("removed old checkpoint %s", old)
