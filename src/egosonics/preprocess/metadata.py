"""Ego4D-style metadata: which scenario a video belongs to, and the narrations inside a window.

Two files, as Ego4D distributes them:

* ``ego4d.json``: ``{"videos": [{"video_uid": ..., "scenarios": [...]}, ...]}``
* ``narration.json``: ``{video_uid: {"narration_pass_1": {"narrations": [{"timestamp_sec": t, "narration_text": s}]}}}``

Video files are matched to metadata by their file name without extension (``<video_uid>.mp4``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from egosonics.errors import EgoSonicsError

# The activity categories the paper keeps (Sec. C); `--scenarios` overrides.
DEFAULT_SCENARIOS = ("cooking", "carpentry", "laundry", "cleaning", "working", "farmer", "mechanic", "yardwork",
                     "blacksmith")


@dataclass
class VideoMeta:
    scenarios: list[str] = field(default_factory=list)
    narrations: list[tuple[float, str]] = field(default_factory=list)  # (time in s, text), sorted

    def narration_between(self, start_s: float, end_s: float) -> str:
        """The narrations inside ``[start_s, end_s)``, joined with '; ' ('' when there are none)."""
        texts = [_clean(text) for t, text in self.narrations if start_s <= t < end_s or t == float("-inf")]
        return "; ".join(t for t in texts if t)

    def matches(self, wanted: set[str]) -> bool:
        """True if any of the video's scenarios contains a wanted word (case-insensitive)."""
        names = [s.lower() for s in self.scenarios]
        return any(w in name for w in wanted for name in names)


def _clean(text: str) -> str:
    """Ego4D narrations start with '#C C ...' (the camera wearer): keep the sentence."""
    text = text.strip()
    for prefix in ("#C C ", "#C ", "#c c ", "#c "):
        if text.startswith(prefix):
            return "The camera wearer " + text[len(prefix):]
    return text


def _load_json(path: str | os.PathLike[str]) -> object:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise EgoSonicsError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise EgoSonicsError(f"{path}: not valid JSON ({exc})") from None


def load_metadata(metadata: str | os.PathLike[str] | None,
                  narrations: str | os.PathLike[str] | None) -> dict[str, VideoMeta]:
    """video_uid → ``VideoMeta`` from Ego4D-style files (either may be None)."""
    result: dict[str, VideoMeta] = {}
    if metadata is not None:
        data = _load_json(metadata)
        videos = data.get("videos") if isinstance(data, dict) else None
        if not isinstance(videos, list):
            raise EgoSonicsError(f"{metadata}: expected {{'videos': [...]}} (Ego4D's ego4d.json)")
        for video in videos:
            uid = video.get("video_uid")
            if uid:
                result.setdefault(uid, VideoMeta()).scenarios = list(video.get("scenarios") or [])
    if narrations is not None:
        data = _load_json(narrations)
        if not isinstance(data, dict):
            raise EgoSonicsError(f"{narrations}: expected {{video_uid: {{'narration_pass_1': ...}}}}")
        for uid, passes in data.items():
            items = []
            for key in ("narration_pass_1", "narration_pass_2"):
                for entry in (passes or {}).get(key, {}).get("narrations", []) or []:
                    if "timestamp_sec" in entry and entry.get("narration_text"):
                        items.append((float(entry["timestamp_sec"]), str(entry["narration_text"])))
                if items:
                    break
            result.setdefault(uid, VideoMeta()).narrations = sorted(items)
    return result
