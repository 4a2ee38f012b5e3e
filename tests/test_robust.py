"""objlen's median and percentile give NumPy's values bit for bit, and import
no ``numpy.ma`` (which ``numpy.median`` and ``numpy.percentile`` do)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from objlen.robust import median, percentile

ROOT = Path(__file__).resolve().parents[1]
SHAPES = [(1,), (2,), (7,), (10,), (5, 6), (6, 5), (3, 4, 5)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
@pytest.mark.parametrize("shape", SHAPES)
def test_median_is_numpys(dtype, shape):
    values = (np.random.default_rng(len(shape) * 10 + shape[0]).normal(size=shape) * 50).astype(
        dtype
    )
    for axis in (None, *range(len(shape))):
        ours, numpys = median(values, axis), np.median(values, axis=axis)
        assert np.array_equal(ours, numpys)
        assert type(ours) is type(numpys) and np.asarray(ours).dtype == np.asarray(numpys).dtype


def test_median_is_nan_where_a_value_is_nan():
    values = np.arange(12, dtype=np.float64).reshape(3, 4)
    values[1, 2] = np.nan
    assert np.isnan(median(values))
    assert np.array_equal(median(values, 1), np.median(values, axis=1), equal_nan=True)
    assert np.array_equal(median(values, 0), np.median(values, axis=0), equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("size", [1, 2, 3, 10, 101, 40_000])
def test_percentile_is_numpys(dtype, size):
    values = (np.random.default_rng(size).normal(size=size) * 100).astype(dtype)
    for q in (0, 1, 33.3, 50, 90, 99, 99.5, 100):
        ours, numpys = percentile(values, q), np.percentile(values, q)
        assert ours == numpys and type(ours) is type(numpys)


def mostly_one_value(size: int, dtype, seed: int) -> np.ndarray:
    """``size`` values, 97 % of them 0 and the rest spread either side: the
    middle lies in a run of equal values."""
    rng = np.random.default_rng(seed)
    values = np.zeros(size)
    spread = rng.random(size) < 0.03
    values[spread] = rng.normal(size=np.count_nonzero(spread)) * 50
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("size", [4095, 4096, 30_001, 56_000])
def test_values_mostly_one_value_give_numpys_order_statistics(dtype, size):
    values = mostly_one_value(size, dtype, size)
    assert np.array_equal(median(values), np.median(values))
    assert median(values).dtype == np.median(values).dtype
    shifted = values + (values == 0) * 3  # the run away from the middle of the spread
    assert np.array_equal(median(shifted), np.median(shifted))
    for q in (0, 1, 49.9, 50, 90, 99, 100):
        assert percentile(values, q) == np.percentile(values, q)


def test_values_mostly_one_value_with_a_nan():
    values = mostly_one_value(40_000, np.float32, 1)
    values[123] = np.nan
    assert np.isnan(median(values)) and np.isnan(percentile(values, 50))


def test_percentile_of_nan_and_of_nothing():
    assert np.isnan(percentile(np.array([1.0, np.nan, 3.0], np.float32), 50))
    with pytest.raises(ValueError):
        percentile(np.array([]), 50)
    with pytest.raises(ValueError):
        percentile(np.array([1.0]), 101)


def test_numpy_ma_stays_unimported():
    code = (
        "import sys, numpy as np\n"
        "from objlen.robust import median, percentile\n"
        "median(np.arange(5.0)); median(np.ones((3, 4)), 1); percentile(np.arange(9.0), 99)\n"
        "print('numpy.ma' in sys.modules)\n"
        "np.median(np.arange(5.0))\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.split() == ["False", "True"]  # ours does not, NumPy's does


def test_a_middle_in_a_run_of_equal_values_is_not_slow():
    # NumPy's partition at one place slows down ten-fold or more on such
    # values; the median partitions at two (thread time, best of seven, against
    # the same number of values without the run).
    run = mostly_one_value(30_001, np.float32, 5)
    spread = np.random.default_rng(5).normal(size=30_001).astype(np.float32)

    def seconds(values: np.ndarray) -> float:
        times = []
        for _ in range(7):
            started = time.thread_time()
            median(values)
            times.append(time.thread_time() - started)
        return min(times)

    assert seconds(run) < 3 * seconds(spread)
