"""Video decoding at a constant frame rate chosen by presentation timestamps, the video stream's span from its
packets, and writing test/synthetic videos.

Frames are resized by libswscale while each frame is converted, so a 4K source never exists as a full-size RGB array;
only the decoder's own YUV frame is full size. Variable-frame-rate sources are handled because every output frame is
picked by its time, not by its index.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.errors import MediaError
from egosonics.media.audio import encode_audio, encoder_rate
from egosonics.media.files import (
    check_coverage,
    container_start_s,
    declared_end_s,
    decode_error,
    open_input,
    seconds,
    video_stream,
)
from egosonics.utils.output import atomic_output

log = logging.getLogger(__name__)

# Two times closer than this count as equal, so that a target exactly midway between two frames goes to the earlier
# one whatever the float rounding of the timestamps (frame times are exact fractions, targets are floats).
_TIE_S = 1e-6


@dataclass
class VideoClip:
    """Frames of one time window.

    Attributes:
        frames: uint8 RGB frames, shape [N, H, W, 3], N = round(duration_s * fps).
        fps: the constant output frame rate.
        start_s: time of frames[0] relative to the file's start.
        num_valid: frames that lie inside the video; frames after them repeat the last decoded frame (padding).
        source_fps: the source's average frame rate (None when the container does not say).
    """

    frames: np.ndarray
    fps: float
    start_s: float
    num_valid: int
    source_fps: float | None = None

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps


def _output_geometry(frame: av.VideoFrame, size: int | tuple[int, int] | None,
                     crop: bool) -> tuple[int, int, tuple[int, int] | None]:
    """Scaler (width, height) in coded orientation, and the final (height, width) centre crop, if any.

    ``size`` is given in displayed orientation, so for a frame rotated by 90 or 270 degrees the scaler's axes swap.
    """
    quarter_turns = round((frame.rotation or 0) / 90) % 4
    width, height = (frame.height, frame.width) if quarter_turns % 2 else (frame.width, frame.height)  # displayed
    if size is None:
        scaled_w, scaled_h, final = width, height, None
    else:
        out_h, out_w = (size, size) if isinstance(size, int) else size
        if crop:  # scale to cover the output, then crop the centre
            scale = max(out_w / width, out_h / height)
            scaled_w, scaled_h = max(out_w, round(width * scale)), max(out_h, round(height * scale))
            final = (out_h, out_w)
        else:
            scaled_w, scaled_h, final = out_w, out_h, None
    return (scaled_h, scaled_w, final) if quarter_turns % 2 else (scaled_w, scaled_h, final)


def _to_array(frame: av.VideoFrame, width: int, height: int, crop: tuple[int, int] | None,
              reformatter: VideoReformatter) -> np.ndarray:
    """Resize (swscale, area filter) and convert one decoded frame, then rotate and crop it as displayed.

    One ``reformatter`` serves a whole stream: it keeps its swscale context, whose set-up (the area filter's
    coefficients for a large source) costs several times the conversion itself.
    """
    rgb = reformatter.reformat(frame, width=width, height=height, format="rgb24",
                               interpolation="AREA").to_ndarray()  # [h, w, 3]
    rotation = round((frame.rotation or 0) / 90) % 4
    if rotation:
        rgb = np.rot90(rgb, k=rotation)  # counter-clockwise, as the display matrix says
    if crop is not None:
        out_h, out_w = crop
        top, left = (rgb.shape[0] - out_h) // 2, (rgb.shape[1] - out_w) // 2
        rgb = rgb[top:top + out_h, left:left + out_w]
    return np.ascontiguousarray(rgb)


class FrameStream:
    """The frames of a time window at a constant frame rate, decoded and yielded one at a time (flat memory).

    Iterating opens the file, decodes in order and yields uint8 RGB frames [H, W, 3] (read-only: a frame may be yielded
    more than once when the source's rate is lower); at most two decoded frames are held at any time. After the
    iteration ``num_frames``, ``num_valid`` and ``source_fps`` say what ``read_frames`` reports. Arguments as for
    ``read_frames``.
    """

    def __init__(self, path: str | os.PathLike[str], *, start_s: float = 0.0,
                 duration_s: float | None = DEFAULT_CLIP.duration_s, fps: float = DEFAULT_CLIP.fps,
                 size: int | tuple[int, int] | None = None, crop: bool = False) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if start_s < 0:
            raise ValueError(f"start_s must be >= 0, got {start_s}")
        self.path, self.start_s, self.duration_s, self.fps = path, start_s, duration_s, fps
        self.size, self.crop = size, crop
        self.num_frames: int | None = None
        self.num_valid: int | None = None
        self.source_fps: float | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        path, start_s, fps = self.path, self.start_s, self.fps
        with open_input(path) as container:
            stream = video_stream(container, path, decode=True)
            stream.thread_type = "AUTO"  # frame and slice threads
            origin = container_start_s(container)
            duration_s = self.duration_s
            if duration_s is None:
                total_s = _stream_duration_s(container, stream)
                if total_s is None:
                    raise MediaError(path, "duration unknown; give an explicit duration")
                duration_s = max(total_s - start_s, 0.0)
            num = self.num_frames = round(duration_s * fps)
            self.source_fps = float(stream.average_rate) if stream.average_rate else None
            if start_s > 1.0:
                container.seek(round((start_s + origin - 1.0) / stream.time_base), stream=stream, backward=True)

            geometry: tuple[int, int, tuple[int, int] | None] | None = None
            reformatter = VideoReformatter()
            prev: av.VideoFrame | None = None
            prev_t = -math.inf
            prev_rgb: np.ndarray | None = None
            frame_step = 1.0 / float(stream.average_rate) if stream.average_rate else 1.0 / fps
            k = 0
            try:
                for frame in container.decode(stream):
                    t = seconds(frame.pts, frame.time_base)
                    t = (t - origin) if t is not None else (prev_t + frame_step if prev is not None else 0.0)
                    if geometry is None:
                        geometry = _output_geometry(frame, self.size, self.crop)
                    # Every target nearer to the previous frame than to this one takes the previous frame.
                    while k < num and prev is not None and start_s + k / fps <= (prev_t + t) / 2 + _TIE_S:
                        if prev_rgb is None:
                            prev_rgb = _to_array(prev, *geometry, reformatter)
                        yield prev_rgb
                        k += 1
                    # Targets before the first frame take the first frame.
                    while k < num and prev is None and start_s + k / fps <= t:
                        yield _to_array(frame, *geometry, reformatter)
                        k += 1
                    if prev is not None and t > prev_t:
                        frame_step = t - prev_t  # the last interval, used for the end of the last frame
                    prev, prev_t, prev_rgb = frame, t, None
                    if k >= num:
                        break
            except av.error.FFmpegError as exc:
                if prev is None:
                    raise decode_error(path, exc) from None
                log.warning("%s: decoding stopped early at %.2f s (%s)", path, prev_t, exc)
            if prev is None:
                raise MediaError(path, "has no decodable video frames")
            # The last frame covers targets up to its end; later targets are padding.
            num_valid = k
            end_t = prev_t + frame_step
            while num_valid < num and start_s + num_valid / fps < end_t - 1e-9:
                num_valid += 1
            self.num_valid = num_valid
            if k < num:
                # Decoding ended inside the window: fine past the video's end, a truncated file before it.
                check_coverage(path, "video", end_t, start_s + duration_s, declared_end_s(container, stream))
                last = prev_rgb if prev_rgb is not None else _to_array(prev, *geometry, reformatter)
                for _ in range(num - k):
                    yield last


def read_frames(
    path: str | os.PathLike[str],
    *,
    start_s: float = 0.0,
    duration_s: float | None = DEFAULT_CLIP.duration_s,
    fps: float = DEFAULT_CLIP.fps,
    size: int | tuple[int, int] | None = None,
    crop: bool = False,
) -> VideoClip:
    """Decode the frames of a time window at a constant frame rate.

    Output frame k shows the source frame whose presentation time is nearest to ``start_s + k / fps`` (ties go to the
    earlier frame), which is what ffmpeg's ``fps`` filter does. Frames past the end of the video repeat the last one;
    ``num_valid`` counts those that do not. ``FrameStream`` yields the same frames one at a time.

    Args:
        path: any container/codec PyAV decodes.
        start_s: window start in seconds from the start of the file.
        duration_s: window length; None reads to the end of the video.
        fps: output frame rate.
        size: output size, an int for a square or (height, width); None keeps the displayed size.
        crop: scale to cover ``size`` and crop the centre instead of stretching.

    Returns:
        A ``VideoClip`` with frames [N, H, W, 3] uint8.
    """
    stream = FrameStream(path, start_s=start_s, duration_s=duration_s, fps=fps, size=size, crop=crop)
    frames = list(stream)
    out = np.stack(frames) if frames else np.zeros((0, 1, 1, 3), np.uint8)  # [N, H, W, 3]
    return VideoClip(frames=out, fps=fps, start_s=start_s, num_valid=stream.num_valid or 0,
                     source_fps=stream.source_fps)


def _stream_duration_s(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def write_video(
    path: str | os.PathLike[str],
    frames: np.ndarray,
    fps: float,
    *,
    audio: np.ndarray | None = None,
    sample_rate: int = DEFAULT_CLIP.sample_rate,
    video_codec: str = "libx264",
    audio_codec: str = "aac",
    pixel_format: str = "yuv420p",
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
) -> None:
    """Encode RGB frames [N, H, W, 3] (and an optional mono waveform) into a video file, atomically.

    Used by the synthetic-scene generator, the demo and the tests. Odd sizes are allowed with a pixel format that
    allows them (H.264 in 4:2:0 needs even sizes; ``yuv444p`` does not). ``options`` go to the video encoder
    (``{"preset": "ultrafast"}``), ``container_options`` to the muxer (``{"movflags": "+faststart"}`` puts an MP4's
    index first). Zero frames give a file with a video stream and no frames. The audio is encoded at the nearest rate
    the codec supports (Opus: 24 or 48 kHz).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 [N, H, W, 3], got {frames.dtype} {frames.shape}")
    height, width = frames.shape[1:3]
    with atomic_output(path) as tmp, av.open(str(tmp), mode="w", container_options=container_options or {}) as out:
        vstream = out.add_stream(video_codec, rate=Fraction(fps).limit_denominator(1001))
        vstream.width, vstream.height = width, height
        vstream.pix_fmt = pixel_format
        if options:
            vstream.options = options
        astream = None
        if audio is not None:
            astream = out.add_stream(audio_codec, rate=encoder_rate(audio_codec, sample_rate), layout="mono")
        try:
            out.start_encoding()  # opens the encoders and writes the header even when no frame follows
        except av.error.FFmpegError as exc:
            with_audio = f" with {audio_codec} audio at {astream.rate} Hz" if astream is not None else ""
            raise MediaError(path, f"cannot encode {video_codec} {pixel_format} at {width}x{height}{with_audio} "
                                   f"({getattr(exc, 'strerror', None) or exc})") from None
        for rgb in frames:
            for packet in vstream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in vstream.encode(None):
            out.mux(packet)
        if astream is not None:
            encode_audio(out, astream, np.asarray(audio, np.float32), sample_rate)


def video_span_s(path: str | os.PathLike[str]) -> tuple[float, float]:
    """Start and end of the first video stream's presentation, in seconds from the file's time origin.

    Read from the packets' timestamps (demux only, no decoding): from the first packet's presentation time to the last
    one's end. The origin is the start of the earliest stream, the clock ``read_frames`` and ``read_audio`` use.

    Raises:
        MediaError: no video stream, an unknown codec, no frames, or a truncated file (the packets stop before the
            length the header declares).
    """
    with open_input(path) as container:
        first, end = _packet_span(container, path)
        return first - container_start_s(container), end - container_start_s(container)


def video_duration_s(path: str | os.PathLike[str]) -> float:
    """Duration of the first video stream from its packets' timestamps (demux only, no decoding).

    This is the time the video is shown: from the first packet's presentation time to the last one's end.
    """
    start, end = video_span_s(path)
    return end - start


def _packet_span(container: av.container.InputContainer, path: str | os.PathLike[str]) -> tuple[float, float]:
    """(first presentation time, end of the last frame) of the first video stream, in seconds on the file's clock."""
    stream = video_stream(container, path, decode=False)
    first, end = None, None
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            start = float(packet.pts * packet.time_base)
            stop = start + float((packet.duration or 0) * packet.time_base)
            first = start if first is None else min(first, start)
            end = stop if end is None else max(end, stop)
    except av.error.FFmpegError as exc:
        raise decode_error(path, exc) from None
    if first is None or end is None or end <= first:
        raise MediaError(path, "has no video frames")
    origin = container_start_s(container)
    check_coverage(path, "video", end - origin, math.inf, declared_end_s(container, stream))
    return first, end
