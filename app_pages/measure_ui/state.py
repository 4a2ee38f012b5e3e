"""The operator's workbench in the session, and reopening a saved measurement
into it (the History page's "Open on the Measure page")."""

from __future__ import annotations

import streamlit as st

from app_pages.measure_ui.options import set_preset
from objlen.errors import ObjlenError
from objlen.imageio import load_image, load_mask
from objlen.presets import PRESETS
from objlen.store import Store, StoreError
from objlen.workbench import Photo, Workbench

#: Session key of the Measure page's :class:`~objlen.workbench.Workbench`.
BENCH_KEY = "measure_workbench"
#: The options widgets' key prefix on the Measure page.
PREFIX = "measure"


def workbench() -> Workbench:
    """The session's workbench (made on first use)."""
    bench = st.session_state.get(BENCH_KEY)
    if not isinstance(bench, Workbench):
        bench = Workbench()
        st.session_state[BENCH_KEY] = bench
    return bench


def reopen(store: Store, row_id: int) -> Workbench:
    """Load saved measurement ``row_id`` into the session's workbench, and set
    the Measure page's options to the ones it was made with.

    Raises:
        ObjlenError: the row, its photo or its mask is gone or unreadable.
    """
    row = store.get(row_id)
    if row is None:
        raise StoreError(f"measurement {row_id} is no longer in the history")
    image_path, mask_path = store.image_path(row), store.mask_path(row)
    if image_path is None or mask_path is None:
        raise StoreError(
            f"measurement {row_id} was saved without its photo or mask, so it cannot be reopened"
        )
    try:
        data = image_path.read_bytes()
    except OSError as error:
        raise StoreError(f"the photo of measurement {row_id} cannot be read: {error}") from error
    image = load_image(data, name=row.image_name)
    mask, _ = load_mask(mask_path, (image.shape[1], image.shape[0]), name="the saved mask")
    bench = workbench()
    photo = Photo(row.image_name, data, row.image_sha256, source="history")
    bench.restore(photo, image, mask, row.result, row.settings, row.choices, parent_id=row.id)
    _options_widgets(bench)
    return bench


def _options_widgets(bench: Workbench) -> None:
    """Show the reopened measurement's options in the Measure page's widgets."""
    options, unit = bench.options, bench.options.unit
    spec = options.reference
    preset = bench.preset if bench.preset in PRESETS else None
    fields: dict[str, str] = {
        "method": options.method,
        "orientation": bench.orientation_mode,
        "offset": f"{options.offset:g} {unit}",
    }
    if preset is None or not PRESETS[preset].fixed:
        if spec.aruco_dictionary is not None:
            preset = "aruco"
            fields |= {
                "aruco_dictionary": spec.aruco_dictionary,
                "marker_size": f"{spec.marker_size:g} {unit}",
            }
        elif spec.size is not None:
            preset = "custom"
            fields |= {
                "reference_kind": "size",
                "reference_size": f"{spec.size[0]:g} x {spec.size[1]:g} {unit}",
            }
        elif spec.length is not None:
            preset = "custom"
            fields |= {"reference_kind": "length", "reference_length": f"{spec.length:g} {unit}"}
    set_preset(PREFIX, preset, **fields)


def leave_history(bench: Workbench) -> None:
    """Forget the reopened measurement (the operator chose another photo)."""
    bench.photo = None
    bench.parent_id = None


__all__ = ["BENCH_KEY", "PREFIX", "ObjlenError", "leave_history", "reopen", "workbench"]
