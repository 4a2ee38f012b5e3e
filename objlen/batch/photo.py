"""One photo of a batch, in a worker thread: read, segment, measure, record.

:func:`process_photo` reads the photo, hashes its bytes, asks the
:class:`~objlen.batch.ledger.Ledger` whether it is finished, and otherwise
decodes, segments (with a segmenter of its own from the
:class:`SegmenterPool`), measures, writes the annotated picture (JPEG by
default, PNG on request) and appends the photo's record to the journal, in
that order. A photo that cannot be read,
segmented or measured raises nothing: it gets an ``error`` record with a
message for the operator (any URL in it without its user-info and query,
:func:`objlen.redact.redact_url`). From before it is decoded until its
annotated picture is written, a photo holds its decoded size from the run's
:class:`~objlen.batch.budget.MemoryBudget`.

The work on the photo itself — decode, segment, measure, draw — is
:func:`measure_photo`, a function of picklable values (:class:`PhotoWork`)
and a segmenter: it runs in the worker thread, or, when the run has a
``remote`` (:mod:`objlen.batch.distributed`: worker processes, a Dask
cluster), wherever that sends it. Reading, the ledger, writing the annotated
picture and the journal stay in this process, the journal's only writer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from objlen.advice import (
    check_photo_size,
    choose_orientation,
    left_out_note,
    operator_warnings,
)
from objlen.batch.budget import (
    BYTES_PER_PIXEL,
    UNDECODED_BYTES_PER_PIXEL,
    MemoryBudget,
    photo_cost,
)
from objlen.batch.inputs import BatchInput
from objlen.batch.journal import Journal, disk_full_error, is_disk_full
from objlen.batch.ledger import Ledger
from objlen.batch.pacing import computing_turn, meanwhile
from objlen.batch.results import ANNOTATED_DIR, annotated_name
from objlen.classes import ClassIds
from objlen.display.overlay import annotated_image
from objlen.errors import ImageReadError, ObjlenError
from objlen.files import write_atomically
from objlen.imageio import (
    encode_photo_jpeg,
    encode_photo_png,
    header_size,
    load_image,
    load_preview,
    sha256_hex,
)
from objlen.measure import measure_segmentation
from objlen.options import MeasureOptions, ReferenceSpec
from objlen.redact import redact_url
from objlen.regions import ClassMap
from objlen.segment.base import Segmenter, segment_photo

logger = logging.getLogger(__name__)

#: Schema of one journal record.
RECORD_SCHEMA = "objlen.batch/1"

SegmenterFactory = Callable[[], Segmenter]


@dataclass(frozen=True)
class PhotoWork:
    """What the work on one photo needs besides the photo and a segmenter
    (picklable: it travels to worker processes and cluster workers).

    Attributes:
        options: the measurement options (already validated).
        key: the run's options fingerprint (:func:`~objlen.batch.ledger.options_key`).
        segmenter_name: the segmenter's name, for the record.
        annotate: draw the annotated picture.
        annotate_max_side: its longest side, pixels.
        orientation_mode: ``"fixed"`` or ``"detect"`` (see :class:`PhotoJob`).
        annotate_format: ``"jpeg"`` or ``"png"`` (:data:`~objlen.batch.results.ANNOTATE_FORMATS`).
    """

    options: MeasureOptions
    key: str
    segmenter_name: str
    annotate: bool
    annotate_max_side: int
    orientation_mode: str = "fixed"
    annotate_format: str = "jpeg"


#: Where the work on a photo runs instead of the worker thread: called with
#: ``(name, data, digest, work)``, returns :func:`measure_photo`'s result.
RemoteWork = Callable[[str, bytes, str, PhotoWork], "tuple[dict[str, Any], bytes | None]"]


def segmenter_factory_for(
    backend: str,
    *,
    classes: ClassIds,
    sagemaker: Any = None,
    reference_rule: str = "auto",
    reference: ReferenceSpec | None = None,
) -> SegmenterFactory:
    """A factory of segmenters built with :func:`objlen.segment.make_segmenter`
    (each call makes a new one, so that every worker thread has its own)."""
    from objlen.segment import make_segmenter

    def factory() -> Segmenter:
        return make_segmenter(
            backend,
            classes=classes,
            sagemaker=sagemaker,
            reference_rule=reference_rule,
            reference=reference,
        )

    return factory


class SegmenterPool:
    """Segmenters made on demand, one per worker at a time (so at most as
    many as there are workers).

    One segmenter is made by ``factory`` at once, to learn the segmenter's
    ``name`` (its class name when it has none). The others are its
    ``sibling()`` when it has that method (a segmenter for another thread
    that shares what is costly to make, e.g. a SageMaker client), else made
    by ``factory``.
    """

    def __init__(self, factory: SegmenterFactory) -> None:
        self._factory = factory
        self._first = factory()
        self._free = [self._first]
        self._lock = threading.Lock()
        self.name = str(getattr(self._first, "name", type(self._first).__name__))

    def acquire(self) -> Segmenter:
        """A free segmenter, or a new one when none is free."""
        with self._lock:
            if self._free:
                return self._free.pop()
        sibling = getattr(self._first, "sibling", None)
        return sibling() if callable(sibling) else self._factory()

    def release(self, segmenter: Segmenter) -> None:
        """Give back a segmenter taken with :meth:`acquire`."""
        with self._lock:
            self._free.append(segmenter)


@dataclass
class PhotoJob:
    """What every photo of one run shares.

    Attributes:
        options: the measurement options (already validated).
        key: the run's options fingerprint (:func:`~objlen.batch.ledger.options_key`).
        out_dir: the output folder; annotated pictures go under ``annotated/``.
        pool: the segmenters.
        journal: where every record is appended.
        ledger: which photos are finished or in flight.
        annotate: write the annotated pictures.
        annotate_max_side: longest side of an annotated picture, pixels.
        budget: the memory the photos in flight may take at once.
        orientation_mode: ``"fixed"`` (the options' orientation) or
            ``"detect"`` (per photo, the boxes follow the objects when one is
            clearly turned: :func:`objlen.advice.choose_orientation`).
        remote: where :func:`measure_photo` runs; ``None``: in the worker thread.
        annotate_format: ``"jpeg"`` or ``"png"``: the annotated pictures' format.
    """

    options: MeasureOptions
    key: str
    out_dir: Path
    pool: SegmenterPool
    journal: Journal
    ledger: Ledger
    annotate: bool
    annotate_max_side: int
    budget: MemoryBudget = field(default_factory=MemoryBudget)
    orientation_mode: str = "fixed"
    remote: RemoteWork | None = None
    annotate_format: str = "jpeg"

    def work(self) -> PhotoWork:
        """The picklable part of the job, for :func:`measure_photo`."""
        return PhotoWork(
            options=self.options,
            key=self.key,
            segmenter_name=self.pool.name,
            annotate=self.annotate,
            annotate_max_side=self.annotate_max_side,
            orientation_mode=self.orientation_mode,
            annotate_format=self.annotate_format,
        )


def _record(
    name: str, digest: str | None, job: PhotoJob | PhotoWork, **values: Any
) -> dict[str, Any]:
    segmenter = job.segmenter_name if isinstance(job, PhotoWork) else job.pool.name
    record: dict[str, Any] = {
        "schema": RECORD_SCHEMA,
        "name": name,
        "sha256": digest,
        "options_key": job.key,
        "segmenter": segmenter,
        "finished_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    record.update(values)
    return record


def _error(
    name: str, digest: str | None, job: PhotoJob, error: BaseException, start: float
) -> dict:
    known = isinstance(error, ObjlenError)
    message = redact_url(str(error) if known else f"unexpected error: {error!r}")
    if not known:
        logger.error("batch: %s failed unexpectedly: %s", name, message)
        logger.debug("batch: the traceback of %s", name, exc_info=error)
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


def _measure_photo(name: str, data: bytes, digest: str, job: PhotoJob) -> dict[str, Any]:
    """Decode, segment, measure and annotate one photo (here or in the job's
    ``remote``) and write its annotated picture, holding the photo's cost
    from the run's memory budget; return its ok record.

    The cost is per pixel its header declares: :data:`BYTES_PER_PIXEL` when
    the photo is decoded at full size, :data:`UNDECODED_BYTES_PER_PIXEL`
    when it is not (:func:`_pixels_unneeded`), so that a batch of 12 MP
    photos sent to an endpoint as they are keeps all its photos in flight.
    """
    work = job.work()
    if job.remote is not None:
        with job.budget.hold(photo_cost(data)):
            record, picture = job.remote(name, data, digest, work)
            _write_picture(job, record, picture)
        return record
    segmenter = job.pool.acquire()
    try:
        decoded = _pixels_unneeded(data, work, segmenter) is None
        cost = photo_cost(data, BYTES_PER_PIXEL if decoded else UNDECODED_BYTES_PER_PIXEL)
        with job.budget.hold(cost):
            record, picture = measure_photo(name, data, digest, work, segmenter)
            _write_picture(job, record, picture)
    finally:
        job.pool.release(segmenter)
    return record


def _write_picture(job: PhotoJob, record: dict[str, Any], picture: bytes | None) -> None:
    """Write a photo's annotated picture (if any) where its record says."""
    if picture is not None:
        write_atomically(job.out_dir / record["annotated"], picture, shared=True)


def _pixels_unneeded(data: bytes, work: PhotoWork, segmenter: Segmenter) -> tuple | None:
    """The photo's ``(width, height)`` when nothing needs its full-size pixels,
    else ``None``.

    Nothing does when the segmenter sends the file unchanged (a SageMaker
    endpoint given a camera's JPEG: ``sends_source_bytes``) and the
    measurement reads only the mask (the proportional method with a reference
    from the mask, boxes as the options say); the annotated picture is then
    drawn on a copy decoded at a reduced size (:func:`load_preview`).
    """
    reference = work.options.reference
    if (
        work.options.method != "proportional"
        or reference.aruco_dictionary is not None
        or reference.board is not None
        or work.orientation_mode != "fixed"
        or not hasattr(segmenter, "sends_source_bytes")
    ):
        return None
    size = header_size(data)
    if size is None or not segmenter.sends_source_bytes(data, size):
        return None
    return size


def _no_pixels(size: tuple[int, int]) -> np.ndarray:
    """A stand-in photo of ``size`` ``(width, height)`` that holds no memory (for
    a segmenter that reads only the shape: see :func:`_pixels_unneeded`)."""
    return np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (size[1], size[0], 3))


