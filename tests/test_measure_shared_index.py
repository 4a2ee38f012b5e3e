"""measure and left_out_note given one index of the mask answer as without it."""

from __future__ import annotations

import numpy as np

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.advice import left_out_note
from objlen.regions import ClassMap


def _mask() -> np.ndarray:
    mask = np.zeros((300, 400), np.uint8)
    mask[40:140, 30:200] = 1  # the largest object
    mask[200:260, 250:330] = 1  # another object, not measured
    mask[10:13, 380:383] = 1  # a speck
    mask[180:234, 40:126] = 2  # the reference
    mask[20:40, 300:340] = 255  # left out by the operator
    return mask


def test_a_shared_index_gives_the_same_measurement_and_note() -> None:
    mask = _mask()
    options = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0))).validated()
    alone = measure(mask, options)
    index = ClassMap(mask, options.classes)

    shared = measure(mask, options, class_map=index)

    assert shared.to_dict() == alone.to_dict()
    note = left_out_note(mask, shared, index)
    assert note == left_out_note(mask, alone)
    assert note is not None and "1 more region" in note and "1 region left out" in note


def test_an_index_of_another_mask_is_not_used() -> None:
    mask = _mask()
    options = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0))).validated()
    other = ClassMap(np.zeros_like(mask), options.classes)  # would find no object

    assert measure(mask, options, class_map=other).to_dict() == measure(mask, options).to_dict()
    assert left_out_note(mask, measure(mask, options), other) == left_out_note(
        mask, measure(mask, options)
    )
