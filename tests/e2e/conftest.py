"""Fixtures of the browser tests: ``streamlit run app.py`` in a subprocess and
Debian's Chromium driven by Playwright (never a downloaded browser).

Without Chromium (or Playwright) the tests are skipped with the reason, except
in CI (``CI=true``), where that is a failure. Timings measured by the tests
are printed in the terminal summary; they are reported, not asserted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60
#: name -> text, filled by the tests, printed at the end of the run.
TIMINGS: dict[str, str] = {}


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (in CI the browser tests must run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not start in {SERVER_START_TIMEOUT_S} s:\n{log.read_text()}")


def stop_group(process: subprocess.Popen) -> None:
    """Stop ``process`` and its process group: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def served_app(command: list[str], folder: Path, url: str) -> Iterator[str]:
    """The app started by ``command`` (from the repository, with its own database
    and data root in ``folder``, no ``OBJLEN_``/``AWS_`` settings inherited),
    yielding ``url`` once it is healthy and stopped with its process group after."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("OBJLEN_", "AWS_"))
    }
    env["OBJLEN_DB"] = str(folder / "objlen.sqlite3")
    env["OBJLEN_DATA_ROOT"] = str(folder)
    log = folder / "streamlit.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        stop_group(process)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` on a free port with its own database; stopped
    (the whole process group) after the module's tests."""
    port = _free_port()
    command = [
        *(sys.executable, "-m", "streamlit", "run", "app.py"),
        *("--server.port", str(port)),
        *("--server.headless", "true"),
        *("--server.fileWatcherType", "none"),
        *("--browser.gatherUsageStats", "false"),
    ]
    folder = tmp_path_factory.mktemp("e2e-server")
    with served_app(command, folder, f"http://127.0.0.1:{port}") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing: install Debian's chromium (scripts/ensure-chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements-dev.txt
        _missing("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page (its own session), 1600 x 1200 CSS pixels."""
    context = browser.new_context(viewport={"width": 1600, "height": 1200}, device_scale_factor=1)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="session")
def timings() -> dict[str, str]:
    """Where a test puts a timing to report (printed in the terminal summary)."""
    return TIMINGS


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print the timings the browser tests measured."""
    if TIMINGS:
        terminalreporter.section("objlen browser timings (reported, not asserted)")
        for name, text in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {text}")
