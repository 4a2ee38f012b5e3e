"""Tests of objlen.testing.synthetic: the pinhole camera, the shapes and the renderer.

Everything here checks the renderer against geometry computed another way:
an independent point-in-polygon test, analytic extents, dense outlines,
line fits to the mask's edges and OpenCV's ArUco detector; the photo effects
against the formulas they promise, worked out by hand in each test.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objlen.errors import ParameterError
from objlen.testing.synthetic import (
    BRIGHT_EDGE_RGB,
    CARD_CORNER_RADIUS_MM,
    CARD_SIZE_MM,
    DARK_EDGE_RGB,
    Camera,
    EdgeLine,
    PhotoEffects,
    PlaneShape,
    Scene,
    Shadow,
    aruco_shape,
    biased_mask,
    card_shape,
    distort_points,
    polygon_coverage,
    project_points,
    random_scene,
    render_scene,
)

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

# A camera that sees 1 px per mm, with the image centre at (149.5, 99.5):
# plane (X, Y) lands on image (X + 149.5, Y + 99.5).
UNIT_CAMERA = Camera(width=300, height=200, focal_px=600.0, distance_mm=600.0)


def _box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _brute_force_counts(
    polygon: np.ndarray, size: tuple[int, int], s: int
) -> tuple[np.ndarray, np.ndarray]:
    """Samples inside per pixel by cv2.pointPolygonTest, and pixels with a sample on an edge."""
    height, width = size
    contour = polygon.astype(np.float32).reshape(-1, 1, 2)
    counts = np.zeros(size)
    ambiguous = np.zeros(size, dtype=bool)
    offsets = (np.arange(s) - (s - 1) / 2.0) / s
    for y in range(height):
        for x in range(width):
            for dy in offsets:
                for dx in offsets:
                    distance = cv2.pointPolygonTest(contour, (x + dx, y + dy), True)
                    if abs(distance) < 1e-4:
                        ambiguous[y, x] = True
                    counts[y, x] += distance > 0
    return counts, ambiguous


# ----------------------------------------------------------------------------
# The rasteriser honours the pixel convention exactly
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("supersample", [1, 2, 3, 4, 5, 8])
def test_rectangle_on_pixel_edges_covers_exactly_its_pixels(supersample: int) -> None:
    outline = _box(99.5, 49.5, 199.5, 149.5)
    coverage = polygon_coverage([outline], (200, 300), supersample)
    expected = np.zeros((200, 300), dtype=np.float32)
    expected[50:150, 100:200] = 1.0
    np.testing.assert_array_equal(coverage, expected)


@pytest.mark.parametrize("supersample", [2, 4, 6, 8])
def test_edge_through_pixel_centre_gives_half_coverage(supersample: int) -> None:
    coverage = polygon_coverage([_box(99.5, 49.5, 150.0, 149.5)], (200, 300), supersample)
    np.testing.assert_allclose(coverage[50:150, 150], 0.5, atol=1.0 / supersample**2)
    np.testing.assert_array_equal(coverage[50:150, 100:150], 1.0)
    assert not coverage[:, 151:].any()


def test_quarter_pixel_offsets_give_quarter_coverage() -> None:
    coverage = polygon_coverage([_box(9.25, 9.5, 20.75, 20.5)], (30, 30), 4)
    np.testing.assert_allclose(coverage[10:21, 9], 0.25)
    np.testing.assert_allclose(coverage[10:21, 21], 0.25)
    np.testing.assert_allclose(coverage[10:21, 10:21], 1.0)


@settings(max_examples=25, deadline=None)
@given(
    points=st.lists(st.tuples(st.floats(0.0, 24.0), st.floats(0.0, 24.0)), min_size=3, max_size=7),
    supersample=st.integers(1, 4),
)
def test_coverage_counts_the_samples_inside_like_point_polygon_test(
    points: list[tuple[float, float]], supersample: int
) -> None:
    polygon = np.array(points, dtype=np.float64)
    centre = polygon.mean(axis=0)
    angles = np.arctan2(polygon[:, 1] - centre[1], polygon[:, 0] - centre[0])
    polygon = polygon[np.argsort(angles)]  # star-shaped about its centroid: simple
    coverage = polygon_coverage([polygon], (25, 25), supersample)
    counts, ambiguous = _brute_force_counts(polygon, (25, 25), supersample)
    clear = ~ambiguous
    np.testing.assert_array_equal(coverage[clear] * supersample**2, counts[clear])


def test_coverage_sums_to_the_polygon_area() -> None:
    t = np.linspace(0.0, 2.0 * math.pi, 2000, endpoint=False)
    angle = math.radians(23.0)
    x, y = 180.0 * np.cos(t), 95.0 * np.sin(t)
    ellipse = np.column_stack(
        [
            300.3 + x * math.cos(angle) - y * math.sin(angle),
            200.7 + x * math.sin(angle) + y * math.cos(angle),
        ]
    )
    area = 0.5 * abs(
        np.sum(
            ellipse[:, 0] * np.roll(ellipse[:, 1], -1) - np.roll(ellipse[:, 0], -1) * ellipse[:, 1]
        )
    )
    coverage = polygon_coverage([ellipse], (400, 600), 4)
    assert abs(float(coverage.sum(dtype=np.float64)) - area) < 2.0
    assert coverage.min() >= 0.0 and coverage.max() <= 1.0


def test_polygons_sharing_an_edge_tile_without_gap_or_overlap() -> None:
    slanted_top = (30.37, 11.21)
    slanted_bottom = (41.93, 52.66)
    left = np.array([(10.2, 11.21), slanted_top, slanted_bottom, (12.8, 52.66)])
    right = np.array([slanted_top, (70.6, 11.21), (66.1, 52.66), slanted_bottom])
    whole = np.array([(10.2, 11.21), (70.6, 11.21), (66.1, 52.66), (12.8, 52.66)])
    size = (64, 80)
    together = polygon_coverage([left, right], size, 4)
    apart = polygon_coverage([left], size, 4) + polygon_coverage([right], size, 4)
    reference = polygon_coverage([whole], size, 4)
    np.testing.assert_array_equal(together, reference)
    np.testing.assert_allclose(apart, reference, atol=1e-6)


def test_orientation_of_a_polygon_does_not_matter() -> None:
    polygon = np.array([(3.3, 4.1), (40.7, 9.9), (22.2, 38.4)])
    size = (45, 45)
    np.testing.assert_array_equal(
        polygon_coverage([polygon], size), polygon_coverage([polygon[::-1]], size)
    )


def test_polygon_partly_outside_the_image_is_clipped() -> None:
    coverage = polygon_coverage([_box(-50.0, -20.5, 10.5, 5.5)], (20, 30), 4)
    assert coverage[:6, :11].min() == 1.0
    assert coverage[6:, :].sum() == 0.0 and coverage[:, 11:].sum() == 0.0


# ----------------------------------------------------------------------------
# The camera
# ----------------------------------------------------------------------------


def test_homography_at_tilt_zero_is_the_stated_similarity() -> None:
    cam = Camera(width=1600, height=1200, focal_px=1700.0, distance_mm=600.0)
    k = 1700.0 / 600.0
    expected = np.array([[k, 0.0, 799.5], [0.0, k, 599.5], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(cam.homography(), expected, rtol=1e-12, atol=1e-12)
    plane = np.array([[10.0, 0.0], [0.0, 10.0], [-25.0, 40.0]])
    image = project_points(cam.homography(), plane)
    np.testing.assert_allclose(
        image, [[799.5 + 10 * k, 599.5], [799.5, 599.5 + 10 * k], [799.5 - 25 * k, 599.5 + 40 * k]]
    )


def test_camera_centre_is_distance_mm_from_the_point_seen_at_the_image_centre() -> None:
    cam = Camera(tilt_deg=35.0, distance_mm=450.0, roll_deg=12.0)
    columns = cam.extrinsic_columns()
    r1, r2, t = columns[:, 0], columns[:, 1], columns[:, 2]
    rotation = np.column_stack([r1, r2, np.cross(r1, r2)])
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-12)
    centre = -rotation.T @ t
    assert math.isclose(float(np.linalg.norm(centre)), 450.0, rel_tol=1e-12)
    assert math.isclose(abs(centre[2]), 450.0 * math.cos(math.radians(35.0)), rel_tol=1e-12)
    np.testing.assert_allclose(
        project_points(cam.homography(), [[0.0, 0.0]]), [cam.principal_point], atol=1e-9
    )


def test_tilt_makes_far_things_smaller_at_the_top_of_the_image() -> None:
    cam = Camera(tilt_deg=30.0, distance_mm=600.0)
    h = cam.homography()
    near = project_points(h, _box(-20.0, 80.0, 20.0, 120.0))
    far = project_points(h, _box(-20.0, -120.0, 20.0, -80.0))
    assert far[:, 1].max() < cam.principal_point[1] < near[:, 1].min()  # far one is on top

    def area(quad: np.ndarray) -> float:
        return 0.5 * abs(
            float(
                np.sum(quad[:, 0] * np.roll(quad[:, 1], -1) - np.roll(quad[:, 0], -1) * quad[:, 1])
            )
        )

    assert area(far) < 0.8 * area(near)
    # Plane +X stays image right; at the centre the scale is f/d across, f cos(t)/d along.
    eps = 1e-4
    dx = project_points(h, [[eps, 0.0]])[0] - project_points(h, [[-eps, 0.0]])[0]
    dy = project_points(h, [[0.0, eps]])[0] - project_points(h, [[0.0, -eps]])[0]
    np.testing.assert_allclose(dx / (2 * eps), [1700.0 / 600.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(
        dy / (2 * eps), [0.0, 1700.0 / 600.0 * math.cos(math.pi / 6)], atol=1e-6
    )


def test_roll_turns_the_picture_clockwise_about_the_centre() -> None:
    cam = Camera(roll_deg=90.0, distance_mm=500.0)
    point = project_points(cam.homography(), [[10.0, 0.0]])[0]
    cx, cy = cam.principal_point
    np.testing.assert_allclose(point, [cx, cy + 10.0 * 1700.0 / 500.0], atol=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tilt_deg": 85.0},
        {"tilt_deg": -1.0},
        {"distance_mm": 0.0},
        {"focal_px": float("nan")},
        {"width": 2},
    ],
)
def test_bad_camera_is_a_parameter_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ParameterError):
        Camera(**kwargs)


# ----------------------------------------------------------------------------
# Shapes and their ground truth
# ----------------------------------------------------------------------------


def _outline_extent(shape: PlaneShape, samples: int) -> np.ndarray:
    pts = shape.outline_mm(samples)
    return pts.max(axis=0) - pts.min(axis=0)


def test_rectangle_extent_is_exact_and_rotates() -> None:
    upright = PlaneShape("rectangle", (5.0, 7.0), (120.0, 45.0))
    assert upright.extent_mm() == (120.0, 45.0)
    turned = PlaneShape("rectangle", (5.0, 7.0), (120.0, 45.0), angle_deg=30.0)
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    np.testing.assert_allclose(turned.extent_mm(), (120 * c + 45 * s, 120 * s + 45 * c))
    np.testing.assert_allclose(turned.extent_mm(), _outline_extent(turned, 4), rtol=1e-12)
    np.testing.assert_allclose(upright.outline_mm().mean(axis=0), (5.0, 7.0))


@pytest.mark.parametrize("angle", [0.0, 17.0, 90.0, 133.0])
def test_ellipse_extent_matches_its_dense_outline(angle: float) -> None:
    ellipse = PlaneShape("ellipse", (-3.0, 2.0), (140.0, 60.0), angle_deg=angle)
    np.testing.assert_allclose(ellipse.extent_mm(), _outline_extent(ellipse, 400_000), atol=1e-6)
    if angle == 0.0:
        assert ellipse.extent_mm() == (140.0, 60.0)


@pytest.mark.parametrize("seed", [0, 1, 7, 123456])
def test_blob_extent_is_its_size_and_matches_its_dense_outline(seed: int) -> None:
    blob = PlaneShape("blob", (10.0, -4.0), (110.0, 70.0), seed=seed)
    np.testing.assert_allclose(blob.extent_mm(), (110.0, 70.0), atol=1e-5)
    np.testing.assert_allclose(blob.extent_mm(), _outline_extent(blob, 400_000), atol=1e-5)
    pts = blob.outline_mm(4000)
    np.testing.assert_allclose((pts.max(axis=0) + pts.min(axis=0)) / 2, (10.0, -4.0), atol=1e-3)
    turned = PlaneShape("blob", (10.0, -4.0), (110.0, 70.0), angle_deg=25.0, seed=seed)
    np.testing.assert_allclose(turned.extent_mm(), _outline_extent(turned, 400_000), atol=1e-5)


def test_blobs_differ_by_seed() -> None:
    a = PlaneShape("blob", (0.0, 0.0), (100.0, 100.0), seed=1).outline_mm(360)
    b = PlaneShape("blob", (0.0, 0.0), (100.0, 100.0), seed=2).outline_mm(360)
    assert np.abs(a - b).max() > 1.0


def test_card_is_id1_with_rounded_corners() -> None:
    card = card_shape((0.0, 0.0), angle_deg=12.0)
    assert card.size_mm == CARD_SIZE_MM == (85.6, 54.0)
    np.testing.assert_allclose(card.extent_mm(), _outline_extent(card, 400_000), atol=1e-5)
    upright = card_shape()
    assert upright.extent_mm() == pytest.approx((85.6, 54.0))
    corner = np.array([42.8, 27.0])
    nearest = np.min(np.linalg.norm(upright.outline_mm(2000) - corner, axis=1))
    assert nearest == pytest.approx(3.18 * (math.sqrt(2) - 1), abs=1e-3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "triangle", "center_mm": (0, 0), "size_mm": (1, 1)},
        {"kind": "rectangle", "center_mm": (0, 0), "size_mm": (-1, 1)},
        {"kind": "card", "center_mm": (0, 0), "size_mm": (10, 10), "corner_radius_mm": 6},
        {"kind": "aruco", "center_mm": (0, 0), "size_mm": (10, 12)},
        {"kind": "aruco", "center_mm": (0, 0), "size_mm": (10, 10), "aruco_id": 50},
        {"kind": "aruco", "center_mm": (0, 0), "size_mm": (10, 10), "aruco_dictionary": "X"},
    ],
)
def test_bad_shape_is_a_parameter_error(kwargs: dict) -> None:
    with pytest.raises(ParameterError):
        PlaneShape(**kwargs)


# ----------------------------------------------------------------------------
# Rendered scenes
# ----------------------------------------------------------------------------


def test_rendered_mask_honours_the_pixel_convention() -> None:
    box = PlaneShape("rectangle", (0.0, 0.0), (100.0, 100.0))  # image [99.5, 199.5] x [49.5, 149.5]
    card = PlaneShape("card", (-105.0, 0.0), (60.0, 40.0))
    scene = render_scene([box], card, UNIT_CAMERA)
    expected = np.zeros((200, 300), dtype=bool)
    expected[50:150, 100:200] = True
    np.testing.assert_array_equal(scene.mask == 1, expected)
    assert int((scene.mask == 2).sum()) == 60 * 40
    np.testing.assert_array_equal(scene.mask, scene.clean_mask)


def test_clean_mask_is_coverage_above_half() -> None:
    cam = Camera(width=640, height=480, focal_px=700.0, tilt_deg=25.0, distance_mm=400.0)
    blob = PlaneShape("blob", (40.0, 10.0), (90.0, 70.0), angle_deg=10.0, seed=3)
    card = card_shape((-70.0, 0.0))
    scene = render_scene([blob], card, cam)
    outline = project_points(cam.homography(), blob.outline_mm(4000))
    coverage = polygon_coverage([outline], (480, 640), 4)
    disagree = (scene.mask == 1) != (coverage > 0.5)
    assert int(disagree.sum()) <= 2  # only where a dense and a 4000-point outline differ


def _crack_points(region: np.ndarray) -> np.ndarray:
    """Midpoints between horizontally or vertically adjacent pixels on either side of the edge."""
    ys, xs = np.nonzero(region[:, :-1] != region[:, 1:])
    horizontal = np.column_stack([xs + 0.5, ys])
    ys, xs = np.nonzero(region[:-1, :] != region[1:, :])
    vertical = np.column_stack([xs, ys + 0.5])
    return np.concatenate([horizontal, vertical]).astype(np.float64)


def _line_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = a, b
    matrix = np.array([[vx1, -vx2], [vy1, -vy2]])
    t = np.linalg.solve(matrix, [x2 - x1, y2 - y1])
    return np.array([x1 + t[0] * vx1, y1 + t[0] * vy1])


@pytest.mark.parametrize(("tilt", "roll"), [(0.0, 0.0), (30.0, 0.0), (30.0, 8.0)])
def test_card_corners_found_in_the_mask_match_the_homography(tilt: float, roll: float) -> None:
    cam = Camera(tilt_deg=tilt, roll_deg=roll, distance_mm=420.0)
    card = card_shape((-60.0, 10.0))
    obj = PlaneShape("rectangle", (60.0, 0.0), (80.0, 60.0))
    scene = render_scene([obj], card, cam)
    h = scene.plane_to_image
    corners_mm = card.place(np.array([[-42.8, -27.0], [42.8, -27.0], [42.8, 27.0], [-42.8, 27.0]]))
    corners_px = project_points(h, corners_mm)
    points = _crack_points(scene.mask == 2)
    # Sort each edge point to its side; leave out the rounded corners.
    lines = []
    for k in range(4):
        p, q = corners_px[k], corners_px[(k + 1) % 4]
        direction = (q - p) / np.linalg.norm(q - p)
        normal = np.array([-direction[1], direction[0]])
        along = (points - p) @ direction
        across = np.abs((points - p) @ normal)
        near = (across < 2.0) & (along > 25.0) & (along < np.linalg.norm(q - p) - 25.0)
        assert near.sum() > 100
        lines.append(
            cv2.fitLine(points[near].astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01)
            .ravel()
            .astype(np.float64)
        )
    found = np.array([_line_intersection(lines[k - 1], lines[k]) for k in range(4)])
    np.testing.assert_allclose(found, corners_px, atol=0.5)
    assert np.abs(found - corners_px).max() < 0.5


def test_objects_take_their_colour_and_edges_are_blended() -> None:
    box = PlaneShape("rectangle", (40.0, 0.0), (60.0, 60.0))
    card = PlaneShape("card", (-80.0, 0.0), (60.0, 40.0))
    scene = render_scene([box], card, UNIT_CAMERA, object_colors=[(200, 30, 40)])
    inner = scene.image[80:120, 170:210].reshape(-1, 3).astype(float)
    np.testing.assert_allclose(inner.mean(axis=0), (200, 30, 40), atol=2.0)
    table = scene.image[5:30, 5:60].reshape(-1, 3).astype(float).mean(axis=0)
    assert np.abs(table - inner.mean(axis=0)).max() > 60
    # Box edge at x = 40 - 30 + 149.5 = 159.5 + 0.5 shift: put one mid-pixel to check blending.
    half = PlaneShape("rectangle", (40.5, 0.0), (60.0, 60.0))
    blended = render_scene([half], card, UNIT_CAMERA, object_colors=[(200, 30, 40)])
    edge = blended.image[80:120, 160].astype(float).mean(axis=0)
    expected = (table + np.array([200.0, 30.0, 40.0])) / 2.0
    np.testing.assert_allclose(edge, expected, atol=6.0)


def test_same_seed_same_scene_other_seed_other_noise() -> None:
    blob = PlaneShape("blob", (40.0, 5.0), (70.0, 50.0), seed=4)
    card = card_shape((-60.0, 0.0))
    cam = Camera(width=640, height=480, focal_px=800.0, tilt_deg=20.0, distance_mm=400.0)
    a = render_scene([blob], card, cam, mask_noise_px=3.0, lighting="gradient", seed=5)
    b = render_scene([blob], card, cam, mask_noise_px=3.0, lighting="gradient", seed=5)
    c = render_scene([blob], card, cam, mask_noise_px=3.0, lighting="gradient", seed=6)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, c.image)
    assert not np.array_equal(a.mask, c.mask)
    np.testing.assert_array_equal(a.clean_mask, c.clean_mask)


def test_zero_mask_noise_gives_the_clean_mask() -> None:
    cam = Camera(width=640, height=480, focal_px=800.0, tilt_deg=20.0, distance_mm=400.0)
    blob = PlaneShape("blob", (40.0, 5.0), (70.0, 50.0), seed=4)
    scene = render_scene([blob], card_shape((-60.0, 0.0)), cam, mask_noise_px=0.0, seed=9)
    np.testing.assert_array_equal(scene.mask, scene.clean_mask)
    assert set(np.unique(scene.mask)) == {0, 1, 2}


def _edge_rows(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last row of each column of a boolean mask."""
    return np.argmax(mask, axis=0), mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0)


