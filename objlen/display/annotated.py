"""The annotated picture of a measured photo, as a batch saves it.

:func:`annotated_picture` computes the picture (no files): the photo shrunk
to a size limit, the mask tinted, every object's points and segments, the
reference, the numbers and a legend, drawn with :mod:`objlen.display.overlay`.
"""

from __future__ import annotations

import cv2
import numpy as np

from objlen.classes import ClassIds
from objlen.display import overlay
from objlen.result import Measurement


def _legend_lines(measurement: Measurement) -> list[str]:
    unit = measurement.unit
    several = len(measurement.objects) > 1
    lines = [
        f"{f'object {i}: ' if several else ''}{o.sizes_text(unit)}"
        for i, o in enumerate(measurement.objects, start=1)
    ]
    lines.append(f"{measurement.method} method, scale {measurement.reference.scale:.5g} {unit}/px")
    return lines


def _shrunk_for_display(
    image: np.ndarray, mask: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Shrink photo and mask by the largest whole factor that keeps them at
    least ``size`` (area averaging by whole blocks is OpenCV's fast path).
    Fewer than ``factor`` rows and columns are dropped at the right and
    bottom edges to make the blocks whole: for display only."""
    factor = min(image.shape[1] // size[0], image.shape[0] // size[1])
    if factor < 2:
        return image, mask
    height, width = image.shape[0] // factor, image.shape[1] // factor
    crop = (slice(0, height * factor), slice(0, width * factor))
    small = cv2.resize(image[crop], (width, height), interpolation=cv2.INTER_AREA)
    return small, mask[crop][factor // 2 :: factor, factor // 2 :: factor]


def annotated_picture(
    image: np.ndarray,
    mask: np.ndarray,
    measurement: Measurement,
    classes: ClassIds,
    max_side: int,
) -> np.ndarray:
    """The photo, shrunk so that its longer side is at most ``max_side``, with
    the mask tinted, every object's points and segments, the reference, the
    numbers and a legend (drawn with :mod:`objlen.display.overlay`)."""
    height, width = image.shape[:2]
    size = (width, height)
    if max(size) > max_side:
        size = overlay.display_size((width, height), (max_side, max_side))
    small, small_mask = _shrunk_for_display(image, mask, size)
    picture = overlay.display_base(small, small_mask, classes, 0.35, size)
    scale = max(max(size) / 1000.0, 1.0)
    corners = measurement.reference.corners
    for index in range(len(measurement.objects)):
        points = overlay.points_of(measurement, index)
        names = list(points)
        shown = overlay.to_display([points[n] for n in names], (width, height), size)
        picture = overlay.draw_annotations(
            picture,
            {n: tuple(p) for n, p in zip(names, shown, strict=True)},
            corners=None
            if corners is None or index
            else overlay.to_display(corners, (width, height), size),
            radius=4.0 * scale,
            line_width=max(1, round(2 * scale)),
            font_size=round(18 * scale),
        )
    items = overlay.legend_items(classes)
    return overlay.draw_legend(picture, _legend_lines(measurement), items, round(16 * scale))


__all__ = ["annotated_picture"]
