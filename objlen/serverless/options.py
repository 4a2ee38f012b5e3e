"""The Lambda function's measurement options: query or JSON values to MeasureOptions.

Exactly one of ``reference_length`` (the real length of the reference's long
axis: a card's long side, a coin's diameter), ``reference_size`` (``"WxH"`` of
a rectangular reference, or a two-item JSON list), ``aruco`` with
``marker_size``, or ``scale`` (units per pixel); and ``method`` (proportional |
homography), ``orientation`` (upright | auto), ``offset`` (the constant N taken
off the height), ``unit`` (mm | cm | in, default mm), ``all`` (measure every
object). A length may carry a unit suffix (``85.6mm``, ``3.37in``); a bare
number is in ``unit``. :data:`OPTION_NAMES` lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from objlen.classes import ClassIds
from objlen.errors import ParameterError
from objlen.options import MeasureOptions, ReferenceSpec
from objlen.units import check_unit, parse_length, parse_size

#: Names of the measurement options (query string parameters or JSON keys).
OPTION_NAMES = (
    "reference_length",
    "reference_size",
    "aruco",
    "marker_size",
    "scale",
    "method",
    "orientation",
    "offset",
    "unit",
    "all",
)

_REFERENCE_OPTIONS = ("reference_length", "reference_size", "aruco", "scale")
_TRUE = frozenset({"", "1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _shown(value: object, limit: int = 40) -> str:
    """A caller's value for a message: its ``repr``, cut to about ``limit``
    characters (a value may be megabytes long or deeply nested)."""
    if isinstance(value, list | tuple | dict):
        return f"a JSON {'object' if isinstance(value, dict) else 'list'}"
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # pragma: no cover - JSON values repr fine
        return "an unreadable value"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _length(value: object, unit: str, what: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParameterError(
            f"{what} must be a number or a length like 85.6mm, got {_shown(value)}"
        )
    return parse_length(value, unit, what=what, allow_zero=allow_zero)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParameterError(f"{what} must be a number, got {_shown(value)}")
    if isinstance(value, str) and len(value) > 100:
        raise ParameterError(f"{what} is {len(value)} characters long, not a number")
    try:
        return float(value)
    except (ValueError, OverflowError):
        raise ParameterError(f"{what} must be a finite number, got {_shown(value)}") from None


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ParameterError(f"{what} must be text, got {_shown(value)}")
    if len(value) > 100:
        raise ParameterError(f"{what} is {len(value)} characters long; no option value is")
    return value.strip()


def _flag(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ParameterError(f"{what} must be true or false, got {_shown(value)}")


def _given(params: Mapping[str, object], name: str) -> bool:
    return params.get(name) not in (None, "")


def options_from_params(params: Mapping[str, object]) -> MeasureOptions:
    """Validated :class:`MeasureOptions` from query parameters or JSON values.

    Values may be strings (query string) or JSON numbers, booleans and, for
    ``reference_size``, a two-item list.

    Raises:
        ParameterError: an unknown option, no reference or more than one kind
            of reference, or a value out of range; the message says which.
    """
    unknown = sorted(set(params) - set(OPTION_NAMES))
    if unknown:
        shown = ", ".join(_shown(name).strip("'") for name in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ParameterError(
            f"unknown option {shown}{more}; the options are {', '.join(OPTION_NAMES)}"
        )
    unit = _text(params["unit"], "unit") if _given(params, "unit") else "mm"
    check_unit(unit)
    references = [name for name in _REFERENCE_OPTIONS if _given(params, name)]
    if len(references) != 1:
        also = f" (got {' and '.join(references)})" if references else ""
        raise ParameterError(
            "say what the reference is, once: reference_length (e.g. 85.6), "
            "reference_size (e.g. 85.6x54), aruco with marker_size, or scale" + also
        )
    if _given(params, "marker_size") and references != ["aruco"]:
        raise ParameterError("marker_size goes with aruco")
    kind = references[0]
    if kind == "reference_length":
        spec = ReferenceSpec(length=_length(params[kind], unit, kind))
    elif kind == "reference_size":
        spec = ReferenceSpec(size=_size(params[kind], unit))
    elif kind == "aruco":
        if not _given(params, "marker_size"):
            raise ParameterError("aruco needs marker_size, the side of the marker's black square")
        spec = ReferenceSpec(
            aruco_dictionary=_text(params[kind], kind),
            marker_size=_length(params["marker_size"], unit, "marker_size"),
        )
    else:
        spec = ReferenceSpec(scale=_number(params[kind], kind))
    return MeasureOptions(
        reference=spec,
        method=_text(params.get("method") or "proportional", "method"),  # type: ignore[arg-type]
        orientation=_text(params.get("orientation") or "upright", "orientation"),  # type: ignore[arg-type]
        unit=unit,
        offset=_length(params["offset"], unit, "offset", allow_zero=True)
        if _given(params, "offset")
        else 0.0,
        classes=ClassIds(),
        all_objects=_flag(params["all"], "all") if "all" in params else False,
    ).validated()


def _size(value: object, unit: str) -> tuple[float, float]:
    if isinstance(value, str):
        return parse_size(value, unit, what="reference_size")
    if isinstance(value, list | tuple) and len(value) == 2:
        return (
            _length(value[0], unit, "reference_size"),
            _length(value[1], unit, "reference_size"),
        )
    raise ParameterError(
        f'reference_size must be like "85.6x54" or [85.6, 54], got {_shown(value)}'
    )


def describe_options(options: MeasureOptions) -> dict[str, Any]:
    """What the log says of ``options``: the kind of reference, the method, the unit.

    The kind is ``"length"``, ``"size"``, ``"aruco"`` or ``"scale"``; no value
    is included.
    """
    spec = options.reference
    kind = next(
        name
        for name, value in (
            ("length", spec.length),
            ("size", spec.size),
            ("aruco", spec.aruco_dictionary),
            ("scale", spec.scale),
        )
        if value is not None
    )
    return {"reference": kind, "method": options.method, "unit": options.unit}


__all__ = ["OPTION_NAMES", "describe_options", "options_from_params"]
