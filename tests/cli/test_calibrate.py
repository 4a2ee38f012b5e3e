"""``python -m objlen calibrate`` and ``measure --board/--camera/--object-height``, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from objlen.board import MAT_BOARDS
from objlen.camera import radial_profile
from objlen.imageio import encode_png
from objlen.testing.synthetic import Camera, PhotoEffects, PlaneShape, render_board_scene
from tests.cli.test_mat import run
from tests.test_camera import calibration_photos

K1 = -0.1


@pytest.fixture(scope="module")
def profile_path(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("calibration")
    paths = []
    for k, photo in enumerate(calibration_photos(K1)):
        path = folder / f"view{k}.png"
        path.write_bytes(encode_png(photo))
        paths.append(str(path))
    out = folder / "camera.json"
    done = run("calibrate", *paths, "--board", "mat:A4", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "reprojection RMS" in done.stdout
    return str(out)


@pytest.fixture(scope="module")
def photo_and_mask(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photo")
    scene = render_board_scene(
        [PlaneShape("rectangle", (5, -5), (75, 105))],
        MAT_BOARDS["A4"],
        Camera(tilt_deg=25.0, distance_mm=440.0),
        effects=PhotoEffects(distortion_k1=K1, jpeg_quality=90),
    )
    photo, mask = folder / "photo.png", folder / "mask.png"
    photo.write_bytes(encode_png(scene.image))
    mask.write_bytes(encode_png(scene.mask))
    return str(photo), str(mask)


def test_calibrate_writes_a_profile(profile_path):
    data = json.loads(Path(profile_path).read_text())
    assert data["schema"] == "objlen.camera/1"
    assert data["image_size"] == [1600, 1200]
    assert data["views"] == 4
    assert data["rms_px"] < 0.3


@pytest.mark.parametrize("with_camera", [False, True])
def test_measure_on_the_mat_with_and_without_the_profile(profile_path, photo_and_mask, with_camera):
    photo, mask = photo_and_mask
    args = ["measure", photo, "--mask", mask, "--board", "mat", "--method", "homography"]
    done = run(*args, *(["--camera", profile_path] if with_camera else []), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    obj = data["objects"][0]
    for name, truth in (("width", 75.0), ("height", 105.0)):
        assert abs(obj[name]["value"] - truth) <= max(obj[name]["uncertainty"], 0.005 * truth)
    assert data["reference"]["kind"] == "board"
    source = data["reference"]["lens"]["source"]
    assert ("calibration" in source) == with_camera


def test_object_height_and_its_note(profile_path, photo_and_mask):
    photo, mask = photo_and_mask
    args = ["measure", photo, "--mask", mask, "--board", "mat", "--method", "homography"]
    plain = run(*args, "--camera", profile_path)
    assert plain.returncode == 0, plain.stderr
    assert "for each 10 mm of height" in plain.stdout
    raised = run(*args, "--camera", profile_path, "--object-height", "1cm", "--json")
    assert raised.returncode == 0, raised.stderr
    assert json.loads(raised.stdout)["reference"]["object_height"] == 10.0


def test_a_profile_of_another_size_is_one_line_and_status_2(tmp_path, photo_and_mask):
    photo, mask = photo_and_mask
    other = tmp_path / "other.json"
    radial_profile(0.1, 800, 600, "test").save(other)
    done = run("measure", photo, "--mask", mask, "--board", "mat", "--camera", str(other))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "800x600" in done.stderr


def test_calibrate_with_too_few_photos_is_status_2(tmp_path):
    blank = tmp_path / "blank.png"
    blank.write_bytes(encode_png(np.full((120, 160, 3), 200, np.uint8)))
    done = run("calibrate", str(blank), str(blank), "--out", str(tmp_path / "c.json"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
