"""Measure: a photo in; its mask, points and real width and height out.

The operator picks a sample, uploads a photo or takes one with the camera;
the photo is segmented (or a mask is uploaded) and measured; the points
A, B, E, C, D sit on a drawable canvas over the photo, and dragging one
re-measures at once. The result can be saved to the history or downloaded.

This page only reads widgets, calls objlen and draws. Everything costly is
cached by the photo's hash and the settings that matter, and the canvas gets
a display-sized PNG, never the full photo.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages.common import (
    PHOTO_TYPES,
    ROOT,
    current_settings,
    get_store,
    measure_options_ui,
    remember,
    show_error,
)
from objlen import (
    Measurement,
    MeasureOptions,
    ObjlenError,
    load_image,
    load_mask,
    measure,
    remeasure,
)
from objlen.display.canvas import (
    POINT_COLOURS,
    STRAY_FILL,
    DisplayTransform,
    build_drawing,
    css_rgb,
    drawing_of_state,
    fingerprint,
    moved_points,
    read_points,
)
from objlen.display.overlay import (
    annotated_png,
    display_base,
    display_size,
    legend_items,
    points_of,
    render_display_png,
    thumbnail_png,
)
from objlen.imageio import encode_png, sha256_hex
from objlen.segment import make_segmenter
from objlen.settings import AppSettings

SAMPLES_DIR = ROOT / "samples"
#: Plain session keys (not widgets): they survive leaving the page.
PHOTOS_KEY = "measure_photos"  # source -> Photo last chosen from it
POINTS_KEY = "measure_points"  # points key -> {name: [x, y]} moved by the operator
DRAWING_KEY = "measure_drawing"  # the canvas's initial_drawing and what it was built for
CANVAS_KEY = "measure_canvas_key"  # the key of the canvas widget in use
STALE_KEY = "measure_stale"  # fingerprint of a canvas value to ignore (after a reset)
COUNTER_KEY = "measure_reset_counter"
SAVED_KEY = "measure_saved"
SOURCES = {"sample": "Sample photo", "upload": "Upload a photo", "camera": "Camera"}


@dataclass(frozen=True)
class Photo:
    """A photo the operator chose: its name, bytes and their SHA-256."""

    name: str
    data: bytes
    sha256: str
    source: str
    sample: str | None = None
    file_id: str | None = None


@dataclass(frozen=True)
class MaskSource:
    """Where the mask comes from: ``kind`` is ``segment``, ``upload`` or
    ``sample``; ``key`` identifies its content for the caches."""

    kind: str
    key: str
    data: bytes | None = None


# ------------------------------------------------------------------- caches
@st.cache_data(show_spinner=False)
def sample_catalogue() -> list[dict[str, Any]]:
    """The bundled samples, from ``samples/ground_truth.json``."""
    truth = json.loads((SAMPLES_DIR / "ground_truth.json").read_text())
    return list(truth["samples"])


@st.cache_data(max_entries=4, show_spinner="Reading the photo…")
def decoded_photo(photo_sha: str, _data: bytes, name: str) -> np.ndarray:
    """The photo as RGB, EXIF orientation applied."""
    return load_image(_data, name=name)


@st.cache_data(max_entries=8, show_spinner="Segmenting the photo…")
def photo_mask(
    photo_sha: str, mask_key: str, _photo: Photo, _source: MaskSource, _settings: AppSettings
) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...], str, float]:
    """``(mask, warnings, notes, backend, seconds)`` for the photo."""
    image = decoded_photo(photo_sha, _photo.data, _photo.name)
    if _source.kind == "segment":
        segmenter = make_segmenter(
            _settings.segmenter,
            classes=_settings.classes,
            sagemaker=_settings.sagemaker_settings(),
            reference_rule=_settings.reference_rule,
        )
        result = segmenter.segment(image)
        return result.mask, result.warnings, result.notes, result.backend, result.seconds
    mask, warnings = load_mask(_source.data, (image.shape[1], image.shape[0]), name="the mask")
    return mask, tuple(warnings), (), _source.kind, 0.0


@st.cache_data(max_entries=32, show_spinner=False)
def segmentation_info(
    photo_sha: str, mask_key: str, _photo: Photo, _source: MaskSource, _settings: AppSettings
) -> tuple[str, float]:
    """``(backend, seconds)`` of the mask, without fetching the mask itself."""
    _, _, _, backend, seconds = photo_mask(photo_sha, mask_key, _photo, _source, _settings)
    return backend, seconds


@st.cache_data(max_entries=32, show_spinner="Measuring…")
def measured(
    photo_sha: str,
    mask_key: str,
    options_key: str,
    _photo: Photo,
    _source: MaskSource,
    _settings: AppSettings,
    _options: MeasureOptions,
) -> Measurement:
    """The automatic measurement (points from the mask)."""
    image = decoded_photo(photo_sha, _photo.data, _photo.name)
    mask, warnings, notes, _, _ = photo_mask(photo_sha, mask_key, _photo, _source, _settings)
    return measure(mask, _options, image=image, input_warnings=warnings, input_notes=notes)


@st.cache_data(max_entries=16, show_spinner=False)
def overlay_base(
    photo_sha: str,
    mask_key: str,
    opacity: float,
    size: tuple[int, int],
    _photo: Photo,
    _source: MaskSource,
    _settings: AppSettings,
) -> np.ndarray:
    """The display-sized photo with the mask overlay."""
    image = decoded_photo(photo_sha, _photo.data, _photo.name)
    mask = photo_mask(photo_sha, mask_key, _photo, _source, _settings)[0]
    return display_base(image, mask, _settings.classes, opacity, size)


@st.cache_data(max_entries=64, show_spinner=False)
def canvas_background(
    photo_sha: str,
    mask_key: str,
    opacity: float,
    size: tuple[int, int],
    image_size: tuple[int, int],
    points: tuple[tuple[str, float, float], ...],
    corners: tuple[tuple[float, float], ...] | None,
    _photo: Photo,
    _source: MaskSource,
    _settings: AppSettings,
) -> bytes:
    """Display-sized PNG bytes: overlay, segments and labels at ``points``."""
    base = overlay_base(photo_sha, mask_key, opacity, size, _photo, _source, _settings)
    shown = {name: (x, y) for name, x, y in points}
    return render_display_png(
        base, image_size, shown, None if corners is None else np.array(corners)
    )


# ------------------------------------------------------------------ widgets
def _photo_from_upload(upload: Any, source: str) -> Photo:
    kept: dict[str, Photo] = st.session_state.setdefault(PHOTOS_KEY, {})
    previous = kept.get(source)
    if previous is not None and previous.file_id == upload.file_id:
        return previous
    data = upload.getvalue()
    name = upload.name if source == "upload" else f"camera-{sha256_hex(data)[:8]}.jpg"
    photo = Photo(name, data, sha256_hex(data), source, file_id=upload.file_id)
    kept[source] = photo
    return photo


def photo_ui() -> Photo | None:
    """Choose the photo; return it, or ``None`` while there is none."""
    st.subheader("Photo")
    source = st.radio(
        "Photo from",
        list(SOURCES),
        format_func=SOURCES.get,
        key=remember("measure_source", "sample", list(SOURCES)),
        horizontal=True,
        label_visibility="collapsed",
    )
    kept: dict[str, Photo] = st.session_state.setdefault(PHOTOS_KEY, {})
    if source == "sample":
        catalogue = {s["name"]: s for s in sample_catalogue()}
        name = st.selectbox(
            "Sample",
            list(catalogue),
            key=remember("measure_sample", next(iter(catalogue)), list(catalogue)),
            format_func=lambda n: f"{n} — {catalogue[n]['description']}",
        )
        sample = catalogue[name]
        reference = sample["reference"]
        st.caption(
            f"Reference in this photo: {reference['kind']}, "
            f"{reference['width_mm']:g} × {reference['height_mm']:g} mm"
        )
        previous = kept.get("sample")
        if previous is not None and previous.sample == name:
            return previous
        data = (SAMPLES_DIR / sample["file"]).read_bytes()
        photo = Photo(sample["file"], data, sha256_hex(data), "sample", sample=name)
        kept["sample"] = photo
        return photo
    if source == "upload":
        upload = st.file_uploader(
            "Photo (JPEG, PNG, HEIC…)", type=PHOTO_TYPES, key="measure_upload"
        )
    else:
        upload = st.camera_input("Take a photo", key="measure_camera")
    if upload is not None:
        return _photo_from_upload(upload, source)
    return kept.get(source)


def _mask_key(kind: str, content: str, settings: AppSettings) -> str:
    """Identity of a mask file's content as read with the session's class ids."""
    return json.dumps({"kind": kind, "sha256": content, "classes": asdict(settings.classes)})


def mask_ui(photo: Photo, settings: AppSettings) -> MaskSource | None:
    """Choose where the mask comes from; ``None`` while an upload is awaited.

    Raises:
        ObjlenError: the SageMaker settings are incomplete.
    """
    st.subheader("Mask")
    choices = {
        "segment": f"Segment the photo ({settings.segmenter})",
        "upload": "Upload a mask PNG",
    }
    if photo.sample is not None:
        choices["sample"] = "The sample's own mask"
    kind = st.radio(
        "Mask from",
        list(choices),
        format_func=choices.get,
        key=remember("measure_mask_source", "segment", list(choices)),
        label_visibility="collapsed",
    )
    if kind == "segment":
        # raises ParameterError when an endpoint is set without its region
        sagemaker = settings.sagemaker_settings() if settings.segmenter == "sagemaker" else None
        key = json.dumps(
            {
                "backend": settings.segmenter,
                "endpoint": None if sagemaker is None else asdict(sagemaker),
                "classes": asdict(settings.classes),
                "rule": settings.reference_rule,
            },
            sort_keys=True,
        )
        return MaskSource("segment", key)
    if kind == "sample":
        sample = {s["name"]: s for s in sample_catalogue()}[photo.sample]
        data = (SAMPLES_DIR / sample["mask_file"]).read_bytes()
        return MaskSource("sample", _mask_key("sample", sha256_hex(data), settings), data)
    upload = st.file_uploader(
        "Mask PNG (class indices: 0 background, 1 object, 2 reference)",
        type=["png"],
        key="measure_mask_upload",
    )
    if upload is None:
        st.info("Upload the mask that belongs to this photo.")
        return None
    data = upload.getvalue()
    return MaskSource("upload", _mask_key("upload", sha256_hex(data), settings), data)


# ------------------------------------------------------------------ points
def points_key(photo: Photo, source: MaskSource, options: MeasureOptions) -> str:
    """What the moved points belong to: the photo, its mask, method, box."""
    text = json.dumps([photo.sha256, source.key, options.method, options.orientation])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _moved_for(key: str) -> dict[str, list[float]]:
    return st.session_state.setdefault(POINTS_KEY, {}).setdefault(key, {})


def _reset_points(key: str, canvas_key: str) -> None:
    """Reset button: forget the moved points, and ignore the canvas's stale value."""
    st.session_state.setdefault(POINTS_KEY, {})[key] = {}
    st.session_state[COUNTER_KEY] = st.session_state.get(COUNTER_KEY, 0) + 1
    st.session_state[STALE_KEY] = fingerprint(drawing_of_state(st.session_state.get(canvas_key)))
    st.session_state.pop(DRAWING_KEY, None)


