"""objlen.sagemaker.batch_transform without AWS: masks brought to the photo's EXIF orientation."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from objlen.imageio import load_image
from objlen.sagemaker.batch_transform import orient_mask_like_photo


def test_a_mask_of_the_stored_pixels_is_turned_like_the_photo():
    stored = np.full((20, 40, 3), 128, np.uint8)  # 40 wide, 20 high as stored
    stored[2:8, 30:38] = (220, 30, 30)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise
    buffer = io.BytesIO()
    Image.fromarray(stored).save(buffer, format="JPEG", exif=exif, quality=95)
    photo = buffer.getvalue()
    oriented = load_image(photo)
    assert oriented.shape[:2] == (40, 20)
    mask_stored = (stored[..., 0] > 200).astype(np.uint8)
    turned, notes = orient_mask_like_photo(mask_stored, photo, (20, 40))
    expected = (oriented[..., 0].astype(int) - oriented[..., 2] > 100).astype(np.uint8)
    assert turned.shape == (40, 20)
    assert (turned != expected).sum() <= 4  # JPEG edges
    assert notes and "EXIF orientation 6" in notes[0]


def test_a_mask_already_upright_is_left_alone():
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(buffer, format="JPEG")
    mask = np.ones((20, 40), np.uint8)
    same, notes = orient_mask_like_photo(mask, buffer.getvalue(), (40, 20))
    assert same is mask and notes == []
