"""Reading photos and masks: EXIF, palettes, sizes, bad files."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from objlen.errors import ImageReadError, MaskError
from objlen.imageio import (
    encode_photo_jpeg,
    encode_photo_png,
    encode_png,
    load_image,
    load_mask,
    load_preview,
    read_regular_file,
)


def _jpeg_with_orientation(array: np.ndarray, orientation: int) -> bytes:
    image = Image.fromarray(array)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def test_exif_orientation_is_applied():
    # Stored landscape 60x40 with a red block at the top-left; EXIF 6 means
    # "rotate 90 deg clockwise to view": the viewer sees a 40x60 portrait
    # with the red block at the top-right.
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:10, :10] = (255, 0, 0)
    seen = load_image(_jpeg_with_orientation(stored, 6))
    assert seen.shape == (60, 40, 3)
    assert seen[3, 35, 0] > 200 and seen[3, 3, 0] < 50


@pytest.mark.parametrize("file_format", ["PNG", "TIFF"])
def test_16_bit_grey_photo_keeps_its_tones(file_format):
    # A 16-bit grey photo: a dark square (level 10000 of 65535) on light grey
    # (50000). Read at 8 bits by scale (65535 -> 255), not clipped to white.
    wide = np.full((40, 60), 50000, np.uint16)
    wide[10:30, 20:40] = 10000
    buffer = io.BytesIO()
    Image.fromarray(wide).save(buffer, format=file_format)
    photo = load_image(buffer.getvalue())
    assert photo.shape == (40, 60, 3) and photo.dtype == np.uint8
    assert np.all(photo[20, 30] == round(10000 * 255 / 65535))  # 39
    assert np.all(photo[5, 5] == round(50000 * 255 / 65535))  # 195


def test_palette_png_gives_indices_not_colours():
    indices = np.zeros((20, 30), np.uint8)
    indices[5:10, 5:20] = 1
    indices[12:15, 2:6] = 2
    image = Image.fromarray(indices, mode="P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    mask, notes = load_mask(buffer.getvalue(), (30, 20))
    np.testing.assert_array_equal(mask, indices)
    assert notes == []


def test_rgb_mask_is_an_error_that_says_how_to_fix_it():
    rgb = encode_png(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(MaskError, match="single-channel PNG of class indices"):
        load_mask(rgb)


def test_mask_of_another_size_is_resized_nearest_with_a_warning():
    small = np.zeros((50, 100), np.uint8)
    small[10:20, 30:60] = 1
    mask, notes = load_mask(encode_png(small), (200, 100))
    assert mask.shape == (100, 200)
    assert set(np.unique(mask).tolist()) == {0, 1}  # nearest: no blended values
    assert mask[30, 100] == 1 and mask[10, 10] == 0
    assert len(notes) == 1 and "resized" in notes[0]


@pytest.mark.parametrize(
    ("mask_size", "words"),
    [
        ((100, 200), "turned a quarter turn"),  # the photo is 200x100: a mask of its stored pixels
        ((100, 100), "not the photo's proportions"),  # resized, it would be stretched 2:1
    ],
)
def test_mask_of_another_shape_is_stretched_with_a_warning_that_the_lengths_are_wrong(
    mask_size, words
):
    # The contract (shared/MEASUREMENT.md): a mask of another size is resized,
    # nearest-neighbour, with a warning; stretched unequally, the warning says
    # the lengths are then wrong, and why the mask may be off.
    mask = np.zeros(mask_size[::-1], np.uint8)
    mask[10:20, 10:20] = 1
    resized, notes = load_mask(encode_png(mask), (200, 100))
    assert resized.shape == (100, 200)
    assert len(notes) == 1 and words in notes[0] and "every length is wrong" in notes[0]


def test_mask_a_pixel_off_the_photos_proportions_is_still_resized():
    # 1001 x 750 is the photo 1600 x 1200 scaled to 1001 px wide, its height rounded.
    mask, notes = load_mask(encode_png(np.ones((750, 1001), np.uint8)), (1600, 1200))
    assert mask.shape == (1200, 1600) and len(notes) == 1


def test_not_an_image_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ImageReadError, match="not an image"):
        load_image(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="no such file"):
        load_image(tmp_path / "nope.jpg")


def test_truncated_image_is_a_clear_error():
    data = _jpeg_with_orientation(np.full((200, 200, 3), 128, np.uint8), 1)
    with pytest.raises(ImageReadError, match="truncated or corrupt"):
        load_image(data[: len(data) // 2])


def test_image_over_the_pixel_limit_is_refused_before_decoding():
    data = encode_png(np.zeros((300, 400), np.uint8))
    with pytest.raises(ImageReadError, match="too large"):
        load_image(data, max_pixels=100_000)
    assert load_image(data, max_pixels=120_000).shape == (300, 400, 3)


def test_sixteen_bit_mask_with_small_values_is_accepted_and_large_ones_refused():
    values = np.zeros((8, 8), np.uint16)
    values[2:4, 2:4] = 2
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    mask, _ = load_mask(buffer.getvalue())
    assert mask.dtype == np.uint8 and mask[3, 3] == 2
    values[0, 0] = 4000
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    with pytest.raises(MaskError, match=r"0\.\.255"):
        load_mask(buffer.getvalue())


def _unblock_later(fifo: Path, after_s: float) -> threading.Thread:
    """Open ``fifo`` for writing after ``after_s`` and close it: a reader that
    blocked on it (the old behaviour) is then released, so a test cannot hang."""

    def writer() -> None:
        time.sleep(after_s)
        with contextlib.suppress(OSError):  # ENXIO: nobody is reading, nothing to release
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("reader", [load_image, load_mask, read_regular_file])
def test_a_named_pipe_is_refused_at_once(tmp_path, reader):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    _unblock_later(fifo, after_s=5.0)
    started = time.monotonic()
    with pytest.raises(ImageReadError, match="not a regular file"):
        reader(fifo)
    assert time.monotonic() - started < 2.0


def test_a_device_and_a_folder_are_refused(tmp_path):
    with pytest.raises(ImageReadError, match="not a regular file"):
        load_image("/dev/zero")
    with pytest.raises(ImageReadError, match="is a folder"):
        load_image(tmp_path)
    with pytest.raises(ImageReadError, match="no such file"):
        load_image(tmp_path / "missing.jpg")


def test_a_link_to_a_regular_file_is_read(tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode_png(np.full((4, 6, 3), 7, np.uint8)))
    link = tmp_path / "link.png"
    link.symlink_to(photo)
    assert load_image(link).shape == (4, 6, 3)
    assert read_regular_file(link) == photo.read_bytes()


def test_encode_photo_png_keeps_every_pixel_and_channel_order() -> None:
    rng = np.random.default_rng(5)
    picture = rng.integers(0, 256, (61, 83, 3), dtype=np.uint8)
    view = picture[::2, 1::2]  # not contiguous

    for rgb in (picture, view):
        decoded = np.asarray(Image.open(io.BytesIO(encode_photo_png(rgb))).convert("RGB"))
        assert np.array_equal(decoded, rgb)


def test_encode_photo_jpeg_keeps_size_channels_and_thin_coloured_lines() -> None:
    """The annotated pictures' JPEG: the same size, red stays red, and a line
    one pixel wide keeps its colour (no chroma subsampling would halve it)."""
    rng = np.random.default_rng(6)
    picture = np.clip(rng.normal(128, 12, (90, 121, 3)), 0, 255).astype(np.uint8)
    picture = cv2.GaussianBlur(picture, (0, 0), 2)  # photo-like grain
    picture[20:60, 10:50] = (220, 30, 30)  # a red block
    picture[:, 80] = (40, 90, 220)  # a blue line one pixel wide

    decoded = cv2.cvtColor(
        cv2.imdecode(np.frombuffer(encode_photo_jpeg(picture), np.uint8), cv2.IMREAD_COLOR),
        cv2.COLOR_BGR2RGB,
    ).astype(int)

    assert decoded.shape == picture.shape
    assert np.abs(decoded[30:50, 20:40] - (220, 30, 30)).max() <= 12
    line = decoded[5:-5, 80]
    assert np.abs(line - (40, 90, 220)).mean(axis=0).max() <= 20
    assert np.abs(decoded - picture).mean() < 3


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_preview_is_the_photo_decoded_smaller_in_rgb_and_turned(orientation: int) -> None:
    """A JPEG decoded at 1/4 for a 300-pixel picture: red stays red, the
    EXIF turn is applied, and the pixels are the whole photo's, shrunk."""
    stored = np.zeros((900, 1200, 3), np.uint8)
    stored[:, :600] = (230, 20, 20)
    stored[:, 600:] = (20, 40, 220)
    stored[300:600, 200:1000] = (250, 250, 250)
    data = _jpeg_with_orientation(stored, orientation)
    whole = load_image(data)

    preview = load_preview(data, 300)

    assert preview.shape == (whole.shape[0] // 4, whole.shape[1] // 4, 3)
    shrunk = cv2.resize(whole, preview.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(preview.astype(int) - shrunk).mean() < 3
    red_corner = (2, 2) if orientation == 1 else (2, preview.shape[1] - 3)
    assert np.abs(preview[red_corner].astype(int) - (230, 20, 20)).max() <= 12
