"""One realistic clip: draw the camera's format, plan the actions, move the head, expose the frames (blur, light,
noise), mix the soundtrack (procedural sounds and recordings) and write down the truth.

A clip is a function of (seed, index, settings) only: its random streams are spawned from
``SeedSequence([seed, index, 1])`` (the easy scenes use ``[seed, index]``), so the same arguments give byte-identical
frames, audio and timeline.
"""

from __future__ import annotations

import logging
import math
from functools import lru_cache

import numpy as np
from scipy import signal

from egosonics.clip_spec import ClipSpec
from egosonics.errors import EgoSonicsError
from egosonics.synth import sounds
from egosonics.synth.actions.walk import Passerby
from egosonics.synth.raster import Canvas
from egosonics.synth.realistic.actions import (
    Chop,
    Door,
    Feint,
    Machine,
    Place,
    Pour,
    RAction,
    Roll,
    Saw,
    Strike,
    Water,
)
from egosonics.synth.realistic.optics import Format, Sensor, expose
from egosonics.synth.realistic.physics import PROFILES, Wobble
from egosonics.synth.realistic.sfx import SFX_FLOORS, SfxLibrary
from egosonics.synth.realistic.textures import Surfaces, build_panorama
from egosonics.synth.realistic.walk import Walk
from egosonics.synth.scene import plan_actions, plan_passersby
from egosonics.synth.settings import FLOOR_MATERIALS, IMPACT_MATERIALS, SFX_CLASSES, SynthSettings
from egosonics.synth.timeline import Distractor, SoundEvent, Timeline
from egosonics.synth.world import Layout, Look, draw_clutter

log = logging.getLogger(__name__)

_EVENTS_PER_ACTION = {"impact": (1, 3), "chop": (2, 4), "saw": (2, 4), "footsteps": (3, 6), "machine": (1, 1),
                      "pour": (1, 1), "place": (1, 2), "door": (1, 1), "water": (1, 1), "roll": (1, 1)}
_OFFSCREEN_WORDS = {"impact": "a knock on {material}", "footsteps": "someone's footstep", "chop": "a chop",
                    "door": "a door closing"}
_MIN_GAP_S = 0.04  # off-screen onsets may overlap other sounds, but not start within 40 ms of another onset


@lru_cache(maxsize=4)
def sfx_library(folder: str) -> SfxLibrary:
    return SfxLibrary(folder)


