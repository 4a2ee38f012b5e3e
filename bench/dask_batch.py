"""Batch throughput on a Dask cluster with one and with two workers (loopback).

Starts ``dask scheduler`` and N ``dask worker`` processes (one thread each,
OpenCV and BLAS held to one thread, so that a worker uses one core as it
would on a one-core machine) on 127.0.0.1 — the same commands as on separate
machines — and runs
:func:`objlen.batch.runner.run_batch` with ``scheduler=...`` over rendered
photos with the local segmenter (CPU-bound work, so more workers should
mean more photos per second, up to the machine's cores). For comparison, the
same batch in the batch's own threads. The photos are rendered once into the
temp folder (``random_scene``, 1600 x 1200, JPEG 92).

    .venv/bin/python bench/dask_batch.py [--count 48] [--concurrency 8]

Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from objlen import MeasureOptions, ReferenceSpec
from objlen.batch.photo import segmenter_factory_for
from objlen.batch.runner import run_batch
from objlen.imageio import encode_jpeg

OPTIONS = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)))
SIZE = (1600, 1200)


def photos(count: int, cache: Path) -> Path:
    """``count`` rendered photos of a card and an object (cached)."""
    from objlen.testing.synthetic import Camera, random_scene

    folder = cache / f"{SIZE[0]}x{SIZE[1]}"
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        path = folder / f"{index:04d}.jpg"
        if not path.exists():
            scene = random_scene(
                np.random.default_rng(9000 + index),
                shape=("rectangle", "ellipse", "blob")[index % 3],
                tilt_deg=0.0,
                mask_noise_px=0.0,
                camera=Camera(width=SIZE[0], height=SIZE[1], focal_px=1700.0),
            )
            path.write_bytes(encode_jpeg(scene.image, quality=92))
    return folder


class Cluster:
    """``dask scheduler`` and ``workers`` one-thread ``dask worker`` processes."""

    def __init__(self, workers: int, folder: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        # One core per worker: OpenCV and BLAS would otherwise spread one
        # worker's work over every core of this machine.
        env |= {"OPENCV_FOR_THREADS_NUM": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        scheduler_file = folder / "scheduler.json"
        loopback = ["--host", "127.0.0.1", "--no-dashboard"]
        self.processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_scheduler",
                    *loopback,
                    "--port",
                    "0",
                    "--scheduler-file",
                    str(scheduler_file),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        ]
        deadline = time.monotonic() + 60
        while not (scheduler_file.exists() and scheduler_file.read_text().strip().endswith("}")):
            if time.monotonic() > deadline:
                raise TimeoutError("the scheduler did not start")
            time.sleep(0.1)
        self.address = json.loads(scheduler_file.read_text())["address"]
        for index in range(workers):
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "distributed.cli.dask_worker",
                        self.address,
                        *loopback,
                        "--nthreads",
                        "1",
                        "--name",
                        f"w{index}",
                        "--local-directory",
                        str(folder / f"w{index}"),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def timed_batch(source: Path, out: Path, concurrency: int, scheduler: str | None) -> float:
    """Photos per second of one batch (the output folder starts empty)."""
    shutil.rmtree(out, ignore_errors=True)
    factory = segmenter_factory_for("local", classes=OPTIONS.classes, reference=OPTIONS.reference)
    started = time.perf_counter()
    report = run_batch(
        [source],
        out,
        options=OPTIONS,
        segmenter_factory=factory,
        concurrency=concurrency,
        scheduler=scheduler,
    )
    elapsed = time.perf_counter() - started
    assert report.ok == report.total, report.failures[:3]
    return report.total / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "objlen-bench-dask"
    )
    args = parser.parse_args(argv)
    source = photos(args.count, args.cache)
    work = Path(tempfile.mkdtemp(prefix="objlen-bench-dask-run-"))
    try:
        print(
            f"{args.count} photos of {SIZE[0]} x {SIZE[1]}, local segmenter, concurrency "
            f"{args.concurrency}, {os.cpu_count()} core(s)\n"
        )
        print("| where the photos' work runs | photos/s |")
        print("|---|---|")
        rate = timed_batch(source, work / "threads", args.concurrency, None)
        print(f"| the batch's own threads | {rate:.2f} |", flush=True)
        for workers in (1, 2):
            cluster = Cluster(workers, work)
            try:
                rate = timed_batch(
                    source, work / f"dask{workers}", args.concurrency, cluster.address
                )
            finally:
                cluster.stop()
            print(
                f"| Dask, {workers} worker(s) of one core (tcp, loopback) | {rate:.2f} |",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
