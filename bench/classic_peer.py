"""The classic peer: object size by Canny edges and contours, as PyImageSearch's
``object_size.py`` and the OpenCV tutorials do it.

Gray, Gaussian blur (7 x 7), Canny (50, 100), one dilation and one erosion,
external contours, contours under ``MIN_CONTOUR_AREA_PX`` dropped, a
``cv2.minAreaRect`` per contour; pixels per millimetre from the reference
contour's long side; each object's size is its rectangle's sides / ppm.

One departure, generous to the peer: PyImageSearch takes the left-most
contour as the reference; here it is the contour whose rectangle centre is
nearest the *truth* reference position (within ``radius_px``), so the peer
never picks the wrong reference. Coordinates are ``(x, y)`` pixels, sizes mm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from objlen.testing.realphotos import MeasuredBox, box

BLUR_KERNEL = (7, 7)
CANNY_LOW, CANNY_HIGH = 50, 100
MIN_CONTOUR_AREA_PX = 100.0  # PyImageSearch's "if cv2.contourArea(c) < 100: continue"


@dataclass(frozen=True)
class PeerResult:
    """The peer's objects (reference excluded) and the centre of its reference
    ``(x, y)``, or None (and no objects) when no contour lies near the truth one."""

    boxes: list[MeasuredBox]
    reference_px: tuple[float, float] | None


def classic_measure(
    image_rgb: np.ndarray,
    reference_px: Sequence[float],
    reference_mm: float,
    radius_px: float,
) -> PeerResult:
    """Measure every contour of ``image_rgb`` against the reference contour.

    Args:
        image_rgb: ``(H, W, 3)`` uint8 RGB photo.
        reference_px: the truth reference's approximate centre ``(x, y)``.
        reference_mm: the reference's real long side (a coin's diameter).
        radius_px: the reference contour's centre must lie this close.
    """
    gray = cv2.GaussianBlur(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY), BLUR_KERNEL, 0)
    edged = cv2.erode(cv2.dilate(cv2.Canny(gray, CANNY_LOW, CANNY_HIGH), None), None)
    contours, _ = cv2.findContours(edged, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rects = [cv2.minAreaRect(c) for c in contours if cv2.contourArea(c) >= MIN_CONTOUR_AREA_PX]
    if not rects:
        return PeerResult([], None)
    distances = [math.dist(centre, reference_px) for centre, _, _ in rects]
    ref_index = int(np.argmin(distances))
    if distances[ref_index] > radius_px:
        return PeerResult([], None)
    ref_centre, ref_sides, _ = rects.pop(ref_index)
    px_per_mm = max(ref_sides) / reference_mm
    boxes = [box(centre, (w / px_per_mm, h / px_per_mm)) for centre, (w, h), _ in rects]
    return PeerResult(boxes, (float(ref_centre[0]), float(ref_centre[1])))
