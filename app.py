"""objlen's operator app: the router.

Run it with ``streamlit run app.py`` (or ``make run``). The pages live in
``app_pages/`` (not ``pages/``: Streamlit treats a ``pages/`` folder as the
legacy page list until a session has run ``st.navigation``, so a bookmark to
a page on a freshly started server would bypass this router); this file sets
up the page, checks who may use the app (a login when one is configured, and no
anonymous use beyond loopback: :mod:`app_pages.access`), then the navigation
and the sidebar shared by every page (the segmenter in use and the unit), then
runs the chosen page.
"""

from __future__ import annotations

import streamlit as st

from app_pages.access import require_access
from app_pages.common import current_settings, settings_problem, unit_selector

st.set_page_config(
    page_title="objlen — measure objects in photos",
    page_icon=":material/straighten:",
    layout="wide",
    initial_sidebar_state="expanded",
)
require_access()  # a login when configured; no anonymous use beyond loopback

page = st.navigation(
    {
        "Measure": [
            st.Page(
                "app_pages/measure.py", title="Measure", icon=":material/straighten:", default=True
            ),
            st.Page("app_pages/history.py", title="History", icon=":material/history:"),
            st.Page("app_pages/batch.py", title="Batch", icon=":material/photo_library:"),
        ],
        "Model": [
            st.Page("app_pages/dataset.py", title="Dataset", icon=":material/dataset:"),
            st.Page("app_pages/model.py", title="Model", icon=":material/model_training:"),
        ],
        "Set-up": [
            st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
        ],
    }
)

settings = current_settings()
with st.sidebar:
    backend = settings.segmenter
    if backend == "sagemaker":
        where = settings.endpoint_name or "no endpoint set"
        st.caption(f"Segmenter: **SageMaker** ({where})")
    else:
        st.caption("Segmenter: **local** (no network)")
    unit_selector(st, key="sidebar_unit", label="Unit")
    problem = settings_problem()
    if problem:
        st.error(problem, icon=":material/error:")
    st.divider()

page.run()