def read_canvas(
    canvas_key: str, transform: DisplayTransform, base: dict[str, tuple[float, float]], key: str
) -> bool:
    """Take the points the operator moved from the canvas's current value into
    the session; return True when the drawing must be rebuilt (a stray point
    was added with Edit off, or a point was deleted)."""
    raw = drawing_of_state(st.session_state.get(canvas_key))
    if raw is None:
        return False
    stamp = fingerprint(raw)
    if st.session_state.get(STALE_KEY) is not None:
        if stamp == st.session_state[STALE_KEY]:
            return False
        st.session_state[STALE_KEY] = None
    found = read_points(raw, transform, names=list(base))
    moved = _moved_for(key)
    now_moved = moved_points(found.points, base, transform)
    for name in found.points:
        if name in now_moved:
            moved[name] = list(now_moved[name])
        else:
            moved.pop(name, None)
    if found.extra or found.missing:
        if found.extra:
            st.toast(
                "A click with Edit off adds a point; it was removed. Switch on Edit in the "
                "canvas toolbar to drag the points.",
                icon=":material/edit:",
            )
        if found.missing:
            st.toast(
                f"Point {', '.join(found.missing)} cannot be deleted; it was put back. "
                "Use Reset points to start again.",
                icon=":material/undo:",
            )
        st.session_state[STALE_KEY] = stamp
        return True
    return False


