"""Procedural first-person scenes whose sound events are known exactly (``egosonics synth``).

A map, in the order a clip is made:

    settings    SynthSettings: size, mode (scene / single / pair), classes, difficulty knobs; EVENT_CLASSES,
                REALISTIC_CLASSES
    actions/    what the wearer does (Impact, Saw, Chop, Machine, Pour, Walk; Feint, Passerby are silent):
                times on frame boundaries, motion, drawing, and one sound per event; one module per action family:
                base (EASE, Track, Action), strike (Impact, Feint, Chop), saw, machine, pour, walk (Walk, Passerby)
    world       the static panorama (wall, bench, floor) and the objects on the bench
    raster      filled shapes on uint8 frames, bounding-box limited
    sounds      the synthesis: modal impacts, rasp, hum, flow, footsteps, room tone
    scene       render_scene / render_pair: plan → camera → panorama → frames → soundtrack → Timeline
    timeline    SoundEvent, Timeline (JSON next to each clip), load_timeline
    dataset     synthesize(): N clips as MP4 + WAV + JSON and manifest.jsonl
    bounce      the older, tiny bouncing-ball clip used by the training tests
    realistic/  ``--difficulty realistic`` (the default for training data): the same contract, rendered as physics,
                not as a cue: contacts decelerate and stop, textures, hands, blur, shake, light, noise, drawn frame
                rate / size / bitrate, four more classes, CC0 / CC BY recordings (scene, actions, walk, physics, optics,
                textures, bodies, sfx)
"""

# Imported when first used, so that `egosonics --help` (which reads the settings' ranges) does not load the renderer.
_LAZY = {
    "SynthScene": "egosonics.synth.scene",
    "render_pair": "egosonics.synth.scene",
    "render_scene": "egosonics.synth.scene",
    "DIFFICULTY": "egosonics.synth.settings",
    "EVENT_CLASSES": "egosonics.synth.settings",
    "REALISTIC_CLASSES": "egosonics.synth.settings",
    "SynthSettings": "egosonics.synth.settings",
    "settings_for": "egosonics.synth.settings",
    "SoundEvent": "egosonics.synth.timeline",
    "Timeline": "egosonics.synth.timeline",
    "load_timeline": "egosonics.synth.timeline",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'egosonics.synth' has no attribute {name!r}")
