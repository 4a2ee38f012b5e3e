"""How much a region looks like a disc or a rectangle: shape errors for choosing
and judging a reference.

Each takes a region's outer contour (``(N, 1, 2)`` or ``(N, 2)`` boundary pixel
centres in ``(x, y)`` order, every pixel of the outline or its vertices) and
gives a dimensionless error that is 0 for the ideal shape. Areas are taken
from the contour itself, so the pixel-centre outline is compared with shapes
fitted to the same centres. A rectangle of a known aspect may be seen at an
angle (a keystoned quadrilateral): :func:`rectangle_view` also takes the
photo's size, whose centre it takes for the camera's axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from objlen.errors import ReferenceNotFoundError
from objlen.perspective import default_focal_px
from objlen.reference import quad_corners_from_outline
from objlen.robust import percentile

#: The steepest view of a rectangular reference that :func:`rectangle_view`
#: allows, in degrees from face-on: a card seen this obliquely already looks
#: ``cos 50 deg`` = 0.64 times as long along the tilt, its long side nearly as
#: short as its short one.
MAX_TILT_DEG = 50.0
#: Focal lengths :func:`rectangle_view` tries, from the widest phone main
#: camera's (:func:`objlen.perspective.default_focal_px`, 24 mm equivalent) to
#: this many times it (a 3x telephoto, 72 mm), ...
FOCAL_SPAN = 3.0
#: ... in this many steps (a geometric series).
FOCAL_STEPS = 25
#: How far (px) a corner fitted to a mask's outline may lie from the true one:
#: a model's mask edge sits up to about a pixel off.
CORNER_NOISE_PX = 1.0


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


@dataclass(frozen=True)
class RectangleView:
    """How well a region matches a rectangle of a known aspect seen by a camera.

    Attributes:
        error: :func:`rectangle_view`'s shape error (0 for a perfect match).
        tilt_deg: the angle between the camera's axis and the rectangle's
            normal that explains its keystone best (0 when the face-on fit is
            the better); ``nan`` when the region is no quadrilateral. A few
            degrees are within the pixel grid's noise.
        face_on_error: the error the region would have if it were seen face-on
            (its quadrilateral taken as the rectangle itself): above ``error``
            by what the view's perspective explains.
    """

    error: float
    tilt_deg: float
    face_on_error: float


def rectangle_view(
    contour: np.ndarray, aspect: float, image_size: tuple[int, int]
) -> RectangleView:
    """How far a region is from a rectangle of ``aspect`` (long / short side) seen
    by a camera tilted by up to :data:`MAX_TILT_DEG` (error 0 for one).

    ``contour`` is the region's outline (every boundary pixel centre, ``(x, y)``
    in the photo of ``image_size`` = ``(width, height)`` px). The error is the sum of:

    * how far the region is from a quadrilateral: the share of the fitted
      quadrilateral's area (:func:`objlen.reference.quad_from_outline`) that
      the region leaves out or exceeds (pixel by pixel);
    * how far that quadrilateral is from the image of a rectangle of
      ``aspect``: for a pinhole camera whose principal point is the photo's
      centre, the quadrilateral's corners fix the rectangle's plane up to the
      focal length (Zhang & He's whiteboard rectification); for each focal
      length of :func:`plausible_focals_px` whose view is within
      ``MAX_TILT_DEG`` of face-on, the log-ratio of the plane's aspect to
      ``aspect`` plus the cosine of the plane's corner angle (0 for a
      rectangle), for the corners as fitted and for the corners with their
      nearly parallel sides made parallel (:func:`_parallel_within_noise`);
      the smallest counts, or the quadrilateral's own aspect's
      log-ratio and corner skew (its opposite sides averaged: a face-on view,
      whose keystone is only the mask's noise) when that is smaller.

    So the error is never above the face-on one (the region taken as the
    rectangle itself): a square against a card's 1.59 errs by 0.46 face-on
    and by 0.3 or more seen at 40 deg. A region without four clear corners
    errs by 1.

    >>> outline = np.array([[x, y] for x in range(150, 251) for y in (100, 200)]
    ...                    + [[x, y] for y in range(101, 200) for x in (150, 250)])
    >>> view = rectangle_view(outline, 1.0, (400, 300))
    >>> round(view.error, 2), round(view.tilt_deg), round(view.face_on_error, 2)
    (0.0, 0, 0.0)
    """
    points = _points(contour)
    try:
        corners = quad_corners_from_outline(points)
    except ReferenceNotFoundError:
        return RectangleView(1.0, math.nan, 1.0)
    misfit = _quad_misfit(points, corners)
    face_on = misfit + _face_on_error(corners, aspect)
    focals = plausible_focals_px(image_size)
    # The corners as fitted, and with the side pairs that the noise may have
    # turned apart made parallel: the better view of the two counts.
    views = [
        _rectified(quad, focals, image_size) for quad in (corners, _parallel_within_noise(corners))
    ]
    plane_aspect, skew, tilt_deg = (np.concatenate(parts) for parts in zip(*views, strict=True))
    errors = np.abs(np.log(plane_aspect / aspect)) + skew
    errors[tilt_deg > MAX_TILT_DEG] = np.inf
    best = int(np.argmin(errors))
    if errors[best] >= face_on - misfit:
        return RectangleView(face_on, 0.0, face_on)
    return RectangleView(float(misfit + errors[best]), float(tilt_deg[best]), face_on)


def _parallel_within_noise(corners: np.ndarray) -> np.ndarray:
    """``corners`` (top-left, top-right, bottom-right, bottom-left) with each pair
    of opposite sides made parallel when their directions differ by no more than
    corners :data:`CORNER_NOISE_PX` off can make them: both turned to their mean
    direction about their midpoints, the corners where the lines then meet.

    A card tilted about one axis of the photo shows a trapezoid whose other two
    sides are parallel; a pixel of noise at its corners turns them towards a
    vanishing point, which the rectification takes for a turn of the plane,
    and the card looks skewed by degrees. A side pair meeting within the frame
    is no noise and is kept.
    """
    points = np.asarray(corners, dtype=np.float64)
    lines = []
    for start, end in ((0, 1), (1, 2), (3, 2), (0, 3)):
        lines.append((points[start], points[end]))
    directions = []
    for pair in ((lines[0], lines[2]), (lines[1], lines[3])):
        (a0, a1), (b0, b1) = pair
        first, second = a1 - a0, b1 - b0
        length = (np.linalg.norm(first) + np.linalg.norm(second)) / 2
        first, second = first / np.linalg.norm(first), second / np.linalg.norm(second)
        # Each side turns by up to 2 noise / length (its ends off in opposite ways),
        # the two of a pair in opposite senses.
        tolerance = math.atan2(4.0 * CORNER_NOISE_PX, length)
        angle = math.acos(min(1.0, abs(float(np.dot(first, second)))))
        if angle <= tolerance:
            mean = first + second
            mean /= np.linalg.norm(mean)
            directions.append((mean, mean))
        else:
            directions.append((first, second))
    (top_dir, bottom_dir), (right_dir, left_dir) = directions
    through = [
        ((lines[0][0] + lines[0][1]) / 2, top_dir),
        ((lines[1][0] + lines[1][1]) / 2, right_dir),
        ((lines[2][0] + lines[2][1]) / 2, bottom_dir),
        ((lines[3][0] + lines[3][1]) / 2, left_dir),
    ]
    top, right, bottom, left = through
    return np.array(
        [_meet(left, top), _meet(top, right), _meet(right, bottom), _meet(bottom, left)]
    )


def _meet(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Where two lines, each a point and a direction, meet."""
    (p, d), (q, e) = first, second
    t = np.linalg.solve(np.column_stack([d, -e]), q - p)[0]
    return p + t * d


def plausible_focals_px(image_size: tuple[int, int]) -> np.ndarray:
    """The focal lengths (px) :func:`rectangle_view` tries for a ``(width, height)``
    photo: :data:`FOCAL_STEPS` from the widest phone camera's up to
    :data:`FOCAL_SPAN` times it."""
    return default_focal_px(image_size) * np.geomspace(1.0, FOCAL_SPAN, FOCAL_STEPS)


def _face_on_error(corners: np.ndarray, aspect: float) -> float:
    """The log-ratio of a quadrilateral's own aspect (its opposite sides' mean
    lengths, long over short) to ``aspect``, plus the absolute cosine of the angle
    between its two mean side directions: 0 for a rectangle of ``aspect``."""
    tl, tr, br, bl = corners
    across, down = (tr - tl) + (br - bl), (bl - tl) + (br - tr)
    lengths = float(np.linalg.norm(across)), float(np.linalg.norm(down))
    seen = max(lengths) / max(min(lengths), 1e-9)
    skew = abs(float(np.dot(across, down))) / max(lengths[0] * lengths[1], 1e-9)
    return abs(math.log(seen / aspect)) + skew


def _quad_misfit(points: np.ndarray, corners: np.ndarray) -> float:
    """The share of the quadrilateral ``corners`` (on the pixel edges) that the
    region whose outline is ``points`` (boundary pixel centres) leaves out or
    exceeds: pixels in one and not the other, over the quadrilateral's area.

    Pixels are only looked at around the region; the quadrilateral's area
    beyond (a corner far out, where two nearly parallel sides meet) counts whole.
    A pixel ``(x, y)`` is in the quadrilateral when it is on the inner side of
    each side's line (``(x - x0) nx + (y - y0) ny >= 0``); in a row that holds
    for the columns of one interval (:func:`_inner_columns`), so the pixels are
    counted row by row.
    """
    low = np.floor(points.min(axis=0)).astype(int) - 1
    width, height = np.ceil(points.max(axis=0)).astype(int) + 2 - low
    region = np.zeros((height, width), dtype=np.uint8)
    outline = np.round(points - low).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(region, [outline], 1)
    cv2.polylines(region, [outline], True, 1)
    first = np.zeros(height, dtype=np.int64)  # the quadrilateral's columns in each row:
    stop = np.full(height, width, dtype=np.int64)  # first <= x < stop
    ring = corners - low
    centre = ring.mean(axis=0)
    for k in range(4):
        start, end = ring[k], ring[(k + 1) % 4]
        normal = np.array([end[1] - start[1], start[0] - end[0]])
        if np.dot(centre - start, normal) < 0:
            normal = -normal
        side_first, side_stop = _inner_columns(start, normal, height, width)
        first, stop = np.maximum(first, side_first), np.minimum(stop, side_stop)
    stop = np.maximum(stop, first)
    # the region's pixels in each row before each column, to count those in [first, stop)
    before = np.zeros((height, width + 1), dtype=np.int64)
    np.cumsum(region, axis=1, out=before[:, 1:])
    rows = np.arange(height)
    shared = before[rows, stop] - before[rows, first]
    inside = int(np.sum(stop - first))
    differ = int(before[:, -1].sum()) + inside - 2 * int(shared.sum())
    x, y = corners[:, 0], corners[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    beyond = max(area - inside, 0.0)
    return float((differ + beyond) / max(area, 1.0))


def _inner_columns(
    start: np.ndarray, normal: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each row ``y`` of a ``height x width`` grid, the columns ``first <= x <
    stop`` (``(height,)`` each) of the pixels for which ``(x - start_x) * normal_x
    + (y - start_y) * normal_y >= 0``, each pixel's test the same float64
    operations. In floating point that expression still moves one way along a
    row (each rounding keeps the order), so the pixels that pass are one
    interval; its ends are found by bisection.
    """
    across = (np.arange(height) - start[1]) * normal[1]
    if normal[0] == 0:  # the same in every column: the whole row, or none of it
        whole = across >= 0
        return np.where(whole, 0, width), np.full(height, width)
    rising = normal[0] > 0

    def passes(x: np.ndarray) -> np.ndarray:
        return (x - start[0]) * normal[0] + across >= 0

    # the first column at which the test turns (to passing when rising, to failing else)
    low, high = np.zeros(height, dtype=np.int64), np.full(height, width, dtype=np.int64)
    while np.any(low < high):
        middle = (low + high) // 2
        turned = passes(middle) == rising
        open_ = low < high
        high = np.where(open_ & turned, middle, high)
        low = np.where(open_ & ~turned, middle + 1, low)
    if rising:
        return low, np.full(height, width)
    return np.zeros(height, dtype=np.int64), low


def _rectified(
    corners: np.ndarray, focals_px: np.ndarray, image_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plane shape of a quadrilateral seen by pinhole cameras of ``focals_px``
    (``(F,)``) whose principal point is the centre of the ``(width, height)`` photo.

    ``corners`` are top-left, top-right, bottom-right, bottom-left (px). Returns
    ``(aspect, skew, tilt_deg)``, each ``(F,)``: the long / short ratio of the
    parallelogram spanned in space by the sides at its top-left corner, the
    absolute cosine of its angle there (0 for a rectangle), and the angle
    between the camera's axis and the plane's normal. Zhang & He (2007): the
    corners' depths follow from their image positions alone; the focal length
    scales the sides' components across the axis against those along it.
    A quadrilateral no plane in front of the camera shows gets an infinite aspect.
    """
    focals = np.asarray(focals_px, dtype=np.float64)
    nowhere = np.full(focals.shape, np.inf), np.ones(focals.shape), np.full(focals.shape, 90.0)
    tl, tr, br, bl = (np.append(corner, 1.0) for corner in corners)
    try:
        depth_tr, depth_bl, depth_br = np.linalg.solve(np.column_stack([tr, bl, -br]), tl)
    except np.linalg.LinAlgError:
        return nowhere
    if min(depth_tr, depth_bl, depth_br) <= 0:
        return nowhere
    centre = np.array([(image_size[0] - 1) / 2, (image_size[1] - 1) / 2])
    sides = []
    for side in (depth_tr * tr - tl, depth_bl * bl - tl):
        across = (side[:2] - centre * side[2])[None, :] / focals[:, None]
        sides.append(np.column_stack([across, np.full(focals.shape, side[2])]))
    first, second = sides
    first_length = np.linalg.norm(first, axis=1)
    second_length = np.linalg.norm(second, axis=1)
    normal = np.cross(first, second)
    facing = np.abs(normal[:, 2]) / np.linalg.norm(normal, axis=1)
    tilt = np.degrees(np.arccos(np.minimum(facing, 1.0)))
    skew = np.abs(np.sum(first * second, axis=1)) / (first_length * second_length)
    aspect = np.maximum(first_length, second_length) / np.minimum(first_length, second_length)
    return aspect, skew, tilt
