"""Batches on a real Dask cluster: a scheduler and two workers over TCP on loopback.

The test starts ``dask scheduler`` and two ``dask worker`` processes (no
nanny, so that a killed worker stays dead), runs batches against them with
the real local segmenter wrapped to log every call into a file shared by the
workers (:mod:`tests.batch.dask_helpers`), and stops them at the end. Every
wait is bounded.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from objlen import MeasureOptions, ReferenceSpec
from objlen.batch.results import RESULTS_CSV, RESULTS_JSONL
from objlen.batch.runner import run_batch
from objlen.cli.batch import main as cli_main
from objlen.errors import ParameterError
from objlen.imageio import encode_jpeg
from objlen.testing.synthetic import Camera, random_scene
from tests.batch.dask_helpers import LoggingFactory, logged_calls

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)))
PHOTOS = 16
STARTUP_S = 90.0
LOOPBACK = ("--host", "127.0.0.1", "--no-dashboard")


@dataclass
class Cluster:
    """A running scheduler and its workers (processes this test started)."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {seconds:.0f} s")
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _worker_count(address: str) -> int:
    from distributed import Client

    with Client(address, timeout=10) as client:
        return len(client.scheduler_info(n_workers=-1)["workers"])


@pytest.fixture
def cluster(tmp_path):
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler_file = tmp_path / "scheduler.json"
    logs = tmp_path / "cluster-logs"
    logs.mkdir()
    scheduler = subprocess.Popen(
        [*dask, *LOOPBACK, "--port", "0", "--scheduler-file", str(scheduler_file)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(logs / "scheduler.log", "wb"),  # noqa: SIM115 - the process holds it
    )
    processes = [scheduler]
    try:
        _wait(scheduler_file.exists, STARTUP_S, "the scheduler did not start")
        _wait(lambda: scheduler_file.read_text().strip().endswith("}"), 10, "no scheduler file")
        address = json.loads(scheduler_file.read_text())["address"]
        workers = []
        for index in range(2):
            worker = subprocess.Popen(
                [
                    *(sys.executable, "-m", "distributed.cli.dask_worker", address, *LOOPBACK),
                    *("--nthreads", "2", "--no-nanny", "--name", f"w{index}"),
                    *("--local-directory", str(tmp_path / f"w{index}")),
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=open(logs / f"w{index}.log", "wb"),  # noqa: SIM115
            )
            workers.append(worker)
            processes.append(worker)
        _wait(lambda: _worker_count(address) == 2, STARTUP_S, "two workers did not join")
        yield Cluster(address, scheduler, workers)
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """16 rendered 640 x 480 photos of a card and an object."""
    folder = tmp_path_factory.mktemp("dask-photos")
    camera = Camera(width=640, height=480, focal_px=680.0)
    for index in range(PHOTOS):
        scene = random_scene(
            np.random.default_rng(500 + index),
            shape=("rectangle", "ellipse", "blob")[index % 3],
            tilt_deg=0.0,
            mask_noise_px=0.0,
            camera=camera,
        )
        (folder / f"{index:02d}.jpg").write_bytes(encode_jpeg(scene.image, quality=95))
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def journaled(out: Path) -> list[str]:
    path = out / RESULTS_JSONL
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line)["name"] for line in text[: text.rfind("\n") + 1].splitlines()]


def test_a_batch_on_the_cluster_matches_the_threads_and_resumes(cluster, photo_folder, tmp_path):
    log = tmp_path / "calls.log"
    factory = LoggingFactory(str(log))
    here = run_batch(
        [photo_folder], tmp_path / "threads", options=OPTIONS, segmenter_factory=factory
    )
    calls_here = len(logged_calls(log))
    report = run_batch(
        [photo_folder],
        tmp_path / "dask",
        options=OPTIONS,
        segmenter_factory=factory,
        scheduler=cluster.address,
    )
    assert report.ok == PHOTOS and report.failed == 0 and report.processed == PHOTOS
    on_cluster = logged_calls(log)[calls_here:]
    assert sorted(on_cluster) == sorted(logged_calls(log)[:calls_here])  # each photo once
    pids = {line.split()[0] for line in log.read_text().splitlines()[calls_here:]}
    assert len(pids) == 2 and str(os.getpid()) not in pids  # both workers, not this process
    # The same numbers as in this process's threads, and the annotated pictures here.
    threads = {row["name"]: row for row in read_csv(here.results_csv)}
    for row in read_csv(report.results_csv):
        assert row["width"] == threads[row["name"]]["width"]
        assert row["height"] == threads[row["name"]]["height"]
        assert (tmp_path / "dask" / row["annotated"]).exists()
    # Run again: nothing is sent to the cluster.
    again = run_batch(
        [photo_folder],
        tmp_path / "dask",
        options=OPTIONS,
        segmenter_factory=factory,
        scheduler=cluster.address,
    )
    assert again.resumed == PHOTOS and again.processed == 0
    assert len(logged_calls(log)) == calls_here + PHOTOS


