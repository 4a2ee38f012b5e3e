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
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import logging
import os
import re
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from objlen import overlay
from objlen.classes import ClassIds
from objlen.errors import ImageReadError, ObjlenError, ParameterError
from objlen.files import write_atomically
from objlen.imageio import encode_png, load_image, sha256_hex
from objlen.measure import measure
from objlen.options import MeasureOptions
from objlen.result import Measurement
from objlen.s3 import split_s3_uri
from objlen.segment.base import Segmenter

logger = logging.getLogger(__name__)

#: Schema of one journal record.
RECORD_SCHEMA = "objlen.batch/1"
RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
ANNOTATED_DIR = "annotated"
ANNOTATED_ZIP = "annotated.zip"
#: File name endings taken from folders, zip files and S3 prefixes (a file
#: named on the command line is always taken).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".heic", ".heif")
#: Largest input file read, in bytes.
MAX_INPUT_BYTES = 256 * 1024 * 1024
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

SegmenterFactory = Callable[[], Segmenter]


class BatchError(ParameterError):
    """A batch cannot start: an input is missing, empty, or unreachable."""


# ------------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class BatchInput:
    """One photo of a batch, not yet read.

    Attributes:
        name: unique name shown in the results: a path, ``archive.zip!entry``
            or ``s3://bucket/key``.
        read: returns the file's bytes (called in a worker thread).
    """

    name: str
    read: Callable[[], bytes] = field(repr=False, compare=False)


def _is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def _read_file(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise ImageReadError(f"{path}: {size / 1e6:.0f} MB is too large for a photo")
    return path.read_bytes()


def _folder_inputs(folder: Path, exclude: Path | None) -> Iterator[BatchInput]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative) or not path.is_file():
            continue
        if exclude is not None and path.resolve().is_relative_to(exclude):
            continue
        if _is_image_name(path.name):
            yield BatchInput(str(path), lambda path=path: _read_file(path))
        elif path.suffix.lower() == ".zip":
            yield from _zip_inputs(path)


def _read_zip_entry(archive: Path, entry: str) -> bytes:
    with zipfile.ZipFile(archive) as zipped:
        info = zipped.getinfo(entry)
        if info.file_size > MAX_INPUT_BYTES:
            raise ImageReadError(f"{archive}!{entry}: too large for a photo")
        return zipped.read(info)


def _zip_entries(zipped: zipfile.ZipFile) -> list[str]:
    """Image entries of a zip file, sorted; hidden and ``__MACOSX`` ones skipped."""
    return sorted(
        info.filename
        for info in zipped.infolist()
        if not info.is_dir()
        and _is_image_name(info.filename)
        and not any(p.startswith((".", "__MACOSX")) for p in info.filename.split("/"))
    )


def _zip_inputs(archive: Path) -> Iterator[BatchInput]:
    try:
        with zipfile.ZipFile(archive) as zipped:
            entries = _zip_entries(zipped)
    except (zipfile.BadZipFile, OSError) as error:
        raise BatchError(f"{archive}: not a readable zip file ({error})") from error
    for entry in entries:
        yield BatchInput(f"{archive}!{entry}", lambda entry=entry: _read_zip_entry(archive, entry))


def _s3_client(endpoint_url: str | None) -> Any:
    """A boto3 S3 client (imported here, so that other uses need no boto3)."""
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint_url)


def _read_s3_object(client: Any, bucket: str, key: str) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = client.get_object(Bucket=bucket, Key=key)
        if answer.get("ContentLength", 0) > MAX_INPUT_BYTES:
            raise ImageReadError(f"s3://{bucket}/{key}: too large for a photo")
        return answer["Body"].read()
    except (BotoCoreError, ClientError) as error:
        raise ImageReadError(f"s3://{bucket}/{key}: could not be read from S3: {error}") from error


def _s3_inputs(uri: str, client: Any) -> Iterator[BatchInput]:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = split_s3_uri(uri, "the batch input")
    keys: list[str] = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            keys += [o["Key"] for o in page.get("Contents", []) if _is_image_name(o["Key"])]
    except (BotoCoreError, ClientError) as error:
        raise BatchError(f"cannot list {uri}: {error}") from error
    for key in keys:
        yield BatchInput(
            f"s3://{bucket}/{key}", lambda key=key: _read_s3_object(client, bucket, key)
        )


