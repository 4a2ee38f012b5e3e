"""The one place that knows the JSON of streamlit-drawable-canvas (Fabric.js 7).

No page uses that component any more: the Measure and Dataset pages have a
photo editor of their own (``app_pages/photo_editor``, events in image pixels,
see :mod:`objlen.workbench`). What is still shared from here: the point
colours, :func:`css_rgb` and :class:`DisplayTransform`.

The Measure page shows the photo as the canvas's background and the points
A, B, E (object) and C, D (reference) as Fabric ``Circle`` objects the operator
drags. This module builds that drawing (``initial_drawing``) and reads the
points back from the canvas's ``json_data``, exactly, in image pixels.

Coordinates:

* image pixels ``(x, y)``: objlen's convention, pixel ``(i, j)`` covers
  ``[i-0.5, i+0.5] x [j-0.5, j+0.5]`` of the original photo (EXIF applied);
* canvas pixels: continuous, ``(0, 0)`` at the canvas's top-left corner, the
  frame of Fabric's ``left``/``top``.

The background is a display-sized copy of the photo, whose edges coincide
with the photo's edges, drawn with ``background_image_fit="contain"``:
``fit = min(W / w, H / h)``, ``offset = ((W - w fit) / 2, (H - h fit) / 2)``
for a background of ``w x h`` on a ``W x H`` canvas. So::

    canvas = offset + (image + 0.5) * scale,   scale = fit * background / photo

(:class:`DisplayTransform`, a :class:`~objlen.geometry.PixelScaling`). The
fit is computed here, because the component reports it only after the first
browser round trip, and never under ``AppTest``.

Points are told apart by their stroke (or fill) colour, which the component
returns unchanged; a custom property such as ``name`` is dropped (Fabric
serialises only its standard properties plus the lock flags; checked in
Chromium with streamlit-drawable-canvas 0.13 / Fabric 7.4). Only when no
circle carries a point colour at all are the circles taken in drawing order. A click with the
toolbar's Edit toggle off adds a stray circle in the canvas's own fill colour;
:func:`read_points` counts those as ``extra``.

This module must not import ``streamlit_drawable_canvas`` (that import fails
outside ``streamlit run`` and ``AppTest``); it is plain Python and NumPy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from objlen.errors import ParameterError
from objlen.geometry import PixelScaling
from objlen.result import POINT_NAMES

#: Radius of a point's circle in canvas pixels. With 6 the selection handles
#: (which Undo/Redo bring back) cover the centre and drags fail; 9 works.
POINT_RADIUS = 9
#: Stroke width of a point's circle in canvas pixels.
POINT_STROKE = 2
#: Colour of each point, RGB. Shared with :mod:`objlen.display.overlay`.
POINT_COLOURS: dict[str, tuple[int, int, int]] = {
    "A": (230, 25, 75),
    "B": (60, 200, 75),
    "E": (255, 225, 25),
    "C": (170, 60, 255),
    "D": (70, 240, 240),
}
#: Fill colour given to the point tool: a click with Edit off adds a circle of
#: this colour, which is not a point colour, so it is recognised as stray.
STRAY_FILL = "rgba(255, 255, 255, 0.6)"
#: Fabric flags that keep a point a point: no scaling, rotation or skewing.
#: They survive Undo/Redo/Reset; ``hasControls`` does not (hence the radius).
LOCK_FLAGS: dict[str, bool] = {
    "lockScalingX": True,
    "lockScalingY": True,
    "lockRotation": True,
    "lockSkewingX": True,
    "lockSkewingY": True,
    "lockScalingFlip": True,
}
#: Top-level field of the drawing that a reset changes, so that the component
#: sees a new ``initial_drawing`` and reloads it (the same dict does nothing).
RESET_FIELD = "objlen_reset"

_ORIGIN = {"left": -0.5, "top": -0.5, "center": 0.0, "bottom": 0.5, "right": 0.5}


# --------------------------------------------------------------------- transform
def contain_fit(
    background_size: tuple[float, float], canvas_size: tuple[float, float]
) -> tuple[float, tuple[float, float]]:
    """The component's ``contain`` fit of a background in a canvas.

    Args:
        background_size: ``(w, h)`` natural size of the background image, px.
        canvas_size: ``(W, H)`` canvas size, px.

    Returns:
        ``(scale, (offset_x, offset_y))`` as the frontend computes them.

    >>> contain_fit((400, 300), (800, 800))
    (2.0, (0.0, 100.0))
    """
    w, h = background_size
    W, H = canvas_size
    if min(w, h, W, H) <= 0:
        raise ParameterError("background and canvas sizes must be positive")
    scale = min(W / w, H / h)
    return scale, ((W - w * scale) / 2.0, (H - h * scale) / 2.0)


class DisplayTransform(PixelScaling):
    """Image pixels to canvas pixels: ``canvas = offset + (image + 0.5) * scale``.

    A :class:`~objlen.geometry.PixelScaling` (so shaped like scikit-image's
    transforms): call it on an ``(N, 2)`` array of ``(x, y)`` image points;
    its :attr:`inverse` maps canvas points back to image points; ``params``
    is its 3x3 matrix. What it adds is :meth:`for_canvas`, the component's fit.

    Attributes:
        scale: ``(sx, sy)`` canvas pixels per image pixel.
        offset: ``(ox, oy)`` canvas position of the photo's top-left corner.

    >>> t = DisplayTransform(scale=(0.5, 0.5), offset=(0.0, 10.0))
    >>> t([[99.5, 19.5]]).tolist()
    [[50.0, 20.0]]
    >>> t.inverse([[50.0, 20.0]]).tolist()
    [[99.5, 19.5]]
    """

    @classmethod
    def for_canvas(
        cls,
        image_size: tuple[int, int],
        background_size: tuple[int, int],
        canvas_size: tuple[int, int] | None = None,
    ) -> DisplayTransform:
        """The transform of a photo shown through a resized background.

        Args:
            image_size: ``(width, height)`` of the original photo.
            background_size: ``(w, h)`` of the display-sized background PNG,
                whose edges are the photo's edges.
            canvas_size: ``(W, H)`` of the canvas; default: the background's.
        """
        fit, offset = contain_fit(background_size, canvas_size or background_size)
        return cls(
            scale=(
                fit * background_size[0] / image_size[0],
                fit * background_size[1] / image_size[1],
            ),
            offset=offset,
        )


# ----------------------------------------------------------------------- colours
def css_rgb(colour: tuple[int, int, int], alpha: float | None = None) -> str:
    """``(r, g, b)`` as CSS ``#rrggbb`` (or ``rgba(...)`` with ``alpha``)."""
    r, g, b = (int(c) for c in colour)
    if alpha is None:
        return f"#{r:02x}{g:02x}{b:02x}"
    return f"rgba({r}, {g}, {b}, {alpha:g})"


