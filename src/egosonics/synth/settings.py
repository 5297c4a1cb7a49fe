"""Settings of the synthetic benchmark: what a clip contains and how hard it is, in human units.

The event classes and materials are defined here once; the timeline, the sounds, the renderer and the command line
import them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from egosonics.clip_spec import DEFAULT_CLIP, ClipSpec
from egosonics.options import real, whole

EVENT_CLASSES: tuple[str, ...] = ("impact", "saw", "chop", "machine", "pour", "footsteps")
"""Sound-event classes, each with its own visual signature and synthesized sound (see ``synth.sounds``)."""

IMPACT_MATERIALS: tuple[str, ...] = ("wood", "metal", "glass")
"""What a tool can strike; each has its own modes and decay."""

FLOOR_MATERIALS: tuple[str, ...] = ("wood", "gravel", "tile")
"""What footsteps land on (one floor per scene)."""

MODES: tuple[str, ...] = ("scene", "single", "pair")
"""scene: several actions of any allowed class; single: every event of one class (cycled by clip index);
pair: one action motion rendered twice, striking wood and then metal, with identical frames."""

PAIR_MATERIALS: tuple[str, str] = ("wood", "metal")

# Ranges of the knobs, checked here and by ``egosonics synth``'s options.
DURATION = real(1, 3600, unit="s")
FRAME_SIDE = whole(48, 4096, unit="pixels")  # and even (H.264 in 4:2:0)
EVENTS = whole(1, 1000)
MOTION = real(0, 10)  # head_motion and camera_shake
SILENT_OR_OFFSCREEN = whole(0, 100)  # distractors and offscreen
NOISE_DBFS = real(-120, 0, unit="dBFS")

SFX_CLASSES: tuple[str, ...] = ("door", "water", "roll")
"""Realistic-only classes whose sounds are recordings read at run time from an sfx folder (``synth.realistic.sfx``)."""

REALISTIC_CLASSES: tuple[str, ...] = (*EVENT_CLASSES, "place", "door", "water", "roll")
"""Classes of ``--difficulty realistic``: the six above, setting an object down (procedural), and the sfx classes."""

FRAME_RATES: tuple[int, ...] = (24, 25, 30, 48, 50, 60)
"""Frame rates a realistic scene is drawn from (its size is drawn around the settings' height, too)."""

_ADDED_FIELDS = {"realistic": False, "sfx_dir": None}
"""Fields added after the easy scenes' format was fixed: left out of ``to_dict`` at these values, so that an easy
scene's timeline and run JSON stay byte-identical to what earlier versions wrote."""


@dataclass(frozen=True)
class SynthSettings:
    """Everything that shapes a synthetic clip except its seed.

    Args:
        clip: duration, frame rate and sample rate (``ClipSpec``; 10 s, 30 fps, 22,050 Hz by default).
        height, width: frame size in pixels; scene geometry scales with the height (designed at 128).
        mode: one of ``MODES``.
        classes: the event classes that may appear (a subset of ``EVENT_CLASSES``; realistic: ``REALISTIC_CLASSES``).
        min_events, max_events: visible sound events per clip (scene mode tries to land in this range).
        head_motion: scale of the wearer's head sway, bob and pans' overshoot; 0 holds the camera still between pans.
        camera_shake: RMS of a fast (6–14 Hz) camera jitter, in pixels at 128 px height; 0 = none.
        distractors: silent motions per clip: a tool that stops short of a surface, or a person passing behind.
        offscreen: sound events per clip with nothing to see (a knock, a step or a chop heard off-screen).
        noise_dbfs: RMS level of the background noise (room tone), in dB relative to full scale.
        video_crf, video_preset: libx264 quality and speed of the MP4 files (the WAV beside each is the exact audio).
        realistic: render with ``synth.realistic`` (physical motion, textures, blur, noise, compression, drawn frame
            rate and size, more classes); False is the original cue-style renderer (easy / medium / hard).
        sfx_dir: folder of sound-effect recordings with a SOURCES.md (realistic sfx classes only; CC0 / CC BY files).
    """

    clip: ClipSpec = DEFAULT_CLIP
    height: int = 128
    width: int = 128
    mode: str = "scene"
    classes: tuple[str, ...] = EVENT_CLASSES
    min_events: int = 3
    max_events: int = 12
    head_motion: float = 1.0
    camera_shake: float = 0.0
    distractors: int = 0
    offscreen: int = 0
    noise_dbfs: float = -60.0
    video_crf: int = 20
    video_preset: str = "veryfast"
    realistic: bool = False
    sfx_dir: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choose from {list(MODES)}")
        allowed = REALISTIC_CLASSES if self.realistic else EVENT_CLASSES
        unknown = [c for c in self.classes if c not in allowed]
        if unknown or not self.classes:
            extra = " (place, door, water, roll need --difficulty realistic)" if not self.realistic else ""
            raise ValueError(f"unknown event class(es) {unknown or self.classes!r}; choose from {list(allowed)}{extra}")
        if self.realistic and self.mode == "pair":
            raise ValueError("pair mode is rendered by the easy renderer only; use --difficulty easy with --mode pair")
        if not all(FRAME_SIDE.contains(side) and side % 2 == 0 for side in (self.height, self.width)):
            raise ValueError(f"frame size must be even, at least 48 x 48 and at most 4096 x 4096, got {self.height} x "
                             f"{self.width}")
        DURATION.check("clip duration", self.clip.duration_s)
        EVENTS.check("min_events", self.min_events)
        EVENTS.check("max_events", self.max_events)
        if self.min_events > self.max_events:
            raise ValueError(f"need 1 <= min_events <= max_events, got {self.min_events} and {self.max_events}")
        for name in ("head_motion", "camera_shake"):
            MOTION.check(name, getattr(self, name))
        for name in ("distractors", "offscreen"):
            SILENT_OR_OFFSCREEN.check(name, getattr(self, name))
        NOISE_DBFS.check("noise_dbfs", self.noise_dbfs)

    @property
    def scale(self) -> float:
        """Pixels per design unit: the scenes are laid out for 128 px high frames."""
        return self.height / 128.0

    def replace(self, **changes: Any) -> SynthSettings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the clip spec as a nested dict."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if not (f.name in _ADDED_FIELDS and getattr(self, f.name) == _ADDED_FIELDS[f.name])}
        out["clip"] = dataclasses.asdict(self.clip)
        out["classes"] = list(self.classes)
        return out


DIFFICULTY: dict[str, dict[str, Any]] = {
    "easy": {},
    "medium": {"camera_shake": 0.6, "distractors": 1, "offscreen": 1, "noise_dbfs": -45.0},
    "hard": {"camera_shake": 1.5, "head_motion": 1.5, "distractors": 3, "offscreen": 2, "noise_dbfs": -32.0},
    "realistic": {"realistic": True, "classes": REALISTIC_CLASSES, "camera_shake": 0.8, "distractors": 2,
                  "offscreen": 1, "noise_dbfs": -48.0},
}
"""Named sets of difficulty knobs; explicit settings override them. easy / medium / hard use the original renderer,
realistic the physical one (``synth.realistic``)."""

DEFAULT_DIFFICULTY = "realistic"
"""What ``egosonics synth`` renders unless told otherwise (training data); the shipped model was trained on easy."""


def settings_for(difficulty: str = "easy", **overrides: Any) -> SynthSettings:
    """Settings of a named difficulty, with some fields overridden (None values are ignored).

    For realistic settings the sfx folder is resolved here (``sfx_dir`` or the default ``../shared/data/sfx`` when
    present): when it is absent, the sfx classes are left out of the default classes (with a warning) and asking for
    one of them explicitly is an error naming the folder.
    """
    if difficulty not in DIFFICULTY:
        raise ValueError(f"unknown difficulty {difficulty!r}; choose from {list(DIFFICULTY)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    values = {**DIFFICULTY[difficulty], **given}
    if values.get("realistic"):
        from egosonics.synth.realistic.sfx import resolve_sfx_classes

        values["sfx_dir"], values["classes"] = resolve_sfx_classes(
            given.get("sfx_dir"), tuple(values["classes"]), explicit="classes" in given)
    elif given.get("sfx_dir") is not None:
        raise ValueError(f"--sfx-dir is for --difficulty realistic (difficulty is {difficulty!r})")
    return SynthSettings(**values)
