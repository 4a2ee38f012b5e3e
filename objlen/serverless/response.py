"""The Lambda function's HTTP answers: API Gateway proxy responses, JSON with CORS.

Every part of the function that decides an answer other than 200 raises
:class:`HttpError`; :func:`json_answer` and :func:`error_answer` turn a
document or an error into the response dict API Gateway (REST API v1 or
HTTP API v2) sends back. Every answer, whatever its status, carries the CORS
headers and ``X-Request-Id``, and is never base64-encoded.
"""

from __future__ import annotations

import json
from typing import Any


class HttpError(Exception):
    """An answer other than 200: HTTP status, short code, message for the caller.

    ``detail`` goes to the log only.
    """

    def __init__(self, status: int, code: str, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


def _headers(origin: str, request_id: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Request-Id": request_id,
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Expose-Headers": "X-Request-Id",
    }
    if origin != "*":
        headers["Vary"] = "Origin"
    return headers


def json_answer(
    status: int, document: dict[str, Any] | None, origin: str, request_id: str
) -> dict[str, Any]:
    """The proxy response for ``status`` with ``document`` as its JSON body.

    ``document`` ``None`` gives an empty body (for 204). CORS headers allow
    ``origin`` (with ``Vary: Origin`` unless it is ``*``); a 204 adds
    ``Access-Control-Max-Age``, a 405 adds ``Allow: POST, OPTIONS``.

    Raises:
        ValueError: ``document`` holds NaN or infinity (refused, not sent as
            invalid JSON).
    """
    headers = _headers(origin, request_id)
    if status == 204:
        headers["Access-Control-Max-Age"] = "600"
    if status == 405:
        headers["Allow"] = "POST, OPTIONS"
    body = "" if document is None else json.dumps(document, allow_nan=False)
    return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}


def error_answer(error: HttpError, origin: str, request_id: str) -> dict[str, Any]:
    """The proxy response for ``error``: ``{"error": {status, code, message, request_id}}``.

    ``error.detail`` is never included.
    """
    document = {
        "error": {
            "status": error.status,
            "code": error.code,
            "message": error.message,
            "request_id": request_id,
        }
    }
    return json_answer(error.status, document, origin, request_id)


__all__ = ["HttpError", "error_answer", "json_answer"]
