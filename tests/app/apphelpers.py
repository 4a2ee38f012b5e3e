"""Helpers of the AppTest tests: running pages, reading metrics, and the
canvas interactions the Measure page reads (as CANVAS.md describes)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from objlen.display.canvas import POINT_COLOURS, parse_rgb

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
#: The pages the router (app.py) registers, by file stem, e.g. "measure".
PAGES = {
    Path(path).stem: ROOT / path
    for path in re.findall(r'st\.Page\(\s*"(app_pages/[^"]+\.py)"', (ROOT / "app.py").read_text())
}
SAMPLES = ROOT / "samples"
TRUTH = {s["name"]: s for s in json.loads((SAMPLES / "ground_truth.json").read_text())["samples"]}
TIMEOUT_S = 120


def page_test(name: str) -> AppTest:
    """An AppTest of one page run on its own (no router, no sidebar)."""
    return AppTest.from_file(str(PAGES[name]), default_timeout=TIMEOUT_S)


def app_test() -> AppTest:
    """An AppTest of the whole app (router, sidebar, pages)."""
    return AppTest.from_file(APP, default_timeout=TIMEOUT_S)


def metric_number(at: AppTest, label_start: str) -> float:
    """The number a metric shows, e.g. ``154.41`` from ``154.41 ± 1.09 mm``."""
    for metric in at.metric:
        if metric.label.startswith(label_start):
            return float(metric.value.split(" ")[0])
    raise AssertionError(f"no metric {label_start!r} among {[m.label for m in at.metric]}")


def canvas_key(at: AppTest) -> str:
    return at.session_state["measure_canvas_key"]


def canvas_drawing(at: AppTest) -> dict[str, Any]:
    """The Fabric JSON the canvas holds now (its widget value)."""
    return copy.deepcopy(dict(at.session_state[canvas_key(at)]["drawing"]["raw"]))


def send_drawing(at: AppTest, drawing: dict[str, Any]) -> AppTest:
    """Do what the browser does after a drag: set the canvas's widget value, rerun."""
    at.session_state[canvas_key(at)] = {
        "drawing": {"raw": drawing, "data": None},
        "backgroundFit": None,
    }
    return at.run()


def drag(at: AppTest, name: str, dx: float, dy: float = 0.0) -> AppTest:
    """Move point ``name`` by ``(dx, dy)`` canvas pixels, as a drag with Edit on."""
    drawing = canvas_drawing(at)
    for obj in drawing["objects"]:
        if parse_rgb(obj.get("stroke")) == POINT_COLOURS[name]:
            obj["left"] = round(obj["left"] + dx, 4)  # Fabric sends 4 decimals
            obj["top"] = round(obj["top"] + dy, 4)
            break
    else:
        raise AssertionError(f"point {name} is not on the canvas")
    return send_drawing(at, drawing)
