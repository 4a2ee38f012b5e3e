"""objlen serve under load and against hostile clients (issue #12, item 6).

Real HTTP on loopback: a burst of parallel clients, clients that stall
half-way, decompression-bomb photos, and the limits' command-line checks.
The server runs in this process (threads) except where its memory is
measured, where it runs as ``python -m objlen serve`` in a subprocess.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from objlen.sagemaker.local_endpoint import (
    LISTEN_BACKLOG,
    EndpointServer,
    ServerLimits,
    main,
    make_server,
)
from objlen.testing.hostile import parallel_posts, png_bomb, scene_png, seconds_until_cut

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def serve():
    """Start servers with given limits; stop them all after the test."""
    started: list[EndpointServer] = []

    def start(**kwargs: object) -> EndpointServer:
        server = make_server(port=0, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _address(server: EndpointServer) -> tuple[str, int]:
    host, port = server.server_address[:2]
    return str(host), int(port)


def test_the_listen_backlog_holds_a_burst() -> None:
    assert LISTEN_BACKLOG >= 200
    assert EndpointServer.request_queue_size == LISTEN_BACKLOG


def test_200_parallel_clients_are_all_answered(serve) -> None:
    """Before: a listen backlog of 5 reset 10-28 of 50 parallel clients.
    Now every client gets an HTTP answer: a mask, or 429 past the bound on
    requests in flight."""
    server = serve()
    outcomes = parallel_posts(*_address(server), scene_png(), clients=200, timeout_s=60)

    assert sum(outcomes.values()) == 200
    assert set(outcomes) <= {"200", "429"}, outcomes
    assert outcomes["200"] >= 1


def test_200_parallel_clients_all_get_a_mask_within_the_bound(serve) -> None:
    server = serve(limits=ServerLimits(max_in_flight=200, max_connections=256))
    start = time.monotonic()
    outcomes = parallel_posts(*_address(server), scene_png(), clients=200, timeout_s=60)

    assert outcomes == {"200": 200}, outcomes
    assert time.monotonic() - start < 60


def test_past_the_bound_in_flight_the_runtime_answers_throttling(serve) -> None:
    server = serve(latency_s=1.0, limits=ServerLimits(max_in_flight=2))
    outcomes = parallel_posts(
        *_address(server), scene_png(), clients=6, path="/endpoints/e/invocations"
    )
    assert outcomes == {"200": 2, "429": 4}, outcomes
    throttled = [r for r in server.log.items() if r.status == 429]
    assert len(throttled) == 4
    assert {r.error_code for r in throttled} == {"ThrottlingException"}
    assert all(r.body_sha256 == "" for r in throttled)  # the body was not kept


@pytest.mark.parametrize(
    ("what", "sent"),
    [
        ("half-sent headers", b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Le"),
        (
            "a body shorter than its Content-Length",
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            b"Content-Length: 100000\r\n\r\n" + b"\x89PNG" * 10,
        ),
        ("an idle kept-alive connection", b""),
    ],
)
def test_a_stalled_client_is_cut_after_the_client_timeout(serve, what: str, sent: bytes) -> None:
    server = serve(limits=ServerLimits(client_timeout_s=1.0))
    seconds = seconds_until_cut(*_address(server), sent, limit_s=10)

    assert seconds is not None, f"{what}: still open after 10 s"
    assert 0.8 <= seconds <= 3.0, f"{what}: cut after {seconds:.2f} s"


def test_a_slow_loris_trickling_its_headers_is_cut_too(serve) -> None:
    """One more byte every 0.3 s would keep a per-read timeout waiting forever;
    the request's deadline is for the whole request."""
    server = serve(limits=ServerLimits(client_timeout_s=1.0))
    seconds = seconds_until_cut(
        *_address(server), b"POST /invocations HTTP/1.1\r\nX-Slow: ", trickle_s=0.3, limit_s=10
    )
    assert seconds is not None and seconds <= 3.0


def test_stalled_clients_do_not_keep_others_out(serve) -> None:
    """Every connection the server can serve at once is held by a stalled
    client; an honest client waits in the listen queue and is answered once
    they are cut."""
    server = serve(limits=ServerLimits(client_timeout_s=1.0, max_connections=4, max_in_flight=4))
    host, port = _address(server)
    stalled = [socket.create_connection((host, port)) for _ in range(8)]
    try:
        for connection in stalled:
            connection.sendall(b"POST /invocations HTTP/1.1\r\n")
        start = time.monotonic()
        outcomes = parallel_posts(host, port, scene_png(), clients=1, timeout_s=20)
        elapsed = time.monotonic() - start
    finally:
        for connection in stalled:
            connection.close()
    assert outcomes == {"200": 1}
    assert elapsed < 6.0


