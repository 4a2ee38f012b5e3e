"""Connected regions of one class in a class-index mask.

A region is described by its outer outline: the centres of its boundary
pixels, in ``(x, y)`` order. Its extent in the contract's pixel-edge
convention is the set of the corners of those pixels' squares.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from objlen.classes import ClassIds
from objlen.errors import MaskError
from objlen.geometry import pixel_square_corners


@dataclass(frozen=True)
class Region:
    """One connected component (8-connectivity) of a class.

    Attributes:
        outline_px: ``(N, 2)`` int array, the outer boundary pixel centres,
            every vertex of the outline kept (straight runs compressed).
        area_px: number of pixels of the component (holes excluded).
        bbox: ``(x, y, width, height)`` of the pixel centres, OpenCV style.
    """

    outline_px: np.ndarray
    area_px: int
    bbox: tuple[int, int, int, int]

    def edge_points(self) -> np.ndarray:
        """Corners of the boundary pixels' squares: the region's pixel-edge extent."""
        hull = cv2.convexHull(self.outline_px.astype(np.int32)).reshape(-1, 2)
        return pixel_square_corners(hull)


def check_classes(mask: np.ndarray, classes: ClassIds) -> np.ndarray:
    """Pixel counts per class value; raise if the mask holds unknown values.

    Returns a length-256 array of counts.

    Raises:
        MaskError: a value that is not one of the configured class ids.
    """
    counts = np.bincount(mask.ravel(), minlength=256)
    unknown = sorted(set(np.flatnonzero(counts).tolist()) - classes.known)
    if unknown:
        shown = ", ".join(str(value) for value in unknown[:8])
        raise MaskError(
            f"the mask contains class values {shown} that are not configured "
            f"(background {classes.background}, object {classes.object}, "
            f"reference {classes.reference}, ignore {classes.ignore}); "
            "set the object and reference class ids to match the model's labels"
        )
    return counts


def _pixel_count(binary: np.ndarray, contour: np.ndarray) -> int:
    """Pixels of ``binary`` inside the outer ``contour`` (holes excluded)."""
    x, y, w, h = cv2.boundingRect(contour)
    crop = binary[y : y + h, x : x + w]
    filled = np.zeros_like(crop)
    cv2.drawContours(filled, [contour - np.array([x, y])], -1, 1, thickness=cv2.FILLED)
    return int(np.count_nonzero(crop & filled))


def class_regions(
    mask: np.ndarray, class_id: int, *, min_area_px: int = 1, limit: int | None = None
) -> list[Region]:
    """Connected regions of ``class_id``, largest first.

    Args:
        mask: ``(H, W)`` uint8 class indices.
        class_id: the class to extract.
        min_area_px: regions with fewer pixels are dropped (specks).
        limit: keep at most this many regions (the largest).
    """
    binary = (mask == class_id).view(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    # Pixel count of a region ~ polygon area of its centres + half its perimeter.
    approx = [cv2.contourArea(c) + cv2.arcLength(c, True) / 2 + 1 for c in contours]
    order = np.argsort(approx)[::-1]
    regions: list[Region] = []
    for index in order:
        if approx[index] < min_area_px / 2:
            break
        contour = contours[index]
        area = _pixel_count(binary, contour)
        if area < min_area_px:
            continue
        regions.append(
            Region(
                outline_px=contour.reshape(-1, 2),
                area_px=area,
                bbox=tuple(int(v) for v in cv2.boundingRect(contour)),
            )
        )
        if limit is not None and len(regions) >= limit:
            break
    regions.sort(key=lambda region: region.area_px, reverse=True)
    return regions


def dense_outline(mask: np.ndarray, class_id: int, region: Region, margin: int = 2) -> np.ndarray:
    """Every boundary pixel centre of ``region``, in order along the outline.

    Returns an ``(N, 2)`` int array (no straight runs compressed), for line fits.
    """
    x, y, w, h = region.bbox
    height, width = mask.shape
    x0, y0 = max(x - margin, 0), max(y - margin, 0)
    x1, y1 = min(x + w + margin, width), min(y + h + margin, height)
    crop = (mask[y0:y1, x0:x1] == class_id).view(np.uint8)
    contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    largest = max(contours, key=cv2.contourArea)
    return largest.reshape(-1, 2) + np.array([x0, y0])


#: Median residual of a clean, pixel-quantised outline from its smooth fit.
_QUANTISATION_RESIDUAL_PX = 0.3
#: Median of |x| for a standard normal x.
_MEDIAN_ABS_NORMAL = 0.6745


def _savitzky_golay_weights(half_window: int, order: int = 3) -> np.ndarray:
    offsets = np.arange(-half_window, half_window + 1)
    vandermonde = np.vander(offsets, order + 1, increasing=True)
    return np.linalg.pinv(vandermonde)[0]


def outline_noise_px(outline: np.ndarray, half_window: int = 50) -> float:
    """Estimated standard deviation of random displacement of a mask boundary.

    The closed ``outline`` (every boundary pixel, in order) is smoothed with a
    cubic Savitzky-Golay filter, which keeps the curvature of the shape; the
    median distance of the raw outline from the smooth one, less what pixel
    quantisation alone gives, measures how ragged the segmentation is. A clean
    mask gives 0; a boundary displaced by noise of standard deviation s gives
    about s.
    """
    points = np.asarray(outline, dtype=np.float64)
    # Sharp corners disturb about 2 half-windows of outline each; keep the four
    # corners of a rectangle to well under half of it, so the median ignores them.
    half_window = min(half_window, len(points) // 16)
    if half_window < 5:
        return 0.0
    weights = _savitzky_golay_weights(half_window)
    padded = np.concatenate([points[-half_window:], points, points[:half_window]])
    smooth = np.stack(
        [np.convolve(padded[:, axis], weights[::-1], mode="valid") for axis in (0, 1)], axis=1
    )
    median = float(np.median(np.linalg.norm(points - smooth, axis=1)))
    excess = max(median**2 - _QUANTISATION_RESIDUAL_PX**2, 0.0)
    return float(np.sqrt(excess) / _MEDIAN_ABS_NORMAL)
