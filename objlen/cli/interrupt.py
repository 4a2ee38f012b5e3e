"""Ctrl-C in a long command: the first lets the work in flight finish, the
second stops at once.

A batch stopped by Ctrl-C finishes the photos it has in flight, so that each
is journaled whole; with a SageMaker endpoint that can take seconds. An
operator who presses Ctrl-C again wants out now: :func:`second_interrupt_stops_at_once`
then ends the process on the spot (``os._exit``), with one line saying what
is kept. Nothing finished is lost: every finished photo is already in the
journal (one fsync'ed line each); the next run resumes from it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from objlen.cli.parser import EXIT_INTERRUPTED


@contextmanager
def second_interrupt_stops_at_once(message: str) -> Iterator[None]:
    """Within the block, the first Ctrl-C raises ``KeyboardInterrupt`` as usual
    and the second prints ``message`` on stderr and exits with
    ``EXIT_INTERRUPTED`` at once, without waiting for threads or cleanup.

    Nothing changes outside the main thread, or when Ctrl-C is not Python's
    default (ignored, as for a command started in the background with ``&``).
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def stop_at_once(signum: int, frame: FrameType | None) -> None:
        sys.stderr.write(f"\n{message}\n")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    def first(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, stop_at_once)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


__all__ = ["second_interrupt_stops_at_once"]
