"""The History page under AppTest, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from objlen import MeasureOptions, ReferenceSpec, measure, remeasure
from objlen.store import Store
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
    at.checkbox(key="history_sure").check().run()
    at.button(key="history_delete").click().run()
    assert not at.exception
    assert [row.image_name for row in store.list()] == ["bolt.jpg"]


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
