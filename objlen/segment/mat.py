"""Segmenting objects on objlen's measuring mat: they lie in its empty middle.

The local segmenter models the background from the photo's border, so a mat
on a table would itself become the object. On a mat the background is known
instead: the board is found and fitted (:func:`objlen.board.locate_board`),
its empty middle (inside the printed ring of squares, less a margin) is
mapped into the photo through the fit (lens included), and the objects are
looked for there only, against the white paper, with the local segmenter's
own classification and full-resolution boundary. The board itself is the
reference, found again in the photo by :func:`objlen.measure`: the mask has
no reference pixels.

Coordinates are ``(x, y)`` pixels of the photo, x right, y down.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from objlen.board import MAT_BOARDS, MAT_RING_SQUARES, BoardFit, locate_board
from objlen.classes import ClassIds
from objlen.errors import SegmentationError
from objlen.segment.base import Segmentation
from objlen.segment.local import (
    MIN_COMPONENT_FRACTION,
    LocalSegmenter,
    _as_rgb,
    _class_map,
    _classify,
    _refine,
    _shrink,
    _to_class_ids,
)

#: The objects' area keeps this share of a square away from the printed ring.
MIDDLE_MARGIN_SQUARES = 0.25
#: Points per side of the middle's outline (a lens bends its straight sides).
OUTLINE_POINTS_PER_SIDE = 64
#: Width (px) of the band inside the middle's outline that gives the paper's colour.
PAPER_BAND_PX = 7


def mat_middle_mm(fit: BoardFit) -> np.ndarray | None:
    """The ``(4, 2)`` corners, board mm, of the mat's empty middle less its margin;
    None when the board is not one of objlen's mats (it has no empty middle)."""
    spec = fit.spec
    if spec not in MAT_BOARDS.values():
        return None
    inset = (MAT_RING_SQUARES + MIDDLE_MARGIN_SQUARES) * spec.square_mm
    width, height = spec.columns * spec.square_mm, spec.rows * spec.square_mm
    return np.array(
        [
            [inset, inset],
            [width - inset, inset],
            [width - inset, height - inset],
            [inset, height - inset],
        ]
    )


def middle_outline_px(fit: BoardFit, corners_mm: np.ndarray) -> np.ndarray:
    """The middle's outline in photo pixels, ``(N, 2)``: its sides sampled, mapped
    through the fit's homography and back through its lens."""
    ring = np.roll(corners_mm, -1, axis=0)
    steps = np.linspace(0.0, 1.0, OUTLINE_POINTS_PER_SIDE, endpoint=False)[:, None]
    sides = [start + steps * (end - start) for start, end in zip(corners_mm, ring, strict=True)]
    board_points = np.vstack(sides)
    homogeneous = np.column_stack([board_points, np.ones(len(board_points))]) @ fit.homography.T
    ideal = homogeneous[:, :2] / homogeneous[:, 2:3]
    return fit.lens.distort_points(ideal) if fit.lens is not None else ideal


class MatSegmenter:
    """Segment the objects lying in the empty middle of objlen's mat.

    Args:
        board: the board as ``--board`` names it (``mat``, ``mat:A4``, ...).
        classes: the class ids written into the mask.
        working_pixels: the middle is classified at about this many pixels.
        min_component_fraction: components smaller than this share of the
            middle are specks.

    Any other ChArUco board has no empty middle: the photo is then segmented
    as :class:`~objlen.segment.local.LocalSegmenter` does.
    """

    name = "local"

    def __init__(
        self,
        board: str,
        classes: ClassIds = ClassIds(),  # noqa: B008 - ClassIds is frozen
        working_pixels: int = 1_000_000,
        min_component_fraction: float = MIN_COMPONENT_FRACTION,
    ) -> None:
        self.board = board
        self.classes = classes
        self.working_pixels = int(working_pixels)
        self.min_component_fraction = float(min_component_fraction)

    def segment(self, image_rgb: np.ndarray) -> Segmentation:
        """The objects inside the mat's empty middle, as class ``object``; no reference pixels.

        Raises:
            ReferenceNotFoundError: the board is not in the photo.
            SegmentationError: nothing lies in the mat's middle.
        """
        started = time.perf_counter()
        image = _as_rgb(image_rgb)
        fit = locate_board(image, self.board)
        corners_mm = mat_middle_mm(fit)
        if corners_mm is None:
            return LocalSegmenter(
                classes=self.classes,
                aruco_dictionary=None,
                working_pixels=self.working_pixels,
                min_component_fraction=self.min_component_fraction,
            ).segment(image)
        outline = middle_outline_px(fit, corners_mm)
        height, width = image.shape[:2]
        x0, y0 = np.maximum(np.floor(outline.min(axis=0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(outline.max(axis=0)).astype(int) + 1, (width, height))
        crop = image[y0:y1, x0:x1].copy()
        inside = np.zeros(crop.shape[:2], np.uint8)
        cv2.fillPoly(inside, [np.round((outline - (x0, y0)) * 16).astype(np.int32)], 1, shift=4)
        inside = inside.astype(bool)
        band = inside & ~cv2.erode(
            inside.astype(np.uint8), np.ones((PAPER_BAND_PX, PAPER_BAND_PX), np.uint8)
        ).astype(bool)
        crop[~inside] = np.median(crop[band], axis=0).astype(np.uint8)
        small, scale_xy = _shrink(crop, self.working_pixels)
        found = _classify(small, self.min_component_fraction)
        if not found.components:
            raise SegmentationError(
                "no object found in the mat's empty middle: put the objects inside the "
                "printed ring, on the white paper"
            )
        class_small = _class_map(found, {c.label: "object" for c in found.components})
        refined = _refine(crop, small, class_small, scale_xy)
        classes = np.where(inside, refined.classes, 0).astype(np.uint8)
        mask = np.zeros((height, width), np.uint8)
        mask[y0:y1, x0:x1] = classes
        warnings = []
        edge = inside & ~cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        if (classes[edge] != 0).any():
            warnings.append(
                "an object reaches the mat's printed ring: it may be cut off there; keep "
                "the objects inside the empty middle"
            )
        return Segmentation(
            mask=_to_class_ids(mask, self.classes),
            confidence=None,
            backend=self.name,
            warnings=tuple(warnings),
            notes=(
                f"objects looked for in the empty middle of the {fit.spec.name} "
                f"({len(found.components)} found)",
            ),
            seconds=time.perf_counter() - started,
        )
