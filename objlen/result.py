"""The result of a measurement and its stable JSON form (``objlen.measurement/1``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from objlen.camera import CameraProfile
from objlen.errors import ParameterError
from objlen.options import MeasureOptions

SCHEMA = "objlen.measurement/1"
#: The measured points, in drawing order: A, B, E on the object, C, D on the reference.
POINT_NAMES = ("A", "B", "E", "C", "D")


@dataclass(frozen=True)
class Length:
    """A length with its 95 % half-width, in the measurement's unit."""

    value: float
    uncertainty: float

    @property
    def relative(self) -> float:
        """Uncertainty as a share of the value (infinite for a zero value)."""
        return self.uncertainty / abs(self.value) if self.value else float("inf")

    def to_dict(self) -> dict[str, float]:
        return {"value": round(self.value, 4), "uncertainty": round(self.uncertainty, 4)}

    def text(self, unit: str) -> str:
        """For people: ``"154.41 ± 1.09 mm"``."""
        return f"{self.value:.2f} ± {self.uncertainty:.2f} {unit}"


@dataclass(frozen=True)
class ReferenceResult:
    """Where the reference is and what it is worth.

    Attributes:
        kind: ``"mask"`` (a reference region, proportional), ``"rectangle"``
            (a rectangular region, homography), ``"aruco"``, or ``"scale"``
            (given directly, no points).
        C, D: ends of the reference segment in the image (None for ``scale``).
        real: real length of CD, in the unit.
        corners: ``(4, 2)`` image corners (homography), top-left first, clockwise.
        plane_size: real ``(W, H)`` of the reference, W along its top side.
        plane_corners: the corners in the plane, ``(0,0), (W,0), (W,H), (0,H)``.
        corner_sigma_px: standard uncertainty of each corner coordinate (the
            largest corner's, when the corners are where fitted sides meet).
        side_sigmas_px: for corners where fitted sides meet, each side's
            offset and tilt uncertainty (:attr:`objlen.reference.Quad.side_sigmas`);
            the corners' errors are then those of their sides, correlated.
        located_on: ``"mask"``, ``"photo"`` (edges refined on the photo) or ``"aruco"``.
        given_scale: real units per pixel, for ``scale``.
        noise_px: boundary noise of the reference's mask (proportional method).
        moved: which of C, D the operator moved.
        perspective_rel: how far the reference looks foreshortened (a disc's
            1 - minor/major axis, a rectangle's departure from its shape), a
            bound on the relative error perspective gives a proportional
            measurement near it.
        scale_gradient: how fast the scale (mm per px) changes across the
            photo of a tilted camera, ``(gx, gy)`` as a share per px, as the
            reference's shape shows it (see :mod:`objlen.perspective`).
            A proportional object's scale is off by up to this times its
            offset from the reference's centre.
        camera: the lens model that maps photo pixels to ideal pinhole pixels
            (a camera profile, or the radial distortion a board fit
            estimated); ``C``, ``D`` and ``corners`` stay in photo pixels and
            every point is undistorted with it before any length is taken.
        fit_rms_px, fit_corners: a board's reprojection RMS (px) and the
            corners ``(used, found)`` by its fit.
        camera_distance: the camera's distance from the reference's plane
            (perpendicular), in the unit, when the plane's pose is known.
        camera_foot: ``(X, Y)`` plane point below the camera, in the unit.
        object_height: height of the measured faces above the plane, in the unit.
        notes: remarks about the reference, for the measurement's notes.
        image_size: ``(width, height)`` of the photo, px (for the lens allowance).
    """

    kind: str
    C: np.ndarray | None = None
    D: np.ndarray | None = None
    real: float | None = None
    corners: np.ndarray | None = None
    plane_size: tuple[float, float] | None = None
    plane_corners: np.ndarray | None = None
    corner_sigma_px: float = 0.0
    side_sigmas_px: np.ndarray | None = None
    located_on: str = "given"
    given_scale: float | None = None
    noise_px: float = 0.0
    moved: tuple[str, ...] = ()
    perspective_rel: float = 0.0
    scale_gradient: np.ndarray = field(default_factory=lambda: np.zeros(2))
    camera: CameraProfile | None = None
    fit_rms_px: float | None = None
    fit_corners: tuple[int, int] | None = None
    camera_distance: float | None = None
    camera_foot: np.ndarray | None = None
    object_height: float = 0.0
    notes: tuple[str, ...] = ()
    image_size: tuple[int, int] | None = None

    @property
    def pixels(self) -> float | None:
        """Length of CD in pixels."""
        if self.C is None or self.D is None:
            return None
        return float(np.hypot(*(self.D - self.C)))

    @property
    def scale(self) -> float:
        """Real units per pixel along CD (nominal for the homography method)."""
        if self.given_scale is not None:
            return self.given_scale
        return self.real / self.pixels