def canvas_ui(
    photo: Photo,
    source: MaskSource,
    settings: AppSettings,
    base: Measurement,
    current: Measurement,
    key: str,
    canvas_key: str,
    transform: DisplayTransform,
    size: tuple[int, int],
    opacity: float,
    rebuild: bool,
) -> None:
    """The photo, overlay and draggable points."""
    movable = points_of(base, movable_only=True)
    shown = points_of(current)
    drawing_state = st.session_state.get(DRAWING_KEY)
    if (
        rebuild
        or drawing_state is None
        or drawing_state["canvas_key"] != canvas_key
        or canvas_key not in st.session_state
    ):
        counter = st.session_state.get(COUNTER_KEY, 0) + 1
        st.session_state[COUNTER_KEY] = counter
        start = {name: shown[name] for name in movable}
        drawing_state = {
            "canvas_key": canvas_key,
            "drawing": build_drawing(start, transform, reset_counter=counter),
        }
        st.session_state[DRAWING_KEY] = drawing_state
    corners = base.reference.corners
    background = canvas_background(
        photo.sha256,
        source.key,
        opacity,
        size,
        base.image_size,
        tuple((name, float(x), float(y)) for name, (x, y) in shown.items()),
        None if corners is None else tuple((float(x), float(y)) for x, y in corners),
        photo,
        source,
        settings,
    )
    st_canvas(
        background_image=background,
        background_image_fit="contain",
        initial_drawing=drawing_state["drawing"],
        drawing_mode="point",
        fill_color=STRAY_FILL,
        stroke_color="#ffffff",
        stroke_width=1,
        point_display_radius=4,
        width=size[0],
        height=size[1],
        update_streamlit=True,
        key=canvas_key,
    )


