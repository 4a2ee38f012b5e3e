"""The Lambda function's request: an API Gateway proxy event, read.

:func:`parse_event` reads payload format 1.0 (REST API) and 2.0 (HTTP API)
into an :class:`ApiRequest`; :func:`read_photo_and_params` takes from it the
photo's bytes and the option values, from one of two kinds of body:

* **binary**: the photo itself, ``Content-Type`` one of :data:`IMAGE_TYPES`,
  base64-encoded by API Gateway (``isBase64Encoded: true``); the options are
  query string parameters;
* **JSON**: ``{"image": "<base64 or data URL>", "<option>": value, ...}``;
  options may also be query string parameters, but not both at once.

A synchronous Lambda request is at most 6 MB and base64 makes the photo a
third larger, so a body too large to hold a photo of :data:`MAX_PHOTO_BYTES`
(4.4 MB) is refused with a 413 before it is decoded; :func:`load_photo`
refuses a photo whose header declares more pixels than the function allows
(``OBJLEN_MAX_PIXELS``) before decoding its pixels. Option values are checked
in :mod:`objlen.serverless.options`.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from objlen.imageio import load_image
from objlen.pillow import Image
from objlen.serverless.response import HttpError

#: Largest photo accepted, in bytes after base64 decoding: a synchronous Lambda
#: request is at most 6 MB, base64 adds a third, and the event has headers too.
MAX_PHOTO_BYTES = 4_400_000

_MB = 1_000_000


def photo_too_large(size_bytes: float, *, approximate: bool = False) -> HttpError:
    """The 413 ``photo_too_large`` for a photo of ``size_bytes`` bytes.

    The message gives the size in MB (``about`` it, when ``approximate``), the
    limit :data:`MAX_PHOTO_BYTES`, and what to do.
    """
    about = "about " if approximate else ""
    return HttpError(
        413,
        "photo_too_large",
        f"the photo is {about}{size_bytes / _MB:.1f} MB; this API accepts photos up to "
        f"{MAX_PHOTO_BYTES / _MB:.1f} MB (a Lambda request is limited to 6 MB and base64 "
        "adds a third). Save it as a JPEG or scale it down, and send it again",
    )


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
        raise photo_too_large(len(data))
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


__all__ = ["MAX_PHOTO_BYTES", "load_photo", "photo_too_large"]


#: Content types of a binary photo body.
IMAGE_TYPES = ("image/jpeg", "image/png")

_JSON_TYPES = ("application/json", "text/json")
_DATA_URL = re.compile(r"^data:[\w.+/-]*(;[\w.+=-]+)*;base64,", re.IGNORECASE)


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


def request_id_for(event: object, context: object) -> str:
    """The id of this request: Lambda's, else API Gateway's, else a new UUID.

    Never raises, whatever ``event`` and ``context`` are.
    """
    value = getattr(context, "aws_request_id", None)
    if not isinstance(value, str) or not value:
        value = None
        request_context = event.get("requestContext") if isinstance(event, Mapping) else None
        if isinstance(request_context, Mapping):
            candidate = request_context.get("requestId")
            value = candidate if isinstance(candidate, str) and candidate else None
    return value[:200] if value else str(uuid.uuid4())


def _bad_event(what: str) -> HttpError:
    return HttpError(
        400, "bad_request", f"the request is not a valid API Gateway proxy event: {what}"
    )


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    """An object of the event (``None`` reads as empty); anything else is a 400."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _bad_event(f"{what} must be an object")
    return value


def _text_map(value: object, what: str) -> dict[str, str]:
    """Headers or query parameters: text names to text values (``None`` values
    are left out); anything else is a 400."""
    result: dict[str, str] = {}
    for name, item in _mapping(value, what).items():
        if item is None:
            continue
        if not isinstance(name, str) or not isinstance(item, str):
            raise _bad_event(f"{what} must map names to text")
        result[name] = item
    return result


def parse_event(event: object) -> ApiRequest:
    """Read an API Gateway proxy event, payload format 1.0 (REST API) or 2.0 (HTTP API).

    Raises:
        HttpError: 400 when the event is not an API Gateway proxy event, or
            the query string repeats an option.
    """
    if not isinstance(event, Mapping):
        raise HttpError(400, "bad_request", "the request is not an API Gateway proxy event")
    context = _mapping(event.get("requestContext"), "requestContext")
    if event.get("version") == "2.0":
        api = "http-v2"
        method = _mapping(context.get("http"), "requestContext.http").get("method")
        query = _text_map(event.get("queryStringParameters"), "queryStringParameters")
    else:
        api = "rest-v1"
        method = event.get("httpMethod") or context.get("httpMethod")
        query = _v1_query(event)
    if method is not None and not isinstance(method, str):
        raise _bad_event("the HTTP method must be text")
    headers = {k.lower(): v for k, v in _text_map(event.get("headers"), "headers").items()}
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise HttpError(400, "bad_request", "the request body must be text or base64")
    is_base64 = event.get("isBase64Encoded")
    if is_base64 is not None and not isinstance(is_base64, bool):
        raise _bad_event("isBase64Encoded must be true or false")
    gateway_request_id = context.get("requestId")
    return ApiRequest(
        api=api,
        method=(method or "").upper(),
        headers=headers,
        query=query,
        body=body,
        is_base64=bool(is_base64),
        gateway_request_id=gateway_request_id if isinstance(gateway_request_id, str) else None,
    )


def _v1_query(event: Mapping[str, Any]) -> dict[str, str]:
    multi = _mapping(
        event.get("multiValueQueryStringParameters"), "multiValueQueryStringParameters"
    )
    for name, values in multi.items():
        if values is not None and not (
            isinstance(values, list) and all(isinstance(v, str) for v in values)
        ):
            raise _bad_event("multiValueQueryStringParameters must map names to lists of text")
        if values and len(set(values)) > 1:
            raise HttpError(
                400,
                "bad_request",
                f"the query string gives {name} {len(values)} times; give it once",
            )
    return _text_map(event.get("queryStringParameters"), "queryStringParameters")


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _max_base64_chars(max_bytes: int) -> int:
    return 4 * math.ceil(max_bytes / 3)


def _decode_base64(text: str, what: str) -> bytes:
    """Strict base64 (line breaks tolerated); 413 before decoding anything too large."""
    compact = "".join(text.split())
    if len(compact) > _max_base64_chars(MAX_PHOTO_BYTES):
        raise photo_too_large(len(compact) * 3 / 4, approximate=True)
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
        raise photo_too_large(len(body) * 3 / 4, approximate=True)
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
    except RecursionError:
        raise HttpError(400, "bad_json", "the request body's JSON is nested too deeply") from None
    except ValueError:  # e.g. a number of more digits than Python converts
        raise HttpError(
            400, "bad_json", "the request body's JSON holds a number too long to read"
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


__all__ = ["IMAGE_TYPES", "ApiRequest", "parse_event", "read_photo_and_params", "request_id_for"]
