"""Training the Alignment Score classifier (paper Sec. H): pairs, the held-out split, and the trainer's task.

Pairs, drawn per sample from that sample's generator (``tasks.sample_generators``), so a resumed run sees the same ones:

    kind      share  E_A (audio)                        E_V (video)                              label
    true      50 %   the window's spectrogram           the window's E_V                         1
    other     25 %   the window's spectrogram           E_V of a window of another source video  0
    shifted   25 %   the spectrogram shifted by 1–5 s   the window's E_V                         0

Shifting needs audio from outside the 10 s window, which prepared shards do not keep, so the shift is circular: the
spectrogram's time columns are rolled by round(s · 430 / 300) for a shift of s video frames (30–150 frames, either
direction). A circular roll leaves a seam where the end of the window meets its start; so that a seam alone does not
say "negative", every *training* pair first gets a common random circular roll of both its spectrogram columns and
its E_V frames (a true pair stays aligned, its two seams coincide), and a shifted pair rolls its audio s further.
The remaining cue a classifier could exploit is that a shifted pair's two seams are s apart; real pairs at scoring
time have no seam at all. Held-out pairs are not rolled except by the shift itself.

Held-out split: whole shards (so no source video is on both sides when shards group videos, as ``prepare`` writes
them): the last ⌈20 %⌉ of the shards in name order, at least one when there are two or more. The held-out accuracy
(``heldout_accuracy.json``, in the output folder and in the model folder) scores each held-out window three ways (true,
shifted, other video: another held-out video when there is one, else a training one) and weighs them 50/25/25 like
the training mix.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from egosonics.errors import EgoSonicsError
from egosonics.models.alignment import (
    ALIGNMENT_PRESETS,
    HELDOUT_FILE,
    AudioVisualAlignmentClassifier,
    audio_image,
    describe,
    video_image,
)
from egosonics.preprocess.shards import ShardDataset, prepare_settings, resolve_shards
from egosonics.training.config import TrainConfig

log = logging.getLogger(__name__)

PairKind = Literal["true", "other", "shifted"]
PAIR_SHARES: dict[str, float] = {"true": 0.5, "other": 0.25, "shifted": 0.25}
LABELS: dict[str, float] = {"true": 1.0, "other": 0.0, "shifted": 0.0}
HOLDOUT_FRACTION = 0.2


@dataclass(frozen=True)
class PairPlan:
    """How one training pair is made from a window.

    Attributes:
        kind: "true", "other" or "shifted".
        roll_frames: common circular roll of audio and video, in video frames (0 for held-out pairs).
        shift_frames: extra roll of the audio for "shifted" pairs (signed; |·| in [min, max] shift), else 0.
    """

    kind: PairKind
    roll_frames: int
    shift_frames: int

    @property
    def label(self) -> float:
        return LABELS[self.kind]


def random_shift(generator: torch.Generator, *, fps: float = 30.0, min_shift_s: float = 1.0,
                 max_shift_s: float = 5.0) -> int:
    """A shift of round(fps·min_shift_s) … round(fps·max_shift_s) video frames (uniform), either sign; two draws."""
    s, sign = (torch.rand((), generator=generator).item() for _ in range(2))
    lo, hi = round(min_shift_s * fps), round(max_shift_s * fps)
    return min(hi, lo + int(s * (hi - lo + 1))) * (1 if sign < 0.5 else -1)


def draw_pair(generator: torch.Generator, *, num_frames: int = 300, fps: float = 30.0, min_shift_s: float = 1.0,
              max_shift_s: float = 5.0, roll: bool = True) -> PairPlan:
    """Draw a pair plan: kind by the 50/25/25 shares, a common roll in [0, num_frames) (when ``roll``), and for
    "shifted" a ``random_shift``. Always draws four numbers, so the stream after it does not depend on the kind."""
    u, r = (torch.rand((), generator=generator).item() for _ in range(2))
    kind: PairKind = "true" if u < PAIR_SHARES["true"] else "other" if u < 1 - PAIR_SHARES["shifted"] else "shifted"
    shift = random_shift(generator, fps=fps, min_shift_s=min_shift_s, max_shift_s=max_shift_s)
    return PairPlan(kind=kind, roll_frames=int(r * num_frames) if roll else 0,
                    shift_frames=shift if kind == "shifted" else 0)


def audio_columns(frames: int, num_columns: int, num_frames: int) -> int:
    """A roll of ``frames`` video frames in spectrogram columns: round(frames · num_columns / num_frames)."""
    return round(frames * num_columns / num_frames)


def make_pair(spectrogram: torch.Tensor, video_embedding: torch.Tensor, plan: PairPlan,
              other_video: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply a plan: spectrogram [F, T_a] and E_V [T_v, D] → (rolled spectrogram, rolled E_V of the pair).

    The audio rolls by ``roll_frames + shift_frames`` video frames (converted to columns), the video by
    ``roll_frames``; "other" pairs take ``other_video`` [T_v, D] instead of the window's E_V.
    """
    video = video_embedding
    if plan.kind == "other":
        if other_video is None or other_video.shape != video_embedding.shape:
            raise ValueError(f"an 'other' pair needs another E_V of shape {tuple(video_embedding.shape)}, got "
                             f"{None if other_video is None else tuple(other_video.shape)}")
        video = other_video
    t_v, t_a = video.shape[0], spectrogram.shape[-1]
    audio = torch.roll(spectrogram, audio_columns(plan.roll_frames + plan.shift_frames, t_a, t_v), dims=-1)
    return audio, torch.roll(video, plan.roll_frames, dims=0)


