"""Plane geometry on ``(x, y)`` pixel coordinates: boxes, axes, lines, transforms.

Conventions used everywhere in objlen:

* Points are ``(x, y)`` with x to the right and y down; arrays of points have
  shape ``(N, 2)``.
* Pixel ``(i, j)`` covers the square ``[i-0.5, i+0.5] x [j-0.5, j+0.5]``; its
  centre is at integer coordinates. A region of pixels is the union of its
  squares: :func:`pixel_square_corners` turns pixel centres into the corners
  of those squares, so that a box around them measures pixel edges.
* A transform is an object shaped like scikit-image's: ``params`` (its 3x3
  matrix on homogeneous ``(x, y, 1)`` columns), ``t(points)`` on ``(N, 2)``
  arrays of ``(x, y)``, and ``t.inverse``, the inverse transform.
  :class:`Homography` is the general projective one (photo <-> reference
  plane); :class:`PixelScaling` maps a photo onto a scaled copy of it
  (display, canvas, thumbnail), edges onto edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from objlen.errors import ParameterError

_HALF_PIXEL_OFFSETS = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])


def as_points(points: np.ndarray | list) -> np.ndarray:
    """Return ``points`` as a float64 ``(N, 2)`` array."""
    array = np.asarray(points, dtype=np.float64)
    return array.reshape(-1, 2)


def distance(p: np.ndarray, q: np.ndarray) -> float:
    """Euclidean distance between two ``(x, y)`` points."""
    return float(np.hypot(q[0] - p[0], q[1] - p[1]))


def unit_vector(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to length 1 (a zero vector is returned as it is)."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def pixel_square_corners(centres: np.ndarray) -> np.ndarray:
    """Corners of the unit squares of pixels whose centres are given.

    >>> pixel_square_corners(np.array([[10, 20]])).tolist()
    [[9.5, 19.5], [10.5, 19.5], [10.5, 20.5], [9.5, 20.5]]
    """
    centres = as_points(centres)
    return (centres[:, None, :] + _HALF_PIXEL_OFFSETS[None, :, :]).reshape(-1, 2)


@dataclass(frozen=True)
class Box:
    """A rectangle named by three corners, in its own frame.

    ``A`` is the bottom-left corner, ``B`` the bottom-right, ``E`` the
    top-left, as seen in the box's frame (whose x axis is the side nearest
    to the image's horizontal). ``AB`` is the width, ``AE`` the height.
    """

    A: np.ndarray
    B: np.ndarray
    E: np.ndarray

    @property
    def width(self) -> float:
        """Length of AB."""
        return distance(self.A, self.B)

    @property
    def height(self) -> float:
        """Length of AE."""
        return distance(self.A, self.E)

    @property
    def corners(self) -> np.ndarray:
        """The four corners A, B, B + (E - A), E as a ``(4, 2)`` array."""
        return np.array([self.A, self.B, self.B + self.E - self.A, self.E])


def upright_box(points: np.ndarray) -> Box:
    """Axis-aligned box of ``points`` (in the coordinates they are given in).

    With y down, A = (xmin, ymax), B = (xmax, ymax), E = (xmin, ymin).
    """
    points = as_points(points)
    x_min, y_min = points.min(axis=0)
    x_max, y_max = points.max(axis=0)
    return Box(A=np.array([x_min, y_max]), B=np.array([x_max, y_max]), E=np.array([x_min, y_min]))


def _box_frame(angle_axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit axes ``(u, v)`` of a box: u the side direction nearest horizontal
    (pointing right), v perpendicular to it (pointing down)."""
    u = angle_axis / np.hypot(*angle_axis)
    v = np.array([-u[1], u[0]])
    if abs(v[0]) > abs(u[0]):  # v is nearer horizontal: swap roles
        u, v = v, u
    if u[0] < 0:
        u = -u
    if v[1] < 0:
        v = -v
    return u, v


def min_area_box(points: np.ndarray) -> Box:
    """Minimum-area rotated box of ``points``, named in its own frame.

    The orientation comes from OpenCV's rotating calipers; the extents are
    recomputed in float64 by projecting the points on the box axes.
    """
    points = as_points(points)
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    if len(hull) < 3:
        return upright_box(points)
    rect_corners = cv2.boxPoints(cv2.minAreaRect(hull.astype(np.float32))).astype(np.float64)
    u, v = _box_frame(rect_corners[1] - rect_corners[0])
    along_u = points @ u
    along_v = points @ v
    u_min, u_max = along_u.min(), along_u.max()
    v_min, v_max = along_v.min(), along_v.max()
    return Box(A=u * u_min + v * v_max, B=u * u_max + v * v_max, E=u * u_min + v * v_min)


