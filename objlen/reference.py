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

from dataclasses import dataclass

import cv2
import numpy as np

from objlen.errors import ParameterError, ReferenceNotFoundError
from objlen.geometry import fit_line, intersect_lines

#: Share of each side left out at both ends when fitting its line.
SIDE_TRIM = 0.15


@dataclass(frozen=True)
class Quad:
    """Four sub-pixel corners of a quadrilateral reference.

    Attributes:
        corners: ``(4, 2)`` top-left, top-right, bottom-right, bottom-left.
        sigma_px: standard uncertainty of each corner coordinate, in pixels.
        source: how the corners were found: ``"mask"``, ``"photo"`` (sides
            refined on the photo) or ``"aruco"``.
    """

    corners: np.ndarray
    sigma_px: float
    source: str

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


def _rough_quad(outline: np.ndarray) -> np.ndarray:
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
        & (across < 3.0 + 0.03 * length)
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
        # Neighbouring boundary points are correlated; count ~1 in 4 as independent.
        effective = max(len(points) / 4.0, 2.0)
        sigmas.append(np.hypot(rms, 0.3) * 2.0 / np.sqrt(effective))
    corners = np.array([intersect_lines(*lines[k - 1], *lines[k]) for k in range(4)])
    return corners, float(max(sigmas))


def quad_from_outline(outline: np.ndarray) -> Quad:
    """Sub-pixel corners of a quadrilateral reference from its mask outline.

    Args:
        outline: ``(N, 2)`` boundary pixel centres, every pixel of the outline.

    Returns:
        A :class:`Quad` whose corners are on the pixel-edge boundary.

    Raises:
        ReferenceNotFoundError: the outline has no four clear corners.
    """
    outline = np.asarray(outline, dtype=np.float64)
    rough = order_corners(_rough_quad(outline))
    sides = [_side_points(outline, rough[k], rough[(k + 1) % 4]) for k in range(4)]
    corners, sigma = _fit_sides(sides, rough.mean(axis=0), edge_shift=True)
    # The corner at index k is the intersection of sides k-1 and k: side k
    # starts at corner k, so the result is already in top-left.. order.
    return Quad(corners=order_corners(corners), sigma_px=sigma, source="mask")


def _edge_crossings(
    gray: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    centre: np.ndarray,
    reach_px: float = 4.0,
    min_contrast: float = 12.0,
) -> np.ndarray:
    """Sub-pixel points where the photo's intensity crosses half-way across a side."""
    direction = end - start
    length = np.hypot(*direction)
    unit = direction / length
    normal = np.array([-unit[1], unit[0]])
    if np.dot((start + end) / 2 - centre, normal) < 0:
        normal = -normal
    count = int(np.clip(length * (1 - 2 * SIDE_TRIM) / 2, 8, 300))
    along = np.linspace(SIDE_TRIM, 1 - SIDE_TRIM, count) * length
    offsets = np.arange(-reach_px, reach_px + 1e-9, 0.25)
    base = start + along[:, None] * unit  # (count, 2)
    samples = base[:, None, :] + offsets[None, :, None] * normal  # (count, k, 2)
    map_x = samples[..., 0].astype(np.float32)
    map_y = samples[..., 1].astype(np.float32)
    profiles = cv2.remap(
        gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    ).astype(np.float64)
    band = 6  # 1.5 px of samples at each end
    inside = np.median(profiles[:, :band], axis=1)
    outside = np.median(profiles[:, -band:], axis=1)
    contrast = outside - inside
    points = []
    for row, level_in, delta, origin in zip(profiles, inside, contrast, base, strict=True):
        if abs(delta) < min_contrast:
            continue
        fraction = (row - level_in) / delta  # 0 inside, 1 outside
        crossing = np.flatnonzero((fraction[:-1] < 0.5) & (fraction[1:] >= 0.5))
        if len(crossing) != 1:
            continue
        i = crossing[0]
        t = offsets[i] + 0.25 * (0.5 - fraction[i]) / (fraction[i + 1] - fraction[i])
        points.append(origin + t * normal)
    return np.array(points).reshape(-1, 2)


def refine_quad_on_photo(image_rgb: np.ndarray, quad: Quad) -> Quad:
    """Move each side of ``quad`` onto the photo's own edge where it is clear.

    A side is moved only when enough of it shows a clean edge within a few
    pixels of where the mask put it; otherwise the quad is returned as is.
    """
    gray = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    corners = quad.corners
    centre = corners.mean(axis=0)
    sides = [_edge_crossings(gray, corners[k], corners[(k + 1) % 4], centre) for k in range(4)]
    needed = [
        max(8, int(0.3 * min(150, np.hypot(*(corners[(k + 1) % 4] - corners[k])) / 2)))
        for k in range(4)
    ]
    if any(len(points) < need for points, need in zip(sides, needed, strict=True)):
        return quad
    sides = [_drop_outliers(points) for points in sides]
    try:
        refined, sigma = _fit_sides(sides, centre, edge_shift=False)
    except (ReferenceNotFoundError, np.linalg.LinAlgError):
        return quad
    refined = order_corners(refined)
    if np.max(np.linalg.norm(refined - corners, axis=1)) > 3.0:
        return quad
    return Quad(corners=refined, sigma_px=min(sigma, quad.sigma_px), source="photo")


def _drop_outliers(points: np.ndarray) -> np.ndarray:
    centroid, direction, _ = fit_line(points)
    normal = np.array([-direction[1], direction[0]])
    residual = np.abs((points - centroid) @ normal)
    spread = 1.4826 * np.median(residual) + 0.05
    return points[residual <= 3 * spread]


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
    quad = Quad(corners=order_corners(largest.reshape(4, 2)), sigma_px=0.3, source="aruco")
    refined = refine_quad_on_photo(image_rgb, quad)
    return Quad(corners=refined.corners, sigma_px=refined.sigma_px, source="aruco")
