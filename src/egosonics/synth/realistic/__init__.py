"""``egosonics synth --difficulty realistic``: scenes that look like physics, not like a cue.

The same contract as the easy scenes (``synth.scene.render_scene`` → frames, audio, ``Timeline``), rendered so that
nothing in the picture marks a sound's start by itself: a moving hand, tool or object decelerates and is stopped by a
surface at the contact; steps are the head's fall stopped at each heel strike; continuous sources are sustained
motion. Around them: textures, hands, motion blur, shake, lighting changes, sensor noise, compression, drawn frame
rates and sizes, silent look-alike motions and off-screen sounds.

    scene      render_realistic: format → plan → head → world → exposures → soundtrack → Timeline
    actions    the classes' motions, drawings and sounds (Strike, Chop, Saw, Machine, Pour, Place, Door, Water,
               Roll; Feint is silent)
    walk       footsteps: the gait, the feet, procedural or recorded floors
    physics    speed profiles (minimum-jerk, decelerating contact), Path, Wobble (sway, shake), Gait, vibration
    optics     Format (fps, size, shutter, bitrate, ...), exposure with motion blur, Sensor (light, noise)
    textures   fractal-noise surfaces and the panorama
    bodies     arms, hands, tools
    sfx        recordings from a user-given folder, CC0 / CC BY only, with attributions
"""

from egosonics.synth.realistic.scene import render_realistic

__all__ = ["render_realistic"]
