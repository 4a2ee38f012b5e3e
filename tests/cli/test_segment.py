"""``objlen measure IMAGE`` without a mask: the photo is segmented first,
by the embedded local segmenter or by a SageMaker endpoint (here the
project's own endpoint server, over HTTP, through boto3)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from objlen.sagemaker.local_endpoint import make_server

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
TRUTH = {s["name"]: s for s in json.loads((SAMPLES / "ground_truth.json").read_text())["samples"]}
FACE_ON = ["card_rectangle", "card_ellipse", "card_blob_gradient", "dark_card_ellipse"]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "objlen", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        env=env,
    )


def dummy_aws_env() -> dict[str, str]:
    """This process's environment with dummy AWS credentials and no profile."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.pop("AWS_PROFILE", None)
    return env


def test_a_bare_length_takes_the_most_disc_like_region_and_says_so():
    # card_ellipse holds a near-round object and a card: "a length" describes
    # a coin, so the round object is taken, and the output says which rule chose.
    done = run("measure", str(SAMPLES / "dark_card_ellipse.jpg"), "--reference-length", "85.6")
    assert done.returncode == 0, done.stderr
    assert "the region most like a disc was taken as the reference" in done.stdout
    leftmost = run(
        "measure",
        str(SAMPLES / "dark_card_ellipse.jpg"),
        "--reference-length",
        "85.6",
        "--reference-rule",
        "leftmost",
        "--json",
    )
    assert max(map(abs, _relative_errors(leftmost.stdout, "dark_card_ellipse"))) < 0.01


def _relative_errors(stdout: str, name: str) -> list[float]:
    obj = json.loads(stdout)["objects"][0]
    truth = TRUTH[name]["object"]
    return [
        obj["width"]["value"] / truth["width_mm"] - 1,
        obj["height"]["value"] / truth["height_mm"] - 1,
    ]


@pytest.mark.parametrize("name", FACE_ON)
def test_local_segmenter_end_to_end_within_one_percent(name):
    # The reference is an ID-1 card, described as such (a bare length would ask
    # for the most disc-like region: the round object of card_ellipse).
    done = run("measure", str(SAMPLES / f"{name}.jpg"), "--reference-size", "85.6x54", "--json")
    assert done.returncode == 0, done.stderr
    assert max(map(abs, _relative_errors(done.stdout, name))) < 0.01


@pytest.mark.aws
def test_sagemaker_segmenter_through_the_local_endpoint_server():
    server = make_server(port=0)  # backed by the real local segmenter
    server.start()
    try:
        env = dummy_aws_env()
        done = run(
            "measure",
            str(SAMPLES / "card_rectangle.jpg"),
            "--reference-length",
            "85.6",
            "--segmenter",
            "sagemaker",
            "--endpoint",
            "objlen",
            "--region",
            "us-east-1",
            "--endpoint-url",
            server.url,
            "--json",
            env=env,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert max(map(abs, _relative_errors(done.stdout, "card_rectangle"))) < 0.01
    served = server.log.items()
    assert [(i.endpoint_name, i.status, i.content_type) for i in served] == [
        ("objlen", 200, "image/jpeg")
    ]
    # The sample is a JPEG under the limit, with no EXIF turn: sent byte for byte.
    sample = (SAMPLES / "card_rectangle.jpg").read_bytes()
    assert served[0].body_sha256 == hashlib.sha256(sample).hexdigest()


def test_sagemaker_without_an_endpoint_name_is_a_clear_error():
    done = run(
        "measure",
        str(SAMPLES / "card_rectangle.jpg"),
        "--reference-length",
        "85.6",
        "--segmenter",
        "sagemaker",
    )
    assert done.returncode == 2 and "--endpoint NAME" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_endpoint_is_a_clear_error():
    env = dummy_aws_env()
    done = run(
        "measure",
        str(SAMPLES / "card_rectangle.jpg"),
        "--reference-length",
        "85.6",
        "--segmenter",
        "sagemaker",
        "--endpoint",
        "x",
        "--region",
        "us-east-1",
        "--endpoint-url",
        "http://127.0.0.1:9",
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.startswith("objlen: error:")


def test_a_reference_the_photo_does_not_hold_is_warned_of_and_named_in_the_error(tmp_path):
    # Coins on a table, told "a card": no region is a rectangle of the card's
    # aspect, so the leftmost region is a guess. The proportional run warns; the
    # homography, which cannot fit a card's sides to a disc, says why it fails.
    import cv2
    import numpy as np

    photo = np.full((480, 720, 3), 205, np.uint8)
    cv2.circle(photo, (200, 240), 60, (60, 150, 180), -1, cv2.LINE_AA)
    cv2.circle(photo, (500, 240), 45, (160, 150, 150), -1, cv2.LINE_AA)
    path = tmp_path / "coins.png"
    cv2.imwrite(str(path), photo)
    told = ("measure", str(path), "--reference-size", "85.6x54")
    done = run(*told)
    assert done.returncode == 0, done.stderr
    assert "warning: no region looks like the reference, a rectangle of aspect 1.59" in done.stdout
    failed = run(*told, "--method", "homography")
    assert failed.returncode == 2
    assert "no region looks like the reference" in failed.stderr


def test_a_photo_of_the_object_alone_says_no_reference_was_found_in_it(tmp_path):
    # One object, no reference: the error speaks of the photo (the operator gave
    # no mask; it said "the mask has no reference pixels (class 2)").
    import cv2
    import numpy as np

    photo = np.full((480, 720, 3), 205, np.uint8)
    cv2.rectangle(photo, (250, 150), (470, 330), (60, 110, 170), -1)
    path = tmp_path / "alone.png"
    cv2.imwrite(str(path), photo)
    failed = run("measure", str(path), "--reference-size", "85.6x54")
    assert failed.returncode == 2
    assert "no reference in the photo: only one region stands out" in failed.stderr
    assert "class" not in failed.stderr and "Traceback" not in failed.stderr