def split_shards(shards: list[Path], fraction: float = HOLDOUT_FRACTION) -> tuple[list[Path], list[Path]]:
    """(training shards, held-out shards): the last ⌈fraction · n⌉ shards in name order are held out (at least one
    when n ≥ 2; none when there is a single shard)."""
    ordered = sorted(shards)
    if len(ordered) < 2:
        return ordered, []
    held = min(len(ordered) - 1, max(1, math.ceil(fraction * len(ordered))))
    return ordered[:-held], ordered[-held:]


def _sample_meta(dataset: ShardDataset) -> list[dict[str, Any]]:
    """Every sample's metadata JSON, read from the shards without loading the arrays."""
    metas = []
    for ref in dataset.refs:
        meta: dict[str, Any] = {}
        for ext, offset, size in ref.members:
            if ext == "json":
                with open(ref.shard, "rb") as f:
                    f.seek(offset)
                    meta = json.loads(f.read(size))
        metas.append(meta)
    return metas


def build_classifier(config: TrainConfig, *, frame_encoder: str, clip_dir: str | None
                     ) -> AudioVisualAlignmentClassifier:
    """``init_model`` (a classifier folder) if given; else the preset: ``sd21`` = ViT-B/32 with torchvision's ImageNet
    weights from ``vit_weights`` (required), ``tiny`` = a small random ViT for CPU runs."""
    if config.init_model:
        model = AudioVisualAlignmentClassifier.from_pretrained(config.init_model)
        if model.config.frame_encoder != frame_encoder:
            raise EgoSonicsError(f"{config.init_model}: trained on {model.config.frame_encoder!r} E_V, but "
                                 f"{config.data} holds {frame_encoder!r} E_V")
        return model
    extra = {"frame_encoder": frame_encoder, "clip_dir": clip_dir}
    if config.preset == "sd21":
        if not config.vit_weights:
            raise EgoSonicsError("alignment with the sd21 preset needs vit_weights: a local copy of torchvision's "
                                 "ImageNet vit_b_32 state dict (vit_b_32-d86f8d99.pth); EgoSonics never downloads it")
        return AudioVisualAlignmentClassifier.from_vit_b_32(config.vit_weights, **extra)
    if config.preset not in ALIGNMENT_PRESETS:
        raise EgoSonicsError(f"unknown preset {config.preset!r} for alignment; choose from {sorted(ALIGNMENT_PRESETS)}")
    return AudioVisualAlignmentClassifier.from_preset(config.preset, **extra)


