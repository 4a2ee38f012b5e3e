"""objlen.advice: the operator's warnings."""

from __future__ import annotations

import numpy as np

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.advice import uncertainty_warnings


def test_a_large_uncertainty_is_written_without_an_exponent():
    # A 10 px reference of 20 mm: 2 mm a pixel, so a 200 x 100 px object is
    # 400 x 200 mm, each length uncertain by over a hundred millimetres.
    mask = np.zeros((1200, 1600), np.uint8)
    mask[500:600, 500:700] = 1
    mask[100:101, 100:110] = 2
    result = measure(mask, MeasureOptions(reference=ReferenceSpec(length=20)))
    (warning,) = uncertainty_warnings(result)
    width = result.objects[0].width.uncertainty
    assert width >= 100
    assert f"width ±{float(f'{width:.2g}'):.0f} mm" in warning
    assert "e+" not in warning
