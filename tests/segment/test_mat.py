"""Objects on objlen's measuring mat: found in its empty middle, measured against the board."""

from __future__ import annotations

import numpy as np
import pytest

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.board import MAT_BOARDS
from objlen.classes import ClassIds
from objlen.errors import SegmentationError
from objlen.segment import make_segmenter
from objlen.segment.mat import MatSegmenter
from objlen.testing.synthetic import Camera, PhotoEffects, PlaneShape, render_board_scene

MAT = ReferenceSpec(board="mat")


def _mat_photo(tilt_deg: float, objects, k1: float = 0.0):
    return render_board_scene(
        objects,
        MAT_BOARDS["A4"],
        Camera(tilt_deg=tilt_deg, distance_mm=420.0),
        effects=PhotoEffects(distortion_k1=k1, jpeg_quality=90),
        seed=3,
    )


def test_a_mat_reference_makes_the_local_segmenter_look_in_its_middle():
    assert isinstance(make_segmenter("local", classes=ClassIds(), reference=MAT), MatSegmenter)


@pytest.mark.parametrize(("tilt_deg", "k1"), [(0.0, 0.0), (30.0, 0.03)])
def test_objects_on_the_mat_are_segmented_and_measured_without_a_mask(tilt_deg, k1):
    # Without the mat's own rule, the white sheet itself came out as the object.
    shapes = [
        PlaneShape("rectangle", (-20, 10), (50, 70)),
        PlaneShape("ellipse", (30, -20), (40, 30)),
    ]
    scene = _mat_photo(tilt_deg, shapes, k1)
    segmentation = make_segmenter("local", classes=ClassIds(), reference=MAT).segment(scene.image)
    found, truth = segmentation.mask == 1, scene.clean_mask == 1
    assert (found & truth).sum() / (found | truth).sum() > 0.98
    assert not (segmentation.mask == 2).any()  # the board is the reference, found in the photo
    result = measure(
        segmentation.mask,
        MeasureOptions(method="homography", reference=MAT, all_objects=True),
        image=scene.image,
    )
    assert len(result.objects) == 2
    measured = sorted((o.width.value, o.height.value) for o in result.objects)
    expected = sorted(scene.object_size_mm(i) for i in range(len(shapes)))
    np.testing.assert_allclose(measured, expected, rtol=0.02)


def test_an_empty_mat_says_where_objects_go():
    scene = _mat_photo(0.0, [PlaneShape("rectangle", (200, 200), (10, 10))])  # off the mat
    with pytest.raises(SegmentationError, match="empty middle"):
        MatSegmenter("mat").segment(scene.image)
