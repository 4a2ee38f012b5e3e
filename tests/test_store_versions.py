"""The history keeps every object, the operator's choices and versions; a
database written before (schema 1) is migrated without losing anything."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from objlen import MeasureOptions, ReferenceSpec, measure, remeasure
from objlen.store import MIGRATIONS, Store, StoreError


def three_objects():
    mask = np.zeros((300, 400), np.uint8)
    mask[20:30, 20:120] = 2  # reference, 100 px = 50 mm
    mask[100:200, 50:150] = 1
    mask[100:150, 200:260] = 1
    mask[220:240, 300:330] = 1
    options = MeasureOptions(reference=ReferenceSpec(length=50.0), all_objects=True)
    return measure(mask, options)


def schema_1_database(path: Path, result_json: list[str]) -> None:
    """A database as objlen wrote it before this change: schema version 1."""
    connection = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            connection.execute(statement)
    for text in result_json:
        connection.execute(
            "INSERT INTO measurements (created_at, image_name, image_sha256, method, "
            "orientation, unit, width, width_u, height, height_u, object_count, "
            "warning_count, result_json, settings_json) VALUES "
            "('2026-01-01T00:00:00+00:00', 'old.jpg', ?, 'proportional', 'upright', 'mm', "
            "1, 0.1, 2, 0.2, 3, 0, ?, '{}')",
            ("0" * 64, text),
        )
    connection.execute("PRAGMA user_version = 1")
    connection.commit()
    connection.close()


def test_every_object_is_saved_in_its_own_row(tmp_path):
    result = three_objects()
    moved = remeasure(result, {"B": (160.0, 199.5)}, 1)
    store = Store(tmp_path / "h.sqlite3")
    row_id = store.save(moved, image_name="p.jpg", image_bytes=b"photo")
    objects = store.objects(row_id)
    assert [o.object_index for o in objects] == [0, 1, 2]
    for saved, obj in zip(objects, moved.objects, strict=True):
        assert saved.width == pytest.approx(obj.width.value)
        assert saved.height_u == pytest.approx(obj.height.uncertainty)
        assert saved.area_px == obj.area_px
    assert objects[1].moved_points == "B"
    assert store.get(row_id).object_count == 3


def test_a_schema_1_database_is_migrated_and_nothing_is_lost(tmp_path):
    good = three_objects().to_json(indent=None)
    path = tmp_path / "old.sqlite3"
    schema_1_database(path, [good, "{not json", json.dumps({"objects": "nope"})])
    store = Store(path)
    assert store.schema_version == len(MIGRATIONS) >= 2
    rows = store.list()
    assert len(rows) == 3
    first = store.get(1)
    assert first.result_json == good
    assert first.version == 1 and first.parent_id is None and first.choices == {}
    saved = store.objects(1)
    expected = json.loads(good)["objects"]
    assert [o.width for o in saved] == [o["width"]["value"] for o in expected]
    assert store.objects(2) == [] and store.objects(3) == []
    assert store.get(2).result_json == "{not json"


def test_a_corrected_measurement_is_a_new_version_and_the_old_one_stays(tmp_path):
    result = three_objects()
    store = Store(tmp_path / "h.sqlite3")
    first = store.save(result, image_name="p.jpg", image_bytes=b"photo", choices={"preset": "a4"})
    second = store.save(
        remeasure(result, {"B": (160.0, 199.5)}, 0),
        image_name="p.jpg",
        image_bytes=b"photo",
        parent_id=first,
        choices={"preset": "a4", "selected": 0},
    )
    third = store.save(result, image_name="p.jpg", image_bytes=b"photo", parent_id=second)
    assert store.get(first).version == 1
    assert (store.get(second).version, store.get(second).parent_id) == (2, first)
    assert (store.get(third).version, store.get(third).parent_id) == (3, second)
    assert store.get(second).choices == {"preset": "a4", "selected": 0}
    assert store.get(first).width == pytest.approx(result.objects[0].width.value)
    assert store.get(second).width != pytest.approx(store.get(first).width)


def test_a_version_of_a_deleted_measurement_is_refused(tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    first = store.save(three_objects(), image_name="p.jpg", image_bytes=b"photo")
    assert store.delete(first)
    assert store.objects(first) == []
    with pytest.raises(StoreError, match="no longer in the history"):
        store.save(three_objects(), image_name="p.jpg", image_bytes=b"photo", parent_id=first)
    assert store.count() == 0
