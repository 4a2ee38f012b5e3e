"""The median and percentiles, as NumPy computes them, without importing ``numpy.ma``.

``numpy.median`` of floating-point values and ``numpy.percentile`` import
``numpy.ma`` on their first call (to check for masked values): 10-30 ms, a
tenth of what a command that measures one photo costs beyond importing
OpenCV and NumPy. :func:`median` and :func:`percentile` give the same
values, bit for bit, without it.
"""

from __future__ import annotations

import math

import numpy as np


def median(values: np.ndarray, axis: int | None = None) -> np.ndarray | np.floating:
    """The median of ``values`` (over all of them, or along ``axis``): the
    middle value, or the mean of the two middle ones, exactly as
    ``numpy.median`` (the same partition and the same mean); NaN where a NaN
    is among the values. An empty input is left to ``numpy.median`` (NaN and
    its warning).

    >>> float(median(np.array([3.0, 1.0, 2.0, 10.0])))
    2.5
    """
    data = np.asanyarray(values)
    if axis is None:
        data, axis = data.ravel(), 0
    size = data.shape[axis]
    if size == 0:
        return np.median(data, axis=axis)
    half = size // 2
    middle = [half] if size % 2 else [half - 1, half]
    # Partitioned at two places even for one middle value, as numpy.median does
    # (it adds the last place, for its NaN check): NumPy's partition at a single
    # place is a SIMD quickselect that slows down ten- to twenty-fold when most
    # values are equal (3 ms for 30,000 values, most of them 0: the distance of
    # a clean, flat table from its own colour), and no faster otherwise.
    ordered = np.partition(data, [max(half - 1, 0), half], axis=axis)
    result = np.mean(np.take(ordered, middle, axis=axis), axis=axis)
    if not np.issubdtype(data.dtype, np.inexact):
        return result
    has_nan = np.isnan(data).any(axis=axis)
    if np.ndim(result) == 0:
        return result.dtype.type(np.nan) if has_nan else result
    result[has_nan] = np.nan
    return result


def percentile(values: np.ndarray, q: float) -> np.floating:
    """The ``q``-th percentile (0..100) of all of ``values``, exactly as
    ``numpy.percentile(values, q)`` with its default linear interpolation
    between the two order statistics around ``(n - 1) * q / 100`` (the same
    arithmetic, in the values' own precision); NaN when a NaN is among them.

    >>> float(percentile(np.array([0.0, 10.0, 20.0, 30.0, 40.0]), 90))
    36.0

    Raises:
        ValueError: no values, or ``q`` outside 0..100.
    """
    data = np.asanyarray(values).ravel()
    if data.size == 0 or not 0 <= q <= 100:
        raise ValueError(f"a percentile needs values and q in 0..100, got {data.size} and {q}")
    last = data.size - 1
    position = last * (q / 100)
    below = min(math.floor(position), last)
    above = min(below + 1, last)
    ordered = np.partition(data, [below, above])  # two places even when equal: see median
    if np.issubdtype(data.dtype, np.inexact) and np.isnan(data).any():
        return data.dtype.type(np.nan)
    low, high = ordered[below], ordered[above]
    weight = position - below
    step = high - low
    return high - step * (1 - weight) if weight >= 0.5 else low + step * weight
