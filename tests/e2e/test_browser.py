"""The Measure page in a real headless Chromium (Playwright, sync API).

A sample is measured; point B is dragged and the width must grow by what
objlen predicts for that many screen pixels; the arrow keys nudge it by one
photo pixel; the wheel zooms until photo pixels show and a loupe follows the
point; the layout fits 1280 x 800 and 1920 x 1080. Timings are measured and
reported, not asserted: mouse-up to the new number, key press to the new
number, and uploading a 12-megapixel photo to its first overlay. Screenshots
go to $OBJLEN_SCREENSHOTS.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from objlen import MeasureOptions, ReferenceSpec, load_image, measure
from objlen.classes import ClassIds
from objlen.imageio import encode_jpeg
from objlen.segment import make_segmenter
from objlen.testing.synthetic import Camera, random_scene
from tests.e2e.editor import (
    CANVAS,
    ROOT,
    SCREENS,
    SELECTED,
    TIMEOUT_MS,
    answer_reference,
    canvas_signature,
    drag,
    editor,
    header_text,
    open_measure,
    poll,
    selected_numbers,
    shot,
    to_screen,
    upload,
    use_tool,
    version,
    wait_idle,
)

pytestmark = pytest.mark.browser

__all__ = ["TIMEOUT_MS", "wait_idle"]  # used by the other browser tests
DRAG_GOAL_MS = 400
NUDGE_GOAL_MS = 300
OVERLAY_GOAL_S = 3.0


def default_measurement():
    """What the page shows first: the first sample, segmented locally, its
    reference named from the sample's description (85.6 x 54 mm)."""
    image = load_image(ROOT / "samples" / "card_rectangle.jpg")
    spec = ReferenceSpec(size=(85.6, 54.0))
    segmentation = make_segmenter("local", classes=ClassIds(), reference=spec).segment(image)
    return measure(
        segmentation.mask,
        MeasureOptions(reference=spec, all_objects=True),
        image=image,
        input_warnings=segmentation.warnings,
    )


def width_now(page) -> float:
    return selected_numbers(page)[0]


def wait_width_change(page, before: float) -> float:
    return poll(lambda: width_now(page) != before, f"the width to change from {before}")


# -------------------------------------------------------------------- tests
def test_drag_point_b_grows_the_width_by_the_expected_amount(page, app_url):
    page.set_viewport_size({"width": 1280, "height": 800})
    base = default_measurement()
    open_measure(page, app_url)
    width0 = width_now(page)
    assert width0 == pytest.approx(base.objects[0].width.value, abs=0.005)
    shot(page, "measure-1280x800.png")

    scale = editor(page)["scale"]  # screen px per photo px
    b = to_screen(page, base.objects[0].B)
    dx_screen = 40.0
    drag(page, b, (b[0] + dx_screen, b[1]))  # no Edit toggle: a drag on a point moves it
    wait_width_change(page, width0)
    wait_idle(page)
    expected = base.objects[0].width.value + dx_screen / scale * base.reference.scale
    tolerance = 0.5 / scale * base.reference.scale  # half a screen pixel
    shown = width_now(page)
    assert shown == pytest.approx(expected, abs=tolerance)
    assert editor(page)["data_objects"][0]["moved"] == ["B"]
    shot(page, "measure-after-drag-1280x800.png")

    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.get_by_role("button", name="JSON").click()
    saved = json.loads(Path(download.value.path()).read_text())
    assert saved["schema"] == "objlen.measurement/1"
    assert saved["objects"][0]["moved"] == ["B"]
    assert saved["objects"][0]["width"]["value"] == pytest.approx(shown, abs=0.005)
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.get_by_role("button", name="Annotated PNG").click()
    assert download.value.suggested_filename == "card_rectangle.objlen.png"
    with Image.open(download.value.path()) as annotated:
        width, height = annotated.size
        assert width == base.image_size[0] and height > base.image_size[1]  # legend below

    page.get_by_role("button", name="Reset points").click()
    poll(lambda: width_now(page) == width0, "the width to come back")
    wait_idle(page)
    # B is back where the mask puts it: dragging it again starts from there
    b = to_screen(page, base.objects[0].B)
    drag(page, b, (b[0] + 20.0, b[1]))
    wait_width_change(page, width0)
    wait_idle(page)
    again = base.objects[0].width.value + 20.0 / scale * base.reference.scale
    assert width_now(page) == pytest.approx(again, abs=tolerance)


