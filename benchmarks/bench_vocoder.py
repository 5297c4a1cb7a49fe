"""Vocoders side by side: seconds per 10 s of audio for Griffin-Lim 32 and 100 iterations and the learned vocoder.

All start from the same 1024 × 430 magnitude (the Griffin-Lim benchmark's test sound), one window at a time, on one
thread and on torch's default thread count, interleaved and timed over 5 runs (median) after a warm-up. The learned
vocoder is the shipped default model's ``vocoder/`` (its ``refine_iters`` Griffin-Lim steps included) when there is
one, else the ``gradient`` architecture with 20 refinement steps (its speed does not depend on its weights); beside it,
Griffin-Lim from the non-learned phase-gradient start (``--gl-init phase-gradient``) with 20 and 24 iterations (and the
vocoder's own count). Quality is measured on real audio by ``scripts/eval_vocoder.py``, not here.

Target (issue 16): the learned vocoder at least as fast as Griffin-Lim with 32 iterations (1 thread).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import add_target, interleaved, median, new_result

NAME = "vocoder"
TITLE = "Vocoders: Griffin-Lim 32 / 100 iterations vs the learned vocoder, s per 10 s window"

NUM_SAMPLES = 220_500
RUNS = 5


def run(workdir: Path) -> dict[str, Any]:
    del workdir  # everything stays in memory
    import torch

    from bench_griffin_lim import test_signal
    from egosonics.loading import DEFAULT_MODEL_DIR, load_vocoder
    from egosonics.models.vocoder import FourierVocoder
    from egosonics.spectrogram.griffin_lim import griffin_lim
    from egosonics.spectrogram.params import DEFAULT_PARAMS
    from egosonics.spectrogram.transform import stft_magnitude

    params = DEFAULT_PARAMS
    mag = stft_magnitude(torch.from_numpy(test_signal()), params)  # [1024, 430]
    shipped = DEFAULT_MODEL_DIR / "vocoder"
    if (shipped / "config.json").is_file():
        vocoders = {"learned (shipped)": load_vocoder(shipped, params)}
    else:
        vocoders = {"learned (gradient architecture)": FourierVocoder(phase="gradient", refine_iters=20).eval()}
    refine = next(iter(vocoders.values())).config.refine_iters
    result = new_result(NAME, TITLE)
    result["info"] = {"runs": RUNS, "default_threads": torch.get_num_threads(),
                      "parameters_M": {k: round(sum(p.numel() for p in v.parameters()) / 1e6, 2)
                                       for k, v in vocoders.items()}}

    cases: dict[str, Any] = {
        f"Griffin-Lim {k}": (lambda i, k=k: griffin_lim(mag, NUM_SAMPLES, params, n_iter=k,
                                                        generator=torch.Generator().manual_seed(i)))
        for k in (32, 100)}
    for k in sorted({20, 24, refine} - {0}):
        cases[f"phase-gradient + Griffin-Lim {k}"] = (
            lambda i, k=k: griffin_lim(mag, NUM_SAMPLES, params, n_iter=k, init="phase-gradient"))
    for name, vocoder in vocoders.items():
        cases[name] = lambda i, v=vocoder: v(mag[None], NUM_SAMPLES)
    threads = torch.get_num_threads()
    times: dict[tuple[str, int], float] = {}
    with torch.inference_mode():
        for n_threads in sorted({1, threads}):
            torch.set_num_threads(n_threads)
            try:
                for fn in cases.values():
                    fn(0)  # warm-up
                runs = interleaved(cases, RUNS)
            finally:
                torch.set_num_threads(threads)
            for name, timed in runs.items():
                times[name, n_threads] = median([t for t, _ in timed])
    for (name, n_threads), seconds in times.items():
        result["rows"].append({"vocoder": name, "threads": n_threads, "s_per_10s": seconds,
                               "x_real_time": 10.0 / seconds,
                               "vs_GL32": times["Griffin-Lim 32", n_threads] / seconds})
    for name in vocoders:
        ratio = times["Griffin-Lim 32", 1] / times[name, 1]
        add_target(result, f"{name} speed vs Griffin-Lim 32 (1 thread)", ratio, 1.0,
                   detail=f"{times[name, 1]:.3f} s vs {times['Griffin-Lim 32', 1]:.3f} s per 10 s")
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(Path(".")), indent=1))