def major_axis(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ends of the major axis of the minimum-area box of ``points``.

    Returns ``(C, D)``: the midpoints of the box's two short sides, C the
    left one (smaller x; for a vertical axis, the upper one).
    """
    box = min_area_box(points)
    a, b, far, e = box.corners
    ends = ((a + e) / 2, (b + far) / 2) if box.width >= box.height else ((a + b) / 2, (e + far) / 2)
    c, d = sorted(ends, key=lambda p: (round(p[0], 6), p[1]))
    return c, d


def fit_line(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Total-least-squares line through ``points``.

    Returns ``(centroid, unit_direction, rms_residual_px)``.
    """
    points = as_points(points)
    centroid = points.mean(axis=0)
    _, singular, vt = np.linalg.svd(points - centroid, full_matrices=False)
    direction = vt[0]
    rms = float(singular[1] / np.sqrt(len(points))) if len(singular) > 1 else 0.0
    return centroid, direction, rms


def intersect_lines(p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Intersection of the lines ``p1 + s*d1`` and ``p2 + t*d2``."""
    matrix = np.column_stack([d1, -d2])
    s, _ = np.linalg.solve(matrix, p2 - p1)
    return p1 + s * d1


class Homography:
    """A projective transform of the plane on ``(x, y)`` points, shaped like
    scikit-image's ``ProjectiveTransform``.

    ``H(points)`` maps an ``(N, 2)`` array of ``(x, y)`` points to ``(N, 2)``;
    ``H.inverse`` is the inverse transform (a transform, not an array);
    ``H.params`` is the 3x3 matrix acting on homogeneous column vectors
    ``(x, y, 1)``, normalised so that ``params[2, 2] == 1``. Transforms are
    immutable: ``params`` is read-only.

    >>> shift = Homography([[1, 0, 10], [0, 1, 20], [0, 0, 1]])
    >>> shift([[1.0, 2.0]]).tolist()
    [[11.0, 22.0]]
    >>> shift.inverse([[11.0, 22.0]]).tolist()
    [[1.0, 2.0]]
    """

    def __init__(self, params: np.ndarray | Sequence[Sequence[float]]) -> None:
        params = np.array(params, dtype=np.float64)
        if params.shape != (3, 3):
            raise ValueError(f"a homography is a 3x3 matrix, got shape {params.shape}")
        if not np.all(np.isfinite(params)) or params[2, 2] == 0:
            raise ValueError(f"a homography needs finite entries and params[2, 2] != 0: {params}")
        params /= params[2, 2]
        params.flags.writeable = False
        self.params: np.ndarray = params

    @classmethod
    def from_points(cls, source: np.ndarray, target: np.ndarray) -> Homography:
        """The homography mapping 4 ``source`` points exactly onto 4 ``target`` points."""
        return Homography(homography_matrices(as_points(source)[None], as_points(target))[0])

    def __call__(self, points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Map ``(N, 2)`` points ``(x, y)``; returns a new float64 ``(N, 2)`` array."""
        return apply_homographies(self.params[None], as_points(points)[None])[0]

    @property
    def inverse(self) -> Homography:
        """The inverse transform: ``H.inverse(H(p)) == p`` up to rounding."""
        return Homography(np.linalg.inv(self.params))

    def __setattr__(self, name: str, value: object) -> None:
        if name in self.__dict__:
            raise AttributeError(f"a {type(self).__name__} is immutable; make a new one")
        super().__setattr__(name, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Homography):
            return NotImplemented
        return type(self) is type(other) and np.array_equal(self.params, other.params)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.params.tobytes()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params.tolist()!r})"


