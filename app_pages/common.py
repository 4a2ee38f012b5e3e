"""Helpers shared by the pages: the session's settings, the history store,
widgets that keep their value across pages, the measurement options every
page asks for the same way, and showing errors.

The pages import these; keep the names and signatures of
:func:`current_settings` and :func:`get_store` stable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from objlen.access import data_root, inside_data_root
from objlen.errors import ObjlenError
from objlen.options import METHODS, ORIENTATIONS, MeasureOptions, ReferenceSpec
from objlen.redact import redact_url
from objlen.reference import ARUCO_DICTIONARIES
from objlen.settings import AppSettings, load_settings
from objlen.store import Store
from objlen.units import UNITS, parse_length, parse_size

#: The project folder (where app.py is); relative database paths start here.
ROOT = Path(__file__).resolve().parents[1]
#: Session key of the session's :class:`AppSettings`.
SETTINGS_KEY = "objlen_settings"
#: Session key of the message of settings that could not be loaded.
SETTINGS_ERROR_KEY = "objlen_settings_error"
_KEPT_PREFIX = "objlen_kept_"
#: The photo types every uploader of a photo accepts (what objlen can read).
PHOTO_TYPES = ["jpg", "jpeg", "png", "heic", "heif", "webp", "tif", "tiff", "bmp"]
#: What the reference can be, as the measurement options offer it.
REFERENCE_KINDS = {
    "length": "Length of CD (card's long side, coin's diameter)",
    "size": "Width × height (card, sheet of paper)",
    "aruco": "ArUco marker",
}
#: The first value of each measurement option, before the operator changes it.
OPTION_DEFAULTS = {
    "reference_kind": "length",
    "reference_length": "85.6 mm",
    "reference_size": "85.6 x 54 mm",
    "aruco_dictionary": "DICT_4X4_50",
    "marker_size": "40 mm",
    "method": "proportional",
    "orientation": "upright",
    "offset": "0",
}


def _secrets() -> Mapping[str, Any]:
    """``st.secrets`` as a dict, or ``{}`` when there is no secrets file."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # StreamlitSecretNotFoundError: no (readable) secrets.toml
        return {}


def current_settings() -> AppSettings:
    """The session's settings: loaded on first use from ``.streamlit/secrets.toml``
    (section ``[objlen]``, when the file exists) and the environment, then kept
    in ``st.session_state`` (the Settings page edits them for the session).

    Settings that cannot be loaded (a bad value in the environment, say) give
    the defaults, and :func:`settings_problem` says what was wrong.
    """
    settings = st.session_state.get(SETTINGS_KEY)
    if isinstance(settings, AppSettings):
        return settings
    try:
        settings = load_settings(_secrets(), os.environ)
        st.session_state.pop(SETTINGS_ERROR_KEY, None)
    except ObjlenError as error:
        settings = AppSettings()
        st.session_state[SETTINGS_ERROR_KEY] = (
            f"The settings could not be loaded, so the defaults are used: {error}"
        )
    st.session_state[SETTINGS_KEY] = settings
    return settings


def settings_problem() -> str | None:
    """Why the settings fell back to the defaults, if they did."""
    return st.session_state.get(SETTINGS_ERROR_KEY)


def update_settings(**changes: Any) -> AppSettings:
    """Change the session's settings; return the new ones.

    Raises:
        ObjlenError: a value is invalid (nothing is changed then).
    """
    settings = current_settings().with_changes(**changes)
    st.session_state[SETTINGS_KEY] = settings
    return settings


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    return Store(path)


def data_root_dir() -> Path:
    """The data root (``OBJLEN_DATA_ROOT``, default ``data`` in the project
    folder): every server-side path the app accepts lies under it."""
    return data_root(os.environ, ROOT)


def data_path(text: str | Path, what: str) -> Path:
    """A server-side path a user gave, resolved under the data root (a relative
    one starts there; symbolic links are followed).

    Raises:
        ParameterError: it lies outside the data root.
    """
    return inside_data_root(text, data_root_dir(), what)


def get_store() -> Store:
    """The history store of the configured database (one per path, shared by
    the sessions of this server); created with its schema on first use.

    Raises:
        ObjlenError: the database lies outside the data root, or cannot be
            opened or created.
    """
    path = data_path(current_settings().db_file(ROOT), "the history database (OBJLEN_DB)")
    return _open_store(str(path))


def remember(key: str, default: Any, options: Sequence[Any] | None = None) -> str:
    """Give the widget ``key`` the value it had the last time it was shown in
    this session, even on another visit of the page (Streamlit drops a widget's
    state when its page is left); ``default`` the first time. Call it for the
    widget's ``key=`` and pass no ``value``/``index`` to the widget.

    ``options``: the widget's choices; a remembered value that is no longer
    among them falls back to ``default``.
    """
    kept = _KEPT_PREFIX + key
    if key in st.session_state:
        st.session_state[kept] = st.session_state[key]
    value = st.session_state.get(kept, default)
    if options is not None and value not in options:
        value = default
    st.session_state[kept] = value
    st.session_state[key] = value
    return key


