"""Batch runs on the bundled samples with the real local segmenter.

Segmenter calls are counted by a wrapper around the real segmenter; the
kill test runs the batch in a subprocess, SIGKILLs it half-way and restarts.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from objlen import MeasureOptions, ReferenceSpec
from objlen.batch.inputs import BatchError, BatchInput, expand_inputs
from objlen.batch.journal import Journal
from objlen.batch.results import RESULTS_CSV, RESULTS_JSONL
from objlen.batch.runner import run_batch
from objlen.cli.batch import main as cli_main
from objlen.imageio import encode_jpeg, load_image
from objlen.segment.local import LocalSegmenter

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
TRUTH = {s["name"]: s for s in json.loads((SAMPLES / "ground_truth.json").read_text())["samples"]}
#: Samples whose reference is the ID-1 card (the same options fit them all).
CARD_SAMPLES = [name for name, s in TRUTH.items() if s["reference"]["kind"] == "card"]
OPTIONS = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)), method="homography")


class Counting:
    """The real local segmenter, counting its calls and the most at once."""

    name = "local"
    lock = threading.Lock()

    def __init__(self, counter: dict[str, int]) -> None:
        self.inner = LocalSegmenter()
        self.counter = counter

    def segment(self, image_rgb):
        with self.lock:
            self.counter["calls"] += 1
            self.counter["now"] += 1
            self.counter["most"] = max(self.counter["most"], self.counter["now"])
        try:
            return self.inner.segment(image_rgb)
        finally:
            with self.lock:
                self.counter["now"] -= 1


def counting_factory():
    counter = {"calls": 0, "now": 0, "most": 0}
    return counter, lambda: Counting(counter)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def photos(tmp_path: Path) -> tuple[Path, Path]:
    """A folder with three card samples and a zip with the other two."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in CARD_SAMPLES[:3]:
        shutil.copy(SAMPLES / f"{name}.jpg", folder / f"{name}.jpg")
    (folder / "notes.txt").write_text("not a photo; a folder's other files are not taken")
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in CARD_SAMPLES[3:]:
            zipped.write(SAMPLES / f"{name}.jpg", f"sub/{name}.jpg")
        zipped.writestr("__MACOSX/._junk.jpg", b"resource fork")
    return folder, archive


def _sample_of(name: str) -> str:
    return Path(name.split("!")[-1]).stem


def test_folder_and_zip_match_ground_truth(photos, tmp_path):
    folder, archive = photos
    counter, factory = counting_factory()
    out = tmp_path / "out"
    report = run_batch(
        [folder, archive], out, options=OPTIONS, segmenter_factory=factory, concurrency=3
    )
    assert report.total == len(CARD_SAMPLES) == 5
    assert (report.ok, report.failed, report.processed) == (5, 0, 5)
    assert counter["calls"] == 5
    rows = read_csv(out / RESULTS_CSV)
    assert sorted(_sample_of(r["name"]) for r in rows) == sorted(CARD_SAMPLES)
    assert any(r["name"] == f"{archive}!sub/{CARD_SAMPLES[3]}.jpg" for r in rows)
    for row in rows:
        truth = TRUTH[_sample_of(row["name"])]["object"]
        assert row["status"] == "ok", row
        assert float(row["width"]) == pytest.approx(truth["width_mm"], rel=0.015)
        assert float(row["height"]) == pytest.approx(truth["height_mm"], rel=0.015)
        assert row["unit"] == "mm" and row["method"] == "homography"
        annotated = out / row["annotated"]
        with Image.open(annotated) as picture:
            assert picture.format == "JPEG" and picture.mode == "RGB"
            assert max(picture.size) <= 1600
    records = read_jsonl(out / RESULTS_JSONL)
    assert [r["name"] for r in records] == [r["name"] for r in rows]
    for record in records:
        assert record["measurement"]["schema"] == "objlen.measurement/1"
        assert record["measurement"]["objects"][0]["width"]["value"] == pytest.approx(
            record["width"], abs=1e-3
        )


