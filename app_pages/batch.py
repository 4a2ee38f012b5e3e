"""Batch: measure many photos with the same options; download the results."""

from __future__ import annotations

from dataclasses import replace as _replace
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages.common import (
    PHOTO_TYPES,
    current_settings,
    data_path,
    data_root_dir,
    remember,
    show_error,
)
from app_pages.measure_ui.options import OptionsChoice, options_ui
from objlen.batch.inputs import BatchInput, inputs_from_uploads
from objlen.batch.results import (
    RESULTS_CSV,
    RESULTS_JSONL,
    load_results,
    object_rows,
    write_annotated_zip,
)
from objlen.batch.runner import BatchProgress, run_batch
from objlen.errors import ObjlenError, without_name
from objlen.settings import AppSettings

#: Session key of the folder of the last run, whose results are shown.
RESULTS_KEY = "batch_results_dir"
#: What the uploader takes: the photo types, and zip files of photos.
UPLOAD_TYPES = [*PHOTO_TYPES, "zip"]


def inputs_ui() -> list[str | BatchInput]:
    """Where the photos come from; returns the batch inputs (maybe none)."""
    source = st.radio(
        "Photos from",
        ["upload", "location"],
        format_func={"upload": "upload photos or zip files", "location": "a folder or S3"}.get,
        horizontal=True,
        key=remember("batch_source", "upload", ["upload", "location"]),
    )
    if source == "upload":
        files = st.file_uploader(
            "Photos, or zip files of photos",
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            key="batch_uploads",
        )
        return list(inputs_from_uploads((f.name, f.getvalue()) for f in files or []))
    text = st.text_area(
        "Folders, zip files or s3://bucket/prefix, one per line",
        key=remember("batch_locations", ""),
        help=f"inside the data root {data_root_dir()} (relative paths start there); folders "
        "are searched recursively",
    )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [
        line if line.startswith("s3://") else str(data_path(line, "the batch input"))
        for line in lines
    ]


def segmenter_factory(settings: AppSettings, choice: OptionsChoice):
    """A factory of segmenters that look for the reference the operator named."""
    from objlen.segment import make_segmenter

    sagemaker = settings.sagemaker_settings()
    spec = None if choice.options is None else choice.options.reference

    def make():
        return make_segmenter(
            settings.segmenter,
            classes=settings.classes,
            sagemaker=sagemaker,
            reference_rule=choice.rule,
            reference=spec,
        )

    return make


def run_ui(inputs: list[str | BatchInput], choice: OptionsChoice, settings: AppSettings) -> None:
    """The results folder, the concurrency, and the Run button with its progress bar."""
    folder_column, concurrency_column = st.columns([3, 1])
    folder = folder_column.text_input(
        "Results folder",
        key=remember("batch_out", "batch"),
        help=f"inside the data root {data_root_dir()} (relative paths start there); running "
        "again into it skips finished photos",
    )
    out = data_path(folder, "the results folder")  # only under the data root
    concurrency = concurrency_column.number_input(
        "Photos at once", min_value=1, max_value=32, key=remember("batch_concurrency", 8)
    )
    ready = bool(inputs) and choice.options is not None
    if not st.button("Run the batch", type="primary", disabled=not ready, key="batch_run"):
        if choice.options is None:
            st.info(f"To run the batch, {choice.problem or 'say what the reference is'}.")
        if not inputs:
            st.info("Choose the photos first.")
        return
    options = choice.options
    orientation_mode = "detect" if choice.orientation_mode == "detect" else "fixed"
    if orientation_mode == "fixed":
        options = _replace(options, orientation=choice.orientation_mode)
    bar = st.progress(0.0, text="Listing the photos…")

    def show(state: BatchProgress) -> None:
        bar.progress(
            state.fraction,
            text=f"{state.done} of {state.total} · {state.ok} ok · {state.failed} failed · "
            f"{state.resumed} already done",
        )

    factory = segmenter_factory(settings, choice)
    with st.spinner("Measuring…"):
        report = run_batch(
            inputs,
            out,
            options=options,
            segmenter_factory=factory,
            orientation_mode=orientation_mode,
            concurrency=int(concurrency),
            progress=show,
            s3_endpoint_url=settings.s3_endpoint_url or None,
            within=data_root_dir(),
        )
    st.session_state[RESULTS_KEY] = str(out)
    st.success(
        f"{report.ok} of {report.total} photos measured, {report.failed} failed, "
        f"{report.resumed} already done, in {report.elapsed_s:.1f} s"
    )


