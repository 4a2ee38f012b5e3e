"""Synthetic photos of flat things on a table, with exact ground truth.

A pinhole camera looks at a plane (the table). Shapes are defined in the
plane in millimetres, projected into the image by a homography and rendered
with per-pixel area coverage, so that the mask and the photo agree with the
geometry to a small fraction of a pixel.

Coordinates follow the objlen convention everywhere:

- Plane points are ``(X, Y)`` in mm. Seen from the camera at tilt 0 and roll
  0, plane +X is image right and plane +Y is image down.
- Image points are ``(x, y)`` in pixels, x right, y down; pixel ``(i, j)``
  covers the square ``[i-0.5, i+0.5] x [j-0.5, j+0.5]``, so pixel centres sit
  at integer coordinates.

Rendering samples ``supersample x supersample`` points per pixel, at the
centres of the sub-pixel grid, and a sample on an edge belongs to the shape
on its right/below (the top-left rule), so shapes that share an edge tile
without gaps or overlaps. Coverage is the fraction of samples inside.

Example::

    >>> cam = Camera(width=320, height=240, focal_px=400.0, distance_mm=400.0)
    >>> box = PlaneShape("rectangle", center_mm=(40.0, 0.0), size_mm=(60.0, 40.0))
    >>> card = PlaneShape("card", center_mm=(-60.0, 0.0), size_mm=CARD_SIZE_MM)
    >>> scene = render_scene([box], card, cam)
    >>> int((scene.mask == 1).sum())      # 60 x 40 mm at 1 px/mm
    2400
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import cv2
import numpy as np

from objlen.classes import ClassIds
from objlen.errors import ParameterError

#: ID-1 card (credit card, identity card): width x height in mm, ISO/IEC 7810.
CARD_SIZE_MM: tuple[float, float] = (85.6, 54.0)
#: Corner radius of an ID-1 card in mm.
CARD_CORNER_RADIUS_MM = 3.18
#: Default side of the black square of an ArUco marker, in mm.
ARUCO_SIDE_MM = 40.0
#: White margin around an ArUco marker's black square, in marker cells.
ARUCO_QUIET_ZONE_CELLS = 2.0
#: Correlation length of the mask-noise field in pixels: the Gaussian sigma of
#: its autocorrelation.
MASK_NOISE_CORRELATION_PX = 8.0
#: Standard deviation of the sensor noise in 8-bit levels.
SENSOR_NOISE_LEVELS = 2.0

ShapeKind = Literal["rectangle", "ellipse", "blob", "card", "aruco"]
SHAPE_KINDS: tuple[str, ...] = ("rectangle", "ellipse", "blob", "card", "aruco")
OBJECT_KINDS: tuple[str, ...] = ("rectangle", "ellipse", "blob")
REFERENCE_KINDS: tuple[str, ...] = ("card", "aruco")
LIGHTINGS: tuple[str, ...] = ("plain", "gradient", "dark")

_CLASSES = ClassIds()
_DENSE_SAMPLES = 65536
_MAX_OUTLINE_SAMPLES = 16384


# --------------------------------------------------------------------------
# Camera
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Camera:
    """A pinhole camera looking at the plane Z = 0.

    Attributes:
        width, height: image size in pixels.
        focal_px: focal length in pixels; the principal point is the image
            centre ``((width-1)/2, (height-1)/2)`` in objlen pixel coordinates.
        tilt_deg: angle between the optical axis and the plane normal, a pitch
            about the camera's x axis; 0 looks straight down. When tilted, the
            top of the image sees farther away, as when a person photographs a
            table from where they stand.
        distance_mm: distance from the camera centre to the plane point seen
            at the image centre (the plane origin).
        roll_deg: rotation of the image about the optical axis; positive turns
            the picture content clockwise as displayed (x right, y down).
    """

    width: int = 1600
    height: int = 1200
    focal_px: float = 1700.0
    tilt_deg: float = 0.0
    distance_mm: float = 600.0
    roll_deg: float = 0.0

    def __post_init__(self) -> None:
        if int(self.width) < 8 or int(self.height) < 8:
            raise ParameterError(f"camera image {self.width}x{self.height} px is too small")
        _require_positive("camera focal length (px)", self.focal_px)
        _require_positive("camera distance (mm)", self.distance_mm)
        if not (math.isfinite(self.tilt_deg) and 0.0 <= self.tilt_deg <= 80.0):
            raise ParameterError(f"camera tilt must be within 0..80 degrees, got {self.tilt_deg}")
        if not math.isfinite(self.roll_deg):
            raise ParameterError(f"camera roll must be a finite angle, got {self.roll_deg}")

    @property
    def principal_point(self) -> tuple[float, float]:
        """The image centre ``(cx, cy)`` in pixels, objlen convention."""
        return ((self.width - 1) / 2.0, (self.height - 1) / 2.0)

    def intrinsics(self) -> np.ndarray:
        """The 3x3 intrinsic matrix K (pixels, objlen convention)."""
        cx, cy = self.principal_point
        return np.array([[self.focal_px, 0.0, cx], [0.0, self.focal_px, cy], [0.0, 0.0, 1.0]])

    def extrinsic_columns(self) -> np.ndarray:
        """``[r1 r2 t]``: maps plane ``(X, Y, 1)`` in mm to camera coordinates in mm.

        Camera coordinates are x right, y down, z along the optical axis.
        """
        tilt = math.radians(self.tilt_deg)
        roll = math.radians(self.roll_deg)
        c, s = math.cos(tilt), math.sin(tilt)
        plane = np.array([[1.0, 0.0, 0.0], [0.0, c, 0.0], [0.0, -s, self.distance_mm]])
        cr, sr = math.cos(roll), math.sin(roll)
        rolled = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
        return rolled @ plane

    def homography(self) -> np.ndarray:
        """The 3x3 homography from plane ``(X, Y)`` in mm to image ``(x, y)`` in px.

        Normalised so that ``H[2, 2] == 1``. At tilt 0 and roll 0 it is
        ``x = cx + f/d * X``, ``y = cy + f/d * Y``.
        """
        h = self.intrinsics() @ self.extrinsic_columns()
        return h / h[2, 2]

    def depth_mm(self, points_mm: np.ndarray) -> np.ndarray:
        """Depth (distance along the optical axis, mm) of plane points ``(N, 2)``."""
        pts = np.asarray(points_mm, dtype=np.float64).reshape(-1, 2)
        tilt = math.radians(self.tilt_deg)
        return self.distance_mm - math.sin(tilt) * pts[:, 1]

    def px_per_mm(self) -> float:
        """Scale at the image centre across the tilt axis (plane X), in px/mm."""
        return self.focal_px / self.distance_mm


def project_points(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map ``(N, 2)`` points ``(x, y)`` through a 3x3 homography; returns ``(N, 2)``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    h = np.asarray(homography, dtype=np.float64)
    mapped = pts @ h[:, :2].T + h[:, 2]
    return mapped[:, :2] / mapped[:, 2:3]


# --------------------------------------------------------------------------
# Shapes in the plane
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaneShape:
    """A flat shape lying in the plane, in millimetres.

    Attributes:
        kind: ``rectangle``, ``ellipse``, ``blob`` (a smooth random potato),
            ``card`` (rectangle with rounded corners) or ``aruco`` (marker).
        center_mm: centre ``(X, Y)``; for a blob, the centre of its unrotated
            bounding box.
        size_mm: full width (along plane X before rotation) and full height.
            A blob is scaled so that its unrotated extent is exactly this.
            For ``aruco``: ``(side, side)`` of the black square.
        angle_deg: in-plane rotation about the centre, from +X towards +Y
            (clockwise as displayed at tilt 0).
        seed: which blob.
        corner_radius_mm: rounded corners of a ``card``.
        aruco_dictionary, aruco_id: the marker drawn for ``aruco``.
    """

    kind: ShapeKind
    center_mm: tuple[float, float]
    size_mm: tuple[float, float]
    angle_deg: float = 0.0
    seed: int = 0
    corner_radius_mm: float = 0.0
    aruco_dictionary: str = "DICT_4X4_50"
    aruco_id: int = 0

    def __post_init__(self) -> None:
        if self.kind not in SHAPE_KINDS:
            raise ParameterError(f"unknown shape kind {self.kind!r}; use one of {SHAPE_KINDS}")
        if len(self.center_mm) != 2 or len(self.size_mm) != 2:
            raise ParameterError("a shape's centre and size are pairs (X, Y) and (width, height)")
        object.__setattr__(self, "center_mm", tuple(float(v) for v in self.center_mm))
        object.__setattr__(self, "size_mm", tuple(float(v) for v in self.size_mm))
        width, height = self.size_mm
        _require_positive("shape width (mm)", width)
        _require_positive("shape height (mm)", height)
        if not all(math.isfinite(v) for v in (*self.center_mm, self.angle_deg)):
            raise ParameterError("shape centre and angle must be finite numbers")
        if not 0.0 <= self.corner_radius_mm <= min(width, height) / 2.0:
            raise ParameterError(
                f"corner radius {self.corner_radius_mm} mm must be within 0..half the "
                f"shorter side ({min(width, height) / 2.0} mm)"
            )
        if self.kind == "aruco":
            if not math.isclose(width, height):
                raise ParameterError(f"an ArUco marker is square; got {width} x {height} mm")
            _aruco_cells(self.aruco_dictionary, self.aruco_id)

    def outline_mm(self, samples: int = 720) -> np.ndarray:
        """The closed outline, ``(N, 2)`` plane points ``(X, Y)`` in mm.

        The last point is not repeated. Straight-sided shapes (rectangle,
        aruco, card without rounding) are given by their 4 corners, which is
        exact under any homography; curved outlines use about ``samples``
        points.
        """
        return self.place(self._local_outline(max(int(samples), 8)))

    def extent_mm(self) -> tuple[float, float]:
        """Axis-aligned extent ``(along X, along Y)`` of the outline in mm.

        This is the ground-truth width and height of the shape measured in
        the plane's axes. Exact for every kind but ``blob``, whose extent is
        taken from a 65536-point outline (error below 1e-6 of its size).
        """
        width, height = self.size_mm
        c, s = (
            abs(math.cos(math.radians(self.angle_deg))),
            abs(math.sin(math.radians(self.angle_deg))),
        )
        if self.kind == "ellipse":
            a, b = width / 2.0, height / 2.0
            return (2.0 * math.hypot(a * c, b * s), 2.0 * math.hypot(a * s, b * c))
        if self.kind == "blob":
            pts = self.place(_blob_local(width, height, self.seed, _DENSE_SAMPLES))
            span = pts.max(axis=0) - pts.min(axis=0)
            return (float(span[0]), float(span[1]))
        r = self.corner_radius_mm if self.kind == "card" else 0.0
        w, h = width - 2.0 * r, height - 2.0 * r
        return (w * c + h * s + 2.0 * r, w * s + h * c + 2.0 * r)

    def place(self, local_mm: np.ndarray) -> np.ndarray:
        """Rotate shape-local points by ``angle_deg`` and move them to ``center_mm``."""
        pts = np.asarray(local_mm, dtype=np.float64).reshape(-1, 2)
        angle = math.radians(self.angle_deg)
        c, s = math.cos(angle), math.sin(angle)
        rotation = np.array([[c, -s], [s, c]])
        return pts @ rotation.T + np.asarray(self.center_mm, dtype=np.float64)

    def _local_outline(self, samples: int) -> np.ndarray:
        """The outline about the origin, before rotation."""
        width, height = self.size_mm
        if self.kind == "ellipse":
            t = np.linspace(0.0, 2.0 * math.pi, samples, endpoint=False)
            return np.column_stack([width / 2.0 * np.cos(t), height / 2.0 * np.sin(t)])
        if self.kind == "blob":
            return _blob_local(width, height, self.seed, samples)
        if self.kind == "card" and self.corner_radius_mm > 0.0:
            return _rounded_rectangle(width, height, self.corner_radius_mm, samples)
        return _rectangle(width, height)


def card_shape(center_mm: tuple[float, float] = (0.0, 0.0), angle_deg: float = 0.0) -> PlaneShape:
    """An ID-1 card (85.6 x 54.0 mm, 3.18 mm corners), long side along plane X."""
    return PlaneShape(
        "card", center_mm, CARD_SIZE_MM, angle_deg, corner_radius_mm=CARD_CORNER_RADIUS_MM
    )


def aruco_shape(
    center_mm: tuple[float, float] = (0.0, 0.0),
    side_mm: float = ARUCO_SIDE_MM,
    marker_id: int = 0,
    dictionary: str = "DICT_4X4_50",
) -> PlaneShape:
    """An ArUco marker whose black square has side ``side_mm``."""
    return PlaneShape(
        "aruco", center_mm, (side_mm, side_mm), aruco_dictionary=dictionary, aruco_id=marker_id
    )


def _rectangle(width: float, height: float) -> np.ndarray:
    """Corners of a ``width x height`` rectangle centred at the origin."""
    a, b = width / 2.0, height / 2.0
    return np.array([[-a, -b], [a, -b], [a, b], [-a, b]])


def _rounded_rectangle(width: float, height: float, radius: float, samples: int) -> np.ndarray:
    """Outline of a rectangle with quarter-circle corners, centred at the origin."""
    per_corner = max(samples // 4, 2)
    a, b = width / 2.0 - radius, height / 2.0 - radius
    centres = ((a, -b), (a, b), (-a, b), (-a, -b))
    starts = (-math.pi / 2.0, 0.0, math.pi / 2.0, math.pi)
    arcs = []
    for (cx, cy), start in zip(centres, starts, strict=True):
        t = np.linspace(start, start + math.pi / 2.0, per_corner)
        arcs.append(np.column_stack([cx + radius * np.cos(t), cy + radius * np.sin(t)]))
    return np.concatenate(arcs)


@functools.lru_cache(maxsize=128)
def _blob_harmonics(seed: int) -> tuple[tuple[float, float, float], ...]:
    """Radial harmonics ``(order, amplitude, phase)`` of blob ``seed``."""
    rng = np.random.default_rng([seed, 7315])
    bounds = ((2, 0.05, 0.25), (3, 0.03, 0.15), (4, 0.0, 0.08), (5, 0.0, 0.05))
    return tuple(
        (float(k), float(rng.uniform(lo, hi)), float(rng.uniform(0.0, 2.0 * math.pi)))
        for k, lo, hi in bounds
    )


def _blob_unit(seed: int, samples: int) -> np.ndarray:
    """Unscaled star-shaped blob: radius ``1 + sum a_k cos(k t + p_k)`` (at least 0.47)."""
    t = np.linspace(0.0, 2.0 * math.pi, samples, endpoint=False)
    radius = np.ones_like(t)
    for order, amplitude, phase in _blob_harmonics(seed):
        radius += amplitude * np.cos(order * t + phase)
    return np.column_stack([radius * np.cos(t), radius * np.sin(t)])


@functools.lru_cache(maxsize=128)
def _blob_frame(seed: int) -> tuple[float, float, float, float]:
    """Centre ``(x, y)`` and span ``(w, h)`` of the unit blob, from a dense outline."""
    pts = _blob_unit(seed, _DENSE_SAMPLES)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre, span = (lo + hi) / 2.0, hi - lo
    return (float(centre[0]), float(centre[1]), float(span[0]), float(span[1]))


def _blob_local(width: float, height: float, seed: int, samples: int) -> np.ndarray:
    """Blob outline whose unrotated extent is ``width x height``, centred at the origin."""
    cx, cy, span_x, span_y = _blob_frame(seed)
    pts = _blob_unit(seed, samples)
    return np.column_stack([(pts[:, 0] - cx) * width / span_x, (pts[:, 1] - cy) * height / span_y])


@functools.lru_cache(maxsize=64)
def _aruco_cells(dictionary: str, marker_id: int) -> np.ndarray:
    """The marker's cell grid including its black border: ``(n, n)`` bool, True = black."""
    code = getattr(cv2.aruco, dictionary, None)
    if not dictionary.startswith("DICT_") or not isinstance(code, int):
        raise ParameterError(f"unknown ArUco dictionary {dictionary!r} (e.g. 'DICT_4X4_50')")
    aruco_dict = cv2.aruco.getPredefinedDictionary(code)
    if not 0 <= marker_id < aruco_dict.bytesList.shape[0]:
        raise ParameterError(
            f"ArUco id {marker_id} is not in {dictionary} (0..{aruco_dict.bytesList.shape[0] - 1})"
        )
    cells = aruco_dict.markerSize + 2
    image = cv2.aruco.generateImageMarker(aruco_dict, marker_id, cells)
    return image < 128