def forget(key: str) -> None:
    """Drop a remembered widget value (the next :func:`remember` gives the default)."""
    st.session_state.pop(_KEPT_PREFIX + key, None)
    st.session_state.pop(key, None)


def show_error(error: ObjlenError, prefix: str = "") -> None:
    """An objlen error for the operator: its message (any URL in it without
    user-info or query, :func:`objlen.redact.redact_url`), no traceback."""
    st.error(redact_url(f"{prefix}{error}"), icon=":material/error:")


def measure_options_ui(key_prefix: str, settings: AppSettings) -> MeasureOptions:
    """The measurement options, asked the same way on every page: what the
    reference is and its real size, the method, the object box and the offset N.

    Lengths are read in ``settings.default_unit`` (or the unit written after
    the number) and the masks with ``settings.classes``. The widgets' keys are
    ``{key_prefix}_reference_kind``, ``{key_prefix}_reference_length``,
    ``{key_prefix}_reference_size``, ``{key_prefix}_aruco_dictionary``,
    ``{key_prefix}_marker_size``, ``{key_prefix}_method``,
    ``{key_prefix}_orientation`` and ``{key_prefix}_offset``; each keeps its
    value for the session (:func:`remember`).

    Raises:
        ObjlenError: a length that is not a length, or inconsistent choices.
    """

    def key(name: str, options: Sequence[Any] | None = None) -> str:
        return remember(f"{key_prefix}_{name}", OPTION_DEFAULTS[name], options)

    unit = settings.default_unit
    hint = f"a number in {unit}, or with its unit: 85.6 mm, 3.37 in"
    kind = st.radio(
        "The reference is",
        list(REFERENCE_KINDS),
        format_func=REFERENCE_KINDS.get,
        key=key("reference_kind", list(REFERENCE_KINDS)),
    )
    if kind == "length":
        length_text = st.text_input("Real length of CD", key=key("reference_length"), help=hint)
    elif kind == "size":
        size_text = st.text_input("Real width × height", key=key("reference_size"), help=hint)
    else:
        dictionary = st.selectbox(
            "ArUco dictionary",
            ARUCO_DICTIONARIES,
            key=key("aruco_dictionary", ARUCO_DICTIONARIES),
        )
        marker_text = st.text_input(
            "Side of the marker's black square", key=key("marker_size"), help=hint
        )
    method = st.radio(
        "Method",
        METHODS,
        key=key("method", METHODS),
        horizontal=True,
        help="proportional: the seed's formulas (camera parallel to the table); homography: "
        "corrects a tilted camera, needs a rectangle of known width × height or an ArUco marker",
    )
    orientation = st.radio(
        "Object box",
        ORIENTATIONS,
        key=key("orientation", ORIENTATIONS),
        horizontal=True,
        help="upright: the axis-aligned box; auto: the smallest rotated box",
    )
    offset_text = st.text_input(
        "Offset N (subtracted from the height)", key=key("offset"), help=hint
    )
    if kind == "length":
        spec = ReferenceSpec(length=parse_length(length_text, unit, what="the reference length"))
    elif kind == "size":
        spec = ReferenceSpec(size=parse_size(size_text.replace("×", "x"), unit))
    else:
        spec = ReferenceSpec(
            aruco_dictionary=dictionary,
            marker_size=parse_length(marker_text, unit, what="the marker size"),
        )
    return MeasureOptions(
        reference=spec,
        method=method,
        orientation=orientation,
        unit=unit,
        offset=parse_length(offset_text, unit, what="the offset N", allow_zero=True),
        classes=settings.classes,
    ).validated()


def _unit_changed(widget_key: str) -> None:
    try:
        update_settings(default_unit=st.session_state[widget_key])
    except ObjlenError as error:  # pragma: no cover - the choices are the valid units
        st.session_state[SETTINGS_ERROR_KEY] = str(error)


def unit_selector(container: Any, *, key: str, label: str = "Unit") -> str:
    """A unit choice bound to the session's ``default_unit`` (any page that
    shows one changes it for all); returns the unit."""
    unit = current_settings().default_unit
    st.session_state[key] = unit
    container.selectbox(label, UNITS, key=key, on_change=_unit_changed, args=(key,))
    return current_settings().default_unit


__all__ = [
    "OPTION_DEFAULTS",
    "PHOTO_TYPES",
    "REFERENCE_KINDS",
    "ROOT",
    "current_settings",
    "data_path",
    "data_root_dir",
    "forget",
    "get_store",
    "measure_options_ui",
    "remember",
    "settings_problem",
    "show_error",
    "unit_selector",
    "update_settings",
]
