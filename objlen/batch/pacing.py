"""How the photos of a batch share this process's cores.

A batch's worker threads wait for the segmenter (an endpoint answers in
hundreds of milliseconds) and then compute: measure, draw, encode. Two
things keep the cores busy with the right work:

* :func:`meanwhile` runs work that does not need the segmenter's answer (the
  copy of the photo the annotated picture is drawn on) on another thread
  while the worker waits, instead of after the answer.
* :func:`computing_turn` lets one photo per core compute at a time. Photos
  answered together (the first of a batch always are) take turns instead of
  sharing the cores, so the first is done after its own work, not after
  everyone's, and its worker sends the next photo sooner; otherwise the
  answers keep coming in waves and the cores idle between them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


_TURNS = threading.BoundedSemaphore(cores())
_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def computing_turn() -> threading.BoundedSemaphore:
    """The turn to compute, one photo per core: ``with computing_turn(): ...``."""
    return _TURNS


def meanwhile(work: Callable[..., T], *args: object) -> Future[T]:
    """Start ``work(*args)`` on one of this process's helper threads (made on
    first use) and return its future; its exception, if any, is raised by
    ``result()``."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(thread_name_prefix="objlen-meanwhile"))
    return _POOL[0].submit(work, *args)


__all__ = ["computing_turn", "cores", "meanwhile"]
