"""The embedded local segmenter: classical computer vision, no model weights.

It serves the common measuring set-up: objects lying on a plain background
that contrasts with them, photographed under uneven light, with a reference
of known size (a card, a coin, an ArUco marker) among them.

How :meth:`LocalSegmenter.segment` works:

1. The photo is shrunk to about ``working_pixels`` pixels (not enlarged: a
   small photo is worked on at its own size).
2. **Background model.** The background's colour under the scene's light is
   modelled as a smooth surface: per RGB channel, a low-order polynomial in
   ``(x, y)`` fitted to ``log`` intensity, first on the image border, then on
   every pixel that looks like background. Dividing the photo by it removes
   the uneven light (a multiplicative effect). The first two fits are made
   on a coarse copy (``_COARSE_SHARE`` times fewer pixels), the last one on
   the working image.
3. **Classification.** In the illumination-corrected photo each pixel's CIE
   Lab distance from the background colour is thresholded with hysteresis
   (the low threshold only extends the high one by a couple of pixels); the
   thresholds come from the background's own noise (median and MAD, on a
   grid of samples), so a white card on a light-grey table and a light
   object on a dark cloth both work. Morphology cleans the result and holes
   are filled. Components that are small, or whose mean distance is below
   the high threshold (blotches of the table's texture), are dropped: what
   remains are the components. This is done only inside the regions of
   interest — where the coarse copy differs from the background, with a
   margin wider than any step reaches — so that the cost follows the
   objects' size, not the photo's.
4. **Reference.** An ArUco marker of the configured dictionary, when one is
   detected, is the reference (its black square's outer corners, located at
   full resolution), and the small component that carries it (its paper) is
   not an object. Otherwise the component chosen by ``reference_rule`` is
   the reference, among those not cut by the photo's edge when there are
   any. Every other component is the object class; a single component is
   the object, with a warning that no reference was found.
5. **Full-resolution boundary.** The class map is enlarged to the photo's
   size and every pixel in a thin band around each boundary (and only
   there) is decided again
   on the full-resolution photo: with the local object colour ``o`` and the
   local background colour ``b`` (estimated near the boundary), a pixel of
   colour ``p`` belongs to the object when its coverage
   ``alpha = (p - b).(o - b) / |o - b|^2`` exceeds one half. That places
   the edge where an anti-aliased edge pixel is half covered, to the pixel.
   Where the object has a rim of a third colour beyond the table's, away
   from the object's (a card's white core at its cut edge, a dark sleeve's
   light rim: a line of pixels along the edge that are no mix of ``o`` and
   ``b`` within the photo's noise and a step's overshoot), the rim keeps
   its class and a pixel's coverage counts the rim with the object.

:meth:`LocalSegmenter.segment_box` is for harder scenes (clutter, textured
backgrounds): the operator draws a rectangle around the target object and
GrabCut separates it; the reference is still found automatically outside the
rectangle.

All coordinates are ``(x, y)`` with x to the right and y down.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from objlen.classes import ClassIds
from objlen.errors import ParameterError, SegmentationError
from objlen.options import ReferenceSpec
from objlen.reference import ARUCO_DICTIONARIES, NO_SUCH_REFERENCE, ONLY_ONE_REGION
from objlen.robust import median, percentile
from objlen.segment import lab
from objlen.segment.base import Segmentation
from objlen.shapes import MAX_TILT_DEG, disc_error, rectangle_view

#: Rules that name the reference by its place or size alone.
REFERENCE_RULES = ("leftmost", "rightmost", "topmost", "bottommost", "largest", "smallest")
#: The default rule: the region whose shape matches the reference the operator
#: described (a disc for a length, a rectangle of the given aspect for W x H);
#: among regions within ``SHAPE_TIE`` of the best, the largest disc (a coin beside
#: round pills) or the rectangle of lowest error.
AUTO_RULE = "auto"
#: Every name accepted for ``reference_rule``.
REFERENCE_CHOICES = (AUTO_RULE, *REFERENCE_RULES)
#: With ``"auto"`` and no described shape, the classic rule decides.
_NO_SHAPE_RULE = "leftmost"
#: A region with a larger shape error does not look like the reference described.
SHAPE_MATCH = 0.12
#: Two candidates whose shape errors differ by less than this are a tie.
SHAPE_TIE = 0.04
#: Components smaller than this fraction of the photo are specks (200 px, about
#: 14 x 14, at the working size of a megapixel): a smaller object would be
#: measured to little better than +-10 %. A larger speck limit dropped small
#: objects silently (a 5 x 10 mm pill seen from 40 cm covers 0.03 %).
MIN_COMPONENT_FRACTION = 0.0002

_BORDER_FRACTION = 0.04  # width of the image frame that seeds the background model
_POLY_DEGREE = 3  # degree of the illumination surface (10 terms)
_FIT_SAMPLES = 20_000  # pixels used to fit the illumination surface (the final fit)
_COARSE_FIT_SAMPLES = 8_000  # ... and the fits on the coarse copy
_MODEL_GRID = 8  # the surface is evaluated on a grid this many times coarser
_LOW_SIGMAS, _HIGH_SIGMAS = 4.0, 7.0  # hysteresis thresholds in noise units
_LOW_FLOOR, _HIGH_FLOOR = 2.5, 4.5  # ... and their minimum, in delta-E
_GROW_PIXELS = 2  # how far (working pixels) the low threshold extends the high one
# Half-width of the refined band, in working pixels: as far as the classification's
# boundary can lie outside the object — the hysteresis growth (_GROW_PIXELS), the
# closing (1) and the 3 x 3 blur before it (1) — so that the photo can bring it back.
_BAND_RADIUS = _GROW_PIXELS + 2
# The local object and background colours are averaged this far (working pixels)
# inside and outside the boundary, and over this Gaussian sigma.
_SAMPLE_DEPTH = 4
# A band pixel is no mix of the local object and background colours when its colour
# lies farther from the segment [b, o] than a mix of the two can stray: the photo's
# noise (_MIX_NOISE_SIGMAS spreads of the table's own colour near the pixel, as the
# classification's low threshold) plus the overshoot of a band-limited step (Gibbs'
# 8.95 % of the step |o - b|, as JPEG's ringing). A line of such pixels, lighter than
# the table by as much (in luma) and beyond its colour, away from the object's, is a
# rim (a card's white core at its cut edge, a dark sleeve's light rim): it keeps the
# classification's class. A stronger sharpening halo along a whole edge would be
# taken for a rim.
_MIX_NOISE_SIGMAS = _LOW_SIGMAS
_MIX_OVERSHOOT = 0.0895
_RIM_SHARE = 0.25  # ... seen along at least this share of the region's outline
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Rec. 601, as JPEG's Y
_MIN_CONTRAST = 6.0  # local |o - b| (0..255 RGB) below which a band pixel is not re-decided
_CARRIER_AREA_RATIO = 4.0  # a component this much larger than a marker is not its carrier
# Shadows and soft blotches: a foreground pixel is peeled away, from the outside in,
# while it is not on a sharp edge and either looks like a shadow (darker than the
# background by at most this ratio, with the background's hue) or differs from the
# background only weakly (below _PEEL_WEAK_HIGHS times the high threshold).
# darkest shadow, as a share of the lit background's level: a contact shadow under
# a thick object keeps 9-13 % of a dark card's light in pills/test_image1.jpg
_SHADOW_MIN_RATIO = 0.08
_SHADOW_MAX_CHROMA = 0.2  # largest hue shift of a shadow (max relative channel change)
_PEEL_WEAK_HIGHS = 2.0
# A region brighter than the lit table in a channel by this many times the
# table's colour noise (:func:`_hue_noise`) is no shadow.
_BRIGHTER_NOISE_FACTOR = 3.0
_EDGE_SIGMA = 1.0  # Gaussian blur (working pixels) before the gradient
_GRADIENT_REACH = 5  # how far (working pixels) the blur and the Sobel kernel reach
_EDGE_NOISE_FACTOR = 3.0  # a sharp edge: gradient above this many times the table's p99
_EDGE_FLOOR = 0.1  # ... and above this (gradient of the light-divided photo, Sobel units)
_THIN_PX = 5  # strokes thinner than this (working pixels) are cut off objects
# A contact shadow's edge can be sharp too, but an object's own edge against its
# shadow is sharper still: shadow-like pixels stop the peeling only on edges
# this many times sharper than the table's texture threshold.
_SHADOW_EDGE_FACTOR = 3.0
# The same factors judge a component the peeling would take off whole, on its
# outline's mean gradient against the table's gradient averaged over as many
# pixels (:meth:`_TableEdges.outline_threshold`): along a line a grain's gradient
# comes and goes and averages down, an object's edge stays. A component that is
# mostly not shadow-like (lighter than the table, or off its hue) cannot be a
# shadow: its outline need only beat the texture, not _SHADOW_EDGE_FACTOR more.
_CUT_MIN_PIXELS = 20  # a peeled part smaller than this is not judged as a cut face
_CUT_EDGE_SHARE = 0.5  # a cut this much softer than the object's own outline is no edge
_CUT_FIT_PX = 1.0  # a round face's sharp outline lies this close to its fitted ellipse
_GRABCUT_PIXELS = 300_000  # GrabCut runs on at most this many pixels
_GRABCUT_SEED = 20240611  # GrabCut's k-means start is random: fix it
_SURFACE_FLOOR = 1e-3  # the background surface never drops below this (it divides)
_LOG1P_LEVELS = np.log(np.arange(256, dtype=np.float64) + 1.0)  # log(1 + I) of each 8-bit level
# Cost that follows the photo: the background model (illumination surface, the
# iterations that tell background from foreground) is fitted on a coarse copy of
# the working image; the working image itself is classified only inside the
# regions of interest the coarse copy finds, with the noise thresholds and the
# table's edge level measured on samples of the working image.
_COARSE_SHARE = 16  # the coarse copy has this many times fewer pixels ...
_COARSE_MIN_PIXELS = 20_000  # ... but at least this many
_NOISE_SAMPLES = 30_000  # working pixels (on a grid) that measure the background's noise
_EDGE_SAMPLE_PIXELS = 40_000  # working pixels (in strips) that measure the table's edges
_EDGE_STRIP_ROWS = 16  # height of one such strip
_ROI_MARGIN = 16  # working pixels around a region of interest: every local step reaches less
_REFINE_MARGIN = 24  # ... and around a region whose band is refined (its local means reach 16)
# Crops of a blur that end at the same column are as wide as each other modulo this:
# OpenCV's row loops then leave the same last values to narrower vectors or to scalar
# code (one of 8 lanes here, up to 32 pixels of 4 channels with wider vectors).
_ROW_ALIGN = 32
_CROSS_3 = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))  # 4-neighbourhood
_MEAN_3 = np.full((1, 3), 1.0 / 3.0, np.float32)  # cv2.transform matrix: the mean of 3 channels


class _Note(str):
    """A remark that informs (which region is the reference), not a warning."""


@dataclass(frozen=True)
class _Component:
    """One connected component of the working-resolution foreground."""

    label: int
    left: int
    top: int
    width: int
    height: int
    area: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass(frozen=True)
class _Classification:
    """The automatic classification at working resolution.

    Attributes:
        labels: ``(h, w)`` int32 component labels (0 = background).
        components: the significant components, by label.
        threshold: the low hysteresis threshold (delta-E).
        noise: the background's noise scale (delta-E).
        boxes: the ``(rows, cols)`` windows that were classified at working
            resolution (every component lies inside one).
        box_distances: the delta-E from the background colour in each box.
        coarse_distance: ``(hc, wc)`` float32 delta-E of the coarse copy (a
            stand-in outside the boxes).
    """

    labels: np.ndarray
    components: tuple[_Component, ...]
    threshold: float
    noise: float
    boxes: tuple[tuple[slice, slice], ...]
    box_distances: tuple[np.ndarray, ...]
    coarse_distance: np.ndarray

    @functools.cached_property
    def distance(self) -> np.ndarray:
        """``(h, w)`` float32 delta-E from the background colour: the working
        image's in the boxes, the coarse copy's (enlarged) elsewhere. Made on
        first use (a measurement does not need it)."""
        height, width = self.labels.shape
        distance = cv2.resize(self.coarse_distance, (width, height), interpolation=cv2.INTER_LINEAR)
        for box, box_distance in zip(self.boxes, self.box_distances, strict=True):
            distance[box] = box_distance
        return distance


@dataclass(frozen=True)
class _Marker:
    """An ArUco marker: its id and its four outer corners in full-resolution pixels."""

    marker_id: int
    corners_px: np.ndarray

    @property
    def area_px(self) -> float:
        return float(cv2.contourArea(self.corners_px.astype(np.float32)))


class LocalSegmenter:
    """Segment objects on a plain background with classical computer vision.

    Args:
        classes: the class ids written into the mask.
        reference_rule: which component is the reference when no ArUco marker
            is seen: ``"auto"`` (default) chooses by the shape of ``reference``
            (the most circular region for a length, the rectangle closest to
            the given aspect for a width x height; near-ties: the largest disc,
            the rectangle of lowest error); or one
            of :data:`REFERENCE_RULES` (by place or size alone, as the classic
            pixels-per-metric method's "leftmost").
        reference: what the operator said the reference is; without it
            ``"auto"`` takes the leftmost region.
        aruco_dictionary: name of a ``cv2.aruco`` predefined dictionary
            (``"DICT_4X4_50"``...) whose markers are taken as the reference,
            or ``None`` to never look for markers.
        working_pixels: the photo is classified at about this many pixels;
            only the boundary is decided at full resolution.
        min_component_fraction: components smaller than this fraction of the
            photo are specks and dropped.
        want_confidence: compute the per-pixel ``confidence`` map (a
            full-size float array: a measurement does not need it).

    Raises:
        ParameterError: an unknown rule or dictionary, or a non-positive size.

    >>> LocalSegmenter(reference_rule="largest").name
    'local'
    """

    name = "local"

    def __init__(
        self,
        classes: ClassIds = ClassIds(),  # noqa: B008 - ClassIds is frozen
        reference_rule: str = AUTO_RULE,
        aruco_dictionary: str | None = "DICT_4X4_50",
        working_pixels: int = 1_000_000,
        min_component_fraction: float = MIN_COMPONENT_FRACTION,
        reference: ReferenceSpec | None = None,
        want_confidence: bool = True,
    ) -> None:
        if reference_rule not in REFERENCE_CHOICES:
            raise ParameterError(
                f"unknown reference rule {reference_rule!r}: use one of "
                + ", ".join(REFERENCE_CHOICES)
            )
        if int(working_pixels) < 10_000:
            raise ParameterError(f"working_pixels must be at least 10000, got {working_pixels}")
        if not 0.0 < float(min_component_fraction) < 0.5:
            raise ParameterError(
                f"min_component_fraction must be in (0, 0.5), got {min_component_fraction}"
            )
        self.classes = classes
        self.reference_rule = reference_rule
        self.reference = reference
        self.aruco_dictionary = aruco_dictionary
        self.working_pixels = int(working_pixels)
        self.min_component_fraction = float(min_component_fraction)
        self.want_confidence = bool(want_confidence)
        self._aruco = _aruco_detector(aruco_dictionary)

    def segment(self, image_rgb: np.ndarray) -> Segmentation:
        """Segment a photo of objects on a plain background.

        Args:
            image_rgb: ``(H, W, 3)`` uint8 RGB photo (``(H, W)`` grayscale and
                ``(H, W, 4)`` RGBA are accepted too).

        Returns:
            A :class:`Segmentation` whose ``mask`` is ``(H, W)`` uint8 with the
            background, object and reference class ids, and whose
            ``confidence`` is the probability of each pixel's class (``None``
            unless ``want_confidence``).

        Raises:
            SegmentationError: nothing stands out from the background.
            ParameterError: ``image_rgb`` is not an image array.
        """
        started = time.perf_counter()
        image = _as_rgb(image_rgb)
        small, scale_xy = _shrink(image, self.working_pixels)
        found = _classify(small, self.min_component_fraction)
        if not found.components:
            raise SegmentationError(
                "no object found on the background: nothing in the photo differs enough "
                "from the background colour; photograph the object on a plain background "
                "that contrasts with it, or draw a box around it"
            )
        marker = self._find_marker(image, small, scale_xy, found)
        roles, notes = _assign_roles(found, marker, scale_xy, self._chooser())
        class_small = _class_map(found, roles)
        refined = _refine(image, small, class_small, scale_xy)
        confidence = _confidence(found, class_small, refined) if self.want_confidence else None
        if marker is not None:
            window, depth = _marker_pixels(image.shape, marker)
            refined.classes[window][depth > 0] = _REFERENCE
            if confidence is not None:
                confidence[window][depth > 0] = np.minimum(0.5 + depth[depth > 0], 1.0)
        notes += _border_notes(found, roles)
        return Segmentation(
            mask=_to_class_ids(refined.classes, self.classes),
            confidence=confidence,
            backend=self.name,
            warnings=tuple(n for n in notes if not isinstance(n, _Note)),
            notes=tuple(str(n) for n in notes if isinstance(n, _Note)),
            seconds=time.perf_counter() - started,
        )

    def segment_box(
        self,
        image_rgb: np.ndarray,
        box_xywh: Sequence[float],
        *,
        iterations: int = 5,
    ) -> Segmentation:
        """Segment the object inside an operator-drawn box with GrabCut.

        The target object is the largest region GrabCut separates inside the
        box; the reference is found automatically outside it (an ArUco marker
        wherever it is, otherwise by ``reference_rule`` among the components
        that lie mostly outside the box).

        Args:
            image_rgb: ``(H, W, 3)`` uint8 RGB photo.
            box_xywh: ``(x, y, width, height)`` in full-resolution pixels, a
                rectangle that contains the whole target object.
            iterations: GrabCut iterations.

        Returns:
            A :class:`Segmentation` (``confidence`` is ``None``); its warnings
            say when no reference was found.

        Raises:
            ParameterError: the box is empty or outside the photo.
            SegmentationError: GrabCut found nothing in the box.
        """
        started = time.perf_counter()
        image = _as_rgb(image_rgb)
        box = _check_box(box_xywh, image.shape[1], image.shape[0])
        small, scale_xy = _shrink(image, self.working_pixels)
        found = _classify(small, self.min_component_fraction)
        marker = self._find_marker(image, small, scale_xy, found)
        small_box = _box_to_small(box, scale_xy, small.shape)
        target = _grabcut(small, small_box, found, int(iterations))
        if not target.any():
            raise SegmentationError(
                "no object found in the box: GrabCut separated nothing from its "
                "surroundings; draw the box a little larger than the object"
            )
        roles, notes = _assign_box_roles(found, marker, scale_xy, small_box, self._chooser())
        class_small = _class_map(found, roles)
        class_small[target] = _OBJECT
        refined = _refine(image, small, class_small, scale_xy)
        if marker is not None:
            window, depth = _marker_pixels(image.shape, marker)
            refined.classes[window][depth > 0] = _REFERENCE
        return Segmentation(
            mask=_to_class_ids(refined.classes, self.classes),
            confidence=None,
            backend=self.name,
            warnings=tuple(n for n in notes if not isinstance(n, _Note)),
            notes=tuple(str(n) for n in notes if isinstance(n, _Note)),
            seconds=time.perf_counter() - started,
        )

    def _chooser(self) -> _ReferenceChooser:
        return _ReferenceChooser(self.reference_rule, self.reference)

    def _find_marker(
        self, image: np.ndarray, small: np.ndarray, scale_xy: np.ndarray, found: _Classification
    ) -> _Marker | None:
        """The largest marker of the configured dictionary, or ``None`` (also when
        the operator gave the scale: no region is the reference then).

        A marker stands out from the table (its black square, or the paper
        it is printed on), so it is looked for only around the regions found.
        """
        scale_given = self.reference is not None and self.reference.scale is not None
        if self._aruco is None or not found.components or scale_given:
            return None
        height, width = small.shape[:2]
        x0 = max(0, min(c.left for c in found.components) - _ROI_MARGIN)
        y0 = max(0, min(c.top for c in found.components) - _ROI_MARGIN)
        x1 = min(width, max(c.right for c in found.components) + _ROI_MARGIN)
        y1 = min(height, max(c.bottom for c in found.components) + _ROI_MARGIN)
        return _detect_marker(
            self._aruco_for(max(width, height) / max(x1 - x0, y1 - y0)),
            image,
            small,
            scale_xy,
            (x0, y0),
            small[y0:y1, x0:x1],
        )

    def _aruco_for(self, zoom: float) -> cv2.aruco.ArucoDetector:
        """The detector for a crop ``zoom`` times smaller than the working image:
        its marker-size limits, relative to the image it sees, scaled so that
        they stay those of the whole working image."""
        if zoom <= 1.0:
            return self._aruco
        return _aruco_detector(self.aruco_dictionary, zoom)


# --- input -------------------------------------------------------------------


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """``image`` as a contiguous ``(H, W, 3)`` uint8 RGB array.

    Raises:
        ParameterError: not a 2-D grayscale, RGB or RGBA uint8 array.
    """
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ParameterError(f"the image must be uint8, got {array.dtype}")
    if array.ndim == 2:
        array = cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_RGBA2RGB)
    if array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < 16:
        raise ParameterError(
            f"the image must be an (H, W, 3) RGB array of at least 16x16, got {array.shape}"
        )
    return np.ascontiguousarray(array)


def _shrink(image: np.ndarray, working_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """Shrink ``image`` to about ``working_pixels``.

    Returns ``(small, scale_xy)``: the working image and the ``(2,)`` ratio
    of full to working size along x and along y (both 1 when not shrunk).
    A full-resolution point ``p`` is at ``(p + 0.5) / scale_xy - 0.5`` in
    the working image.
    """
    height, width = image.shape[:2]
    factor = float(np.sqrt(height * width / working_pixels))
    if factor <= 1.0:
        return image, np.ones(2)
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = image
    # Exact halvings first (OpenCV averages 2 x 2 blocks several times faster
    # than any other ratio), then the rest of the way in one area resize.
    while small.shape[1] >= 2 * size[0] and small.shape[0] >= 2 * size[1]:
        small = cv2.resize(
            small, (small.shape[1] // 2, small.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
    if small.shape[1::-1] != size:
        small = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
    return small, np.array([width / size[0], height / size[1]])


def _check_box(box_xywh: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    """The box clipped to the image, as integers ``(x0, y0, x1, y1)`` (exclusive end).

    Raises:
        ParameterError: not four numbers, empty, or outside the image.
    """
    try:
        x, y, w, h = (float(value) for value in box_xywh)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"the box must be (x, y, width, height), got {box_xywh!r}") from exc
    if not all(np.isfinite((x, y, w, h))) or w < 2 or h < 2:
        raise ParameterError(f"the box must be at least 2x2 pixels, got {box_xywh!r}")
    x0, y0 = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
    x1, y1 = min(width, int(np.ceil(x + w))), min(height, int(np.ceil(y + h)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ParameterError(f"the box {box_xywh!r} lies outside the {width}x{height} photo")
    return x0, y0, x1, y1


# --- background model and classification -----------------------------------


def _poly_terms(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Monomials of total degree <= ``_POLY_DEGREE`` in ``x``, ``y`` (columns)."""
    x_powers, y_powers = [np.ones_like(x)], [np.ones_like(y)]
    for _ in range(_POLY_DEGREE):
        x_powers.append(x_powers[-1] * x)
        y_powers.append(y_powers[-1] * y)
    terms = np.empty((*np.shape(x), (_POLY_DEGREE + 1) * (_POLY_DEGREE + 2) // 2))
    column = 0
    for i in range(_POLY_DEGREE + 1):
        for j in range(_POLY_DEGREE + 1 - i):
            np.multiply(x_powers[i], y_powers[j], out=terms[..., column])
            column += 1
    return terms


def _unit_coords(xs: np.ndarray, ys: np.ndarray, shape: tuple[int, int]) -> tuple:
    """Pixel coordinates mapped to [-1, 1] across the image."""
    height, width = shape
    return 2.0 * xs / max(1, width - 1) - 1.0, 2.0 * ys / max(1, height - 1) - 1.0


def _fit_surface(
    small: np.ndarray,
    sample: np.ndarray,
    scale_xy: np.ndarray | None = None,
    shape: tuple[int, int] | None = None,
    samples: int = _FIT_SAMPLES,
) -> np.ndarray:
    """Polynomial surfaces fitted to ``log(1 + I)`` of the 3 channels over ``sample`` pixels.

    About ``samples`` pixels on a regular grid are used; outliers (more
    than 3 robust sigmas from the surface) are rejected twice. Returns the
    ``(terms, 3)`` coefficients, for the coordinates of an image of
    ``shape`` (default ``small``'s own) of which ``small`` is a copy shrunk
    by ``scale_xy`` (see :func:`_shrink`).
    """
    step = max(1, int(np.ceil(np.sqrt(np.count_nonzero(sample) / samples))))
    ys, xs = np.nonzero(sample[::step, ::step])
    ys, xs = ys * step, xs * step
    x, y = xs.astype(np.float64), ys.astype(np.float64)
    if scale_xy is not None:
        x, y = (x + 0.5) * scale_xy[0] - 0.5, (y + 0.5) * scale_xy[1] - 0.5
    design = _poly_terms(*_unit_coords(x, y, shape or small.shape[:2]))
    levels = np.take(small.reshape(-1, 3), ys * small.shape[1] + xs, axis=0)
    values = np.take(_LOG1P_LEVELS, levels)  # log(1 + I), looked up: ten times faster
    inliers = np.ones(xs.size, dtype=bool)
    coefficients = np.zeros((design.shape[1], 3))
    for fit in range(3):
        if np.count_nonzero(inliers) < design.shape[1] * 4:
            break
        # np.compress: the rows boolean indexing selects, ten times faster here.
        used = np.compress(inliers, design, axis=0)
        gram = used.T @ used + 1e-9 * np.eye(design.shape[1])
        coefficients = np.linalg.solve(gram, used.T @ np.compress(inliers, values, axis=0))
        if fit == 2:
            break  # (the last fit's outliers would serve no further fit)
        error = np.abs(values - design @ coefficients)
        residual = np.maximum(np.maximum(error[:, 0], error[:, 1]), error[:, 2])
        spread = 1.4826 * median(np.compress(inliers, residual)) + 1e-3
        inliers = residual < 3.0 * spread
    return coefficients


def _evaluate_surface(
    coefficients: np.ndarray,
    shape: tuple[int, int],
    size: tuple[int, int] | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The background under the scene's light, and its median colour.

    Returns ``(surface, colour)``: the surface of an image of ``shape``,
    ``(h, w, 3)`` float32 in 0..1 RGB (evaluated on a coarse grid and
    interpolated; at least ``_SURFACE_FLOOR``, so that it can divide) —
    resampled to ``size`` = ``(h, w)`` when given, written into ``out``
    when it is such an array — and the ``(3,)`` median colour of the surface.
    """
    coarse = ((np.exp(_grid_terms(*shape) @ coefficients) - 1.0) / 255.0).astype(np.float32)
    # Floored on the grid: the linear interpolation of values above the floor stays above it.
    coarse = cv2.max(coarse, (_SURFACE_FLOOR,) * 4)
    # (each channel's values contiguous: NumPy partitions them several times faster)
    colour = median(np.ascontiguousarray(coarse.reshape(-1, 3).T), axis=1).astype(np.float32)
    out_h, out_w = size or shape
    return cv2.resize(coarse, (out_w, out_h), dst=out, interpolation=cv2.INTER_LINEAR), colour


@functools.lru_cache(maxsize=8)
def _grid_terms(height: int, width: int) -> np.ndarray:
    """The polynomial terms on the grid where :func:`_evaluate_surface` evaluates
    the surface of an image of ``height x width`` (``_MODEL_GRID`` times coarser)."""
    xs = np.linspace(0, width - 1, max(2, width // _MODEL_GRID))
    ys = np.linspace(0, height - 1, max(2, height // _MODEL_GRID))
    gx, gy = np.meshgrid(xs, ys)
    terms = _poly_terms(*_unit_coords(gx, gy, (height, width)))
    terms.flags.writeable = False
    return terms


def _border(shape: tuple[int, int]) -> np.ndarray:
    """A boolean frame around the image, ``_BORDER_FRACTION`` of its size wide."""
    height, width = shape
    band = max(2, round(_BORDER_FRACTION * min(height, width)))
    frame = np.ones(shape, dtype=bool)
    frame[band:-band, band:-band] = False
    return frame


def _distance_map(rgb: np.ndarray, surface: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Delta-E (CIE76) of each pixel from the background, light divided out.

    ``rgb`` is the (smoothed) photo as float32 in 0..1 (:func:`_unit_rgb`).
    The photo is divided by the background ``surface`` and multiplied by the
    background's ``colour``, so the background becomes one flat colour.
    """
    return _flat_distance(cv2.divide(rgb, surface), colour)


def _flat_distance(flat: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """:func:`_distance_map` of the photo already divided by the background
    surface (``flat``, left unchanged)."""
    return lab.delta_e(flat, lab.rgb_to_lab(colour.reshape(1, 1, 3)).reshape(3), gain=colour)


def _unit_rgb(image: np.ndarray) -> np.ndarray:
    """A uint8 RGB image as float32 in 0..1."""
    return image.astype(np.float32) * np.float32(1.0 / 255.0)


def _channel_max(image: np.ndarray) -> np.ndarray:
    """The largest of the 3 channels of an image, ``(h, w)``.

    (OpenCV's per-element maximum, far faster than NumPy's ``max(axis=2)``.)
    """
    first, second, third = cv2.split(image)
    return cv2.max(cv2.max(first, second), third)


def _noise(distance: np.ndarray, background: np.ndarray) -> tuple[float, float]:
    """Median and robust spread (1.4826 MAD) of ``distance`` over ``background`` pixels."""
    step = max(1, int(np.sqrt(distance.size / 250_000)))
    values = distance[::step, ::step][background[::step, ::step]]
    if values.size < 16:
        values = distance.ravel()
    centre = float(median(values))
    spread = float(1.4826 * median(np.abs(values - centre)))
    return centre, spread


def _hysteresis(distance: np.ndarray, low: float, high: float) -> np.ndarray:
    """Pixels above ``high``, grown into pixels above ``low`` by at most ``_GROW_PIXELS``.

    The growth is limited so that a faint blotch of the background's texture
    cannot join an object through a chain of barely-above-threshold pixels;
    the boundary itself is decided later, at full resolution.
    """
    strong = (distance > high).astype(np.uint8)
    weak = (distance > low).astype(np.uint8)
    grown = strong
    for _ in range(_GROW_PIXELS):
        grown = cv2.dilate(grown, None) & weak
    return (grown | strong).astype(bool)


def _fill_holes(binary: np.ndarray) -> np.ndarray:
    """``binary`` with every background region that does not touch the border filled.

    (The inside of every outer contour, drawn filled: the same as filling the
    4-connected background regions that do not reach the border, and cheaper.)
    """
    contours, _ = cv2.findContours(
        binary.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    filled = np.zeros(binary.shape, dtype=np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.view(bool) | binary


def _clean(foreground: np.ndarray) -> np.ndarray:
    """Open away isolated pixels, close small gaps, fill holes."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    binary = foreground.astype(np.uint8)
    binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel)
    return _fill_holes(binary.astype(bool))


def _components(
    foreground: np.ndarray,
    boxes: Sequence[tuple[slice, slice]],
    distances: Sequence[np.ndarray],
    min_area: int,
    min_mean_distance: float,
) -> tuple[np.ndarray, tuple]:
    """Label the foreground, keeping only significant components.

    A component is significant when it has at least ``min_area`` pixels and
    its mean distance from the background is at least ``min_mean_distance``:
    a faint blotch of the table's own texture that merely peaks above the
    thresholds is not an object. The foreground lies inside the
    non-overlapping ``boxes``, whose distance maps are ``distances``.
    """
    count, labels, stats, _ = _labelled(foreground)
    sums = np.zeros(count)
    for box, distance in zip(boxes, distances, strict=True):
        box_labels = labels[box]
        inside = box_labels > 0
        sums += np.bincount(box_labels[inside], weights=distance[inside], minlength=count)
    keep = np.zeros(count, dtype=bool)
    found = []
    for label in range(1, count):
        left, top, width, height, area = (int(v) for v in stats[label])
        if area >= min_area and sums[label] / area >= min_mean_distance:
            keep[label] = True
            found.append(_Component(label, left, top, width, height, area))
    for label in np.flatnonzero(~keep[1:]) + 1:  # dropped: cleared in their bounding boxes
        left, top, width, height = (int(v) for v in stats[label, :4])
        box_labels = labels[top : top + height, left : left + width]
        box_labels[box_labels == label] = 0
    return labels, tuple(found)


def _labelled(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """8-connected components of ``binary`` with their statistics, labelled in
    raster order (``cv2.connectedComponentsWithStats``; Grana's algorithm, which
    gives the same labels as the default and is several times faster here)."""
    as_bytes = binary.view(np.uint8) if binary.dtype == bool else binary.astype(np.uint8)
    return cv2.connectedComponentsWithStatsWithAlgorithm(as_bytes, 8, cv2.CV_32S, cv2.CCL_GRANA)


def _thresholds(distance: np.ndarray, background: np.ndarray) -> tuple[float, float, float]:
    """Low and high hysteresis thresholds and the noise spread, from background pixels."""
    median, spread = _noise(distance, background)
    low = median + max(_LOW_SIGMAS * spread, _LOW_FLOOR)
    high = median + max(_HIGH_SIGMAS * spread, _HIGH_FLOOR)
    return low, high, spread


def _grow(binary: np.ndarray, pixels: int) -> np.ndarray:
    """``binary`` dilated by ``pixels`` (3x3 steps)."""
    return cv2.dilate(binary.astype(np.uint8), None, iterations=pixels).astype(bool)


@dataclass(frozen=True)
class _Background:
    """The background model of a working image.

    Attributes:
        surface: ``(h, w, 3)`` float32 background under the scene's light, 0..1.
        colour: ``(3,)`` float32 median background colour.
        sure: ``(h, w)`` bool, pixels surely background (away from anything found).
    """

    surface: np.ndarray
    colour: np.ndarray
    sure: np.ndarray


@dataclass(frozen=True)
class _CoarseModel:
    """What the coarse copy of a working image tells (see :func:`_background_model`).

    Attributes:
        coefficients: ``(terms, 3)`` the second fit's surface, in the working
            image's coordinates (:func:`_evaluate_surface`).
        sure: ``(h, w)`` bool, working pixels surely background (away from
            anything the coarse copy found).
        distance: ``(hc, wc)`` float32 distance from the background of the
            coarse copy (only a stand-in outside the regions of interest).
        seeds: ``(h, w)`` bool, where the coarse copy differs from the background.
    """

    coefficients: np.ndarray
    sure: np.ndarray
    distance: np.ndarray
    seeds: np.ndarray


def _background_model(small: np.ndarray) -> _CoarseModel:
    """The first two fits of the background model, on a coarse copy of ``small``.

    The illumination surface is fitted on the border first, then once more on
    everything that is not foreground (the foreground found with the first
    fit's distance map and thresholds), all on a copy with ``_COARSE_SHARE``
    times fewer pixels (at least ``_COARSE_MIN_PIXELS``). (The third and
    last fit is made on the working image: :func:`_classify`.)
    """
    shape = small.shape[:2]
    coarse, scale_xy = _shrink(small, max(_COARSE_MIN_PIXELS, shape[0] * shape[1] // _COARSE_SHARE))
    coarse_shape = coarse.shape[:2]
    rgb = _unit_rgb(cv2.GaussianBlur(coarse, (3, 3), 0))
    share = coarse_shape[0] * coarse_shape[1] / (shape[0] * shape[1])
    sure = _border(coarse_shape)
    for _ in range(2):
        coefficients = _fit_surface(coarse, sure, scale_xy, shape, _COARSE_FIT_SAMPLES)
        surface, colour = _evaluate_surface(coefficients, shape, coarse_shape)
        distance = _distance_map(rgb, surface, colour)
        low, high, _ = _thresholds(distance, sure)
        foreground = _hysteresis(distance, low, high)
        grown = ~_grow(foreground, 3)
        if np.count_nonzero(grown) < 1000 * share:
            break
        sure = grown
    seeds = _enlarge(foreground.astype(np.uint8), (shape[1], shape[0]))
    return _CoarseModel(coefficients, ~_grow(seeds, 3), distance, seeds.view(bool))


def _last_fit_sample(
    smooth: np.ndarray,
    model: _CoarseModel,
    boxes: Sequence[tuple[slice, slice]],
    rgbs: Sequence[np.ndarray],
    surface: np.ndarray,
) -> np.ndarray:
    """Where the last fit of the background model samples the working image:
    away from the second fit's foreground, found at working resolution in the
    ``boxes`` (whose smoothed photo, float32 in 0..1, is ``rgbs``). The
    second fit's surface is written into ``surface`` (a working-size
    ``(h, w, 3)`` float32 array)."""
    surface, colour = _evaluate_surface(model.coefficients, smooth.shape[:2], out=surface)
    low, high, _ = _sampled_thresholds(smooth, _Background(surface, colour, model.sure))
    second = np.zeros(smooth.shape[:2], dtype=np.uint8)
    for box, rgb in zip(boxes, rgbs, strict=True):
        second[box] = _hysteresis(_distance_map(rgb, surface[box], colour), low, high)
    return ~_grow(second, 3)


def _sampled_thresholds(smooth: np.ndarray, background: _Background) -> tuple[float, float, float]:
    """Low and high hysteresis thresholds and the noise spread of the working image.

    Measured on about ``_NOISE_SAMPLES`` working pixels on a regular grid
    that are surely background.
    """
    height, width = smooth.shape[:2]
    step = max(1, round(np.sqrt(height * width / _NOISE_SAMPLES)))
    grid = (slice(None, None, step), slice(None, None, step))
    distance = _distance_map(
        _unit_rgb(smooth[grid]), np.ascontiguousarray(background.surface[grid]), background.colour
    )
    return _thresholds(distance, background.sure[grid])


def _hue_noise(smooth: np.ndarray, background: _Background) -> float:
    """The table's own hue noise: the 99th percentile, over surely-background
    pixels, of ``max_c |flat_c - level|`` (``flat`` the light-divided photo,
    ``level`` its channel mean; 0 on a noiseless table).

    A pixel of the table darkened to ``level`` by a shadow keeps this noise in
    grey levels, so its hue shift ``max_c |flat_c / level - 1|`` is noisy by
    about ``hue_noise / level``. Measured on the grid of
    :func:`_sampled_thresholds`.
    """
    height, width = smooth.shape[:2]
    step = max(1, round(np.sqrt(height * width / _NOISE_SAMPLES)))
    grid = (slice(None, None, step), slice(None, None, step))
    flat = cv2.divide(_unit_rgb(smooth[grid]), np.ascontiguousarray(background.surface[grid]))
    level = cv2.transform(flat, _MEAN_3)
    deviation = _channel_max(cv2.absdiff(flat, cv2.merge((level, level, level))))
    sample = deviation[background.sure[grid]]
    return float(percentile(sample, 99)) if sample.size else 0.0


@dataclass(frozen=True)
class _TableEdges:
    """The table's own gradient (see :func:`_edge_threshold`).

    Attributes:
        threshold: the gradient above which a pixel's edge is sharp.
        cumulative: ``(n + 1,)`` float64, the running sum (from 0) of the
            table's gradient along the unbroken runs of surely-background
            pixels of its rows, one run after the other.
        room: ``(n,)`` int, how many pixels of its run start at each of
            those pixels (itself included).
    """

    threshold: float
    cumulative: np.ndarray
    room: np.ndarray

    def outline_threshold(self, length: int, shadow_like: bool = True) -> float:
        """The mean gradient above which an outline of ``length`` pixels is an
        edge a shadow does not make: ``_SHADOW_EDGE_FACTOR`` times the greater
        of ``_EDGE_FLOOR`` and ``_EDGE_NOISE_FACTOR`` times the 99th percentile
        of the table's gradient averaged over ``length`` consecutive pixels of
        its rows (the per-pixel rule's factors, applied to the outline's mean:
        averaging over more pixels narrows the texture's spread). When no run
        is that long, the means are over the longest run's length: over fewer
        pixels they spread wider, so the threshold can only err high. Without
        runs: the per-pixel rule (``_SHADOW_EDGE_FACTOR * threshold``). When
        the region is not ``shadow_like`` the edge need only stand out from the
        texture: the same without the factor ``_SHADOW_EDGE_FACTOR``."""
        factor = _SHADOW_EDGE_FACTOR if shadow_like else 1.0
        if self.room.size == 0:
            return factor * self.threshold
        window = max(1, min(int(length), int(self.room.max())))
        starts = np.flatnonzero(self.room >= window)
        means = (self.cumulative[starts + window] - self.cumulative[starts]) / window
        level = float(percentile(means, 99))
        return factor * max(_EDGE_NOISE_FACTOR * level, _EDGE_FLOOR)


def _edge_threshold(smooth: np.ndarray, background: _Background) -> _TableEdges:
    """The gradient above which an edge is sharp: ``_EDGE_NOISE_FACTOR`` times the
    99th percentile of the table's own gradient (at least ``_EDGE_FLOOR``), with
    the table's gradient along its rows (:class:`_TableEdges`).

    Measured on horizontal strips of ``_EDGE_STRIP_ROWS`` working rows spread
    over the photo (about ``_EDGE_SAMPLE_PIXELS`` pixels), every other pixel
    of which is taken where it is surely background (every pixel of every
    other row for the runs).
    """
    height, width = smooth.shape[:2]
    share = min(1.0, _EDGE_SAMPLE_PIXELS / (height * width))
    period = max(_EDGE_STRIP_ROWS, int(_EDGE_STRIP_ROWS / share))
    reach = _GRADIENT_REACH
    samples, runs, lengths = [], [], []
    for top in range(0, height, period):
        bottom = min(height, top + _EDGE_STRIP_ROWS)
        y0, y1 = max(0, top - reach), min(height, bottom + reach)
        window = (slice(y0, y1), slice(None))
        flat = cv2.divide(_unit_rgb(smooth[window]), background.surface[window])
        gradient = _gradient(cv2.split(flat))
        core = gradient[top - y0 : bottom - y0 : 2, ::2]
        samples.append(core[background.sure[top:bottom:2, ::2]])
        sure = background.sure[top:bottom:2]
        # the runs one after the other, row by row: the sure pixels in raster order
        runs.append(gradient[top - y0 : bottom - y0 : 2][sure])
        lengths.append(_run_lengths(sure))
    sample = np.concatenate(samples)
    table_p99 = float(percentile(sample, 99)) if sample.size else 0.0
    lengths = np.concatenate(lengths)
    along = np.concatenate(runs)
    # room: a run of length n gives n, n - 1, ..., 1 from its first pixel on
    room = np.repeat(np.cumsum(lengths), lengths) - np.arange(along.size)
    return _TableEdges(
        max(_EDGE_NOISE_FACTOR * table_p99, _EDGE_FLOOR),
        np.concatenate(([0.0], np.cumsum(along, dtype=np.float64))),
        room,
    )


def _run_lengths(where: np.ndarray) -> np.ndarray:
    """The lengths of the unbroken runs of true pixels of ``where`` (2-D bool)
    along its rows, row after row, ``(runs,)`` int64."""
    padded = np.zeros((where.shape[0], where.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = where
    steps = np.diff(padded, axis=1).ravel()  # +1 where a run starts, -1 after it ends
    return (np.flatnonzero(steps < 0) - np.flatnonzero(steps > 0)).astype(np.int64)


def _regions_of_interest(seeds: np.ndarray, margin: int) -> list[tuple[slice, slice]]:
    """Windows ``(rows, cols)`` around the connected regions of ``seeds``, ``margin``
    pixels wider on every side, merged until none overlap."""
    height, width = seeds.shape
    contours, _ = cv2.findContours(
        seeds.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        boxes.append(
            [
                max(0, x - margin),
                max(0, y - margin),
                min(width, x + w + margin),
                min(height, y + h + margin),
            ]
        )
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return [(slice(y0, y1), slice(x0, x1)) for x0, y0, x1, y1 in sorted(boxes)]


def _classify(small: np.ndarray, min_fraction: float) -> _Classification:
    """Find the components that stand out from the background in the working image.

    The background model is fitted three times, each fit on what the last
    one left as surely background: twice on a coarse copy
    (:func:`_background_model`), then on the working image. Only the
    regions of interest — where the coarse copy differs from the background,
    ``_ROI_MARGIN`` pixels wider — are classified at working resolution:
    hysteresis on the distance from the background (thresholds from the
    background's noise, measured on a grid of samples), cleaning, shadows
    peeled (:func:`_without_shadows`, with the table's edge level measured on
    strips). Outside them everything is background.
    """
    # Every large temporary is let go as soon as it has served (del, None): the
    # peak memory is what a repeated call pays again in page faults after the
    # allocator has returned the freed memory to the system.
    shape = small.shape[:2]
    smooth = cv2.GaussianBlur(small, (3, 3), 0)
    model = _background_model(small)
    boxes = _regions_of_interest(model.seeds, _ROI_MARGIN)
    rgbs: list[np.ndarray | None] = [_unit_rgb(smooth[box]) for box in boxes]
    # One working-size array holds the second fit's surface, then the last one's.
    surface = np.empty((*shape, 3), dtype=np.float32)
    sure = _last_fit_sample(smooth, model, boxes, rgbs, surface)
    surface, colour = _evaluate_surface(_fit_surface(small, sure), shape, out=surface)
    low, high, spread = _sampled_thresholds(smooth, _Background(surface, colour, sure))
    del sure
    cleaned = np.zeros(shape, dtype=bool)
    flats: list[np.ndarray | None] = []
    distances = []
    for index, box in enumerate(boxes):
        flat = cv2.divide(rgbs[index], surface[box])  # the photo with the light divided out
        rgbs[index] = None
        box_distance = _flat_distance(flat, colour)
        cleaned[box] = _clean(_hysteresis(box_distance, low, high))
        flats.append(flat)
        distances.append(box_distance)
    background = _Background(surface, colour, ~_grow(cleaned, 3))
    edge = _edge_threshold(smooth, background)
    hue_noise = _hue_noise(smooth, background)
    del smooth, surface, background
    for index, box in enumerate(boxes):
        cleaned[box] = _without_shadows(
            cleaned[box], flats[index], distances[index], high, edge, hue_noise
        )
        flats[index] = None
    min_area = max(9, round(min_fraction * shape[0] * shape[1]))
    labels, components = _components(cleaned, boxes, distances, min_area, high)
    return _Classification(
        labels, components, low, spread, tuple(boxes), tuple(distances), model.distance
    )


def _gradient(channels: Sequence[np.ndarray]) -> np.ndarray:
    """Gradient magnitude of the light-divided photo, given as its channels
    (float32 ``(h, w)`` each): the largest over them.

    (Channel by channel: the same values as on the 3-channel image, with a
    third of the temporary memory.)
    """
    largest = None
    for channel in channels:
        blurred = cv2.GaussianBlur(channel, (0, 0), _EDGE_SIGMA)
        gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3, dst=blurred)
        magnitude = cv2.magnitude(gx, gy, gx)
        largest = magnitude if largest is None else cv2.max(largest, magnitude, dst=largest)
    return largest


def _without_shadows(
    foreground: np.ndarray,
    flat: np.ndarray,
    distance: np.ndarray,
    high: float,
    edge: _TableEdges,
    hue_noise: float,
) -> np.ndarray:
    """``foreground`` with shadows, soft blotches and thin strokes taken off its objects.

    A shadow darkens the table but keeps its hue and texture, and its outer
    edge is softer than an object's own edge. So every foreground pixel that
    is shadow-like (darker than the table by a ratio of at least
    ``_SHADOW_MIN_RATIO``, hue shifted by less than ``_SHADOW_MAX_CHROMA``
    plus what the table's own colour noise ``hue_noise`` makes of a pixel
    that dark: :func:`_hue_noise`)
    and not on a very sharp edge (``_SHADOW_EDGE_FACTOR`` times the edge
    threshold), or only weakly different from the table and not on a sharp
    edge, is peeled away when it connects (4-connected, through such pixels)
    to the background: the peeling stops at the objects' own edges. Touching shadows
    then no longer join objects. What is left is opened with a disc of
    ``_THIN_PX`` (cuts off strokes and grain lines); a component of which
    nothing is left then comes back whole when its outline is sharp on average
    (:meth:`_TableEdges.outline_threshold`; for a component mostly not
    shadow-like, sharp against the texture alone): on a grainy table a grey object's
    edge can fall below the per-pixel rule, whose threshold follows the
    texture's rare highs, while along the outline the texture averages down
    and the edge does not. Last, holes are filled.
    "Sharp" is relative to the table's own texture: the gradient must exceed
    ``edge.threshold``, ``_EDGE_NOISE_FACTOR`` times its 99th percentile on the
    background (:func:`_edge_threshold`). ``flat`` is the smoothed photo as
    float32 in 0..1 divided by the background under the scene's light.
    """
    peeled = np.zeros_like(foreground)
    # Each region is peeled in its own window: the blur and the Sobel kernel
    # reach _GRADIENT_REACH pixels, so a wider window's border cannot matter.
    for crop in _regions_of_interest(foreground, _GRADIENT_REACH + 2):
        peeled[crop] = _peeled(foreground[crop], flat[crop], distance[crop], high, edge, hue_noise)
    return peeled


def _peeled(
    foreground: np.ndarray,
    flat: np.ndarray,
    distance: np.ndarray,
    high: float,
    edges: _TableEdges,
    hue_noise: float,
) -> np.ndarray:
    """:func:`_without_shadows` on a crop whose border is background."""
    level = cv2.transform(flat, _MEAN_3)
    lit = cv2.max(level, 1e-3)
    # The hue shift max_c |flat_c / lit - 1| against its tolerance, both times lit:
    # the table's colour noise is the same in grey levels in its shadows (relative
    # to a pixel's own level it grows as the pixel darkens).
    channels = cv2.split(flat)
    shift = cv2.absdiff(channels[0], lit)
    for channel in channels[1:]:
        cv2.max(shift, cv2.absdiff(channel, lit), dst=shift)
    tolerance = cv2.addWeighted(lit, _SHADOW_MAX_CHROMA, lit, 0.0, hue_noise)
    shadow_like = (level >= _SHADOW_MIN_RATIO) & (level < 1.0) & (shift < tolerance)
    gradient = _gradient(channels)
    weak = distance < _PEEL_WEAK_HIGHS * high
    edge = edges.threshold
    peelable = foreground & (
        (shadow_like & (gradient < _SHADOW_EDGE_FACTOR * edge)) | (weak & (gradient < edge))
    )
    reachable = (peelable | ~foreground).astype(np.uint8)
    _, labels = cv2.connectedComponents(reachable, connectivity=4)
    outside = np.zeros(int(labels.max()) + 1, dtype=bool)
    outside[labels[~foreground]] = True
    outside[0] = False
    kept = foreground & ~(peelable & outside[labels])
    _restore_cut_faces(foreground, kept, gradient)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_THIN_PX, _THIN_PX))
    opened = cv2.morphologyEx(kept.astype(np.uint8), cv2.MORPH_OPEN, disc).view(bool)
    _keep_sharp_outlines(
        foreground, opened, gradient, edges, disc, _Shade(flat, shadow_like, hue_noise)
    )
    return _fill_holes(opened)


def _solidity(region: np.ndarray) -> float:
    """Area of a region over its convex hull's (pixels; 1 for a convex region)."""
    contours, _ = cv2.findContours(
        region.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    if not contours:
        return 1.0
    hull = cv2.convexHull(np.concatenate(contours))
    # The hull through pixel centres, grown by half a pixel all round (its
    # perimeter / 2 + the corners' pi / 4): a pixel region's own hull.
    area = cv2.contourArea(hull) + 0.5 * cv2.arcLength(hull, True) + np.pi / 4
    return float(np.count_nonzero(region)) / area


def _ellipse_of(rim: np.ndarray, body: np.ndarray, found: np.ndarray) -> np.ndarray | None:
    """The pixels inside the ellipse fitted to ``rim`` (an object's outline pixels
    where it is sharp) when that ellipse is a round face the part can complete;
    else None. It must:

    * be a disc seen within ``MAX_TILT_DEG`` of face-on (a coin's face: an
      oblong pill's end and side fit long ellipses that reach into its shadow);
    * have the rim go at least half round it (a short arc fits ellipses far
      too large) and fit it within ``_CUT_FIT_PX`` on average;
    * hold ``body`` and lie within ``found`` (the body and the part that may
      complete it), each but for fewer pixels than the rim has (less than a
      one-pixel ring; the body with 1 px spare).
    """
    points = np.column_stack(np.nonzero(rim)[::-1]).astype(np.float32)
    ring = len(points)
    if ring < 12:
        return None
    (cx, cy), (width, height), angle = cv2.fitEllipse(points)
    a, b = width / 2, height / 2
    # A disc seen within MAX_TILT_DEG of face-on (as the reference chooser
    # allows), and Ramanujan's perimeter: the rim must go half round.
    if min(a, b) <= 1 or min(a, b) < max(a, b) * math.cos(math.radians(MAX_TILT_DEG)):
        return None
    if 2 * ring < np.pi * (3 * (a + b) - np.sqrt((3 * a + b) * (a + 3 * b))):
        return None
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))

    def radius(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """1 on the ellipse, less inside it."""
        u, v = (xs - cx) * c + (ys - cy) * s, -(xs - cx) * s + (ys - cy) * c
        return np.hypot(u / a, v / b)

    scale = min(a, b)
    if float(np.abs(radius(points[:, 0], points[:, 1]) - 1.0).mean()) * scale > _CUT_FIT_PX:
        return None  # (the radius's departure from 1 times the semi-minor axis: about px)
    ys, xs = np.mgrid[0 : body.shape[0], 0 : body.shape[1]].astype(np.float32)
    grid = radius(xs, ys)
    inside = grid <= 1.0
    beyond = np.count_nonzero(grid[body] > 1.0 + 1.0 / scale)
    if beyond > ring or np.count_nonzero(inside & ~found) > ring:
        return None
    return inside


def _restore_cut_faces(foreground: np.ndarray, kept: np.ndarray, gradient: np.ndarray) -> None:
    """Put back into ``kept`` (in place) a peeled part of ``foreground`` that the
    peeling cut off an object's own face, not a shadow off its edge.

    A shadow ends at the object's outline, an edge; a face turned from the light
    (a coin's side the colour of a dark table) is peeled only as far as its
    colour stays shadow-like, so its cut runs across the face where the photo
    shows no edge. A part comes back when the line where it meets the kept
    object is on average less than ``_CUT_EDGE_SHARE`` as sharp as the rest of
    that object's outline, that rest lies on a round face the object and the
    part fill (:func:`_ellipse_of`: a coin's), and the object with the
    part's pixels inside the ellipse is more convex than without them (a bitten
    disc made whole): those pixels come back."""
    gone = (foreground & ~kept).view(np.uint8)
    if not gone.any() or not kept.any():
        return
    _, parts, stats, _ = cv2.connectedComponentsWithStats(gone, connectivity=8)
    # The parts that meet a kept object (4-neighbours), of a size worth judging.
    meeting = parts[cv2.dilate(kept.view(np.uint8), _CROSS_3).view(bool) & ~kept]
    large = np.flatnonzero(
        (np.bincount(meeting, minlength=len(stats)) > 0)
        & (stats[:, cv2.CC_STAT_AREA] >= _CUT_MIN_PIXELS)
    )
    large = large[large > 0]
    if large.size == 0:
        return
    _, objects, boxes, _ = cv2.connectedComponentsWithStats(kept.view(np.uint8), connectivity=8)
    for part in large:
        x, y, w, h = (int(v) for v in stats[part, :4])
        window = (slice(max(y - 1, 0), y + h + 1), slice(max(x - 1, 0), x + w + 1))
        piece = parts[window] == part
        touching = cv2.dilate(piece.view(np.uint8), _CROSS_3).view(bool) & kept[window]
        if not touching.any():
            continue
        label = int(np.bincount(objects[window][touching]).argmax())
        left, top, width, height = (int(v) for v in boxes[label, :4])
        box = (
            slice(min(top, y), max(top + height, y + h)),
            slice(min(left, x), max(left + width, x + w)),
        )
        body = objects[box] == label
        piece = parts[box] == part
        cut = cv2.dilate(piece.view(np.uint8), _CROSS_3).view(bool) & body
        inner = cv2.erode(body.view(np.uint8), _CROSS_3, borderValue=0).view(bool)
        rim = body & ~inner & ~cv2.dilate(cut.view(np.uint8), None, iterations=2).view(bool)
        if not rim.any():
            continue
        line = float(gradient[box][cut].mean())
        if line >= _CUT_EDGE_SHARE * float(gradient[box][rim].mean()):
            continue
        face = _ellipse_of(rim, body, body | piece)
        if face is not None and _solidity(body | (piece & face)) > _solidity(body):
            kept[box] |= piece & face


@dataclass(frozen=True)
class _Shade:
    """What the peeling knows of a crop's colours: ``flat`` (the light-divided
    photo), ``shadow_like`` (its per-pixel shadow test) and the table's colour
    noise ``hue_noise`` (:func:`_hue_noise`)."""

    flat: np.ndarray
    shadow_like: np.ndarray
    hue_noise: float

    def looks_like_shadow(self, region: np.ndarray) -> bool:
        """Whether at least half the pixels of ``region`` are shadow-like and at
        most half are brighter than the lit table in their brightest channel, by
        ``_BRIGHTER_NOISE_FACTOR`` times the table's colour noise: a shadow only
        takes light away (a pink pill on white paper is darker and within a
        shadow's hue tolerance, but its red is the paper's or brighter). Half,
        not the mean: a region of an object's rim and its shadow is as much a
        shadow as it is mostly one."""
        pixels = np.count_nonzero(region)
        if 2 * np.count_nonzero(self.shadow_like[region]) < pixels:
            return False
        brightest = _channel_max(self.flat)[region]
        brighter = brightest >= 1.0 + _BRIGHTER_NOISE_FACTOR * self.hue_noise
        return 2 * np.count_nonzero(brighter) <= pixels


def _keep_sharp_outlines(
    foreground: np.ndarray,
    kept: np.ndarray,
    gradient: np.ndarray,
    edges: _TableEdges,
    disc: np.ndarray,
    shade: _Shade,
) -> None:
    """Put back into ``kept`` (in place), opened with ``disc`` as the rest, every
    component of ``foreground`` (8-connected) whose outline was peeled all round
    (at most islands inside it are left: the peeling crossed no edge to reach
    them), when its outline's mean gradient (:func:`_outline_gradient`) exceeds
    :meth:`_TableEdges.outline_threshold` for its length. That threshold is a
    shadow's when what was peeled looks like one (:meth:`_Shade.looks_like_shadow`:
    half its pixels pass the per-pixel colour test, and it is in no channel
    brighter than the table), and the floor ``_EDGE_FLOOR`` takes the same
    factor. (Components 8-apart open each on its own: the disc cannot bridge
    their gap.)"""
    count, labels = cv2.connectedComponents(foreground.astype(np.uint8), connectivity=8)
    inner = cv2.erode(foreground.view(np.uint8), _CROSS_3, borderValue=0).view(bool)
    rims = kept & foreground & ~inner
    gone = np.flatnonzero(np.bincount(labels[rims], minlength=count)[1:] == 0) + 1
    if gone.size == 0:
        return
    whole = cv2.morphologyEx(foreground.astype(np.uint8), cv2.MORPH_OPEN, disc).view(bool)
    opened_area = np.bincount(labels[whole], minlength=count)
    for label in gone[opened_area[gone] > 0]:
        component = labels == label
        mean, length = _outline_gradient(component, gradient)
        shadowy = shade.looks_like_shadow(component & ~kept)
        floor = (_SHADOW_EDGE_FACTOR if shadowy else 1.0) * _EDGE_FLOOR
        if mean > floor and mean > edges.outline_threshold(length, shadowy):
            kept |= component & whole


def _outline_gradient(component: np.ndarray, gradient: np.ndarray) -> tuple[float, int]:
    """The mean gradient along a component's outline (its pixels with a
    4-neighbour outside it) and the outline's length in pixels."""
    inner = cv2.erode(component.astype(np.uint8), _CROSS_3, borderValue=0).view(bool)
    outline = component & ~inner
    length = int(np.count_nonzero(outline))
    if length == 0:
        return 0.0, 0
    return float(gradient[outline].mean()), length


# --- roles: which component is the reference --------------------------------


def _touches_edge(component: _Component, shape: tuple[int, ...]) -> bool:
    """Whether the component reaches the edge of an image of ``shape``."""
    height, width = shape[:2]
    return (
        component.left == 0
        or component.top == 0
        or component.right == width
        or component.bottom == height
    )


_POSITION_KEYS = {
    "leftmost": lambda c: (c.left, c.label),
    "rightmost": lambda c: (-c.right, c.label),
    "topmost": lambda c: (c.top, c.label),
    "bottommost": lambda c: (-c.bottom, c.label),
    "largest": lambda c: (-c.area, c.label),
    "smallest": lambda c: (c.area, c.label),
}


def _outline_of(labels: np.ndarray, component: _Component) -> np.ndarray:
    """The outer contour of ``component`` (working pixels), ``(N, 1, 2)`` int32."""
    window = labels[component.top : component.bottom, component.left : component.right]
    binary = (window == component.label).astype(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return max(contours, key=cv2.contourArea)


@dataclass(frozen=True)
class _ReferenceChooser:
    """Chooses the reference among components, and says why."""

    rule: str
    spec: ReferenceSpec | None

    def _shape(self) -> tuple[str, float | None]:
        spec = self.spec
        if spec is not None and spec.size is not None:
            return "rectangle", max(spec.size) / min(spec.size)
        if spec is not None and spec.length is not None:
            return "disc", None
        return "any", None

    def choose(
        self, components: Sequence[_Component], labels: np.ndarray, shape: tuple[int, ...]
    ) -> tuple[_Component, list[str]]:
        """The reference component and remarks (a note on the rule; a warning on a tie,
        or when no region has the described shape).

        A region cut by the photo's edge cannot be a whole reference: it is only
        chosen when every region touches the edge. Ties of the rule go to the
        lowest label, so the choice is deterministic.
        """
        whole = [c for c in components if not _touches_edge(c, shape)]
        candidates = whole or list(components)
        if self.rule != AUTO_RULE:
            chosen = min(candidates, key=_POSITION_KEYS[self.rule])
            return chosen, [_Note(f"the {self.rule} region was taken as the reference")]
        kind, aspect = self._shape()
        if kind == "any" or len(candidates) == 1:
            # Nothing known of its shape: the classic pixels-per-metric rule.
            chosen = min(candidates, key=_POSITION_KEYS[_NO_SHAPE_RULE])
            return chosen, [_Note(f"the {_NO_SHAPE_RULE} region was taken as the reference")]
        errors, keystoned = {}, {}
        size = (labels.shape[1], labels.shape[0])
        for component in candidates:
            contour = _outline_of(labels, component)
            if kind == "disc":
                errors[component.label] = disc_error(contour)
                continue
            corner = np.array([component.left, component.top])
            view = rectangle_view(contour + corner, aspect, size)
            errors[component.label] = view.error
            if view.face_on_error > SHAPE_MATCH:
                keystoned[component.label] = view.tilt_deg
        best = min(errors.values())
        what = "disc" if kind == "disc" else f"rectangle of aspect {aspect:.2f}"
        if best > SHAPE_MATCH:
            chosen = min(candidates, key=_POSITION_KEYS[_NO_SHAPE_RULE])
            within = "" if kind == "disc" else f" seen within {MAX_TILT_DEG:.0f} deg of face-on"
            # Not what the operator described: a warning, the numbers rest on a guess.
            return chosen, [
                f"{NO_SUCH_REFERENCE}, a {what}{within} (best shape error "
                f"{best:.2f}); the {_NO_SHAPE_RULE} region was taken: check that C-D lies on "
                "the reference and that its size was given right, or name it with the "
                "reference rule"
            ]
        tied = [c for c in candidates if errors[c.label] <= best + SHAPE_TIE]
        # A coin and a round pill are both discs: the coin is the larger. A card's
        # aspect is its own: the region that shows it with the least tilt (a
        # trapezoid is a rectangle of many aspects, each seen at its own tilt: a
        # longer one fits the card's aspect seen more obliquely), then the best.
        taken = "the largest of them" if kind == "disc" else "the one seen nearest face-on"
        if kind == "disc":
            chosen = min(tied, key=_POSITION_KEYS["largest"])
        else:
            chosen = min(
                tied, key=lambda c: (keystoned.get(c.label, 0.0), errors[c.label], c.label)
            )
        seen = (
            f"; it matches only as seen about {keystoned[chosen.label]:.0f} deg from face-on"
            if chosen.label in keystoned
            else ""
        )
        remarks: list[str] = [
            _Note(
                f"the region most like a {what} was taken as the reference "
                f"(shape error {errors[chosen.label]:.3f}{seen})"
            )
        ]
        if len(tied) > 1:
            remarks.append(
                f"{len(tied)} regions look about equally like the reference ({what}); "
                f"{taken} was taken: check that C-D lies on the reference, or name it "
                "with the reference rule"
            )
        return chosen, remarks


def _marker_overlaps(labels: np.ndarray, marker: _Marker, scale_xy: np.ndarray) -> np.ndarray:
    """Pixels of each label inside the marker's quadrilateral (working resolution)."""
    quad = np.zeros(labels.shape, dtype=np.uint8)
    corners = (marker.corners_px + 0.5) / scale_xy - 0.5
    cv2.fillPoly(quad, [np.round(corners * 16).astype(np.int32)], 1, shift=4)
    return np.bincount(labels[quad.astype(bool)], minlength=int(labels.max()) + 1)


def _assign_roles(
    found: _Classification,
    marker: _Marker | None,
    scale_xy: np.ndarray,
    chooser: _ReferenceChooser,
) -> tuple[dict[int, str], list[str]]:
    """Role of each component: ``"object"``, ``"reference"`` or ``"carrier"`` (dropped).

    Returns the roles by label and remarks for the operator. When the operator
    gave the scale (units per pixel) no region is the reference: each is an object.
    """
    components = found.components
    if chooser.spec is not None and chooser.spec.scale is not None:
        return {c.label: "object" for c in components}, []
    if marker is not None:
        return _roles_with_marker(found, marker, scale_xy)
    if len(components) == 1:
        return {components[0].label: "object"}, [
            f"{ONLY_ONE_REGION}: it is taken as the object and no reference was found; "
            "put a reference of known size beside the object, or give the scale directly"
        ]
    reference, remarks = chooser.choose(components, found.labels, found.labels.shape)
    roles = {c.label: "object" for c in components}
    roles[reference.label] = "reference"
    return roles, remarks


def _roles_with_marker(
    found: _Classification, marker: _Marker, scale_xy: np.ndarray
) -> tuple[dict[int, str], list[str]]:
    """Every component is an object, except the small one that carries the marker."""
    overlaps = _marker_overlaps(found.labels, marker, scale_xy)
    marker_area = marker.area_px / float(scale_xy[0] * scale_xy[1])
    roles = {}
    notes: list[str] = [_Note(f"ArUco marker {marker.marker_id} was taken as the reference")]
    for component in found.components:
        inside = overlaps[component.label] if component.label < overlaps.size else 0
        carries = inside >= 0.5 * marker_area and component.area <= (
            _CARRIER_AREA_RATIO * marker_area
        )
        roles[component.label] = "carrier" if carries else "object"
        if inside >= 0.5 * marker_area and not carries:
            notes.append(
                f"the ArUco marker lies on a region {component.area / marker_area:.0f} times "
                "its size; that region is kept as an object"
            )
    if "object" not in roles.values():
        notes.append("no object found besides the ArUco marker")
    return roles, notes


def _assign_box_roles(
    found: _Classification,
    marker: _Marker | None,
    scale_xy: np.ndarray,
    small_box: tuple[int, int, int, int],
    chooser: _ReferenceChooser,
) -> tuple[dict[int, str], list[str]]:
    """The reference for box mode: the marker, or by ``rule`` among regions outside the box."""
    if marker is not None:
        return {}, [_Note(f"ArUco marker {marker.marker_id} was taken as the reference")]
    x0, y0, x1, y1 = small_box
    inside = np.bincount(found.labels[y0:y1, x0:x1].ravel(), minlength=int(found.labels.max()) + 1)
    outside = [c for c in found.components if inside[c.label] < 0.5 * c.area]
    if not outside:
        return {}, [
            "no reference found outside the box: put a reference of known size in the "
            "photo, or give the scale directly"
        ]
    reference, remarks = chooser.choose(outside, found.labels, found.labels.shape)
    return {reference.label: "reference"}, [
        _Note(f"{remark} (outside the box)") if isinstance(remark, _Note) else remark
        for remark in remarks
    ]


def _border_notes(found: _Classification, roles: dict[int, str]) -> list[str]:
    """A remark when an object or the reference touches the edge of the photo."""
    touching = {
        roles[c.label]
        for c in found.components
        if roles.get(c.label) in ("object", "reference") and _touches_edge(c, found.labels.shape)
    }
    return [
        f"the {role} touches the edge of the photo: it may be cut off and measured too small"
        for role in sorted(touching)
    ]


# --- full-resolution mask -----------------------------------------------------

_BACKGROUND, _OBJECT, _REFERENCE = 0, 1, 2  # internal class ids before the final lookup


def _class_map(found: _Classification, roles: dict[int, str]) -> np.ndarray:
    """Internal class map (0 background, 1 object, 2 reference) from component roles.

    (Looked up only in the classified boxes: outside them every label is 0;
    the labels left are the components'.)
    """
    labels = found.labels
    lookup = np.zeros(max((c.label for c in found.components), default=0) + 1, dtype=np.uint8)
    for label, role in roles.items():
        lookup[label] = {"object": _OBJECT, "reference": _REFERENCE}.get(role, _BACKGROUND)
    classes = np.zeros(labels.shape, dtype=np.uint8)
    for box in found.boxes:
        classes[box] = np.take(lookup, labels[box])  # (twice as fast as indexing)
    return classes


def _local_mean(
    colours: np.ndarray,
    weight: np.ndarray | None,
    sigma: float,
    ys: np.ndarray,
    xs: np.ndarray,
    parts: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Colour of ``colours`` averaged over the ``weight`` pixels near each of
    the pixels ``(xs, ys)``, with a Gaussian of ``sigma`` (``weight`` ``None``:
    ``colours`` are already 0 off the pixels that count; ``parts``: see
    :func:`_local_sum`).

    ``colours`` is ``(h, w, 4)`` float32: the colour (0..255) and a channel
    of ones. Returns ``(mean, support)``: ``(n, 3)`` float32 colours and the
    ``(n,)`` blurred weight there (near 0 where no weighted pixel is near).
    The colour and the weight are blurred together (:func:`_local_sum`),
    and the division is made only at ``(xs, ys)``.
    """
    blurred = _local_sum(colours, weight, sigma, ys, xs, parts)
    support = blurred[:, 3]
    return blurred[:, :3] / np.maximum(support, 1e-6)[:, None], support


def _local_sum(
    values: np.ndarray,
    weight: np.ndarray | None,
    sigma: float,
    ys: np.ndarray,
    xs: np.ndarray,
    parts: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """``values`` (``(h, w, c)`` float32) times ``weight`` (``(h, w)`` bool;
    ``None``: ``values`` are already 0 off the weighted pixels), blurred with a
    Gaussian of ``sigma``, at the pixels ``(xs, ys)``: ``(n, c)``.

    Blurred over a crop around the pixels, ``sigma``'s reach wider (the
    kernel's reach is the crop's margin, or the window's own edge) — or a
    crop for each of ``parts`` (indices into ``xs``, ``ys``:
    :func:`_band_parts`), which gives the very values of the one crop: OpenCV
    works each row's last few values, those its vectors do not fill, apart,
    so a crop that ends at the window's right edge starts where the one crop
    does or a multiple of ``_ROW_ALIGN`` columns further.
    """
    reach = _gaussian_reach(sigma)
    width = values.shape[1]
    x0 = max(0, int(xs.min()) - reach)
    if parts is None:
        return _blurred_at(values, weight, sigma, (ys, xs), x0)
    blurred = np.empty((ys.size, values.shape[2]), dtype=np.float32)
    for part in parts:
        part_x0 = max(0, int(xs[part].min()) - reach)
        if int(xs[part].max()) + 1 + reach >= width:  # the crop ends at the window's edge
            part_x0 = x0 + (part_x0 - x0) // _ROW_ALIGN * _ROW_ALIGN
        blurred[part] = _blurred_at(values, weight, sigma, (ys[part], xs[part]), part_x0)
    return blurred


def _blurred_at(
    values: np.ndarray,
    weight: np.ndarray | None,
    sigma: float,
    points: tuple[np.ndarray, np.ndarray],
    x0: int,
) -> np.ndarray:
    """:func:`_local_sum` at ``points`` = ``(ys, xs)`` over one crop that starts
    at column ``x0`` and reaches ``sigma``'s reach beyond them (within the window)."""
    ys, xs = points
    reach = _gaussian_reach(sigma)
    height, width = values.shape[:2]
    y0, y1 = max(0, int(ys.min()) - reach), min(height, int(ys.max()) + 1 + reach)
    x1 = min(width, int(xs.max()) + 1 + reach)
    crop = (slice(y0, y1), slice(x0, x1))
    if weight is None:
        return cv2.GaussianBlur(values[crop], (0, 0), sigma)[ys - y0, xs - x0]
    masked = np.zeros((y1 - y0, x1 - x0, values.shape[2]), dtype=np.float32)
    cv2.copyTo(values[crop], weight[crop].view(np.uint8), masked)
    return cv2.GaussianBlur(masked, (0, 0), sigma, dst=masked)[ys - y0, xs - x0]


def _gaussian_reach(sigma: float) -> int:
    """How far (pixels) OpenCV's float Gaussian blur of ``sigma`` reaches: the
    kernel it chooses for ``ksize = (0, 0)`` is ``round(8 sigma + 1) | 1`` wide."""
    return (round(8.0 * sigma + 1.0) | 1) // 2


def _band_parts(
    band: np.ndarray, ys: np.ndarray, xs: np.ndarray, reach: int
) -> list[np.ndarray] | None:
    """The band pixels ``(xs, ys)`` (the true pixels of ``band``, in raster
    order) in the groups whose local means are blurred each in a crop of its
    own (:func:`_local_sum`): the band's 8-connected pieces, when their crops
    (each piece's box, ``reach`` wider on every side, within the window) hold
    fewer pixels together than the one crop around them all (objects apart in
    one window); ``None`` when they do not. Each group is ``(m,)`` indices
    into ``xs`` and ``ys``."""
    # (the pieces' outer contours first: far cheaper than labelling, and one
    # piece, the common case, is told at once)
    outlines, _ = cv2.findContours(band.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if len(outlines) < 2:
        return None
    height, width = band.shape

    def crop_area(x0: int, y0: int, x1: int, y1: int) -> int:
        return (min(height, y1 + reach) - max(0, y0 - reach)) * (
            min(width, x1 + reach) - max(0, x0 - reach)
        )

    boxes = [cv2.boundingRect(outline) for outline in outlines]
    pieces = sum(crop_area(x, y, x + w, y + h) for x, y, w, h in boxes)
    if pieces >= crop_area(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1):
        return None
    count, labels = cv2.connectedComponents(band.view(np.uint8), connectivity=8)
    piece = labels[ys, xs]
    order = np.argsort(piece, kind="stable")
    return np.split(order, np.searchsorted(piece[order], np.arange(2, count)))


def _band(foreground: np.ndarray) -> np.ndarray:
    """Pixels within ``_BAND_RADIUS`` of the foreground's boundary (working resolution)."""
    binary = foreground.astype(np.uint8)
    kernel = _band_disc()
    return cv2.dilate(binary, kernel) != cv2.erode(binary, kernel)


def _band_disc() -> np.ndarray:
    """The disc of radius ``_BAND_RADIUS`` (structuring element)."""
    size = 2 * _BAND_RADIUS + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


@dataclass(frozen=True)
class _Refined:
    """The full-resolution internal class map and what was decided in the band."""

    classes: np.ndarray
    band_rows: np.ndarray
    band_cols: np.ndarray
    alpha: np.ndarray


def _refine(
    image: np.ndarray, small: np.ndarray, class_small: np.ndarray, scale_xy: np.ndarray
) -> _Refined:
    """Enlarge the internal class map to ``image`` and re-decide its boundary band.

    A band pixel of colour ``p`` becomes foreground when its coverage
    ``alpha = (p - b).(o - b) / |o - b|^2`` exceeds 1/2, with ``o`` and ``b``
    the local object and background colours (``_SAMPLE_DEPTH`` pixels inside
    and outside); where they differ by less than ``_MIN_CONTRAST``, or where
    ``p`` is on a rim (no mix of the two, :func:`_is_mix`, lighter than the
    table, :func:`_lighter`, on a line of such pixels: :func:`_rim_coverage`),
    the enlarged class is kept and ``alpha`` is NaN. Near a rim, ``alpha``
    is the coverage by the object and its rim, and the band's pixels that a
    rim encloses are the object's (:func:`_close_gaps`). The band reaches ``_BAND_RADIUS`` working
    pixels either side of the classification's boundary.
    The work is done in windows around the foreground's regions
    (``_REFINE_MARGIN`` working pixels wider, beyond the reach of every local
    step), so that its cost follows the regions' size, not the photo's.
    """
    height, width = image.shape[:2]
    foreground = class_small != _BACKGROUND
    classes = _enlarge(class_small, (width, height))
    rows_of = _block_starts(class_small.shape[0], height)
    cols_of = _block_starts(class_small.shape[1], width)
    sure = _SAMPLE_DEPTH
    sigma = float(_SAMPLE_DEPTH)
    found_rows, found_cols, found_alpha = [], [], []
    for window in _regions_of_interest(foreground, _REFINE_MARGIN):
        inside = foreground[window]
        band = _band(inside)
        band_y, band_x = np.nonzero(band)
        if band_y.size == 0:
            continue
        parts = _band_parts(band, band_y, band_x, _gaussian_reach(sigma))
        inner = ~_grow(~inside, sure)
        outer = ~_grow(inside, sure)
        near_classes = cv2.dilate(class_small[window], None, iterations=sure + 1)
        top, left = window[0].start, window[1].start
        rows, cols, index = _blocks(band_y + top, band_x + left, rows_of, cols_of)
        colours = cv2.cvtColor(small[window], cv2.COLOR_RGB2RGBA)  # the colour and a 1
        colours[:, :, 3] = 1
        colours = colours.astype(np.float32)
        # The local colours per working band pixel, then spread over the
        # full-size pixels of each (``index``), not worked out for each of them.
        o, object_support = _local_mean(colours, inner, sigma, band_y, band_x, parts)
        b, background_support = _local_mean(colours, outer, sigma, band_y, band_x, parts)
        contrast = o - b
        power = (contrast**2).sum(axis=1)
        steady = (power > _MIN_CONTRAST**2) & (object_support > 0.01) & (background_support > 0.01)
        # (np.take on flat positions: several times faster than indexing with
        # rows and columns. The row sum spelled out, ten times faster than
        # mix.sum(axis=1) and the same values: that sum adds the three in turn
        # to +0.0, which only turns a -0.0 into +0.0, as adding 0.0 at the end.)
        at = rows * width + cols
        p = np.take(image.reshape(-1, 3), at, axis=0).astype(np.float32)
        mix = (p - np.take(b, index, axis=0)) * np.take(contrast, index, axis=0)
        dot = mix[:, 0] + mix[:, 1] + mix[:, 2] + np.float32(0.0)
        alpha = dot / np.take(np.maximum(power, 1e-6), index)
        usable = np.take(steady, index)
        near = np.take(near_classes[band_y, band_x], index)
        # Rim candidates: kept foreground, lighter than the table and no mix,
        # beyond a step's overshoot; then beyond the table's noise too.
        rim = usable & (np.take(classes.reshape(-1), at) != _BACKGROUND)
        no_noise = np.zeros_like(power)
        rim[rim] = _lighter(p[rim], b, contrast, index[rim], no_noise)
        overshoot = _MIX_OVERSHOOT * np.sqrt(power)
        rim[rim] = ~_is_mix(p[rim], b, contrast, alpha[rim], index[rim], overshoot)
        # A rim runs along the object's edge: along at least a side of a card
        # (a quarter of the outline, the band's length in full-size pixels). Each
        # step below only narrows the candidates: too few, and none is a rim.
        outline = band_y.size / (2 * _BAND_RADIUS + 1) * float(max(scale_xy))
        enough = _RIM_SHARE * outline
        if np.count_nonzero(rim) >= enough:
            spread = _full_spread(colours, outer, sigma, (band_y, band_x, parts), b, scale_xy)
            stray = _MIX_NOISE_SIGMAS * spread + overshoot
            rim[rim] = ~_is_mix(p[rim], b, contrast, alpha[rim], index[rim], stray)
            noise = _MIX_NOISE_SIGMAS * spread
            rim[rim] = _lighter(p[rim], b, contrast, index[rim], noise)
        if np.count_nonzero(rim) < enough:
            rim[:] = False
        else:
            coverage, rim = _rim_coverage(
                p,
                (b, contrast),
                index,
                rim,
                (band_y, band_x, inside.shape, parts),
                (spread, stray),
                scale_xy,
            )
            if np.count_nonzero(rim) < enough:
                coverage[:] = np.nan
                rim[:] = False
            alpha = np.where(np.isnan(coverage), alpha, coverage)
            usable &= ~rim
        alpha = np.where(usable, alpha, np.nan).astype(np.float32)
        decided = np.where(alpha > 0.5, near, _BACKGROUND).astype(np.uint8)
        flat_classes = classes.reshape(-1)  # a view: classes is a new contiguous array
        flat_classes[at] = np.where(usable, decided, np.take(flat_classes, at))
        full = (
            slice(rows_of[window[0].start], rows_of[window[0].stop]),
            slice(cols_of[window[1].start], cols_of[window[1].stop]),
        )
        _drop_islands(classes[full], inside)
        if rim.any():
            _close_gaps(classes, full, at, near, rim)
        found_rows.append(rows)
        found_cols.append(cols)
        found_alpha.append(alpha)
    if not found_rows:
        empty = np.zeros(0, dtype=np.int64)
        return _Refined(classes, empty, empty, np.zeros(0, dtype=np.float32))
    return _Refined(
        classes, np.concatenate(found_rows), np.concatenate(found_cols), np.concatenate(found_alpha)
    )


def _full_spread(
    colours: np.ndarray,
    outer: np.ndarray,
    sigma: float,
    band: tuple[np.ndarray, np.ndarray, Sequence[np.ndarray] | None],
    b: np.ndarray,
    scale_xy: np.ndarray,
) -> np.ndarray:
    """The table's noise at full resolution near each working band pixel
    (``band``: their rows ``ys``, columns ``xs`` and :func:`_band_parts`),
    ``(n,)`` float32, 0..255 RGB, per channel.

    It is the spread of the background pixels (``outer``) about their local
    mean ``b``, over the local colours' Gaussian of ``sigma``: the root mean
    square over the channels of each channel's standard deviation, measured
    on the working image and scaled to full resolution as the working
    image's area averaging divided a white noise's deviation (by the square
    root of the pixels it averages; a texture's is overestimated, not under).
    """
    squares = colours * colours  # the colour's squares and a 1
    ys, xs, parts = band
    mean_square, _ = _local_mean(squares, outer, sigma, ys, xs, parts)
    variance = np.maximum(mean_square - b * b, 0.0).mean(axis=1)
    return np.sqrt(variance * float(scale_xy[0] * scale_xy[1])).astype(np.float32)


def _is_mix(
    p: np.ndarray,
    b: np.ndarray,
    contrast: np.ndarray,
    alpha: np.ndarray,
    index: np.ndarray,
    stray: np.ndarray,
) -> np.ndarray:
    """Whether each full-size band pixel's colour ``p`` can be a mix of its
    local background ``b`` and object ``b + contrast`` (working pixel
    ``index``'s), ``(m,)`` bool: its distance from the segment between them
    (from ``b`` where ``alpha < 0``, from the object's colour where
    ``alpha > 1``) is at most ``stray`` (``_MIX_NOISE_SIGMAS``, ``_MIX_OVERSHOOT``)."""
    along = np.clip(alpha, 0.0, 1.0)[:, None] * np.take(contrast, index, axis=0)
    off = p - np.take(b, index, axis=0) - along
    distance = off[:, 0] ** 2 + off[:, 1] ** 2 + off[:, 2] ** 2
    return distance <= np.take(stray, index) ** 2


def _lighter(
    p: np.ndarray, b: np.ndarray, contrast: np.ndarray, index: np.ndarray, noise: np.ndarray
) -> np.ndarray:
    """Whether each full-size band pixel's colour ``p`` is lighter than its
    local table ``b`` (working pixel ``index``'s) by more than a mix can
    stray, ``(m,)`` bool: its luma (Rec. 601, a JPEG's full-resolution
    channel) above the table's by more than ``noise`` (per working pixel)
    plus ``_MIX_OVERSHOOT`` times the step in luma between table and object.

    Only such a pixel can be a rim. A JPEG codes colour at half resolution:
    next to a vivid object the table takes on its hue at the table's own
    luma, no mix in colour but none lighter. A line darker than the table
    beside an object may be the shadow in the gap under its edge (a contact
    shadow that keeps under 8 % of the light has lost the table's hue too),
    which is table."""
    table = b @ _LUMA
    step = np.abs(contrast @ _LUMA)
    lighter = p @ _LUMA - np.take(table, index)
    return lighter > np.take(noise + _MIX_OVERSHOOT * step, index)


def _rim_coverage(
    p: np.ndarray,
    local: tuple[np.ndarray, np.ndarray],
    index: np.ndarray,
    rim: np.ndarray,
    band: tuple[np.ndarray, np.ndarray, tuple[int, int], Sequence[np.ndarray] | None],
    noise: tuple[np.ndarray, np.ndarray],
    scale_xy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The object's coverage of each full-size band pixel where the object
    has a rim of a third colour, ``(m,)`` float32, NaN elsewhere; and which
    of the ``rim`` pixels lie on a rim line, ``(m,)`` bool.

    ``rim`` marks the pixels that are no mix of object and table and kept a
    foreground class; their colours, averaged near each working band pixel
    (``band`` = its rows, columns, the window's shape and
    :func:`_band_parts`) over the local
    colours' Gaussian, are the local rim colour ``r``. Where that average
    rests on a line of such pixels along at least half of the edge (the
    Gaussian's weight of such a line ``_BAND_RADIUS`` away from it) and ``r``
    lies beyond ``b``, away from ``o``, farther from ``b`` than a mix can
    ``stray`` (the rim is no mix itself; JPEG's colour bleed next to an edge,
    whose average lies between the two, is not a rim), those pixels are a rim
    line. Where, besides, ``r`` lies off the line of ``b`` and ``o`` by
    twice ``_MIX_NOISE_SIGMAS`` times the table's noise ``spread`` (so that
    noise alone moves a table pixel's ``v`` past 1/2 no more often than past
    the classification's low threshold), a pixel ``p = b + u (o - b) +
    v (r - b)`` (least squares) is covered by the object, its rim included,
    to ``u + v``: a mix of the rim
    and the object, which the two-colour coverage takes for table when the
    rim is light like the table, is the object's.
    """
    b, contrast = local
    spread, stray = noise
    ys, xs, shape, parts = band
    count = np.bincount(index[rim], minlength=ys.size).astype(np.float32)
    sums = np.zeros((*shape, 4), dtype=np.float32)
    for channel in range(3):
        sums[ys, xs, channel] = np.bincount(index[rim], weights=p[rim, channel], minlength=ys.size)
    sums[ys, xs, 3] = count
    sigma = float(_SAMPLE_DEPTH)
    r, support = _local_mean(sums, None, sigma, ys, xs, parts)  # (0 where no rim pixel counts)
    # A line of rim pixels, one full-size pixel wide, holds about one pixel per
    # full-size pixel of its length: max(scale) per working pixel along it.
    line = float(max(scale_xy)) / (np.sqrt(2.0 * np.pi) * sigma)
    line *= float(np.exp(-(_BAND_RADIUS**2) / (2.0 * sigma**2)))
    rim_colour = r - b
    cc = (contrast * contrast).sum(axis=1)
    cd = (contrast * rim_colour).sum(axis=1)
    dd = (rim_colour * rim_colour).sum(axis=1)
    off = dd - cd * cd / np.maximum(cc, 1e-6)  # |r - b| off the line of b and o, squared
    least = 2.0 * _MIX_NOISE_SIGMAS * spread
    lined = support >= 0.5 * line
    # r beyond b, away from o (the light rim of a dark object), and itself no
    # mix: farther from b than a mix can stray
    beyond = (cd < 0) & (dd > stray * stray)
    known = lined & beyond & (off > least * least)
    determinant = np.maximum(cc * off, 1e-6)
    coverage = np.full(index.size, np.nan, dtype=np.float32)
    on_line = rim & np.take(lined & beyond, index)
    use = np.take(known, index)
    if not use.any():
        return coverage, on_line
    at = index[use]
    e = p[use] - b[at]
    ce = (e * contrast[at]).sum(axis=1)
    de = (e * rim_colour[at]).sum(axis=1)
    u = (dd[at] * ce - cd[at] * de) / determinant[at]
    v = (cc[at] * de - cd[at] * ce) / determinant[at]
    coverage[use] = u + v
    return coverage, on_line


def _close_gaps(
    classes: np.ndarray,
    full: tuple[slice, slice],
    at: np.ndarray,
    near: np.ndarray,
    rim: np.ndarray,
) -> None:
    """Give back, in place, the band pixels (flat positions ``at`` in
    ``classes``, their nearby classes ``near``) that the band left as
    background inside an object's outline (the window ``full``).

    A kept pixel that is no mix of object and table — a light rim — can
    enclose band pixels that are mixes of the rim and the object; their
    colour leans to the table's (the rim is light like it), but they lie
    inside the object, which, as the classification fills its holes, has
    none. Next to the pixels of a rim line (``rim``, of the band pixels) the
    outline is first closed as the classification's is (3 x 3), so that a
    rim seen only every other pixel (where it falls across two pixels, each
    a mix that looks like the table) still encloses what lies inside it."""
    window = classes[full]
    foreground = window != _BACKGROUND
    rows, cols = np.divmod(at, classes.shape[1])
    rows -= full[0].start
    cols -= full[1].start
    on_rim = np.zeros(window.shape, dtype=np.uint8)
    on_rim[rows[rim], cols[rim]] = 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    closed = cv2.morphologyEx(foreground.view(np.uint8), cv2.MORPH_CLOSE, kernel)
    outline = foreground | (closed.view(bool) & cv2.dilate(on_rim, kernel).view(bool))
    gaps = _fill_holes(outline) & ~foreground
    if not gaps.any():
        return
    inside = gaps[rows, cols]
    classes.reshape(-1)[at[inside]] = near[inside]


def _drop_islands(classes: np.ndarray, inside: np.ndarray) -> None:
    """Set to background, in place, the foreground islands the band left in
    ``classes`` (a full-resolution window): pieces that hold no pixel of the
    classified foreground's core (``inside``, the same window at working
    resolution, eroded by the band; a region too small to have a core counts
    whole). The band moves a boundary; it does not leave specks of the table
    whose colour happens to lean towards the object's."""
    foreground = (classes != _BACKGROUND).astype(np.uint8)
    count, labels = cv2.connectedComponents(foreground, connectivity=8)
    if count <= 2:
        return  # one piece (or none): no island
    regions, region_labels = cv2.connectedComponents(inside.astype(np.uint8), connectivity=8)
    core = cv2.erode(inside.astype(np.uint8), _band_disc()).view(bool)
    has_core = np.bincount(region_labels[core], minlength=regions) > 0
    anchor = core | (inside & ~has_core[region_labels])
    height, width = classes.shape
    anchor_full = cv2.resize(
        anchor.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST
    ).view(bool)
    anchored = np.bincount(labels[anchor_full], minlength=count) > 0
    anchored[0] = True
    classes[~anchored[labels]] = _BACKGROUND


def _block_starts(small_size: int, full_size: int) -> np.ndarray:
    """Where each working row (or column) begins at full size, ``(small_size + 1,)``.

    Full-size row ``i`` belongs to working row ``k`` when
    ``starts[k] <= i < starts[k + 1]``, the same correspondence as
    :func:`_enlarge`'s nearest-neighbour resize.
    """
    if small_size == full_size:
        return np.arange(full_size + 1)
    if small_size > np.iinfo(np.uint16).max:  # pragma: no cover - working images are small
        raise ParameterError(f"a working image of {small_size} rows is too large")
    index = np.arange(small_size, dtype=np.uint16).reshape(small_size, 1)
    owner = cv2.resize(index, (1, full_size), interpolation=cv2.INTER_NEAREST_EXACT).ravel()
    return np.searchsorted(owner, np.arange(small_size + 1), side="left")


def _blocks(
    ys: np.ndarray, xs: np.ndarray, rows_of: np.ndarray, cols_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The full-size pixels of working pixels ``(xs, ys)``.

    Returns ``(rows, cols, index)``: every full-size pixel that the working
    pixel ``index`` covers (see :func:`_block_starts`).
    """
    top, left = rows_of[ys], cols_of[xs]
    heights, widths = rows_of[ys + 1] - top, cols_of[xs + 1] - left
    counts = heights * widths
    if np.all(counts == 1):
        return top, left, np.arange(ys.size)
    index = np.repeat(np.arange(ys.size), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return top[index] + offset // widths[index], left[index] + offset % widths[index], index


def _enlarge(small: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``small`` resized to ``size`` = ``(width, height)`` with nearest neighbour."""
    if small.shape[::-1] == size:
        return small.copy()
    return cv2.resize(small, size, interpolation=cv2.INTER_NEAREST_EXACT)


def _to_class_ids(internal: np.ndarray, classes: ClassIds) -> np.ndarray:
    """Translate the internal 0/1/2 map into the configured class ids, in place
    (a full-size map: no second one); returns ``internal`` (untouched when the
    ids are the internal ones, the defaults: a 12 MP map's pass is 3-4 ms)."""
    if (classes.background, classes.object, classes.reference) == (
        _BACKGROUND,
        _OBJECT,
        _REFERENCE,
    ):
        return internal
    lookup = np.full(256, classes.background, dtype=np.uint8)
    lookup[_OBJECT] = classes.object
    lookup[_REFERENCE] = classes.reference
    return cv2.LUT(internal, lookup, dst=internal)


def _marker_pixels(
    shape: tuple[int, ...], marker: _Marker
) -> tuple[tuple[slice, slice], np.ndarray]:
    """The pixels whose centres lie inside the marker's quadrilateral.

    Returns ``(window, depth)``: the window around the marker and, for each
    pixel in it, the distance in px from its centre to the nearest side
    (positive inside, negative outside). The test is exact, not a rasterised
    outline, so the reference's area matches the quadrilateral's.
    """
    height, width = shape[:2]
    corners = marker.corners_px
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 1, (width, height))
    ys, xs = np.mgrid[y0 : max(y0, y1), x0 : max(x0, x1)]
    centre = corners.mean(axis=0)
    first = corners[1] - corners[0]
    inward = first[0] * (centre[1] - corners[0][1]) - first[1] * (centre[0] - corners[0][0])
    orientation = 1.0 if inward > 0 else -1.0
    depth = np.full(ys.shape, np.inf)
    for start, end in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        edge = end - start
        side = (edge[0] * (ys - start[1]) - edge[1] * (xs - start[0])) / np.hypot(*edge)
        depth = np.minimum(depth, orientation * side)
    return (slice(y0, max(y0, y1)), slice(x0, max(x0, x1))), depth


def _confidence(found: _Classification, class_small: np.ndarray, refined: _Refined) -> np.ndarray:
    """Probability of each pixel's class, ``(H, W)`` float32 in [0.5, 1].

    Away from boundaries it is a logistic function of how far the pixel's
    distance from the background lies from the threshold, in noise units; in
    the refined band it is ``0.5 + |alpha - 0.5|``. Pixels that cleaning
    moved to the other side (filled holes, dropped specks) get 0.5.
    """
    spread = max(found.noise, 0.5)
    z = np.clip((found.distance - found.threshold) / spread, -30.0, 30.0)
    foreground_probability = 1.0 / (1.0 + np.exp(-z))
    chosen = np.where(
        class_small != _BACKGROUND, foreground_probability, 1.0 - foreground_probability
    )
    chosen = np.maximum(chosen, 0.5).astype(np.float32)
    height, width = refined.classes.shape
    confidence = cv2.resize(chosen, (width, height), interpolation=cv2.INTER_LINEAR)
    alpha = refined.alpha
    decided = ~np.isnan(alpha)
    confidence[refined.band_rows[decided], refined.band_cols[decided]] = 0.5 + np.minimum(
        np.abs(alpha[decided] - 0.5), 0.5
    )
    return confidence


# --- ArUco markers ------------------------------------------------------------


def _aruco_detector(
    dictionary_name: str | None, zoom: float = 1.0
) -> cv2.aruco.ArucoDetector | None:
    """A detector for the named predefined dictionary, or ``None``.

    ``zoom`` > 1 is for a crop that many times smaller than the image whose
    marker-size limits (relative to the image's size) should hold.

    Raises:
        ParameterError: the name is not a ``cv2.aruco`` predefined dictionary.
    """
    if dictionary_name is None:
        return None
    if dictionary_name not in ARUCO_DICTIONARIES:
        raise ParameterError(
            f"unknown ArUco dictionary {dictionary_name!r}: use one of "
            + ", ".join(ARUCO_DICTIONARIES)
        )
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary_name))
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    parameters.minMarkerPerimeterRate *= zoom
    parameters.maxMarkerPerimeterRate *= zoom
    return cv2.aruco.ArucoDetector(dictionary, parameters)


def _detect_marker(
    detector: cv2.aruco.ArucoDetector,
    image: np.ndarray,
    small: np.ndarray,
    scale_xy: np.ndarray,
    origin: tuple[int, int] = (0, 0),
    crop: np.ndarray | None = None,
) -> _Marker | None:
    """Find the largest marker on the working image (or on its ``crop`` whose
    top-left pixel is ``origin``), then re-locate it at full resolution."""
    seen = small if crop is None else crop
    corners, ids, _ = detector.detectMarkers(cv2.cvtColor(seen, cv2.COLOR_RGB2GRAY))
    if ids is None or len(ids) == 0:
        return None
    shift = np.asarray(origin, dtype=np.float64)
    quads = [(c.reshape(4, 2).astype(np.float64) + shift + 0.5) * scale_xy - 0.5 for c in corners]
    areas = [cv2.contourArea(q.astype(np.float32)) for q in quads]
    best = int(np.argmax(areas))
    marker = _Marker(int(np.ravel(ids)[best]), quads[best])
    if small is image:
        return marker
    return _relocate_marker(detector, image, marker) or marker


def _relocate_marker(
    detector: cv2.aruco.ArucoDetector, image: np.ndarray, marker: _Marker
) -> _Marker | None:
    """The same marker detected again on a full-resolution crop around it, or ``None``."""
    height, width = image.shape[:2]
    x, y, w, h = cv2.boundingRect(marker.corners_px.astype(np.float32))
    margin = max(8, round(0.25 * max(w, h)))
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
    crop = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    corners, ids, _ = detector.detectMarkers(crop)
    if ids is None:
        return None
    for quad, marker_id in zip(corners, np.ravel(ids), strict=True):
        if int(marker_id) == marker.marker_id:
            return _Marker(
                marker.marker_id, quad.reshape(4, 2).astype(np.float64) + np.array([x0, y0])
            )
    return None


# --- box-prompted GrabCut -----------------------------------------------------


def _box_to_small(
    box: tuple[int, int, int, int], scale_xy: np.ndarray, shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    """A full-resolution ``(x0, y0, x1, y1)`` box in working-resolution pixels."""
    height, width = shape[:2]
    x0, x1 = box[0] / scale_xy[0], box[2] / scale_xy[0]
    y0, y1 = box[1] / scale_xy[1], box[3] / scale_xy[1]
    left, top = min(width - 1, int(x0)), min(height - 1, int(y0))
    return (
        left,
        top,
        max(left + 1, min(width, int(np.ceil(x1)))),
        max(top + 1, min(height, int(np.ceil(y1)))),
    )


def _grabcut(
    small: np.ndarray, box: tuple[int, int, int, int], found: _Classification, iterations: int
) -> np.ndarray:
    """The target object inside ``box`` (working resolution), as a boolean map.

    GrabCut runs on a crop around the box (shrunk to at most
    ``_GRABCUT_PIXELS``): outside the box is certain background; inside, the
    automatic foreground is probable foreground and the rest probable
    background. The largest separated region, holes filled, is the target.
    """
    height, width = small.shape[:2]
    x0, y0, x1, y1 = box
    margin = max(8, round(0.1 * max(x1 - x0, y1 - y0)))
    cx0, cy0 = max(0, x0 - margin), max(0, y0 - margin)
    cx1, cy1 = min(width, x1 + margin), min(height, y1 + margin)
    crop = small[cy0:cy1, cx0:cx1]
    seed = np.full(crop.shape[:2], cv2.GC_BGD, dtype=np.uint8)
    inside = (slice(y0 - cy0, y1 - cy0), slice(x0 - cx0, x1 - cx0))
    automatic = found.distance[cy0:cy1, cx0:cx1] > found.threshold
    seed[inside] = np.where(automatic[inside], cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    factor = max(1.0, float(np.sqrt(crop.shape[0] * crop.shape[1] / _GRABCUT_PIXELS)))
    size = (max(2, round(crop.shape[1] / factor)), max(2, round(crop.shape[0] / factor)))
    work = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if factor > 1 else crop
    work_seed = cv2.resize(seed, size, interpolation=cv2.INTER_NEAREST) if factor > 1 else seed
    if (
        not np.isin(work_seed, (cv2.GC_BGD, cv2.GC_PR_BGD)).any()
        or not np.isin(work_seed, (cv2.GC_FGD, cv2.GC_PR_FGD)).any()
    ):
        return np.zeros((height, width), dtype=bool)
    cv2.setRNGSeed(_GRABCUT_SEED)
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(
        np.ascontiguousarray(work),
        work_seed,
        None,
        background_model,
        foreground_model,
        max(1, iterations),
        cv2.GC_INIT_WITH_MASK,
    )
    result = np.isin(work_seed, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    result = _enlarge(result, (crop.shape[1], crop.shape[0]))
    target = np.zeros((height, width), dtype=bool)
    target[cy0:cy1, cx0:cx1] = _largest(_clean(result.astype(bool)))
    return target


def _largest(binary: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of ``binary`` (empty if there is none)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        binary.astype(np.uint8), connectivity=8
    )
    if count < 2:
        return np.zeros(binary.shape, dtype=bool)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