_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")
_RGB = re.compile(r"^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*[\d.]+\s*)?\)$")


def parse_rgb(colour: Any) -> tuple[int, int, int] | None:
    """The RGB of a CSS colour in ``#rgb``, ``#rrggbb[aa]`` or ``rgb[a]()`` form,
    or ``None`` for anything else (names, gradients, missing)."""
    if not isinstance(colour, str):
        return None
    text = colour.strip()
    match = _HEX.match(text)
    if match:
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    match = _RGB.match(text)
    if match:
        return tuple(round(float(v)) for v in match.groups())  # type: ignore[return-value]
    return None


# ----------------------------------------------------------------------- drawing
def point_circle(name: str, centre: Sequence[float]) -> dict[str, Any]:
    """The Fabric ``Circle`` of point ``name`` centred at canvas ``centre``."""
    colour = POINT_COLOURS[name]
    return {
        "type": "Circle",
        "originX": "center",
        "originY": "center",
        "left": float(centre[0]),
        "top": float(centre[1]),
        "radius": POINT_RADIUS,
        "fill": css_rgb(colour, 0.35),
        "stroke": css_rgb(colour),
        "strokeWidth": POINT_STROKE,
        "scaleX": 1,
        "scaleY": 1,
        "angle": 0,
        "hasControls": False,
        "hasBorders": True,
        "hoverCursor": "move",
        **LOCK_FLAGS,
    }


