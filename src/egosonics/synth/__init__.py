"""Procedural first-person scenes whose sound events are known exactly (``egosonics synth``).

A map, in the order a clip is made:

    settings    SynthSettings: size, mode (scene / single / pair), classes, difficulty knobs; EVENT_CLASSES
    actions     what the wearer does (Impact, Saw, Chop, Machine, Pour, Walk; Feint, Passerby are silent):
                times on frame boundaries, motion, drawing, and one sound per event
    world       the static panorama (wall, bench, floor) and the objects on the bench
    raster      filled shapes on uint8 frames, bounding-box limited
    sounds      the synthesis: modal impacts, rasp, hum, flow, footsteps, room tone
    scene       render_scene / render_pair: plan → camera → panorama → frames → soundtrack → Timeline
    timeline    SoundEvent, Timeline (JSON next to each clip), load_timeline
    dataset     synthesize(): N clips as MP4 + WAV + JSON and manifest.jsonl
    bounce      the older, tiny bouncing-ball clip used by the training tests
"""

from egosonics.synth.scene import SynthScene, render_pair, render_scene
from egosonics.synth.settings import DIFFICULTY, EVENT_CLASSES, SynthSettings, settings_for
from egosonics.synth.timeline import SoundEvent, Timeline, load_timeline

__all__ = [
    "DIFFICULTY",
    "EVENT_CLASSES",
    "SoundEvent",
    "SynthScene",
    "SynthSettings",
    "Timeline",
    "load_timeline",
    "render_pair",
    "render_scene",
    "settings_for",
]
