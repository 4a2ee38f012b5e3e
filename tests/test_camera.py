"""objlen.camera: profiles, undistortion, pose; and calibration from rendered board photos."""

from __future__ import annotations

import json

import numpy as np
import pytest

from objlen.board import MAT_BOARDS, calibrate_camera
from objlen.camera import CameraProfile, focal_matrix, plane_pose, radial_profile
from objlen.errors import ParameterError
from objlen.testing.synthetic import (
    Camera,
    PhotoEffects,
    PlaneShape,
    distort_points,
    project_points,
    render_board_scene,
)

WIDTH, HEIGHT = 1600, 1200


def _grid() -> np.ndarray:
    xs, ys = np.meshgrid(np.linspace(0, WIDTH - 1, 9), np.linspace(0, HEIGHT - 1, 7))
    return np.column_stack([xs.ravel(), ys.ravel()])


def test_radial_profile_is_the_renderers_lens_model():
    ideal = _grid()
    profile = radial_profile(0.1, WIDTH, HEIGHT, "test")
    expected = distort_points(ideal, 0.1, WIDTH, HEIGHT)
    np.testing.assert_allclose(profile.distort_points(ideal), expected, atol=1e-6)
    np.testing.assert_allclose(profile.undistort_points(expected), ideal, atol=1e-4)


def test_profile_round_trips_through_json(tmp_path):
    profile = CameraProfile(
        matrix=focal_matrix(1700.0, WIDTH, HEIGHT),
        distortion=np.array([0.2, -0.05, 0.001, 0.0, 0.0]),
        image_size=(WIDTH, HEIGHT),
        rms_px=0.12,
    )
    path = tmp_path / "camera.json"
    profile.save(path)
    again = CameraProfile.load(path)
    np.testing.assert_array_equal(again.matrix, profile.matrix)
    np.testing.assert_array_equal(again.distortion, profile.distortion)
    assert again.image_size == (WIDTH, HEIGHT)
    assert json.loads(path.read_text())["schema"] == "objlen.camera/1"
    points = _grid()
    np.testing.assert_allclose(
        again.undistort_points(again.distort_points(points)), points, atol=1e-4
    )


def test_a_profile_for_another_size_is_refused_with_the_reason():
    profile = radial_profile(0.1, WIDTH, HEIGHT, "test")
    with pytest.raises(ParameterError, match="1600x1200 px photos, this photo is 800x600"):
        profile.check_image(800, 600)


@pytest.mark.parametrize("text", ["{}", "[1, 2]", '{"schema": "objlen.camera/1"}', "not json"])
def test_what_is_not_a_profile_is_a_parameter_error(tmp_path, text):
    path = tmp_path / "camera.json"
    path.write_text(text)
    with pytest.raises(ParameterError):
        CameraProfile.load(path)
    with pytest.raises(ParameterError):
        CameraProfile.load(tmp_path / "missing.json")


def test_plane_pose_finds_the_camera_over_the_plane():
    camera = Camera(tilt_deg=35.0, distance_mm=500.0, roll_deg=10.0)
    plane = np.array([[-60.0, -40.0], [60.0, -40.0], [60.0, 40.0], [-60.0, 40.0]])
    image = project_points(camera.homography(), plane)
    pose = plane_pose(camera.intrinsics(), image, plane)
    columns = camera.extrinsic_columns()
    r1, r2, t = columns[:, 0], columns[:, 1], columns[:, 2]
    centre = -np.column_stack([r1, r2, np.cross(r1, r2)]).T @ t
    assert pose.distance == pytest.approx(abs(centre[2]), rel=1e-6)
    np.testing.assert_allclose(pose.foot, centre[:2], atol=1e-6)
    # A plane 50 mm up is the table scaled about the foot by (d - 50) / d.
    raised = pose.raised_corners(plane, 50.0)
    scale = (pose.distance - 50.0) / pose.distance
    np.testing.assert_allclose(raised - pose.foot, (plane - pose.foot) * scale)


# --------------------------------------------------------------------------- calibration
CALIBRATION_VIEWS = ((35.0, 0.0, 0.0), (40.0, 25.0, 10.0), (30.0, -30.0, -15.0), (20.0, 90.0, 5.0))


def calibration_photos(k1: float) -> list[np.ndarray]:
    """The A4 mat seen from several angles through a lens of radial ``k1``."""
    photos = []
    for tilt, roll, angle in CALIBRATION_VIEWS:
        camera = Camera(tilt_deg=tilt, roll_deg=roll, distance_mm=430.0)
        scene = render_board_scene(
            [PlaneShape("ellipse", (0, 0), (60, 80))],
            MAT_BOARDS["A4"],
            camera,
            board_angle_deg=angle,
            effects=PhotoEffects(distortion_k1=k1, jpeg_quality=92),
        )
        photos.append(scene.image)
    return photos


def test_calibration_recovers_the_lens_of_rendered_photos():
    k1 = 0.1
    profile, views = calibrate_camera(calibration_photos(k1), "mat")
    assert len(views) == len(CALIBRATION_VIEWS)
    assert profile.rms_px < 0.3
    assert profile.image_size == (WIDTH, HEIGHT)
    assert profile.matrix[0, 0] == pytest.approx(1700.0, rel=0.02)
    # Its undistortion undoes the renderer's distortion across the frame.
    ideal = _grid()[1:-1]
    photo = distort_points(ideal, k1, WIDTH, HEIGHT)
    inside = np.all((photo >= 0) & (photo <= [WIDTH - 1, HEIGHT - 1]), axis=1)
    error = np.linalg.norm(profile.undistort_points(photo[inside]) - ideal[inside], axis=1)
    assert np.median(error) < 0.5
    assert error.max() < 2.0


def test_calibration_needs_three_photos_of_one_size():
    blank = np.full((HEIGHT, WIDTH, 3), 200, np.uint8)
    with pytest.raises(ParameterError, match="at least 3"):
        calibrate_camera([blank, blank, blank], "mat")
    with pytest.raises(ParameterError, match="differ in size"):
        calibrate_camera([blank, blank[:100]], "mat")
