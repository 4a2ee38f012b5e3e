"""Settings: the segmenter, the SageMaker endpoint, class ids, unit, database.

The values are loaded from ``.streamlit/secrets.toml`` (section ``[objlen]``)
and the environment when the session starts; changes made here last for the
session. The endpoint URLs and the history database are the operator's: they
are shown (URLs without user-info or query) but cannot be changed here, so
no browser user can point the server's signed AWS calls or its database at
another place. AWS credentials are never asked for, read or shown: boto3
finds them itself (environment, ``~/.aws``, instance role).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages.common import (
    ROOT,
    SETTINGS_KEY,
    current_settings,
    settings_problem,
    show_error,
    update_settings,
)
from objlen.classes import ClassIds
from objlen.errors import ObjlenError
from objlen.settings import APP_BACKENDS, REFERENCE_CHOICES, AppSettings
from objlen.units import UNITS

PROBLEM_KEY = "settings_apply_problem"
APPLIED_KEY = "settings_applied"
CLASS_FIELDS = ("background", "object", "reference", "ignore")

#: widget key -> AppSettings field (text fields). The endpoint URLs and the
#: database path are not among them: only the operator's configuration sets them.
TEXT_FIELDS = {
    "settings_endpoint": "endpoint_name",
    "settings_region": "region",
    "settings_profile": "profile",
}


def _widget_values(settings: AppSettings) -> dict[str, Any]:
    """The value every settings widget shows for ``settings``."""
    values: dict[str, Any] = {key: getattr(settings, name) for key, name in TEXT_FIELDS.items()}
    values["settings_segmenter"] = settings.segmenter
    values["settings_unit"] = settings.default_unit
    values["settings_reference_rule"] = settings.reference_rule
    values["settings_timeout"] = float(settings.timeout_s)
    for name in CLASS_FIELDS:
        values[f"settings_class_{name}"] = int(getattr(settings.classes, name))
    return values


def _apply() -> None:
    """Submit button: take the form's values into the session's settings."""
    state = st.session_state
    try:
        classes = ClassIds(**{name: int(state[f"settings_class_{name}"]) for name in CLASS_FIELDS})
        update_settings(
            segmenter=state["settings_segmenter"],
            default_unit=state["settings_unit"],
            reference_rule=state["settings_reference_rule"],
            timeout_s=float(state["settings_timeout"]),
            classes=classes,
            **{name: str(state[key]).strip() for key, name in TEXT_FIELDS.items()},
        )
    except ObjlenError as error:
        state[PROBLEM_KEY] = str(error)
        state[APPLIED_KEY] = False
    else:
        state[PROBLEM_KEY] = None
        state[APPLIED_KEY] = True


def _reload() -> None:
    """Reload button: forget the session's changes."""
    st.session_state.pop(SETTINGS_KEY, None)
    st.session_state[PROBLEM_KEY] = None
    st.session_state[APPLIED_KEY] = False


def settings_form(settings: AppSettings) -> None:
    """The editable settings, applied together."""
    if not st.session_state.get(PROBLEM_KEY):
        for key, value in _widget_values(settings).items():
            st.session_state[key] = value
    with st.form("settings_form", border=True):
        st.subheader("Segmenter")
        st.radio(
            "Segmenter",
            APP_BACKENDS,
            key="settings_segmenter",
            horizontal=True,
            format_func={"local": "local (no network)", "sagemaker": "SageMaker endpoint"}.get,
        )
        left, right = st.columns(2)
        left.text_input("Endpoint name", key="settings_endpoint")
        right.text_input("AWS region", key="settings_region", placeholder="ap-northeast-1")
        left.text_input(
            "AWS profile",
            key="settings_profile",
            placeholder="(default credential chain)",
            help="A named profile of ~/.aws; empty: boto3's default chain.",
        )
        right.text_input(
            "Endpoint URL (set by the operator)",
            value=settings.redacted()["endpoint URL"],
            disabled=True,
            help="OBJLEN_ENDPOINT_URL or endpoint_url in [objlen] of .streamlit/secrets.toml, "
            "e.g. http://127.0.0.1:8080 for `objlen serve`; shown without user-info or query.",
        )
        left.number_input("Timeout (s)", min_value=1.0, step=5.0, key="settings_timeout")
        right.selectbox(
            "Local segmenter: the reference is the…",
            REFERENCE_CHOICES,
            key="settings_reference_rule",
        )
        st.subheader("Mask classes")
        for column, name in zip(st.columns(4), CLASS_FIELDS, strict=True):
            column.number_input(
                name.capitalize(), min_value=0, max_value=255, step=1, key=f"settings_class_{name}"
            )
        st.subheader("Units and history")
        left, right = st.columns(2)
        left.selectbox("Default unit", UNITS, key="settings_unit")
        right.text_input(
            "History database (set by the operator)",
            value=settings.db_path,
            disabled=True,
            help="OBJLEN_DB or db in [objlen] of .streamlit/secrets.toml; it must lie under "
            "the data root (OBJLEN_DATA_ROOT).",
        )
        st.form_submit_button("Apply for this session", type="primary", on_click=_apply)
    problem = st.session_state.get(PROBLEM_KEY)
    if problem:
        st.error(f"Not applied: {problem}", icon=":material/error:")
    elif st.session_state.pop(APPLIED_KEY, False):
        st.success("Applied for this session.", icon=":material/check:")


def connection_ui(settings: AppSettings) -> None:
    """Call the endpoint once with a tiny photo; report the latency or the problem."""
    st.subheader("SageMaker connection")
    if not st.button("Test connection", key="settings_test"):
        st.caption("Sends one tiny photo to the endpoint and checks that a mask comes back.")
        return
    try:
        endpoint = settings.sagemaker_settings()
        if endpoint is None:
            st.warning(
                "No endpoint name is set: enter one above (and its region), then test.",
                icon=":material/warning:",
            )
            return
        from objlen.segment import check_connection

        with st.spinner(f"Calling {endpoint.endpoint_name}…"):
            seconds = check_connection(endpoint, settings.classes)
    except ObjlenError as error:
        show_error(error, "Connection failed: ")
        return
    st.success(
        f"{endpoint.endpoint_name} answered with a valid mask in {seconds * 1000:.0f} ms.",
        icon=":material/check:",
    )


def main() -> None:
    """The Settings page."""
    st.title("Settings")
    st.caption(
        "Loaded from `.streamlit/secrets.toml` (section `[objlen]`) and the environment "
        "(`OBJLEN_SEGMENTER`, `OBJLEN_ENDPOINT`, `AWS_REGION`, `AWS_PROFILE`, "
        "`OBJLEN_ENDPOINT_URL`, `OBJLEN_DB`…). Changes here last for this session; the "
        "endpoint URL and the database are the operator's and cannot be changed here. "
        "AWS credentials are never entered or shown here: boto3 finds them itself."
    )
    problem = settings_problem()
    if problem:
        st.error(problem, icon=":material/error:")
    settings = current_settings()
    settings_form(settings)
    st.button("Reload from secrets and environment", key="settings_reload", on_click=_reload)
    settings = current_settings()
    connection_ui(settings)
    st.subheader("In use")
    shown = settings.redacted()
    shown["database"] = str(settings.db_file(ROOT))
    st.table({"setting": list(shown), "value": list(shown.values())})


main()
