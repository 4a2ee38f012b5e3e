"""objlen.board: board specs, the printable mat read back, detection and the plane fit."""

from __future__ import annotations

import io

import numpy as np
import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from objlen import MeasureOptions, ReferenceSpec, measure, remeasure
from objlen.board import (
    CHECK_BAR_MM,
    CHECK_BAR_TEXT,
    MAT_BOARDS,
    BoardSpec,
    board_image,
    detect_board,
    fit_board,
    locate_board,
    mat_pdf_bytes,
    mat_ring_mask,
    parse_board,
)
from objlen.errors import ParameterError, ReferenceNotFoundError
from objlen.testing.synthetic import (
    Camera,
    PhotoEffects,
    PlaneShape,
    project_points,
    render_board_scene,
)

POINTS_PER_MM = 72.0 / 25.4


# --------------------------------------------------------------------------- specs
def test_parse_board_reads_the_charuco_grammar_with_units():
    (spec,) = parse_board("charuco:5x7:0.8in:15mm:DICT_4X4_50")
    assert (spec.columns, spec.rows, spec.dictionary, spec.first_id) == (5, 7, "DICT_4X4_50", 0)
    assert spec.square_mm == pytest.approx(20.32)
    assert spec.marker_mm == 15.0
    assert spec.size_mm == pytest.approx((5 * 20.32, 7 * 20.32))


def test_a_spec_text_reads_back_as_the_same_board():
    for spec in MAT_BOARDS.values():
        (again,) = parse_board(spec.text())
        assert again.cv_board().getIds().tolist() == spec.cv_board().getIds().tolist()
        assert (again.columns, again.rows, again.square_mm, again.marker_mm) == (
            spec.columns,
            spec.rows,
            spec.square_mm,
            spec.marker_mm,
        )


def test_mat_names_every_mat_and_papers_pick_one():
    assert set(parse_board("mat")) == {MAT_BOARDS["A4"], MAT_BOARDS["A3"]}
    assert parse_board("mat:a3") == (MAT_BOARDS["A3"],)
    # The mats' marker ids do not overlap, so a photo tells which one it shows.
    a4, a3 = (set(MAT_BOARDS[p].cv_board().getIds().ravel()) for p in ("A4", "A3"))
    assert not a4 & a3


@pytest.mark.parametrize(
    "text",
    [
        "charuco:5x7:20:25:DICT_4X4_50",  # marker larger than the square
        "charuco:5x7:20:15:DICT_NOPE",
        "charuco:40x40:20:15:DICT_4X4_50",  # needs 800 ids
        "charuco:5x7:20:15",
        "mat:A5",
        "checkerboard",
    ],
)
def test_bad_board_specs_say_what_is_wrong(text):
    with pytest.raises(ParameterError):
        parse_board(text)


# --------------------------------------------------------------------------- the mat PDF
def _rectangles(page, reader) -> list[tuple[float, float, float, float]]:
    stream = ContentStream(page.get_contents(), reader)
    return [tuple(float(v) for v in operands) for operands, op in stream.operations if op == b"re"]


def test_mat_pdf_is_exactly_a4_with_a_100_mm_bar_and_its_spec_in_text():
    reader = PdfReader(io.BytesIO(mat_pdf_bytes("A4")))
    page = reader.pages[0]
    assert float(page.mediabox.width) == pytest.approx(210.0 * POINTS_PER_MM, abs=1e-3)
    assert float(page.mediabox.height) == pytest.approx(297.0 * POINTS_PER_MM, abs=1e-3)
    bars = [r for r in _rectangles(page, reader) if r[2] > 10 * r[3]]
    assert len(bars) == 1
    assert bars[0][2] == pytest.approx(CHECK_BAR_MM * POINTS_PER_MM, abs=1e-3)
    text = page.extract_text()
    assert CHECK_BAR_TEXT in text
    spec_text = next(word for word in text.split() if word.startswith("charuco:"))
    assert parse_board(spec_text)[0].text() == MAT_BOARDS["A4"].text()


def _rasterise(rectangles, page_pt: tuple[float, float], px_per_mm: float) -> np.ndarray:
    """The filled rectangles ``(x, y, w, h)`` in PDF points (y up) as a white RGB page."""
    scale = px_per_mm / POINTS_PER_MM
    width, height = (round(v * scale) for v in page_pt)
    page = np.full((height, width), 255, np.uint8)
    for x, y, w, h in rectangles:
        x0, x1 = round(x * scale), round((x + w) * scale)
        y0, y1 = round((page_pt[1] - y - h) * scale), round((page_pt[1] - y) * scale)
        page[y0:y1, x0:x1] = 0
    return np.repeat(page[..., None], 3, axis=2)