@pytest.mark.parametrize(("noise_px", "seed"), [(2.0, 11), (4.0, 12), (8.0, 13)])
def test_mask_noise_moves_the_boundary_by_about_the_stated_amount(
    noise_px: float, seed: int
) -> None:
    cam = Camera(distance_mm=500.0)  # 3.4 px/mm
    box = PlaneShape("rectangle", (60.0, 0.0), (250.0, 150.0))
    scene = render_scene([box], card_shape((-160.0, 0.0)), cam, mask_noise_px=noise_px, seed=seed)
    left, right = project_points(cam.homography(), [[-50.0, 0.0], [170.0, 0.0]])[:, 0]
    columns = slice(int(left), int(right))  # top and bottom edges, clear of the corners
    noisy_top, noisy_bottom = _edge_rows(scene.mask == 1)
    clean_top, clean_bottom = _edge_rows(scene.clean_mask == 1)
    top_shift = noisy_top[columns] - clean_top[columns]
    bottom_shift = noisy_bottom[columns] - clean_bottom[columns]
    shift = np.abs(np.concatenate([top_shift, bottom_shift])).astype(float)
    # The field has sd noise/2: mean |shift| ~ 0.8 sd = 0.4 noise, 95 % below noise.
    assert 0.28 * noise_px <= shift.mean() <= 0.55 * noise_px
    assert np.quantile(shift, 0.95) <= noise_px + 1.0
    assert shift.max() >= 0.75 * noise_px
    # No bias: the area changes by much less than the mean shift times the perimeter.
    area_change = int((scene.mask == 1).sum()) - int((scene.clean_mask == 1).sum())
    perimeter_px = 2 * 3.4 * (250 + 150)
    assert abs(area_change) < 0.15 * noise_px * perimeter_px
    # The reference gets its own noise.
    assert (scene.mask == 2).sum() != (scene.clean_mask == 2).sum()


