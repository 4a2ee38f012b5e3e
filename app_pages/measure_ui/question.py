"""On a new photo the page asks what the reference in it is, before measuring
anything: a preset (a card, a sheet, a coin, an ArUco marker) or a size typed
in. Nothing is carried over silently from the last photo; the last answer is
offered as one click."""

from __future__ import annotations

import streamlit as st

from app_pages.measure_ui.editor import photo_layers
from app_pages.measure_ui.options import DEFAULTS, KINDS, preset_label, set_preset
from app_pages.measure_ui.state import PREFIX
from objlen.presets import PRESETS
from objlen.reference import ARUCO_DICTIONARIES
from objlen.workbench import Workbench

QUESTION_KEY = "measure_reference_question"
#: Session key of the reference said for the photo before this one: its preset
#: and size fields (set by :func:`app_pages.measure_ui.photo.photo_ui`).
LAST_KEY = f"{PREFIX}_last_reference"


def _answered() -> None:
    preset = st.session_state.get(QUESTION_KEY)
    if preset in PRESETS:
        set_preset(PREFIX, preset)
    st.session_state[QUESTION_KEY] = None


def _same_as_before(last: dict[str, str]) -> None:
    fields = {k: v for k, v in last.items() if k != "preset" and v}
    set_preset(PREFIX, last["preset"], **fields)


def _size_given(preset: str) -> None:
    """The size typed in the main area goes into the sidebar's fields."""
    kind = st.session_state.get("measure_question_kind", "size")
    text = str(st.session_state.get("measure_question_size", "")).strip()
    if preset == "aruco":
        set_preset(
            PREFIX,
            "aruco",
            aruco_dictionary=st.session_state.get("measure_question_dictionary", "DICT_4X4_50"),
            marker_size=text,
        )
    elif kind == "length":
        set_preset(PREFIX, "custom", reference_kind="length", reference_length=text)
    else:
        set_preset(PREFIX, "custom", reference_kind="size", reference_size=text)


def _kind_chosen() -> None:
    """The kind chosen in the question is the sidebar's too (so the question's
    caption, made from the sidebar's fields, names the same kind)."""
    kind = st.session_state.get("measure_question_kind", "size")
    set_preset(PREFIX, "custom", reference_kind=kind)


def size_question_ui(preset: str, unit: str, problem: str) -> None:
    """The size of a reference that is not a preset (or of an ArUco marker),
    asked in the main area. The kind of size (a length or W x H) starts as the
    sidebar's and is chosen outside the form, so that the field's label and
    example follow it at once; a marker's dictionary starts as the sidebar's."""
    st.subheader("What is the reference's real size?")
    st.caption(f"{PRESETS[preset].label}: {problem}.")
    kind = "size"
    if preset != "aruco":
        st.session_state["measure_question_kind"] = st.session_state.get(
            f"{PREFIX}_reference_kind", "size"
        )
        kind = st.radio(
            "Its size is",
            list(KINDS),
            format_func=KINDS.get,
            key="measure_question_kind",
            horizontal=True,
            on_change=_kind_chosen,
        )
    with st.form("measure_size_question", border=False):
        if preset == "aruco":
            st.session_state.setdefault(
                "measure_question_dictionary",
                st.session_state.get(f"{PREFIX}_aruco_dictionary", DEFAULTS["aruco_dictionary"]),
            )
            st.selectbox("ArUco dictionary", ARUCO_DICTIONARIES, key="measure_question_dictionary")
            label, example = "Side of the marker's black square", "40 mm"
        else:
            label, example = (
                ("Real length (a coin's diameter, a ruler's marks)", "24.26 mm")
                if kind == "length"
                else ("Real width × height", "85.6 x 54 mm")
            )
        st.text_input(
            label,
            key="measure_question_size",
            placeholder=f"e.g. {example}",
            help=f"a number in {unit}, or with its unit",
        )
        st.form_submit_button("Measure", type="primary", on_click=_size_given, args=(preset,))


def question_ui(bench: Workbench, unit: str) -> None:
    """Ask what the reference is; show the photo below the question."""
    st.subheader("What is the reference in this photo?")
    st.caption(
        "objlen measures against an object of known size lying beside the one you measure. "
        "Choose it (you can change it later in the sidebar)."
    )
    last = st.session_state.get(LAST_KEY)
    if isinstance(last, dict) and last.get("preset") in PRESETS:
        label = preset_label(last["preset"], unit)
        size = last.get("reference_size") or last.get("reference_length") or ""
        if not PRESETS[last["preset"]].fixed and size:
            label = f"{PRESETS[last['preset']].label.split(' (')[0]} {size}"
        st.button(
            f"Same as before: {label}",
            key="measure_same_reference",
            on_click=_same_as_before,
            args=(last,),
            type="primary",
        )
    st.pills(
        "The reference",
        list(PRESETS),
        format_func=lambda key: PRESETS[key].label,
        key=QUESTION_KEY,
        on_change=_answered,
        label_visibility="collapsed",
    )
    if bench.photo is not None and bench.image is not None:
        display, _, _ = photo_layers(bench.photo.sha256, bench.image)
        st.image(display, caption=bench.photo.name, width=640)


__all__ = ["LAST_KEY", "QUESTION_KEY", "question_ui", "size_question_ui"]
