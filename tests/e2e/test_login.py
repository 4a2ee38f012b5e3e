"""The app's login (Streamlit's st.login) against a real OpenID Connect provider.

The provider is panva's ``oidc-provider`` from the npm registry
(``tests/e2e/oidc/``, installed by ``make oidc-deps``), run with the machine's
node on 127.0.0.1; the app is started by ``python -m objlen app`` on
127.0.0.1 with a ``secrets.toml`` whose ``[auth]`` names that provider; the
browser is Debian's Chromium driven by Playwright. Everything listens on
loopback and stops after the module.

What is covered: the provider's discovery document as Streamlit reads it;
an anonymous visitor sees only the login screen (no page, no sidebar);
"Log in" sends the browser to the provider's authorization endpoint with
the app's client id, redirect URI and the scopes; the provider's own login
and consent pages; the redirect back to ``/oauth2callback``, where Streamlit
(Authlib) exchanges the code for the ID token over HTTP and sets its
identity cookie; the app then shows its pages and who is logged in; "Log
out" ends the session at the provider too and shows the login screen again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import ROOT, _free_port, _missing, served_app, stop_group

OIDC_DIR = ROOT / "tests" / "e2e" / "oidc"
CLIENT_ID = "objlen-app"
CLIENT_SECRET = "a-client-secret-for-the-test-only"


@pytest.fixture(scope="module")
def oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The provider on 127.0.0.1, and the app's port it redirects back to."""
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        _missing("node or the oidc-provider package is missing: run `make oidc-deps`")
    port, app_port = _free_port(), _free_port()
    redirect_uri = f"http://localhost:{app_port}/oauth2callback"
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [node, "provider.mjs", str(port), CLIENT_ID, CLIENT_SECRET, redirect_uri],
            cwd=OIDC_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while b"ready" not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the OIDC provider did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield {
            "issuer": f"http://127.0.0.1:{port}",
            "redirect_uri": redirect_uri,
            "app_port": str(app_port),
        }
    finally:
        stop_group(process)


@pytest.fixture(scope="module")
def login_app(oidc: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m objlen app --address 127.0.0.1`` with a login configured."""
    folder = tmp_path_factory.mktemp("login-app")
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{oidc["redirect_uri"]}"\n'
        'cookie_secret = "a-long-random-cookie-secret-for-the-login-test"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{oidc["issuer"]}/.well-known/openid-configuration"\n'
        # oidc-provider knows no "select_account", Streamlit's default prompt
        '[auth.client_kwargs]\nprompt = "consent"\n'
    )
    port = oidc["app_port"]
    command = [
        *(sys.executable, "-m", "objlen", "app", "--address", "127.0.0.1"),
        *("--port", port, "--secrets", str(secrets)),
    ]
    with served_app(command, folder, f"http://localhost:{port}") as url:
        yield url


def test_the_providers_discovery_document_is_what_streamlit_reads(oidc) -> None:
    url = f"{oidc['issuer']}/.well-known/openid-configuration"
    with urllib.request.urlopen(url, timeout=10) as answer:
        document = json.loads(answer.read())
    assert document["issuer"] == oidc["issuer"]
    assert document["authorization_endpoint"] == f"{oidc['issuer']}/auth"
    assert {"openid", "email", "profile"} <= set(document["scopes_supported"])


def test_login_logout_with_a_real_provider(login_app, oidc, page) -> None:
    page.goto(login_app, wait_until="domcontentloaded")
    page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
    # Nothing of the app is shown before a login: no page, no navigation.
    assert page.get_by_text("Log in to measure").count() == 1
    assert page.locator("[data-testid=stSidebarNav]").count() == 0
    assert page.get_by_role("heading", name="Measure").count() == 0

    with page.expect_request(lambda r: r.url.startswith(f"{oidc['issuer']}/auth")) as sent:
        page.get_by_role("button", name="Log in").click()
    query = parse_qs(urlsplit(sent.value.url).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [oidc["redirect_uri"]]
    assert query["response_type"] == ["code"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}

    # The provider's own login page (any user name), then its consent page.
    page.locator("input[name=login]").wait_for(timeout=30_000)
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "any")
    page.locator("button[type=submit]").click()
    page.get_by_role("button", name="Continue").click(timeout=30_000)

    # Back in the app, through /oauth2callback: the pages and who is logged in.
    page.get_by_text("Logged in as alice@example.test").wait_for(timeout=60_000)
    assert page.url.startswith(login_app)
    page.locator("[data-testid=stSidebarNav]").wait_for(timeout=30_000)  # the app's pages

    # Log out: Streamlit ends the provider's session too (its end_session_endpoint).
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Yes, sign me out").click(timeout=30_000)
    page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
    assert page.get_by_text("Logged in as").count() == 0
