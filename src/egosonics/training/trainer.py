"""The training loop, built on accelerate the diffusers way.

The trained module stays in fp32 (accelerate's mixed precision autocasts its forward); frozen modules are cast to the
compute dtype. Checkpoints (``checkpoint.py``) carry the model in ``save_pretrained`` format plus optimizer and
schedule state, are rotated, and resume exactly: the sample order and every sample's noise are functions of the run
seed and the step, so an interrupted run that resumes ends with the same weights as one that was not interrupted.
"""

from __future__ import annotations

import csv
import logging
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from egosonics.errors import EgoSonicsError
from egosonics.loading import HALF_PRECISION_PARTS, cast
from egosonics.preprocess.shards import ShardDataset, collate, prepare_settings
from egosonics.training.checkpoint import list_checkpoints, load_checkpoint, rotate_checkpoints, save_checkpoint
from egosonics.training.config import TrainConfig
from egosonics.training.sampling import global_batch_indices
from egosonics.training.tasks import make_task, sample_generators
from egosonics.utils.logging import progress

log = logging.getLogger(__name__)


class StepBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Yields this process's share of each global micro-batch, from ``start`` (a micro-step) to ``stop``."""

    def __init__(self, num_samples: int, *, seed: int, start: int, stop: int, batch_size: int, rank: int,
                 world: int) -> None:
        self.num_samples, self.seed, self.start, self.stop = num_samples, seed, start, stop
        self.batch_size, self.rank, self.world = batch_size, rank, world

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def positions(self, micro_step: int) -> tuple[list[int], list[int]]:
        """(sample indices, positions in the global batch) of this process at ``micro_step``."""
        indices = global_batch_indices(self.num_samples, self.seed, micro_step, self.batch_size * self.world)
        lo = self.rank * self.batch_size
        return indices[lo:lo + self.batch_size], list(range(lo, lo + self.batch_size))

    def __iter__(self):
        for micro_step in range(self.start, self.stop):
            yield self.positions(micro_step)[0]


def _weight_dtype(mixed_precision: str) -> torch.dtype:
    return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(mixed_precision, torch.float32)


def train(config: TrainConfig) -> Path:
    """Run (or resume) a training run; returns the final model folder ``OUTPUT/model``."""
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, set_seed
    from diffusers.optimization import get_scheduler

    out = Path(config.output_dir)
    accelerator = Accelerator(
        gradient_accumulation_steps=config.gradient_accumulation_steps, mixed_precision=config.mixed_precision,
        log_with="tensorboard",
        project_config=ProjectConfiguration(project_dir=str(out), logging_dir=str(out / "logs")))
    main = accelerator.is_main_process
    if config.deterministic:
        torch.use_deterministic_algorithms(True)
    set_seed(config.seed)
    if main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=True))
    # 1. Model, data, frozen parts.
    task = make_task(config)
    pipe = task.pipe  # None for a module trained outside the pipeline (alignment)
    weight_dtype = _weight_dtype(config.mixed_precision)
    if pipe is not None:
        pipe.to(accelerator.device)
        for name in HALF_PRECISION_PARTS:
            if name != task.module_name:
                cast(getattr(pipe, name, None), weight_dtype)
    model = task.module
    model.to(accelerator.device)
    cast(model, torch.float32)
    model.train()
    if config.gradient_checkpointing and hasattr(model, "enable_gradient_checkpointing"):
        model.enable_gradient_checkpointing()
    dataset = task.train_dataset()
    # 2. Optimizer and schedule (AdamW for the diffusion parts, Adam for super-resolution and the MLP, as the paper).
    params = [p for p in model.parameters() if p.requires_grad]
    if config.component in ("syncronet", "base"):
        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.adam_weight_decay)
    else:
        optimizer = torch.optim.Adam(params, lr=config.learning_rate)
    scheduler = get_scheduler(config.lr_scheduler, optimizer, num_warmup_steps=config.lr_warmup_steps,
                              num_training_steps=config.max_steps)
    # 3. Resume from the latest complete checkpoint.
    step = 0
    checkpoints = list_checkpoints(out)
    if checkpoints:
        state = load_checkpoint(checkpoints[-1], models={task.module_name: model}, optimizer=optimizer,
                                scheduler=scheduler)
        step = int(state["step"])
        log.info("resumed from %s (step %d)", checkpoints[-1], step)
    wrapped, optimizer = accelerator.prepare(model, optimizer)
    world, rank = accelerator.num_processes, accelerator.process_index
    accum = config.gradient_accumulation_steps
    sampler = StepBatchSampler(len(dataset), seed=config.seed, start=step * accum, stop=config.max_steps * accum,
                               batch_size=config.batch_size, rank=rank, world=world)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, num_workers=config.num_workers,
                                         collate_fn=getattr(task, "collate", collate))  # the vocoder has its own
    effective = config.batch_size * world * accum
    if main:
        accelerator.init_trackers("egosonics", config={k: v if isinstance(v, (int, float, str, bool)) else str(v)
                                                      for k, v in config.to_dict().items()})
        log.info("***** Running training: %s *****", config.component)
        log.info("  samples = %d, processes = %d, batch per process = %d, accumulation = %d, effective batch = %d",
                 len(dataset), world, config.batch_size, accum, effective)
        log.info("  steps = %d (starting at %d), trained parameters = %d", config.max_steps, step,
                 sum(p.numel() for p in params))
    metrics_path = out / "metrics.csv"
    bar = progress(range(step, config.max_steps), desc=f"train {config.component}", total=config.max_steps - step,
                   unit="step", disable=None if main else True)
    bar_iter = iter(bar)
    started, window_loss, window_n = time.perf_counter(), 0.0, 0
    micro_step = step * accum
    for batch in loader:
        if batch["skipped"]:
            log.warning("%d unreadable sample(s) skipped at micro-step %d", batch["skipped"], micro_step)
        if not batch["keys"]:
            micro_step += 1
            continue
        _, positions = sampler.positions(micro_step)
        generators = sample_generators(config.seed, micro_step, positions[:len(batch["keys"])])
        with accelerator.accumulate(wrapped):
            loss = task.loss(batch, generators, wrapped)
            accelerator.backward(loss)
            if accelerator.sync_gradients and config.max_grad_norm:
                accelerator.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        window_loss += float(accelerator.gather(loss.detach()[None]).mean())
        window_n += 1
        micro_step += 1
        if micro_step % accum:
            continue
        scheduler.step()
        step += 1
        next(bar_iter, None)
        # 4. Logs, checkpoints, validation.
        if step % config.log_every == 0 or step == config.max_steps:
            mean_loss = window_loss / max(window_n, 1)
            rate = window_n * config.batch_size * world / max(time.perf_counter() - started, 1e-9)
            row = {"step": step, "loss": mean_loss, "lr": scheduler.get_last_lr()[0], "samples_per_s": rate}
            if main:
                new = not metrics_path.exists()
                with open(metrics_path, "a", newline="") as f:
                    writer = csv.DictWriter(f, fieldnames=list(row))
                    if new:
                        writer.writeheader()
                    writer.writerow(row)
                accelerator.log({"loss": mean_loss, "lr": row["lr"], "samples_per_s": rate}, step=step)
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{mean_loss:.4f}")
            started, window_loss, window_n = time.perf_counter(), 0.0, 0
        if step % config.checkpointing_steps == 0 or step == config.max_steps:
            accelerator.wait_for_everyone()
            if main:
                unwrapped = accelerator.unwrap_model(wrapped)
                save_checkpoint(out / f"checkpoint-{step}", models={task.module_name: unwrapped},
                                optimizer=optimizer.optimizer if hasattr(optimizer, "optimizer") else optimizer,
                                scheduler=scheduler, trainer_state={"step": step, "config": config.to_dict()})
                rotate_checkpoints(out, config.checkpoints_total_limit)
        if (config.validation_steps and main and pipe is not None
                and (step % config.validation_steps == 0 or step == config.max_steps)):
            validate(task, dataset, out / "validation" / f"step-{step:07d}")
    accelerator.wait_for_everyone()
    final = out / "model"
    if main:
        unwrapped = accelerator.unwrap_model(wrapped)
        if pipe is None:  # the trained module is the whole model
            cast(unwrapped, torch.float32)
            unwrapped.to("cpu").save_pretrained(final, safe_serialization=True)
        else:
            setattr(pipe, task.module_name, unwrapped)
            task.before_save()
            for name in ("unet", "vae", "syncronet", "video_to_text", "superres", "frame_encoder"):
                cast(getattr(pipe, name, None), torch.float32)
            pipe.to("cpu")
            pipe.save_pretrained(final)
        log.info("wrote %s", final)
        task.finish(unwrapped, final)
    accelerator.end_training()
    return final