def test_a_worker_killed_mid_batch_loses_nothing(cluster, photo_folder, tmp_path):
    log = tmp_path / "calls.log"
    out = tmp_path / "out"
    # Slow photos (0.5 s each): the kill lands while the workers hold some.
    factory = LoggingFactory(str(log), delay_s=0.5)
    outcome: dict[str, object] = {}

    def batch() -> None:
        try:
            outcome["report"] = run_batch(
                [photo_folder],
                out,
                options=OPTIONS,
                segmenter_factory=factory,
                scheduler=cluster.address,
                concurrency=4,
            )
        except BaseException as error:  # reported by the assertion below
            outcome["error"] = error

    runner = threading.Thread(target=batch)
    runner.start()
    _wait(lambda: len(journaled(out)) >= 4, 120, "no photo was journaled")
    victim = cluster.workers[0]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=15)
    runner.join(timeout=300)
    assert not runner.is_alive(), "the batch did not finish after a worker died"
    assert "error" not in outcome, outcome.get("error")
    report = outcome["report"]
    assert report.ok == PHOTOS and report.failed == 0
    names = [row["name"] for row in read_csv(out / RESULTS_CSV)]
    assert len(names) == len(set(names)) == PHOTOS  # nothing lost, nothing twice
    assert sorted(journaled(out)) == sorted(names)
    # Segmented again: at most what the dead worker held (2 threads).
    calls = Counter(logged_calls(log))
    assert len(calls) == PHOTOS
    assert sum(calls.values()) - PHOTOS <= 2
    assert _worker_count(cluster.address) == 1


def test_the_command_line_runs_a_batch_on_the_cluster(cluster, photo_folder, tmp_path, capsys):
    status = cli_main(
        [
            *("batch", str(photo_folder), "--out", str(tmp_path / "cli")),
            *("--reference-size", "85.6x54", "--scheduler", cluster.address, "--quiet"),
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert f"{PHOTOS} of {PHOTOS} photos measured" in capsys.readouterr().out


@pytest.mark.parametrize("address", ["localhost:8786", "tcp://", "http://127.0.0.1:8786"])
def test_a_bad_scheduler_address_is_one_line(address, photo_folder, tmp_path, capsys):
    status = cli_main(
        [
            *("batch", str(photo_folder), "--out", str(tmp_path / "x")),
            *("--reference-size", "85.6x54", "--scheduler", address),
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert "tcp://HOST:PORT" in err and "Traceback" not in err


def test_an_unreachable_scheduler_is_an_operator_message(photo_folder, tmp_path):
    with pytest.raises(ParameterError, match="cannot reach the Dask scheduler"):
        run_batch(
            [photo_folder],
            tmp_path / "y",
            options=OPTIONS,
            segmenter_factory=LoggingFactory(str(tmp_path / "l")),
            scheduler="tcp://127.0.0.1:9",
        )


def test_local_worker_processes_measure_like_threads(photo_folder, tmp_path):
    log = tmp_path / "calls.log"
    factory = LoggingFactory(str(log))
    here = run_batch(
        [photo_folder], tmp_path / "threads", options=OPTIONS, segmenter_factory=factory
    )
    calls_here = len(logged_calls(log))
    report = run_batch(
        [photo_folder], tmp_path / "procs", options=OPTIONS, segmenter_factory=factory, processes=2
    )
    assert report.ok == PHOTOS and report.processed == PHOTOS
    pids = {line.split()[0] for line in log.read_text().splitlines()[calls_here:]}
    assert str(os.getpid()) not in pids and 1 <= len(pids) <= 2  # in the worker processes
    threads = {row["name"]: row for row in read_csv(here.results_csv)}
    for row in read_csv(report.results_csv):
        assert (row["width"], row["height"]) == (
            threads[row["name"]]["width"],
            threads[row["name"]]["height"],
        )


def test_a_bad_photo_in_worker_processes_is_one_line_without_a_traceback(photo_folder, tmp_path):
    # Raised on a worker, a photo's failure was logged by Dask as "Compute
    # Failed" with its traceback, once per bad photo, on the operator's terminal.
    folder = tmp_path / "photos"
    shutil.copytree(photo_folder, folder)  # the module's folder stays as it is
    (folder / "notes.jpg").write_text("not a photo")
    done = subprocess.run(
        [sys.executable, "-m", "objlen", "batch", str(folder), "--out",
         str(tmp_path / "out"), "--reference-size", "85.6x54", "--processes", "1",
         "--no-annotate", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Compute Failed" not in done.stderr
    assert done.stderr.splitlines() == [
        f"objlen: failed: {folder / 'notes.jpg'}: not an image objlen can read "
        "(JPEG, PNG, TIFF, WebP, BMP, HEIC)"
    ]
    assert f"{PHOTOS} of {PHOTOS + 1} photos measured, 1 failed" in done.stdout
