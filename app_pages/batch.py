"""Batch: measure many photos with the same options; download the results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages.common import (
    PHOTO_TYPES,
    ROOT,
    current_settings,
    measure_options_ui,
    remember,
    show_error,
)
from objlen.batch.inputs import BatchInput, inputs_from_uploads
from objlen.batch.photo import segmenter_factory_for
from objlen.batch.results import RESULTS_CSV, RESULTS_JSONL, load_results, write_annotated_zip
from objlen.batch.runner import BatchProgress, run_batch
from objlen.errors import ObjlenError
from objlen.options import MeasureOptions
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
        help="folders are searched recursively; relative paths start at the project folder",
    )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [line if line.startswith("s3://") else str(ROOT / line) for line in lines]


def run_ui(inputs: list[str | BatchInput], options: MeasureOptions, settings: AppSettings) -> None:
    """The results folder, the concurrency, and the Run button with its progress bar."""
    folder_column, concurrency_column = st.columns([3, 1])
    folder = folder_column.text_input(
        "Results folder",
        key=remember("batch_out", "data/batch"),
        help="relative to the project folder; running again into it skips finished photos",
    )
    concurrency = concurrency_column.number_input(
        "Photos at once", min_value=1, max_value=32, key=remember("batch_concurrency", 8)
    )
    if not st.button("Run the batch", type="primary", disabled=not inputs, key="batch_run"):
        if not inputs:
            st.info("Choose the photos first.")
        return
    out = ROOT / folder
    bar = st.progress(0.0, text="Listing the photos…")

    def show(state: BatchProgress) -> None:
        bar.progress(
            state.fraction,
            text=f"{state.done} of {state.total} · {state.ok} ok · {state.failed} failed · "
            f"{state.resumed} already done",
        )

    factory = segmenter_factory_for(
        settings.segmenter,
        classes=settings.classes,
        sagemaker=settings.sagemaker_settings(),
        reference_rule=settings.reference_rule,
    )
    with st.spinner("Measuring…"):
        report = run_batch(
            inputs,
            out,
            options=options,
            segmenter_factory=factory,
            concurrency=int(concurrency),
            progress=show,
            s3_endpoint_url=st.session_state.get("batch_s3_endpoint") or None,
        )
    st.session_state[RESULTS_KEY] = str(out)
    st.success(
        f"{report.ok} of {report.total} photos measured, {report.failed} failed, "
        f"{report.resumed} already done, in {report.elapsed_s:.1f} s"
    )


def results_ui(out: Path) -> None:
    """The results table, the failures, and the downloads."""
    records = load_results(out)
    if not records:
        return
    st.subheader("Results")
    table = pd.DataFrame(
        [
            {
                "photo": r["name"],
                "status": r["status"],
                "width": r.get("width"),
                "± width": r.get("width_u"),
                "height": r.get("height"),
                "± height": r.get("height_u"),
                "unit": r.get("unit"),
                "message": r.get("message", ""),
            }
            for r in records
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch", key="batch_table")
    failures = [r for r in records if r["status"] != "ok"]
    if failures:
        with st.expander(f"{len(failures)} photo(s) failed", expanded=True):
            for record in failures:
                st.error(f"**{record['name']}**: {record.get('message', '')}")
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
    inputs = inputs_ui()
    with st.expander("S3 endpoint (optional)"):
        st.text_input("S3 endpoint URL instead of AWS's", key="batch_s3_endpoint")
    st.subheader("Reference and method")
    try:
        options = measure_options_ui("batch", settings)
        run_ui(inputs, options, settings)
    except ObjlenError as error:
        show_error(error)
    shown = st.session_state.get(RESULTS_KEY)
    if shown:
        results_ui(Path(shown))


main()
