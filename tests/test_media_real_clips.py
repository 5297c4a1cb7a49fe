"""Every real clip of ../shared/data/real_clips decodes, resynthesises and muxes (skipped when the clips are absent)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from egosonics.media.audio import read_audio
from egosonics.media.video import read_frames, video_span_s
from egosonics.resynth import resynthesize
from tests.conftest import REAL_CLIPS, audio_span_s, video_packets

NAMES = sorted(p.name for p in REAL_CLIPS.glob("*.mp4")) if REAL_CLIPS.is_dir() else ["no-real-clips"]


def header(path: Path) -> tuple[float, float, float]:
    """(video fps, video duration, audio duration) as the file's header says."""
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        return (float(video.average_rate), float(video.duration * video.time_base),
                float(audio.duration * audio.time_base))


@pytest.mark.real_clips
@pytest.mark.parametrize("name", NAMES)
def test_real_clip_decodes_resynthesises_and_muxes(real_clips: list[Path], out_dir: Path, name: str) -> None:
    path = next(p for p in real_clips if p.name == name)
    fps, video_s, audio_s = header(path)

    clip = read_frames(path, duration_s=None, size=(64, 64))  # every frame decoded, converted small
    assert clip.fps == 30 and clip.frames.shape[1:] == (64, 64, 3)
    assert len(clip.frames) == round(video_s * 30) and clip.num_valid >= len(clip.frames) - 1
    assert clip.source_fps == pytest.approx(fps, rel=1e-3)

    audio = read_audio(path)
    assert audio.dtype == np.float32 and np.isfinite(audio).all() and np.any(audio)
    assert len(audio) / 22_050 == pytest.approx(audio_s, abs=0.01)

    out = out_dir / name
    result = resynthesize(path, out, n_iter=4)
    assert result.output == out and result.windows == -(-round(result.duration_s * 22_050) // 220_500)
    assert result.duration_s == pytest.approx(video_s, abs=1e-3)
    assert np.isfinite(result.log_spectral_distance)
    assert video_packets(out) == video_packets(path)  # the video stream copied, not re-encoded
    start, end = video_span_s(out)
    audio_start, audio_end = audio_span_s(out)
    assert audio_start == pytest.approx(start, abs=1 / fps)
    assert audio_end == pytest.approx(end, abs=1 / fps)
    assert [p.name for p in out_dir.iterdir()] == [name]
