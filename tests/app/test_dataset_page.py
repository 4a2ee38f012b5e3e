"""The Dataset page under AppTest, on a real SQLite history: listing, a touch-up
with the Measure page's brush saved into the store, export and validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.imageio import encode_png, load_mask
from objlen.store import Store

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "dataset.py")
SAMPLES = ROOT / "samples"
NAMES = ["card_rectangle", "card_ellipse", "dark_card_ellipse"]


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=120)


def _fill(db: Path) -> Store:
    store = Store(db)
    options = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)))
    for name in NAMES:
        mask = load_mask(SAMPLES / f"{name}_mask.png")[0]
        store.save(
            measure(mask, options),
            image_name=f"{name}.jpg",
            image_bytes=(SAMPLES / f"{name}.jpg").read_bytes(),
            mask_png=encode_png(mask),
        )
    return store


def test_empty_history(app_db: Path) -> None:
    at = page().run()
    assert not at.exception
    assert any("No saved measurements" in info.value for info in at.info)


def test_rows_are_listed(app_db: Path) -> None:
    _fill(app_db)
    at = page().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["image"]) == [f"{n}.jpg" for n in reversed(NAMES)]
    assert table["usable"].all()


def test_a_brush_stroke_is_saved_into_the_mask(app_db: Path) -> None:
    """The Measure page's brush (the photo editor's stroke event) paints the
    full-resolution mask; Save puts it into the history row."""
    store = _fill(app_db)
    row = store.list()[0]
    before = load_mask(store.mask_path(row))[0]
    at = page().run()
    assert not at.exception
    assert at.button(key="dataset_save").disabled
    at.session_state["dataset_editor"] = {
        "event": {
            "type": "stroke",
            "seq": "stroke-1",
            "brush": "reference",
            "radius": 6,
            "points": [[150.0, 150.0], [250.0, 150.0]],
        }
    }
    at.run()
    assert not at.exception
    assert any("1 stroke(s), not saved yet" in i.value for i in at.info)
    at.button(key="dataset_save").click().run()
    assert not at.exception
    after = load_mask(store.mask_path(store.get(row.id)))[0]
    assert after[150, 200] == 2 and before[150, 200] == 0
    changed = np.argwhere(after != before)
    assert changed[:, 1].min() >= 150 - 7 and changed[:, 1].max() <= 250 + 7
    assert changed[:, 0].min() >= 150 - 7 and changed[:, 0].max() <= 150 + 7
    assert len(store.list()) == 3  # the row was updated, not duplicated


def test_undo_takes_back_a_stroke(app_db: Path) -> None:
    _fill(app_db)
    at = page().run()
    at.session_state["dataset_editor"] = {
        "event": {"type": "stroke", "seq": "s1", "brush": "erase", "radius": 3, "points": [[9, 9]]}
    }
    at.run()
    assert not at.button(key="dataset_undo").disabled
    at.button(key="dataset_undo").click().run()
    assert at.button(key="dataset_save").disabled


def test_export_then_validate(app_db: Path, tmp_path: Path) -> None:
    _fill(app_db)
    out = tmp_path / "dataset"
    at = page().run()
    at.text_input(key="dataset_out").set_value(str(out))
    at.button(key="dataset_export").click().run()
    assert not at.exception
    assert any("validation pairs" in s.value for s in at.success)
    assert len(list(out.glob("*/*.jpg"))) == 3
    at.text_input(key="dataset_check").set_value(str(out))
    at.button(key="dataset_validate").click().run()
    assert any("no problems" in s.value for s in at.success)
    next(out.glob("train_annotation/*.png")).unlink()
    at.button(key="dataset_validate").click().run()
    assert not at.exception
    problems = at.dataframe[-1].value
    assert list(problems["problem"]) == ["unpaired_image"]
    assert problems["file"][0].startswith("train/")
