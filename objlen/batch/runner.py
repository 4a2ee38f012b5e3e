"""Measure many photos at once: folders, zip files, an S3 prefix.

:func:`run_batch` segments every photo with the configured backend, measures
it with :func:`objlen.measure`, and writes into ``out_dir``:

* ``results.jsonl``: the journal, one JSON record per photo (``status`` ``ok``
  or ``error``, the numbers, the message, the full schema-v1 measurement);
* ``results.csv``: the same, one row per photo, rebuilt from the journal;
* ``annotated/<name>-<hash>.png``: the photo with the mask, the points, the
  segments and the numbers drawn on it (no larger than ``annotate_max_side``).

Promises:

* **Bounded work.** At most ``concurrency`` photos are in flight (read,
  decoded, segmented, measured) at any moment: the inputs are listed first
  (names only) and read one by one as slots free up, so memory holds at most
  ``concurrency`` decoded photos. Segmenter calls run in a thread pool of that
  size, each thread with a segmenter of its own.
* **Failures do not stop the batch.** A photo that cannot be read, segmented
  or measured gets an ``error`` record with a message for the operator.
* **Resumable and crash-safe.** A record is appended to the journal with one
  write, then flushed and fsync'ed, after the photo's annotated PNG is in
  place (written to a temporary file and renamed). A run that is killed loses
  at most the photos in flight; running again with the same inputs and
  options skips every photo already finished (same content hash, same
  options and segmenter), re-tries earlier failures unless they came from
  the photo itself (an unreadable file fails the same way every time), and
  re-measures nothing else. A torn last line left by a kill is cut off when
  the journal is reopened. At the end of a run (also an interrupted one) the
  journal is compacted to one record per photo and ``results.csv`` is
  rebuilt from it, both through a temporary file and a rename.

Photos with the same bytes under different names are segmented once; the
second gets a copy of the first's record.

This module runs the batch: the folder's lock, the bounded loop, progress
and the report. The parts live in their own modules:

* :mod:`objlen.batch.inputs`: listing the photos (``BatchInput``, ``BatchError``);
* :mod:`objlen.batch.photo`: one photo in a worker (segmenters, records);
* :mod:`objlen.batch.ledger`: which photos are finished or in flight;
* :mod:`objlen.batch.journal`: the crash-safe ``results.jsonl``;
* :mod:`objlen.batch.results`: the output folder's files, read back;
* :mod:`objlen.display.overlay`: drawing the annotated picture.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from objlen.batch.inputs import BatchError, BatchInput, expand_inputs
from objlen.batch.journal import Journal
from objlen.batch.ledger import Ledger, options_key
from objlen.batch.photo import PhotoJob, SegmenterFactory, SegmenterPool, process_photo
from objlen.batch.results import ANNOTATED_DIR, RESULTS_CSV, RESULTS_JSONL, csv_text
from objlen.errors import ParameterError
from objlen.files import write_atomically
from objlen.options import MeasureOptions

#: Lock file in the output folder, held by a run (``flock``) while it writes.
LOCK_FILE = ".objlen-batch.lock"


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock file for the run (released by the OS if the process
    dies), and clear the temporary files a killed run left behind."""
    with open(out / LOCK_FILE, "a+b") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise BatchError(
                f"another batch is writing into {out}; wait for it or choose another folder"
            ) from error
        for stale in (*out.glob(".*.tmp"), *(out / ANNOTATED_DIR).glob(".*.tmp")):
            stale.unlink(missing_ok=True)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands; given to the progress callback after every photo.

    ``resumed`` counts photos already finished by an earlier run (or a copy of
    a photo with the same bytes); ``failed`` photos with an ``error`` record.
    """

    total: int
    done: int
    ok: int
    failed: int
    resumed: int
    elapsed_s: float
    last_name: str = ""

    @property
    def fraction(self) -> float:
        """``done / total`` in 0..1."""
        return self.done / self.total if self.total else 1.0


@dataclass(frozen=True)
class BatchReport:
    """What a finished (or interrupted) run did.

    Attributes:
        records: the latest record of each photo of this run, in input order.
        processed: photos segmented and measured by this run.
        resumed: photos skipped because an earlier run finished them (or
            copied from a photo with the same bytes).
    """

    out_dir: Path
    total: int
    ok: int
    failed: int
    processed: int
    resumed: int
    elapsed_s: float
    records: tuple[dict[str, Any], ...]

    @property
    def failures(self) -> list[tuple[str, str]]:
        """``(name, message)`` of every photo that failed."""
        return [(r["name"], r.get("message", "")) for r in self.records if r["status"] != "ok"]

    @property
    def results_csv(self) -> Path:
        """The run's ``results.csv``."""
        return self.out_dir / RESULTS_CSV


