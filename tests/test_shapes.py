"""Shape errors of regions: a rectangle of a known aspect seen at an angle.

The regions are drawn from plane shapes projected by the pinhole camera of
``objlen.testing.synthetic`` (exact geometry), rasterised and outlined as a
segmenter's mask would be.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from objlen.reference import quad_corners_from_outline, quad_from_outline
from objlen.segment.local import SHAPE_MATCH
from objlen.shapes import MAX_TILT_DEG, _quad_misfit, rectangle_view
from objlen.testing.synthetic import Camera, project_points

CARD_MM = (85.6, 53.98)
CARD_ASPECT = CARD_MM[0] / CARD_MM[1]


def outline_of(polygon_mm, camera: Camera) -> np.ndarray:
    """The outline (every boundary pixel centre, ``(N, 2)``) of a plane polygon
    seen by ``camera``: the pixels whose centres it covers."""
    image = project_points(camera.homography(), np.asarray(polygon_mm, dtype=np.float64))
    mask = np.zeros((camera.height, camera.width), np.uint8)
    cv2.fillPoly(mask, [np.round((image + 0.5) * 16 - 8).astype(np.int32)], 1, shift=4)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return max(contours, key=cv2.contourArea).reshape(-1, 2)


def rectangle_mm(size, angle_deg=0.0, centre=(-30.0, 20.0)) -> np.ndarray:
    """Corners of a ``size`` rectangle turned by ``angle_deg`` in the plane."""
    width, height = size
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * (width / 2, height / 2)
    return corners @ np.array([[c, s], [-s, c]]) + centre


def view(polygon_mm, camera: Camera, aspect: float = CARD_ASPECT):
    return rectangle_view(outline_of(polygon_mm, camera), aspect, (camera.width, camera.height))


@pytest.mark.parametrize("tilt_deg", [0.0, 20.0, 40.0, 48.0])
@pytest.mark.parametrize("angle_deg", [0.0, 35.0, 80.0])
@pytest.mark.parametrize("focal_px", [1200.0, 2400.0])
def test_a_card_seen_at_an_angle_is_a_rectangle_of_its_aspect(tilt_deg, angle_deg, focal_px):
    # Keystoned up to 48 deg from face-on, by a wide and by a long lens: the
    # minimum-area rectangle's aspect would be off by up to 1 / cos(48 deg).
    camera = Camera(tilt_deg=tilt_deg, focal_px=focal_px, distance_mm=350.0 * focal_px / 1700)
    seen = view(rectangle_mm(CARD_MM, angle_deg), camera)
    assert seen.error < SHAPE_MATCH / 3
    assert seen.error <= seen.face_on_error  # a keystone can only help
    if seen.face_on_error > SHAPE_MATCH / 3:  # the tilt is what made it match
        assert seen.tilt_deg == pytest.approx(tilt_deg, abs=3.0)


@pytest.mark.parametrize("tilt_deg", [0.0, 20.0, 40.0])
@pytest.mark.parametrize("angle_deg", [0.0, 20.0, 45.0])
def test_a_square_is_no_card_at_any_allowed_tilt(tilt_deg, angle_deg):
    # A card's aspect 1.59 against a square's 1: log(1.59) = 0.46 face-on; a
    # tilt can explain part of it, never enough.
    seen = view(rectangle_mm((60.0, 60.0), angle_deg), Camera(tilt_deg=tilt_deg, distance_mm=350))
    assert seen.error > 2 * SHAPE_MATCH


def test_face_on_the_error_is_the_aspects_log_ratio():
    for size in [(60.0, 60.0), (80.0, 40.0), (70.0, 56.0)]:
        seen = view(rectangle_mm(size, 17.0), Camera(distance_mm=350))
        expected = abs(math.log(max(size) / min(size) / CARD_ASPECT))
        assert seen.error == pytest.approx(expected, abs=0.02)
        assert seen.tilt_deg < 5.0  # the pixel grid's keystone: a few tenths of a pixel
        assert seen.face_on_error == pytest.approx(seen.error, abs=0.01)


def test_a_card_seen_more_obliquely_than_allowed_is_not_taken_for_one():
    seen = view(rectangle_mm(CARD_MM, 0.0), Camera(tilt_deg=65.0, distance_mm=350))
    assert seen.error > SHAPE_MATCH
    assert math.isnan(seen.tilt_deg) or seen.tilt_deg <= MAX_TILT_DEG


def test_an_ellipse_of_the_cards_aspect_is_no_rectangle():
    t = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    ellipse = np.stack([40 * np.cos(t), 40 / CARD_ASPECT * np.sin(t)], axis=1)
    for tilt_deg in (0.0, 40.0):
        assert view(ellipse, Camera(tilt_deg=tilt_deg, distance_mm=350)).error > SHAPE_MATCH


def test_a_card_with_a_bite_out_of_it_is_no_rectangle():
    # An L-shaped region whose hull is the card: its quadrilateral is the
    # card's, but a sixth of it is missing.
    w, h = CARD_MM
    bitten = np.array(
        [[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, 0], [w / 6, 0], [w / 6, h / 2], [-w / 2, h / 2]]
    )
    assert view(bitten, Camera(distance_mm=350)).error > SHAPE_MATCH


ARC = np.linspace(0, np.pi, 100)
NOT_RECTANGLES = {
    "triangle": [[-40, 25], [40, 25], [0, -35]],
    "half disc": np.stack([40 * np.cos(ARC), -40 * np.sin(ARC)], axis=1),
    "hexagon": [[30 * np.cos(t), 30 * np.sin(t)] for t in np.linspace(0, 2 * np.pi, 7)[:-1]],
    "kite": [[0, -40], [25, -10], [0, 50], [-25, -10]],
}


@pytest.mark.parametrize("name", NOT_RECTANGLES)
@pytest.mark.parametrize("tilt_deg", [0.0, 40.0])
def test_shapes_without_four_right_corners_are_no_card(name, tilt_deg):
    seen = view(NOT_RECTANGLES[name], Camera(tilt_deg=tilt_deg, distance_mm=350))
    assert seen.error > SHAPE_MATCH


def test_a_corner_far_out_counts_whole_and_quickly():
    # Two nearly parallel neighbouring sides meet far away: the misfit is not
    # computed over the pixels up to there.
    outline = np.array(
        [[x, y] for x in range(100, 201) for y in (100, 200)]
        + [[x, y] for y in range(101, 200) for x in (100, 200)],
        dtype=float,
    )
    far = np.array([[99.5, 99.5], [200.5, 99.5], [1e7, 1e7], [99.5, 200.5]])
    assert _quad_misfit(outline, far) > 0.99
    square = np.array([[99.5, 99.5], [200.5, 99.5], [200.5, 200.5], [99.5, 200.5]])
    assert _quad_misfit(outline, square) == 0.0


def _misfit_pixel_by_pixel(points: np.ndarray, corners: np.ndarray) -> float:
    """The misfit's definition, tested pixel by pixel: the region (its outline
    filled) against the pixels on the inner side of all four sides' lines."""
    low = np.floor(points.min(axis=0)).astype(int) - 1
    width, height = np.ceil(points.max(axis=0)).astype(int) + 2 - low
    region = np.zeros((height, width), dtype=np.uint8)
    outline = np.round(points - low).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(region, [outline], 1)
    cv2.polylines(region, [outline], True, 1)
    ys, xs = np.mgrid[0:height, 0:width]
    inside = np.ones((height, width), dtype=bool)
    ring = corners - low
    for k in range(4):
        start, end = ring[k], ring[(k + 1) % 4]
        normal = np.array([end[1] - start[1], start[0] - end[0]])
        if np.dot(ring.mean(axis=0) - start, normal) < 0:
            normal = -normal
        inside &= (xs - start[0]) * normal[0] + (ys - start[1]) * normal[1] >= 0
    area = 0.5 * abs(
        np.dot(corners[:, 0], np.roll(corners[:, 1], -1))
        - np.dot(corners[:, 1], np.roll(corners[:, 0], -1))
    )
    beyond = max(area - np.count_nonzero(inside), 0.0)
    return float((np.count_nonzero(inside != region.astype(bool)) + beyond) / max(area, 1.0))


