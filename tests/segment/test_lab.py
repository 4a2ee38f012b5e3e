"""objlen.segment.lab: CIE Lab as OpenCV defines it for float RGB, from two tables.

The reference is the formula itself, written here in float64 NumPy from the
CIE and sRGB definitions (OpenCV's matrix and white point), and OpenCV's own
``cv2.cvtColor(..., cv2.COLOR_RGB2Lab)``, which evaluates the same formula
through a trilinear table and so differs from it by up to about 0.75 delta-E.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from objlen.segment.lab import delta_e, rgb_to_lab

SRGB_TO_XYZ = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
WHITE_D65 = np.array([0.950456, 1.0, 1.088754])

#: The 16-bit tables quantise the clipped input, the linear colour and XYZ to
#: 1/65535; the steepest slope of Lab's ``f`` (7.787, at and below the knee)
#: times ``a``'s 500 makes that a few hundredths of a delta-E (0.08 at most
#: on 3 million random colours).
FORMULA_TOLERANCE = 0.1
#: OpenCV's own trilinear table is off the formula by up to 0.75 (measured on
#: random colours), plus this module's own error.
OPENCV_TOLERANCE = 1.0


def formula_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab of float RGB by the definition: clip to 0..1, sRGB curve, XYZ, f, Lab."""
    c = np.clip(rgb.astype(np.float64), 0.0, 1.0)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ SRGB_TO_XYZ.T / WHITE_D65
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def distances(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.sqrt(((first.astype(np.float64) - second) ** 2).sum(axis=-1))


@pytest.fixture(scope="module")
def colours() -> np.ndarray:
    """Random colours over and beyond 0..1 (OpenCV clips), a third of them dark."""
    rng = np.random.default_rng(7)
    wide = rng.uniform(-0.1, 1.6, size=(200, 300, 3))
    dark = rng.uniform(0.0, 0.1, size=(100, 300, 3))
    return np.concatenate([wide, dark]).astype(np.float32)


def test_lab_is_the_formula_within_the_quantisation(colours):
    assert distances(rgb_to_lab(colours), formula_lab(colours)).max() < FORMULA_TOLERANCE


def test_lab_agrees_with_opencv(colours):
    opencv = cv2.cvtColor(colours, cv2.COLOR_RGB2Lab)
    assert distances(rgb_to_lab(colours), opencv).max() < OPENCV_TOLERANCE


def test_known_colours():
    pixels = np.array([[[1, 1, 1], [0, 0, 0], [1, 0, 0], [0.5, 0.5, 0.5]]], dtype=np.float32)
    lab = rgb_to_lab(pixels)[0]
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.02)  # white is the white point
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=0.02)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.05)  # sRGB red, D65
    assert abs(lab[3, 0] - 53.39) < 0.05 and np.abs(lab[3, 1:]).max() < 0.02  # mid grey


def test_the_gain_multiplies_before_the_clip():
    rgb = np.array([[[0.5, 0.25, 0.8], [0.9, 0.2, 0.1]]], dtype=np.float32)
    gain = np.array([1.5, 2.0, 0.5])
    expected = formula_lab(rgb * gain)  # the first red and the second green exceed 1
    assert distances(rgb_to_lab(rgb, gain), expected).max() < FORMULA_TOLERANCE
    assert distances(rgb_to_lab(rgb, gain), rgb_to_lab(rgb)).min() > 5


def test_delta_e_is_the_distance_in_lab(colours):
    gain = np.array([0.9, 1.1, 1.0])
    reference = np.array([62.0, 8.0, -15.0])
    expected = distances(formula_lab(colours * gain), reference)
    found = delta_e(colours, reference, gain)
    assert found.shape == colours.shape[:2] and found.dtype == np.float32
    assert np.abs(found - expected).max() < FORMULA_TOLERANCE