def legend_ui(settings: AppSettings, movable: dict[str, tuple[float, float]]) -> None:
    """Colour chips for the mask classes and the points."""
    chips = []
    for label, colour in legend_items(settings.classes):
        name = label.split(" ")[0]
        if name in POINT_COLOURS and name not in movable:
            label += " (fixed)"
        chips.append(
            f'<span style="white-space:nowrap;margin-right:1em">'
            f'<span style="display:inline-block;width:0.8em;height:0.8em;'
            f'background:{css_rgb(colour)};border:1px solid #333;margin-right:0.3em"></span>'
            f"{label}</span>"
        )
    st.markdown(" ".join(chips), unsafe_allow_html=True)


# ------------------------------------------------------------------ results
def results_ui(base: Measurement, current: Measurement) -> None:
    """Width and height, big, with their uncertainty; the scale and method."""
    unit = current.unit
    obj, first = current.objects[0], base.objects[0]
    moved = bool(obj.moved or current.reference.moved)
    columns = st.columns(4)
    for column, label, length, automatic in (
        (columns[0], "Width (AB)", obj.width, first.width),
        (columns[1], "Height (AE − N)", obj.height, first.height),
    ):
        change = length.value - automatic.value
        delta = "as found on the mask"
        if moved and abs(change) >= 0.005:
            delta = f"{change:+.2f} {unit} from moved points"
        column.metric(
            label,
            length.text(unit),
            delta=delta,
            delta_color="off",
            delta_arrow="off",
            help="95 % interval, from the point positions and the reference",
        )
    reference = current.reference
    scale_note = "given" if reference.pixels is None else f"CD {reference.pixels:.1f} px"
    columns[2].metric(
        "Scale",
        f"{reference.scale:.4g} {unit}/px",
        delta=scale_note,
        delta_color="off",
        delta_arrow="off",
    )
    columns[3].metric(
        "Method",
        current.method,
        delta=f"{current.options.orientation} box",
        delta_color="off",
        delta_arrow="off",
    )


def messages_ui(current: Measurement, segmentation: tuple[str, float]) -> None:
    """Warnings in plain words, then notes."""
    for warning in current.warnings:
        st.warning(warning, icon=":material/warning:")
    backend, seconds = segmentation
    notes = list(current.notes)
    if backend in ("local", "sagemaker"):
        notes.append(f"segmented by the {backend} segmenter in {seconds:.2f} s")
    moved = sorted({*current.objects[0].moved, *current.reference.moved})
    if moved:
        notes.append("moved by you: " + ", ".join(moved))
    for note in notes:
        st.caption(f"Note: {note}")


