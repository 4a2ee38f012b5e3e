"""CIE Lab of float RGB, as OpenCV's ``cv2.COLOR_RGB2Lab`` defines it, without its start-up.

The first Lab (or Luv) conversion of a process makes OpenCV build its colour
tables — among them a trilinear 33 x 33 x 33 table computed in software
floating point — which costs about 90 ms here: most of the segmenter's time
on a small photo measured from the command line. This module computes the
same colour space from two 65 536-entry tables built with NumPy in about a
millisecond, with OpenCV's elementwise primitives around them.

The convention is OpenCV's for float input (``cv2.COLOR_RGB2Lab``, ``imgproc``
colour conversions): each channel is clipped to 0..1 and linearised with the
sRGB curve (``c / 12.92`` up to 0.04045, ``((c + 0.055) / 1.055) ** 2.4``
above); the linear colour goes to XYZ with the sRGB (D65) matrix divided by
OpenCV's D65 white point (0.950456, 1, 1.088754); then ``f(t) = t ** (1/3)``
above 0.008856 and ``7.787 t + 16/116`` below, and ``L = 116 f(Y) - 16``,
``a = 500 (f(X) - f(Y))``, ``b = 200 (f(Y) - f(Z))``. (OpenCV evaluates
that formula through its trilinear table, which is off the formula by up to
0.75 delta-E on random colours; this module is within 0.1 of it.)

The sRGB curve and ``f`` are looked up on 16-bit values: the input is
quantised to 1/65535 (``cv2.multiply`` to ``CV_16U`` rounds and saturates:
the clipping costs nothing), the linear colour and XYZ likewise; that is
within 0.1 delta-E of the formula (0.08 at most on 3 million random colours,
the steepest slope of ``f`` times ``a``'s 500 being the largest term).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

_LEVELS = 65535  # the 16-bit quantisation of every value in 0..1
_WHITE_D65 = np.array([0.950456, 1.0, 1.088754])  # OpenCV's D65 white point
# Linear sRGB to XYZ (D65), each row divided by the white point's component:
# every row sums to 1, so XYZ stays in 0..1 like the clipped input.
_RGB_TO_XYZ = (
    np.array(
        [
            [0.412453, 0.357580, 0.180423],
            [0.212671, 0.715160, 0.072169],
            [0.019334, 0.119193, 0.950227],
        ]
    )
    / _WHITE_D65[:, None]
)
# (L, a, b) from (f(X), f(Y), f(Z)), without the offset of L.
_F_TO_LAB = np.array([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]])
_L_OFFSET = np.array([-16.0, 0.0, 0.0])
_SUM_3 = np.ones((1, 3), dtype=np.float32)
_BLOCK_PIXELS = 65_536  # delta_e converts about this many pixels at a time


@functools.cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """The two lookup tables, indexed by a value in 0..1 times 65535:

    * the sRGB curve, as uint16 (linear value times 65535, rounded);
    * Lab's ``f``, as float32.
    """
    value = np.arange(_LEVELS + 1) / _LEVELS
    linear = np.where(value <= 0.04045, value / 12.92, ((value + 0.055) / 1.055) ** 2.4)
    cube_root = np.where(value > 0.008856, np.cbrt(value), 7.787 * value + 16.0 / 116.0)
    gamma = np.round(linear * _LEVELS).astype(np.uint16)
    gamma.flags.writeable = False
    f = cube_root.astype(np.float32)
    f.flags.writeable = False
    return gamma, f


def _cube_roots(rgb: np.ndarray, gain: np.ndarray | None) -> np.ndarray:
    """``f(X), f(Y), f(Z)`` of ``rgb * gain`` (``(h, w, 3)`` float32, gain per channel)."""
    gamma, f = _tables()
    scale = _LEVELS * (np.ones(3) if gain is None else np.asarray(gain, dtype=np.float64))
    levels = cv2.multiply(rgb, (*(float(s) for s in scale), 0.0), dtype=cv2.CV_16U)
    linear = np.take(gamma, levels)  # (twice as fast as indexing, gamma[levels])
    del levels
    # XYZ in place of the linear colour, as uint16 again (rounded and saturated).
    return np.take(f, cv2.transform(linear, _RGB_TO_XYZ, dst=linear))


def rgb_to_lab(rgb: np.ndarray, gain: np.ndarray | None = None) -> np.ndarray:
    """CIE Lab (L in 0..100) of ``rgb * gain``: ``(h, w, 3)`` float32.

    ``rgb`` is ``(h, w, 3)`` float32 RGB (values outside 0..1 are clipped
    after the gain, as OpenCV does); ``gain`` an optional factor per channel.
    Within 0.1 delta-E of the formula (see the module's docstring).
    """
    matrix = np.hstack([_F_TO_LAB, _L_OFFSET[:, None]]).astype(np.float32)
    cube_roots = _cube_roots(rgb, gain)
    return cv2.transform(cube_roots, matrix, dst=cube_roots)


def delta_e(
    rgb: np.ndarray, reference_lab: np.ndarray, gain: np.ndarray | None = None
) -> np.ndarray:
    """Delta-E (CIE76) of each pixel of ``rgb * gain`` from ``reference_lab``: ``(h, w)`` float32.

    ``rgb`` and ``gain`` as for :func:`rgb_to_lab`; ``reference_lab`` is a
    ``(3,)`` Lab colour. (Converted a block of rows at a time: the
    temporaries stay small — no page faults for them — and in the cache.)
    """
    offset = _L_OFFSET - np.asarray(reference_lab, dtype=np.float64).reshape(3)
    matrix = np.hstack([_F_TO_LAB, offset[:, None]]).astype(np.float32)
    height, width = rgb.shape[:2]
    distance = np.empty((height, width), dtype=np.float32)
    step = max(1, _BLOCK_PIXELS // max(1, width))
    for top in range(0, height, step):
        difference = _cube_roots(rgb[top : top + step], gain)
        cv2.transform(difference, matrix, dst=difference)
        cv2.multiply(difference, difference, dst=difference)
        cv2.transform(difference, _SUM_3, dst=distance[top : top + step])
    return cv2.sqrt(distance, dst=distance)
