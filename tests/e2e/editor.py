"""Helpers of the browser tests: the Measure page's photo editor (a custom
component in an open shadow root), its state, and where a photo point is on
the screen; waiting for Streamlit; screenshots."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: Where screenshots go: the README's folder when asked (``make screenshots``),
#: else a temporary folder, so that a test run leaves the checkout as it was.
SCREENSHOTS = Path(
    os.environ.get("OBJLEN_SCREENSHOTS") or Path(tempfile.gettempdir()) / "objlen-screenshots"
)
HOST = "[data-testid=stBidiComponentIsolated]"
CANVAS = f"{HOST} canvas.objlen-canvas"
TIMEOUT_MS = 60_000
#: The two screens every picture is taken at.
SCREENS = {"1280x800": (1280, 800), "1920x1080": (1920, 1080)}
#: The line above the table that names the selected object's numbers.
SELECTED = "text=/^Object \\d+ of \\d+: width AB/"


def realphoto(*parts: str) -> Path:
    """A photo of ``shared/realphotos`` beside the repository (the browser
    tests are skipped without it, as the real-photo tests are)."""
    import pytest

    from objlen.testing.realphotos import realphotos_dir

    path = realphotos_dir().joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


def wait_idle(page) -> None:
    """Until Streamlit has finished running the script."""
    page.wait_for_timeout(100)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=TIMEOUT_MS)


def poll(condition, what: str, timeout_s: float = TIMEOUT_MS / 1000) -> float:
    """Call ``condition`` until it is true; return ``time.perf_counter()`` then."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        try:
            if condition():
                return time.perf_counter()
        except Exception:  # an element replaced by a rerun while being read: try again
            pass
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def shot(page, name: str) -> Path:
    """A screenshot of what the screen shows now (the viewport, not the page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path))
    return path


def editor(page) -> dict[str, Any]:
    """The editor's state: its data from Python and what it shows now."""
    return page.locator(HOST).first.evaluate(
        """h => { const s = h.shadowRoot.__objlenEditor; return {
            version: s.data.version, mode: s.data.mode, objects: s.local.objects,
            data_objects: s.data.objects, reference: s.local.reference, selected: s.local.selected,
            zoom: s.zoom, scale: s.fit * s.zoom, active: s.active, status: s.status.textContent,
            loupe: getComputedStyle(s.loupeBox).display, image: s.data.image,
            zoom_label: s.zoomLabel.textContent, layers: s.data.layers}; }"""
    )


def to_screen(page, point) -> tuple[float, float]:
    """Page coordinates of image point ``(x, y)`` as the editor shows it now."""
    box = page.locator(CANVAS).bounding_box()
    x, y = page.locator(HOST).first.evaluate(
        """(h, p) => { const s = h.shadowRoot.__objlenEditor; const k = s.fit * s.zoom;
            return [(p[0] + 0.5 - s.cx) * k + s.w / 2, (p[1] + 0.5 - s.cy) * k + s.h / 2]; }""",
        list(point),
    )
    return box["x"] + x, box["y"] + y


def version(page) -> str:
    return editor(page)["version"]


def wait_version_change(page, before: str) -> float:
    """Until the editor has new data from Python; return when (perf_counter)."""
    return poll(lambda: version(page) != before, "the editor's new data")


def open_measure(page, url: str) -> None:
    """Open the Measure page and wait for the photo editor with its photo."""
    page.goto(url)
    page.wait_for_selector(CANVAS, timeout=TIMEOUT_MS)
    page.wait_for_selector(SELECTED, timeout=TIMEOUT_MS)
    wait_idle(page)
    poll(lambda: canvas_signature(page) > 0, "the photo in the editor")


def canvas_signature(page) -> float:
    """A cheap fingerprint of what the editor's canvas shows now (0: blank)."""
    return page.locator(CANVAS).evaluate(
        """c => { if (!c.width) return 0; const g = c.getContext('2d'); let s = 0;
            for (let i = 1; i < 8; i++) for (let j = 1; j < 8; j++) {
              const d = g.getImageData(Math.floor(c.width * i / 8), Math.floor(c.height * j / 8),
                                       1, 1).data;
              s += d[0] * 3 + d[1] * 5 + d[2] * 7 + d[3]; }
            return s; }"""
    )


def upload(page, path: Path) -> None:
    """Upload a photo on the Measure page (the sidebar's uploader)."""
    page.get_by_text("Upload", exact=True).first.click()
    wait_idle(page)
    uploader = page.locator("[data-testid=stFileUploader] input[type=file]").first
    uploader.wait_for(state="attached", timeout=TIMEOUT_MS)
    uploader.set_input_files(str(path))


def answer_reference(page, label: str) -> None:
    """Answer "What is the reference in this photo?" with a preset's button."""
    page.wait_for_selector("text=What is the reference in this photo?", timeout=TIMEOUT_MS)
    wait_idle(page)
    page.get_by_text(label, exact=True).first.click()
    page.wait_for_selector(CANVAS, timeout=TIMEOUT_MS)
    page.wait_for_selector(SELECTED, timeout=TIMEOUT_MS)
    wait_idle(page)


def header_text(page) -> str:
    """The line above the photo that names the reference, its size and the photo."""
    return page.locator(
        "[data-testid=stMarkdownContainer] p", has_text="Reference:"
    ).first.inner_text()


def selected_numbers(page) -> tuple[float, float]:
    """Width and height of the selected object as the page writes them."""
    text = page.locator(SELECTED).first.inner_text()
    match = re.search(r"width AB ([-\d.]+) ± [\d.]+ \w+ · height ([-\d.]+)", text)
    assert match, text
    return float(match.group(1)), float(match.group(2))


def use_tool(page, label: str) -> None:
    """Choose the editor's tool (Points, Regions, Box, Brush)."""
    page.get_by_text(label, exact=True).first.click()
    poll(lambda: editor(page)["mode"] != "", "the tool")
    wait_idle(page)


def drag(page, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> float:
    """Drag with the mouse between page points; return the mouse-up's perf_counter."""
    page.mouse.move(*start)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(
            start[0] + (end[0] - start[0]) * k / steps, start[1] + (end[1] - start[1]) * k / steps
        )
    released = time.perf_counter()
    page.mouse.up()
    return released
