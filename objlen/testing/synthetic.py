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

Real photos have more than a clean render: :class:`PhotoEffects` adds cast
shadows, a card's rim, wood or paper texture, vignetting, optical blur, JPEG
and radial lens distortion, and ``mask_bias_px`` dilates or erodes the model
mask as segmentation models do. All are off by default, and then a render is
exactly what it was before they existed; ``random_scene(..., realistic=True)``
turns them all on at random.

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
TEXTURES: tuple[str, ...] = ("none", "wood", "paper")

#: Largest |k1| of the radial lens distortion; beyond about 0.2 the barrel
#: mapping ``r (1 + k1 r^2)`` stops being monotonic just outside the frame.
MAX_DISTORTION_K1 = 0.2
#: Longest chord (px) of a polygon before lens distortion curves it: a straight
#: side is cut into pieces this long, whose sagitta at ``|k1| = 0.2`` stays
#: under 0.01 px.
DISTORTION_CHORD_PX = 2.0
#: Largest optical blur, as the Gaussian sigma in px.
MAX_BLUR_PX = 5.0
#: Largest dilation or erosion of the model mask, px.
MAX_MASK_BIAS_PX = 10
#: Colour of a dark card rim (RGB, 0..255): the shadowed edge face of a card.
DARK_EDGE_RGB: tuple[float, float, float] = (62.0, 62.0, 66.0)
#: Colour of a bright card rim (RGB, 0..255): light caught by the card's edge.
BRIGHT_EDGE_RGB: tuple[float, float, float] = (255.0, 255.0, 255.0)
#: Wood grain: standard deviation of its fine streaks and depth of its dark
#: growth lines, as fractions of the table's brightness.
WOOD_STREAK_CONTRAST = 0.04
WOOD_LINE_DEPTH = 0.14
#: Wood grain: spacing of the growth lines, px (drawn per scene in this range).
WOOD_LINE_PERIOD_PX: tuple[float, float] = (9.0, 24.0)
#: Paper: standard deviation of its fibres and of its cloudy formation, as
#: fractions of the table's brightness.
PAPER_FIBRE_CONTRAST = 0.025
PAPER_CLOUD_CONTRAST = 0.02
#: Paper: how many fibre directions, evenly spread over 180 deg.
PAPER_FIBRE_DIRECTIONS = 3
#: Smallest Gaussian sigma, in cells of the coarse canvas that texture noise
#: is drawn on; linear interpolation of a field this smooth is faithful.
NOISE_CELLS_PER_SIGMA = 2.5

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


def project_points(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map ``(N, 2)`` points ``(x, y)`` through a 3x3 homography; returns ``(N, 2)``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    h = np.asarray(homography, dtype=np.float64)
    mapped = pts @ h[:, :2].T + h[:, 2]
    return mapped[:, :2] / mapped[:, 2:3]


def distortion_radius_px(width: int, height: int) -> float:
    """The radius that normalises lens distortion: half the image diagonal, px.

    It is the distance from the principal point ``((W-1)/2, (H-1)/2)`` to the
    outer corner of a corner pixel, ``hypot(W, H) / 2``.
    """
    return math.hypot(width, height) / 2.0


def distort_points(points_px: np.ndarray, k1: float, width: int, height: int) -> np.ndarray:
    """Apply radial lens distortion to ideal pinhole image points.

    ``p_d = c + (p - c) * (1 + k1 * r^2)`` with ``c`` the principal point
    ``((W-1)/2, (H-1)/2)`` and ``r = |p - c| / R``, ``R`` half the image
    diagonal (:func:`distortion_radius_px`). ``k1 > 0`` (pincushion) moves
    points outward, ``k1 < 0`` (barrel) inward; at the image corner the shift
    is ``k1 * R`` px.

    Args:
        points_px: ``(N, 2)`` points ``(x, y)`` in px, objlen convention.
        k1: the radial coefficient (dimensionless, normalised by ``R``).
        width, height: image size in px.

    Returns:
        ``(N, 2)`` distorted points ``(x, y)`` in px.
    """
    pts = np.asarray(points_px, dtype=np.float64).reshape(-1, 2)
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    offset = pts - centre
    r2 = np.sum(offset**2, axis=1) / distortion_radius_px(width, height) ** 2
    return centre + offset * (1.0 + k1 * r2)[:, None]


def _densified(polygon_px: np.ndarray, max_chord_px: float) -> np.ndarray:
    """The closed polygon with every edge cut into pieces at most ``max_chord_px`` long."""
    p0 = np.asarray(polygon_px, dtype=np.float64).reshape(-1, 2)
    p1 = np.roll(p0, -1, axis=0)
    pieces = np.maximum(np.ceil(np.linalg.norm(p1 - p0, axis=1) / max_chord_px), 1).astype(int)
    edge = np.repeat(np.arange(len(p0)), pieces)
    t = (np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)) / np.repeat(
        pieces, pieces
    )
    return p0[edge] + t[:, None] * (p1[edge] - p0[edge])