@dataclass
class AlignmentTask:
    """The trainer's view of alignment training: the classifier is the trained module; there is no pipeline."""

    config: TrainConfig
    model: AudioVisualAlignmentClassifier
    train_shards: list[Path]
    heldout_shards: list[Path]
    pipe: None = None
    text_encoder: None = None
    _dataset: ShardDataset | None = field(default=None, repr=False)
    _sources: list[str] = field(default_factory=list, repr=False)
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _warned: bool = field(default=False, repr=False)

    module_name = "alignment"

    @classmethod
    def build(cls, config: TrainConfig) -> AlignmentTask:
        shards = resolve_shards(config.data)
        train_shards, heldout = split_shards(shards)
        if not heldout:
            log.warning("%s has a single shard: no held-out split, so no held-out accuracy (prepare with a smaller "
                        "--videos-per-shard to get one)", config.data)
        first = ShardDataset(train_shards[:1])[0]
        encoder = (first or {}).get("meta", {}).get("encoder", "pixels")
        clip_dir = prepare_settings(config.data).get("clip_dir") if encoder == "clip-vit-b32" else None
        task = cls(config=config, model=build_classifier(config, frame_encoder=encoder, clip_dir=clip_dir),
                   train_shards=train_shards, heldout_shards=heldout)
        log.info("alignment classifier: %s; %d training shard(s), %d held out", describe(task.model),
                 len(train_shards), len(heldout))
        if config.validation_steps:
            log.info("alignment: validation_steps is not used; the held-out accuracy is written at the end")
        return task

    @property
    def module(self) -> AudioVisualAlignmentClassifier:
        return self.model

    def freeze(self) -> None:
        self.model.requires_grad_(True)
        self.model.backbone.requires_grad_(not self.model.config.freeze_backbone)

    def train_dataset(self) -> ShardDataset:
        """The training shards (held-out ones excluded), with every sample's source video indexed."""
        if self._dataset is None:
            self._dataset = ShardDataset(self.train_shards)
            metas = _sample_meta(self._dataset)
            self._sources = [m.get("source", ref.key) for m, ref in zip(metas, self._dataset.refs, strict=True)]
            self._index = {ref.key: i for i, ref in enumerate(self._dataset.refs)}
        return self._dataset

    def _other_video(self, key: str, generator: torch.Generator) -> torch.Tensor:
        """E_V of a random training window from another source video (another window when there is none)."""
        dataset = self.train_dataset()
        own = self._index.get(key, -1)
        source = self._sources[own] if own >= 0 else None
        n = len(self._sources)
        if n < 2:
            raise EgoSonicsError(f"{self.config.data}: alignment training needs at least 2 training windows")
        single_video = len(set(self._sources)) == 1
        if single_video and not self._warned:
            log.warning("all training windows come from one video: 'other' pairs use another window of it")
            self._warned = True
        def usable(i: int) -> bool:
            return i != own and (single_video or self._sources[i] != source)

        for attempt in range(72):  # rejection sampling (cheap with many videos), then an explicit list
            if attempt < 64:
                pick = int(torch.randint(n, (), generator=generator))
                if not usable(pick):
                    continue
            else:
                candidates = [i for i in range(n) if usable(i)]
                pick = candidates[int(torch.randint(len(candidates), (), generator=generator))]
            sample = dataset[pick]  # None when unreadable (logged): draw again
            if sample is not None:
                return sample["ev"]
        raise EgoSonicsError(f"{self.config.data}: could not read a window of another video for an 'other' pair")

    def loss(self, batch: dict[str, Any], generators: list[torch.Generator],
             model: torch.nn.Module) -> torch.Tensor:
        """MSE between p(in sync) and the pair label (paper Sec. H), on pairs drawn per sample."""
        audio, video, labels = [], [], []
        num_frames = batch["ev"].shape[1]
        for spec, ev, key, g in zip(batch["spec"], batch["ev"], batch["keys"], generators, strict=True):
            plan = draw_pair(g, num_frames=num_frames, fps=self.model.config.fps)
            other = self._other_video(key, g) if plan.kind == "other" else None
            a, v = make_pair(spec, ev, plan, other)
            audio.append(a)
            video.append(v)
            labels.append(plan.label)
        device = self.model.device
        size = tuple(self.model.config.input_size)
        e_a = audio_image(torch.stack(audio).to(device), size)  # [B, H, W]
        e_v = video_image(torch.stack(video).to(device), size)  # [B, H, W]
        p = model(e_a, e_v)  # [B]
        return F.mse_loss(p, torch.tensor(labels, device=p.device))

    @torch.no_grad()
    def heldout_report(self, model: AudioVisualAlignmentClassifier, *, batch_size: int = 8) -> dict[str, Any]:
        """Accuracy on the held-out shards (module docstring); {} without a held-out split."""
        if not self.heldout_shards:
            return {}
        heldout = ShardDataset(self.heldout_shards)
        metas = _sample_meta(heldout)
        sources = [m.get("source", ref.key) for m, ref in zip(metas, heldout.refs, strict=True)]
        train = self.train_dataset()
        was_training = model.training
        model.eval()
        size, device = tuple(model.config.input_size), model.device
        probs: dict[str, list[float]] = {"true": [], "shifted": [], "other": []}
        pending: list[tuple[str, torch.Tensor, torch.Tensor]] = []

        def flush() -> None:
            if pending:
                e_a = audio_image(torch.stack([a for _, a, _ in pending]).to(device), size)
                e_v = video_image(torch.stack([v for _, _, v in pending]).to(device), size)
                for (kind, _, _), p in zip(pending, model(e_a, e_v).tolist(), strict=True):
                    probs[kind].append(p)
                pending.clear()

        for i in range(len(heldout)):
            sample = heldout[i]
            if sample is None:
                continue
            g = torch.Generator().manual_seed(self.config.seed * 1_000_003 + i)
            shifted = PairPlan("shifted", 0, random_shift(g, fps=model.config.fps))
            others = [j for j, s in enumerate(sources) if s != sources[i]]
            if others:
                other = heldout[others[int(torch.randint(len(others), (), generator=g))]]
            else:
                other = train[int(torch.randint(len(train), (), generator=g))]
            pairs = [("true", *make_pair(sample["spec"], sample["ev"], PairPlan("true", 0, 0))),
                     ("shifted", *make_pair(sample["spec"], sample["ev"], shifted))]
            if other is not None:
                pairs.append(("other", *make_pair(sample["spec"], sample["ev"], PairPlan("other", 0, 0), other["ev"])))
            pending.extend(pairs)
            if len(pending) >= batch_size:
                flush()
        flush()
        model.train(was_training)
        acc = {kind: float(np.mean([(p >= 0.5) == (LABELS[kind] == 1.0) for p in ps])) if ps else None
               for kind, ps in probs.items()}
        shares = {k: PAIR_SHARES[k] for k, v in acc.items() if v is not None}
        total = sum(shares.values())
        return {"accuracy": sum(acc[k] * w for k, w in shares.items()) / total if total else None,
                "accuracy_true": acc["true"], "accuracy_shifted": acc["shifted"], "accuracy_other": acc["other"],
                "n_windows": len(probs["true"]), "n_pairs": sum(len(p) for p in probs.values()),
                "mean_p": {k: float(np.mean(v)) if v else None for k, v in probs.items()},
                "heldout_shards": [p.name for p in self.heldout_shards], "threshold": 0.5,
                "weights": "0.5 true + 0.25 shifted + 0.25 other (renormalised over the kinds present)"}

    def finish(self, model: AudioVisualAlignmentClassifier, final: Path) -> None:
        """After training: score the held-out split and write ``heldout_accuracy.json`` beside and in ``final``."""
        report = self.heldout_report(model)
        if not report or report["accuracy"] is None:
            log.warning("no readable held-out window: no held-out accuracy written")
            return
        text = json.dumps(report, indent=1)
        for path in (final.parent / HELDOUT_FILE, final / HELDOUT_FILE):
            path.write_text(text)
        log.info("alignment held-out accuracy %.3f (true %.3f, shifted %.3f, other %s) on %d windows; wrote %s",
                 report["accuracy"], report["accuracy_true"], report["accuracy_shifted"],
                 "n/a" if report["accuracy_other"] is None else f"{report['accuracy_other']:.3f}",
                 report["n_windows"], final / HELDOUT_FILE)

