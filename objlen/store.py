"""The measurement history: a SQLite database and a content-addressed file store.

Layout, next to the database file ``objlen.sqlite3``::

    images/<sha256>.<ext>   the photos, named by the hash of their bytes
    masks/<sha256>.png      the masks (class indices), likewise

A save first writes the files (each through a temporary file renamed into
place, so a file is either whole or absent), then inserts the row in one
transaction. A crash at any point loses nothing already saved and never
leaves a row that points to a missing file; at worst an unreferenced file
remains. The schema is versioned with ``PRAGMA user_version`` and migrated
forward on open.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from objlen.errors import ObjlenError
from objlen.files import write_atomically
from objlen.imageio import sha256_hex
from objlen.result import Measurement
from objlen.spreadsheet import csv_text
from objlen.units import UNITS, convert

#: Schema migrations, applied in order; index + 1 is the schema version.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE measurements (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        image_name TEXT NOT NULL,
        image_sha256 TEXT NOT NULL,
        image_file TEXT,
        mask_sha256 TEXT,
        method TEXT NOT NULL,
        orientation TEXT NOT NULL,
        unit TEXT NOT NULL,
        width REAL NOT NULL,
        width_u REAL NOT NULL,
        height REAL NOT NULL,
        height_u REAL NOT NULL,
        object_count INTEGER NOT NULL,
        warning_count INTEGER NOT NULL,
        moved_points TEXT NOT NULL DEFAULT '',
        result_json TEXT NOT NULL,
        settings_json TEXT NOT NULL,
        thumbnail_png BLOB,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX measurements_created_at ON measurements (created_at);
    CREATE INDEX measurements_image ON measurements (image_sha256);
    """,
    # 2: every object of a measurement (filled from the saved JSON, so nothing
    # saved before is lost), the operator's choices, and versions: a measurement
    # reopened, corrected and saved again is a new row whose parent is the old one.
    """
    ALTER TABLE measurements ADD COLUMN parent_id INTEGER REFERENCES measurements (id);
    ALTER TABLE measurements ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE measurements ADD COLUMN choices_json TEXT NOT NULL DEFAULT '{}';
    CREATE INDEX measurements_parent ON measurements (parent_id);
    CREATE TABLE measurement_objects (
        measurement_id INTEGER NOT NULL REFERENCES measurements (id),
        object_index INTEGER NOT NULL,
        width REAL NOT NULL,
        width_u REAL NOT NULL,
        height REAL NOT NULL,
        height_u REAL NOT NULL,
        area_px INTEGER,
        moved_points TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (measurement_id, object_index)
    );
    INSERT INTO measurement_objects
        (measurement_id, object_index, width, width_u, height, height_u, area_px, moved_points)
    SELECT m.id, CAST(o.key AS INTEGER),
        json_extract(o.value, '$.width.value'), json_extract(o.value, '$.width.uncertainty'),
        json_extract(o.value, '$.height.value'), json_extract(o.value, '$.height.uncertainty'),
        json_extract(o.value, '$.area_px'),
        COALESCE((SELECT group_concat(p.value, '') FROM json_each(o.value, '$.moved') AS p), '')
    FROM measurements AS m,
        json_each(
            CASE WHEN json_valid(m.result_json) AND json_type(m.result_json, '$.objects') = 'array'
            THEN m.result_json ELSE '{"objects": []}' END,
            '$.objects'
        ) AS o
    WHERE json_type(o.value, '$.width.value') IN ('integer', 'real')
        AND json_type(o.value, '$.width.uncertainty') IN ('integer', 'real')
        AND json_type(o.value, '$.height.value') IN ('integer', 'real')
        AND json_type(o.value, '$.height.uncertainty') IN ('integer', 'real')
    """,
)

CSV_COLUMNS = (
    "id",
    "created_at",
    "image_name",
    "image_sha256",
    "method",
    "orientation",
    "unit",
    "width",
    "width_u",
    "height",
    "height_u",
    "object_count",
    "warning_count",
    "moved_points",
    "note",
)

#: The columns of :func:`objects_to_csv`: one line per object.
OBJECT_CSV_COLUMNS = (
    "id",
    "version",
    "created_at",
    "image_name",
    "object",
    "width",
    "width_u",
    "height",
    "height_u",
    "unit",
    "area_px",
    "moved_points",
    "note",
)


