"""History: the saved measurements, filtered, charted, exported, deleted."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.common import current_settings, get_store, show_error
from objlen.errors import ObjlenError
from objlen.options import METHODS
from objlen.store import table_rows, to_csv
from objlen.units import UNITS


def filters_ui() -> dict:
    """The filter widgets; returns keyword arguments for ``Store.list``."""
    name_column, method_column, date_column = st.columns([2, 2, 2])
    name = name_column.text_input("Image name contains", key="history_name")
    methods = method_column.multiselect("Method", METHODS, key="history_methods")
    dates = date_column.date_input("Saved between", value=(), key="history_dates")
    since = until = None
    if isinstance(dates, tuple) and len(dates) == 2:
        since, until = dates[0].isoformat(), dates[1].isoformat()
    elif isinstance(dates, dt.date) or (isinstance(dates, tuple) and len(dates) == 1):
        day = dates if isinstance(dates, dt.date) else dates[0]
        since = until = day.isoformat()
    return {
        "name_contains": name or None,
        "methods": tuple(methods) or None,
        "since": since,
        "until": until,
    }


def delete_ui(ids: list[int]) -> None:
    """Delete one measurement, after an explicit confirmation."""
    with st.expander("Delete a measurement"):
        row_id = st.selectbox("Measurement id", ids, key="history_delete_id")
        sure = st.checkbox(f"Yes, delete measurement {row_id} for good", key="history_sure")
        if st.button("Delete", disabled=not sure, type="primary", key="history_delete"):
            try:
                deleted = get_store().delete(int(row_id))
            except ObjlenError as error:
                show_error(error, "Could not delete: ")
                return
            if deleted:
                st.session_state.pop("history_sure", None)
                st.toast(f"Deleted measurement {row_id}")
                st.rerun()
            st.error(f"Measurement {row_id} was already gone")


def trend_chart(table: pd.DataFrame, unit: str) -> alt.Chart:
    """Width and height of each saved measurement against the time it was saved."""
    lengths = table.melt(
        id_vars=["saved", "image"],
        value_vars=[f"width ({unit})", f"height ({unit})"],
        var_name="length",
        value_name=unit,
    )
    return (
        alt.Chart(lengths)
        .mark_line(point=True)
        .encode(
            x=alt.X("saved:T", title="saved", axis=alt.Axis(format="%Y-%m-%d %H:%M")),
            y=alt.Y(f"{unit}:Q", title=unit),
            color=alt.Color("length:N", title=None),
            tooltip=["image", "length", alt.Tooltip(f"{unit}:Q", format=".2f"), "saved:T"],
        )
    )


def main() -> None:
    st.title("History")
    settings = current_settings()
    filters = filters_ui()
    try:
        store = get_store()
        rows = store.list(**filters)
        count = store.count()
    except ObjlenError as error:
        show_error(error, "The history cannot be shown: ")
        return
    st.caption(f"{len(rows)} of {count} saved measurements · database {store.path}")
    if not rows:
        st.info("No saved measurements match. Save one from the Measure page.")
        return
    unit = st.radio(
        "Show lengths in",
        UNITS,
        index=UNITS.index(settings.default_unit),
        horizontal=True,
        key="history_unit",
    )
    table = pd.DataFrame(table_rows(rows, unit))
    length = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "saved": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            **{column: length for column in table.columns[4:8]},
        },
    )
    st.subheader("Widths and heights over time")
    st.altair_chart(trend_chart(table, unit), width="stretch")
    st.download_button(
        "Download CSV",
        to_csv(rows),
        file_name="objlen-history.csv",
        mime="text/csv",
        key="history_csv",
    )
    delete_ui([row.id for row in rows])


main()
