"""Who may use the app and what it may touch, under AppTest (issue #12, items 3-4).

Before: served beyond loopback, the app gave any browser user the server's
files (the database path, the batch input and results folders took any
path) and its network (the endpoint URL took any URL, and the call to it
carried the access key id and session token in its signed headers), and the
Settings page showed the endpoint URL with its password and ``?token=``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from tests.app.apphelpers import app_test, page_test

PASSWORD = "pw-Sup3rSecret"
TOKEN = "tok-Sup3rSecret"
USER = "AKIDUSERNAME"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret-for-tests",
    "client_id": "objlen",
    "client_secret": "client-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def texts(at) -> str:
    """Everything the page shows as text, widget values included."""
    parts = [
        e.value
        for kind in ("title", "markdown", "caption", "error", "warning", "success", "info")
        for e in getattr(at, kind)
    ]
    parts += [str(t.value) for t in at.table]
    parts += [f"{w.label} {w.value}" for w in at.text_input]
    return "\n".join(parts)


@pytest.fixture
def served_on(monkeypatch):
    """Pretend the server listens on an address (Streamlit's server.address)."""
    before = streamlit_config.get_option("server.address")

    def set_address(address: str | None) -> None:
        streamlit_config.set_option("server.address", address)

    yield set_address
    streamlit_config.set_option("server.address", before)


# -- the login and the refusal ------------------------------------------------------


def test_with_a_login_configured_a_visitor_sees_only_the_login(app_db) -> None:
    at = app_test()
    at.secrets["auth"] = AUTH
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in"]
    assert [t.value for t in at.title] == ["objlen"]
    assert not at.text_input and not at.file_uploader and not at.sidebar.selectbox


def test_named_providers_get_a_button_each(app_db) -> None:
    at = app_test()
    provider = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    at.secrets["auth"] = {
        "redirect_uri": AUTH["redirect_uri"],
        "cookie_secret": AUTH["cookie_secret"],
        "corp": provider,
        "google": provider,
    }
    at.run()
    assert [b.label for b in at.button] == ["Log in with corp", "Log in with google"]


def test_beyond_loopback_without_a_login_nothing_is_served(app_db, served_on) -> None:
    served_on("0.0.0.0")
    at = app_test().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["objlen"]
    assert at.error[0].value.startswith("This app is not served: refusing to serve the app")
    assert not at.button and not at.text_input and not at.file_uploader


def test_streamlits_default_address_is_every_interface(app_db, served_on) -> None:
    served_on(None)
    at = app_test().run()
    assert at.error and "every interface" in at.error[0].value


def test_the_operator_can_allow_anonymous_use(app_db, served_on, monkeypatch) -> None:
    served_on("0.0.0.0")
    monkeypatch.setenv("OBJLEN_ALLOW_ANONYMOUS", "1")
    at = app_test().run()
    assert not at.exception
    assert "objlen" not in [t.value for t in at.title]
    assert not [e for e in at.error if "not served" in e.value]


def test_on_loopback_without_configuration_the_app_runs(app_db, served_on) -> None:
    served_on("localhost")
    at = app_test().run()
    assert not at.exception
    assert not [e for e in at.error if "not served" in e.value]
    assert at.selectbox(key="sidebar_unit").value == "mm"


# -- the operator's URLs and database: shown redacted, not editable -----------------


def secret_url() -> str:
    return f"http://{USER}:{PASSWORD}@127.0.0.1:9/runtime?token={TOKEN}"


def test_settings_show_the_endpoint_url_redacted_and_not_editable(app_db, monkeypatch) -> None:
    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", secret_url())
    monkeypatch.setenv("OBJLEN_S3_ENDPOINT_URL", secret_url())
    at = page_test("settings").run()
    assert not at.exception
    shown = texts(at)
    assert "http://***@127.0.0.1:9/runtime?***" in shown
    for secret in (PASSWORD, TOKEN, USER):
        assert secret not in shown
    editable = [w.label for w in at.text_input if not w.disabled]
    assert editable and not [
        label for label in editable if "URL" in label or "database" in label.lower()
    ]


def test_the_model_page_cannot_change_the_endpoint_url(app_db, aws_env, monkeypatch) -> None:
    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", secret_url())
    monkeypatch.setenv("OBJLEN_REGION", "us-east-1")
    at = page_test("model").run()
    assert not at.exception
    assert at.text_input(key="model_endpoint_url").disabled
    assert PASSWORD not in texts(at) and TOKEN not in texts(at)


def test_the_batch_page_has_no_s3_endpoint_field(app_db) -> None:
    at = page_test("batch").run()
    assert not at.exception
    assert not [w for w in at.text_input if "endpoint" in w.label.lower()]


def test_test_connection_with_a_secret_in_the_url_shows_none(aws_env, monkeypatch) -> None:
    """Item 4: the error of Settings -> Test connection."""
    monkeypatch.setenv("OBJLEN_ENDPOINT", "seg")
    monkeypatch.setenv("OBJLEN_REGION", "ap-northeast-1")
    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", secret_url())  # port 9: nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    at = page_test("settings").run()
    at.button(key="settings_test").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Connection failed: ")
    assert "127.0.0.1:9/runtime" in errors[0]
    for secret in (PASSWORD, TOKEN, USER):
        assert secret not in texts(at)


# -- the data root --------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    """A data root of its own, with a link out of it and a folder outside."""
    folder = tmp_path / "root"
    (folder / "in").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, folder / "escape")
    monkeypatch.setenv("OBJLEN_DATA_ROOT", str(folder))
    monkeypatch.setenv("OBJLEN_DB", str(folder / "objlen.sqlite3"))
    return folder


