"""The photo editor: a custom component (Streamlit's ``st.components.v2``)
that shows the photo, its mask and every object's points, and reports what
the operator does as events in image pixels.

Why not streamlit-drawable-canvas: it cannot zoom or nudge a point with the
keyboard, its eight generic toolbar buttons show only on hover, a drag with
its Edit toggle off is wasted, and each drag costs its fixed 200 ms delay. This
component is plain JavaScript on an HTML canvas (no build step):

* ``points`` mode: drag A, B, E of the selected object (or C, D); click an
  object to select it; arrow keys nudge the active point by one photo pixel
  (Shift: ten); letters A B E C D pick the point; a loupe shows the photo's
  own pixels around it at 8x; the mouse wheel (or + - 0) zooms;
* ``choose`` mode: a click on a region makes it the reference, measures it,
  or leaves it out (``data["role"]``);
* ``box`` mode: a drag draws a box around one object;
* ``brush`` mode: a drag paints (object, reference, or erase).

Each action is one trigger value, ``event`` (see :mod:`objlen.workbench`
for its fields); it carries a ``seq`` so that it is applied once. The photo
and mask reach the browser as media files (URLs, like ``st.image``), never
inside the data, so a rerun sends only the points.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

_HERE = Path(__file__).resolve().parent
#: The component's name in Streamlit's registry.
NAME = "objlen_photo_editor"
_EDITOR = st.components.v2.component(
    NAME,
    html=None,
    css=(_HERE / "photo_editor.css").read_text(encoding="utf-8"),
    js=(_HERE / "photo_editor.js").read_text(encoding="utf-8"),
    isolate_styles=True,
)
#: Modes of the editor and what the operator reads for each.
MODES = {
    "points": ":material/open_with: Points",
    "choose": ":material/ads_click: Regions",
    "box": ":material/crop_free: Box",
    "brush": ":material/brush: Brush",
}


def media_url(data: bytes, mimetype: str, coordinates: str) -> str:
    """Serve ``data`` as a Streamlit media file (as ``st.image`` does) and
    return its URL; the same bytes give the same URL, so the browser caches it.

    ``coordinates`` names the file's place in the app (one file per place).
    """
    from streamlit import runtime

    url = runtime.get_instance().media_file_mgr.add(data, mimetype, coordinates)
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}{url}" if base and url.startswith("/") else url


def pending_event(key: str) -> dict[str, Any] | None:
    """The editor's event waiting to be applied in this run (or ``None``).

    Read it before drawing anything, so that what is drawn already shows it.
    """
    value = st.session_state.get(key)
    if isinstance(value, Mapping):
        event = value.get("event")
        if isinstance(event, Mapping):
            return dict(event)
    return None


def photo_editor(payload: dict[str, Any], *, key: str) -> None:
    """Mount the editor with ``payload`` (see :func:`app_pages.measure_ui.editor.payload`)."""
    _EDITOR(
        key=key,
        data=payload,
        default=None,  # a default "event" would hide the trigger in st.session_state
        on_event_change=lambda: None,
        width="stretch",
        height="content",
    )


__all__ = ["MODES", "NAME", "media_url", "pending_event", "photo_editor"]
