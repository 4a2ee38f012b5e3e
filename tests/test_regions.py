"""Regions of a class: outlines, areas, the class check, the noise estimate."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from objlen.classes import ClassIds
from objlen.errors import MaskError
from objlen.regions import MAX_WINDOWS, ClassMap, class_regions, dense_outline, outline_noise_px
from tests.conftest import rotated_rectangle_mask


def test_dense_outline_equals_opencvs_uncompressed_chain():
    mask = rotated_rectangle_mask((300, 300), (150, 150), (200, 90), 33.0)
    mask[20:40, 200:290] = 1
    region = class_regions(mask, 1, limit=1)[0]
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    full = max(contours, key=len).reshape(-1, 2)
    dense = dense_outline(region)
    assert len(dense) == len(full)
    assert {tuple(p) for p in dense.tolist()} == {tuple(p) for p in full.tolist()}


def test_areas_exclude_holes_and_regions_are_sorted():
    mask = np.zeros((100, 200), np.uint8)
    mask[10:60, 10:60] = 1
    mask[30:40, 30:40] = 0  # a hole of 100 px
    mask[70:90, 120:150] = 1
    regions = class_regions(mask, 1)
    assert [r.area_px for r in regions] == [2500 - 100, 600]
    assert regions[0].bbox == (10, 10, 50, 50)
    assert len(class_regions(mask, 1, min_area_px=601)) == 1


def test_regions_are_found_with_many_blobs_too():
    mask = np.zeros((200, 200), np.uint8)
    for k in range(MAX_WINDOWS + 10):  # more blobs than windows: whole-image path
        y, x = divmod(k, 12)
        mask[y * 15 : y * 15 + 3, x * 15 : x * 15 + 3] = 2
    mask[150:190, 100:180] = 1
    class_map = ClassMap(mask, ClassIds())
    assert len(class_map.windows) == 1
    assert class_map.regions(1)[0].area_px == 40 * 80
    assert len(class_map.regions(2)) == MAX_WINDOWS + 10


@pytest.mark.parametrize("background", [0, 4])
def test_unknown_values_are_reported_whatever_the_background(background):
    classes = ClassIds(background=background, object=1, reference=2)
    mask = np.full((50, 50), background, np.uint8)
    mask[10:20, 10:20] = 1
    mask[30, 30] = 7
    mask[31, 31] = 255
    with pytest.raises(MaskError, match="class values 7 "):
        ClassMap(mask, classes).check()
    mask[30, 30] = 2
    ClassMap(mask, classes).check()  # nothing unknown: no error


def test_outline_noise_is_zero_for_clean_shapes_of_any_angle():
    for angle in (0.0, 12.0, 45.0):
        mask = rotated_rectangle_mask((400, 400), (200, 200), (250, 140), angle)
        region = class_regions(mask, 1, limit=1)[0]
        assert outline_noise_px(dense_outline(region)) < 0.15


def test_overlapping_boxes_give_no_phantom_regions():
    # Two disjoint squares rotated 45 deg, 171 px across, whose bounding boxes
    # overlap: each box holds a corner of the other square, which once came
    # back as two more objects.
    mask = np.zeros((400, 420), np.uint8)
    for left, top in ((35, 65), (155, 145)):
        half = 85
        centre = (left + half, top + half)
        diamond = np.array(
            [
                (centre[0], centre[1] - half),
                (centre[0] + half, centre[1]),
                (centre[0], centre[1] + half),
                (centre[0] - half, centre[1]),
            ],
            np.int32,
        )
        cv2.fillPoly(mask, [diamond], 1)
    count, _ = cv2.connectedComponents(mask, connectivity=8)
    assert count - 1 == 2  # the drawing really is two separate squares
    regions = ClassMap(mask, ClassIds()).regions(1)
    assert len(regions) == 2
    assert sum(region.area_px for region in regions) == int(mask.sum())


def _whole_mask_regions(mask: np.ndarray, class_id: int, min_area_px: int) -> list[tuple]:
    """The regions of one class from its own contours over the whole mask (no
    windows, no blobs): what :meth:`ClassMap.regions` must give."""
    binary = (mask == class_id).astype(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours:
        filled = np.zeros_like(binary)
        cv2.drawContours(filled, [contour], -1, 1, thickness=cv2.FILLED)
        area = int(np.count_nonzero(filled & binary))
        if area >= min_area_px:
            found.append((contour.reshape(-1, 2).tolist(), area, cv2.boundingRect(contour)))
    return sorted(found, key=lambda r: (-r[1], r[2]))


@pytest.mark.parametrize("seed", range(12))
def test_regions_of_blobs_are_those_of_a_whole_mask_pass(seed):
    # Blobs of one class (taken whole from the pass that finds the blobs),
    # blobs of two touching classes, holes, blobs inside other blobs' holes,
    # windows that overlap, specks: the same outlines, areas and boxes as each
    # class's own pass over the whole mask.
    rng = np.random.default_rng(seed)
    mask = np.zeros((240, 320), np.uint8)
    for _ in range(int(rng.integers(3, 9))):
        centre = (int(rng.integers(20, 300)), int(rng.integers(20, 220)))
        axes = (int(rng.integers(2, 60)), int(rng.integers(2, 40)))
        value = int(rng.choice([1, 2]))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, value, -1)
        if rng.random() < 0.5:  # a hole, sometimes with a blob of either class inside
            cv2.ellipse(mask, centre, (axes[0] // 2, axes[1] // 2), 0, 0, 360, 0, -1)
            if rng.random() < 0.5:
                cv2.circle(mask, centre, max(1, min(axes) // 5), int(rng.choice([1, 2])), -1)
    for class_id in (1, 2):
        for min_area in (1, 50):
            ours = [
                (r.outline_px.tolist(), r.area_px, r.bbox)
                for r in ClassMap(mask, ClassIds()).regions(class_id, min_area_px=min_area)
            ]
            assert sorted(ours, key=lambda r: (-r[1], r[2])) == _whole_mask_regions(
                mask, class_id, min_area
            )
