"""One ``generate`` opens its input three times whatever its length: to probe it, to decode all its windows in one
in-order pass, and to copy its video stream."""

from __future__ import annotations

import av
import numpy as np

from egosonics.generate import GenerateOptions, generate_files
from egosonics.media.video import write_video
from egosonics.media.windows import split_windows
from egosonics.pipeline import EgoSonicsPipeline


def test_generate_opens_the_input_to_probe_decode_once_and_mux(tmp_path, monkeypatch):
    src = tmp_path / "long.mp4"
    frames = np.zeros((25 * 15, 48, 64, 3), np.uint8)  # 25 s at 15 fps
    frames[..., 1] = (np.arange(len(frames)) * 7 % 256)[:, None, None]
    write_video(src, frames, 15)
    pipe = EgoSonicsPipeline.from_preset("tiny", seed=0)
    options = GenerateOptions(steps=1, guidance=1.0, griffin_lim_iters=1, batch_size=2, overlap_s=2.0)
    windows = split_windows(25.0, window_s=pipe.clip_spec.duration_s, hop_s=pipe.clip_spec.duration_s - 2.0)
    assert len(windows) == 3  # a multi-window clip, in two batches

    opened: list[str] = []
    real_open = av.open

    def counting_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", counting_open)
    report = generate_files(pipe, [src], tmp_path / "out.mp4", options)
    assert report.written == [tmp_path / "out.mp4"] and not report.failed
    # video_span_s (the probe), one FrameStream decoding every window in order, and mux_audio copying the packets (it
    # takes the probed span instead of reading the file through again): not one open per window.
    assert opened.count(str(src)) == 3
