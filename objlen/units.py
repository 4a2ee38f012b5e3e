"""Units of length: parsing ``"85.6mm"`` and converting between mm, cm and in."""

from __future__ import annotations

import math
import re

from objlen.errors import ParameterError

#: Millimetres per unit.
MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "in": 25.4}
UNITS = tuple(MM_PER_UNIT)

_MAX_LENGTH_CHARS = 100
_LENGTH = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(mm|cm|in)?\s*$")


def check_unit(unit: str) -> str:
    """Return ``unit`` if objlen knows it, else raise :class:`ParameterError`."""
    if unit not in MM_PER_UNIT:
        raise ParameterError(f"unknown unit {_shown(unit)}; use one of {', '.join(UNITS)}")
    return unit


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a length between ``mm``, ``cm`` and ``in``.

    >>> convert(25.4, "mm", "in")
    1.0
    """
    return value * MM_PER_UNIT[check_unit(from_unit)] / MM_PER_UNIT[check_unit(to_unit)]


def _shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` for a message, cut to about ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def parse_length(
    text: str | float, unit: str, *, what: str = "length", allow_zero: bool = False
) -> float:
    """A length in ``unit``, from a number (taken in ``unit``) or text with a
    unit suffix such as ``"85.6mm"`` or ``"3.37 in"``.

    Raises:
        ParameterError: not a number, not finite, or not positive (zero is
            allowed with ``allow_zero``, for offsets).
    """
    if isinstance(text, int | float):
        try:
            value, given_unit = float(text), unit
        except OverflowError:  # an int too large for a float
            value, given_unit = math.inf, unit
    else:
        if len(text) > _MAX_LENGTH_CHARS:
            raise ParameterError(f"{what} is {len(text)} characters long, not a length")
        match = _LENGTH.match(text)
        if not match:
            raise ParameterError(f"{what} {text!r} is not a length like 85.6 or 85.6mm")
        value, given_unit = float(match.group(1)), match.group(2) or unit
    if not math.isfinite(value):
        raise ParameterError(f"{what} must be a finite number, got {_shown(text)}")
    if value < 0 and allow_zero:
        raise ParameterError(f"{what} must be zero or positive, got {_shown(text)}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ParameterError(f"{what} must be positive, got {_shown(text)}")
    return convert(value, given_unit, unit)


def parse_size(text: str, unit: str, *, what: str = "reference size") -> tuple[float, float]:
    """``"85.6x54"``, ``"85.6x54mm"`` or ``"3.5inx2in"`` as ``(width, height)`` in ``unit``.

    A unit after the second number applies to both sides unless the first
    carries its own (``"85.6mmx2in"``); a bare side is in ``unit``.

    Raises:
        ParameterError: not two lengths joined by ``x``, or a side not a
            positive, finite length.
    """
    match = re.match(r"^\s*([^xX*]+)[xX*]([^xX*]+?)\s*(mm|cm|in)?\s*$", text)
    if not match:
        raise ParameterError(f"{what} {text!r} is not a size like 85.6x54 or 85.6x54mm")
    suffix = match.group(3) or ""
    first = match.group(1).strip()
    if not first.endswith(UNITS):
        first += suffix
    return (
        parse_length(first, unit, what=what),
        parse_length(match.group(2).strip() + suffix, unit, what=what),
    )