def test_mask_noise_field_has_the_stated_spread_and_correlation_length() -> None:
    from objlen.testing.synthetic import MASK_NOISE_CORRELATION_PX, _noise_field

    field = _noise_field((1500, 1500), 4.0, np.random.default_rng(0)).astype(np.float64)
    assert field.std() == pytest.approx(2.0, rel=0.05)
    lag = int(MASK_NOISE_CORRELATION_PX)
    correlation = np.corrcoef(field[:, :-lag].ravel(), field[:, lag:].ravel())[0, 1]
    assert correlation == pytest.approx(math.exp(-0.5), abs=0.05)


@pytest.mark.parametrize("tilt", [0.0, 30.0])
def test_aruco_marker_is_detected_where_the_homography_puts_it(tilt: float) -> None:
    marker = aruco_shape((-70.0, 0.0), marker_id=7)
    obj = PlaneShape("ellipse", (50.0, 0.0), (90.0, 60.0))
    cam = Camera(tilt_deg=tilt, distance_mm=380.0)
    scene = render_scene([obj], marker, cam, seed=3)
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(dictionary, parameters)
    corners, ids, _ = detector.detectMarkers(cv2.cvtColor(scene.image, cv2.COLOR_RGB2GRAY))
    assert ids is not None and ids.ravel().tolist() == [7]
    expected = project_points(scene.plane_to_image, marker.outline_mm())
    np.testing.assert_allclose(corners[0].reshape(4, 2), expected, atol=0.5)
    # Class 2 is the whole black square.
    quad = expected
    area = 0.5 * abs(
        float(np.sum(quad[:, 0] * np.roll(quad[:, 1], -1) - np.roll(quad[:, 0], -1) * quad[:, 1]))
    )
    assert abs(int((scene.mask == 2).sum()) - area) < 0.02 * area


