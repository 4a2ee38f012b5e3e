"""The Measure page under AppTest: samples measured end to end, every object in
the table, the reference asked for on a new photo, the photo editor's events
(a moved point, a click that chooses the reference, a box, a brush stroke),
Undo and Reset, leaving the page, uploads, errors in plain words and saving
to SQLite."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from objlen import MeasureOptions, ReferenceSpec, load_image, load_mask, measure, remeasure
from objlen.imageio import encode_png
from objlen.store import Store
from objlen.testing.realphotos import realphotos_dir
from tests.app.apphelpers import (
    SAMPLES,
    TRUTH,
    app_test,
    heights,
    move,
    objects_table,
    page_test,
    send_event,
    widths,
    workbench,
)

#: The method to measure each sample with (its reference is known to the page).
METHODS = {
    "card_rectangle": "proportional",
    "card_ellipse": "proportional",
    "card_blob_gradient": "proportional",
    "dark_card_ellipse": "homography",
    "aruco_rectangle": "proportional",
    "tilted30_card_rectangle": "homography",
}
#: How far the app's numbers may be from the samples' ground truth.
TRUTH_RELATIVE = 0.01


def choose(at, sample: str, mask: str = "sample", method: str | None = None):
    """Pick a sample, its mask source and the method; run."""
    at.selectbox(key="measure_sample").set_value(sample).run()
    at.radio(key="measure_mask_source").set_value(mask)
    return at.radio(key="measure_method").set_value(method or METHODS[sample]).run()


def upload(at, name: str, data: bytes, mime: str = "image/png"):
    at.radio(key="measure_source").set_value("upload").run()
    return at.file_uploader(key="measure_upload").upload(name, data, mime).run()


def real_photo(*parts: str) -> bytes:
    path = realphotos_dir().joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path.read_bytes()


def answer(at, preset: str):
    """Answer the page's question "what is the reference in this photo?"."""
    return at.button_group(key="measure_reference_question").set_value(preset).run()


# ------------------------------------------------------------------ every object
def test_the_default_sample_is_measured_and_the_header_names_the_reference(app_db):
    at = page_test("measure").run()
    assert not at.exception
    table = objects_table(at)
    assert list(table["#"]) == [1]
    truth = TRUTH["card_rectangle"]["object"]
    assert widths(at)[0] == pytest.approx(truth["width_mm"], rel=TRUTH_RELATIVE)
    assert heights(at)[0] == pytest.approx(truth["height_mm"], rel=TRUTH_RELATIVE)
    header = at.markdown[1].value
    assert header.startswith("**Reference:** a rectangle 85.60 × 54.00 mm")
    assert any("segmented by the local segmenter" in c.value for c in at.caption)


@pytest.mark.parametrize("sample", list(METHODS))
def test_every_sample_end_to_end(app_db, sample):
    at = choose(page_test("measure").run(), sample)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    truth = TRUTH[sample]["object"]
    assert widths(at)[0] == pytest.approx(truth["width_mm"], rel=TRUTH_RELATIVE)
    assert heights(at)[0] == pytest.approx(truth["height_mm"], rel=TRUTH_RELATIVE)
    assert f"{METHODS[sample]}, upright boxes" in at.markdown[1].value


def test_every_object_of_a_real_photo_is_in_the_table(app_db):
    at = upload(
        page_test("measure").run(), "example_02.png", real_photo("unlabelled", "example_02.png")
    )
    assert not at.exception
    assert not at.dataframe, "nothing is measured before the reference is said"
    assert any("What is the reference" in s.value for s in at.subheader)
    at = answer(at, "us_quarter")
    assert not at.exception
    table = objects_table(at)
    assert list(table["#"]) == [1, 2, 3, 4, 5]
    assert all(text.endswith(" mm") and " ± " in text for text in table["width"])
    assert at.markdown[1].value.startswith("**Reference:** US quarter Ø 24.26 mm")
    uncertain = [w.value for w in at.warning if "more uncertain" in w.value]
    assert len(uncertain) == 1 and uncertain[0].startswith("objects 1, 2, 3, 4, 5:")
    assert any("turned" in c.value for c in at.caption)  # why the boxes follow the pills