def render_realistic(seed: int, *, index: int, settings: SynthSettings, stems: bool = False,
                     name: str | None = None):  # -> SynthScene (imported lazily: scene.py imports this module)
    """Render realistic clip ``index`` of ``seed`` (see ``synth.scene.render_scene``)."""
    from egosonics.synth.scene import SynthScene, clip_class, clip_name

    # 1. Independent random streams; the camera's format first.
    streams = np.random.SeedSequence([seed, index, 1]).spawn(9)
    fmt_rng, plan_rng, look_rng, sound_rng, off_rng, noise_rng, head_rng, sensor_rng, room_rng = (
        np.random.default_rng(s) for s in streams)
    fmt = Format.draw(fmt_rng, settings)
    clip = ClipSpec(duration_s=settings.clip.duration_s, fps=fmt.fps, sample_rate=settings.clip.sample_rate)
    layout = Layout(fmt.height, fmt.width, fmt.fps, clip.sample_rate)
    n_frames, n_samples, sr = clip.num_frames, clip.num_samples, clip.sample_rate
    sfx = sfx_library(settings.sfx_dir) if settings.sfx_dir else None
    only = clip_class(settings, index)
    needed = [c for c in ((only,) if only else settings.classes) if c in SFX_CLASSES]
    if needed and sfx is None:
        raise EgoSonicsError(f"class(es) {', '.join(needed)} need an sfx folder (settings.sfx_dir is not set)")
    for cls in needed:
        sfx.check(cls)  # type: ignore[union-attr]
    floors = FLOOR_MATERIALS + tuple(f for f in SFX_FLOORS if sfx is not None and sfx.allowed(f"footsteps-{f}"))
    floor = str(look_rng.choice(floors))
    look = Look.draw(look_rng, floor if floor in FLOOR_MATERIALS else "wood")
    surfaces = Surfaces.draw(look_rng, floor)

    # 2. Plan the actions (exact contact times) and the silent distractors.
    def make(kind: str, start: float, station: float, n: int) -> RAction:
        return _make(kind, plan_rng, layout, look, start, station, n, floor)

    actions, n_passersby = plan_actions(plan_rng, layout, settings, (only,) if only else settings.classes, make,
                                        first_start=(0.1, 0.4), events_per_action=_EVENTS_PER_ACTION)
    pano_width = int(math.ceil(max(a.extent[1] for a in actions) + 1.5 * layout.width)) if actions else \
        3 * layout.width
    margin = int(math.ceil(3 + 0.02 * max(fmt.width, fmt.height) + 4 * settings.camera_shake * layout.u))

    # 3. The head: stations, turns, sway, shake, roll; passers-by timed to be seen.
    head = Head(actions, layout, settings, head_rng, pano_width, margin)
    passersby = plan_passersby(plan_rng, layout, n_passersby, lambda t: head(t)[0], clip.duration_s, actions)

    # 4. The static world: textures, the stations' fixed objects, silent clutter.
    pano = build_panorama(layout, pano_width, surfaces, look_rng)
    world = Canvas(pano)
    for action in actions:
        action.bake(world, look_rng)
    _scatter_clutter(world, layout, actions, look_rng)

    # 5. Frames: each an exposure over the shutter time, developed by the sensor.
    sensor = Sensor(fmt, sensor_rng)
    reach = 0.8 * layout.width + margin

    def draw(window: np.ndarray, origin: tuple[float, float], t: float) -> None:
        canvas = Canvas(window, origin)
        for person in passersby:
            person.draw(canvas, t)
        left, right = origin[0] - reach, origin[0] + window.shape[1] + reach
        for action in actions:
            lo, hi = action.extent
            if hi >= left and lo <= right:
                action.draw(canvas, t)

    frames = np.empty((n_frames, fmt.height, fmt.width, 3), np.uint8)  # [N, H, W, 3]
    for k in range(n_frames):
        t = k / fmt.fps
        frames[k] = sensor.develop(expose(pano, fmt, head, t, draw, margin), t)

    # 6. Soundtrack: each event's sound from its exact contact sample, in the room's reverberation; off-screen
    #    sounds; room tone.
    room = Room.draw(room_rng, sr)
    events: list[SoundEvent] = []
    placed: list[tuple[int, np.ndarray]] = []
    used: list[dict] = []
    for i, action in enumerate(actions):
        for contact, (wave, sources), offset in zip(action.events, action.sounds(sound_rng, sfx), action.offsets(),
                                                     strict=True):
            start = int(round(contact.time_s * sr))
            if start >= n_samples:
                continue
            x, y, _ = head(contact.time_s)
            position = (round((contact.point[0] - x) / layout.width, 4),
                        round((contact.point[1] - y) / layout.height, 4))
            end = start + len(wave) if offset is None else min(start + len(wave), int(round(offset * sr)))
            wave = room(wave)
            end = max(end, start + len(wave)) if offset is None else end
            events.append(_event(contact.time_s, start, end, n_samples, fmt.fps, sr, action.kind, contact.material,
                                 position, i))
            placed.append((start, wave))
            used.extend(sources)
    for t_on, cls, material, wave, sources in _offscreen(off_rng, settings, look, sfx, events, clip.duration_s, sr,
                                                         only):
        start = int(round(t_on * sr))
        wave = room(wave)
        events.append(_event(t_on, start, start + len(wave), n_samples, fmt.fps, sr, cls, material, None, -1))
        placed.append((start, wave))
        used.extend(sources)
    order = sorted(range(len(events)), key=lambda j: (events[j].onset_sample, j))
    events, placed = [events[j] for j in order], [placed[j] for j in order]
    audio, stem_list = sounds.mix(placed, n_samples, settings.noise_dbfs, noise_rng, stems=stems)

    # 7. The truth, with the camera's format and the recordings used (for attributions).
    distractors = [Distractor(round(a.start_s, 4), round(a.end_s, 4), "feint") for a in actions if a.kind == "feint"]
    distractors += [Distractor(round(p.start_s, 4), round(p.end_s, 4), "passerby") for p in passersby]
    distractors.sort(key=lambda d: d.start_s)
    attributions = list({(s["file"], s["used_as"]): s for s in used}.values())
    render = {"difficulty": "realistic", "floor": floor, "wall": surfaces.wall, "bench": surfaces.bench,
              "rt60_s": room.rt60_s, "reverb_level": room.level, **fmt.to_dict()}
    timeline = Timeline(
        name=name or clip_name(settings.mode, seed, index), seed=seed, index=index, mode=settings.mode,
        duration_s=clip.duration_s, fps=fmt.fps, sample_rate=sr, size=(fmt.height, fmt.width), events=events,
        distractors=distractors, narration=_narrate(actions, events, passersby), settings=settings.to_dict(),
        sfx=sorted(attributions, key=lambda s: (s["file"], s["used_as"])), render=render,
    )
    return SynthScene(frames=frames, audio=audio, timeline=timeline, stems=stem_list,
                      video_options=fmt.video_options(settings.video_preset))


