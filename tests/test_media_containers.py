"""The container matrix: AV1, VP9, HEVC and H.264 copied into MP4, Matroska and MOV wherever FFmpeg's muxers accept
them, the video packets byte for byte; a pair they refuse gets one line naming the extensions that would work."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from egosonics.errors import MediaError
from egosonics.media.mux import mux_audio
from egosonics.media.video import write_video
from tests.conftest import clicks, video_packets

SR = 22_050
FPS, FRAMES = 24, 36

# Encoders per codec, first available wins (PyAV's wheels bundle SVT-AV1 for AV1; libaom and rav1e when built in).
ENCODERS = {
    "av1": ("libsvtav1", "libaom-av1", "librav1e"),
    "vp9": ("libvpx-vp9",),
    "hevc": ("libx265",),
    "h264": ("libx264",),
    "vp8": ("libvpx",),
}
# What FFmpeg's muxers refuse for stream copy: VP8 has no MP4 or QuickTime mapping; the mov muxer takes VP9 and AV1
# only in its MP4 mode. Every other pair below must be copied.
REFUSED = {("vp8", ".mp4"), ("vp8", ".mov"), ("vp9", ".mov"), ("av1", ".mov")}
OUTPUTS = (".mp4", ".mkv", ".mov")


def encoder_for(codec: str) -> str:
    for name in ENCODERS[codec]:
        try:
            av.codec.Codec(name, "w")
        except (av.error.FFmpegError, ValueError):  # UnknownCodecError is a ValueError
            continue
        return name
    pytest.skip(f"PyAV's FFmpeg has no {codec} encoder here (tried {', '.join(ENCODERS[codec])})")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Per codec, a 1.5 s 64 x 64 clip with AAC audio, in MP4 where MP4 holds the codec (else Matroska)."""
    folder = tmp_path_factory.mktemp("codecs")
    rng = np.random.default_rng(0)
    frames = np.repeat(rng.integers(0, 255, (FRAMES, 8, 8, 3), np.uint8), 8, axis=1).repeat(8, axis=2)
    made: dict[str, Path] = {}
    for codec in ENCODERS:
        try:
            encoder = encoder_for(codec)
        except pytest.skip.Exception:
            continue
        path = folder / f"{codec}{'.mkv' if codec == 'vp8' else '.mp4'}"
        write_video(path, frames, FPS, audio=clicks([0.5], FRAMES * SR // FPS), sample_rate=SR, video_codec=encoder)
        made[codec] = path
    return made


def source(sources: dict[str, Path], codec: str) -> Path:
    if codec not in sources:
        encoder_for(codec)  # skips with the reason
    return sources[codec]


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize("out_ext", OUTPUTS)
@pytest.mark.parametrize("codec", ["av1", "vp9", "hevc", "h264"])
def test_codec_copied_into_container(sources: dict[str, Path], out_dir: Path, codec: str, out_ext: str) -> None:
    src = source(sources, codec)
    out = out_dir / f"out{out_ext}"
    with av.open(str(src)) as container:  # the source really holds the codec under test
        assert container.streams.video[0].codec_context.codec.canonical_name == codec
    if (codec, out_ext) in REFUSED:
        with pytest.raises(MediaError) as info:
            mux_audio(src, clicks([0.2], SR), SR, out)
        message = str(info.value)
        assert "\n" not in message and f"cannot hold {codec} video" in message
        assert "write .mp4, .mkv or .webm instead" in message
        assert list(out_dir.iterdir()) == []
        return
    assert mux_audio(src, clicks([0.2], SR), SR, out) == out
    assert video_packets(out) == video_packets(src)
    assert decoded_frames(out) == decoded_frames(src) == FRAMES
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.codec.canonical_name == codec
        assert [s.type for s in container.streams] == ["video", "audio"]


@pytest.mark.parametrize("out_ext", [".mp4", ".mov"])
def test_vp8_refusal_names_the_extensions_that_work(sources: dict[str, Path], out_dir: Path, out_ext: str) -> None:
    src = source(sources, "vp8")
    out = out_dir / f"out{out_ext}"
    with pytest.raises(MediaError) as info:
        mux_audio(src, clicks([0.2], SR), SR, out)
    assert str(info.value).startswith(f"{out}: a {out_ext} file cannot hold vp8 video with aac audio")
    assert str(info.value).endswith("; write .mkv or .webm instead")
    assert list(out_dir.iterdir()) == []
    # and the suggestion is true
    for ext in (".mkv", ".webm"):
        mux_audio(src, clicks([0.2], SR), SR, out_dir / f"ok{ext}")
        assert video_packets(out_dir / f"ok{ext}") == video_packets(src)