def test_a_new_photo_does_not_inherit_the_last_reference(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    assert objects_table(at) is not None
    at = upload(at, "again.jpg", (SAMPLES / "card_ellipse.jpg").read_bytes(), "image/jpeg")
    assert not at.dataframe
    assert at.selectbox(key="measure_reference_preset").value is None
    assert at.button(key="measure_same_reference").label.startswith("Same as before:")
    at.button(key="measure_same_reference").click().run()
    assert len(objects_table(at)) == 1


def test_a_size_typed_in_answers_the_question(app_db):
    at = upload(
        page_test("measure").run(), "photo.jpg", (SAMPLES / "card_ellipse.jpg").read_bytes()
    )
    at = answer(at, "custom")
    assert any("real size" in s.value for s in at.subheader)
    at.radio(key="measure_question_kind").set_value("size")
    at.text_input(key="measure_question_size").input("85.6 x 54 mm")
    at.button[0].click().run()  # the form's Measure button
    assert not at.exception
    assert at.text_input(key="measure_reference_size").value == "85.6 x 54 mm"
    truth = TRUTH["card_ellipse"]["object"]
    assert widths(at)[0] == pytest.approx(truth["width_mm"], rel=0.02)


def test_the_size_question_asks_for_the_kind_it_names(app_db):
    """The question's caption, its "Its size is" choice and the field's label
    agree, and a change of the choice relabels the field at once."""
    at = upload(
        page_test("measure").run(), "photo.jpg", (SAMPLES / "card_ellipse.jpg").read_bytes()
    )
    at = answer(at, "custom")
    field = at.text_input(key="measure_question_size")
    assert at.radio(key="measure_question_kind").value == "size"
    assert any("width × height" in c.value for c in at.main.caption)
    assert field.label == "Real width × height" and field.placeholder == "e.g. 85.6 x 54 mm"
    at = at.radio(key="measure_question_kind").set_value("length").run()
    field = at.text_input(key="measure_question_size")
    assert field.label.startswith("Real length") and field.placeholder == "e.g. 24.26 mm"
    assert any("real length" in c.value for c in at.main.caption), [c.value for c in at.caption]
    field.input("25.75 mm")
    at.button[0].click().run()  # the form's Measure button
    assert not at.exception
    assert at.text_input(key="measure_reference_length").value == "25.75 mm"
    assert objects_table(at) is not None


def test_the_marker_question_starts_with_the_sidebars_dictionary(app_db):
    """It started at the first of the list (DICT_4X4_100) while the sidebar
    said DICT_4X4_50, and the answer changed the sidebar's without a word."""
    at = upload(
        page_test("measure").run(), "photo.jpg", (SAMPLES / "card_ellipse.jpg").read_bytes()
    )
    at = answer(at, "aruco")
    assert at.selectbox(key="measure_question_dictionary").value == "DICT_4X4_50"
    at.text_input(key="measure_question_size").input("40 mm")
    at.button[0].click().run()  # the form's Measure button
    assert not at.exception
    assert at.selectbox(key="measure_aruco_dictionary").value == "DICT_4X4_50"
    assert at.text_input(key="measure_marker_size").value == "40 mm"


# ------------------------------------------------------------------ editor events
def test_a_moved_point_changes_the_numbers_by_the_expected_amount(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    base = workbench(at).current()
    at = move(at, "B", 30.0)
    assert not at.exception
    expected = remeasure(base, {"B": base.objects[0].B + np.array([30.0, 0.0])})
    assert widths(at)[0] == pytest.approx(expected.objects[0].width.value, abs=0.005)
    assert widths(at)[0] == pytest.approx(
        base.objects[0].width.value + 30 * base.reference.scale, abs=0.01
    )
    assert heights(at)[0] == pytest.approx(base.objects[0].height.value, abs=0.005)
    assert objects_table(at)["note"][0].endswith("moved B")


def test_moving_a_reference_point_changes_the_scale(app_db):
    at = choose(page_test("measure").run(), "card_ellipse")
    width0 = widths(at)[0]
    at = move(at, "D", -30.0)  # CD shorter: more mm per pixel, everything grows
    assert widths(at)[0] > width0 * 1.05


def test_the_same_event_is_applied_once(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    at = move(at, "B", 10.0)
    moved = widths(at)[0]
    at.run()  # AppTest keeps the trigger: the page runs again with the same event
    assert widths(at)[0] == moved


def test_reset_points_puts_them_back(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    width0 = widths(at)[0]
    at = move(at, "B", 25.0)
    assert widths(at)[0] != width0
    assert not at.button(key="measure_reset").disabled
    at.button(key="measure_reset").click().run()
    assert widths(at)[0] == width0
    assert at.button(key="measure_reset").disabled


def test_points_survive_leaving_the_page(app_db):
    at = app_test().run()
    at = move(at, "B", 30.0)
    moved = widths(at)[0]
    at.switch_page("app_pages/settings.py").run()
    assert not at.exception
    at.switch_page("app_pages/measure.py").run()
    assert not at.exception
    assert widths(at)[0] == moved


def test_choosing_the_reference_by_a_click(app_db):
    at = upload(
        page_test("measure").run(), "example_02.png", real_photo("unlabelled", "example_02.png")
    )
    at = answer(at, "us_quarter")
    quarter_px = workbench(at).current().reference.pixels
    at = send_event(at, {"type": "role", "role": "reference", "x": 427, "y": 307})
    assert not at.exception
    assert workbench(at).current().reference.pixels == pytest.approx(66, abs=4)
    assert len(objects_table(at)) == 5  # the quarter is an object now
    assert widths(at)[0] > 40  # measured against a smaller "reference", all grow
    at.button(key="measure_undo").click().run()
    assert workbench(at).current().reference.pixels == pytest.approx(quarter_px)


def test_leaving_a_region_out_by_a_click(app_db):
    at = upload(
        page_test("measure").run(), "example_02.png", real_photo("unlabelled", "example_02.png")
    )
    at = answer(at, "us_quarter")
    at = send_event(at, {"type": "role", "role": "excluded", "x": 427, "y": 307})
    assert len(objects_table(at)) == 4
    assert any("1 region left out by you" in c.value for c in at.caption)


def test_a_box_on_a_merged_blob_measures_the_object_alone(app_db):
    at = upload(
        page_test("measure").run(), "real.jpg", real_photo("pills", "real.jpg"), "image/jpeg"
    )
    at = answer(at, "euro_2")
    count = len(objects_table(at))
    at = send_event(at, {"type": "box", "x": 100, "y": 490, "w": 92, "h": 112})
    assert not at.exception
    assert len(objects_table(at)) == count + 1
    assert any("was cut out" in c.value for c in at.caption)


def test_a_photo_where_the_segmenter_finds_nothing_opens_the_editor(app_db):
    """The segmenter's message says "draw a box around it": the editor must be
    there to do it (it was not), on an empty mask, with what to do; painted
    (or boxed) objects and a reference are then measured."""
    blank = encode_png(np.full((300, 400, 3), 255, np.uint8))
    at = upload(page_test("measure").run(), "blank.png", blank)
    at = answer(at, "us_quarter")
    assert not at.exception
    assert any("no object found" in e.value for e in at.main.error), [e.value for e in at.error]
    hints = [i.value for i in at.main.info]
    assert any("**Box**" in h and "**Regions**" in h for h in hints), hints
    assert not any("Cannot measure yet" in e.value for e in at.error)
    mask = workbench(at).mask
    assert mask is not None and mask.shape == (300, 400) and not mask.any()
    radius = 30.0
    at = send_event(
        at, {"type": "stroke", "brush": "reference", "radius": radius, "points": [[100, 150]]}
    )
    at = send_event(
        at, {"type": "stroke", "brush": "object", "radius": 10, "points": [[220, 120], [320, 120]]}
    )
    assert not at.exception
    assert not any("no object found" in e.value for e in at.error)  # the operator has acted
    width = widths(at)[0]
    # a disc 2r + 1 px across is the quarter; the object spans 100 + 2 * 10 + 1 px
    assert width == pytest.approx(121 * 24.26 / (2 * radius + 1), rel=0.05)


def test_a_brush_stroke_splits_an_object_and_undo_takes_it_back(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    box = workbench(at).current().objects[0]
    middle = float((box.A[0] + box.B[0]) / 2)
    at = send_event(
        at,
        {
            "type": "stroke",
            "brush": "erase",
            "radius": 4,
            "points": [[middle, float(box.E[1]) - 5], [middle, float(box.A[1]) + 5]],
        },
    )
    assert len(objects_table(at)) == 2
    at.button(key="measure_undo").click().run()
    assert len(objects_table(at)) == 1


def test_a_problem_with_an_event_is_said_and_nothing_changes(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    at = send_event(at, {"type": "role", "role": "reference", "x": 5, "y": 5})
    assert not at.exception
    assert any("no region under that point" in w.value for w in at.warning)
    assert len(objects_table(at)) == 1


# ------------------------------------------------------------------ options and errors
def test_unit_from_the_sidebar(app_db):
    at = app_test().run()
    width_mm = widths(at)[0]
    at.selectbox(key="sidebar_unit").set_value("cm").run()
    assert not at.exception
    assert widths(at)[0] == pytest.approx(width_mm / 10, abs=0.006)
    assert objects_table(at)["width"][0].endswith(" cm")


def test_offset_n_is_subtracted_from_the_height(app_db):
    at = choose(page_test("measure").run(), "card_rectangle")
    height = heights(at)[0]
    at.text_input(key="measure_offset").set_value("1 cm").run()
    assert heights(at)[0] == pytest.approx(height - 10.0, abs=0.006)


@pytest.mark.parametrize(
    ("widget", "value", "words"),
    [
        ("measure_reference_size", "abc", "not a size"),
        ("measure_reference_size", "-3x4", "positive"),
        ("measure_offset", "9 furlongs", "not a length"),
    ],
)
def test_bad_input_is_a_message_not_a_traceback(app_db, widget, value, words):
    at = page_test("measure").run()
    at.text_input(key=widget).set_value(value).run()
    assert not at.exception
    shown = [e.value for e in at.error] + [s.value for s in at.caption]
    assert any(words in text for text in shown), shown
    assert not at.dataframe


def test_homography_with_a_single_length_is_explained(app_db):
    at = page_test("measure").run()
    at.selectbox(key="measure_reference_preset").set_value("euro_1").run()
    at.radio(key="measure_method").set_value("homography").run()
    assert not at.exception
    assert any("homography" in e.value and "width x" in e.value for e in at.error)


def test_incomplete_sagemaker_settings_are_explained(app_db, monkeypatch):
    monkeypatch.setenv("OBJLEN_SEGMENTER", "sagemaker")
    monkeypatch.setenv("OBJLEN_ENDPOINT", "seg-prod")  # and no region anywhere
    at = page_test("measure").run()
    assert not at.exception
    assert any("region" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.dataframe
    at.radio(key="measure_mask_source").set_value("sample").run()  # no segmenter needed
    assert not at.exception and not at.error
    assert len(objects_table(at)) == 1


def test_a_one_pixel_photo_is_refused_in_plain_words(app_db):
    tiny = encode_png(np.zeros((1, 1, 3), np.uint8))
    at = upload(page_test("measure").run(), "tiny.png", tiny)
    assert not at.exception
    assert any("only 1 × 1 pixels" in e.value for e in at.error), [e.value for e in at.error]
    assert not any("(H, W, 3)" in e.value for e in at.error)


def test_a_file_that_is_not_an_image_is_refused(app_db):
    at = upload(page_test("measure").run(), "notes.png", b"not a picture")
    assert not at.exception
    assert any("not an image" in e.value for e in at.error), [e.value for e in at.error]


def test_a_corrupt_photo_is_refused_where_the_operator_looks(app_db):
    """The error is in the main area (the sidebar's is below the fold at
    1280 x 800), names the file once, and no "choose a photo" invites an
    upload the operator has just made."""
    truncated = (SAMPLES / "card_ellipse.jpg").read_bytes()[:3000]
    at = upload(page_test("measure").run(), "broken.jpg", truncated, "image/jpeg")
    assert not at.exception
    errors = [e.value for e in at.main.error]
    assert len(errors) == 1, errors
    assert "truncated or corrupt" in errors[0] and errors[0].count("broken.jpg") == 1, errors
    assert not at.sidebar.error
    assert not [i.value for i in at.main.info if "Choose a photo" in i.value]


def test_a_photo_removed_from_the_uploader_is_no_longer_measured(app_db):
    """The uploader's X: the page went on measuring the photo the uploader no
    longer listed. Leaving the page and coming back still keeps it (the
    uploader is empty then too)."""
    at = upload(
        page_test("measure").run(), "ellipse.jpg", (SAMPLES / "card_ellipse.jpg").read_bytes()
    )
    at = answer(at, "card")
    assert objects_table(at) is not None
    at.file_uploader(key="measure_upload").clear().run()
    assert not at.exception
    assert not at.dataframe
    assert not any("ellipse.jpg" in m.value for m in at.markdown)
    assert any("Choose a photo" in i.value for i in at.main.info)


def test_upload_a_photo_and_its_mask(app_db):
    truth = TRUTH["card_ellipse"]
    at = upload(page_test("measure").run(), "ellipse.jpg", (SAMPLES / truth["file"]).read_bytes())
    at = answer(at, "card")
    at.radio(key="measure_mask_source").set_value("upload").run()
    mask = (SAMPLES / truth["mask_file"]).read_bytes()
    at.file_uploader(key="measure_mask_upload").upload("ellipse.png", mask, "image/png").run()
    assert not at.exception
    assert "ellipse.jpg · 1600 × 1200 px" in at.markdown[1].value
    assert widths(at)[0] == pytest.approx(truth["object"]["width_mm"], rel=0.01)


def test_upload_a_heic_photo(app_db):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    truth = TRUTH["card_rectangle"]
    buffer = io.BytesIO()
    Image.open(SAMPLES / truth["file"]).save(buffer, format="HEIF", quality=90)
    heic = buffer.getvalue()
    at = upload(page_test("measure").run(), "phone.heic", heic, "image/heic")
    at = answer(at, "card")
    at.radio(key="measure_mask_source").set_value("upload").run()
    mask_bytes = (SAMPLES / truth["mask_file"]).read_bytes()
    at.file_uploader(key="measure_mask_upload").upload("m.png", mask_bytes, "image/png").run()
    assert not at.exception
    assert "phone.heic · 1600 × 1200 px" in at.markdown[1].value
    image = load_image(heic)
    mask, _ = load_mask(mask_bytes, (1600, 1200))
    spec = ReferenceSpec(size=(85.60, 53.98))
    expected = measure(mask, MeasureOptions(reference=spec), image=image)
    assert widths(at)[0] == pytest.approx(expected.objects[0].width.value, abs=0.005)


# ------------------------------------------------------------------ saving
def test_save_keeps_every_object_and_the_choices(app_db):
    at = upload(
        page_test("measure").run(), "example_02.png", real_photo("unlabelled", "example_02.png")
    )
    at = answer(at, "us_quarter")
    at = send_event(at, {"type": "role", "role": "excluded", "x": 427, "y": 307})
    at = move(at, "B", 4.0, obj=1)
    shown = widths(at)
    at.text_input(key="measure_note").set_value("tray 7")
    at.button(key="measure_save").click().run()
    assert not at.exception
    assert any("Saved as measurement #" in s.value for s in at.success)
    store = Store(app_db)
    (row,) = store.list()
    assert row.object_count == 4 and row.note == "tray 7"
    assert [o.width for o in store.objects(row.id)] == pytest.approx(shown, abs=0.005)
    assert store.objects(row.id)[1].moved_points == "B"
    choices = row.choices
    assert choices["preset"] == "us_quarter"
    assert choices["edits"] == [{"kind": "role", "x": 427.0, "y": 307.0, "role": "excluded"}]
    assert row.settings["options"]["reference"]["length"] == pytest.approx(24.26)
    thumbnail = store.thumbnail(row.id)
    assert thumbnail is not None and thumbnail.startswith(b"\x89PNG")
    saved_mask, _ = load_mask(store.mask_path(row))
    assert np.array_equal(saved_mask, workbench(at).mask)


def test_a_second_click_on_save_does_not_save_the_same_again(app_db):
    """Save is offered again only once something changed (a point, the note):
    two clicks on the same measurement made two identical rows."""
    at = choose(page_test("measure").run(), "card_rectangle")
    at.button(key="measure_save").click().run()
    assert at.button(key="measure_save").disabled
    assert any("Saved as measurement #" in s.value for s in at.success)
    assert len(Store(app_db).list()) == 1
    scale = workbench(at).current().reference.scale
    at = move(at, "B", 5.0)
    assert not at.button(key="measure_save").disabled
    at.button(key="measure_save").click().run()
    at.text_input(key="measure_note").input("again, with a note").run()
    assert not at.button(key="measure_save").disabled
    at.button(key="measure_save").click().run()
    rows = Store(app_db).list()
    assert len(rows) == 3 and rows[0].note == "again, with a note"
    assert rows[1].width == pytest.approx(rows[2].width + 5 * scale, abs=0.01)


def test_the_downloads_are_offered(app_db):
    at = choose(page_test("measure").run(), "card_ellipse")
    buttons = {b.key: b for b in at.get("download_button")}
    assert set(buttons) >= {"measure_download_json", "measure_download_png"}


def test_the_measuring_mat_is_offered_for_every_paper(app_db):
    from objlen.board import PAPERS

    at = page_test("measure").run()
    assert not at.exception
    papers = at.sidebar.selectbox(key="measure_mat_paper")
    assert list(papers.options) == list(PAPERS)
    for paper in PAPERS:
        at = papers.set_value(paper).run()
        assert not at.exception
        labels = [element.proto.label for element in at.get("download_button")]
        assert f"Download the {paper} mat (PDF)" in labels


def _mat_photo():
    """A rendered photo of objlen's A4 mat, tilted 25 deg, a card-sized plate and a
    lid in its middle; returned with the objects' true sizes (mm)."""
    from objlen.board import MAT_BOARDS
    from objlen.testing.synthetic import Camera, PhotoEffects, PlaneShape, render_board_scene

    shapes = [
        PlaneShape("rectangle", (-18, 15), (48, 72)),
        PlaneShape("ellipse", (28, -30), (44, 34)),
    ]
    scene = render_board_scene(
        shapes,
        MAT_BOARDS["A4"],
        Camera(tilt_deg=25.0, distance_mm=430.0),
        effects=PhotoEffects(distortion_k1=0.04, jpeg_quality=90, blur_px=0.5),
        seed=5,
    )
    return scene, [scene.object_size_mm(i) for i in range(len(shapes))]


def test_a_photo_of_the_measuring_mat_is_measured_against_it(app_db):
    scene, truth = _mat_photo()
    at = upload(page_test("measure").run(), "mat.png", encode_png(scene.image))
    at = answer(at, "mat")
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    # The mat fixes the perspective: choosing it sets the homography method.
    assert at.radio(key="measure_method").value == "homography"
    header = at.markdown[1].value
    assert "Measuring mat (printed by objlen)" in header
    assert "board fit:" in header and "corners, RMS" in header
    captions = " ".join(c.value for c in at.caption)
    assert "reprojection RMS" in captions and "estimated from the board" in captions
    shown = sorted(zip(widths(at), heights(at), strict=True))
    # Within the local segmenter's boundary (it finds these edges 0.5-1 mm out).
    np.testing.assert_allclose(shown, sorted(truth), rtol=0.03)
    # The same numbers as objlen's own path (the command line's --board mat).
    from objlen.segment import make_segmenter

    spec = ReferenceSpec(board="mat")
    mask = make_segmenter("local", classes=workbench(at).classes, reference=spec)
    options = MeasureOptions(method="homography", reference=spec, all_objects=True)
    result = measure(mask.segment(scene.image).mask, options, image=scene.image)
    expected = sorted((o.width.value, o.height.value) for o in result.objects)
    np.testing.assert_allclose(shown, expected, atol=0.006)  # the table rounds to 0.01


def test_the_mat_chosen_for_a_photo_without_it_is_explained(app_db):
    at = choose(page_test("measure").run(), "card_ellipse", mask="segment")
    at = at.selectbox(key="measure_reference_preset").set_value("mat").run()
    assert not at.exception
    assert any("no ChArUco board" in e.value for e in at.error), [e.value for e in at.error]