@pytest.mark.parametrize("seed", range(6))
def test_the_misfit_counts_the_pixels_row_by_row_as_pixel_by_pixel(seed):
    # Turned and keystoned cards and quadrilaterals off them (corners moved by a
    # few px, one far out, sides along the pixel grid): the same count, exactly.
    rng = np.random.default_rng(seed)
    camera = Camera(tilt_deg=float(rng.uniform(0, 40)), distance_mm=350)
    points = outline_of(rectangle_mm(CARD_MM, float(rng.uniform(0, 90))), camera).astype(float)
    corners = quad_corners_from_outline(points)
    for quad in (
        corners,
        corners + rng.normal(0, 3, (4, 2)),
        np.round(corners),
        np.vstack([corners[:3], corners[3] + rng.normal(0, 1e4, 2)]),
    ):
        assert _quad_misfit(points, quad) == _misfit_pixel_by_pixel(points, quad)


@pytest.mark.parametrize("tilt_deg", [0.0, 35.0])
def test_the_corners_alone_are_those_of_the_quadrilateral(tilt_deg):
    points = outline_of(rectangle_mm(CARD_MM, 20.0), Camera(tilt_deg=tilt_deg, distance_mm=350))
    assert np.array_equal(quad_corners_from_outline(points), quad_from_outline(points).corners)
