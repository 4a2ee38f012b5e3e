"""The files a batch leaves in its output folder, and reading them back.

``out_dir`` holds:

* :data:`RESULTS_JSONL`: the journal (:class:`~objlen.batch.journal.Journal`), one
  record per photo after a run;
* :data:`RESULTS_CSV`: the same records as :func:`csv_text` writes them;
* :data:`ANNOTATED_DIR` ``/``:func:`annotated_name`: one annotated PNG per
  measured photo;
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
#: Columns of ``results.csv``, in order.
CSV_COLUMNS = (
    "name",
    "status",
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


def csv_text(records: Iterable[dict[str, Any]]) -> str:
    """Records as ``results.csv`` text (header, then one row per record).

    Text cells that a spreadsheet would run as a formula (a photo named
    ``=HYPERLINK(...).jpg``) are neutralised (:func:`objlen.spreadsheet.csv_text`).
    """

    def cells(record: dict[str, Any]) -> list[Any]:
        row = dict(record)
        row["warnings"] = "; ".join(record.get("warnings") or [])
        return [row.get(column) for column in CSV_COLUMNS]

    return spreadsheet_csv(CSV_COLUMNS, (cells(record) for record in records))


def load_results(out_dir: str | Path) -> list[dict[str, Any]]:
    """The latest record of every photo in ``out_dir``'s journal (read only)."""
    return Journal(Path(out_dir) / RESULTS_JSONL, repair=False).latest()


def write_annotated_zip(out_dir: str | Path) -> Path:
    """Zip the annotated PNGs of ``out_dir`` into ``annotated.zip``; return its path."""
    out = Path(out_dir)
    target = out / ANNOTATED_ZIP
    handle, temporary = tempfile.mkstemp(dir=out, prefix=".annotated.", suffix=".tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as zipped:
            for path in sorted((out / ANNOTATED_DIR).glob("*.png")):
                zipped.write(path, path.name)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def annotated_name(name: str, digest: str) -> str:
    """File name of a photo's annotated PNG: its stem (safe characters only)
    and the start of its content hash."""
    stem = re.split(r"[/\\!]", name)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:60] or "photo"
    return f"{stem}-{digest[:10]}.png"


__all__ = [
    "ANNOTATED_DIR",
    "ANNOTATED_ZIP",
    "CSV_COLUMNS",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "annotated_name",
    "csv_text",
    "load_results",
    "write_annotated_zip",
]
