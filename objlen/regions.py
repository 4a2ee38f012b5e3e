"""Connected regions of one class in a class-index mask.

A region is described by its outer outline: the centres of its boundary
pixels, in ``(x, y)`` order. Its extent in the contract's pixel-edge
convention is the set of the corners of those pixels' squares.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from objlen.classes import ClassIds
from objlen.errors import MaskError
from objlen.geometry import pixel_square_corners
from objlen.robust import median


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
        """Corners of the boundary pixels' squares: the region's pixel-edge extent
        (those of its convex hull's pixels; computed once, read-only)."""
        return self._edge_points

    @functools.cached_property
    def _edge_points(self) -> np.ndarray:
        hull = cv2.convexHull(self.outline_px.astype(np.int32)).reshape(-1, 2)
        corners = pixel_square_corners(hull)
        corners.flags.writeable = False
        return corners


#: Above this many separate foreground blobs, scanning the whole mask per
#: class is cheaper than visiting each blob's window.
MAX_WINDOWS = 64

Window = tuple[int, int, int, int]


class ClassMap:
    """A class-index mask, indexed once for fast per-class queries.

    One ``cv2.findContours`` pass over the non-background pixels gives the
    windows (bounding boxes of the outer blobs) that hold every pixel that is
    not background; later work (the class check, the regions of each class)
    looks only inside them, and only at the pixels of the window's own blob:
    where blobs' boxes overlap, a neighbour's cut-off corner is not a region.
    Every pixel outside the windows is background.
    """

    def __init__(self, mask: np.ndarray, classes: ClassIds) -> None:
        self.mask = mask
        self.classes = classes
        self._blobs = self._foreground_blobs()
        self.windows = [window for window, _ in self._blobs]

    def _foreground_blobs(self) -> list[tuple[Window, np.ndarray | None]]:
        """Each outer blob's window and outer contour (``None``: the whole mask)."""
        height, width = self.mask.shape
        whole: list[tuple[Window, np.ndarray | None]] = [((0, 0, width, height), None)]
        if self.classes.background != 0:
            return whole
        contours, _ = cv2.findContours(self.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if len(contours) > MAX_WINDOWS:
            return whole
        return [(tuple(int(v) for v in cv2.boundingRect(c)), c) for c in contours]

    @functools.cached_property
    def _crop_list(self) -> list[_Crop]:
        """One :class:`_Crop` per blob: the window, with other blobs' pixels
        set to 0 (where another blob's window overlaps it), and what values it
        holds.

        Made once, on first use, for every later query (the class check and
        the regions of each class).
        """
        known = set(self.classes.known)
        plain = 0  # 0..plain are all class ids
        while plain + 1 in known:
            plain += 1
        crops = []
        boxes = np.array([window for window, _ in self._blobs]).reshape(-1, 4)
        for index, ((x, y, w, h), contour) in enumerate(self._blobs):
            crop = self.mask[y : y + h, x : x + w]
            if contour is not None and _overlaps_another(boxes, index):
                own = np.zeros((h, w), np.uint8)
                cv2.drawContours(own, [contour - np.array([x, y])], -1, 1, thickness=cv2.FILLED)
                crop = cv2.bitwise_and(crop, crop, mask=own)
            largest = int(cv2.minMaxLoc(crop)[1])
            single = count = None
            if contour is not None:  # a blob: are all its (non-zero) values its largest?
                # Each is at least 1 and at most the largest: they sum to the
                # largest times their count only when every one is the largest.
                count = cv2.countNonZero(crop)
                if largest == 1 or cv2.sumElems(crop)[0] == largest * count:
                    single = largest
            counts = None
            if single is None and (0 not in known or largest > plain):
                counts = cv2.calcHist([crop], [0], None, [256], [0, 256]).ravel()
            crops.append(_Crop((x, y), crop, counts, contour, single, count))
        return crops

    def _crops(self, value: int | None = None) -> Iterator[_Crop]:
        """The blobs' crops (when ``value`` is given, not those known to hold
        none of it)."""
        for crop in self._crop_list:
            if value is None or crop.holds(value):
                yield crop

    def unknown_values(self) -> list[int]:
        """Values in the mask that are not configured class ids, sorted."""
        is_unknown = np.ones(256, bool)
        is_unknown[list(self.classes.known)] = False
        unknown: set[int] = set()
        for crop in self._crop_list:
            if crop.single is not None and is_unknown[crop.single]:
                unknown.add(crop.single)
            elif crop.counts is not None:
                unknown.update(np.flatnonzero((crop.counts > 0) & is_unknown).tolist())
        return sorted(unknown)

    def check(self) -> None:
        """Raise if the mask holds a value that is not a configured class id.

        Raises:
            MaskError: with the unknown values and how to fix it.
        """
        unknown = self.unknown_values()
        if unknown:
            classes = self.classes
            shown = ", ".join(str(value) for value in unknown[:8])
            raise MaskError(
                f"the mask contains class values {shown} that are not configured "
                f"(background {classes.background}, object {classes.object}, "
                f"reference {classes.reference}, ignore {classes.ignore}); "
                "set the object and reference class ids to match the model's labels"
            )

    def regions(
        self, class_id: int, *, min_area_px: int = 1, limit: int | None = None
    ) -> list[Region]:
        """Connected regions (8-connected) of ``class_id``, largest first.

        Args:
            class_id: the class to extract.
            min_area_px: regions with fewer pixels are dropped (specks).
            limit: keep at most this many regions (the largest).
        """
        found: dict[tuple, Region] = {}
        for crop in self._crops(class_id):
            if crop.single is not None:  # the blob itself is the region
                in_crop = _blob_region(crop, min_area_px)
            else:
                in_crop = _regions_in(crop.pixels, class_id, crop.offset, min_area_px)
            for region in in_crop:
                found.setdefault((region.bbox, region.area_px), region)
        regions = sorted(found.values(), key=lambda region: region.area_px, reverse=True)
        return regions if limit is None else regions[:limit]


@dataclass(frozen=True)
class _Crop:
    """One blob's window of a :class:`ClassMap`.

    Attributes:
        offset: ``(x, y)`` of the window in the mask.
        pixels: the window's values, other blobs' pixels set to 0.
        counts: how many pixels of each value 0..255 it holds; ``None`` when
            ``single`` or its largest value says that every value is a class
            id (0, 1, 2: the usual mask).
        contour: the blob's outer contour in mask coordinates (``None``: the
            window is the whole mask).
        single: the blob's one value when all its pixels have it (the usual
            case: an object or a reference alone), else ``None``.
        count: the window's non-zero pixels (``None`` for the whole mask).
    """

    offset: tuple[int, int]
    pixels: np.ndarray
    counts: np.ndarray | None
    contour: np.ndarray | None
    single: int | None
    count: int | None

    def holds(self, value: int) -> bool:
        """Whether the window may hold pixels of ``value``."""
        if self.single is not None:
            return self.single == value
        return self.counts is None or self.counts[value] > 0


def _blob_region(crop: _Crop, min_area_px: int) -> list[Region]:
    """The region of a blob of one value: its outer contour, found by the
    :class:`ClassMap`'s pass over the whole mask, is the region's, and every
    non-zero pixel of its window is the region's or in one of its holes
    (:func:`_regions_in` gives the same, with a pass of its own)."""
    contour = crop.contour
    if cv2.contourArea(contour) + cv2.arcLength(contour, True) / 2 + 1 < min_area_px / 2:
        return []
    area = crop.count
    if area < min_area_px:
        return []
    height, width = crop.pixels.shape
    return [
        Region(
            outline_px=contour.reshape(-1, 2).astype(np.int64),
            area_px=area,
            bbox=(crop.offset[0], crop.offset[1], width, height),
        )
    ]


def _regions_in(
    crop: np.ndarray, class_id: int, offset: tuple[int, int], min_area_px: int
) -> list[Region]:
    binary = (crop == class_id).view(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = np.array([cv2.boundingRect(c) for c in contours]).reshape(-1, 4)
    regions = []
    for index, contour in enumerate(contours):
        # Pixel count ~ polygon area of the centres + half the perimeter + 1.
        if cv2.contourArea(contour) + cv2.arcLength(contour, True) / 2 + 1 < min_area_px / 2:
            continue
        x, y, w, h = (int(v) for v in boxes[index])
        if _overlaps_another(boxes, index):
            area = _pixel_count(binary, contour)
        else:  # alone in its box: every pixel of the class there is inside it
            area = cv2.countNonZero(binary[y : y + h, x : x + w])
        if area < min_area_px:
            continue
        regions.append(
            Region(
                outline_px=contour.reshape(-1, 2) + np.asarray(offset),
                area_px=area,
                bbox=(x + offset[0], y + offset[1], w, h),
            )
        )
    return regions


def _overlaps_another(boxes: np.ndarray, index: int) -> bool:
    """Whether box ``index`` of ``(x, y, w, h)`` boxes intersects any other."""
    x, y, w, h = boxes[index]
    others = np.delete(boxes, index, axis=0)
    return bool(
        np.any(
            (others[:, 0] < x + w)
            & (x < others[:, 0] + others[:, 2])
            & (others[:, 1] < y + h)
            & (y < others[:, 1] + others[:, 3])
        )
    )


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
    """Connected regions of ``class_id`` in ``mask``, largest first (see
    :meth:`ClassMap.regions`)."""
    return ClassMap(mask, ClassIds()).regions(class_id, min_area_px=min_area_px, limit=limit)


def dense_outline(region: Region) -> np.ndarray:
    """Every boundary pixel centre of ``region``, in order along the outline.

    OpenCV's simple chain keeps only the ends of straight runs (horizontal,
    vertical or diagonal); the pixels between them are put back exactly.

    Returns:
        An ``(N, 2)`` int array, for line fits and roughness estimates.
    """
    vertices = region.outline_px.astype(np.int64)
    if len(vertices) < 2:
        return vertices
    steps = np.roll(vertices, -1, axis=0) - vertices
    lengths = np.abs(steps).max(axis=1)
    keep = lengths > 0
    if not keep.all():
        vertices, steps, lengths = vertices[keep], steps[keep], lengths[keep]
    if len(vertices) == 0:  # one pixel, listed more than once
        return vertices
    # Every pixel is the one before plus a unit step (exact integers).
    moves = np.repeat(steps // lengths[:, None], lengths, axis=0)
    dense = np.empty_like(moves)
    dense[0] = vertices[0]
    np.cumsum(moves[:-1], axis=0, out=dense[1:])
    dense[1:] += vertices[0]
    return dense


#: What a clean, pixel-quantised outline leaves after the filters below.
_QUANTISATION_RESIDUAL_PX = 0.1
#: Median of |x| for a standard normal x.
_MEDIAN_ABS_NORMAL = 0.6745
#: The pixel staircase is smoothed away at this scale (outline samples) first.
_STAIRCASE_SIGMA = 3.0


@functools.cache
def _staircase_weights() -> np.ndarray:
    """The Gaussian (``_STAIRCASE_SIGMA``) that smooths the pixel staircase away."""
    reach = int(3 * _STAIRCASE_SIGMA)
    gaussian = np.exp(-0.5 * (np.arange(-reach, reach + 1) / _STAIRCASE_SIGMA) ** 2)
    weights = gaussian / gaussian.sum()
    weights.flags.writeable = False
    return weights


@functools.lru_cache(maxsize=64)
def _savitzky_golay_weights(half_window: int, order: int = 3) -> np.ndarray:
    offsets = np.arange(-half_window, half_window + 1)
    vandermonde = np.vander(offsets, order + 1, increasing=True)
    weights = np.linalg.pinv(vandermonde)[0]
    weights.flags.writeable = False
    return weights


def _circular_filter(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Filter a closed ``(N, 2)`` outline with symmetric ``weights``."""
    half = len(weights) // 2
    padded = np.concatenate([points[-half:], points, points[:half]])
    return np.stack(
        [np.convolve(padded[:, axis], weights[::-1], mode="valid") for axis in (0, 1)], axis=1
    )


def outline_noise_px(outline: np.ndarray, half_window: int = 50) -> float:
    """Estimated standard deviation of random displacement of a mask boundary.

    The closed ``outline`` (every boundary pixel, in order) is first smoothed
    lightly, which removes the pixel staircase, then compared with a cubic
    Savitzky-Golay fit over a long window, which keeps the shape's curvature
    but not the ragged detail a segmentation adds. The median distance across
    the fit measures that raggedness: about 0 for a clean mask, about s for a
    boundary displaced by noise of standard deviation s.
    """
    points = np.asarray(outline, dtype=np.float64)
    # Sharp corners disturb about 2 half-windows of outline each; keep the four
    # corners of a rectangle to well under half of it, so the median ignores them.
    half_window = min(half_window, len(points) // 16)
    if half_window < 5:
        return 0.0
    points = _circular_filter(points, _staircase_weights())
    smooth = _circular_filter(points, _savitzky_golay_weights(half_window))
    tangent = np.empty_like(smooth)  # the next point less the previous, around the loop
    np.subtract(smooth[2:], smooth[:-2], out=tangent[1:-1])
    tangent[0] = smooth[1] - smooth[-1]
    tangent[-1] = smooth[0] - smooth[-2]
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-12)
    offset = points - smooth
    across = np.abs(tangent[:, 0] * offset[:, 1] - tangent[:, 1] * offset[:, 0])
    spread = float(median(across)) / _MEDIAN_ABS_NORMAL
    return float(np.sqrt(max(spread**2 - _QUANTISATION_RESIDUAL_PX**2, 0.0)))
