"""objlen.display.canvas: the drawable canvas's JSON, the display transform, reading points back."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import numpy as np
import pytest

from objlen.display.canvas import (
    LOCK_FLAGS,
    POINT_COLOURS,
    POINT_NAMES,
    POINT_RADIUS,
    RESET_FIELD,
    SERIALISATION_PX,
    DisplayTransform,
    build_drawing,
    circle_centre,
    contain_fit,
    drawing_of_state,
    fingerprint,
    moved_points,
    parse_rgb,
    read_points,
)
from objlen.errors import ParameterError
from objlen.geometry import PixelScaling

POINTS = {"A": (410.5, 733.0), "B": (1203.25, 733.0), "E": (410.5, 201.75),
          "C": (120.0, 400.5), "D": (300.0, 400.5)}  # fmt: skip


def fabric_rounded(drawing: dict) -> dict:
    """What the browser sends back: the same objects with Fabric's 4-decimal positions."""
    rounded = json.loads(json.dumps(drawing))
    for obj in rounded["objects"]:
        obj["left"], obj["top"] = round(obj["left"], 4), round(obj["top"], 4)
    return rounded


# --------------------------------------------------------------------- transform
def test_contain_fit_matches_the_frontend_formula():
    assert contain_fit((400, 300), (800, 800)) == (2.0, (0.0, 100.0))
    assert contain_fit((400, 300), (400, 300)) == (1.0, (0.0, 0.0))
    scale, (ox, oy) = contain_fit((1000, 500), (600, 600))
    assert scale == 0.6 and (ox, oy) == (0.0, 150.0)
    with pytest.raises(ParameterError):
        contain_fit((0, 10), (10, 10))


@pytest.mark.parametrize(
    ("image", "background", "canvas"),
    [
        ((1600, 1200), (760, 570), None),
        ((4000, 3000), (760, 570), (800, 800)),
        ((3024, 4032), (428, 570), (760, 570)),
        ((333, 77), (760, 176), (900, 300)),
        ((64, 64), (570, 570), None),
    ],
)
def test_image_to_canvas_round_trip_is_exact(image, background, canvas):
    transform = DisplayTransform.for_canvas(image, background, canvas)
    rng = np.random.default_rng(4)
    points = rng.uniform(-0.5, 1, size=(200, 2)) * np.array(image)
    assert np.allclose(transform.inverse(transform(points)), points, rtol=0, atol=1e-9)
    on_canvas = rng.uniform(0, 1, size=(200, 2)) * np.array(canvas or background)
    assert np.allclose(transform(transform.inverse(on_canvas)), on_canvas, rtol=0, atol=1e-9)


def test_photo_edges_land_on_the_background_edges():
    """Pixel edges, not centres: the photo's outer corners are the background's."""
    transform = DisplayTransform.for_canvas((1600, 1200), (760, 570), (800, 800))
    fit, (ox, oy) = contain_fit((760, 570), (800, 800))
    corners = transform([[-0.5, -0.5], [1599.5, 1199.5]])
    assert np.allclose(corners, [[ox, oy], [ox + 760 * fit, oy + 570 * fit]], atol=1e-9)


def test_params_matrix_agrees_with_call():
    transform = DisplayTransform(scale=(0.475, 0.5), offset=(3.0, 7.5))
    points = np.array([[0.0, 0.0], [10.0, -3.0], [1599.5, 1199.5]])
    homogeneous = np.c_[points, np.ones(len(points))] @ transform.params.T
    assert np.allclose(homogeneous[:, :2], transform(points))


def test_inverse_is_a_transform_from_canvas_to_photo():
    transform = DisplayTransform.for_canvas((1600, 1200), (760, 570), (800, 800))
    assert isinstance(transform, PixelScaling)
    inverse = transform.inverse  # a property: a transform, as in scikit-image
    assert isinstance(inverse, PixelScaling) and not isinstance(inverse, DisplayTransform)
    np.testing.assert_allclose(inverse.params @ transform.params, np.eye(3), atol=1e-12)
    fit, (ox, oy) = contain_fit((760, 570), (800, 800))
    shown_corners = [[ox, oy], [ox + 760 * fit, oy + 570 * fit]]
    photo_corners = [[-0.5, -0.5], [1599.5, 1199.5]]
    np.testing.assert_allclose(inverse(shown_corners), photo_corners, rtol=0, atol=1e-9)


