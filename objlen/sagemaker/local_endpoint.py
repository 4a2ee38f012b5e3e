"""A local SageMaker-compatible endpoint, to develop and test without AWS.

It speaks two protocols on one port:

* the SageMaker runtime's InvokeEndpoint wire API, as boto3 sends it with
  ``endpoint_url``: ``POST /endpoints/<name>/invocations`` with the
  ``Content-Type``/``Accept`` headers; errors are rest-json (a JSON body with
  ``__type`` and ``message``, header ``x-amzn-ErrorType``; a ``ModelError``
  also carries ``OriginalStatusCode``, ``OriginalMessage`` and
  ``LogStreamArn``), so botocore raises its modeled exceptions;
* the inference-container contract: ``GET /ping`` and ``POST /invocations``,
  answering plain HTTP statuses.

It answers like SageMaker's built-in semantic segmentation algorithm: a
request body ``image/jpeg`` (or ``image/png``); ``Accept: image/png`` gets an
indexed PNG of class indices at the input's size, ``Accept:
application/x-recordio-protobuf`` (or ``application/x-protobuf``) class
probabilities. Bodies over 6 MiB are refused with the runtime's
``ValidationError``. Masks come from any :class:`~objlen.segment.base.Segmenter`
(by default the local one).

For tests, :class:`Faults` makes the next requests slow, fail (500, 503,
ModelError, throttling, model not ready) or answer a broken mask; every
request is recorded in :attr:`EndpointServer.log`.

The server listens on 127.0.0.1 unless told otherwise and checks no
credentials: do not expose it to a network.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import json
import logging
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import numpy as np
from PIL import Image

from objlen.classes import ClassIds
from objlen.errors import ImageReadError, ObjlenError
from objlen.imageio import load_image, sha256_hex
from objlen.segment.base import Segmentation, Segmenter
from objlen.segment.recordio import PROTOBUF, RECORDIO_PROTOBUF, encode_probabilities

logger = logging.getLogger(__name__)

#: The runtime's limit on a request body, in bytes (6 MiB).
SERVICE_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
#: Bodies larger than this are not even read: the connection is closed.
_DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
#: Account id shown in messages, as the real service shows the caller's.
LOCAL_ACCOUNT_ID = "000000000000"

_IMAGE_TYPES = ("image/jpeg", "image/png", "application/x-image")
_PROBABILITY_TYPES = (RECORDIO_PROTOBUF, PROTOBUF)
_BROKEN_ANSWERS = ("malformed_png", "wrong_size", "bad_classes")
_FAULT_KINDS = (
    "slow",
    "internal",
    "unavailable",
    "model_error",
    "throttle",
    "not_ready",
    *_BROKEN_ANSWERS,
)


@dataclass(frozen=True)
class Fault:
    """One injected fault.

    Kinds: ``slow`` (wait ``seconds`` then answer normally), ``internal``
    (500 InternalFailure), ``unavailable`` (503 ServiceUnavailable),
    ``model_error`` (424 ModelError, original status 500 and ``message``),
    ``throttle`` (429 ThrottlingException), ``not_ready`` (429
    ModelNotReadyException), ``malformed_png`` (200, a truncated PNG),
    ``wrong_size`` (200, a mask of half the size), ``bad_classes`` (200, a
    mask holding class 7).
    """

    kind: str
    seconds: float = 0.0
    message: str = ""


class Faults:
    """A thread-safe queue of faults for the next requests, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()

    def add(self, kind: str, times: int = 1, *, seconds: float = 0.0, message: str = "") -> None:
        """Make the next ``times`` requests (after those queued) fail with ``kind``."""
        if kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {_FAULT_KINDS}")
        with self._lock:
            self._queue.extend([Fault(kind, seconds, message)] * times)

    def take(self) -> Fault | None:
        """The fault for the request being served, or ``None``."""
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def clear(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> int:
        """How many faults are still queued."""
        with self._lock:
            return len(self._queue)


@dataclass(frozen=True)
class Invocation:
    """What the server saw and answered for one request.

    ``body_sha256`` is the SHA-256 (hex) of the body received, empty when it
    was not read (refused before, e.g. as oversize).
    """

    path: str
    endpoint_name: str | None
    content_type: str
    accept: str
    body_bytes: int
    status: int
    error_code: str
    seconds: float
    custom_attributes: str
    body_sha256: str = ""


class InvocationLog:
    """Thread-safe record of the requests served, for tests and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Invocation] = []

    def append(self, item: Invocation) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(item)

    def items(self) -> list[Invocation]:
        """A copy of the records, oldest first."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._items.clear()


def _base_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _accepted(accept: str | None) -> str | None:
    """The answer type for an ``Accept`` header, or ``None`` if none is supported."""
    if not accept:
        return "image/png"
    for item in accept.split(","):
        wanted = _base_type(item)
        if wanted in ("image/png", "*/*", "image/*"):
            return "image/png"
        if wanted in _PROBABILITY_TYPES:
            return wanted
    return None


def encode_index_png(mask: np.ndarray) -> bytes:
    """Encode an ``(H, W)`` uint8 class-index mask as an indexed (palette) PNG."""
    height, width = mask.shape
    image = Image.frombytes("P", (width, height), np.ascontiguousarray(mask).tobytes())
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[:4] = [(0, 0, 0), (220, 40, 40), (40, 90, 220), (40, 180, 60)]
    palette[255] = (255, 255, 255)
    image.putpalette(palette.tobytes())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def probabilities_from(segmentation: Segmentation, n_classes: int) -> np.ndarray:
    """``(C, H, W)`` float32 class probabilities whose argmax is the mask.

    The chosen class gets the segmentation's confidence (1 without one, and
    never less than ``1/C`` so the argmax stays the mask), the other classes
    share the rest; pixels with a class id ``>= C`` (e.g. ignore, 255) get
    ``1/C`` everywhere.
    """
    mask = segmentation.mask
    if segmentation.confidence is None:
        chosen = np.ones(mask.shape, dtype=np.float32)
    else:
        chosen = np.clip(segmentation.confidence.astype(np.float32), 0.0, 1.0)
    if n_classes > 1:
        chosen = np.maximum(chosen, np.float32(1.0 / n_classes + 1e-3))
        rest = (1.0 - chosen) / (n_classes - 1)
    else:
        chosen = np.ones_like(chosen)
        rest = np.zeros_like(chosen)
    probabilities = np.repeat(rest[np.newaxis], n_classes, axis=0)
    for index in range(n_classes):
        where = mask == index
        probabilities[index][where] = chosen[where]
    probabilities[:, mask >= n_classes] = 1.0 / n_classes
    return probabilities


class _Failure(Exception):
    """An error answer: HTTP status, error code, message, extra JSON fields.

    ``container_status`` and ``container_message`` are what the inference
    container itself would answer on ``/invocations``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        container_status: int | None = None,
        container_message: str | None = None,
        **extra: object,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.container_status = container_status or status
        self.container_message = container_message or message
        self.extra = extra


class _Stopped(Exception):
    """The server is stopping while a request waits."""


class EndpointServer(ThreadingHTTPServer):
    """The server; build it with :func:`make_server`.

    Attributes:
        segmenter: what produces the masks.
        classes: class ids, for the number of classes of a probability answer.
        latency_s: simulated model time added to every invocation, in seconds.
        faults: the :class:`Faults` queue.
        log: the :class:`InvocationLog`.
        endpoint_names: names served on the runtime API (``None``: any).
        max_payload_bytes: largest request body accepted.
    """

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        segmenter: Segmenter,
        *,
        classes: ClassIds,
        latency_s: float,
        faults: Faults,
        endpoint_names: Collection[str] | None,
        max_payload_bytes: int,
    ) -> None:
        super().__init__(address, _Handler)
        self.segmenter = segmenter
        self.classes = classes
        self.latency_s = latency_s
        self.faults = faults
        self.log = InvocationLog()
        self.endpoint_names = None if endpoint_names is None else frozenset(endpoint_names)
        self.max_payload_bytes = max_payload_bytes
        self.stopping = threading.Event()
        self.segment_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8080`` (for ``endpoint_url``)."""
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}"

    def start(self) -> EndpointServer:
        """Serve in a daemon thread; returns ``self``."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (waits cut short), close the socket, join the thread."""
        self.stopping.set()
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless the server stops; ``True`` if it stopped."""
        return self.stopping.wait(seconds) if seconds > 0 else self.stopping.is_set()

    def n_classes(self) -> int:
        """Classes the simulated model predicts (class ids are output indices)."""
        c = self.classes
        return max(c.background, c.object, c.reference) + 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EndpointServer
    _body_sha256 = ""  # of the current request's body, for its log record

    def log_message(self, format: str, *args: object) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    # -- routing -------------------------------------------------------------

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/ping":
            self._send(HTTPStatus.OK, b"", "text/plain")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "endpoints" and parts[2] == "invocations":
            self._invocation(path, unquote(parts[1]))
        elif path == "/invocations":
            self._invocation(path, None)
        else:
            self._read_body()
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    # -- one invocation --------------------------------------------------------

    def _invocation(self, path: str, endpoint_name: str | None) -> None:
        start = time.perf_counter()
        request_id = str(uuid.uuid4())
        self._body_sha256 = ""
        length = self._content_length()
        runtime = endpoint_name is not None
        answer: tuple[bytes, str] | None = None
        failure: _Failure | None = None
        try:
            answer = self._answer(endpoint_name, request_id, length)
        except _Failure as caught:
            failure = caught
        except _Stopped:
            self.close_connection = True
        if answer is not None:
            status, code = 200, ""
        elif failure is not None:
            status, code = failure.status, failure.code
        else:
            status, code = 0, "ServerStopping"
        # Recorded before answering, so a client that has its answer sees the record.
        self.server.log.append(
            Invocation(
                path=path,
                endpoint_name=endpoint_name,
                content_type=self.headers.get("Content-Type", ""),
                accept=self.headers.get("Accept", ""),
                body_bytes=length,
                status=status,
                error_code=code,
                seconds=time.perf_counter() - start,
                custom_attributes=self.headers.get("X-Amzn-SageMaker-Custom-Attributes", ""),
                body_sha256=self._body_sha256,
            )
        )
        if answer is not None:
            self._send(200, answer[0], answer[1], request_id, runtime=runtime)
        elif failure is not None:
            self._send_failure(failure, request_id, runtime=runtime)

    def _answer(self, endpoint_name: str | None, request_id: str, length: int) -> tuple[bytes, str]:
        """The answer body and its type, after the checks and faults; or raise."""
        server = self.server
        body = self._accept_body(request_id, length)
        self._body_sha256 = sha256_hex(body)
        if endpoint_name is not None and (
            server.endpoint_names is not None and endpoint_name not in server.endpoint_names
        ):
            raise _Failure(
                400,
                "ValidationError",
                f"Endpoint {endpoint_name} of account {LOCAL_ACCOUNT_ID} not found.",
            )
        fault = server.faults.take()
        if fault is not None and fault.kind == "slow" and server.wait(fault.seconds):
            raise _Stopped
        if fault is not None:
            _raise_fault(fault)
        if server.wait(server.latency_s):
            raise _Stopped
        return self._run_model(body, None if fault is None else fault.kind)

    def _accept_body(self, request_id: str, length: int) -> bytes:
        """Read the request body, refusing it as the runtime does when too large."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise _Failure(
                411, "ValidationError", "a Content-Length is required", container_status=411
            )
        if length > self.server.max_payload_bytes:
            if length > _DRAIN_LIMIT_BYTES:
                self.close_connection = True
            else:
                self._read_body()
            raise _Failure(
                400,
                "ValidationError",
                f"Request {request_id} has oversize body.",
                container_status=413,
            )
        return self._read_body()

    def _run_model(self, body: bytes, fault_kind: str | None) -> tuple[bytes, str]:
        """What the built-in algorithm's container answers for ``body``."""
        content_type = self.headers.get("Content-Type")
        accept = self.headers.get("Accept")
        answer_type = _accepted(accept)
        if _base_type(content_type) not in _IMAGE_TYPES:
            raise _model_error(
                415, f"content type {content_type!r} is not supported; send image/jpeg or image/png"
            )
        if answer_type is None:
            raise _model_error(
                406,
                f"accept type {accept!r} is not supported; "
                f"ask for image/png or {RECORDIO_PROTOBUF}",
            )
        try:
            image = load_image(body, name="request body")
        except ImageReadError as exc:
            raise _model_error(400, str(exc)) from exc
        try:
            with self.server.segment_lock:
                segmentation = self.server.segmenter.segment(image)
        except ObjlenError as exc:
            raise _model_error(500, f"segmentation failed: {exc}") from exc
        except Exception as exc:  # a bug in the segmenter: answer as a crashed model would
            logger.exception("the segmenter crashed")
            raise _model_error(500, f"the segmenter crashed: {exc!r}") from exc
        mask = segmentation.mask
        if mask.shape != image.shape[:2]:
            raise _model_error(500, "the segmenter returned a mask of the wrong size")
        if fault_kind in _BROKEN_ANSWERS:
            return _broken_answer(fault_kind, mask), "image/png"
        if answer_type == "image/png":
            return encode_index_png(mask), answer_type
        probabilities = probabilities_from(segmentation, self.server.n_classes())
        return encode_probabilities(probabilities), answer_type

    # -- input and output ----------------------------------------------------

    def _content_length(self) -> int:
        """The declared body length; a malformed one counts as 0 and ends the connection."""
        try:
            return max(0, int(self.headers.get("Content-Length") or 0))
        except ValueError:
            self.close_connection = True
            return 0

    def _read_body(self) -> bytes:
        length = self._content_length()
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        request_id: str | None = None,
        *,
        runtime: bool = False,
        error_code: str | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if request_id is not None:
                self.send_header("x-amzn-RequestId", request_id)
            if runtime and status == 200:
                self.send_header("x-Amzn-Invoked-Production-Variant", "AllTraffic")
            if error_code:
                self.send_header("x-amzn-ErrorType", error_code)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its read timeout): nothing to answer to.
            self.close_connection = True

    def _send_failure(self, failure: _Failure, request_id: str, *, runtime: bool) -> None:
        if runtime:
            document = {"__type": failure.code, "message": failure.message, **failure.extra}
            body = json.dumps(document).encode("utf-8")
            self._send(
                failure.status,
                body,
                "application/json",
                request_id,
                runtime=True,
                error_code=failure.code,
            )
        else:
            text = failure.container_message + "\n"
            self._send(failure.container_status, text.encode("utf-8"), "text/plain", request_id)


