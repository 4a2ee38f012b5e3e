"""The History page under AppTest, on a real SQLite file: rows with their
thumbnails, versions and objects; filters; delete; reopening a measurement on
the Measure page and saving it as a new version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from objlen import MeasureOptions, ReferenceSpec, measure, remeasure
from objlen.imageio import encode_png
from objlen.store import Store
from tests.app.apphelpers import app_test, move, widths
from tests.conftest import draw_mask

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "history.py")


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "history" / "objlen.sqlite3"
    monkeypatch.setenv("OBJLEN_DB", str(path))
    return path


def _saved(db: Path) -> Store:
    store = Store(db)
    mask = draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 119, 59))
    result = measure(mask, MeasureOptions(reference=ReferenceSpec(length=50.0)))
    store.save(result, image_name="bolt.jpg", image_bytes=b"bolt")
    store.save(remeasure(result, {"B": [369.5, 199.5]}), image_name="nut.jpg", image_bytes=b"nut")
    return store


def test_empty_history_says_how_to_fill_it(db):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert any("No saved measurements" in info.value for info in at.info)


def test_rows_are_listed_with_their_numbers(db):
    _saved(db)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["image"]) == ["nut.jpg", "bolt.jpg"]
    assert list(table["width (mm)"]) == pytest.approx([110.0, 100.0])


def test_both_csv_exports_are_offered(db):
    """The measurement CSV has only each measurement's first object: the
    page also offers one line per object (objects_to_csv, tests/test_store.py)."""
    _saved(db)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    labels = {b.key: b.proto.label for b in at.get("download_button")}
    assert labels["history_csv"] == "Download CSV (one line per measurement)"
    assert labels["history_objects_csv"] == "Download CSV (every object)"


def test_filter_and_unit(db):
    _saved(db)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.text_input(key="history_name").input("bolt").run()
    table = at.dataframe[0].value
    assert list(table["image"]) == ["bolt.jpg"]
    at.radio(key="history_unit").set_value("cm").run()
    assert list(at.dataframe[0].value["width (cm)"]) == pytest.approx([10.0])


def test_delete_needs_confirmation(db):
    store = _saved(db)
    newest = store.list()[0].id
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.selectbox(key="history_delete_id").set_value(newest).run()
    assert at.button(key="history_delete").disabled
    at.checkbox(key=f"history_sure_{newest}").check().run()
    at.button(key="history_delete").click().run()
    assert not at.exception
    assert [row.image_name for row in store.list()] == ["bolt.jpg"]


def test_a_confirmation_is_for_the_measurement_it_names(db):
    """Ticked for one measurement, then another chosen: the tick stayed, its
    label now naming the other one, and Delete deleted it."""
    store = _saved(db)
    newest, oldest = (row.id for row in store.list())
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.selectbox(key="history_delete_id").set_value(newest).run()
    (sure,) = [c for c in at.checkbox if c.label.startswith("Yes, delete")]
    sure.check().run()
    assert not at.button(key="history_delete").disabled
    at.selectbox(key="history_delete_id").set_value(oldest).run()
    (sure,) = [c for c in at.checkbox if c.label.startswith("Yes, delete")]
    assert sure.label == f"Yes, delete measurement {oldest} for good" and not sure.value
    assert at.button(key="history_delete").disabled
    assert len(store.list()) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not an SQLite file at all\n" * 64),
        lambda path: _wreck_a_row(path),
    ],
    ids=["garbage", "damaged-row"],
)
def test_a_damaged_database_is_one_error_not_a_traceback(db, damage, monkeypatch):
    monkeypatch.setenv("OBJLEN_DATA_ROOT", str(db.parent))
    _saved(db)
    damage(db)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    [error] = [error.value for error in at.error]
    assert "cannot be shown" in error and "damaged" in error


def _wreck_a_row(path: Path) -> None:
    """A row whose save time and width are not what objlen wrote."""
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE measurements SET created_at = 'soon', width = 'wide'")
    connection.close()


def test_thumbnails_versions_and_objects_are_shown(db):
    store = Store(db)
    mask = draw_mask((300, 400), [(150, 100, 349, 199), (20, 150, 79, 189)], (20, 20, 119, 59))
    options = MeasureOptions(reference=ReferenceSpec(length=50.0), all_objects=True)
    result = measure(mask, options)
    first = store.save(
        result, image_name="two.jpg", image_bytes=b"two", thumbnail_png=encode_png(mask * 100)
    )
    store.save(result, image_name="two.jpg", image_bytes=b"two", parent_id=first)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["version"]) == [f"v2 of #{first}", "v1"]
    assert list(table["objects"]) == [2, 2]
    assert table["photo"].iloc[1].startswith("data:image/png;base64,")
    objects = at.dataframe[1].value  # the chosen measurement's objects
    assert list(objects["#"]) == [1, 2]


def test_reopen_correct_and_save_a_new_version(app_db):
    """Measure and save on the Measure page; reopen it from the History page;
    move a point; save: a second row, version 2, and the first unchanged."""
    at = app_test().run()
    at.button(key="measure_save").click().run()
    store = Store(app_db)
    (first,) = store.list()
    at.switch_page("app_pages/history.py").run()
    assert not at.exception
    at.selectbox(key="history_open_id").set_value(first.id).run()
    at.button(key="history_open").click().run()
    assert not at.exception
    assert at.title[0].value == "Measure"
    assert f"correcting saved #{first.id}" in at.markdown[1].value
    assert widths(at)[0] == pytest.approx(first.width, abs=0.005)
    at.switch_page("app_pages/measure.py")  # AppTest's next run stays on the page it opened
    at = move(at, "B", 20.0)
    assert at.button(key="measure_save").label == f"Save as new version of #{first.id}"
    at.button(key="measure_save").click().run()
    assert any(f"#{first.id} is kept as it was" in s.value for s in at.success)
    second, again = store.list()
    assert (second.version, second.parent_id) == (2, first.id)
    assert second.width > first.width + 3
    assert again.width == first.width and again.result_json == first.result_json