def validate(task: Any, dataset: ShardDataset, folder: Path) -> None:
    """Generate for the first validation samples: a spectrogram figure (truth above, generated below), a WAV, and an
    MP4 of the source window with the generated audio when the source video can be found."""
    from egosonics.media.audio import limit_peak, write_audio
    from egosonics.media.video import read_frames, write_video
    from egosonics.spectrogram.figure import plot_spectrograms

    pipe, config = task.pipe, task.config
    module = task.module
    was_training = module.training
    module.eval()
    folder.mkdir(parents=True, exist_ok=True)
    pipe.set_progress_bar_config(disable=True)
    try:
        for i in range(min(config.validation_samples, len(dataset))):
            sample = dataset[i]
            if sample is None:
                continue
            out = pipe(video_embedding=sample["ev"][None], num_inference_steps=config.validation_inference_steps,
                       guidance_scale=config.validation_guidance, generator=torch.Generator().manual_seed(config.seed))
            wave = out.waveforms[0].numpy()
            clip = pipe.clip_spec
            from egosonics.spectrogram.transform import waveform_to_unit

            plot_spectrograms(folder / f"{sample['key']}.png",
                              [("ground truth", sample["spec"]),
                               ("generated", waveform_to_unit(torch.from_numpy(wave), pipe.spectrogram_params))],
                              pipe.spectrogram_params, duration_s=clip.duration_s)
            wave = limit_peak(wave)
            write_audio(folder / f"{sample['key']}.wav", wave, clip.sample_rate)
            source = _source_video(config.data, sample.get("meta", {}))
            if source is not None:
                frames = read_frames(source, start_s=sample["meta"]["start_s"], duration_s=clip.duration_s,
                                     fps=clip.fps, size=(120, 160), crop=True)
                write_video(folder / f"{sample['key']}.mp4", frames.frames, clip.fps, audio=wave,
                            sample_rate=clip.sample_rate)
            log.info("validation outputs in %s", folder)
    except EgoSonicsError as exc:
        log.warning("validation skipped: %s", exc)
    finally:
        module.train(was_training)


def _source_video(data: str, meta: dict[str, Any]) -> Path | None:
    """The source video of a sample, found through the settings of the prepare run that wrote the shards."""
    src = prepare_settings(data).get("src")
    path = Path(src) / meta.get("source", "") if src else None
    return path if path is not None and path.is_file() else None


