"""Video reading: constant 30 fps picked by presentation time (VFR, 25/60 fps), windows, padding, sizes, rotation."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from egosonics.errors import MediaError
from egosonics.media.video import read_frames, write_video
from tests.conftest import display_matrix, frame_index, numbered_frames, patch_track_matrix, unknown_codec_copy

TICK = Fraction(1, 90_000)


def frame_times(path: Path) -> list[Fraction]:
    """Exact presentation times of the decoded frames, in decoding output (presentation) order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [Fraction(frame.pts) * frame.time_base for frame in container.decode(stream)]


def nearest(times: list[Fraction], target: Fraction) -> int:
    """Index of the frame nearest to ``target``; a tie goes to the earlier frame (as ``read_frames`` documents)."""
    return min(range(len(times)), key=lambda i: (abs(times[i] - target), i))


def expected_indices(times: list[Fraction], start: Fraction, count: int, fps: int = 30) -> list[int]:
    return [nearest(times, start + Fraction(k, fps)) for k in range(count)]


def write_vfr(path: Path, ticks: list[int], size: tuple[int, int] = (64, 80)) -> Path:
    """An H.264 MP4 whose frame i (brightness = index) is presented at ticks[i] / 90,000 s."""
    frames = numbered_frames(len(ticks), *size)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = size[1], size[0], "yuv420p"
        stream.time_base = TICK
        stream.codec_context.time_base = TICK
        for tick, rgb in zip(ticks, frames, strict=True):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = tick, TICK
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("video")


@pytest.fixture(scope="module")
def vfr_video(media: Path) -> tuple[Path, list[int]]:
    # Irregular gaps (in 1/90,000 s; 3,000 = one output frame at 30 fps): bursts that skip frames, drops that repeat
    # them, and gaps of 1,500/4,500 whose midpoints fall exactly on output frame times (ties).
    rng = np.random.default_rng(7)
    gaps = rng.choice([990, 1500, 2250, 3000, 4500, 7500], size=47)
    ticks = [0, *np.cumsum(gaps).tolist()]
    return write_vfr(media / "vfr.mp4", ticks), ticks


@pytest.fixture(scope="module")
def rate_video(media: Path):
    """A cache of numbered-frame H.264 videos at a given rate, 10-frame GOPs so that seeking lands mid-file."""
    made: dict[tuple[float, int], Path] = {}

    def make(rate: float, count: int) -> Path:
        if (rate, count) not in made:
            made[rate, count] = media / f"rate{rate:g}x{count}.mp4"
            write_video(made[rate, count], numbered_frames(count), rate, options={"g": "10"})
        return made[rate, count]

    return make


def test_vfr_source_gives_the_frame_nearest_in_time(vfr_video: tuple[Path, list[int]]) -> None:
    path, ticks = vfr_video
    times = frame_times(path)
    assert times == [tick * TICK for tick in ticks]  # the file really holds the irregular timestamps
    clip = read_frames(path, duration_s=None)
    count = round(float(times[-1]) * 30) + 1
    assert clip.fps == 30 and abs(len(clip.frames) - count) <= 3
    got = [frame_index(frame) for frame in clip.frames[: clip.num_valid]]
    want = expected_indices(times, Fraction(0), clip.num_valid)
    assert got == want
    # The fixture exercises every case: skipped source frames, repeated ones, and exact ties.
    assert set(range(len(ticks))) - set(got), "no source frame was skipped"
    assert any(a == b for a, b in itertools.pairwise(got)), "no source frame was repeated"
    ties = [k for k in range(clip.num_valid) for i in range(len(ticks) - 1)
            if (ticks[i] + ticks[i + 1]) == 2 * 3000 * k]
    assert ties, "no target fell exactly between two frames"


@pytest.mark.parametrize(("rate", "count", "first"), [
    (25, 50, [0, 1, 2, 2, 3, 4, 5, 6, 7, 7, 8, 9]),  # 5k/6, ties (k = 3, 9) to the earlier frame
    (60, 60, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]),  # every other frame
    (15, 30, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),  # each frame twice; odd targets are ties
    (30000 / 1001, 60, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
])
def test_constant_rate_source_resampled_to_30_fps(rate_video, rate: float, count: int, first: list[int]) -> None:
    path = rate_video(rate, count)
    times = frame_times(path)
    clip = read_frames(path, duration_s=None)
    assert clip.source_fps == pytest.approx(rate, rel=1e-3)
    assert len(clip.frames) == round(count / rate * 30) == clip.num_valid
    got = [frame_index(frame) for frame in clip.frames]
    assert got[:12] == first
    assert got == expected_indices(times, Fraction(0), len(got))