def test_non_positive_scale_is_refused():
    with pytest.raises(ParameterError):
        DisplayTransform(scale=(0.0, 1.0))


# ----------------------------------------------------------------------- drawing
def test_drawing_has_locked_circles_named_by_colour():
    transform = DisplayTransform.for_canvas((1600, 1200), (760, 570))
    drawing = build_drawing(POINTS, transform)
    circles = drawing["objects"]
    assert [parse_rgb(c["stroke"]) for c in circles] == [POINT_COLOURS[n] for n in POINT_NAMES]
    for circle in circles:
        assert circle["type"] == "Circle"
        assert circle["radius"] == POINT_RADIUS == 9
        assert circle["hasControls"] is False
        assert circle["originX"] == circle["originY"] == "center"
        assert all(circle[flag] is True for flag in LOCK_FLAGS)
    json.dumps(drawing)  # plain JSON, as the component needs


def test_build_and_read_round_trip_exact():
    transform = DisplayTransform.for_canvas((1600, 1200), (760, 570), (800, 700))
    found = read_points(build_drawing(POINTS, transform), transform)
    assert found.missing == () and found.extra == 0
    for name, point in POINTS.items():
        assert found.points[name] == pytest.approx(point, abs=1e-9)


def test_reset_counter_changes_the_drawing():
    transform = DisplayTransform.for_canvas((1600, 1200), (760, 570))
    first = build_drawing(POINTS, transform, reset_counter=1)
    assert build_drawing(POINTS, transform, reset_counter=1) == first
    second = build_drawing(POINTS, transform, reset_counter=2)
    assert second != first
    assert json.dumps(second, sort_keys=True) != json.dumps(first, sort_keys=True)
    assert second[RESET_FIELD] == 2
    assert second["objects"] == first["objects"]


def test_unknown_point_names_are_refused():
    with pytest.raises(ParameterError, match="Z"):
        build_drawing({"Z": (1, 2)}, DisplayTransform(scale=(1.0, 1.0)))


# -------------------------------------------------------------- circle centres
def _circle(**fields):
    base = {"type": "Circle", "radius": 9, "strokeWidth": 2, "stroke": "#000", "scaleX": 1,
            "scaleY": 1, "angle": 0, "skewX": 0, "skewY": 0}  # fmt: skip
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("origin_x", "origin_y", "expected"),
    [
        ("center", "center", (100.0, 50.0)),
        ("left", "top", (110.0, 60.0)),
        ("right", "bottom", (90.0, 40.0)),
        ("left", "center", (110.0, 50.0)),
        (0.25, 0.75, (105.0, 45.0)),
    ],
)
def test_centre_whatever_the_origin(origin_x, origin_y, expected):
    # a 9 px circle with a 2 px stroke is a 20 x 20 box
    circle = _circle(left=100.0, top=50.0, originX=origin_x, originY=origin_y)
    assert circle_centre(circle) == pytest.approx(expected)


def test_centre_of_a_point_tool_circle():
    """The point tool's own circles: originX left, left = x - (r + stroke / 2)."""
    x, y, radius, stroke = 321.0, 87.0, 4, 1
    circle = _circle(left=x - (radius + stroke / 2), top=y, originX="left", originY="center",
                     radius=radius, strokeWidth=stroke)  # fmt: skip
    assert circle_centre(circle) == pytest.approx((x, y))


def test_centre_with_scale_stroke_uniform_and_angle():
    scaled = _circle(left=0.0, top=0.0, originX="left", originY="top", scaleX=2, scaleY=3)
    assert circle_centre(scaled) == pytest.approx((20.0, 30.0))  # (18 + 2) * scale / 2
    uniform = dict(scaled, strokeUniform=True)
    assert circle_centre(uniform) == pytest.approx((19.0, 28.0))  # (18 * scale + 2) / 2
    turned = _circle(left=100.0, top=100.0, originX="left", originY="top", angle=90)
    assert circle_centre(turned) == pytest.approx((90.0, 110.0))
    skewed = _circle(left=0.0, top=0.0, originX="left", originY="top", skewX=45)
    cx, cy = circle_centre(skewed)
    assert cx == pytest.approx(20.0) and cy == pytest.approx(10.0)


