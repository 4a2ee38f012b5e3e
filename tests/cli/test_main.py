"""The command line end to end, as a separate process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from objlen.imageio import encode_png
from tests.conftest import draw_mask

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "objlen", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture
def photo_and_mask(tmp_path, simple_mask) -> tuple[Path, Path]:
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode_png(np.full((300, 400, 3), 90, np.uint8)))
    mask = tmp_path / "mask.png"
    mask.write_bytes(encode_png(simple_mask))
    return photo, mask


def test_json_output_follows_the_schema(photo_and_mask):
    photo, mask = photo_and_mask
    done = run("measure", str(photo), "--mask", str(mask), "--reference-length", "50", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema"] == "objlen.measurement/1"
    assert data["objects"][0]["width"]["value"] == 100.0
    assert data["objects"][0]["height"]["value"] == 50.0
    assert set(data) >= {
        "image",
        "method",
        "unit",
        "reference",
        "scale",
        "objects",
        "offset_N",
        "warnings",
    }


def test_units_and_offset_with_suffixes(photo_and_mask):
    photo, mask = photo_and_mask
    done = run(
        "measure",
        str(photo),
        "--mask",
        str(mask),
        "--reference-length",
        "5cm",
        "--unit",
        "in",
        "--offset",
        "10mm",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    obj = json.loads(done.stdout)["objects"][0]
    assert obj["width"]["value"] == pytest.approx(100 / 25.4, abs=1e-4)
    assert obj["height"]["value"] == pytest.approx(40 / 25.4, abs=1e-4)


def test_human_summary(photo_and_mask):
    photo, mask = photo_and_mask
    done = run("measure", str(photo), "--mask", str(mask), "--reference-length", "50")
    assert done.returncode == 0
    assert "width 100.00 ±" in done.stdout and "height 50.00 ±" in done.stdout
    assert "proportional method: exact only when" in done.stdout


def test_homography_from_the_command_line(photo_and_mask):
    photo, mask = photo_and_mask
    done = run(
        "measure",
        str(photo),
        "--mask",
        str(mask),
        "--reference-size",
        "50x20",
        "--method",
        "homography",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["method"] == "homography"
    assert data["objects"][0]["width"]["value"] == pytest.approx(100.0, abs=1e-3)


def _assert_one_line_error(done: subprocess.CompletedProcess, text: str) -> None:
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("objlen: error:"), done.stderr
    assert text in lines[0]


def test_not_an_image(tmp_path, photo_and_mask):
    _, mask = photo_and_mask
    bogus = tmp_path / "photo.jpg"
    bogus.write_text("not a photo")
    _assert_one_line_error(
        run("measure", str(bogus), "--mask", str(mask), "--reference-length", "50"),
        "not an image",
    )


def test_rgb_mask(tmp_path, photo_and_mask):
    photo, _ = photo_and_mask
    rgb = tmp_path / "rgb.png"
    rgb.write_bytes(encode_png(np.zeros((300, 400, 3), np.uint8)))
    _assert_one_line_error(
        run("measure", str(photo), "--mask", str(rgb), "--reference-length", "50"),
        "single-channel",
    )


def test_no_reference_in_the_mask(tmp_path, photo_and_mask):
    photo, _ = photo_and_mask
    mask = tmp_path / "noref.png"
    mask.write_bytes(encode_png(draw_mask((300, 400), [(10, 10, 100, 100)], None)))
    _assert_one_line_error(
        run("measure", str(photo), "--mask", str(mask), "--reference-length", "50"),
        "no reference pixels",
    )


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--reference-length", "-4"], "must be positive"),
        (["--reference-length", "abc"], "not a length"),
        ([], "say what the reference is"),
        (["--aruco", "DICT_4X4_50"], "--marker-size"),
        (["--reference-length", "50", "--method", "homography"], "homography"),
    ],
)
def test_bad_parameters(photo_and_mask, args, text):
    photo, mask = photo_and_mask
    _assert_one_line_error(run("measure", str(photo), "--mask", str(mask), *args), text)


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["measure"], "measure: the following arguments are required: image"),
        ([], "the following arguments are required: command"),
        (["measure", "x.jpg", "--method", "bogus"], "invalid choice: 'bogus'"),
        (["measure", "x.jpg", "--scale", "big"], "invalid float value: 'big'"),
        (["batch", "x", "--concurrency", "many"], "invalid int value: 'many'"),
        (["batch", "x", "--annotate-format", "gif"], "invalid choice: 'gif'"),
        (["dataset", "validate"], "dataset validate: the following arguments are required"),
        (["sagemaker", "status"], "the following arguments are required"),
        (["no-such-command"], "invalid choice: 'no-such-command'"),
    ],
)
def test_usage_errors_are_one_line_exit_2_without_traceback(args, text):
    """argparse's errors too are one line (issue #12), naming what to run for help."""
    done = run(*args)
    _assert_one_line_error(done, text)
    assert "usage:" not in done.stderr and "--help" in done.stderr


