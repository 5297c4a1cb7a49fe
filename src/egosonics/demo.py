"""What ``make demo`` runs until the default model exists: a synthetic clip through the audio path.

It renders a first-person clip with known impact times, writes it as an MP4 (H.264 + AAC), resynthesises its audio
through the 512 × 512 spectrogram and Griffin-Lim, and draws the original and resynthesised spectrograms with the
true impact times marked.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from egosonics.media.audio import read_audio
from egosonics.media.video import write_video
from egosonics.resynth import resynthesize
from egosonics.spectrogram.figure import plot_spectrograms
from egosonics.spectrogram.params import DEFAULT_PARAMS
from egosonics.spectrogram.transform import waveform_to_unit
from egosonics.synth.bounce import render_bounce

log = logging.getLogger(__name__)


def run_demo(out_dir: Path, *, seed: int = 1234) -> dict[str, Path]:
    """Write ``scene.mp4``, ``scene.resynth.mp4``, ``scene.resynth.wav`` and ``spectrograms.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scene = render_bounce(seed)
    paths = {"scene": out_dir / "scene.mp4", "resynth": out_dir / "scene.resynth.mp4",
             "wav": out_dir / "scene.resynth.wav", "figure": out_dir / "spectrograms.png"}
    write_video(paths["scene"], scene.frames, scene.clip.fps, audio=scene.audio, sample_rate=scene.clip.sample_rate)
    log.info("wrote %s (%d impacts)", paths["scene"], len(scene.events_s))
    result = resynthesize(paths["scene"], paths["resynth"], wav=paths["wav"])
    original = read_audio(paths["scene"], duration_s=result.duration_s)
    resynth = read_audio(paths["wav"])
    panels = [("original audio (AAC)", waveform_to_unit(torch.from_numpy(original))),
              ("through the 512 x 512 spectrogram and Griffin-Lim", waveform_to_unit(torch.from_numpy(resynth)))]
    plot_spectrograms(paths["figure"], panels, DEFAULT_PARAMS, duration_s=result.duration_s, events_s=scene.events_s)
    print(f"demo clip:             {paths['scene']}")
    print(f"with resynthesised audio: {paths['resynth']}  (and {paths['wav']})")
    print(f"spectrograms:          {paths['figure']}  (cyan lines: true impact times)")
    print(f"vocoder ceiling: spectral convergence {result.spectral_convergence:.4f}, "
          f"log-spectral distance {result.log_spectral_distance:.4f}")
    print("No trained model ships yet: this demo runs the audio path alone (see README).")
    return paths
