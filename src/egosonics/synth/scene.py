"""One synthetic first-person clip: plan the actions, move the camera, render the frames, mix the soundtrack, and
write down the truth (``Timeline``).

    render_scene(seed, index=i, settings=...)   one clip (scene / single mode)
    render_pair(seed, index=i, settings=...)    two clips, identical frames: the struck box heard as wood, then metal

A clip is a function of (seed, index, settings) only: separate random streams (plan, look, sounds, off-screen sounds,
room tone) are spawned from ``SeedSequence([seed, index])``, so the same arguments give byte-identical frames and audio,
and a pair's two clips share everything but the struck material.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from egosonics.synth import sounds
from egosonics.synth.actions.base import Action
from egosonics.synth.actions.machine import Machine
from egosonics.synth.actions.pour import Pour
from egosonics.synth.actions.saw import Saw
from egosonics.synth.actions.strike import Chop, Feint, Impact
from egosonics.synth.actions.walk import Passerby, Walk
from egosonics.synth.raster import Canvas
from egosonics.synth.settings import (
    EVENT_CLASSES,
    FLOOR_MATERIALS,
    IMPACT_MATERIALS,
    PAIR_MATERIALS,
    SynthSettings,
)
from egosonics.synth.timeline import Distractor, SoundEvent, Timeline
from egosonics.synth.world import Layout, Look, build_panorama, draw_clutter

log = logging.getLogger(__name__)

# (kind, start s, station x, events) → an action of either renderer
ActionMaker = Callable[[str, float, float, int], Any]

DEFAULT_SETTINGS = SynthSettings()

# Events per action, by class (inclusive ranges; capped by the clip's remaining event budget).
_EVENTS_PER_ACTION = {"impact": (1, 3), "chop": (2, 4), "saw": (2, 4), "footsteps": (3, 6), "machine": (1, 1),
                      "pour": (1, 1)}
_OFFSCREEN_CLASSES = ("impact", "footsteps", "chop")
_OFFSCREEN_WORDS = {"impact": "a knock on {material}", "footsteps": "someone's footstep", "chop": "a chop"}


@dataclass
class SynthScene:
    """A rendered clip.

    Attributes:
        frames: uint8 RGB frames [N, H, W, 3] (N = clip.num_frames).
        audio: the clean soundtrack [n] float32 (n = clip.num_samples), peak below 1.
        timeline: the events, distractors and narration.
        stems: with ``stems=True``, each timeline event's own sound placed in the clip [n] float32 (same order).
        video_options: realistic scenes: the libx264 options of their own MP4 (the drawn bitrate); None: the
            settings' (``dataset.video_options``).
    """

    frames: np.ndarray
    audio: np.ndarray
    timeline: Timeline
    stems: list[np.ndarray] | None = None
    video_options: dict[str, str] | None = None


def clip_name(mode: str, seed: int, index: int, material: str | None = None) -> str:
    """File stem of a clip: ``scene-7-00003``; a pair's clips end in ``-wood`` / ``-metal``."""
    return f"{mode}-{seed}-{index:05d}" + (f"-{material}" if material else "")


def clip_class(settings: SynthSettings, index: int) -> str | None:
    """The class of clip ``index`` in single mode (the allowed classes in turn), else None."""
    return settings.classes[index % len(settings.classes)] if settings.mode == "single" else None


