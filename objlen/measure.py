"""The measurement contract (``shared/MEASUREMENT.md``): points, formulas, uncertainty.

:func:`measure` turns a class-index mask (and, where given, the photo) into a
:class:`~objlen.result.Measurement`; :func:`remeasure` recomputes one from
points the operator moved. This module knows no files, no Streamlit and no
AWS: it computes.

The seed's ``proportional`` formulas are kept exactly::

    scale   = realCD / CD
    realAB  = AB * scale
    realAE  = AE * realAB / AB
    width   = realAB
    height  = realAE - N

With ``homography`` the points are mapped into the reference's plane and the
lengths are distances there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from objlen.camera import PlanePose, focal_matrix, plane_pose
from objlen.edges import NO_DISAGREEMENT, disagreement_rel_var, photo_disagreement
from objlen.errors import MaskError, ParameterError, ReferenceNotFoundError
from objlen.geometry import (
    Box,
    Homography,
    apply_homographies,
    distance,
    homography_matrices,
    intersect_lines,
    major_axis,
    min_area_box,
    unit_vector,
    upright_box,
)
from objlen.options import MeasureOptions
from objlen.perspective import default_focal_px, disc_gradient, quad_gradient, scale_bound
from objlen.reference import (
    NO_SUCH_REFERENCE,
    ONLY_ONE_REGION,
    Quad,
    detect_aruco,
    quad_from_outline,
    refine_quad_on_photo,
    refit_corners,
)
from objlen.regions import ClassMap, Region, dense_outline, outline_noise_px
from objlen.result import POINT_NAMES, Length, Measurement, ObjectResult, ReferenceResult
from objlen.shapes import ellipse_fit, outline_hull
from objlen.units import convert

if TYPE_CHECKING:
    from objlen.segment.base import Segmentation

#: Coverage factor of a 95 % interval for a normal distribution.
COVERAGE_FACTOR = 1.96
#: A reference that looks this far from a face-on rectangle triggers a warning.
PERSPECTIVE_ANGLE_DEG = 2.0
PERSPECTIVE_SIDES = 0.02
#: A rectangle whose two pairs of sides differ in the photo by less than this
#: share of their real difference cannot be told apart safely.
AMBIGUOUS_SIDES = 0.25
#: How far, in units of the boundary noise, a box extreme of a ragged mask
#: strays from the true one (the largest of many noisy boundary samples).
NOISE_TO_EXTREME = 3.0
#: A reference that looks foreshortened by more than this share makes a
#: proportional measurement unbounded in practice: the output says so.
UNBOUNDED_PERSPECTIVE = 0.10
#: A region whose shape error as a disc is below this is taken for a disc seen
#: at an angle (an ellipse), whose axis ratio tells the foreshortening.
DISC_SHAPE_ERROR = 0.08
#: A region whose area is within this share of its fitted quadrilateral's is a rectangle.
RECTANGLE_FILL = 0.03
#: A uniform error of +-x has the standard uncertainty x / sqrt(3).
UNIFORM_TO_SIGMA = 1.0 / math.sqrt(3.0)

NOTES = {
    "proportional": (
        "proportional method: exact only when the object and the reference lie in one "
        "plane parallel to the camera's sensor"
    ),
    "homography": (
        "homography method: exact for everything lying in the reference's plane; "
        "parts of the object above or below that plane are not corrected"
    ),
}


#: The object height the note on heights speaks of, mm.
HEIGHT_NOTE_MM = 10.0


# --------------------------------------------------------------------------- lengths
def proportional_lengths(
    a: np.ndarray,
    b: np.ndarray,
    e: np.ndarray,
    scale: float,
    scale_rel_var: float,
    sigmas_px: Sequence[float],
    offset: float,
    edge_sigmas_px: Sequence[float] = (0.0, 0.0, 0.0),
    extra_rel_vars: Sequence[float] = (0.0, 0.0),
) -> tuple[Length, Length]:
    """Width and height by the seed's formulas, with 95 % half-widths.

    Args:
        a, b, e: object points in image pixels.
        scale: real units per pixel (``realCD / CD``).
        scale_rel_var: relative variance of ``scale`` (point, mask-edge and
            perspective terms of the reference).
        sigmas_px: standard uncertainty of each coordinate of A, B and E.
        offset: the constant ``N`` subtracted from the height.
        edge_sigmas_px: for A, B and E, the standard uncertainty of the
            object mask's edge offset where the point sits (0 for a point the
            operator placed). An edge offset moves both ends of a length
            outward together, so the two ends' terms add, not in quadrature.
        extra_rel_vars: further relative variances of the width and of the
            height (the lens allowance, see :func:`lens_rel_vars`, and the
            scale's change across a tilted camera's photo, see
            :func:`objlen.perspective.scale_bound`).
    """
    ab_px, ae_px = distance(a, b), distance(a, e)
    if ab_px <= 0 or ae_px <= 0:
        raise ParameterError("points A, B and E must be distinct: AB and AE need a length")
    s_a, s_b, s_e = sigmas_px
    edge_a, edge_b, edge_e = edge_sigmas_px
    real_ab = ab_px * scale
    real_ae = ae_px * real_ab / ab_px
    width_sigma = real_ab * math.sqrt(
        (s_a**2 + s_b**2 + (edge_a + edge_b) ** 2) / ab_px**2 + scale_rel_var + extra_rel_vars[0]
    )
    height_sigma = real_ae * math.sqrt(
        (s_a**2 + s_e**2 + (edge_a + edge_e) ** 2) / ae_px**2 + scale_rel_var + extra_rel_vars[1]
    )
    return (
        Length(real_ab, COVERAGE_FACTOR * width_sigma),
        Length(real_ae - offset, COVERAGE_FACTOR * height_sigma),
    )


def plane_lengths(
    points: np.ndarray,
    corners: np.ndarray,
    plane_corners: np.ndarray,
    sigmas_px: Sequence[float],
    corner_sigma_px: float,
    offset: float,
    step_px: float = 1e-3,
    edge_sigmas_px: Sequence[float] = (0.0, 0.0, 0.0),
    reference_edge_sigma_px: float = 0.0,
    lens: LensAllowance | None = None,
    side_sigmas_px: np.ndarray | None = None,
) -> tuple[Length, Length]:
    """Width ``|AB|`` and height ``|AE| - N`` measured in the reference's plane.

    Args:
        points: ``(3, 2)`` image points A, B, E.
        corners: ``(4, 2)`` image corners of the reference.
        plane_corners: ``(4, 2)`` the same corners in the plane (real units).
        sigmas_px: standard uncertainty of each coordinate of A, B and E.
        corner_sigma_px: standard uncertainty of each corner coordinate, when
            the corners were found one by one (``side_sigmas_px`` is None).
        side_sigmas_px: for corners where fitted sides meet, ``(4, 2)``: each
            side's offset and tilt uncertainty (see
            :attr:`objlen.reference.Quad.side_sigmas`); a side's error moves
            its two corners together.
        edge_sigmas_px: for A, B and E, the standard uncertainty of the
            object mask's edge offset (0 for a point the operator placed).
        reference_edge_sigma_px: the same for the reference's mask edge (0
            when its corners come from the photo or a marker).
        lens: the uncorrected lens distortion allowed for, or None.

    The 95 % half-widths propagate, to first order with a central-difference
    Jacobian evaluated in one batch, the point and corner uncertainties and
    two systematic terms: the object's and the reference's mask edges sitting
    off the true edges all the way round (a point moves along the outward
    bisector of its corner, by the offset along each of its two sides). A small
    reference's corner error is so amplified for objects beyond it.
    """
    edge_object = np.asarray(edge_sigmas_px, dtype=np.float64)
    corner_modes, corner_sigmas = _corner_modes(corners, corner_sigma_px, side_sigmas_px)
    params = np.zeros(17)
    params[:6] = points.ravel()
    sigmas = np.concatenate(
        [
            np.repeat(np.asarray(sigmas_px, dtype=np.float64), 2),
            corner_sigmas,
            [
                1.0 if edge_object.any() else 0.0,
                reference_edge_sigma_px,
                lens.sigma_k if lens is not None else 0.0,
            ],
        ]
    )
    # The object's edge offset is one parameter of unit variance; each point
    # moves with it by its own edge sigma (0 for a point the operator placed).
    outward_points = _outward(points, closed=False) * edge_object[:, None]
    outward_corners = _outward(corners, closed=True)
    steps = np.eye(len(params)) * step_px
    batch = np.vstack([params, params + steps, params - steps])
    point_batch = batch[:, :6].reshape(-1, 3, 2) + batch[:, 14, None, None] * outward_points
    corner_batch = (
        corners
        + np.tensordot(batch[:, 6:14], corner_modes, axes=1)
        + batch[:, 15, None, None] * outward_corners
    )
    if lens is not None:
        point_batch = point_batch + batch[:, 16, None, None] * lens.radial(points)
        corner_batch = corner_batch + batch[:, 16, None, None] * lens.fitted_radial(corners)
    matrices = homography_matrices(corner_batch, plane_corners)
    mapped = apply_homographies(matrices, point_batch)
    widths = np.linalg.norm(mapped[:, 1] - mapped[:, 0], axis=1)
    heights = np.linalg.norm(mapped[:, 2] - mapped[:, 0], axis=1)
    if widths[0] <= 0 or heights[0] <= 0:
        raise ParameterError("points A, B and E must be distinct: AB and AE need a length")
    count = len(params)
    results = []
    for values in (widths, heights):
        jacobian = (values[1 : count + 1] - values[count + 1 :]) / (2 * step_px)
        sigma = float(np.sqrt(np.sum((jacobian * sigmas) ** 2)))
        results.append((float(values[0]), COVERAGE_FACTOR * sigma))
    (width, width_u), (height, height_u) = results
    return Length(width, width_u), Length(height - offset, height_u)


@dataclass(frozen=True)
class LensAllowance:
    """An uncorrected radial lens distortion, allowed for in the interval.

    A lens moves an image point ``p`` to ``c + (p - c)(1 + k r^2)``, with
    ``c`` the image centre and ``r = |p - c| / R``, ``R`` half the image
    diagonal: ``k`` is the share by which the image's corner moves. Without a
    camera profile ``k`` is unknown; it is taken as uniform in ``+-bound``.

    Attributes:
        centre: ``(x, y)`` image centre, px.
        radius: half the image diagonal, px.
        sigma_k: standard uncertainty of ``k``.
    """

    centre: tuple[float, float]
    radius: float
    sigma_k: float

    @classmethod
    def for_image(cls, image_size: tuple[int, int], bound: float) -> LensAllowance | None:
        """The allowance for a ``(width, height)`` photo and a corner shift ``bound``."""
        if bound <= 0:
            return None
        width, height = image_size
        return cls(
            centre=((width - 1) / 2.0, (height - 1) / 2.0),
            radius=math.hypot(width, height) / 2.0,
            sigma_k=bound * UNIFORM_TO_SIGMA,
        )

    def radial(self, points: np.ndarray) -> np.ndarray:
        """How far each ``(N, 2)`` point moves per unit of ``k``: ``(p - c) r^2``."""
        offset = np.asarray(points, dtype=np.float64) - np.asarray(self.centre)
        r2 = np.sum(offset**2, axis=-1, keepdims=True) / self.radius**2
        return offset * r2

    def fitted_radial(self, corners: np.ndarray) -> np.ndarray:
        """How far each corner of a ``(4, 2)`` quadrilateral found by fitting lines to
        its sides (:func:`objlen.reference.refit_corners`) moves per unit of ``k``.

        A lens bows a straight side, in proportion to ``k``; the fitted line
        follows the bow's middle, so the fitted corners move unlike the true
        ones, and a homography carries the difference, amplified, to an object
        beyond the reference.
        """
        step = _LENS_STEP
        ahead = refit_corners(corners, lambda p: p + step * self.radial(p))
        behind = refit_corners(corners, lambda p: p - step * self.radial(p))
        return (ahead - behind) / (2 * step)


def lens_rel_vars(
    points: np.ndarray, reference_points: np.ndarray | None, lens: LensAllowance | None
) -> tuple[float, float]:
    """Relative variances of a proportional width and height from the lens allowance.

    Args:
        points: ``(3, 2)`` A, B, E.
        reference_points: ``(2, 2)`` C, D (the scale is their distance's), or
            None when the scale was given.

    The width ``|AB| / |CD|`` (and height ``|AE| / |CD|``) is evaluated with
    every point moved by ``k = +-h``; the derivative times ``sigma_k``.
    """
    if lens is None:
        return 0.0, 0.0
    step = 1e-4
    results = []
    for first, second in ((0, 1), (0, 2)):
        logs = []
        for k in (step, -step):
            moved = points + k * lens.radial(points)
            length = distance(moved[first], moved[second])
            if reference_points is not None:
                ref = reference_points + k * lens.radial(reference_points)
                length /= max(distance(ref[0], ref[1]), 1e-12)
            if length <= 0:  # coincident points: the caller says what is wrong
                return 0.0, 0.0
            logs.append(math.log(length))
        results.append(((logs[0] - logs[1]) / (2 * step) * lens.sigma_k) ** 2)
    return results[0], results[1]


def _corner_modes(
    corners: np.ndarray, corner_sigma_px: float, side_sigmas_px: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The reference's 8 corner error parameters: how each moves the corners
    (``(8, 4, 2)`` per unit) and its standard uncertainty (``(8,)``).

    Corners found one by one: each coordinate on its own, ``corner_sigma_px``
    each. Corners where fitted sides meet: per side, its offset (both ends
    moved across it alike) and its tilt (its ends moved across it oppositely),
    the corners following as the intersections of the moved lines.
    """
    if side_sigmas_px is None:
        return np.eye(8).reshape(8, 4, 2), np.full(8, corner_sigma_px)
    modes = []
    for k in range(4):
        start, end = corners[k], corners[(k + 1) % 4]
        unit = (end - start) / np.linalg.norm(end - start)
        normal = np.array([-unit[1], unit[0]])
        for signs in ((1.0, 1.0), (-1.0, 1.0)):  # offset, then tilt
            moved = corners.copy()
            moved_start, moved_end = start + signs[0] * normal, end + signs[1] * normal
            previous = (corners[k - 1], corners[k] - corners[k - 1])
            following = (corners[(k + 2) % 4], corners[(k + 1) % 4] - corners[(k + 2) % 4])
            line = (moved_start, moved_end - moved_start)
            moved[k] = intersect_lines(*previous, *line)
            moved[(k + 1) % 4] = intersect_lines(*following, *line)
            modes.append(moved - corners)
    return np.array(modes), np.asarray(side_sigmas_px, dtype=np.float64).ravel()


def _outward(points: np.ndarray, *, closed: bool) -> np.ndarray:
    """Displacement of each corner when every side moves outward by 1 px.

    ``closed``: ``points`` are the 4 corners of a quadrilateral in order;
    otherwise A, B, E of a box (A the corner shared by AB and AE). A corner
    moves by the sum of the unit vectors pointing away from its two
    neighbours along the sides (exact for a right angle).
    """
    if closed:
        count = len(points)
        return np.array(
            [
                unit_vector(points[k] - points[(k + 1) % count])
                + unit_vector(points[k] - points[k - 1])
                for k in range(count)
            ]
        )
    a, b, e = points
    return np.array(
        [
            unit_vector(a - b) + unit_vector(a - e),
            unit_vector(b - a) + unit_vector(a - e),
            unit_vector(e - a) + unit_vector(a - b),
        ]
    )


# --------------------------------------------------------------------------- reference
def _plane_corners(quad: Quad, size: tuple[float, float]) -> tuple[np.ndarray, tuple]:
    """Plane coordinates of the quad's corners; the longer real side goes with
    the longer pair of sides in the image. Returns ``(plane_corners, (W, H))``
    where W runs along the top side (the plane's x axis)."""
    sides = quad.side_lengths()
    long_real, short_real = max(size), min(size)
    top_is_long = sides[0] + sides[2] >= sides[1] + sides[3]
    w, h = (long_real, short_real) if top_is_long else (short_real, long_real)
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64), (w, h)


