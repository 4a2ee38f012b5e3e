"""The operator's working state (objlen.workbench), without Streamlit: every
object, clicks that choose the reference or leave a region out, a box on a
merged blob, brush strokes, moved points that survive other corrections,
events applied once, the box orientation, and a saved measurement reopened
and saved as its next version. Also the mask edits (objlen.maskedit), the
operator's messages (objlen.advice) and the reference presets."""

from __future__ import annotations

import numpy as np
import pytest

from objlen import MeasureOptions, ReferenceSpec, load_image
from objlen.advice import check_photo_size, choose_orientation, operator_warnings
from objlen.classes import ClassIds
from objlen.errors import ImageReadError, ObjlenError, ParameterError
from objlen.imageio import encode_png, sha256_hex
from objlen.maskedit import paint_stroke, parse_box, region_at, set_region_role
from objlen.presets import PRESETS, describe_spec, preset_of_spec
from objlen.segment import make_segmenter
from objlen.store import Store
from objlen.testing.realphotos import realphotos_dir
from objlen.workbench import Photo, Segmented, Workbench
from tests.conftest import draw_mask, rotated_rectangle_mask

CLASSES = ClassIds()


def photo_of(mask: np.ndarray) -> tuple[Photo, np.ndarray]:
    """A plain grey photo the size of ``mask`` (for masks given directly)."""
    image = np.full((*mask.shape, 3), 128, np.uint8)
    data = encode_png(image)
    return Photo("test.png", data, sha256_hex(data)), image


def bench_with(mask: np.ndarray, spec: ReferenceSpec | None = None, **options) -> Workbench:
    bench = Workbench()
    photo, image = photo_of(mask)
    bench.set_photo(photo, image)
    bench.set_options(
        MeasureOptions(reference=spec or ReferenceSpec(length=50.0), **options), confirmed=True
    )
    bench.set_segmentation(Segmented(mask, backend="test"), key="test")
    return bench


def three_objects() -> np.ndarray:
    """Reference 100 px long (50 mm: 0.5 mm/px) and three objects, largest first:
    100 x 100 px, 60 x 50 px, 30 x 20 px."""
    return draw_mask(
        (300, 400),
        [(50, 100, 149, 199), (200, 100, 259, 149), (300, 220, 329, 239)],
        (20, 20, 119, 29),
    )


@pytest.fixture(scope="module")
def real_photo():
    """example_02.png: a US quarter (left) and five pills on dark wood, segmented."""
    path = realphotos_dir() / "unlabelled" / "example_02.png"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    data = path.read_bytes()
    image = load_image(data)
    spec = PRESETS["us_quarter"].spec("mm")
    seg = make_segmenter("local", classes=CLASSES, reference=spec).segment(image)
    return Photo(path.name, data, sha256_hex(data)), image, spec, seg


def real_bench(real_photo) -> Workbench:
    photo, image, spec, seg = real_photo
    bench = Workbench()
    bench.set_photo(photo, image)
    bench.set_options(MeasureOptions(reference=spec), preset="us_quarter", confirmed=True)
    bench.set_segmentation(Segmented(seg.mask, seg.warnings, seg.notes, "local", 0.3), key="k")
    return bench


# ------------------------------------------------------------------ every object
def test_every_object_is_measured_largest_first():
    bench = bench_with(three_objects())
    current = bench.current()
    assert len(current.objects) == 3
    widths = [obj.width.value for obj in current.objects]
    assert widths == pytest.approx([50.0, 30.0, 15.0], abs=0.01)
    rows = bench.object_rows()
    assert [row["object"] for row in rows] == [1, 2, 3]
    assert rows[0]["width"].startswith("50.00 ± ") and rows[0]["width"].endswith(" mm")


def test_a_real_photo_gives_five_objects_and_the_quarter_as_reference(real_photo):
    bench = real_bench(real_photo)
    assert any("equally like the reference" in w for w in bench.warnings())
    current = bench.current()
    assert len(current.objects) == 5
    # the quarter, about 131 px across in this photo, is the reference
    assert current.reference.pixels == pytest.approx(131, abs=6)
    assert bench.reference_text() == "US quarter Ø 24.26 mm"


def test_a_new_photo_forgets_the_reference_said_for_the_last_one():
    bench = bench_with(three_objects())
    assert bench.reference_confirmed
    photo, image = photo_of(three_objects())
    bench.set_photo(photo, image)
    assert not bench.reference_confirmed
    assert bench.segmented is None and bench.edits == [] and bench.moved == {}