def measure_photo(
    name: str, data: bytes, digest: str, work: PhotoWork, segmenter: Segmenter
) -> tuple[dict[str, Any], bytes | None]:
    """Decode, segment, measure and draw one photo.

    Args:
        name: the photo's name in the results.
        data: its file's bytes.
        digest: their SHA-256 (hex).
        work: the run's options (:class:`PhotoWork`).
        segmenter: the segmenter to use (not shared with another thread meanwhile).

    The photo is decoded in full only when something needs its pixels (see
    :func:`_pixels_unneeded`); otherwise the annotated picture's copy of it is
    decoded while the segmenter waits. Measuring and drawing wait for their
    turn, one photo per core (:mod:`objlen.batch.pacing`).

    Returns:
        ``(record, picture)``: the photo's ``ok`` record and its annotated
        picture's file, JPEG or PNG as ``work.annotate_format`` says
        (``None`` unless ``work.annotate``), to be written at
        ``record["annotated"]`` under the results folder.

    Raises:
        ObjlenError: the photo cannot be read, segmented or measured.
    """
    start = time.perf_counter()
    size = _pixels_unneeded(data, work, segmenter)
    preview = None
    if size is None:
        image = load_image(data, name=name)
        check_photo_size(image)
        segmentation = segment_photo(segmenter, image, source_bytes=data)
    else:  # the segmenter sends the file as it is: its pixels are not decoded here
        check_photo_size(_no_pixels(size))
        image = None
        if work.annotate:  # decoded while the segmenter waits, not after
            preview = meanwhile(load_preview, data, work.annotate_max_side)
        try:
            segmentation = segment_photo(segmenter, _no_pixels(size), source_bytes=data)
        except BaseException:
            if preview is not None:
                preview.cancel()
            raise
    with computing_turn():
        options = work.options
        if work.orientation_mode == "detect":
            chosen = choose_orientation(segmentation.mask, options, image)
            options = replace(options, orientation=chosen.orientation)
        class_map = ClassMap(segmentation.mask, options.classes)  # one index for both
        result = measure_segmentation(segmentation, options, image=image, class_map=class_map)
        left_out = left_out_note(segmentation.mask, result, class_map)
        annotated = picture = None
        if work.annotate:
            annotated = f"{ANNOTATED_DIR}/{annotated_name(name, digest, work.annotate_format)}"
            photo = image if preview is None else preview.result()
            encode = encode_photo_png if work.annotate_format == "png" else encode_photo_jpeg
            picture = encode(
                annotated_image(
                    photo,
                    segmentation.mask,
                    result,
                    work.options.classes,
                    max_side=work.annotate_max_side,
                    image_size=result.image_size,
                )
            )
    first = result.objects[0]
    record = _record(
        name,
        digest,
        work,
        status="ok",
        message="",
        width=round(first.width.value, 4),
        width_u=round(first.width.uncertainty, 4),
        height=round(first.height.value, 4),
        height_u=round(first.height.uncertainty, 4),
        unit=result.unit,
        method=result.method,
        object_count=len(result.objects),
        objects=[
            {
                "object": index + 1,
                "width": round(obj.width.value, 4),
                "width_u": round(obj.width.uncertainty, 4),
                "height": round(obj.height.value, 4),
                "height_u": round(obj.height.uncertainty, 4),
                "area_px": obj.area_px,
            }
            for index, obj in enumerate(result.objects)
        ],
        orientation=options.orientation,
        left_out=left_out or "",
        scale=float(f"{result.reference.scale:.8g}"),
        warnings=operator_warnings(result),
        annotated=annotated,
        seconds=round(time.perf_counter() - start, 3),
        measurement=result.to_dict(),
    )
    return record, picture


def process_photo(item: BatchInput, job: PhotoJob) -> tuple[str, dict[str, Any]]:
    """Run one photo in a worker; return ``(outcome, record)`` where outcome is
    ``"ok"``, ``"error"`` or ``"resumed"``.

    A ``"resumed"`` photo was finished before (its record is then only
    ``name`` and ``sha256``) or is a copy of a finished photo with the same
    bytes (its record is the copy, appended to the journal).
    """
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
            if is_disk_full(error):  # not the photo's fault: the batch stops
                raise disk_full_error(job.out_dir / ANNOTATED_DIR / item.name) from error
            record = _error(item.name, digest, job, error, start)
        del data
        job.journal.append(record)
    finally:
        job.ledger.finish(digest, record)
    return record["status"], record


__all__ = [
    "RECORD_SCHEMA",
    "PhotoJob",
    "PhotoWork",
    "RemoteWork",
    "SegmenterFactory",
    "SegmenterPool",
    "measure_photo",
    "process_photo",
    "segmenter_factory_for",
]
