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
(by default the local one); a segmenter that keeps its answers encoded (a
stand-in model of precomputed masks, :func:`_stored_answer`) answers an
``image/png`` request without the photo being decoded in full or its mask
encoded per call.

For tests, :class:`Faults` makes the next requests slow, fail (500, 503,
ModelError, throttling, model not ready) or answer a broken mask; every
request is recorded in :attr:`EndpointServer.log`.

Under load and against hostile clients (:class:`ServerLimits`):

* the listen backlog is :data:`LISTEN_BACKLOG` (the kernel caps it at
  ``net.core.somaxconn``), so a burst of clients waits to be accepted
  instead of being reset;
* a client has ``client_timeout_s`` (default 30 s) to send a whole request,
  headers and body, and an idle kept-alive connection as long; past it the
  connection is cut (a body shorter than its ``Content-Length``, half-sent
  headers, a client that never reads its answer);
* at most ``max_connections`` connections are served at once (one thread
  each); more wait in the listen queue;
* at most ``max_in_flight`` requests are read or processed at once; past it a
  request is answered 429 ``ThrottlingException`` (as SageMaker answers past
  an endpoint's capacity) without its body being kept;
* a photo is refused by its pixel count, read from its header before it is
  decoded (``max_pixels``, default 24 megapixels), and photos are decoded,
  segmented and encoded one at a time: memory stays within about
  ``max_in_flight`` bodies of at most 6 MiB plus one photo at the limit.

The server listens on 127.0.0.1 unless told otherwise and checks no
credentials: do not expose it to a network.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import ipaddress
import json
import logging
import math
import socket
import sys
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import numpy as np

from objlen.classes import ClassIds
from objlen.errors import ImageReadError, ObjlenError
from objlen.headers import read_header
from objlen.imageio import load_image, sha256_hex
from objlen.pillow import Image
from objlen.segment.base import Segmentation, Segmenter
from objlen.segment.recordio import PROTOBUF, RECORDIO_PROTOBUF, encode_probabilities

logger = logging.getLogger(__name__)

#: The runtime's limit on a request body, in bytes (6 MiB).
SERVICE_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
#: Bodies larger than this are not even read: the connection is closed.
_DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
#: Account id shown in messages, as the real service shows the caller's.
LOCAL_ACCOUNT_ID = "000000000000"
#: Connections the kernel queues before they are accepted (capped by ``somaxconn``).
LISTEN_BACKLOG = 1024
#: Longest simulated model time ``--latency`` takes, in seconds.
MAX_LATENCY_S = 600.0
#: Chunk in which a refused body is read and thrown away, in bytes.
_DRAIN_CHUNK_BYTES = 64 * 1024

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


class _ClientGone(Exception):
    """The client stopped sending before its request was whole (or was cut)."""


@dataclass(frozen=True)
class ServerLimits:
    """What one client, and all of them together, may take from the server.

    Attributes:
        client_timeout_s: seconds a client has to send one whole request
            (headers and body) and to take its answer; also how long an idle
            kept-alive connection stays open. Past it the connection is cut.
        max_connections: connections served at once (a thread each); more
            wait in the listen queue.
        max_in_flight: requests read or processed at once; past it a request
            is answered 429 ``ThrottlingException``.
        max_pixels: largest photo, in pixels (width x height), read from its
            header before it is decoded; larger ones get a ``ModelError``
            with original status 413.
    """

    client_timeout_s: float = 30.0
    max_connections: int = 256
    max_in_flight: int = 16
    max_pixels: int = 24_000_000

    def __post_init__(self) -> None:
        if not (math.isfinite(self.client_timeout_s) and self.client_timeout_s > 0):
            raise ValueError("client_timeout_s must be a positive number of seconds")
        if self.max_connections < 1 or self.max_in_flight < 1 or self.max_pixels < 1:
            raise ValueError("max_connections, max_in_flight and max_pixels must be at least 1")


class _Watchdog:
    """Cuts connections whose request is not in by its deadline.

    One thread for the whole server: it wakes every ``period_s`` and shuts
    down (``SHUT_RDWR``) every socket whose deadline passed, which ends the
    handler's blocked read with end-of-file.
    """

    def __init__(self, period_s: float = 0.1) -> None:
        self._period_s = period_s
        self._lock = threading.Lock()
        self._deadlines: dict[socket.socket, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="objlen-watchdog", daemon=True)
        self._thread.start()

    def arm(self, connection: socket.socket, seconds: float) -> None:
        """Cut ``connection`` unless :meth:`disarm` is called within ``seconds``."""
        with self._lock:
            self._deadlines[connection] = time.monotonic() + seconds

    def disarm(self, connection: socket.socket) -> None:
        """Forget ``connection``'s deadline."""
        with self._lock:
            self._deadlines.pop(connection, None)

    def _run(self) -> None:
        while not self._stop.wait(self._period_s):
            now = time.monotonic()
            with self._lock:
                late = [c for c, deadline in self._deadlines.items() if deadline <= now]
                for connection in late:
                    del self._deadlines[connection]
            for connection in late:
                with contextlib.suppress(OSError):  # already closed by its handler
                    connection.shutdown(socket.SHUT_RDWR)
                logger.info("cut a client that did not send its request in time")

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(timeout=2)


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
        limits: the :class:`ServerLimits`.
    """

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

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
        limits: ServerLimits | None = None,
    ) -> None:
        self.limits = limits or ServerLimits()
        # Before the socket is bound: a failed bind calls server_close, which stops it.
        self.watchdog = _Watchdog()
        super().__init__(address, _Handler)
        self.segmenter = segmenter
        self.classes = classes
        self.latency_s = latency_s
        self.faults = faults
        self.log = InvocationLog()
        self.endpoint_names = None if endpoint_names is None else frozenset(endpoint_names)
        self.max_payload_bytes = max_payload_bytes
        self.stopping = threading.Event()
        # One photo at a time is decoded, segmented and encoded: memory holds one.
        self.segment_lock = threading.Lock()
        self._connections = threading.BoundedSemaphore(self.limits.max_connections)
        self.in_flight = threading.BoundedSemaphore(self.limits.max_in_flight)
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

    def server_close(self) -> None:
        """Close the listening socket and stop the watchdog."""
        super().server_close()
        self.watchdog.stop()

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        """Serve ``request`` in a thread once fewer than ``max_connections`` are
        served (until then it waits here, and later clients in the listen queue)."""
        while not self._connections.acquire(timeout=0.2):
            if self.stopping.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connections.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        """One connection's thread; frees its place when done."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.watchdog.disarm(request)
            self._connections.release()

    def handle_error(self, request: object, client_address: object) -> None:  # type: ignore[override]
        """One log line for a client that went away; the traceback for a bug."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            logger.info("%s: connection ended: %s", client_address, error)
        else:
            super().handle_error(request, client_address)  # type: ignore[arg-type]

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

    # -- the connection ------------------------------------------------------

    def setup(self) -> None:
        # Every read and write of the socket gives up after the client timeout.
        self.timeout = self.server.limits.client_timeout_s
        super().setup()

    def handle_one_request(self) -> None:
        # The client has client_timeout_s to send the whole request (the
        # handler disarms the watchdog once the body is in); an idle
        # kept-alive connection is cut after as long.
        watchdog = self.server.watchdog
        watchdog.arm(self.connection, self.server.limits.client_timeout_s)
        try:
            super().handle_one_request()
        except (TimeoutError, ConnectionError):
            self.close_connection = True
        finally:
            watchdog.disarm(self.connection)

    def _request_is_in(self) -> None:
        """The whole request was received: processing it has no deadline."""
        self.server.watchdog.disarm(self.connection)

    # -- routing -------------------------------------------------------------

    def do_GET(self) -> None:
        self._request_is_in()
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
            try:
                self._discard_body(self._content_length())
            except _ClientGone:
                self.close_connection = True
                return
            self._request_is_in()
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
        gone = False
        try:
            answer = self._admitted_answer(endpoint_name, request_id, length)
        except _Failure as caught:
            failure = caught
        except _Stopped:
            self.close_connection = True
        except _ClientGone:
            self.close_connection = gone = True
        if answer is not None:
            status, code = 200, ""
        elif failure is not None:
            status, code = failure.status, failure.code
        else:
            status, code = 0, "ClientGone" if gone else "ServerStopping"
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

    def _admitted_answer(
        self, endpoint_name: str | None, request_id: str, length: int
    ) -> tuple[bytes, str]:
        """:meth:`_answer` within the bound on requests in flight; past it, 429."""
        in_flight = self.server.in_flight
        if not in_flight.acquire(blocking=False):
            if self.headers.get("Transfer-Encoding") or length > _DRAIN_LIMIT_BYTES:
                self.close_connection = True
            else:
                self._discard_body(length)
            raise _Failure(
                429,
                "ThrottlingException",
                f"Rate exceeded: {self.server.limits.max_in_flight} requests are in flight; "
                "retry later",
                container_status=429,
            )
        try:
            return self._answer(endpoint_name, request_id, length)
        finally:
            in_flight.release()

    def _answer(self, endpoint_name: str | None, request_id: str, length: int) -> tuple[bytes, str]:
        """The answer body and its type, after the checks and faults; or raise."""
        server = self.server
        body = self._accept_body(request_id, length)
        self._request_is_in()
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
                self._discard_body(length)
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
        max_pixels = self.server.limits.max_pixels
        pixels = _pixel_count(body)
        if pixels is not None and pixels > max_pixels:
            raise _model_error(
                413,
                f"the photo has {pixels / 1e6:.1f} megapixels, more than this endpoint's "
                f"limit of {max_pixels / 1e6:g}; send fewer pixels",
            )
        if answer_type == "image/png" and fault_kind not in _BROKEN_ANSWERS:
            stored = _stored_answer(self.server.segmenter, body)
            if stored is not None:
                return stored, answer_type
        with self.server.segment_lock:  # one decoded photo in memory at a time
            try:
                image = load_image(body, name="request body", max_pixels=max_pixels)
            except ImageReadError as exc:
                raise _model_error(400, str(exc)) from exc
            try:
                segmentation = self.server.segmenter.segment(image)
            except ObjlenError as exc:
                raise _model_error(500, f"segmentation failed: {exc}") from exc
            except Exception as exc:  # a bug in the segmenter: answer as a crashed model would
                logger.exception("the segmenter crashed")
                raise _model_error(500, f"the segmenter crashed: {exc!r}") from exc
            shape = image.shape[:2]
            del image
            mask = segmentation.mask
            if mask.shape != shape:
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
        """The whole body of ``Content-Length`` bytes.

        Raises:
            _ClientGone: the connection ended (or was cut) before it was whole.
        """
        length = self._content_length()
        if length <= 0:
            return b""
        try:
            body = self.rfile.read(length)
        except (TimeoutError, ConnectionError) as exc:
            raise _ClientGone from exc
        if len(body) < length:
            raise _ClientGone
        return body

    def _discard_body(self, length: int) -> None:
        """Read ``length`` bytes of body and throw them away, a chunk at a time.

        Raises:
            _ClientGone: the connection ended (or was cut) before they came.
        """
        left = length
        try:
            while left > 0:
                chunk = self.rfile.read(min(left, _DRAIN_CHUNK_BYTES))
                if not chunk:
                    raise _ClientGone
                left -= len(chunk)
        except (TimeoutError, ConnectionError) as exc:
            raise _ClientGone from exc

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
        except (ConnectionError, TimeoutError):
            # The client gave up (e.g. its read timeout), or does not read its
            # answer within the client timeout: nothing to answer to.
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


def _pixel_count(body: bytes) -> int | None:
    """Width x height from the photo's header, without decoding it; ``None``
    when Pillow cannot tell (the decoder then says what is wrong)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        return SERVICE_PAYLOAD_LIMIT_BYTES * 1024  # far past any limit
    except Exception:  # not an image: load_image says so in words
        return None
    return width * height


def _stored_answer(segmenter: Segmenter, body: bytes) -> bytes | None:
    """The ``image/png`` answer a segmenter keeps ready for the photo ``body``,
    or ``None`` when it keeps none (the photo is then decoded and segmented).

    A segmenter may keep its masks' answers encoded (a stand-in model whose
    masks are precomputed): it then has ``mask_png(body) -> bytes | None``,
    which finds the photo's mask without decoding the photo in full and
    returns it as :func:`encode_index_png` would encode it. Only photos
    without an EXIF turn are asked for one (the mask is of the photo as
    stored).

    Raises:
        _Failure: ``ModelError`` when ``mask_png`` fails or its PNG is not of
            the photo's size.
    """
    mask_png = getattr(segmenter, "mask_png", None)
    photo = None if mask_png is None else read_header(body)
    if photo is None or photo.orientation != 1:
        return None
    try:
        answer = mask_png(body)
    except ObjlenError as exc:
        raise _model_error(500, f"segmentation failed: {exc}") from exc
    if answer is None:
        return None
    mask = read_header(answer)
    size = None if mask is None or mask.format != "PNG" else (mask.width, mask.height)
    if size != (photo.width, photo.height):
        raise _model_error(500, "the segmenter returned a mask of the wrong size")
    return answer


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
    limits: ServerLimits | None = None,
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
        limits: timeouts and bounds (:class:`ServerLimits`; its defaults when ``None``).

    Raises:
        ValueError: ``latency_s`` is negative, not finite or over
            :data:`MAX_LATENCY_S`.
        OSError: the address cannot be bound.
    """
    if not (math.isfinite(latency_s) and 0 <= latency_s <= MAX_LATENCY_S):
        raise ValueError(f"latency_s must be a number of seconds within 0..{MAX_LATENCY_S:g}")
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
        limits=limits,
    )


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--host``, ``--port``, ``--latency``, ``--endpoint`` and the limits
    (``--client-timeout``, ``--max-connections``, ``--max-in-flight``,
    ``--max-megapixels``) to ``parser``."""
    defaults = ServerLimits()
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
    parser.add_argument(
        "--client-timeout",
        type=float,
        default=defaults.client_timeout_s,
        help="seconds a client has to send a whole request; slower ones are cut "
        f"(default {defaults.client_timeout_s:g})",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=defaults.max_connections,
        help=f"connections served at once (default {defaults.max_connections})",
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=defaults.max_in_flight,
        help="requests read or processed at once; more are answered 429 "
        f"(default {defaults.max_in_flight})",
    )
    parser.add_argument(
        "--max-megapixels",
        type=float,
        default=defaults.max_pixels / 1e6,
        help=f"largest photo accepted (default {defaults.max_pixels / 1e6:g})",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve_arguments_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with ``serve``'s numbers, in one line; ``None`` if nothing."""
    if not (math.isfinite(args.latency) and 0 <= args.latency <= MAX_LATENCY_S):
        return f"--latency must be a number of seconds within 0..{MAX_LATENCY_S:g}"
    if not 0 <= args.port <= 65535:
        return "--port must be within 0..65535"
    if not (math.isfinite(args.client_timeout) and 0 < args.client_timeout <= 3600):
        return "--client-timeout must be a number of seconds within 0..3600 (not 0)"
    if not 1 <= args.max_connections <= 10_000:
        return "--max-connections must be within 1..10000"
    if not 1 <= args.max_in_flight <= args.max_connections:
        return "--max-in-flight must be within 1..--max-connections"
    if not (math.isfinite(args.max_megapixels) and 0.01 <= args.max_megapixels <= 120):
        return "--max-megapixels must be within 0.01..120"
    return None


def run_serve(args: argparse.Namespace) -> int:
    """Run the server in the foreground until Ctrl+C; returns the exit status."""
    problem = _serve_arguments_problem(args)
    if problem:
        print(f"objlen serve: {problem}", file=sys.stderr)
        return 2
    limits = ServerLimits(
        client_timeout_s=args.client_timeout,
        max_connections=args.max_connections,
        max_in_flight=args.max_in_flight,
        max_pixels=int(args.max_megapixels * 1e6),
    )
    try:
        server = make_server(
            host=args.host,
            port=args.port,
            latency_s=args.latency,
            endpoint_names=args.endpoint,
            limits=limits,
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
    "ServerLimits",
    "add_serve_arguments",
    "encode_index_png",
    "main",
    "make_server",
    "probabilities_from",
    "run_serve",
]


if __name__ == "__main__":
    raise SystemExit(main())
