"""End to end on rendered photos with known ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.testing.synthetic import Camera, PlaneShape, card_shape, random_scene, render_scene

CARD = (85.6, 54.0)


def _errors(result, scene) -> tuple[float, float]:
    width, height = scene.object_size_mm(0)
    obj = result.objects[0]
    return obj.width.value / width - 1, obj.height.value / height - 1


def _covered(result, scene) -> bool:
    width, height = scene.object_size_mm(0)
    obj = result.objects[0]
    return (
        abs(obj.width.value - width) <= obj.width.uncertainty
        and abs(obj.height.value - height) <= obj.height.uncertainty
    )


@pytest.mark.parametrize("shape", ["rectangle", "ellipse", "blob"])
def test_face_on_proportional_is_within_half_a_percent(shape):
    scene = random_scene(np.random.default_rng(21), shape=shape, tilt_deg=0.0, mask_noise_px=0.0)
    result = measure(
        scene.mask, MeasureOptions(reference=ReferenceSpec(length=CARD[0])), image=scene.image
    )
    assert max(map(abs, _errors(result, scene))) < 0.005
    assert _covered(result, scene)
    assert not any("perspective" in w for w in result.warnings)


@pytest.mark.parametrize("shape", ["rectangle", "ellipse", "blob"])
def test_tilted_camera_homography_corrects_what_proportional_cannot(shape):
    scene = random_scene(np.random.default_rng(5), shape=shape, tilt_deg=30.0, mask_noise_px=0.0)
    homography = measure(
        scene.mask,
        MeasureOptions(method="homography", reference=ReferenceSpec(size=CARD)),
        image=scene.image,
    )
    proportional = measure(
        scene.mask, MeasureOptions(reference=ReferenceSpec(length=CARD[0])), image=scene.image
    )
    assert max(map(abs, _errors(homography, scene))) < 0.006
    assert _covered(homography, scene)
    assert homography.reference.located_on == "photo"
    assert abs(_errors(proportional, scene)[1]) > 0.05  # foreshortened height
    assert any("perspective suspected" in w for w in proportional.warnings)


def test_aruco_reference_needs_no_reference_class():
    scene = random_scene(
        np.random.default_rng(9),
        shape="ellipse",
        tilt_deg=25.0,
        mask_noise_px=0.0,
        reference="aruco",
    )
    mask = scene.mask.copy()
    mask[mask == 2] = 0  # the marker is found in the photo, not the mask
    side = scene.reference.size_mm[0]
    options = MeasureOptions(
        method="homography",
        reference=ReferenceSpec(
            aruco_dictionary=scene.reference.aruco_dictionary, marker_size=side
        ),
    )
    result = measure(mask, options, image=scene.image)
    assert result.reference.kind == "aruco"
    assert max(map(abs, _errors(result, scene))) < 0.006


def test_noisy_masks_widen_the_uncertainty_and_keep_the_truth_inside():
    rng = np.random.default_rng(17)
    # The lens allowance (the same for both, these renders have no lens) is
    # left out, so that the noise's own share of the interval shows.
    options = MeasureOptions(
        method="homography", reference=ReferenceSpec(size=CARD), lens_corner_shift=0.0
    )
    clean = random_scene(rng, shape="rectangle", tilt_deg=20.0, mask_noise_px=0.0)
    noisy = random_scene(rng, shape="rectangle", tilt_deg=20.0, mask_noise_px=2.0)
    clean_result = measure(clean.mask, options, image=clean.image)
    noisy_result = measure(noisy.mask, options, image=noisy.image)
    assert noisy_result.objects[0].noise_px > 0.5 > clean_result.objects[0].noise_px
    assert noisy_result.objects[0].width.relative > 2 * clean_result.objects[0].width.relative
    assert _covered(noisy_result, noisy)


def test_a_card_seen_so_obliquely_that_its_sides_look_equal_is_flagged():
    # The card's long side points away from the camera: foreshortened by the
    # tilt until it looks about as long as the short side.
    card = card_shape((0.0, 0.0), angle_deg=90.0)
    obj = PlaneShape(kind="rectangle", center_mm=(0.0, 90.0), size_mm=(60.0, 40.0))
    options = MeasureOptions(method="homography", reference=ReferenceSpec(size=CARD))
    for tilt, flagged in ((10.0, False), (50.0, True)):
        scene = render_scene([obj], card, Camera(tilt_deg=tilt, distance_mm=400.0))
        result = measure(scene.mask, options, image=scene.image)
        assert any("look almost equally long" in w for w in result.warnings) is flagged
