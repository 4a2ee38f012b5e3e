"""The Measure page under AppTest: samples measured end to end, moved points,
reset, leaving the page, uploads, errors and saving to SQLite."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from objlen import MeasureOptions, ReferenceSpec, load_image, load_mask, measure, remeasure
from objlen.classes import ClassIds
from objlen.display.canvas import DisplayTransform
from objlen.display.overlay import display_size
from objlen.segment import make_segmenter
from objlen.store import Store
from tests.app.apphelpers import (
    SAMPLES,
    TRUTH,
    app_test,
    canvas_drawing,
    drag,
    metric_number,
    page_test,
    send_drawing,
)

#: The page's inputs for each bundled sample, and what objlen is given for them.
SAMPLE_INPUTS = {
    "card_rectangle": ("length", "85.6 mm", "proportional", ReferenceSpec(length=85.6)),
    "card_ellipse": ("length", "85.6 mm", "proportional", ReferenceSpec(length=85.6)),
    "card_blob_gradient": ("length", "85.6 mm", "proportional", ReferenceSpec(length=85.6)),
    "dark_card_ellipse": ("size", "85.6 x 54 mm", "homography", ReferenceSpec(size=(85.6, 54.0))),
    "aruco_rectangle": (
        "aruco",
        "40 mm",
        "proportional",
        ReferenceSpec(aruco_dictionary="DICT_4X4_50", marker_size=40.0),
    ),
    "tilted30_card_rectangle": (
        "size",
        "85.6 x 54 mm",
        "homography",
        ReferenceSpec(size=(85.6, 54.0)),
    ),
}
#: How far the app's numbers may be from the samples' ground truth.
TRUTH_RELATIVE = 0.01


def choose(at, sample: str, mask: str = "sample"):
    """Pick a sample, its mask source and the inputs of SAMPLE_INPUTS; run."""
    kind, value, method, _ = SAMPLE_INPUTS[sample]
    at.selectbox(key="measure_sample").set_value(sample)
    at.radio(key="measure_mask_source").set_value(mask)
    at.radio(key="measure_reference_kind").set_value(kind).run()
    field = {"length": "measure_reference_length", "size": "measure_reference_size"}
    at.text_input(key=field.get(kind, "measure_marker_size")).set_value(value)
    return at.radio(key="measure_method").set_value(method).run()


def objlen_result(sample: str, mask_source: str = "sample"):
    """What objlen itself measures for the sample, with the same inputs."""
    truth = TRUTH[sample]
    image = load_image(SAMPLES / truth["file"])
    if mask_source == "sample":
        mask, notes = load_mask(SAMPLES / truth["mask_file"], (image.shape[1], image.shape[0]))
    else:
        segmentation = make_segmenter("local", classes=ClassIds()).segment(image)
        mask, notes = segmentation.mask, list(segmentation.warnings)
    _, _, method, spec = SAMPLE_INPUTS[sample]
    options = MeasureOptions(reference=spec, method=method)
    return measure(mask, options, image=image, input_warnings=notes)


def test_default_sample_is_segmented_and_measured(app_db):
    at = page_test("measure").run()
    assert not at.exception
    expected = objlen_result("card_rectangle", "segment")
    width, height = metric_number(at, "Width"), metric_number(at, "Height")
    assert width == pytest.approx(expected.objects[0].width.value, abs=0.005)
    assert height == pytest.approx(expected.objects[0].height.value, abs=0.005)
    truth = TRUTH["card_rectangle"]["object"]
    assert width == pytest.approx(truth["width_mm"], rel=TRUTH_RELATIVE)
    assert height == pytest.approx(truth["height_mm"], rel=TRUTH_RELATIVE)
    assert any("segmented by the local segmenter" in c.value for c in at.caption)


@pytest.mark.parametrize("sample", list(SAMPLE_INPUTS))
def test_every_sample_end_to_end(app_db, sample):
    at = choose(page_test("measure").run(), sample)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    expected = objlen_result(sample).objects[0]
    width, height = metric_number(at, "Width"), metric_number(at, "Height")
    assert width == pytest.approx(expected.width.value, abs=0.005)
    assert height == pytest.approx(expected.height.value, abs=0.005)
    truth = TRUTH[sample]["object"]
    assert width == pytest.approx(truth["width_mm"], rel=TRUTH_RELATIVE)
    assert height == pytest.approx(truth["height_mm"], rel=TRUTH_RELATIVE)
    method = at.metric[3].value
    assert method == SAMPLE_INPUTS[sample][2]


def test_tilted_sample_warns_with_the_proportional_method(app_db):
    at = choose(page_test("measure").run(), "tilted30_card_rectangle")
    at.radio(key="measure_reference_kind").set_value("length").run()
    at.radio(key="measure_method").set_value("proportional").run()
    assert any("perspective" in w.value for w in at.warning)
    truth = TRUTH["tilted30_card_rectangle"]["object"]["height_mm"]
    assert abs(metric_number(at, "Height") - truth) > 0.05 * truth  # the warned-of error


def test_moved_point_changes_the_numbers_by_the_expected_amount(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    base = objlen_result("card_rectangle")
    width0, height0 = metric_number(at, "Width"), metric_number(at, "Height")
    transform = DisplayTransform.for_canvas((1600, 1200), display_size((1600, 1200)))
    dx = 38.0  # canvas pixels to the right
    at = drag(at, "B", dx)
    assert not at.exception
    grown_px = dx / transform.scale[0]
    expected = base.objects[0].width.value + grown_px * base.reference.scale
    assert metric_number(at, "Width") == pytest.approx(expected, abs=0.006)
    assert metric_number(at, "Width") > width0 + 15
    assert metric_number(at, "Height") == height0
    moved_b = transform.inverse(transform([base.objects[0].B]) + np.array([dx, 0.0]))[0]
    again = remeasure(base, {"B": moved_b})
    assert metric_number(at, "Width") == pytest.approx(again.objects[0].width.value, abs=0.005)
    assert any(c.value == "Note: moved by you: B" for c in at.caption)
    assert "from moved points" in at.metric[0].delta


def test_moved_point_on_a_tilted_photo_is_measured_in_the_reference_plane(app_db):
    at = choose(page_test("measure").run(), "tilted30_card_rectangle")
    base = objlen_result("tilted30_card_rectangle")
    transform = DisplayTransform.for_canvas((1600, 1200), display_size((1600, 1200)))
    dx = 30.0
    at = drag(at, "B", dx)
    assert not at.exception
    moved_b = transform.inverse(transform([base.objects[0].B]) + np.array([dx, 0.0]))[0]
    expected = remeasure(base, {"B": moved_b}).objects[0].width.value
    # Far from the camera a pixel covers more of the table than a proportional
    # scale would say: the homography's answer differs from CD's scale.
    proportional_guess = base.objects[0].width.value + dx / transform.scale[0] * (
        base.reference.scale
    )
    assert metric_number(at, "Width") == pytest.approx(expected, abs=0.006)
    assert abs(expected - proportional_guess) > 0.05


def test_moving_a_reference_point_changes_the_scale(app_db):
    at = choose(page_test("measure").run(), "card_ellipse")
    width0 = metric_number(at, "Width")
    at = drag(at, "D", -20.0)  # CD shorter: more mm per pixel, everything grows
    assert metric_number(at, "Width") > width0 * 1.05
    assert any(c.value == "Note: moved by you: D" for c in at.caption)


def test_reset_puts_the_points_back(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    width0 = metric_number(at, "Width")
    at = drag(at, "B", 25.0)
    assert metric_number(at, "Width") != width0
    assert not at.button(key="measure_reset").disabled
    counter = at.session_state["measure_reset_counter"]
    at.button(key="measure_reset").click().run()
    assert not at.exception
    assert metric_number(at, "Width") == width0
    assert at.session_state["measure_reset_counter"] > counter  # the drawing changed
    assert at.button(key="measure_reset").disabled
    at.run()  # the canvas still holds the old positions (CANVAS.md): they stay ignored
    assert metric_number(at, "Width") == width0


def test_points_survive_leaving_the_page(app_db):
    at = app_test().run()
    b_before = canvas_drawing(at)["objects"][1]["left"]
    at = drag(at, "B", 30.0)
    moved = metric_number(at, "Width")
    at.switch_page("app_pages/settings.py").run()
    assert not at.exception
    at.switch_page("app_pages/measure.py").run()
    assert not at.exception
    assert metric_number(at, "Width") == moved
    # the canvas is drawn again with the corrected point, not the detected one
    b_circle = canvas_drawing(at)["objects"][1]
    assert b_circle["stroke"] == "#3cc84b"
    assert b_circle["left"] == pytest.approx(b_before + 30.0, abs=1e-3)


def test_stray_point_is_removed_and_numbers_unchanged(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    width0 = metric_number(at, "Width")
    drawing = canvas_drawing(at)
    drawing["objects"].append(
        {"type": "Circle", "left": 46.5, "top": 60.0, "originX": "left", "originY": "center",
         "radius": 4, "strokeWidth": 1, "stroke": "#ffffff", "fill": "rgba(255, 255, 255, 0.6)"}
    )  # fmt: skip
    counter = at.session_state["measure_reset_counter"]
    at = send_drawing(at, drawing)
    assert not at.exception
    assert metric_number(at, "Width") == width0
    assert at.session_state["measure_reset_counter"] > counter
    assert len(at.session_state["measure_drawing"]["drawing"]["objects"]) == 5


def test_unit_from_the_sidebar(app_db):
    at = app_test().run()
    width_mm = metric_number(at, "Width")
    at.selectbox(key="sidebar_unit").set_value("cm").run()
    assert not at.exception
    assert metric_number(at, "Width") == pytest.approx(width_mm / 10, abs=0.006)
    assert at.metric[0].value.endswith(" cm")


def test_offset_n_is_subtracted_from_the_height(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    height = metric_number(at, "Height")
    at.text_input(key="measure_offset").set_value("1 cm").run()
    assert metric_number(at, "Height") == pytest.approx(height - 10.0, abs=0.006)


@pytest.mark.parametrize(
    ("widget", "value", "words"),
    [
        ("measure_reference_length", "abc", "not a length"),
        ("measure_reference_length", "-3", "positive"),
        ("measure_offset", "9 furlongs", "not a length"),
    ],
)
def test_bad_input_is_an_error_message_not_a_traceback(app_db, widget, value, words):
    at = page_test("measure").run()
    at.text_input(key=widget).set_value(value).run()
    assert not at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert not at.metric


def test_incomplete_sagemaker_settings_are_explained(app_db, monkeypatch):
    monkeypatch.setenv("OBJLEN_SEGMENTER", "sagemaker")
    monkeypatch.setenv("OBJLEN_ENDPOINT", "seg-prod")  # and no region anywhere
    at = page_test("measure").run()
    assert not at.exception
    assert any("region" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.metric
    at.radio(key="measure_mask_source").set_value("sample").run()  # no segmenter needed
    assert not at.exception and not at.error
    assert len(at.metric) == 4


def test_deleted_point_is_put_back(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    drawing = canvas_drawing(at)
    del drawing["objects"][2]  # E, with the toolbar's Delete
    at = send_drawing(at, drawing)
    assert not at.exception
    assert len(at.session_state["measure_drawing"]["drawing"]["objects"]) == 5


def test_homography_with_a_single_length_is_explained(app_db):
    at = page_test("measure").run()
    at.radio(key="measure_method").set_value("homography").run()
    assert not at.exception
    assert any("homography" in e.value and "width x" in e.value for e in at.error)


def test_upload_a_photo_and_its_mask(app_db):
    truth = TRUTH["card_ellipse"]
    at = page_test("measure").run()
    at.radio(key="measure_source").set_value("upload").run()
    assert any("Choose a photo" in i.value for i in at.info)
    photo = (SAMPLES / truth["file"]).read_bytes()
    at.file_uploader(key="measure_upload").upload("ellipse.jpg", photo, "image/jpeg").run()
    at.radio(key="measure_mask_source").set_value("upload").run()
    mask = (SAMPLES / truth["mask_file"]).read_bytes()
    at.file_uploader(key="measure_mask_upload").upload("ellipse.png", mask, "image/png").run()
    assert not at.exception
    expected = objlen_result("card_ellipse").objects[0]
    assert metric_number(at, "Width") == pytest.approx(expected.width.value, abs=0.005)
    assert any(c.value.startswith("ellipse.jpg · 1600 × 1200 px") for c in at.caption)


def test_upload_a_heic_photo(app_db):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    truth = TRUTH["card_rectangle"]
    buffer = io.BytesIO()
    Image.open(SAMPLES / truth["file"]).save(buffer, format="HEIF", quality=90)
    heic = buffer.getvalue()
    at = page_test("measure").run()
    at.radio(key="measure_source").set_value("upload").run()
    at.file_uploader(key="measure_upload").upload("phone.heic", heic, "image/heic").run()
    at.radio(key="measure_mask_source").set_value("upload").run()
    mask_bytes = (SAMPLES / truth["mask_file"]).read_bytes()
    at.file_uploader(key="measure_mask_upload").upload("m.png", mask_bytes, "image/png").run()
    assert not at.exception
    assert any(c.value.startswith("phone.heic · 1600 × 1200 px") for c in at.caption)
    image = load_image(heic)
    mask, _ = load_mask(mask_bytes, (1600, 1200))
    expected = measure(mask, MeasureOptions(reference=ReferenceSpec(length=85.6)), image=image)
    assert metric_number(at, "Width") == pytest.approx(expected.objects[0].width.value, abs=0.005)


def test_a_file_that_is_not_an_image_is_refused(app_db):
    at = page_test("measure").run()
    at.radio(key="measure_source").set_value("upload").run()
    at.file_uploader(key="measure_upload").upload("notes.png", b"not a picture", "image/png")
    at.run()
    assert not at.exception
    assert any("not an image" in e.value for e in at.error), [e.value for e in at.error]


def test_save_writes_a_row_with_the_corrected_measurement(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    at = drag(at, "B", 20.0)
    shown = metric_number(at, "Width")
    at.text_input(key="measure_note").set_value("batch 7")
    at.button(key="measure_save").click().run()
    assert not at.exception
    assert any("Saved as measurement #" in s.value for s in at.success)
    rows = Store(app_db).list()
    assert len(rows) == 1
    row = rows[0]
    assert row.image_name == "card_rectangle.jpg"
    assert row.width == pytest.approx(shown, abs=0.005)
    assert row.moved_points == "B"
    assert row.note == "batch 7"
    store = Store(app_db)
    thumbnail = store.thumbnail(row.id)
    assert thumbnail is not None and thumbnail.startswith(b"\x89PNG")
    assert store.image_path(row).read_bytes() == (SAMPLES / "card_rectangle.jpg").read_bytes()
    saved_mask = load_mask(store.mask_path(row))[0]
    assert np.array_equal(saved_mask, load_mask(SAMPLES / "card_rectangle_mask.png")[0])
    settings = row.settings
    assert settings["options"]["method"] == "proportional"
    assert settings["mask_source"] == "sample"
    result = row.result
    assert result["objects"][0]["moved"] == ["B"]


def test_the_json_download_is_the_measurement(app_db):
    at = choose(page_test("measure").run(), "card_ellipse")
    buttons = {b.key: b for b in at.get("download_button")}
    assert set(buttons) >= {"measure_download_json", "measure_download_png"}