def test_keyboard_nudges_the_active_point_by_photo_pixels(page, app_url):
    page.set_viewport_size({"width": 1280, "height": 800})
    base = default_measurement()
    open_measure(page, app_url)
    per_photo_px = base.reference.scale
    b = to_screen(page, base.objects[0].B)
    page.mouse.click(*b)  # a click on a point makes it the active one (a loupe shows)
    poll(lambda: editor(page)["active"] == "B", "B to be active")
    width0 = width_now(page)
    for key, step in (("ArrowRight", 1), ("ArrowRight", 1), ("Shift+ArrowRight", 10)):
        before = width_now(page)
        page.keyboard.press(key)
        wait_width_change(page, before)
        wait_idle(page)
        assert width_now(page) - before == pytest.approx(step * per_photo_px, abs=0.011)
    assert width_now(page) == pytest.approx(width0 + 12 * per_photo_px, abs=0.011)
    state = editor(page)
    assert state["data_objects"][0]["B"][0] == pytest.approx(base.objects[0].B[0] + 12)
    page.keyboard.press("e")  # the letter of a point makes it the active one
    before = width_now(page)
    page.keyboard.press("ArrowUp")
    poll(lambda: editor(page)["data_objects"][0]["E"][1] < base.objects[0].E[1], "E to move")
    assert width_now(page) == before  # E moves the height, not the width


def test_zoom_shows_photo_pixels_and_a_loupe(page, app_url):
    for name, (w, h) in SCREENS.items():
        page.set_viewport_size({"width": w, "height": h})
        base = default_measurement()
        open_measure(page, app_url)
        b = to_screen(page, base.objects[0].B)
        page.mouse.click(*b)
        poll(lambda: editor(page)["loupe"] == "block", "the loupe")
        page.mouse.move(*to_screen(page, base.objects[0].B))
        for _ in range(8):
            page.mouse.wheel(0, -300)
            page.wait_for_timeout(40)
        poll(lambda: editor(page)["scale"] >= 4, "a zoom of 4 screen px per photo px or more")
        state = editor(page)
        assert state["zoom_label"].startswith("1 photo px = ")
        # the point under the cursor stayed under it while zooming
        after = to_screen(page, base.objects[0].B)
        assert abs(after[0] - b[0]) < 40 and abs(after[1] - b[1]) < 40
        page.wait_for_timeout(300)
        shot(page, f"measure-zoom-{name}.png")
        page.keyboard.press("0")  # back to the whole photo
        poll(lambda: editor(page)["zoom"] == 1, "the whole photo")


def test_the_layout_fits_1280x800_and_1920x1080(page, app_url):
    for name, (w, h) in SCREENS.items():
        page.set_viewport_size({"width": w, "height": h})
        open_measure(page, app_url)
        canvas = page.locator(CANVAS).bounding_box()
        assert canvas["y"] + canvas["height"] <= h, f"{name}: the photo runs below the screen"
        assert canvas["width"] >= 400
        numbers = page.locator(SELECTED).first
        box = numbers.bounding_box()
        assert box["x"] + box["width"] <= w and box["y"] + box["height"] <= h
        assert numbers.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "numbers cut off"
        table = page.locator("[data-testid=stDataFrame]").first.bounding_box()
        assert table["x"] + table["width"] <= w and table["y"] < h
        header = page.locator("[data-testid=stMarkdownContainer] p", has_text="Reference:").first
        assert header.is_visible() and header.bounding_box()["y"] < canvas["y"]
        shot(page, f"measure-{name}.png")


def test_a_narrow_window_keeps_every_tool_in_reach(page, app_url):
    """800 x 900 with the sidebar open (a main area about 420 px wide): the
    tools, Undo and Reset points show whole (the tools were scrolled out of a
    clipped row, Box and Brush unseen, Undo's label hidden), the photo above
    the numbers at the main area's width (it was 240 px wide)."""
    page.set_viewport_size({"width": 800, "height": 900})
    open_measure(page, app_url)

    def whole(locator) -> bool:
        box = locator.bounding_box()
        inside = box["x"] >= 0 and box["x"] + box["width"] <= 800
        return inside and locator.evaluate("e => e.scrollWidth <= e.clientWidth + 1")

    group = page.locator("[data-testid=stButtonGroup] [role=radiogroup]").first
    assert group.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the tools are clipped"
    for label in ("Points", "Regions", "Box", "Brush"):
        assert whole(group.get_by_text(label, exact=True)), label
    for label in ("Undo", "Reset points"):
        button = page.get_by_role("button", name=label)
        assert whole(button.locator("p").first), label
    canvas = page.locator(CANVAS).bounding_box()
    main = page.locator("[data-testid=stMainBlockContainer]").bounding_box()
    assert canvas["width"] >= 0.9 * (main["width"] - 2 * 40), canvas
    assert page.locator(SELECTED).first.bounding_box()["y"] > canvas["y"] + canvas["height"]
    shot(page, "measure-800x900.png")
    # at 1280 x 800 the Regions tool's choice was clipped ("Leave out" cut short)
    page.set_viewport_size({"width": 1280, "height": 800})
    use_tool(page, "Regions")
    choice = page.locator("[data-testid=stButtonGroup] [role=radiogroup]").nth(1)
    choice.get_by_text("Leave out", exact=True).wait_for(timeout=TIMEOUT_MS)
    assert choice.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the choice is clipped"


