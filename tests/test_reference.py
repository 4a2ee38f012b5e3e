"""Locating the reference: sub-pixel corners, refinement on the photo, ArUco."""

from __future__ import annotations

import numpy as np
import pytest

from objlen.errors import ParameterError, ReferenceNotFoundError
from objlen.reference import detect_aruco, order_corners, quad_from_outline, refine_quad_on_photo
from objlen.regions import class_regions, dense_outline, outline_noise_px
from objlen.testing.synthetic import Camera, card_shape, random_scene, render_scene
from tests.conftest import rotated_rectangle_mask


def _true_corners(scene) -> np.ndarray:
    """The card's sharp (virtual) corners projected into the image."""
    ref = scene.reference
    w, h = ref.size_mm
    local = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    plane = ref.place(local)
    homogeneous = np.c_[plane, np.ones(4)] @ scene.plane_to_image.T
    return order_corners(homogeneous[:, :2] / homogeneous[:, 2:])


def _reference_outline(mask: np.ndarray) -> np.ndarray:
    region = class_regions(mask, 2, limit=1)[0]
    return dense_outline(region)


def test_order_corners_puts_the_upper_near_horizontal_side_first():
    corners = np.array([[10, 50], [110, 60], [0, 0], [100, 10]], float)
    np.testing.assert_array_equal(order_corners(corners), [[0, 0], [100, 10], [110, 60], [10, 50]])


def test_axis_aligned_mask_rectangle_corners_are_on_pixel_edges():
    mask = np.zeros((100, 200), np.uint8)
    mask[20:60, 30:150] = 2  # columns 30..149, rows 20..59
    quad = quad_from_outline(_reference_outline(mask))
    np.testing.assert_allclose(
        quad.corners, [[29.5, 19.5], [149.5, 19.5], [149.5, 59.5], [29.5, 59.5]], atol=1e-9
    )


@pytest.mark.parametrize("angle", [7.0, 23.0, 38.0])
def test_rotated_rectangle_corners_are_sub_pixel(angle):
    mask = rotated_rectangle_mask((500, 600), (300.3, 250.7), (300, 180), angle, value=2)
    quad = quad_from_outline(_reference_outline(mask))
    import cv2

    truth = order_corners(cv2.boxPoints(((300.3, 250.7), (300, 180), angle)))
    assert np.max(np.linalg.norm(quad.corners - truth, axis=1)) < 0.25


@pytest.mark.parametrize("tilt", [0.0, 35.0])
def test_card_corners_under_perspective_with_rounded_corners(tilt):
    scene = render_scene([], card_shape((0.0, 0.0)), Camera(tilt_deg=tilt, distance_mm=250.0))
    truth = _true_corners(scene)
    from_mask = quad_from_outline(_reference_outline(scene.mask))
    refined = refine_quad_on_photo(scene.image, from_mask)
    # A mask puts an axis-aligned edge on a pixel boundary: up to 0.5 px off
    # in each coordinate. The photo's grey levels place it to a tenth of that.
    assert np.max(np.linalg.norm(from_mask.corners - truth, axis=1)) < 0.75
    assert refined.source == "photo"
    assert np.max(np.linalg.norm(refined.corners - truth, axis=1)) < 0.3


def test_photo_refinement_repairs_a_ragged_mask():
    noisy = render_scene(
        [],
        card_shape((0.0, 0.0)),
        Camera(tilt_deg=20.0, distance_mm=250.0),
        mask_noise_px=2.0,
        seed=4,
    )
    truth = _true_corners(noisy)
    from_mask = quad_from_outline(_reference_outline(noisy.mask))
    refined = refine_quad_on_photo(noisy.image, from_mask)
    error_mask = np.max(np.linalg.norm(from_mask.corners - truth, axis=1))
    error_photo = np.max(np.linalg.norm(refined.corners - truth, axis=1))
    assert error_photo < 0.3 < error_mask


def test_a_disc_is_not_a_rectangle():
    mask = np.zeros((300, 300), np.uint8)
    yy, xx = np.mgrid[:300, :300]
    mask[(xx - 150) ** 2 + (yy - 150) ** 2 < 100**2] = 2
    import objlen.reference as reference

    quad = None
    try:
        quad = reference.quad_from_outline(_reference_outline(mask))
    except ReferenceNotFoundError:
        return
    # If four corners are found on a disc they enclose far less than it.
    x, y = quad.corners[:, 0], quad.corners[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    assert area < 0.8 * np.count_nonzero(mask)


def test_an_l_shaped_region_is_refused_as_no_rectangle():
    # Its hull's four corners put two parallel sides next to each other: once,
    # intersecting them raised numpy's LinAlgError (a traceback for the operator).
    mask = np.zeros((400, 500), np.uint8)
    mask[100:290, 100:400] = 2
    mask[195:290, 300:400] = 0
    with pytest.raises(ReferenceNotFoundError, match="does not look like a rectangle"):
        quad_from_outline(_reference_outline(mask))


@pytest.mark.parametrize("tilt", [0.0, 30.0])
def test_aruco_marker_corners(tilt):
    scene = random_scene(
        np.random.default_rng(7),
        shape="rectangle",
        tilt_deg=tilt,
        mask_noise_px=0.0,
        reference="aruco",
    )
    quad = detect_aruco(scene.image, scene.reference.aruco_dictionary)
    side = scene.reference.size_mm[0]
    local = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * side / 2
    homogeneous = np.c_[scene.reference.place(local), np.ones(4)] @ scene.plane_to_image.T
    truth = order_corners(homogeneous[:, :2] / homogeneous[:, 2:])
    assert quad.source == "aruco"
    assert np.max(np.linalg.norm(quad.corners - truth, axis=1)) < 0.3


def test_aruco_errors():
    blank = np.full((200, 200, 3), 200, np.uint8)
    with pytest.raises(ReferenceNotFoundError, match="no ArUco marker"):
        detect_aruco(blank, "DICT_4X4_50")
    with pytest.raises(ParameterError, match="unknown ArUco dictionary"):
        detect_aruco(blank, "DICT_NOPE")


def test_outline_noise_estimate_tracks_the_rendered_noise():
    estimates = {}
    for noise in (0.0, 2.0):
        scene = random_scene(
            np.random.default_rng(11), shape="ellipse", tilt_deg=0.0, mask_noise_px=noise
        )
        region = class_regions(scene.mask, 1, limit=1)[0]
        estimates[noise] = outline_noise_px(dense_outline(region))
    # The renderer's displacement has standard deviation noise/2.
    assert estimates[0.0] < 0.2
    assert 0.5 < estimates[2.0] < 2.0
