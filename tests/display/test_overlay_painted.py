"""The annotated picture's shortcuts draw the pixels of the long way: labels
drawn by Pillow on the part of the picture they cover as on the whole
picture, the mask's tint blended only in the box around the tinted classes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from objlen.classes import ClassIds
from objlen.display.overlay import (
    CLASS_COLOURS,
    OUTLINE_COLOUR,
    POINT_COLOURS,
    _draw_labels,
    _font,
    _painted,
    blend_mask,
)


def _whole(canvas: np.ndarray, paint) -> np.ndarray:
    picture = Image.fromarray(canvas)
    paint(ImageDraw.Draw(picture), 0, 0)
    return np.array(picture)


@pytest.mark.parametrize("seed", range(12))
def test_painting_a_part_is_painting_the_whole(seed: int) -> None:
    rng = np.random.default_rng(seed)
    canvas = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    font = _font(int(rng.integers(10, 30)))
    # Anchors on half pixels, whole pixels and anywhere, some past the edges.
    anchors = [
        (
            float(rng.integers(-20, 330)) + rng.choice([0.0, 0.5, rng.random()]),
            float(rng.integers(-20, 250)) + rng.choice([0.0, 0.5, rng.random()]),
        )
        for _ in range(int(rng.integers(1, 4)))
    ]
    boxes = []
    for x, y in anchors:
        left, top, right, bottom = font.getbbox("1: 12.34 x 5.67 mm", stroke_width=2)
        boxes += [(x, y, x, y), (x + left, y + top, x + right, y + bottom)]
        boxes.append((x, y, x + 40.5, y + 12.5))

    def paint(draw: ImageDraw.ImageDraw, ox: int, oy: int) -> None:
        for x, y in anchors:
            draw.rectangle((x - ox, y - oy, x + 40.5 - ox, y + 12.5 - oy), fill=(10, 20, 30))
            draw.text(
                (x - ox, y - oy),
                "1: 12.34 x 5.67 mm",
                font=font,
                fill=(250, 250, 250),
                stroke_width=2,
                stroke_fill=(0, 0, 0),
            )

    before = canvas.copy()
    assert np.array_equal(_painted(canvas, boxes, paint), _whole(canvas, paint))
    assert np.array_equal(canvas, before)


def test_point_labels_are_drawn_as_on_the_whole_picture() -> None:
    canvas = np.full((300, 400, 3), 90, np.uint8)
    points = {"A": (10.5, 5.0), "B": (399.0, 150.25), "E": (200.0, 299.5), "C": (3.0, 290.0)}
    font = _font(18)

    def paint(draw: ImageDraw.ImageDraw, ox: int, oy: int) -> None:
        gap = 4.0 + max(4.0, 18 * 0.4)
        for name, (x, y) in points.items():
            tx = x + gap if x + gap + 18 < 400 else x - gap - 18
            ty = y - gap - 18 if y - gap - 18 > 0 else y + gap
            draw.text(
                (tx, ty),
                name,
                font=font,
                fill=POINT_COLOURS[name],
                stroke_width=2,
                stroke_fill=OUTLINE_COLOUR,
            )

    drawn = canvas.copy()
    _draw_labels(drawn, points, 4.0, 18)

    assert np.array_equal(drawn, _whole(canvas, paint))
    assert not np.array_equal(drawn, canvas)


def test_blending_far_apart_regions_leaves_the_pixels_between_them() -> None:
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    mask = np.zeros((90, 120), np.uint8)
    mask[2:6, 3:9] = 1  # near one corner
    mask[80:88, 100:117] = 2  # near the opposite one
    mask[40:50, 50:60] = 7  # between them, of no class: not tinted

    out = blend_mask(photo, mask, ClassIds(), 1.0)

    assert np.all(out[mask == 1] == CLASS_COLOURS["object"])
    assert np.all(out[mask == 2] == CLASS_COLOURS["reference"])
    assert np.array_equal(out[mask >= 3], photo[mask >= 3])
    assert np.array_equal(out[mask == 0], photo[mask == 0])
