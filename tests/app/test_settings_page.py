"""The Settings page under AppTest: loading, editing, redaction, Test connection
(against the local SageMaker-compatible endpoint of ``objlen.sagemaker.local_endpoint``)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from objlen import MeasureOptions, ReferenceSpec, load_image, measure
from objlen.classes import ClassIds
from objlen.sagemaker.local_endpoint import EndpointServer, make_server
from objlen.segment import SageMakerSettings, make_segmenter
from objlen.settings import AppSettings
from tests.app.apphelpers import SAMPLES, app_test, heights, page_test, widths

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
ENDPOINT = "objlen-test-endpoint"


@pytest.fixture
def aws_env(app_db, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for boto3, no AWS files, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/objlen-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/objlen-aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for name in ("AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def endpoint(aws_env) -> Iterator[EndpointServer]:
    """A local SageMaker-compatible endpoint (the local segmenter behind it)."""
    server = make_server(port=0, endpoint_names=[ENDPOINT]).start()
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_settings(at) -> AppSettings:
    return at.session_state["objlen_settings"]


def page_text(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "success", "info")
             for e in getattr(at, kind)]  # fmt: skip
    parts += [str(t.value) for t in at.table]
    parts += [str(w.value) for w in at.text_input]
    return "\n".join(parts)


def test_defaults_are_shown(app_db):
    at = page_test("settings").run()
    assert not at.exception
    assert session_settings(at) == AppSettings(db_path=str(app_db))
    assert at.radio(key="settings_segmenter").value == "local"
    assert str(app_db) in page_text(at)


def test_secrets_and_environment_are_loaded_and_nothing_secret_is_shown(app_db, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    at = page_test("settings")
    at.secrets["objlen"] = {
        "segmenter": "sagemaker",
        "endpoint_name": "seg-prod",
        "aws_secret_access_key": SECRET,
        "classes": {"object": 5},
    }
    at.run()
    assert not at.exception
    settings = session_settings(at)
    assert (settings.segmenter, settings.endpoint_name, settings.region) == (
        "sagemaker",
        "seg-prod",
        "eu-west-1",
    )
    assert settings.classes.object == 5
    assert at.number_input(key="settings_class_object").value == 5
    text = page_text(at)
    assert "seg-prod" in text and "aws_secret_access_key" in text  # the ignored key's name
    assert SECRET not in text


def test_apply_changes_the_session_settings(app_db, tmp_path):
    at = page_test("settings").run()
    at.radio(key="settings_segmenter").set_value("sagemaker")
    at.text_input(key="settings_endpoint").set_value("seg-a")
    at.text_input(key="settings_region").set_value("ap-northeast-1")
    at.selectbox(key="settings_unit").set_value("in")
    at.number_input(key="settings_class_reference").set_value(9)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert any("Applied" in s.value for s in at.success)
    settings = session_settings(at)
    assert settings.segmenter == "sagemaker" and settings.endpoint_name == "seg-a"
    assert settings.default_unit == "in"
    assert settings.classes.reference == 9
    assert settings.db_path == str(app_db)  # the operator's: not editable here
    assert at.text_input(key="settings_endpoint").value == "seg-a"


def test_invalid_values_are_not_applied(app_db):
    at = page_test("settings").run()
    at.text_input(key="settings_region").set_value("eu-west-9")
    at.number_input(key="settings_class_object").set_value(0)  # same as background
    at.button[0].click().run()
    assert not at.exception
    assert any(e.value.startswith("Not applied:") for e in at.error)
    assert session_settings(at) == AppSettings(db_path=str(app_db))
    assert at.text_input(key="settings_region").value == "eu-west-9"  # kept to fix


def test_reload_forgets_the_session_changes(app_db):
    at = page_test("settings").run()
    at.selectbox(key="settings_unit").set_value("cm")
    at.button[0].click().run()
    assert session_settings(at).default_unit == "cm"
    at.button(key="settings_reload").click().run()
    assert session_settings(at).default_unit == "mm"
    assert at.selectbox(key="settings_unit").value == "mm"


def test_test_connection_without_an_endpoint_says_what_to_do(app_db):
    at = page_test("settings").run()
    at.button(key="settings_test").click().run()
    assert not at.exception
    assert any("No endpoint name is set" in w.value for w in at.warning)


def test_test_connection_reports_latency(endpoint, monkeypatch):
    monkeypatch.setenv("OBJLEN_SEGMENTER", "sagemaker")
    monkeypatch.setenv("OBJLEN_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("OBJLEN_REGION", "ap-northeast-1")
    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", endpoint.url)
    at = page_test("settings").run()
    at.button(key="settings_test").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    message = at.success[0].value
    assert message.startswith(f"{ENDPOINT} answered with a valid mask in ")
    assert message.endswith(" ms.")
    assert len(endpoint.log.items()) == 1  # one call per click


def test_test_connection_reports_the_exact_problem(aws_env, monkeypatch):
    monkeypatch.setenv("OBJLEN_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("OBJLEN_REGION", "ap-northeast-1")
    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    at = page_test("settings").run()
    at.button(key="settings_test").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Connection failed: ")
    assert SECRET not in errors[0]


def test_the_measure_page_uses_the_sagemaker_endpoint(endpoint, monkeypatch):
    monkeypatch.setenv("OBJLEN_SEGMENTER", "sagemaker")
    monkeypatch.setenv("OBJLEN_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("OBJLEN_REGION", "ap-northeast-1")
    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", endpoint.url)
    at = app_test().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("segmented by the sagemaker segmenter" in c.value for c in at.caption)
    assert any("SageMaker" in c.value for c in at.sidebar.caption)
    image = load_image(SAMPLES / "card_rectangle.jpg")
    segmenter = make_segmenter(
        "sagemaker",
        classes=ClassIds(),
        sagemaker=SageMakerSettings(ENDPOINT, "ap-northeast-1", endpoint_url=endpoint.url),
    )
    segmentation = segmenter.segment(image)
    expected = measure(  # the sample's reference, as the Measure page names it
        segmentation.mask, MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0))), image=image
    )
    assert widths(at)[0] == pytest.approx(expected.objects[0].width.value, abs=0.005)
    assert heights(at)[0] == pytest.approx(expected.objects[0].height.value, abs=0.005)
