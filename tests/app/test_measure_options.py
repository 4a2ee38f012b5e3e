"""The measurement options: the Measure and Batch pages ask them the same way
(``app_pages.measure_ui.options``: a reference preset, nothing assumed), the
Model page with ``common.measure_options_ui``; lengths are read in the
settings' unit and masks with the settings' class ids; every photo uploader
accepts the same types."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.common import PHOTO_TYPES
from objlen.batch.inputs import IMAGE_SUFFIXES
from objlen.imageio import encode_jpeg, encode_png
from objlen.sagemaker.session import AwsSession
from tests.app.apphelpers import ROOT, app_test, page_test
from tests.aws_servers import REGION, draw_photo
from tests.sagemaker.test_train import moto_url  # noqa: F401 - fixture

#: The option widgets of the Measure and Batch pages, by the name after the key prefix.
OPTION_WIDGETS = {
    "reference_preset": "selectbox",
    "reference_rule": "selectbox",
    "method": "radio",
    "orientation": "radio",
    "offset": "text_input",
}
#: The Model page's (the older widget of app_pages.common).
MODEL_WIDGETS = {
    "reference_kind": "radio",
    "reference_length": "text_input",
    "method": "radio",
    "orientation": "radio",
    "offset": "text_input",
}
BUCKET = "objlen-model-page"


@pytest.fixture
def aws_settings(app_db, aws_env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and a region in the settings, so the Model page shows
    every step (no call to AWS is made until a button is clicked)."""
    monkeypatch.setenv("OBJLEN_REGION", REGION)


def shown_options(at: AppTest, prefix: str, widgets: dict[str, str] = OPTION_WIDGETS) -> dict:
    """Label, choices (as shown), value and help of each option widget."""
    shown = {}
    for name, kind in widgets.items():
        widget = getattr(at, kind)(key=f"{prefix}_{name}")
        choices = tuple(widget.proto.options) if kind in ("radio", "selectbox") else ()
        shown[name] = (widget.label, choices, widget.value, widget.help)
    return shown


def test_the_batch_page_offers_the_measure_pages_options_and_defaults(aws_settings):
    measure = page_test("measure").run()
    measure.radio(key="measure_source").set_value("upload").run()
    photo = (ROOT / "samples" / "card_ellipse.jpg").read_bytes()  # a new photo: nothing known
    measure.file_uploader(key="measure_upload").upload("new.jpg", photo, "image/jpeg").run()
    batch = page_test("batch").run()
    assert not measure.exception and not batch.exception
    expected = shown_options(measure, "measure")
    assert expected["reference_preset"][2] is None  # nothing assumed
    assert expected["reference_rule"][2] == "auto"
    assert expected["orientation"][2] == "detect"
    assert shown_options(batch, "batch") == expected


def test_the_model_page_keeps_its_options(aws_settings):
    model = page_test("model").run()
    assert not model.exception
    shown = shown_options(model, "model", MODEL_WIDGETS)
    assert shown["reference_kind"][2] == "length"
    assert shown["method"][1] == ("proportional", "homography")


@pytest.mark.parametrize("prefix", ["measure", "batch"])
def test_every_kind_of_reference_can_be_chosen(aws_settings, prefix):
    at = page_test(prefix).run()
    at.selectbox(key=f"{prefix}_reference_preset").set_value("custom").run()
    at.radio(key=f"{prefix}_reference_kind").set_value("size").run()
    assert at.text_input(key=f"{prefix}_reference_size").value in ("", "85.6 x 54 mm")
    at.selectbox(key=f"{prefix}_reference_preset").set_value("aruco").run()
    assert at.selectbox(key=f"{prefix}_aruco_dictionary").value == "DICT_4X4_50"
    assert at.text_input(key=f"{prefix}_marker_size").value == ""
    at.selectbox(key=f"{prefix}_reference_preset").set_value("euro_2").run()
    assert at.selectbox(key=f"{prefix}_reference_rule").value == "auto"
    assert not at.exception


def test_every_kind_of_reference_can_be_chosen_on_the_model_page(aws_settings):
    at = page_test("model").run()
    at.radio(key="model_reference_kind").set_value("size").run()
    assert at.text_input(key="model_reference_size").value == "85.6 x 54 mm"
    at.radio(key="model_reference_kind").set_value("aruco").run()
    assert at.selectbox(key="model_aruco_dictionary").value == "DICT_4X4_50"
    assert not at.exception


