"""objlen.access: loopback, the login configuration, the data root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from objlen.access import (
    anonymous_allowed,
    auth_problem,
    auth_providers,
    data_root,
    inside_data_root,
    is_loopback,
    read_secrets_files,
    serving_problem,
)
from objlen.errors import ParameterError

AUTH = {
    "redirect_uri": "https://objlen.example.test/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "objlen",
    "client_secret": "secret",
    "server_metadata_url": "https://idp.example.test/.well-known/openid-configuration",
}


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.10", False),
        ("example.test", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_a_login_needs_the_auth_keys_and_a_whole_provider() -> None:
    assert auth_providers({"auth": AUTH}) == ["default"]
    named = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    named["corp"] = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    named["half"] = {"client_id": "x"}
    named["bad_name"] = dict(named["corp"])  # Streamlit refuses "_" in a provider's name
    assert auth_providers({"auth": named}) == ["corp"]
    assert auth_providers({}) == []
    assert auth_problem({}) == "secrets.toml has no [auth] section"
    assert "cookie_secret" in auth_problem({"auth": {"redirect_uri": "x"}})
    no_provider = {"redirect_uri": "x", "cookie_secret": "y"}
    assert "names no provider" in auth_problem({"auth": no_provider})
    assert auth_problem({"auth": AUTH}) is None


def test_serving_beyond_loopback_needs_a_login_or_the_operators_word() -> None:
    assert serving_problem("localhost", {}, {}) is None
    problem = serving_problem("0.0.0.0", {}, {})
    assert problem.startswith("refusing to serve the app on 0.0.0.0 without a login")
    assert "--allow-anonymous" in problem and "[auth]" in problem
    assert serving_problem(None, {}, {}).startswith("refusing to serve the app on every")
    assert serving_problem("0.0.0.0", {"auth": AUTH}, {}) is None
    assert serving_problem("0.0.0.0", {}, {"OBJLEN_ALLOW_ANONYMOUS": "1"}) is None
    assert not anonymous_allowed({"OBJLEN_ALLOW_ANONYMOUS": "0"})


def test_secrets_files_are_merged_and_bad_toml_is_one_error(tmp_path: Path) -> None:
    first = tmp_path / "a.toml"
    first.write_text('[auth]\nredirect_uri = "x"\n[objlen]\nunit = "cm"\n')
    second = tmp_path / "b.toml"
    second.write_text('[objlen]\nunit = "in"\n')
    merged = read_secrets_files([first, second, tmp_path / "missing.toml"])
    assert merged == {"auth": {"redirect_uri": "x"}, "objlen": {"unit": "in"}}
    second.write_text("[objlen\n")
    with pytest.raises(ParameterError, match="not valid TOML"):
        read_secrets_files([second])


def test_the_data_root_defaults_to_data_in_the_project(tmp_path: Path) -> None:
    assert data_root({}, tmp_path) == (tmp_path / "data").resolve()
    assert data_root({"OBJLEN_DATA_ROOT": "srv"}, tmp_path) == (tmp_path / "srv").resolve()
    assert data_root({"OBJLEN_DATA_ROOT": str(tmp_path)}, "/x") == tmp_path.resolve()


def test_paths_inside_the_data_root_are_resolved(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    assert inside_data_root("in", root, "the folder") == (root / "in").resolve()
    assert inside_data_root(root / "in" / "new", root, "x") == (root / "in" / "new").resolve()
    assert inside_data_root("in/../in", root, "x") == (root / "in").resolve()
    assert inside_data_root(str(root), root, "x") == root.resolve()


@pytest.mark.parametrize(
    "given",
    ["/etc", "/etc/passwd", "..", "../outside", "in/../../outside", "~", "/proc/self"],
)
def test_paths_outside_the_data_root_are_refused(tmp_path: Path, given: str) -> None:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    with pytest.raises(ParameterError, match="outside the data root"):
        inside_data_root(given, root, "the results folder")


def test_a_symbolic_link_out_of_the_data_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "escape")
    os.symlink("/etc/passwd", root / "passwd.jpg")
    for given in ("escape", "escape/new-folder", "passwd.jpg", str(root / "escape")):
        with pytest.raises(ParameterError, match="outside the data root"):
            inside_data_root(given, root, "the batch input")


def test_empty_and_nul_paths_are_refused(tmp_path: Path) -> None:
    for given in ("", "  ", "a\0b"):
        with pytest.raises(ParameterError, match="empty or not a path"):
            inside_data_root(given, tmp_path, "the results folder")
