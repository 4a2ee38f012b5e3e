"""Tests of the real-photo harness itself (objlen.testing.realphotos, bench/classic_peer.py).

They check the harness, not objlen's accuracy: where the real photos are
looked for, how truth is matched and scored, that objlen is called the way
an operator calls it, and that the classic peer does what the tutorials do.
The targets objlen must reach on the photos are in tests/test_realphoto_targets.py.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.classic_peer import PeerResult, classic_measure
from objlen import MeasureOptions, ReferenceSpec
from objlen.imageio import load_image
from objlen.segment.base import Segmentation
from objlen.testing import realphotos
from objlen.testing.realphotos import (
    ENV_VAR,
    PEER,
    REFERENCE_RADIUS_SHARE,
    LabelledPhoto,
    MeasuredBox,
    ObjectScore,
    ReferenceScore,
    TruthObject,
    box,
    evaluate_all_objlen,
    load_labelled,
    measure_with_objlen,
    nearest,
    objlen_runs,
    realphotos_dir,
    reference_score,
    score_boxes,
    score_object,
    summarise,
)
from tests.conftest import draw_mask

PEER_TOLERANCE = 0.10  # the classic peer's coins must be within 10 %
SCENE_PX_PER_MM = 4.0  # the drawn test scenes
REFERENCE_RADIUS_PX, SMALL_DISC_RADIUS_PX = 50, 30  # cv2.circle covers 2 r + 1 pixels
CLEAN_SCENE_TOLERANCE = 0.02


def _real_photos() -> Path:
    """The shared real-photo folder, or a test failure that says how to provide it."""
    try:
        return realphotos_dir()
    except FileNotFoundError as exc:
        pytest.fail(f"real photos missing: {exc}")


def _truth(name: str, approx_px, truth_mm, grade: str = "primary") -> TruthObject:
    long, short = sorted(truth_mm, reverse=True)
    return TruthObject(name, tuple(approx_px), (long, short), grade)


# --------------------------------------------------------------------------- folder
def test_the_env_var_overrides_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert realphotos_dir() == tmp_path
    assert realphotos_dir(tmp_path / ".") == tmp_path / "."  # an explicit path wins


def test_the_default_folder_is_shared_beside_the_repository(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    repo = Path(realphotos.__file__).resolve().parents[2]
    expected = (repo / ".." / "shared" / "realphotos").resolve()
    if expected.is_dir():
        assert realphotos_dir() == expected
    else:
        with pytest.raises(FileNotFoundError, match="shared"):
            realphotos_dir()


def test_a_missing_folder_says_where_it_looked_and_how_to_fix_it(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(ENV_VAR, str(missing))
    with pytest.raises(FileNotFoundError) as error:
        realphotos_dir()
    assert str(missing) in str(error.value)
    assert ENV_VAR in str(error.value)


# --------------------------------------------------------------------------- matching
def test_matching_picks_the_nearest_centre():
    boxes = [box((100, 100), (10, 10)), box((150, 100), (10, 10)), box((141, 160), (10, 10))]
    index, distance = nearest((140, 100), boxes, radius_px=50)
    assert index == 1
    assert distance == pytest.approx(10.0)


def test_nothing_within_the_radius_is_a_miss():
    boxes = [box((100, 100), (10, 10))]
    assert nearest((140, 100), boxes, radius_px=39.9) is None
    assert nearest((140, 100), [], radius_px=1e9) is None


def test_a_missed_object_is_reported_and_two_truths_may_share_one_box(tmp_path):
    photo = _scene_photo(tmp_path)  # 4 px/mm
    truths = [
        _truth("left", (100, 100), (10, 10)),
        _truth("right", (110, 100), (10, 10)),
        _truth("far", (400, 400), (10, 10)),
    ]
    boxes = [box((105, 100), (20, 10))]  # two touching objects merged into one box
    left, right, far = score_boxes(photo, "run", "tool", boxes, truths)
    assert left.measured is right.measured is boxes[0]
    assert left.errors == right.errors == (1.0, 0.0)
    assert far.missed and far.errors is None and far.inside is None
    assert far.worst_error == math.inf


# --------------------------------------------------------------------------- scoring
def test_an_exact_measurement_scores_zero_and_lies_inside_its_interval():
    truth = _truth("pill", (0, 0), (12.0, 6.0))
    errors, inside = score_object(truth, box((0, 0), (12.0, 6.0), (0.1, 0.1)))
    assert errors == (0.0, 0.0)
    assert inside == (True, True)


def test_a_coarse_truth_counts_its_own_uncertainty():
    # 13.6 +- 0.4 against a hand measurement of 13 mm to 1 mm (+-0.5): they
    # agree within sqrt(0.4^2 + 0.5^2) = 0.64, not within 0.4 alone.
    hand = replace(_truth("pill", (0, 0), (13.0, 13.0)), truth_u_mm=0.5)
    exact = _truth("pill", (0, 0), (13.0, 13.0))
    measured = box((0, 0), (13.6, 13.3), (0.4, 0.4))
    assert score_object(hand, measured)[1] == (True, True)
    assert score_object(exact, measured)[1] == (False, True)


def test_the_pills_truth_is_read_as_measured_to_a_millimetre():
    pills = [p for p in load_labelled() if p.folder == "pills"]
    assert pills and all(o.truth_u_mm == 0.5 for p in pills for o in p.objects)


def test_dimensions_are_compared_sorted_with_their_own_uncertainty():
    measured = box((0, 0), (6.0, 12.5), (0.1, 0.4))  # width 6, height 12.5: lying upright
    assert measured.dims_mm == (12.5, 6.0)
    assert measured.uncertainty_mm == (0.4, 0.1)
    errors, inside = score_object(_truth("pill", (0, 0), (6.0, 12.0)), measured)
    assert errors == pytest.approx((0.5 / 12.0, 0.0))
    assert inside == (False, True)  # 12.5 ± 0.4 misses 12; 6 ± 0.1 holds 6


def test_a_tool_without_uncertainty_has_no_inside_verdict():
    errors, inside = score_object(_truth("coin", (0, 0), (20, 20)), box((0, 0), (19, 21)))
    assert errors == pytest.approx((0.05, -0.05))
    assert inside is None


def test_the_reference_is_right_within_half_its_size(tmp_path):
    photo = _scene_photo(tmp_path)
    ref = photo.reference
    radius = REFERENCE_RADIUS_SHARE * ref.extent_px
    x, y = ref.approx_px
    assert reference_score(photo, "r", "t", (x + radius - 0.1, y)).correct
    assert not reference_score(photo, "r", "t", (x, y + radius + 0.1)).correct
    failed = reference_score(photo, "r", "t", None, "no reference")
    assert not failed.correct and failed.error == "no reference"


def test_summary_counts_misses_apart_and_takes_median_and_max_of_lengths():
    def row(errors, inside):
        measured = None if errors is None else box((0, 0), (1, 1))
        return ObjectScore("s", "p", "r", "t", "o", "primary", (1, 1), measured, errors, inside, 0)

    scores = [
        row((0.01, -0.03), (True, False)),
        row((0.02, 0.10), (True, True)),
        row(None, None),
    ]
    refs = [
        ReferenceScore("s", "p", "r", "t", 1.0, True),
        ReferenceScore("s", "q", "r", "t", None, False),
    ]
    summary = summarise(scores, refs)
    assert (summary.objects, summary.missed) == (3, 1)
    assert summary.median_error == pytest.approx(0.025)
    assert summary.max_error == pytest.approx(0.10)
    assert (summary.inside, summary.lengths, summary.coverage) == (3, 4, 0.75)
    assert (summary.references_correct, summary.photos) == (1, 2)


# --------------------------------------------------------------------------- objlen call
class _FakeSegmenter:
    name = "fake"

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask

    def segment(self, image_rgb: np.ndarray) -> Segmentation:
        return Segmentation(mask=self.mask, backend=self.name, notes=("fake",))


@pytest.mark.parametrize("accepts_reference", [True, False])
def test_the_segmenter_is_told_the_reference_when_it_can_be(monkeypatch, accepts_reference):
    mask = draw_mask((200, 300), objects=[(150, 50, 249, 99)], reference=(10, 10, 59, 59))
    calls: list[dict] = []

    def with_reference(backend, *, classes, reference=None):
        calls.append({"backend": backend, "reference": reference})
        return _FakeSegmenter(mask)

    def without_reference(backend, *, classes, reference_rule="leftmost"):
        calls.append({"backend": backend})
        return _FakeSegmenter(mask)

    fake = with_reference if accepts_reference else without_reference
    monkeypatch.setattr("objlen.segment.make_segmenter", fake)
    spec = ReferenceSpec(length=25.0)
    result = measure_with_objlen(np.zeros((200, 300, 3), np.uint8), spec, MeasureOptions())
    assert calls[0]["backend"] == "local"
    assert ("reference" in calls[0]) is accepts_reference
    if accepts_reference:
        assert calls[0]["reference"] == spec
    assert result.options.reference == spec and result.options.all_objects
    assert result.objects[0].width.value == pytest.approx(100 * 25.0 / 50)  # 100 px, 0.5 mm/px
    assert "fake" in result.notes


# --------------------------------------------------------------------------- end to end
def _scene_photo(folder: Path) -> LabelledPhoto:
    """A drawn photo at 4 px/mm: a 25.25 mm disc (reference) left, a 40 x 20 mm
    bar and a 15.25 mm disc on grey, with its truth.json; loaded back."""
    scale = SCENE_PX_PER_MM
    reference_mm = (2 * REFERENCE_RADIUS_PX + 1) / scale
    small_mm = (2 * SMALL_DISC_RADIUS_PX + 1) / scale
    image = np.full((400, 600, 3), 90, np.uint8)
    cv2.circle(image, (120, 200), REFERENCE_RADIUS_PX, (230, 220, 200), -1, cv2.LINE_AA)
    cv2.rectangle(image, (300, 100), (300 + 160 - 1, 100 + 80 - 1), (40, 120, 200), -1)
    cv2.circle(image, (420, 300), SMALL_DISC_RADIUS_PX, (240, 240, 240), -1, cv2.LINE_AA)
    scene = folder / "scene"
    scene.mkdir(exist_ok=True)
    cv2.imwrite(str(scene / "scene.png"), image[:, :, ::-1])
    truth = {
        "set": "drawn",
        "images": [
            {
                "file": "scene.png",
                "reference": {
                    "what": "disc",
                    "size_mm": reference_mm,
                    "approx_px": [120, 200],
                    "diameter_px_approx": reference_mm * scale,
                },
                "objects": [
                    {
                        "name": "bar",
                        "approx_px": [380, 140],
                        "truth_mm": [20, 40],
                        "grade": "primary",
                    },
                    {
                        "name": "disc",
                        "approx_px": [420, 300],
                        "truth_mm": [small_mm, small_mm],
                        "grade": "secondary",
                    },
                ],
            }
        ],
    }
    (scene / "truth.json").write_text(json.dumps(truth))
    (photo,) = load_labelled(folder)
    return photo


def test_load_labelled_reads_truth_sorted_and_the_reference_as_an_operator_declares_it(tmp_path):
    photo = _scene_photo(tmp_path)
    assert photo.name == "scene/scene.png"
    assert [o.truth_mm for o in photo.objects] == [(40.0, 20.0), (15.25, 15.25)]
    assert photo.reference.spec == ReferenceSpec(length=25.25)
    assert photo.reference.px_per_mm == pytest.approx(SCENE_PX_PER_MM)
    (run,) = objlen_runs(photo)  # a disc: proportional only; an oblong object: auto
    assert (run.label, run.options.orientation, run.mask) == ("proportional", "auto", None)


def test_objlen_on_a_clean_drawn_scene_scores_near_zero(tmp_path):
    photo = _scene_photo(tmp_path)
    scores, references = evaluate_all_objlen([photo])
    assert [s.name for s in scores] == ["bar", "disc"]
    for score in scores:
        assert score.worst_error < CLEAN_SCENE_TOLERANCE, score
    assert references[0].correct


def test_the_real_photo_sets_load_with_their_runs():
    photos = {p.name: p for p in load_labelled(_real_photos())}
    assert len(photos["pills/real.jpg"].objects) == 4
    assert photos["pills/real.jpg"].reference.spec == ReferenceSpec(length=25.75)
    assert len(photos["coins/coins.jpg"].objects) == 3
    board = photos["gridboard/gboriginal.png"]
    assert len(board.objects) == 35
    assert board.reference.spec == ReferenceSpec(size=(40.0, 40.0))
    runs = {r.label: r for r in objlen_runs(board)}
    assert set(runs) == {
        f"{method} / {mask} mask"
        for method in ("proportional", "homography")
        for mask in ("board", "markers")
    }
    assert not runs["proportional / markers mask"].assumptions_hold  # a tilted camera
    assert runs["homography / markers mask"].assumptions_hold
    (pill_run,) = objlen_runs(photos["pills/real.jpg"])
    assert pill_run.options.orientation == "auto"


# --------------------------------------------------------------------------- the peer
def test_the_classic_peer_finds_the_coins_within_ten_percent():
    (photo,) = [p for p in load_labelled(_real_photos()) if p.folder == "coins"]
    ref = photo.reference
    result = classic_measure(
        load_image(photo.path), ref.approx_px, ref.size_mm, REFERENCE_RADIUS_SHARE * ref.extent_px
    )
    assert reference_score(photo, "photo", PEER, result.reference_px).correct
    scores = score_boxes(photo, "photo", PEER, result.boxes, photo.objects)
    assert [s.name for s in scores] == ["nickel", "penny", "dime"]
    for score in scores:
        assert score.worst_error <= PEER_TOLERANCE, score


def test_the_peer_takes_no_reference_far_from_the_truth_one():
    image = np.full((300, 400, 3), 255, np.uint8)
    cv2.circle(image, (100, 150), 40, (40, 40, 40), -1)
    found = classic_measure(image, (100, 150), 20.0, radius_px=10)
    assert found.reference_px == pytest.approx((100, 150), abs=1.5)
    assert found.boxes == []
    assert classic_measure(image, (300, 150), 20.0, radius_px=10) == PeerResult([], None)


def test_measured_box_keeps_centre_in_x_y_order():
    assert isinstance(box(np.array([3.0, 4.0]), (1, 2)), MeasuredBox)
    assert box(np.array([3.0, 4.0]), (1, 2)).centre_px == (3.0, 4.0)