def _model_error(original_status: int, original_message: str) -> _Failure:
    kind = "server" if original_status >= 500 else "client"
    log_group = "/aws/sagemaker/Endpoints/local"
    return _Failure(
        424,
        "ModelError",
        f"Received {kind} error ({original_status}) from primary with message "
        f'"{original_message}". See the objlen serve log for more information.',
        container_status=original_status,
        container_message=original_message,
        OriginalStatusCode=original_status,
        OriginalMessage=original_message,
        LogStreamArn=f"arn:aws:logs:local:{LOCAL_ACCOUNT_ID}:log-group:{log_group}",
    )


def _raise_fault(fault: Fault) -> None:
    if fault.kind == "internal":
        raise _Failure(500, "InternalFailure", fault.message or "An internal failure occurred.")
    if fault.kind == "unavailable":
        raise _Failure(503, "ServiceUnavailable", fault.message or "Service unavailable.")
    if fault.kind == "model_error":
        raise _model_error(500, fault.message or "simulated model failure")
    if fault.kind == "throttle":
        raise _Failure(429, "ThrottlingException", fault.message or "Rate exceeded")
    if fault.kind == "not_ready":
        raise _Failure(
            429, "ModelNotReadyException", fault.message or "Model is not ready for inference."
        )


def _broken_answer(kind: str, mask: np.ndarray) -> bytes:
    if kind == "malformed_png":
        whole = encode_index_png(mask)
        return whole[: max(40, len(whole) // 2)]
    if kind == "wrong_size":
        return encode_index_png(np.ascontiguousarray(mask[::2, ::2]))
    broken = mask.copy()
    broken[0, 0] = 7
    return encode_index_png(broken)


def make_server(
    segmenter: Segmenter | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    latency_s: float = 0.0,
    faults: Faults | None = None,
    classes: ClassIds = ClassIds(),  # noqa: B008 - frozen, immutable default
    endpoint_names: Collection[str] | None = None,
    max_payload_bytes: int = SERVICE_PAYLOAD_LIMIT_BYTES,
) -> EndpointServer:
    """Build (and bind) a local endpoint server; call ``start()`` or ``serve_forever()``.

    Args:
        segmenter: produces the masks; default ``LocalSegmenter(classes=classes)``.
        host: address to listen on; loopback by default.
        port: TCP port; 0 picks a free one (see ``server.url``).
        latency_s: simulated model time per invocation, in seconds.
        faults: fault queue to use (a new empty one by default).
        classes: class ids of the masks.
        endpoint_names: endpoint names served on the runtime API; others get
            the runtime's "not found" ValidationError. ``None`` serves any name.
        max_payload_bytes: largest request body accepted.
    """
    if segmenter is None:
        from objlen.segment.local import LocalSegmenter

        segmenter = LocalSegmenter(classes=classes)
    return EndpointServer(
        (host, port),
        segmenter,
        classes=classes,
        latency_s=latency_s,
        faults=faults or Faults(),
        endpoint_names=endpoint_names,
        max_payload_bytes=max_payload_bytes,
    )


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--host``, ``--port``, ``--latency`` and ``--endpoint`` to ``parser``."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback only)"
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="TCP port, 0 for a free one (default 8080)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="simulated model time per call, in seconds"
    )
    parser.add_argument(
        "--endpoint",
        action="append",
        default=None,
        help="endpoint name to serve (repeatable; default: any name)",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_serve(args: argparse.Namespace) -> int:
    """Run the server in the foreground until Ctrl+C; returns the exit status."""
    if args.latency < 0 or not 0 <= args.port <= 65535:
        print("objlen serve: --latency must be >= 0 and --port within 0..65535", file=sys.stderr)
        return 2
    try:
        server = make_server(
            host=args.host, port=args.port, latency_s=args.latency, endpoint_names=args.endpoint
        )
    except OSError as exc:
        print(f"objlen serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    if not _is_loopback(args.host):
        print(
            f"objlen serve: warning: listening on {args.host} makes this server reachable "
            "from the network; it checks no credentials",
            file=sys.stderr,
        )
    names = ", ".join(args.endpoint) if args.endpoint else "any name"
    print(f"objlen endpoint server on {server.url} (endpoints: {names}); Ctrl+C stops")
    print(f"use endpoint_url={server.url} in the SageMaker settings", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.server_close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m objlen serve [--host] [--port] [--latency] [--endpoint NAME]``."""
    parser = argparse.ArgumentParser(
        prog="objlen serve", description="A local SageMaker-compatible segmentation endpoint."
    )
    add_serve_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return run_serve(parser.parse_args(argv))


__all__ = [
    "SERVICE_PAYLOAD_LIMIT_BYTES",
    "EndpointServer",
    "Fault",
    "Faults",
    "Invocation",
    "InvocationLog",
    "add_serve_arguments",
    "encode_index_png",
    "main",
    "make_server",
    "probabilities_from",
    "run_serve",
]


if __name__ == "__main__":
    raise SystemExit(main())
