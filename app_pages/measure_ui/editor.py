"""The photo editor on the Measure page: its mode toolbar (move points, click
regions, box an object, brush), the pictures it is given, its data, and the
events it sends, applied to the workbench before anything is drawn."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import streamlit as st

from app_pages.photo_editor import MODES, media_url, pending_event, photo_editor
from objlen.classes import ClassIds
from objlen.display.overlay import CLASS_COLOURS, display_jpeg, mask_layer_png
from objlen.display.points import css_rgb
from objlen.errors import ObjlenError
from objlen.result import Measurement
from objlen.workbench import Workbench, editor_objects

#: Session keys.
EDITOR_KEY = "measure_editor"
MODE_KEY = "measure_mode"
ROLE_KEY = "measure_role"
BRUSH_KEY = "measure_brush"
BRUSH_SIZE_KEY = "measure_brush_size"
EVENTS = "_events"  # suffix: how many editor events were handled (resyncs the editor)
PROBLEM = "_problem"  # suffix: what went wrong with the last event
#: Longest side of the photo the editor shows at first (the full photo comes for zoom).
DISPLAY_SIDE_PX = 1600
ROLES = {"reference": "Reference", "object": "Measure", "excluded": "Leave out"}
ROLE_HINTS = {
    "reference": "make it the reference (the old one becomes an object)",
    "object": "measure it as an object",
    "excluded": "leave it out (it turns grey)",
}
BRUSHES = {"object": "Object", "reference": "Reference", "erase": "Erase"}
BRUSH_RGBA = {
    "object": css_rgb(CLASS_COLOURS["object"], 0.55),
    "reference": css_rgb(CLASS_COLOURS["reference"], 0.55),
    "erase": "rgba(0, 0, 0, 0.55)",
}
HINTS = {
    "points": "Drag A, B or E (click an object first to choose it). Arrow keys nudge the "
    "active point by 1 photo px (Shift: 10); the wheel zooms.",
    "choose": "Click a region to {role}.",
    "box": "Drag a box around one object: it is segmented alone and cut out of what it touches.",
    "brush": "Paint over the photo; the numbers follow when you let go.",
}


@st.cache_data(max_entries=6, show_spinner=False)
def photo_layers(photo_sha: str, _image: np.ndarray) -> tuple[bytes, tuple[int, int], bytes | None]:
    """``(display JPEG, its size, full-size JPEG or None)`` of the photo."""
    height, width = _image.shape[:2]
    display = display_jpeg(_image, DISPLAY_SIDE_PX, quality=88)
    scale = min(1.0, DISPLAY_SIDE_PX / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    full = display_jpeg(_image, None, quality=92) if scale < 1.0 else None
    return display, size, full


@st.cache_data(max_entries=16, show_spinner=False)
def mask_layer(
    mask_sha: str, opacity: float, class_ids: tuple[int, ...], _mask: np.ndarray, _classes: ClassIds
) -> bytes:
    """The mask's transparent layer (PNG), its outline about one screen pixel wide."""
    outline = max(1, round(max(_mask.shape) / 1200))
    return mask_layer_png(_mask, _classes, opacity, outline)


def apply_pending(bench: Workbench, box_segmenter: Any, key: str = EDITOR_KEY) -> None:
    """Apply the editor's event of this run (if any) to the workbench; a
    problem is kept to be shown above the editor (:func:`editor_ui`)."""
    event = pending_event(key)
    if event is None:
        return
    try:
        if event.get("type") == "box":
            with st.spinner("Segmenting the object in the box…"):
                changed = bench.apply_event(event, segmenter_factory=box_segmenter)
        else:
            changed = bench.apply_event(event, segmenter_factory=box_segmenter)
    except ObjlenError as error:
        st.session_state[key + PROBLEM] = str(error)
        changed = True
    else:
        if changed:
            st.session_state.pop(key + PROBLEM, None)
    if changed:
        st.session_state[key + EVENTS] = st.session_state.get(key + EVENTS, 0) + 1


