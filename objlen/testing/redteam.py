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

import contextlib
import importlib
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

#: Modules whose :func:`attack` rows make up the table (imported by :func:`all_attacks`).
ATTACK_MODULES: tuple[str, ...] = ("objlen.testing.redteam", "objlen.testing.redteam_served")
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
        module: the module that registered it.
    """

    surface: str
    input: str
    expected: str
    run: Callable[[Path], Outcome]
    timeout_s: float = DEFAULT_TIMEOUT_S
    module: str = ""


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
        ATTACKS.append(Attack(surface, input, expected, function, timeout_s, function.__module__))
        return function

    return register


def all_attacks() -> list[Attack]:
    """Every attack of every module in :data:`ATTACK_MODULES`, in their order
    (whatever else happens to be imported)."""
    for name in ATTACK_MODULES:
        importlib.import_module(name)
    return [item for name in ATTACK_MODULES for item in ATTACKS if item.module == name]


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
    cwd: Path | None = None,
) -> CliRun:
    """Run ``python -m objlen ARGS`` in ``cwd`` (default :data:`ROOT`) and wait
    at most ``timeout_s``.

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
            cwd=cwd or ROOT,
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


# ------------------------------------------- rows: issue #12, items 1 2 5 8 9 10
# Each row mounts one attack of the table in its scratch folder.

SAMPLE_PHOTO = ROOT / "samples" / "card_rectangle.jpg"
SAMPLE_MASK = ROOT / "samples" / "card_rectangle_mask.png"
_SETPRIV = (
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
)


def _history(folder: Path, photos: int = 2):
    """A real history with ``photos`` saved measurements (photo and mask) in ``folder/db``."""
    from objlen import MeasureOptions, ReferenceSpec, measure
    from objlen.imageio import load_mask
    from objlen.store import Store

    store = Store(folder / "db" / "objlen.sqlite3")
    mask, _ = load_mask(SAMPLE_MASK)
    result = measure(mask, MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0))))
    ids = [
        store.save(
            result,
            image_name=f"photo{n}.jpg",
            image_bytes=SAMPLE_PHOTO.read_bytes() + bytes([n]),  # n distinct hashes
            mask_png=SAMPLE_MASK.read_bytes(),
        )
        for n in range(photos)
    ]
    return store, ids