def render_scene(seed: int, *, index: int = 0, settings: SynthSettings = DEFAULT_SETTINGS,
                 material: str | None = None, stems: bool = False, name: str | None = None) -> SynthScene:
    """Render clip ``index`` of seed ``seed``.

    Args:
        seed, index: the clip's identity; the same pair (and settings) gives the same bytes.
        settings: what the clip contains and how hard it is (``SynthSettings``); realistic settings are rendered by
            ``synth.realistic`` (their own frame rate and size, exact contact times, recordings).
        material: pair mode only: what the neutral box sounds like (``PAIR_MATERIALS``).
        stems: also return every event's sound alone (tests; evaluation of per-event metrics).
        name: the timeline's name (default ``clip_name``).

    Returns:
        A ``SynthScene`` with frames [N, H, W, 3], audio [n] and its ``Timeline``.
    """
    # 1. Check inputs and derive the geometry (realistic settings: another renderer, same contract).
    if settings.realistic:
        from egosonics.synth.realistic.scene import render_realistic

        if material is not None:
            raise ValueError("material is for pair mode only, which realistic settings do not have")
        return render_realistic(seed, index=index, settings=settings, stems=stems, name=name)
    if settings.mode == "pair":
        if material not in PAIR_MATERIALS:
            raise ValueError(f"pair mode needs material in {list(PAIR_MATERIALS)}, got {material!r}")
    elif material is not None:
        raise ValueError(f"material is for pair mode only (mode is {settings.mode!r})")
    clip = settings.clip
    layout = Layout(settings.height, settings.width, clip.fps, clip.sample_rate)
    n_frames, n_samples = clip.num_frames, clip.num_samples

    # 2. Independent random streams, so that e.g. a pair's sounds never change its pictures.
    plan_rng, look_rng, sound_rng, offscreen_rng, noise_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence([seed, index]).spawn(5))
    look = Look.draw(look_rng, str(look_rng.choice(FLOOR_MATERIALS)))

    # 3. Plan the actions (times on frame boundaries) and the silent distractors.
    only = clip_class(settings, index)
    classes = ("impact",) if material is not None else ((only,) if only else settings.classes)

    def make(kind: str, start: float, station: float, n: int) -> Action:
        return _make_action(kind, plan_rng, layout, look, start, station, n, settings, material)

    actions, n_passersby = plan_actions(plan_rng, layout, settings, classes, make, first_start=(0.15, 0.5),
                                        events_per_action=_EVENTS_PER_ACTION)
    pano_width = int(math.ceil(max(a.extent[1] for a in actions) + layout.width)) if actions else 2 * layout.width

    # 4. Camera path (world coordinates of the frame's top-left corner, per frame).
    cam_x, cam_y = _camera(actions, layout, settings, plan_rng, n_frames)
    cam_x = np.clip(cam_x, 0, pano_width - layout.width)  # [N]
    cam_y = np.clip(cam_y, 0, layout.pano_height - layout.height)  # [N]
    ox, oy = np.rint(cam_x).astype(int), np.rint(cam_y).astype(int)  # [N] whole-pixel views
    passersby = plan_passersby(plan_rng, layout, n_passersby,
                               lambda t: cam_x[min(len(cam_x) - 1, int(t * layout.fps))], clip.duration_s, actions)

    # 5. The static world: textures, then the stations' objects, then clutter between stations.
    pano = build_panorama(layout, pano_width, look, look_rng)
    world = Canvas(pano)
    for action in actions:
        action.bake(world, look_rng)
    _scatter_clutter(world, layout, actions, look_rng)

    # 6. Frames: a window of the panorama, then what shakes, then what moves.
    frames = np.empty((n_frames, layout.height, layout.width, 3), np.uint8)  # [N, H, W, 3]
    for k in range(n_frames):
        t = k / clip.fps
        frame = frames[k]
        frame[:] = pano[oy[k]:oy[k] + layout.height, ox[k]:ox[k] + layout.width]
        canvas = Canvas(frame, (float(ox[k]), float(oy[k])))
        for person in passersby:
            person.draw(canvas, t)
        near = [a for a in actions if a.extent[1] >= ox[k] and a.extent[0] <= ox[k] + layout.width]
        for action in near:
            action.shake(canvas, t, k)
        for action in near:
            action.draw(canvas, t, k)

    # 7. Soundtrack: every event's sound from its onset sample, off-screen sounds, room tone.
    events: list[SoundEvent] = []
    placed: list[tuple[int, np.ndarray]] = []  # (onset sample, sound) per event, as in ``events``
    for i, action in enumerate(actions):
        for planned, wave in zip(action.events, action.sounds(sound_rng), strict=True):
            k = planned.onset_frame
            if k >= n_frames:
                continue
            start = layout.onset_sample(k)
            cx, cy = planned.contact
            position = (round(float(cx - ox[k]) / layout.width, 4), round(float(cy - oy[k]) / layout.height, 4))
            events.append(_event(k, start, len(wave), n_samples, clip.fps, clip.sample_rate, action.kind,
                                 planned.material, position, i))
            placed.append((start, wave))
    for k, cls, material, wave in _offscreen(offscreen_rng, layout, settings, look, events, n_frames,
                                             clip_class(settings, index)):
        start = layout.onset_sample(k)
        events.append(_event(k, start, len(wave), n_samples, clip.fps, clip.sample_rate, cls, material, None, -1))
        placed.append((start, wave))
    order = sorted(range(len(events)), key=lambda j: (events[j].onset_sample, j))
    events, placed = [events[j] for j in order], [placed[j] for j in order]
    audio, stem_list = sounds.mix(placed, n_samples, settings.noise_dbfs, noise_rng, stems=stems)

    # 8. The truth: events, distractors, narration.
    distractors = [Distractor(round(a.start_s, 4), round(a.end_s, 4), "feint") for a in actions if a.kind == "feint"]
    distractors += [Distractor(round(p.start_s, 4), round(p.end_s, 4), "passerby") for p in passersby]
    distractors.sort(key=lambda d: d.start_s)
    timeline = Timeline(
        name=name or clip_name(settings.mode, seed, index, material), seed=seed, index=index, mode=settings.mode,
        duration_s=clip.duration_s, fps=clip.fps, sample_rate=clip.sample_rate,
        size=(layout.height, layout.width), events=events, distractors=distractors,
        narration=narrate(actions, events, passersby), settings=settings.to_dict(),
        pair=clip_name("pair", seed, index) if settings.mode == "pair" else None,
    )
    log.debug("%s: %d events, %d distractors", timeline.name, len(events), len(distractors))
    return SynthScene(frames=frames, audio=audio, timeline=timeline, stems=stem_list)