def _offset_polygon(polygon_px: np.ndarray, distance_px: float) -> np.ndarray:
    """A simple polygon moved outward (``distance_px > 0``) or inward along its normals.

    Each vertex moves along the bisector of its two edges' outward normals by
    the mitre length, so straight sides move by exactly ``distance_px``. Meant
    for convex outlines (a card, a sheet of paper) and small distances.
    """
    pts = np.asarray(polygon_px, dtype=np.float64).reshape(-1, 2)
    keep = np.linalg.norm(np.roll(pts, -1, axis=0) - pts, axis=1) > 1e-9
    pts = pts[keep]
    nxt = np.roll(pts, -1, axis=0)
    area2 = float(np.sum(pts[:, 0] * nxt[:, 1] - nxt[:, 0] * pts[:, 1]))
    direction = nxt - pts
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    # Outward normal of edge k (from vertex k to k+1); y points down in the image.
    normal = np.column_stack([direction[:, 1], -direction[:, 0]]) * (1.0 if area2 > 0 else -1.0)
    before = np.roll(normal, 1, axis=0)
    mitre = (before + normal) / (1.0 + np.sum(before * normal, axis=1))[:, None]
    return pts + distance_px * mitre


# --------------------------------------------------------------------------
# What real photos have: shadows, rims, texture, vignetting, blur, JPEG, lens
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Shadow:
    """A soft cast shadow next to every object and the reference.

    The shadow is each shape's footprint shifted by ``offset_px`` and blurred;
    it darkens the table under it (its RGB multiplied by ``1 - strength`` at
    the core, so the hue stays the table's) and lies under the shapes, which
    are painted over it. A shadow is background in every mask.

    Attributes:
        offset_px: ``(dx, dy)`` shift of the shadow from its shape, image px
            (away from the light).
        blur_px: Gaussian sigma of the penumbra, px.
        strength: fraction of the light the shadow's core takes away, 0..1.
    """

    offset_px: tuple[float, float] = (5.0, 7.0)
    blur_px: float = 4.0
    strength: float = 0.35

    def __post_init__(self) -> None:
        if len(self.offset_px) != 2 or not all(math.isfinite(v) for v in self.offset_px):
            raise ParameterError(f"shadow offset must be a finite (dx, dy), got {self.offset_px}")
        object.__setattr__(self, "offset_px", tuple(float(v) for v in self.offset_px))
        if not (math.isfinite(self.blur_px) and 0.0 <= self.blur_px <= 50.0):
            raise ParameterError(f"shadow blur must be within 0..50 px, got {self.blur_px}")
        if not (math.isfinite(self.strength) and 0.0 <= self.strength <= 1.0):
            raise ParameterError(f"shadow strength must be within 0..1, got {self.strength}")


@dataclass(frozen=True)
class EdgeLine:
    """A thin dark or bright line along the reference's outline, as a card's rim shows.

    The line is a band ``width_px`` wide centred on the true outline (half of
    it on the card, half on the table), painted in ``color``. The masks do
    not change: the reference is still its true outline.

    Attributes:
        width_px: full width of the band, px (a real rim: 1-2 px).
        color: RGB 0..255 (see ``DARK_EDGE_RGB``, ``BRIGHT_EDGE_RGB``).
    """

    width_px: float = 1.5
    color: tuple[float, float, float] = DARK_EDGE_RGB

    def __post_init__(self) -> None:
        if not (math.isfinite(self.width_px) and 0.0 < self.width_px <= 10.0):
            raise ParameterError(f"edge line width must be within 0..10 px, got {self.width_px}")
        if len(self.color) != 3 or not all(0.0 <= float(c) <= 255.0 for c in self.color):
            raise ParameterError(f"edge line colour must be RGB in 0..255, got {self.color}")
        object.__setattr__(self, "color", tuple(float(c) for c in self.color))


@dataclass(frozen=True)
class PhotoEffects:
    """What a real photo has and a clean render lacks; every field defaults to off.

    Attributes:
        shadow: cast shadows next to the objects and the reference, or None.
        edge_line: a dark or bright rim along the reference's outline, or None.
        texture: the table's surface: ``none`` (the faint blotches of a
            plain render), ``wood`` (grain: long streaks and dark growth
            lines) or ``paper`` (short fibres and cloudy formation); made in
            image pixels from filtered noise, same hue as the table.
        vignetting: brightness lost at the image corners, 0..1: the photo is
            multiplied by ``1 - vignetting * r^2``, ``r`` the distance from
            the principal point over half the diagonal.
        blur_px: optical blur, the Gaussian sigma in px (0 = none).
        jpeg_quality: encode and decode the photo as JPEG at this quality
            (1..100, OpenCV, 4:2:0 chroma) or None.
        distortion_k1: radial lens distortion, normalised by half the image
            diagonal (see :func:`distort_points`); applied to the photo and
            to both masks alike. The true sizes stay the plane sizes.
    """

    shadow: Shadow | None = None
    edge_line: EdgeLine | None = None
    texture: str = "none"
    vignetting: float = 0.0
    blur_px: float = 0.0
    jpeg_quality: int | None = None
    distortion_k1: float = 0.0

    def __post_init__(self) -> None:
        if self.shadow is not None and not isinstance(self.shadow, Shadow):
            raise ParameterError(f"shadow must be a Shadow or None, got {self.shadow!r}")
        if self.edge_line is not None and not isinstance(self.edge_line, EdgeLine):
            raise ParameterError(f"edge_line must be an EdgeLine or None, got {self.edge_line!r}")
        if self.texture not in TEXTURES:
            raise ParameterError(f"unknown texture {self.texture!r}; use one of {TEXTURES}")
        if not (math.isfinite(self.vignetting) and 0.0 <= self.vignetting < 1.0):
            raise ParameterError(f"vignetting must be within 0..1, got {self.vignetting}")
        if not (math.isfinite(self.blur_px) and 0.0 <= self.blur_px <= MAX_BLUR_PX):
            raise ParameterError(
                f"optical blur must be within 0..{MAX_BLUR_PX} px (sigma), got {self.blur_px}"
            )
        if self.jpeg_quality is not None and not (
            isinstance(self.jpeg_quality, int | np.integer) and 1 <= self.jpeg_quality <= 100
        ):
            raise ParameterError(f"JPEG quality must be an integer 1..100, got {self.jpeg_quality}")
        if not (math.isfinite(self.distortion_k1) and abs(self.distortion_k1) <= MAX_DISTORTION_K1):
            raise ParameterError(
                f"lens distortion k1 must be within +-{MAX_DISTORTION_K1}, got {self.distortion_k1}"
            )

    @property
    def is_off(self) -> bool:
        """Whether no effect is on (the photo is the clean render)."""
        return self == PhotoEffects()

    def to_dict(self) -> dict[str, Any]:
        """The effects as JSON-ready values (px, RGB 0..255)."""
        return asdict(self)


