"""The batch against hostile inputs and a hostile disk (issue #12, item 7).

Real zip files, real photos, the real command line in a subprocess, and a
real full disk: a small ``tmpfs`` mounted for the test (root only; CI runs
as root). Every run is bounded in size and time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from objlen import MeasureOptions, ReferenceSpec
from objlen.batch.budget import MemoryBudget, header_pixels, photo_cost
from objlen.batch.inputs import BatchInput, expand_inputs, inputs_from_uploads
from objlen.batch.journal import Journal
from objlen.batch.photo import segmenter_factory_for
from objlen.batch.results import RESULTS_JSONL
from objlen.batch.runner import run_batch
from objlen.classes import ClassIds
from objlen.testing.hostile import (
    corrupt_zip_entry,
    png_bomb,
    run_measuring_memory,
    zip_of_pixel_bombs,
    zip_of_tiny_entries,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
CARDS = [
    "card_rectangle.jpg",
    "card_ellipse.jpg",
    "card_blob_gradient.jpg",
    "dark_card_ellipse.jpg",
]
TINY_OPTIONS = MeasureOptions(reference=ReferenceSpec(length=24.0))


def cli(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m objlen ARGS`` in the project folder."""
    return subprocess.run(
        [sys.executable, "-m", "objlen", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit status 2 and one line ``objlen: error: ...`` holding ``words``; no traceback."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("objlen: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0]


# -- a zip of many entries ---------------------------------------------------------


def _run_tiny(archive: Path, out: Path) -> float:
    start = time.perf_counter()
    report = run_batch(
        [archive],
        out,
        options=TINY_OPTIONS,
        segmenter_factory=segmenter_factory_for("local", classes=ClassIds()),
        concurrency=4,
        annotate=False,
    )
    assert report.total == report.failed  # 1x1 photos: too small to measure, one line each
    return time.perf_counter() - start


def test_a_zip_is_read_from_one_open_archive(tmp_path: Path, monkeypatch) -> None:
    """Before: the archive was opened again for every entry (its whole central
    directory parsed each time): 20,000 entries did not finish in 10 minutes."""
    archive = zip_of_tiny_entries(tmp_path / "many.zip", 2000)
    parsed = []
    real = zipfile.ZipFile._RealGetContents

    def counting(self: zipfile.ZipFile) -> None:
        parsed.append(1)
        real(self)

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", counting)
    items = expand_inputs([archive])
    uploads = inputs_from_uploads([("up.zip", archive.read_bytes())])
    assert [i.read() for i in items] == [i.read() for i in uploads]
    assert len(items) == 2000
    assert len(parsed) == 2  # one archive opened once, the upload once


def test_a_zip_of_many_tiny_entries_takes_linear_time(tmp_path: Path) -> None:
    """Before: 1,000 / 2,000 / 4,000 entries took 5.6 / 19 / 82 s (quadratic:
    8 times the entries, 64 times the time). Linear is 8 times; the bound
    leaves room for a busy machine."""
    small = _run_tiny(zip_of_tiny_entries(tmp_path / "500.zip", 500), tmp_path / "a")
    large = _run_tiny(zip_of_tiny_entries(tmp_path / "4000.zip", 4000), tmp_path / "b")
    print(f"zip of 500 tiny entries {small:.1f} s, of 4,000 {large:.1f} s")
    assert large < 20 * small, (small, large)
    assert large < 60


def test_a_bad_crc_fails_its_photo_in_one_line(tmp_path: Path) -> None:
    archive = tmp_path / "cards.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for name in CARDS[:2]:
            zipped.write(SAMPLES / name, name)
    corrupt_zip_entry(archive, CARDS[1])

    done = cli(
        "batch",
        str(archive),
        "--out",
        str(tmp_path / "out"),
        "--reference-size",
        "85.6x54",
        "--quiet",
        "--no-annotate",
    )

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("objlen: failed:")]
    assert failed == [
        f"objlen: failed: {archive}!{CARDS[1]}: the zip entry is corrupt "  # named once
        "(its CRC does not match)"
    ]
    assert "1 of 2 photos measured" in done.stdout


# -- memory ----------------------------------------------------------------------


