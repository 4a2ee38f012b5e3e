"""The numbers on the Measure page: a header that names the reference and its
size, a table of every object (choosing a row selects the object whose
points are draggable), and the warnings and notes in the operator's words."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from objlen.result import Measurement
from objlen.workbench import Workbench

TABLE_KEY = "measure_objects"
_SEEN_KEY = "measure_objects_seen"  # the table row the operator chose last


def header_ui(bench: Workbench, current: Measurement | None) -> None:
    """One line: the reference and its size, the scale (or a board's fit), the method
    and the box."""
    parts = [f"**Reference:** {bench.reference_text()}"]
    if current is not None:
        reference = current.reference
        unit = current.unit
        if reference.fit_corners is not None and reference.fit_rms_px is not None:
            used, found = reference.fit_corners
            parts.append(f"board fit: {used} of {found} corners, RMS {reference.fit_rms_px:.2f} px")
        elif reference.pixels is not None:
            parts.append(f"CD {reference.pixels:.1f} px → {reference.scale:.4g} {unit}/px")
        parts.append(f"{current.method}, {current.options.orientation} boxes")
    if bench.image is not None and bench.photo is not None:
        height, width = bench.image.shape[:2]
        parts.append(f"{bench.photo.name} · {width} × {height} px")
    if bench.parent_id is not None:
        parts.append(f"correcting saved #{bench.parent_id}")
    st.markdown(" · ".join(parts))


def objects_table_ui(bench: Workbench, current: Measurement) -> None:
    """Every object: width, height (each ± its 95 % interval), and a note.
    A row chosen in the table selects that object on the photo."""
    rows = bench.object_rows()
    selected = bench.selected_index
    chosen_row = rows[selected]
    st.markdown(
        f"**Object {chosen_row['object']}** of {len(rows)}: width AB **{chosen_row['width']}** · "
        f"height **{chosen_row['height']}**"
    )
    table = pd.DataFrame(
        [
            {
                "": "▶" if index == selected else "",
                "#": row["object"],
                "width": row["width"],
                "height": row["height"],
                "note": row["note"],
            }
            for index, row in enumerate(rows)
        ]
    )
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 320),
        key=TABLE_KEY,
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "": st.column_config.TextColumn(width=18),
            "#": st.column_config.NumberColumn(width=30, help="largest first"),
            "width": st.column_config.TextColumn(
                f"width AB ({current.unit})", width=128, help="95 % interval"
            ),
            "height": st.column_config.TextColumn(
                "height AE − N", width=128, help="95 % interval; N is the offset"
            ),
            "note": st.column_config.TextColumn("note", width="medium"),
        },
    )
    chosen = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if chosen and chosen != st.session_state.get(_SEEN_KEY):
        st.session_state[_SEEN_KEY] = chosen
        if chosen[0] != selected:
            bench.selected = int(chosen[0])
            st.rerun(scope="fragment")
    elif not chosen:
        st.session_state[_SEEN_KEY] = []


def messages_ui(bench: Workbench) -> None:
    """Warnings (one per problem), then what the operator should know."""
    for warning in bench.warnings():
        warning = warning.replace(
            "name it with the reference rule", "click it with the Regions tool (Reference)"
        )
        st.warning(warning, icon=":material/warning:")
    for note in bench.notes():
        st.caption(f"Note: {note}")


__all__ = ["TABLE_KEY", "header_ui", "messages_ui", "objects_table_ui"]
