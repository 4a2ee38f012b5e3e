"""In Chromium, on real photos: every object in the table, the reference chosen
by a click, a box around an object the segmenter merged with the author's
handwriting, and a brush stroke; screenshots at 1280 x 800 and 1920 x 1080."""

from __future__ import annotations

import pytest

from tests.e2e.editor import (
    SCREENS,
    TIMEOUT_MS,
    answer_reference,
    drag,
    editor,
    header_text,
    open_measure,
    poll,
    realphoto,
    shot,
    to_screen,
    upload,
    use_tool,
    version,
    wait_idle,
    wait_version_change,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_object_in_the_table_and_the_reference_chosen_by_a_click(page, app_url, screen):
    """example_02.png: a quarter and five pills. All five are measured; a click
    with the Regions tool makes a pill the reference, and Undo takes it back."""
    width, height = SCREENS[screen]
    page.set_viewport_size({"width": width, "height": height})
    open_measure(page, app_url)
    upload(page, realphoto("unlabelled", "example_02.png"))
    shot(page, f"reference-question-{screen}.png")
    answer_reference(page, "US quarter")
    state = editor(page)
    assert len(state["data_objects"]) == 5
    assert header_text(page).startswith("Reference: US quarter Ø 24.26 mm")
    assert "CD 13" in header_text(page)  # the quarter is about 133 px across
    assert page.get_by_text("Object 1 of 5").count() == 1
    shot(page, f"measure-objects-{screen}.png")

    # choosing a row of the table puts that object's points on the photo
    grid = page.locator("[data-testid=stDataFrame]").first.bounding_box()
    page.mouse.click(grid["x"] + 16, grid["y"] + 35 + 35 * 2 + 17)  # row 3's checkbox
    poll(lambda: editor(page)["selected"] == 2, "object 3 selected on the photo")
    wait_idle(page)
    assert page.get_by_text("Object 3 of 5").count() == 1

    use_tool(page, "Regions")
    assert editor(page)["mode"] == "choose"
    before = version(page)
    page.mouse.click(*to_screen(page, (427, 307)))  # the round white pill
    wait_version_change(page, before)
    wait_idle(page)
    poll(lambda: "CD 6" in header_text(page), "the pill as the reference (about 66 px)")
    state = editor(page)
    assert len(state["data_objects"]) == 5  # the quarter is an object now
    assert abs(state["reference"]["C"][1] - 307) < 40
    shot(page, f"reference-by-click-{screen}.png")
    page.get_by_role("button", name="Undo").click()
    poll(lambda: "CD 13" in header_text(page), "the quarter again")


def test_a_box_cuts_a_pill_out_of_the_handwriting(page, app_url):
    """pills/real.jpg: the author's handwriting joins the orange pill to its
    label; a box around the pill measures the pill alone."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_measure(page, app_url)
    upload(page, realphoto("pills", "real.jpg"))
    answer_reference(page, "2 euro coin")
    count = len(editor(page)["data_objects"])
    shot(page, "box-before-1920x1080.png")
    use_tool(page, "Box")
    before = version(page)
    drag(page, to_screen(page, (100, 490)), to_screen(page, (192, 602)))
    wait_version_change(page, before)
    wait_idle(page)
    objects = editor(page)["data_objects"]
    assert len(objects) == count + 1  # the pill, and what was left of the label
    page.wait_for_selector("text=was cut out", timeout=TIMEOUT_MS)  # the note says what was done
    pill = [o for o in objects if 100 <= o["A"][0] <= 200 and 480 <= o["A"][1] <= 620]
    assert pill, objects
    shot(page, "box-after-1920x1080.png")


def test_a_brush_stroke_splits_an_object(page, app_url):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_measure(page, app_url)
    obj = editor(page)["data_objects"][0]
    middle = (obj["A"][0] + obj["B"][0]) / 2
    use_tool(page, "Brush")
    page.get_by_role("button", name="Object · ").first.click()  # the brush's settings
    page.get_by_text("Erase", exact=True).first.click()
    wait_idle(page)
    page.keyboard.press("Escape")
    before = version(page)
    drag(
        page,
        to_screen(page, (middle, obj["E"][1] - 20)),
        to_screen(page, (middle, obj["A"][1] + 20)),
        16,
    )
    wait_version_change(page, before)
    wait_idle(page)
    assert len(editor(page)["data_objects"]) == 2
    page.wait_for_selector("text=erase brush:", timeout=TIMEOUT_MS)
    shot(page, "brush-1280x800.png")
    page.get_by_role("button", name="Undo").click()
    poll(lambda: len(editor(page)["data_objects"]) == 1, "one object again")
