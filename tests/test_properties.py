"""Invariances of the measurement, checked on many generated masks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objlen import MeasureOptions, ReferenceSpec, measure
from tests.conftest import draw_mask, rotated_rectangle_mask

sizes = st.integers(min_value=20, max_value=150)


@settings(max_examples=40, deadline=None)
@given(w=sizes, h=sizes, ref=st.integers(15, 120), dx=st.integers(0, 60), dy=st.integers(0, 60))
def test_translation_changes_nothing(w, h, ref, dx, dy):
    options = MeasureOptions(reference=ReferenceSpec(length=30.0))
    base = draw_mask((400, 500), [(200, 150, 200 + w - 1, 150 + h - 1)], (10, 10, 10 + ref - 1, 20))
    moved = np.zeros_like(base)
    moved[dy:, dx:] = base[: 400 - dy, : 500 - dx]
    a, b = measure(base, options).objects[0], measure(moved, options).objects[0]
    assert a.width.value == pytest.approx(b.width.value)
    assert a.height.value == pytest.approx(b.height.value)
    # and the answer is the contract's: pixels * realCD / CD
    assert a.width.value == pytest.approx(w * 30.0 / ref)


@settings(max_examples=25, deadline=None)
@given(
    w=st.integers(10, 80), h=st.integers(10, 80), ref=st.integers(10, 60), factor=st.integers(2, 4)
)
def test_image_scaling_keeps_real_lengths(w, h, ref, factor):
    options = MeasureOptions(reference=ReferenceSpec(length=42.0))
    small = draw_mask((120, 200), [(100, 20, 100 + w - 1, 20 + h - 1)], (5, 5, 5 + ref - 1, 12))
    large = np.kron(small, np.ones((factor, factor), np.uint8))
    a, b = measure(small, options).objects[0], measure(large, options).objects[0]
    assert b.width.value == pytest.approx(a.width.value)
    assert b.height.value == pytest.approx(a.height.value)
    assert b.width.uncertainty < a.width.uncertainty  # more pixels, less doubt


@settings(max_examples=25, deadline=None)
@given(length_mm=st.floats(5.0, 300.0), unit=st.sampled_from(["cm", "in"]))
def test_unit_conversion(length_mm, unit):
    simple_mask = draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 119, 59))
    per_mm = {"cm": 0.1, "in": 1 / 25.4}[unit]
    in_mm = measure(simple_mask, MeasureOptions(reference=ReferenceSpec(length=length_mm)))
    other = measure(
        simple_mask, MeasureOptions(reference=ReferenceSpec(length=length_mm * per_mm), unit=unit)
    )
    assert other.objects[0].width.value == pytest.approx(in_mm.objects[0].width.value * per_mm)
    assert other.objects[0].width.uncertainty == pytest.approx(
        in_mm.objects[0].width.uncertainty * per_mm
    )


# Within a degree or two of the axes the pixel staircase has only a step or
# two, and the minimum-area box of the rasterised shape snaps to the pixel
# grid (correctly: that box is smaller). Rotation invariance is a property of
# clearly rotated shapes, and of the unrotated one.
angles = st.one_of(st.just(0.0), st.floats(2.0, 40.0), st.floats(-40.0, -2.0))


@settings(max_examples=30, deadline=None)
@given(angle=angles, w=st.floats(120.0, 300.0), h=st.floats(60.0, 119.0))
def test_auto_orientation_is_rotation_invariant(angle, w, h):
    mask = rotated_rectangle_mask((700, 900), (520, 380), (w, h), angle)
    mask[20:60, 20:220] = 2  # 200 px reference = 100 mm
    obj = measure(
        mask, MeasureOptions(reference=ReferenceSpec(length=100.0), orientation="auto")
    ).objects[0]
    # A pixel square reaches past a slanted edge by at most (|cos|+|sin|)/2 px;
    # the test's own rasteriser adds up to 1/8 px, the box angle a little more.
    slack = (abs(math.cos(math.radians(angle))) + abs(math.sin(math.radians(angle)))) / 2 + 0.25
    assert obj.width.value == pytest.approx(w / 2, abs=slack)
    assert obj.height.value == pytest.approx(h / 2, abs=slack)