def aruco_black_cells_mm(shape: PlaneShape) -> list[np.ndarray]:
    """The black parts of an ArUco marker as plane polygons (one per row run of cells)."""
    cells = _aruco_cells(shape.aruco_dictionary, shape.aruco_id)
    n = cells.shape[0]
    side = shape.size_mm[0]
    cell = side / n
    polygons = []
    for row in range(n):
        padded = np.concatenate([[False], cells[row], [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            x0, x1 = -side / 2.0 + start * cell, -side / 2.0 + stop * cell
            y0, y1 = -side / 2.0 + row * cell, -side / 2.0 + (row + 1) * cell
            polygons.append(shape.place(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])))
    return polygons


def aruco_paper_mm(shape: PlaneShape) -> np.ndarray:
    """The white square (black square plus quiet zone) an ArUco marker is printed on."""
    side = shape.size_mm[0]
    cells = _aruco_cells(shape.aruco_dictionary, shape.aruco_id).shape[0]
    margin = ARUCO_QUIET_ZONE_CELLS * side / cells
    return shape.place(_rectangle(side + 2.0 * margin, side + 2.0 * margin))


def footprint_mm(shape: PlaneShape) -> tuple[float, float]:
    """Unrotated ``(width, height)`` the shape covers on the table, quiet zone included."""
    if shape.kind != "aruco":
        return shape.size_mm
    paper = aruco_paper_mm(
        PlaneShape(
            "aruco",
            (0.0, 0.0),
            shape.size_mm,
            aruco_dictionary=shape.aruco_dictionary,
            aruco_id=shape.aruco_id,
        )
    )
    span = paper.max(axis=0) - paper.min(axis=0)
    return (float(span[0]), float(span[1]))


# --------------------------------------------------------------------------
# Exact coverage rasteriser
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """A rectangle of image pixels: columns ``x0..x1-1``, rows ``y0..y1-1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return (self.y1 - self.y0, self.x1 - self.x0)

    @property
    def slices(self) -> tuple[slice, slice]:
        """Index of the window in an ``(H, W, ...)`` array."""
        return (slice(self.y0, self.y1), slice(self.x0, self.x1))

    @property
    def empty(self) -> bool:
        """Whether the window holds no pixel."""
        return self.x1 <= self.x0 or self.y1 <= self.y0


def _window_of(polygons_px: Sequence[np.ndarray], size: tuple[int, int], margin: int) -> _Window:
    """Pixels touched by the polygons, grown by ``margin``, clipped to ``size = (H, W)``."""
    pts = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polygons_px])
    lo = np.floor(pts.min(axis=0) + 0.5).astype(int) - margin
    hi = np.ceil(pts.max(axis=0) - 0.5).astype(int) + 1 + margin
    height, width = size
    return _Window(
        max(int(lo[0]), 0), max(int(lo[1]), 0), min(int(hi[0]), width), min(int(hi[1]), height)
    )


def _crossings(polygon_super: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a polygon's edges cross the integer rows ``0 .. rows-1`` of the sub-pixel grid.

    Returns ``(row, x, sign)``: an edge crosses row ``r`` when
    ``min(y0, y1) <= r < max(y0, y1)``; ``sign`` is +1 or -1 so that the
    polygon's inside has winding +1 whatever its orientation. Each edge is
    evaluated from its upper end, so a shared edge gives identical crossings
    in both polygons.
    """
    p0 = polygon_super
    p1 = np.roll(polygon_super, -1, axis=0)
    area2 = float(np.sum(p0[:, 0] * p1[:, 1] - p1[:, 0] * p0[:, 1]))
    orientation = 1 if area2 >= 0.0 else -1
    upward = p1[:, 1] < p0[:, 1]
    top = np.where(upward[:, None], p1, p0)
    bottom = np.where(upward[:, None], p0, p1)
    first = np.clip(np.ceil(top[:, 1]), 0, rows).astype(np.int64)
    stop = np.clip(np.ceil(bottom[:, 1]), 0, rows).astype(np.int64)
    counts = np.maximum(stop - first, 0)
    edge = np.repeat(np.arange(len(p0)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    row = first[edge] + offsets
    top_e, bottom_e = top[edge], bottom[edge]
    x = top_e[:, 0] + (row - top_e[:, 1]) * (bottom_e[:, 0] - top_e[:, 0]) / (
        bottom_e[:, 1] - top_e[:, 1]
    )
    sign = np.where(upward[edge], orientation, -orientation)
    return row, x, sign


def _coverage_in_window(
    polygons_px: Sequence[np.ndarray], window: _Window, supersample: int
) -> np.ndarray:
    """Fraction of sub-pixel samples inside the polygons, for the pixels of ``window``.

    Image point ``x`` sits at sub-pixel coordinate ``s*x + (s-1)/2``, so
    pixel ``i`` owns sub-pixel columns ``s*i .. s*i+s-1``. The count per
    pixel is accumulated straight from the edge crossings (a difference
    array along each row), never at the sub-pixel resolution. Polygons must
    not overlap one another (overlaps count twice, then clip to 1); sharing
    edges is fine.

    ``cv2.fillPoly`` is not used: even with ``shift`` it rounds vertex rows
    to whole samples and fills both end samples of a span, so a box from
    3.5 to 9.5 comes out 7 samples wide instead of 6.
    """
    s = int(supersample)
    h, w = window.shape
    if window.empty:
        return np.zeros((max(h, 0), max(w, 0)), dtype=np.float32)
    first_part = np.zeros(h * (w + 1))
    carried = np.zeros(h * (w + 1))
    for polygon in polygons_px:
        pts = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        sub = pts * s + (s - 1) / 2.0 - np.array([s * window.x0, s * window.y0])
        row, x, sign = _crossings(sub, s * h)
        col = np.maximum(np.ceil(x), 0).astype(np.int64)
        keep = col < s * w
        row, col, sign = row[keep] // s, col[keep], sign[keep]
        pixel = col // s
        flat = row * (w + 1) + pixel
        first_part += np.bincount(flat, sign * (s * (pixel + 1) - col), minlength=h * (w + 1))
        carried += np.bincount(flat + 1, sign * s, minlength=h * (w + 1) + 1)[: h * (w + 1)]
    counts = first_part.reshape(h, w + 1) + np.cumsum(carried.reshape(h, w + 1), axis=1)
    coverage = counts[:, :w] / float(s * s)
    return np.clip(coverage, 0.0, 1.0).astype(np.float32)


def polygon_coverage(
    polygons_px: Sequence[np.ndarray], size: tuple[int, int], supersample: int = 4
) -> np.ndarray:
    """Per-pixel area coverage of image-space polygons.

    Args:
        polygons_px: closed polygons, each ``(N, 2)`` image points ``(x, y)``
            in pixels (objlen convention: pixel centres at integers). They
            must not overlap one another.
        size: ``(H, W)`` of the image.
        supersample: samples per pixel along each axis.

    Returns:
        ``(H, W)`` float32 in [0, 1]: the fraction of the pixel's
        ``supersample**2`` sample points inside the polygons.
    """
    if int(supersample) < 1:
        raise ParameterError(f"supersample must be at least 1, got {supersample}")
    coverage = np.zeros(size, dtype=np.float32)
    polygons = [p for p in polygons_px if len(p) >= 3]
    if not polygons:
        return coverage
    window = _window_of(polygons, size, margin=1)
    if not window.empty:
        coverage[window.slices] = _coverage_in_window(polygons, window, int(supersample))
    return coverage


# --------------------------------------------------------------------------
# The scene
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Scene:
    """A rendered photo, its mask and everything needed to know the truth.

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB photo.
        mask: ``(H, W)`` uint8 class indices: 0 background, 1 object(s),
            2 reference (for ArUco: its whole black square), with mask noise.
        clean_mask: the same without mask noise (coverage > 0.5 per class).
        plane_to_image: 3x3 homography, plane mm -> image px.
        objects: the measured shapes (class 1).
        reference: the reference shape (class 2).
        camera: the camera that took the photo.
        mask_noise_px, lighting, seed, supersample: how it was rendered.
    """

    image: np.ndarray
    mask: np.ndarray
    clean_mask: np.ndarray
    plane_to_image: np.ndarray
    objects: tuple[PlaneShape, ...]
    reference: PlaneShape
    camera: Camera
    mask_noise_px: float = 0.0
    lighting: str = "plain"
    seed: int = 0
    supersample: int = 4
    object_colors: tuple[tuple[int, int, int], ...] = field(default_factory=tuple)

    @property
    def image_to_plane(self) -> np.ndarray:
        """3x3 homography, image px -> plane mm."""
        return np.linalg.inv(self.plane_to_image)

    def object_size_mm(self, index: int = 0) -> tuple[float, float]:
        """True ``(width, height)`` in mm of ``objects[index]`` along the plane axes."""
        return self.objects[index].extent_mm()

    def ground_truth(self) -> dict[str, Any]:
        """Everything true about the scene, as plain JSON-ready values (mm, px)."""
        return {
            "objects": [_shape_truth(shape) for shape in self.objects],
            "reference": _shape_truth(self.reference),
            "camera": asdict(self.camera),
            "tilt_deg": self.camera.tilt_deg,
            "lighting": self.lighting,
            "mask_noise_px": self.mask_noise_px,
            "supersample": self.supersample,
            "seed": self.seed,
            "plane_to_image": self.plane_to_image.tolist(),
        }


def _shape_truth(shape: PlaneShape) -> dict[str, Any]:
    """Ground truth of one shape as JSON-ready values."""
    width, height = shape.extent_mm()
    truth: dict[str, Any] = {
        "kind": shape.kind,
        "width_mm": width,
        "height_mm": height,
        "size_mm": list(shape.size_mm),
        "center_mm": list(shape.center_mm),
        "angle_deg": shape.angle_deg,
    }
    if shape.kind == "card":
        truth["corner_radius_mm"] = shape.corner_radius_mm
    if shape.kind == "aruco":
        truth["aruco_dictionary"] = shape.aruco_dictionary
        truth["aruco_id"] = shape.aruco_id
    if shape.kind == "blob":
        truth["seed"] = shape.seed
    return truth


@dataclass(frozen=True)
class _Palette:
    """Colours (RGB, 0..255) of one lighting style."""

    table: tuple[float, float, float]
    objects: tuple[tuple[int, int, int], ...]
    card: tuple[float, float, float] = (246.0, 246.0, 242.0)
    card_print: tuple[float, float, float] = (160.0, 192.0, 232.0)
    card_text: tuple[float, float, float] = (96.0, 126.0, 178.0)
    paper: tuple[float, float, float] = (244.0, 244.0, 240.0)
    ink: tuple[float, float, float] = (22.0, 22.0, 26.0)


_SATURATED = (
    (205, 38, 38),
    (34, 78, 196),
    (236, 122, 18),
    (24, 140, 64),
    (138, 48, 168),
    (0, 138, 150),
    (212, 28, 120),
)
_LIGHT = ((250, 214, 120), (150, 210, 252), (252, 168, 168), (176, 242, 182), (226, 190, 250))
_PALETTES = {
    "plain": _Palette((170.0, 184.0, 160.0), _SATURATED),
    "gradient": _Palette((170.0, 184.0, 160.0), _SATURATED),
    "dark": _Palette((38.0, 40.0, 46.0), _LIGHT),
}


def _check_lighting(lighting: str) -> _Palette:
    """The palette of a lighting style, or a clear error."""
    if lighting not in _PALETTES:
        raise ParameterError(f"unknown lighting {lighting!r}; use one of {LIGHTINGS}")
    return _PALETTES[lighting]


def _outline_px(shape: PlaneShape, homography: np.ndarray, camera: Camera) -> np.ndarray:
    """The shape's outline in image pixels, dense enough that chords stay ~1 px long."""
    coarse = project_points(homography, shape.place(_rectangle(*footprint_mm(shape))))
    span = coarse.max(axis=0) - coarse.min(axis=0)
    samples = int(np.clip(4.0 * (span[0] + span[1]), 720, _MAX_OUTLINE_SAMPLES))
    return _project_checked(shape.outline_mm(samples), homography, camera)


def _project_checked(points_mm: np.ndarray, homography: np.ndarray, camera: Camera) -> np.ndarray:
    """Project plane points into the image; refuse points behind the camera.

    With a tilted camera, plane points with ``Y >= distance / sin(tilt)`` lie
    behind it and have no image.
    """
    if np.any(camera.depth_mm(points_mm) <= 1e-3 * camera.distance_mm):
        raise ParameterError(
            "a shape lies behind the tilted camera; move it towards negative plane Y"
        )
    return project_points(homography, points_mm)


def _card_print_mm(card: PlaneShape) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A card's thin print: a colour band and three lines of 'text', plane polygons."""
    width, height = card.size_mm
    margin = 0.06 * width
    band_top = -height / 2.0 + 0.1 * height
    band = [
        card.place(
            _box(-width / 2 + margin, band_top, width / 2 - margin, band_top + 0.12 * height)
        )
    ]
    lines = []
    for k, length in enumerate((0.55, 0.4, 0.48)):
        top = 0.02 * height + k * 0.11 * height
        left = -width / 2 + margin
        lines.append(card.place(_box(left, top, left + length * width, top + 0.03 * height)))
    return band, lines


def _box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Corners of an axis-aligned box."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _reference_layers_px(
    reference: PlaneShape,
    outline_px: np.ndarray,
    homography: np.ndarray,
    camera: Camera,
    palette: _Palette,
) -> list[tuple[list[np.ndarray], tuple[float, float, float]]]:
    """Image-space polygons and colours that draw the reference, bottom layer first."""
    if reference.kind == "aruco":
        plane_layers = [
            ([aruco_paper_mm(reference)], palette.paper),
            (aruco_black_cells_mm(reference), palette.ink),
        ]
        return [
            ([_project_checked(p, homography, camera) for p in polygons], color)
            for polygons, color in plane_layers
        ]
    layers = [([outline_px], palette.card)]
    if reference.kind == "card":
        band, lines = _card_print_mm(reference)
        layers.append(([_project_checked(p, homography, camera) for p in band], palette.card_print))
        layers.append(([_project_checked(p, homography, camera) for p in lines], palette.card_text))
    return layers


def _composite(
    image: np.ndarray, coverage: np.ndarray, window: _Window, color: Sequence[float]
) -> None:
    """Paint ``color`` over ``image`` in ``window``, weighted by ``coverage`` (in place)."""
    if window.empty:
        return
    patch = image[window.slices]
    alpha = coverage[..., None]
    patch *= 1.0 - alpha
    patch += alpha * np.asarray(color, dtype=np.float32)


def _paint_layers(
    image: np.ndarray,
    layers: Sequence[tuple[list[np.ndarray], Sequence[float]]],
    supersample: int,
) -> None:
    """Composite image-space polygon layers onto ``image`` (in place)."""
    size = image.shape[:2]
    for polygons, color in layers:
        window = _window_of(polygons, size, margin=1)
        if not window.empty:
            _composite(image, _coverage_in_window(polygons, window, supersample), window, color)


def _table(size: tuple[int, int], palette: _Palette, rng: np.random.Generator) -> np.ndarray:
    """The empty table: its colour with a faint low-frequency texture, float32 RGB."""
    height, width = size
    coarse = rng.standard_normal((max(height // 48, 2), max(width // 48, 2)), dtype=np.float32)
    texture = cv2.resize(coarse * np.float32(3.0), (width, height), interpolation=cv2.INTER_CUBIC)
    return cv2.merge([texture + np.float32(level) for level in palette.table])


def _illumination(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Multiplicative light falloff ``(H, W)``: a tilted ramp times a vignette."""
    height, width = size
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    direction = rng.uniform(0.0, 2.0 * math.pi)
    ramp = 1.0 + 0.18 * (math.cos(direction) * xs + math.sin(direction) * ys)
    aspect = width / height
    vignette = 1.0 - 0.22 * ((xs * aspect) ** 2 + ys**2) / (aspect**2 + 1.0)
    return (ramp * vignette).astype(np.float32)


def _sensor_noise(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """White Gaussian noise, ``(H, W, 3)`` float32, standard deviation ``SENSOR_NOISE_LEVELS``.

    One noise plane, a few columns wider than the image, is drawn; the three
    channels are windows of it at different column offsets. Every pixel gets
    three independent values for a third of the random numbers (this matters
    at 12 MP).
    """
    height, width = size
    offset = 7
    plane = rng.standard_normal((height, width + 2 * offset), dtype=np.float32)
    plane *= np.float32(SENSOR_NOISE_LEVELS)
    return cv2.merge([plane[:, k * offset : k * offset + width] for k in range(3)])


def _finish(image: np.ndarray, lighting: str, rng: np.random.Generator) -> np.ndarray:
    """Apply lighting and sensor noise to a float32 RGB image; return uint8 RGB (rounded)."""
    if lighting == "gradient":
        light = _illumination(image.shape[:2], rng)
        image = cv2.multiply(image, cv2.merge([light, light, light]))
    image = cv2.add(image, _sensor_noise(image.shape[:2], rng))
    image = cv2.max(image, 0.0)
    return cv2.convertScaleAbs(image)


def _signed_distance_px(coverage: np.ndarray) -> np.ndarray:
    """Signed distance (px) from pixel centres to the shape boundary, positive inside.

    Pixels the boundary passes through use ``coverage - 0.5``; the others
    the Euclidean distance to the nearest pixel of the other side, less half
    a pixel. Its sign agrees with ``coverage > 0.5``.
    """
    inside = (coverage > 0.5).astype(np.uint8)
    to_outside = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    to_inside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    distance = np.where(inside > 0, to_outside - 0.5, 0.5 - to_inside)
    partial = (coverage > 0.0) & (coverage < 1.0)
    distance[partial] = coverage[partial] - 0.5
    return distance


def _noise_field(shape: tuple[int, int], noise_px: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth Gaussian field, autocorrelation sigma 8 px, standard deviation ``noise_px / 2``."""
    sigma = MASK_NOISE_CORRELATION_PX / math.sqrt(2.0)
    ksize = round(8.0 * sigma) | 1
    kernel = cv2.getGaussianKernel(ksize, sigma, cv2.CV_64F)
    unit_std = float(np.sum(kernel**2))  # std of blurred unit white noise, 2-D separable
    white = rng.standard_normal(shape, dtype=np.float32)
    field_ = cv2.GaussianBlur(white, (ksize, ksize), sigma, borderType=cv2.BORDER_REFLECT)
    return field_ * np.float32(noise_px / 2.0 / unit_std)


def _class_mask(
    polygons_px: Sequence[np.ndarray],
    size: tuple[int, int],
    supersample: int,
    noise_px: float,
    rng: np.random.Generator,
) -> tuple[_Window, np.ndarray, np.ndarray]:
    """Clean and noisy boolean masks of one class, within a window around it.

    Clean: coverage > 0.5. Noisy: signed distance + smooth noise field > 0.
    """
    margin = math.ceil(3.0 * noise_px) + 2
    window = _window_of(polygons_px, size, margin=margin)
    if window.empty:
        empty = np.zeros((0, 0), dtype=bool)
        return window, empty, empty
    coverage = _coverage_in_window(polygons_px, window, supersample)
    clean = coverage > 0.5
    if noise_px <= 0.0:
        return window, clean, clean
    noisy = _signed_distance_px(coverage) + _noise_field(window.shape, noise_px, rng) > 0.0
    return window, clean, noisy


def render_scene(
    objects: Sequence[PlaneShape],
    reference: PlaneShape,
    camera: Camera,
    *,
    supersample: int = 4,
    mask_noise_px: float = 0.0,
    lighting: str = "plain",
    seed: int = 0,
    object_colors: Sequence[tuple[int, int, int]] | None = None,
) -> Scene:
    """Photograph flat shapes on a table with ``camera``.

    Args:
        objects: shapes of class 1, drawn over the reference where they
            overlap (they should not overlap one another).
        reference: the shape of class 2 (a card, an ArUco marker...).
        camera: the pinhole camera; its homography maps plane to image.
        supersample: samples per pixel along each axis for coverage.
        mask_noise_px: boundary noise of the mask like a segmentation
            model's: about 95 % of the boundary moves by less than this many
            pixels; 0 gives the clean mask.
        lighting: ``plain``, ``gradient`` (falloff and vignetting) or
            ``dark`` (dark table, light objects).
        seed: makes the photo's texture, lighting and noise, and the mask
            noise, reproducible.
        object_colors: RGB colours of the objects; default from the palette.

    Returns:
        The :class:`Scene`; its ground truth is in the plane, in mm.
    """
    if int(supersample) < 1:
        raise ParameterError(f"supersample must be at least 1, got {supersample}")
    if not (math.isfinite(mask_noise_px) and mask_noise_px >= 0.0):
        raise ParameterError(f"mask noise must be a non-negative number of px, got {mask_noise_px}")
    palette = _check_lighting(lighting)
    objects = tuple(objects)
    if object_colors is None:
        object_colors = [palette.objects[k % len(palette.objects)] for k in range(len(objects))]
    colors = tuple(tuple(int(c) for c in color) for color in object_colors)
    if len(colors) < len(objects):
        raise ParameterError("give one colour per object")
    homography = camera.homography()
    size = (camera.height, camera.width)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]

    object_px = [_outline_px(shape, homography, camera) for shape in objects]
    reference_px = _outline_px(reference, homography, camera)
    layers = _reference_layers_px(reference, reference_px, homography, camera, palette)
    layers += [([px], color) for px, color in zip(object_px, colors, strict=False)]

    image = _table(size, palette, streams[0])
    _paint_layers(image, layers, int(supersample))
    image_u8 = _finish(image, lighting, streams[1])

    mask = np.zeros(size, dtype=np.uint8)
    clean = np.zeros(size, dtype=np.uint8)
    classes = [(_CLASSES.reference, [reference_px], streams[2])]
    if object_px:
        classes.append((_CLASSES.object, object_px, streams[3]))
    for class_id, polygons, rng in classes:
        window, clean_part, noisy_part = _class_mask(
            polygons, size, int(supersample), mask_noise_px, rng
        )
        if not window.empty:
            clean[window.slices][clean_part] = class_id
            mask[window.slices][noisy_part] = class_id
    return Scene(
        image=image_u8,
        mask=mask,
        clean_mask=clean,
        plane_to_image=homography,
        objects=objects,
        reference=reference,
        camera=camera,
        mask_noise_px=float(mask_noise_px),
        lighting=lighting,
        seed=int(seed),
        supersample=int(supersample),
        object_colors=colors[: len(objects)],
    )


# --------------------------------------------------------------------------
# Random scenes
# --------------------------------------------------------------------------


def random_scene(
    rng: np.random.Generator,
    *,
    shape: str,
    tilt_deg: float,
    mask_noise_px: float,
    reference: str = "card",
    camera: Camera | None = None,
    lighting: str = "plain",
    max_angle_deg: float = 0.0,
    supersample: int = 4,
) -> Scene:
    """A reproducible random scene: a reference on the left, one object to its right.

    The object is 60-160 mm wide and 40-160 mm tall, upright in the plane
    (``angle_deg`` uniform in +-``max_angle_deg``, default 0), so its true
    width and height are its extent along the plane axes. The camera
    distance is chosen so the layout fills 55-80 % of the image width and
    everything stays inside the frame with a margin.

    Args:
        rng: the only source of randomness.
        shape: ``rectangle``, ``ellipse`` or ``blob``.
        tilt_deg: camera tilt (0 = straight down).
        mask_noise_px: see :func:`render_scene`.
        reference: ``card`` (ID-1, 85.6 x 54 mm) or ``aruco`` (40 mm).
        camera: supplies the sensor (width, height, focal length) and roll;
            tilt and distance are set here. Default: :class:`Camera`.
        lighting: see :func:`render_scene`.
        max_angle_deg: largest in-plane rotation of the object.
        supersample: see :func:`render_scene`.
    """
    if shape not in OBJECT_KINDS:
        raise ParameterError(f"unknown object shape {shape!r}; use one of {OBJECT_KINDS}")
    if reference not in REFERENCE_KINDS:
        raise ParameterError(f"unknown reference {reference!r}; use one of {REFERENCE_KINDS}")
    palette = _check_lighting(lighting)
    sensor = camera or Camera()
    width_mm = float(rng.uniform(60.0, 160.0))
    height_mm = float(np.clip(width_mm * rng.uniform(0.45, 1.2), 40.0, 160.0))
    angle = float(rng.uniform(-max_angle_deg, max_angle_deg)) if max_angle_deg > 0 else 0.0
    blob_seed = int(rng.integers(0, 2**31 - 1))
    ref = aruco_shape() if reference == "aruco" else card_shape()
    ref_w, ref_h = footprint_mm(ref)
    gap = float(rng.uniform(20.0, 50.0))
    total_w = ref_w + gap + width_mm
    left = -total_w / 2.0 + float(rng.uniform(-0.05, 0.05)) * total_w
    ref = _moved(ref, (left + ref_w / 2.0, float(rng.uniform(-0.2, 0.2)) * ref_h))
    obj = PlaneShape(
        shape,  # type: ignore[arg-type]
        (left + ref_w + gap + width_mm / 2.0, float(rng.uniform(-0.15, 0.15)) * height_mm),
        (width_mm, height_mm),
        angle,
        seed=blob_seed,
    )
    fill = float(rng.uniform(0.55, 0.8))
    distance = max(
        sensor.focal_px * total_w / (fill * sensor.width),
        sensor.focal_px * max(height_mm, ref_h) / (0.75 * sensor.height),
    )
    margin_px = 0.04 * min(sensor.width, sensor.height) + 2.0 * mask_noise_px
    cam = _fitting_camera(sensor, tilt_deg, distance, [obj, ref], margin_px)
    color = palette.objects[int(rng.integers(0, len(palette.objects)))]
    return render_scene(
        [obj],
        ref,
        cam,
        supersample=supersample,
        mask_noise_px=mask_noise_px,
        lighting=lighting,
        seed=int(rng.integers(0, 2**31 - 1)),
        object_colors=[color],
    )


def _moved(shape: PlaneShape, center_mm: tuple[float, float]) -> PlaneShape:
    """The same shape at another centre."""
    return PlaneShape(
        shape.kind,
        center_mm,
        shape.size_mm,
        shape.angle_deg,
        shape.seed,
        shape.corner_radius_mm,
        shape.aruco_dictionary,
        shape.aruco_id,
    )


def _fitting_camera(
    sensor: Camera,
    tilt_deg: float,
    distance_mm: float,
    shapes: Sequence[PlaneShape],
    margin_px: float,
) -> Camera:
    """The sensor at ``tilt_deg``, moved back until every shape is inside the margin."""
    for _ in range(60):
        cam = Camera(
            sensor.width, sensor.height, sensor.focal_px, tilt_deg, distance_mm, sensor.roll_deg
        )
        if all(_inside(cam, shape, margin_px) for shape in shapes):
            return cam
        distance_mm *= 1.08
    raise ParameterError("could not fit the scene into the image; use a wider lens")


def _inside(cam: Camera, shape: PlaneShape, margin_px: float) -> bool:
    """Whether the shape's footprint projects inside the image with ``margin_px`` to spare."""
    corners = shape.place(_rectangle(*footprint_mm(shape)))
    if np.any(cam.depth_mm(corners) <= 0.05 * cam.distance_mm):
        return False
    pts = project_points(cam.homography(), corners)
    lo, hi = margin_px - 0.5, np.array([cam.width, cam.height]) - 0.5 - margin_px
    return bool(np.all(pts >= lo) and np.all(pts <= hi))


def _require_positive(what: str, value: float) -> None:
    """Raise a :class:`ParameterError` unless ``value`` is a positive finite number."""
    if not (isinstance(value, int | float | np.number) and math.isfinite(value) and value > 0):
        raise ParameterError(f"{what} must be a positive number, got {value!r}")


__all__ = [
    "ARUCO_SIDE_MM",
    "CARD_CORNER_RADIUS_MM",
    "CARD_SIZE_MM",
    "LIGHTINGS",
    "OBJECT_KINDS",
    "REFERENCE_KINDS",
    "SHAPE_KINDS",
    "Camera",
    "PlaneShape",
    "Scene",
    "aruco_black_cells_mm",
    "aruco_paper_mm",
    "aruco_shape",
    "card_shape",
    "footprint_mm",
    "polygon_coverage",
    "project_points",
    "random_scene",
    "render_scene",
]