@pytest.mark.parametrize("paper", ["A4", "A3"])
def test_mat_pdf_draws_its_board_at_its_true_size(paper):
    reader = PdfReader(io.BytesIO(mat_pdf_bytes(paper)))
    page = reader.pages[0]
    page_pt = (float(page.mediabox.width), float(page.mediabox.height))
    rectangles = [r for r in _rectangles(page, reader) if r[2] < 10 * r[3]]
    px_per_mm = 8.0
    found = detect_board(_rasterise(rectangles, page_pt, px_per_mm), parse_board("mat"))
    spec = MAT_BOARDS[paper]
    assert found.spec == spec
    assert len(found.ids) >= 40
    # Read back in mm, the corners are the spec's up to where the board sits on the page.
    corners_mm = (found.image_points + 0.5) / px_per_mm
    offset = np.mean(corners_mm - found.board_points, axis=0)
    np.testing.assert_allclose(corners_mm - offset, found.board_points, atol=0.1)


def test_mat_leaves_its_middle_blank():
    spec = MAT_BOARDS["A4"]
    image = board_image(spec, 4.0, mat=True)
    keep = mat_ring_mask(spec)
    square = spec.square_mm * 4.0
    rows, columns = np.nonzero(~keep)
    middle = image[
        int(rows.min() * square) : int((rows.max() + 1) * square),
        int(columns.min() * square) : int((columns.max() + 1) * square),
    ]
    assert middle.min() == 255
    assert keep.sum() < keep.size / 2 + 30


# --------------------------------------------------------------------------- detection & fit
def _scene(tilt_deg: float, k1: float = 0.0, objects=None, jpeg=None, seed=0):
    camera = Camera(tilt_deg=tilt_deg, distance_mm=420.0)
    objects = objects if objects is not None else [PlaneShape("rectangle", (0, 0), (80, 120))]
    return render_board_scene(
        objects,
        MAT_BOARDS["A4"],
        camera,
        effects=PhotoEffects(distortion_k1=k1, jpeg_quality=jpeg),
        seed=seed,
    )


def test_fit_finds_the_board_the_lens_and_the_focal_length():
    scene = _scene(35.0, k1=0.08, jpeg=85)
    fit = locate_board(scene.image, "mat")
    assert fit.spec == MAT_BOARDS["A4"]
    assert fit.k1 == pytest.approx(0.08, abs=5 * fit.k1_sigma + 1e-3)
    assert fit.rms_px < 0.3
    assert fit.focal_px == pytest.approx(scene.camera.focal_px, rel=0.02)
    # The virtual corners are where the board's outer corners are in the photo.
    board_to_plane = np.array([[1, 0, -90.0], [0, 1, -120.0], [0, 0, 1]])
    truth = scene.to_image(project_points(board_to_plane, fit.board_corners))
    np.testing.assert_allclose(fit.image_corners, truth, atol=5 * fit.corner_sigma_px + 0.05)
    assert fit.plane_size_mm == pytest.approx((180.0, 240.0))


def test_face_on_board_gives_no_focal_length():
    fit = locate_board(_scene(0.0).image, "mat:A4")
    assert fit.focal_px is None
    assert abs(fit.k1) < 0.005


def test_corners_under_objects_are_dropped_or_rejected():
    # A wide object lying across the left and right rings covers many corners.
    cover = [PlaneShape("rectangle", (0, 40), (200, 60))]
    scene = _scene(20.0, objects=cover)
    fit = locate_board(scene.image, "mat")
    assert fit.used < 45
    assert fit.rms_px < 0.3


def test_no_board_is_reference_not_found():
    blank = np.full((400, 600, 3), 200, np.uint8)
    with pytest.raises(ReferenceNotFoundError):
        locate_board(blank, "mat")


def test_too_few_corners_is_reference_not_found():
    spec = BoardSpec(3, 3, 20.0, 15.0, "DICT_4X4_50")
    picture = np.pad(board_image(spec, 5.0), 30, constant_values=255)
    rgb = np.repeat(picture[..., None], 3, axis=2)
    detection = detect_board(rgb, (spec,))
    with pytest.raises(ReferenceNotFoundError):
        fit_board(detection, (rgb.shape[1], rgb.shape[0]))


# --------------------------------------------------------------------------- measuring