def _ambiguous_sides_warning(quad: Quad, size: tuple[float, float]) -> list[str]:
    """A warning when the photo cannot tell which side of a rectangular
    reference is the long one (strong perspective can make the long side look
    as short as the other)."""
    sides = quad.side_lengths()
    seen = (sides[0] + sides[2]) / (sides[1] + sides[3])
    real = max(size) / min(size)
    if real < 1.1 or max(seen, 1 / seen) > 1 + AMBIGUOUS_SIDES * (real - 1):
        return []
    return [
        f"the reference's sides look almost equally long in the photo (ratio {seen:.2f}, "
        f"real {real:.2f}): the camera is tilted so much that its long side may have been "
        "taken for the short one; photograph it less obliquely"
    ]


def _axis_of_quad(
    quad: Quad, plane_size: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, float]:
    """C, D = midpoints of the quad's two short sides (in real terms), and CD's real length."""
    tl, tr, br, bl = quad.corners
    w, h = plane_size
    ends = ((tl + bl) / 2, (tr + br) / 2) if w >= h else ((tl + tr) / 2, (bl + br) / 2)
    c, d = sorted(ends, key=lambda p: (round(p[0], 6), p[1]))
    return c, d, max(w, h)


def _quad_of_region(region: Region, image: np.ndarray | None) -> Quad:
    """Sub-pixel corners of a rectangular reference region, refined on the photo."""
    quad = quad_from_outline(dense_outline(region))
    return refine_quad_on_photo(image, quad) if image is not None else quad