def test_the_cost_of_a_photo_is_read_from_its_header() -> None:
    bomb = png_bomb(10_000, 10_000)
    assert len(bomb) < 200_000
    assert header_pixels(bomb) == 100_000_000
    assert photo_cost(bomb) >= 100_000_000 * 16
    assert header_pixels(b"not an image") is None


def test_the_budget_lets_a_photo_over_it_run_alone() -> None:
    import threading

    budget = MemoryBudget(100)
    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def small() -> None:
        with budget.hold(60):
            order.append("small in")
            inside.set()
            release.wait(5)
        order.append("small out")

    def huge() -> None:
        with budget.hold(500):
            order.append("huge in")

    first = threading.Thread(target=small)
    first.start()
    inside.wait(5)
    second = threading.Thread(target=huge)
    second.start()
    time.sleep(0.2)
    assert order == ["small in"]  # the huge one waits while anything is held
    release.set()
    first.join(5)
    second.join(5)
    assert order == ["small in", "small out", "huge in"]
    assert budget.peak_bytes == 500


def _batch_peak_mb(archive: Path, out: Path, *extra: str) -> float:
    """Peak memory (MB) of ``python -m objlen batch ARCHIVE`` with ``extra`` options."""
    command = [sys.executable, "-m", "objlen", "batch", str(archive), "--out", str(out),
               "--reference-size", "85.6x54", "--quiet", *extra]  # fmt: skip
    status, peak_mb = run_measuring_memory(command, cwd=ROOT, timeout_s=120)
    assert status is not None, "objlen batch did not finish in 120 s"
    return peak_mb


def test_a_small_zip_of_pixel_bombs_is_decoded_one_at_a_time(tmp_path: Path) -> None:
    """Before: a 0.9 MB zip took a batch to 6.3 GB at concurrency 4 (four
    64-megapixel PNGs in a 3 KB zip: 3.0 GB). Within a budget that holds one
    of them, four at concurrency 4 take about what one takes alone."""
    tiny = zip_of_tiny_entries(tmp_path / "tiny.zip", 1)
    one = zip_of_pixel_bombs(tmp_path / "one.zip", entries=1, side=8000)
    four = zip_of_pixel_bombs(tmp_path / "four.zip", entries=4, side=8000)
    assert four.stat().st_size < 10_000

    base_mb = _batch_peak_mb(tiny, tmp_path / "a")
    one_mb = _batch_peak_mb(one, tmp_path / "b", "--concurrency", "1")
    four_mb = _batch_peak_mb(four, tmp_path / "c", "--concurrency", "4", "--max-memory-mb", "1500")

    print(f"batch peak: {base_mb:.0f} MB idle, {one_mb:.0f} MB one 64 MP bomb, "
          f"{four_mb:.0f} MB four at concurrency 4 within 1500 MB")  # fmt: skip
    assert four_mb - base_mb < 1.5 * (one_mb - base_mb)
    assert four_mb < base_mb + 1500


# -- the results folder ---------------------------------------------------------


@pytest.mark.parametrize(
    ("make_out", "words"),
    [
        (lambda tmp: _touch(tmp / "a-file"), ("is a file, not a folder",)),
        (lambda tmp: _touch(tmp / "a-file") / "below", ("cannot create the results folder",)),
        (lambda tmp: Path("/proc/objlen-batch-test"), ("cannot create the results folder",)),
        (lambda tmp: Path("/proc/self"), ("cannot write into the results folder",)),
        (lambda tmp: Path("/dev/null"), ("is a file, not a folder",)),
    ],
    ids=["file", "under-a-file", "under-proc", "proc-folder", "dev-null"],
)
def test_a_results_folder_that_cannot_be_one_is_one_line(tmp_path: Path, make_out, words) -> None:
    out = make_out(tmp_path)
    done = cli(
        "batch",
        str(SAMPLES / CARDS[0]),
        "--out",
        str(out),
        "--reference-size",
        "85.6x54",
        "--quiet",
    )
    assert_one_line_error(done, *words)


def _touch(path: Path) -> Path:
    path.write_text("not a folder")
    return path


