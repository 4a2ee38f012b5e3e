"""The measurement options, asked the same way on the Measure and Batch pages:
what the reference is (a preset: a card, a sheet, a coin, an ArUco marker,
objlen's measuring mat, or a size typed in), which region it is, the method,
the object box and N.

The preset sets the kind of reference (a length or W x H) and the reference
rule; the measuring mat sets the homography method (the mat fixes the
perspective). Nothing is assumed: until a preset is chosen there are no
options, and a size typed in starts empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app_pages.common import remember
from objlen.errors import ObjlenError, ParameterError
from objlen.options import METHODS, MeasureOptions, ReferenceSpec
from objlen.presets import PRESETS
from objlen.reference import ARUCO_DICTIONARIES
from objlen.segment.local import REFERENCE_CHOICES
from objlen.settings import AppSettings
from objlen.units import parse_length, parse_size
from objlen.workbench import ORIENTATION_MODES

#: How the operator reads the reference rules.
RULES = {
    "auto": "the one shaped like the reference",
    "leftmost": "the leftmost region",
    "rightmost": "the rightmost region",
    "topmost": "the topmost region",
    "bottommost": "the bottommost region",
    "largest": "the largest region",
    "smallest": "the smallest region",
}
ORIENTATIONS = {
    "detect": "follow the objects when they are turned",
    "upright": "upright",
    "auto": "turned (smallest box)",
}
KINDS = {"length": "a length (diameter, long side)", "size": "width × height"}
#: The first value of the other options, before the operator changes them.
DEFAULTS = {
    "reference_kind": "size",
    "reference_length": "",
    "reference_size": "",
    "aruco_dictionary": "DICT_4X4_50",
    "marker_size": "",
    "method": "proportional",
    "orientation": "detect",
    "offset": "0",
}


@dataclass(frozen=True)
class OptionsChoice:
    """What the options widgets say.

    Attributes:
        options: the measurement options, ``None`` until the reference is said
            (or when a value is wrong: ``problem`` says which).
        orientation_mode: ``"detect"``, ``"upright"`` or ``"auto"``.
        preset: the preset's key, ``None`` before one is chosen.
        rule: how the local segmenter picks the reference region.
        problem: what is missing or wrong, for the operator.
    """

    options: MeasureOptions | None
    orientation_mode: str
    preset: str | None
    rule: str
    problem: ObjlenError | None = None


def preset_key(prefix: str) -> str:
    """The session key of the preset widget of a page."""
    return f"{prefix}_reference_preset"


def set_preset(prefix: str, preset: str | None, **fields: str) -> None:
    """Set the preset (and custom fields such as ``reference_size``) before the
    widgets are drawn in this run (e.g. for a sample whose reference is known)."""
    st.session_state[preset_key(prefix)] = preset
    st.session_state[f"objlen_kept_{preset_key(prefix)}"] = preset
    for name, value in fields.items():
        st.session_state[f"{prefix}_{name}"] = value
        st.session_state[f"objlen_kept_{prefix}_{name}"] = value
    if preset is not None and preset in PRESETS:
        _preset_chosen(prefix, preset)


def _set_field(prefix: str, name: str, value: str) -> None:
    st.session_state[f"{prefix}_{name}"] = value
    st.session_state[f"objlen_kept_{prefix}_{name}"] = value


def _preset_chosen(prefix: str, preset: str) -> None:
    """What a preset sets: the reference rule (the region shaped like it) and, for a
    board (the measuring mat), the homography method."""
    _set_field(prefix, "reference_rule", PRESETS[preset].rule)
    if PRESETS[preset].kind == "board":
        _set_field(prefix, "method", "homography")


def _preset_changed(prefix: str) -> None:
    """A preset chosen in the selector."""
    preset = st.session_state.get(preset_key(prefix))
    if preset in PRESETS:
        _preset_chosen(prefix, preset)


def preset_label(key: str, unit: str) -> str:
    """A preset as the selector shows it, with its size in ``unit``."""
    return PRESETS[key].describe(unit)


def _key(prefix: str, name: str, options: Sequence[Any] | None = None) -> str:
    return remember(f"{prefix}_{name}", DEFAULTS[name], options)


def reference_spec_ui(prefix: str, preset: str | None, unit: str) -> ReferenceSpec:
    """The size fields a preset needs (none for a fixed one); the spec.

    Raises:
        ParameterError: no preset yet, or a size missing or not a length.
    """
    hint = f"a number in {unit}, or with its unit: 85.6 mm, 3.37 in"
    if preset is None:
        raise ParameterError("say what the reference in the photo is (a card, a coin, …)")
    chosen = PRESETS[preset]
    if chosen.fixed:
        return chosen.spec(unit)
    if chosen.kind == "aruco":
        dictionary = st.selectbox(
            "ArUco dictionary",
            ARUCO_DICTIONARIES,
            key=_key(prefix, "aruco_dictionary", ARUCO_DICTIONARIES),
        )
        text = _required_text(
            "Side of the marker's black square",
            _key(prefix, "marker_size"),
            hint,
            "e.g. 40 mm",
            "enter the side of the ArUco marker's black square",
        )
        return ReferenceSpec(
            aruco_dictionary=dictionary,
            marker_size=parse_length(text, unit, what="the marker size"),
        )
    kind = st.radio(
        "Its size is",
        list(KINDS),
        format_func=KINDS.get,
        key=_key(prefix, "reference_kind", list(KINDS)),
        horizontal=True,
    )
    if kind == "length":
        text = _required_text(
            "Real length of CD",
            _key(prefix, "reference_length"),
            hint,
            "e.g. 24.26 mm",
            "enter the reference's real length",
        )
        return ReferenceSpec(length=parse_length(text, unit, what="the reference length"))
    text = _required_text(
        "Real width × height",
        _key(prefix, "reference_size"),
        hint,
        "e.g. 85.6 x 54 mm",
        "enter the reference's real width × height",
    )
    return ReferenceSpec(size=parse_size(text.replace("×", "x"), unit))


def _required_text(label: str, key: str, hint: str, placeholder: str, missing: str) -> str:
    """A text input's value; ``ParameterError(missing)`` while it is blank."""
    text = st.text_input(label, key=key, help=hint, placeholder=placeholder)
    if not text.strip():
        raise ParameterError(missing)
    return text


