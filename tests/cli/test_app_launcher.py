"""``python -m objlen app`` and ``make run``: no app beyond loopback without a login.

Before: ``make run ADDRESS=0.0.0.0`` served every page to anyone who reached
the machine. Now the launcher refuses, in one line, unless a login is
configured or the operator allows anonymous use; on loopback it starts the
app as before (checked on a real port, 127.0.0.1 only).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from objlen.access import auth_providers, read_secrets_files
from objlen.cli.app import launch_plan, secrets_files
from objlen.errors import ParameterError
from tests.e2e.conftest import _free_port

ROOT = Path(__file__).resolve().parents[2]
AUTH = {
    "auth": {
        "redirect_uri": "https://objlen.example.test/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "objlen",
        "client_secret": "secret",
        "server_metadata_url": "https://idp.example.test/.well-known/openid-configuration",
    }
}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OBJLEN_ALLOW")}


def test_the_launcher_refuses_every_interface_without_a_login(tmp_path: Path) -> None:
    empty = tmp_path / "secrets.toml"
    empty.write_text('[objlen]\nunit = "mm"\n')
    done = subprocess.run(
        [sys.executable, "-m", "objlen", "app", "--address", "0.0.0.0", "--port", "8599",
         "--secrets", str(empty)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=_env(),
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("objlen: error: refusing to serve the app on 0.0.0.0")
    assert "--allow-anonymous" in lines[0]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_on_every_interface_is_refused_with_a_clear_message() -> None:
    if auth_providers(read_secrets_files(secrets_files())):  # it would really serve
        pytest.skip("a login is configured in this machine's secrets.toml")
    done = subprocess.run(
        ["make", "-s", "run", "ADDRESS=0.0.0.0", "PORT=8598"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=_env(),
    )  # fmt: skip
    assert done.returncode != 0
    assert "objlen: error: refusing to serve the app on 0.0.0.0 without a login" in done.stderr


def test_a_login_or_the_operators_word_lets_it_listen() -> None:
    command, env = launch_plan("0.0.0.0", 8080, False, AUTH, {})
    assert command[-4:] == ["--server.address", "0.0.0.0", "--server.port", "8080"]
    assert "OBJLEN_ALLOW_ANONYMOUS" not in env
    command, env = launch_plan("0.0.0.0", 8080, True, {}, {})
    assert env["OBJLEN_ALLOW_ANONYMOUS"] == "1"  # so that the app's own check agrees
    with pytest.raises(ParameterError, match="refusing"):
        launch_plan("192.0.2.1", 8080, False, {"auth": {"client_id": "x"}}, {})
    with pytest.raises(ParameterError, match="--port"):
        launch_plan("localhost", 0, False, {}, {})


def test_on_loopback_the_launcher_starts_the_app(tmp_path: Path) -> None:
    """The README's first command, offline, with no configuration."""
    port = _free_port()
    env = _env()
    env["OBJLEN_DATA_ROOT"] = str(tmp_path)
    env["OBJLEN_DB"] = str(tmp_path / "objlen.sqlite3")
    process = subprocess.Popen(
        [sys.executable, "-m", "objlen", "app", "--address", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the app exited"
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the app did not start in 60 s"
                time.sleep(0.3)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