def run_batch(
    inputs: Iterable[str | Path | BatchInput],
    out_dir: str | Path,
    *,
    options: MeasureOptions,
    segmenter_factory: SegmenterFactory,
    concurrency: int = 8,
    progress: Callable[[BatchProgress], None] | None = None,
    s3_endpoint_url: str | None = None,
    annotate: bool = True,
    annotate_max_side: int = 1600,
    retry_errors: bool = True,
) -> BatchReport:
    """Measure every photo of ``inputs``; write the results into ``out_dir``.

    Args:
        inputs: files, folders, zip files, ``s3://bucket/prefix`` addresses
            (see :func:`expand_inputs`).
        out_dir: where ``results.jsonl``, ``results.csv`` and ``annotated/``
            go; created if needed. Running again into the same folder resumes.
        options: the measurement options, the same for every photo.
        segmenter_factory: makes a segmenter; called up to ``concurrency``
            times (one segmenter per worker thread).
        concurrency: photos in flight at once (threads, segmenter calls,
            decoded photos in memory), at least 1.
        progress: called on the calling thread before the first photo and
            after every photo.
        s3_endpoint_url: S3 endpoint instead of AWS's, for ``s3://`` inputs.
        annotate: write the annotated PNGs.
        annotate_max_side: longest side of an annotated PNG, pixels.
        retry_errors: re-try photos that failed in an earlier run (except
            unreadable photos, which fail the same way every time).

    Returns:
        A :class:`BatchReport`; failures are in it, not raised.

    Raises:
        ParameterError: invalid options or concurrency.
        BatchError: an input is missing or cannot be listed; no photos.
    """
    options = options.validated()
    if concurrency < 1:
        raise ParameterError(f"concurrency must be at least 1; got {concurrency}")
    if annotate_max_side < 64:
        raise ParameterError("annotate_max_side must be at least 64 pixels")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items = expand_inputs(inputs, exclude=out, s3_endpoint_url=s3_endpoint_url)
    with _exclusive(out):
        return _run(
            items,
            out,
            options,
            segmenter_factory,
            concurrency,
            progress,
            annotate,
            annotate_max_side,
            retry_errors,
        )


def _run(
    items: list[BatchInput],
    out: Path,
    options: MeasureOptions,
    segmenter_factory: SegmenterFactory,
    concurrency: int,
    progress: Callable[[BatchProgress], None] | None,
    annotate: bool,
    annotate_max_side: int,
    retry_errors: bool,
) -> BatchReport:
    """The body of :func:`run_batch`, with the folder's lock held."""
    pool = SegmenterPool(segmenter_factory)
    key = options_key(options, pool.name)
    journal = Journal(out / RESULTS_JSONL)
    job = PhotoJob(
        options=options,
        key=key,
        out_dir=out,
        pool=pool,
        journal=journal,
        ledger=Ledger(journal, key, retry_errors),
        annotate=annotate,
        annotate_max_side=annotate_max_side,
    )
    counts = {"ok": 0, "error": 0, "resumed": 0, "done": 0}
    start = time.perf_counter()

    def report(last: str = "") -> None:
        if progress is not None:
            progress(
                BatchProgress(
                    total=len(items),
                    done=counts["done"],
                    ok=counts["ok"],
                    failed=counts["error"],
                    resumed=counts["resumed"],
                    elapsed_s=time.perf_counter() - start,
                    last_name=last,
                )
            )

    order = [item.name for item in items]
    try:
        report()
        with ThreadPoolExecutor(concurrency, thread_name_prefix="objlen-batch") as executor:
            waiting = iter(items)
            pending: set[Future[tuple[str, dict[str, Any]]]] = set()
            try:
                while True:
                    while len(pending) < concurrency:
                        item = next(waiting, None)
                        if item is None:
                            break
                        pending.add(executor.submit(process_photo, item, job))
                    if not pending:
                        break
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        outcome, record = future.result()
                        counts[outcome] += 1
                        counts["done"] += 1
                        report(record["name"])
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    finally:
        records = journal.compact(order)
        write_atomically(out / RESULTS_CSV, csv_text(records).encode())
    wanted = set(order)
    mine = tuple(r for r in records if r["name"] in wanted)
    ok = sum(1 for r in mine if r["status"] == "ok")
    return BatchReport(
        out_dir=out,
        total=len(items),
        ok=ok,
        failed=len(mine) - ok,
        processed=counts["ok"] + counts["error"],
        resumed=counts["resumed"],
        elapsed_s=time.perf_counter() - start,
        records=mine,
    )


__all__ = ["BatchProgress", "BatchReport", "run_batch"]
