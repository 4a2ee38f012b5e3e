"""A local ``measure`` imports only what it uses: no boto3, no Streamlit, no AWS code.

The command runs in a subprocess under ``python -X importtime``, which lists
every module the interpreter imported; the list is checked, and so is the
measurement it printed (a command that failed early would import little).
Nor does it make OpenCV build its Lab tables (about 90 ms of CPU on the
first Lab conversion of a process): timed in a subprocess after the command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from objlen.imageio import encode_png, load_image

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "card_rectangle.jpg"

#: Module name prefixes a local measurement must not import.
FORBIDDEN = (
    "boto3",
    "botocore",
    "s3transfer",
    "streamlit",
    "google.protobuf",
    "dask",
    "distributed",
    "objlen.sagemaker",
    "objlen.segment.sagemaker",
    "objlen.batch",
    "objlen.serverless",
    "objlen.store",
)


def imported_modules(*args: str) -> tuple[set[str], subprocess.CompletedProcess]:
    """Run ``python -X importtime -m objlen ARGS``; return the modules it imported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "objlen", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return modules, done


def _offending(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN))


@pytest.mark.parametrize(
    "extra",
    [(), ("--json",), ("--mask", str(ROOT / "samples" / "card_rectangle_mask.png"))],
    ids=["segmented", "json", "given-mask"],
)
def test_a_local_measurement_imports_no_aws_and_no_streamlit(extra):
    modules, done = imported_modules("measure", str(PHOTO), "--reference-size", "85.6x54", *extra)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "object 1" in done.stdout or '"objects"' in done.stdout
    assert {"cv2", "numpy", "objlen.measure"} <= modules  # the list is really read
    assert _offending(modules) == []


#: ... nor, for a JPEG or PNG photo it segments, these: Pillow and its HEIC
#: plugin (OpenCV decodes the photo), ``numpy.ma`` (imported by ``numpy.median``
#: and ``numpy.percentile``, which objlen does not call for it) and the board's
#: module (a ChArUco board's measurement alone needs it).
NOT_FOR_A_PHOTO = ("PIL", "pillow_heif", "numpy.ma", "objlen.board")


def _not_for_a_photo(modules: set[str]) -> list[str]:
    return sorted(
        m
        for m in modules
        if m in NOT_FOR_A_PHOTO or m.startswith(tuple(f"{n}." for n in NOT_FOR_A_PHOTO))
    )


@pytest.mark.parametrize("photo", ["card_rectangle.jpg", "card_rectangle.png"])
def test_a_segmented_jpeg_or_png_imports_no_pillow_and_no_numpy_ma(photo, tmp_path):
    path = PHOTO
    if photo.endswith(".png"):  # the same photo as a PNG
        path = tmp_path / photo
        path.write_bytes(encode_png(load_image(PHOTO)))
    modules, done = imported_modules("measure", str(path), "--reference-size", "85.6x54")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "object 1" in done.stdout
    assert {"cv2", "objlen.segment.local", "objlen.headers"} <= modules
    assert _not_for_a_photo(modules) == []


def test_the_check_sees_pillow_where_a_photo_needs_it(tmp_path):
    # A TIFF photo is decoded by Pillow: the same command imports it, so the
    # check above can fail.
    path = tmp_path / "card_rectangle.tiff"
    Image.fromarray(load_image(PHOTO)).save(path)
    modules, done = imported_modules("measure", str(path), "--reference-size", "85.6x54")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PIL" in _not_for_a_photo(modules)


def test_the_check_sees_boto3_where_it_is_imported():
    # The same command asked for the SageMaker backend does import boto3 (and
    # fails: no endpoint answers on port 9): the lazy import is real, and the
    # check can fail.
    modules, done = imported_modules(
        "measure",
        str(PHOTO),
        "--reference-size",
        "85.6x54",
        "--segmenter",
        "sagemaker",
        "--endpoint",
        "nowhere",
        "--region",
        "us-east-1",
        "--endpoint-url",
        "http://127.0.0.1:9",
    )
    assert done.returncode == 2
    assert "boto3" in _offending(modules)


#: Runs ``measure`` with the arguments given, then times OpenCV's first Lab
#: conversion in the same process (CPU time: waiting for a core is left out)
#: against the best of five more; prints both, in seconds. With
#: ``--lab-first``, one Lab conversion is made before the command.
LAB_STARTUP = """
import sys, time
import cv2, numpy as np
from objlen.cli.measure import main
pixel = np.full((1, 1, 3), 0.5, np.float32)
def cpu_seconds():
    started = time.process_time()
    cv2.cvtColor(pixel, cv2.COLOR_RGB2Lab)
    return time.process_time() - started
args = sys.argv[1:]
if args[0] == "--lab-first":
    args = args[1:]
    cpu_seconds()
assert main(args) == 0
first = cpu_seconds()
print(first, min(cpu_seconds() for _ in range(5)))
"""


#: Building the tables takes about 90 ms of CPU; converting one pixel a few
#: microseconds (up to about 0.1 ms on the first conversion after other work).
#: A first conversion this many times slower than the later ones built them.
BUILDING_RATIO = 1000


def lab_conversion_seconds(*args: str) -> tuple[float, float]:
    """OpenCV's first and later Lab conversion times after ``measure ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", LAB_STARTUP, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "object 1" in done.stdout
    first, later = (float(value) for value in done.stdout.splitlines()[-1].split())
    return first, later


def test_a_segmented_photo_leaves_opencv_lab_tables_unbuilt():
    first, later = lab_conversion_seconds("measure", str(PHOTO), "--reference-size", "85.6x54")
    assert first > BUILDING_RATIO * later  # the first conversion after the command builds them


def test_the_check_sees_the_tables_built_where_they_are():
    # The same command after one Lab conversion: the first one timed is as
    # fast as the later ones, so the check above can fail.
    first, later = lab_conversion_seconds(
        "--lab-first", "measure", str(PHOTO), "--reference-size", "85.6x54"
    )
    assert first < BUILDING_RATIO * later
