"""Secrets in the endpoint URL never reach the command line's words or a
batch's results (issue #12, item 4).

Before: ``http://USER:PASSWORD@host/?token=...`` came back whole in the
CLI's error text and in ``results.csv`` / ``results.jsonl``. The endpoint is
the project's server on loopback (answering 500s) or a closed port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from objlen.sagemaker.local_endpoint import make_server

ROOT = Path(__file__).resolve().parents[2]
CARD = ROOT / "samples" / "card_rectangle.jpg"
PASSWORD = "pw-Sup3rSecret"
TOKEN = "tok-Sup3rSecret"
USER = "AKIDUSERNAME"
SECRETS = (PASSWORD, TOKEN, USER)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }
    env.pop("AWS_PROFILE", None)
    return subprocess.run(
        [sys.executable, "-m", "objlen", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=180, env=env,
    )  # fmt: skip


@pytest.fixture(params=["closed port", "failing server"])
def secret_url(request):
    """An endpoint URL with user-info and a token: a closed port, or the
    project's endpoint server answering 500 InternalFailure to everything."""
    if request.param == "closed port":
        yield f"http://{USER}:{PASSWORD}@127.0.0.1:{closed_port()}/?token={TOKEN}"
        return
    server = make_server(port=0).start()
    server.faults.add("internal", times=50)
    try:
        host, port = server.server_address[:2]
        yield f"http://{USER}:{PASSWORD}@{host}:{port}/?token={TOKEN}"
    finally:
        server.stop()


def segmenter_args(url: str) -> list[str]:
    return ["--segmenter", "sagemaker", "--endpoint", "seg", "--region", "us-east-1",
            "--endpoint-url", url]  # fmt: skip


def test_the_cli_error_text_holds_no_secret(secret_url: str) -> None:
    done = run("measure", str(CARD), "--reference-size", "85.6x54", *segmenter_args(secret_url))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("objlen: error: ")
    assert "127.0.0.1" in lines[0]  # where the call went is still said
    for secret in SECRETS:
        assert secret not in done.stderr + done.stdout


def test_batch_results_hold_no_secret(secret_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("batch", str(CARD), "--out", str(out), "--reference-size", "85.6x54", "--quiet",
               *segmenter_args(secret_url))  # fmt: skip
    assert done.returncode == 1, done.stderr
    written = "".join(p.read_text() for p in out.glob("results.*"))
    assert "127.0.0.1" in written
    for secret in SECRETS:
        assert secret not in written
        assert secret not in done.stderr + done.stdout
