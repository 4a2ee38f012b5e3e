"""What the operator tells objlen about a measurement."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from objlen.camera import CameraProfile
from objlen.classes import ClassIds
from objlen.errors import ParameterError
from objlen.units import check_unit

METHODS = ("proportional", "homography")
ORIENTATIONS = ("upright", "auto")

Method = Literal["proportional", "homography"]
Orientation = Literal["upright", "auto"]


#: The range of every positive quantity an operator gives (a length in the
#: unit, a scale in units per pixel, an uncertainty): outside it a number is a
#: slip or an attack (1e-320, 1e308), and the results would be zero or overflow.
POSITIVE_RANGE = (1e-9, 1e9)


def _positive(value: float | None, what: str) -> None:
    """Raise :class:`ParameterError` unless ``value`` is None or in :data:`POSITIVE_RANGE`."""
    low, high = POSITIVE_RANGE
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise ParameterError(f"{what} must be a positive, finite number; got {value!r}")
    if value is not None and not low <= value <= high:
        raise ParameterError(f"{what} must be between {low:g} and {high:g}; got {value!r}")


@dataclass(frozen=True)
class ReferenceSpec:
    """The reference's real size, in the measurement's unit. Give one of:

    * ``length``: the real length of CD (the reference's long axis; a coin's
      diameter, a card's long side) — for the proportional method;
    * ``size``: ``(width, height)`` of a rectangular reference (any order) —
      for either method;
    * ``aruco_dictionary`` and ``marker_size``: an ArUco marker's black square;
    * ``scale``: real units per pixel, known beforehand (no reference needed);
    * ``board``: a ChArUco board found in the photo, as ``--board`` names it
      (``mat``, ``mat:A4``, ``charuco:COLSxROWS:SQUARE:MARKER:DICT``; see
      :func:`objlen.board.parse_board`) — for either method.
    """

    length: float | None = None
    size: tuple[float, float] | None = None
    aruco_dictionary: str | None = None
    marker_size: float | None = None
    scale: float | None = None
    board: str | None = None

    def validated(self, method: str) -> ReferenceSpec:
        """Return self, or raise :class:`ParameterError` saying what is missing."""
        _positive(self.length, "the reference length")
        _positive(self.marker_size, "the marker size")
        _positive(self.scale, "the scale")
        if self.size is not None:
            if len(self.size) != 2:
                raise ParameterError("the reference size is two lengths: width x height")
            for side in self.size:
                _positive(side, "each side of the reference size")
        if (self.aruco_dictionary is None) != (self.marker_size is None):
            raise ParameterError("an ArUco reference needs both its dictionary and its marker size")
        given = [
            self.length is not None,
            self.size is not None,
            self.aruco_dictionary is not None,
            self.scale is not None,
            self.board is not None,
        ]
        if sum(given) != 1:
            raise ParameterError(
                "say what the reference is, once: its length, its width x height, an "
                "ArUco marker with its size, a ChArUco board, or the scale"
            )
        if self.board is not None:
            from objlen.board import parse_board

            parse_board(self.board)
        if method == "homography" and (self.length is not None or self.scale is not None):
            raise ParameterError(
                "the homography method needs a rectangular reference of known width x "
                "height or an ArUco marker, not a single length"
            )
        return self


@dataclass(frozen=True)
class MeasureOptions:
    """Everything :func:`objlen.measure` needs besides the mask and photo.

    Lengths (reference, offset) are in ``unit``; results come out in ``unit``.

    Attributes:
        point_sigma_px: standard uncertainty of each point coordinate, pixels
            (half a pixel for a point taken from a mask).
        edge_sigma_px: standard uncertainty of where a mask's edge sits,
            pixels: a segmentation model's mask edge lies up to about +-1 px
            off the true edge all the way round (a uniform +-1 px: 0.58 px).
        lens_corner_shift: the uncorrected lens distortion allowed for: a
            radial distortion that moves the image's corner by up to this share
            of its distance from the centre (0.035: OpenCV's k1 = +-0.1 for a
            lens of about 26 mm equivalent focal length); 0 when the photo's
            points are undistorted with a camera profile.
        warn_relative: relative 95 % uncertainty above which a warning is given.
        min_reference_px: a reference axis shorter than this is an error.
        min_object_area_px: object components smaller than this are ignored.
        camera: a lens profile (:class:`objlen.camera.CameraProfile`): the
            object's and the reference's points are undistorted with it
            before measuring, and a rectangular or ArUco reference then gives
            the plane's pose. None: no profile.
        object_height: height of the measured face above the reference's
            plane, in ``unit`` (homography method, with a known pose): the
            object's top face is measured in its own plane. None: in the
            reference's plane.
    """

    reference: ReferenceSpec = field(default_factory=ReferenceSpec)
    method: Method = "proportional"
    orientation: Orientation = "upright"
    unit: str = "mm"
    offset: float = 0.0
    classes: ClassIds = field(default_factory=ClassIds)
    all_objects: bool = False
    point_sigma_px: float = 0.5
    edge_sigma_px: float = 0.58
    lens_corner_shift: float = 0.035
    warn_relative: float = 0.02
    min_reference_px: float = 10.0
    min_object_area_px: int = 64
    camera: CameraProfile | None = None
    object_height: float | None = None

    def validated(self) -> MeasureOptions:
        """Return self if consistent, else raise :class:`ParameterError`."""
        if self.method not in METHODS:
            raise ParameterError(f"unknown method {self.method!r}; use {' or '.join(METHODS)}")
        if self.orientation not in ORIENTATIONS:
            raise ParameterError(
                f"unknown orientation {self.orientation!r}; use {' or '.join(ORIENTATIONS)}"
            )
        check_unit(self.unit)
        if not math.isfinite(self.offset) or self.offset < 0:
            raise ParameterError(f"the offset N must be zero or positive; got {self.offset!r}")
        _positive(self.point_sigma_px, "the point uncertainty")
        if not (math.isfinite(self.lens_corner_shift) and 0 <= self.lens_corner_shift < 0.5):
            raise ParameterError(
                "the lens allowance must be a share of the corner's distance in [0, 0.5); "
                f"got {self.lens_corner_shift!r}"
            )
        if not math.isfinite(self.edge_sigma_px) or self.edge_sigma_px < 0:
            raise ParameterError(
                f"the mask edge uncertainty must be zero or positive; got {self.edge_sigma_px!r}"
            )
        _positive(self.warn_relative, "the warning threshold")
        if self.object_height is not None and not (
            math.isfinite(self.object_height) and self.object_height >= 0
        ):
            raise ParameterError(
                f"the object height must be zero or positive; got {self.object_height!r}"
            )
        if self.object_height is not None and self.method != "homography":
            raise ParameterError(
                "--object-height needs the homography method (the plane's pose comes from "
                "the reference's corners)"
            )
        self.reference.validated(self.method)
        return self
