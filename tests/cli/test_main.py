"""The command line end to end, as a separate process."""

from __future__ import annotations

import json
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


def test_usage_errors_exit_2_without_traceback():
    done = run("measure")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "usage:" in done.stderr


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
