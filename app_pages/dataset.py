"""Dataset: touch up saved masks (the Measure page's brush), export a SageMaker
training set, validate it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.common import (
    current_settings,
    data_path,
    data_root_dir,
    get_store,
    remember,
    show_error,
)
from app_pages.measure_ui.editor import apply_pending, editor_ui
from objlen.classes import ClassIds
from objlen.errors import ObjlenError
from objlen.imageio import encode_png
from objlen.sagemaker.dataset import (
    export_dataset,
    load_pair,
    training_rows,
    validate_dataset,
)
from objlen.store import Store
from objlen.workbench import Photo, Segmented, Workbench

#: Session key of the workbench of the mask being touched up (its strokes not saved yet).
BENCH_KEY = "dataset_workbench"
#: Session key of the photo editor on this page.
EDITOR_KEY = "dataset_editor"
BRUSHES = {"object": "add object", "reference": "add reference", "erase": "erase"}


@st.cache_resource(max_entries=2, show_spinner="Reading the photo…")
def saved_pair(db_path: str, row_id: int, mask_sha: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The photo and saved mask of a row (shared, read only)."""
    store = get_store()
    return load_pair(store, store.get(row_id))


def rows_ui(store: Store) -> list[dict]:
    """The saved measurements and whether each can go into a training set."""
    rows = training_rows(store)
    st.subheader("Saved measurements")
    if not rows:
        st.info("No saved measurements yet. Save some from the Measure page.")
        return rows
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    return rows


def _bench(store: Store, row_id: int, classes: ClassIds) -> Workbench:
    """The workbench of a saved mask: its photo and mask, the strokes not saved yet."""
    bench = st.session_state.get(BENCH_KEY)
    row = store.get(row_id)
    key = f"row:{row_id}:{row.mask_sha256}"
    if not isinstance(bench, Workbench) or bench.segmentation_key != key:
        image, mask = saved_pair(str(store.path), row_id, row.mask_sha256)
        bench = Workbench()
        bench.set_photo(Photo(row.image_name, b"", row.image_sha256, source="history"), image)
        bench.options = replace(bench.options, classes=classes)
        bench.set_segmentation(Segmented(mask, backend="history"), key=key)
        bench.parent_id = row_id
        st.session_state[BENCH_KEY] = bench
    return bench


def touch_up_ui(store: Store, rows: list[dict], classes: ClassIds) -> None:
    """Paint the object, the reference or the background into a saved mask with
    the Measure page's brush; each stroke goes into the full-resolution mask."""
    usable = [row for row in rows if row["usable"]]
    st.subheader("Touch up a mask")
    if not usable:
        st.info("No saved measurement has both its photo and its mask.")
        return
    names = {row["id"]: f"{row['id']} · {row['image']}" for row in usable}
    row_id = st.selectbox(
        "Measurement",
        list(names),
        format_func=names.get,
        key=remember("dataset_row", usable[0]["id"], list(names)),
    )
    bench = _bench(store, int(row_id), classes)
    apply_pending(bench, None, key=EDITOR_KEY)
    brush_column, size_column = st.columns(2)
    brush = brush_column.radio(
        "Brush",
        list(BRUSHES),
        format_func=BRUSHES.get,
        horizontal=True,
        key=remember("dataset_brush", "object", list(BRUSHES)),
    )
    largest = max(8, round(max(bench.image.shape[:2]) / 25))
    radius = size_column.slider(
        "Brush radius (photo px)", 1, largest, key=remember("dataset_brush_size", 8)
    )
    st.caption(
        "Paint over the photo: each stroke goes into the full-resolution mask at once. "
        "The wheel zooms; Undo takes back the last stroke."
    )
    editor_ui(bench, None, ("brush", "reference", brush, float(radius)), 0.45, key=EDITOR_KEY)
    undo_column, save_column, discard_column = st.columns(3)
    changed = bool(bench.edits)
    if changed:
        st.info(f"{len(bench.edits)} stroke(s), not saved yet: {bench.edits[-1].message}.")
    undo_column.button(
        "Undo the last stroke", key="dataset_undo", on_click=bench.undo, disabled=not changed
    )
    if save_column.button(
        "Save the mask", disabled=not changed, type="primary", key="dataset_save"
    ):
        store.replace_mask(int(row_id), encode_png(bench.mask))
        st.session_state.pop(BENCH_KEY, None)
        st.toast(f"Saved the mask of measurement {row_id}")
        st.rerun()
    if discard_column.button("Discard changes", disabled=not changed, key="dataset_discard"):
        bench.reset_edits()
        st.rerun()


def export_ui(store: Store, classes: ClassIds) -> None:
    """Write the training set."""
    st.subheader("Export a training set")
    folder = st.text_input(
        "Dataset folder",
        key=remember("dataset_out", "dataset"),
        help=f"inside the data root {data_root_dir()} (relative paths start there); an "
        "earlier export there is replaced",
    )
    fraction_column, seed_column = st.columns(2)
    fraction = fraction_column.slider(
        "Share for validation",
        0.05,
        0.5,
        step=0.05,
        key=remember("dataset_validation", 0.2),
    )
    seed = seed_column.number_input(
        "Seed of the split", min_value=0, step=1, key=remember("dataset_seed", 0)
    )
    if st.button("Export", type="primary", key="dataset_export"):
        report = export_dataset(
            store,
            data_path(folder, "the dataset folder"),
            validation_fraction=float(fraction),
            seed=int(seed),
            classes=classes,
        )
        st.success(
            f"{len(report.train)} training and {len(report.validation)} validation pairs in "
            f"{report.out_dir} · num_classes {report.num_classes}"
        )
        for row_id, reason in report.skipped:
            st.warning(f"Measurement {row_id} was left out: {reason}")


def validate_ui() -> None:
    """Check a folder against the algorithm's layout; list the problems."""
    st.subheader("Validate a dataset folder")
    folder = st.text_input(
        "Folder to check",
        key=remember("dataset_check", "dataset"),
        help=f"inside the data root {data_root_dir()} (relative paths start there)",
    )
    if st.button("Validate", key="dataset_validate"):
        problems = validate_dataset(data_path(folder, "the folder to check"))
        if not problems:
            st.success(f"{Path(folder)}: no problems, ready for training.")
            return
        st.error(f"{len(problems)} problem(s) in {folder}")
        st.dataframe(
            pd.DataFrame(
                [{"file": p.file, "problem": p.kind, "what": p.message} for p in problems]
            ),
            hide_index=True,
            width="stretch",
            key="dataset_problems",
        )


def main() -> None:
    st.title("Dataset")
    st.caption(
        "Corrected masks as training data for SageMaker's built-in semantic segmentation: "
        "train/ and validation/ JPGs, *_annotation/ PNGs of the same base name, a label map."
    )
    settings = current_settings()
    try:
        store = get_store()
        rows = rows_ui(store)
        touch_up_ui(store, rows, settings.classes)
        export_ui(store, settings.classes)
    except ObjlenError as error:
        show_error(error)
    try:
        validate_ui()
    except ObjlenError as error:
        show_error(error)


main()
