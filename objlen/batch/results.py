"""The files a batch leaves in its output folder, and reading them back.

``out_dir`` holds:

* :data:`RESULTS_JSONL`: the journal (:class:`~objlen.batch.journal.Journal`), one
  record per photo after a run;
* :data:`RESULTS_CSV`: the same records as :func:`csv_text` writes them;
* :data:`ANNOTATED_DIR` ``/``:func:`annotated_name`: one annotated picture per
  measured photo, a JPEG (``.jpg``, the default) or a PNG (``.png``), as the
  run's ``annotate_format`` says (:data:`ANNOTATE_FORMATS`); a folder resumed
  with another format keeps the pictures already written;
* ``annotated.zip``, only when :func:`write_annotated_zip` is asked for it.

Reading (:func:`load_results`) never changes the journal, so it is safe while
a run is writing into the folder.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from objlen.batch.journal import Journal
from objlen.spreadsheet import csv_text as spreadsheet_csv

RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
ANNOTATED_DIR = "annotated"
ANNOTATED_ZIP = "annotated.zip"
#: The formats of annotated pictures and their files' extensions (the first
#: is the default).
ANNOTATE_FORMATS = {"jpeg": ".jpg", "png": ".png"}
#: Columns of ``results.csv``, in order.
CSV_COLUMNS = (
    "name",
    "status",
    "object",
    "width",
    "width_u",
    "height",
    "height_u",
    "unit",
    "method",
    "object_count",
    "scale",
    "warnings",
    "message",
    "annotated",
    "sha256",
    "seconds",
)


def object_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per measured object of a photo's record (its ``objects``, 1 first);
    a failed photo, or a record written before objects were listed, gives one row
    (the first object's numbers, if any)."""
    objects = record.get("objects")
    if record.get("status") != "ok" or not isinstance(objects, list) or not objects:
        row = dict(record)
        row.setdefault("object", 1 if record.get("status") == "ok" else None)
        return [row]
    return [
        {**record, **{k: obj.get(k) for k in ("object", "width", "width_u", "height", "height_u")}}
        for obj in objects
        if isinstance(obj, dict)
    ]


def csv_text(records: Iterable[dict[str, Any]]) -> str:
    """Records as ``results.csv`` text: a header, then one row per measured
    object (``object`` 1, 2, ... largest first) and one per failed photo.

    Text cells that a spreadsheet would run as a formula (a photo named
    ``=HYPERLINK(...).jpg``) are neutralised (:func:`objlen.spreadsheet.csv_text`).
    """

    def cells(row: dict[str, Any]) -> list[Any]:
        row = dict(row)
        row["warnings"] = "; ".join(row.get("warnings") or [])
        return [row.get(column) for column in CSV_COLUMNS]

    return spreadsheet_csv(
        CSV_COLUMNS, (cells(row) for record in records for row in object_rows(record))
    )


def load_results(out_dir: str | Path) -> list[dict[str, Any]]:
    """The latest record of every photo in ``out_dir``'s journal (read only)."""
    return Journal(Path(out_dir) / RESULTS_JSONL, repair=False).latest()


def write_annotated_zip(out_dir: str | Path) -> Path:
    """Zip the annotated pictures of ``out_dir`` (JPEG and PNG) into
    ``annotated.zip``; return its path."""
    out = Path(out_dir)
    target = out / ANNOTATED_ZIP
    folder = out / ANNOTATED_DIR
    pictures = [p for ext in ANNOTATE_FORMATS.values() for p in folder.glob(f"*{ext}")]
    handle, temporary = tempfile.mkstemp(dir=out, prefix=".annotated.", suffix=".tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as zipped:
            for path in sorted(pictures):
                zipped.write(path, path.name)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def annotated_name(name: str, digest: str, annotate_format: str = "jpeg") -> str:
    """File name of a photo's annotated picture: its stem (safe characters
    only), the start of its content hash and the extension of
    ``annotate_format`` (a key of :data:`ANNOTATE_FORMATS`).

    >>> annotated_name("shots/IMG 7.JPG", "0123456789abcdef")
    'IMG_7-0123456789.jpg'
    >>> annotated_name("IMG 7.JPG", "0123456789abcdef", "png")
    'IMG_7-0123456789.png'
    """
    stem = re.split(r"[/\\!]", name)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:60] or "photo"
    return f"{stem}-{digest[:10]}{ANNOTATE_FORMATS[annotate_format]}"


__all__ = [
    "ANNOTATED_DIR",
    "ANNOTATED_ZIP",
    "ANNOTATE_FORMATS",
    "CSV_COLUMNS",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "annotated_name",
    "csv_text",
    "load_results",
    "object_rows",
    "write_annotated_zip",
]
