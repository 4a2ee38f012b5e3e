"""MaskFileSegmenter, and make_segmenter's choice of backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from objlen.classes import ClassIds
from objlen.errors import ParameterError, SegmentationError
from objlen.imageio import encode_png
from objlen.segment import MaskFileSegmenter, make_segmenter
from objlen.segment.maskfile import unknown_class_ids


@pytest.fixture
def mask() -> np.ndarray:
    values = np.zeros((30, 40), np.uint8)
    values[5:20, 10:30] = 1
    values[2:6, 2:6] = 2
    values[25:, :] = 255
    return values


def test_returns_the_mask_from_a_path(tmp_path: Path, mask: np.ndarray) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(encode_png(mask))
    photo = np.zeros((30, 40, 3), np.uint8)

    result = MaskFileSegmenter(path).segment(photo)

    assert result.backend == "file"
    assert np.array_equal(result.mask, mask)
    assert result.warnings == ()
    assert result.confidence is None


def test_returns_the_mask_from_bytes_resized_to_the_photo(mask: np.ndarray) -> None:
    photo = np.zeros((60, 80, 3), np.uint8)

    result = MaskFileSegmenter(encode_png(mask)).segment(photo)

    assert result.mask.shape == (60, 80)
    assert np.array_equal(result.mask[::2, ::2], mask)  # nearest-neighbour, doubled
    assert len(result.warnings) == 1 and "resized" in result.warnings[0]


def test_reads_the_file_again_on_every_call(tmp_path: Path, mask: np.ndarray) -> None:
    path = tmp_path / "mask.png"
    path.write_bytes(encode_png(mask))
    segmenter = MaskFileSegmenter(str(path))
    photo = np.zeros((30, 40, 3), np.uint8)
    first = segmenter.segment(photo).mask

    path.write_bytes(encode_png(np.zeros_like(mask)))

    assert first.any()
    assert not segmenter.segment(photo).mask.any()


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        (encode_png(np.zeros((30, 40, 3), np.uint8)), "colour image"),
        (encode_png(np.full((30, 40), 5, np.uint8)), "class ids [5]"),
        (b"not an image", "not an image"),
    ],
    ids=["colour", "unknown-class", "garbage"],
)
def test_unusable_masks_are_segmentation_errors(source: bytes, detail: str) -> None:
    with pytest.raises(SegmentationError, match="mask file") as caught:
        MaskFileSegmenter(source).segment(np.zeros((30, 40, 3), np.uint8))
    assert detail in str(caught.value)


def test_a_missing_file_is_a_segmentation_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.png"
    with pytest.raises(SegmentationError, match="no such file"):
        MaskFileSegmenter(missing).segment(np.zeros((3, 4, 3), np.uint8))


def test_other_class_ids_are_accepted_when_configured(mask: np.ndarray) -> None:
    classes = ClassIds(background=0, object=5, reference=2)
    shifted = np.where(mask == 1, 5, mask).astype(np.uint8)

    photo = np.zeros((30, 40, 3), np.uint8)
    result = MaskFileSegmenter(encode_png(shifted), classes).segment(photo)

    assert np.array_equal(result.mask, shifted)


def test_make_segmenter_file_backend(tmp_path: Path, mask: np.ndarray) -> None:
    path = tmp_path / "mask.png"
    path.write_bytes(encode_png(mask))

    segmenter = make_segmenter("file", classes=ClassIds(), mask_path=path)

    assert isinstance(segmenter, MaskFileSegmenter)
    assert np.array_equal(segmenter.segment(np.zeros((30, 40, 3), np.uint8)).mask, mask)
    with pytest.raises(ParameterError, match="needs a mask file"):
        make_segmenter("file", classes=ClassIds())


def test_make_segmenter_local_backend_passes_the_rule() -> None:
    segmenter = make_segmenter("local", classes=ClassIds(), reference_rule="largest")

    assert segmenter.name == "local"
    assert segmenter.reference_rule == "largest"  # type: ignore[attr-defined]


def test_make_segmenter_refuses_an_unknown_backend() -> None:
    with pytest.raises(ParameterError, match="unknown segmenter backend 'cloud'"):
        make_segmenter("cloud", classes=ClassIds())


@pytest.mark.parametrize(
    ("values", "classes", "unknown"),
    [
        ((0, 1, 2), ClassIds(), []),
        ((0, 1, 255), ClassIds(), []),
        ((255,), ClassIds(), []),
        ((0, 2, 3, 255), ClassIds(), [3]),
        ((0, 1, 7, 200), ClassIds(), [7, 200]),
        ((0, 1, 2), ClassIds(background=0, object=2, reference=5, ignore=255), [1]),
        ((5, 7), ClassIds(background=5, object=6, reference=7, ignore=8), []),
    ],
)
def test_unknown_class_ids_are_the_values_of_no_class(values, classes, unknown) -> None:
    mask = np.zeros((30, 40), np.uint8)
    mask[:] = values[0]
    for index, value in enumerate(values[1:], start=1):
        mask[index * 5 : index * 5 + 3, 10:20] = value

    assert unknown_class_ids(mask, classes) == unknown
    assert unknown_class_ids(mask[:0], classes) == []
