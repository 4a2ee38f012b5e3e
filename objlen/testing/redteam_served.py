"""Red-team rows of issue #12, items 3, 4, 6 and 7: the app served beyond
loopback, secrets in the endpoint URL, the endpoint server under load, and
the batch against hostile zip files, results folders and a full disk.

Registered with :func:`objlen.testing.redteam.attack` (this module is in
:data:`objlen.testing.redteam.ATTACK_MODULES`); the attacks themselves are
built by :mod:`objlen.testing.hostile`. Servers listen on 127.0.0.1 only;
every run is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

from objlen.testing.hostile import (
    corrupt_zip_entry,
    parallel_posts,
    png_bomb,
    run_measuring_memory,
    scene_png,
    seconds_until_cut,
    zip_of_pixel_bombs,
    zip_of_tiny_entries,
)
from objlen.testing.redteam import (
    ROOT,
    Outcome,
    attack,
    environment,
    one_line_error_outcome,
    run_cli,
)

SAMPLES = ROOT / "samples"
CARDS = ("card_rectangle.jpg", "card_ellipse.jpg", "card_blob_gradient.jpg")
SECRETS = ("AKIDUSERNAME", "pw-Sup3rSecret", "tok-Sup3rSecret")
AWS_DUMMY = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_MAX_ATTEMPTS": "1",
}


def _secret_url(port: int) -> str:
    user, password, token = SECRETS
    return f"http://{user}:{password}@127.0.0.1:{port}/?token={token}"


@contextlib.contextmanager
def _serving(**limits: float) -> Iterator[tuple[str, int]]:
    """The project's endpoint server on 127.0.0.1 with ``limits``; stopped after."""
    from objlen.sagemaker.local_endpoint import ServerLimits, make_server

    server = make_server(port=0, limits=ServerLimits(**limits)).start()
    try:
        host, port = server.server_address[:2]
        yield str(host), int(port)
    finally:
        server.stop()



# -- item 6: objlen serve ---------------------------------------------------------


@attack("objlen serve", "200 parallel valid POSTs", "every client answered (200 or 429)",
        timeout_s=120)  # fmt: skip
def _burst(folder: Path) -> Outcome:
    with _serving() as (host, port):
        outcomes = parallel_posts(host, port, scene_png(), clients=200, timeout_s=60)
    shown = ", ".join(f"{n} x {k}" for k, n in sorted(outcomes.items()))
    return Outcome(shown, sum(outcomes.values()) == 200 and set(outcomes) <= {"200", "429"})


@attack("objlen serve", "half-sent headers, then silence", "cut after the client timeout (1 s)")
def _half_headers(folder: Path) -> Outcome:
    with _serving(client_timeout_s=1.0) as (host, port):
        seconds = seconds_until_cut(host, port, b"POST /invocations HTTP/1.1\r\nContent-Le")
    return Outcome(f"cut after {seconds:.1f} s" if seconds else "still open", bool(seconds))


@attack("objlen serve", "a body shorter than its Content-Length", "cut after the client timeout")
def _short_body(folder: Path) -> Outcome:
    sent = b"POST /invocations HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100
    with _serving(client_timeout_s=1.0) as (host, port):
        seconds = seconds_until_cut(host, port, sent)
    return Outcome(f"cut after {seconds:.1f} s" if seconds else "still open", bool(seconds))


@attack("objlen serve", "headers trickled a byte every 0.3 s", "cut after the client timeout")
def _slow_loris(folder: Path) -> Outcome:
    with _serving(client_timeout_s=1.0) as (host, port):
        seconds = seconds_until_cut(host, port, b"POST / HTTP/1.1\r\nX: ", trickle_s=0.3)
    return Outcome(f"cut after {seconds:.1f} s" if seconds else "still open", bool(seconds))


@attack("objlen serve", "4 parallel 100 KB PNGs of 100 megapixels",
        "refused from the header; memory +<100 MB", timeout_s=90)  # fmt: skip
