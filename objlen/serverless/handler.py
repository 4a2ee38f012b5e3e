"""AWS Lambda handler: measure the object in a photo sent through API Gateway.

``handler(event, context)`` answers an API Gateway Lambda-proxy event, REST API
(payload format 1.0) or HTTP API (payload format 2.0), for ``POST /measure``.
The photo comes in one of two ways (:mod:`objlen.serverless.request`):

* **binary**: the request body is the photo, ``Content-Type: image/jpeg`` or
  ``image/png``. API Gateway hands it over base64-encoded with
  ``isBase64Encoded: true`` (a REST API only for its *binary media types*, an
  HTTP API for every type that is not text). The options are query string
  parameters.
* **JSON**: ``Content-Type: application/json`` and a body
  ``{"image": "<base64>", "reference_size": "85.6x54", ...}``; the image may be
  a data URL (``data:image/jpeg;base64,...``). Options may also be query
  string parameters; an option given in both places is refused.

Options (:mod:`objlen.serverless.options`): exactly one of ``reference_length``,
``reference_size``, ``aruco`` with ``marker_size``, or ``scale``; and
``method``, ``orientation``, ``offset``, ``unit`` (default mm), ``all``.

Answers are JSON with CORS headers, whatever the status
(:mod:`objlen.serverless.response`):

* 200: the measurement, schema ``objlen.measurement/1`` (``MEASUREMENT.md``);
* 204: the answer to a CORS preflight (``OPTIONS``);
* 400: bad input: not an image, bad JSON or base64, a missing or invalid option;
* 405: a method other than POST or OPTIONS;
* 413: a photo over 4.4 MB or over the pixel limit (:mod:`objlen.serverless.request`);
* 415: a ``Content-Type`` that is neither JPEG, PNG nor JSON;
* 422: the photo was read, but cannot be measured (no object, no reference);
* 500: a fault of this service (configuration, a bug): details only in the log;
* 502: the segmentation model failed, could not be reached, or answered nonsense;
* 504: the model did not answer within the time the API allows.

An error body is ``{"error": {"status": 413, "code": "photo_too_large",
"message": "...", "request_id": "..."}}``; ``request_id`` (also in the
``X-Request-Id`` header) finds the request's log line.

The handler answers before API Gateway gives up (:mod:`objlen.serverless.budget`,
:mod:`objlen.serverless.model`), reads its settings from the environment
(:mod:`objlen.serverless.config`) and writes one JSON log line per request
(:mod:`objlen.serverless.log`).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from typing import Any

from objlen.errors import (
    ImageReadError,
    MaskError,
    ObjlenError,
    ParameterError,
    ReferenceNotFoundError,
)
from objlen.measure import measure_segmentation
from objlen.serverless.budget import (
    answer_deadline,
    cold_start_seconds,
    first_invocation,
    time_budget_s,
)
from objlen.serverless.config import HandlerConfig, cors_origin
from objlen.serverless.log import log_failure, log_request, runtime_versions
from objlen.serverless.model import segment_in_time
from objlen.serverless.options import describe_options, options_from_params
from objlen.serverless.request import load_photo, parse_event, read_photo_and_params, request_id_for
from objlen.serverless.response import HttpError, error_answer, json_answer


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway proxy event (REST v1 or HTTP API v2) with JSON.

    Never raises: every outcome is an HTTP answer (see the module docstring
    for the statuses), with CORS headers, and one JSON log line. A malformed
    event (a ``requestContext`` that is not an object, headers that are not
    text, JSON nested too deeply, numbers out of range) is a 400.
    """
    try:
        return _answer(event, context)
    except Exception:  # a fault in the handler itself: still an answer, never a raise
        request_id = str(uuid.uuid4())
        with contextlib.suppress(Exception):  # the log swallows its own errors anyway
            log_failure({"request_id": request_id, "stage": "handler"})
        return error_answer(
            HttpError(500, "internal_error", "an unexpected error occurred; it has been logged"),
            "*",
            request_id,
        )


def _answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """:func:`handler`'s work: every expected outcome as an answer, logged."""
    start = time.monotonic()
    first = first_invocation()
    cold_start_s = cold_start_seconds(start, first)
    request_id = request_id_for(event, context)
    origin = cors_origin(os.environ)
    log: dict[str, Any] = {"request_id": request_id, "cold_start": first}
    if first:
        log["versions"] = runtime_versions()
    status, code = 500, "internal_error"
    try:
        request = parse_event(event)
        log.update(api=request.api, http_method=request.method)
        if request.gateway_request_id:
            log["gateway_request_id"] = request.gateway_request_id
        if request.method == "OPTIONS":
            status, code = 204, ""
            return json_answer(204, None, origin, request_id)
        if request.method != "POST":
            raise HttpError(
                405,
                "method_not_allowed",
                f"{request.method or 'this method'} is not allowed: POST the photo",
            )
        config = HandlerConfig.from_environ(os.environ)
        budget = time_budget_s(context, config.api_timeout_s, cold_start_s)
        deadline = answer_deadline(start, budget)
        log["budget_s"] = round(budget, 3)
        photo, params, mode = read_photo_and_params(request)
        log.update(mode=mode, photo_bytes=len(photo))
        options = options_from_params(params)
        log.update(describe_options(options))
        image = load_photo(photo, config.max_pixels)
        log["image"] = f"{image.shape[1]}x{image.shape[0]}"
        segmentation = segment_in_time(config, image, deadline, budget, log)
        started = time.monotonic()
        result = measure_segmentation(segmentation, options, image=image)
        log["measure_s"] = round(time.monotonic() - started, 3)
        log["objects"] = len(result.objects)
        answer = json_answer(200, result.to_dict(), origin, request_id)
        status, code = 200, ""
        return answer
    except HttpError as error:
        status, code = error.status, error.code
        if error.detail:
            log["detail"] = error.detail
        return error_answer(error, origin, request_id)
    except ParameterError as error:
        status, code = 400, "bad_option"
        return error_answer(HttpError(400, code, str(error)), origin, request_id)
    except ImageReadError as error:
        status, code = 400, "not_an_image"
        return error_answer(HttpError(400, code, str(error)), origin, request_id)
    except (MaskError, ReferenceNotFoundError) as error:
        status, code = 422, "not_measurable"
        return error_answer(HttpError(422, code, str(error)), origin, request_id)
    except ObjlenError as error:
        status, code = 400, "bad_request"
        return error_answer(HttpError(400, code, str(error)), origin, request_id)
    except Exception as error:
        status, code = 500, "internal_error"
        log["error_type"] = type(error).__name__
        log_failure(log)
        return error_answer(
            HttpError(500, code, "an unexpected error occurred; it has been logged"),
            origin,
            request_id,
        )
    finally:
        log.update(status=status, seconds=round(time.monotonic() - start, 3))
        if code:
            log["error"] = code
        log_request(log)


__all__ = ["handler"]
