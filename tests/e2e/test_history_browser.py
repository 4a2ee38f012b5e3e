"""In Chromium: a measurement saved on the Measure page appears on the History
page with its thumbnail; reopened there, it comes back on the Measure page
with its numbers, is corrected, and is saved as a new version while the old
one stays as it was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.editor import (
    SCREENS,
    TIMEOUT_MS,
    drag,
    editor,
    header_text,
    open_measure,
    poll,
    selected_numbers,
    shot,
    to_screen,
    wait_idle,
)

pytestmark = pytest.mark.browser


def history_csv(page, which: str = "one line per measurement") -> list[list[str]]:
    """One of the History page's CSV exports (the grid itself is drawn on a canvas)."""
    button = page.get_by_role("button", name=f"Download CSV ({which})")
    button.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download() as download:
        button.click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    return [line.split(",") for line in lines]


def test_save_reopen_from_history_correct_and_save_a_new_version(page, app_url):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_measure(page, app_url)
    width_saved, _ = selected_numbers(page)
    page.get_by_role("button", name="Save to history").click()
    saved = page.wait_for_selector("text=/Saved as measurement #\\d+/", timeout=TIMEOUT_MS)
    row_id = int(re.search(r"#(\d+)", saved.inner_text()).group(1))

    page.goto(f"{app_url}/history")
    page.wait_for_selector("text=Widths and heights over time", timeout=TIMEOUT_MS)
    wait_idle(page)
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.wait_for(timeout=TIMEOUT_MS)
    poll(lambda: grid.bounding_box()["height"] > 60, "the table with its thumbnails")
    for name, (w, h) in SCREENS.items():
        page.set_viewport_size({"width": w, "height": h})
        page.locator("h1").first.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        shot(page, f"history-{name}.png")
    rows = history_csv(page)
    width_column = rows[0].index("width")
    line = next(row for row in rows[1:] if row[0] == str(row_id))
    assert float(line[width_column]) == pytest.approx(width_saved, abs=0.006)
    objects = history_csv(page, "every object")
    assert objects[0][:5] == ["id", "version", "created_at", "image_name", "object"]
    mine = [row for row in objects[1:] if row[0] == str(row_id)]
    assert [row[4] for row in mine] == ["1"]  # the sample has one object
    assert float(mine[0][objects[0].index("width")]) == pytest.approx(width_saved, abs=0.006)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Open on the Measure page").click()
    page.wait_for_selector(f"text=correcting saved #{row_id}", timeout=TIMEOUT_MS)
    wait_idle(page)
    poll(lambda: editor(page)["data_objects"], "the reopened measurement in the editor")
    assert selected_numbers(page)[0] == pytest.approx(width_saved, abs=0.006)
    assert f"correcting saved #{row_id}" in header_text(page)
    shot(page, "measure-reopened-1280x800.png")

    obj = editor(page)["data_objects"][0]
    start = to_screen(page, obj["B"])
    drag(page, start, (start[0] + 25, start[1]))
    poll(lambda: selected_numbers(page)[0] > width_saved + 5, "the corrected width")
    wait_idle(page)
    corrected, _ = selected_numbers(page)
    page.get_by_role("button", name=f"Save as new version of #{row_id}").click()
    page.wait_for_selector(f"text=#{row_id} is kept as it was", timeout=TIMEOUT_MS)

    page.goto(f"{app_url}/history")
    page.wait_for_selector("text=Widths and heights over time", timeout=TIMEOUT_MS)
    wait_idle(page)
    rows = history_csv(page)
    by_id = {row[0]: row for row in rows[1:]}
    assert float(by_id[str(row_id)][width_column]) == pytest.approx(width_saved, abs=0.006)
    newer = [row for key, row in by_id.items() if int(key) > row_id]
    assert len(newer) == 1
    assert float(newer[0][width_column]) == pytest.approx(corrected, abs=0.006)
    page.locator("h1").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    shot(page, "history-versions-1280x800.png")