def test_bad_origin_is_refused():
    with pytest.raises(ParameterError):
        circle_centre(_circle(left=1, top=1, originX="middle"))


# ----------------------------------------------------------------- read points
def test_points_are_found_by_colour_in_any_order():
    transform = DisplayTransform.for_canvas((1600, 1200), (760, 570))
    drawing = build_drawing(POINTS, transform)
    shuffled = list(drawing["objects"])
    random.Random(3).shuffle(shuffled)
    found = read_points({"objects": shuffled}, transform)
    for name, point in POINTS.items():
        assert found.points[name] == pytest.approx(point, abs=1e-9)


def test_stray_and_missing_points_are_reported():
    transform = DisplayTransform.for_canvas((1600, 1200), (760, 570))
    drawing = build_drawing(POINTS, transform)
    objects = [o for o in drawing["objects"] if parse_rgb(o["stroke"]) != POINT_COLOURS["E"]]
    stray = _circle(left=46.5, top=60.0, originX="left", originY="center", radius=3,
                    strokeWidth=1, stroke="#ffffff", fill="rgba(255, 255, 255, 0.6)")  # fmt: skip
    found = read_points({"objects": [*objects, stray, {"type": "Path"}]}, transform)
    assert found.missing == ("E",)
    assert found.extra == 2
    assert set(found.points) == {"A", "B", "C", "D"}


def test_order_is_the_fallback_when_no_colour_is_known():
    transform = DisplayTransform(scale=(1.0, 1.0))
    objects = [
        _circle(left=10.0, top=20.0, originX="center", originY="center", stroke="black")
        for _ in range(3)
    ]
    objects[1]["left"] = 30.0
    found = read_points({"objects": objects}, transform, names=("A", "B", "E"))
    assert found.points["A"] == pytest.approx((9.5, 19.5))
    assert found.points["B"] == pytest.approx((29.5, 19.5))
    assert found.extra == 0


def test_fabric_rounding_is_not_a_move_but_a_pixel_is():
    transform = DisplayTransform.for_canvas((4000, 3000), (760, 570))
    sent = fabric_rounded(build_drawing(POINTS, transform))
    found = read_points(sent, transform).points
    assert moved_points(found, POINTS, transform) == {}
    sent["objects"][1]["left"] += 1.0  # B, one canvas pixel to the right
    found = read_points(sent, transform).points
    moved = moved_points(found, POINTS, transform)
    assert list(moved) == ["B"]
    assert moved["B"][0] - POINTS["B"][0] == pytest.approx(1.0 / transform.scale[0], abs=1e-3)
    assert SERIALISATION_PX / min(transform.scale) < 0.01


def test_parse_rgb_forms():
    assert parse_rgb("#e6194b") == (230, 25, 75)
    assert parse_rgb("#E6194B80") == (230, 25, 75)
    assert parse_rgb("#fff") == (255, 255, 255)
    assert parse_rgb("rgba(60, 200, 75, 0.35)") == (60, 200, 75)
    assert parse_rgb("rgb(1,2,3)") == (1, 2, 3)
    assert parse_rgb("red") is None and parse_rgb(None) is None


def test_drawing_of_state_and_fingerprint():
    transform = DisplayTransform(scale=(0.5, 0.5))
    drawing = build_drawing({"A": (10.0, 10.0)}, transform)
    state = {"drawing": {"raw": drawing, "data": None}, "backgroundFit": None}
    assert drawing_of_state(state) == drawing
    assert drawing_of_state(None) is None
    assert drawing_of_state({"drawing": None}) is None
    assert fingerprint(drawing) == ((5.25, 5.25),)
    assert fingerprint(None) == ()


def test_canvas_module_imports_neither_streamlit_nor_the_component():
    code = (
        "import sys, objlen.display.canvas, objlen.display.overlay, objlen.settings;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('streamlit', 'streamlit_drawable_canvas')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_radius_keeps_the_centre_clear_of_the_handles():
    """Fabric's corner handles are 13 px squares on the box corners: with a 9 px
    circle (box 20 px) the centre is farther than half a handle from any corner."""
    half_box = POINT_RADIUS + 1
    assert math.hypot(half_box, half_box) > 13 / 2 * math.sqrt(2)