def _looks_rectangular(region: Region, quad: Quad) -> bool:
    x, y = quad.corners[:, 0], quad.corners[:, 1]
    quad_area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    return abs(region.area_px - quad_area) <= RECTANGLE_FILL * quad_area


def _outline_quad(outline: np.ndarray, hull: np.ndarray) -> Quad | None:
    """The reference outline's quadrilateral, or ``None`` when it has no four clear
    corners (``hull``: the outline's :func:`objlen.shapes.outline_hull`)."""
    try:
        return quad_from_outline(outline, hull)
    except ReferenceNotFoundError:
        return None


def _perspective_warning(quad: Quad | None, region: Region) -> list[str]:
    """A warning when a rectangular reference (``quad``, from its outline) is not seen face-on."""
    if quad is None or not _looks_rectangular(region, quad):
        return []
    angle, sides = quad.squareness_deviation()
    if angle <= PERSPECTIVE_ANGLE_DEG and sides <= PERSPECTIVE_SIDES:
        return []
    return [
        f"perspective suspected: the reference's corners are {angle:.1f} deg off square and "
        f"its opposite sides differ by {sides:.0%}, so the camera is not parallel to it; the "
        "proportional method is then off by several percent: use the homography method "
        "with the reference's width x height"
    ]


def _foreshortening(
    outline: np.ndarray,
    region: Region,
    size: tuple[float, float] | None,
    quad: Quad | None,
    focal_px: float,
    hull: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """How far the reference region looks foreshortened, and the scale gradient
    its shape shows (see :mod:`objlen.perspective`).

    Returns ``(share, gradient)``. A disc seen at an angle is an ellipse:
    share ``1 - minor/major``, gradient ``tan(t) / focal_px`` along its minor
    axis. A rectangle: the larger of its opposite sides'
    relative difference, the sine of its corners' departure from square and,
    when its real ``size`` is known, the relative departure of its aspect from
    the real one; its gradient is a vector from its opposite sides. Other
    shapes: ``(0, 0)`` (the photo does not tell). ``quad`` is the outline's
    quadrilateral (:func:`_outline_quad`), ``hull`` its
    :func:`objlen.shapes.outline_hull`; ``focal_px`` the camera's focal length.
    """
    fit, axis_ratio = ellipse_fit(outline, hull)
    if fit < DISC_SHAPE_ERROR and axis_ratio > 0:
        return 1.0 - axis_ratio, disc_gradient(outline, focal_px)
    if quad is None or not _looks_rectangular(region, quad):
        return 0.0, np.zeros(2)
    return _quad_foreshortening(quad, size), quad_gradient(quad.corners)


def _quad_foreshortening(quad: Quad, size: tuple[float, float] | None) -> float:
    """How far a rectangular reference's quadrilateral looks foreshortened, as a share:
    the larger of its opposite sides' relative difference, the sine of its corners'
    departure from square and, when its real ``size`` is known, the relative
    departure of its aspect from the real one."""
    angle_deg, sides = quad.squareness_deviation()
    share = max(sides, math.sin(math.radians(angle_deg)))
    if size is not None:
        lengths = quad.side_lengths()
        seen = (lengths[0] + lengths[2]) / (lengths[1] + lengths[3])
        seen = max(seen, 1 / seen)
        share = max(share, abs(1.0 - seen / (max(size) / min(size))))
    return float(share)


def _focal_px(options: MeasureOptions, shape: tuple[int, ...]) -> float:
    """The camera's focal length in px: the profile's when it knows it, else the
    shortest assumed for a photo of this ``(H, W)`` shape."""
    camera = options.camera
    if camera is not None and camera.focal_known:
        return float(camera.matrix[0, 0])
    return default_focal_px((shape[1], shape[0]))


def _gradient_note(gradient: np.ndarray) -> tuple[str, ...]:
    """A note on the scale's change across the photo the reference shows, when it
    shows one (to the 0.1 % per 100 px it is given in)."""
    per_100_px = 100.0 * float(np.linalg.norm(gradient))
    if per_100_px < 0.0005:
        return ()
    return (
        f"the reference looks tilted: the scale may change by up to {per_100_px:.1%} per "
        "100 px across the photo (more along the tilt); each interval allows for it at "
        "the object's distance from the reference",
    )


def _unbounded_warning(foreshortening: float) -> list[str]:
    """A warning when the reference is too foreshortened for the proportional method."""
    if foreshortening <= UNBOUNDED_PERSPECTIVE:
        return []
    return [
        f"the reference looks foreshortened by {foreshortening:.0%}: the camera is far from "
        "square to it, and a proportional measurement can then be off by more than its "
        "interval says (the scale changes across the photo); use the homography method "
        "with a rectangular reference, or photograph from straight above"
    ]


def locate_reference(
    class_map: ClassMap, options: MeasureOptions, image: np.ndarray | None
) -> tuple[ReferenceResult, list[str]]:
    """Find the reference the options describe; return it and warnings about it."""
    mask = class_map.mask
    spec = options.reference
    classes = options.classes
    if spec.scale is not None:
        return ReferenceResult(kind="scale", given_scale=spec.scale), []
    warnings: list[str] = []
    if spec.board is not None:
        if image is None:
            raise ParameterError("a ChArUco board is found in the photo: pass the image too")
        return _board_reference(image, options), warnings
    if spec.aruco_dictionary is not None:
        if image is None:
            raise ParameterError("an ArUco reference is found in the photo: pass the image too")
        quad = detect_aruco(image, spec.aruco_dictionary)
        size = (spec.marker_size, spec.marker_size)
        kind = "aruco"
    else:
        regions = class_map.regions(classes.reference, limit=1)
        if not regions:
            raise ReferenceNotFoundError(
                f"the mask has no reference pixels (class {classes.reference}); put a "
                "reference of known size in the photo, set the reference class id, or "
                "give the scale directly"
            )
        region = regions[0]
        warnings += _border_warning(region, mask.shape, "reference")
        if options.method == "proportional":
            c, d = major_axis(region.edge_points())
            real = spec.length if spec.length is not None else max(spec.size)
            outline = dense_outline(region)
            hull = outline_hull(outline)
            quad = _outline_quad(outline, hull)  # once, for both checks
            warnings += _perspective_warning(quad, region)
            foreshortening, gradient = _foreshortening(
                outline, region, spec.size, quad, _focal_px(options, mask.shape), hull
            )
            warnings += _unbounded_warning(foreshortening)
            reference = ReferenceResult(
                kind="mask",
                C=c,
                D=d,
                real=real,
                located_on="mask",
                noise_px=outline_noise_px(outline),
                perspective_rel=foreshortening,
                scale_gradient=gradient,
                notes=_gradient_note(gradient),
            )
            return _checked(reference, options), warnings
        quad = _quad_of_region(region, image)
        size = spec.size
        kind = "rectangle"
    plane_corners, plane_size = _plane_corners(quad, size)
    warnings += _ambiguous_sides_warning(quad, size)
    c, d, real = _axis_of_quad(quad, plane_size)
    if options.method == "proportional":  # an ArUco marker's side as CD
        foreshortening = _quad_foreshortening(quad, size)
        warnings += _unbounded_warning(foreshortening)
        gradient = quad_gradient(quad.corners)
        reference = ReferenceResult(
            kind=kind,
            C=c,
            D=d,
            real=real,
            located_on=quad.source,
            perspective_rel=foreshortening,
            scale_gradient=gradient,
            notes=_gradient_note(gradient),
        )
        return _checked(reference, options), warnings
    result = ReferenceResult(
        kind=kind,
        C=c,
        D=d,
        real=real,
        corners=quad.corners,
        plane_size=plane_size,
        plane_corners=plane_corners,
        corner_sigma_px=quad.sigma_px,
        side_sigmas_px=quad.side_sigmas,
        located_on=quad.source,
    )
    return _checked(result, options), warnings


def _board_reference(image: np.ndarray, options: MeasureOptions) -> ReferenceResult:
    """The board's plane as four virtual correspondences (see :mod:`objlen.board`).

    The board's outer corners, where the fit puts them in the photo, with the
    fit's corner uncertainty; ``camera`` is the lens model the fit used, and
    the pose is known when the focal length is (a calibrated profile, or the
    fit's estimate from a tilted board).
    """
    from objlen.board import locate_board  # here: only a board's measurement needs it

    fit = locate_board(image, options.reference.board, options.camera)
    quad = Quad(corners=fit.image_corners, sigma_px=fit.corner_sigma_px, source="board")
    plane_corners = fit.plane_corners(options.unit)
    plane_size = (float(plane_corners[1, 0]), float(plane_corners[2, 1]))
    c, d, real = _axis_of_quad(quad, plane_size)
    height, width = image.shape[:2]
    camera = fit.lens
    matrix = None
    if camera is not None and camera.focal_known:
        matrix = camera.matrix
    elif fit.focal_px is not None:
        matrix = focal_matrix(fit.focal_px, width, height)
    pose = (
        plane_pose(matrix, camera.undistort_points(quad.corners), plane_corners)
        if matrix is not None
        else None
    )
    lens = (
        f"lens k1 {fit.k1:+.4f} ± {fit.k1_sigma:.4f} estimated from the board"
        if fit.k1 is not None
        else f"lens from the camera profile ({camera.source})"
    )
    notes = (
        f"board {fit.spec.name or fit.spec.text()}: {fit.used} of {fit.found} corners fit one "
        f"plane, reprojection RMS {fit.rms_px:.3f} px, corner uncertainty "
        f"{fit.corner_sigma_px:.3f} px; {lens}",
    )
    reference = ReferenceResult(
        kind="board",
        C=c,
        D=d,
        real=real,
        corners=quad.corners if options.method == "homography" else None,
        plane_size=plane_size if options.method == "homography" else None,
        plane_corners=plane_corners if options.method == "homography" else None,
        corner_sigma_px=fit.corner_sigma_px,
        located_on="board",
        camera=camera,
        fit_rms_px=fit.rms_px,
        fit_corners=(fit.used, fit.found),
        camera_distance=None if pose is None else pose.distance,
        camera_foot=None if pose is None else pose.foot,
        notes=notes,
    )
    return _checked(reference, options)


def _with_camera(
    reference: ReferenceResult, options: MeasureOptions, image_size: tuple[int, int]
) -> ReferenceResult:
    """The reference with the options' camera profile, the plane's pose and the object
    height, and a note on how much an object's height changes its size.

    Raises:
        ParameterError: a profile for another image size; an object height
            without a known pose.
    """
    camera = options.camera
    if camera is not None:
        camera.check_image(*image_size)
        if reference.camera is None and reference.kind != "scale":
            reference = replace(reference, camera=camera)
        if (
            reference.corners is not None
            and reference.camera_distance is None
            and camera.focal_known
        ):
            pose = plane_pose(
                camera.matrix,
                camera.undistort_points(reference.corners),
                reference.plane_corners,
            )
            reference = replace(reference, camera_distance=pose.distance, camera_foot=pose.foot)
    notes = list(reference.notes)
    height = options.object_height
    if height is not None and height > 0:
        if reference.camera_distance is None:
            from objlen.board import MIN_TILT_FOR_FOCAL_DEG

            raise ParameterError(
                "--object-height needs the camera's distance from the reference's plane: "
                "give a camera profile (--camera), or use a ChArUco board photographed "
                f"at a tilt of at least {MIN_TILT_FOR_FOCAL_DEG:g} deg"
            )
        if height >= reference.camera_distance:
            raise ParameterError(
                f"the object height {height:g} {options.unit} is not below the camera, "
                f"{reference.camera_distance:.4g} {options.unit} above the plane"
            )
        reference = replace(reference, object_height=float(height))
        notes.append(
            f"the object's face is measured {height:g} {options.unit} above the reference's "
            f"plane (camera {reference.camera_distance:.4g} {options.unit} from it)"
        )
    elif reference.camera_distance is not None:
        step = convert(HEIGHT_NOTE_MM, "mm", options.unit)
        share = step / (reference.camera_distance - step)
        notes.append(
            f"a face above the reference's plane measures too large here: +{share:.1%} for "
            f"each {step:g} {options.unit} of height (camera {reference.camera_distance:.4g} "
            f"{options.unit} from the plane); give --object-height to measure a top face"
        )
    return replace(reference, notes=tuple(notes))


def _object_plane_corners(reference: ReferenceResult) -> np.ndarray:
    """The plane coordinates of the reference's corners in the measured faces' plane."""
    if not reference.object_height or reference.camera_distance is None:
        return reference.plane_corners
    pose = PlanePose(reference.camera_distance, reference.camera_foot)
    return pose.raised_corners(reference.plane_corners, reference.object_height)


def _ideal_reference(reference: ReferenceResult) -> ReferenceResult:
    """The reference in ideal pinhole pixels (its lens removed) and, for a raised face,
    with the plane corners of that face's plane."""
    camera = reference.camera

    def ideal(points: np.ndarray | None) -> np.ndarray | None:
        if points is None or camera is None:
            return points
        return camera.undistort_points(np.reshape(points, (-1, 2))).reshape(np.shape(points))

    return replace(
        reference,
        C=ideal(reference.C),
        D=ideal(reference.D),
        corners=ideal(reference.corners),
        plane_corners=(
            None if reference.plane_corners is None else _object_plane_corners(reference)
        ),
        camera=None,
        object_height=0.0,
    )


def _checked(reference: ReferenceResult, options: MeasureOptions) -> ReferenceResult:
    if reference.pixels is not None and reference.pixels < options.min_reference_px:
        raise ReferenceNotFoundError(
            f"the reference is only {reference.pixels:.1f} px long in the photo; at least "
            f"{options.min_reference_px:g} px are needed: move closer or use a larger reference"
        )
    return reference


def _border_warning(region: Region, shape: tuple[int, ...], what: str) -> list[str]:
    x, y, w, h = region.bbox
    height, width = shape[:2]
    if x <= 0 or y <= 0 or x + w >= width or y + h >= height:
        return [f"the {what} touches the edge of the photo and may be cut off"]
    return []


# --------------------------------------------------------------------------- objects
def _object_box(region: Region, reference: ReferenceResult, orientation: str) -> Box:
    """The object's box per the contract, in image coordinates."""
    camera = reference.camera
    edge_points = region.edge_points()
    if camera is not None:
        edge_points = camera.undistort_points(edge_points)
    box_of = upright_box if orientation == "upright" else min_area_box
    if reference.corners is None:
        box = box_of(edge_points)
        points = np.array([box.A, box.B, box.E])
    else:
        ideal = _ideal_reference(reference)
        to_plane = Homography.from_points(ideal.corners, ideal.plane_corners)
        plane_box = box_of(to_plane(edge_points))
        points = to_plane.inverse(np.array([plane_box.A, plane_box.B, plane_box.E]))
    if camera is not None:  # back into the photo, for display and for moving
        points = camera.distort_points(points)
    a, b, e = points
    return Box(A=a, B=b, E=e)


def point_sigma(options: MeasureOptions, noise_px: float, moved: bool) -> float:
    """Standard uncertainty of a point coordinate, in pixels.

    A point taken from the mask: ``point_sigma_px`` combined with the mask's
    boundary noise (an extreme of a ragged boundary strays by a few times
    its noise). A point the operator moved: ``point_sigma_px``.
    """
    if moved:
        return options.point_sigma_px
    return float(np.hypot(options.point_sigma_px, NOISE_TO_EXTREME * noise_px))


def object_lengths(
    points: np.ndarray,
    reference: ReferenceResult,
    options: MeasureOptions,
    noise_px: float = 0.0,
    moved: Sequence[str] = (),
) -> tuple[Length, Length]:
    """Width and height of the object whose A, B, E are ``points`` (``(3, 2)``).

    Args:
        noise_px: boundary noise of the object's mask (see
            :func:`objlen.regions.outline_noise_px`).
        moved: names of the points the operator moved.
    """
    undistorted = reference.camera is not None
    if undistorted or reference.object_height:
        if undistorted:
            points = reference.camera.undistort_points(points)
        reference = _ideal_reference(reference)
    a, b, e = points
    sigmas = [point_sigma(options, noise_px, name in moved) for name in "ABE"]
    edges = [0.0 if name in moved else options.edge_sigma_px for name in "ABE"]
    lens = (
        LensAllowance.for_image(reference.image_size, options.lens_corner_shift)
        if reference.image_size is not None and not undistorted
        else None
    )
    if reference.corners is not None:
        return plane_lengths(
            points,
            reference.corners,
            reference.plane_corners,
            sigmas,
            reference.corner_sigma_px,
            options.offset,
            edge_sigmas_px=edges,
            side_sigmas_px=reference.side_sigmas_px,
            reference_edge_sigma_px=(
                options.edge_sigma_px if reference.located_on == "mask" else 0.0
            ),
            lens=lens,
        )
    if reference.kind == "scale":
        return proportional_lengths(
            a,
            b,
            e,
            reference.given_scale,
            0.0,
            sigmas,
            options.offset,
            edges,
            lens_rel_vars(points, None, lens),
        )
    cd_px = reference.pixels
    s_c, s_d = (point_sigma(options, reference.noise_px, name in reference.moved) for name in "CD")
    edge_cd = sum(
        options.edge_sigma_px
        for name in "CD"
        if name not in reference.moved and reference.located_on == "mask"
    )
    # Foreshortening shrinks a length seen along the tilt to (1 - share) of its true
    # length: relative to the measured value the truth then lies share / (1 - share) away.
    share = min(reference.perspective_rel, 0.5)
    perspective = share / (1.0 - share) * UNIFORM_TO_SIGMA
    scale = reference.real / cd_px
    scale_rel_var = (s_c**2 + s_d**2 + edge_cd**2) / cd_px**2 + perspective**2
    lens_vars = lens_rel_vars(points, np.array([reference.C, reference.D]), lens)
    # The scale changes across a tilted camera's photo: up to these shares for the
    # width and the height (uniform within the bound, see objlen.perspective).
    reference_centre, centre = (reference.C + reference.D) / 2, (b + e) / 2
    tilt_vars = [
        (UNIFORM_TO_SIGMA * scale_bound(reference.scale_gradient, reference_centre, centre, side))
        ** 2
        for side in (b - a, e - a)
    ]
    return proportional_lengths(
        a,
        b,
        e,
        scale,
        scale_rel_var,
        sigmas,
        options.offset,
        edges,
        (lens_vars[0] + tilt_vars[0], lens_vars[1] + tilt_vars[1]),
    )


def _object_result(
    points: np.ndarray,
    area_px: int | None,
    noise_px: float,
    reference: ReferenceResult,
    options: MeasureOptions,
    moved: tuple[str, ...] = (),
    lens_sensitivity: tuple[float, float] | None = None,
    photo_edge_px: tuple[float, float, float, float] = NO_DISAGREEMENT,
) -> ObjectResult:
    if lens_sensitivity is not None and not moved and not reference.moved:
        # The box's own lens sensitivity replaces the term of its three corners.
        quiet = replace(options, lens_corner_shift=0.0)
        width, height = object_lengths(points, reference, quiet, noise_px, moved)
        width, height = _with_lens_term(width, height, lens_sensitivity, reference, options)
    else:
        width, height = object_lengths(points, reference, options, noise_px, moved)
    a, b, e = points
    photo_vars = disagreement_rel_var(photo_edge_px, (distance(a, b), distance(a, e)), moved)
    width, height = (
        Length(length.value, float(np.hypot(length.uncertainty, COVERAGE_FACTOR * raw * rel)))
        for length, raw, rel in zip(
            (width, height),
            (width.value, height.value + options.offset),
            np.sqrt(photo_vars),
            strict=True,
        )
    )
    return ObjectResult(
        A=a,
        B=b,
        E=e,
        width=width,
        height=height,
        area_px=area_px,
        noise_px=noise_px,
        moved=moved,
        lens_sensitivity=lens_sensitivity,
        photo_edge_px=photo_edge_px,
    )


@dataclass(frozen=True)
class _RadialShift:
    """A lens that moves every photo point by ``k`` radially (see :class:`LensAllowance`),
    in the shape of a camera profile, to recompute a box as a lens would change it."""

    lens: LensAllowance
    k: float

    def undistort_points(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, dtype=np.float64) + self.k * self.lens.radial(points)

    def distort_points(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, dtype=np.float64) - self.k * self.lens.radial(points)


#: Lens coefficient step for the numerical derivative of a box's size.
_LENS_STEP = 1e-3


def _lens_sensitivity(
    region: Region, reference: ReferenceResult, options: MeasureOptions
) -> tuple[float, float] | None:
    """``d ln(width)/dk`` and ``d ln(height)/dk`` of the object's box under the lens
    allowance: the whole outline and the reference moved as a lens moves them, and
    the box taken again (a lens bows the object's sides, so its box's extremes move
    unlike its corners). None when there is no allowance (a camera profile, or 0).
    The two boxes' sides are paired with the unmoved box's by direction: a box of
    least area may turn a quarter round under the step (a pill whose two
    orientations enclose nearly the same area), its width then being the
    other's height.
    """
    if reference.camera is not None or reference.image_size is None:
        return None
    lens = LensAllowance.for_image(reference.image_size, options.lens_corner_shift)
    if lens is None:
        return None
    quiet = replace(options, lens_corner_shift=0.0)
    unmoved = _object_box(region, reference, options.orientation)
    along = np.asarray(unmoved.B, dtype=np.float64) - np.asarray(unmoved.A, dtype=np.float64)
    logs = []
    for k in (_LENS_STEP, -_LENS_STEP):
        shift = _RadialShift(lens, k)
        shifted = replace(reference, camera=shift)
        if reference.corners is not None:
            # The corners where the lines fitted to the lens-moved sides meet, put
            # back into the photo, so that removing the lens leaves exactly those.
            moved = reference.corners + k * lens.fitted_radial(reference.corners)
            shifted = replace(shifted, corners=shift.distort_points(moved))
        box = _object_box(region, shifted, options.orientation)
        corners = np.array([box.A, box.B, box.E], dtype=np.float64)
        width, height = object_lengths(corners, shifted, quiet)
        raw = (width.value, height.value + options.offset)
        if _turned(along, corners[1] - corners[0], corners[2] - corners[0]):
            raw = raw[::-1]
        logs.append((math.log(raw[0]), math.log(raw[1])))
    return tuple((logs[0][i] - logs[1][i]) / (2 * _LENS_STEP) for i in range(2))  # type: ignore[return-value]


def _turned(along: np.ndarray, width_side: np.ndarray, height_side: np.ndarray) -> bool:
    """Whether a box whose sides are ``width_side`` (A to B) and ``height_side``
    (A to E) lies a quarter turn from one whose A to B is ``along``: its height
    side is the nearer to ``along`` in direction."""

    def alignment(side: np.ndarray) -> float:
        norm = float(np.linalg.norm(side)) * float(np.linalg.norm(along))
        return abs(float(np.dot(side, along))) / norm if norm > 0 else 0.0

    return alignment(height_side) > alignment(width_side)


def _with_lens_term(
    width: Length,
    height: Length,
    sensitivity: tuple[float, float],
    reference: ReferenceResult,
    options: MeasureOptions,
) -> tuple[Length, Length]:
    """Width and height whose 95 % half-widths add the lens allowance, from the box's own
    relative ``sensitivity`` to the lens coefficient."""
    lens = LensAllowance.for_image(reference.image_size, options.lens_corner_shift)
    results = []
    for length, share, raw in zip(
        (width, height), sensitivity, (width.value, height.value + options.offset), strict=True
    ):
        lens_sigma = abs(share) * lens.sigma_k * raw
        results.append(
            Length(length.value, float(np.hypot(length.uncertainty, COVERAGE_FACTOR * lens_sigma)))
        )
    return results[0], results[1]


def uncertainty_cause(reference: ReferenceResult) -> str:
    """Why a length is more uncertain than the warning threshold, and what to do:
    the scale's change across a photo whose reference looks tilted, when it
    shows one, else the few pixels of the reference or the object."""
    if np.any(reference.scale_gradient):
        return (
            "the reference looks tilted, so the scale may change across the photo (see the "
            "note); photograph from straight above with the reference beside the object, or "
            "use a card and the homography method"
        )
    return (
        "the reference or the object is small in the photo; move closer or use a larger "
        "reference"
    )


def _point_warnings(
    objects: Sequence[ObjectResult], options: MeasureOptions, reference: ReferenceResult
) -> list[str]:
    warnings = []
    unit = options.unit
    why = uncertainty_cause(reference)
    for index, obj in enumerate(objects):
        name = "the object" if len(objects) == 1 else f"object {index + 1}"
        for label, length in (("width", obj.width), ("height", obj.height)):
            relative = length.relative
            if relative > options.warn_relative:
                warnings.append(
                    f"{name}: {label} uncertainty ±{length.uncertainty:.3g} {unit} is "
                    f"{relative:.1%} of the value (above {options.warn_relative:.0%}): {why}"
                )
        if options.offset > 0 and obj.height.value < 0:
            warnings.append(
                f"{name}: the offset N = {options.offset:g} {unit} is larger than the measured "
                f"height {obj.height.value + options.offset:.4g} {unit}: the height is "
                "negative; check N and the unit"
            )
    return warnings


# --------------------------------------------------------------------------- public
def measure(
    mask: np.ndarray,
    options: MeasureOptions,
    *,
    image: np.ndarray | None = None,
    input_warnings: Sequence[str] = (),
    input_notes: Sequence[str] = (),
    class_map: ClassMap | None = None,
) -> Measurement:
    """Measure the object(s) of a class-index mask against its reference.

    Args:
        mask: ``(H, W)`` uint8 class indices (see ``options.classes``).
        options: what the reference is, the method, orientation, unit, N...
        image: the ``(H, W, 3)`` RGB photo, needed for ArUco and used to
            refine a rectangular reference's corners on the photo's edges.
        input_warnings: remarks from loading or segmenting (e.g. a resized
            mask), carried into the result's warnings.
        input_notes: information from segmenting (e.g. which region is the
            reference), carried into the result's notes.
        class_map: ``mask`` indexed by the caller (``ClassMap(mask,
            options.classes)``), to share it with its own queries (e.g.
            :func:`objlen.advice.left_out_note`); made here when ``None`` or
            of another mask.

    Returns:
        A :class:`Measurement`; ``objects`` ordered largest first, only the
        largest unless ``options.all_objects``.

    Raises:
        MaskError, ReferenceNotFoundError, ParameterError: with messages for the operator.
    """
    options = options.validated()
    if mask.ndim != 2:
        raise MaskError(f"a mask has one channel; got an array of shape {mask.shape}")
    if image is not None and image.shape[:2] != mask.shape:
        raise MaskError(
            f"the mask ({mask.shape[1]}x{mask.shape[0]}) and the photo "
            f"({image.shape[1]}x{image.shape[0]}) differ in size"
        )
    classes = options.classes
    if class_map is None or class_map.mask is not mask or class_map.classes != classes:
        class_map = ClassMap(mask, classes)
    class_map.check()
    regions = class_map.regions(
        classes.object,
        min_area_px=options.min_object_area_px,
        limit=None if options.all_objects else 1,
    )
    if not regions:
        if not class_map.regions(classes.object, limit=1):
            raise MaskError(
                f"the mask has no object pixels (class {classes.object}); check the "
                "segmentation or the object class id"
            )
        raise MaskError(
            f"the object in the mask is smaller than {options.min_object_area_px} pixels; "
            "check the segmentation"
        )
    try:
        reference, reference_warnings = locate_reference(class_map, options, image)
    except ReferenceNotFoundError as exc:
        # The segmenter's words, when it found no reference in the photo (no class
        # ids to speak of: the operator gave a photo, not a mask) or guessed one.
        alone = [w for w in input_warnings if w.startswith(ONLY_ONE_REGION)]
        if alone:
            raise ReferenceNotFoundError(f"no reference in the photo: {alone[0]}") from exc
        causes = [w for w in input_warnings if w.startswith(NO_SUCH_REFERENCE)]
        if not causes:
            raise
        raise ReferenceNotFoundError(f"{exc}; {causes[0]}") from exc
    reference = _with_camera(reference, options, (mask.shape[1], mask.shape[0]))
    reference = replace(reference, image_size=(mask.shape[1], mask.shape[0]))
    objects = []
    fixed_warnings = list(input_warnings) + reference_warnings
    for region in regions:
        box = _object_box(region, reference, options.orientation)
        points = np.array([box.A, box.B, box.E])
        outline = dense_outline(region)
        objects.append(
            _object_result(
                points,
                region.area_px,
                outline_noise_px(outline),
                reference,
                options,
                lens_sensitivity=_lens_sensitivity(region, reference, options),
                photo_edge_px=(
                    NO_DISAGREEMENT if image is None else photo_disagreement(image, outline, points)
                ),
            )
        )
        fixed_warnings += _border_warning(region, mask.shape, "object")
    return Measurement(
        image_size=(mask.shape[1], mask.shape[0]),
        options=options,
        reference=reference,
        objects=tuple(objects),
        fixed_warnings=tuple(dict.fromkeys(fixed_warnings)),
        warnings=tuple(
            dict.fromkeys(fixed_warnings + _point_warnings(objects, options, reference))
        ),
        notes=(NOTES[options.method], *reference.notes, *input_notes),
    )


def measure_segmentation(
    segmentation: Segmentation,
    options: MeasureOptions,
    *,
    image: np.ndarray | None = None,
    class_map: ClassMap | None = None,
) -> Measurement:
    """:func:`measure` of a segmenter's mask, with its warnings and notes (which
    region was taken as the reference, what was left out...) carried into the
    result's."""
    return measure(
        segmentation.mask,
        options,
        image=image,
        input_warnings=segmentation.warnings,
        input_notes=segmentation.notes,
        class_map=class_map,
    )


def _as_point(name: str, value: Sequence[float]) -> np.ndarray:
    point = np.asarray(value, dtype=np.float64).reshape(-1)
    if point.shape != (2,) or not np.all(np.isfinite(point)):
        raise ParameterError(f"point {name} must be two finite numbers (x, y), got {value!r}")
    return point


def remeasure(
    measurement: Measurement, moved: Mapping[str, Sequence[float]], object_index: int = 0
) -> Measurement:
    """Recompute a measurement from points the operator moved.

    Args:
        measurement: the result of :func:`measure` (or of an earlier call).
        moved: new image positions ``(x, y)`` for any of ``"A"``, ``"B"``,
            ``"E"`` (of object ``object_index``) and ``"C"``, ``"D"``. A moved
            position is the truth; the lengths are plain distances (in the
            reference's plane for the homography method).

    Returns:
        A new :class:`Measurement` with the same schema; the moved point names
        are listed in the object's ``moved`` and the reference's ``moved``.
    """
    unknown = set(moved) - set(POINT_NAMES)
    if unknown:
        raise ParameterError(f"unknown point names {sorted(unknown)}; use A, B, E, C or D")
    if not 0 <= object_index < len(measurement.objects):
        raise ParameterError(f"there is no object number {object_index + 1} in this measurement")
    points = {name: _as_point(name, value) for name, value in moved.items()}
    options = measurement.options
    reference = measurement.reference
    if "C" in points or "D" in points:
        if reference.kind == "scale":
            raise ParameterError("the scale was given directly: there are no points C, D to move")
        if reference.corners is not None:
            raise ParameterError(
                "with the homography method C and D follow from the reference's corners; "
                "move A, B or E"
            )
        reference = _checked(
            replace(
                reference,
                C=points.get("C", reference.C),
                D=points.get("D", reference.D),
                moved=tuple(n for n in "CD" if n in points or n in reference.moved),
            ),
            options,
        )
    objects = []
    for index, obj in enumerate(measurement.objects):
        abe = np.array([obj.A, obj.B, obj.E])
        names = obj.moved
        if index == object_index:
            for k, name in enumerate("ABE"):
                if name in points:
                    abe[k] = points[name]
            names = tuple(n for n in "ABE" if n in points or n in obj.moved)
        objects.append(
            _object_result(
                abe,
                obj.area_px,
                obj.noise_px,
                reference,
                options,
                names,
                lens_sensitivity=obj.lens_sensitivity,
                photo_edge_px=obj.photo_edge_px,
            )
        )
    return replace(
        measurement,
        reference=reference,
        objects=tuple(objects),
        warnings=tuple(
            dict.fromkeys(
                [*measurement.fixed_warnings, *_point_warnings(objects, options, reference)]
            )
        ),
    )
