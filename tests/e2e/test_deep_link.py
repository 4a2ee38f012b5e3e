"""In Chromium: a bookmark to a page works on a freshly started server.

This module gets its own ``streamlit run`` (the ``app_url`` fixture is per
module), so its first request is the deep link itself: the router must
answer it, not Streamlit's legacy ``pages/`` discovery.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import TIMEOUT_MS, wait_idle

pytestmark = pytest.mark.browser


def test_first_request_to_a_page_url_goes_through_the_router(page, app_url):
    page.goto(f"{app_url}/history")
    page.wait_for_selector("h1:has-text('History')", timeout=TIMEOUT_MS)
    wait_idle(page)
    navigation = page.locator("[data-testid=stSidebarNav]").inner_text()
    assert "Set-up" in navigation and "Measure" in navigation  # the router's sections
    assert "common" not in navigation and "app" not in navigation.split()
    assert page.get_by_text("Segmenter: local").count() == 1  # the router's sidebar