def options_ui(prefix: str, settings: AppSettings) -> OptionsChoice:
    """The options widgets (call inside the container they belong in).

    The widgets' keys start with ``prefix``: ``_reference_preset``,
    ``_reference_kind``, ``_reference_length``, ``_reference_size``,
    ``_aruco_dictionary``, ``_marker_size``, ``_reference_rule``,
    ``_method``, ``_orientation``, ``_offset``.
    """
    unit = settings.default_unit
    key = remember(preset_key(prefix), None, [None, *PRESETS])
    preset = st.selectbox(
        "The reference in the photo",
        list(PRESETS),
        format_func=lambda k: preset_label(k, unit),
        placeholder="Choose the reference…",
        key=key,
        on_change=_preset_changed,
        args=(prefix,),
    )
    problem: ObjlenError | None = None
    spec: ReferenceSpec | None = None
    try:
        spec = reference_spec_ui(prefix, preset, unit)
    except ObjlenError as error:
        problem = error
    rule_key = remember(f"{prefix}_reference_rule", settings.reference_rule, REFERENCE_CHOICES)
    rule = st.selectbox(
        "Which region is the reference",
        list(REFERENCE_CHOICES),
        format_func=lambda r: RULES.get(r, r),
        key=rule_key,
        help="The local segmenter's choice; a click on the photo overrides it.",
    )
    method = st.radio(
        "Method",
        METHODS,
        key=_key(prefix, "method", METHODS),
        horizontal=True,
        help="proportional: camera parallel to the table; homography: corrects a tilted "
        "camera, needs a rectangle of known width × height, an ArUco marker or the "
        "measuring mat",
    )
    orientation = st.radio(
        "Object box",
        list(ORIENTATIONS),
        format_func=ORIENTATIONS.get,
        key=_key(prefix, "orientation", list(ORIENTATION_MODES)),
        help="By default the boxes follow the objects when one is clearly turned; the "
        "notes say why",
    )
    offset_text = st.text_input(
        "Offset N (subtracted from the height)",
        key=_key(prefix, "offset"),
        help=f"a number in {unit}, or with its unit",
    )
    options = None
    if spec is not None:
        try:
            options = MeasureOptions(
                reference=spec,
                method=method,
                unit=unit,
                offset=parse_length(offset_text or "0", unit, what="the offset N", allow_zero=True),
                classes=settings.classes,
                all_objects=True,
            ).validated()
        except ObjlenError as error:
            problem = error
    return OptionsChoice(options, orientation, preset, rule, problem)


__all__ = [
    "DEFAULTS",
    "ORIENTATIONS",
    "RULES",
    "OptionsChoice",
    "options_ui",
    "preset_key",
    "preset_label",
    "reference_spec_ui",
    "set_preset",
]