def test_drag_and_nudge_latency(page, app_url, timings):
    page.set_viewport_size({"width": 1280, "height": 800})
    base = default_measurement()
    open_measure(page, app_url)
    drags_ms = []
    steps = [12.0 if k % 2 == 0 else -8.0 for k in range(11)]
    point = np.array(base.objects[0].B, dtype=float)
    for step in steps:
        start = to_screen(page, point)
        before = width_now(page)
        released = drag(page, start, (start[0] + step, start[1]))
        shown = wait_width_change(page, before)
        drags_ms.append((shown - released) * 1000)
        point = np.array(editor(page)["data_objects"][0]["B"])
        wait_idle(page)
    page.mouse.click(*to_screen(page, point))
    poll(lambda: editor(page)["active"] == "B", "B to be active")
    nudges_ms = []
    for k in range(11):
        before = width_now(page)
        started = time.perf_counter()
        page.keyboard.press("ArrowRight" if k % 2 == 0 else "ArrowLeft")
        shown = wait_width_change(page, before)
        nudges_ms.append((shown - started) * 1000)
        wait_idle(page)
    timings["drag mouse-up -> new width on screen"] = (
        f"median {statistics.median(drags_ms):.0f} ms over {len(drags_ms)} drags "
        f"(min {min(drags_ms):.0f}, max {max(drags_ms):.0f}; goal < {DRAG_GOAL_MS} ms)"
    )
    timings["arrow key -> new width on screen"] = (
        f"median {statistics.median(nudges_ms):.0f} ms over {len(nudges_ms)} nudges "
        f"(min {min(nudges_ms):.0f}, max {max(nudges_ms):.0f}; goal < {NUDGE_GOAL_MS} ms)"
    )
    assert version(page)  # still answering


@pytest.fixture(scope="module")
def big_photo(tmp_path_factory) -> Path:
    """A 12-megapixel (4000 x 3000) synthetic photo as JPEG."""
    scene = random_scene(
        np.random.default_rng(2024),
        shape="rectangle",
        tilt_deg=0.0,
        mask_noise_px=0.0,
        camera=Camera(width=4000, height=3000, focal_px=4250),
        supersample=1,
    )
    path = tmp_path_factory.mktemp("big") / "twelve-megapixels.jpg"
    path.write_bytes(encode_jpeg(scene.image, quality=92))
    return path


def test_upload_of_a_12_megapixel_photo_to_first_overlay(page, app_url, big_photo, timings):
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_measure(page, app_url)
    upload(page, big_photo)
    page.wait_for_selector("text=What is the reference in this photo?", timeout=TIMEOUT_MS)
    wait_idle(page)
    started = time.perf_counter()
    answer_reference(page, "ID-1 card (bank or ID card)")
    poll(lambda: "4000 × 3000 px" in header_text(page), "the header of the new photo")
    shown = poll(lambda: canvas_signature(page) > 0 and editor(page)["image"] == [4000, 3000],
                 "the overlay of the uploaded photo")  # fmt: skip
    timings["12-megapixel photo: reference chosen -> first overlay"] = (
        f"{shown - started:.2f} s ({big_photo.stat().st_size / 1e6:.1f} MB JPEG; segmenting "
        f"included; goal < {OVERLAY_GOAL_S} s)"
    )
    wait_idle(page)
    assert editor(page)["layers"]["full"], "the full photo is there for the zoom"
    shot(page, "measure-12mp-1920x1080.png")


def test_settings_page(page, app_url):
    page.goto(f"{app_url}/settings")
    page.wait_for_selector("text=Test connection", timeout=TIMEOUT_MS)
    wait_idle(page)
    assert page.get_by_text("Segmenter: local").count() == 1  # the shared sidebar
    page.get_by_role("button", name="Test connection").click()
    page.wait_for_selector("text=No endpoint name is set", timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1600, "height": 1900})
    shot(page, "settings.png")


def test_no_point_moves_without_a_drag(page, app_url):
    """A click on the photo away from the points adds nothing and moves nothing."""
    page.set_viewport_size({"width": 1280, "height": 800})
    open_measure(page, app_url)
    before = version(page)
    width0 = width_now(page)
    box = page.locator(CANVAS).bounding_box()
    page.mouse.click(box["x"] + 8, box["y"] + 8)
    page.wait_for_timeout(600)
    assert version(page) == before and width_now(page) == width0
    assert page.locator(SELECTED).count() == 1