def realistic_effects(rng: np.random.Generator) -> PhotoEffects:
    """A random bundle of everything a real photo has, every effect on.

    Drawn from ``rng``: a shadow 3-12 px long in any direction (penumbra sigma
    2-6 px, 20-50 % darker), a dark or bright rim 1-2 px wide, wood or paper
    texture, vignetting 10-40 %, blur sigma 0.3-1.5 px, JPEG quality 70-95 and
    lens distortion k1 uniform in -0.1..0.1.
    """
    direction = float(rng.uniform(0.0, 2.0 * math.pi))
    length = float(rng.uniform(3.0, 12.0))
    shadow = Shadow(
        offset_px=(length * math.cos(direction), length * math.sin(direction)),
        blur_px=float(rng.uniform(2.0, 6.0)),
        strength=float(rng.uniform(0.2, 0.5)),
    )
    edge = EdgeLine(
        width_px=float(rng.uniform(1.0, 2.0)),
        color=DARK_EDGE_RGB if rng.uniform() < 0.5 else BRIGHT_EDGE_RGB,
    )
    return PhotoEffects(
        shadow=shadow,
        edge_line=edge,
        texture="wood" if rng.uniform() < 0.5 else "paper",
        vignetting=float(rng.uniform(0.1, 0.4)),
        blur_px=float(rng.uniform(0.3, 1.5)),
        jpeg_quality=int(rng.integers(70, 96)),
        distortion_k1=float(rng.uniform(-0.1, 0.1)),
    )


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
        mask: the model mask: ``(H, W)`` uint8 class indices, 0 background,
            1 object(s), 2 reference (for ArUco: its whole black square),
            with the mask noise and bias a segmentation model would add.
        clean_mask: the true mask of the photo as rendered (lens distortion
            included): coverage > 0.5 per class; shadows and rims outside
            the outlines are background.
        plane_to_image: 3x3 homography, plane mm -> ideal pinhole image px;
            with lens distortion, :meth:`to_image` gives the photo's pixels.
        objects: the measured shapes (class 1).
        reference: the reference shape (class 2).
        camera: the camera that took the photo.
        mask_noise_px, lighting, seed, supersample, effects, mask_bias_px:
            how it was rendered.
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
    effects: PhotoEffects = field(default_factory=PhotoEffects)
    mask_bias_px: int = 0

    def to_image(self, points_mm: np.ndarray) -> np.ndarray:
        """Where plane points ``(N, 2)`` ``(X, Y)`` in mm appear in the photo: ``(N, 2)`` px.

        The pinhole homography, then the lens distortion if any.
        """
        pts = project_points(self.plane_to_image, points_mm)
        if self.effects.distortion_k1 == 0.0:
            return pts
        return distort_points(
            pts, self.effects.distortion_k1, self.camera.width, self.camera.height
        )

    def object_size_mm(self, index: int = 0) -> tuple[float, float]:
        """True ``(width, height)`` in mm of ``objects[index]`` along the plane axes."""
        return self.objects[index].extent_mm()

    def ground_truth(self) -> dict[str, Any]:
        """Everything true about the scene, as plain JSON-ready values (mm, px)."""
        truth: dict[str, Any] = {
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
        # Present only when used, so that plain scenes keep their records exactly.
        if not self.effects.is_off:
            truth["effects"] = self.effects.to_dict()
            truth["distortion_radius_px"] = distortion_radius_px(
                self.camera.width, self.camera.height
            )
        if self.mask_bias_px:
            truth["mask_bias_px"] = self.mask_bias_px
        return truth


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


def _oriented_noise(
    size: tuple[int, int],
    sigma_along_px: float,
    sigma_across_px: float,
    angle_rad: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Gaussian noise smoothed anisotropically, ``(H, W)`` float32, mean ~0, std 1.

    White noise is blurred with sigma ``sigma_along_px`` along the direction
    ``angle_rad`` (from image +x towards +y) and ``sigma_across_px`` across it.
    It is drawn on a canvas aligned with that direction, coarser than the
    image by up to ``sigma / NOISE_CELLS_PER_SIGMA`` along each axis (so the
    blur still spans that many canvas cells), and mapped into place by one
    affine warp with linear interpolation.
    """
    height, width = size
    step = (
        max(1.0, math.floor(sigma_along_px / NOISE_CELLS_PER_SIGMA)),
        max(1.0, math.floor(sigma_across_px / NOISE_CELLS_PER_SIGMA)),
    )
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    cols = math.ceil((width * abs(c) + height * abs(s)) / step[0]) + 6
    rows = math.ceil((width * abs(s) + height * abs(c)) / step[1]) + 6
    white = rng.standard_normal((rows, cols), dtype=np.float32)
    streaks = cv2.GaussianBlur(
        white,
        (0, 0),
        sigmaX=sigma_along_px / step[0],
        sigmaY=sigma_across_px / step[1],
        borderType=cv2.BORDER_REFLECT,
    )
    # Image pixel -> canvas cell: turn back by the angle, shrink by the step.
    to_canvas = np.array([[c / step[0], s / step[0]], [-s / step[1], c / step[1]]])
    shift = np.array([(cols - 1) / 2.0, (rows - 1) / 2.0]) - to_canvas @ np.array(
        [(width - 1) / 2.0, (height - 1) / 2.0]
    )
    placed = cv2.warpAffine(
        streaks,
        np.column_stack([to_canvas, shift]),
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT,
    )
    return placed / np.float32(max(float(placed.std()), 1e-12))


def _smooth_noise(size: tuple[int, int], cell_px: int, rng: np.random.Generator) -> np.ndarray:
    """Cloudy noise with blobs about ``cell_px`` across, ``(H, W)`` float32, std ~1."""
    height, width = size
    coarse = rng.standard_normal(
        (max(height // cell_px, 2) + 2, max(width // cell_px, 2) + 2), dtype=np.float32
    )
    cloud = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return cloud / np.float32(max(float(cloud.std()), 1e-12))


def _texture(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Relative brightness change ``(H, W)`` float32 of a ``wood`` or ``paper`` table.

    Wood: long fine streaks along a random grain direction and thin dark
    growth lines across it, their spacing ``WOOD_LINE_PERIOD_PX`` and their
    course wavering. Paper: short fibres in ``PAPER_FIBRE_DIRECTIONS``
    evenly spread directions (so no direction wins) and a cloudy formation.
    Image pixels, not the plane: the texture does not foreshorten with the
    camera's tilt.
    """
    height, width = size
    if kind == "wood":
        angle = float(rng.uniform(0.0, math.pi))
        streaks = _oriented_noise(size, 40.0, 0.8, angle, rng)
        waver = _oriented_noise(size, 120.0, 25.0, angle, rng)
        period = float(rng.uniform(*WOOD_LINE_PERIOD_PX))
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        across = ys * np.float32(math.cos(angle)) - xs * np.float32(math.sin(angle))
        phase = (across + np.float32(1.5 * period) * waver) * np.float32(2.0 * math.pi / period)
        lines = np.maximum(np.cos(phase), 0.0) ** 6
        return np.float32(WOOD_STREAK_CONTRAST) * streaks - np.float32(WOOD_LINE_DEPTH) * lines
    start = float(rng.uniform(0.0, math.pi))
    fibres = sum(
        _oriented_noise(size, 5.0, 0.7, start + k * math.pi / PAPER_FIBRE_DIRECTIONS, rng)
        for k in range(PAPER_FIBRE_DIRECTIONS)
    )
    fibres = fibres / np.float32(math.sqrt(PAPER_FIBRE_DIRECTIONS))
    cloud = _smooth_noise(size, 24, rng)
    return np.float32(PAPER_FIBRE_CONTRAST) * fibres + np.float32(PAPER_CLOUD_CONTRAST) * cloud


def _cast_shadow(
    image: np.ndarray, footprints_px: Sequence[np.ndarray], shadow: Shadow, supersample: int
) -> None:
    """Darken ``image`` (float32 RGB, in place) under the shapes' shifted, blurred footprints."""
    shifted = [
        np.asarray(p, dtype=np.float64) + np.asarray(shadow.offset_px) for p in footprints_px
    ]
    margin = math.ceil(3.0 * shadow.blur_px) + 2
    window = _window_of(shifted, image.shape[:2], margin=margin)
    if window.empty or shadow.strength <= 0.0:
        return
    cover = _coverage_in_window(shifted, window, supersample)
    if shadow.blur_px > 0.0:
        cover = cv2.GaussianBlur(cover, (0, 0), shadow.blur_px, borderType=cv2.BORDER_REPLICATE)
    light = 1.0 - np.float32(shadow.strength) * np.clip(cover, 0.0, 1.0)
    image[window.slices] *= light[..., None]


def _paint_edge_line(
    image: np.ndarray, outline_px: np.ndarray, line: EdgeLine, supersample: int
) -> None:
    """Paint a band ``line.width_px`` wide centred on ``outline_px`` (in place)."""
    half = line.width_px / 2.0
    outer = _offset_polygon(outline_px, half)
    inner = _offset_polygon(outline_px, -half)
    window = _window_of([outer], image.shape[:2], margin=1)
    if window.empty:
        return
    band = _coverage_in_window([outer], window, supersample) - _coverage_in_window(
        [inner], window, supersample
    )
    _composite(image, np.clip(band, 0.0, 1.0), window, line.color)


def _vignette(size: tuple[int, int], amount: float) -> np.ndarray:
    """Multiplicative falloff ``1 - amount * r^2``, ``r`` over half the diagonal; ``(H, W)``."""
    height, width = size
    ys = (np.arange(height, dtype=np.float32) - np.float32((height - 1) / 2.0))[:, None]
    xs = (np.arange(width, dtype=np.float32) - np.float32((width - 1) / 2.0))[None, :]
    r2 = (xs**2 + ys**2) / np.float32(distortion_radius_px(width, height) ** 2)
    return (1.0 - np.float32(amount) * r2).astype(np.float32)


def _jpeg(image_rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode an RGB uint8 photo as JPEG at ``quality`` with OpenCV and decode it again."""
    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 BGR image
        raise ParameterError("OpenCV could not encode the photo as JPEG")
    return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _finish(
    image: np.ndarray,
    lighting: str,
    rng: np.random.Generator,
    vignetting: float = 0.0,
    blur_px: float = 0.0,
) -> np.ndarray:
    """Apply lighting, vignetting, optical blur and sensor noise to a float32 RGB image.

    Returns uint8 RGB (rounded). With no vignetting and no blur the steps and
    the random numbers are those of a plain render.
    """
    if lighting == "gradient":
        light = _illumination(image.shape[:2], rng)
        image = cv2.multiply(image, cv2.merge([light, light, light]))
    if vignetting > 0.0:
        falloff = _vignette(image.shape[:2], vignetting)
        image = cv2.multiply(image, cv2.merge([falloff, falloff, falloff]))
    if blur_px > 0.0:
        image = cv2.GaussianBlur(image, (0, 0), blur_px, borderType=cv2.BORDER_REFLECT)
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


def biased_mask(region: np.ndarray, bias_px: int) -> np.ndarray:
    """A boolean mask dilated (``bias_px > 0``) or eroded (``< 0``) by ``|bias_px|`` px.

    Dilation adds every pixel whose centre lies within ``bias_px`` (Euclidean)
    of a region pixel's centre; erosion removes every pixel within ``-bias_px``
    of a pixel outside, the image border counting as outside. By 1 px that is
    the ring of 4-neighbours, as a segmentation model that draws its
    boundaries a pixel too far out or in.
    """
    region = np.asarray(region, dtype=bool)
    if bias_px == 0 or region.size == 0:
        return region.copy()
    reach = abs(int(bias_px)) + 1e-6
    if bias_px > 0:
        outside = np.pad(~region, 1, constant_values=True).astype(np.uint8)
        to_region = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
        return region | (to_region <= reach)
    inside = np.pad(region, 1, constant_values=False).astype(np.uint8)
    to_outside = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    return region & (to_outside > reach)


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
    effects: PhotoEffects | None = None,
    mask_bias_px: int = 0,
) -> Scene:
    """Photograph flat shapes on a table with ``camera``.

    The photo is built in this order: the table (and its ``texture``), the
    shadows, the reference, its rim (``edge_line``), the objects; then the
    lighting, vignetting, optical blur, sensor noise, rounding to 8 bits and
    JPEG. Lens distortion bends every outline before anything is drawn, so
    the photo and both masks agree to a small fraction of a pixel.

    Args:
        objects: shapes of class 1, drawn over the reference where they
            overlap (they should not overlap one another).
        reference: the shape of class 2 (a card, an ArUco marker...).
        camera: the pinhole camera; its homography maps plane to image.
        supersample: samples per pixel along each axis for coverage.
        mask_noise_px: boundary noise of the model mask (``Scene.mask``) like
            a segmentation model's: about 95 % of the boundary moves by less
            than this many pixels; 0 gives the clean mask.
        lighting: ``plain``, ``gradient`` (falloff and vignetting) or
            ``dark`` (dark table, light objects).
        seed: makes the photo's texture, lighting and noise, and the mask
            noise, reproducible.
        object_colors: RGB colours of the objects; default from the palette.
        effects: shadows, rims, texture, vignetting, blur, JPEG and lens
            distortion (:class:`PhotoEffects`); None or the default: none.
            With none, the photo and masks are exactly those of a plain render.
        mask_bias_px: dilate (> 0) or erode (< 0) the model mask of each class
            by this many whole pixels after its noise (:func:`biased_mask`),
            as segmentation models that draw boundaries too far out or in.
            ``Scene.clean_mask`` stays the true mask.

    Returns:
        The :class:`Scene`; its ground truth is in the plane, in mm.
    """
    if int(supersample) < 1:
        raise ParameterError(f"supersample must be at least 1, got {supersample}")
    if not (math.isfinite(mask_noise_px) and mask_noise_px >= 0.0):
        raise ParameterError(f"mask noise must be a non-negative number of px, got {mask_noise_px}")
    bias = _checked_bias(mask_bias_px)
    effects = effects if effects is not None else PhotoEffects()
    if not isinstance(effects, PhotoEffects):
        raise ParameterError(f"effects must be a PhotoEffects, got {type(effects).__name__}")
    palette = _check_lighting(lighting)
    objects = tuple(objects)
    if object_colors is None:
        object_colors = [palette.objects[k % len(palette.objects)] for k in range(len(objects))]
    colors = tuple(tuple(int(c) for c in color) for color in object_colors)
    if len(colors) < len(objects):
        raise ParameterError("give one colour per object")
    homography = camera.homography()
    size = (camera.height, camera.width)
    # Children 0-3 are those of the plain renderer; 4 is the texture's.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]

    object_px = [_outline_px(shape, homography, camera) for shape in objects]
    reference_px = _outline_px(reference, homography, camera)
    reference_layers = _reference_layers_px(reference, reference_px, homography, camera, palette)
    if effects.distortion_k1 != 0.0:

        def bend(polygon: np.ndarray) -> np.ndarray:
            return distort_points(
                _densified(polygon, DISTORTION_CHORD_PX),
                effects.distortion_k1,
                camera.width,
                camera.height,
            )

        object_px = [bend(px) for px in object_px]
        reference_px = bend(reference_px)
        reference_layers = [
            ([bend(p) for p in polygons], color) for polygons, color in reference_layers
        ]
    footprint_px = reference_layers[0][0][0]  # the card, or the marker's paper
    object_layers = [([px], color) for px, color in zip(object_px, colors, strict=False)]

    image = _table(size, palette, streams[0])
    if effects.texture != "none":
        image *= (1.0 + _texture(effects.texture, size, streams[4]))[..., None]
    if effects.shadow is not None:
        _cast_shadow(image, [footprint_px, *object_px], effects.shadow, int(supersample))
    _paint_layers(image, reference_layers, int(supersample))
    if effects.edge_line is not None:
        _paint_edge_line(image, footprint_px, effects.edge_line, int(supersample))
    _paint_layers(image, object_layers, int(supersample))
    image_u8 = _finish(image, lighting, streams[1], effects.vignetting, effects.blur_px)
    if effects.jpeg_quality is not None:
        image_u8 = _jpeg(image_u8, int(effects.jpeg_quality))

    mask = np.zeros(size, dtype=np.uint8)
    clean = np.zeros(size, dtype=np.uint8)
    classes = [(_CLASSES.reference, [reference_px], streams[2])]
    if object_px:
        classes.append((_CLASSES.object, object_px, streams[3]))
    for class_id, polygons, rng in classes:
        window, clean_part, noisy_part = _class_mask(
            polygons, size, int(supersample), mask_noise_px, rng
        )
        if window.empty:
            continue
        clean[window.slices][clean_part] = class_id
        if bias == 0:
            mask[window.slices][noisy_part] = class_id
            continue
        model = np.zeros(size, dtype=bool)
        model[window.slices] = noisy_part
        mask[biased_mask(model, bias)] = class_id
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
        effects=effects,
        mask_bias_px=bias,
    )


def _checked_bias(mask_bias_px: int) -> int:
    """``mask_bias_px`` as an int, or a :class:`ParameterError`."""
    if (
        isinstance(mask_bias_px, bool)
        or not isinstance(mask_bias_px, int | np.integer)
        or abs(int(mask_bias_px)) > MAX_MASK_BIAS_PX
    ):
        raise ParameterError(
            f"mask bias must be a whole number of px within +-{MAX_MASK_BIAS_PX}, "
            f"got {mask_bias_px!r}"
        )
    return int(mask_bias_px)


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
    effects: PhotoEffects | None = None,
    mask_bias_px: int = 0,
    realistic: bool = False,
) -> Scene:
    """A reproducible random scene: a reference on the left, one object to its right.

    The object is 60-160 mm wide and 40-160 mm tall, upright in the plane
    (``angle_deg`` uniform in +-``max_angle_deg``, default 0), so its true
    width and height are its extent along the plane axes. The camera
    distance is chosen so the layout fills 55-80 % of the image width and
    everything stays inside the frame with a margin (after lens distortion).
    ``realistic`` draws its effects after everything else, so a realistic
    scene has the layout of the plain scene from an rng in the same state.

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
        effects: see :func:`render_scene`.
        mask_bias_px: see :func:`render_scene`.
        realistic: draw every effect from ``rng`` (:func:`realistic_effects`);
            do not give ``effects`` too.
    """
    if realistic and effects is not None:
        raise ParameterError("give either effects or realistic=True, not both")
    bias = _checked_bias(mask_bias_px)
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
    margin_px = 0.04 * min(sensor.width, sensor.height) + 2.0 * mask_noise_px + abs(bias)
    color = palette.objects[int(rng.integers(0, len(palette.objects)))]
    seed = int(rng.integers(0, 2**31 - 1))
    if realistic:
        effects = realistic_effects(rng)
    k1 = effects.distortion_k1 if effects is not None else 0.0
    cam = _fitting_camera(sensor, tilt_deg, distance, [obj, ref], margin_px, k1)
    return render_scene(
        [obj],
        ref,
        cam,
        supersample=supersample,
        mask_noise_px=mask_noise_px,
        lighting=lighting,
        seed=seed,
        object_colors=[color],
        effects=effects,
        mask_bias_px=bias,
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
    distortion_k1: float = 0.0,
) -> Camera:
    """The sensor at ``tilt_deg``, moved back until every shape is inside the margin."""
    for _ in range(60):
        cam = Camera(
            sensor.width, sensor.height, sensor.focal_px, tilt_deg, distance_mm, sensor.roll_deg
        )
        if all(_inside(cam, shape, margin_px, distortion_k1) for shape in shapes):
            return cam
        distance_mm *= 1.08
    raise ParameterError("could not fit the scene into the image; use a wider lens")


def _inside(cam: Camera, shape: PlaneShape, margin_px: float, distortion_k1: float = 0.0) -> bool:
    """Whether the shape's footprint projects inside the image with ``margin_px`` to spare.

    With lens distortion, the footprint's sides are bent as the photo bends them.
    """
    corners = shape.place(_rectangle(*footprint_mm(shape)))
    if np.any(cam.depth_mm(corners) <= 0.05 * cam.distance_mm):
        return False
    pts = project_points(cam.homography(), corners)
    if distortion_k1 != 0.0:
        pts = distort_points(
            _densified(pts, 4.0 * DISTORTION_CHORD_PX), distortion_k1, cam.width, cam.height
        )
    lo, hi = margin_px - 0.5, np.array([cam.width, cam.height]) - 0.5 - margin_px
    return bool(np.all(pts >= lo) and np.all(pts <= hi))


def _require_positive(what: str, value: float) -> None:
    """Raise a :class:`ParameterError` unless ``value`` is a positive finite number."""
    if not (isinstance(value, int | float | np.number) and math.isfinite(value) and value > 0):
        raise ParameterError(f"{what} must be a positive number, got {value!r}")


__all__ = [
    "ARUCO_SIDE_MM",
    "BRIGHT_EDGE_RGB",
    "CARD_CORNER_RADIUS_MM",
    "CARD_SIZE_MM",
    "DARK_EDGE_RGB",
    "LIGHTINGS",
    "MAX_DISTORTION_K1",
    "OBJECT_KINDS",
    "REFERENCE_KINDS",
    "SHAPE_KINDS",
    "TEXTURES",
    "Camera",
    "EdgeLine",
    "PhotoEffects",
    "PlaneShape",
    "Scene",
    "Shadow",
    "aruco_black_cells_mm",
    "aruco_paper_mm",
    "aruco_shape",
    "biased_mask",
    "card_shape",
    "distort_points",
    "distortion_radius_px",
    "footprint_mm",
    "polygon_coverage",
    "project_points",
    "random_scene",
    "realistic_effects",
    "render_scene",
]


# --------------------------------------------------------------------------
# A ChArUco board (objlen's measuring mat) on the table
# --------------------------------------------------------------------------

#: Pixels per mm of the board picture that is sampled into the photo.
BOARD_TEXTURE_PX_PER_MM = 16.0
#: Samples per photo pixel along each axis when the board is drawn.
BOARD_SUPERSAMPLE = 3
#: White paper around a board's squares, mm (a mat's margins, roughly).
BOARD_PAPER_MARGIN_MM = 12.0
#: Fixed-point iterations that invert the radial lens distortion.
UNDISTORT_ITERATIONS = 20


def _undistort_radial(points_px: np.ndarray, k1: float, width: int, height: int) -> np.ndarray:
    """Invert :func:`distort_points`: photo points ``(N, 2)`` -> ideal pinhole points, px.

    Fixed-point iteration on :func:`distort_points` itself, so it inverts
    whatever lens model that function applies.
    """
    target = np.asarray(points_px, dtype=np.float64).reshape(-1, 2)
    if k1 == 0.0:
        return target
    ideal = target.copy()
    for _ in range(UNDISTORT_ITERATIONS):
        ideal -= distort_points(ideal, k1, width, height) - target
    return ideal


def raised_homography(camera: Camera, height_mm: float) -> np.ndarray:
    """Plane ``(X, Y)`` mm at ``height_mm`` above the table -> ideal image px (``H[2,2] = 1``).

    A point at height ``h`` (towards the camera) is ``X r1 + Y r2 - h r3 + t``
    in camera coordinates, ``r3 = r1 x r2`` pointing into the table.
    """
    columns = camera.extrinsic_columns()
    r3 = np.cross(columns[:, 0], columns[:, 1])
    raised = columns.copy()
    raised[:, 2] = columns[:, 2] - height_mm * r3
    h = camera.intrinsics() @ raised
    return h / h[2, 2]


def _paint_board(
    image: np.ndarray,
    texture: np.ndarray,
    board_to_image: np.ndarray,
    board_size_mm: tuple[float, float],
    distortion_k1: float,
    ink: Sequence[float],
) -> None:
    """Paint the board picture (255 white paper, 0 ink) into ``image`` (float32 RGB, in place).

    Every photo pixel near the board is sampled ``BOARD_SUPERSAMPLE**2`` times;
    each sample is undistorted, mapped back onto the board and read from
    ``texture`` (bilinear); the mean darkness of the samples is the ink's
    coverage of the pixel.
    """
    height, width = image.shape[:2]
    board_w, board_h = board_size_mm
    corners = project_points(board_to_image, _box(0.0, 0.0, board_w, board_h))
    corners = distort_points(corners, distortion_k1, width, height) if distortion_k1 else corners
    bend_margin = abs(distortion_k1) * distortion_radius_px(width, height) + 2
    window = _window_of([corners], (height, width), margin=math.ceil(bend_margin))
    if window.empty:
        return
    s = BOARD_SUPERSAMPLE
    to_board = np.linalg.inv(board_to_image)
    px_per_mm = texture.shape[1] / board_w
    # The mapping is smooth: compute it at the pixel centres and let a linear
    # resize (half-pixel aligned) place it at the s x s sub-pixel samples,
    # which sit at offsets (k + 0.5) / s - 0.5 from each centre.
    grid_x, grid_y = np.meshgrid(
        np.arange(window.x0, window.x1, dtype=np.float64),
        np.arange(window.y0, window.y1, dtype=np.float64),
    )
    pts = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    board = project_points(to_board, _undistort_radial(pts, distortion_k1, width, height))
    # Texture pixel (i, j) covers board [i, i+1] / px_per_mm: its centre is i + 0.5.
    maps = [
        cv2.resize(
            (board[:, axis] * px_per_mm - 0.5).astype(np.float32).reshape(window.shape),
            (window.shape[1] * s, window.shape[0] * s),
            interpolation=cv2.INTER_LINEAR,
        )
        for axis in (0, 1)
    ]
    values = cv2.remap(
        texture.astype(np.float32),
        maps[0],
        maps[1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255.0,
    )
    darkness = (255.0 - values) / 255.0
    rows, cols = window.shape
    darkness = darkness.reshape(rows, s, cols, s).mean(axis=(1, 3))
    _composite(image, np.clip(darkness, 0.0, 1.0), window, ink)


def render_board_scene(
    objects: Sequence[PlaneShape],
    board: Any,
    camera: Camera,
    *,
    mat: bool = True,
    board_center_mm: tuple[float, float] = (0.0, 0.0),
    board_angle_deg: float = 0.0,
    object_heights_mm: Sequence[float] | None = None,
    supersample: int = 4,
    mask_noise_px: float = 0.0,
    lighting: str = "plain",
    seed: int = 0,
    object_colors: Sequence[tuple[int, int, int]] | None = None,
    effects: PhotoEffects | None = None,
) -> Scene:
    """Photograph a ChArUco board (objlen's mat by default) with objects on it.

    The board's picture (:func:`objlen.board.board_image`, OpenCV's
    ``generateImage``; with ``mat`` its middle squares blank) lies on a white
    sheet ``BOARD_PAPER_MARGIN_MM`` wider on every side, centred at
    ``board_center_mm`` and turned by ``board_angle_deg``. The objects are
    drawn over it, each as a flat top face at its height above the table
    (``object_heights_mm``, default 0: lying on the table); a raised face
    is seen through the homography of its own plane
    (:func:`raised_homography`) and its sides are not drawn. Table,
    lighting, shadows, vignetting, blur, noise, JPEG and lens distortion as
    in :func:`render_scene` (rims do not apply).

    Args:
        objects: shapes of class 1 (their plane coordinates, mm, are those
            of their own plane; true sizes are their extents).
        board: an :class:`objlen.board.BoardSpec`.
        camera: the pinhole camera.
        object_heights_mm: height of each object's top face above the table, mm.

    Returns:
        The :class:`Scene`: ``mask`` and ``clean_mask`` hold the objects only
        (the board is found in the photo); ``reference`` is the board's
        rectangle (``size_mm`` the squares' extent) in the plane;
        ``plane_to_image`` maps the table plane.
    """
    from objlen.board import board_image

    if int(supersample) < 1:
        raise ParameterError(f"supersample must be at least 1, got {supersample}")
    effects = effects if effects is not None else PhotoEffects()
    palette = _check_lighting(lighting)
    objects = tuple(objects)
    heights = tuple(float(h) for h in (object_heights_mm or [0.0] * len(objects)))
    if len(heights) != len(objects) or not all(math.isfinite(h) and h >= 0 for h in heights):
        raise ParameterError("give one non-negative height (mm) per object")
    if object_colors is None:
        object_colors = [palette.objects[k % len(palette.objects)] for k in range(len(objects))]
    colors = tuple(tuple(int(c) for c in color) for color in object_colors)
    k1 = effects.distortion_k1
    size = (camera.height, camera.width)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]

    board_w, board_h = board.size_mm
    reference = PlaneShape("rectangle", board_center_mm, (board_w, board_h), board_angle_deg)
    margin = BOARD_PAPER_MARGIN_MM
    paper = PlaneShape(
        "rectangle", board_center_mm, (board_w + 2 * margin, board_h + 2 * margin), board_angle_deg
    )
    homography = camera.homography()
    # Board mm (origin at its top-left outer corner) -> plane mm -> image px.
    angle = math.radians(board_angle_deg)
    c, s = math.cos(angle), math.sin(angle)
    board_to_plane = np.array(
        [
            [c, -s, board_center_mm[0] - c * board_w / 2 + s * board_h / 2],
            [s, c, board_center_mm[1] - s * board_w / 2 - c * board_h / 2],
            [0.0, 0.0, 1.0],
        ]
    )

    def bend(polygon: np.ndarray) -> np.ndarray:
        if k1 == 0.0:
            return polygon
        return distort_points(
            _densified(polygon, DISTORTION_CHORD_PX), k1, camera.width, camera.height
        )

    paper_px = bend(_project_checked(paper.outline_mm(), homography, camera))
    object_px = []
    for shape, height_mm in zip(objects, heights, strict=True):
        raised = raised_homography(camera, height_mm) if height_mm else homography
        object_px.append(bend(_outline_px(shape, raised, camera)))

    image = _table(size, palette, streams[0])
    if effects.texture != "none":
        image *= (1.0 + _texture(effects.texture, size, streams[4]))[..., None]
    if effects.shadow is not None:
        _cast_shadow(image, [paper_px, *object_px], effects.shadow, int(supersample))
    _paint_layers(image, [([paper_px], palette.paper)], int(supersample))
    texture = board_image(board, BOARD_TEXTURE_PX_PER_MM, mat=mat)
    _paint_board(image, texture, homography @ board_to_plane, (board_w, board_h), k1, palette.ink)
    _paint_layers(
        image,
        [([px], color) for px, color in zip(object_px, colors, strict=False)],
        int(supersample),
    )
    image_u8 = _finish(image, lighting, streams[1], effects.vignetting, effects.blur_px)
    if effects.jpeg_quality is not None:
        image_u8 = _jpeg(image_u8, int(effects.jpeg_quality))

    mask = np.zeros(size, dtype=np.uint8)
    clean = np.zeros(size, dtype=np.uint8)
    if object_px:
        window, clean_part, noisy_part = _class_mask(
            object_px, size, int(supersample), mask_noise_px, streams[3]
        )
        if not window.empty:
            clean[window.slices][clean_part] = _CLASSES.object
            mask[window.slices][noisy_part] = _CLASSES.object
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
        effects=effects,
    )


__all__ += ["raised_homography", "render_board_scene"]
