"""An append-only file of JSON records, one per line, that survives a kill.

A batch writes one record per photo into its journal (``results.jsonl``);
every record is a JSON object with a ``"name"``. The latest record of a name
is the one that counts: :meth:`Journal.latest` picks it, and
:meth:`Journal.compact` rewrites the file to hold only those.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from objlen.files import write_atomically

logger = logging.getLogger(__name__)


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


__all__ = ["Journal"]
