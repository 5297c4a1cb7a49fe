"""Splitting any duration into 10 s model windows: counts, padding of the last one, overlap, errors."""

from __future__ import annotations

import itertools
import math

import pytest

from egosonics.media.windows import Window, split_windows


@pytest.mark.parametrize(("total", "starts", "last_valid"), [
    (0.5, [0.0], 0.5),
    (10.0, [0.0], 10.0),
    (10.01, [0.0, 10.0], 0.01),
    (25.0, [0.0, 10.0, 20.0], 5.0),
    (35.0, [0.0, 10.0, 20.0, 30.0], 5.0),
])
def test_windows_cover_the_duration_and_the_last_is_padded(total: float, starts: list[float],
                                                           last_valid: float) -> None:
    windows = split_windows(total)
    assert [w.index for w in windows] == list(range(len(starts)))
    assert [w.start_s for w in windows] == pytest.approx(starts)
    assert all(w.duration_s == 10.0 for w in windows)
    assert all(w.valid_s == 10.0 and not w.padded for w in windows[:-1])
    last = windows[-1]
    assert last.valid_s == pytest.approx(last_valid)
    assert last.padded == (last_valid < 10.0)
    assert last.end_s == pytest.approx(total)
    assert sum(w.valid_s for w in windows) == pytest.approx(total)  # no overlap, no gap


@pytest.mark.parametrize(("total", "hop", "starts"), [
    (25.0, 5.0, [0.0, 5.0, 10.0, 15.0]),  # the last window reaches 25 s exactly: no fifth one
    (25.0, 8.0, [0.0, 8.0, 16.0]),
    (10.0, 5.0, [0.0]),
    (10.5, 8.0, [0.0, 8.0]),
    (35.0, 9.5, [0.0, 9.5, 19.0, 28.5]),
])
def test_overlapping_windows(total: float, hop: float, starts: list[float]) -> None:
    windows = split_windows(total, hop_s=hop)
    assert [w.start_s for w in windows] == pytest.approx(starts)
    assert windows[-1].end_s == pytest.approx(total)
    for previous, window in itertools.pairwise(windows):
        assert window.start_s - previous.start_s == pytest.approx(hop)
        assert previous.start_s + previous.duration_s < total + 1e-9  # no window starts after one reached the end
    assert all(w.valid_s == pytest.approx(min(10.0, total - w.start_s)) for w in windows)


def test_other_window_length() -> None:
    windows = split_windows(7.0, window_s=2.0)
    assert [w.start_s for w in windows] == [0.0, 2.0, 4.0, 6.0]
    assert windows[-1] == Window(index=3, start_s=6.0, duration_s=2.0, valid_s=1.0)
    assert windows[-1].padded


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"total_s": 0.0}, r"duration must be positive.* 0\.0 s"),
    ({"total_s": -3.0}, r"-3\.0 s"),
    ({"total_s": math.nan}, r"nan s"),
    ({"total_s": math.inf}, r"inf s"),
    ({"total_s": 5.0, "window_s": 0.0}, r"window 0\.0 s"),
    ({"total_s": 5.0, "window_s": math.nan}, r"window nan s"),
    ({"total_s": 5.0, "hop_s": 0.0}, r"hop 0\.0 s"),
    ({"total_s": 5.0, "hop_s": -1.0}, r"hop -1\.0 s"),
    ({"total_s": 5.0, "hop_s": 12.0}, r"hop 12\.0 s is longer than the window 10\.0 s"),
])
def test_errors_repeat_the_bad_value(kwargs: dict, message: str) -> None:
    total = kwargs.pop("total_s")
    with pytest.raises(ValueError, match=message):
        split_windows(total, **kwargs)