@pytest.mark.parametrize(("rate", "start_s"), [  # above 1 s read_frames seeks
    (25, 0.5), (25, 1.2), (25, 1.5), (25, 2.1), (60, 0.3), (60, 0.75), (60, 1.2),
])
def test_window_with_start_and_seeking(rate_video, rate: int, start_s: float) -> None:
    path = rate_video(rate, 60)  # 2.4 s at 25 fps (10-frame GOPs), 1 s at 60 fps; 60 numbered frames tell apart
    times = frame_times(path)
    clip = read_frames(path, start_s=start_s, duration_s=0.5)
    assert clip.start_s == start_s and len(clip.frames) == 15
    end = float(times[-1]) + 1 / rate
    assert clip.num_valid == sum(start_s + k / 30 < end - 1e-9 for k in range(15))
    got = [frame_index(frame) for frame in clip.frames]
    want = expected_indices(times, Fraction(start_s).limit_denominator(1000), 15)
    assert got == want


def test_window_equals_the_same_frames_of_a_full_read(rate_video) -> None:
    path = rate_video(25, 60)
    full = read_frames(path, duration_s=None)
    part = read_frames(path, start_s=1.5, duration_s=0.8)  # seeks
    np.testing.assert_array_equal(part.frames, full.frames[45:69])


def test_window_past_the_end_is_padded_with_the_last_frame(rate_video) -> None:
    path = rate_video(25, 50)  # 2.0 s, last frame shown 1.96-2.00 s
    clip = read_frames(path, start_s=1.5, duration_s=1.0)
    assert len(clip.frames) == 30 and clip.duration_s == pytest.approx(1.0)
    assert clip.num_valid == 15  # targets 1.5 ... 1.9667 s lie inside the video
    assert [frame_index(f) for f in clip.frames[15:]] == [49] * 15
    np.testing.assert_array_equal(clip.frames[14], clip.frames[29])

    beyond = read_frames(path, start_s=5.0, duration_s=0.5)  # wholly after the end: all padding
    assert beyond.num_valid == 0 and len(beyond.frames) == 15
    assert {frame_index(f) for f in beyond.frames} == {49}

    to_end = read_frames(path, start_s=1.0, duration_s=None)
    assert len(to_end.frames) == to_end.num_valid == 30


def test_default_window_is_10_s_at_30_fps(rate_video) -> None:
    clip = read_frames(rate_video(25, 50))
    assert clip.frames.shape == (300, 64, 80, 3) and clip.frames.dtype == np.uint8
    assert clip.num_valid == 60


def gradient(height: int, width: int, count: int = 4) -> np.ndarray:
    """Red grows to the right, green downwards: any misplacement of rows or columns shows."""
    yy, xx = np.mgrid[0:height, 0:width]
    frame = np.stack([xx * 255 // (width - 1), yy * 255 // (height - 1), np.full_like(xx, 100)], axis=-1)
    return np.repeat(frame[None].astype(np.uint8), count, axis=0)


@pytest.mark.parametrize(("codec", "pixel_format", "suffix"), [
    ("libx264", "yuv444p", ".mp4"),
    ("libvpx-vp9", "yuv444p", ".webm"),
    ("mpeg4", "yuv420p", ".mkv"),
])
def test_odd_frame_size(media: Path, codec: str, pixel_format: str, suffix: str) -> None:
    source = gradient(97, 161)
    path = media / f"odd_{codec}{suffix}"
    write_video(path, source, 30, video_codec=codec, pixel_format=pixel_format)
    clip = read_frames(path, duration_s=None)
    assert clip.frames.shape == (4, 97, 161, 3)
    assert np.abs(clip.frames.astype(int) - source.astype(int)).mean() < 3


def test_odd_size_that_the_encoder_refuses_is_a_clear_error(out_dir: Path) -> None:
    with pytest.raises(MediaError, match=r"161x97"):
        write_video(out_dir / "odd.mp4", gradient(97, 161), 30)  # H.264 4:2:0 needs even sizes
    assert list(out_dir.iterdir()) == []


def area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BOX))


@pytest.fixture(scope="module")
def odd_video(media: Path) -> Path:
    path = media / "odd_resize.mp4"
    write_video(path, gradient(97, 161), 30, pixel_format="yuv444p")
    return path


