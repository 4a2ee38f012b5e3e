"""The red-team table: hostile inputs against every surface, rerunnable.

Each row is an :class:`Attack`: the surface it hits (``cli measure``,
``store``, ``lambda``, ...), the hostile input in a few words, what a clean
outcome is, and a function that mounts the attack in a fresh, empty scratch
folder and returns an :class:`Outcome` (what happened, and whether that is
clean). ``python bench/redteam.py`` prints one line per row; it asserts
nothing. The tests of each module assert the same behaviours on their own.

Adding rows: write a function ``(folder: Path) -> Outcome`` and decorate it
with :func:`attack`; a new module of attacks goes into :data:`ATTACK_MODULES`
so :func:`all_attacks` imports it. Rules for an attack: real files, real
processes, real SQLite; servers on loopback only; every wait bounded (the
command-line helpers time out, and :func:`run_attack` gives up on an attack
that runs longer than its ``timeout_s``, calling it a hang); nothing written
outside ``folder``.
"""

from __future__ import annotations

import importlib
import io
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

#: Modules whose :func:`attack` rows make up the table (imported by :func:`all_attacks`).
ATTACK_MODULES: tuple[str, ...] = ("objlen.testing.redteam",)
#: The project folder (where ``samples/`` is), for the command-line runs.
ROOT = Path(__file__).resolve().parents[2]
#: Seconds an attack may take before it is reported as a hang.
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Outcome:
    """What an attack did: ``got`` in a few words, and whether that is clean."""

    got: str
    clean: bool


@dataclass(frozen=True)
class Attack:
    """One row of the table, not yet run.

    Attributes:
        surface: what is attacked (``cli measure``, ``dataset export``, ``lambda``...).
        input: the hostile input, in a few words.
        expected: what a clean outcome is.
        run: mounts the attack in an empty scratch folder; returns an :class:`Outcome`.
        timeout_s: longer than this is a hang (not clean).
    """

    surface: str
    input: str
    expected: str
    run: Callable[[Path], Outcome]
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class Row:
    """One row of the table, run: the attack's description and its outcome."""

    surface: str
    input: str
    expected: str
    got: str
    clean: bool
    seconds: float


#: Every registered attack, in registration order.
ATTACKS: list[Attack] = []


def attack(
    surface: str, input: str, expected: str, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Callable[[Callable[[Path], Outcome]], Callable[[Path], Outcome]]:
    """Register the decorated function as a row of the table (see the module docstring)."""

    def register(function: Callable[[Path], Outcome]) -> Callable[[Path], Outcome]:
        ATTACKS.append(Attack(surface, input, expected, function, timeout_s))
        return function

    return register


def all_attacks() -> list[Attack]:
    """Every attack of every module in :data:`ATTACK_MODULES`."""
    for name in ATTACK_MODULES:
        importlib.import_module(name)
    return list(ATTACKS)


def run_attack(item: Attack) -> Row:
    """Run one attack in a fresh scratch folder (removed after) and report it.

    The attack runs in a worker thread; one that has not finished after its
    ``timeout_s`` is reported as a hang and abandoned (a daemon thread). An
    exception is reported as what was got, and is not clean.
    """
    result: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="objlen-redteam-") as scratch:

        def work() -> None:
            try:
                result["outcome"] = item.run(Path(scratch))
            except BaseException as error:  # reported, never raised
                message = " ".join(str(error).split())[:160]
                result["outcome"] = Outcome(f"raised {type(error).__name__}: {message}", False)

        started = time.monotonic()
        worker = threading.Thread(target=work, name="objlen-redteam", daemon=True)
        worker.start()
        worker.join(item.timeout_s)
        seconds = time.monotonic() - started
        outcome = result.get("outcome") or Outcome(f"hung (> {item.timeout_s:g} s)", False)
    return Row(item.surface, item.input, item.expected, outcome.got, outcome.clean, seconds)


def run_attacks(attacks: Iterable[Attack] | None = None) -> list[Row]:
    """Run ``attacks`` (default: :func:`all_attacks`) one after the other."""
    return [run_attack(item) for item in (all_attacks() if attacks is None else attacks)]


# ------------------------------------------------------------ hostile files
def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (its data is
    one grey pixel): a reader that trusts the header allocates for the claim."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1), 128).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    start = data.index(b"IHDR")
    data[start + 4 : start + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[start : start + 17])) & 0xFFFFFFFF
    data[start + 17 : start + 21] = struct.pack(">I", crc)
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny JPEG whose frame header (SOF0) claims ``width`` x ``height``
    pixels, at most 65535 each (the format's limit)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (128, 128, 128)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    start = data.index(b"\xff\xc0")
    data[start + 5 : start + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def deep_json(depth: int) -> str:
    """A JSON array nested ``depth`` deep: ``[[[...]]]``."""
    return "[" * depth + "]" * depth


def long_number_json(digits: int) -> str:
    """A JSON label map whose ``scale`` is a whole number of ``digits`` digits."""
    return '{"scale": ' + "9" * digits + "}"


# ------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class CliRun:
    """A finished (or timed-out) ``python -m objlen`` run."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def one_line_error(self) -> bool:
        """Exit status 2, one line on stderr starting ``objlen: error:``, no traceback."""
        lines = self.stderr.strip().splitlines()
        return (
            self.returncode == 2
            and len(lines) == 1
            and lines[0].startswith("objlen: error:")
            and "Traceback" not in self.stderr
        )

    def summary(self) -> str:
        """What happened, in a few words: exit status and the last line of stderr."""
        if self.timed_out:
            return f"hung (killed after {self.seconds:.0f} s)"
        lines = self.stderr.strip().splitlines()
        last = " ".join(lines[-1].split())[:110] if lines else ""
        shown = f"exit {self.returncode}"
        if "Traceback" in self.stderr:
            shown += ", traceback"
        return f"{shown}: {last}" if last else shown


def run_cli(
    args: Sequence[str],
    *,
    timeout_s: float = 30.0,
    env: dict[str, str] | None = None,
    prefix: Sequence[str] = (),
) -> CliRun:
    """Run ``python -m objlen ARGS`` in :data:`ROOT` and wait at most ``timeout_s``.

    ``prefix`` goes before the interpreter (e.g. ``setpriv`` options);
    ``env`` is added to this process's environment.
    """
    started = time.monotonic()
    environment = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "objlen", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=timeout_s,
            env=environment,
        )
    except subprocess.TimeoutExpired as expired:
        stderr = expired.stderr.decode() if isinstance(expired.stderr, bytes) else ""
        return CliRun(None, "", stderr or "", time.monotonic() - started)
    return CliRun(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def one_line_error_outcome(done: CliRun) -> Outcome:
    """An :class:`Outcome` that is clean when ``done`` failed with one clear line."""
    return Outcome(done.summary(), done.one_line_error())


__all__ = [
    "ATTACKS",
    "ATTACK_MODULES",
    "Attack",
    "CliRun",
    "Outcome",
    "Row",
    "all_attacks",
    "attack",
    "deep_json",
    "jpeg_claiming",
    "long_number_json",
    "one_line_error_outcome",
    "png_claiming",
    "run_attack",
    "run_attacks",
    "run_cli",
]
