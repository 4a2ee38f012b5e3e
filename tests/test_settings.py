"""objlen.settings: defaults, secrets, environment, validation, redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from objlen.classes import ClassIds
from objlen.errors import ParameterError
from objlen.segment.sagemaker import SageMakerSettings
from objlen.settings import DEFAULT_DB_PATH, AppSettings, load_settings

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_defaults_with_nothing_configured():
    settings = load_settings({}, {})
    assert settings == AppSettings()
    assert settings.segmenter == "local"
    assert settings.default_unit == "mm"
    assert settings.db_path == DEFAULT_DB_PATH == "data/objlen.sqlite3"
    assert settings.classes == ClassIds()
    assert settings.sagemaker_settings() is None


def test_secrets_section_is_read():
    secrets = {
        "objlen": {
            "segmenter": "sagemaker",
            "endpoint_name": "seg-prod",
            "region": "ap-northeast-1",
            "profile": "operator",
            "endpoint_url": "http://127.0.0.1:8080",
            "unit": "cm",
            "db_path": "/srv/objlen/db.sqlite3",
            "reference_rule": "largest",
            "timeout_s": 12,
            "classes": {"object": 3, "reference": 4},
        },
        "other_app": {"endpoint_name": "not ours"},
    }
    settings = load_settings(secrets, {})
    assert settings.segmenter == "sagemaker"
    assert settings.endpoint_name == "seg-prod"
    assert settings.region == "ap-northeast-1"
    assert settings.profile == "operator"
    assert settings.endpoint_url == "http://127.0.0.1:8080"
    assert settings.default_unit == "cm"
    assert settings.db_path == "/srv/objlen/db.sqlite3"
    assert settings.reference_rule == "largest"
    assert settings.timeout_s == 12.0
    assert settings.classes == ClassIds(background=0, object=3, reference=4, ignore=255)


def test_environment_wins_over_secrets():
    secrets = {"objlen": {"segmenter": "local", "endpoint_name": "from-file", "unit": "cm"}}
    environ = {
        "OBJLEN_SEGMENTER": "sagemaker",
        "OBJLEN_ENDPOINT": "from-env",
        "AWS_REGION": "eu-west-1",
        "AWS_PROFILE": "dev",
        "OBJLEN_ENDPOINT_URL": "https://runtime.example.test",
        "OBJLEN_UNIT": "in",
        "OBJLEN_DB": "/tmp/x.sqlite3",
        "OBJLEN_OBJECT_CLASS": "7",
    }
    settings = load_settings(secrets, environ)
    assert settings.segmenter == "sagemaker"
    assert settings.endpoint_name == "from-env"
    assert settings.region == "eu-west-1"
    assert settings.profile == "dev"
    assert settings.endpoint_url == "https://runtime.example.test"
    assert settings.default_unit == "in"
    assert settings.db_path == "/tmp/x.sqlite3"
    assert settings.classes.object == 7


@pytest.mark.parametrize(
    ("environ", "region"),
    [
        ({"AWS_DEFAULT_REGION": "us-east-1"}, "us-east-1"),
        ({"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "eu-west-1"}, "eu-west-1"),
        ({"AWS_REGION": "eu-west-1", "OBJLEN_REGION": "ap-northeast-1"}, "ap-northeast-1"),
        ({"OBJLEN_REGION": "  ", "AWS_REGION": "eu-west-1"}, "eu-west-1"),
    ],
)
def test_region_precedence(environ, region):
    assert load_settings({}, environ).region == region


def test_objlen_profile_wins_over_aws_profile():
    assert load_settings({}, {"AWS_PROFILE": "a", "OBJLEN_PROFILE": "b"}).profile == "b"


def test_sagemaker_settings_from_app_settings():
    settings = AppSettings(
        segmenter="sagemaker",
        endpoint_name=" seg ",
        region="ap-northeast-1",
        endpoint_url="http://127.0.0.1:9",
        timeout_s=5,
    )
    endpoint = settings.sagemaker_settings()
    assert isinstance(endpoint, SageMakerSettings)
    assert endpoint.endpoint_name == "seg"
    assert endpoint.region == "ap-northeast-1"
    assert endpoint.profile is None
    assert endpoint.endpoint_url == "http://127.0.0.1:9"
    assert endpoint.timeout_s == 5


def test_endpoint_without_region_is_a_clear_error():
    with pytest.raises(ParameterError, match="region"):
        AppSettings(endpoint_name="seg").sagemaker_settings()


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"OBJLEN_SEGMENTER": "cloud"}, "segmenter"),
        ({"OBJLEN_UNIT": "furlong"}, "unit"),
        ({"OBJLEN_OBJECT_CLASS": "one"}, "OBJLEN_OBJECT_CLASS"),
        ({"OBJLEN_OBJECT_CLASS": "1.5"}, "whole number"),
        ({"OBJLEN_REFERENCE_CLASS": "0"}, "distinct"),
        ({"OBJLEN_IGNORE_CLASS": "300"}, "0..255"),
        ({"OBJLEN_REFERENCE_RULE": "nearest"}, "reference rule"),
        ({"OBJLEN_ENDPOINT_URL": "127.0.0.1:8080"}, "http://"),
        ({"OBJLEN_TIMEOUT_S": "-1"}, "timeout"),
    ],
)
def test_bad_values_are_parameter_errors(environ, words):
    with pytest.raises(ParameterError, match=words):
        load_settings({}, environ)


def test_credentials_are_never_read_or_shown():
    secrets = {"objlen": {"endpoint_name": "seg", "aws_secret_access_key": SECRET}}
    environ = {"AWS_SECRET_ACCESS_KEY": SECRET, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}
    settings = load_settings(secrets, environ)
    assert settings.ignored_keys == ("aws_secret_access_key",)
    for text in (repr(settings), json.dumps(settings.redacted()), json.dumps(settings.to_dict())):
        assert SECRET not in text
        assert "AKIAEXAMPLE" not in text
    assert "aws_secret_access_key" in settings.redacted()["ignored secrets keys"]


def test_redacted_url_hides_userinfo_and_query():
    password = "s3cr3t-Pa55"
    settings = AppSettings(
        endpoint_url=f"https://user:{password}@runtime.example.test:8443/x?token=t0k3n"
    )
    shown = settings.redacted()["endpoint URL"]
    assert shown == "https://***@runtime.example.test:8443/x?***"  # objlen.redact.redact_url
    assert password not in shown and "t0k3n" not in shown and "user" not in shown
    assert password not in json.dumps(settings.to_dict())
    s3 = AppSettings(s3_endpoint_url=f"http://k:{password}@127.0.0.1:9000/?sig=x")
    assert s3.redacted()["S3 endpoint URL"] == "http://***@127.0.0.1:9000/?***"
    assert password not in json.dumps(s3.to_dict())


def test_malformed_url_is_refused_without_repeating_it():
    with pytest.raises(ParameterError) as caught:
        AppSettings(endpoint_url=f"https://user:{SECRET}@runtime.example.test/")
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_redacted_view_is_all_text_and_says_what_is_unset():
    shown = AppSettings().redacted()
    assert all(isinstance(v, str) for v in shown.values())
    assert shown["endpoint name"] == "(not set)"
    assert shown["segmenter"] == "local"


def test_db_file_relative_to_project_absolute_kept(tmp_path: Path):
    assert AppSettings().db_file(tmp_path) == tmp_path / "data" / "objlen.sqlite3"
    absolute = tmp_path / "elsewhere.sqlite3"
    assert AppSettings(db_path=str(absolute)).db_file("/nowhere") == absolute


def test_with_changes_validates():
    settings = AppSettings()
    assert settings.with_changes(default_unit="in").default_unit == "in"
    assert settings.default_unit == "mm"
    with pytest.raises(ParameterError):
        settings.with_changes(segmenter="nope")


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        AppSettings().segmenter = "sagemaker"  # type: ignore[misc]


def test_class_keys_in_flat_form():
    settings = load_settings({"objlen": {"object_class": 5, "reference_class": "6"}}, {})
    assert (settings.classes.object, settings.classes.reference) == (5, 6)