@pytest.mark.parametrize(("size", "shape"), [(64, (64, 64)), ((48, 96), (48, 96)), ((97, 50), (97, 50))])
def test_resize_while_decoding(odd_video: Path, size, shape: tuple[int, int]) -> None:
    full = read_frames(odd_video, duration_s=0.1).frames[0]
    clip = read_frames(odd_video, duration_s=0.1, size=size)
    assert clip.frames.shape == (3, *shape, 3)
    assert np.abs(clip.frames[0].astype(int) - area_resize(full, *shape).astype(int)).mean() < 4


@pytest.mark.parametrize("size", [(40, 40), (30, 100), 32])
def test_resize_with_crop_keeps_the_aspect_ratio(odd_video: Path, size) -> None:
    full = read_frames(odd_video, duration_s=0.1).frames[0]  # 97 x 161
    out_h, out_w = (size, size) if isinstance(size, int) else size
    scale = max(out_w / 161, out_h / 97)
    cover_h, cover_w = max(out_h, round(97 * scale)), max(out_w, round(161 * scale))
    top, left = (cover_h - out_h) // 2, (cover_w - out_w) // 2
    want = area_resize(full, cover_h, cover_w)[top:top + out_h, left:left + out_w]
    clip = read_frames(odd_video, duration_s=0.1, size=size, crop=True)
    assert clip.frames.shape == (3, out_h, out_w, 3)
    assert np.abs(clip.frames[0].astype(int) - want.astype(int)).mean() < 4


# ------------------------------------------------------------------------------------------------ rotation

def quadrants(height: int = 64, width: int = 96) -> np.ndarray:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    image = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    image[:h, :w] = (255, 0, 0)
    image[:h, w:] = (0, 255, 0)
    image[h:, :w] = (0, 0, 255)
    image[h:, w:] = (255, 255, 255)
    return image


def as_displayed(image: np.ndarray, a: int, b: int, c: int, d: int) -> np.ndarray:
    """Where each pixel lands under the display matrix, by the ISO/IEC 14496-12 formula (x' = a·x + c·y, y' = b·x +
    d·y, y down; translation only moves the picture back into view). Independent of PyAV and of np.rot90."""
    height, width = image.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width]
    x2, y2 = a * xx + c * yy, b * xx + d * yy
    x2, y2 = x2 - x2.min(), y2 - y2.min()
    out = np.zeros((y2.max() + 1, x2.max() + 1, 3), np.uint8)
    out[y2, x2] = image[yy, xx]
    return out


# (a, b, c, d) and the angle PyAV documents for VideoFrame.rotation: "the angle by which the transformation rotates the
# frame counterclockwise". A phone held upright writes (0, 1, -1, 0): shown turned 90° clockwise, i.e. -90.
ROTATIONS = {
    "cw90-phone-portrait": ((0, 1, -1, 0), -90),
    "ccw90": ((0, -1, 1, 0), 90),
    "180": ((-1, 0, 0, -1), 180),
}


@pytest.fixture(scope="module")
def plain_mp4(media: Path) -> Path:
    path = media / "quadrants.mp4"
    write_video(path, np.repeat(quadrants()[None], 3, axis=0), 30, pixel_format="yuv444p")
    return path


