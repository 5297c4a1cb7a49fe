"""Arms, hands and hand-held tools of realistic scenes, drawn per exposure sample (so they blur when they move).

An arm reaches from a shoulder below the frame through a bent elbow to the hand; the hand is a palm with curled
fingers and a thumb around a grip. Tools are drawn from their working point (a mallet's face, a knife's edge, a
saw's teeth) with the handle towards the hand; each returns where the hand holds it.
"""

from __future__ import annotations

import math

from egosonics.synth.raster import Canvas, Color, shade
from egosonics.synth.world import Look


def draw_arm(canvas: Canvas, look: Look, hx: float, hy: float, u: float, side: int = 1) -> None:
    """Upper arm and forearm (sleeve) from a shoulder below the frame (right: side 1, left: -1) to a wrist at
    (hx, hy), the elbow bent outwards; a cuff at the wrist."""
    w, h = canvas.width, canvas.height
    sx, sy = canvas.ox + (0.5 + 0.42 * side) * w, canvas.oy + 1.45 * h
    mx, my = 0.5 * (sx + hx), 0.5 * (sy + hy)
    dx, dy = hx - sx, hy - sy
    length = math.hypot(dx, dy) + 1e-6
    ex, ey = mx + side * 0.18 * length * dy / length * -1, my + side * 0.18 * length * dx / length
    canvas.capsule(sx, sy, ex, ey, 7.0 * u, shade(look.sleeve, 0.85))
    canvas.capsule(ex, ey, hx, hy, 5.8 * u, look.sleeve)
    canvas.capsule(ex, ey, hx, hy, 2.0 * u, shade(look.sleeve, 1.15), alpha=0.5)  # light along the forearm
    # The cuff: the sleeve's end around the wrist.
    cx, cy = hx + (ex - hx) * 0.12, hy + (ey - hy) * 0.12
    canvas.capsule(cx, cy, hx + (ex - hx) * 0.05, hy + (ey - hy) * 0.05, 6.2 * u, shade(look.sleeve, 0.7))


def draw_hand(canvas: Canvas, look: Look, hx: float, hy: float, u: float, open_hand: bool = False) -> None:
    """A right hand around a grip at (hx, hy): palm, four curled fingers (or spread when ``open_hand``), thumb."""
    skin: Color = look.skin
    canvas.ellipse(hx + 1.5 * u, hy + 1.0 * u, 6.0 * u, 5.0 * u, shade(skin, 0.92))
    for j in range(4):
        fx = hx - 3.6 * u + 2.4 * j * u
        if open_hand:
            canvas.capsule(fx, hy - 2 * u, fx - 1.5 * u + 0.8 * j * u, hy - 9 * u, 1.15 * u, skin)
        else:
            canvas.capsule(fx, hy - 2.5 * u, fx - 0.6 * u, hy + 1.5 * u, 1.25 * u, shade(skin, 1.0 - 0.04 * j))
    canvas.capsule(hx + 4.5 * u, hy + 1 * u, hx + 1.5 * u, hy - 3.5 * u, 1.4 * u, shade(skin, 1.06))
    canvas.ellipse(hx - 1 * u, hy - 1.5 * u, 2.5 * u, 1.4 * u, shade(skin, 1.12), alpha=0.6)  # knuckle highlight


def draw_tool(canvas: Canvas, tool: str, x: float, y: float, u: float) -> tuple[float, float]:
    """A tool whose working point is (x, y); returns where the hand holds it."""
    if tool == "mallet":
        grip = (x + 20 * u, y + 4 * u)
        canvas.capsule(x + 3 * u, y - 5 * u, *grip, 1.8 * u, (150, 110, 70))
        canvas.rect(x - 7 * u, y - 10 * u, x + 7 * u, y, (110, 72, 40))
        canvas.rect(x - 7 * u, y - 10 * u, x + 7 * u, y - 8 * u, (140, 98, 60))
    elif tool == "hammer":
        grip = (x + 21 * u, y + 5 * u)
        canvas.capsule(x + 2 * u, y - 4 * u, *grip, 1.6 * u, (60, 50, 45))
        canvas.rect(x - 4 * u, y - 8 * u, x + 6 * u, y, (95, 98, 105))
        canvas.rect(x - 4 * u, y - 2 * u, x + 6 * u, y, (150, 152, 160))
    elif tool == "spoon":
        grip = (x + 19 * u, y + 3 * u)
        canvas.capsule(x + 4 * u, y - 3 * u, *grip, 1.2 * u, (185, 188, 198))
        canvas.ellipse(x, y - 3 * u, 6 * u, 3.2 * u, (195, 198, 208))
        canvas.ellipse(x + 1 * u, y - 4 * u, 2.5 * u, 1.2 * u, (240, 240, 245))
    elif tool == "knife":  # blade edge down at y, from x - 14u to x + 4u; handle to the right
        grip = (x + 14 * u, y - 3 * u)
        canvas.polygon([(x - 14 * u, y), (x + 5 * u, y), (x + 5 * u, y - 6 * u), (x - 10 * u, y - 4 * u)],
                       (200, 204, 212))
        canvas.rect(x - 12 * u, y - 1 * u, x + 5 * u, y, (235, 238, 245))
        canvas.capsule(x + 6 * u, y - 3 * u, *grip, 2.2 * u, (45, 35, 30))
    elif tool == "saw":  # teeth along y from x - 22u to x + 10u; handle to the right
        grip = (x + 16 * u, y - 6 * u)
        canvas.polygon([(x - 22 * u, y), (x + 10 * u, y), (x + 10 * u, y - 10 * u), (x - 22 * u, y - 6 * u)],
                       (180, 184, 192))
        for j in range(16):
            tx = x - 22 * u + 2 * j * u
            canvas.polygon([(tx, y - 0.5 * u), (tx + 1 * u, y + 1 * u), (tx + 2 * u, y - 0.5 * u)], (120, 122, 130))
        canvas.rect(x + 10 * u, y - 12 * u, x + 20 * u, y - 1 * u, (150, 60, 40))
    else:
        raise AssertionError(f"unknown tool {tool!r}")
    return grip


def contact_shadow(canvas: Canvas, x: float, surface_y: float, height: float, u: float, half_width: float) -> None:
    """The soft shadow a held tool or object casts on the surface below it: darker and tighter as it comes down
    (it meets its shadow at the contact), gone above ~40 units."""
    if height > 40 * u:
        return
    closeness = math.exp(-max(height, 0.0) / (12 * u))
    canvas.ellipse(x + 0.25 * height, surface_y, half_width + 0.3 * height, 1.6 * u + 0.05 * height, (0, 0, 0),
                   alpha=0.1 + 0.25 * closeness)