class StoreError(ObjlenError):
    """The history database cannot be opened, read or written, or holds bad data."""


_SHA256 = re.compile(r"[0-9a-f]{64}")
#: The names :meth:`Store.save` gives photos: the content hash and a short suffix.
_IMAGE_FILE = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{1,5}")


def is_sha256(text: object) -> bool:
    """Whether ``text`` is a content hash as objlen writes it: 64 lower-case hex digits.

    >>> is_sha256("0" * 64), is_sha256("../../x/ab")
    (True, False)
    """
    return isinstance(text, str) and _SHA256.fullmatch(text) is not None


def _file_inside(folder: Path, name: str) -> Path:
    """``folder / name``, checked to stay inside ``folder`` once links are resolved.

    Raises:
        StoreError: the path leads out of ``folder``.
    """
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        raise StoreError(f"{path} leads out of {folder}; the history database may be crafted")
    return path


@dataclass(frozen=True)
class SavedMeasurement:
    """One row of the history (without its thumbnail; see :meth:`Store.thumbnail`)."""

    id: int
    created_at: str
    image_name: str
    image_sha256: str
    image_file: str | None
    mask_sha256: str | None
    method: str
    orientation: str
    unit: str
    width: float
    width_u: float
    height: float
    height_u: float
    object_count: int
    warning_count: int
    moved_points: str
    result_json: str
    settings_json: str
    note: str
    parent_id: int | None = None
    version: int = 1
    choices_json: str = "{}"

    @property
    def choices(self) -> dict[str, Any]:
        """What the operator chose (reference preset, corrections of the mask,
        moved points, selected object), as saved; ``{}`` when it is damaged."""
        try:
            value = json.loads(self.choices_json or "{}")
        except (TypeError, ValueError, RecursionError):
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def result(self) -> dict[str, Any]:
        """The schema-v1 measurement as saved.

        Raises:
            StoreError: the saved JSON is damaged.
        """
        return _json_object(self.result_json, f"the result of measurement {self.id}")

    @property
    def settings(self) -> dict[str, Any]:
        """The settings the measurement was made with.

        Raises:
            StoreError: the saved JSON is damaged.
        """
        return _json_object(self.settings_json, f"the settings of measurement {self.id}")


