"""Corrections the operator makes to a class-index mask.

Pure NumPy / OpenCV functions: each takes a mask (``(H, W)`` uint8 class
indices, see :class:`~objlen.classes.ClassIds`) and returns a new one; none
modifies its input. Points are objlen's ``(x, y)`` image pixels (pixel
``(i, j)`` covers ``[i-0.5, i+0.5] x [j-0.5, j+0.5]``), so the pixel under a
point is ``(round(x), round(y))``.

* :func:`set_region_role`: a click makes a region the reference, an object,
  or leaves it out (the ``ignore`` class);
* :func:`paint_stroke`: a brush stroke paints object, reference or background;
* :func:`prompt_box`: a box drawn around one object segments it alone (the
  local segmenter's box mode) and cuts it out of whatever it was merged with.

Regions are 8-connected runs of one class, as :mod:`objlen.regions` has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from objlen.classes import ClassIds
from objlen.errors import ParameterError

#: What a click can make of a region.
ROLES = ("reference", "object", "excluded")
#: What a brush paints.
BRUSHES = ("object", "reference", "erase")
_SHIFT = 4  # OpenCV fixed-point bits for sub-pixel drawing


def _pixel(mask: np.ndarray, x: float, y: float) -> tuple[int, int]:
    """The pixel ``(column, row)`` under image point ``(x, y)``.

    Raises:
        ParameterError: the point is outside the photo.
    """
    height, width = mask.shape
    col, row = int(np.floor(x + 0.5)), int(np.floor(y + 0.5))
    if not (0 <= col < width and 0 <= row < height):
        raise ParameterError(f"the point ({x:.1f}, {y:.1f}) is outside the photo")
    return col, row


def region_at(mask: np.ndarray, x: float, y: float) -> np.ndarray:
    """The 8-connected region of equal class values under image point ``(x, y)``,
    as a boolean ``(H, W)`` array.

    >>> m = np.zeros((5, 5), np.uint8); m[1:3, 1:3] = 1
    >>> int(region_at(m, 1.2, 2.4).sum())
    4
    """
    col, row = _pixel(mask, x, y)
    flood = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)
    cv2.floodFill(
        np.ascontiguousarray(mask),
        flood,
        (col, row),
        0,
        loDiff=0,
        upDiff=0,
        flags=8 | cv2.FLOODFILL_MASK_ONLY | (1 << 8),
    )
    return flood[1:-1, 1:-1].astype(bool)


@dataclass(frozen=True)
class RoleChange:
    """What :func:`set_region_role` did: the new mask and a sentence for the operator."""

    mask: np.ndarray
    message: str
    changed_px: int


def set_region_role(
    mask: np.ndarray, x: float, y: float, role: str, classes: ClassIds
) -> RoleChange:
    """Make the region under ``(x, y)`` the reference, an object, or leave it out.

    * ``"reference"``: the region becomes the reference class; every other
      reference pixel becomes the object class (there is one reference).
    * ``"object"``: the region becomes the object class (measured).
    * ``"excluded"``: the region becomes the ``ignore`` class (shown grey,
      not measured).

    Raises:
        ParameterError: an unknown role, a point outside the photo, or a
            point on the background (there is no region there).
    """
    if role not in ROLES:
        raise ParameterError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    col, row = _pixel(mask, x, y)
    if int(mask[row, col]) == classes.background:
        raise ParameterError(
            "there is no region under that point (it is background): click inside a "
            "coloured region, or draw a box around the object first"
        )
    region = region_at(mask, x, y)
    new = mask.copy()
    value = {"reference": classes.reference, "object": classes.object, "excluded": classes.ignore}[
        role
    ]
    if role == "reference":
        new[(new == classes.reference) & ~region] = classes.object
    new[region] = value
    changed = int(np.count_nonzero(new != mask))
    area = int(region.sum())
    message = {
        "reference": f"the region of {area:,} px at ({col}, {row}) is now the reference",
        "object": f"the region of {area:,} px at ({col}, {row}) is measured as an object",
        "excluded": f"the region of {area:,} px at ({col}, {row}) is left out",
    }[role]
    return RoleChange(new, message, changed)


def brush_class(brush: str, classes: ClassIds) -> int:
    """The class value a brush paints.

    Raises:
        ParameterError: an unknown brush.
    """
    values = {"object": classes.object, "reference": classes.reference, "erase": classes.background}
    if brush not in values:
        raise ParameterError(f"unknown brush {brush!r}; use one of {', '.join(BRUSHES)}")
    return values[brush]


def paint_stroke(
    mask: np.ndarray, points: Sequence[Sequence[float]], radius_px: float, value: int
) -> np.ndarray:
    """Paint a brush stroke into a copy of ``mask``.

    The stroke covers every pixel whose centre lies within about ``radius_px``
    of the polyline through ``points`` (image pixels): round ends, round joins.
    One point paints a disc.

    Args:
        mask: ``(H, W)`` uint8 class indices.
        points: ``(x, y)`` image points along the stroke, in order.
        radius_px: brush radius in image pixels (at least 0.5).
        value: class value to paint (:func:`brush_class`).

    >>> m = paint_stroke(np.zeros((20, 20), np.uint8), [(5, 10), (14, 10)], 2, 1)
    >>> bool(m[10, 5]), bool(m[10, 14]), bool(m[10, 17]), bool(m[5, 10])
    (True, True, False, False)
    """
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(array) == 0:
        raise ParameterError("a brush stroke needs at least one point")
    if not np.all(np.isfinite(array)):
        raise ParameterError("a brush stroke's points must be finite numbers")
    radius = max(float(radius_px), 0.5)
    new = np.ascontiguousarray(mask.copy())
    fixed = np.round(array * (1 << _SHIFT)).astype(np.int32)
    scaled = round(radius * (1 << _SHIFT))
    for point in fixed:
        cv2.circle(new, (int(point[0]), int(point[1])), scaled, int(value), -1, cv2.LINE_8, _SHIFT)
    if len(fixed) > 1:
        thickness = max(1, round(2 * radius))
        cv2.polylines(new, [fixed], False, int(value), thickness, cv2.LINE_8, _SHIFT)
    return new


def check_box(
    box_xywh: Sequence[float], shape: tuple[int, ...]
) -> tuple[float, float, float, float]:
    """``(x, y, width, height)`` of a box in image pixels, clipped to the photo.

    Raises:
        ParameterError: not four finite numbers, or nothing of it in the photo,
            or smaller than 4 x 4 pixels.
    """
    values = [float(v) for v in box_xywh]
    if len(values) != 4 or not all(np.isfinite(values)):
        raise ParameterError("a box is four numbers: x, y, width, height (pixels)")
    x, y, w, h = values
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    height, width = shape[:2]
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(float(width), x + w), min(float(height), y + h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        raise ParameterError(
            f"the box {x:g},{y:g},{w:g},{h:g} is smaller than 4 x 4 pixels inside the "
            f"{width} x {height} photo: draw it around the whole object"
        )
    return x0, y0, x1 - x0, y1 - y0


def box_target(box_mask: np.ndarray, box_xywh: Sequence[float], classes: ClassIds) -> np.ndarray:
    """The object the box mode found: the largest 8-connected region of the
    object class in ``box_mask`` that overlaps the box (boolean array)."""
    x, y, w, h = check_box(box_xywh, box_mask.shape)
    objects = (box_mask == classes.object).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(objects, connectivity=8)
    window = labels[int(y) : int(np.ceil(y + h)), int(x) : int(np.ceil(x + w))]
    inside = np.unique(window[window > 0])
    if len(inside) == 0:
        return np.zeros(box_mask.shape, bool)
    best = inside[np.argmax(stats[inside, cv2.CC_STAT_AREA])]
    return labels == best


def cut_out(
    mask: np.ndarray, target: np.ndarray, box_xywh: Sequence[float], classes: ClassIds
) -> np.ndarray:
    """Put the ``target`` object into ``mask`` as a region of its own.

    Inside the box, the pixels of regions that touch the target but are not
    it become background (what it was merged with there; the reference is
    kept); the target becomes
    the object class; a one-pixel ring of background around it separates it
    from anything left outside the box. Regions that do not touch the target
    are kept as they are.
    """
    if not target.any():
        raise ParameterError(
            "nothing was found in the box: draw it a little larger than the object"
        )
    x, y, w, h = check_box(box_xywh, mask.shape)
    new = mask.copy()
    foreground = (mask != classes.background).astype(np.uint8)
    _, labels = cv2.connectedComponents(foreground, connectivity=8)
    touched = np.unique(labels[target & (foreground > 0)])
    touched = touched[touched > 0]
    rows = slice(int(y), int(np.ceil(y + h)))
    cols = slice(int(x), int(np.ceil(x + w)))
    merged = (
        np.isin(labels[rows, cols], touched)
        & ~target[rows, cols]
        & (mask[rows, cols] != classes.reference)
    )
    new[rows, cols][merged] = classes.background
    new[target] = classes.object
    ring = cv2.dilate(target.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~target
    new[ring & (new != classes.background)] = classes.background
    return new


def prompt_box(
    image: np.ndarray,
    mask: np.ndarray,
    box_xywh: Sequence[float],
    classes: ClassIds,
    segmenter: object | None = None,
) -> np.ndarray:
    """Segment the one object inside ``box_xywh`` with the local segmenter's box
    mode (GrabCut) and cut it out of ``mask`` (:func:`cut_out`).

    Args:
        image: ``(H, W, 3)`` uint8 RGB photo.
        mask: its current class-index mask.
        box_xywh: ``(x, y, width, height)`` in image pixels around the object.
        classes: the mask's class ids.
        segmenter: a :class:`~objlen.segment.local.LocalSegmenter` (one with
            these class ids is made when ``None``).

    Raises:
        ParameterError: a box outside the photo or too small.
        SegmentationError: nothing found in the box.
    """
    from objlen.segment.local import LocalSegmenter

    box = check_box(box_xywh, mask.shape)
    local = segmenter if segmenter is not None else LocalSegmenter(classes=classes)
    result = local.segment_box(image, box)  # type: ignore[attr-defined]
    return cut_out(mask, box_target(result.mask, box, classes), box, classes)


def parse_box(text: str) -> tuple[float, float, float, float]:
    """``"x,y,w,h"`` (pixels) as four numbers.

    >>> parse_box("10,20,300,200")
    (10.0, 20.0, 300.0, 200.0)

    Raises:
        ParameterError: not four numbers separated by commas, or a non-positive size.
    """
    parts = [part.strip() for part in str(text).split(",")]
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(np.isfinite(values)):
        raise ParameterError(f"{text!r} is not a box x,y,w,h in pixels, e.g. 120,80,400,300")
    if values[2] <= 0 or values[3] <= 0:
        raise ParameterError(f"the box {text!r}: its width and height must be positive")
    return values  # type: ignore[return-value]


__all__ = [
    "BRUSHES",
    "ROLES",
    "RoleChange",
    "box_target",
    "brush_class",
    "check_box",
    "cut_out",
    "paint_stroke",
    "parse_box",
    "prompt_box",
    "region_at",
    "set_region_role",
]
