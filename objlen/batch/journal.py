"""An append-only file of JSON records, one per line, that survives a kill.

A batch writes one record per photo into its journal (``results.jsonl``);
every record is a JSON object with a ``"name"``. The latest record of a name
is the one that counts: :meth:`Journal.latest` picks it, and
:meth:`Journal.compact` rewrites the file to hold only those.

A line that is not such a record (not JSON, not UTF-8, a record without a
``status``...) is skipped with one warning line naming the file and the
line. A write that fails because the disk is full raises
:class:`DiskFullError`, whose message says to free space and run again: the
records already written are whole, so the next run resumes.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from objlen.errors import ObjlenError
from objlen.files import write_atomically

logger = logging.getLogger(__name__)

#: ``errno`` values that mean the disk (or the user's quota) is full.
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class DiskFullError(ObjlenError):
    """The disk holding a batch's output folder is full; nothing finished is lost."""


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` is an ``OSError`` saying that the disk is full."""
    return isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS


def disk_full_error(path: Path) -> DiskFullError:
    """The operator's message for a full disk while writing ``path``."""
    return DiskFullError(
        f"no space left on the disk holding {path.parent}: free some space and run the "
        "same command again; the photos already finished are kept and not redone"
    )


def _valid_record(record: Any) -> bool:
    """A journal record: a JSON object with a text ``name`` and ``status``, and a
    text (or no) ``sha256`` and ``options_key``."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("name"), str)
        and isinstance(record.get("status"), str)
        and isinstance(record.get("sha256"), str | None)
        and isinstance(record.get("options_key"), str | None)
    )


class Journal:
    """The append-only record file ``results.jsonl``.

    Every :meth:`append` is one ``write`` of one whole line, then fsync,
    under a lock: after a kill the file holds whole records, plus at most one
    torn last line, which opening the journal with ``repair=True`` (as a run
    does, holding the folder's lock) cuts off; a reader (``repair=False``)
    only skips it. Lines that are not JSON objects with a ``"name"`` are
    skipped.

    Attributes:
        path: the file (it need not exist yet).
        records: every record read or appended, in file order.
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
            except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep
                logger.warning("%s line %d is not JSON; ignored", self.path, number)
                continue
            if _valid_record(record):
                records.append(record)
            else:
                logger.warning("%s line %d is not a batch record; ignored", self.path, number)
        return records

    def append(self, record: dict[str, Any]) -> None:
        """Append one record durably (one write, flush, fsync).

        Raises:
            DiskFullError: the disk is full (the journal is left as it was).
        """
        line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode()
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                before = os.fstat(descriptor).st_size
                try:
                    written = os.write(descriptor, line)
                    if written < len(line):  # a short write: the disk filled up
                        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                    os.fsync(descriptor)
                except OSError:
                    with contextlib.suppress(OSError):  # leave no torn line behind
                        os.ftruncate(descriptor, before)
                    raise
                finally:
                    os.close(descriptor)
            except OSError as error:
                if is_disk_full(error):
                    raise disk_full_error(self.path) from error
                raise
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
            try:
                write_atomically(self.path, body.encode(), shared=True)
            except OSError as error:
                if is_disk_full(error):
                    raise disk_full_error(self.path) from error
                raise
            self.records = list(records)
            return records


__all__ = ["DISK_FULL_ERRNOS", "DiskFullError", "Journal", "disk_full_error", "is_disk_full"]
