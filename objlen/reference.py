"""Finding the reference of known size: its axis, or its four corners.

* :func:`quad_from_outline` locates the four corners of a rectangular
  reference (a card, a sheet, a marker) from its mask outline to sub-pixel
  precision: a line is fitted to each side (the rounded or noisy corners
  themselves are left out) and neighbouring lines are intersected.
* :func:`refine_quad_on_photo` moves each side onto the photo's own edge
  (where the intensity crosses half-way between the two sides' levels),
  which is sharper than any mask.
* :func:`detect_aruco` finds an ArUco marker's outer corners in the photo.

Corners are returned as a ``(4, 2)`` array in the order top-left,
top-right, bottom-right, bottom-left, where "top" is the side nearest to the
image's horizontal that lies higher in the image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from objlen.errors import ParameterError, ReferenceNotFoundError
from objlen.geometry import fit_line, intersect_lines
from objlen.robust import median

#: Share of each side left out at both ends when fitting its line.
SIDE_TRIM = 0.15
#: Boundary pixel centres of a side further than this (px, plus 3 % of the
#: side's length) from the rough side are not on it.
SIDE_BAND_PX = 3.0
#: Neighbouring outline points are correlated: about one in this many counts
#: as an independent sample of a side's position.
OUTLINE_CORRELATION = 4.0
#: Runs a side's residuals are cut into to estimate a correlated line's uncertainty.
SIDE_BATCHES = 8
#: Standard uncertainty of a fitted line's position that the pixel grid adds, px.
LINE_FLOOR_PX = 0.3
#: How far (px) either side of the mask's edge the photo's profile is read.
PROFILE_REACH_PX = 4.0
#: Profile sampling step across the edge, px.
PROFILE_STEP_PX = 0.25
#: Samples at each end of a profile that give the levels inside and outside.
PROFILE_LEVEL_SAMPLES = 6
#: Smallest grey-level difference between the two sides for a usable profile.
MIN_EDGE_CONTRAST = 12.0
#: A clean step stays within this share of its contrast beyond its two levels;
#: a thin dark or bright line along the edge (a card's rim, a shadow line) does not.
STEP_OVERSHOOT = 0.25
#: The photo's edge must lie within this distance (px) of the mask's edge.
MAX_EDGE_SHIFT_PX = 1.0
#: Share of a side's profiles that must be clean steps for the side to be refined.
MIN_CLEAN_SHARE = 0.6


@dataclass(frozen=True)
class Quad:
    """Four sub-pixel corners of a quadrilateral reference.

    Attributes:
        corners: ``(4, 2)`` top-left, top-right, bottom-right, bottom-left.
        sigma_px: standard uncertainty of each corner coordinate, in pixels.
        source: how the corners were found: ``"mask"``, ``"photo"`` (sides
            refined on the photo) or ``"aruco"``.
        remark: why the photo did not refine the mask's corners, if it did not.
    """

    corners: np.ndarray
    sigma_px: float
    source: str
    remark: str | None = None

    def side_lengths(self) -> np.ndarray:
        """Pixel lengths of the sides top, right, bottom, left."""
        return np.linalg.norm(np.roll(self.corners, -1, axis=0) - self.corners, axis=1)

    def squareness_deviation(self) -> tuple[float, float]:
        """``(max corner angle deviation from 90 deg, max relative difference of
        opposite sides)``: both zero for a rectangle seen face-on."""
        corners = self.corners
        angles = []
        for k in range(4):
            a = corners[k - 1] - corners[k]
            b = corners[(k + 1) % 4] - corners[k]
            cosine = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
            angles.append(abs(np.degrees(np.arccos(np.clip(cosine, -1, 1))) - 90))
        sides = self.side_lengths()
        opposite = max(
            abs(sides[0] - sides[2]) / max(sides[0], sides[2]),
            abs(sides[1] - sides[3]) / max(sides[1], sides[3]),
        )
        return float(max(angles)), float(opposite)


def order_corners(corners: np.ndarray) -> np.ndarray:
    """Order 4 corners of a convex quadrilateral as top-left, top-right,
    bottom-right, bottom-left, "top" being the upper of the two opposite sides
    nearest to the image's horizontal."""
    corners = np.asarray(corners, dtype=np.float64).reshape(4, 2)
    centre = corners.mean(axis=0)
    angles = np.arctan2(corners[:, 1] - centre[1], corners[:, 0] - centre[0])
    ring = corners[np.argsort(angles)]  # clockwise on screen (y down)
    sides = np.roll(ring, -1, axis=0) - ring
    tilt = np.abs(sides[:, 1]) / np.maximum(np.abs(sides[:, 0]), 1e-12)
    pair = 0 if tilt[0] + tilt[2] <= tilt[1] + tilt[3] else 1
    candidates = (pair, pair + 2)
    top = min(candidates, key=lambda k: ring[k, 1] + ring[(k + 1) % 4, 1])
    # Clockwise on screen, so the top side runs from left to right.
    return np.roll(ring, -top, axis=0)


