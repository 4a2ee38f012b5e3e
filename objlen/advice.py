"""What the operator is told about a measurement, in the operator's words.

Plain functions over masks and :class:`~objlen.result.Measurement` objects,
shared by the app, the command line and the batch:

* :func:`operator_warnings`: the warnings, one per problem (the width and
  height of one object that are both too uncertain make one warning);
* :func:`left_out_note`: how many regions a measurement did not measure, and why;
* :func:`choose_orientation`: whether the object boxes should follow the
  objects' rotation (``auto``) or stay upright, and why;
* :func:`check_photo_size`: a photo too small to measure, said plainly.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from objlen.errors import ImageReadError
from objlen.measure import measure, uncertainty_cause
from objlen.options import MeasureOptions
from objlen.regions import ClassMap
from objlen.result import Measurement

#: The smallest photo side objlen can segment and measure.
MIN_PHOTO_SIDE_PX = 16
#: An object whose rotated box is this much smaller than its upright box is
#: clearly turned: its upright box measures the corners, not the object.
ROTATED_AREA_RATIO = 0.92
#: ... and it must be turned by at least this many degrees.
ROTATED_MIN_DEG = 3.0

_UNCERTAINTY = re.compile(r"^(the object|object \d+): (width|height) uncertainty ")


def check_photo_size(image: np.ndarray) -> None:
    """Raise when the photo is too small to segment or measure.

    Raises:
        ImageReadError: a side shorter than :data:`MIN_PHOTO_SIDE_PX`, or not
            an image array.
    """
    if image.ndim not in (2, 3):
        raise ImageReadError("this is not a photo: it has no rows and columns of pixels")
    height, width = image.shape[:2]
    if min(height, width) < MIN_PHOTO_SIDE_PX:
        raise ImageReadError(
            f"the photo is only {width} × {height} pixels: objlen needs at least "
            f"{MIN_PHOTO_SIDE_PX} × {MIN_PHOTO_SIDE_PX} (a photo of the object beside its "
            "reference, at the camera's full size)"
        )


def _object_name(measurement: Measurement, index: int) -> str:
    return "the object" if len(measurement.objects) == 1 else f"object {index + 1}"


def _two_digits(value: float) -> str:
    """``value`` to two significant digits, written without an exponent
    (``110``, ``4.9``, ``0.0012``; ``.2g`` wrote ``1.1e+02``)."""
    rounded = float(f"{value:.2g}")
    return f"{rounded:.0f}" if abs(rounded) >= 10 else np.format_float_positional(rounded, trim="-")


def uncertainty_warnings(measurement: Measurement) -> list[str]:
    """One warning for every object whose width or height (or both) is more
    uncertain than ``options.warn_relative``: which objects, and how much.

    >>> from objlen import MeasureOptions, ReferenceSpec, measure
    >>> mask = np.zeros((200, 200), np.uint8); mask[10:14, 10:60] = 2
    >>> mask[100:110, 100:120] = 1
    >>> options = MeasureOptions(reference=ReferenceSpec(length=50))
    >>> text = uncertainty_warnings(measure(mask, options))[0]
    >>> text.startswith("the object: width ±"), " and height ±" in text
    (True, True)
    """
    options = measurement.options
    unit = measurement.unit
    loose = []
    for index, obj in enumerate(measurement.objects):
        lengths = [
            (label, length)
            for label, length in (("width", obj.width), ("height", obj.height))
            if length.relative > options.warn_relative
        ]
        if lengths:
            loose.append((index, lengths))
    if not loose:
        return []
    advice = (
        f"more uncertain than {options.warn_relative:.0%}: "
        f"{uncertainty_cause(measurement.reference)}"
    )
    if len(loose) == 1:
        index, lengths = loose[0]
        parts = [
            f"{label} ±{_two_digits(length.uncertainty)} {unit} ({length.relative:.1%})"
            for label, length in lengths
        ]
        verb = "is" if len(parts) == 1 else "are"
        return [f"{_object_name(measurement, index)}: {' and '.join(parts)} {verb} {advice}"]
    shares = [length.relative for _, lengths in loose for _, length in lengths]
    names = ", ".join(str(index + 1) for index, _ in loose)
    low, high = f"{min(shares):.1%}", f"{max(shares):.1%}"
    spread = low if low == high else f"{low} to {high}"
    return [f"objects {names}: lengths ±{spread}, {advice}"]


def operator_warnings(measurement: Measurement) -> list[str]:
    """The measurement's warnings, one per problem: the per-length uncertainty
    warnings of :func:`objlen.measure` are replaced by one per object
    (:func:`uncertainty_warnings`); repeated warnings are given once."""
    others = [w for w in measurement.warnings if not _UNCERTAINTY.match(w)]
    return list(dict.fromkeys([*others, *uncertainty_warnings(measurement)]))


def left_out_note(
    mask: np.ndarray, measurement: Measurement, class_map: ClassMap | None = None
) -> str | None:
    """How many regions of the object class were found but not measured, and
    why (only the largest was asked for; specks), plus regions the operator
    left out (the ``ignore`` class); ``None`` when every region was measured.

    ``class_map``: ``mask`` already indexed (the one given to
    :func:`objlen.measure`), made here when ``None`` or of another mask."""
    options = measurement.options
    classes = options.classes
    if class_map is None or class_map.mask is not mask or class_map.classes != classes:
        class_map = ClassMap(mask, classes)
    regions = class_map.regions(classes.object)
    specks = sum(1 for r in regions if r.area_px < options.min_object_area_px)
    unmeasured = len(regions) - specks - len(measurement.objects)
    excluded = len(class_map.regions(classes.ignore)) if classes.ignore != classes.object else 0
    parts = []
    if unmeasured > 0:
        parts.append(
            f"{unmeasured} more region{'s were' if unmeasured > 1 else ' was'} found and not "
            "measured: only the largest object was asked for (measure every object to see them)"
        )
    if specks:
        parts.append(
            f"{specks} speck{'s' if specks > 1 else ''} smaller than "
            f"{options.min_object_area_px} px {'were' if specks > 1 else 'was'} left out"
        )
    if excluded:
        parts.append(f"{excluded} region{'s' if excluded > 1 else ''} left out by you")
    return "; ".join(parts) if parts else None


@dataclass(frozen=True)
class OrientationChoice:
    """Which object box to use, and why, for the operator.

    Attributes:
        orientation: ``"upright"`` or ``"auto"``.
        reason: a sentence for the operator.
        turned: per object (in the measurement's order), its turn in degrees
            (-45..45) when it is clearly turned, else ``None``.
    """

    orientation: str
    reason: str
    turned: tuple[float | None, ...] = ()


def _box_area(measurement: Measurement, index: int) -> float:
    obj = measurement.objects[index]
    return obj.ab_px * obj.ae_px


def _turn_deg(measurement: Measurement, index: int) -> float:
    obj = measurement.objects[index]
    dx, dy = obj.B - obj.A
    angle = math.degrees(math.atan2(dy, dx))
    return (angle + 45.0) % 90.0 - 45.0


def choose_orientation(
    mask: np.ndarray, options: MeasureOptions, image: np.ndarray | None = None
) -> OrientationChoice:
    """Decide between the upright and the rotated (``auto``) object box.

    Both are measured; an object is *clearly turned* when its rotated box is
    turned by at least :data:`ROTATED_MIN_DEG` and is smaller than
    :data:`ROTATED_AREA_RATIO` times its upright box (a disc's boxes are the
    same size whatever its turn, so a disc never counts). Any clearly turned
    object makes the boxes follow the rotation.

    Raises:
        ObjlenError: what :func:`objlen.measure` raises.
    """
    upright = measure(mask, replace(options, orientation="upright"), image=image)
    rotated = measure(mask, replace(options, orientation="auto"), image=image)
    turned: list[float | None] = []
    slightly: list[str] = []
    for index in range(min(len(upright.objects), len(rotated.objects))):
        ratio = _box_area(rotated, index) / max(_box_area(upright, index), 1e-9)
        angle = _turn_deg(rotated, index)
        clear = ratio < ROTATED_AREA_RATIO and abs(angle) >= ROTATED_MIN_DEG
        turned.append(angle if clear else None)
        if not clear and abs(angle) >= ROTATED_MIN_DEG and ratio < 0.995:
            slightly.append(f"{_object_name(rotated, index)} is turned {abs(angle):.0f}°")
    clear_ones = [
        f"{_object_name(rotated, i)} is turned {abs(a):.0f}°"
        for i, a in enumerate(turned)
        if a is not None
    ]
    if clear_ones:
        return OrientationChoice(
            "auto",
            "the boxes follow the objects' rotation: " + ", ".join(clear_ones),
            tuple(turned),
        )
    why = "no object is clearly turned"
    if slightly:
        why += " (" + ", ".join(slightly) + ", too little to change its box much)"
    return OrientationChoice("upright", "the boxes are upright: " + why, tuple(turned))


__all__ = [
    "MIN_PHOTO_SIDE_PX",
    "ROTATED_AREA_RATIO",
    "ROTATED_MIN_DEG",
    "OrientationChoice",
    "check_photo_size",
    "choose_orientation",
    "left_out_note",
    "operator_warnings",
    "uncertainty_warnings",
]
