"""A segmenter that returns a mask the operator supplies as a PNG file.

Useful when the mask was drawn or corrected by hand, or produced elsewhere:
the measurement then runs on exactly that mask.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from objlen.classes import ClassIds
from objlen.errors import ImageReadError, MaskError, SegmentationError
from objlen.imageio import load_mask
from objlen.segment.base import Segmentation


def unknown_class_ids(mask: np.ndarray, classes: ClassIds) -> list[int]:
    """The values of a uint8 ``mask`` that are none of ``classes``, sorted."""
    if not mask.size or set(classes.known).issuperset(range(int(mask.max()) + 1)):
        return []  # every value up to the largest is a class id: one fast pass
    table = np.ones(256, np.uint8)
    table[sorted(classes.known)] = 0
    flags = cv2.LUT(np.ascontiguousarray(mask), table)  # fast even at 12 megapixels
    if not cv2.countNonZero(flags):
        return []
    return np.unique(mask[flags > 0]).tolist()


class MaskFileSegmenter:
    """Return the user-supplied mask PNG, at the photo's size.

    Args:
        path_or_bytes: path to the mask file, or its bytes.
        classes: class ids the mask may contain.

    The file is read on every call to :meth:`segment`, so a corrected file is
    picked up; a mask of another size than the photo is resized with
    nearest-neighbour and a warning says so.
    """

    name = "file"

    def __init__(
        self,
        path_or_bytes: str | Path | bytes,
        classes: ClassIds = ClassIds(),  # noqa: B008 - frozen, immutable default
    ) -> None:
        self.source = path_or_bytes
        self.classes = classes

    def segment(self, image_rgb: np.ndarray) -> Segmentation:
        """The mask, ``(H, W)`` uint8 at the size of ``image_rgb``.

        Raises:
            SegmentationError: the file is missing, not a single-channel image,
                or holds class ids other than those of ``classes``.
        """
        start = time.perf_counter()
        height, width = image_rgb.shape[:2]
        label = str(self.source) if isinstance(self.source, str | Path) else "mask file"
        try:
            mask, notes = load_mask(self.source, (width, height), name=label)
        except (ImageReadError, MaskError) as exc:
            raise SegmentationError(str(exc)) from exc
        unknown = unknown_class_ids(mask, self.classes)
        if unknown:
            raise SegmentationError(
                f"{label}: the mask holds class ids {unknown[:8]}; allowed are "
                f"{sorted(self.classes.known)} (background, object, reference, ignore)"
            )
        return Segmentation(
            mask=mask,
            backend=self.name,
            warnings=tuple(notes),
            seconds=time.perf_counter() - start,
        )


__all__ = ["MaskFileSegmenter", "unknown_class_ids"]
