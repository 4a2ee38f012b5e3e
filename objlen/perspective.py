"""How fast a tilted camera makes the scale change across the photo: the
perspective term of a proportional measurement's interval.

A proportional measurement takes one scale (mm per px) at the reference and
applies it to every object. A camera whose sensor is tilted by ``t`` from the
table sees the table's depth vary across the photo: for a pinhole camera of
focal length ``f`` px, ``1 / Z`` is linear in the image coordinates, and the
depth, so the scale, changes by the share ``tan(t) / f`` per pixel along the
tilt's direction (first order). An object whose centre lies ``d`` px from the
reference's centre is then measured with a scale off by up to
``d * tan(t) / f``: this grows with the distance, unlike the foreshortening
of the reference itself (``1 - cos t``, second order in ``t``, the term
:attr:`objlen.result.ReferenceResult.perspective_rel` already covers).

The reference tells the tilt:

- a rectangle (a card, a marker) seen at a tilt shows it directly, with its
  direction: two opposite sides differ by the scale's change over the
  distance between them, so ``relative difference / separation`` is the
  gradient along that direction, no focal length needed;
- a disc (a coin) shows it by its ellipse: the axis ratio is ``cos t``, the
  minor axis lies along the tilt. The gradient is then ``tan(t) / f`` along
  the minor axis, with the focal length from the camera profile or, without
  one, the shortest a phone's main camera has
  (:data:`WIDEST_FOCAL_PER_DIAGONAL`): an upper bound. A thick disc's side
  wall, seen on its far side, makes it look rounder than its face: its tilt
  is then underestimated (a coin 2 mm thick and 25 mm across looks round at
  about 5 deg).

An object's bound takes its offset from the reference along the gradient.

A radial lens distortion also makes an off-centre disc look elliptic and an
off-centre rectangle keystoned. That is not taken off the tilt: the photo
alone cannot tell the two apart, and the interval must hold for either
explanation (the lens allowance covers the lens's, this term the tilt's).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: Beyond this share of change of the depth's inverse the first-order picture
#: fails (the object would be near the horizon); the bound stops growing there.
MAX_DEPTH_SHARE = 0.5
#: The focal length of the widest common phone main camera (24 mm equivalent),
#: as a share of the image diagonal (a 35 mm frame's diagonal is 43.27 mm).
WIDEST_FOCAL_PER_DIAGONAL = 24.0 / 43.27


def default_focal_px(image_size: tuple[int, int]) -> float:
    """The shortest focal length (px) assumed for a ``(width, height)`` photo
    without a camera profile."""
    return WIDEST_FOCAL_PER_DIAGONAL * math.hypot(*image_size)


def disc_gradient(outline: np.ndarray, focal_px: float) -> np.ndarray:
    """Scale gradient ``(gx, gy)`` (share per px) of a camera that sees a disc's
    ``(N, 2)`` outline as an ellipse: ``tan(t) / focal_px`` along its minor
    axis (the tilt's direction), with ``cos t`` its axis ratio."""
    (_, _), (first, second), angle_deg = cv2.fitEllipse(
        np.asarray(outline, dtype=np.float32).reshape(-1, 2)
    )
    if min(first, second) <= 0:
        return np.zeros(2)
    ratio = min(first, second) / max(first, second)
    # cv2 gives the angle of its first axis; the minor axis is the tilt's direction.
    theta = math.radians(angle_deg + (0.0 if first <= second else 90.0))
    magnitude = math.sqrt(1.0 - ratio**2) / ratio / focal_px
    return magnitude * np.array([math.cos(theta), math.sin(theta)])


def quad_gradient(corners: np.ndarray) -> np.ndarray:
    """Scale gradient ``(gx, gy)`` (share per px) shown by a rectangle's ``(4, 2)``
    image corners in order.

    Per pair of opposite sides: how much longer the first looks than the second,
    as a share, over the distance between their midpoints, along the direction
    from the first's midpoint to the second's; the two pairs' vectors summed (a
    side that looks longer is nearer: its pixels are worth fewer mm).
    """
    corners = np.asarray(corners, dtype=np.float64)
    ends = np.roll(corners, -1, axis=0)
    lengths = np.linalg.norm(ends - corners, axis=1)
    midpoints = (corners + ends) / 2
    gradient = np.zeros(2)
    for first, second in ((0, 2), (1, 3)):
        across = midpoints[second] - midpoints[first]
        separation = float(np.linalg.norm(across))
        mean = (lengths[first] + lengths[second]) / 2
        if separation <= 0 or mean <= 0:
            return np.zeros(2)
        share = (lengths[first] - lengths[second]) / mean
        gradient += share / separation * across / separation
    return gradient


def scale_bound(
    gradient: np.ndarray,
    reference_centre: np.ndarray,
    object_centre: np.ndarray,
    along: np.ndarray,
) -> float:
    """The largest relative error perspective gives a length along ``along`` (a
    direction in the photo) of an object centred at ``object_centre`` (px),
    measured with the scale of a reference centred at ``reference_centre``.

    ``gradient``: ``(gx, gy)``, share per px (:func:`disc_gradient`,
    :func:`quad_gradient`). With ``x`` the share by which the
    depth's inverse changes from the reference to the object (``gradient``
    times the offset along it), a length across the tilt scales with the depth,
    by ``x / (1 - x)`` at worst (the nearer-or-farther sign unknown); a length
    along the tilt with the depth squared (its foreshortening changes too), by
    ``1 / (1 - x)^2 - 1``, about twice as much; between, in proportion to the
    squared cosine of its angle to the tilt.
    """
    offset = np.asarray(object_centre, dtype=np.float64) - np.asarray(reference_centre)
    gradient = np.asarray(gradient, dtype=np.float64)
    magnitude = float(np.linalg.norm(gradient))
    direction = np.asarray(along, dtype=np.float64)
    norm = float(np.linalg.norm(direction))
    if magnitude == 0 or norm == 0:
        return 0.0
    x = min(abs(float(np.dot(gradient, offset))), MAX_DEPTH_SHARE)
    along_share = float(np.dot(gradient, direction) / magnitude / norm) ** 2
    across = x / (1.0 - x)
    lengthwise = 1.0 / (1.0 - x) ** 2 - 1.0
    return across + along_share * (lengthwise - across)
