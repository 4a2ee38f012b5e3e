"""The measurement contract on drawn masks with exact answers."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from objlen import (
    MaskError,
    MeasureOptions,
    ParameterError,
    ReferenceNotFoundError,
    ReferenceSpec,
    measure,
    remeasure,
)
from objlen.classes import ClassIds
from objlen.measure import LensAllowance
from tests.conftest import draw_mask, rotated_rectangle_mask


def proportional(length: float = 50.0, **kwargs) -> MeasureOptions:
    return MeasureOptions(reference=ReferenceSpec(length=length), **kwargs)


def test_pixel_edge_convention_gives_exact_lengths(simple_mask):
    result = measure(simple_mask, proportional(50.0))
    obj = result.objects[0]
    # 200 px of object against 100 px = 50 mm of reference.
    assert obj.ab_px == 200.0 and obj.ae_px == 100.0
    assert result.reference.pixels == 100.0
    assert result.reference.scale == 0.5
    assert obj.width.value == pytest.approx(100.0, abs=1e-12)
    assert obj.height.value == pytest.approx(50.0, abs=1e-12)
    assert obj.area_px == 200 * 100


def test_points_are_box_corners_a_bottom_left_b_bottom_right_e_top_left(simple_mask):
    obj = measure(simple_mask, proportional()).objects[0]
    assert obj.A.tolist() == [149.5, 199.5]
    assert obj.B.tolist() == [349.5, 199.5]
    assert obj.E.tolist() == [149.5, 99.5]


def test_reference_points_are_ends_of_the_long_axis(simple_mask):
    reference = measure(simple_mask, proportional()).reference
    assert reference.C.tolist() == [19.5, 39.5]
    assert reference.D.tolist() == [119.5, 39.5]


def test_offset_is_subtracted_from_height(simple_mask):
    obj = measure(simple_mask, proportional(offset=12.5)).objects[0]
    assert obj.height.value == pytest.approx(37.5)
    assert obj.width.value == pytest.approx(100.0)


def test_offset_larger_than_height_warns_instead_of_hiding(simple_mask):
    result = measure(simple_mask, proportional(offset=60.0))
    assert result.objects[0].height.value == pytest.approx(-10.0)
    assert any("larger than the measured height" in w for w in result.warnings)


def test_proportional_uncertainty_follows_first_order_propagation(simple_mask):
    # Points alone (no mask-edge or lens term): the seed's first-order propagation.
    points_only = proportional(point_sigma_px=0.5, edge_sigma_px=0.0, lens_corner_shift=0.0)
    obj = measure(simple_mask, points_only).objects[0]
    # width = AB * L / CD; relative variance = 2 s^2/AB^2 + 2 s^2/CD^2.
    rel = math.sqrt(2 * 0.25 / 200**2 + 2 * 0.25 / 100**2)
    assert obj.width.uncertainty == pytest.approx(1.96 * 100.0 * rel)
    rel_h = math.sqrt(2 * 0.25 / 100**2 + 2 * 0.25 / 100**2)
    assert obj.height.uncertainty == pytest.approx(1.96 * 50.0 * rel_h)


def test_a_mask_edge_offset_widens_both_lengths_and_the_scale(simple_mask):
    # A mask edge that may sit e px off all round moves both ends of a length
    # together: AB by 2e, and CD by 2e too (the reference's mask).
    e = 0.6
    options = proportional(point_sigma_px=0.5, edge_sigma_px=e, lens_corner_shift=0.0)
    obj = measure(simple_mask, options).objects[0]
    rel = math.sqrt((2 * 0.25 + (2 * e) ** 2) / 200**2 + (2 * 0.25 + (2 * e) ** 2) / 100**2)
    assert obj.width.uncertainty == pytest.approx(1.96 * 100.0 * rel)


def test_an_edge_offset_is_checked_against_a_biased_mask(simple_mask):
    # The worst 1 px bias a model gives: the object's mask dilated by 1 px and
    # the reference's eroded by 1 px. The truth lies inside the interval that
    # allows a mask edge within about 1 px, and outside the points-only one.
    square = np.ones((3, 3), np.uint8)
    biased = np.zeros_like(simple_mask)
    biased[cv2.dilate((simple_mask == 1).astype(np.uint8), square) > 0] = 1
    biased[cv2.erode((simple_mask == 2).astype(np.uint8), square) > 0] = 2
    truth = measure(simple_mask, proportional()).objects[0].width.value
    honest = measure(biased, proportional(lens_corner_shift=0.0)).objects[0].width
    points_only = measure(biased, proportional(edge_sigma_px=0.0, lens_corner_shift=0.0))
    points_only = points_only.objects[0].width
    assert abs(honest.value - truth) <= honest.uncertainty
    assert abs(points_only.value - truth) > points_only.uncertainty


def test_the_lens_allowance_covers_a_distorted_photo():
    # An object near the corner of the frame and a reference near its centre,
    # seen through a lens that moves the corner by 3 % of its distance: the
    # truth is inside the interval with the allowance, outside without it.
    shape = (600, 800)
    truth_mask = draw_mask(shape, [(560, 420, 759, 559)], (360, 280, 459, 319))
    lens = LensAllowance.for_image((shape[1], shape[0]), 0.03)
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    # Undistorted position of each distorted pixel: invert p_d = c + (p - c)(1 + k r^2)
    # by fixed-point iteration, then sample the true mask there.
    centre = np.array(lens.centre, np.float32)
    offset = np.stack([xs, ys], axis=-1) - centre
    undistorted = offset.copy()
    for _ in range(20):
        r2 = (undistorted**2).sum(axis=-1, keepdims=True) / lens.radius**2
        undistorted = offset / (1 + 0.03 * r2)
    source = undistorted + centre
    photo_mask = cv2.remap(
        truth_mask, source[..., 0], source[..., 1], cv2.INTER_NEAREST, borderValue=0
    )
    true_width = measure(truth_mask, proportional(50.0)).objects[0].width.value
    allowed = measure(photo_mask, proportional(50.0, lens_corner_shift=0.03)).objects[0].width
    ignored = measure(photo_mask, proportional(50.0, lens_corner_shift=0.0)).objects[0].width
    assert abs(allowed.value - true_width) > ignored.uncertainty  # the lens matters here
    assert abs(allowed.value - true_width) <= allowed.uncertainty


@pytest.mark.parametrize("angle", [45.0, 135.0])
def test_a_box_that_turns_a_quarter_under_the_lens_step_keeps_a_sane_interval(angle):
    # At 45 deg the least-area box of a rectangle is reported with A to B along
    # either side, whichever a tiny lens step favours: the lens term must pair
    # the sides by direction, or width and height swap inside its derivative
    # (a 15 mm object once got +-239 mm). Its interval is then the one of a
    # rectangle turned half a degree further.
    def interval(turn: float) -> tuple[float, float]:
        mask = np.zeros((600, 800), np.uint8)
        cv2.circle(mask, (150, 300), 60, 2, -1)
        corners = cv2.boxPoints(((560.0, 220.0), (70.0, 29.0), turn))
        cv2.fillPoly(mask, [np.round(corners).astype(np.int32)], 1)
        found = measure(
            mask, MeasureOptions(reference=ReferenceSpec(length=25.0), orientation="auto")
        )
        lengths = sorted((found.objects[0].width, found.objects[0].height), key=lambda x: x.value)
        return lengths[0].uncertainty, lengths[1].uncertainty

    for at, near in zip(interval(angle), interval(angle + 0.5), strict=True):
        assert at <= 1.5 * near


def test_small_reference_raises_relative_uncertainty_warning():
    mask = draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 31, 24))  # 12 px reference
    result = measure(mask, proportional(5.0))
    assert any("uncertainty" in w and "above 2%" in w for w in result.warnings)


def test_all_objects_are_ordered_largest_first(simple_mask):
    mask = simple_mask.copy()
    mask[230:280, 200:240] = 1  # 40 x 50 px
    single = measure(mask, proportional())
    assert len(single.objects) == 1 and single.objects[0].ab_px == 200
    every = measure(mask, proportional(all_objects=True))
    assert [o.area_px for o in every.objects] == [20000, 2000]
    assert every.objects[1].width.value == pytest.approx(20.0)
    assert every.objects[1].height.value == pytest.approx(25.0)


def test_auto_orientation_measures_a_rotated_rectangle_along_its_sides():
    mask = rotated_rectangle_mask((600, 800), (450, 300), (300, 120), 25.0)
    mask[40:80, 40:240] = 2  # reference 200 px = 100 mm
    result = measure(mask, proportional(100.0, orientation="auto"))
    obj = result.objects[0]
    # Pixel squares overshoot a slanted edge by at most 0.5*(cos+sin) px per side.
    assert obj.width.value == pytest.approx(150.0, abs=0.75)
    assert obj.height.value == pytest.approx(60.0, abs=0.75)
    upright = measure(mask, proportional(100.0)).objects[0]
    # The upright box of the tilted object is its projection on the image axes.
    angle = math.radians(25.0)
    assert upright.width.value == pytest.approx(
        (300 * math.cos(angle) + 120 * math.sin(angle)) / 2, abs=0.75
    )


def test_scale_given_directly_needs_no_reference():
    mask = draw_mask((100, 100), [(10, 10, 59, 29)], None)
    result = measure(mask, MeasureOptions(reference=ReferenceSpec(scale=0.2)))
    assert result.objects[0].width.value == pytest.approx(10.0)
    assert result.objects[0].height.value == pytest.approx(4.0)
    assert result.reference.kind == "scale" and result.reference.C is None


def test_custom_class_ids():
    mask = draw_mask((100, 200), [(100, 10, 149, 29)], (10, 10, 59, 19))
    relabelled = np.select([mask == 1, mask == 2], [7, 3], 0).astype(np.uint8)
    options = proportional(25.0, classes=ClassIds(object=7, reference=3))
    assert measure(relabelled, options).objects[0].width.value == pytest.approx(25.0)


def test_ignore_pixels_are_allowed_and_not_measured(simple_mask):
    mask = simple_mask.copy()
    mask[250:260, 300:390] = 255
    assert measure(mask, proportional()).objects[0].width.value == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("mask", "error", "text"),
    [
        (draw_mask((50, 50), [], (1, 1, 30, 10)), MaskError, "no object pixels"),
        (draw_mask((50, 50), [(5, 20, 40, 40)], None), ReferenceNotFoundError, "no reference"),
        (draw_mask((50, 80), [(30, 20, 60, 40)], (1, 1, 5, 3)), ReferenceNotFoundError, "px long"),
    ],
)
def test_bad_masks_get_clear_errors(mask, error, text):
    with pytest.raises(error, match=text):
        measure(mask, proportional())


def test_unknown_class_values_are_an_error(simple_mask):
    mask = simple_mask.copy()
    mask[0, 0] = 9
    with pytest.raises(MaskError, match="class values 9"):
        measure(mask, proportional())


@pytest.mark.parametrize("length", [0.0, -3.0, float("nan"), float("inf")])
def test_non_positive_or_non_finite_reference_length_is_refused(simple_mask, length):
    with pytest.raises(ParameterError, match="reference length"):
        measure(simple_mask, proportional(length))


def test_homography_needs_a_rectangle_not_a_length(simple_mask):
    with pytest.raises(ParameterError, match="homography"):
        measure(simple_mask, proportional(method="homography"))


def test_homography_on_a_face_on_rectangle_matches_proportional(simple_mask):
    options = MeasureOptions(method="homography", reference=ReferenceSpec(size=(50.0, 20.0)))
    result = measure(simple_mask, options)
    obj = result.objects[0]
    np.testing.assert_allclose(
        result.reference.corners,
        [[19.5, 19.5], [119.5, 19.5], [119.5, 59.5], [19.5, 59.5]],
        atol=1e-6,
    )
    assert obj.width.value == pytest.approx(100.0, abs=1e-6)
    assert obj.height.value == pytest.approx(50.0, abs=1e-6)
    assert obj.A.tolist() == pytest.approx([149.5, 199.5])
    assert "homography" in result.notes[0]


# ----------------------------------------------------------------- moved points
def test_moving_b_to_the_right_widens_by_the_scaled_distance(simple_mask):
    result = measure(simple_mask, proportional())
    moved = remeasure(result, {"B": [369.5, 199.5]})
    assert moved.objects[0].width.value == pytest.approx(110.0)  # +20 px * 0.5 mm/px
    assert moved.objects[0].height.value == pytest.approx(50.0)
    assert moved.objects[0].moved == ("B",)
    assert result.objects[0].width.value == pytest.approx(100.0)  # the original is unchanged


def test_moved_points_use_plain_euclidean_distances(simple_mask):
    result = measure(simple_mask, proportional())
    moved = remeasure(result, {"A": [150, 200], "B": [330, 280], "E": [150, 100]})
    assert moved.objects[0].width.value == pytest.approx(0.5 * math.hypot(180, 80))
    assert moved.objects[0].height.value == pytest.approx(50.0)


def test_moving_the_reference_changes_the_scale(simple_mask):
    result = measure(simple_mask, proportional())
    moved = remeasure(result, {"D": [219.5, 39.5]})  # CD 200 px now
    assert moved.reference.scale == pytest.approx(0.25)
    assert moved.objects[0].width.value == pytest.approx(50.0)
    assert moved.reference.moved


def test_remeasure_recomputes_warnings(simple_mask):
    result = measure(simple_mask, proportional(offset=40.0))
    assert not any("larger than" in w for w in result.warnings)
    moved = remeasure(result, {"E": [149.5, 139.5]})  # AE 60 px = 30 mm < N
    assert any("larger than the measured height" in w for w in moved.warnings)


def test_remeasure_in_homography_maps_moved_points_into_the_plane(simple_mask):
    options = MeasureOptions(method="homography", reference=ReferenceSpec(size=(50.0, 20.0)))
    moved = remeasure(measure(simple_mask, options), {"B": [369.5, 199.5]})
    assert moved.objects[0].width.value == pytest.approx(110.0, abs=1e-6)
    with pytest.raises(ParameterError, match="corners"):
        remeasure(moved, {"C": [0, 0]})


@pytest.mark.parametrize(
    ("moved", "text"),
    [
        ({"Z": [1, 2]}, "unknown point"),
        ({"A": [1]}, "two finite"),
        ({"A": [float("nan"), 1]}, "two finite"),
        ({"B": [149.5, 199.5]}, "distinct"),
    ],
)
def test_remeasure_rejects_bad_points(simple_mask, moved, text):
    with pytest.raises(ParameterError, match=text):
        remeasure(measure(simple_mask, proportional()), moved)


def test_json_has_the_contract_fields(simple_mask):
    data = measure(simple_mask, proportional(offset=2.0)).to_dict()
    assert data["schema"] == "objlen.measurement/1"
    assert data["image"] == {"width": 400, "height": 300}
    assert data["method"] == "proportional" and data["unit"] == "mm"
    assert data["reference"]["pixels"] == 100.0 and data["reference"]["real"] == 50.0
    assert data["scale"] == 0.5
    obj = data["objects"][0]
    assert obj["points"] == {"A": [149.5, 199.5], "B": [349.5, 199.5], "E": [149.5, 99.5]}
    assert obj["pixels"] == {"AB": 200.0, "AE": 100.0}
    assert obj["width"]["value"] == 100.0 and obj["height"]["value"] == 48.0
    assert data["offset_N"] == 2.0
    assert data["uncertainty"] == {"level": 0.95, "point_px": 0.5}
    assert data["notes"] and isinstance(data["warnings"], list)


@pytest.mark.parametrize("reference_kind", ["card", "aruco"])
def test_a_foreshortened_reference_widens_a_proportional_interval(reference_kind):
    # Seen face-on a reference looks like its real shape; at 35 deg it looks
    # foreshortened, and the proportional method's interval says so.
    from objlen.testing.synthetic import random_scene

    widths = {}
    for tilt in (0.0, 35.0):
        scene = random_scene(
            np.random.default_rng(7),
            shape="rectangle",
            tilt_deg=tilt,
            mask_noise_px=0.0,
            reference=reference_kind,
        )
        spec = (
            ReferenceSpec(aruco_dictionary=scene.reference.aruco_dictionary, marker_size=40.0)
            if reference_kind == "aruco"
            else ReferenceSpec(size=(85.6, 54.0))
        )
        result = measure(scene.mask, MeasureOptions(reference=spec), image=scene.image)
        widths[tilt] = (result.reference.perspective_rel, result.objects[0].width.relative)
        if tilt:
            assert any("foreshortened" in w for w in result.warnings)
    assert widths[0.0][0] < 0.02 < 0.10 < widths[35.0][0]
    assert widths[35.0][1] > 2 * widths[0.0][1]


def test_the_uncertainty_warning_gives_the_cause_the_operator_sees():
    # A card seen 35 deg off: the intervals are wide because the scale changes
    # across the photo, and the JSON's warnings say so, as the command line's and
    # the page's do (they said "the reference or the object is small").
    from objlen.advice import operator_warnings
    from objlen.testing.synthetic import random_scene

    scene = random_scene(
        np.random.default_rng(7), shape="rectangle", tilt_deg=35.0, mask_noise_px=0.0
    )
    options = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)))
    result = measure(scene.mask, options, image=scene.image)
    assert np.any(result.reference.scale_gradient)
    loose = [w for w in result.warnings if " uncertainty ±" in w]
    assert loose and all("the reference looks tilted" in w for w in loose)
    assert any("the reference looks tilted" in w for w in operator_warnings(result))
