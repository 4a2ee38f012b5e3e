"""Where the photo and its mask come from: a bundled sample, an upload, the
camera, or a saved measurement reopened from the History page; the mask from
the segmenter, an uploaded PNG, or the sample's own. Decoding and segmenting
are cached by the photo's hash and what the result depends on."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import streamlit as st

from app_pages.common import PHOTO_TYPES, ROOT, remember
from app_pages.measure_ui.options import preset_key, set_preset
from objlen import load_image, load_mask
from objlen.errors import ObjlenError, SegmentationError, without_name
from objlen.imageio import sha256_hex
from objlen.options import ReferenceSpec
from objlen.presets import preset_of_spec
from objlen.segment import make_segmenter, segment_photo
from objlen.settings import AppSettings
from objlen.workbench import Photo, Segmented, Workbench

SAMPLES_DIR = ROOT / "samples"
SOURCES = {"sample": "Sample", "upload": "Upload", "camera": "Camera"}
#: The fields of a reference that is not a fixed preset (kept for "same as before").
SIZE_FIELDS = ("reference_kind", "reference_length", "reference_size", "marker_size")
#: Plain session key: the photo last chosen from each source (kept across pages).
PHOTOS_KEY = "measure_photos"


@dataclass(frozen=True)
class MaskSource:
    """Where the mask comes from: ``kind`` is ``segment``, ``upload`` or
    ``sample``; ``key`` identifies its content and settings for the caches."""

    kind: str
    key: str
    data: bytes | None = None


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
def segmented(
    photo_sha: str,
    mask_key: str,
    _photo: Photo,
    _image: np.ndarray,
    _source: MaskSource,
    _settings: AppSettings,
    _spec: ReferenceSpec | None,
    rule: str,
) -> Segmented:
    """The automatic mask of the photo and what the segmenter said; an empty
    mask with the local segmenter's ``failure`` when it found nothing.

    Raises:
        ObjlenError: a mask file that cannot be used, an endpoint that failed.
    """
    if _source.kind == "segment":
        segmenter = make_segmenter(
            _settings.segmenter,
            classes=_settings.classes,
            sagemaker=_settings.sagemaker_settings(),
            reference_rule=rule,
            reference=_spec,
        )
        try:
            result = segment_photo(segmenter, _image, source_bytes=_photo.data)
        except SegmentationError as error:
            if _settings.segmenter != "local":
                raise  # an endpoint's failure may pass: not cached, tried again on the next run
            # nothing stands out: an empty mask, which the operator boxes or paints
            empty = np.zeros(_image.shape[:2], np.uint8)
            return Segmented(empty, backend="local", failure=str(error))
        return Segmented(result.mask, result.warnings, result.notes, result.backend, result.seconds)
    size = (_image.shape[1], _image.shape[0])
    mask, warnings = load_mask(_source.data, size, name="the mask")
    return Segmented(mask, tuple(warnings), (), _source.kind, 0.0)


def _sample_reference(prefix: str, sample: dict[str, Any]) -> None:
    """Name the sample's own reference in the options (it is known)."""
    reference = sample["reference"]
    if reference["kind"] == "aruco":
        set_preset(prefix, "aruco", marker_size=f"{reference['width_mm']:g} mm")
        return
    spec = ReferenceSpec(size=(reference["width_mm"], reference["height_mm"]))
    preset = preset_of_spec(spec, "mm")
    size = f"{reference['width_mm']:g} x {reference['height_mm']:g} mm"
    if preset is not None:
        set_preset(prefix, preset)
    else:
        set_preset(prefix, "custom", reference_kind="size", reference_size=size)


def _from_upload(upload: Any, source: str) -> Photo:
    kept: dict[str, Photo] = st.session_state.setdefault(PHOTOS_KEY, {})
    previous = kept.get(source)
    data = upload.getvalue()
    digest = sha256_hex(data)
    if previous is not None and previous.sha256 == digest:
        return previous
    name = upload.name if source == "upload" else f"camera-{digest[:8]}.jpg"
    photo = Photo(name, data, digest, source)
    kept[source] = photo
    return photo


def _forget_if_removed(source: str, key: str) -> None:
    """The operator removed the photo from its uploader (or cleared the
    camera's): it is no longer kept for its source. (Leaving the page empties
    the widget too, without this callback: the photo is kept then.)"""
    if st.session_state.get(key) is None:
        st.session_state.setdefault(PHOTOS_KEY, {}).pop(source, None)