@pytest.mark.parametrize("lighting", ["plain", "gradient", "dark"])
def test_lightings_render_and_differ(lighting: str) -> None:
    scene = random_scene(
        np.random.default_rng(3),
        shape="ellipse",
        tilt_deg=0.0,
        mask_noise_px=0.0,
        lighting=lighting,
    )
    table = scene.image[scene.mask == 0].astype(float)
    if lighting == "dark":
        assert table.mean() < 70
        assert scene.image[scene.mask == 1].astype(float).mean() > 140
    else:
        assert table.mean() > 140
    table_only = np.where((scene.mask == 0)[..., None], scene.image.astype(float), np.nan)
    corners = [
        table_only[:200, :200],
        table_only[:200, -200:],
        table_only[-200:, :200],
        table_only[-200:, -200:],
    ]
    spread = np.ptp([np.nanmean(c) for c in corners])
    assert (spread > 8.0) == (lighting == "gradient")


def test_sensor_noise_is_mild() -> None:
    scene = render_scene([], card_shape((0.0, 0.0)), UNIT_CAMERA, seed=1)
    flat = scene.image[150:190, 10:60].astype(float)
    assert 1.0 < flat.std(axis=(0, 1)).mean() < 4.0


def test_bad_render_arguments_are_parameter_errors() -> None:
    card = card_shape()
    with pytest.raises(ParameterError):
        render_scene([], card, UNIT_CAMERA, lighting="disco")
    with pytest.raises(ParameterError):
        render_scene([], card, UNIT_CAMERA, mask_noise_px=-1.0)
    with pytest.raises(ParameterError):
        render_scene([], card, UNIT_CAMERA, supersample=0)
    behind = PlaneShape("rectangle", (0.0, 2000.0), (50.0, 50.0))  # d / sin(30) = 1200 mm
    with pytest.raises(ParameterError, match="behind the tilted camera"):
        render_scene([behind], card, Camera(tilt_deg=30.0))
    far = PlaneShape("rectangle", (0.0, -5000.0), (50.0, 50.0))  # tiny, near the horizon line
    assert render_scene([far], card, Camera(tilt_deg=30.0)).image.shape == (1200, 1600, 3)


