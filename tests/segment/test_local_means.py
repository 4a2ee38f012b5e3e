"""The local segmenter's local colour sums near the boundary band: blurred over
crops (one around the band, or one per piece of it), they must be the very values
of a Gaussian blur of the whole window, which they stand for."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from objlen.segment.local import _band, _band_parts, _gaussian_reach, _local_sum

SIGMA = 4.0


def _window(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A window (309 to 316 columns) with two discs far apart, one cut by its
    right edge, and the colours of a noisy photo with a channel of ones:
    ``(foreground, values)``. (OpenCV works the last values of a row apart:
    the crops' widths are of every remainder by 8 there.)"""
    rng = np.random.default_rng(seed)
    width = 309 + seed
    foreground = np.zeros((230, width), dtype=np.uint8)
    cv2.circle(foreground, (60, 70), 40, 1, -1)
    centre = (width - int(rng.integers(5, 30)), int(rng.integers(150, 225)))
    cv2.circle(foreground, centre, 45, 1, -1)
    values = np.concatenate(
        [rng.uniform(0, 255, (*foreground.shape, 3)), np.ones((*foreground.shape, 1))], axis=2
    ).astype(np.float32)
    return foreground.astype(bool), values


@pytest.mark.parametrize("seed", range(8))
def test_the_band_sums_are_the_whole_windows_blur_split_or_not(seed):
    foreground, values = _window(seed)
    band = _band(foreground)
    ys, xs = np.nonzero(band)
    parts = _band_parts(band, ys, xs, _gaussian_reach(SIGMA))
    assert parts is not None and len(parts) >= 2  # the discs apart: a crop each
    assert sorted(np.concatenate(parts).tolist()) == list(range(ys.size))
    inner = cv2.erode(foreground.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    whole = cv2.GaussianBlur(values * inner[:, :, None], (0, 0), SIGMA)[ys, xs]
    assert np.array_equal(_local_sum(values, inner, SIGMA, ys, xs), whole)
    assert np.array_equal(_local_sum(values, inner, SIGMA, ys, xs, parts), whole)
    # values already 0 off the pixels that count: no mask needed
    masked = values * inner[:, :, None]
    assert np.array_equal(_local_sum(masked, None, SIGMA, ys, xs, parts), whole)


def test_one_piece_is_blurred_in_one_crop():
    foreground = np.zeros((120, 140), dtype=np.uint8)
    cv2.rectangle(foreground, (30, 30), (100, 90), 1, -1)
    band = _band(foreground.astype(bool))
    ys, xs = np.nonzero(band)
    assert _band_parts(band, ys, xs, _gaussian_reach(SIGMA)) is None
