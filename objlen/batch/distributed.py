"""The work on a batch's photos in other processes: local worker processes or
a Dask cluster (:mod:`dask.distributed`).

A batch's worker threads spend their time on two things: waiting for the
segmenter (a SageMaker endpoint answers in hundreds of milliseconds) and
computing (decoding, measuring, drawing, encoding), which in Python's threads
binds on the interpreter's lock. :class:`DaskWork` sends the computing part
of every photo — :func:`objlen.batch.photo.measure_photo`, the segmenter call
included — to Dask workers:

* ``processes=N``: a local cluster of N worker processes (each with enough
  threads that the run's ``concurrency`` photos are in flight), started for
  the run and stopped after it;
* ``scheduler="tcp://HOST:PORT"``: an existing cluster, on this machine or
  others (start one with ``dask scheduler`` and ``dask worker``, see the
  README).

What stays in the batch's own process is everything the crash-safety promise
rests on: listing and reading the inputs, the content hash, the ledger's
decisions, writing the annotated picture and appending the record to the journal
(:mod:`objlen.batch.runner`). A photo's bytes travel with its task (so the
workers need no access to the inputs: S3, a zip, an upload or a folder all
work), and the record and the annotated picture come back. A worker that
dies mid-batch loses only the photos it held: the scheduler gives them to
another worker, and each is journaled once, when its result arrives.

Every worker thread makes its own segmenter with the run's segmenter
factory, which is sent to the workers with ``cloudpickle`` (a closure or a
lambda is fine; what it refers to must be importable there, e.g. objlen
itself).
"""

from __future__ import annotations

import hashlib
import math
import threading
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

from objlen.batch.photo import PhotoWork, SegmenterFactory, measure_photo
from objlen.errors import ObjlenError, ParameterError
from objlen.segment.base import Segmenter

#: Worker threads' segmenters, by the token of the factory that made them.
_SEGMENTERS = threading.local()


def _segmenter_for(factory_blob: bytes, token: str) -> Segmenter:
    """This worker thread's segmenter from the pickled factory ``factory_blob``
    (made once per thread and factory)."""
    made: dict[str, Segmenter] = getattr(_SEGMENTERS, "made", None) or {}
    _SEGMENTERS.made = made
    if token not in made:
        import cloudpickle

        made[token] = cloudpickle.loads(factory_blob)()
    return made[token]


def measure_on_worker(
    factory_blob: bytes, token: str, name: str, data: bytes, digest: str, work: PhotoWork
) -> tuple[dict[str, Any], bytes | None] | ObjlenError:
    """The task a worker runs for one photo: :func:`measure_photo` with this
    thread's segmenter.

    A photo's own failure (an :class:`ObjlenError`: not an image, no
    reference...) is returned, not raised: raised, every worker would log it
    as a failed task with its traceback on the operator's terminal.
    """
    try:
        return measure_photo(name, data, digest, work, _segmenter_for(factory_blob, token))
    except ObjlenError as error:
        return error


@dataclass
class DaskWork:
    """Runs :func:`measure_photo` on a Dask cluster; a :data:`~objlen.batch.photo.RemoteWork`.

    Call it from the batch's worker threads (it blocks until the photo's
    result is back); :meth:`close` when the run is over. Use it as a context
    manager.

    Args:
        segmenter_factory: makes a segmenter on a worker (pickled with cloudpickle).
        scheduler: the address of a running scheduler (``tcp://host:port``),
            or ``None`` for a local cluster of ``processes`` worker processes.
        processes: worker processes of the local cluster (at least 1).
        concurrency: photos in flight at once: the local cluster has enough
            threads per process for them.
        timeout_s: how long to wait for the scheduler to answer.

    Raises:
        ParameterError: no scheduler and no processes, or the scheduler cannot
            be reached (the message says which address).
    """

    segmenter_factory: SegmenterFactory
    scheduler: str | None = None
    processes: int | None = None
    concurrency: int = 8
    timeout_s: float = 30.0
    _client: Any = field(init=False, default=None, repr=False)
    _cluster: Any = field(init=False, default=None, repr=False)
    _blob: bytes = field(init=False, default=b"", repr=False)
    _token: str = field(init=False, default="", repr=False)

    def __post_init__(self) -> None:
        import cloudpickle
        from distributed import Client

        if self.scheduler is None and (self.processes is None or self.processes < 1):
            raise ParameterError("worker processes must be at least 1, or give a scheduler")
        self._blob = cloudpickle.dumps(self.segmenter_factory)
        self._token = hashlib.sha256(self._blob).hexdigest()[:16]
        try:
            if self.scheduler is not None:
                self._client = Client(self.scheduler, timeout=self.timeout_s)
            else:
                from distributed import LocalCluster

                self._cluster = LocalCluster(
                    n_workers=self.processes,
                    threads_per_worker=max(1, math.ceil(self.concurrency / self.processes)),
                    processes=True,
                    dashboard_address=None,
                    scheduler_port=0,
                    silence_logs=40,  # logging.ERROR
                )
                self._client = Client(self._cluster, timeout=self.timeout_s)
        except (OSError, TimeoutError) as error:
            self.close()
            where = self.scheduler or "a local cluster"
            raise ParameterError(
                f"cannot reach the Dask scheduler at {where} ({error}); start it with "
                "`dask scheduler` and give its address as tcp://HOST:PORT"
            ) from error

    @property
    def workers(self) -> int:
        """How many workers the cluster has now."""
        return len(self._client.scheduler_info(n_workers=-1).get("workers", {}))

    def __call__(
        self, name: str, data: bytes, digest: str, work: PhotoWork
    ) -> tuple[dict[str, Any], bytes | None]:
        """Measure one photo on the cluster and wait for its result.

        Raises:
            ObjlenError: the photo's own failure, raised on the worker.
        """
        with warnings.catch_warnings():
            # The photo travels inside its task on purpose (not scattered): the
            # scheduler keeps it until the task is done, and can give it to
            # another worker if this one dies.
            warnings.filterwarnings("ignore", message=".*[Ll]arge.*")
            future = self._client.submit(
                measure_on_worker,
                self._blob,
                self._token,
                name,
                data,
                digest,
                work,
                pure=False,
                key=f"objlen-photo-{digest[:12]}-{uuid.uuid4().hex}",
            )
        try:
            result = future.result()
        finally:
            future.release()
        if isinstance(result, ObjlenError):
            raise result
        return result

    def close(self) -> None:
        """Disconnect (and stop the local cluster, if this made one)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskWork:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = ["DaskWork", "measure_on_worker"]