# ----------------------------------------------------------------------------
# Random scenes
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["rectangle", "ellipse", "blob"])
@pytest.mark.parametrize("reference", ["card", "aruco"])
@pytest.mark.parametrize("tilt", [0.0, 30.0])
def test_random_scene_layout(shape: str, reference: str, tilt: float) -> None:
    scene = random_scene(
        np.random.default_rng(42),
        shape=shape,
        tilt_deg=tilt,
        mask_noise_px=2.0,
        reference=reference,
    )
    assert scene.image.shape == (1200, 1600, 3) and scene.image.dtype == np.uint8
    assert scene.mask.shape == (1200, 1600) and scene.mask.dtype == np.uint8
    assert scene.camera.tilt_deg == tilt
    (obj,) = scene.objects
    assert obj.kind == shape and obj.angle_deg == 0.0
    assert scene.reference.kind == reference
    width, height = scene.object_size_mm()
    assert 60.0 <= width <= 160.0 and 40.0 <= height <= 160.0
    ys, xs = np.nonzero(scene.mask)
    assert xs.min() > 20 and ys.min() > 20 and xs.max() < 1580 and ys.max() < 1180
    ref_x = np.nonzero(scene.mask == 2)[1]
    obj_x = np.nonzero(scene.mask == 1)[1]
    assert ref_x.max() < obj_x.min()  # reference is the left-most blob
    # The object fills a fair part of the frame.
    assert (obj_x.max() - obj_x.min()) > 200


def test_random_scene_is_reproducible_from_the_rng() -> None:
    a = random_scene(np.random.default_rng(8), shape="blob", tilt_deg=15.0, mask_noise_px=2.0)
    b = random_scene(np.random.default_rng(8), shape="blob", tilt_deg=15.0, mask_noise_px=2.0)
    c = random_scene(np.random.default_rng(9), shape="blob", tilt_deg=15.0, mask_noise_px=2.0)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert a.objects == b.objects and a.camera == b.camera
    assert a.objects != c.objects


def test_random_scene_can_rotate_objects_a_little() -> None:
    scene = random_scene(
        np.random.default_rng(1),
        shape="rectangle",
        tilt_deg=0.0,
        mask_noise_px=0.0,
        max_angle_deg=10.0,
    )
    angle = scene.objects[0].angle_deg
    assert 0.0 < abs(angle) <= 10.0
    assert scene.object_size_mm() == scene.objects[0].extent_mm()


def test_twelve_megapixel_scene_renders_with_the_right_geometry() -> None:
    sensor = Camera(width=4000, height=3000, focal_px=4250.0)
    scene = random_scene(
        np.random.default_rng(5),
        shape="ellipse",
        tilt_deg=20.0,
        mask_noise_px=0.0,
        camera=sensor,
        supersample=2,
    )
    assert scene.image.shape == (3000, 4000, 3)
    outline = project_points(scene.plane_to_image, scene.objects[0].outline_mm(20000))
    area = 0.5 * abs(
        float(
            np.sum(
                outline[:, 0] * np.roll(outline[:, 1], -1)
                - np.roll(outline[:, 0], -1) * outline[:, 1]
            )
        )
    )
    assert abs(int((scene.mask == 1).sum()) - area) < 1e-3 * area


def test_ground_truth_is_json_and_complete() -> None:
    scene = random_scene(
        np.random.default_rng(2),
        shape="rectangle",
        tilt_deg=30.0,
        mask_noise_px=1.0,
        reference="aruco",
    )
    truth = json.loads(json.dumps(scene.ground_truth()))
    obj = truth["objects"][0]
    assert (obj["width_mm"], obj["height_mm"]) == pytest.approx(scene.object_size_mm())
    assert truth["reference"]["kind"] == "aruco"
    assert truth["reference"]["size_mm"] == [40.0, 40.0]
    assert truth["tilt_deg"] == 30.0
    np.testing.assert_allclose(truth["plane_to_image"], scene.plane_to_image)


# ----------------------------------------------------------------------------
# The bundled samples
# ----------------------------------------------------------------------------


def _samples() -> list[dict]:
    path = SAMPLES / "ground_truth.json"
    if not path.exists():
        pytest.skip("samples/ground_truth.json not generated (run scripts/make_samples.py)")
    return json.loads(path.read_text())["samples"]


def _shape_from_record(record: dict) -> PlaneShape:
    return PlaneShape(
        record["kind"],
        tuple(record["center_mm"]),
        tuple(record["size_mm"]),
        record["angle_deg"],
        seed=record.get("seed", 0),
        corner_radius_mm=record.get("corner_radius_mm", 0.0),
        aruco_dictionary=record.get("aruco_dictionary", "DICT_4X4_50"),
        aruco_id=record.get("aruco_id", 0),
    )


def _projected_area_px(shape: PlaneShape, homography: np.ndarray) -> float:
    outline = project_points(homography, shape.outline_mm(8000))
    x, y = outline[:, 0], outline[:, 1]
    return 0.5 * abs(float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))


def test_samples_agree_with_their_ground_truth() -> None:
    from PIL import Image

    samples = _samples()
    assert len(samples) >= 6
    assert {s["lighting"] for s in samples} == {"plain", "gradient", "dark"}
    assert {s["reference"]["kind"] for s in samples} == {"card", "aruco"}
    assert any(s["tilt_deg"] == 30.0 for s in samples)
    for sample in samples:
        with Image.open(SAMPLES / sample["file"]) as photo:
            assert photo.size == (1600, 1200) and photo.format == "JPEG"
        mask = np.asarray(Image.open(SAMPLES / sample["mask_file"]))
        assert mask.shape == (1200, 1600) and set(np.unique(mask)) == {0, 1, 2}
        h = np.array(sample["plane_to_image"])
        obj = _shape_from_record(sample["objects"][0])
        assert obj.extent_mm() == pytest.approx(
            (sample["object"]["width_mm"], sample["object"]["height_mm"])
        )
        for class_id, shape in ((1, obj), (2, _shape_from_record(sample["reference"]))):
            area = _projected_area_px(shape, h)
            assert abs(int((mask == class_id).sum()) - area) < 0.01 * area
    assert sum(path.stat().st_size for path in SAMPLES.iterdir()) < 3_200_000


# ----------------------------------------------------------------------------
# What real photos have: every effect is off by default
# ----------------------------------------------------------------------------

# SHA-256 of image, mask and clean mask (in that order, raw bytes) rendered by
# the renderer before the photo effects existed (commit d710fac, with the
# pinned numpy and OpenCV of requirements.txt).
PLAIN_RENDER_DIGESTS = {
    "random_blob_gradient_noise2_tilt25": (
        "da7a54344b4e8311f884832e160fcf12f614145a0515578611df2d3311c24270"
    ),
    "random_rect_aruco_dark_tilt10": (
        "99b586565816227430d2187f74aef93354a561a490863a85b892b4e081668f7a"
    ),
    "render_small": "381c1593f1233860159c4a4eb3741e7da532d52abdf34961fc9c485e8a3cb9f5",
}


