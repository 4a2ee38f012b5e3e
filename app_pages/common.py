"""Helpers shared by the pages: the session's settings, the history store,
widgets that keep their value across pages, and showing errors.

The pages import these; keep the names and signatures of
:func:`current_settings` and :func:`get_store` stable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from objlen.errors import ObjlenError
from objlen.settings import AppSettings, load_settings
from objlen.store import Store
from objlen.units import UNITS

#: The project folder (where app.py is); relative database paths start here.
ROOT = Path(__file__).resolve().parents[1]
#: Session key of the session's :class:`AppSettings`.
SETTINGS_KEY = "objlen_settings"
#: Session key of the message of settings that could not be loaded.
SETTINGS_ERROR_KEY = "objlen_settings_error"
_KEPT_PREFIX = "objlen_kept_"


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


def get_store() -> Store:
    """The history store of the configured database (one per path, shared by
    the sessions of this server); created with its schema on first use.

    Raises:
        ObjlenError: the database cannot be opened or created.
    """
    return _open_store(str(current_settings().db_file(ROOT)))


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
    """An objlen error for the operator: its message, no traceback."""
    st.error(f"{prefix}{error}", icon=":material/error:")


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
    "ROOT",
    "current_settings",
    "forget",
    "get_store",
    "remember",
    "settings_problem",
    "show_error",
    "unit_selector",
    "update_settings",
]
