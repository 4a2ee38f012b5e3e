"""objlen.display.overlay: the mask over the photo, points, segments, numbers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from objlen import MeasureOptions, ReferenceSpec, measure, remeasure
from objlen.classes import ClassIds
from objlen.display.overlay import (
    CLASS_COLOURS,
    SEGMENT_COLOUR,
    annotated_image,
    annotated_png,
    annotated_size,
    blend_mask,
    display_base,
    display_size,
    draw_annotations,
    legend_items,
    points_of,
    render_display,
    render_display_png,
    thumbnail_png,
    to_display,
)
from objlen.display.points import POINT_COLOURS
from objlen.errors import ParameterError
from tests.conftest import draw_mask


@pytest.fixture
def scene() -> tuple[np.ndarray, np.ndarray]:
    """A noisy grey photo (300 x 400) and its mask: object and reference rectangles."""
    rng = np.random.default_rng(1)
    photo = rng.integers(60, 200, size=(300, 400, 3), dtype=np.uint8)
    mask = draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 119, 59))
    return photo, mask


@pytest.fixture
def measured(scene):
    _, mask = scene
    return measure(mask, MeasureOptions(reference=ReferenceSpec(length=50.0)))


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


# ------------------------------------------------------------------- blending
def test_opacity_zero_returns_the_photo(scene):
    photo, mask = scene
    out = blend_mask(photo, mask, ClassIds(), 0.0)
    assert np.array_equal(out, photo)
    assert out is not photo and not np.shares_memory(out, photo)


def test_opacity_one_paints_the_class_colours(scene):
    photo, mask = scene
    out = blend_mask(photo, mask, ClassIds(), 1.0)
    assert np.all(out[mask == 1] == CLASS_COLOURS["object"])
    assert np.all(out[mask == 2] == CLASS_COLOURS["reference"])
    assert np.array_equal(out[mask == 0], photo[mask == 0])


def test_half_opacity_mixes(scene):
    photo, mask = scene
    out = blend_mask(photo, mask, ClassIds(), 0.5).astype(int)
    expected = (photo[mask == 1].astype(int) + np.array(CLASS_COLOURS["object"])) / 2
    assert np.abs(out[mask == 1] - expected).max() <= 1


def test_configured_class_ids_are_used(scene):
    photo, mask = scene
    classes = ClassIds(object=2, reference=1)
    out = blend_mask(photo, mask, classes, 1.0)
    assert np.all(out[mask == 2] == CLASS_COLOURS["object"])


def test_blend_refuses_mismatched_sizes_and_opacity(scene):
    photo, mask = scene
    with pytest.raises(ParameterError, match="differ"):
        blend_mask(photo, mask[:-1], ClassIds(), 0.5)
    with pytest.raises(ParameterError, match="opacity"):
        blend_mask(photo, mask, ClassIds(), 1.5)


# ---------------------------------------------------------------- display size
def test_display_size_keeps_the_aspect_and_fits():
    assert display_size((4000, 3000), (760, 570)) == (760, 570)
    assert display_size((3024, 4032), (760, 570)) == (428, 570)
    assert display_size((200, 100), (760, 570)) == (760, 380)
    with pytest.raises(ParameterError):
        display_size((0, 10))


def test_to_display_maps_pixel_edges_to_edges():
    edges = to_display([[-0.5, -0.5], [1599.5, 1199.5]], (1600, 1200), (760, 570))
    assert np.allclose(edges, [[-0.5, -0.5], [759.5, 569.5]])


def test_display_base_is_display_sized_and_opacity_zero_is_the_resized_photo(scene):
    photo, mask = scene
    base = display_base(photo, mask, ClassIds(), 0.0, (200, 150))
    assert base.shape == (150, 200, 3)
    assert abs(float(base.mean()) - float(photo.mean())) < 1.0
    tinted = display_base(photo, mask, ClassIds(), 0.6, (200, 150))
    assert not np.array_equal(tinted, base)


# --------------------------------------------------------------------- drawing
def test_movable_points_leave_out_a_fixed_reference(measured):
    assert set(points_of(measured, movable_only=True)) == {"A", "B", "E", "C", "D"}
    mask = draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 119, 79))
    homography = measure(
        mask, MeasureOptions(reference=ReferenceSpec(size=(50.0, 30.0)), method="homography")
    )
    movable = points_of(homography, movable_only=True)
    assert set(movable) == {"A", "B", "E"}
    remeasure(homography, movable)  # all of them are accepted as moved
    with pytest.raises(ParameterError):
        remeasure(homography, {"C": points_of(homography)["C"]})
    given = measure(mask, MeasureOptions(reference=ReferenceSpec(scale=0.5)))
    assert set(points_of(given, movable_only=True)) == {"A", "B", "E"}


def test_points_have_their_colour_where_they_are(scene, measured):
    photo, _ = scene
    points = points_of(measured)
    assert set(points) == {"A", "B", "E", "C", "D"}
    out = draw_annotations(photo, points)
    for name, (x, y) in points.items():
        assert tuple(out[round(y), round(x)]) == POINT_COLOURS[name], name


def test_segments_are_drawn_between_points(scene, measured):
    photo, _ = scene
    points = points_of(measured)
    out = draw_annotations(photo, points, labels=False, line_width=3)
    (ax, ay), (bx, by) = points["A"], points["B"]
    middle = out[int((ay + by) / 2), int((ax + bx) / 2)]  # a 3 px line covers this pixel
    assert tuple(middle) == SEGMENT_COLOUR
    assert np.array_equal(draw_annotations(photo, {}), photo)


def test_render_display_puts_points_at_their_display_position(scene, measured):
    photo, mask = scene
    size = (200, 150)
    base = display_base(photo, mask, ClassIds(), 0.4, size)
    moved = remeasure(measured, {"B": [380.0, 199.5]})
    points = points_of(moved)
    shown = render_display(base, (400, 300), points)
    assert shown.shape == base.shape
    where = to_display([points[n] for n in points], (400, 300), size)
    for name, (x, y) in zip(points, where, strict=True):
        assert tuple(shown[round(y), round(x)]) == POINT_COLOURS[name], name
    png = render_display_png(base, (400, 300), points)
    assert np.array_equal(decode(png), shown)


def test_render_display_draws_reference_corners():
    mask = draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 119, 79))
    photo = np.full((300, 400, 3), 128, np.uint8)
    result = measure(
        mask, MeasureOptions(reference=ReferenceSpec(size=(50.0, 30.0)), method="homography")
    )
    assert result.reference.corners is not None
    base = display_base(photo, mask, ClassIds(), 0.0, (400, 300))
    with_corners = render_display(base, (400, 300), {}, result.reference.corners)
    without = render_display(base, (400, 300), {})
    x, y = result.reference.corners[0]
    assert not np.array_equal(with_corners[round(y), round(x)], without[round(y), round(x)])


def test_legend_lists_classes_and_points():
    labels = [label for label, _ in legend_items(ClassIds(object=3, reference=4))]
    assert "object (class 3)" in labels and "reference (class 4)" in labels
    assert sum(label[0] in "ABECD" and label[1] == " " for label in labels) == 5
    assert len(legend_items(ClassIds(), points=False)) == 3


def test_annotated_image_has_the_legend_below_the_photo(scene, measured):
    photo, mask = scene
    plain = blend_mask(photo, mask, ClassIds(), 0.35)
    annotated = annotated_image(photo, mask, measured, ClassIds())
    height, width = photo.shape[:2]
    assert annotated.shape[1] == width and annotated.shape[0] > height + 60
    strip = annotated[height:]
    assert strip.mean() < 60  # the dark legend strip, with light text on it
    assert (strip > 200).any()
    corner = (slice(0, 40), slice(0, 200))
    assert abs(annotated[corner].astype(float).mean() - plain[corner].mean()) < 5  # uncovered
    png = annotated_png(photo, mask, measured, ClassIds())
    assert np.array_equal(decode(png), annotated)


def test_every_object_is_labelled_with_its_numbers():
    """Two objects: a dark chip above each box, inside the picture."""
    mask = draw_mask((300, 400), [(60, 150, 159, 219), (250, 120, 349, 269)], (20, 20, 119, 29))
    photo = np.full((300, 400, 3), 200, np.uint8)
    options = MeasureOptions(reference=ReferenceSpec(length=50.0), all_objects=True)
    result = measure(mask, options)
    picture = annotated_image(photo, mask, result, ClassIds(), 0.0)[:300]
    for top, (x0, x1) in ((150, (60, 160)), (120, (250, 350))):
        above = picture[max(0, top - 30) : top - 2, x0:x1]
        assert (above.max(axis=-1) < 40).sum() > 100, "no chip above the object"


def test_annotated_size_shrinks_only_larger_photos():
    assert annotated_size((4000, 3000), 1600) == (1600, 1200)
    assert annotated_size((3000, 4000), 1600) == (1200, 1600)
    assert annotated_size((1600, 1200), 1600) == (1600, 1200)
    assert annotated_size((200, 100), 1600) == (200, 100)  # never enlarged
    assert annotated_size((4000, 3000)) == (4000, 3000)
    with pytest.raises(ParameterError):
        annotated_size((400, 300), 0)


def test_annotated_image_with_max_side_is_the_same_picture_smaller(scene, measured):
    photo, mask = scene
    small = annotated_image(photo, mask, measured, ClassIds(), max_side=200)
    assert small.shape[1:] == (200, 3) and small.shape[0] > 150
    full = annotated_image(photo, mask, measured, ClassIds(), max_side=400)
    assert np.array_equal(full, annotated_image(photo, mask, measured, ClassIds()))
    png = annotated_png(photo, mask, measured, ClassIds(), max_side=200)
    assert np.array_equal(decode(png), small)


def test_shrunk_annotated_image_puts_points_where_they_are():
    """A 1200 x 900 photo drawn at 600 px: every point in its own colour at
    its place in the smaller picture (half the photo's pixel-edge coordinates)."""
    mask = draw_mask((900, 1200), [(600, 500, 1099, 799)], (100, 600, 299, 699))
    photo = np.full((900, 1200, 3), 128, np.uint8)
    result = measure(mask, MeasureOptions(reference=ReferenceSpec(length=50.0)))
    picture = annotated_image(photo, mask, result, ClassIds(), max_side=600)
    assert picture.shape[1:] == (600, 3) and picture.shape[0] > 450
    points = points_of(result)
    assert set(points) == {"A", "B", "E", "C", "D"}
    for name, (x, y) in points.items():
        col, row = round((x + 0.5) / 2 - 0.5), round((y + 0.5) / 2 - 0.5)
        assert tuple(picture[row, col]) == POINT_COLOURS[name], name


def test_annotated_marks_grow_with_large_pictures():
    """Above the design size (1000 px) marks grow with the picture: point B's
    disc has twice the radius, so four times the area, at 2000 px."""
    photo = np.full((1000, 2000, 3), 128, np.uint8)
    mask = draw_mask((1000, 2000), [(1000, 400, 1799, 899)], (100, 600, 499, 799))
    result = measure(mask, MeasureOptions(reference=ReferenceSpec(length=50.0)))
    bx, by = points_of(result)["B"]
    areas = []
    for side in (1000, 2000):
        picture = annotated_image(photo, mask, result, ClassIds(), 0.0, max_side=side)
        factor = side / 2000
        rows, cols = np.mgrid[: picture.shape[0], : picture.shape[1]]
        x, y = (bx + 0.5) * factor - 0.5, (by + 0.5) * factor - 0.5
        near = np.hypot(cols - x, rows - y) <= 12 * factor  # 1.5 x the expected radius
        areas.append(int((near & (picture == POINT_COLOURS["B"]).all(axis=-1)).sum()))
    assert areas[0] > 20
    assert 3.0 < areas[1] / areas[0] < 5.0


def test_thumbnail_is_small(scene, measured):
    photo, mask = scene
    thumb = decode(thumbnail_png(photo, mask, measured, ClassIds(), max_side=128))
    assert max(thumb.shape[:2]) == 128
    assert thumb.shape[:2] == (96, 128)
