"""Which photos of a batch are finished, and which are in flight.

A photo is finished under an options fingerprint (:func:`options_key`) when
the journal holds a record of it with that fingerprint that counts: an ``ok``
record, or an ``error`` record that is not ``retryable`` (an unreadable
photo fails the same way every time); with ``retry_errors=False`` every
record counts. Photos are told apart by the SHA-256 of their bytes, so the
same bytes under another name are copied, not measured again, and two
workers never measure the same bytes at once.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from typing import Any

from objlen.batch.journal import Journal
from objlen.imageio import sha256_hex
from objlen.options import MeasureOptions


def options_key(options: MeasureOptions, segmenter_name: str) -> str:
    """A short fingerprint of the options and the segmenter: a photo already
    measured under the same fingerprint is not measured again."""
    payload = json.dumps(
        {"options": asdict(options), "segmenter": segmenter_name}, sort_keys=True, default=str
    )
    return sha256_hex(payload.encode())[:16]


def _final(record: dict[str, Any]) -> bool:
    return record["status"] == "ok" or not record.get("retryable", True)


class Ledger:
    """Which photos are finished, and which are in flight (thread-safe).

    Args:
        journal: the records of earlier runs (read once, here).
        key: the fingerprint (:func:`options_key`) of this run.
        retry_errors: whether ``retryable`` error records are run again.
        annotate: whether this run draws annotated pictures: an ``ok`` record
            of a run without them (``--no-annotate``) is then not finished.
    """

    def __init__(
        self, journal: Journal, key: str, retry_errors: bool, annotate: bool = False
    ) -> None:
        self._lock = threading.Lock()
        self._key = key
        self._retry = retry_errors
        self._annotate = annotate
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
        if self._annotate and record["status"] == "ok" and not record.get("annotated"):
            return False  # measured without its picture, which is wanted now
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
        """Note a photo's new record (``None`` when a claimed run ended without
        one) and wake whoever waits for the same bytes."""
        with self._lock:
            if record is not None:
                self._note(record)
                if self._counts(record):
                    self._named.add((record["name"], digest))
            event = self._inflight.pop(digest, None)
        if event is not None:
            event.set()


__all__ = ["Ledger", "options_key"]
