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

import math
from collections.abc import Callable
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
#: Standard uncertainty of a fitted line's position that the pixel grid adds, px.
LINE_FLOOR_PX = 0.3
#: How far (px) either side of the mask's edge the photo's profile is read.
PROFILE_REACH_PX = 4.0
#: Profile sampling step across the edge, px.
PROFILE_STEP_PX = 0.25
#: Samples at each end of a profile that give the levels inside and outside.
PROFILE_LEVEL_SAMPLES = 6
#: Points per side that :func:`refit_corners` moves and fits.
REFIT_SAMPLES = 32
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
        side_sigmas: for corners where fitted side lines meet, per side (top,
            right, bottom, left) the standard uncertainty of its line's offset
            across it at its middle and of its tilt, as the distance the tilt
            moves the side's ends across it (``(4, 2)``, px). A side's error
            moves both its corners together: the corners' errors are
            correlated, and ``sigma_px`` is then the largest corner's. None
            for corners found one by one (independent, ``sigma_px`` each).
    """

    corners: np.ndarray
    sigma_px: float
    source: str
    remark: str | None = None
    side_sigmas: np.ndarray | None = None

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
) -> tuple[np.ndarray, np.ndarray]:
    """Fit a line per side and intersect neighbours.

    ``edge_shift``: the points are a mask's boundary pixel centres (moved out
    to the pixels' edge, and quantised to the pixel grid), not sub-pixel
    edge points.

    Returns:
        ``(corners, side_sigmas)``: the ``(4, 2)`` corners (corner ``k`` where
        sides ``k - 1`` and ``k`` meet) and, per side, the standard uncertainty
        of its line's offset across it at its middle and of its tilt, given as
        how far the tilt moves the side's ends across it (``(4, 2)``, px).
    """
    fits = _fitted_lines(points_per_side)
    residuals = [
        ((points - centroid) @ np.array([-direction[1], direction[0]]))[
            np.argsort(points @ direction)
        ]
        for points, (centroid, direction) in zip(points_per_side, fits, strict=True)
    ]
    lines = _side_lines(fits, centre, edge_shift)
    tau = _integrated_correlation(residuals)
    side_sigmas = []
    for points, (_, direction), side_residuals in zip(
        points_per_side, lines, residuals, strict=True
    ):
        # The pixel grid's share (a run of a mask's staircase is one sample) and
        # the residuals' own, however correlated along the side.
        effective = max(len(points) / OUTLINE_CORRELATION, 1.0)
        if edge_shift:
            effective = min(effective, _grid_samples(points, direction))
        offset_sigma = np.hypot(
            LINE_FLOOR_PX / np.sqrt(effective), _correlated_sigma(side_residuals, tau)
        )
        side_sigmas.append((offset_sigma, offset_sigma * _tilt_lever(points, direction)))
    return _meeting_points(lines), np.array(side_sigmas)


def _fitted_lines(points_per_side: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The total-least-squares line ``(centroid, direction)`` of each side's points.

    Raises:
        ReferenceNotFoundError: a side has fewer than 5 points.
    """
    fits = []
    for points in points_per_side:
        if len(points) < 5:
            raise ReferenceNotFoundError(
                "a side of the reference is too short or too ragged to fit a line; "
                "get closer to the reference or check the mask"
            )
        centroid, direction, _ = fit_line(points)
        fits.append((centroid, direction))
    return fits


