"""History: the saved measurements with their thumbnails, filtered, charted,
exported and deleted; any of them reopened on the Measure page, to correct it
and save it as a new version (the old one stays as it was)."""

from __future__ import annotations

import base64
import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.common import current_settings, get_store, show_error
from app_pages.measure_ui.state import reopen
from objlen.errors import ObjlenError
from objlen.options import METHODS
from objlen.store import SavedMeasurement, Store, objects_to_csv, table_rows, to_csv
from objlen.units import UNITS, convert

TABLE_KEY = "history_table"
OPEN_KEY = "history_open_id"
MEASURE_PAGE = "app_pages/measure.py"


@st.cache_data(max_entries=512, show_spinner=False)
def thumbnail_url(db_path: str, row_id: int, _store: Store) -> str | None:
    """A saved measurement's thumbnail as a data URL (rows never change)."""
    png = _store.thumbnail(row_id)
    return None if not png else "data:image/png;base64," + base64.b64encode(png).decode()


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


def table_ui(store: Store, rows: list[SavedMeasurement], unit: str) -> pd.DataFrame:
    """The saved measurements with thumbnails; a row chosen here is the one to open."""
    table = pd.DataFrame(table_rows(rows, unit))
    table.insert(0, "photo", [thumbnail_url(str(store.path), row.id, store) for row in rows])
    table["version"] = [
        f"v{row.version}" + (f" of #{row.parent_id}" if row.parent_id else "") for row in rows
    ]
    first = ["photo", "id", "version", "saved", "image", "objects"]
    table = table[first + [c for c in table.columns if c not in (*first, "parent")]]
    length = st.column_config.NumberColumn(format="%.2f")
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        row_height=64,
        key=TABLE_KEY,
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "photo": st.column_config.ImageColumn("photo", width=90),
            "saved": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "objects": st.column_config.NumberColumn(width=60),
            **{
                column: length
                for column in table.columns
                if "width" in column or "height" in column
            },
        },
    )
    chosen = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if chosen:
        st.session_state[OPEN_KEY] = rows[chosen[0]].id
    return table


def _open(store: Store, row_id: int) -> None:
    try:
        reopen(store, row_id)
    except ObjlenError as error:
        st.session_state["history_open_problem"] = str(error)
        return
    st.session_state.pop("history_open_problem", None)
    st.session_state["history_opened"] = row_id


def open_ui(store: Store, rows: list[SavedMeasurement], unit: str) -> None:
    """One measurement: its objects, and the button that reopens it on the Measure page."""
    ids = [row.id for row in rows]
    if st.session_state.get(OPEN_KEY) not in ids:
        st.session_state[OPEN_KEY] = ids[0]
    by_id = {row.id: row for row in rows}
    choice_column, button_column = st.columns([3, 2], vertical_alignment="bottom")
    row_id = choice_column.selectbox(
        "Measurement",
        ids,
        format_func=lambda i: f"#{i} · {by_id[i].image_name} · v{by_id[i].version}",
        key=OPEN_KEY,
    )
    button_column.button(
        "Open on the Measure page",
        type="primary",
        key="history_open",
        on_click=_open,
        args=(store, int(row_id)),
        help="Correct it there and save it as a new version; this one stays as it is",
    )
    problem = st.session_state.pop("history_open_problem", None)
    if problem:
        st.error(f"Cannot reopen it: {problem}", icon=":material/error:")
    if st.session_state.pop("history_opened", None) is not None:
        st.switch_page(MEASURE_PAGE)
    row = by_id[row_id]
    factor = convert(1.0, row.unit, unit)
    objects = store.objects(row.id)
    if objects:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "#": o.object_index + 1,
                        f"width ({unit})": f"{o.width * factor:.2f} ± {o.width_u * factor:.2f}",
                        f"height ({unit})": f"{o.height * factor:.2f} ± {o.height_u * factor:.2f}",
                        "moved": o.moved_points,
                    }
                    for o in objects
                ]
            ),
            hide_index=True,
            key="history_objects",
        )


def delete_ui(ids: list[int]) -> None:
    """Delete one measurement, after an explicit confirmation."""
    with st.expander("Delete a measurement"):
        row_id = st.selectbox("Measurement id", ids, key="history_delete_id")
        # one confirmation per measurement: a tick does not carry over to another one
        sure_key = f"history_sure_{row_id}"
        sure = st.checkbox(f"Yes, delete measurement {row_id} for good", key=sure_key)
        if st.button("Delete", disabled=not sure, type="primary", key="history_delete"):
            try:
                deleted = get_store().delete(int(row_id))
            except ObjlenError as error:
                show_error(error, "Could not delete: ")
                return
            if deleted:
                st.session_state.pop(sure_key, None)
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
    table = table_ui(store, rows, unit)
    open_ui(store, rows, unit)
    st.subheader("Widths and heights over time")
    st.altair_chart(trend_chart(table, unit), width="stretch")
    per_measurement, per_object = st.columns(2)
    per_measurement.download_button(
        "Download CSV (one line per measurement)",
        to_csv(rows),
        file_name="objlen-history.csv",
        mime="text/csv",
        key="history_csv",
        help="each measurement's first (largest) object and how many objects it has",
    )
    per_object.download_button(
        "Download CSV (every object)",
        objects_to_csv(store, rows),
        file_name="objlen-history-objects.csv",
        mime="text/csv",
        key="history_objects_csv",
        help="one line per object, each with its measurement's id, photo and note",
    )
    delete_ui([row.id for row in rows])


main()