def test_a_corrupt_photo_fails_alone(photos, tmp_path):
    folder, _ = photos
    whole = (SAMPLES / f"{CARD_SAMPLES[0]}.jpg").read_bytes()
    (folder / "corrupt.jpg").write_bytes(whole[: len(whole) // 3])
    (folder / "empty.png").write_bytes(b"")
    _, factory = counting_factory()
    out = tmp_path / "out"
    report = run_batch([folder], out, options=OPTIONS, segmenter_factory=factory, concurrency=2)
    assert (report.total, report.ok, report.failed) == (5, 3, 2)
    failed = dict(report.failures)
    assert set(failed) == {str(folder / "corrupt.jpg"), str(folder / "empty.png")}
    assert "truncated or corrupt" in failed[str(folder / "corrupt.jpg")]
    rows = {r["name"]: r for r in read_csv(out / RESULTS_CSV)}
    assert rows[str(folder / "corrupt.jpg")]["status"] == "error"
    assert rows[str(folder / "corrupt.jpg")]["width"] == ""
    assert sum(r["status"] == "ok" for r in rows.values()) == 3


def test_a_folders_unreadable_entries_fail_alone_and_are_reported(photos, tmp_path):
    # A link to nothing and a named pipe under photo names, and a zip file that
    # is not one: each is a failed row, and the good photos are measured (before:
    # the first two were left out without a word, the zip stopped the batch).
    folder, _ = photos
    (folder / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    os.mkfifo(folder / "pipe.jpg")
    (folder / "broken.zip").write_bytes(b"PK not a zip")
    _, factory = counting_factory()
    out = tmp_path / "out"
    report = run_batch([folder], out, options=OPTIONS, segmenter_factory=factory, concurrency=2)
    failed = dict(report.failures)
    assert set(failed) == {str(folder / n) for n in ("gone.jpg", "pipe.jpg", "broken.zip")}
    assert "no such file" in failed[str(folder / "gone.jpg")]
    assert "not a regular file" in failed[str(folder / "pipe.jpg")]
    assert "not a readable zip file" in failed[str(folder / "broken.zip")]
    assert (report.total, report.ok) == (6, 3)
    rows = {r["name"]: r["status"] for r in read_csv(out / RESULTS_CSV)}
    assert sorted(rows.values()) == ["error"] * 3 + ["ok"] * 3


def test_a_named_input_that_is_not_a_file_says_what_it_is(tmp_path):
    os.mkfifo(tmp_path / "pipe.jpg")
    with pytest.raises(BatchError, match="not a file or folder"):
        expand_inputs([tmp_path / "pipe.jpg"])
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    with pytest.raises(BatchError, match="a link to a file or folder that does not exist"):
        expand_inputs([tmp_path / "gone.jpg"])


def test_a_photo_too_small_to_measure_fails_with_the_operators_words(photos, tmp_path):
    # The same words as `measure` says, not the segmenter's "(H, W, 3) RGB array".
    folder, _ = photos
    Image.new("RGB", (1, 1)).save(folder / "dot.png")
    _, factory = counting_factory()
    report = run_batch(
        [folder], tmp_path / "out", options=OPTIONS, segmenter_factory=factory, concurrency=2
    )
    failed = dict(report.failures)
    assert set(failed) == {str(folder / "dot.png")}
    assert failed[str(folder / "dot.png")].startswith("the photo is only 1 × 1 pixels")


def test_an_earlier_batchs_results_inside_the_input_are_not_taken(photos, tmp_path):
    # First into photos/results, then elsewhere: the first run's annotated
    # pictures are not measured as photos the second time.
    folder, _ = photos
    _, factory = counting_factory()
    run_batch([folder], folder / "results", options=OPTIONS, segmenter_factory=factory)
    assert len(list((folder / "results" / "annotated").iterdir())) == 3
    again = run_batch([folder], tmp_path / "elsewhere", options=OPTIONS, segmenter_factory=factory)
    assert again.total == 3
    assert {Path(r["name"]).parent for r in again.records} == {folder}


def test_a_run_that_wants_pictures_draws_those_an_earlier_run_without_them_left_out(
    photos, tmp_path
):
    folder, _ = photos
    out = tmp_path / "out"
    _, factory = counting_factory()
    run_batch([folder], out, options=OPTIONS, segmenter_factory=factory, annotate=False)
    assert not (out / "annotated").exists()
    again = run_batch([folder], out, options=OPTIONS, segmenter_factory=factory)
    assert again.ok == 3
    pictures = [r["annotated"] for r in read_jsonl(out / RESULTS_JSONL)]
    assert len(pictures) == 3 and all(pictures)
    assert all((out / picture).is_file() for picture in pictures)


def test_the_results_are_readable_as_the_umask_says(photos, tmp_path):
    # Under the usual umask 022, the results folder's files are 0644 like any
    # new file (they were 0600: a colleague could not open results.csv).
    folder, _ = photos
    _, factory = counting_factory()
    old = os.umask(0o022)
    try:
        run_batch([folder], tmp_path / "out", options=OPTIONS, segmenter_factory=factory)
    finally:
        os.umask(old)
    out = tmp_path / "out"
    files = [out / RESULTS_CSV, out / RESULTS_JSONL, *(out / "annotated").iterdir()]
    assert len(files) == 5
    assert {oct(f.stat().st_mode & 0o777) for f in files} == {"0o644"}


def test_a_photo_whose_name_is_not_utf8_is_in_the_results(photos, tmp_path):
    # A Latin-1 name (an old zip unpacked, a Windows share): the batch crashed
    # at its end writing results.csv, every time it was run again.
    folder, _ = photos
    shutil.copy(SAMPLES / f"{CARD_SAMPLES[0]}.jpg", os.fsdecode(bytes(folder) + b"/caf\xe9.jpg"))
    _, factory = counting_factory()
    out = tmp_path / "out"
    report = run_batch([folder], out, options=OPTIONS, segmenter_factory=factory)
    assert (report.ok, report.failed) == (4, 0)
    names = [row["name"] for row in read_csv(out / RESULTS_CSV)]
    assert f"{folder}/caf\\xe9.jpg" in names


def test_second_run_redoes_nothing(photos, tmp_path):
    folder, archive = photos
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "out"
    counter, factory = counting_factory()
    first = run_batch([folder, archive], out, options=OPTIONS, segmenter_factory=factory)
    assert counter["calls"] == 5 and first.failed == 1
    csv_before = (out / RESULTS_CSV).read_text()
    counter["calls"] = 0
    second = run_batch([folder, archive], out, options=OPTIONS, segmenter_factory=factory)
    assert counter["calls"] == 0
    # an unreadable photo fails the same way every time: it is final too
    assert (second.processed, second.resumed) == (0, 6)
    assert (second.ok, second.failed) == (5, 1)
    assert (out / RESULTS_CSV).read_text() == csv_before
    assert len(read_jsonl(out / RESULTS_JSONL)) == 6


def test_changed_options_redo_and_same_bytes_are_segmented_once(photos, tmp_path):
    folder, _ = photos
    shutil.copy(folder / f"{CARD_SAMPLES[0]}.jpg", folder / "copy-of-first.jpg")
    out = tmp_path / "out"
    counter, factory = counting_factory()
    report = run_batch([folder], out, options=OPTIONS, segmenter_factory=factory, concurrency=1)
    assert counter["calls"] == 3 and report.ok == 4
    rows = {r["name"]: r for r in read_csv(out / RESULTS_CSV)}
    original = rows[str(folder / f"{CARD_SAMPLES[0]}.jpg")]
    assert rows[str(folder / "copy-of-first.jpg")]["width"] == original["width"]
    counter["calls"] = 0
    in_cm = MeasureOptions(
        reference=ReferenceSpec(size=(8.56, 5.4)), method="homography", unit="cm"
    )
    again = run_batch([folder], out, options=in_cm, segmenter_factory=factory, concurrency=1)
    assert counter["calls"] == 3 and again.processed == 3
    rows = {r["name"]: r for r in read_csv(out / RESULTS_CSV)}
    assert len(rows) == 4 and {r["unit"] for r in rows.values()} == {"cm"}
    assert float(rows[original["name"]]["width"]) == pytest.approx(
        float(original["width"]) / 10, rel=1e-3
    )


def test_at_most_concurrency_photos_in_flight(tmp_path):
    base = load_image(SAMPLES / f"{CARD_SAMPLES[0]}.jpg")
    state = {"read": 0, "done": 0, "most": 0}
    lock = threading.Lock()

    def reader(index: int):
        def read() -> bytes:
            with lock:
                state["read"] += 1
                state["most"] = max(state["most"], state["read"] - state["done"])
            photo = base.copy()
            photo[0, 0] = index
            return encode_jpeg(photo)

        return read

    def progress(p) -> None:
        with lock:
            state["done"] = p.done

    inputs = [BatchInput(f"photo-{i}.jpg", reader(i)) for i in range(9)]
    counter, factory = counting_factory()
    report = run_batch(
        inputs,
        tmp_path / "out",
        options=OPTIONS,
        segmenter_factory=factory,
        concurrency=3,
        progress=progress,
        annotate=False,
    )
    assert report.ok == 9
    assert 1 <= state["most"] <= 3
    assert counter["most"] <= 3


def test_a_torn_last_line_is_cut_off(photos, tmp_path):
    folder, _ = photos
    out = tmp_path / "out"
    _, factory = counting_factory()
    run_batch([folder], out, options=OPTIONS, segmenter_factory=factory)
    journal = out / RESULTS_JSONL
    with open(journal, "ab") as stream:
        stream.write(b'{"schema":"objlen.batch/1","name":"half-writ')
    assert len(Journal(journal).records) == 3
    assert journal.read_bytes().endswith(b"\n")
    run_batch([folder], out, options=OPTIONS, segmenter_factory=factory)
    assert len(read_csv(out / RESULTS_CSV)) == 3


def test_inputs_are_checked_before_anything_runs(tmp_path):
    with pytest.raises(BatchError, match="no such file"):
        expand_inputs([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BatchError, match="no photos"):
        expand_inputs([tmp_path / "empty"])
    (tmp_path / "bad.zip").write_bytes(b"PK not a zip")
    with pytest.raises(BatchError, match="zip"):
        expand_inputs([tmp_path / "bad.zip"])


def test_a_missing_input_leaves_no_results_folder_behind(tmp_path):
    _, factory = counting_factory()
    with pytest.raises(BatchError, match="no such file"):
        run_batch(
            [tmp_path / "mistyped"], tmp_path / "out", options=OPTIONS, segmenter_factory=factory
        )
    assert not (tmp_path / "out").exists()


def test_the_output_folder_inside_the_input_is_not_taken(photos):
    folder, _ = photos
    _, factory = counting_factory()
    run_batch([folder], folder / "results", options=OPTIONS, segmenter_factory=factory)
    again = run_batch([folder], folder / "results", options=OPTIONS, segmenter_factory=factory)
    assert again.total == 3  # the annotated JPEGs under results/ are not inputs


# --------------------------------------------------------------------- kill test
KILL_SCRIPT = textwrap.dedent(
    """
    import hashlib, os, sys, time
    from objlen import MeasureOptions, ReferenceSpec
    from objlen.batch.runner import run_batch
    from objlen.segment.local import LocalSegmenter

    folder, out, calls = sys.argv[1:4]

    class Logged:
        name = "local"

        def __init__(self):
            self.inner = LocalSegmenter()

        def segment(self, image):
            digest = hashlib.sha256(image.tobytes()).hexdigest()
            with open(calls, "a") as stream:
                stream.write(os.environ["RUN"] + " " + digest + "\\n")
                stream.flush()
                os.fsync(stream.fileno())
            time.sleep(0.15)
            return self.inner.segment(image)

    options = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)), method="homography")
    run_batch([folder], out, options=options, segmenter_factory=Logged, concurrency=2)
    """
)


def _finished_names(journal: Path) -> set[str]:
    if not journal.exists():
        return set()
    whole = journal.read_bytes()
    whole = whole[: whole.rfind(b"\n") + 1]
    return {json.loads(line)["name"] for line in whole.splitlines() if line.strip()}


def test_killed_half_way_then_restarted(tmp_path):
    base = load_image(SAMPLES / f"{CARD_SAMPLES[0]}.jpg")
    folder = tmp_path / "photos"
    folder.mkdir()
    pixel_ids = {}
    for index in range(12):
        photo = base.copy()
        photo[600:616, 8:24] = 40 + 15 * index  # a block far from the object and the card
        path = folder / f"photo-{index:02d}.jpg"
        path.write_bytes(encode_jpeg(photo))
        pixel_ids[str(path)] = hashlib.sha256(load_image(path).tobytes()).hexdigest()
    assert len(set(pixel_ids.values())) == 12
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    out, calls = tmp_path / "out", tmp_path / "calls.log"
    command = [sys.executable, str(script), str(folder), str(out), str(calls)]
    environment = dict(os.environ, RUN="1", PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, env=environment, cwd=ROOT)
    deadline = time.monotonic() + 120
    while len(_finished_names(out / RESULTS_JSONL)) < 5:
        assert process.poll() is None, "the batch ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    finished_before = _finished_names(out / RESULTS_JSONL)
    assert 5 <= len(finished_before) < 12
    assert not (out / RESULTS_CSV).exists()  # killed: nothing was rebuilt

    done = subprocess.run(command, env=dict(environment, RUN="2"), cwd=ROOT, timeout=300)
    assert done.returncode == 0

    rows = read_csv(out / RESULTS_CSV)
    assert sorted(r["name"] for r in rows) == sorted(pixel_ids)
    assert all(r["status"] == "ok" for r in rows)
    assert sorted(r["name"] for r in read_jsonl(out / RESULTS_JSONL)) == sorted(pixel_ids)
    log = [line.split() for line in calls.read_text().splitlines()]
    per_photo = {digest: [run for run, d in log if d == digest] for digest in pixel_ids.values()}
    assert all(runs for runs in per_photo.values())  # every photo was segmented
    for name in finished_before:  # nothing finished before the kill was redone
        assert per_photo[pixel_ids[name]] == ["1"]
    redone = [d for d, runs in per_photo.items() if runs.count("1") and runs.count("2")]
    assert len(redone) <= 2  # at most the photos in flight (concurrency 2) were redone
    assert all(len(runs) <= 2 for runs in per_photo.values())
    assert not list((out / "annotated").glob(".*.tmp"))


# ---------------------------------------------------------------------- the CLI
def test_ctrl_c_says_how_to_resume_and_the_rerun_finishes_the_rest(tmp_path):
    base = load_image(SAMPLES / f"{CARD_SAMPLES[0]}.jpg")
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(30):  # distinct bytes: none is a copy of another
        photo = base.copy()
        photo[600:616, 8:24] = 40 + 5 * index
        (folder / f"photo-{index:02d}.jpg").write_bytes(encode_jpeg(photo))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "objlen", "batch", str(folder), "--out", str(out),
               "--reference-size", "85.6x54", "--concurrency", "1", "--no-annotate"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not _finished_names(out / RESULTS_JSONL) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (
        f"objlen: interrupted; the photos finished so far are kept in {out}: "
        "run the same command again to resume"
    )
    first = _finished_names(out / RESULTS_JSONL)
    assert 0 < len(first) < 30
    again = subprocess.run([*command, "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"30 of 30 photos measured, 0 failed ({len(first)} already done)" in again.stdout
    assert len(read_jsonl(out / RESULTS_JSONL)) == 30  # each photo once


def test_a_second_ctrl_c_stops_at_once_and_loses_nothing_finished(tmp_path):
    # Photos wait 4 s each on a slow endpoint; the first Ctrl-C would wait for
    # those in flight, the second stops the process on the spot (before: it
    # waited, or died of "terminate called without an active exception").
    from objlen.sagemaker.local_endpoint import make_server

    folder = tmp_path / "photos"
    folder.mkdir()
    base = load_image(SAMPLES / f"{CARD_SAMPLES[0]}.jpg")
    for index in range(6):
        photo = base.copy()
        photo[600:616, 8:24] = 40 + 20 * index
        (folder / f"photo-{index}.jpg").write_bytes(encode_jpeg(photo))
    server = make_server(port=0, latency_s=4.0).start()
    out = tmp_path / "out"
    command = [sys.executable, "-m", "objlen", "batch", str(folder), "--out", str(out),
               "--reference-size", "85.6x54", "--concurrency", "2", "--no-annotate",
               "--segmenter", "sagemaker", "--endpoint", "slow", "--region", "us-east-1",
               "--endpoint-url", server.url]
    env = dict(os.environ, AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    try:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while not _finished_names(out / RESULTS_JSONL) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # the next two photos are in flight, 3.5 s from their answers
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        second = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        stopped_s = time.monotonic() - second
    finally:
        server.stop()
    assert process.returncode == 130, stderr
    assert stopped_s < 2.0  # not after the photos in flight (3 s and more)
    assert stderr.strip().splitlines()[-1] == (
        f"objlen: stopped at once; the photos finished so far are kept in {out}: "
        "run the same command again to resume"
    )
    records = read_jsonl(out / RESULTS_JSONL)  # whole lines only
    assert 1 <= len(records) <= 2 and all(r["status"] == "ok" for r in records)


def test_cli_batch_exit_status_and_progress(photos, tmp_path, capsys):
    folder, archive = photos
    out = tmp_path / "out"
    status = cli_main(
        [
            "batch",
            str(folder),
            str(archive),
            "--out",
            str(out),
            "--reference-size",
            "85.6x54",
            "--method",
            "homography",
            "--concurrency",
            "2",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0
    assert "5 of 5 photos measured, 0 failed" in captured.out
    assert "[5/5] 5 ok, 0 failed" in captured.err
    (folder / "corrupt.jpg").write_bytes(b"garbage")
    status = cli_main(
        [
            "batch",
            str(folder),
            "--out",
            str(out),
            "--reference-size",
            "85.6x54",
            "--method",
            "homography",
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert f"failed: {folder / 'corrupt.jpg'}" in captured.err
    assert cli_main(["batch", str(folder), "--out", str(out)]) == 2  # no reference given
    assert "say what the reference is" in capsys.readouterr().err


def test_cli_batch_takes_every_option_of_measure():
    """The batch command must accept every option that options_from_args and
    the segmenter read from ``measure`` (same names), so they cannot drift."""
    import argparse

    from objlen.cli.batch import register
    from objlen.cli.main import build_parser

    def dests(parser: argparse.ArgumentParser, command: str) -> set[str]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return {a.dest for a in sub.choices[command]._actions}

    batch_parser = argparse.ArgumentParser()
    register(batch_parser.add_subparsers(dest="command"))
    measure_only = {"image", "mask", "json", "help", "box"}  # a box is for one photo
    assert dests(build_parser(), "measure") - measure_only <= dests(batch_parser, "batch")


def test_sizes_of_annotated_pictures_follow_the_limit(tmp_path):
    small = np.full((120, 200, 3), 200, np.uint8)
    small[30:90, 120:180] = (200, 40, 40)
    small[40:70, 20:80] = (40, 40, 200)
    photo = tmp_path / "small.png"
    Image.fromarray(small).save(photo)
    _, factory = counting_factory()
    options = MeasureOptions(reference=ReferenceSpec(length=60.0))
    report = run_batch([photo], tmp_path / "out", options=options, segmenter_factory=factory)
    assert report.ok == 1, report.failures
    with Image.open(tmp_path / "out" / report.records[0]["annotated"]) as picture:
        width, height = picture.size  # small photos keep their size; the legend goes below
        assert width == 200 and height > 120


def test_results_csv_neutralises_formula_names(tmp_path, monkeypatch):
    """Photos named like spreadsheet formulas (issue #12): in ``results.csv``
    every such cell starts with a single quote; the JSONL keeps the name."""
    monkeypatch.chdir(tmp_path)
    hostile = '=HYPERLINK("evil.example",A1).jpg'
    shutil.copy(SAMPLES / "card_rectangle.jpg", tmp_path / hostile)
    (tmp_path / "@SUM(1+1).jpg").write_bytes(b"garbage, not a photo")
    status = cli_main(
        ["batch", hostile, "@SUM(1+1).jpg", "--out", "out", "--reference-size", "85.6x54",
         "--quiet", "--no-annotate"]
    )
    assert status == 1  # the garbage fails, alone
    rows = {r["sha256"]: r for r in read_csv(tmp_path / "out" / RESULTS_CSV)}
    names = sorted(r["name"] for r in rows.values())
    assert names == ["'" + hostile, "'@SUM(1+1).jpg"]
    failed = next(r for r in rows.values() if r["status"] != "ok")
    assert not failed["message"].startswith(("=", "+", "-", "@"))
    assert {r["name"] for r in read_jsonl(tmp_path / "out" / RESULTS_JSONL)} == {
        hostile,
        "@SUM(1+1).jpg",
    }
