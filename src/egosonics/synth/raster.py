"""Filled shapes on an RGB uint8 image, each touching only its own bounding box (the scenes draw ~10 per frame).

Coordinates are float pixels in *world* space: x to the right, y down; a pixel is covered when its centre is inside
the shape. A ``Canvas`` subtracts its ``origin`` (the camera's top-left corner in the world) from every coordinate,
so the same drawing code serves the static panorama (origin 0, 0) and every video frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Color = tuple[int, int, int]


class Canvas:
    """Draws in place on ``image`` [H, W, 3] uint8, seen through a camera whose top-left corner is at ``origin``.

    Args:
        image: the target array, modified in place.
        origin: (x, y) world coordinates of the image's top-left pixel centre.
    """

    def __init__(self, image: np.ndarray, origin: tuple[float, float] = (0.0, 0.0)) -> None:
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8, f"bad canvas {image.shape}"
        self.image = image
        self.height, self.width = image.shape[:2]
        self.ox, self.oy = origin

    # ------------------------------------------------------------------------------------------------ geometry

    def visible(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Whether a world-space box overlaps the image."""
        return (x1 - self.ox >= -0.5 and x0 - self.ox <= self.width - 0.5
                and y1 - self.oy >= -0.5 and y0 - self.oy <= self.height - 0.5)

    def _box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int] | None:
        """The image rows/columns [r0, r1) × [c0, c1) whose pixel centres may lie in a world box; None if empty."""
        c0 = max(0, math.ceil(x0 - self.ox - 0.5))
        c1 = min(self.width, math.floor(x1 - self.ox + 0.5) + 1)
        r0 = max(0, math.ceil(y0 - self.oy - 0.5))
        r1 = min(self.height, math.floor(y1 - self.oy + 0.5) + 1)
        if c0 >= c1 or r0 >= r1:
            return None
        return r0, r1, c0, c1

    def _grid(self, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """World coordinates of the pixel centres of a box: ys [h, 1], xs [1, w] (float32)."""
        r0, r1, c0, c1 = box
        ys = (np.arange(r0, r1, dtype=np.float32) + np.float32(self.oy))[:, None]  # [h, 1]
        xs = (np.arange(c0, c1, dtype=np.float32) + np.float32(self.ox))[None, :]  # [1, w]
        return ys, xs

    def _paint(self, box: tuple[int, int, int, int], mask: np.ndarray | None, color: Color, alpha: float) -> None:
        r0, r1, c0, c1 = box
        region = self.image[r0:r1, c0:c1]  # [h, w, 3] view
        if alpha >= 1.0:
            if mask is None:
                region[:] = color
            else:
                region[mask] = color
            return
        target = region if mask is None else region[mask]
        mixed = target * np.float32(1.0 - alpha) + np.asarray(color, np.float32) * np.float32(alpha)
        if mask is None:
            region[:] = mixed.astype(np.uint8)
        else:
            region[mask] = mixed.astype(np.uint8)

    # ------------------------------------------------------------------------------------------------ shapes

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: Color, alpha: float = 1.0) -> None:
        """Axis-aligned rectangle with corners (x0, y0) and (x1, y1)."""
        box = self._box(x0, y0, x1 - 1e-3, y1 - 1e-3)
        if box is not None:
            self._paint(box, None, color, alpha)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, color: Color, alpha: float = 1.0) -> None:
        """Axis-aligned ellipse with centre (cx, cy) and radii rx, ry."""
        box = self._box(cx - rx, cy - ry, cx + rx, cy + ry)
        if box is None or rx <= 0 or ry <= 0:
            return
        ys, xs = self._grid(box)
        mask = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0  # [h, w]
        self._paint(box, mask, color, alpha)

    def capsule(self, x0: float, y0: float, x1: float, y1: float, radius: float, color: Color,
                alpha: float = 1.0) -> None:
        """A thick line segment with round ends (arms, handles, legs, spokes)."""
        box = self._box(min(x0, x1) - radius, min(y0, y1) - radius, max(x0, x1) + radius, max(y0, y1) + radius)
        if box is None:
            return
        ys, xs = self._grid(box)
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        # Projection of each pixel on the segment, clamped to its ends, then the distance to that point.
        s = np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0) if length2 > 0 else np.float32(0.0)
        mask = (xs - x0 - s * dx) ** 2 + (ys - y0 - s * dy) ** 2 <= radius * radius  # [h, w]
        self._paint(box, mask, color, alpha)

    def polygon(self, points: Sequence[tuple[float, float]], color: Color, alpha: float = 1.0) -> None:
        """A convex polygon (vertices in either winding order)."""
        pts = np.asarray(points, np.float64)  # [m, 2]
        box = self._box(pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
        if box is None:
            return
        ys, xs = self._grid(box)
        # Inside = on the same side of every edge; the sign follows the winding order.
        area = np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
        sign = 1.0 if area >= 0 else -1.0
        mask = np.ones((box[1] - box[0], box[3] - box[2]), bool)
        for (ax, ay), (bx, by) in zip(pts, np.roll(pts, -1, axis=0), strict=True):
            mask &= sign * ((bx - ax) * (ys - ay) - (by - ay) * (xs - ax)) >= 0
        self._paint(box, mask, color, alpha)

    def shift(self, x0: float, y0: float, x1: float, y1: float, dx: int, dy: int) -> None:
        """Move the pixels of a world box by (dx, dy) whole pixels: how a struck object or a running machine shakes.

        The uncovered strip keeps its old pixels, which at one or two pixels reads as motion blur.
        """
        if dx == 0 and dy == 0:
            return
        box = self._box(x0, y0, x1, y1)
        if box is None:
            return
        r0, r1, c0, c1 = box
        patch = self.image[r0:r1, c0:c1].copy()  # [h, w, 3]
        # Destination rows/columns, clipped to the image; the source is cut to match.
        t0, t1 = max(0, r0 + dy), min(self.height, r1 + dy)
        l0, l1 = max(0, c0 + dx), min(self.width, c1 + dx)
        if t0 >= t1 or l0 >= l1:
            return
        self.image[t0:t1, l0:l1] = patch[t0 - r0 - dy:t1 - r0 - dy, l0 - c0 - dx:l1 - c0 - dx]


def rotated(points: Sequence[tuple[float, float]], angle: float, cx: float, cy: float) -> list[tuple[float, float]]:
    """Points given relative to a pivot, rotated by ``angle`` radians (clockwise on screen, y down), then moved to
    the pivot (cx, cy)."""
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in points]


def shade(color: Color, factor: float) -> Color:
    """A lighter (factor > 1) or darker (< 1) version of a colour."""
    return tuple(int(min(255, max(0, round(v * factor)))) for v in color)  # type: ignore[return-value]