def _event(t: float, start: int, end: int, n_samples: int, fps: int, sr: int, cls: str, material: str,
           position: tuple[float, float] | None, action: int) -> SoundEvent:
    """A timeline event at exact contact time t (onset_frame: the first frame at or after it)."""
    end = min(end, n_samples)
    return SoundEvent(onset_s=round(t, 6), offset_s=round(end / sr, 6), cls=cls, material=material,
                      position=position, visible=position is not None, onset_frame=int(math.ceil(t * fps - 1e-9)),
                      onset_sample=start, offset_sample=end, action=action)


class Room:
    """The workshop's reverberation: an exponentially decaying noise tail (RT60 0.2–0.6 s, darker as it decays) mixed
    under each sound. Causal: the direct sound comes first, so nothing is heard before an onset."""

    def __init__(self, rt60_s: float, level: float, tail: np.ndarray) -> None:
        self.rt60_s, self.level, self.tail = rt60_s, level, tail

    @classmethod
    def draw(cls, rng: np.random.Generator, sr: int) -> Room:
        rt60 = round(float(rng.uniform(0.2, 0.6)), 3)
        level = round(float(rng.uniform(0.08, 0.25)), 3)
        n = int(rt60 * sr)
        t = np.arange(n) / sr
        tail = sounds.filtered(rng.standard_normal(n), "lowpass", 5000.0, sr) * np.exp(-6.9 * t / rt60)
        tail[: int(0.005 * sr)] = 0.0  # the first reflections arrive after ~5 ms
        return cls(rt60, level, tail / np.sqrt(np.sum(tail ** 2)))

    def __call__(self, wave: np.ndarray) -> np.ndarray:
        wet = signal.fftconvolve(wave, self.tail)  # [len(wave) + len(tail) - 1]
        out = self.level * wet
        out[: len(wave)] += wave
        return out


# ------------------------------------------------------------------------------------------------ the head


class Head:
    """The camera's pose at any time: at each action's station (or walking), turning between stations along a
    minimum-jerk path, plus head sway, hand-held shake and roll. Callable: t → (x, y, roll)."""

    def __init__(self, actions: list[RAction], layout: Layout, settings: SynthSettings, rng: np.random.Generator,
                 pano_width: int, margin: int) -> None:
        self.actions, self.layout = actions, layout
        self.starts = [a.start_s for a in actions]
        u, hm, sh = layout.u, settings.head_motion, settings.camera_shake
        self.sway = (Wobble(rng, (0.1, 0.7), 1.6 * hm * u), Wobble(rng, (0.1, 0.9), 1.1 * hm * u))
        self.shake = (Wobble(rng, (2.0, 12.0), sh * u), Wobble(rng, (2.0, 12.0), sh * u))
        self.roll = Wobble(rng, (0.2, 5.0), 0.004 * hm + 0.006 * sh)
        self.bounds = (margin, pano_width - layout.width - margin - 1,
                       margin, layout.pano_height - layout.height - margin - 1)

    def base(self, t: float) -> tuple[float, float]:
        actions, lay = self.actions, self.layout
        if not actions:
            return 0.4 * lay.width, lay.stand_y
        i = int(np.searchsorted(self.starts, t, side="right")) - 1
        if i < 0:
            return actions[0].view_start()
        if t <= actions[i].end_s:
            return actions[i].view(t)
        if i + 1 < len(actions):
            a, b = actions[i], actions[i + 1]
            s = PROFILES["smooth"]((t - a.end_s) / max(b.start_s - a.end_s, 1e-6))
            (x0, y0), (x1, y1) = a.view_end(), b.view_start()
            return x0 + (x1 - x0) * s, y0 + (y1 - y0) * s
        return actions[i].view_end()

    def __call__(self, t: float) -> tuple[float, float, float]:
        x, y = self.base(t)
        x += self.sway[0](t) + self.shake[0](t)
        y += self.sway[1](t) + self.shake[1](t)
        x0, x1, y0, y1 = self.bounds
        return min(max(x, x0), x1), min(max(y, y0), y1), self.roll(t)


