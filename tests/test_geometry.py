"""objlen.geometry: boxes, axes, lines and the transforms, checked against plane geometry.

Expected values come from the construction of each case (a rectangle of known
sides and angle, a line of known direction, incidence kept by projective maps),
never from the functions' own outputs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from objlen.errors import ParameterError
from objlen.geometry import (
    Homography,
    PixelScaling,
    apply_homographies,
    distance,
    fit_line,
    homography_matrices,
    intersect_lines,
    major_axis,
    min_area_box,
    pixel_square_corners,
    upright_box,
)


def rectangle(
    centre: tuple[float, float], width: float, height: float, angle_deg: float
) -> np.ndarray:
    """Corners (bottom-left, bottom-right, top-right, top-left, y down) of a
    ``width x height`` rectangle turned by ``angle_deg`` (clockwise on screen)."""
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])  # along the width
    v = np.array([-math.sin(a), math.cos(a)])  # along the height, pointing down
    c = np.asarray(centre, float)
    w, h = width / 2, height / 2
    return np.array([c - w * u + h * v, c + w * u + h * v, c + w * u - h * v, c - w * u - h * v])


def filled(corners: np.ndarray, count: int = 400, seed: int = 0) -> np.ndarray:
    """The corners plus random points inside the parallelogram they span."""
    rng = np.random.default_rng(seed)
    s, t = rng.uniform(0, 1, (2, count, 1))
    inside = corners[0] + s * (corners[1] - corners[0]) + t * (corners[3] - corners[0])
    return np.vstack([corners, inside])


def close(actual: np.ndarray, expected: np.ndarray | list, atol: float = 1e-9) -> None:
    np.testing.assert_allclose(actual, expected, rtol=0, atol=atol)


#: The box's orientation comes from OpenCV's float32 rotating calipers: on
#: coordinates of a few hundred pixels its corners are good to this much.
CALIPERS_PX = 1e-4


# ------------------------------------------------------------ pixel-edge boxes
def test_one_pixel_is_a_unit_square_around_its_centre():
    corners = pixel_square_corners(np.array([[3, 7]]))
    box = upright_box(corners)
    assert (box.width, box.height) == (1.0, 1.0)
    assert box.A.tolist() == [2.5, 7.5] and box.E.tolist() == [2.5, 6.5]


@pytest.mark.parametrize(
    ("x0", "y0", "x1", "y1"), [(0, 0, 0, 0), (10, 20, 209, 119), (5, 3, 6, 90)]
)
def test_a_block_of_pixels_measures_its_pixel_count(x0, y0, x1, y1):
    """Columns x0..x1 and rows y0..y1 inclusive: x1 - x0 + 1 pixels wide."""
    xs, ys = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
    centres = np.column_stack([xs.ravel(), ys.ravel()])
    box = upright_box(pixel_square_corners(centres))
    assert box.width == x1 - x0 + 1 and box.height == y1 - y0 + 1
    assert box.A.tolist() == [x0 - 0.5, y1 + 0.5]  # bottom-left, y down
    assert box.B.tolist() == [x1 + 0.5, y1 + 0.5]
    assert box.E.tolist() == [x0 - 0.5, y0 - 0.5]
    assert box.corners[2].tolist() == [x1 + 0.5, y0 - 0.5]


def test_min_area_box_of_pixels_also_measures_pixel_edges():
    xs, ys = np.meshgrid(np.arange(40, 140), np.arange(10, 60))
    box = min_area_box(pixel_square_corners(np.column_stack([xs.ravel(), ys.ravel()])))
    assert box.width == pytest.approx(100.0, abs=1e-9)
    assert box.height == pytest.approx(50.0, abs=1e-9)
    close(box.A, [39.5, 59.5])


# --------------------------------------------------------------- min-area box
@pytest.mark.parametrize("angle", [0.0, 7.5, 30.0, -20.0, 44.0, -44.0])
def test_min_area_box_finds_a_turned_rectangle(angle):
    corners = rectangle((300.0, 200.0), 180.0, 70.0, angle)
    box = min_area_box(filled(corners))
    assert box.width == pytest.approx(180.0, abs=CALIPERS_PX)
    assert box.height == pytest.approx(70.0, abs=CALIPERS_PX)
    close(box.A, corners[0], CALIPERS_PX)
    close(box.B, corners[1], CALIPERS_PX)
    close(box.E, corners[3], CALIPERS_PX)


@pytest.mark.parametrize("angle", [0.0, 15.0, -35.0])
def test_a_tall_rectangle_keeps_its_width_along_the_side_nearest_horizontal(angle):
    corners = rectangle((100.0, 100.0), 40.0, 150.0, angle)
    box = min_area_box(filled(corners, seed=2))
    assert box.width == pytest.approx(40.0, abs=CALIPERS_PX)
    assert box.height == pytest.approx(150.0, abs=CALIPERS_PX)
    ab = box.B - box.A
    assert ab[0] > 0 and abs(ab[1]) < ab[0]  # A -> B points right, nearer horizontal
    ae = box.E - box.A
    assert ae[1] < 0  # E is above A (y down)


def test_min_area_box_is_never_larger_than_the_upright_box():
    points = filled(rectangle((0.0, 0.0), 100.0, 30.0, 25.0), seed=3)
    turned, upright = min_area_box(points), upright_box(points)
    assert turned.width * turned.height < upright.width * upright.height
    assert turned.width * turned.height == pytest.approx(3000.0, rel=1e-6)


def test_collinear_points_give_the_upright_box():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    box = min_area_box(points)
    assert box.A.tolist() == [0.0, 2.0] and box.B.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------- major axis
@pytest.mark.parametrize("angle", [0.0, 12.0, -30.0, 40.0])
def test_major_axis_joins_the_middles_of_the_short_sides(angle):
    corners = rectangle((250.0, 150.0), 120.0, 50.0, angle)
    c, d = major_axis(filled(corners, seed=4))
    left_middle = (corners[0] + corners[3]) / 2
    right_middle = (corners[1] + corners[2]) / 2
    close(c, left_middle, CALIPERS_PX)  # C is the left end
    close(d, right_middle, CALIPERS_PX)
    assert distance(c, d) == pytest.approx(120.0, abs=CALIPERS_PX)


def test_major_axis_of_an_upright_tall_rectangle_starts_at_the_top():
    c, d = major_axis(rectangle((50.0, 100.0), 20.0, 80.0, 0.0))
    close(c, [50.0, 60.0])
    close(d, [50.0, 140.0])


# --------------------------------------------------------------------- lines
def test_distance_is_euclidean():
    assert distance(np.array([1.0, 2.0]), np.array([4.0, 6.0])) == 5.0


def test_fit_line_recovers_direction_and_spread():
    """Each station along the line has one point 0.25 px to either side: the
    best line is the middle one and every residual is 0.25 px."""
    direction = np.array([3.0, 4.0]) / 5.0
    normal = np.array([-direction[1], direction[0]])
    s = np.repeat(np.linspace(-50, 50, 51), 2)
    offsets = np.tile([0.25, -0.25], 51)
    points = np.array([10.0, 20.0]) + s[:, None] * direction + offsets[:, None] * normal
    centroid, unit, rms = fit_line(points)
    assert abs(float(unit @ direction)) == pytest.approx(1.0, abs=1e-12)
    assert rms == pytest.approx(0.25, rel=1e-9)
    close(centroid, [10.0, 20.0])


def test_intersect_lines():
    point = intersect_lines(
        np.array([0.0, 0.0]), np.array([1.0, 1.0]), np.array([10.0, 0.0]), np.array([-1.0, 1.0])
    )
    close(point, [5.0, 5.0])


# --------------------------------------------------------------- homography
SQUARE = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0]])
QUAD = np.array([[212.0, 140.5], [618.25, 171.0], [655.0, 480.0], [180.0, 431.75]])


def test_from_points_maps_the_four_points_exactly():
    h = Homography.from_points(QUAD, SQUARE)
    close(h(QUAD), SQUARE, 1e-9)
    close(h.inverse(SQUARE), QUAD, 1e-9)


def test_homography_keeps_incidence():
    """Projective maps send the diagonals' crossing to the image diagonals' crossing."""
    h = Homography.from_points(SQUARE, QUAD)
    centre = h([[50.0, 50.0]])[0]
    crossing = intersect_lines(QUAD[0], QUAD[2] - QUAD[0], QUAD[1], QUAD[3] - QUAD[1])
    close(centre, crossing, 1e-9)
    on_a_line = h(np.column_stack([np.linspace(0, 100, 7), np.linspace(20, 70, 7)]))
    _, _, rms = fit_line(on_a_line)
    assert rms == pytest.approx(0.0, abs=1e-9)


def test_inverse_is_a_transform_and_round_trips():
    h = Homography.from_points(QUAD, SQUARE)
    inverse = h.inverse  # a property, not a method
    assert isinstance(inverse, Homography)
    product = inverse.params @ h.params
    close(product / product[2, 2], np.eye(3), 1e-12)  # the identity, up to a factor
    np.testing.assert_allclose(inverse.inverse.params, h.params, rtol=1e-9, atol=1e-12)
    points = np.random.default_rng(5).uniform(0, 800, (200, 2))
    close(h.inverse(h(points)), points, 1e-8)
    close(h(h.inverse(points)), points, 1e-8)


def test_params_are_normalised_read_only_and_scale_free():
    matrix = np.array([[2.0, 0.2, 10.0], [0.1, 1.5, -4.0], [1e-4, 2e-4, 1.0]])
    h, scaled = Homography(matrix), Homography(3.5 * matrix)
    assert h.params[2, 2] == 1.0
    np.testing.assert_allclose(scaled.params, h.params, rtol=1e-15)
    with pytest.raises(ValueError):
        h.params[0, 0] = 5.0
    with pytest.raises(AttributeError):
        h.params = np.eye(3)
    assert Homography(matrix) == h and hash(Homography(matrix)) == hash(h)


def test_affine_params_act_as_an_affine_map():
    linear, shift = np.array([[0.5, -0.25], [0.125, 2.0]]), np.array([7.0, -3.0])
    h = Homography(np.block([[linear, shift[:, None]], [np.zeros((1, 2)), np.ones((1, 1))]]))
    points = np.array([[0.0, 0.0], [1.0, 0.0], [-4.0, 10.0]])
    close(h(points), points @ linear.T + shift)


def test_homography_refuses_a_non_3x3_or_degenerate_matrix():
    with pytest.raises(ValueError, match="3x3"):
        Homography(np.eye(2))
    with pytest.raises(ValueError):
        Homography(np.zeros((3, 3)))


def test_batched_matrices_agree_with_single_homographies():
    rng = np.random.default_rng(6)
    sources = QUAD[None] + rng.normal(0, 5, (8, 4, 2))
    matrices = homography_matrices(sources, SQUARE)
    assert matrices.shape == (8, 3, 3)
    points = rng.uniform(100, 600, (8, 5, 2))
    mapped = apply_homographies(matrices, points)
    corners = apply_homographies(matrices, sources)
    for k in range(8):
        single = Homography.from_points(sources[k], SQUARE)
        np.testing.assert_allclose(matrices[k], single.params, rtol=1e-9, atol=1e-12)
        close(mapped[k], single(points[k]), 1e-9)
        close(corners[k], SQUARE, 1e-9)


# ------------------------------------------------------------- pixel scaling
def test_resize_maps_edges_to_edges_and_blocks_to_pixels():
    to_half = PixelScaling.for_resize((1600, 1200), (800, 600))
    close(to_half([[-0.5, -0.5], [1599.5, 1199.5]]), [[-0.5, -0.5], [799.5, 599.5]])
    # image pixels 0 and 1 make display pixel 0: their shared edge x = 0.5 is its centre
    close(to_half([[0.5, 0.5], [2.5, 4.5]]), [[0.0, 0.0], [1.0, 2.0]])
    same = PixelScaling.for_resize((640, 480), (640, 480))
    close(same([[12.25, 400.0]]), [[12.25, 400.0]], 1e-12)


def test_resizes_compose():
    a_to_b = PixelScaling.for_resize((4000, 3000), (760, 570))
    b_to_c = PixelScaling.for_resize((760, 570), (256, 192))
    a_to_c = PixelScaling.for_resize((4000, 3000), (256, 192))
    close(b_to_c.params @ a_to_b.params, a_to_c.params, 1e-12)


def test_pixel_scaling_params_agree_with_the_generic_homography():
    scaling = PixelScaling(scale=(0.475, 0.5), offset=(3.0, 7.5))
    points = np.random.default_rng(7).uniform(-1, 2000, (50, 2))
    close(Homography(scaling.params)(points), scaling(points), 1e-9)
    close(scaling([[-0.5, -0.5]]), [[3.0, 7.5]])  # the image's corner lands on offset


def test_pixel_scaling_inverse_is_a_pixel_scaling_and_round_trips():
    scaling = PixelScaling(scale=(0.19, 0.19), offset=(20.0, 0.0))
    inverse = scaling.inverse
    assert isinstance(inverse, PixelScaling)
    np.testing.assert_allclose(inverse.params, np.linalg.inv(scaling.params), rtol=1e-12)
    np.testing.assert_allclose(inverse.inverse.scale, scaling.scale, rtol=1e-15)
    close(inverse.inverse.offset, scaling.offset, 1e-12)
    points = np.random.default_rng(8).uniform(-0.5, 4000, (200, 2))
    close(inverse(scaling(points)), points, 1e-9)


@pytest.mark.parametrize("scale", [(0.0, 1.0), (1.0, -2.0), (math.inf, 1.0), (math.nan, 1.0)])
def test_pixel_scaling_refuses_a_non_positive_scale(scale):
    with pytest.raises(ParameterError):
        PixelScaling(scale=scale)


def test_pixel_scaling_refuses_empty_sizes():
    with pytest.raises(ParameterError):
        PixelScaling.for_resize((0, 10), (10, 10))
