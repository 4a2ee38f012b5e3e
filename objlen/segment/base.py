"""The one interface every segmenter implements.

A segmenter turns an RGB image into a class-index mask of the image's own
size. Class ids follow :class:`objlen.classes.ClassIds` (default 0 background,
1 object, 2 reference, 255 ignore).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Segmentation:
    """What a segmenter returns.

    Attributes:
        mask: ``(H, W)`` uint8 array of class indices, the input image's size.
        confidence: optional ``(H, W)`` float32 array in [0, 1], the
            probability of the chosen class per pixel, where the backend gives it.
        backend: short name of the backend that produced it (``"local"``...).
        warnings: plain-language remarks for the operator about doubtful results.
        notes: plain-language information (e.g. which region is the reference).
        seconds: wall time the backend took, for display.
    """

    mask: np.ndarray
    confidence: np.ndarray | None = None
    backend: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0


class Segmenter(Protocol):
    """Anything with a ``segment`` method of this shape is a segmenter.

    A backend that can use the photo's file bytes (e.g. to send a camera's
    JPEG unchanged) says so with a class attribute ``uses_source_bytes = True``
    and accepts ``segment(image_rgb, source_bytes=...)``; callers go through
    :func:`segment_photo`, so that every other segmenter keeps this one-argument
    interface.
    """

    name: str

    def segment(self, image_rgb: np.ndarray) -> Segmentation:
        """Segment an ``(H, W, 3)`` uint8 RGB image.

        Raises:
            objlen.errors.SegmentationError: with a message for the operator.
        """
        ...


def segment_photo(
    segmenter: Segmenter, image_rgb: np.ndarray, *, source_bytes: bytes | None = None
) -> Segmentation:
    """Segment ``image_rgb`` with ``segmenter``, giving it the photo's file bytes if it uses them.

    Args:
        segmenter: any :class:`Segmenter`.
        image_rgb: ``(H, W, 3)`` uint8 RGB photo, EXIF orientation applied.
        source_bytes: the bytes of the file ``image_rgb`` was decoded from
            with :func:`objlen.imageio.load_image`, or ``None``. Passed on as
            ``segment(image_rgb, source_bytes=...)`` only to a segmenter with
            ``uses_source_bytes = True``; ignored for the others.

    Raises:
        objlen.errors.SegmentationError: the segmenter's, with a message for
            the operator.
    """
    if source_bytes is not None and getattr(segmenter, "uses_source_bytes", False):
        return segmenter.segment(image_rgb, source_bytes=source_bytes)  # type: ignore[call-arg]
    return segmenter.segment(image_rgb)