def build_drawing(
    points: Mapping[str, Sequence[float]],
    transform: DisplayTransform,
    *,
    reset_counter: int = 0,
) -> dict[str, Any]:
    """The ``initial_drawing`` showing ``points`` (image pixels) on the canvas.

    Points are drawn in :data:`POINT_NAMES` order (names missing from
    ``points`` are left out). ``reset_counter`` is written into the drawing so
    that a reset (a new counter) changes it and the component reloads it.
    """
    unknown = set(points) - set(POINT_NAMES)
    if unknown:
        raise ParameterError(f"unknown point names {sorted(unknown)}; use A, B, E, C or D")
    names = [name for name in POINT_NAMES if name in points]
    centres = transform([points[name] for name in names]) if names else np.zeros((0, 2))
    return {
        "objects": [point_circle(n, c) for n, c in zip(names, centres, strict=True)],
        RESET_FIELD: int(reset_counter),
    }


def _size_after(width: float, height: float, obj: Mapping[str, Any]) -> tuple[float, float]:
    """Fabric's ``_getTransformedDimensions``: the size of the object's box."""
    stroke = float(obj.get("strokeWidth", 1) or 0)  # counted even without a stroke colour
    pre, post = (0.0, stroke) if obj.get("strokeUniform") else (stroke, 0.0)
    sx, sy = float(obj.get("scaleX", 1)), float(obj.get("scaleY", 1))
    skew_x, skew_y = float(obj.get("skewX", 0) or 0), float(obj.get("skewY", 0) or 0)
    w, h = width + pre, height + pre
    if skew_x == 0 and skew_y == 0:
        return w * sx + post, h * sy + post
    matrix = np.array([[sx, 0.0], [0.0, sy]])
    if skew_x:
        matrix = matrix @ np.array([[1.0, math.tan(math.radians(skew_x))], [0.0, 1.0]])
    if skew_y:
        matrix = matrix @ np.array([[1.0, 0.0], [math.tan(math.radians(skew_y)), 1.0]])
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2.0 @ matrix.T
    extent = corners.max(axis=0) - corners.min(axis=0)
    return float(extent[0]) + post, float(extent[1]) + post


def _origin(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) - 0.5
    if value in _ORIGIN:
        return _ORIGIN[value]
    raise ParameterError(f"unknown Fabric origin {value!r}")


def circle_centre(obj: Mapping[str, Any]) -> tuple[float, float]:
    """The centre, in canvas pixels, of a serialised Fabric circle, whatever its
    origin, scale, angle or stroke (Fabric's ``translateToCenterPoint``).

    >>> circle_centre({"left": 10, "top": 20, "radius": 9, "strokeWidth": 2,
    ...                "originX": "left", "originY": "top", "stroke": "#000"})
    (20.0, 30.0)
    """
    left, top = float(obj.get("left", 0.0)), float(obj.get("top", 0.0))
    dx = 0.0 - _origin(obj.get("originX", "left"))
    dy = 0.0 - _origin(obj.get("originY", "top"))
    if dx == 0 and dy == 0:
        return left, top
    radius = float(obj.get("radius", 0.0))
    width = float(obj.get("width", 2 * radius))
    height = float(obj.get("height", 2 * radius))
    size_x, size_y = _size_after(width, height, obj)
    cx, cy = left + dx * size_x, top + dy * size_y
    angle = math.radians(float(obj.get("angle", 0.0) or 0.0))
    if angle:
        cos, sin = math.cos(angle), math.sin(angle)
        ux, uy = cx - left, cy - top
        cx, cy = left + ux * cos - uy * sin, top + ux * sin + uy * cos
    return cx, cy


@dataclass(frozen=True)
class CanvasPoints:
    """Points read back from the canvas.

    Attributes:
        points: name -> ``(x, y)`` in image pixels, for every point found.
        missing: expected names that are not on the canvas (deleted).
        extra: circles or other objects that are not points (a click with
            Edit off adds one).
    """

    points: dict[str, tuple[float, float]]
    missing: tuple[str, ...]
    extra: int


def _is_circle(obj: Mapping[str, Any]) -> bool:
    return str(obj.get("type", "")).lower() == "circle"


