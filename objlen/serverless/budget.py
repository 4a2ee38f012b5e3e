"""The Lambda function's time budget: how long a request may take, and the model.

API Gateway gives up on its integration after 29 s (REST API default; an HTTP
API after 30 s), Lambda at the function's timeout. A request's budget is the
smaller of the Lambda context's remaining time and the API's timeout (less the
cold start, on a cold invocation: API Gateway was already waiting). Out of it
the function keeps a reserve to measure and answer, and gives the model what
is left, as the endpoint client's read timeout.

All times are seconds; instants are :func:`time.monotonic` values.
"""

from __future__ import annotations

import math
import os
import threading
import time

_ANSWER_MARGIN_S = 0.1  # building and returning the response
_MAX_COLD_START_S = 10.0  # Lambda's init phase lasts at most 10 s


def remaining_seconds(context: object) -> float | None:
    """Seconds Lambda still allows this invocation, from the context, if it tells."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    try:
        value = float(remaining()) / 1000.0
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def time_budget_s(context: object, api_timeout_s: float, cold_start_s: float = 0.0) -> float:
    """Seconds this invocation may take: the smaller of what Lambda still allows
    and what is left of API Gateway's timeout after the cold start."""
    budget = api_timeout_s - cold_start_s
    remaining = remaining_seconds(context)
    if remaining is not None:
        budget = min(budget, remaining)
    return budget


def answer_deadline(start: float, budget_s: float) -> float:
    """The instant by which the answer must be ready: ``start`` plus the budget,
    less a tenth of a second to return it."""
    return start + budget_s - _ANSWER_MARGIN_S


def reserve_s(budget_s: float) -> float:
    """Seconds kept after the model answers, to measure and answer: a fifth of
    the budget, at least 0.25 s and at most 3 s."""
    return min(3.0, max(0.25, 0.2 * budget_s))


def model_timeout_s(window_s: float, cap_s: float) -> float:
    """The endpoint client's read timeout for a window of ``window_s`` seconds.

    Rounded *down* (to 1 s from 5 s up, else to 0.25 s), so that nearly equal
    windows share one cached client; never longer than ``cap_s``.
    """
    seconds = min(window_s, cap_s)
    step = 1.0 if seconds >= 5.0 else 0.25
    return max(step, math.floor(seconds / step + 1e-9) * step)


_COLD = {"pending": True}
_COLD_LOCK = threading.Lock()
_LOADED_AT = time.monotonic()


def first_invocation() -> bool:
    """``True`` exactly once per container: for the first request."""
    with _COLD_LOCK:
        first = _COLD["pending"]
        _COLD["pending"] = False
        return first


def cold_start_seconds(now: float, first: bool) -> float:
    """Seconds API Gateway already waited before a cold first invocation.

    Only in Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set), only for the first
    request of an on-demand environment (not provisioned concurrency or
    SnapStart, initialised ahead of time): the age of the runtime process,
    which covers the init phase with its imports, else the time since this
    module loaded; at most 10 s, the init phase's own limit.
    """
    if not first or not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return 0.0
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") != "on-demand":
        return 0.0
    age = process_age_s()
    if age is None:
        age = now - _LOADED_AT
    return min(max(0.0, age), _MAX_COLD_START_S)


def process_age_s() -> float | None:
    """Seconds since this process started, from ``/proc`` (Linux), or ``None``."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as uptime:
            up_s = float(uptime.read().split()[0])
        started_ticks = int(fields[19])  # field 22, "starttime", in clock ticks since boot
        return max(0.0, up_s - started_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


__all__ = [
    "answer_deadline",
    "cold_start_seconds",
    "first_invocation",
    "model_timeout_s",
    "process_age_s",
    "remaining_seconds",
    "reserve_s",
    "time_budget_s",
]