def test_an_answer_the_client_never_reads_does_not_hold_a_thread(serve) -> None:
    """A client that sends requests but never reads the answers fills the
    socket buffers; the server's writes give up after the client timeout."""
    server = serve(limits=ServerLimits(client_timeout_s=1.0, max_connections=1))
    host, port = _address(server)
    request = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((host, port)) as greedy:
        greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.settimeout(0.05)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                greedy.sendall(request * 200)
            except OSError:
                break
        outcomes = parallel_posts(host, port, scene_png(), clients=1, timeout_s=20)
    assert outcomes == {"200": 1}


def test_a_pixel_bomb_is_refused_from_its_header(serve) -> None:
    server = serve()
    bomb = png_bomb(10_000, 10_000)
    assert len(bomb) < 200_000
    request = urllib.request.Request(
        f"{server.url}/endpoints/e/invocations",
        data=bomb,
        method="POST",
        headers={"Content-Type": "image/png", "Accept": "image/png"},
    )
    start = time.monotonic()
    try:
        urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        status, document = error.code, json.loads(error.read())
    else:  # pragma: no cover - the test fails below
        status, document = 200, {}
    assert time.monotonic() - start < 2.0
    assert status == 424 and document["__type"] == "ModelError"
    assert document["OriginalStatusCode"] == 413
    assert "100.0 megapixels" in document["message"]


def _vm_hwm_mb(pid: int) -> float:
    """Peak resident memory of process ``pid`` (Linux's VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


@pytest.fixture
def serve_process() -> Iterator[tuple[subprocess.Popen, str, int]]:
    """``python -m objlen serve --port 0`` in a subprocess, on loopback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "objlen", "serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        yield process, "127.0.0.1", int(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_memory_stays_bounded_under_parallel_pixel_bombs(serve_process) -> None:
    """Before: one 105 KB PNG took the server to 1.8 GB, four at once to 5.4 GB."""
    process, host, port = serve_process
    outcomes = parallel_posts(host, port, scene_png(), clients=1)
    assert outcomes == {"200": 1}
    warm_mb = _vm_hwm_mb(process.pid)

    outcomes = parallel_posts(host, port, png_bomb(10_000, 10_000), clients=4)

    assert outcomes == {"413": 4}, outcomes
    peak_mb = _vm_hwm_mb(process.pid)
    print(f"serve: {warm_mb:.0f} MB after one photo, {peak_mb:.0f} MB after 4 parallel bombs")
    assert peak_mb - warm_mb < 100


def test_memory_per_request_at_the_pixel_limit(serve_process, tmp_path: Path) -> None:
    """A photo just under the limit (24 MP) is served; the server's peak
    memory says what one request at the limit costs."""
    process, host, port = serve_process
    parallel_posts(host, port, scene_png(), clients=1)
    warm_mb = _vm_hwm_mb(process.pid)
    big = scene_png(5600, 4200)  # 23.5 MP

    outcomes = parallel_posts(host, port, big, clients=2, timeout_s=120)

    assert outcomes == {"200": 2}, outcomes
    peak_mb = _vm_hwm_mb(process.pid)
    print(f"serve: a 23.5 MP photo costs {peak_mb - warm_mb:.0f} MB (peak {peak_mb:.0f} MB)")
    assert peak_mb - warm_mb < 1200


@pytest.mark.parametrize(
    "argv",
    [
        ["--latency", "inf"],
        ["--latency", "nan"],
        ["--latency", "-1"],
        ["--client-timeout", "0"],
        ["--client-timeout", "inf"],
        ["--max-in-flight", "0"],
        ["--max-megapixels", "inf"],
    ],
)
def test_serve_refuses_impossible_numbers_at_start(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--port", "0", *argv]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("objlen serve: --")
    assert "\n" not in error and "Traceback" not in error


def test_make_server_refuses_an_endless_latency() -> None:
    with pytest.raises(ValueError, match="latency"):
        make_server(port=0, latency_s=float("inf"))


def test_the_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        ServerLimits(client_timeout_s=float("inf"))
    with pytest.raises(ValueError):
        ServerLimits(max_in_flight=0)


def test_serve_still_answers_after_the_attacks(serve) -> None:
    server = serve(limits=ServerLimits(client_timeout_s=1.0))
    host, port = _address(server)
    seconds_until_cut(host, port, b"POST /invocations HTTP/1.1\r\n", limit_s=5)
    parallel_posts(host, port, png_bomb(8000, 8000), clients=3)
    with urllib.request.urlopen(f"{server.url}/ping", timeout=5) as answer:
        assert answer.status == 200
    assert parallel_posts(host, port, scene_png(), clients=1) == {"200": 1}


def test_serve_on_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # The bind fails; it was an AttributeError traceback from server_close.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"objlen serve: cannot listen on 127.0.0.1:{port}: ")
    assert "Address already in use" in error and "\n" not in error
