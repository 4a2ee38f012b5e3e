"""The printable measuring mat, offered on the Measure page's sidebar."""

from __future__ import annotations

import streamlit as st

from app_pages.common import remember
from objlen.board import PAPERS, mat_pdf_bytes


@st.cache_data(show_spinner=False)
def _mat_pdf(paper: str) -> bytes:
    return mat_pdf_bytes(paper)


def mat_download_ui() -> None:
    """A paper size and a download of objlen's mat for it (a PDF to print at 100 %)."""
    with st.expander("Print a measuring mat"):
        st.caption(
            "A ChArUco ring around an empty middle where the objects go: one photo then "
            "fixes the scale, the perspective and the lens. Print at 100 % and check the "
            "100 mm bar, lay the objects in the middle, photograph the whole mat, and "
            'choose "Measuring mat" as the reference.'
        )
        paper = st.selectbox("Paper", list(PAPERS), key=remember("measure_mat_paper", "A4"))
        st.download_button(
            f"Download the {paper} mat (PDF)",
            data=_mat_pdf(paper),
            file_name=f"objlen-mat-{paper}.pdf",
            mime="application/pdf",
            key="measure_mat_download",
        )
