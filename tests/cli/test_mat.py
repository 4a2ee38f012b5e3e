"""``python -m objlen mat``: the PDF it writes, read back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
POINTS_PER_MM = 72.0 / 25.4


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "objlen", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize(("paper", "size_mm"), [("Letter", (215.9, 279.4)), ("A3", (297, 420))])
def test_mat_writes_a_pdf_of_the_paper_size(tmp_path, paper, size_mm):
    out = tmp_path / "mat.pdf"
    done = run("mat", "--paper", paper, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "100 %" in done.stdout
    page = PdfReader(out).pages[0]
    assert float(page.mediabox.width) == pytest.approx(size_mm[0] * POINTS_PER_MM, abs=1e-3)
    assert float(page.mediabox.height) == pytest.approx(size_mm[1] * POINTS_PER_MM, abs=1e-3)


def test_unwritable_output_is_one_line_and_status_2(tmp_path):
    done = run("mat", "--out", str(tmp_path / "no" / "such" / "dir" / "mat.pdf"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("objlen: error: cannot write")