def inputs_from_uploads(files: Iterable[tuple[str, bytes]]) -> list[BatchInput]:
    """Photos and zip files already in memory (uploads) as batch inputs: a
    ``.zip`` gives its image entries (``name.zip!entry``), anything else is
    taken as a photo.

    Raises:
        BatchError: a ``.zip`` that is not a zip file.
    """
    found: list[BatchInput] = []
    for name, data in files:
        if not name.lower().endswith(".zip"):
            found.append(BatchInput(name, lambda data=data: data))
            continue
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zipped:
                entries = _zip_entries(zipped)
        except zipfile.BadZipFile as error:
            raise BatchError(f"{name}: not a readable zip file ({error})") from error
        for entry in entries:

            def read(entry: str = entry, data: bytes = data) -> bytes:
                with zipfile.ZipFile(io.BytesIO(data)) as zipped:
                    return zipped.read(entry)

            found.append(BatchInput(f"{name}!{entry}", read))
    return found


def expand_inputs(
    inputs: Iterable[str | Path | BatchInput],
    *,
    exclude: str | Path | None = None,
    s3_endpoint_url: str | None = None,
) -> list[BatchInput]:
    """List the photos named by ``inputs``, without reading them.

    Args:
        inputs: files (always taken, whatever their name), folders (searched
            recursively for image files and zip files; hidden files skipped),
            zip files (their image entries), ``s3://bucket/prefix`` addresses
            (every image object under the prefix), or ready :class:`BatchInput`.
        exclude: a folder whose files are never taken (the batch's own output).
        s3_endpoint_url: S3 endpoint instead of AWS's (e.g. a local server).

    Raises:
        BatchError: an input does not exist, a zip file or an S3 prefix cannot
            be listed, or no photo was found at all.
    """
    found: list[BatchInput] = []
    excluded = None if exclude is None else Path(exclude).resolve()
    client = None
    for item in inputs:
        if isinstance(item, BatchInput):
            found.append(item)
            continue
        text = str(item)
        if text.startswith("s3://"):
            client = client or _s3_client(s3_endpoint_url)
            found += _s3_inputs(text, client)
            continue
        path = Path(item)
        if path.is_dir():
            found += _folder_inputs(path, excluded)
        elif path.is_file() and path.suffix.lower() == ".zip":
            found += _zip_inputs(path)
        elif path.is_file():
            found.append(BatchInput(str(path), lambda path=path: _read_file(path)))
        else:
            raise BatchError(f"{path}: no such file or folder")
    seen: set[str] = set()
    unique = [i for i in found if not (i.name in seen or seen.add(i.name))]
    if not unique:
        raise BatchError(
            "no photos found in the inputs (looked for "
            + ", ".join(IMAGE_SUFFIXES)
            + " files and zip files)"
        )
    return unique


# ----------------------------------------------------------------------- journal
def options_key(options: MeasureOptions, segmenter_name: str) -> str:
    """A short fingerprint of the options and the segmenter: a photo already
    measured under the same fingerprint is not measured again."""
    payload = json.dumps(
        {"options": asdict(options), "segmenter": segmenter_name}, sort_keys=True, default=str
    )
    return sha256_hex(payload.encode())[:16]