def save_ui(
    photo: Photo,
    source: MaskSource,
    settings: AppSettings,
    options: MeasureOptions,
    current: Measurement,
    opacity: float,
) -> None:
    """Save to the history; download the JSON and an annotated PNG."""

    def full_arrays() -> tuple[np.ndarray, np.ndarray]:
        image = decoded_photo(photo.sha256, photo.data, photo.name)
        mask = photo_mask(photo.sha256, source.key, photo, source, settings)[0]
        return image, mask

    stem = Path(photo.name).stem
    note = st.text_input("Note (saved with the measurement)", key="measure_note")
    save, download_json, download_png = st.columns(3)
    if save.button("Save to history", type="primary", key="measure_save"):
        image, mask = full_arrays()
        try:
            row = get_store().save(
                current,
                image_name=photo.name,
                image_bytes=photo.data,
                image_sha256=photo.sha256,
                mask_png=encode_png(mask),
                thumbnail_png=thumbnail_png(image, mask, current, settings.classes),
                settings={
                    "app": settings.to_dict(),
                    "options": asdict(options),
                    "mask_source": source.kind,
                    "image_sha256": photo.sha256,
                },
                note=note,
            )
        except ObjlenError as error:
            show_error(error, "Not saved: ")
        else:
            st.session_state[SAVED_KEY] = row
            st.success(f"Saved as measurement #{row}. See it on the History page.")
    download_json.download_button(
        "Download JSON",
        current.to_json(),
        file_name=f"{stem}.objlen.json",
        mime="application/json",
        key="measure_download_json",
        on_click="ignore",
    )

    def annotated() -> bytes:
        image, mask = full_arrays()
        return annotated_png(image, mask, current, settings.classes, opacity)

    download_png.download_button(
        "Download annotated PNG",
        annotated,
        file_name=f"{stem}.objlen.png",
        mime="image/png",
        key="measure_download_png",
        on_click="ignore",
    )


# --------------------------------------------------------------------- page
def main() -> None:
    """The Measure page."""
    st.title("Measure")
    settings = current_settings()
    problems: list[ObjlenError] = []
    source: MaskSource | None = None
    options: MeasureOptions | None = None
    with st.sidebar:
        photo = photo_ui()
        if photo is not None:
            try:
                source = mask_ui(photo, settings)
            except ObjlenError as error:
                problems.append(error)
            st.subheader("Reference and method")
            try:
                options = measure_options_ui("measure", settings)
            except ObjlenError as error:
                problems.append(error)
        opacity = st.slider(
            "Mask overlay opacity", 0.0, 1.0, step=0.05, key=remember("measure_opacity", 0.45)
        )
    for problem in problems:
        show_error(problem)
    if photo is None:
        st.info("Choose a photo in the sidebar: a sample, an upload, or the camera.")
        return
    if source is None or options is None:
        if not problems:
            st.info("Upload the mask PNG in the sidebar.")
        return
    try:
        base = measured(photo.sha256, source.key, repr(options), photo, source, settings, options)
        backend, seconds = segmentation_info(photo.sha256, source.key, photo, source, settings)
    except ObjlenError as error:
        show_error(error)
        return
    image_size = base.image_size
    key = points_key(photo, source, options)
    size = display_size(image_size)
    canvas_key = f"measure_canvas_{key}_{size[0]}x{size[1]}"
    st.session_state[CANVAS_KEY] = canvas_key
    transform = DisplayTransform.for_canvas(image_size, size)
    movable = points_of(base, movable_only=True)
    rebuild = read_canvas(canvas_key, transform, movable, key)
    moved = {n: p for n, p in _moved_for(key).items() if n in movable}
    current = base
    if moved:
        try:
            current = remeasure(base, moved)
        except ObjlenError as error:
            show_error(error, "The moved points cannot be measured: ")
    st.caption(
        f"{photo.name} · {image_size[0]} × {image_size[1]} px · shown at "
        f"{size[0]} × {size[1]} ({size[0] / image_size[0]:.0%})"
    )
    results_ui(base, current)
    st.info(
        "To move a point, hover over the photo and switch on **Edit** (the pencil in the "
        "toolbar that appears), then drag A, B or E (or C, D). The numbers update when you "
        "let go. Edit stays on until you change photo, mask or method.",
        icon=":material/touch_app:",
    )
    canvas_ui(
        photo,
        source,
        settings,
        base,
        current,
        key,
        canvas_key,
        transform,
        size,
        opacity,
        rebuild,
    )
    legend, reset = st.columns([5, 1])
    with legend:
        legend_ui(settings, movable)
    reset.button(
        "Reset points",
        key="measure_reset",
        on_click=_reset_points,
        args=(key, canvas_key),
        disabled=not moved,
        help="Put every point back where the mask puts it",
    )
    messages_ui(current, (backend, seconds))
    st.divider()
    save_ui(photo, source, settings, options, current, opacity)


main()