def _json_object(text: str, what: str) -> dict[str, Any]:
    """A JSON object saved in the database, or :class:`StoreError`."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError) as error:
        raise StoreError(f"{what} in the history database is damaged: not JSON") from error
    if not isinstance(value, dict):
        raise StoreError(f"{what} in the history database is damaged: not a JSON object")
    return value


_TEXT_FIELDS = ("created_at", "image_name", "image_sha256", "method", "orientation", "unit")
_NUMBER_FIELDS = ("width", "width_u", "height", "height_u")


def _saved_row(values: tuple[Any, ...]) -> SavedMeasurement:
    """A row read from the database, its types checked (a crafted or damaged
    database gives a :class:`StoreError`, not a failure further on)."""
    row = SavedMeasurement(*values)
    problem = None
    if not isinstance(row.id, int):
        problem = "an id that is not a whole number"
    elif any(not isinstance(getattr(row, name), str) for name in _TEXT_FIELDS):
        problem = "a text column that holds something else"
    elif any(
        isinstance(getattr(row, name), bool) or not isinstance(getattr(row, name), int | float)
        for name in _NUMBER_FIELDS
    ):
        problem = "a length that is not a number"
    elif row.unit not in UNITS:
        problem = f"an unknown unit {row.unit!r}"
    else:
        try:
            datetime.fromisoformat(row.created_at)
        except ValueError:
            problem = f"a save time {row.created_at!r} that is not a date"
    if problem:
        raise StoreError(
            f"measurement {row.id!r} in the history database is damaged ({problem}); "
            "restore the database from a backup or choose another one"
        )
    return row


@dataclass(frozen=True)
class SavedObject:
    """One measured object of a saved measurement (lengths in the row's unit)."""

    measurement_id: int
    object_index: int
    width: float
    width_u: float
    height: float
    height_u: float
    area_px: int | None
    moved_points: str


_ROW_COLUMNS = ", ".join(SavedMeasurement.__dataclass_fields__)


def _keep(path: Path, data: bytes) -> None:
    """Write a content-addressed file once (same name, same bytes)."""
    if not path.exists():
        write_atomically(path, data)


def _image_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return (
        suffix
        if suffix in {".jpg", ".jpeg", ".png", ".heic", ".webp", ".tif", ".tiff", ".bmp"}
        else ".bin"
    )


class Store:
    """The measurement history at ``path`` (a SQLite file; created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.root = self.path.parent
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._refuse_foreign()
            with self._connect() as connection:
                self._migrate(connection)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open the history database {self.path}: {error}") from error

    # ----------------------------------------------------------------- plumbing
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection; every SQLite failure inside becomes a :class:`StoreError`."""
        try:
            connection = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the history database {self.path}: {error}") from error
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            yield connection
        except sqlite3.Error as error:
            raise StoreError(_sqlite_problem(self.path, error)) from error
        finally:
            connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _refuse_foreign(self) -> None:
        """Refuse, before anything is written to it (not even the WAL mode), a
        database at schema version 0 that already holds another program's
        tables: objlen must not add its own to it."""
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return
        try:
            connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise StoreError(_sqlite_problem(self.path, error)) from error
        try:
            if connection.execute("PRAGMA user_version").fetchone()[0] != 0:
                return
            names = [
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                )
            ]
        except sqlite3.Error as error:
            raise StoreError(_sqlite_problem(self.path, error)) from error
        finally:
            connection.close()
        if names:
            shown = ", ".join(sorted(names)[:5])
            raise StoreError(
                f"{self.path} is an SQLite database of another program (it holds {shown}); "
                "choose another file for the history"
            )

    def _migrate(self, connection: sqlite3.Connection) -> None:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this objlen "
                f"({len(MIGRATIONS)}); upgrade objlen"
            )
        for number in range(version, len(MIGRATIONS)):
            connection.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number + 1}")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """The database's schema version."""
        with self._connect() as connection:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])

    def image_path(self, row: SavedMeasurement) -> Path | None:
        """Where the photo of ``row`` is kept, if it was saved.

        Raises:
            StoreError: the row's file name is not one objlen writes
                (``<sha256>.<ext>``), or leads out of ``images/``.
        """
        if row.image_file is None:
            return None
        if not isinstance(row.image_file, str) or not _IMAGE_FILE.fullmatch(row.image_file):
            raise StoreError(
                f"measurement {row.id} names its photo {row.image_file!r}, not a content "
                "hash; the history database may be crafted"
            )
        return _file_inside(self.root / "images", row.image_file)

    def mask_path(self, row: SavedMeasurement) -> Path | None:
        """Where the mask of ``row`` is kept, if it was saved.

        Raises:
            StoreError: the row's mask hash is not 64 hex digits, or leads out of ``masks/``.
        """
        if row.mask_sha256 is None:
            return None
        if not is_sha256(row.mask_sha256):
            raise StoreError(
                f"measurement {row.id} names its mask {row.mask_sha256!r}, not a content "
                "hash; the history database may be crafted"
            )
        return _file_inside(self.root / "masks", f"{row.mask_sha256}.png")

    # ----------------------------------------------------------------- writing
    def save(
        self,
        measurement: Measurement,
        *,
        image_name: str,
        image_bytes: bytes | None = None,
        mask_png: bytes | None = None,
        thumbnail_png: bytes | None = None,
        settings: dict[str, Any] | None = None,
        note: str = "",
        image_sha256: str | None = None,
        parent_id: int | None = None,
        choices: dict[str, Any] | None = None,
    ) -> int:
        """Save a measurement (as the operator corrected it); return its id.

        The photo and mask bytes are kept in the file store; the row holds the
        schema-v1 JSON, the settings, a thumbnail and the headline numbers of
        the first object; every object gets a row of its own
        (:meth:`objects`). ``parent_id``: the saved measurement this one
        corrects (it stays as it was; this one is its next version).
        ``choices``: what the operator chose, JSON-ready (:attr:`SavedMeasurement.choices`).
        """
        if image_bytes is None and image_sha256 is None:
            raise StoreError("saving needs the photo's bytes or at least its hash")
        image_hash = image_sha256 or sha256_hex(image_bytes)
        image_file = None
        try:
            if image_bytes is not None:
                image_file = f"{image_hash}{_image_suffix(image_name)}"
                _keep(self.root / "images" / image_file, image_bytes)
            mask_hash = None
            if mask_png is not None:
                mask_hash = sha256_hex(mask_png)
                _keep(self.root / "masks" / f"{mask_hash}.png", mask_png)
            first = measurement.objects[0]
            moved = sorted({*first.moved, *measurement.reference.moved})
            values = {
                "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "image_name": image_name,
                "image_sha256": image_hash,
                "image_file": image_file,
                "mask_sha256": mask_hash,
                "method": measurement.method,
                "orientation": measurement.options.orientation,
                "unit": measurement.unit,
                "width": first.width.value,
                "width_u": first.width.uncertainty,
                "height": first.height.value,
                "height_u": first.height.uncertainty,
                "object_count": len(measurement.objects),
                "warning_count": len(measurement.warnings),
                "moved_points": "".join(moved),
                "result_json": measurement.to_json(indent=None),
                "settings_json": json.dumps(settings or {}, sort_keys=True, default=str),
                "thumbnail_png": thumbnail_png,
                "note": note,
                "parent_id": parent_id,
                "choices_json": json.dumps(choices or {}, sort_keys=True, default=str),
            }
            with self._transaction() as connection:
                if parent_id is not None:
                    parent = connection.execute(
                        "SELECT version FROM measurements WHERE id = ?", (parent_id,)
                    ).fetchone()
                    if parent is None:
                        raise StoreError(
                            f"measurement {parent_id} is no longer in the history: save this "
                            "one as a new measurement"
                        )
                    values["version"] = int(parent[0]) + 1
                columns = ", ".join(values)
                marks = ", ".join("?" for _ in values)
                cursor = connection.execute(
                    f"INSERT INTO measurements ({columns}) VALUES ({marks})", tuple(values.values())
                )
                row_id = int(cursor.lastrowid)
                connection.executemany(
                    "INSERT INTO measurement_objects (measurement_id, object_index, width, "
                    "width_u, height, height_u, area_px, moved_points) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            row_id,
                            index,
                            obj.width.value,
                            obj.width.uncertainty,
                            obj.height.value,
                            obj.height.uncertainty,
                            obj.area_px,
                            "".join(obj.moved),
                        )
                        for index, obj in enumerate(measurement.objects)
                    ],
                )
                return row_id
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"could not save to {self.path}: {error}") from error

    def replace_mask(self, row_id: int, mask_png: bytes) -> bool:
        """Keep a touched-up mask for a saved measurement (the old file stays
        while other rows use it). Returns whether the row exists."""
        mask_hash = sha256_hex(mask_png)
        try:
            _keep(self.root / "masks" / f"{mask_hash}.png", mask_png)
            with self._transaction() as connection:
                cursor = connection.execute(
                    "UPDATE measurements SET mask_sha256 = ? WHERE id = ?", (mask_hash, row_id)
                )
                return cursor.rowcount == 1
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"could not save the mask to {self.path}: {error}") from error

    def delete(self, row_id: int) -> bool:
        """Delete one measurement; return whether it existed. Files still used by
        other rows are kept; files no row uses any more are removed, but only
        files objlen names (a content hash) inside ``images/`` and ``masks/``:
        a row that names anything else loses its row, never a file."""
        with self._transaction() as connection:
            found = connection.execute(
                "SELECT image_file, mask_sha256 FROM measurements WHERE id = ?", (row_id,)
            ).fetchone()
            if found is None:
                return False
            connection.execute(
                "DELETE FROM measurement_objects WHERE measurement_id = ?", (row_id,)
            )
            connection.execute("DELETE FROM measurements WHERE id = ?", (row_id,))
        image_file, mask_hash = found
        with self._connect() as connection:
            if (
                isinstance(image_file, str)
                and _IMAGE_FILE.fullmatch(image_file)
                and not connection.execute(
                    "SELECT 1 FROM measurements WHERE image_file = ?", (image_file,)
                ).fetchone()
            ):
                _unlink_inside(self.root / "images", image_file)
            if (
                is_sha256(mask_hash)
                and not connection.execute(
                    "SELECT 1 FROM measurements WHERE mask_sha256 = ?", (mask_hash,)
                ).fetchone()
            ):
                _unlink_inside(self.root / "masks", f"{mask_hash}.png")
        return True

    # ----------------------------------------------------------------- reading
    def list(
        self,
        *,
        name_contains: str | None = None,
        methods: tuple[str, ...] | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
    ) -> list[SavedMeasurement]:
        """Saved measurements, newest first, filtered.

        Args:
            name_contains: case-insensitive part of the image name.
            methods: keep only these methods.
            since, until: ISO dates or times (UTC); ``until`` is inclusive of its day.
            limit: at most this many rows.
        """
        clauses: list[str] = []
        values: list[Any] = []
        if name_contains:
            clauses.append("image_name LIKE ? ESCAPE '\\'")
            escaped = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            values.append(f"%{escaped}%")
        if methods:
            clauses.append(f"method IN ({', '.join('?' for _ in methods)})")
            values.extend(methods)
        if since:
            clauses.append("created_at >= ?")
            values.append(since)
        if until:
            clauses.append("created_at < ?")
            values.append(until + "\uffff" if len(until) <= 10 else until)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_ROW_COLUMNS} FROM measurements {where} ORDER BY id DESC{tail}", values
            ).fetchall()
        return [_saved_row(row) for row in rows]

    def get(self, row_id: int) -> SavedMeasurement | None:
        """One saved measurement, or None."""
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_ROW_COLUMNS} FROM measurements WHERE id = ?", (row_id,)
            ).fetchone()
        return None if row is None else _saved_row(row)

    def objects(self, row_id: int) -> list[SavedObject]:
        """Every measured object of one saved measurement, in the saved order
        (largest first, as measured)."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT measurement_id, object_index, width, width_u, height, height_u, "
                "area_px, moved_points FROM measurement_objects WHERE measurement_id = ? "
                "ORDER BY object_index",
                (row_id,),
            ).fetchall()
        return [SavedObject(*row) for row in rows]

    def thumbnail(self, row_id: int) -> bytes | None:
        """The thumbnail PNG of one saved measurement."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT thumbnail_png FROM measurements WHERE id = ?", (row_id,)
            ).fetchone()
        return None if row is None else row[0]

    def count(self) -> int:
        """How many measurements are saved."""
        with self._connect() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM measurements").fetchone()[0])


