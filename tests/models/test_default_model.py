"""The shipped default model (src/egosonics/assets/default_model): complete, small, documented, and synchronized.

The sync check generates audio for held-out synthesized scenes (seed 2, never used in training) from their own E_V and
from another scene's E_V, and scores both against the true event times: the video must be what places the sounds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from egosonics.evaluation.sync.onset import event_onsets, event_scores
from egosonics.loading import DEFAULT_MODEL_DIR, load_pipeline
from egosonics.media.video import read_frames
from egosonics.models.frame_encoder import frame_input_size
from egosonics.synth.dataset import synthesize
from egosonics.synth.settings import settings_for

pytest.importorskip("librosa")

N_SCENES = 4


@pytest.fixture(scope="module")
def pipe():
    pipe = load_pipeline(None)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_default_model_is_complete_small_and_has_a_model_card(pipe):
    files = [p for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 50 * 2**20
    assert not [p for p in files if p.suffix in (".bin", ".pt", ".pkl", ".ckpt")]  # safetensors only
    assert (DEFAULT_MODEL_DIR / "MODEL_CARD.md").stat().st_size > 1000
    assert pipe.config.preset == "tiny-power" and pipe.spectrogram_params.freq_pooling == "power"


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("heldout")
    synthesize(out, n=N_SCENES, seed=2, settings=settings_for("easy"), show_progress=False)
    return sorted(out.glob("*.mp4"))


def test_default_model_places_sounds_where_the_video_shows_events(pipe, scenes):
    size = frame_input_size(pipe.frame_encoder)
    frames = np.stack([read_frames(v, start_s=0, duration_s=10, fps=30, size=size, crop=True).frames for v in scenes])
    ev = pipe.encode_frames(torch.from_numpy(frames))
    events = [event_onsets(v.with_suffix(".json")) for v in scenes]
    assert all(len(e) >= 3 for e in events)

    def mean_f1(video_embedding: torch.Tensor) -> float:
        out = pipe(video_embedding=video_embedding, guidance_scale=3.0, generator=torch.Generator().manual_seed(0))
        return float(np.mean([event_scores(w.numpy(), 22_050, e)["event_f1"]
                              for w, e in zip(out.waveforms, events, strict=True)]))

    own, other = mean_f1(ev), mean_f1(ev.roll(1, dims=0))
    assert own >= 0.6, f"onset F1 with the scenes' own video {own:.2f}"
    assert other <= own / 2, f"onset F1 with another scene's video {other:.2f} vs own {own:.2f}"
