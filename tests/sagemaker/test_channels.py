"""objlen.sagemaker.channels without AWS: dataset scans (layout, pairs, classes, label maps)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from objlen.errors import ParameterError
from objlen.imageio import encode_jpeg, encode_png
from objlen.sagemaker.channels import scan_dataset


def draw_pair(size: tuple[int, int], object_box: tuple[int, int, int, int]) -> tuple[bytes, bytes]:
    """A JPEG photo (red object, blue reference square top-left) and its PNG annotation."""
    width, height = size
    photo = np.full((height, width, 3), 128, np.uint8)
    mask = np.zeros((height, width), np.uint8)
    x0, y0, x1, y1 = object_box
    photo[y0:y1, x0:x1] = (220, 30, 30)
    mask[y0:y1, x0:x1] = 1
    photo[2:10, 2:14] = (30, 30, 220)
    mask[2:10, 2:14] = 2
    return encode_jpeg(photo), encode_png(mask)


def make_dataset(
    root: Path,
    train: tuple[str, ...] = ("bolt-1", "bolt-2", "nut-1", "nut-2"),
    validation: tuple[str, ...] = ("bolt-3",),
    label_map: dict | None = None,
) -> Path:
    """A tiny dataset in the algorithm's layout: 48x32 photos and annotations."""
    for channel, names in (("train", train), ("validation", validation)):
        (root / channel).mkdir(parents=True, exist_ok=True)
        (root / f"{channel}_annotation").mkdir(parents=True, exist_ok=True)
        for index, name in enumerate(names):
            photo, label = draw_pair((48, 32), (16 + index, 12, 40, 28))
            (root / channel / f"{name}.jpg").write_bytes(photo)
            (root / f"{channel}_annotation" / f"{name}.png").write_bytes(label)
    if label_map is not None:
        (root / "label_map").mkdir(exist_ok=True)
        (root / "label_map" / "train_label_map.json").write_text(json.dumps(label_map))
    return root


def test_scan_counts_training_photos_and_derives_num_classes(tmp_path):
    summary = scan_dataset(make_dataset(tmp_path))
    assert summary.num_training_samples == 4
    assert summary.files["validation"] == ("bolt-3.jpg",)
    assert summary.label_values == (0, 1, 2)
    assert summary.num_classes == 3


def test_num_classes_grows_with_annotation_values_but_not_with_ignore(tmp_path):
    root = make_dataset(tmp_path)
    label = np.zeros((32, 48), np.uint8)
    label[0:4, 0:4] = 255
    label[20:30, 20:30] = 5
    (root / "train_annotation" / "nut-1.png").write_bytes(encode_png(label))
    summary = scan_dataset(root)
    assert summary.label_values == (0, 1, 2, 5)
    assert summary.num_classes == 6


def test_a_label_map_decides_the_number_of_classes(tmp_path):
    root = make_dataset(tmp_path, label_map={"map": {"0": 0, "1": 1, "2": 2, "3": 9}})
    summary = scan_dataset(root)
    assert summary.num_classes == 4
    assert summary.files["label_map"] == ("train_label_map.json",)


def test_unpaired_photo_is_named(tmp_path):
    root = make_dataset(tmp_path)
    (root / "train_annotation" / "nut-1.png").unlink()
    with pytest.raises(ParameterError, match=r"unpaired: train/nut-1\.jpg"):
        scan_dataset(root)


def test_wrong_file_type_is_named(tmp_path):
    root = make_dataset(tmp_path)
    (root / "train" / "bolt-9.jpeg").write_bytes(b"x")
    with pytest.raises(ParameterError, match=r"rename or remove train/bolt-9\.jpeg"):
        scan_dataset(root)


def test_missing_channel_folder_is_named(tmp_path):
    root = make_dataset(tmp_path)
    for path in (root / "validation_annotation").iterdir():
        path.unlink()
    (root / "validation_annotation").rmdir()
    with pytest.raises(ParameterError, match="validation_annotation/ is missing"):
        scan_dataset(root)


def test_bad_label_map_is_refused(tmp_path):
    root = make_dataset(tmp_path)
    (root / "label_map").mkdir()
    (root / "label_map" / "train_label_map.json").write_text("{not json")
    with pytest.raises(ParameterError, match="not a label map"):
        scan_dataset(root)
