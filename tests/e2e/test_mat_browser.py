"""The measuring mat as the reference, in a real headless Chromium: a rendered
photo of objlen's A4 mat is uploaded, "Measuring mat" answers the page's
question, and the page shows the board's fit and the numbers objlen's own
path (the command line's ``--board mat``) gives. A screenshot goes to
$OBJLEN_SCREENSHOTS."""

from __future__ import annotations

from pathlib import Path

import pytest

from objlen import MeasureOptions, ReferenceSpec, load_image, measure
from objlen.board import MAT_BOARDS
from objlen.classes import ClassIds
from objlen.imageio import encode_jpeg
from objlen.segment import make_segmenter
from objlen.testing.synthetic import Camera, PhotoEffects, PlaneShape, render_board_scene
from tests.e2e.editor import (
    answer_reference,
    header_text,
    open_measure,
    poll,
    selected_numbers,
    shot,
    upload,
)

pytestmark = pytest.mark.browser

MAT = ReferenceSpec(board="mat")


@pytest.fixture(scope="module")
def mat_photo(tmp_path_factory) -> tuple[Path, list[tuple[float, float]]]:
    """A JPEG of the A4 mat tilted 30 deg with a plate and a lid in its middle, and
    what objlen measures on it (width, height of each object, largest first)."""
    scene = render_board_scene(
        [PlaneShape("rectangle", (-15, 20), (55, 80)), PlaneShape("ellipse", (30, -35), (40, 30))],
        MAT_BOARDS["A4"],
        Camera(tilt_deg=30.0, distance_mm=430.0),
        board_angle_deg=3.0,
        effects=PhotoEffects(distortion_k1=-0.04, jpeg_quality=92, blur_px=0.5),
        seed=9,
    )
    path = tmp_path_factory.mktemp("mat") / "mat-photo.jpg"
    path.write_bytes(encode_jpeg(scene.image, quality=95))
    image = load_image(path)
    mask = make_segmenter("local", classes=ClassIds(), reference=MAT).segment(image).mask
    options = MeasureOptions(method="homography", reference=MAT, all_objects=True)
    result = measure(mask, options, image=image)
    return path, [(o.width.value, o.height.value) for o in result.objects]


def test_a_photo_of_the_mat_is_measured_against_it(page, app_url, mat_photo):
    path, expected = mat_photo
    page.set_viewport_size({"width": 1280, "height": 800})
    open_measure(page, app_url)
    upload(page, path)
    answer_reference(page, "Measuring mat (printed by objlen)")
    poll(lambda: "mat-photo.jpg" in header_text(page), "the header of the mat photo")
    header = header_text(page)
    assert "Measuring mat (printed by objlen)" in header and "board fit:" in header, header
    assert "homography" in header, header
    width, height = selected_numbers(page)
    assert width == pytest.approx(expected[0][0], abs=0.006)
    assert height == pytest.approx(expected[0][1], abs=0.006)
    notes = page.get_by_text("reprojection RMS").first
    notes.scroll_into_view_if_needed()
    assert "estimated from the board" in notes.inner_text()
    shot(page, "measure-mat-1280x800.png")
