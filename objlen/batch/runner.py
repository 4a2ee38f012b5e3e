"""Measure many photos at once: folders, zip files, an S3 prefix.

:func:`run_batch` segments every photo with the configured backend, measures
it with :func:`objlen.measure`, and writes into ``out_dir``:

* ``results.jsonl``: the journal, one JSON record per photo (``status`` ``ok``
  or ``error``, the numbers, the message, the full schema-v1 measurement);
* ``results.csv``: the same, one row per photo, rebuilt from the journal;
* ``annotated/<name>-<hash>.jpg`` (``.png`` with ``annotate_format="png"``):
  the photo with the mask, the points, the segments and the numbers drawn on
  it (no larger than ``annotate_max_side``).

Promises:

* **Bounded work.** At most ``concurrency`` photos are in flight (read,
  decoded, segmented, measured) at any moment: the inputs are listed first
  (names only) and read one by one as slots free up, so memory holds at most
  ``concurrency`` decoded photos. Segmenter calls run in a thread pool of that
  size, each thread with a segmenter of its own.
* **Bounded memory.** Before a photo is decoded, its decoded size (read
  from its header) is held from a :class:`~objlen.batch.budget.MemoryBudget`
  of ``memory_budget_bytes``: photos wait while the others hold too much, and
  one larger than the whole budget runs alone.
* **Failures do not stop the batch.** A photo that cannot be read, segmented
  or measured gets an ``error`` record with a message for the operator. A
  full disk does stop it, with a :class:`~objlen.batch.journal.DiskFullError`
  that says to free space and run again.
* **Resumable and crash-safe.** A record is appended to the journal with one
  write, then flushed and fsync'ed, after the photo's annotated picture is in
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
* :mod:`objlen.batch.pacing`: how the photos share the cores;
* :mod:`objlen.batch.budget`: the memory the photos in flight may take;
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

from objlen.batch.budget import DEFAULT_MEMORY_BUDGET_BYTES, MemoryBudget
from objlen.batch.inputs import LOCK_FILE, BatchError, BatchInput, expand_inputs
from objlen.batch.journal import DiskFullError, Journal, disk_full_error, is_disk_full
from objlen.batch.ledger import Ledger, options_key
from objlen.batch.photo import (
    PhotoJob,
    RemoteWork,
    SegmenterFactory,
    SegmenterPool,
    process_photo,
)
from objlen.batch.results import (
    ANNOTATE_FORMATS,
    ANNOTATED_DIR,
    RESULTS_CSV,
    RESULTS_JSONL,
    csv_text,
)
from objlen.errors import ParameterError
from objlen.files import write_atomically
from objlen.options import MeasureOptions


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock file for the run (released by the OS if the process
    dies), and clear the temporary files a killed run left behind.

    Raises:
        BatchError: the lock file cannot be created (a read-only or special
            folder such as ``/proc``), or another run holds it.
    """
    try:
        lock_file = open(out / LOCK_FILE, "a+b")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise BatchError(
            f"cannot write into the results folder {out} ({error.strerror or error}); "
            "choose a folder you can write to"
        ) from error
    with lock_file as lock:
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
    annotate_format: str = "jpeg",
    retry_errors: bool = True,
    memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES,
    within: str | Path | None = None,
    orientation_mode: str = "fixed",
    processes: int | None = None,
    scheduler: str | None = None,
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
        annotate: write the annotated pictures.
        annotate_max_side: longest side of an annotated picture, pixels.
        annotate_format: ``"jpeg"`` (quality 92, colour at full resolution,
            encoded in about a fifth of a PNG's time:
            :func:`objlen.imageio.encode_photo_jpeg`) or ``"png"`` (lossless).
            Not part of the resume's identity: photos finished earlier keep
            the picture they have.
        retry_errors: re-try photos that failed in an earlier run (except
            unreadable photos, which fail the same way every time).
        memory_budget_bytes: memory the photos in flight may take at once,
            by their decoded size (:mod:`objlen.batch.budget`).
        within: the folder every file read must lie in, symbolic links
            resolved (the app's data root); ``None``: anywhere
            (:func:`~objlen.batch.inputs.expand_inputs`).
        orientation_mode: ``"fixed"``: the boxes as ``options`` say;
            ``"detect"``: per photo, they follow the objects when one is
            clearly turned (:func:`objlen.advice.choose_orientation`).
        processes: do each photo's work (decode, segment, measure, draw) in
            this many local worker processes instead of this process's
            threads, which bind on Python's interpreter lock
            (:mod:`objlen.batch.distributed`).
        scheduler: do it on the Dask cluster whose scheduler is at this
            address (``tcp://host:port``). The journal, the resume and the
            annotated pictures stay here either way.

    Returns:
        A :class:`BatchReport`; failures are in it, not raised.

    Raises:
        ParameterError: invalid options, concurrency or memory budget.
        BatchError: an input is missing or cannot be listed; no photos; the
            results folder is a file or cannot be written.
        DiskFullError: the disk filled up (run again once there is space).
    """
    options = options.validated()
    if concurrency < 1:
        raise ParameterError(f"concurrency must be at least 1; got {concurrency}")
    if annotate_max_side < 64:
        raise ParameterError("annotate_max_side must be at least 64 pixels")
    if annotate_format not in ANNOTATE_FORMATS:
        raise ParameterError(
            f"annotate_format must be one of {', '.join(ANNOTATE_FORMATS)}; got {annotate_format!r}"
        )
    if memory_budget_bytes < 1:
        raise ParameterError("the memory budget must be at least 1 byte")
    if processes is not None and processes < 1:
        raise ParameterError(f"worker processes must be at least 1; got {processes}")
    out = Path(out_dir)
    items = expand_inputs(inputs, exclude=out, s3_endpoint_url=s3_endpoint_url, within=within)
    _make_folder(out)  # after the inputs are found: a mistyped input leaves no empty folder
    with (
        _exclusive(out),
        _remote_work(segmenter_factory, processes, scheduler, concurrency) as remote,
    ):
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
            MemoryBudget(memory_budget_bytes),
            orientation_mode,
            remote,
            annotate_format,
        )


@contextlib.contextmanager
def _remote_work(
    factory: SegmenterFactory, processes: int | None, scheduler: str | None, concurrency: int
) -> Iterator[RemoteWork | None]:
    """Where the photos' work runs: ``None`` (the run's threads), or a
    :class:`~objlen.batch.distributed.DaskWork` closed at the end of the run."""
    if processes is None and scheduler is None:
        yield None
        return
    from objlen.batch.distributed import DaskWork

    with DaskWork(
        factory, scheduler=scheduler, processes=processes, concurrency=concurrency
    ) as remote:
        yield remote


def _make_folder(out: Path) -> None:
    """Create the results folder ``out`` (and its parents).

    Raises:
        BatchError: ``out`` (or a parent) is a file, or cannot be created.
        DiskFullError: there is no space to create it.
    """
    if out.exists() and not out.is_dir():
        raise BatchError(f"the results folder {out} is a file, not a folder; choose a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if is_disk_full(error):
            raise disk_full_error(out) from error
        if isinstance(error, FileExistsError | NotADirectoryError):
            reason = "a part of its path is a file, not a folder"
        else:
            reason = error.strerror or str(error)
        raise BatchError(
            f"cannot create the results folder {out} ({reason}); choose a folder you can write to"
        ) from error


def _finish(
    journal: Journal, order: list[str], out: Path, *, failing: bool
) -> list[dict[str, Any]]:
    """Compact the journal and rebuild ``results.csv``; return the records.

    When the disk is full and the run is already ``failing`` (an exception on
    its way out), the journal is left as it is (whole records, only more of
    them) and nothing is raised here, so that exception goes on; otherwise a
    full disk raises :class:`~objlen.batch.journal.DiskFullError`.
    """
    try:
        records = journal.compact(order)
        write_atomically(out / RESULTS_CSV, csv_text(records).encode(), shared=True)
    except (DiskFullError, OSError) as error:
        if not (isinstance(error, DiskFullError) or is_disk_full(error)):
            raise
        if failing:
            return journal.latest(order)
        if isinstance(error, DiskFullError):
            raise
        raise disk_full_error(out / RESULTS_CSV) from error
    return records


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
    budget: MemoryBudget,
    orientation_mode: str = "fixed",
    remote: RemoteWork | None = None,
    annotate_format: str = "jpeg",
) -> BatchReport:
    """The body of :func:`run_batch`, with the folder's lock held."""
    pool = SegmenterPool(segmenter_factory)
    key = options_key(options, pool.name)
    if orientation_mode != "fixed":
        key += f"+{orientation_mode}"
    journal = Journal(out / RESULTS_JSONL)
    job = PhotoJob(
        options=options,
        key=key,
        out_dir=out,
        pool=pool,
        journal=journal,
        ledger=Ledger(journal, key, retry_errors, annotate),
        annotate=annotate,
        annotate_max_side=annotate_max_side,
        budget=budget,
        orientation_mode=orientation_mode,
        remote=remote,
        annotate_format=annotate_format,
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
    failing = False
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
    except BaseException:
        failing = True
        raise
    finally:
        records = _finish(journal, order, out, failing=failing)
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