def _sql(path: Path, statement: str, *values: object) -> None:
    """Change a database behind objlen's back, as a crafted file would be."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute(statement, values)
    finally:
        connection.close()


def _exported(folder: Path) -> Path:
    """A clean training-set export of a two-photo history, in ``folder/ds``."""
    from objlen.classes import ClassIds
    from objlen.sagemaker.dataset import export_dataset

    store, _ = _history(folder)
    return export_dataset(store, folder / "ds", classes=ClassIds()).out_dir


def _validate(dataset: Path, prefix: Sequence[str] = ()) -> tuple[CliRun, Outcome]:
    """``dataset validate`` as a process; clean when it lists problems (exit 1)
    within its time, without a traceback."""
    done = run_cli(["dataset", "validate", str(dataset)], timeout_s=30, prefix=prefix)
    clean = done.returncode == 1 and "Traceback" not in done.stderr
    listed = done.stdout.strip().splitlines()
    got = done.summary() if not clean else f"exit 1: {listed[0][:100] if listed else ''}"
    return done, Outcome(got, clean)


@attack("store delete", "row image_file ../../../somewhere/precious.txt",
        "row gone, the file outside untouched")
def _crafted_delete(folder: Path) -> Outcome:
    precious = folder / "somewhere" / "precious.txt"
    precious.parent.mkdir()
    precious.write_text("the user's own file")
    store, (row_id, _) = _history(folder / "a" / "b")  # images/ is a/b/db/images
    _sql(store.path, "UPDATE measurements SET image_file = ? WHERE id = ?",
         "../../../../somewhere/precious.txt", row_id)
    gone = store.delete(row_id)
    kept = precious.exists()
    return Outcome(f"row deleted: {gone}; precious.txt {'kept' if kept else 'DELETED'}",
                   gone and kept)


@attack("dataset export", "row image_sha256 ../../../x/ab",
        "row skipped, nothing written outside the export")
def _crafted_hash(folder: Path) -> Outcome:
    from objlen.classes import ClassIds
    from objlen.sagemaker.dataset import export_dataset

    store, ids = _history(folder / "a", photos=3)
    _sql(store.path, "UPDATE measurements SET image_sha256 = ? WHERE id = ?",
         "../../../x/ab", ids[0])
    for target in (folder / "x", folder / "a" / "x"):
        target.mkdir(parents=True, exist_ok=True)
    report = export_dataset(store, folder / "a" / "out" / "ds", classes=ClassIds())
    outside = [p for p in (folder / "x", folder / "a" / "x") if any(p.iterdir())]
    skipped = [row_id for row_id, _ in report.skipped]
    return Outcome(f"skipped rows {skipped}; files outside: {len(outside)}",
                   skipped == [ids[0]] and not outside)


@attack("dataset export", "re-export over an export holding the user's notes.txt",
        "refused, the user's file kept")
def _reexport(folder: Path) -> Outcome:
    from objlen.classes import ClassIds
    from objlen.errors import ObjlenError
    from objlen.sagemaker.dataset import export_dataset
    from objlen.store import Store

    out = _exported(folder)
    notes = out / "train" / "notes.txt"
    notes.write_text("mine")
    try:
        export_dataset(Store(folder / "db" / "objlen.sqlite3"), out, classes=ClassIds())
        got = "exported again"
    except ObjlenError as error:
        got = f"refused: {str(error)[-70:]}"
    kept = notes.exists()
    return Outcome(f"{got}; notes.txt {'kept' if kept else 'DELETED'}",
                   kept and got.startswith("refused"))


@attack("batch results.csv", 'photo =HYPERLINK("evil.example",A1).jpg',
        "the cell starts with a single quote")
def _csv_batch(folder: Path) -> Outcome:
    import csv

    name = '=HYPERLINK("evil.example",A1).jpg'
    shutil.copy(SAMPLE_PHOTO, folder / name)
    done = run_cli(["batch", name, "--out", "out", "--reference-size", "85.6x54", "--quiet",
                    "--no-annotate"], cwd=folder, timeout_s=60)
    results = folder / "out" / "results.csv"
    if not results.exists():
        return Outcome(done.summary(), False)
    with open(results, newline="") as stream:
        cells = [row["name"] for row in csv.DictReader(stream)]
    return Outcome(f"name cell {cells[0][:34]}", cells == ["'" + name])


@attack("History CSV", "image name @SUM(1+1)*cmd|' /C calc'!A0",
        "the cell starts with a single quote")
def _csv_history(folder: Path) -> Outcome:
    import csv
    import io

    from objlen.store import to_csv

    store, (row_id, _) = _history(folder)
    name = "@SUM(1+1)*cmd|' /C calc'!A0"
    _sql(store.path, "UPDATE measurements SET image_name = ? WHERE id = ?", name, row_id)
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(to_csv(store.list())))}
    cell = rows[row_id]["image_name"]
    return Outcome(f"image_name cell {cell[:30]}", cell == "'" + name)


def _fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


@attack("cli measure", "a named pipe (FIFO) as the photo", "one line, exit 2, at once",
        timeout_s=40)
def _fifo_photo(folder: Path) -> Outcome:
    return one_line_error_outcome(run_cli(
        ["measure", str(_fifo(folder, "photo.jpg")), "--reference-size", "85.6x54"],
        timeout_s=20))


@attack("cli measure", "a named pipe (FIFO) as the mask", "one line, exit 2, at once",
        timeout_s=40)
def _fifo_mask(folder: Path) -> Outcome:
    return one_line_error_outcome(run_cli(
        ["measure", str(SAMPLE_PHOTO), "--mask", str(_fifo(folder, "mask.png")),
         "--reference-size", "85.6x54"], timeout_s=20))


@attack("dataset validate", "named pipes as photo, annotation and label map",
        "each listed as a problem, no hang", timeout_s=90)
def _fifo_dataset(folder: Path) -> Outcome:
    dataset = _exported(folder)
    _fifo(dataset, "train/pipe.jpg")
    _fifo(dataset, "train_annotation/pipe.png")
    (dataset / "label_map" / "train_label_map.json").unlink()
    _fifo(dataset, "label_map/train_label_map.json")
    done, outcome = _validate(dataset)
    listed = done.stdout.count("[not_a_file]") + done.stdout.count("[unreadable]")
    return Outcome(f"{outcome.got[:60]} ({listed} listed)", outcome.clean and listed == 3)


@attack("cli measure", "--endpoint-url 'http://user:pw@[::1'", "one line, exit 2, no password")
def _bad_endpoint_url(folder: Path) -> Outcome:
    done = run_cli(["measure", str(SAMPLE_PHOTO), "--reference-size", "85.6x54",
                    "--segmenter", "sagemaker", "--endpoint", "e", "--region", "eu-west-1",
                    "--endpoint-url", "http://user:pw@[::1"])
    return Outcome(done.summary(), done.one_line_error() and "pw@" not in done.stderr)


@attack("cli batch", "--s3-endpoint-url notaurl (s3:// input)", "one line, exit 2")
def _bad_s3_endpoint_url(folder: Path) -> Outcome:
    return one_line_error_outcome(run_cli(
        ["batch", "s3://bucket/photos/", "--out", str(folder / "out"),
         "--reference-size", "85.6x54", "--s3-endpoint-url", "notaurl"]))


@attack("cli measure", "--scale 1e308 --json", "one line, exit 2, no inf or Infinity")
def _huge_scale(folder: Path) -> Outcome:
    done = run_cli(["measure", str(SAMPLE_PHOTO), "--mask", str(SAMPLE_MASK), "--scale",
                    "1e308", "--json"])
    infinite = "Infinity" in done.stdout or "inf" in done.stdout
    return Outcome(done.summary() + (" + Infinity in the JSON" if infinite else ""),
                   done.one_line_error() and not infinite)


@attack("cli measure", "--reference-length 1e-320", "one line, exit 2")
def _tiny_length(folder: Path) -> Outcome:
    return one_line_error_outcome(run_cli(
        ["measure", str(SAMPLE_PHOTO), "--mask", str(SAMPLE_MASK), "--reference-length",
         "1e-320"]))


@attack("cli measure", "--reference-length 1e300", "one line, exit 2")
def _huge_length(folder: Path) -> Outcome:
    return one_line_error_outcome(run_cli(
        ["measure", str(SAMPLE_PHOTO), "--mask", str(SAMPLE_MASK), "--reference-length",
         "1e300"]))


@attack("cli measure", "no photo given (argparse)", "one line, not the usage")
def _usage(folder: Path) -> Outcome:
    done = run_cli(["measure"])
    return Outcome(done.summary(), done.one_line_error() and "usage:" not in done.stderr)


@attack("dataset validate", "headers claiming 65535^2 (JPEG) and 100000^2 (PNG) px",
        "both listed as too large, no traceback", timeout_s=90)
def _bombs(folder: Path) -> Outcome:
    dataset = _exported(folder)
    next((dataset / "train").glob("*.jpg")).write_bytes(jpeg_claiming(65535, 65535))
    next((dataset / "validation_annotation").glob("*.png")).write_bytes(
        png_claiming(100_000, 100_000)
    )
    done, outcome = _validate(dataset)
    listed = done.stdout.count("[too_large]")
    return Outcome(f"{outcome.got[:60]} ({listed} listed)", outcome.clean and listed == 2)


@attack("dataset validate", "label maps: a 5000-digit number; 100,000-deep JSON",
        "both listed as problems, no traceback", timeout_s=90)
def _label_maps(folder: Path) -> Outcome:
    dataset = _exported(folder)
    (dataset / "label_map" / "train_label_map.json").write_text(long_number_json(5000))
    (dataset / "label_map" / "validation_label_map.json").write_text(deep_json(100_000))
    done, outcome = _validate(dataset)
    listed = done.stdout.count("[label_map]")
    return Outcome(f"{outcome.got[:60]} ({listed} listed)", outcome.clean and listed == 2)


@attack("dataset validate", "an unreadable channel folder (chmod 0)",
        "listed as unreadable, no traceback", timeout_s=90)
def _unreadable(folder: Path) -> Outcome:
    dataset = _exported(folder)
    prefix: Sequence[str] = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            return Outcome("not run: root without setpriv cannot be denied a folder", False)
        prefix = _SETPRIV
    (dataset / "train").chmod(0)
    try:
        done, outcome = _validate(dataset, prefix)
    finally:
        (dataset / "train").chmod(0o755)
    return Outcome(outcome.got, outcome.clean and "[unreadable]" in done.stdout)


@attack("cli dataset export", "--db: garbage bytes; another program's SQLite",
        "one line each, exit 2, the foreign file untouched")
def _foreign_db(folder: Path) -> Outcome:
    import sqlite3

    garbage = folder / "garbage.sqlite3"
    garbage.write_bytes(b"not SQLite at all\n" * 64)
    foreign = folder / "places.sqlite"
    connection = sqlite3.connect(foreign)
    with connection:
        connection.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    connection.close()
    before = foreign.read_bytes()
    runs = [run_cli(["dataset", "export", "--db", str(db), "--out", str(folder / "out")])
            for db in (garbage, foreign)]
    untouched = foreign.read_bytes() == before
    return Outcome("; ".join(r.summary()[:60] for r in runs),
                   all(r.one_line_error() for r in runs) and untouched)


@attack("History page", "a row with created_at 'soon', width 'wide', JSON '{broken'",
        "one error on the page, no traceback", timeout_s=90)
def _history_page(folder: Path) -> Outcome:
    import logging

    from streamlit.testing.v1 import AppTest

    if str(ROOT) not in sys.path:  # the page imports app_pages from the project folder
        sys.path.insert(0, str(ROOT))
    for name in ("streamlit", "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)  # no "bare mode" chatter
    store, (row_id, _) = _history(folder)
    _sql(store.path, "UPDATE measurements SET created_at = 'soon', width = 'wide', "
         "result_json = '{broken' WHERE id = ?", row_id)
    with environment(OBJLEN_DB=str(store.path), OBJLEN_DATA_ROOT=str(store.root)):
        at = AppTest.from_file(str(ROOT / "app_pages" / "history.py"), default_timeout=60).run()
    if at.exception:
        return Outcome(f"traceback: {str(at.exception[0].value)[:80]}", False)
    errors = [e.value for e in at.error]
    shown = errors[0] if errors else ""
    return Outcome(
        f"error: ...{shown[shown.find('measurement'):][:60]}" if errors else "no error shown",
        len(errors) == 1 and "damaged" in shown,
    )


@contextlib.contextmanager
def environment(**changes: str) -> Iterator[None]:
    """Set environment variables for the block; put the old values back after."""
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- the Lambda handler, against the project's endpoint server on loopback
_AWS_NAMES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
              "AWS_ENDPOINT_URL", "OBJLEN_MAX_ATTEMPTS", "OBJLEN_REGION")


@contextlib.contextmanager
def lambda_environment() -> Iterator[Any]:
    """The local endpoint server on loopback, and the handler's environment
    pointing at it (dummy credentials); both undone after."""
    from objlen.sagemaker.local_endpoint import make_server

    server = make_server(port=0, endpoint_names=["redteam"]).start()
    changes = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
        "OBJLEN_ENDPOINT": "redteam", "AWS_REGION": "ap-northeast-1",
        "OBJLEN_ENDPOINT_URL": server.url,
    }
    saved = {name: os.environ.get(name) for name in (*changes, *_AWS_NAMES)}
    for name in _AWS_NAMES:
        os.environ.pop(name, None)
    os.environ.update(changes)
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _photo_json(**options: Any) -> str:
    import base64
    import json

    photo = base64.b64encode(SAMPLE_PHOTO.read_bytes()).decode("ascii")
    return json.dumps({"image": photo, "reference_size": "85.6x54", **options})


def _event(body: str, **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "httpMethod": "POST",
        "path": "/measure",
        "headers": {"Content-Type": "application/json"},
        "queryStringParameters": None,
        "requestContext": {"requestId": "redteam-1", "httpMethod": "POST"},
        "body": body,
        "isBase64Encoded": False,
    }
    event.update(changes)
    return event


def _call(event: Any) -> tuple[int | None, str, str]:
    """The handler's answer to ``event`` (status, error code or "", log), or
    ``None`` and the exception when it raised."""
    import io
    import json

    from objlen.serverless.handler import handler

    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            answer = handler(event, None)
    except Exception as error:
        return None, f"raised {type(error).__name__}", log.getvalue()
    body = json.loads(answer["body"]) if answer["body"] else {}
    return answer["statusCode"], body.get("error", {}).get("code", ""), log.getvalue()


def _lambda_400(make_event: Callable[[], Any]) -> Callable[[Path], Outcome]:
    def run(folder: Path) -> Outcome:
        with lambda_environment():
            status, code, _ = _call(make_event())
        return Outcome(f"{status} {code}" if status else code, status == 400)

    return run


for _label, _make in (
    ("requestContext is a string", lambda: _event(_photo_json(), requestContext="oops")),
    ("requestContext is a list", lambda: _event(_photo_json(), requestContext=[1, 2])),
    ("requestContext.http is a string", lambda: {
        **_event(_photo_json()), "version": "2.0", "requestContext": {"http": "POST"}}),
    ("headers is a list", lambda: _event(_photo_json(), headers=["content-type"])),
    ("queryStringParameters is a string",
     lambda: _event(_photo_json(), queryStringParameters="a=1")),
    ("scale: 1e308", lambda: _event(_photo_json(reference_size=None, scale=1e308))),
    ("reference_length: a 5000-digit number", lambda: _event(
        _photo_json(reference_size=None)[:-1] + ', "reference_length": ' + "9" * 5000 + "}")),
    ("a 200,000-deep JSON array", lambda: _event(
        _photo_json()[:-1] + ', "all": ' + deep_json(200_000) + "}")),
):
    attack("lambda", _label, "400, the handler does not raise")(_lambda_400(_make))


@attack("lambda log", "502 whose detail holds http://admin:pw@host/?sig=...",
        "user-info and query hidden in the log")
def _log_502(folder: Path) -> Outcome:
    secret = "http://admin:hunter2@10.1.2.3/m?X-Amz-Signature=S1gn4tur3"
    with lambda_environment() as server:
        server.faults.add("model_error", message=f"upstream {secret} failed")
        status, code, log = _call(_event(_photo_json()))
    leaked = [s for s in ("hunter2", "S1gn4tur3") if s in log]
    return Outcome(f"{status} {code}; leaked: {leaked or 'nothing'}",
                   status == 502 and not leaked and "http://***@10.1.2.3/m?***" in log)


@attack("lambda log", "500 whose traceback holds http://admin:pw@host/?sig=...",
        "user-info and query hidden in the log")
def _log_500(folder: Path) -> Outcome:
    from objlen.serverless import handler as lambda_handler

    secret = "http://admin:hunter2@10.1.2.3/m?X-Amz-Signature=S1gn4tur3"

    def fault(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"cannot fetch {secret}")

    original = lambda_handler.measure_segmentation
    lambda_handler.measure_segmentation = fault  # an internal fault, injected for this row only
    try:
        with lambda_environment():
            status, code, log = _call(_event(_photo_json()))
    finally:
        lambda_handler.measure_segmentation = original
    leaked = [s for s in ("hunter2", "S1gn4tur3") if s in log]
    return Outcome(f"{status} {code}; leaked: {leaked or 'nothing'}",
                   status == 500 and not leaked and "http://***@10.1.2.3/m?***" in log)


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
    "lambda_environment",
    "long_number_json",
    "one_line_error_outcome",
    "png_claiming",
    "run_attack",
    "run_attacks",
    "run_cli",
]