def _board_options(**kwargs) -> MeasureOptions:
    return MeasureOptions(method="homography", reference=ReferenceSpec(board="mat"), **kwargs)


def test_board_reference_measures_a_tilted_distorted_photo_within_its_interval():
    objects = [PlaneShape("rectangle", (-10, 5), (70, 110))]
    scene = _scene(30.0, k1=-0.08, objects=objects, jpeg=85, seed=3)
    result = measure(scene.mask, _board_options(), image=scene.image)
    obj = result.objects[0]
    true_w, true_h = scene.object_size_mm(0)
    assert abs(obj.width.value - true_w) <= obj.width.uncertainty
    assert abs(obj.height.value - true_h) <= obj.height.uncertainty
    assert abs(obj.width.value / true_w - 1) < 0.006
    assert result.reference.kind == "board"
    assert result.reference.fit_corners[0] >= 40
    assert any("reprojection RMS" in note for note in result.notes)
    data = result.to_dict()["reference"]
    assert data["fit"]["corners_used"] == result.reference.fit_corners[0]


def test_points_stay_in_photo_pixels_and_moving_them_onto_the_truth_gives_the_truth():
    rectangle = PlaneShape("rectangle", (0, 0), (80, 100))
    scene = _scene(35.0, k1=0.1, objects=[rectangle])
    result = measure(scene.mask, _board_options(), image=scene.image)
    # A, B, E are drawn on the photo: near the true corners there (within 1.5 px).
    tl, _, br, bl = scene.to_image(rectangle.outline_mm())
    obj = result.objects[0]
    for point, truth in ((obj.A, bl), (obj.B, br), (obj.E, tl)):
        assert np.linalg.norm(point - truth) < 1.5
    moved = remeasure(result, {"A": bl, "B": br, "E": tl})
    assert moved.objects[0].width.value == pytest.approx(80.0, abs=0.05)
    assert moved.objects[0].height.value == pytest.approx(100.0, abs=0.05)


def test_board_with_the_proportional_method_uses_its_axis_face_on():
    scene = _scene(0.0)
    options = MeasureOptions(reference=ReferenceSpec(board="mat"))
    result = measure(scene.mask, options, image=scene.image)
    assert result.reference.real == pytest.approx(240.0)
    assert result.objects[0].width.value == pytest.approx(80.0, rel=0.01)


def test_board_needs_the_photo_and_one_reference():
    scene = _scene(0.0)
    with pytest.raises(ParameterError):
        measure(scene.mask, _board_options())
    with pytest.raises(ParameterError):
        MeasureOptions(reference=ReferenceSpec(board="mat", size=(85.6, 54.0))).validated()
    with pytest.raises(ParameterError):
        MeasureOptions(reference=ReferenceSpec(board="chessboard")).validated()


# --------------------------------------------------------------------------- height
def test_raised_face_is_measured_in_its_own_plane():
    height_mm = 40.0
    plate = PlaneShape("rectangle", (0, 0), (70, 90))
    camera = Camera(tilt_deg=30.0, distance_mm=420.0)
    scene = render_board_scene(
        [plate], MAT_BOARDS["A4"], camera, object_heights_mm=[height_mm], seed=2
    )
    flat = measure(scene.mask, _board_options(), image=scene.image)
    # The camera's distance from the table, from the synthetic camera's geometry.
    columns = camera.extrinsic_columns()
    r1, r2 = columns[:, 0], columns[:, 1]
    rotation = np.column_stack([r1, r2, np.cross(r1, r2)])
    distance = abs((-rotation.T @ columns[:, 2])[2])
    assert flat.reference.camera_distance == pytest.approx(distance, rel=0.03)
    magnified = 70.0 * distance / (distance - height_mm)
    assert flat.objects[0].width.value == pytest.approx(magnified, rel=0.01)
    note = next(n for n in flat.notes if "for each 10 mm" in n)
    stated = float(note.split("+")[1].split("%")[0]) / 100
    assert stated == pytest.approx(10.0 / (distance - 10.0), abs=0.002)
    raised = measure(scene.mask, _board_options(object_height=height_mm), image=scene.image)
    obj = raised.objects[0]
    assert obj.width.value == pytest.approx(70.0, rel=0.006)
    assert obj.height.value == pytest.approx(90.0, rel=0.006)


def test_height_without_a_pose_is_refused():
    scene = _scene(0.0)  # face-on: no focal length from the board alone
    with pytest.raises(ParameterError, match="--camera"):
        measure(scene.mask, _board_options(object_height=20.0), image=scene.image)
