"""Hostile inputs and clients, made small enough for tests and the red-team table.

Every function here builds an attack (a decompression-bomb PNG, a zip of many
tiny entries, a burst of parallel clients, a client that stalls half-way)
against a server on loopback or a file in a temporary folder, and returns what
happened; the tests assert on it and ``bench/redteam.py`` prints it. Nothing
here talks to any address but the one it is given, and every loop is bounded
in count and time.
"""

from __future__ import annotations

import http.client
import io
import re
import socket
import struct
import subprocess
import threading
import time
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width: int, height: int, grey: int = 0) -> bytes:
    """A valid greyscale PNG of ``width`` x ``height`` pixels of one ``grey``
    level, a few hundred kilobytes however large (10000 x 10000: about 100
    KB), made without holding its pixels in memory."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes([grey]) * width  # filter byte 0, then the row's pixels
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def scene_png(width: int = 64, height: int = 48) -> bytes:
    """A small photo the local segmenter can work on: two dark boxes on a light table."""
    image = np.full((height, width, 3), 200, np.uint8)
    image[height // 5 : height * 3 // 5, width // 12 : width // 3] = 20
    image[height // 4 : height * 5 // 6, width // 2 : width * 9 // 10] = 40
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def parallel_posts(
    host: str,
    port: int,
    body: bytes,
    *,
    clients: int,
    path: str = "/invocations",
    timeout_s: float = 60.0,
) -> Counter[str]:
    """``clients`` POSTs of ``body`` started at the same moment (a barrier),
    each on its own connection; returns how many got each answer: the HTTP
    status as text (``"200"``, ``"429"``) or the exception's class name
    (``"ConnectionResetError"``)."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def one() -> None:
        try:
            start.wait(timeout=timeout_s)
            connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
            try:
                connection.request(
                    "POST", path, body, {"Content-Type": "image/png", "Accept": "image/png"}
                )
                answer = connection.getresponse()
                answer.read()
                outcome = str(answer.status)
            finally:
                connection.close()
        except Exception as error:
            outcome = type(error).__name__
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=one, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s + 5)
    return outcomes


def seconds_until_cut(
    host: str, port: int, sent: bytes, *, trickle_s: float = 0.0, limit_s: float = 30.0
) -> float | None:
    """Connect, send ``sent`` and then nothing more (or, with ``trickle_s``, one
    more byte of a header line every ``trickle_s`` seconds, as a slow-loris
    client does); return the seconds until the server closed the connection,
    or ``None`` if it was still open after ``limit_s``."""
    start = time.monotonic()
    with socket.create_connection((host, port), timeout=limit_s) as connection:
        connection.sendall(sent)
        connection.settimeout(trickle_s if trickle_s > 0 else limit_s)
        while time.monotonic() - start < limit_s:
            try:
                if connection.recv(65536) == b"":
                    return time.monotonic() - start
            except TimeoutError:
                try:
                    connection.sendall(b"x")
                except OSError:
                    return time.monotonic() - start
            except OSError:  # reset by the server: cut as well
                return time.monotonic() - start
    return None


def run_measuring_memory(
    command: list[str], *, cwd: Path, timeout_s: float = 120.0
) -> tuple[int | None, float]:
    """Run ``command``; return its exit status (``None`` if killed at
    ``timeout_s``) and its peak resident memory in MB.

    The peak is the process's own ``VmHWM`` (``/proc/PID/status``), read every
    20 ms while it runs: not ``wait4``'s ``ru_maxrss``, which also counts the
    memory of the parent it was forked from (Linux keeps the pre-``exec``
    high-water mark), so a large test process would be blamed on the child.
    """
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    status_file = Path(f"/proc/{process.pid}/status")
    peak_kb = 0
    deadline = time.monotonic() + timeout_s
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            return None, peak_kb / 1024
        try:
            found = re.search(r"VmHWM:\s+(\d+) kB", status_file.read_text())
        except OSError:  # it ended between the poll and the read
            found = None
        if found:
            peak_kb = max(peak_kb, int(found.group(1)))
        time.sleep(0.02)
    return process.returncode, peak_kb / 1024


def zip_of_tiny_entries(path: Path, entries: int) -> Path:
    """A zip file of ``entries`` stored 1x1 PNG photos (``p00000.png`` ...),
    each of another colour (so no two have the same bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for index in range(entries):
            buffer = io.BytesIO()
            colour = (index & 0xFF, (index >> 8) & 0xFF, (index >> 16) & 0xFF)
            Image.new("RGB", (1, 1), colour).save(buffer, "PNG")
            archive.writestr(f"p{index:05d}.png", buffer.getvalue())
    return path


def zip_of_pixel_bombs(path: Path, entries: int = 4, side: int = 10_000) -> Path:
    """A small zip file (``entries`` x about 100 KB) of ``side`` x ``side``
    PNGs: each decodes to ``side**2`` pixels (10,000: 100 megapixels)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(entries):
            archive.writestr(f"bomb{index}.png", png_bomb(side, side, grey=index))
    return path


def corrupt_zip_entry(path: Path, entry: str) -> None:
    """Flip one byte of ``entry``'s stored data in the zip file at ``path``, so
    that reading it fails its CRC check."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(entry)
    data = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))


__all__ = [
    "corrupt_zip_entry",
    "parallel_posts",
    "png_bomb",
    "run_measuring_memory",
    "scene_png",
    "seconds_until_cut",
    "zip_of_pixel_bombs",
    "zip_of_tiny_entries",
]
