"""How much a region looks like a disc or a rectangle: shape errors for choosing
and judging a reference.

Each takes a region's outer contour (``(N, 1, 2)`` or ``(N, 2)`` boundary pixel
centres in ``(x, y)`` order, every pixel of the outline or its vertices) and
returns a dimensionless error that is 0 for the ideal shape. Areas are taken
from the contour itself, so the pixel-centre outline is compared with shapes
fitted to the same centres.
"""

from __future__ import annotations

import cv2
import numpy as np

from objlen.robust import percentile


def _points(contour: np.ndarray) -> np.ndarray:
    return np.asarray(contour, dtype=np.float32).reshape(-1, 2)


def outline_hull(contour: np.ndarray) -> np.ndarray:
    """The convex hull of ``contour`` (float32 points, as ``cv2.convexHull``
    gives it), for the functions that take it: made once per outline."""
    return cv2.convexHull(_points(contour))


def ellipse_fit(contour: np.ndarray, hull: np.ndarray | None = None) -> tuple[float, float]:
    """``(fit_error, axis_ratio)`` of the ellipse fitted to ``contour``.

    ``fit_error`` is the worst of: the 90th percentile of how far the outline
    strays from the ellipse, relative to it (radially, in the ellipse's own
    frame); the relative difference of their areas; how far the outline is
    from convex. It is near 0 for an ellipse and about 0.15 or more for a
    rectangle. ``axis_ratio`` is minor / major axis (1 for a circle; for a
    disc seen by a camera tilted by ``t`` from face-on, about ``cos t``).
    ``hull`` is :func:`outline_hull` of ``contour``, when the caller has it.

    >>> circle = cv2.ellipse2Poly((100, 100), (60, 60), 0, 0, 360, 2)
    >>> fit, ratio = ellipse_fit(circle)
    >>> fit < 0.02 and ratio > 0.99
    True
    >>> square = np.array([[0, 0], [60, 0], [60, 60], [0, 60]])
    >>> ellipse_fit(np.array([p for a, b in zip(square, np.roll(square, -1, 0))
    ...                       for p in np.linspace(a, b, 30)]))[0] > 0.1
    True
    """
    points = _points(contour)
    if len(points) < 5:
        return 1.0, 0.0
    (cx, cy), (axis_a, axis_b), angle_deg = cv2.fitEllipse(points)
    if min(axis_a, axis_b) <= 0:
        return 1.0, 0.0
    theta = np.radians(angle_deg)
    dx, dy = points[:, 0] - cx, points[:, 1] - cy
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta)
    radial = np.sqrt((u / (axis_a / 2)) ** 2 + (v / (axis_b / 2)) ** 2)
    stray = float(percentile(np.abs(radial - 1.0), 90))
    area = float(cv2.contourArea(points))
    ellipse_area = np.pi * axis_a * axis_b / 4.0
    if hull is None:
        hull = outline_hull(points)
    hull_area = max(float(cv2.contourArea(hull)), 1.0)
    fit = max(stray, abs(1.0 - area / ellipse_area), 1.0 - min(area / hull_area, 1.0))
    return float(fit), float(min(axis_a, axis_b) / max(axis_a, axis_b))


def disc_error(contour: np.ndarray) -> float:
    """How far a region is from a disc seen by a camera (0 for a perfect one).

    A coin seen at an angle is an ellipse, but an elongated ellipse is more
    likely an oval object than a coin seen very obliquely: the error adds to
    the :func:`ellipse_fit` error the ellipse's elongation
    (``1 - axis_ratio``): a tilt of 25 deg adds about 0.09.
    """
    fit, ratio = ellipse_fit(contour)
    return fit + (1.0 - ratio)


def rectangle_error(contour: np.ndarray, aspect: float) -> float:
    """How far a region is from a rectangle of ``aspect`` = long / short side (0 for one).

    The sum of how far it is from filling its minimum-area rectangle and the
    log-ratio of that rectangle's aspect to ``aspect``: a square against a
    card's 1.59 errs by 0.46.

    >>> square = np.array([[0, 0], [100, 0], [100, 100], [0, 100]])
    >>> round(rectangle_error(square, 1.0), 3)
    0.0
    """
    points = _points(contour)
    (_, _), (width, height), _ = cv2.minAreaRect(points)
    if min(width, height) <= 0:
        return 1.0
    fill = abs(1.0 - float(cv2.contourArea(points)) / (width * height))
    seen = max(width, height) / min(width, height)
    return float(fill + abs(np.log(seen / aspect)))