def _pixel_bombs(folder: Path) -> Outcome:
    process = subprocess.Popen(
        [sys.executable, "-m", "objlen", "serve", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        match = re.search(r"http://127\.0\.0\.1:(\d+)", process.stdout.readline())
        if match is None:
            return Outcome("the server did not start", False)
        port = int(match.group(1))
        parallel_posts("127.0.0.1", port, scene_png(), clients=1)
        before = _peak_mb(process.pid)
        outcomes = parallel_posts("127.0.0.1", port, png_bomb(10_000, 10_000), clients=4)
        grown = _peak_mb(process.pid) - before
    finally:
        process.terminate()
        process.wait(timeout=10)
    shown = ", ".join(f"{n} x {k}" for k, n in sorted(outcomes.items()))
    return Outcome(f"{shown}; peak memory +{grown:.0f} MB", outcomes == {"413": 4} and grown < 100)


def _peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else 0.0


@attack("objlen serve", "--latency inf", "one line, exit 2, at start")
def _latency_inf(folder: Path) -> Outcome:
    done = run_cli(["serve", "--port", "0", "--latency", "inf"], timeout_s=30)
    lines = done.stderr.strip().splitlines()
    clean = done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr
    return Outcome(done.summary(), clean)


# -- item 7: the batch ------------------------------------------------------------------


def _batch(*args: str, timeout_s: float = 120) -> object:
    return run_cli(["batch", *args, "--reference-size", "85.6x54", "--quiet"], timeout_s=timeout_s)


@attack("cli batch", "a zip of 20,000 tiny photos", "finished, in linear time", timeout_s=300)
def _many_entries(folder: Path) -> Outcome:
    archive = zip_of_tiny_entries(folder / "many.zip", 20_000)
    done = _batch(str(archive), "--out", str(folder / "out"), "--no-annotate", timeout_s=280)
    finished = "of 20000 photos measured" in done.stdout and "Traceback" not in done.stderr
    return Outcome(f"all 20,000 done in {done.seconds:.0f} s" if finished else done.summary(),
                   finished)  # fmt: skip


@attack("cli batch", "a 3 KB zip of four 64-megapixel PNGs, concurrency 4",
        "decoded one at a time (--max-memory-mb 1500)", timeout_s=120)  # fmt: skip
def _zip_bombs(folder: Path) -> Outcome:
    def peak(archive: Path, *extra: str) -> float:
        command = [sys.executable, "-m", "objlen", "batch", str(archive), "--out",
                   str(folder / archive.stem), "--reference-size", "85.6x54", "--quiet", *extra]
        return run_measuring_memory(command, cwd=ROOT)[1]  # fmt: skip

    base = peak(zip_of_tiny_entries(folder / "tiny.zip", 1))
    one = peak(zip_of_pixel_bombs(folder / "one.zip", entries=1, side=8000), "--concurrency", "1")
    four = peak(zip_of_pixel_bombs(folder / "four.zip", entries=4, side=8000),
                "--concurrency", "4", "--max-memory-mb", "1500")  # fmt: skip
    clean = four - base < 1.5 * (one - base) and four < base + 1500
    return Outcome(f"peak {four:.0f} MB (one alone {one:.0f} MB, idle {base:.0f} MB)", clean)


@attack("cli batch", "a zip entry with a bad CRC", "that photo fails in one line, no traceback")
def _bad_crc(folder: Path) -> Outcome:
    archive = folder / "cards.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for name in CARDS[:2]:
            zipped.write(SAMPLES / name, name)
    corrupt_zip_entry(archive, CARDS[1])
    done = _batch(str(archive), "--out", str(folder / "out"), "--no-annotate")
    failed = [line for line in done.stderr.splitlines() if line.startswith("objlen: failed:")]
    clean = (
        done.returncode == 1 and len(failed) == 1 and "CRC" in failed[0]
        and "Traceback" not in done.stderr
    )  # fmt: skip
    return Outcome(failed[0][-70:] if failed else done.summary(), clean)


@attack("cli batch", "--out is a file", "one line, exit 2")
def _out_file(folder: Path) -> Outcome:
    (folder / "a-file").write_text("x")
    return one_line_error_outcome(_batch(str(SAMPLES / CARDS[0]), "--out", str(folder / "a-file")))


@attack("cli batch", "--out /proc/objlen-x and --out /proc/self", "one line, exit 2 each")
def _out_proc(folder: Path) -> Outcome:
    photo = str(SAMPLES / CARDS[0])
    runs = [_batch(photo, "--out", out) for out in ("/proc/objlen-x", "/proc/self")]
    outcomes = [one_line_error_outcome(done) for done in runs]
    return Outcome(" | ".join(o.got for o in outcomes), all(o.clean for o in outcomes))


@attack("cli batch", "corrupted results.jsonl lines (bytes, no status, deep nesting)",
        "skipped with one warning each; the batch resumes")  # fmt: skip
def _bad_journal(folder: Path) -> Outcome:
    out = folder / "out"
    photo = str(SAMPLES / CARDS[0])
    first = _batch(photo, "--out", str(out), "--no-annotate")
    journal = out / "results.jsonl"
    bad = b'\xff\xfe\x00\n{"name": "x"}\n' + b"[" * 50_000 + b"]" * 50_000 + b"\n"
    journal.write_bytes(bad + journal.read_bytes())
    again = _batch(photo, "--out", str(out), "--no-annotate")
    warnings = again.stderr.strip().splitlines()
    clean = (
        first.returncode == 0 and again.returncode == 0 and len(warnings) == 3
        and "Traceback" not in again.stderr and "1 already done" in again.stdout
    )  # fmt: skip
    return Outcome(f"exit {again.returncode}, {len(warnings)} warning lines", clean)


@attack("cli batch", "the disk fills up (a 2 MiB tmpfs)", "one line; resumes once freed",
        timeout_s=120)  # fmt: skip
def _full_disk(folder: Path) -> Outcome:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return Outcome("not run: mounting a tmpfs needs root", False)
    disk = folder / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    try:
        out = disk / "out"
        photos = [str(SAMPLES / name) for name in CARDS]
        first = _batch(*photos[:1], "--out", str(out), "--no-annotate")
        filler = disk / "filler"
        with open(filler, "wb") as stream, contextlib.suppress(OSError):
            while True:
                stream.write(b"\0" * 65536)
                stream.flush()
        full = _batch(*photos, "--out", str(out), "--no-annotate")
        filler.unlink()
        freed = _batch(*photos, "--out", str(out), "--no-annotate")
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
    stopped = one_line_error_outcome(full)
    clean = first.returncode == 0 and stopped.clean and freed.returncode == 0 and (
        "3 of 3 photos measured" in freed.stdout
    )
    return Outcome(f"{stopped.got[:60]}; after freeing: {freed.stdout.strip()[:40]}", clean)


# -- items 3 and 4: the app, the launcher, secrets in URLs ----------------------------------


@attack("objlen app / make run", "--address 0.0.0.0 without a login", "refused in one line")
def _launcher(folder: Path) -> Outcome:
    secrets = folder / "secrets.toml"
    secrets.write_text("")
    done = run_cli(["app", "--address", "0.0.0.0", "--port", "8597", "--secrets", str(secrets)])
    return one_line_error_outcome(done)


def _app_test(page: str | None = None):
    from streamlit.testing.v1 import AppTest

    target = ROOT / ("app.py" if page is None else f"app_pages/{page}.py")
    return AppTest.from_file(str(target), default_timeout=60)


@attack("app", "served on 0.0.0.0 (streamlit run) without a login", "only the refusal shown")
def _app_beyond_loopback(folder: Path) -> Outcome:
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        with environment(OBJLEN_DATA_ROOT=str(folder), OBJLEN_DB=str(folder / "db.sqlite3")):
            at = _app_test().run()
    finally:
        config.set_option("server.address", before)
    refused = bool(at.error) and "not served" in at.error[0].value
    clean = refused and not at.button and not at.text_input and not at.exception
    return Outcome(at.error[0].value[:80] if at.error else "the app was served", clean)


@attack("app Batch page", "results folder /etc/objlen, ../x, a link out of the data root",
        "refused: outside the data root")  # fmt: skip
def _results_outside(folder: Path) -> Outcome:
    root = folder / "root"
    root.mkdir()
    os.symlink(folder, root / "escape")
    refused = []
    with environment(OBJLEN_DATA_ROOT=str(root), OBJLEN_DB=str(root / "db.sqlite3")):
        for given in ("/etc/objlen", "../x", "escape/x"):
            at = _app_test("batch").run()
            at.text_input(key="batch_out").set_value(given).run()
            refused.append(any("outside the data root" in e.value for e in at.error))
    clean = all(refused) and not (folder / "x").exists() and not Path("/etc/objlen").exists()
    return Outcome(f"{sum(refused)} of 3 refused", clean)


@attack("app Batch page", "input folders /etc and /proc/self/cwd", "refused: outside the data root")
def _inputs_outside(folder: Path) -> Outcome:
    with environment(OBJLEN_DATA_ROOT=str(folder), OBJLEN_DB=str(folder / "db.sqlite3")):
        at = _app_test("batch").run()
        at.radio(key="batch_source").set_value("location").run()
        at.text_area(key="batch_locations").input("/etc\n/proc/self/cwd").run()
    refused = any("outside the data root" in e.value for e in at.error)
    return Outcome("refused" if refused else "accepted", refused and not at.exception)


@attack("app Settings", "endpoint URL with user:password and ?token=",
        "shown redacted; not editable")  # fmt: skip
def _settings_url(folder: Path) -> Outcome:
    url = _secret_url(9)
    with environment(OBJLEN_ENDPOINT_URL=url, OBJLEN_DATA_ROOT=str(folder)):
        at = _app_test("settings").run()
    shown = "\n".join(
        [str(w.value) for w in at.text_input] + [str(t.value) for t in at.table]
    )
    editable = [w.label for w in at.text_input if not w.disabled and "URL" in w.label]
    leaked = [s for s in SECRETS if s in shown]
    clean = not leaked and not editable and "***@127.0.0.1:9" in shown
    return Outcome(f"leaked {leaked}, editable {editable}" if not clean else "redacted", clean)


@attack("app Settings", "Test connection to a secret URL (nothing listening)",
        "the error names the host, no secret")  # fmt: skip
def _test_connection(folder: Path) -> Outcome:
    with environment(
        OBJLEN_ENDPOINT="seg", OBJLEN_REGION="us-east-1", OBJLEN_ENDPOINT_URL=_secret_url(9),
        OBJLEN_DATA_ROOT=str(folder), **AWS_DUMMY,
    ):  # fmt: skip
        at = _app_test("settings").run()
        at.button(key="settings_test").click().run()
    errors = [e.value for e in at.error]
    leaked = [s for s in SECRETS if any(s in e for e in errors)]
    clean = len(errors) == 1 and not leaked and "127.0.0.1" in errors[0]
    return Outcome(errors[0][:80] if errors else "no error shown", clean)


@attack("cli measure / batch", "endpoint URL with user:password and ?token=, server answers 500",
        "no secret in the error or results.*", timeout_s=120)  # fmt: skip
def _cli_secret_url(folder: Path) -> Outcome:
    from objlen.sagemaker.local_endpoint import make_server

    server = make_server(port=0).start()
    server.faults.add("internal", times=20)  # every call answers 500 InternalFailure
    try:
        segmenter = ["--segmenter", "sagemaker", "--endpoint", "seg", "--region", "us-east-1",
                     "--endpoint-url", _secret_url(server.server_address[1])]  # fmt: skip
        measured = run_cli(["measure", str(SAMPLES / CARDS[0]), "--reference-size", "85.6x54",
                            *segmenter], env=AWS_DUMMY)  # fmt: skip
        batch = run_cli(["batch", str(SAMPLES / CARDS[0]), "--out", str(folder / "out"),
                         "--reference-size", "85.6x54", "--quiet", *segmenter],
                        env=AWS_DUMMY)  # fmt: skip
    finally:
        server.stop()
    written = "".join(p.read_text() for p in (folder / "out").glob("results.*"))
    everything = measured.stderr + measured.stdout + batch.stderr + batch.stdout + written
    leaked = [s for s in SECRETS if s in everything]
    clean = not leaked and measured.returncode == 2 and batch.returncode == 1
    return Outcome(f"leaked {leaked}" if leaked else measured.summary()[:80], clean)


__all__: list[str] = []