def test_the_lens_allowance_widens_the_interval_and_is_checked():
    photo = str(ROOT / "samples" / "card_rectangle.jpg")
    common = ("measure", photo, "--reference-size", "85.6x54", "--json")
    corrected = json.loads(run(*common, "--lens-allowance", "0").stdout)["objects"][0]
    default = json.loads(run(*common).stdout)["objects"][0]
    assert default["width"]["value"] == corrected["width"]["value"]
    assert default["width"]["uncertainty"] > corrected["width"]["uncertainty"]
    refused = run(*common, "--lens-allowance", "-1")
    assert refused.returncode == 2
    assert "lens allowance" in refused.stderr and "Traceback" not in refused.stderr


# -- hostile values (issue #12) ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--scale", "1e308"], "the scale must be between"),
        (["--scale", "nan"], "the scale must be a positive, finite number"),
        (["--reference-length", "1e-320"], "the reference length must be between"),
        (["--reference-length", "1e300"], "the reference length must be between"),
        (["--reference-length", "9" * 5000], "5000 characters long"),
        (["--reference-size", "1e300x54"], "must be between"),
        (["--aruco", "DICT_4X4_50", "--marker-size", "1e-300"], "the marker size must be between"),
    ],
)
def test_absurd_numbers_are_one_line_errors_never_inf_or_nan(photo_and_mask, args, text):
    photo, mask = photo_and_mask
    for output in ([], ["--json"]):
        done = run("measure", str(photo), "--mask", str(mask), *args, *output)
        _assert_one_line_error(done, text)
        assert done.stdout == ""


@pytest.mark.parametrize(
    "url", ["notaurl", "http://[::1", "http://user:hunter2@[::1", "ftp://x/", "http://h:99999"]
)
def test_a_malformed_endpoint_url_is_one_line(photo_and_mask, tmp_path, url):
    photo, mask = photo_and_mask
    runs = [
        run("measure", str(photo), "--reference-length", "50", "--segmenter", "sagemaker",
            "--endpoint", "e", "--region", "ap-northeast-1", "--endpoint-url", url),
        run("measure", str(photo), "--mask", str(mask), "--reference-length", "50",
            "--endpoint-url", url),
        run("batch", str(photo), "--out", str(tmp_path / "out"), "--reference-length", "50",
            "--s3-endpoint-url", url),
        run("batch", "s3://bucket/photos/", "--out", str(tmp_path / "out"),
            "--reference-length", "50", "--s3-endpoint-url", url),
        run("sagemaker", "status", "job-1", "--region", "ap-northeast-1", "--endpoint-url", url),
    ]
    for done in runs:
        _assert_one_line_error(done, "give one like http://127.0.0.1:8080")
        assert "hunter2" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("which", ["photo", "mask"])
def test_a_named_pipe_as_photo_or_mask_is_refused_at_once(tmp_path, photo_and_mask, which):
    photo, mask = photo_and_mask
    fifo = tmp_path / f"{which}-pipe.png"
    os.mkfifo(fifo)
    image, mask = (fifo, mask) if which == "photo" else (photo, fifo)
    args = [str(image), "--mask", str(mask)]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "objlen", "measure", *args, "--reference-length", "50"],
            capture_output=True, text=True, cwd=ROOT, timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"measure hung on a named pipe as the {which}")
    _assert_one_line_error(done, "not a regular file")


def test_the_readmes_example_output_is_what_the_command_prints():
    # The README shows a run on the bundled sample: it must stay the real output.
    readme = (ROOT / "README.md").read_text()
    prompt = "$ python -m objlen measure samples/card_rectangle.jpg --reference-size 85.6x54\n"
    shown = readme.split(prompt, 1)[1].split("```", 1)[0]
    done = run("measure", "samples/card_rectangle.jpg", "--reference-size", "85.6x54")
    assert done.returncode == 0, done.stderr
    assert done.stdout == shown


def test_a_reader_that_goes_away_ends_the_command_quietly(photo_and_mask):
    # `objlen measure ... | head -1` when head has already exited: the write
    # fails with a broken pipe; the command stops without a traceback.
    photo, mask = photo_and_mask
    process = subprocess.Popen(
        [sys.executable, "-m", "objlen", "measure", str(photo), "--mask", str(mask),
         "--reference-length", "50", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    process.stdout.close()  # the reader is gone before anything is written
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 141
    assert stderr.decode() == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_disk_under_the_output_is_one_line(photo_and_mask):
    photo, mask = photo_and_mask
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "objlen", "measure", str(photo), "--mask", str(mask),
             "--reference-length", "50"],
            stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120,
        )
    _assert_one_line_error(done, "cannot write the output: No space left on device")
