"""Saving the measurement to the history (a new one, or the next version of
the one reopened), and downloading its JSON and annotated picture."""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from app_pages.common import get_store, show_error
from objlen.display.overlay import annotated_png, thumbnail_png
from objlen.errors import ObjlenError
from objlen.imageio import encode_png
from objlen.settings import AppSettings
from objlen.workbench import Workbench

SAVED_KEY = "measure_saved"


def save(bench: Workbench, settings: AppSettings, note: str) -> int:
    """Save what the workbench shows; return the new row's id.

    Raises:
        ObjlenError: it cannot be measured or saved.
    """
    current = bench.current()
    photo, image, mask = bench.photo, bench.image, bench.mask
    assert photo is not None and image is not None and mask is not None
    return get_store().save(
        current,
        image_name=photo.name,
        image_bytes=photo.data,
        image_sha256=photo.sha256,
        mask_png=encode_png(mask),
        thumbnail_png=thumbnail_png(image, mask, current, bench.classes),
        settings=bench.settings_record(settings.to_dict()),
        note=note,
        parent_id=bench.parent_id,
        choices=bench.choices(),
    )


def _signature(bench: Workbench, note: str) -> str:
    """What a save would keep (the photo, the mask, every number, the note, the
    version it follows), as a hash: a save of the same again is refused."""
    photo = bench.photo
    parts = [
        "" if photo is None else photo.sha256,
        bench.mask_sha256,
        bench.current().to_json(),
        note,
        str(bench.parent_id),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _save_clicked(bench: Workbench, settings: AppSettings) -> None:
    """Save (once for what the page shows) and keep what to tell the operator
    under :data:`SAVED_KEY`."""
    note = str(st.session_state.get("measure_note", ""))
    signature = _signature(bench, note)
    last = st.session_state.get(SAVED_KEY)
    if isinstance(last, dict) and last.get("signature") == signature and not last.get("problem"):
        return  # the same again: a second click sent before the button was disabled
    parent = bench.parent_id
    try:
        row = save(bench, settings, note)
    except ObjlenError as error:
        st.session_state[SAVED_KEY] = {"problem": str(error), "signature": signature}
        return
    kept = "" if parent is None else f" (#{parent} is kept as it was)"
    bench.parent_id = row if parent is not None else None
    st.session_state[SAVED_KEY] = {
        "row": row,
        "signature": _signature(bench, note),
        "message": f"Saved as measurement #{row}{kept}. See it on the History page.",
    }


def save_ui(bench: Workbench, settings: AppSettings, opacity: float) -> None:
    """Note, Save, Download JSON, Download annotated PNG (made when clicked)."""
    photo = bench.photo
    assert photo is not None
    stem = Path(photo.name).stem
    note_column, save_column, json_column, png_column = st.columns(
        [3, 2, 1.6, 2.2], vertical_alignment="bottom"
    )
    note = note_column.text_input("Note (saved with it)", key="measure_note")
    label = "Save to history"
    if bench.parent_id is not None:
        label = f"Save as new version of #{bench.parent_id}"
    last = st.session_state.get(SAVED_KEY)
    now = isinstance(last, dict) and last.get("signature") == _signature(bench, note)
    saved = now and not last.get("problem")
    save_column.button(
        label,
        type="primary",
        key="measure_save",
        on_click=_save_clicked,
        args=(bench, settings),
        disabled=saved,
        help="Saved: change a point, the mask or the note to save again" if saved else None,
    )
    if now and last.get("problem"):
        show_error(ObjlenError(last["problem"]), "Not saved: ")
    elif saved:
        st.success(last["message"])

    def as_json() -> str:
        return bench.current().to_json()

    def as_png() -> bytes:
        return annotated_png(bench.image, bench.mask, bench.current(), bench.classes, opacity)

    json_column.download_button(
        "JSON",
        as_json,
        file_name=f"{stem}.objlen.json",
        mime="application/json",
        key="measure_download_json",
        on_click="ignore",
        help="Download the measurement (schema objlen.measurement/1)",
    )
    png_column.download_button(
        "Annotated PNG",
        as_png,
        file_name=f"{stem}.objlen.png",
        mime="image/png",
        key="measure_download_png",
        on_click="ignore",
        help="Download the photo with every object's numbers",
    )


__all__ = ["SAVED_KEY", "save", "save_ui"]