def _sqlite_problem(path: Path, error: sqlite3.Error) -> str:
    """A sentence for the operator about an SQLite failure on ``path``."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return f"the history database {path} is busy ({text}); try again in a moment"
    return (
        f"the history database {path} cannot be used ({text}): it is damaged or not "
        "objlen's; restore it from a backup or choose another file"
    )


def _unlink_inside(folder: Path, name: str) -> None:
    """Remove ``folder / name`` if it is there and stays inside ``folder``."""
    try:
        _file_inside(folder, name).unlink(missing_ok=True)
    except StoreError:
        return


def to_csv(rows: list[SavedMeasurement]) -> str:
    """The rows as CSV text, one line per measurement, with a header.

    Text cells that a spreadsheet would run as a formula are neutralised
    (:func:`objlen.spreadsheet.csv_text`).
    """
    return csv_text(CSV_COLUMNS, ([getattr(row, column) for column in CSV_COLUMNS] for row in rows))


def objects_to_csv(store: Store, rows: list[SavedMeasurement]) -> str:
    """Every object of the rows as CSV text, one line per object with a header:
    the measurement's id, version, date, photo, unit and note, then the object
    (``object`` counts from 1, largest first as measured), its width and
    height with their 95 % intervals, its area and the points the operator
    moved. Formulas are neutralised as in :func:`to_csv`."""

    def lines() -> Iterator[list[Any]]:
        for row in rows:
            for obj in store.objects(row.id):
                yield [
                    *(row.id, row.version, row.created_at, row.image_name, obj.object_index + 1),
                    *(obj.width, obj.width_u, obj.height, obj.height_u, row.unit, obj.area_px),
                    *(obj.moved_points, row.note),
                ]

    return csv_text(OBJECT_CSV_COLUMNS, lines())


def table_rows(rows: list[SavedMeasurement], unit: str) -> list[dict[str, Any]]:
    """Rows for display, lengths converted to ``unit``, newest first."""
    table = []
    for row in rows:
        factor = convert(1.0, row.unit, unit)
        table.append(
            {
                "id": row.id,
                "saved": datetime.fromisoformat(row.created_at),
                "image": row.image_name,
                "method": row.method,
                f"width ({unit})": row.width * factor,
                "± width": row.width_u * factor,
                f"height ({unit})": row.height * factor,
                "± height": row.height_u * factor,
                "moved": row.moved_points,
                "warnings": row.warning_count,
                "note": row.note,
                "objects": row.object_count,
                "version": row.version,
                "parent": row.parent_id,
            }
        )
    return table