def _plain_render(name: str, **extra: object) -> Scene:
    if name == "random_blob_gradient_noise2_tilt25":
        return random_scene(
            np.random.default_rng(31),
            shape="blob",
            tilt_deg=25.0,
            mask_noise_px=2.0,
            lighting="gradient",
            **extra,
        )
    if name == "random_rect_aruco_dark_tilt10":
        return random_scene(
            np.random.default_rng(32),
            shape="rectangle",
            tilt_deg=10.0,
            mask_noise_px=1.0,
            reference="aruco",
            lighting="dark",
            max_angle_deg=8.0,
            **extra,
        )
    cam = Camera(
        width=640, height=480, focal_px=800.0, tilt_deg=20.0, distance_mm=400.0, roll_deg=3.0
    )
    ellipse = PlaneShape("ellipse", (40.0, 5.0), (70.0, 50.0), angle_deg=12.0)
    return render_scene(
        [ellipse], card_shape((-60.0, 0.0)), cam, mask_noise_px=3.0, seed=5, **extra
    )


def _digest(scene: Scene) -> str:
    digest = hashlib.sha256()
    for array in (scene.image, scene.mask, scene.clean_mask):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("name", sorted(PLAIN_RENDER_DIGESTS))
def test_defaults_reproduce_the_plain_render_exactly(name: str) -> None:
    assert _digest(_plain_render(name)) == PLAIN_RENDER_DIGESTS[name]
    explicit = _plain_render(name, effects=PhotoEffects(), mask_bias_px=0)
    assert _digest(explicit) == PLAIN_RENDER_DIGESTS[name]
    assert explicit.effects.is_off
    assert set(explicit.ground_truth()) == {
        "objects",
        "reference",
        "camera",
        "tilt_deg",
        "lighting",
        "mask_noise_px",
        "supersample",
        "seed",
        "plane_to_image",
    }


def test_bundled_sample_masks_are_rendered_again_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    path = Path(__file__).resolve().parents[2] / "scripts" / "make_samples.py"
    spec = importlib.util.spec_from_file_location("make_samples_for_test", path)
    assert spec is not None and spec.loader is not None
    make_samples = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, make_samples)  # its dataclass looks itself up
    spec.loader.exec_module(make_samples)
    for sample in make_samples.SPECS:
        saved = np.asarray(Image.open(SAMPLES / f"{sample.name}_mask.png"))
        np.testing.assert_array_equal(make_samples.make_scene(sample).mask, saved)


# A 100 x 60 px box on pixel edges (columns 170..269, rows 70..129) and a
# square-cornered card (columns 15..74, rows 80..119) seen by UNIT_CAMERA.
EFFECT_BOX = PlaneShape("rectangle", (70.0, 0.0), (100.0, 60.0))
EFFECT_CARD = PlaneShape("card", (-105.0, 0.0), (60.0, 40.0))
BOX_RGB = (200, 30, 40)


def _effect_scene(**kwargs: object) -> Scene:
    return render_scene(
        [EFFECT_BOX], EFFECT_CARD, UNIT_CAMERA, seed=4, object_colors=[BOX_RGB], **kwargs
    )


def test_shadow_darkens_the_table_next_to_the_object_and_stays_background() -> None:
    plain = _effect_scene()
    shaded = _effect_scene(
        effects=PhotoEffects(shadow=Shadow(offset_px=(6.0, 8.0), blur_px=1.0, strength=0.4))
    )
    np.testing.assert_array_equal(shaded.mask, plain.mask)
    np.testing.assert_array_equal(shaded.clean_mask, plain.clean_mask)
    # Just right of and below the box, inside the shifted footprint: full shadow.
    right = (slice(90, 125), slice(271, 275))
    below = (slice(131, 136), slice(190, 260))
    for where in (right, below):
        assert not shaded.clean_mask[where].any()
        ratio = shaded.image[where].astype(float).mean(axis=(0, 1)) / plain.image[where].astype(
            float
        ).mean(axis=(0, 1))
        np.testing.assert_allclose(ratio, 0.6, atol=0.02)  # 1 - strength, every channel: same hue
    # Left of and above the box (the lit side), beyond the penumbra: untouched.
    lit = (slice(40, 60), slice(100, 160))
    np.testing.assert_array_equal(shaded.image[lit], plain.image[lit])
    # The object itself is painted over its shadow.
    inside = (slice(80, 120), slice(180, 260))
    np.testing.assert_array_equal(shaded.image[inside], plain.image[inside])
    # The reference casts one too.
    card_right = (slice(92, 115), slice(76, 80))
    assert shaded.image[card_right].mean() < 0.7 * plain.image[card_right].mean()


def test_edge_line_paints_the_rim_and_leaves_the_mask() -> None:
    plain = _effect_scene()
    for color in (DARK_EDGE_RGB, BRIGHT_EDGE_RGB):
        lined = _effect_scene(effects=PhotoEffects(edge_line=EdgeLine(width_px=2.0, color=color)))
        np.testing.assert_array_equal(lined.mask, plain.mask)
        # The card's left side is x = 14.5: the band 13.5..15.5 covers columns 14 and 15.
        band = lined.image[85:115, 14:16].reshape(-1, 3).astype(float).mean(axis=0)
        np.testing.assert_allclose(band, color, atol=1.5)
        # One column further in or out is as before.
        for column in (12, 17):
            np.testing.assert_array_equal(lined.image[85:115, column], plain.image[85:115, column])
        # The top side y = 79.5: rows 79 and 80.
        top = lined.image[79:81, 25:65].reshape(-1, 3).astype(float).mean(axis=0)
        np.testing.assert_allclose(top, color, atol=1.5)


