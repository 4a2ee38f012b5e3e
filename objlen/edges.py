"""Where the photo puts an object's edges, against where its mask puts them.

A length is set by the two sides of the object's box that bound it (the
width by the sides through A and B, the height by those through A and E),
that is by the outline's extremes there. Where the photo shows a clean step
across such an extreme (see :func:`objlen.reference.step_crossings`), the
step's position tells how far the true edge may lie from the mask's; where
it does not (a shadow band, a rim, no contrast), the photo does not say.

The mask's edge is kept: the photo's edge can itself be a shadow's or a
print's. The disagreement goes into the interval (see
:func:`disagreement_rel_var`): the true edge is taken to lie anywhere within
the disagreement of the mask's, either side.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from objlen.geometry import unit_vector
from objlen.reference import MIN_CLEAN_SHARE, PROFILE_REACH_PX, edge_steps
from objlen.robust import median

#: Outline pixel centres within this distance (px) of a box side, beyond the
#: half pixel between a boundary pixel's centre and its edge, are the extreme there.
NEAR_SIDE_PX = 1.5
#: Fewest clean profiles at a side for the photo to say where its edge is.
MIN_PROFILES = 3
#: Disagreement at the sides through A, B (width) and A, E (height) when the
#: photo says nothing.
NO_DISAGREEMENT = (0.0, 0.0, 0.0, 0.0)


def _side_points(outline: np.ndarray, origin: np.ndarray, outward: np.ndarray) -> np.ndarray:
    """The outline's extreme pixel centres at one side of the box: those within
    ``NEAR_SIDE_PX`` of the side through ``origin`` with outward normal ``outward``."""
    across = (outline - origin) @ outward  # about -0.5 at the extreme pixels
    return outline[across >= -0.5 - NEAR_SIDE_PX].astype(np.float64)


def _side_value(shifts: np.ndarray, outward: np.ndarray) -> float:
    """How far (px) the photo's edge lies outside the mask's at one side: the
    median of the clean crossings ``shifts`` read through its extreme pixels
    (NaN: not clean); 0 when fewer than ``MIN_PROFILES`` (or
    ``MIN_CLEAN_SHARE`` of them) are clean steps."""
    if len(shifts) < MIN_PROFILES:
        return 0.0
    clean = shifts[np.isfinite(shifts)]
    if len(clean) < max(MIN_PROFILES, MIN_CLEAN_SHARE * len(shifts)):
        return 0.0
    # A boundary pixel's edge lies max(|nx|, |ny|) / 2 beyond its centre.
    mask_edge = max(abs(float(outward[0])), abs(float(outward[1]))) / 2
    return float(median(clean)) - mask_edge


def box_disagreement(
    gray: np.ndarray, outline: np.ndarray, points: np.ndarray
) -> tuple[float, float, float, float]:
    """The photo-vs-mask disagreement (px, positive: the photo's edge outside) at
    the sides of the box ``points`` (A, B, E) that bound its lengths: the width's
    at A and at B, the height's at A and at E.

    Args:
        gray: ``(H, W)`` float32 grey photo.
        outline: ``(N, 2)`` the region's boundary pixel centres.
        points: the box's A, B and E, px.

    Each side's figure is the median over the clean profiles read along its
    outward normal through the outline's extreme pixels there (all four
    sides' profiles read at once); 0 where the photo does not say.
    """
    a, b, e = np.asarray(points, dtype=np.float64)
    outline = np.asarray(outline, dtype=np.float64)
    sides = (
        (a, unit_vector(a - b)),
        (b, unit_vector(b - a)),
        (a, unit_vector(a - e)),
        (e, unit_vector(e - a)),
    )
    near = [_side_points(outline, origin, outward) for origin, outward in sides]
    counts = [len(n) if len(n) >= MIN_PROFILES else 0 for n in near]
    normals = np.repeat(np.array([outward for _, outward in sides]), counts, axis=0)
    read = [n for n, count in zip(near, counts, strict=True) if count]
    shifts = edge_steps(gray, np.concatenate(read), normals) if read else np.zeros(0)
    ends = np.cumsum(counts)
    return tuple(  # type: ignore[return-value]
        _side_value(shifts[end - count : end], outward)
        for (_, outward), count, end in zip(sides, counts, ends, strict=True)
    )


def photo_disagreement(
    image_rgb: np.ndarray, outline: np.ndarray, points: np.ndarray
) -> tuple[float, float, float, float]:
    """:func:`box_disagreement` on an ``(H, W, 3)`` RGB photo, read only in the
    window around the outline that its profiles reach (a whole 12 MP photo's
    grey version costs tens of ms; one object's window, a fraction of one)."""
    outline = np.asarray(outline, dtype=np.float64)
    margin = math.ceil(PROFILE_REACH_PX) + 2
    height, width = image_rgb.shape[:2]
    x0, y0 = (max(int(v) - margin, 0) for v in outline.min(axis=0))
    x1, y1 = (int(v) + margin + 1 for v in outline.max(axis=0))
    window = image_rgb[y0 : min(y1, height), x0 : min(x1, width)]
    gray = cv2.cvtColor(np.ascontiguousarray(window), cv2.COLOR_RGB2GRAY).astype(np.float32)
    origin = np.array([x0, y0], dtype=np.float64)
    return box_disagreement(gray, outline - origin, np.asarray(points) - origin)


def disagreement_rel_var(
    disagreement: tuple[float, float, float, float],
    lengths_px: tuple[float, float],
    moved: tuple[str, ...] = (),
) -> tuple[float, float]:
    """Relative variances of the width and the height from the photo-vs-mask
    disagreement at their sides.

    Each length's two sides add (an edge the photo puts outside on both makes
    the length longer by both); the true edges are taken as uniform within
    that sum either way (standard uncertainty ``|sum| / sqrt(3)``). A point the
    operator ``moved`` is the truth: its side no longer counts.
    """
    width_a, width_b, height_a, height_e = disagreement
    keep = {name: 0.0 if name in moved else 1.0 for name in "ABE"}
    sums = (
        keep["A"] * width_a + keep["B"] * width_b,
        keep["A"] * height_a + keep["E"] * height_e,
    )
    return tuple(  # type: ignore[return-value]
        (s / math.sqrt(3.0) / length) ** 2 if length > 0 else 0.0
        for s, length in zip(sums, lengths_px, strict=True)
    )
