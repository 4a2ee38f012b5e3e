"""The result's invariant: every number in it is finite, so its JSON is strict."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.errors import ParameterError
from objlen.result import Length
from tests.conftest import draw_mask


@pytest.fixture
def result():
    mask = draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 119, 59))
    return measure(mask, MeasureOptions(reference=ReferenceSpec(length=50.0)))


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_result_whose_lengths_overflow_is_an_error(result, bad):
    first = result.objects[0]
    for broken in (
        replace(first, width=Length(bad, 1.0)),
        replace(first, height=Length(1.0, bad)),
    ):
        with pytest.raises(ParameterError, match="cannot be computed"):
            replace(result, objects=(broken,))


def test_a_given_scale_that_overflows_is_an_error(result):
    reference = replace(result.reference, kind="scale", given_scale=math.inf)
    with pytest.raises(ParameterError, match="the scale cannot be computed"):
        replace(result, reference=reference)


def test_json_is_strict(result):
    text = result.to_json()
    assert json.loads(text, parse_constant=lambda name: pytest.fail(name))["schema"]