def photo_ui(bench: Workbench, prefix: str) -> Photo | None:
    """Choose the photo (in the sidebar); a new one starts a new workbench photo.

    Returns the photo, or ``None`` while there is none.

    Raises:
        ObjlenError: the new photo cannot be read or measured (its message
            names the photo once); the workbench keeps the photo it had.
    """
    if bench.photo is not None and bench.photo.source == "history":
        st.caption(f"Reopened from the history: **{bench.photo.name}** (#{bench.parent_id})")
        if not st.button("Choose another photo", key="measure_leave_history"):
            return bench.photo
        bench.photo = None
    source = st.radio(
        "Photo from",
        list(SOURCES),
        format_func=SOURCES.get,
        key=remember("measure_source", "sample", list(SOURCES)),
        horizontal=True,
    )
    kept: dict[str, Photo] = st.session_state.setdefault(PHOTOS_KEY, {})
    photo: Photo | None
    if source == "sample":
        catalogue = {s["name"]: s for s in sample_catalogue()}
        name = st.selectbox(
            "Sample",
            list(catalogue),
            key=remember("measure_sample", next(iter(catalogue)), list(catalogue)),
            format_func=lambda n: f"{n} — {catalogue[n]['description']}",
        )
        previous = kept.get("sample")
        if previous is not None and previous.sample == name:
            photo = previous
        else:
            data = (SAMPLES_DIR / catalogue[name]["file"]).read_bytes()
            photo = Photo(catalogue[name]["file"], data, sha256_hex(data), "sample", sample=name)
            kept["sample"] = photo
    else:
        if source == "upload":
            upload = st.file_uploader(
                "Photo (JPEG, PNG, HEIC…)",
                type=PHOTO_TYPES,
                key="measure_upload",
                on_change=_forget_if_removed,
                args=(source, "measure_upload"),
            )
        else:
            upload = st.camera_input(
                "Take a photo",
                key="measure_camera",
                on_change=_forget_if_removed,
                args=(source, "measure_camera"),
            )
        photo = _from_upload(upload, source) if upload is not None else kept.get(source)
    if photo is None:
        return None
    if bench.photo is None or bench.photo.sha256 != photo.sha256:
        try:
            image = decoded_photo(photo.sha256, photo.data, photo.name)
            bench.set_photo(photo, image)
        except ObjlenError as error:
            raise type(error)(f"{photo.name}: {without_name(photo.name, str(error))}") from error
        if photo.sample is not None:
            _sample_reference(prefix, {s["name"]: s for s in sample_catalogue()}[photo.sample])
            bench.reference_confirmed = True
        else:
            previous = st.session_state.get(preset_key(prefix))
            if previous is not None:  # offered as "same as before" for the new photo
                st.session_state[f"{prefix}_last_reference"] = {
                    "preset": previous,
                    **{name: st.session_state.get(f"{prefix}_{name}", "") for name in SIZE_FIELDS},
                }
            set_preset(prefix, None, **dict.fromkeys(SIZE_FIELDS[1:], ""))
    return bench.photo


def mask_ui(photo: Photo, settings: AppSettings) -> MaskSource | None:
    """Choose where the mask comes from; ``None`` while an upload is awaited.

    Raises:
        ObjlenError: the SageMaker settings are incomplete.
    """
    if photo.source == "history":
        return MaskSource("history", f"history:{photo.sha256}")
    choices = {"segment": f"Segment ({settings.segmenter})", "upload": "Upload a mask PNG"}
    if photo.sample is not None:
        choices["sample"] = "The sample's own mask"
    kind = st.radio(
        "Mask from",
        list(choices),
        format_func=choices.get,
        key=remember("measure_mask_source", "segment", list(choices)),
        horizontal=True,
    )
    if kind == "segment":
        sagemaker = settings.sagemaker_settings() if settings.segmenter == "sagemaker" else None
        key = json.dumps(
            {
                "backend": settings.segmenter,
                "endpoint": None if sagemaker is None else asdict(sagemaker),
                "classes": asdict(settings.classes),
            },
            sort_keys=True,
            default=str,
        )
        return MaskSource("segment", key)
    if kind == "sample":
        sample = {s["name"]: s for s in sample_catalogue()}[photo.sample]
        data = (SAMPLES_DIR / sample["mask_file"]).read_bytes()
        return MaskSource("sample", _mask_key("sample", data, settings), data)
    upload = st.file_uploader(
        "Mask PNG (class indices: 0 background, 1 object, 2 reference)",
        type=["png"],
        key="measure_mask_upload",
    )
    if upload is None:
        return None
    data = upload.getvalue()
    return MaskSource("upload", _mask_key("upload", data, settings), data)


def _mask_key(kind: str, data: bytes, settings: AppSettings) -> str:
    return json.dumps(
        {"kind": kind, "sha256": sha256_hex(data), "classes": asdict(settings.classes)}
    )


__all__ = [
    "PHOTOS_KEY",
    "SOURCES",
    "MaskSource",
    "decoded_photo",
    "mask_ui",
    "photo_ui",
    "sample_catalogue",
    "segmented",
]