def result_rows(records: list[dict]) -> list[dict]:
    """One row per measured object (and per failed photo), numbers rounded with units."""
    rows = []
    for record in records:
        unit = record.get("unit") or ""
        warnings = "; ".join(record.get("warnings") or [])
        for row in object_rows(record):
            measured = row.get("width") is not None and record["status"] == "ok"
            width = f"{row['width']:.2f} ± {row['width_u']:.2f} {unit}" if measured else ""
            height = f"{row['height']:.2f} ± {row['height_u']:.2f} {unit}" if measured else ""
            rows.append(
                {
                    "photo": record["name"],
                    "#": row.get("object"),
                    "width": width,
                    "height": height,
                    "status": record["status"],
                    "warnings": warnings,
                    "message": record.get("message") or record.get("left_out") or "",
                }
            )
    return rows


def results_ui(out: Path) -> None:
    """The results table (one row per object), the failures, and the downloads."""
    records = load_results(out)
    if not records:
        return
    st.subheader("Results")
    st.dataframe(
        pd.DataFrame(result_rows(records)),
        hide_index=True,
        width="stretch",
        key="batch_table",
        column_config={
            "#": st.column_config.NumberColumn(width=40, help="object, largest first"),
            "width": st.column_config.TextColumn("width AB", width=140, help="95 % interval"),
            "height": st.column_config.TextColumn("height AE − N", width=140, help="95 % interval"),
            "warnings": st.column_config.TextColumn(width="large"),
        },
    )
    failures = [r for r in records if r["status"] != "ok"]
    if failures:
        with st.expander(f"{len(failures)} photo(s) failed", expanded=True):
            for record in failures:
                name = record["name"]
                st.error(f"**{name}**: {without_name(name, record.get('message', ''))}")
    csv_column, jsonl_column, zip_column = st.columns(3)
    csv_column.download_button(
        "Download CSV",
        (out / RESULTS_CSV).read_bytes(),
        file_name="objlen-batch.csv",
        mime="text/csv",
        key="batch_csv",
    )
    jsonl_column.download_button(
        "Download JSONL",
        (out / RESULTS_JSONL).read_bytes(),
        file_name="objlen-batch.jsonl",
        mime="application/jsonl",
        key="batch_jsonl",
    )
    zip_column.download_button(
        "Download annotated photos (zip)",
        lambda: write_annotated_zip(out).read_bytes(),
        file_name="objlen-batch-annotated.zip",
        mime="application/zip",
        key="batch_zip",
    )


def main() -> None:
    st.title("Batch")
    settings = current_settings()
    st.caption(
        f"Every photo is segmented with the **{settings.segmenter}** segmenter and measured "
        "with the same options; a photo that fails is listed and the others go on."
    )
    try:
        inputs = inputs_ui()
    except ObjlenError as error:
        show_error(error)
        inputs = []
    if settings.s3_endpoint_url:
        st.caption(
            f"`s3://` inputs are read from {settings.redacted()['S3 endpoint URL']} "
            "(set by the operator: OBJLEN_S3_ENDPOINT_URL)."
        )
    st.subheader("Reference and method")
    choice = options_ui("batch", settings)
    try:
        run_ui(inputs, choice, settings)
    except ObjlenError as error:
        show_error(error)
    shown = st.session_state.get(RESULTS_KEY)
    if shown:
        results_ui(Path(shown))


main()