class PixelScaling(Homography):
    """Image pixels to a scaled copy of the image: ``out = offset + (p + 0.5) * scale``.

    The copy's edges are the image's edges: the image's top-left corner
    ``(-0.5, -0.5)`` (pixel edges, see the module's conventions) lands on
    ``offset`` and each axis is stretched by its own factor. This is the one
    mapping between a photo and its display copy, a canvas, or a thumbnail.

    Args:
        scale: ``(sx, sy)`` output units per image pixel, both positive.
        offset: ``(ox, oy)`` output position of the image's top-left corner.

    >>> half = PixelScaling(scale=(0.5, 0.5), offset=(0.0, 10.0))
    >>> half([[99.5, 19.5]]).tolist()
    [[50.0, 20.0]]
    >>> half.inverse([[50.0, 20.0]]).tolist()
    [[99.5, 19.5]]
    """

    def __init__(
        self, scale: tuple[float, float], offset: tuple[float, float] = (0.0, 0.0)
    ) -> None:
        sx, sy = (float(s) for s in scale)
        ox, oy = (float(o) for o in offset)
        if not all(math.isfinite(s) and s > 0 for s in (sx, sy)):
            raise ParameterError(f"display scale must be positive, got {tuple(scale)!r}")
        if not (math.isfinite(ox) and math.isfinite(oy)):
            raise ParameterError(f"a pixel scaling's offset must be finite, got {tuple(offset)!r}")
        self.scale: tuple[float, float] = (sx, sy)
        self.offset: tuple[float, float] = (ox, oy)
        super().__init__([[sx, 0.0, ox + 0.5 * sx], [0.0, sy, oy + 0.5 * sy], [0.0, 0.0, 1.0]])

    @classmethod
    def for_resize(cls, image_size: tuple[int, int], size: tuple[int, int]) -> PixelScaling:
        """Pixels of an ``image_size`` image to the pixels of the same picture
        resized to ``size`` (both ``(width, height)``, both in objlen's pixel
        convention): ``d = (p + 0.5) * size / image_size - 0.5``.

        >>> PixelScaling.for_resize((1600, 1200), (800, 600))([[-0.5, 1199.5]]).tolist()
        [[-0.5, 599.5]]
        """
        if min(*image_size, *size) <= 0:
            raise ParameterError(f"image sizes must be positive, got {image_size!r} and {size!r}")
        return PixelScaling(
            scale=(size[0] / image_size[0], size[1] / image_size[1]), offset=(-0.5, -0.5)
        )

    def __call__(self, points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Map ``(N, 2)`` image points ``(x, y)`` to the copy; returns ``(N, 2)``."""
        return np.asarray(self.offset) + (as_points(points) + 0.5) * np.asarray(self.scale)

    @property
    def inverse(self) -> PixelScaling:
        """The copy back to the image, itself a :class:`PixelScaling`."""
        (sx, sy), (ox, oy) = self.scale, self.offset
        return PixelScaling(
            scale=(1.0 / sx, 1.0 / sy), offset=(-(ox + 0.5) / sx - 0.5, -(oy + 0.5) / sy - 0.5)
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scale={self.scale!r}, offset={self.offset!r})"


def homography_matrices(sources: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Batched 4-point homographies.

    Args:
        sources: ``(K, 4, 2)`` point sets.
        target: ``(4, 2)`` points they map to.

    Returns:
        ``(K, 3, 3)`` matrices with ``H[k] @ (source, 1) ~ (target, 1)``.
    """
    sources = np.asarray(sources, dtype=np.float64)
    count = sources.shape[0]
    x, y = sources[..., 0], sources[..., 1]
    u = np.broadcast_to(target[:, 0], x.shape)
    v = np.broadcast_to(target[:, 1], x.shape)
    zeros, ones = np.zeros_like(x), np.ones_like(x)
    rows_u = np.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], axis=-1)
    rows_v = np.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], axis=-1)
    system = np.concatenate([rows_u, rows_v], axis=1)  # (K, 8, 8)
    rhs = np.concatenate([u, v], axis=1)[..., None]  # (K, 8, 1)
    h = np.linalg.solve(system, rhs)[..., 0]
    return np.concatenate([h, np.ones((count, 1))], axis=1).reshape(count, 3, 3)


def apply_homographies(matrices: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map ``(K, N, 2)`` points through ``(K, 3, 3)`` matrices (batched)."""
    homogeneous = np.concatenate([points, np.ones((*points.shape[:-1], 1))], axis=-1)
    mapped = homogeneous @ np.swapaxes(matrices, 1, 2)
    return mapped[..., :2] / mapped[..., 2:3]
