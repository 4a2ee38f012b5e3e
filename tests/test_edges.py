"""An object's photo-vs-mask disagreement in its interval (objlen.edges; issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.edges import box_disagreement, disagreement_rel_var
from objlen.measure import remeasure
from objlen.regions import class_regions, dense_outline

REFERENCE_MM = 100.0
#: A mask whose edges are trusted (no model bias allowed for) and no lens: the
#: interval is the points' and the photo's.
OPTIONS = MeasureOptions(
    method="proportional",
    reference=ReferenceSpec(length=REFERENCE_MM),
    edge_sigma_px=0.0,
    lens_corner_shift=0.0,
)


def _scene(shrink_px: int) -> tuple[np.ndarray, np.ndarray]:
    """A photo of a bright 200 x 120 px object and a 200 x 40 px reference (100 mm
    long: 0.5 mm per px) on a dark table, and a mask whose object is ``shrink_px``
    inside the photo's on every side (a model that erodes)."""
    photo = np.full((300, 420, 3), 40, dtype=np.uint8)
    photo[150:270, 180:380] = 200  # the object: columns 180..379, rows 150..269
    photo[40:80, 20:220] = 230  # the reference
    mask = np.zeros((300, 420), dtype=np.uint8)
    s = shrink_px
    mask[150 + s : 270 - s, 180 + s : 380 - s] = 1
    mask[40:80, 20:220] = 2
    return photo, mask


def test_the_photo_says_how_far_outside_its_mask_an_object_edge_lies():
    photo, mask = _scene(2)
    gray = photo[..., 0].astype(np.float32)
    region = class_regions(mask, 1, limit=1)[0]
    result = measure(mask, OPTIONS)
    obj = result.objects[0]
    sides = box_disagreement(gray, dense_outline(region), np.array([obj.A, obj.B, obj.E]))
    assert sides == pytest.approx((2.0, 2.0, 2.0, 2.0), abs=0.2)
    # A mask on the photo's edges: nothing to add.
    _, exact = _scene(0)
    region = class_regions(exact, 1, limit=1)[0]
    obj = measure(exact, OPTIONS).objects[0]
    sides = box_disagreement(gray, dense_outline(region), np.array([obj.A, obj.B, obj.E]))
    assert sides == pytest.approx((0.0, 0.0, 0.0, 0.0), abs=0.2)


def test_an_eroded_mask_measured_with_its_photo_covers_the_photo_s_object():
    photo, mask = _scene(2)
    truth = (100.0, 60.0)  # 200 x 120 px at 0.5 mm per px
    alone = measure(mask, OPTIONS).objects[0]
    with_photo = measure(mask, OPTIONS, image=photo).objects[0]
    # From the mask alone the 4 px the mask lost are outside its interval...
    assert abs(alone.width.value - truth[0]) > alone.width.uncertainty
    # ... with the photo they are inside it.
    assert abs(with_photo.width.value - truth[0]) <= with_photo.width.uncertainty
    assert abs(with_photo.height.value - truth[1]) <= with_photo.height.uncertainty
    assert with_photo.photo_edge_px == pytest.approx((2.0, 2.0, 2.0, 2.0), abs=0.2)


def test_a_remeasure_keeps_the_disagreement_but_not_at_a_point_the_operator_moved():
    photo, mask = _scene(2)
    result = measure(mask, OPTIONS, image=photo)
    obj = result.objects[0]
    kept = remeasure(result, {"E": tuple(obj.E)}).objects[0]  # E moved onto itself
    assert kept.photo_edge_px == obj.photo_edge_px
    assert kept.width.uncertainty == pytest.approx(obj.width.uncertainty)
    # E is the truth now: the height's side through E no longer counts.
    assert kept.height.uncertainty < obj.height.uncertainty


def test_the_two_sides_of_a_length_add_and_are_taken_as_uniform_within_their_sum():
    width_var, height_var = disagreement_rel_var((1.0, 2.0, -1.0, 0.0), (100.0, 50.0))
    assert width_var == pytest.approx((3.0 / np.sqrt(3.0) / 100.0) ** 2)
    assert height_var == pytest.approx((1.0 / np.sqrt(3.0) / 50.0) ** 2)
    assert disagreement_rel_var((1.0, 2.0, -1.0, 0.0), (100.0, 50.0), ("A", "B")) == (0.0, 0.0)


def test_each_side_reads_its_own_disagreement():
    # The mask lost 1 px on the left, 2 on the right, none at the top and 1 at
    # the bottom: each side of the box says its own (its profiles are read
    # with the other sides' at once).
    photo, mask = _scene(0)
    mask[mask == 1] = 0
    mask[150 : 270 - 1, 180 + 1 : 380 - 2] = 1
    gray = photo[..., 0].astype(np.float32)
    region = class_regions(mask, 1, limit=1)[0]
    obj = measure(mask, OPTIONS).objects[0]
    points = np.array([obj.A, obj.B, obj.E])
    lost = {(-1, 0): 1.0, (1, 0): 2.0, (0, -1): 0.0, (0, 1): 1.0}  # by outward normal (x, y)
    a, b, e = points
    normals = (a - b, b - a, a - e, e - a)  # the sides through A, B (width), A, E (height)
    expected = tuple(lost[tuple(int(v) for v in np.sign(n))] for n in normals)
    sides = box_disagreement(gray, dense_outline(region), points)
    assert sides == pytest.approx(expected, abs=0.2)