@pytest.mark.parametrize("name", list(ROTATIONS))
def test_rotated_mp4_comes_out_as_a_player_shows_it(plain_mp4: Path, out_dir: Path, name: str) -> None:
    (a, b, c, d), angle = ROTATIONS[name]
    coded_h, coded_w = 64, 96
    tx = coded_h if (a, b) == (0, 1) else coded_w if a == -1 else 0
    ty = coded_w if (a, b) == (0, -1) else coded_h if a == -1 else 0
    path = patch_track_matrix(plain_mp4, out_dir / f"{name}.mp4", display_matrix(a, b, c, d, tx, ty))

    with av.open(str(path)) as container:  # PyAV reads the matrix we wrote with the documented sign
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (coded_w, coded_h)
        assert abs(frame.rotation) == 180 if angle == 180 else frame.rotation == angle

    want = as_displayed(quadrants(coded_h, coded_w), a, b, c, d)
    clip = read_frames(path, duration_s=0.1)
    assert clip.frames.shape[1:] == want.shape
    assert np.abs(clip.frames[0].astype(int) - want.astype(int)).mean() < 3
    # Sizes are in displayed orientation: half of the displayed height and width.
    half = (want.shape[0] // 2, want.shape[1] // 2)
    small = read_frames(path, duration_s=0.1, size=half)
    assert small.frames.shape[1:3] == half
    assert np.abs(small.frames[0].astype(int) - area_resize(want, *half).astype(int)).mean() < 6
    square = read_frames(path, duration_s=0.1, size=32, crop=True)
    assert square.frames.shape[1:3] == (32, 32)


def test_phone_portrait_corners(plain_mp4: Path, out_dir: Path) -> None:
    """Spelled out for the common case: a landscape-coded frame shown upright, turned 90° clockwise."""
    path = patch_track_matrix(plain_mp4, out_dir / "portrait.mp4", display_matrix(0, 1, -1, 0, 64, 0))
    frame = read_frames(path, duration_s=0.1).frames[0]
    assert frame.shape == (96, 64, 3)  # portrait
    corners = {name: tuple(int(v) for v in frame[y, x]) for name, (y, x) in
               {"top-left": (5, 5), "top-right": (5, 58), "bottom-left": (90, 5), "bottom-right": (90, 58)}.items()}
    # Clockwise: the coded bottom-left (blue) goes to the top-left, the coded top-left (red) to the top-right.
    assert np.allclose(corners["top-left"], (0, 0, 255), atol=12)
    assert np.allclose(corners["top-right"], (255, 0, 0), atol=12)
    assert np.allclose(corners["bottom-left"], (255, 255, 255), atol=12)
    assert np.allclose(corners["bottom-right"], (0, 255, 0), atol=12)


# ------------------------------------------------------------------------------------------------ errors

def test_argument_errors_repeat_the_value(rate_video) -> None:
    path = rate_video(25, 50)
    with pytest.raises(ValueError, match="-1"):
        read_frames(path, fps=-1)
    with pytest.raises(ValueError, match=r"-0\.5"):
        read_frames(path, start_s=-0.5)


def test_pixel_limit_refuses_before_decoding(rate_video, monkeypatch: pytest.MonkeyPatch) -> None:
    path = rate_video(25, 50)
    monkeypatch.setenv("EGOSONICS_MAX_PIXELS", str(80 * 64 - 1))
    with pytest.raises(MediaError, match=r"80x64 exceed the decoding limit") as info:
        read_frames(path)
    assert str(path) in str(info.value)
    monkeypatch.setenv("EGOSONICS_MAX_PIXELS", str(80 * 64))
    assert read_frames(path, duration_s=0.1).frames.shape == (3, 64, 80, 3)


def test_unknown_codec_is_a_media_error(rate_video, out_dir: Path) -> None:
    path = unknown_codec_copy(rate_video(25, 50), out_dir / "zzzz.mp4")
    with pytest.raises(MediaError, match="unknown codec"):
        read_frames(path)


def test_truncated_file_with_index_first_is_an_error_only_where_frames_are_missing(out_dir: Path) -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (60, 64, 80, 3), np.uint8)  # noise: a large file, cut in its middle
    path = out_dir / "faststart.mp4"
    write_video(path, frames, 30, container_options={"movflags": "+faststart"})
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    cut = out_dir / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match=r"truncated.*header declares 2.00 s") as info:
        read_frames(cut, duration_s=None)
    assert str(cut) in str(info.value)
    assert read_frames(cut, duration_s=0.3).num_valid == 9  # the intact first part still reads


def test_no_video_stream_and_no_frames(out_dir: Path) -> None:
    audio_only = out_dir / "audio.mkv"
    with av.open(str(audio_only), "w") as out:
        from egosonics.media.audio import encode_audio

        encode_audio(out, out.add_stream("aac", rate=22050, layout="mono"), np.zeros(2205, np.float32), 22050)
    with pytest.raises(MediaError, match="has no video stream"):
        read_frames(audio_only)
    empty = out_dir / "empty.mkv"
    write_video(empty, np.zeros((0, 64, 80, 3), np.uint8), 30, audio=np.zeros(2205, np.float32))  # no frames
    with av.open(str(empty)) as container:
        assert len(container.streams.video) == 1
    with pytest.raises(MediaError, match="no decodable video frames"):
        read_frames(empty)


def test_write_video_is_atomic_and_checks_frames(out_dir: Path) -> None:
    with pytest.raises(ValueError, match="float64"):
        write_video(out_dir / "bad.mp4", np.zeros((2, 8, 8, 3)), 30)
    with pytest.raises(ValueError, match=r"\(2, 8, 8\)"):
        write_video(out_dir / "bad.mp4", np.zeros((2, 8, 8), np.uint8), 30)
    assert list(out_dir.iterdir()) == []
