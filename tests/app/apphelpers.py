"""Helpers of the AppTest tests: running pages, reading the Measure page's
table, and the photo editor's events (one trigger value per action, with a
``seq``; see :mod:`objlen.workbench`)."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from objlen.workbench import Workbench

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


def workbench(at: AppTest) -> Workbench:
    """The Measure page's workbench (the operator's state)."""
    return at.session_state["measure_workbench"]


def objects_table(at: AppTest) -> pd.DataFrame:
    """The Measure page's table of objects."""
    for frame in at.dataframe:
        if frame.key == "measure_objects":
            return frame.value
    raise AssertionError("the page shows no table of objects")


def length_of(text: str) -> float:
    """The value of ``"154.41 ± 1.09 mm"``."""
    return float(text.split(" ")[0])


def widths(at: AppTest) -> list[float]:
    """Every object's width as the table shows it."""
    return [length_of(text) for text in objects_table(at)["width"]]


def heights(at: AppTest) -> list[float]:
    return [length_of(text) for text in objects_table(at)["height"]]


_SEQ = itertools.count(1)


def send_event(at: AppTest, event: dict[str, Any]) -> AppTest:
    """Do what the photo editor does: one event (a trigger value), then a rerun."""
    at.session_state["measure_editor"] = {"event": {**event, "seq": f"test-{next(_SEQ)}"}}
    return at.run()


def move(at: AppTest, name: str, dx: float, dy: float = 0.0, obj: int = 0) -> AppTest:
    """Move point ``name`` of object ``obj`` by ``(dx, dy)`` photo pixels."""
    current = workbench(at).current()
    if name in "CD":
        x, y = getattr(current.reference, name)
    else:
        x, y = getattr(current.objects[obj], name)
    return send_event(at, {"type": "move", "object": obj, "point": name, "x": x + dx, "y": y + dy})