# ------------------------------------------------------------------ clicks
def test_a_click_makes_a_region_the_reference_and_undo_takes_it_back():
    bench = bench_with(three_objects())
    before = bench.current()
    assert bench.apply_event({"type": "role", "x": 230, "y": 125, "role": "reference", "seq": "1"})
    after = bench.current()
    assert after.reference.pixels == pytest.approx(bench_ref_px := 60.0, abs=1)
    assert after.reference.scale == pytest.approx(50.0 / bench_ref_px, rel=0.02)
    # the old reference is now an object; the clicked one is not
    assert len(after.objects) == 3
    assert "now the reference" in bench.message
    assert bench.undo()
    assert bench.current().reference.pixels == pytest.approx(before.reference.pixels)


def test_a_click_leaves_a_region_out_and_the_note_says_so():
    bench = bench_with(three_objects())
    bench.apply_event({"type": "role", "x": 310, "y": 230, "role": "excluded", "seq": "1"})
    assert len(bench.current().objects) == 2
    assert any("1 region left out by you" in note for note in bench.notes())
    bench.apply_event({"type": "role", "x": 310, "y": 230, "role": "object", "seq": "2"})
    assert len(bench.current().objects) == 3


def test_a_click_on_the_background_is_explained_and_changes_nothing():
    bench = bench_with(three_objects())
    with pytest.raises(ParameterError, match="no region under that point"):
        bench.apply_event({"type": "role", "x": 5, "y": 290, "role": "reference", "seq": "1"})
    assert bench.edits == []


def test_choosing_the_reference_by_a_click_on_a_real_photo(real_photo):
    bench = real_bench(real_photo)
    # make the pill at (427, 307) the reference, then the quarter again
    bench.apply_event({"type": "role", "x": 427, "y": 307, "role": "reference", "seq": "a"})
    assert bench.current().reference.pixels == pytest.approx(66, abs=4)
    bench.apply_event({"type": "role", "x": 120, "y": 360, "role": "reference", "seq": "b"})
    assert bench.current().reference.pixels == pytest.approx(131, abs=6)
    assert len(bench.current().objects) == 5
    # the segmenter's doubt about which disc is the reference no longer applies
    assert not any("equally like the reference" in w for w in bench.warnings())
    assert any("the reference is the region you clicked at (120, 360)" in n for n in bench.notes())


# ------------------------------------------------------------------ box and brush
def test_a_box_cuts_one_pill_out_of_a_merged_blob():
    """pills/real.jpg: the author's handwriting joins the oblong orange pill
    to its label; a box around the pill measures the pill alone."""
    path = realphotos_dir() / "pills" / "real.jpg"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    data = path.read_bytes()
    image = load_image(data)
    spec = ReferenceSpec(length=25.75)
    seg = make_segmenter("local", classes=CLASSES, reference=spec).segment(image)
    bench = Workbench()
    bench.set_photo(Photo(path.name, data, sha256_hex(data)), image)
    bench.set_options(MeasureOptions(reference=spec), preset="euro_2", confirmed=True)
    bench.set_segmentation(Segmented(seg.mask, seg.warnings, seg.notes, "local"), key="k")

    def pill():
        for obj in bench.current().objects:
            centre = (obj.A + obj.B + obj.E + (obj.B + obj.E - obj.A)) / 4
            if abs(centre[0] - 152) < 40 and abs(centre[1] - 566) < 50:
                return obj
        raise AssertionError("no object at the orange pill")

    merged = pill()
    count = len(bench.current().objects)
    bench.apply_event({"type": "box", "x": 100, "y": 490, "w": 92, "h": 112, "seq": "1"})
    alone = pill()
    assert alone.area_px < merged.area_px  # the handwriting is no longer part of it
    assert len(bench.current().objects) == count + 1  # the label left outside the box
    truth_long, truth_short = 12.0, 6.0  # hand-measured to 1 mm by the photo's author
    long, short = sorted([alone.width.value, alone.height.value], reverse=True)
    merged_long, merged_short = sorted([merged.width.value, merged.height.value], reverse=True)
    assert long == pytest.approx(truth_long, abs=1.0)
    assert abs(long - truth_long) < abs(merged_long - truth_long) - 2
    assert abs(short - truth_short) < abs(merged_short - truth_short)
    assert "cut out" in bench.message


