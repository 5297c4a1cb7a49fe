"""The ``sd21`` architecture on CPU with random weights: what one 10 s clip costs at the paper's size.

Built in one fresh child process (both cores, fp32): the UNet from ``presets.SD21_UNET`` (866 M parameters), the VAE
from ``SD21_VAE`` (84 M), a CLIP ViT-B/32-sized ``ClipFrameEncoder`` (hidden 768, 12 layers, 12 heads, patch 32,
projection 512; 88 M) and ``EgoSonicsPipeline.from_preset("sd21", unet=..., vae=..., frame_encoder=...)``, which
builds the Syncronet (``Syncronet.from_unet``, 366 M), the video-to-text MLP and super-resolution. Random weights cost
the same time as trained ones.

Then one real pipeline call on 300 random 224 × 224 frames with guidance 3.0 (UNet + Syncronet on a batch of 2 per
step) and ``STEPS`` DDIM steps, timed per stage from outside (``stages.StageTimer``): CLIP on 300 frames, video-to-
text, each denoising step (Syncronet, UNet, scheduler), VAE decode of one 64 × 64 latent to 512 × 512, super-resolution
512 × 512 → 1024 × 512, Griffin-Lim (32 iterations).

By default only 2 DDIM steps are run and the 20-step time is EXTRAPOLATED:
    estimate = (everything but the loop) + 20 × (mean seconds per step of the 2 measured).
``run_all.py --full`` runs all 20 steps instead (about 5 minutes more) and reports the measured time.
Not included: decoding the source video and muxing (see tiny_generate; at 224 × 224 decode they are small).
Memory: peak RSS (VmHWM) of the child after building the models and after the call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from common import child_reply, median, new_result, peak_rss_mb, run_child, time_call
from stages import StageTimer

NAME = "sd21_cpu"
TITLE = "sd21 architecture (random weights) on CPU: one 10 s clip, guidance 3.0"

QUICK_STEPS = 2
FULL_STEPS = 20
CLIP_VISION = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
               "image_size": 224, "patch_size": 32, "projection_dim": 512}
FRAMES = 300


def _child(steps: int) -> dict[str, Any]:
    t_import, _ = time_call(lambda: __import__("egosonics.pipeline"))
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel

    import egosonics.pipeline as pipeline_module
    from egosonics.models.frame_encoder import ClipFrameEncoder
    from egosonics.models.presets import SD21_UNET, SD21_VAE
    from egosonics.pipeline import EgoSonicsPipeline

    torch.manual_seed(0)
    build: dict[str, float] = {}
    build["unet"], unet = time_call(lambda: UNet2DConditionModel(**SD21_UNET))
    build["vae"], vae = time_call(lambda: AutoencoderKL(**SD21_VAE))
    build["clip"], encoder = time_call(lambda: ClipFrameEncoder(clip_config=dict(CLIP_VISION)))
    build["pipeline (syncronet, mlp, sr)"], pipe = time_call(
        lambda: EgoSonicsPipeline.from_preset("sd21", unet=unet, vae=vae, frame_encoder=encoder))
    pipe.set_progress_bar_config(disable=True)
    params = {name: sum(p.numel() for p in getattr(pipe, name).parameters()) / 1e6
              for name in ("unet", "syncronet", "vae", "frame_encoder", "video_to_text", "superres")}
    rss_built = peak_rss_mb()

    frames = torch.randint(0, 256, (1, FRAMES, 224, 224, 3), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    timer = StageTimer()
    with timer:
        timer.wrap(pipe, "encode_frames", "clip_300_frames")
        timer.wrap(pipe.video_to_text, "forward", "video_to_text")
        timer.wrap(pipe.syncronet, "forward", "syncronet")
        timer.wrap(pipe.syncronet.conditioning_embedding, "forward", "hint_enc")
        timer.wrap(pipe.syncronet.sync_attention, "forward", "sync_attn")
        timer.wrap(pipe.unet, "forward", "unet")
        timer.wrap(pipe.scheduler, "step", "scheduler")
        timer.wrap(pipe, "sample_to_image", "vae_decode_512")
        timer.wrap(pipe.superres, "forward", "superres_1024x512")
        timer.wrap(pipeline_module, "griffin_lim", "griffin_lim")
        total, out = time_call(lambda: pipe(frames, num_inference_steps=steps, guidance_scale=3.0,
                                            generator=torch.Generator().manual_seed(0)))
    assert tuple(out.waveforms.shape) == (1, pipe.clip_spec.num_samples), out.waveforms.shape
    sync = [e - s for s, e in timer.intervals["syncronet"]]
    unet_s = [e - s for s, e in timer.intervals["unet"]]
    sched = [e - s for s, e in timer.intervals["scheduler"]]
    hint = [e - s for s, e in timer.intervals["syncronet/hint_enc"]]
    sync_attn = [e - s for s, e in timer.intervals["syncronet/sync_attn"]]
    # A step: from the start of one Syncronet call to the end of the scheduler's update.
    step_s = [e[1] - s[0] for s, e in zip(timer.intervals["syncronet"], timer.intervals["scheduler"], strict=True)]
    stages = {name: timer.total(name) for name in ("clip_300_frames", "video_to_text", "vae_decode_512",
                                                    "superres_1024x512", "griffin_lim")}
    loop = timer.first_start("vae_decode_512") - timer.first_start("syncronet")
    return {"import_s": t_import, "build_s": build, "params_M": params, "rss_built_mb": rss_built,
            "threads": torch.get_num_threads(), "total_s": total, "loop_s": loop, "stages": stages,
            "step_s": step_s, "syncronet_s": sync, "unet_s": unet_s, "scheduler_s": sched, "hint_enc_s": hint,
            "sync_attn_s": sync_attn,
            "latent": list(pipe.latent_shape), "peak_rss_mb": peak_rss_mb()}


def run(workdir: Path, *, full: bool = False) -> dict[str, Any]:
    del workdir  # nothing is written
    steps = FULL_STEPS if full else QUICK_STEPS
    child = run_child(__file__, [str(steps)], timeout=1800)
    result = new_result(NAME, TITLE)
    result["info"] = {"steps_run": steps, "guidance": 3.0, "batch_per_step": 2, "dtype": "float32",
                      "torch_threads": child["threads"], "latent": "x".join(map(str, child["latent"])),
                      "params_M": {k: round(v, 1) for k, v in child["params_M"].items()},
                      "build_s": {k: round(v, 1) for k, v in child["build_s"].items()},
                      "peak_RSS_MB_after_build": round(child["rss_built_mb"]),
                      "peak_RSS_MB": round(child["peak_rss_mb"])}
    mean_step = sum(child["step_s"]) / len(child["step_s"])
    outside_loop = child["total_s"] - child["loop_s"]
    estimate = outside_loop + FULL_STEPS * mean_step
    rows = [{"stage": "CLIP ViT-B/32 on 300 frames (224²)", "seconds": child["stages"]["clip_300_frames"]},
            {"stage": "video-to-text MLP (batch 2)", "seconds": child["stages"]["video_to_text"]}]
    for i, (st, sy, he, sa, un, sc) in enumerate(zip(child["step_s"], child["syncronet_s"], child["hint_enc_s"],
                                                     child["sync_attn_s"], child["unet_s"], child["scheduler_s"],
                                                     strict=True)):
        rows.append({"stage": f"denoising step {i + 1} (batch 2)", "seconds": st, "syncronet_s": sy,
                     "hint_enc_s": he, "sync_attn_s": sa, "unet_s": un, "scheduler_s": sc})

    def mean(key: str) -> float:
        return sum(child[key]) / len(child[key])

    rows += [{"stage": "mean per denoising step", "seconds": mean_step, "syncronet_s": mean("syncronet_s"),
              "hint_enc_s": mean("hint_enc_s"), "sync_attn_s": mean("sync_attn_s"), "unet_s": mean("unet_s"),
              "scheduler_s": mean("scheduler_s")},
             {"stage": "VAE decode 64² latent → 512²", "seconds": child["stages"]["vae_decode_512"]},
             {"stage": "super-resolution 512² → 1024×512", "seconds": child["stages"]["superres_1024x512"]},
             {"stage": "Griffin-Lim, 32 iterations", "seconds": child["stages"]["griffin_lim"]},
             {"stage": f"pipeline call, {steps} steps (measured)", "seconds": child["total_s"]}]
    if full:
        rows.append({"stage": "10 s clip, 20 steps, MEASURED", "seconds": child["total_s"],
                     "x_realtime": child["total_s"] / 10})
        quick = outside_loop + FULL_STEPS * sum(child["step_s"][:QUICK_STEPS]) / QUICK_STEPS
        rows.append({"stage": f"(check) the default estimate from the first {QUICK_STEPS} steps", "seconds": quick,
                     "x_realtime": quick / 10})
    else:
        rows.append({"stage": f"10 s clip, 20 steps, ESTIMATED from {steps} steps", "seconds": estimate,
                     "x_realtime": estimate / 10})
    result["rows"] = rows
    result["details"]["child"] = child
    spread = max(child["step_s"]) / min(child["step_s"])
    if full:
        result["notes"].append(f"measured all {steps} steps (--full); median step {median(child['step_s']):.2f} s")
    else:
        result["notes"].append(f"ESTIMATE: only {steps} DDIM steps were run; the 20-step time is (call − loop) + 20 × "
                               f"mean step = {outside_loop:.1f} + 20 × {mean_step:.2f} s. Run with --full to measure "
                               "all 20 steps (about 5 minutes).")
    if spread > 1.3:
        result["notes"].append(f"step times vary {spread:.1f}× between steps: the estimate is rough")
    result["notes"].append("syncronet_s includes hint_enc_s (ε, the conditioning convolutions on the 512 × 512 E_V "
                           "hint, the same at every step) and sync_attn_s (Eq. 1–2 over the 64 × 64 grid)")
    result["notes"].append("not included: decoding the source video and muxing the output (tiny_generate measures "
                           "them)")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=1, metavar="STEPS", required=True)
    args = parser.parse_args()
    child_reply(_child(int(args.child[0])))
    sys.exit(0)
