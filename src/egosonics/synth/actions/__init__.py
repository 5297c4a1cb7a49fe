"""What the wearer does: one class per kind of action, each a run of sound events with its motion, drawing and sound.

An action is planned once (times on frame boundaries, positions in world pixels), then asked, frame by frame, to shake
and draw itself, and once to make the sound of each of its events. Motions that make sound (a saw's push, a rotor's
speed, a stream's flow) are defined at the audio rate and sampled at the frame times, so that what is seen and what
is heard come from one curve.

    class       action        visual signature (the onset frame)                  sound (``synth.sounds``)
    impact      Impact        tool head reaches the object at full speed; the     modal: wood / metal / glass
                              object jolts and shakes as long as it rings
    chop        Chop          knife edge reaches the board; a slice falls off     crunch + board knock
    saw         Saw           blade drops onto the cut and starts its push        rasp locked to the blade's speed
    machine     Machine       finger presses the switch; light on, wheel spins,   hum locked to the wheel's speed
                              housing shakes exactly while it hums
    pour        Pour          falling stream reaches the glass; water rises       flow noise, bubbles, rising resonance
    footsteps   Walk          a shoe lands and stops; the view jolts              heel thump + floor response
    (silent)    Feint         a tool stops short of an object                     none (a distractor)

The modules, one per action family:

    base        the motion helpers (EASE, Track), the narration's words, PlannedEvent, the base class Action, and the
                hand-held tool (draw_tool, draw_tool_with_hand)
    strike      a tool brought down onto an object: Impact, Feint, Chop
    saw         Saw
    machine     Machine
    pour        Pour
    walk        people walking: Walk, and the silent Passerby behind the bench
"""

from egosonics.synth.actions.base import (
    EASE,
    Action,
    PlannedEvent,
    Track,
    draw_tool,
    draw_tool_with_hand,
    number_word,
    times_word,
)
from egosonics.synth.actions.machine import Machine
from egosonics.synth.actions.pour import Pour
from egosonics.synth.actions.saw import Saw
from egosonics.synth.actions.strike import Chop, Feint, Impact
from egosonics.synth.actions.walk import Passerby, Walk

__all__ = [
    "EASE",
    "Action",
    "Chop",
    "Feint",
    "Impact",
    "Machine",
    "Passerby",
    "PlannedEvent",
    "Pour",
    "Saw",
    "Track",
    "Walk",
    "draw_tool",
    "draw_tool_with_hand",
    "number_word",
    "times_word",
]