def render_pair(seed: int, *, index: int = 0, settings: SynthSettings = DEFAULT_SETTINGS,
                stems: bool = False) -> tuple[SynthScene, SynthScene]:
    """The two clips of a material pair: the same frames (a neutral box struck by the same hand motion), heard as
    wood and as metal; their narrations differ only in the material."""
    settings = settings if settings.mode == "pair" else settings.replace(mode="pair")
    first, second = (render_scene(seed, index=index, settings=settings, material=m, stems=stems)
                     for m in PAIR_MATERIALS)
    return first, second


# ------------------------------------------------------------------------------------------------ planning


def _event(k: int, start: int, length: int, n_samples: int, fps: int, sr: int, cls: str, material: str,
           position: tuple[float, float] | None, action: int) -> SoundEvent:
    end = min(start + length, n_samples)
    return SoundEvent(onset_s=round(k / fps, 6), offset_s=round(end / sr, 6), cls=cls, material=material,
                      position=position, visible=position is not None, onset_frame=k, onset_sample=start,
                      offset_sample=end, action=action)


def _make_action(kind: str, rng: np.random.Generator, layout: Layout, look: Look, start: float, x: float, n: int,
                 settings: SynthSettings, pair_material: str | None) -> Action:
    if kind == "impact":
        if pair_material is not None:
            return Impact(layout, look, rng, start, x, n, pair_material, neutral=True)
        return Impact(layout, look, rng, start, x, n, str(rng.choice(IMPACT_MATERIALS)))
    if kind == "chop":
        return Chop(layout, look, rng, start, x, n)
    if kind == "saw":
        return Saw(layout, look, rng, start, x, n)
    if kind == "machine":
        return Machine(layout, look, rng, start, x)
    if kind == "pour":
        return Pour(layout, look, rng, start, x)
    if kind == "footsteps":
        return Walk(layout, look, rng, start, x, n, rng.uniform(1.3, 2.2) * layout.width)
    if kind == "feint":
        return Feint(layout, look, rng, start, x)
    raise AssertionError(f"unknown action kind {kind!r}")


def _plan_once(rng: np.random.Generator, layout: Layout, settings: SynthSettings, classes: tuple[str, ...],
               make: ActionMaker, feints: int, first_start: tuple[float, float],
               events_per_action: dict[str, tuple[int, int]]) -> list[Any]:
    """Actions one after another, each at its own station, until the clip or the event budget is used up."""
    limit = settings.clip.duration_s - 0.2  # the last action's hands leave before the end
    actions: list[Any] = []
    n_events, x, t_end, prev = 0, 0.9 * layout.width, 0.0, None
    while True:
        remaining = settings.max_events - n_events
        if feints and rng.random() < 0.35:
            kind = "feint"
        elif remaining <= 0:
            break
        else:
            choices = [c for c in classes if c != prev] or list(classes)
            kind = str(rng.choice(choices))
        # Time to turn the head to the next station; none when walking there (the walk itself moves the wearer).
        if not actions:
            start, station = rng.uniform(*first_start), x
        elif actions[-1].kind == "footsteps" or kind == "footsteps":
            start, station = t_end + rng.uniform(0.15, 0.35), x
        else:
            start, station = t_end + rng.uniform(0.35, 0.7), x + rng.uniform(0.85, 1.0) * layout.width
        lo, hi = events_per_action.get(kind, (1, 1))
        n = 0 if kind == "feint" else min(int(rng.integers(lo, hi + 1)), remaining)
        action = None
        while kind == "feint" or n >= 1:
            candidate = make(kind, start, station, max(n, 1))
            if candidate.end_s <= limit:
                action = candidate
                break
            if kind == "feint" or n == 1:
                break
            n -= 1
        if action is None:
            if kind == "feint":
                feints = 0  # no room left for one: the rest become passers-by
                continue
            break
        actions.append(action)
        if kind == "feint":
            feints -= 1
        n_events += len(action.events)
        t_end, prev = action.end_s, kind if kind != "feint" else prev
        x = action.x_to if kind == "footsteps" else station  # a walk moves the wearer to its end
    return actions