@dataclass(frozen=True)
class ObjectResult:
    """One measured object: its points, lengths, pixel area, and the estimated
    boundary noise of its mask in pixels (0 for a clean mask).

    ``lens_sensitivity``: the relative change of its width and height per unit
    of the lens coefficient (see :class:`objlen.measure.LensAllowance`), from
    its whole outline; None when no lens allowance applies. Not in the JSON.

    ``photo_edge_px``: how far (px) the photo puts the object's edges outside
    its mask's at the box sides that bound its width (through A, through B)
    and its height (through A, through E); 0 where the photo shows no clean
    step or was not given (:func:`objlen.edges.box_disagreement`). Kept with
    the result so that a remeasure keeps it in the interval for the points
    not moved. Not in the JSON.
    """

    A: np.ndarray
    B: np.ndarray
    E: np.ndarray
    width: Length
    height: Length
    area_px: int | None
    noise_px: float = 0.0
    moved: tuple[str, ...] = ()
    lens_sensitivity: tuple[float, float] | None = None
    photo_edge_px: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def sizes_text(self, unit: str, separator: str = "   ") -> str:
        """For people: ``"width 154.41 ± 1.09 mm   height 111.88 ± 0.83 mm"``."""
        return f"width {self.width.text(unit)}{separator}height {self.height.text(unit)}"

    @property
    def ab_px(self) -> float:
        return float(np.hypot(*(self.B - self.A)))

    @property
    def ae_px(self) -> float:
        return float(np.hypot(*(self.E - self.A)))


def _xy(point: np.ndarray | None) -> list[float] | None:
    return None if point is None else [round(float(point[0]), 3), round(float(point[1]), 3)]


@dataclass(frozen=True)
class Measurement:
    """A complete measurement, ready to show, save, or recompute from moved points.

    Attributes:
        image_size: ``(width, height)`` in pixels.
        options: the options it was measured with.
        reference, objects: see :class:`ReferenceResult`, :class:`ObjectResult`.
        fixed_warnings: warnings that moving points cannot change.
        warnings: all warnings, for the operator.
        notes: what the method assumes.
    """

    image_size: tuple[int, int]
    options: MeasureOptions
    reference: ReferenceResult
    objects: tuple[ObjectResult, ...]
    fixed_warnings: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        """Refuse a result whose numbers overflowed: every length, uncertainty
        and the scale must be finite (JSON has no NaN or Infinity)."""
        numbers = [("the scale", self.reference.scale)]
        for index, obj in enumerate(self.objects, start=1):
            numbers += [
                (f"object {index}'s width", obj.width.value),
                (f"object {index}'s width uncertainty", obj.width.uncertainty),
                (f"object {index}'s height", obj.height.value),
                (f"object {index}'s height uncertainty", obj.height.uncertainty),
            ]
        for what, value in numbers:
            if value is None or not math.isfinite(value):
                raise ParameterError(
                    f"{what} cannot be computed ({value!r}): the reference's size or the "
                    "scale is out of any sensible range; check it"
                )

    @property
    def method(self) -> str:
        return self.options.method

    @property
    def unit(self) -> str:
        return self.options.unit

    def to_dict(self) -> dict[str, Any]:
        """The schema-v1 JSON structure of ``shared/MEASUREMENT.md``."""
        reference = self.reference
        reference_dict: dict[str, Any] = {
            "kind": reference.kind,
            "C": _xy(reference.C),
            "D": _xy(reference.D),
            "pixels": None if reference.pixels is None else round(reference.pixels, 3),
            "real": reference.real,
            "located_on": reference.located_on,
            "moved": list(reference.moved),
            "boundary_noise_px": round(reference.noise_px, 3),
        }
        if reference.corners is not None:
            reference_dict["corners"] = [_xy(p) for p in reference.corners]
            reference_dict["size"] = list(reference.plane_size)
        if reference.fit_rms_px is not None:
            reference_dict["fit"] = {
                "rms_px": round(reference.fit_rms_px, 4),
                "corners_used": reference.fit_corners[0],
                "corners_found": reference.fit_corners[1],
                "corner_sigma_px": round(reference.corner_sigma_px, 4),
            }
        if reference.camera is not None:
            reference_dict["lens"] = {
                "source": reference.camera.source,
                "distortion": [round(float(v), 6) for v in reference.camera.distortion],
            }
        if reference.camera_distance is not None:
            reference_dict["camera_distance"] = round(reference.camera_distance, 3)
            reference_dict["object_height"] = reference.object_height
        return {
            "schema": SCHEMA,
            "image": {"width": self.image_size[0], "height": self.image_size[1]},
            "method": self.method,
            "orientation": self.options.orientation,
            "unit": self.unit,
            "reference": reference_dict,
            "scale": float(f"{reference.scale:.8g}"),
            "objects": [
                {
                    "points": {"A": _xy(o.A), "B": _xy(o.B), "E": _xy(o.E)},
                    "pixels": {"AB": round(o.ab_px, 3), "AE": round(o.ae_px, 3)},
                    "width": o.width.to_dict(),
                    "height": o.height.to_dict(),
                    "area_px": o.area_px,
                    "boundary_noise_px": round(o.noise_px, 3),
                    "moved": list(o.moved),
                }
                for o in self.objects
            ],
            "offset_N": self.options.offset,
            "uncertainty": {"level": 0.95, "point_px": self.options.point_sigma_px},
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict JSON: never NaN or Infinity)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)