def test_card_corners_are_rounded_in_the_mask() -> None:
    # 5 px/mm: the card's sides fall on pixel edges (428 x 270 px about (229.5, 149.5)).
    cam = Camera(width=460, height=300, focal_px=3000.0, distance_mm=600.0)
    rounded = render_scene([], card_shape(), cam)
    square = render_scene([], PlaneShape("card", (0.0, 0.0), CARD_SIZE_MM), cam)
    # Each corner loses (1 - pi/4) r^2: 4 x 54 px at r = 3.18 mm = 15.9 px.
    lost = (4.0 - math.pi) * (CARD_CORNER_RADIUS_MM * 5.0) ** 2
    assert int((square.mask == 2).sum()) == 428 * 270
    difference = int((square.mask == 2).sum()) - int((rounded.mask == 2).sum())
    assert abs(difference - lost) < 8.0
    ys, xs = np.nonzero(rounded.mask == 2)
    assert rounded.mask[ys.min(), xs.min()] == 0 and square.mask[ys.min(), xs.min()] == 2
    assert rounded.mask[ys.min(), (xs.min() + xs.max()) // 2] == 2


def test_vignetting_darkens_by_the_stated_law() -> None:
    plain = render_scene([], EFFECT_CARD, UNIT_CAMERA, seed=2)
    vignetted = render_scene(
        [], EFFECT_CARD, UNIT_CAMERA, seed=2, effects=PhotoEffects(vignetting=0.3)
    )
    radius = math.hypot(300, 200) / 2.0
    for rows, cols in ((slice(0, 10), slice(0, 10)), (slice(150, 190), slice(200, 240))):
        ys, xs = np.mgrid[rows, cols]
        r2 = ((xs - 149.5) ** 2 + (ys - 99.5) ** 2) / radius**2
        expected = (plain.image[rows, cols].astype(float) * (1.0 - 0.3 * r2)[..., None]).mean()
        assert vignetted.image[rows, cols].astype(float).mean() == pytest.approx(expected, abs=1.0)
    centre = (slice(95, 105), slice(145, 155))
    assert abs(vignetted.image[centre].astype(float).mean() - plain.image[centre].mean()) < 1.0


def test_optical_blur_spreads_an_edge_like_a_gaussian() -> None:
    plain = _effect_scene()
    blurred = _effect_scene(effects=PhotoEffects(blur_px=1.5))
    np.testing.assert_array_equal(blurred.mask, plain.mask)
    # The box's left side is x = 169.5; the red channel steps from table to box.
    rows = slice(74, 126)
    table = blurred.image[rows, 150:160, 0].astype(float).mean()
    box = blurred.image[rows, 180:190, 0].astype(float).mean()
    columns = np.arange(163, 177)
    profile = blurred.image[rows, 163:177, 0].astype(float).mean(axis=0)

    def edge(sigma: float) -> np.ndarray:
        cdf = [0.5 * (1.0 + math.erf((c - 169.5) / sigma / math.sqrt(2.0))) for c in columns]
        return table + (box - table) * np.array(cdf)

    sigmas = np.arange(0.5, 3.0001, 0.05)
    best = sigmas[np.argmin([np.sum((profile - edge(s)) ** 2) for s in sigmas])]
    assert best == pytest.approx(1.5, abs=0.15)
    np.testing.assert_allclose(profile, edge(1.5), atol=0.05 * abs(box - table))
    step = plain.image[rows, 163:177, 0].astype(float).mean(axis=0)
    assert np.abs(step - edge(1.5)).max() > 0.1 * abs(box - table)  # the plain edge is sharp


def test_jpeg_changes_the_photo_but_not_the_mask() -> None:
    plain = _effect_scene(mask_noise_px=1.0)
    compressed = _effect_scene(mask_noise_px=1.0, effects=PhotoEffects(jpeg_quality=70))
    np.testing.assert_array_equal(compressed.mask, plain.mask)
    np.testing.assert_array_equal(compressed.clean_mask, plain.clean_mask)
    difference = np.abs(compressed.image.astype(float) - plain.image.astype(float))
    assert 0.3 < difference.mean() < 6.0
    # The same photo, encoded and decoded once more by another library, barely moves.
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(plain.image).save(buffer, format="JPEG", quality=70)
    pillow = np.asarray(Image.open(buffer)).astype(float)
    assert np.abs(pillow - compressed.image.astype(float)).mean() < 1.5


# A camera with 1 px/mm, principal point (399.5, 299.5), half-diagonal 500 px.
WIDE_CAMERA = Camera(width=800, height=600, focal_px=600.0, distance_mm=600.0)


@pytest.mark.parametrize("k1", [0.1, -0.1])
def test_distortion_moves_a_point_near_the_corner_by_the_formula(k1: float) -> None:
    square = PlaneShape("rectangle", (300.0, 200.0), (20.0, 20.0))  # ideal image (699.5, 499.5)
    card = PlaneShape("card", (-250.0, -150.0), (60.0, 40.0))
    scene = render_scene([square], card, WIDE_CAMERA, effects=PhotoEffects(distortion_k1=k1))
    # By hand: r^2 = (300^2 + 200^2) / 500^2 = 0.52, so the offset from the
    # centre grows by the factor 1 + 0.52 k1.
    expected = np.array([399.5 + 300.0 * (1 + 0.52 * k1), 299.5 + 200.0 * (1 + 0.52 * k1)])
    ys, xs = np.nonzero(scene.clean_mask == 1)
    np.testing.assert_allclose([xs.mean(), ys.mean()], expected, atol=0.15)
    np.testing.assert_allclose(scene.to_image([[300.0, 200.0]])[0], expected, atol=1e-9)
    # The photo agrees with the mask: the square's colour sits where the mask says.
    red = scene.image[..., 0].astype(int) - scene.image[..., 1].astype(int) > 80
    box = (slice(ys.min() - 3, ys.max() + 4), slice(xs.min() - 3, xs.max() + 4))
    assert int((red[box] != (scene.clean_mask[box] == 1)).sum()) <= 4
    # A corner point of the image moves by k1 times the half-diagonal.
    moved = distort_points(np.array([[-0.5, -0.5]]), k1, 800, 600)[0]
    np.testing.assert_allclose(moved, [-0.5 - 400.0 * k1, -0.5 - 300.0 * k1], atol=1e-9)
    # The truth is still the plane's.
    assert scene.object_size_mm() == (20.0, 20.0)


def test_distortion_bends_straight_sides_in_mask_and_photo_alike() -> None:
    bar = PlaneShape("rectangle", (0.0, -200.0), (600.0, 40.0))  # top side at ideal y = 79.5
    card = PlaneShape("card", (0.0, 150.0), (60.0, 40.0))
    ideal_side = np.column_stack([np.linspace(99.5, 699.5, 4001), np.full(4001, 79.5)])
    for k1 in (0.1, -0.1):
        scene = render_scene(
            [bar],
            card,
            WIDE_CAMERA,
            effects=PhotoEffects(distortion_k1=k1),
            object_colors=[BOX_RGB],
        )
        bent = distort_points(ideal_side, k1, 800, 600)
        top = np.argmax(scene.clean_mask == 1, axis=0)
        red = scene.image[..., 0].astype(int) - scene.image[..., 1].astype(int) > 80
        top_in_photo = np.argmax(red, axis=0)
        for column in (130, 250, 399, 550, 670):
            side_y = float(np.interp(column, bent[:, 0], bent[:, 1]))
            # The first row counted inside lies within a pixel below the side, give or
            # take one row of the 4 x 4 coverage samples (0.25 px).
            assert -0.25 < top[column] - side_y <= 1.25
            assert abs(int(top_in_photo[column]) - int(top[column])) <= 1
        # Pincushion (k1 > 0) pulls the ends of the top side up past its middle; barrel down.
        assert np.sign(k1) * (top[399] - top[130]) > 5


@pytest.mark.parametrize("bias", [1, -1, 2, -2])
def test_biased_mask_adds_or_removes_exactly_the_expected_ring(bias: int) -> None:
    cam = Camera(width=640, height=480, focal_px=800.0, tilt_deg=20.0, distance_mm=400.0)
    blob = PlaneShape("blob", (40.0, 5.0), (70.0, 50.0), seed=4)
    for noise in (0.0, 2.0):
        plain = render_scene([blob], card_shape((-60.0, 0.0)), cam, mask_noise_px=noise, seed=9)
        biased = render_scene(
            [blob], card_shape((-60.0, 0.0)), cam, mask_noise_px=noise, seed=9, mask_bias_px=bias
        )
        np.testing.assert_array_equal(biased.clean_mask, plain.clean_mask)
        np.testing.assert_array_equal(biased.image, plain.image)
        # Independently: a disc of radius |bias| (pixel centres), by cv2.dilate / cv2.erode.
        r = abs(bias)
        ys, xs = np.mgrid[-r : r + 1, -r : r + 1]
        disc = (xs**2 + ys**2 <= r * r).astype(np.uint8)
        for class_id in (1, 2):
            region = (plain.mask == class_id).astype(np.uint8)
            grow = cv2.dilate if bias > 0 else cv2.erode
            expected = grow(region, disc).astype(bool)
            np.testing.assert_array_equal(biased.mask == class_id, expected)
            if r == 1:
                # By hand: the 4-neighbours of the region (dilate) or of the table (erode).
                padded = np.pad(region.astype(bool), 1, constant_values=False)
                centre = padded[1:-1, 1:-1]
                shifts = [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]
                if bias > 0:
                    ring = centre | shifts[0] | shifts[1] | shifts[2] | shifts[3]
                else:
                    ring = centre & shifts[0] & shifts[1] & shifts[2] & shifts[3]
                np.testing.assert_array_equal(biased.mask == class_id, ring)


def test_biased_mask_of_a_box_moves_each_side_by_the_bias() -> None:
    region = np.zeros((40, 50), dtype=bool)
    region[10:30, 12:40] = True
    grown, shrunk = biased_mask(region, 1), biased_mask(region, -1)
    expected = np.zeros_like(region)
    expected[9:31, 12:40] = True
    expected[10:30, 11:41] = True  # no corner pixels: they are sqrt(2) away
    np.testing.assert_array_equal(grown, expected)
    expected = np.zeros_like(region)
    expected[11:29, 13:39] = True
    np.testing.assert_array_equal(shrunk, expected)
    np.testing.assert_array_equal(biased_mask(region, 0), region)


def _anisotropy(texture: np.ndarray) -> float:
    """Coherence of the structure tensor: 0 isotropic, 1 all gradients along one direction."""
    gx = cv2.Sobel(texture, cv2.CV_64F, 1, 0, ksize=3)
    gy = cv2.Sobel(texture, cv2.CV_64F, 0, 1, ksize=3)
    jxx, jyy, jxy = (gx * gx).mean(), (gy * gy).mean(), (gx * gy).mean()
    return math.hypot(jxx - jyy, 2 * jxy) / (jxx + jyy)


def test_textures_are_grain_and_fibre_on_the_table_only() -> None:
    from objlen.testing.synthetic import _texture

    for seed in range(3):
        wood = _texture("wood", (300, 400), np.random.default_rng(seed))
        paper = _texture("paper", (300, 400), np.random.default_rng(seed))
        assert _anisotropy(wood) > 0.8 and _anisotropy(paper) < 0.2
        assert 0.03 < float(wood.std()) < 0.12 and 0.015 < float(paper.std()) < 0.06
    plain = _effect_scene()
    for kind in ("wood", "paper"):
        textured = _effect_scene(effects=PhotoEffects(texture=kind))
        np.testing.assert_array_equal(textured.mask, plain.mask)
        table = (slice(150, 200), slice(0, 300))
        assert np.abs(textured.image[table].astype(float) - plain.image[table]).mean() > 2.0
        inside = (slice(72, 128), slice(172, 268))  # the box is opaque
        np.testing.assert_array_equal(textured.image[inside], plain.image[inside])


def test_realistic_scene_keeps_the_plain_layout_and_turns_everything_on() -> None:
    kwargs = {"shape": "ellipse", "tilt_deg": 20.0, "mask_noise_px": 1.0}
    plain = random_scene(np.random.default_rng(12), **kwargs)
    real = random_scene(np.random.default_rng(12), realistic=True, **kwargs)
    again = random_scene(np.random.default_rng(12), realistic=True, **kwargs)
    assert real.objects == plain.objects and real.reference == plain.reference
    np.testing.assert_array_equal(real.image, again.image)
    effects = real.effects
    assert effects.shadow is not None and effects.edge_line is not None
    assert effects.texture in ("wood", "paper") and effects.jpeg_quality is not None
    assert 70 <= effects.jpeg_quality <= 95 and 0.3 <= effects.blur_px <= 1.5
    assert 0.0 < abs(effects.distortion_k1) <= 0.1
    truth = json.loads(json.dumps(real.ground_truth()))
    assert truth["effects"]["distortion_k1"] == effects.distortion_k1
    assert truth["distortion_radius_px"] == 1000.0
    with pytest.raises(ParameterError):
        random_scene(np.random.default_rng(1), realistic=True, effects=PhotoEffects(), **kwargs)


@pytest.mark.parametrize("k1", [0.1, -0.1])
@pytest.mark.parametrize("tilt", [0.0, 40.0])
def test_random_scene_with_distortion_stays_inside_the_frame(k1: float, tilt: float) -> None:
    scene = random_scene(
        np.random.default_rng(3),
        shape="rectangle",
        tilt_deg=tilt,
        mask_noise_px=2.0,
        effects=PhotoEffects(distortion_k1=k1),
        mask_bias_px=1,
    )
    ys, xs = np.nonzero(scene.mask)
    assert xs.min() > 20 and ys.min() > 20 and xs.max() < 1580 and ys.max() < 1180
    outline = scene.to_image(scene.objects[0].outline_mm())
    assert np.all(outline >= 0.0) and np.all(outline <= [1599.0, 1199.0])


@pytest.mark.parametrize(
    "make",
    [
        lambda: PhotoEffects(texture="marble"),
        lambda: PhotoEffects(vignetting=1.0),
        lambda: PhotoEffects(blur_px=-0.5),
        lambda: PhotoEffects(jpeg_quality=0),
        lambda: PhotoEffects(jpeg_quality=90.5),  # type: ignore[arg-type]
        lambda: PhotoEffects(distortion_k1=0.5),
        lambda: PhotoEffects(distortion_k1=float("nan")),
        lambda: PhotoEffects(shadow=0.3),  # type: ignore[arg-type]
        lambda: Shadow(strength=1.5),
        lambda: Shadow(offset_px=(1.0, float("inf"))),
        lambda: EdgeLine(width_px=0.0),
        lambda: EdgeLine(color=(0.0, 300.0, 0.0)),
        lambda: render_scene([], card_shape(), UNIT_CAMERA, mask_bias_px=1.5),  # type: ignore[arg-type]
        lambda: render_scene([], card_shape(), UNIT_CAMERA, mask_bias_px=11),
    ],
)
def test_bad_effects_are_parameter_errors(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParameterError):
        make()