def test_the_length_hint_names_the_configured_unit(aws_settings, monkeypatch):
    monkeypatch.setenv("OBJLEN_UNIT", "in")
    at = page_test("batch").run()
    at.selectbox(key="batch_reference_preset").set_value("custom").run()
    at.radio(key="batch_reference_kind").set_value("length").run()
    assert "a number in in" in at.text_input(key="batch_reference_length").help
    at = page_test("model").run()
    assert "a number in in" in at.text_input(key="model_reference_length").help


def test_a_preset_is_given_in_the_unit_of_the_settings(aws_settings, monkeypatch):
    monkeypatch.setenv("OBJLEN_UNIT", "in")
    at = page_test("batch").run()
    assert (
        "ID-1 card (bank or ID card) 3.37 × 2.13 in"
        in at.selectbox(key="batch_reference_preset").options
    )


def test_a_bad_reference_length_on_the_model_page_disables_measure(aws_settings):
    at = page_test("model").run()
    at.text_input(key="model_transform_in").set_value("s3://bucket/photos/")
    at.text_input(key="model_transform_out").set_value("s3://bucket/masks/")
    at.run()
    assert not at.button(key="model_measure").disabled
    at.text_input(key="model_reference_length").set_value("long").run()
    assert not at.exception
    assert any("not a length" in e.value for e in at.error)
    assert at.button(key="model_measure").disabled


def test_the_photo_uploaders_accept_the_same_types(app_db):
    measure = page_test("measure").run()
    measure.radio(key="measure_source").set_value("upload").run()
    batch = page_test("batch").run()
    photo_types = [f".{t}" for t in PHOTO_TYPES]
    assert list(measure.file_uploader(key="measure_upload").allowed_type) == photo_types
    assert list(batch.file_uploader(key="batch_uploads").allowed_type) == [*photo_types, ".zip"]
    assert set(photo_types) == set(IMAGE_SUFFIXES)


def test_the_model_page_reads_the_aws_connection_from_the_settings(app_db, aws_env, monkeypatch):
    monkeypatch.setenv("OBJLEN_REGION", "eu-west-3")
    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", "http://127.0.0.1:9")
    at = page_test("model").run()
    assert not at.exception
    assert at.text_input(key="model_region").value == "eu-west-3"
    assert at.text_input(key="model_profile").value == ""
    endpoint_url = at.text_input(key="model_endpoint_url")
    assert endpoint_url.value == "http://127.0.0.1:9" and endpoint_url.disabled


def test_the_model_page_follows_settings_changed_in_the_session(aws_settings):
    at = app_test().run()
    at.switch_page("app_pages/settings.py").run()
    at.text_input(key="settings_region").set_value("us-west-2")
    at.selectbox(key="settings_unit").set_value("cm")
    at.button[0].click().run()  # apply
    assert not at.exception and not at.error
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    assert at.text_input(key="model_region").value == "us-west-2"
    assert "a number in cm" in at.text_input(key="model_reference_length").help


@pytest.mark.aws
def test_the_model_page_measures_in_the_configured_unit_and_class_ids(
    app_db,
    moto_url,  # noqa: F811 - fixture
    monkeypatch,
):
    """Masks whose object is class 5 and reference class 6, 5 cm = 80 px: measured
    only when the page uses the configured class ids, and shown in cm."""
    for name, value in (
        ("OBJLEN_OBJECT_CLASS", "5"),
        ("OBJLEN_REFERENCE_CLASS", "6"),
        ("OBJLEN_UNIT", "cm"),
        ("OBJLEN_REGION", REGION),
        ("OBJLEN_ENDPOINT_URL", moto_url),
    ):
        monkeypatch.setenv(name, value)
    session = AwsSession(region=REGION, endpoint_url=moto_url, max_attempts=2)
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    # object 160 x 64 px, reference 80 x 32 px
    photo, mask = draw_photo((320, 240), (120, 100, 280, 164), (16, 16, 96, 48))
    mask[mask == 1] = 5
    mask[mask == 2] = 6
    s3.put_object(Bucket=BUCKET, Key="photos/a.jpg", Body=encode_jpeg(photo, quality=95))
    s3.put_object(Bucket=BUCKET, Key="masks/a.jpg.out", Body=encode_png(mask))

    at = page_test("model").run()
    at.text_input(key="model_transform_in").set_value(f"s3://{BUCKET}/photos/")
    at.text_input(key="model_transform_out").set_value(f"s3://{BUCKET}/masks/")
    at.text_input(key="model_reference_length").set_value("5")
    at.run()
    at.button(key="model_measure").click().run()

    assert not at.exception and not at.error
    row = at.dataframe[0].value.iloc[0]
    assert row["error"] == ""
    assert row["width (cm)"] == pytest.approx(10.0)
    assert row["height (cm)"] == pytest.approx(4.0)