def toolbar_ui(bench: Workbench) -> tuple[str, str, str, float]:
    """The editor's mode and its one setting, Undo and Reset points; returns
    ``(mode, role, brush, brush radius in photo px)``."""
    st.session_state.setdefault(MODE_KEY, "points")
    mode_column, setting_column, undo_column, reset_column = st.columns(
        [5.2, 3.2, 1.0, 1.5], vertical_alignment="bottom"
    )
    mode = (
        mode_column.segmented_control(
            "Tool", list(MODES), format_func=MODES.get, key=MODE_KEY, label_visibility="collapsed"
        )
        or "points"
    )
    role = st.session_state.setdefault(ROLE_KEY, "reference")
    brush = st.session_state.setdefault(BRUSH_KEY, "object")
    image = bench.image
    largest = 60 if image is None else max(8, round(max(image.shape[:2]) / 25))
    st.session_state.setdefault(BRUSH_SIZE_KEY, max(2, largest // 6))
    if st.session_state[BRUSH_SIZE_KEY] > largest:
        st.session_state[BRUSH_SIZE_KEY] = largest
    if mode == "choose":
        role = (
            setting_column.segmented_control(
                "A click will",
                list(ROLES),
                format_func=ROLES.get,
                key=ROLE_KEY,
                label_visibility="collapsed",
            )
            or "reference"
        )
    elif mode == "brush":
        label = f"{BRUSHES[brush]} · {st.session_state[BRUSH_SIZE_KEY]} px"
        with setting_column.popover(label, icon=":material/brush:", width="stretch"):
            brush = (
                st.segmented_control("Paint", list(BRUSHES), format_func=BRUSHES.get, key=BRUSH_KEY)
                or "object"
            )
            st.slider("Brush radius (photo px)", 1, largest, key=BRUSH_SIZE_KEY)
    undo_column.button(
        "Undo",
        key="measure_undo",
        on_click=bench.undo,
        disabled=not bench.edits,
        help="Take back the last correction of the mask (box, brush, click)",
    )
    reset_column.button(
        "Reset points",
        key="measure_reset",
        on_click=bench.reset_points,
        disabled=not bench.moved,
        help="Put every point back where the mask puts it",
    )
    return mode, role, brush, float(st.session_state[BRUSH_SIZE_KEY])


def _reference_data(current: Measurement | None) -> dict[str, Any] | None:
    if current is None:
        return None
    reference = current.reference

    def xy(point: Any) -> list[float] | None:
        return None if point is None else [float(point[0]), float(point[1])]

    return {
        "C": xy(reference.C),
        "D": xy(reference.D),
        "corners": None if reference.corners is None else [xy(c) for c in reference.corners],
        "movable": reference.kind == "mask",
    }


def payload(
    bench: Workbench,
    current: Measurement | None,
    mode: str,
    role: str,
    brush: str,
    radius: float,
    opacity: float,
    key: str = EDITOR_KEY,
) -> dict[str, Any]:
    """The editor's data: pictures (URLs), points, mode, and a version that
    changes whenever what Python says should be shown does."""
    photo, image, mask = bench.photo, bench.image, bench.mask
    assert photo is not None and image is not None and mask is not None
    display, size, full = photo_layers(photo.sha256, image)
    classes = bench.classes
    layer = mask_layer(bench.mask_sha256, opacity, tuple(sorted(classes.known)), mask, classes)
    objects = [] if current is None else editor_objects(current)
    reference = _reference_data(current)
    selected = 0 if current is None else bench.selected_index
    shown = json.dumps([objects, reference, selected], sort_keys=True)
    version = hashlib.sha256(
        f"{shown}|{bench.mask_sha256}|{st.session_state.get(key + EVENTS, 0)}".encode()
    ).hexdigest()[:16]
    return {
        "version": version,
        "photo_id": photo.sha256,
        "image": [int(image.shape[1]), int(image.shape[0])],
        "layers": {
            "photo": media_url(display, "image/jpeg", f"{key}.photo"),
            "photo_size": list(size),
            "full": None if full is None else media_url(full, "image/jpeg", f"{key}.full"),
            "mask": media_url(layer, "image/png", f"{key}.mask"),
        },
        "mode": mode,
        "role": role,
        "brush": {"name": brush, "radius": radius, "colour": BRUSH_RGBA[brush]},
        "objects": objects,
        "selected": selected,
        "reference": reference,
        "hint": HINTS[mode].format(role=ROLE_HINTS.get(role, role)),
        "min_height": 280,
        "bottom_margin": 16,
    }


def editor_ui(
    bench: Workbench,
    current: Measurement | None,
    tools: tuple[str, str, str, float],
    opacity: float,
    key: str = EDITOR_KEY,
) -> None:
    """The photo editor itself, and the problem with the last thing the operator did."""
    mode, role, brush, radius = tools
    problem = st.session_state.get(key + PROBLEM)
    if problem:
        st.warning(problem, icon=":material/warning:")
    photo_editor(payload(bench, current, mode, role, brush, radius, opacity, key), key=key)


__all__ = [
    "EDITOR_KEY",
    "MODE_KEY",
    "apply_pending",
    "editor_ui",
    "mask_layer",
    "payload",
    "photo_layers",
    "toolbar_ui",
]
