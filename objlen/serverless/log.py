"""The Lambda function's log: one JSON line per request on stdout.

The line holds the request id, the API flavour, sizes, options, status and
timings, as the handler collects them (and, for a 500, one more line with the
traceback). Never the photo, headers or credentials: only what the handler
puts in its fields is written, and every URL in it (a 502's detail, a
traceback) has its user-info and query hidden (:func:`objlen.redact.redact_url`).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from objlen.redact import redact_url

_logger = logging.getLogger("objlen.lambda")


def redacted(value: Any) -> Any:
    """``value`` with :func:`~objlen.redact.redact_url` applied to every text in
    it (in dicts, lists and tuples too); other values are returned unchanged."""
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    return value


class _JsonLineHandler(logging.Handler):
    """Writes each record as one JSON object on the *current* ``sys.stdout``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line: dict[str, Any] = {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"
                ),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
            line.update(getattr(record, "fields", {}))
            if record.exc_info:
                line["exception"] = "".join(traceback.format_exception(*record.exc_info))
            line = redacted(line)
            sys.stdout.write(json.dumps(line, default=lambda v: redact_url(str(v))) + "\n")
            sys.stdout.flush()
        except Exception:  # pragma: no cover - logging must never break a request
            self.handleError(record)


if not any(isinstance(h, _JsonLineHandler) for h in _logger.handlers):
    _logger.addHandler(_JsonLineHandler())
_logger.propagate = False
_logger.setLevel(logging.INFO)


def log_request(fields: dict[str, Any]) -> None:
    """Write the request's line: message ``"request"``, level INFO, and ``fields``."""
    _logger.info("request", extra={"fields": fields})


def log_failure(fields: dict[str, Any]) -> None:
    """Write an ERROR line for the exception being handled, its traceback included.

    Call it from an ``except`` block; ``fields`` is copied as it is now.
    """
    _logger.exception("unexpected failure", extra={"fields": dict(fields)})


def runtime_versions() -> dict[str, str]:
    """Versions of what the handler runs on (boto3 comes with the Lambda runtime).

    Python's, and each package's (``"unknown"`` when it is not installed).
    """
    import importlib.metadata

    versions = {"python": sys.version.split()[0]}
    for name in ("boto3", "botocore", "numpy", "opencv-python-headless", "pillow"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


__all__ = ["log_failure", "log_request", "redacted", "runtime_versions"]
