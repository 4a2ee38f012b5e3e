"""Dataset: touch up saved masks, export a SageMaker training set, validate it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages.common import ROOT, current_settings, get_store, remember, show_error
from objlen.classes import ClassIds
from objlen.display.canvas import DisplayTransform, css_rgb
from objlen.display.overlay import display_base, display_size
from objlen.errors import ObjlenError
from objlen.imageio import encode_png, sha256_hex
from objlen.sagemaker.dataset import (
    BRUSH_COLOURS,
    apply_strokes,
    export_dataset,
    load_pair,
    training_rows,
    validate_dataset,
)
from objlen.store import Store

#: Session key of the touched-up mask not saved yet: ``{"row": id, "mask": array}``.
PENDING_KEY = "dataset_pending"
#: Session key of the canvas's current widget key (a new key clears the strokes).
CANVAS_KEY = "dataset_canvas_key"
BRUSHES = {"object": "add object", "reference": "add reference", "erase": "erase"}


@st.cache_resource(max_entries=2, show_spinner="Reading the photo…")
def saved_pair(db_path: str, row_id: int, mask_sha: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The photo and saved mask of a row (shared, read only)."""
    store = get_store()
    return load_pair(store, store.get(row_id))


@st.cache_data(max_entries=8, show_spinner=False)
def background_png(
    row_id: int,
    mask_sha: str,
    size: tuple[int, int],
    class_ids: tuple[int, ...],
    _image: np.ndarray,
    _mask: np.ndarray,
    _classes: ClassIds,
) -> bytes:
    """The display-sized photo with the mask tinted, as PNG bytes for the canvas
    (cached by row, mask content, size and class ids)."""
    return encode_png(display_base(_image, _mask, _classes, 0.45, size))


def rows_ui(store: Store) -> list[dict]:
    """The saved measurements and whether each can go into a training set."""
    rows = training_rows(store)
    st.subheader("Saved measurements")
    if not rows:
        st.info("No saved measurements yet. Save some from the Measure page.")
        return rows
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    return rows


def _new_canvas(row_id: int) -> None:
    counter = int(st.session_state.get("dataset_canvas_counter", 0)) + 1
    st.session_state["dataset_canvas_counter"] = counter
    st.session_state[CANVAS_KEY] = f"dataset_canvas_{row_id}_{counter}"


def touch_up_ui(store: Store, rows: list[dict], classes: ClassIds) -> None:
    """Brush the object, the reference or the background into a saved mask."""
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
    row = store.get(row_id)
    image, saved = saved_pair(str(store.path), row_id, row.mask_sha256)
    pending = st.session_state.get(PENDING_KEY)
    mask = pending["mask"] if pending and pending["row"] == row_id else saved
    if not str(st.session_state.get(CANVAS_KEY, "")).startswith(f"dataset_canvas_{row_id}_"):
        _new_canvas(row_id)
    brush_column, size_column = st.columns(2)
    brush = brush_column.radio(
        "Brush",
        list(BRUSHES),
        format_func=BRUSHES.get,
        horizontal=True,
        key=remember("dataset_brush", "object", list(BRUSHES)),
    )
    width = size_column.slider("Brush size", 2, 60, key=remember("dataset_brush_size", 16))
    height_px, width_px = mask.shape
    size = display_size((width_px, height_px))
    mask_sha = sha256_hex(mask.tobytes())
    st.caption(
        "Paint over the photo; strokes of each brush keep their colour, so several brushes "
        "can be used before applying. Apply puts the strokes into the full-resolution mask."
    )
    result = st_canvas(
        background_image=background_png(
            row_id, mask_sha, size, tuple(sorted(classes.known)), image, mask, classes
        ),
        background_image_fit="contain",
        drawing_mode="freedraw",
        stroke_color=css_rgb(BRUSH_COLOURS[brush], 0.6),
        stroke_width=int(width),
        width=size[0],
        height=size[1],
        return_image_data=True,
        update_streamlit=True,
        key=st.session_state[CANVAS_KEY],
    )
    apply_column, save_column, discard_column = st.columns(3)
    changed = pending is not None and pending["row"] == row_id
    if apply_column.button("Apply the strokes", key="dataset_apply"):
        strokes = result.image_data
        if strokes is None or not strokes[..., 3].any():
            st.warning("Draw on the photo first.")
        else:
            transform = DisplayTransform.for_canvas((width_px, height_px), size)
            new, count = apply_strokes(mask, strokes, transform, classes, canvas_size=size)
            st.session_state[PENDING_KEY] = {"row": row_id, "mask": new}
            st.session_state["dataset_changed_px"] = count
            _new_canvas(row_id)
            st.rerun()
    if changed:
        st.info(f"{st.session_state.get('dataset_changed_px', 0):,} pixels changed, not saved yet.")
    if save_column.button(
        "Save the mask", disabled=not changed, type="primary", key="dataset_save"
    ):
        store.replace_mask(row_id, encode_png(mask))
        st.session_state.pop(PENDING_KEY, None)
        st.toast(f"Saved the mask of measurement {row_id}")
        st.rerun()
    if discard_column.button("Discard changes", disabled=not changed, key="dataset_discard"):
        st.session_state.pop(PENDING_KEY, None)
        _new_canvas(row_id)
        st.rerun()


def export_ui(store: Store, classes: ClassIds) -> None:
    """Write the training set."""
    st.subheader("Export a training set")
    folder = st.text_input(
        "Dataset folder",
        key=remember("dataset_out", "data/dataset"),
        help="relative to the project folder; an earlier export there is replaced",
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
            ROOT / folder,
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
        key=remember("dataset_check", "data/dataset"),
        help="relative to the project folder",
    )
    if st.button("Validate", key="dataset_validate"):
        problems = validate_dataset(ROOT / folder)
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