def read_points(
    json_data: Mapping[str, Any] | None,
    transform: DisplayTransform,
    names: Sequence[str] = POINT_NAMES,
) -> CanvasPoints:
    """Read the named points from the canvas's ``json_data``, in image pixels.

    A circle whose stroke (or fill) colour is a point colour is that point
    (the first one wins); if no circle carries a point colour at all, the
    first circles are taken in drawing order. Everything else counts as extra.
    """
    objects = list((json_data or {}).get("objects") or [])
    by_colour = {POINT_COLOURS[name]: name for name in names}
    found: dict[str, tuple[float, float]] = {}
    extra = 0
    unmatched: list[Mapping[str, Any]] = []
    for obj in objects:
        if not isinstance(obj, Mapping) or not _is_circle(obj):
            extra += 1
            continue
        name = by_colour.get(parse_rgb(obj.get("stroke"))) or by_colour.get(  # type: ignore[arg-type]
            parse_rgb(obj.get("fill"))  # type: ignore[arg-type]
        )
        if name is not None and name not in found:
            found[name] = circle_centre(obj)
        else:
            unmatched.append(obj)
    if not found and unmatched:
        for name, obj in zip(names, list(unmatched), strict=False):
            found[name] = circle_centre(obj)
            unmatched.remove(obj)
    extra += len(unmatched)
    ordered = [name for name in names if name in found]
    image = transform.inverse([found[name] for name in ordered]) if ordered else []
    return CanvasPoints(
        points={name: (float(p[0]), float(p[1])) for name, p in zip(ordered, image, strict=True)},
        missing=tuple(name for name in names if name not in found),
        extra=extra,
    )


#: Fabric writes positions with 4 decimals: a point read back can differ from
#: the one drawn by this much (canvas pixels) without having been touched.
SERIALISATION_PX = 1e-4
#: A point read back farther than this (canvas pixels) from where it was
#: drawn was moved by the operator; a real drag moves at least a pixel.
MOVE_TOLERANCE_PX = 0.01


def moved_points(
    found: Mapping[str, Sequence[float]],
    reference: Mapping[str, Sequence[float]],
    transform: DisplayTransform,
    tolerance_px: float = MOVE_TOLERANCE_PX,
) -> dict[str, tuple[float, float]]:
    """The points of ``found`` (image pixels) that are not where ``reference``
    has them: farther than ``tolerance_px`` *canvas* pixels, so that Fabric's
    rounding (:data:`SERIALISATION_PX`) never counts as a move."""
    limit = tolerance_px / min(transform.scale)
    moved = {}
    for name, point in found.items():
        x, y = float(point[0]), float(point[1])
        rx, ry = reference[name]
        if math.hypot(x - rx, y - ry) > limit:
            moved[name] = (x, y)
    return moved


def drawing_of_state(value: Any) -> dict[str, Any] | None:
    """The Fabric JSON inside the canvas widget's session-state value
    (``{"drawing": {"raw": {...}, "data": ...}, "backgroundFit": ...}``), or
    ``None`` when there is none."""
    if not isinstance(value, Mapping):
        return None
    drawing = value.get("drawing")
    if not isinstance(drawing, Mapping):
        return None
    raw = drawing.get("raw")
    return dict(raw) if isinstance(raw, Mapping) else None


def fingerprint(json_data: Mapping[str, Any] | None) -> tuple[tuple[float, float], ...]:
    """The circle centres of a drawing, to tell two drawings apart cheaply."""
    objects = (json_data or {}).get("objects") or []
    return tuple(
        tuple(round(c, 6) for c in circle_centre(obj))  # type: ignore[misc]
        for obj in objects
        if isinstance(obj, Mapping) and _is_circle(obj)
    )


__all__ = [
    "LOCK_FLAGS",
    "MOVE_TOLERANCE_PX",
    "POINT_COLOURS",
    "POINT_NAMES",
    "POINT_RADIUS",
    "RESET_FIELD",
    "SERIALISATION_PX",
    "STRAY_FILL",
    "CanvasPoints",
    "DisplayTransform",
    "build_drawing",
    "circle_centre",
    "contain_fit",
    "css_rgb",
    "drawing_of_state",
    "fingerprint",
    "moved_points",
    "parse_rgb",
    "point_circle",
    "read_points",
]