@pytest.mark.parametrize(
    "line",
    [
        b"\xff\xfe garbage \x00\x01",
        b'{"name": "x.jpg"}',
        b'{"name": ["x"], "status": "ok"}',
        b'{"name": "x.jpg", "status": "ok", "sha256": {"a": 1}}',
        b"[" * 100_000 + b"]" * 100_000,
        b"null",
    ],
    ids=["not-utf8", "no-status", "list-name", "dict-sha", "deep", "null"],
)
def test_a_corrupted_results_jsonl_line_is_skipped_with_one_warning(
    tmp_path: Path, line: bytes
) -> None:
    out = tmp_path / "out"
    first = cli(
        "batch",
        str(SAMPLES / CARDS[0]),
        "--out",
        str(out),
        "--reference-size",
        "85.6x54",
        "--quiet",
        "--no-annotate",
    )
    assert first.returncode == 0, first.stderr
    journal = out / RESULTS_JSONL
    journal.write_bytes(line + b"\n" + journal.read_bytes())

    again = cli(
        "batch",
        str(SAMPLES / CARDS[0]),
        str(SAMPLES / CARDS[1]),
        "--out",
        str(out),
        "--reference-size",
        "85.6x54",
        "--quiet",
        "--no-annotate",
    )

    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert again.stderr.strip().splitlines() == [f"{journal} line 1 is not JSON; ignored"] or (
        again.stderr.strip().splitlines() == [f"{journal} line 1 is not a batch record; ignored"]
    ), again.stderr
    assert "2 of 2 photos measured, 0 failed (1 already done)" in again.stdout
    assert [r["name"] for r in Journal(journal, repair=False).latest()] == [
        str(SAMPLES / CARDS[0]),
        str(SAMPLES / CARDS[1]),
    ]


# -- a full disk ------------------------------------------------------------------


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 2 MiB ``tmpfs`` of its own, unmounted after the test (needs root)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        if os.environ.get("CI") == "true":
            pytest.fail("the full-disk test needs root to mount a tmpfs (CI runs as root)")
        pytest.skip("the full-disk test needs root to mount a tmpfs")
    folder = Path(tempfile.mkdtemp(prefix="objlen-full-disk-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], check=True, timeout=30
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)
        folder.rmdir()


def _fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte with one file; return it."""
    filler = disk / "filler"
    with open(filler, "wb") as stream:
        try:
            while True:
                stream.write(b"\0" * 65536)
                stream.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_stops_the_batch_in_one_line_and_it_resumes_once_freed(
    small_disk: Path,
) -> None:
    out = small_disk / "out"
    first_two = [str(SAMPLES / name) for name in CARDS[:2]]
    all_four = [str(SAMPLES / name) for name in CARDS]
    options = ["--reference-size", "85.6x54", "--quiet", "--no-annotate", "--concurrency", "1"]

    done = cli("batch", *first_two, "--out", str(out), *options)
    assert done.returncode == 0, done.stderr
    kept = (out / RESULTS_JSONL).read_bytes()

    filler = _fill(small_disk)
    done = cli("batch", *all_four, "--out", str(out), *options)
    assert_one_line_error(done, "no space left on the disk holding", "free some space")
    after = (out / RESULTS_JSONL).read_bytes()
    assert after.startswith(kept)  # nothing finished is lost (a record may fit in the last page)
    assert all(json.loads(line)["status"] == "ok" for line in after.splitlines())

    filler.unlink()
    done = cli("batch", *all_four, "--out", str(out), *options)
    assert done.returncode == 0, done.stderr
    finished = len(after.splitlines())
    assert 2 <= finished < 4
    assert f"4 of 4 photos measured, 0 failed ({finished} already done)" in done.stdout
    records = [json.loads(line) for line in (out / RESULTS_JSONL).read_text().splitlines()]
    assert [r["name"] for r in records] == all_four
    assert {r["status"] for r in records} == {"ok"}


def test_an_annotated_picture_that_does_not_fit_stops_the_batch_too(small_disk: Path) -> None:
    out = small_disk / "out"
    out.mkdir()
    (out / RESULTS_JSONL).write_text("")
    filler = _fill(small_disk)
    report_error = None
    try:
        run_batch(
            [BatchInput("card.jpg", (SAMPLES / CARDS[0]).read_bytes)],
            out,
            options=MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0))),
            segmenter_factory=segmenter_factory_for("local", classes=ClassIds()),
            concurrency=1,
        )
    except Exception as error:
        report_error = error
    filler.unlink()
    assert type(report_error).__name__ == "DiskFullError", report_error
    assert "free some space" in str(report_error)
    assert (out / RESULTS_JSONL).read_text() == ""  # no error record for the photo
