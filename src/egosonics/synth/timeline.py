"""The ground truth of a synthetic clip: its sound events, its silent distractors and a one-line narration.

Written as JSON next to each clip (``NAME.json``) and read back with ``load_timeline``. Times are exact: in easy
scenes an event's onset is a frame boundary, ``onset_sample = onset_frame * sample_rate / fps``; in realistic scenes
it is the contact's own time, ``onset_sample = round(onset_s * sample_rate)``, ``onset_frame`` the first frame at or
after it. Either way the event's sound starts at ``onset_sample``.
Positions are where the contact is seen in the onset frame, as fractions of the frame (x right, y down).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from egosonics.errors import EgoSonicsError

TIMELINE_VERSION = 1


@dataclass(frozen=True)
class SoundEvent:
    """One sound event.

    Attributes:
        onset_s: when the sound starts (= the visual contact), on a frame boundary.
        offset_s: when it ends: the motion's end (saw, machine, pour) or where a decaying sound falls 40 dB below
            its peak (impact, chop, footsteps); clipped to the clip's end.
        cls: one of ``EVENT_CLASSES`` (written as ``class`` in JSON).
        material: what sounds: wood/metal/glass (impact), the floor (footsteps), wood (saw, chop), water (pour),
            motor (machine).
        position: (x, y) of the contact in the onset frame, as fractions of the width and height; None off-screen.
        visible: False for off-screen sounds (nothing in the frames makes them).
        onset_frame, onset_sample, offset_sample: the same times as indices.
        action: index of the action (a run of similar events, e.g. 4 chops) the event belongs to; -1 off-screen.
    """

    onset_s: float
    offset_s: float
    cls: str
    material: str
    position: tuple[float, float] | None
    visible: bool
    onset_frame: int
    onset_sample: int
    offset_sample: int
    action: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["class"] = out.pop("cls")
        out["position"] = list(self.position) if self.position is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SoundEvent:
        data = dict(data)
        data["cls"] = data.pop("class")
        data["position"] = tuple(data["position"]) if data.get("position") is not None else None
        return cls(**data)


@dataclass(frozen=True)
class Distractor:
    """A silent motion: ``feint`` (a tool stops short of a surface) or ``passerby`` (someone walks past behind)."""

    start_s: float
    end_s: float
    kind: str


@dataclass
class Timeline:
    """Everything known about one synthetic clip.

    Attributes:
        name: the clip's file stem.
        seed, index: the clip is ``render_scene(seed, index=index, settings=...)``.
        mode: scene, single or pair.
        duration_s, fps, sample_rate, size: the clip's format ((height, width)).
        events: sound events in onset order, visible and off-screen.
        distractors: silent motions.
        narration: one line, first person, saying what is done and heard.
        settings: the ``SynthSettings`` it was made with, as a dict.
        pair: for pair mode, the pair's id (both clips share it and their frames).
        sfx: realistic scenes: the recordings mixed in, one dict each (file, licence, author, source, used_as), for
            a model card's attributions; empty otherwise (and then not written).
        render: realistic scenes: how the picture was degraded (frame rate, size, shutter, noise, light, bitrate);
            empty otherwise (and then not written). A realistic event's onset is the exact contact time, not a frame
            boundary: ``onset_frame`` is the first frame at or after it, ``onset_sample`` = round(onset_s * rate).
    """

    name: str
    seed: int
    index: int
    mode: str
    duration_s: float
    fps: int
    sample_rate: int
    size: tuple[int, int]
    events: list[SoundEvent]
    distractors: list[Distractor]
    narration: str
    settings: dict[str, Any] = field(default_factory=dict)
    pair: str | None = None
    sfx: list[dict[str, Any]] = field(default_factory=list)
    render: dict[str, Any] = field(default_factory=dict)

    @property
    def visible_events(self) -> list[SoundEvent]:
        return [e for e in self.events if e.visible]

    @property
    def onsets_s(self) -> list[float]:
        """Onsets of the visible events: what a video-to-audio model can be asked to reproduce."""
        return [e.onset_s for e in self.events if e.visible]

    def to_dict(self) -> dict[str, Any]:
        out = {
            "version": TIMELINE_VERSION, "name": self.name, "seed": self.seed, "index": self.index,
            "mode": self.mode, "pair": self.pair, "duration_s": self.duration_s, "fps": self.fps,
            "sample_rate": self.sample_rate, "size": list(self.size), "narration": self.narration,
            "events": [e.to_dict() for e in self.events],
            "distractors": [asdict(d) for d in self.distractors],
            "settings": self.settings,
        }
        if self.render:  # realistic scenes only: easy timelines keep their exact earlier bytes
            out["render"] = self.render
        if self.sfx:
            out["sfx"] = self.sfx
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write as JSON (atomically)."""
        from egosonics.utils.output import atomic_output

        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n")


def load_timeline(path: str | os.PathLike[str]) -> Timeline:
    """Read a timeline JSON written by ``Timeline.save``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        return Timeline(
            name=data["name"], seed=data["seed"], index=data["index"], mode=data["mode"],
            duration_s=data["duration_s"], fps=data["fps"], sample_rate=data["sample_rate"],
            size=tuple(data["size"]), events=[SoundEvent.from_dict(e) for e in data["events"]],
            distractors=[Distractor(**d) for d in data["distractors"]], narration=data["narration"],
            settings=data.get("settings", {}), pair=data.get("pair"), sfx=data.get("sfx", []),
            render=data.get("render", {}),
        )
    except FileNotFoundError:
        raise EgoSonicsError(f"{path}: no such file") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EgoSonicsError(f"{path}: not a synthetic-clip timeline ({type(exc).__name__}: {exc})") from None
