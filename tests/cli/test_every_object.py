"""``objlen measure`` measures every object by default, says what it left out
and why, cuts merged objects out with ``--box``, and speaks the operator's
words (one warning per problem, a photo too small, a local endpoint without keys)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from objlen.cli.measure import summary
from objlen.imageio import encode_png
from objlen.testing.realphotos import realphotos_dir
from tests.aws_servers import ENDPOINT, REGION
from tests.conftest import draw_mask

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "objlen", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=env,
    )


@pytest.fixture
def three_objects(tmp_path) -> tuple[Path, Path]:
    """A grey photo and a mask with a reference (100 px = 50 mm), three objects
    and a speck of 20 px."""
    mask = draw_mask(
        (300, 400),
        [(50, 100, 149, 199), (200, 100, 259, 149), (300, 220, 329, 239), (380, 10, 383, 14)],
        (20, 20, 119, 29),
    )
    photo, mask_file = tmp_path / "photo.png", tmp_path / "mask.png"
    photo.write_bytes(encode_png(np.full((300, 400, 3), 90, np.uint8)))
    mask_file.write_bytes(encode_png(mask))
    return photo, mask_file


def test_every_object_is_measured_by_default(three_objects):
    photo, mask = three_objects
    done = run("measure", str(photo), "--mask", str(mask), "--reference-length", "50")
    assert done.returncode == 0, done.stderr
    objects = [line for line in done.stdout.splitlines() if line.startswith("  object ")]
    assert [line.split()[1] for line in objects] == ["1", "2", "3"]
    assert "width 50.00 ± " in objects[0] and "width 15.00 ± " in objects[2]
    assert "left out: 1 speck smaller than 64 px was left out" in done.stdout


def test_largest_measures_one_and_says_how_many_were_left_out(three_objects):
    photo, mask = three_objects
    done = run("measure", str(photo), "--mask", str(mask), "--reference-length", "50", "--largest")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("  object ") == 1
    assert "2 more regions were found and not measured: only the largest" in done.stdout
    both = run(
        "measure", str(photo), "--mask", str(mask), "--reference-length", "50", "--largest", "--all"
    )
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_a_box_cuts_a_pill_out_of_the_handwriting_it_touches():
    """pills/real.jpg: the author's handwriting joins the orange pill to its label."""
    photo = realphotos_dir() / "pills" / "real.jpg"
    if not photo.is_file():
        pytest.skip(f"{photo} is missing")

    def objects(*extra: str) -> list[str]:
        done = run(
            "measure", str(photo), "--reference-length", "25.75", "--orientation", "auto", *extra
        )
        assert done.returncode == 0, done.stderr
        return [line for line in done.stdout.splitlines() if line.startswith("  object ")]

    before = objects()
    after = objects("--box", "100,490,92,112")
    assert len(after) == len(before) + 1  # the pill, and the label left outside the box
    longest = [max(float(line.split()[3]), float(line.split()[8])) for line in after]
    assert any(abs(length - 12.0) < 1.0 for length in longest)  # the pill: 12 mm long
    assert not any(
        abs(length - 12.0) < 1.0
        for length in [max(float(line.split()[3]), float(line.split()[8])) for line in before]
    )


@pytest.mark.parametrize(
    ("box", "words"),
    [
        ("1,2,3", "is not a box x,y,w,h"),
        ("10,10,0,5", "must be positive"),
        ("5000,5000,9,9", "inside"),
    ],
)
def test_a_bad_box_is_one_line(three_objects, box, words):
    photo, mask = three_objects
    done = run("measure", str(photo), "--mask", str(mask), "--reference-length", "50", "--box", box)
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_one_pixel_photo_is_refused_in_plain_words(tmp_path):
    photo = tmp_path / "one.png"
    photo.write_bytes(encode_png(np.zeros((1, 1, 3), np.uint8)))
    done = run("measure", str(photo), "--reference-length", "25")
    assert done.returncode == 2
    assert "the photo is only 1 × 1 pixels: objlen needs at least 16 × 16" in done.stderr
    assert "(H, W, 3)" not in done.stderr


def test_one_warning_for_the_width_and_height_of_an_object(tmp_path):
    mask = draw_mask((300, 400), [(200, 100, 211, 111)], (20, 20, 39, 24))
    photo, mask_file = tmp_path / "photo.png", tmp_path / "mask.png"
    photo.write_bytes(encode_png(np.full((300, 400, 3), 90, np.uint8)))
    mask_file.write_bytes(encode_png(mask))
    done = run("measure", str(photo), "--mask", str(mask_file), "--reference-length", "10")
    warnings = [line for line in done.stdout.splitlines() if "uncertain" in line]
    assert len(warnings) == 1
    assert "width ±" in warnings[0] and "and height ±" in warnings[0]


def test_the_summary_names_what_was_left_out():
    from objlen import MeasureOptions, ReferenceSpec, measure

    mask = draw_mask((300, 400), [(50, 100, 149, 199)], (20, 20, 119, 29))
    result = measure(mask, MeasureOptions(reference=ReferenceSpec(length=50.0)))
    assert "  left out: 2 specks" in summary(result, "p.png", "2 specks")
    assert "left out" not in summary(result, "p.png")


def test_a_local_endpoint_without_keys_says_that_any_keys_do(tmp_path, no_credentials, endpoint):
    photo = ROOT / "samples" / "card_rectangle.jpg"
    done = run(
        "measure", str(photo), "--reference-size", "85.6x54", "--segmenter", "sagemaker",
        "--endpoint", ENDPOINT, "--region", REGION, "--endpoint-url", endpoint.url,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no AWS credentials found" in done.stderr
    assert "a local endpoint (objlen serve) accepts any keys" in done.stderr