def outside_errors(at) -> list[str]:
    return [e.value for e in at.error if "outside the data root" in e.value]


@pytest.mark.parametrize("given", ["/etc", "../outside", "escape", "/proc/self/cwd"])
def test_batch_inputs_outside_the_data_root_are_refused(app_db, root, given: str) -> None:
    at = page_test("batch").run()
    at.radio(key="batch_source").set_value("location").run()
    at.text_area(key="batch_locations").input(f"in\n{given}").run()
    assert not at.exception
    assert outside_errors(at), texts(at)
    assert at.button(key="batch_run").disabled


@pytest.mark.parametrize("given", ["/tmp/objlen-results", "../outside/results", "escape/new"])
def test_a_results_folder_outside_the_data_root_is_refused(app_db, root, given: str) -> None:
    at = page_test("batch").run()
    at.text_input(key="batch_out").set_value(given).run()
    assert not at.exception
    assert outside_errors(at)
    assert "batch_run" not in [b.key for b in at.button]  # no Run button to press
    assert not Path("/tmp/objlen-results").exists()
    assert not (root.parent / "outside" / "results").exists()
    assert not (root.parent / "outside" / "new").exists()


def test_the_dataset_page_writes_and_reads_only_under_the_data_root(app_db, root) -> None:
    at = page_test("dataset").run()
    at.text_input(key="dataset_out").set_value("escape/dataset")
    at.button(key="dataset_export").click().run()
    assert not at.exception
    assert outside_errors(at)
    assert not (root.parent / "outside" / "dataset").exists()
    at.text_input(key="dataset_check").set_value("/etc")
    at.button(key="dataset_validate").click().run()
    assert len(outside_errors(at)) >= 1


def test_the_model_page_uploads_only_from_under_the_data_root(app_db, root, aws_env, monkeypatch):
    monkeypatch.setenv("OBJLEN_REGION", "us-east-1")
    at = page_test("model").run()
    at.text_input(key="model_dataset").set_value("/etc").run()
    assert not at.exception
    assert outside_errors(at)


def test_a_database_outside_the_data_root_is_not_opened(app_db, root, monkeypatch) -> None:
    elsewhere = root.parent / "outside" / "objlen.sqlite3"
    monkeypatch.setenv("OBJLEN_DB", str(elsewhere))
    at = page_test("history").run()
    assert not at.exception
    assert outside_errors(at)
    assert not elsewhere.exists()