class Journal:
    """The append-only record file ``results.jsonl``.

    Every :meth:`append` is one ``write`` of one whole line, then fsync,
    under a lock: after a kill the file holds whole records, plus at most one
    torn last line, which opening the journal with ``repair=True`` (as a run
    does, holding the folder's lock) cuts off; a reader (``repair=False``)
    only skips it.
    """

    def __init__(self, path: str | Path, *, repair: bool = True) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.records: list[dict[str, Any]] = self._load(repair)

    def _load(self, repair: bool) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        whole = data.rfind(b"\n") + 1
        if whole < len(data) and repair:  # a torn last line from a killed run
            logger.warning("%s: cutting off a torn last line", self.path)
            with open(self.path, "r+b") as stream:
                stream.truncate(whole)
                stream.flush()
                os.fsync(stream.fileno())
        records = []
        for number, line in enumerate(data[:whole].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                logger.warning("%s line %d is not JSON; ignored", self.path, number)
                continue
            if isinstance(record, dict) and "name" in record:
                records.append(record)
        return records

    def append(self, record: dict[str, Any]) -> None:
        """Append one record durably (one write, flush, fsync)."""
        line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            self.records.append(record)

    def latest(self, order: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The last record of every name: names in ``order`` first (in that
        order), then the others in the order they first appeared."""
        last: dict[str, dict[str, Any]] = {}
        for record in self.records:
            last.setdefault(record["name"], record)
            last[record["name"]] = record
        first = set(order)
        names = [n for n in order if n in last] + [n for n in last if n not in first]
        return [last[name] for name in names]

    def compact(self, order: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Rewrite the journal with one record per name (temp file + rename);
        return those records."""
        with self._lock:
            records = self.latest(order)
            body = "".join(
                json.dumps(r, separators=(",", ":"), default=str) + "\n" for r in records
            )
            write_atomically(self.path, body.encode())
            self.records = list(records)
            return records


def csv_text(records: Iterable[dict[str, Any]]) -> str:
    """Records as ``results.csv`` text (header, then one row per record)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = dict(record)
        row["warnings"] = "; ".join(record.get("warnings") or [])
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in CSV_COLUMNS])
    return buffer.getvalue()


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


# -------------------------------------------------------------------- annotation
def _legend_lines(measurement: Measurement) -> list[str]:
    unit = measurement.unit
    several = len(measurement.objects) > 1
    lines = [
        f"{f'object {i}: ' if several else ''}"
        f"width {o.width.value:.2f} ± {o.width.uncertainty:.2f} {unit}   "
        f"height {o.height.value:.2f} ± {o.height.uncertainty:.2f} {unit}"
        for i, o in enumerate(measurement.objects, start=1)
    ]
    lines.append(f"{measurement.method} method, scale {measurement.reference.scale:.5g} {unit}/px")
    return lines


def _shrunk_for_display(
    image: np.ndarray, mask: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Shrink photo and mask by the largest whole factor that keeps them at
    least ``size`` (area averaging by whole blocks is OpenCV's fast path).
    Fewer than ``factor`` rows and columns are dropped at the right and
    bottom edges to make the blocks whole: for display only."""
    factor = min(image.shape[1] // size[0], image.shape[0] // size[1])
    if factor < 2:
        return image, mask
    height, width = image.shape[0] // factor, image.shape[1] // factor
    crop = (slice(0, height * factor), slice(0, width * factor))
    small = cv2.resize(image[crop], (width, height), interpolation=cv2.INTER_AREA)
    return small, mask[crop][factor // 2 :: factor, factor // 2 :: factor]


def annotated_picture(
    image: np.ndarray,
    mask: np.ndarray,
    measurement: Measurement,
    classes: ClassIds,
    max_side: int,
) -> np.ndarray:
    """The photo, shrunk so that its longer side is at most ``max_side``, with
    the mask tinted, every object's points and segments, the reference, the
    numbers and a legend (drawn with :mod:`objlen.overlay`)."""
    height, width = image.shape[:2]
    size = (width, height)
    if max(size) > max_side:
        size = overlay.display_size((width, height), (max_side, max_side))
    small, small_mask = _shrunk_for_display(image, mask, size)
    picture = overlay.display_base(small, small_mask, classes, 0.35, size)
    scale = max(max(size) / 1000.0, 1.0)
    corners = measurement.reference.corners
    for index in range(len(measurement.objects)):
        points = overlay.points_of(measurement, index)
        names = list(points)
        shown = overlay.to_display([points[n] for n in names], (width, height), size)
        picture = overlay.draw_annotations(
            picture,
            {n: tuple(p) for n, p in zip(names, shown, strict=True)},
            corners=None
            if corners is None or index
            else overlay.to_display(corners, (width, height), size),
            radius=4.0 * scale,
            line_width=max(1, round(2 * scale)),
            font_size=round(18 * scale),
        )
    items = overlay.legend_items(classes)
    return overlay.draw_legend(picture, _legend_lines(measurement), items, round(16 * scale))


def annotated_name(name: str, digest: str) -> str:
    """File name of a photo's annotated PNG: its stem (safe characters only)
    and the start of its content hash."""
    stem = re.split(r"[/\\!]", name)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:60] or "photo"
    return f"{stem}-{digest[:10]}.png"


# ----------------------------------------------------------------------- running
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
        return self.out_dir / RESULTS_CSV

    @property
    def results_jsonl(self) -> Path:
        return self.out_dir / RESULTS_JSONL


class _SegmenterPool:
    """Segmenters made by ``factory`` on demand, one per worker at a time (so
    at most as many as there are workers)."""

    def __init__(self, factory: SegmenterFactory) -> None:
        self._factory = factory
        self._free = [factory()]
        self._lock = threading.Lock()
        self.name = str(getattr(self._free[0], "name", type(self._free[0]).__name__))

    def acquire(self) -> Segmenter:
        with self._lock:
            if self._free:
                return self._free.pop()
        return self._factory()

    def release(self, segmenter: Segmenter) -> None:
        with self._lock:
            self._free.append(segmenter)


def _final(record: dict[str, Any]) -> bool:
    return record["status"] == "ok" or not record.get("retryable", True)


class _Ledger:
    """Which photos are finished, and which are in flight (thread-safe)."""

    def __init__(self, journal: Journal, key: str, retry_errors: bool) -> None:
        self._lock = threading.Lock()
        self._key = key
        self._retry = retry_errors
        self._inflight: dict[str, threading.Event] = {}
        self._by_digest: dict[str, dict[str, Any]] = {}
        self._named: set[tuple[str, str]] = set()
        for record in journal.records:
            self._note(record)
        self._named = {
            (r["name"], r["sha256"])
            for r in journal.latest()
            if r.get("options_key") == key and r.get("sha256") and self._counts(r)
        }

    def _counts(self, record: dict[str, Any]) -> bool:
        return _final(record) or not self._retry

    def _note(self, record: dict[str, Any]) -> None:
        if record.get("options_key") == self._key and record.get("sha256") and self._counts(record):
            self._by_digest[record["sha256"]] = record

    def claim(self, name: str, digest: str) -> tuple[str, dict[str, Any] | None]:
        """``("skip", None)``: this name is finished; ``("copy", record)``: the
        same bytes were finished under another name; ``("run", None)``: the
        caller must run it and then call :meth:`finish`."""
        while True:
            with self._lock:
                if (name, digest) in self._named:
                    return "skip", None
                if digest in self._by_digest:
                    return "copy", self._by_digest[digest]
                event = self._inflight.get(digest)
                if event is None:
                    self._inflight[digest] = threading.Event()
                    return "run", None
            event.wait()

    def finish(self, digest: str, record: dict[str, Any] | None) -> None:
        with self._lock:
            if record is not None:
                self._note(record)
                if self._counts(record):
                    self._named.add((record["name"], digest))
            event = self._inflight.pop(digest, None)
        if event is not None:
            event.set()


@dataclass
class _Job:
    options: MeasureOptions
    key: str
    out_dir: Path
    pool: _SegmenterPool
    journal: Journal
    ledger: _Ledger
    annotate: bool
    annotate_max_side: int


def _record(name: str, digest: str | None, job: _Job, **values: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema": RECORD_SCHEMA,
        "name": name,
        "sha256": digest,
        "options_key": job.key,
        "segmenter": job.pool.name,
        "finished_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    record.update(values)
    return record


def _error(name: str, digest: str | None, job: _Job, error: BaseException, start: float) -> dict:
    known = isinstance(error, ObjlenError)
    message = str(error) if known else f"unexpected error: {error!r}"
    if not known:
        logger.exception("batch: %s failed unexpectedly", name, exc_info=error)
    return _record(
        name,
        digest,
        job,
        status="error",
        message=message,
        error_kind=type(error).__name__,
        retryable=not isinstance(error, ImageReadError),
        seconds=round(time.perf_counter() - start, 3),
    )


def _measure_photo(name: str, data: bytes, digest: str, job: _Job) -> dict[str, Any]:
    """Decode, segment, measure and annotate one photo; return its ok record."""
    start = time.perf_counter()
    image = load_image(data, name=name)
    segmenter = job.pool.acquire()
    try:
        segmentation = segmenter.segment(image)
    finally:
        job.pool.release(segmenter)
    result = measure(
        segmentation.mask,
        job.options,
        image=image,
        input_warnings=segmentation.warnings,
        input_notes=segmentation.notes,
    )
    annotated = None
    if job.annotate:
        annotated = f"{ANNOTATED_DIR}/{annotated_name(name, digest)}"
        picture = annotated_picture(
            image, segmentation.mask, result, job.options.classes, job.annotate_max_side
        )
        write_atomically(job.out_dir / annotated, encode_png(picture))
    first = result.objects[0]
    return _record(
        name,
        digest,
        job,
        status="ok",
        message="",
        width=round(first.width.value, 4),
        width_u=round(first.width.uncertainty, 4),
        height=round(first.height.value, 4),
        height_u=round(first.height.uncertainty, 4),
        unit=result.unit,
        method=result.method,
        object_count=len(result.objects),
        scale=float(f"{result.reference.scale:.8g}"),
        warnings=list(result.warnings),
        annotated=annotated,
        seconds=round(time.perf_counter() - start, 3),
        measurement=result.to_dict(),
    )


def _process(item: BatchInput, job: _Job) -> tuple[str, dict[str, Any]]:
    """Run one photo in a worker; return ``(outcome, record)`` where outcome is
    ``"ok"``, ``"error"`` or ``"resumed"``."""
    start = time.perf_counter()
    try:
        data = item.read()
    except Exception as error:  # an unreadable input fails alone
        record = _error(item.name, None, job, error, start)
        record["retryable"] = True
        job.journal.append(record)
        return "error", record
    digest = sha256_hex(data)
    decision, earlier = job.ledger.claim(item.name, digest)
    if decision == "skip":
        return "resumed", {"name": item.name, "sha256": digest}
    if decision == "copy":
        assert earlier is not None
        record = dict(earlier, name=item.name, duplicate_of=earlier["name"])
        job.journal.append(record)
        job.ledger.finish(digest, record)
        return "resumed", record
    record = None
    try:
        try:
            record = _measure_photo(item.name, data, digest, job)
        except Exception as error:
            record = _error(item.name, digest, job, error, start)
        del data
        job.journal.append(record)
    finally:
        job.ledger.finish(digest, record)
    return record["status"], record


def segmenter_factory_for(
    backend: str,
    *,
    classes: ClassIds,
    sagemaker: Any = None,
    reference_rule: str = "leftmost",
) -> SegmenterFactory:
    """A factory of segmenters built with :func:`objlen.segment.make_segmenter`
    (each call makes a new one, so that every worker thread has its own)."""
    from objlen.segment import make_segmenter

    def factory() -> Segmenter:
        return make_segmenter(
            backend, classes=classes, sagemaker=sagemaker, reference_rule=reference_rule
        )

    return factory


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
    pool = _SegmenterPool(segmenter_factory)
    key = options_key(options, pool.name)
    journal = Journal(out / RESULTS_JSONL)
    job = _Job(
        options=options,
        key=key,
        out_dir=out,
        pool=pool,
        journal=journal,
        ledger=_Ledger(journal, key, retry_errors),
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
                        pending.add(executor.submit(_process, item, job))
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


__all__ = [
    "ANNOTATED_DIR",
    "CSV_COLUMNS",
    "IMAGE_SUFFIXES",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "BatchError",
    "BatchInput",
    "BatchProgress",
    "BatchReport",
    "Journal",
    "annotated_picture",
    "csv_text",
    "expand_inputs",
    "inputs_from_uploads",
    "load_results",
    "options_key",
    "run_batch",
    "segmenter_factory_for",
    "write_annotated_zip",
]
