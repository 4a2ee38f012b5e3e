"""Measure: a photo in; every object's real width and height out.

The sidebar holds the settings (photo, mask, reference, method); the main
area the photo and the numbers. On a new photo the page first asks what the
reference is. The photo editor shows every object; the operator drags points
(or nudges them with the arrow keys, zoomed in), clicks regions to make them
the reference or leave them out, boxes an object the segmenter merged with
something else, or paints the mask; the table follows. Everything the
operator does lives in a :class:`~objlen.workbench.Workbench` (tested without
Streamlit); this page only wires widgets to it.
"""

from __future__ import annotations

import streamlit as st

from app_pages.common import current_settings, remember, show_error
from app_pages.measure_ui.editor import apply_pending, editor_ui, toolbar_ui
from app_pages.measure_ui.mat import mat_download_ui
from app_pages.measure_ui.options import OptionsChoice, options_ui
from app_pages.measure_ui.photo import MaskSource, mask_ui, photo_ui, segmented
from app_pages.measure_ui.question import question_ui, size_question_ui
from app_pages.measure_ui.results import header_ui, messages_ui, objects_table_ui
from app_pages.measure_ui.saving import save_ui
from app_pages.measure_ui.state import PREFIX, workbench
from objlen.errors import ObjlenError, SegmentationError
from objlen.result import Measurement
from objlen.segment.local import LocalSegmenter
from objlen.settings import AppSettings
from objlen.workbench import Workbench

#: Less empty space around the page, so that the photo and the numbers fit a
#: 1280 x 800 screen; the tools take their own width and wrap onto a second row
#: when the main area is too narrow for them, and in a narrow main area the
#: numbers go below the photo, rather than being cut off.
COMPACT_CSS = """<style>
[data-testid="stMainBlockContainer"] {
  padding: 2.2rem 2.5rem 2rem 2.5rem !important; max-width: none;
}
[data-testid="stMainBlockContainer"] h1 {
  padding-top: 0; padding-bottom: 0.2rem; font-size: 1.9rem;
}
.st-key-measure_toolbar [data-testid="stHorizontalBlock"] { flex-wrap: wrap; row-gap: 0.5rem; }
.st-key-measure_toolbar [data-testid="stColumn"] {
  flex: 0 0 auto !important; width: auto !important; min-width: 0 !important;
}
.st-key-measure_toolbar [data-testid="stColumn"]:nth-child(3) { margin-left: auto; }
.st-key-measure_panes { container-type: inline-size; }
@container (max-width: 640px) {
  .st-key-measure_panes [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  .st-key-measure_panes [data-testid="stColumn"] {
    flex: 1 1 100% !important; width: 100% !important; min-width: 100% !important;
  }
}
</style>"""
#: What to do when the segmenter found nothing in the photo.
NOTHING_FOUND_HINT = (
    "Mark them yourself: with the **Box** tool, drag a box around each object and one around "
    "the reference; then, with the **Regions** tool (a click will: Reference), click the "
    "reference. Or paint them with the **Brush** (Object, Reference)."
)


def sidebar_ui(bench: Workbench, settings: AppSettings):
    """Photo, mask, reference and method, in the sidebar."""
    problems: list[ObjlenError] = []
    source: MaskSource | None = None
    choice: OptionsChoice | None = None
    with st.sidebar:
        st.subheader("Photo")
        try:
            photo = photo_ui(bench, PREFIX)
        except ObjlenError as error:  # shown in the main area, where the operator looks
            photo = None
            problems.append(error)
        if photo is not None:
            try:
                source = mask_ui(photo, settings)
            except ObjlenError as error:
                problems.append(error)
        st.subheader("Reference and method")
        choice = options_ui(PREFIX, settings)
        opacity = st.slider(
            "Mask opacity", 0.0, 1.0, step=0.05, key=remember("measure_opacity", 0.4)
        )
        mat_download_ui()
    return photo, source, choice, opacity, problems


def _segment(bench: Workbench, settings: AppSettings, source: MaskSource, choice: OptionsChoice):
    """Give the workbench its automatic mask (cached by what it depends on)."""
    if source.kind == "history":
        return
    photo, image = bench.photo, bench.image
    spec = None if choice.options is None else choice.options.reference
    key = source.key
    if source.kind == "segment":
        key = f"{key}|{spec!r}|{choice.rule}"
    bench.set_segmentation(
        segmented(photo.sha256, key, photo, image, source, settings, spec, choice.rule), key=key
    )


def _box_segmenter(bench: Workbench, choice: OptionsChoice):
    def make() -> LocalSegmenter:
        spec = None if choice.options is None else choice.options.reference
        return LocalSegmenter(classes=bench.classes, reference=spec)

    return make


@st.fragment
def workspace_ui(bench: Workbench, settings: AppSettings, choice: OptionsChoice, opacity: float):
    """The photo editor and the numbers; a drag or a click reruns only this."""
    apply_pending(bench, _box_segmenter(bench, choice))
    current: Measurement | None = None
    failure = "" if bench.segmented is None else bench.segmented.failure
    try:
        current = bench.current()
    except ObjlenError as error:
        if failure and not bench.edits:  # the segmenter found nothing; nothing marked yet
            show_error(SegmentationError(failure))
        else:
            show_error(error, "Cannot measure yet: ")
        if failure:
            st.info(NOTHING_FOUND_HINT, icon=":material/crop_free:")
    header_ui(bench, current)
    with st.container(key="measure_toolbar"):
        tools = toolbar_ui(bench)
    with st.container(key="measure_panes"):
        photo_column, numbers_column = st.columns([1.45, 1], gap="small")
    with photo_column:
        editor_ui(bench, current, tools, opacity)
    with numbers_column:
        if current is not None:
            objects_table_ui(bench, current)
            messages_ui(bench)
        elif bench.message:
            st.caption(bench.message)
    if current is not None:
        save_ui(bench, settings, opacity)


def main() -> None:
    """The Measure page."""
    st.markdown(COMPACT_CSS, unsafe_allow_html=True)
    st.title("Measure")
    settings = current_settings()
    bench = workbench()
    photo, source, choice, opacity, problems = sidebar_ui(bench, settings)
    for problem in problems:
        show_error(problem)
    if photo is None:
        if not problems:
            st.info("Choose a photo in the sidebar: a sample, an upload, or the camera.")
        return
    if choice.preset is None:
        question_ui(bench, settings.default_unit)
        return
    if choice.problem is not None or choice.options is None:
        problem = str(choice.problem or "say what the reference is")
        if choice.preset in ("custom", "aruco"):
            size_question_ui(choice.preset, settings.default_unit, problem)
        else:
            show_error(choice.problem or ObjlenError(problem))
        return
    bench.set_options(
        choice.options, orientation_mode=choice.orientation_mode, preset=choice.preset
    )
    if source is None:
        if not problems:
            st.info("Upload the mask PNG in the sidebar.")
        return
    try:
        _segment(bench, settings, source, choice)
    except ObjlenError as error:
        show_error(error)
        return
    workspace_ui(bench, settings, choice, opacity)


main()
