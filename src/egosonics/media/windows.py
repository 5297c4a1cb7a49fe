"""Splitting any duration into model windows (10 s by default), and a stream of frames into those windows; no I/O."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from egosonics.clip_spec import DEFAULT_CLIP


@dataclass(frozen=True)
class Window:
    """One window of a longer recording.

    Attributes:
        index: position in the sequence.
        start_s: start time in seconds.
        duration_s: the window's full length (what the model sees; the tail past ``valid_s`` is padding).
        valid_s: the true length of media inside the window (shorter than ``duration_s`` only for the last one).
    """

    index: int
    start_s: float
    duration_s: float
    valid_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.valid_s

    @property
    def padded(self) -> bool:
        return self.valid_s < self.duration_s - 1e-9


def split_windows(total_s: float, *, window_s: float = DEFAULT_CLIP.duration_s,
                  hop_s: float | None = None) -> list[Window]:
    """Cover ``[0, total_s)`` with windows of ``window_s``, starting every ``hop_s`` (default: no overlap).

    The last window is padded and records its true length. With overlap (``hop_s < window_s``), no window starts
    after the point where the previous one already reaches the end.

    Raises:
        ValueError: for a non-positive or non-finite duration, window or hop, or a hop longer than the window (gaps).
    """
    hop_s = window_s if hop_s is None else hop_s
    if not (total_s > 0 and math.isfinite(total_s)):
        raise ValueError(f"duration must be positive and finite, got {total_s} s")
    if not (window_s > 0 and hop_s > 0 and math.isfinite(window_s) and math.isfinite(hop_s)):
        raise ValueError(f"window and hop must be positive and finite, got window {window_s} s, hop {hop_s} s")
    if hop_s > window_s:
        raise ValueError(f"hop {hop_s} s is longer than the window {window_s} s: the windows would leave gaps")
    count = 1 if total_s <= window_s else 1 + math.ceil((total_s - window_s) / hop_s - 1e-9)
    windows = []
    for i in range(count):
        start = i * hop_s
        windows.append(Window(index=i, start_s=start, duration_s=window_s, valid_s=min(window_s, total_s - start)))
    return windows


def window_frames(frames: Iterable[np.ndarray], windows: Sequence[Window], fps: float) -> Iterator[np.ndarray]:
    """Cut one in-order stream of frames at ``fps`` (frame k at k / fps) into each window's frames [N, H, W, 3].

    Window i gets frames ``round(start_s · fps)`` to that + ``round(duration_s · fps)``: frames shared by overlapping
    windows are decoded once, and at most one window's frames are held besides the array yielded. The stream must
    reach the end of the last window (``FrameStream`` pads past the end of the video).

    Raises:
        ValueError: windows out of order, or the stream ends before the last window does.
    """
    held: deque[np.ndarray] = deque()  # frames [first, first + len(held))
    first = 0
    source = iter(frames)
    for window in windows:
        start, count = round(window.start_s * fps), round(window.duration_s * fps)
        if start < first:
            raise ValueError(f"window {window.index} starts at frame {start}, before frame {first}: out of order")
        while held and first < start:
            held.popleft()
            first += 1
        while first + len(held) < start + count:
            frame = next(source, None)
            if frame is None:
                raise ValueError(f"the frames end at frame {first + len(held)}, before window {window.index} does "
                                 f"(frame {start + count})")
            if first + len(held) < start:  # a gap between windows: skip the frame
                first += 1
                continue
            held.append(frame)
        yield np.stack(list(held)[:count])  # [count, H, W, 3]