def _side_lines(
    fits: list[tuple[np.ndarray, np.ndarray]], centre: np.ndarray, edge_shift: bool
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The sides' lines from their fits: moved out to the pixels' edge with
    ``edge_shift`` (see :func:`_fit_sides`), as they are otherwise."""
    if not edge_shift:
        return list(fits)
    lines = []
    for centroid, direction in fits:
        normal = np.array([-direction[1], direction[0]])
        if np.dot(centroid - centre, normal) < 0:
            normal = -normal
        # Boundary pixel centres lie on average max(|nx|, |ny|)/2 inside
        # the edge of the pixel squares (exactly 1/2 for an axis-aligned side).
        lines.append((centroid + normal * (max(abs(normal[0]), abs(normal[1])) / 2), direction))
    return lines


def _meeting_points(lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """``(4, 2)``: corner ``k`` where the lines of sides ``k - 1`` and ``k`` meet.

    Raises:
        ReferenceNotFoundError: two neighbouring sides are parallel.
    """
    try:
        return np.array([intersect_lines(*lines[k - 1], *lines[k]) for k in range(4)])
    except np.linalg.LinAlgError:
        raise ReferenceNotFoundError(
            "the reference does not look like a rectangle (two neighbouring sides are "
            "parallel); use the proportional method with its length, or check the mask"
        ) from None


def _tilt_lever(points: np.ndarray, direction: np.ndarray) -> float:
    """How much more a fitted line's tilt moves the side's ends than its offset moves them.

    A least-squares line through points spread along it with standard
    deviation ``s`` has a slope uncertainty ``1 / s`` times its offset's; the
    side's ends, at least as far from the points' middle as the points
    reach (they are what was trimmed off), move by that slope times that reach.
    """
    along = points @ direction
    spread = float(np.std(along))
    reach = (along.max() - along.min()) / 2 / (1 - 2 * SIDE_TRIM)
    return reach / max(spread, 1e-9)


def _grid_samples(points: np.ndarray, direction: np.ndarray) -> float:
    """How many independent samples of a side's position a mask's pixel grid gives.

    A side that runs nearly along a pixel row (or column) is drawn by a mask
    on one row for a whole run, up to half a pixel off the edge all along it:
    a run, not a pixel, is one sample, and boundary noise on top of the mask
    does not average that away. Returns the number of rows (or columns) the
    fitted straight side crosses whole over the points' extent, plus one.
    """
    along = points @ direction
    return 1.0 + math.floor(float(along.max() - along.min()) * float(np.min(np.abs(direction))))


def _integrated_correlation(residuals: list[np.ndarray]) -> float:
    """The integrated correlation ``tau`` (in points) of residuals along the sides.

    A segmentation model's boundary errors run in waves along a side, so
    neighbouring points are far from independent. The four sides of one
    mask share one kind of error: their residuals (across each fitted line,
    in order along it) are pooled into one autocorrelation, summed over lags
    up to where it first drops to zero (the initial-positive-sequence
    estimate); a short side alone gives too few waves to tell.
    """
    longest = min(len(r) for r in residuals) // 2
    autocovariance = np.zeros(max(longest, 1))
    for side in residuals:
        side = side - side.mean()
        spectrum = np.fft.rfft(side, 2 * len(side))
        autocovariance += np.fft.irfft(spectrum * np.conj(spectrum))[: len(autocovariance)]
    if autocovariance[0] <= 0:
        return 1.0
    correlation = autocovariance / autocovariance[0]
    ends = np.flatnonzero(correlation <= 0)
    stop = ends[0] if len(ends) else len(correlation)
    return max(1.0 + 2.0 * float(np.sum(correlation[1:stop])), 1.0)


def _correlated_sigma(residuals: np.ndarray, tau: float) -> float:
    """Standard uncertainty of a fitted line's offset from its ``residuals`` whose
    integrated correlation is ``tau`` points: the mean of ``n`` of them varies as
    ``var * tau / n``."""
    count = len(residuals)
    variance = float(np.mean((residuals - residuals.mean()) ** 2))
    # The fitted line's offset and tilt took two effective samples' worth of the
    # residuals' variance: put it back.
    effective = count / tau
    return float(np.sqrt(variance * tau / count * effective / max(effective - 2.0, 1.0)))


def refit_corners(corners: np.ndarray, move: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Where the corners of a quadrilateral found by fitting lines to its sides go
    when every point of its sides is moved by ``move`` (an ``(N, 2) -> (N, 2)`` map).

    The sides' points between the trimmed ends (as :func:`quad_from_outline`
    and :func:`refine_quad_on_photo` use them) are moved, a line is fitted to
    each side and neighbouring lines are intersected. A map that bends straight
    lines (a lens) moves the fitted corners unlike the corners themselves: a
    fitted line follows the middle of a bowed side, not its ends.
    """
    corners = np.asarray(corners, dtype=np.float64)
    share = np.linspace(SIDE_TRIM, 1 - SIDE_TRIM, REFIT_SAMPLES)[:, None]
    lines = []
    for k in range(4):
        start, end = corners[k], corners[(k + 1) % 4]
        centroid, direction, _ = fit_line(move(start + share * (end - start)))
        lines.append((centroid, direction))
    return np.array([intersect_lines(*lines[k - 1], *lines[k]) for k in range(4)])


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
    sides, centre = _outline_sides(outline, hull)
    corners, side_sigmas = _fit_sides(sides, centre, edge_shift=True)
    return _quad_of_sides(corners, side_sigmas, "mask")


def quad_corners_from_outline(outline: np.ndarray, hull: np.ndarray | None = None) -> np.ndarray:
    """The corners of :func:`quad_from_outline`'s :class:`Quad`, the same values,
    without the uncertainties it works out (to judge a region's shape).

    Raises:
        ReferenceNotFoundError: the outline has no four clear corners.
    """
    sides, centre = _outline_sides(outline, hull)
    return order_corners(_meeting_points(_side_lines(_fitted_lines(sides), centre, True)))


def _outline_sides(
    outline: np.ndarray, hull: np.ndarray | None
) -> tuple[list[np.ndarray], np.ndarray]:
    """The outline's points along each side of its rough quadrilateral (top,
    right, bottom, left; their trimmed ends left out) and that quadrilateral's centre."""
    outline = np.asarray(outline, dtype=np.float64)
    rough = order_corners(_rough_quad(outline, hull))
    sides = [_side_points(outline, rough[k], rough[(k + 1) % 4]) for k in range(4)]
    return sides, rough.mean(axis=0)


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
    base = start + along[:, None] * unit  # (count, 2)
    shifts = edge_steps(gray, base, normal)
    keep = np.abs(shifts) <= MAX_EDGE_SHIFT_PX  # False where NaN (no clean step)
    return base[keep] + shifts[keep, None] * normal, count


def edge_steps(gray: np.ndarray, points: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Where the photo's edge lies along ``normal`` (unit, outward; ``(2,)``, or
    ``(N, 2)``: one per point) through each of ``points`` (``(N, 2)``, px): a
    profile of ``gray`` read from ``PROFILE_REACH_PX`` inside to as far
    outside, ``PROFILE_STEP_PX`` apart, and its :func:`step_crossings` (px
    from the point; NaN: no clean step)."""
    offsets = np.arange(-PROFILE_REACH_PX, PROFILE_REACH_PX + 1e-9, PROFILE_STEP_PX)
    normals = np.reshape(normal, (-1, 1, 2))
    samples = points[:, None, :] + offsets[None, :, None] * normals  # (N, k, 2)
    profiles = cv2.remap(
        gray,
        samples[..., 0].astype(np.float32),
        samples[..., 1].astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    ).astype(np.float64)
    return step_crossings(profiles, offsets)


def step_crossings(profiles: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Where each profile crosses half-way between its inside and outside levels,
    or NaN where it is not one clean step.

    Args:
        profiles: ``(N, K)`` grey levels read across an edge, inside first.
        offsets: ``(K,)`` positions of the samples along the profile, px,
            ``PROFILE_STEP_PX`` apart.

    A profile counts when its two ends (``PROFILE_LEVEL_SAMPLES`` each) differ
    by ``MIN_EDGE_CONTRAST``, it does not overshoot either level by more than
    ``STEP_OVERSHOOT`` of the contrast (a thin dark or bright line along the
    edge, a shadow band, does) and crosses half-way exactly once.

    Returns:
        ``(N,)`` sub-pixel crossing positions (in ``offsets``' units), NaN for
        the profiles that do not count.
    """
    band = PROFILE_LEVEL_SAMPLES
    inside = median(profiles[:, :band], axis=1)
    outside = median(profiles[:, -band:], axis=1)
    contrast = outside - inside
    shifts = np.full(len(profiles), np.nan)
    clear = np.abs(contrast) >= MIN_EDGE_CONTRAST
    if not clear.any():
        return shifts
    fraction = (profiles[clear] - inside[clear, None]) / contrast[clear, None]  # 0 in, 1 out
    crossings = (fraction[:, :-1] < 0.5) & (fraction[:, 1:] >= 0.5)
    steps = (
        (fraction.min(axis=1) >= -STEP_OVERSHOOT)
        & (fraction.max(axis=1) <= 1 + STEP_OVERSHOOT)
        & (crossings.sum(axis=1) == 1)
    )
    rows = np.flatnonzero(steps)
    i = np.argmax(crossings[rows], axis=1)
    before, after = fraction[rows, i], fraction[rows, i + 1]
    step = offsets[i + 1] - offsets[i]
    shifts[np.flatnonzero(clear)[rows]] = offsets[i] + step * (0.5 - before) / (after - before)
    return shifts


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
        refined, side_sigmas = _fit_sides(sides, centre, edge_shift=False)
    except (ReferenceNotFoundError, np.linalg.LinAlgError):
        return replace(quad, remark="the reference's corners could not be refined on the photo")
    shift = float(np.max(np.linalg.norm(refined - corners, axis=1)))
    if shift > 2 * MAX_EDGE_SHIFT_PX:
        return replace(
            quad,
            remark=f"the photo's edges put the reference's corners {shift:.1f} px from the "
            "mask's; the mask's were kept",
        )
    # Half of each side's disagreement with the mask, in offset and in tilt.
    moved = _side_moves(corners, refined, centre) / 2
    return _quad_of_sides(refined, np.hypot(side_sigmas, moved), "photo")


def _side_moves(before: np.ndarray, after: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Per side ``k`` (corners ``k`` to ``k + 1``), how far it moved across itself
    from ``before`` to ``after``: ``(4, 2)`` |offset at its middle|, |tilt at its ends|, px."""
    moves = []
    for k in range(4):
        start, end = before[k], before[(k + 1) % 4]
        unit = (end - start) / np.linalg.norm(end - start)
        normal = np.array([-unit[1], unit[0]])
        ends = (np.array([after[k], after[(k + 1) % 4]]) - np.array([start, end])) @ normal
        moves.append((abs(ends.mean()), abs(ends[1] - ends[0]) / 2))
    return np.array(moves)


def _quad_of_sides(corners: np.ndarray, side_sigmas: np.ndarray, source: str) -> Quad:
    """A :class:`Quad` of fitted sides: corner ``k`` where sides ``k - 1`` and ``k`` meet,
    put in top-left.. order with the sides' sigmas following them."""
    ordered = order_corners(corners)
    roll = int(np.argmin(np.linalg.norm(corners - ordered[0], axis=1)))
    side_sigmas = np.roll(side_sigmas, -roll, axis=0)
    return Quad(
        corners=ordered,
        sigma_px=float(np.max(np.hypot(side_sigmas[:, 0], side_sigmas[:, 1]))),
        source=source,
        side_sigmas=side_sigmas,
    )


def _drop_outliers(points: np.ndarray) -> np.ndarray:
    centroid, direction, _ = fit_line(points)
    normal = np.array([-direction[1], direction[0]])
    residual = np.abs((points - centroid) @ normal)
    spread = 1.4826 * median(residual) + 0.05
    return points[residual <= 3 * spread]


#: Standard uncertainty of a detected ArUco corner (sub-pixel refined), px.
ARUCO_CORNER_SIGMA_PX = 0.3

#: How a segmenter's warning begins when no region has the shape of the reference
#: the operator described (it then guessed which region is the reference).
NO_SUCH_REFERENCE = "no region looks like the reference"
#: How a segmenter's warning begins when it found a single region: the object,
#: and no reference at all.
ONLY_ONE_REGION = "only one region stands out from the background"

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
    return replace(refine_quad_on_photo(image_rgb, quad), source="aruco", remark=None)