def plan_actions(rng: np.random.Generator, layout: Layout, settings: SynthSettings, classes: tuple[str, ...],
                 make: ActionMaker, *, first_start: tuple[float, float],
                 events_per_action: dict[str, tuple[int, int]]) -> tuple[list[Any], int]:
    """Plan until the visible events land in [min_events, max_events] (the best of 12 tries otherwise).

    Shared by the easy and the realistic renderer, which differ in the actions ``make(kind, start_s, station_x, n)``
    builds, in when the first one may start (``first_start``, s) and in their event counts per action.

    Returns the actions and how many distractors are left for passers-by.
    """
    feints = int((rng.random(settings.distractors) < 0.5).sum())
    best: list[Any] = []
    for _ in range(12):
        actions = _plan_once(rng, layout, settings, classes, make, feints, first_start, events_per_action)
        count = sum(len(a.events) for a in actions)
        if count > sum(len(a.events) for a in best) or not best:
            best = actions
        if count >= settings.min_events:
            break
    else:
        log.debug("planned %d events (< min_events %d) in a %.1f s clip", sum(len(a.events) for a in best),
                  settings.min_events, settings.clip.duration_s)
    used = sum(a.kind == "feint" for a in best)
    return best, settings.distractors - used


def _camera(actions: list[Action], layout: Layout, settings: SynthSettings, rng: np.random.Generator,
            n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Camera top-left corner per frame: at each action's station, turning between them, plus head motion and shake.

    Returns (x [N], y [N]) float world pixels.
    """
    fps, u = layout.fps, layout.u
    times = np.arange(n_frames) / fps  # [N]
    xs, ys = np.empty(n_frames), np.empty(n_frames)
    for k, t in enumerate(times):
        if not actions:
            xs[k], ys[k] = 0.4 * layout.width, layout.stand_y
            continue
        i = int(np.searchsorted([a.start_s for a in actions], t, side="right")) - 1
        if i < 0:
            xs[k], ys[k] = actions[0].view_start()
        elif t <= actions[i].end_s:
            xs[k], ys[k] = actions[i].view(t)
        elif i + 1 < len(actions):  # turning the head to the next station
            a, b = actions[i], actions[i + 1]
            s = 0.5 - 0.5 * math.cos(math.pi * (t - a.end_s) / (b.start_s - a.end_s))
            (x0, y0), (x1, y1) = a.view_end(), b.view_start()
            xs[k], ys[k] = x0 + (x1 - x0) * s, y0 + (y1 - y0) * s
        else:
            xs[k], ys[k] = actions[i].view_end()
    # Head motion: slow sway and breathing (a few pixels), scaled by the knob.
    phases = rng.uniform(0, 2 * np.pi, 4)
    hm = settings.head_motion * u
    xs += hm * (1.6 * np.sin(2 * np.pi * 0.21 * times + phases[0]) + 0.7 * np.sin(2 * np.pi * 0.57 * times + phases[1]))
    ys += hm * (1.1 * np.sin(2 * np.pi * 0.29 * times + phases[2]) + 0.5 * np.sin(2 * np.pi * 1.3 * times + phases[3]))
    # Shake: four fast sinusoids per axis, normalised to an RMS of camera_shake (pixels at 128 px height).
    for axis in (xs, ys):
        freqs, ph = rng.uniform(6.0, 14.0, 4), rng.uniform(0, 2 * np.pi, 4)
        jitter = np.sin(2 * np.pi * freqs[:, None] * times[None, :] + ph[:, None]).sum(axis=0) / math.sqrt(2.0)
        axis += settings.camera_shake * u * jitter
    return xs, ys


def plan_passersby(rng: np.random.Generator, layout: Layout, count: int, camera_x: Callable[[float], float],
                   duration: float, actions: list[Any]) -> list[Passerby]:
    """Someone crossing the view behind the bench, timed to be seen wherever the camera is then (``camera_x(t)``: its
    left edge in world pixels), not while the wearer walks and looks at the floor. Shared by both renderers."""
    walks = [(a.start_s, a.end_s) for a in actions if a.kind == "footsteps"]
    people = []
    for _ in range(count):
        span = rng.uniform(1.8, 3.0)
        for _attempt in range(20):
            start = rng.uniform(0.0, max(0.0, duration - span))
            if not any(start < b and a < start + span for a, b in walks):
                break
        direction = 1.0 if rng.random() < 0.5 else -1.0
        speed = direction * 1.2 * layout.width / span
        x0 = camera_x(start) + layout.width / 2 - direction * 0.6 * layout.width
        people.append(Passerby(start, start + span, float(x0), float(speed), layout.wall_bottom + 2 * layout.u,
                               0.7 * layout.u))
    return people


def _scatter_clutter(world: Canvas, layout: Layout, actions: list[Action], rng: np.random.Generator) -> None:
    """Silent objects on the bench between stations (never under a station's own objects)."""
    stations = sorted(a.station_x for a in actions if not isinstance(a, Walk))
    stations += [a.x_to for a in actions if isinstance(a, Walk)]
    x = rng.uniform(0.1, 0.3) * layout.width
    while x < world.width - 20 * layout.u:
        if all(abs(x - s) > 0.42 * layout.width for s in stations):
            draw_clutter(world, x, layout.object_y + rng.uniform(-6, 6) * layout.u, layout.u, rng)
        x += rng.uniform(0.35, 0.6) * layout.width


def _offscreen(rng: np.random.Generator, layout: Layout, settings: SynthSettings, look: Look,
               visible: list[SoundEvent], n_frames: int,
               only: str | None) -> list[tuple[int, str, str, np.ndarray]]:
    """Off-screen sounds: (onset frame, class, material, waveform), at least 150 ms from any other onset."""
    allowed = [c for c in _OFFSCREEN_CLASSES if c in settings.classes]
    if only is not None:
        allowed = [only] if only in _OFFSCREEN_CLASSES else []
    elif settings.mode == "pair":
        allowed = ["impact"]
    elif not allowed:
        allowed = list(_OFFSCREEN_CLASSES)
    if not allowed or settings.offscreen == 0:
        return []
    fps, sr = layout.fps, layout.sample_rate
    taken = [e.onset_frame for e in visible]
    out = []
    lo, hi = int(0.2 * fps), n_frames - int(0.3 * fps)
    for _ in range(settings.offscreen):
        for _attempt in range(50):
            k = int(rng.integers(lo, max(lo + 1, hi)))
            if all(abs(k - other) >= 0.15 * fps for other in taken):
                break
        else:
            continue
        taken.append(k)
        cls = str(rng.choice(allowed))
        if cls == "impact":
            material = str(rng.choice(IMPACT_MATERIALS))
            wave = sounds.impact_sound(material, rng, sr)
        elif cls == "footsteps":
            material, wave = look.floor, sounds.footstep_sound(look.floor, rng, sr)
        else:
            material, wave = "wood", sounds.chop_sound(rng, sr)
        out.append((k, cls, material, sounds.distant(wave, sr, -rng.uniform(8.0, 16.0))))
    return out


# ------------------------------------------------------------------------------------------------ narration


def narrate(actions: list[Action], events: list[SoundEvent], passersby: list[Passerby]) -> str:
    """One line, first person: what is done (in order) and what is heard off-screen."""
    phrases = [a.phrase() for a in actions if a.kind in EVENT_CLASSES]
    text = "I " + ", then ".join(phrases) + "." if phrases else "I look around the workbench."
    heard = [_OFFSCREEN_WORDS[e.cls].format(material=e.material) for e in events if not e.visible]
    if heard:
        text += " Off-screen: " + ", ".join(heard) + "."
    if passersby:
        text += " Someone walks past behind the bench."
    return text
