"""A camera profile: the lens's intrinsics and distortion, for undistorting points.

:class:`CameraProfile` holds OpenCV's pinhole model (the 3x3 matrix ``K`` in
pixels and the distortion coefficients ``k1, k2, p1, p2, k3``) for one image
size. objlen never resamples the photo: :meth:`CameraProfile.undistort_points`
maps the few points a measurement uses (the object's outline, the
reference's corners) to where an ideal pinhole camera with the same ``K``
would have seen them, and :meth:`CameraProfile.distort_points` maps back for
display.

Coordinates are ``(x, y)`` pixels, x right, y down, pixel centres at integer
coordinates (OpenCV's convention, and objlen's).

A profile is saved as JSON (``schema: objlen.camera/1``) by
``python -m objlen calibrate``; :func:`radial_profile` makes the
distortion-only profile a ChArUco board fit estimates from one photo.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from objlen.errors import ParameterError

SCHEMA = "objlen.camera/1"
#: Iterations and tolerance (normalised units) of the undistortion's fixed point.
UNDISTORT_ITERATIONS = 200
UNDISTORT_EPS = 1e-12
#: OpenCV's five-coefficient model: k1, k2, p1, p2, k3.
DISTORTION_COEFFICIENTS = 5


@dataclass(frozen=True, eq=False)
class CameraProfile:
    """A lens model for photos of one size.

    Attributes:
        matrix: ``(3, 3)`` intrinsic matrix ``K`` (focal lengths and principal
            point in pixels).
        distortion: OpenCV distortion coefficients ``(k1, k2, p1, p2, k3)``
            (dimensionless, in the normalised coordinates ``K`` defines).
        image_size: ``(width, height)`` in pixels the profile was made for.
        rms_px: calibration reprojection RMS in pixels, if known.
        focal_known: whether ``K`` holds the real focal length (a
            calibration), or only normalises the distortion (a board fit's
            estimate from one photo: then no pose can be taken from it).
        source: how the profile was made, for people.
    """

    matrix: np.ndarray
    distortion: np.ndarray
    image_size: tuple[int, int]
    rms_px: float | None = None
    focal_known: bool = True
    source: str = "calibration"
    views: int = field(default=0)

    def __post_init__(self) -> None:
        matrix = np.asarray(self.matrix, dtype=np.float64)
        distortion = np.zeros(DISTORTION_COEFFICIENTS)
        given = np.asarray(self.distortion, dtype=np.float64).ravel()
        if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
            raise ParameterError("a camera matrix is 3x3 finite numbers")
        if matrix[0, 0] <= 0 or matrix[1, 1] <= 0:
            raise ParameterError("a camera's focal lengths must be positive")
        if len(given) > DISTORTION_COEFFICIENTS or not np.all(np.isfinite(given)):
            raise ParameterError(
                "a camera's distortion is up to five finite numbers k1 k2 p1 p2 k3"
            )
        distortion[: len(given)] = given
        width, height = (int(v) for v in self.image_size)
        if width < 1 or height < 1:
            raise ParameterError(f"a camera's image size must be positive, got {self.image_size}")
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "distortion", distortion)
        object.__setattr__(self, "image_size", (width, height))

    # ------------------------------------------------------------------ points
    def undistort_points(self, points: np.ndarray) -> np.ndarray:
        """Photo points ``(N, 2)`` ``(x, y)`` px -> ideal pinhole points ``(N, 2)`` px (same K)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
        if len(pts) == 0:
            return pts.reshape(0, 2)
        criteria = (
            cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS,
            UNDISTORT_ITERATIONS,
            UNDISTORT_EPS,
        )
        ideal = cv2.undistortPoints(
            pts, self.matrix, self.distortion, P=self.matrix, criteria=criteria
        )
        return ideal.reshape(-1, 2).astype(np.float64)

    def distort_points(self, points: np.ndarray) -> np.ndarray:
        """Ideal pinhole points ``(N, 2)`` px -> where the photo shows them, ``(N, 2)`` px."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            return pts
        k = self.matrix
        normalised = np.column_stack(
            [(pts[:, 0] - k[0, 2]) / k[0, 0], (pts[:, 1] - k[1, 2]) / k[1, 1], np.ones(len(pts))]
        )
        projected, _ = cv2.projectPoints(
            normalised.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), k, self.distortion
        )
        return projected.reshape(-1, 2).astype(np.float64)

    def check_image(self, width: int, height: int) -> None:
        """Raise :class:`ParameterError` unless the photo is ``image_size``."""
        if (int(width), int(height)) != self.image_size:
            w, h = self.image_size
            raise ParameterError(
                f"the camera profile is for {w}x{h} px photos, this photo is {width}x{height} "
                "px: a lens's distortion is known only at the size it was calibrated; "
                "calibrate at this size (python -m objlen calibrate) or leave out --camera"
            )

    @property
    def is_identity(self) -> bool:
        """Whether the profile moves no point (no distortion)."""
        return not np.any(self.distortion)

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (pixels)."""
        return {
            "schema": SCHEMA,
            "image_size": list(self.image_size),
            "matrix": self.matrix.tolist(),
            "distortion": self.distortion.tolist(),
            "rms_px": self.rms_px,
            "focal_known": self.focal_known,
            "source": self.source,
            "views": self.views,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CameraProfile:
        """The profile of :meth:`to_dict`'s values; ParameterError on anything else."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ParameterError(
                f"not an objlen camera profile (expected schema {SCHEMA!r}); make one with "
                "python -m objlen calibrate"
            )
        try:
            return cls(
                matrix=np.array(data["matrix"], dtype=np.float64),
                distortion=np.array(data["distortion"], dtype=np.float64),
                image_size=tuple(data["image_size"]),
                rms_px=None if data.get("rms_px") is None else float(data["rms_px"]),
                focal_known=bool(data.get("focal_known", True)),
                source=str(data.get("source", "calibration")),
                views=int(data.get("views", 0)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ParameterError(
                f"the camera profile is incomplete or malformed: {error}"
            ) from None

    def save(self, path: str | Path) -> None:
        """Write the profile as JSON to ``path``."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> CameraProfile:
        """Read a profile written by :meth:`save`.

        Raises:
            ParameterError: the file is missing, not JSON, or not a profile.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise ParameterError(
                f"cannot read the camera profile {path}: {error.strerror}"
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise ParameterError(f"the camera profile {path} is not JSON") from None
        return cls.from_dict(data)


def half_diagonal_px(width: int, height: int) -> float:
    """Half the image diagonal ``hypot(W, H) / 2``, px: the radius that normalises k1."""
    return math.hypot(width, height) / 2.0


def radial_profile(k1: float, width: int, height: int, source: str) -> CameraProfile:
    """A distortion-only profile: radial ``k1`` about the image centre.

    ``p_photo = c + (p - c) (1 + k1 r^2)``, ``c = ((W-1)/2, (H-1)/2)``,
    ``r = |p - c| / R`` with ``R`` half the diagonal: ``K`` has focal
    length ``R`` only to normalise; ``focal_known`` is False.
    """
    radius = half_diagonal_px(width, height)
    matrix = np.array(
        [[radius, 0.0, (width - 1) / 2.0], [0.0, radius, (height - 1) / 2.0], [0.0, 0.0, 1.0]]
    )
    return CameraProfile(
        matrix=matrix,
        distortion=np.array([k1, 0.0, 0.0, 0.0, 0.0]),
        image_size=(width, height),
        focal_known=False,
        source=source,
    )


@dataclass(frozen=True)
class PlanePose:
    """Where the camera is, seen from a plane.

    Attributes:
        distance: the camera centre's perpendicular distance from the plane,
            in the plane's unit.
        foot: ``(X, Y)`` the plane point straight below the camera centre.
    """

    distance: float
    foot: np.ndarray

    def raised_corners(self, plane_corners: np.ndarray, height: float) -> np.ndarray:
        """Plane coordinates of the same image points in the parallel plane ``height`` higher.

        A ray from the camera meets the plane at ``P`` and the raised plane
        at ``foot + (P - foot) (d - h) / d``: the two planes are related by
        a scaling about the foot, by ``(d - h) / d``.
        """
        scale = (self.distance - height) / self.distance
        return self.foot + (np.asarray(plane_corners, dtype=np.float64) - self.foot) * scale


def plane_pose(
    matrix: np.ndarray, image_corners: np.ndarray, plane_corners: np.ndarray
) -> PlanePose:
    """The camera's pose over a plane from four ideal (undistorted) image points.

    Args:
        matrix: ``(3, 3)`` intrinsics ``K`` (px).
        image_corners: ``(4, 2)`` ideal pinhole points ``(x, y)`` px.
        plane_corners: ``(4, 2)`` the same points in the plane ``(X, Y)``.

    Uses OpenCV's ``solvePnP`` (IPPE, for planes).
    """
    objects = np.column_stack([plane_corners, np.zeros(len(plane_corners))]).astype(np.float64)
    ok, rvec, tvec = cv2.solvePnP(
        objects,
        np.asarray(image_corners, dtype=np.float64),
        np.asarray(matrix, dtype=np.float64),
        None,
        flags=cv2.SOLVEPNP_IPPE,
    )
    if not ok:
        raise ParameterError("the reference's corners give no camera pose")
    rotation, _ = cv2.Rodrigues(rvec)
    centre = -rotation.T @ tvec.ravel()
    return PlanePose(distance=float(abs(centre[2])), foot=centre[:2].copy())


def focal_matrix(focal_px: float, width: int, height: int) -> np.ndarray:
    """``K`` with square pixels of focal length ``focal_px``, principal point at the centre."""
    return np.array(
        [[focal_px, 0.0, (width - 1) / 2.0], [0.0, focal_px, (height - 1) / 2.0], [0, 0, 1.0]]
    )


__all__ = [
    "CameraProfile",
    "PlanePose",
    "focal_matrix",
    "half_diagonal_px",
    "plane_pose",
    "radial_profile",
]
