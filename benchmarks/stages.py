"""Per-stage wall times of library code, measured from outside: ``StageTimer`` wraps functions and methods in place.

Nothing in ``src/`` is changed: a wrapped attribute (a module's function, an object's method, a module's ``forward``)
is replaced by a timing shim for the duration of a ``with`` block, then restored. Every call records an interval
(start, end); a call made while another wrapped call is running is recorded under ``parent/child`` as well, so nested
stages are not counted twice in the top-level sum.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

_MISSING = object()


class StageTimer:
    """Collects (start, end) intervals per stage name.

    >>> timer = StageTimer()
    >>> with timer:
    ...     timer.wrap(some_module, "read_frames", "decode")
    ...     run()
    >>> timer.total("decode")
    """

    def __init__(self) -> None:
        self.intervals: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self._stack: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attr: str, stage: str) -> None:
        """Replace ``owner.attr`` with a shim that times each call under ``stage`` (restored on exit)."""
        original = getattr(owner, attr)
        own = owner.__dict__.get(attr, _MISSING) if hasattr(owner, "__dict__") else _MISSING

        def timed(*args: Any, **kwargs: Any) -> Any:
            name = f"{self._stack[-1]}/{stage}" if self._stack else stage
            self._stack.append(name)
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.intervals[name].append((start, time.perf_counter()))
                self._stack.pop()

        setattr(owner, attr, timed)

        def undo() -> None:
            if own is _MISSING:
                delattr(owner, attr)  # it was a class attribute: drop the instance's shim
            else:
                setattr(owner, attr, own)

        self._undo.append(undo)

    def wrap_iter(self, owner: Any, attr: str, stage: str) -> None:
        """Replace ``owner.attr``, a function or method that returns an iterator (e.g. ``__iter__``), with one whose
        iterator times every step under ``stage``: the time spent producing items, not the time between them."""
        original = getattr(owner, attr)
        own = owner.__dict__.get(attr, _MISSING) if hasattr(owner, "__dict__") else _MISSING

        def timed(*args: Any, **kwargs: Any) -> Any:
            iterator = iter(original(*args, **kwargs))
            while True:
                name = f"{self._stack[-1]}/{stage}" if self._stack else stage
                start = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    self.intervals[name].append((start, time.perf_counter()))
                yield item

        setattr(owner, attr, timed)

        def undo() -> None:
            if own is _MISSING:
                delattr(owner, attr)
            else:
                setattr(owner, attr, own)

        self._undo.append(undo)

    def reset(self) -> None:
        """Forget the intervals recorded so far (the shims stay)."""
        self.intervals.clear()

    def total(self, stage: str) -> float:
        return sum(end - start for start, end in self.intervals.get(stage, []))

    def count(self, stage: str) -> int:
        return len(self.intervals.get(stage, []))

    def first_start(self, stage: str) -> float | None:
        spans = self.intervals.get(stage)
        return spans[0][0] if spans else None

    def last_end(self, stage: str) -> float | None:
        spans = self.intervals.get(stage)
        return spans[-1][1] if spans else None

    def top_level(self) -> dict[str, float]:
        """Total seconds per stage that was not called from inside another timed stage."""
        return {name: self.total(name) for name in self.intervals if "/" not in name}

    def __enter__(self) -> StageTimer:
        return self

    def __exit__(self, *exc: object) -> None:
        while self._undo:
            self._undo.pop()()
