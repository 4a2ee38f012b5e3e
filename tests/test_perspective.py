"""The scale's change across a tilted camera's photo in a proportional interval
(objlen.perspective; issue 9, honest intervals)."""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.advice import uncertainty_warnings
from objlen.perspective import disc_gradient, quad_gradient, scale_bound
from objlen.testing.synthetic import Camera, PlaneShape, render_scene

QUARTER_MM = 24.26
NICKEL_MM = 21.21
COIN = MeasureOptions(method="proportional", reference=ReferenceSpec(length=QUARTER_MM))


def test_a_face_on_rectangle_shows_no_gradient_and_a_keystone_shows_its_own():
    square = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0]])
    assert np.allclose(quad_gradient(square), 0.0)
    # The bottom side (y = 100) looks 10 % longer than the top: it is nearer, its
    # pixels are worth fewer mm. Over the 100 px between them the scale drops by
    # 10 / 105 of itself going down.
    keystone = np.array([[0.0, 0.0], [100.0, 0.0], [105.0, 100.0], [-5.0, 100.0]])
    gx, gy = quad_gradient(keystone)
    assert gx == pytest.approx(0.0, abs=1e-12)
    assert gy == pytest.approx(-10.0 / 105.0 / 100.0)


def test_a_disc_seen_at_an_angle_gives_tan_over_focal_along_its_minor_axis():
    # A circle of 200 px squeezed vertically by cos 20 deg.
    ratio = math.cos(math.radians(20.0))
    outline = cv2.ellipse2Poly((300, 300), (200, round(200 * ratio)), 0, 0, 360, 1)
    gx, gy = disc_gradient(outline, 1000.0)
    assert abs(gx) < 0.05 * abs(gy)
    assert abs(gy) == pytest.approx(math.tan(math.radians(20.0)) / 1000.0, rel=0.05)


def test_a_length_along_the_tilt_is_bounded_by_about_twice_one_across_it():
    gradient = np.array([0.0, 1e-4])  # the tilt runs along y
    centre, far = np.zeros(2), np.array([0.0, 200.0])  # 2 % of depth change
    across = scale_bound(gradient, centre, far, np.array([1.0, 0.0]))
    along = scale_bound(gradient, centre, far, np.array([0.0, 1.0]))
    assert across == pytest.approx(0.02 / 0.98)
    assert along == pytest.approx(1 / 0.98**2 - 1)
    # An object beside the reference, across the tilt, keeps the reference's scale.
    assert scale_bound(gradient, centre, np.array([300.0, 0.0]), np.array([0.0, 1.0])) == 0.0


def _coins(tilt_deg: float, offset_mm: tuple[float, float]):
    camera = Camera(tilt_deg=tilt_deg, distance_mm=300.0)
    quarter = PlaneShape("ellipse", (0.0, 0.0), (QUARTER_MM, QUARTER_MM))
    nickel = PlaneShape("ellipse", offset_mm, (NICKEL_MM, NICKEL_MM))
    return render_scene([nickel], quarter, camera)


@pytest.mark.parametrize("offset_mm", [(0.0, -50.0), (0.0, 50.0), (70.0, 0.0)])
def test_a_tilted_camera_proportional_coin_interval_covers_the_truth_and_says_so(offset_mm):
    # A quarter as the reference, a nickel 50-70 mm away, the camera tilted by
    # 15 deg: the quarter looks 3 % elliptic. Without the gradient term the
    # nickel 50 mm beyond the quarter came out 12 % small inside +-5 %.
    scene = _coins(15.0, offset_mm)
    result = measure(scene.mask, COIN)
    obj = result.objects[0]
    width, height = scene.object_size_mm(0)
    assert abs(obj.width.value - width) <= obj.width.uncertainty
    assert abs(obj.height.value - height) <= obj.height.uncertainty
    assert any("the reference looks tilted" in note for note in result.notes)


def test_the_uncertainty_warning_names_the_tilt_when_the_reference_shows_one():
    tilted = measure(_coins(15.0, (0.0, 50.0)).mask, COIN)
    face_on = measure(_coins(0.0, (0.0, 50.0)).mask, dataclasses.replace(COIN, warn_relative=0.001))
    assert any("looks tilted" in text for text in uncertainty_warnings(tilted))
    [text] = uncertainty_warnings(face_on)
    assert "small in the photo" in text and "tilted" not in text


def test_a_face_on_coin_interval_has_no_gradient_term():
    result = measure(_coins(0.0, (0.0, -50.0)).mask, COIN)
    assert np.allclose(result.reference.scale_gradient, 0.0)
    assert not any("the reference looks tilted" in note for note in result.notes)
    assert result.objects[0].height.relative < 0.05


@pytest.mark.parametrize("share", [0.05, 0.1, 0.2])
def test_a_length_foreshortened_as_much_as_the_reference_looks_lies_inside_its_interval(share):
    # A coin seen at a tilt: an ellipse whose minor axis (y) is (1 - share) of its
    # 400 px diameter; beside it, across the tilt (so the scale's change across the
    # photo does not reach it), a 200 x 200 px square foreshortened alike along y.
    # Its true height is 200 px at the coin's scale; it shows (1 - share) of that, so
    # relative to what is measured the truth lies share / (1 - share) away.
    mask = np.zeros((700, 1400), dtype=np.uint8)
    squeezed = round(200 * (1.0 - share))
    cv2.ellipse(mask, (300, 350), (200, squeezed), 0, 0, 360, 2, thickness=-1)
    cv2.rectangle(mask, (800, 350 - squeezed // 2), (999, 350 + squeezed // 2), 1, thickness=-1)
    result = measure(mask, COIN)
    height = result.objects[0].height
    true_height = 200 * QUARTER_MM / 400
    assert result.reference.perspective_rel == pytest.approx(share, abs=0.01)
    assert abs(height.value - true_height) <= height.uncertainty
