"""In Chromium: a measurement saved on the Measure page appears on the History page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_browser import TIMEOUT_MS, number, open_measure, shot, wait_idle, width_text

pytestmark = pytest.mark.browser


def test_saved_measurement_is_listed_in_history(page, app_url):
    open_measure(page, app_url)
    width_on_measure = number(width_text(page))
    page.get_by_role("button", name="Save to history").click()
    saved = page.wait_for_selector("text=/Saved as measurement #\\d+/", timeout=TIMEOUT_MS)
    row_id = int(re.search(r"#(\d+)", saved.inner_text()).group(1))

    page.goto(f"{app_url}/history")
    page.wait_for_selector("text=Widths and heights over time", timeout=TIMEOUT_MS)
    wait_idle(page)
    caption = page.get_by_text(re.compile(r"\d+ of \d+ saved measurements")).inner_text()
    assert int(caption.split(" of ")[1].split()[0]) >= row_id >= 1
    grid = page.locator("[data-testid=stDataFrame]")
    grid.wait_for(timeout=TIMEOUT_MS)  # the grid is drawn after the script's run ends
    assert grid.count() == 1
    # The grid is drawn on a canvas; its CSV export holds the saved number.
    page.get_by_role("button", name="Download CSV").wait_for(timeout=TIMEOUT_MS)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8")
    line = next(row for row in csv_text.splitlines()[1:] if row.startswith(f"{row_id},"))
    width_column = csv_text.splitlines()[0].split(",").index("width")
    assert float(line.split(",")[width_column]) == pytest.approx(width_on_measure, abs=0.006)
    page.set_viewport_size({"width": 1600, "height": 1300})
    shot(page, "history.png")
