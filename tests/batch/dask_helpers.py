"""Helpers for the Dask tests, importable by the workers the tests start.

A segmenter that writes one line per call into a log file (shared by every
worker process, appended with one ``write`` of a short line), so that a test
counts how many times each photo was segmented across the cluster, and that
can take its time, so that a worker can be killed while it holds photos.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from objlen.segment.base import Segmentation
from objlen.segment.local import LocalSegmenter


class LoggingSegmenter:
    """The real local segmenter, logging ``<pid> <photo hash>`` per call."""

    name = "local"

    def __init__(self, log: str, delay_s: float) -> None:
        self.inner = LocalSegmenter()
        self.log = log
        self.delay_s = delay_s

    def segment(self, image_rgb: np.ndarray) -> Segmentation:
        digest = hashlib.sha256(np.ascontiguousarray(image_rgb).tobytes()).hexdigest()[:16]
        line = f"{os.getpid()} {digest}\n".encode()
        descriptor = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
        time.sleep(self.delay_s)
        return self.inner.segment(image_rgb)


@dataclass(frozen=True)
class LoggingFactory:
    """Makes :class:`LoggingSegmenter`s (picklable by reference: this module)."""

    log: str
    delay_s: float = 0.0

    def __call__(self) -> LoggingSegmenter:
        return LoggingSegmenter(self.log, self.delay_s)


def logged_calls(log: str | Path) -> list[str]:
    """The photo hashes of every logged call, in order."""
    path = Path(log)
    if not path.exists():
        return []
    return [line.split()[1] for line in path.read_text().splitlines() if line.strip()]