def _rough_quad(outline: np.ndarray, hull: np.ndarray | None = None) -> np.ndarray:
    if hull is None:
        hull = cv2.convexHull(outline.astype(np.float32))
    perimeter = cv2.arcLength(hull, True)
    for fraction in (0.01, 0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, fraction * perimeter, True).reshape(-1, 2)
        if len(approx) == 4:
            return approx.astype(np.float64)
    raise ReferenceNotFoundError(
        "the reference does not look like a rectangle (no four clear corners); "
        "use the proportional method with its length, or check the mask"
    )


def _side_points(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Points near the segment start-end, its trimmed ends left out."""
    direction = end - start
    length = np.hypot(*direction)
    unit = direction / length
    normal = np.array([-unit[1], unit[0]])
    along = (points - start) @ unit
    across = np.abs((points - start) @ normal)
    keep = (
        (along > SIDE_TRIM * length)
        & (along < (1 - SIDE_TRIM) * length)
        & (across < SIDE_BAND_PX + 0.03 * length)
    )
    return points[keep]


def _fit_sides(
    points_per_side: list[np.ndarray], centre: np.ndarray, edge_shift: bool
) -> tuple[np.ndarray, float]:
    """Fit a line per side, intersect neighbours; return corners and their sigma."""
    lines = []
    sigmas = []
    for points in points_per_side:
        if len(points) < 5:
            raise ReferenceNotFoundError(
                "a side of the reference is too short or too ragged to fit a line; "
                "get closer to the reference or check the mask"
            )
        centroid, direction, rms = fit_line(points)
        normal = np.array([-direction[1], direction[0]])
        if np.dot(centroid - centre, normal) < 0:
            normal = -normal
        if edge_shift:
            # Boundary pixel centres lie on average max(|nx|, |ny|)/2 inside
            # the edge of the pixel squares (exactly 1/2 for an axis-aligned side).
            centroid = centroid + normal * (max(abs(normal[0]), abs(normal[1])) / 2)
        lines.append((centroid, direction))
        effective = max(len(points) / OUTLINE_CORRELATION, 2.0)
        independent = np.hypot(rms, LINE_FLOOR_PX) * 2.0 / np.sqrt(effective)
        sigmas.append(max(independent, 2.0 * _batch_sigma(points, centroid, direction)))
    corners = np.array([intersect_lines(*lines[k - 1], *lines[k]) for k in range(4)])
    return corners, float(max(sigmas))


def _batch_sigma(points: np.ndarray, centroid: np.ndarray, direction: np.ndarray) -> float:
    """Standard uncertainty of a fitted line's offset when the residuals are correlated.

    A segmentation model's boundary errors run in waves along a side, so
    neighbouring points are far from independent. The residuals across the
    line, in order along it, are cut into ``SIDE_BATCHES`` runs; the scatter
    of the runs' means over ``sqrt(SIDE_BATCHES)`` estimates the offset's
    uncertainty whatever the correlation length, as long as it is shorter
    than a run (the batch-means method).
    """
    if len(points) < 2 * SIDE_BATCHES:
        return 0.0
    normal = np.array([-direction[1], direction[0]])
    order = np.argsort((points - centroid) @ direction)
    residuals = ((points - centroid) @ normal)[order]
    # Runs as numpy.array_split cuts them: the first len % SIDE_BATCHES one longer.
    sizes = np.full(SIDE_BATCHES, len(residuals) // SIDE_BATCHES)
    sizes[: len(residuals) % SIDE_BATCHES] += 1
    means = np.add.reduceat(residuals, np.cumsum(sizes) - sizes) / sizes
    return float(means.std(ddof=1) / np.sqrt(SIDE_BATCHES))


def quad_from_outline(outline: np.ndarray, hull: np.ndarray | None = None) -> Quad:
    """Sub-pixel corners of a quadrilateral reference from its mask outline.

    Args:
        outline: ``(N, 2)`` boundary pixel centres, every pixel of the outline.
        hull: ``cv2.convexHull`` of ``outline`` as float32 points, when the
            caller has it (see :func:`objlen.shapes.outline_hull`).

    Returns:
        A :class:`Quad` whose corners are on the pixel-edge boundary.

    Raises:
        ReferenceNotFoundError: the outline has no four clear corners.
    """
    outline = np.asarray(outline, dtype=np.float64)
    rough = order_corners(_rough_quad(outline, hull))
    sides = [_side_points(outline, rough[k], rough[(k + 1) % 4]) for k in range(4)]
    corners, sigma = _fit_sides(sides, rough.mean(axis=0), edge_shift=True)
    # The corner at index k is the intersection of sides k-1 and k: side k
    # starts at corner k, so the result is already in top-left.. order.
    return Quad(corners=order_corners(corners), sigma_px=sigma, source="mask")


def _edge_crossings(
    gray: np.ndarray, start: np.ndarray, end: np.ndarray, centre: np.ndarray
) -> tuple[np.ndarray, int]:
    """Where the photo's intensity crosses half-way across one side, where it is a clean step.

    Profiles are read across the side (from ``PROFILE_REACH_PX`` inside to as
    far outside the mask's edge). A profile counts when its two sides differ
    by ``MIN_EDGE_CONTRAST``, it crosses half-way exactly once, it does not
    overshoot either level by more than ``STEP_OVERSHOOT`` of the contrast (a
    thin dark or bright line along the edge does), and the crossing lies within
    ``MAX_EDGE_SHIFT_PX`` of the mask's edge.

    Returns:
        ``(points, profiles)``: the ``(N, 2)`` sub-pixel crossings of the clean
        profiles and how many profiles were read.
    """
    direction = end - start
    length = np.hypot(*direction)
    unit = direction / length
    normal = np.array([-unit[1], unit[0]])
    if np.dot((start + end) / 2 - centre, normal) < 0:
        normal = -normal
    count = int(np.clip(length * (1 - 2 * SIDE_TRIM) / 2, 8, 300))
    along = np.linspace(SIDE_TRIM, 1 - SIDE_TRIM, count) * length
    offsets = np.arange(-PROFILE_REACH_PX, PROFILE_REACH_PX + 1e-9, PROFILE_STEP_PX)
    base = start + along[:, None] * unit  # (count, 2)
    samples = base[:, None, :] + offsets[None, :, None] * normal  # (count, k, 2)
    map_x = samples[..., 0].astype(np.float32)
    map_y = samples[..., 1].astype(np.float32)
    profiles = cv2.remap(
        gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    ).astype(np.float64)
    band = PROFILE_LEVEL_SAMPLES
    inside = median(profiles[:, :band], axis=1)
    outside = median(profiles[:, -band:], axis=1)
    contrast = outside - inside
    points = []
    for row, level_in, delta, origin in zip(profiles, inside, contrast, base, strict=True):
        if abs(delta) < MIN_EDGE_CONTRAST:
            continue
        fraction = (row - level_in) / delta  # 0 inside, 1 outside
        if fraction.min() < -STEP_OVERSHOOT or fraction.max() > 1 + STEP_OVERSHOOT:
            continue
        crossing = np.flatnonzero((fraction[:-1] < 0.5) & (fraction[1:] >= 0.5))
        if len(crossing) != 1:
            continue
        i = crossing[0]
        t = offsets[i] + PROFILE_STEP_PX * (0.5 - fraction[i]) / (fraction[i + 1] - fraction[i])
        if abs(t) > MAX_EDGE_SHIFT_PX:
            continue
        points.append(origin + t * normal)
    return np.array(points).reshape(-1, 2), count


def refine_quad_on_photo(image_rgb: np.ndarray, quad: Quad) -> Quad:
    """Move each side of ``quad`` onto the photo's own edge, only where the photo agrees.

    Every side must show a clean step (see :func:`_edge_crossings`) on at
    least ``MIN_CLEAN_SHARE`` of its profiles, within ``MAX_EDGE_SHIFT_PX`` of
    the mask's edge; otherwise the mask's corners are kept and
    :attr:`Quad.remark` says why. When the sides are refined, the corners'
    uncertainty includes how far the photo moved them from the mask's: the two
    disagree by that much.
    """
    gray = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    corners = quad.corners
    centre = corners.mean(axis=0)
    read = [_edge_crossings(gray, corners[k], corners[(k + 1) % 4], centre) for k in range(4)]
    for points, profiles in read:
        if len(points) < max(8, MIN_CLEAN_SHARE * profiles):
            return replace(
                quad,
                remark=(
                    "the reference's corners were kept where the mask put them: on the photo "
                    "a side is not one clean step within a pixel of the mask's edge (a rim, a "
                    "line or a shadow along it)"
                ),
            )
    sides = [_drop_outliers(points) for points, _ in read]
    try:
        refined, sigma = _fit_sides(sides, centre, edge_shift=False)
    except (ReferenceNotFoundError, np.linalg.LinAlgError):
        return replace(quad, remark="the reference's corners could not be refined on the photo")
    refined = order_corners(refined)
    shift = float(np.max(np.linalg.norm(refined - corners, axis=1)))
    if shift > 2 * MAX_EDGE_SHIFT_PX:
        return replace(
            quad,
            remark=f"the photo's edges put the reference's corners {shift:.1f} px from the "
            "mask's; the mask's were kept",
        )
    return Quad(corners=refined, sigma_px=float(np.hypot(sigma, shift / 2)), source="photo")


def _drop_outliers(points: np.ndarray) -> np.ndarray:
    centroid, direction, _ = fit_line(points)
    normal = np.array([-direction[1], direction[0]])
    residual = np.abs((points - centroid) @ normal)
    spread = 1.4826 * median(residual) + 0.05
    return points[residual <= 3 * spread]


#: Standard uncertainty of a detected ArUco corner (sub-pixel refined), px.
ARUCO_CORNER_SIGMA_PX = 0.3

ARUCO_DICTIONARIES = tuple(
    name for name in dir(cv2.aruco) if name.startswith("DICT_") and not name.endswith("_MIP")
)


def detect_aruco(image_rgb: np.ndarray, dictionary: str) -> Quad:
    """Find the largest ArUco marker of ``dictionary`` and its outer corners.

    The corners are those of the marker's black square, refined to sub-pixel
    precision on the photo.

    Raises:
        ParameterError: unknown dictionary name.
        ReferenceNotFoundError: no marker of that dictionary in the photo.
    """
    if dictionary not in ARUCO_DICTIONARIES:
        raise ParameterError(
            f"unknown ArUco dictionary {dictionary!r}; use one of "
            + ", ".join(ARUCO_DICTIONARIES[:6])
            + ", ..."
        )
    gray = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(
        cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary)), parameters
    )
    found, ids, _ = detector.detectMarkers(gray)
    if ids is None or len(found) == 0:
        raise ReferenceNotFoundError(
            f"no ArUco marker of {dictionary} found in the photo; check the dictionary, "
            "that the whole marker with its white border is visible, and that it is in focus"
        )
    largest = max(found, key=lambda c: cv2.contourArea(c.astype(np.float32)))
    quad = Quad(
        corners=order_corners(largest.reshape(4, 2)), sigma_px=ARUCO_CORNER_SIGMA_PX, source="aruco"
    )
    refined = refine_quad_on_photo(image_rgb, quad)
    return Quad(corners=refined.corners, sigma_px=refined.sigma_px, source="aruco")