# ------------------------------------------------------------------------------------------------ planning


def _make(kind: str, rng: np.random.Generator, layout: Layout, look: Look, start: float, x: float, n: int,
          floor: str) -> RAction:
    if kind == "impact":
        return Strike(layout, look, rng, start, x, n, str(rng.choice(IMPACT_MATERIALS)))
    if kind == "chop":
        return Chop(layout, look, rng, start, x, n)
    if kind == "saw":
        return Saw(layout, look, rng, start, x, n)
    if kind == "machine":
        return Machine(layout, look, rng, start, x)
    if kind == "pour":
        return Pour(layout, look, rng, start, x)
    if kind == "place":
        return Place(layout, look, rng, start, x, n)
    if kind == "door":
        return Door(layout, look, rng, start, x)
    if kind == "water":
        return Water(layout, look, rng, start, x)
    if kind == "roll":
        return Roll(layout, look, rng, start, x)
    if kind == "footsteps":
        return Walk(layout, look, rng, start, x, n, rng.uniform(1.3, 2.2) * layout.width, floor)
    if kind == "feint":
        return Feint(layout, look, rng, start, x)
    raise AssertionError(f"unknown action kind {kind!r}")


def _scatter_clutter(world: Canvas, layout: Layout, actions: list[RAction], rng: np.random.Generator) -> None:
    stations = [a.station_x for a in actions if not isinstance(a, Walk)] + [a.x_to for a in actions
                                                                             if isinstance(a, Walk)]
    x = rng.uniform(0.1, 0.3) * layout.width
    while x < world.width - 20 * layout.u:
        if all(abs(x - s) > 0.45 * layout.width for s in stations):
            draw_clutter(world, x, layout.object_y + rng.uniform(-6, 6) * layout.u, layout.u, rng)
        x += rng.uniform(0.3, 0.55) * layout.width


def _offscreen(rng: np.random.Generator, settings: SynthSettings, look: Look, sfx: SfxLibrary | None,
               visible: list[SoundEvent], duration: float, sr: int,
               only: str | None) -> list[tuple[float, str, str, np.ndarray, list[dict]]]:
    """Off-screen sounds (time, class, material, waveform, recordings): anywhere, overlapping other sounds."""
    pool = [c for c in ("impact", "footsteps", "chop", "door") if c in settings.classes]
    pool = [c for c in pool if c != "door" or (sfx is not None and sfx.allowed("door"))]
    if only is not None:
        pool = [only] if only in pool else []
    if not pool or settings.offscreen == 0:
        return []
    taken = [e.onset_s for e in visible]
    out = []
    for _ in range(settings.offscreen):
        for _attempt in range(50):
            t = float(rng.uniform(0.2, duration - 0.3))
            if all(abs(t - other) >= _MIN_GAP_S for other in taken):
                break
        else:
            continue
        taken.append(t)
        cls = str(rng.choice(pool))
        sources: list[dict] = []
        if cls == "impact":
            material = str(rng.choice(IMPACT_MATERIALS))
            wave = sounds.impact_sound(material, rng, sr)
        elif cls == "footsteps":
            material, wave = look.floor, sounds.footstep_sound(look.floor, rng, sr)
        elif cls == "door":
            recording, src = sfx.pick("door", rng, sr)  # type: ignore[union-attr]
            material, wave, sources = "door", 0.5 * recording, [src.attribution("door")]
        else:
            material, wave = "wood", sounds.chop_sound(rng, sr)
        out.append((t, cls, material, sounds.distant(wave, sr, -rng.uniform(6.0, 16.0)), sources))
    return out


def _narrate(actions: list[RAction], events: list[SoundEvent], passersby: list[Passerby]) -> str:
    phrases = [a.phrase() for a in actions if a.kind != "feint"]
    text = "I " + ", then ".join(phrases) + "." if phrases else "I look around the workbench."
    heard = [_OFFSCREEN_WORDS[e.cls].format(material=e.material) for e in events if not e.visible]
    if heard:
        text += " Off-screen: " + ", ".join(heard) + "."
    if passersby:
        text += " Someone walks past behind the bench."
    return text
