"""The 95 % interval holds the truth where it used to miss (issue 9, honest intervals).

Seeded sets of rendered scenes in the conditions where the interval covered
the truth for fewer than 90 % of the lengths (homography from the mask alone
with 2 px of mask noise; from the mask alone under lens distortion at the
allowance's bound; proportional against a coin with a tilted camera), and the
model of the reference's corners those relied on.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.measure import COVERAGE_FACTOR, plane_lengths
from objlen.reference import order_corners, quad_from_outline
from objlen.regions import class_regions, dense_outline
from objlen.testing.synthetic import (
    Camera,
    PhotoEffects,
    PlaneShape,
    project_points,
    random_scene,
    render_scene,
)

CARD = (85.6, 54.0)
SHAPES = ("rectangle", "ellipse", "blob")
HOMOGRAPHY = MeasureOptions(method="homography", reference=ReferenceSpec(size=CARD))


def _coverage(scenes) -> float:
    """Share of widths and heights measured from the mask alone whose truth is inside."""
    inside = []
    for scene in scenes:
        obj = measure(scene.mask, HOMOGRAPHY).objects[0]
        width, height = scene.object_size_mm(0)
        inside += [
            abs(obj.width.value - width) <= obj.width.uncertainty,
            abs(obj.height.value - height) <= obj.height.uncertainty,
        ]
    return float(np.mean(inside))


def _card_corners(scene) -> np.ndarray:
    """The card's sharp corners in the photo (after the lens, if any)."""
    card = scene.reference
    w, h = card.size_mm
    plane = card.place(
        np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    )
    return order_corners(project_points(scene.plane_to_image, plane))


def test_a_side_offset_moves_both_its_corners_so_a_length_beyond_inherits_all_of_it():
    # A 100 x 50 px reference of 100 x 50 mm, face-on; the object is as wide.
    corners = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 50.0], [0.0, 50.0]])
    plane = corners.copy()
    points = np.array([[0.0, 150.0], [100.0, 150.0], [0.0, 100.0]])  # A, B, E
    side_sigmas = np.zeros((4, 2))
    side_sigmas[1, 0] = 1.0  # the right side's offset: 1 px
    width, _ = plane_lengths(
        points, corners, plane, (0.0, 0.0, 0.0), 0.0, 0.0, side_sigmas_px=side_sigmas
    )
    # Moving the right side by 1 px moves both right corners: the scale changes by
    # 1 %, and so does a width as long as the reference's.
    assert width.uncertainty == pytest.approx(COVERAGE_FACTOR * 1.0, rel=0.02)
    # Its tilt pivots the side about its middle: that scale stays, to first order,
    # at the middle's height, and changes by the tilt beyond the reference.
    side_sigmas[1] = (0.0, 1.0)
    width, _ = plane_lengths(
        points, corners, plane, (0.0, 0.0, 0.0), 0.0, 0.0, side_sigmas_px=side_sigmas
    )
    assert width.uncertainty > COVERAGE_FACTOR * 1.0


@pytest.mark.parametrize("tilt", [0.0, 40.0])
def test_side_uncertainties_of_a_noisy_mask_match_its_side_errors(tilt):
    # Over a set of cards with 2 px of mask noise, the fitted sides' errors
    # (against the true sides) divided by their stated standard uncertainty
    # have an RMS near 1: neither under-stated nor inflated.
    rng = np.random.default_rng(41)
    z = []
    for _ in range(16):
        scene = random_scene(rng, shape="rectangle", tilt_deg=tilt, mask_noise_px=2.0)
        truth = _card_corners(scene)
        quad = quad_from_outline(dense_outline(class_regions(scene.mask, 2, limit=1)[0]))
        for k in range(4):
            start, end = truth[k], truth[(k + 1) % 4]
            unit = (end - start) / np.linalg.norm(end - start)
            normal = np.array([-unit[1], unit[0]])
            ends = (quad.corners[[k, (k + 1) % 4]] - np.array([start, end])) @ normal
            z += [
                ends.mean() / quad.side_sigmas[k, 0],
                (ends[1] - ends[0]) / 2 / quad.side_sigmas[k, 1],
            ]
    rms = float(np.sqrt(np.mean(np.square(z))))
    assert 0.6 < rms < 1.5


def test_mask_noise_of_2_px_homography_from_the_mask_alone_covers_90_percent():
    # 8 scenes at each of 0, 20 and 40 deg: 48 lengths (the code before these
    # intervals covered about 84 % of such lengths).
    rng = np.random.default_rng(9000)
    scenes = [
        random_scene(rng, shape=SHAPES[k % 3], tilt_deg=tilt, mask_noise_px=2.0)
        for tilt in (0.0, 20.0, 40.0)
        for k in range(8)
    ]
    assert _coverage(scenes) >= 0.9


def test_lens_at_the_allowance_bound_from_the_mask_alone_covers_90_percent():
    # k1 = +-0.1 in OpenCV's convention (radius over the focal length), as the
    # benchmark's lens conditions; the renderer's radius is half the diagonal.
    # 10 scenes for each sign at 0, 20 and 40 deg: 120 lengths (the code before
    # these intervals covered about 70 % of such lengths).
    camera = Camera()
    bound = 0.1 * (math.hypot(camera.width, camera.height) / 2 / camera.focal_px) ** 2
    assert bound <= MeasureOptions().lens_corner_shift  # within the allowance
    rng = np.random.default_rng(7100)
    scenes = [
        random_scene(
            rng,
            shape=SHAPES[k % 3],
            tilt_deg=tilt,
            mask_noise_px=0.0,
            effects=PhotoEffects(distortion_k1=sign * bound),
        )
        for sign in (1.0, -1.0)
        for tilt in (0.0, 20.0, 40.0)
        for k in range(10)
    ]
    assert _coverage(scenes) >= 0.9


def test_coins_photographed_by_a_tilted_camera_proportional_covers_90_percent():
    # A quarter as the reference and a coin 35-70 mm from it in any direction,
    # the camera tilted by 0-15 deg, rolled by up to 30 deg, with 0 or 1 px of
    # mask noise: 24 scenes, 48 lengths (without the scale's change across the
    # photo, objlen.perspective, about 80 % of such lengths were covered).
    quarter = 24.26
    options = MeasureOptions(method="proportional", reference=ReferenceSpec(length=quarter))
    rng = np.random.default_rng(1)
    inside = []
    for k in range(24):
        tilt, noise = float(rng.uniform(0.0, 15.0)), float(rng.choice([0.0, 1.0]))
        angle, away = rng.uniform(0.0, 2.0 * np.pi), rng.uniform(35.0, 70.0)
        diameter = float(rng.uniform(15.0, 30.0))
        camera = Camera(
            tilt_deg=tilt,
            distance_mm=float(rng.uniform(250.0, 350.0)),
            roll_deg=float(rng.uniform(-30.0, 30.0)),
        )
        coin = PlaneShape(
            "ellipse",
            (float(away * np.cos(angle)), float(away * np.sin(angle))),
            (diameter, diameter),
        )
        reference = PlaneShape("ellipse", (0.0, 0.0), (quarter, quarter))
        scene = render_scene([coin], reference, camera, mask_noise_px=noise, seed=k)
        obj = measure(scene.mask, options).objects[0]
        width, height = scene.object_size_mm(0)
        inside += [
            abs(obj.width.value - width) <= obj.width.uncertainty,
            abs(obj.height.value - height) <= obj.height.uncertainty,
        ]
    assert np.mean(inside) >= 0.9
