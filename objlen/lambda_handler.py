"""AWS Lambda handler: measure the object in a photo sent through API Gateway.

``handler(event, context)`` answers an API Gateway Lambda-proxy event, REST API
(payload format 1.0) or HTTP API (payload format 2.0), for ``POST /measure``.
The photo comes in one of two ways:

* **binary**: the request body is the photo, ``Content-Type: image/jpeg`` or
  ``image/png``. API Gateway hands it over base64-encoded with
  ``isBase64Encoded: true`` (a REST API only for its *binary media types*, an
  HTTP API for every type that is not text). The options are query string
  parameters.
* **JSON**: ``Content-Type: application/json`` and a body
  ``{"image": "<base64>", "reference_size": "85.6x54", ...}``; the image may be
  a data URL (``data:image/jpeg;base64,...``). Options may also be query
  string parameters; an option given in both places is refused.

Options (see :data:`OPTION_NAMES`): exactly one of ``reference_length`` (the
real length of the reference's long axis: a card's long side, a coin's
diameter), ``reference_size`` (``"WxH"`` of a rectangular reference, or a
two-item JSON list), ``aruco`` with ``marker_size``, or ``scale`` (units per
pixel); and ``method`` (proportional | homography), ``orientation`` (upright |
auto), ``offset`` (the constant N taken off the height), ``unit`` (mm | cm |
in, default mm), ``all`` (measure every object). A length may carry a unit
suffix (``85.6mm``, ``3.37in``); a bare number is in ``unit``.

Answers are JSON with CORS headers, whatever the status:

* 200: the measurement, schema ``objlen.measurement/1`` (``MEASUREMENT.md``);
* 204: the answer to a CORS preflight (``OPTIONS``);
* 400: bad input: not an image, bad JSON or base64, a missing or invalid option;
* 405: a method other than POST or OPTIONS;
* 413: a photo over :data:`MAX_PHOTO_BYTES` (4.4 MB) or over the pixel limit;
* 415: a ``Content-Type`` that is neither JPEG, PNG nor JSON;
* 422: the photo was read, but cannot be measured (no object, no reference);
* 500: a fault of this service (configuration, a bug): details only in the log;
* 502: the segmentation model failed, could not be reached, or answered nonsense;
* 504: the model did not answer within the time the API allows.

An error body is ``{"error": {"status": 413, "code": "photo_too_large",
"message": "...", "request_id": "..."}}``; ``request_id`` (also in the
``X-Request-Id`` header) finds the request's log line.

**Time.** API Gateway gives up on its integration after 29 s (REST API
default; an HTTP API after 30 s), Lambda at the function's timeout. The
handler takes the smaller of the Lambda context's remaining time and
``OBJLEN_API_TIMEOUT_S`` (less the cold start, on a cold invocation), keeps a
reserve to measure and answer, and gives the model what is left, capped by
``OBJLEN_TIMEOUT_S``: that is the endpoint client's read timeout, and the
handler waits no longer for the model, even while botocore retries: a slow
model gets this handler's 504, with CORS headers and a request id, rather
than API Gateway's own timeout.

**Size.** A synchronous Lambda request is at most 6 MB and base64 makes the
photo a third larger, so photos over 4.4 MB are refused with a 413 before
their pixels are decoded (so are photos over ``OBJLEN_MAX_PIXELS``).

**Configuration**, from the environment (:data:`ENVIRONMENT_VARIABLES`):
``OBJLEN_ENDPOINT`` (required: the SageMaker endpoint), ``AWS_REGION`` (set by
Lambda; ``OBJLEN_REGION`` overrides it), ``OBJLEN_ENDPOINT_URL`` (another
runtime URL, e.g. ``python -m objlen serve``), ``OBJLEN_TIMEOUT_S`` (longest
wait for the model, default 60), ``OBJLEN_MAX_ATTEMPTS`` (calls per request,
retries included, default 2), ``OBJLEN_API_TIMEOUT_S`` (default 29),
``OBJLEN_MAX_PIXELS`` (default 50 000 000) and ``OBJLEN_CORS_ORIGIN``
(default ``*``).

**Warm starts.** The endpoint client is built once per container and per
settings (:func:`segmenter_for`); the photo is never written to disk.

**Logs.** One JSON line per request on stdout: request id, API flavour,
sizes, options, status, timings (and, for a 500, one more line with the
traceback). Never the photo, headers or credentials.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import math
import os
import re
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from PIL import Image

from objlen.classes import ClassIds
from objlen.errors import (
    ImageReadError,
    MaskError,
    ObjlenError,
    ParameterError,
    ReferenceNotFoundError,
    SegmentationError,
)
from objlen.imageio import load_image
from objlen.measure import measure
from objlen.options import MeasureOptions, ReferenceSpec
from objlen.segment.base import Segmentation
from objlen.segment.sagemaker import SageMakerSegmenter, SageMakerSettings
from objlen.units import check_unit, parse_length, parse_size

#: Largest photo accepted, in bytes after base64 decoding: a synchronous Lambda
#: request is at most 6 MB, base64 adds a third, and the event has headers too.
MAX_PHOTO_BYTES = 4_400_000
#: Seconds API Gateway waits for the integration (REST API default; HTTP API: 30).
DEFAULT_API_TIMEOUT_S = 29.0
#: Longest wait for the model, seconds (SageMaker's own limit is 60 s).
DEFAULT_MODEL_TIMEOUT_S = 60.0
#: Calls to the endpoint per request, the first included.
DEFAULT_MAX_ATTEMPTS = 2
#: Largest photo decoded, in pixels (a 12 MP photo needs about 36 MB as RGB).
DEFAULT_MAX_PIXELS = 50_000_000
#: Content types of a binary photo body.
IMAGE_TYPES = ("image/jpeg", "image/png")
#: Names of the measurement options (query string parameters or JSON keys).
OPTION_NAMES = (
    "reference_length",
    "reference_size",
    "aruco",
    "marker_size",
    "scale",
    "method",
    "orientation",
    "offset",
    "unit",
    "all",
)
#: Environment variables the handler reads (besides AWS's own for credentials).
ENVIRONMENT_VARIABLES = (
    "OBJLEN_ENDPOINT",
    "OBJLEN_REGION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "OBJLEN_ENDPOINT_URL",
    "OBJLEN_TIMEOUT_S",
    "OBJLEN_MAX_ATTEMPTS",
    "OBJLEN_API_TIMEOUT_S",
    "OBJLEN_MAX_PIXELS",
    "OBJLEN_CORS_ORIGIN",
)

_REFERENCE_OPTIONS = ("reference_length", "reference_size", "aruco", "scale")
_JSON_TYPES = ("application/json", "text/json")
_TRUE = frozenset({"", "1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_DATA_URL = re.compile(r"^data:[\w.+/-]*(;[\w.+=-]+)*;base64,", re.IGNORECASE)
_ANSWER_MARGIN_S = 0.1  # building and returning the response
_MIN_MODEL_WINDOW_S = 0.3  # below this, the model is not asked at all
_MAX_COLD_START_S = 10.0  # Lambda's init phase lasts at most 10 s
_SEGMENTER_CACHE_SIZE = 8
_MB = 1_000_000

logger = logging.getLogger("objlen.lambda")


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
            sys.stdout.write(json.dumps(line, default=str) + "\n")
            sys.stdout.flush()
        except Exception:  # pragma: no cover - logging must never break a request
            self.handleError(record)


if not any(isinstance(h, _JsonLineHandler) for h in logger.handlers):
    logger.addHandler(_JsonLineHandler())
logger.propagate = False
logger.setLevel(logging.INFO)


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


@dataclass(frozen=True)
class ApiRequest:
    """The parts of an API Gateway proxy event the handler uses.

    Attributes:
        api: ``"rest-v1"`` (payload format 1.0) or ``"http-v2"`` (2.0).
        method: HTTP method, upper case.
        headers: header names in lower case.
        query: query string parameters (one value each).
        body: the body as API Gateway gives it (text, maybe base64), or ``None``.
        is_base64: whether ``body`` is base64-encoded.
        gateway_request_id: API Gateway's request id, if any.
    """

    api: str
    method: str
    headers: dict[str, str]
    query: dict[str, str]
    body: str | None
    is_base64: bool
    gateway_request_id: str | None = None


@dataclass(frozen=True)
class HandlerConfig:
    """The handler's settings, from the environment (see :meth:`from_environ`)."""

    endpoint_name: str
    region: str
    endpoint_url: str | None = None
    model_timeout_s: float = DEFAULT_MODEL_TIMEOUT_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    api_timeout_s: float = DEFAULT_API_TIMEOUT_S
    max_pixels: int = DEFAULT_MAX_PIXELS
    cors_origin: str = "*"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> HandlerConfig:
        """Read :data:`ENVIRONMENT_VARIABLES`.

        Raises:
            HttpError: 500 ``not_configured`` when a value is missing or wrong
                (the detail, for the log, names it).
        """
        endpoint = environ.get("OBJLEN_ENDPOINT", "").strip()
        region = (
            environ.get("OBJLEN_REGION")
            or environ.get("AWS_REGION")
            or environ.get("AWS_DEFAULT_REGION")
            or ""
        ).strip()
        problems = []
        if not endpoint:
            problems.append("OBJLEN_ENDPOINT (the SageMaker endpoint name) is not set")
        if not region:
            problems.append("AWS_REGION is not set")
        try:
            config = cls(
                endpoint_name=endpoint,
                region=region,
                endpoint_url=environ.get("OBJLEN_ENDPOINT_URL", "").strip() or None,
                model_timeout_s=_env_number(environ, "OBJLEN_TIMEOUT_S", DEFAULT_MODEL_TIMEOUT_S),
                max_attempts=int(
                    _env_number(environ, "OBJLEN_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, integer=True)
                ),
                api_timeout_s=_env_number(environ, "OBJLEN_API_TIMEOUT_S", DEFAULT_API_TIMEOUT_S),
                max_pixels=int(
                    _env_number(environ, "OBJLEN_MAX_PIXELS", DEFAULT_MAX_PIXELS, integer=True)
                ),
                cors_origin=cors_origin(environ),
            )
        except ValueError as exc:
            problems.append(str(exc))
            config = None
        if problems or config is None:
            raise HttpError(
                500,
                "not_configured",
                "the service is not configured correctly; its operator has to fix it",
                detail="; ".join(problems),
            )
        return config


def _env_number(
    environ: Mapping[str, str], name: str, default: float, *, integer: bool = False
) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0 or (integer and value != int(value)):
        raise ValueError(f"{name}={text!r} must be a positive {'integer' if integer else 'number'}")
    return value


def cors_origin(environ: Mapping[str, str]) -> str:
    """The ``Access-Control-Allow-Origin`` value: ``OBJLEN_CORS_ORIGIN`` or ``*``."""
    return environ.get("OBJLEN_CORS_ORIGIN", "").strip() or "*"


# -- the event -----------------------------------------------------------------


def parse_event(event: object) -> ApiRequest:
    """Read an API Gateway proxy event, payload format 1.0 (REST API) or 2.0 (HTTP API).

    Raises:
        HttpError: 400 when the event is not an API Gateway proxy event, or
            the query string repeats an option.
    """
    if not isinstance(event, Mapping):
        raise HttpError(400, "bad_request", "the request is not an API Gateway proxy event")
    context = event.get("requestContext") or {}
    if event.get("version") == "2.0":
        api = "http-v2"
        method = str((context.get("http") or {}).get("method") or "")
        query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
    else:
        api = "rest-v1"
        method = str(event.get("httpMethod") or context.get("httpMethod") or "")
        query = _v1_query(event)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise HttpError(400, "bad_request", "the request body must be text or base64")
    return ApiRequest(
        api=api,
        method=method.upper(),
        headers=headers,
        query=query,
        body=body,
        is_base64=bool(event.get("isBase64Encoded")),
        gateway_request_id=context.get("requestId"),
    )


def _v1_query(event: Mapping[str, Any]) -> dict[str, str]:
    multi = event.get("multiValueQueryStringParameters") or {}
    for name, values in multi.items():
        if isinstance(values, list) and len(set(values)) > 1:
            raise HttpError(
                400,
                "bad_request",
                f"the query string gives {name} {len(values)} times; give it once",
            )
    return {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _max_base64_chars(max_bytes: int) -> int:
    return 4 * math.ceil(max_bytes / 3)


def _too_large(size_bytes: float, *, approximate: bool = False) -> HttpError:
    about = "about " if approximate else ""
    return HttpError(
        413,
        "photo_too_large",
        f"the photo is {about}{size_bytes / _MB:.1f} MB; this API accepts photos up to "
        f"{MAX_PHOTO_BYTES / _MB:.1f} MB (a Lambda request is limited to 6 MB and base64 "
        "adds a third). Save it as a JPEG or scale it down, and send it again",
    )


def _decode_base64(text: str, what: str) -> bytes:
    """Strict base64 (line breaks tolerated); 413 before decoding anything too large."""
    compact = "".join(text.split())
    if len(compact) > _max_base64_chars(MAX_PHOTO_BYTES):
        raise _too_large(len(compact) * 3 / 4, approximate=True)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise HttpError(
            400, "bad_base64", f"{what} is not valid base64 (standard alphabet, with padding)"
        ) from None


def read_photo_and_params(request: ApiRequest) -> tuple[bytes, dict[str, Any], str]:
    """The photo's bytes, the option values, and the mode (``"binary"`` or ``"json"``).

    Raises:
        HttpError: 400 (no body, bad base64, bad JSON, an option given twice),
            413 (photo too large), 415 (unsupported content type).
    """
    if not request.body:
        raise HttpError(
            400,
            "no_photo",
            "the request has no body: send the photo (Content-Type: image/jpeg or image/png) "
            'or JSON {"image": "<base64>", ...}',
        )
    content_type = _media_type(request.headers.get("content-type"))
    if content_type == "":
        content_type = "application/json" if _looks_like_json(request) else "image/jpeg"
    if content_type in IMAGE_TYPES or content_type == "image/jpg":
        if not request.is_base64:
            raise HttpError(
                400,
                "not_binary",
                "the photo arrived as text instead of base64: the API must list image/jpeg "
                "and image/png among its binary media types",
            )
        return _decode_base64(request.body, "the request body"), dict(request.query), "binary"
    if content_type in _JSON_TYPES or content_type.endswith("+json"):
        return (*_read_json(request), "json")
    raise HttpError(
        415,
        "unsupported_media_type",
        f"Content-Type {content_type!r} is not accepted: send the photo as image/jpeg or "
        'image/png, or JSON {"image": "<base64>", ...} as application/json',
    )


def _looks_like_json(request: ApiRequest) -> bool:
    """Whether a body without a Content-Type starts like a JSON object."""
    body = (request.body or "").lstrip()
    if request.is_base64:
        try:
            head = base64.b64decode("".join(body[:64].split())[:60], validate=True)
        except (binascii.Error, ValueError):
            return False
        return head.lstrip().startswith(b"{")
    return body.startswith("{")


def _read_json(request: ApiRequest) -> tuple[bytes, dict[str, Any]]:
    body = request.body or ""
    if len(body) > 2 * _max_base64_chars(MAX_PHOTO_BYTES):  # base64 of base64, at worst
        raise _too_large(len(body) * 3 / 4, approximate=True)
    if request.is_base64:
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise HttpError(400, "bad_json", "the request body is not UTF-8 JSON") from None
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise HttpError(
            400,
            "bad_json",
            f"the request body is not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno})",
        ) from None
    if not isinstance(document, dict):
        raise HttpError(400, "bad_json", 'the JSON body must be an object: {"image": ..., ...}')
    image = document.pop("image", None)
    if image is None:
        raise HttpError(
            400, "no_photo", 'the JSON body has no "image": put the photo there, base64-encoded'
        )
    if not isinstance(image, str):
        raise HttpError(400, "bad_base64", '"image" must be a base64 string')
    photo = _decode_base64(_DATA_URL.sub("", image.strip(), count=1), '"image"')
    params: dict[str, Any] = dict(request.query)
    for name, value in document.items():
        if name in params:
            raise HttpError(
                400,
                "bad_request",
                f"{name} is given both in the query string and in the JSON body; give it once",
            )
        params[name] = value
    return photo, params


# -- options -------------------------------------------------------------------


def _length(value: object, unit: str, what: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParameterError(f"{what} must be a number or a length like 85.6mm, got {value!r}")
    return parse_length(value, unit, what=what, allow_zero=allow_zero)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParameterError(f"{what} must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ParameterError(f"{what} must be a number, got {value!r}") from None


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ParameterError(f"{what} must be text, got {value!r}")
    return value.strip()


def _flag(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ParameterError(f"{what} must be true or false, got {value!r}")


def _given(params: Mapping[str, object], name: str) -> bool:
    return params.get(name) not in (None, "")


def options_from_params(params: Mapping[str, object]) -> MeasureOptions:
    """Validated :class:`MeasureOptions` from query parameters or JSON values.

    Values may be strings (query string) or JSON numbers, booleans and, for
    ``reference_size``, a two-item list.

    Raises:
        ParameterError: an unknown option, no reference or more than one kind
            of reference, or a value out of range; the message says which.
    """
    unknown = sorted(set(params) - set(OPTION_NAMES))
    if unknown:
        raise ParameterError(
            f"unknown option {', '.join(unknown)}; the options are {', '.join(OPTION_NAMES)}"
        )
    unit = _text(params["unit"], "unit") if _given(params, "unit") else "mm"
    check_unit(unit)
    references = [name for name in _REFERENCE_OPTIONS if _given(params, name)]
    if len(references) != 1:
        also = f" (got {' and '.join(references)})" if references else ""
        raise ParameterError(
            "say what the reference is, once: reference_length (e.g. 85.6), "
            "reference_size (e.g. 85.6x54), aruco with marker_size, or scale" + also
        )
    if _given(params, "marker_size") and references != ["aruco"]:
        raise ParameterError("marker_size goes with aruco")
    kind = references[0]
    if kind == "reference_length":
        spec = ReferenceSpec(length=_length(params[kind], unit, kind))
    elif kind == "reference_size":
        spec = ReferenceSpec(size=_size(params[kind], unit))
    elif kind == "aruco":
        if not _given(params, "marker_size"):
            raise ParameterError("aruco needs marker_size, the side of the marker's black square")
        spec = ReferenceSpec(
            aruco_dictionary=_text(params[kind], kind),
            marker_size=_length(params["marker_size"], unit, "marker_size"),
        )
    else:
        spec = ReferenceSpec(scale=_number(params[kind], kind))
    return MeasureOptions(
        reference=spec,
        method=_text(params.get("method") or "proportional", "method"),  # type: ignore[arg-type]
        orientation=_text(params.get("orientation") or "upright", "orientation"),  # type: ignore[arg-type]
        unit=unit,
        offset=_length(params["offset"], unit, "offset", allow_zero=True)
        if _given(params, "offset")
        else 0.0,
        classes=ClassIds(),
        all_objects=_flag(params["all"], "all") if "all" in params else False,
    ).validated()


def _size(value: object, unit: str) -> tuple[float, float]:
    if isinstance(value, str):
        return parse_size(value, unit, what="reference_size")
    if isinstance(value, list | tuple) and len(value) == 2:
        return (
            _length(value[0], unit, "reference_size"),
            _length(value[1], unit, "reference_size"),
        )
    raise ParameterError(f'reference_size must be like "85.6x54" or [85.6, 54], got {value!r}')


# -- the photo -------------------------------------------------------------------


def load_photo(data: bytes, max_pixels: int) -> np.ndarray:
    """Decode the photo (EXIF orientation applied) as ``(H, W, 3)`` RGB.

    The pixel count is read from the header first, so that an oversized photo
    is refused before its pixels are decoded.

    Raises:
        HttpError: 413 when it is over :data:`MAX_PHOTO_BYTES` or has more
            than ``max_pixels`` pixels.
        ImageReadError: not an image, or corrupt.
    """
    if len(data) > MAX_PHOTO_BYTES:
        raise _too_large(len(data))
    size = _declared_size(data, max_pixels)
    if size is not None and size[0] * size[1] > max_pixels:
        width, height = size
        raise _too_many_pixels(max_pixels, f"{width}x{height} ({width * height / 1e6:.0f} MP)")
    return load_image(data, max_pixels=max_pixels, name="the photo")


def _too_many_pixels(max_pixels: int, what: str) -> HttpError:
    return HttpError(
        413,
        "photo_too_large",
        f"the photo is {what}; this API measures photos up to {max_pixels / 1e6:.0f} "
        "megapixels: scale it down",
    )


def _declared_size(data: bytes, max_pixels: int) -> tuple[int, int] | None:
    """``(width, height)`` from the image header, or ``None`` if it is not an image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Image.DecompressionBombError:
        raise _too_many_pixels(max_pixels, "far too many pixels to decode safely") from None
    except Exception:  # not an image: load_image says so in its own words
        return None


# -- time ------------------------------------------------------------------------


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


def _first_invocation() -> bool:
    """``True`` exactly once per container: for the first request."""
    with _COLD_LOCK:
        first = _COLD["pending"]
        _COLD["pending"] = False
        return first


def _cold_start_seconds(now: float, first: bool) -> float:
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


def _versions() -> dict[str, str]:
    """Versions of what the handler runs on (boto3 comes with the Lambda runtime)."""
    import importlib.metadata

    versions = {"python": sys.version.split()[0]}
    for name in ("boto3", "botocore", "numpy", "opencv-python-headless", "pillow"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


# -- the model -------------------------------------------------------------------

_SEGMENTERS: OrderedDict[SageMakerSettings, SageMakerSegmenter] = OrderedDict()
_SEGMENTERS_LOCK = threading.Lock()


def segmenter_for(settings: SageMakerSettings) -> SageMakerSegmenter:
    """The container's segmenter (and boto3 client) for ``settings``, built once.

    The last :data:`_SEGMENTER_CACHE_SIZE` settings are kept.
    """
    with _SEGMENTERS_LOCK:
        segmenter = _SEGMENTERS.get(settings)
        if segmenter is None:
            segmenter = SageMakerSegmenter(settings)
            _SEGMENTERS[settings] = segmenter
            while len(_SEGMENTERS) > _SEGMENTER_CACHE_SIZE:
                _SEGMENTERS.popitem(last=False)
        else:
            _SEGMENTERS.move_to_end(settings)
        return segmenter


def endpoint_settings(config: HandlerConfig, timeout_s: float) -> SageMakerSettings:
    """Endpoint settings for one call whose read timeout is ``timeout_s``.

    Raises:
        HttpError: 500 when the configuration is refused.
    """
    try:
        return SageMakerSettings(
            endpoint_name=config.endpoint_name,
            region=config.region,
            endpoint_url=config.endpoint_url,
            timeout_s=timeout_s,
            connect_timeout_s=min(3.0, timeout_s),
            max_attempts=config.max_attempts,
        )
    except ParameterError as exc:
        raise HttpError(
            500, "not_configured", "the service is not configured correctly", detail=str(exc)
        ) from exc


def _model_timed_out(error: BaseException) -> bool:
    from botocore.exceptions import ReadTimeoutError

    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ReadTimeoutError):
            return True
        cause = cause.__cause__
    return False


def _model_error_code(error: BaseException) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    cause = error.__cause__
    if isinstance(cause, ClientError):
        if cause.response.get("Error", {}).get("Code") == "ModelError":
            return "model_error"
        return "model_unavailable"
    if isinstance(cause, BotoCoreError):
        return "model_unavailable"
    return "bad_model_answer"


_MODEL_MESSAGES = {
    "model_error": "the segmentation model failed on this photo; try another photo, "
    "or try again later",
    "model_unavailable": "the segmentation model could not be reached or refused the request; "
    "try again later",
    "bad_model_answer": "the segmentation model answered something that is not a valid mask; "
    "the service needs attention",
}


def segment_in_time(
    config: HandlerConfig, image: np.ndarray, deadline: float, budget_s: float, log: dict[str, Any]
) -> Segmentation:
    """Segment ``image`` with the endpoint, answering 504 before ``deadline``.

    The read timeout and the wait are what is left before ``deadline`` less
    :func:`reserve_s`; the call runs in a worker thread so that retries and
    back-off cannot make the handler late either.

    Raises:
        HttpError: 502 when the model fails, 504 when it is too slow.
    """
    window = deadline - reserve_s(budget_s) - time.monotonic()
    if window < _MIN_MODEL_WINDOW_S:
        raise HttpError(
            504,
            "model_timeout",
            "no time was left to ask the segmentation model; try again",
            detail=f"model window {window:.3f} s of a {budget_s:.3f} s budget",
        )
    timeout = model_timeout_s(window, config.model_timeout_s)
    log["model_timeout_s"] = timeout
    segmenter = segmenter_for(endpoint_settings(config, timeout))
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = segmenter.segment(image)
        except BaseException as exc:  # handed to the request's thread
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, name="objlen-segment", daemon=True)
    worker.start()
    worker.join(max(0.0, window))
    log["model_s"] = round(time.monotonic() - started, 3)
    too_slow = HttpError(
        504,
        "model_timeout",
        f"the segmentation model did not answer within {timeout:g} s (this API must answer "
        f"within {config.api_timeout_s:g} s); try again, or send a smaller photo",
    )
    if worker.is_alive():
        too_slow.detail = "the worker thread was still waiting at the deadline"
        raise too_slow
    error = outcome.get("error")
    if isinstance(error, SegmentationError):
        if _model_timed_out(error):
            too_slow.detail = str(error)
            raise too_slow from error
        code = _model_error_code(error)
        raise HttpError(502, code, _MODEL_MESSAGES[code], detail=str(error)) from error
    if error is not None:
        raise error
    return outcome["result"]


# -- answers -----------------------------------------------------------------------


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


def _answer(
    status: int, document: dict[str, Any] | None, origin: str, request_id: str
) -> dict[str, Any]:
    headers = _headers(origin, request_id)
    if status == 204:
        headers["Access-Control-Max-Age"] = "600"
    if status == 405:
        headers["Allow"] = "POST, OPTIONS"
    body = "" if document is None else json.dumps(document, allow_nan=False)
    return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}


def _error_answer(error: HttpError, origin: str, request_id: str) -> dict[str, Any]:
    document = {
        "error": {
            "status": error.status,
            "code": error.code,
            "message": error.message,
            "request_id": request_id,
        }
    }
    return _answer(error.status, document, origin, request_id)


def _request_id(event: object, context: object) -> str:
    value = getattr(context, "aws_request_id", None)
    if not value and isinstance(event, Mapping):
        value = (event.get("requestContext") or {}).get("requestId")
    return str(value) if value else str(uuid.uuid4())


def _describe(options: MeasureOptions) -> dict[str, Any]:
    spec = options.reference
    kind = next(
        name
        for name, value in (
            ("length", spec.length),
            ("size", spec.size),
            ("aruco", spec.aruco_dictionary),
            ("scale", spec.scale),
        )
        if value is not None
    )
    return {"reference": kind, "method": options.method, "unit": options.unit}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway proxy event (REST v1 or HTTP API v2) with JSON.

    Never raises: every outcome is an HTTP answer (see the module docstring
    for the statuses), with CORS headers, and one JSON log line.
    """
    start = time.monotonic()
    first = _first_invocation()
    cold_start_s = _cold_start_seconds(start, first)
    request_id = _request_id(event, context)
    origin = cors_origin(os.environ)
    log: dict[str, Any] = {"request_id": request_id, "cold_start": first}
    if first:
        log["versions"] = _versions()
    status, code = 500, "internal_error"
    try:
        request = parse_event(event)
        log.update(api=request.api, http_method=request.method)
        if request.gateway_request_id:
            log["gateway_request_id"] = request.gateway_request_id
        if request.method == "OPTIONS":
            status, code = 204, ""
            return _answer(204, None, origin, request_id)
        if request.method != "POST":
            raise HttpError(
                405,
                "method_not_allowed",
                f"{request.method or 'this method'} is not allowed: POST the photo",
            )
        config = HandlerConfig.from_environ(os.environ)
        budget = time_budget_s(context, config.api_timeout_s, cold_start_s)
        deadline = start + budget - _ANSWER_MARGIN_S
        log["budget_s"] = round(budget, 3)
        photo, params, mode = read_photo_and_params(request)
        log.update(mode=mode, photo_bytes=len(photo))
        options = options_from_params(params)
        log.update(_describe(options))
        image = load_photo(photo, config.max_pixels)
        log["image"] = f"{image.shape[1]}x{image.shape[0]}"
        segmentation = segment_in_time(config, image, deadline, budget, log)
        started = time.monotonic()
        result = measure(
            segmentation.mask,
            options,
            image=image,
            input_warnings=segmentation.warnings,
            input_notes=segmentation.notes,
        )
        log["measure_s"] = round(time.monotonic() - started, 3)
        log["objects"] = len(result.objects)
        answer = _answer(200, result.to_dict(), origin, request_id)
        status, code = 200, ""
        return answer
    except HttpError as error:
        status, code = error.status, error.code
        if error.detail:
            log["detail"] = error.detail
        return _error_answer(error, origin, request_id)
    except ParameterError as error:
        status, code = 400, "bad_option"
        return _error_answer(HttpError(400, code, str(error)), origin, request_id)
    except ImageReadError as error:
        status, code = 400, "not_an_image"
        return _error_answer(HttpError(400, code, str(error)), origin, request_id)
    except (MaskError, ReferenceNotFoundError) as error:
        status, code = 422, "not_measurable"
        return _error_answer(HttpError(422, code, str(error)), origin, request_id)
    except ObjlenError as error:
        status, code = 400, "bad_request"
        return _error_answer(HttpError(400, code, str(error)), origin, request_id)
    except Exception as error:
        status, code = 500, "internal_error"
        log["error_type"] = type(error).__name__
        logger.exception("unexpected failure", extra={"fields": dict(log)})
        return _error_answer(
            HttpError(500, code, "an unexpected error occurred; it has been logged"),
            origin,
            request_id,
        )
    finally:
        log.update(status=status, seconds=round(time.monotonic() - start, 3))
        if code:
            log["error"] = code
        logger.info("request", extra={"fields": log})


__all__ = [
    "DEFAULT_API_TIMEOUT_S",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MODEL_TIMEOUT_S",
    "ENVIRONMENT_VARIABLES",
    "IMAGE_TYPES",
    "MAX_PHOTO_BYTES",
    "OPTION_NAMES",
    "ApiRequest",
    "HandlerConfig",
    "HttpError",
    "cors_origin",
    "endpoint_settings",
    "handler",
    "load_photo",
    "model_timeout_s",
    "options_from_params",
    "parse_event",
    "read_photo_and_params",
    "remaining_seconds",
    "reserve_s",
    "segment_in_time",
    "segmenter_for",
    "time_budget_s",
]