def test_an_erasing_stroke_splits_an_object_in_two():
    bench = bench_with(three_objects())
    bench.apply_event(
        {
            "type": "stroke",
            "brush": "erase",
            "radius": 3,
            "points": [[100, 90], [100, 210]],
            "seq": "1",
        }
    )
    assert len(bench.current().objects) == 4
    assert "px changed" in bench.message


def test_a_reference_stroke_paints_the_reference():
    mask = three_objects()
    painted = paint_stroke(mask, [(330, 40), (380, 40)], 4, CLASSES.reference)
    assert painted[40, 330] == CLASSES.reference and painted[40, 380] == CLASSES.reference
    assert painted[40, 386] == 0 and painted[46, 355] == 0
    assert mask[40, 330] == 0  # the input is not modified


# ------------------------------------------------------------------ moved points
def test_a_moved_point_survives_a_correction_elsewhere():
    bench = bench_with(three_objects())
    b = bench.current().objects[0].B
    bench.apply_event(
        {"type": "move", "object": 0, "point": "B", "x": b[0] + 10, "y": b[1], "seq": "m"}
    )
    moved_width = bench.current().objects[0].width.value
    assert moved_width == pytest.approx(55.0, abs=0.01)
    bench.apply_event({"type": "role", "x": 310, "y": 230, "role": "excluded", "seq": "x"})
    assert bench.current().objects[0].width.value == pytest.approx(moved_width)
    assert bench.current().objects[0].moved == ("B",)
    bench.reset_points()
    assert bench.current().objects[0].width.value == pytest.approx(50.0, abs=0.01)


def test_an_event_is_applied_once():
    bench = bench_with(three_objects())
    b = bench.current().objects[0].B
    event = {"type": "move", "object": 0, "point": "B", "x": b[0] + 10, "y": b[1], "seq": "7"}
    assert bench.apply_event(event)
    bench.apply_event({"type": "move", "object": 0, "point": "B", "x": b[0], "y": b[1], "seq": "8"})
    assert not bench.apply_event(event)  # a rerun with the same event: ignored
    assert bench.current().objects[0].width.value == pytest.approx(50.0, abs=0.01)


def test_selecting_an_object_and_moving_its_point():
    bench = bench_with(three_objects())
    bench.apply_event({"type": "select", "object": 2, "seq": "s"})
    assert bench.selected_index == 2
    e = bench.current().objects[2].E
    bench.apply_event({"type": "move", "object": 2, "point": "E", "x": e[0], "y": e[1] - 4})
    assert bench.current().objects[2].height.value == pytest.approx(12.0, abs=0.01)
    assert bench.object_rows()[2]["note"].endswith("moved E")


def test_a_move_of_c_on_a_corner_reference_is_refused():
    bench = bench_with(three_objects(), ReferenceSpec(size=(50.0, 5.0)), method="homography")
    with pytest.raises(ParameterError, match="corners"):
        bench.apply_event({"type": "move", "point": "C", "x": 10, "y": 10, "seq": "c"})


# ------------------------------------------------------------------ orientation
def test_a_clearly_turned_object_turns_the_boxes_and_a_disc_does_not():
    turned = rotated_rectangle_mask((400, 400), (250, 250), (160, 60), 30)
    turned[20:30, 20:120] = 2
    choice = choose_orientation(turned, MeasureOptions(reference=ReferenceSpec(length=50.0)))
    assert choice.orientation == "auto" and "turned 30°" in choice.reason
    bench = bench_with(turned)
    assert bench.current().options.orientation == "auto"
    assert bench.current().objects[0].width.value == pytest.approx(80.0, rel=0.02)

    disc = np.zeros((400, 400), np.uint8)
    yy, xx = np.mgrid[:400, :400]
    disc[(xx - 250) ** 2 + (yy - 250) ** 2 < 80**2] = 1
    disc[20:30, 20:120] = 2
    choice = choose_orientation(disc, MeasureOptions(reference=ReferenceSpec(length=50.0)))
    assert choice.orientation == "upright" and "no object is clearly turned" in choice.reason


def test_the_operator_can_force_upright_boxes():
    turned = rotated_rectangle_mask((400, 400), (250, 250), (160, 60), 30)
    turned[20:30, 20:120] = 2
    bench = bench_with(turned)
    bench.set_options(
        MeasureOptions(reference=ReferenceSpec(length=50.0)), orientation_mode="upright"
    )
    assert bench.current().options.orientation == "upright"
    assert "as you chose" in bench.orientation().reason


