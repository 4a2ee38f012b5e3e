"""Batch throughput, memory and kill-and-resume against the local endpoint.

200 twelve-megapixel photos (4000 x 3000, rendered once by
``objlen.testing.synthetic.random_scene`` with ``Camera(4000, 3000, focal_px=4250)``
and ``supersample=2``, cached in the temp folder) go through
:func:`objlen.batch.runner.run_batch` with the SageMaker backend against the local
SageMaker-compatible endpoint (``objlen.sagemaker.local_endpoint``) with a simulated model time
of 300 ms. The endpoint runs in its own process; its "model" returns the
photo's precomputed true mask (found by a 32 x 24 thumbnail of the photo
decoded at 1/8 of its size, answered as PNG bytes encoded once and kept),
because the point is the batch's throughput, not a model's: like a SageMaker
endpoint on other machines, it should cost the client's cores little. The client does everything a
real batch does: read, hash, decode, send as JPEG, decode the mask, measure,
draw and write the annotated picture (JPEG, the default), journal.

Prints, asserting nothing:

* throughput against the ideal ``concurrency / latency`` (goal >= 50 % at
  12 MP, concurrency 8), in the batch's threads (with annotated JPEGs, the
  default; with annotated PNGs, ``annotate_format="png"``; without annotated
  pictures) and then in ``--processes``
  local worker processes (:mod:`objlen.batch.distributed`), with the CPU
  seconds per photo of the batch (its own process and its workers) and of the
  endpoint, and the ceiling the machine's cores allow;
* the same on 800 x 600 copies of the photos, where the CPU is not the limit;
* peak memory (``ru_maxrss``) of the client against one decoded photo;
* kill-and-resume: a batch in a subprocess is SIGKILLed half-way and run
  again; every photo must appear exactly once, and the endpoint's call count
  shows how many were sent twice (at most the ones in flight).

    .venv/bin/python bench/batch.py [--count 200] [--concurrency 8] [--latency 0.3] [--processes 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from objlen import MeasureOptions, ReferenceSpec
from objlen.batch.allocator import reuse_freed_buffers
from objlen.batch.results import RESULTS_CSV, RESULTS_JSONL
from objlen.batch.runner import run_batch
from objlen.classes import ClassIds
from objlen.imageio import encode_jpeg, encode_png, load_mask
from objlen.segment.base import Segmentation
from objlen.segment.sagemaker import SageMakerSegmenter, SageMakerSettings

ENDPOINT = "bench-batch"
REGION = "us-east-1"
SIZE = (4000, 3000)
SMALL = (800, 600)
SHAPES = ("rectangle", "ellipse", "blob")
THUMB = (32, 24)
OPTIONS = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)))


# ---------------------------------------------------------------- the photos
def _render(index: int, folder: str) -> None:
    """Render photo ``index`` into ``folder`` (JPEG, true mask, truth, thumbnail)."""
    from objlen.testing.synthetic import Camera, random_scene

    out = Path(folder)
    if (out / f"{index:04d}.json").exists():
        return
    scene = random_scene(
        np.random.default_rng(7000 + index),
        shape=SHAPES[index % len(SHAPES)],
        tilt_deg=0.0,
        mask_noise_px=0.0,
        camera=Camera(width=SIZE[0], height=SIZE[1], focal_px=4250.0),
        supersample=2,
    )
    (out / f"{index:04d}.jpg").write_bytes(encode_jpeg(scene.image, quality=92))
    (out / "masks" / f"{index:04d}.png").write_bytes(encode_png(scene.mask))
    width, height = scene.object_size_mm()
    (out / f"{index:04d}.json").write_text(json.dumps({"width": width, "height": height}))


def photos(count: int, cache: Path) -> Path:
    """The cached 12 MP photos 0..count-1 (rendered in worker processes if missing)."""
    folder = cache / f"{SIZE[0]}x{SIZE[1]}"
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(count) if not (folder / f"{i:04d}.json").exists()]
    if missing:
        print(f"rendering {len(missing)} photos of {SIZE[0]}x{SIZE[1]} into {folder} (once)…")
        start = time.perf_counter()
        with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(_render, missing, [str(folder)] * len(missing)))
        print(f"  done in {time.perf_counter() - start:.0f} s")
    stored_answers(folder, count)
    return folder


def stored_answers(folder: Path, count: int) -> None:
    """Each mask's answer as the endpoint encodes it (:func:`encode_index_png`),
    kept under ``answers/`` (once), for :meth:`Precomputed.mask_png`."""
    from objlen.sagemaker.local_endpoint import encode_index_png

    (folder / "answers").mkdir(exist_ok=True)
    for index in range(count):
        answer = folder / "answers" / f"{index:04d}.png"
        if not answer.exists():
            mask = load_mask(folder / "masks" / f"{index:04d}.png")[0]
            answer.write_bytes(encode_index_png(mask))


def small_copies(folder: Path, count: int, cache: Path) -> Path:
    """800 x 600 copies of the photos and masks (for the CPU-light control run)."""
    small = cache / f"{SMALL[0]}x{SMALL[1]}"
    (small / "masks").mkdir(parents=True, exist_ok=True)
    for index in range(count):
        if (small / f"{index:04d}.json").exists():
            continue
        image = cv2.imread(str(folder / f"{index:04d}.jpg"))
        image = cv2.resize(image, SMALL, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(small / f"{index:04d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        mask = load_mask(folder / "masks" / f"{index:04d}.png")[0]
        mask = cv2.resize(mask, SMALL, interpolation=cv2.INTER_NEAREST)
        (small / "masks" / f"{index:04d}.png").write_bytes(encode_png(mask))
        shutil.copy(folder / f"{index:04d}.json", small / f"{index:04d}.json")
    stored_answers(small, count)
    return small


def batch_folder(source: Path, count: int, work: Path) -> Path:
    """A folder holding (links to) the first ``count`` photos of ``source``."""
    folder = work / f"input-{source.name}-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        link = folder / f"{index:04d}.jpg"
        if not link.exists():
            link.symlink_to(source / f"{index:04d}.jpg")
    return folder


# -------------------------------------------------------------- the endpoint
def _thumbnail(reduced_bgr: np.ndarray) -> np.ndarray:
    """The 32 x 24 float RGB thumbnail of a photo decoded at 1/8 of its size."""
    return cv2.resize(reduced_bgr[:, :, ::-1], THUMB, interpolation=cv2.INTER_AREA).astype(
        np.float32
    )


class Precomputed:
    """A stand-in model: the true mask of the cached photo whose thumbnail is
    nearest (the photos differ enough for this to be exact; the accuracy
    figure checks it).

    As a stand-in for a model that runs on other machines, it costs as little
    as it can: :meth:`mask_png` finds the photo from a copy libjpeg decodes at
    1/8 of its size and answers the mask's PNG kept encoded
    (:func:`stored_answers`), the bytes the endpoint would encode from the mask.
    """

    name = "precomputed"

    def __init__(self, folder: Path) -> None:
        self.paths = sorted((folder / "masks").glob("*.png"))
        self.answers = [folder / "answers" / p.name for p in self.paths]
        self.thumbs = np.stack(
            [
                _thumbnail(cv2.imread(str(folder / f"{p.stem}.jpg"), cv2.IMREAD_REDUCED_COLOR_8))
                for p in self.paths
            ]
        )

    def _nearest(self, thumbnail: np.ndarray) -> int:
        return int(((self.thumbs - thumbnail) ** 2).sum(axis=(1, 2, 3)).argmin())

    def mask_png(self, body: bytes) -> bytes | None:
        """The stored answer for the photo ``body`` (a JPEG); ``None`` when
        libjpeg cannot decode it or no answer is stored."""
        reduced = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_REDUCED_COLOR_8)
        if reduced is None:
            return None
        answer = self.answers[self._nearest(_thumbnail(reduced))]
        return answer.read_bytes() if answer.exists() else None

    def segment(self, image_rgb: np.ndarray) -> Segmentation:
        """The nearest photo's mask, for an ``(H, W, 3)`` RGB photo (decoded by the endpoint)."""
        small = cv2.resize(
            image_rgb,
            (-(-image_rgb.shape[1] // 8), -(-image_rgb.shape[0] // 8)),
            interpolation=cv2.INTER_AREA,
        )
        index = self._nearest(_thumbnail(small[:, :, ::-1]))
        return Segmentation(mask=load_mask(self.paths[index])[0], backend=self.name)


def serve(folder: Path, latency_s: float) -> None:
    """Run the endpoint until SIGTERM; print its URL, then its call count and CPU."""
    from objlen.sagemaker.local_endpoint import make_server

    server = make_server(Precomputed(folder), latency_s=latency_s, endpoint_names=[ENDPOINT])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    server.start()
    ready = _cpu_self()
    print(f"URL {server.url}", flush=True)
    while not stop:
        time.sleep(0.05)
    server.stop()
    calls = sum(1 for item in server.log.items() if item.status == 200)
    print(f"CALLS {calls} CPU {_cpu_self() - ready:.2f} START {ready:.2f}", flush=True)


class Endpoint:
    """The endpoint process (``bench/batch.py --serve``)."""

    def __init__(self, folder: Path, latency_s: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(folder), "--latency", str(latency_s)],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("URL "):
            raise RuntimeError(f"the endpoint did not start: {line!r}")
        self.url = line.split()[1]

    def stop(self) -> tuple[int, float, float]:
        """Stop it; return ``(successful calls, CPU seconds serving, CPU seconds
        starting)`` (its start: imports, the thumbnails of the cached photos)."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        _, calls, _, cpu, _, start = out.split()
        return int(calls), float(cpu), float(start)


def local_credentials() -> None:
    """Dummy credentials for the local endpoint (it checks none); never real ones."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="local-bench",
        AWS_SECRET_ACCESS_KEY="local-bench",
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
    )


def factory_for(url: str):
    settings = SageMakerSettings(
        endpoint_name=ENDPOINT, region=REGION, endpoint_url=url, timeout_s=60.0
    )
    return lambda: SageMakerSegmenter(settings, ClassIds())


# ------------------------------------------------------------------ the runs
def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_children() -> float:
    """CPU of the finished child processes (the endpoint, local Dask workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def throughput(
    source: Path,
    count: int,
    concurrency: int,
    latency_s: float,
    work: Path,
    label: str,
    annotate: bool = True,
    processes: int | None = None,
    annotate_format: str = "jpeg",
) -> None:
    inputs = batch_folder(source, count, work)
    load = os.getloadavg()[0]  # what other programs were doing, for the report
    out = work / f"out-{label}-{annotate}-{annotate_format}-{processes}"
    shutil.rmtree(out, ignore_errors=True)
    children_before = _cpu_children()
    endpoint = Endpoint(source, latency_s)
    try:
        cpu_before, start = _cpu_self(), time.perf_counter()
        finished: list[float] = []  # when each photo was done
        report = run_batch(
            [inputs],
            out,
            options=OPTIONS,
            segmenter_factory=factory_for(endpoint.url),
            concurrency=concurrency,
            annotate=annotate,
            annotate_format=annotate_format,
            processes=processes,
            progress=lambda state: finished.append(time.perf_counter()) if state.done else None,
        )
        elapsed, client_cpu = time.perf_counter() - start, _cpu_self() - cpu_before
    finally:
        calls, server_cpu, server_start_cpu = endpoint.stop()
    # The local cluster's workers are this process's children; so is the endpoint.
    workers_cpu = max(0.0, _cpu_children() - children_before - server_cpu - server_start_cpu)
    batch_cpu = client_cpu + workers_cpu
    rate, ideal = count / elapsed, concurrency / latency_s
    cores = os.cpu_count() or 1
    within = _accuracy(out, source)
    where = f"{processes} worker processes" if processes else "threads"
    print(
        f"\n{label}: {count} photos of {_size_of(source)}, concurrency {concurrency}, "
        f"model time {latency_s * 1000:.0f} ms, {where}"
        + (f", annotated {annotate_format.upper()}s" if annotate else ", no annotated pictures")
    )
    print(
        f"  {report.ok} ok, {report.failed} failed, {calls} endpoint calls, {elapsed:.1f} s "
        f"(load average {load:.1f} before)"
    )
    for name, message in report.failures[:3]:
        print(f"  failed: {name}: {message}")
    print(
        f"  throughput {rate:.2f} photos/s; ideal {ideal:.2f} photos/s -> {rate / ideal:.0%} "
        "of ideal (goal >= 50 % at 12 MP)"
    )
    # Past the first answers (which all come at once) and before the last ones
    # (when fewer photos than the concurrency are left): the steady state.
    middle = finished[concurrency : len(finished) - concurrency]
    if len(middle) > concurrency:
        steady = (len(middle) - 1) / (middle[-1] - middle[0])
        print(
            f"  first photo done after {finished[0] - start:.2f} s; photos {concurrency + 2}-"
            f"{len(finished) - concurrency}: {steady:.2f} photos/s -> {steady / ideal:.0%} "
            "of ideal"
        )
    print(
        f"  CPU s per photo: batch {batch_cpu / count:.3f} (this process "
        f"{client_cpu / count:.3f} + workers {workers_cpu / count:.3f}), endpoint "
        f"{server_cpu / count:.3f} (and {server_start_cpu:.1f} s to start); {cores} core(s) "
        "allow at most "
        f"{cores / (batch_cpu / count + server_cpu / count):.2f} photos/s with the endpoint "
        f"on the same cores, {cores / (batch_cpu / count):.2f} without"
    )
    print(f"  accuracy: {within:.0%} of widths and heights within 1 % of the truth")


def _size_of(folder: Path) -> str:
    return folder.name.replace("x", " x ")


def _accuracy(out: Path, source: Path) -> float:
    good = total = 0
    with open(out / RESULTS_CSV, newline="") as stream:
        for row in csv.DictReader(stream):
            if row["status"] != "ok":
                continue
            truth = json.loads((source / f"{Path(row['name']).stem}.json").read_text())
            for key in ("width", "height"):
                total += 1
                good += abs(float(row[key]) / truth[key] - 1) <= 0.01
    return good / total if total else 0.0


def memory(source: Path, count: int, concurrency: int, latency_s: float, work: Path) -> None:
    """Peak RSS of the runs so far, and the traced (Python + NumPy) peak of a
    short run under tracemalloc."""
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    photo_mb = SIZE[0] * SIZE[1] * 3 / 2**20
    traced = min(count, 3 * concurrency)
    inputs = batch_folder(source, traced, work)
    endpoint = Endpoint(source, latency_s)
    try:
        tracemalloc.start()
        run_batch(
            [inputs],
            work / "out-memory",
            options=OPTIONS,
            segmenter_factory=factory_for(endpoint.url),
            concurrency=concurrency,
        )
        traced_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    finally:
        endpoint.stop()
    print(f"\nmemory (12 MP, concurrency {concurrency}): one decoded photo is {photo_mb:.0f} MB")
    print(
        f"  traced peak (tracemalloc: Python objects and NumPy arrays) over {traced} photos: "
        f"{traced_peak_mb:.0f} MB = {traced_peak_mb / photo_mb:.1f} decoded photos"
    )
    print(
        f"  peak RSS of the client process (ru_maxrss, incl. allocator slack and libraries): "
        f"{peak_rss_mb:.0f} MB; all {count} photos decoded at once would be "
        f"{count * photo_mb / 1024:.1f} GB"
    )


def client(inputs: str, out: str, url: str, concurrency: int) -> None:
    """The batch of the kill test (``bench/batch.py --client``)."""
    run_batch(
        [inputs], out, options=OPTIONS, segmenter_factory=factory_for(url), concurrency=concurrency
    )


def _journaled(path: Path) -> list[str]:
    if not path.exists():
        return []
    data = path.read_bytes()
    data = data[: data.rfind(b"\n") + 1]
    return [json.loads(line)["name"] for line in data.splitlines() if line.strip()]


def kill_and_resume(
    source: Path, count: int, concurrency: int, latency_s: float, work: Path
) -> None:
    inputs = batch_folder(source, count, work)
    out = work / "out-kill"
    shutil.rmtree(out, ignore_errors=True)
    endpoint = Endpoint(source, latency_s)
    try:
        command = [
            sys.executable,
            __file__,
            "--client",
            str(inputs),
            str(out),
            endpoint.url,
            "--concurrency",
            str(concurrency),
        ]
        process = subprocess.Popen(command)
        while len(_journaled(out / RESULTS_JSONL)) < count // 2:
            if process.poll() is not None:
                raise RuntimeError("the batch ended before it could be killed")
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = _journaled(out / RESULTS_JSONL)
        report = run_batch(
            [inputs],
            out,
            options=OPTIONS,
            segmenter_factory=factory_for(endpoint.url),
            concurrency=concurrency,
        )
    finally:
        calls = endpoint.stop()[0]
    with open(out / RESULTS_CSV, newline="") as stream:
        names = [row["name"] for row in csv.DictReader(stream)]
    lines = _journaled(out / RESULTS_JSONL)
    once = len(names) == len(set(names)) == count and sorted(lines) == sorted(names)
    print(f"\nkill and resume: {count} photos, killed after {len(before)} were journaled")
    print(
        f"  restart: {report.resumed} skipped as done, {report.processed} processed, "
        f"{report.ok} ok, {report.failed} failed"
    )
    print(f"  every photo exactly once in results.csv and results.jsonl: {'yes' if once else 'NO'}")
    print(
        f"  endpoint calls {calls} for {count} photos: {calls - count} sent twice "
        f"(in flight at the kill; at most {concurrency} expected)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="photos (default 200)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.3, help="model time, s")
    parser.add_argument("--small-count", type=int, default=200, help="800 x 600 photos")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes of the second 12 MP run (default: the cores)",
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "objlen-bench-batch"
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.latency)
        return 0
    reuse_freed_buffers()  # as the batch command does: this process runs batches
    if args.client:
        client(*args.client, args.concurrency)
        return 0
    local_credentials()
    source = photos(args.count, args.cache)
    small = small_copies(source, min(args.small_count, args.count), args.cache)
    work = Path(tempfile.mkdtemp(prefix="objlen-bench-batch-run-"))
    try:
        print(
            "The endpoint's model returns the precomputed true mask of each photo "
            "(a stand-in for a real model, for a throughput benchmark), after a simulated "
            f"model time of {args.latency * 1000:.0f} ms."
        )
        # Annotated JPEGs (the default), annotated PNGs, none, worker processes.
        for variant in (
            {},
            {"annotate_format": "png"},
            {"annotate": False},
            {"processes": args.processes},
        ):
            throughput(source, args.count, args.concurrency, args.latency, work, "12 MP", **variant)
        memory(source, args.count, args.concurrency, args.latency, work)
        small_count = min(args.small_count, args.count)
        throughput(small, small_count, args.concurrency, args.latency, work, "0.5 MP")
        throughput(
            small, small_count, args.concurrency, args.latency, work, "0.5 MP", annotate=False
        )
        kill_and_resume(source, args.count, args.concurrency, args.latency, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