# ------------------------------------------------------------------ messages
def test_one_warning_for_every_uncertain_object():
    small = draw_mask((300, 400), [(200, 100, 211, 111), (250, 100, 259, 109)], (20, 20, 39, 24))
    bench = bench_with(small, ReferenceSpec(length=10.0))
    raw = bench.current().warnings
    assert sum("uncertainty" in w for w in raw) == 4  # width and height of two objects
    merged = operator_warnings(bench.current())
    assert len([w for w in merged if "more uncertain" in w]) == 1
    assert merged[-1].startswith("objects 1, 2: lengths ±")


def test_a_one_pixel_photo_is_refused_in_plain_words():
    with pytest.raises(ImageReadError, match=r"only 1 × 1 pixels: objlen needs at least 16 × 16"):
        check_photo_size(np.zeros((1, 1, 3), np.uint8))
    bench = Workbench()
    with pytest.raises(ImageReadError):
        bench.set_photo(Photo("x.png", b"", "0"), np.zeros((1, 1, 3), np.uint8))


# ------------------------------------------------------------------ saving and reopening
def test_save_reopen_correct_and_save_a_new_version(tmp_path):
    bench = bench_with(three_objects())
    bench.apply_event({"type": "role", "x": 310, "y": 230, "role": "excluded", "seq": "1"})
    b = bench.current().objects[1].B
    bench.apply_event({"type": "move", "object": 1, "point": "B", "x": b[0] + 6, "y": b[1]})
    current = bench.current()
    store = Store(tmp_path / "h.sqlite3")
    first = store.save(
        current,
        image_name=bench.photo.name,
        image_bytes=bench.photo.data,
        mask_png=encode_png(bench.mask),
        settings=bench.settings_record({}),
        choices=bench.choices(),
    )
    row = store.get(first)
    assert row.choices["edits"][0]["role"] == "excluded"
    assert len(store.objects(first)) == 2

    reopened = Workbench()
    mask = load_image_mask(store, row)
    reopened.restore(
        Photo(row.image_name, bench.photo.data, row.image_sha256, source="history"),
        bench.image,
        mask,
        row.result,
        row.settings,
        row.choices,
        parent_id=first,
    )
    again = reopened.current()
    assert [o.width.value for o in again.objects] == pytest.approx(
        [o.width.value for o in current.objects]
    )
    assert again.objects[1].moved == ("B",)
    e = again.objects[0].E
    reopened.apply_event({"type": "move", "object": 0, "point": "E", "x": e[0], "y": e[1] - 2})
    second = store.save(
        reopened.current(),
        image_name=row.image_name,
        image_bytes=bench.photo.data,
        mask_png=encode_png(reopened.mask),
        settings=reopened.settings_record({}),
        choices=reopened.choices(),
        parent_id=reopened.parent_id,
    )
    assert store.get(second).version == 2 and store.get(second).parent_id == first
    assert store.get(first).height == pytest.approx(current.objects[0].height.value)
    assert store.get(second).height == pytest.approx(current.objects[0].height.value + 1.0)


def load_image_mask(store: Store, row) -> np.ndarray:
    from objlen.imageio import load_mask

    mask, _ = load_mask(store.mask_path(row), (400, 300))
    return mask


# ------------------------------------------------------------------ small pieces
def test_region_at_and_role_changes_keep_one_reference():
    mask = three_objects()
    assert region_at(mask, 60.4, 110).sum() == 100 * 100
    change = set_region_role(mask, 210, 110, "reference", CLASSES)
    assert (change.mask == CLASSES.reference).sum() == 60 * 50  # the old one became an object
    assert (mask == CLASSES.reference).sum() == 100 * 10


def test_parse_box_reads_x_y_w_h():
    assert parse_box(" 1, 2,30 ,40") == (1.0, 2.0, 30.0, 40.0)
    for bad in ("1,2,3", "a,b,c,d", "1,2,0,5"):
        with pytest.raises(ParameterError):
            parse_box(bad)


def test_presets_in_other_units_and_their_names():
    card = PRESETS["card"]
    assert card.spec("in").size == pytest.approx((85.60 / 25.4, 53.98 / 25.4), abs=1e-5)
    described = describe_spec(card.spec("mm"), "mm", "card")
    assert described == "ID-1 card (bank or ID card) 85.60 × 53.98 mm"
    assert preset_of_spec(PRESETS["yen_10"].spec("cm"), "cm") == "yen_10"
    with pytest.raises(ObjlenError):
        PRESETS["custom"].spec("mm")
