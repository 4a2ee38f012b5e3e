"""Reading JPEG and PNG headers without Pillow: each answer is checked against
what Pillow reads from the same file, and every case the reader must leave to
Pillow answers ``None`` (or ``plain=False``)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from objlen.headers import read_header
from objlen.imageio import load_image


def _saved(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def _photo(width: int = 48, height: int = 32) -> Image.Image:
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "a camera"  # another tag before it, so the entry is really searched
    return exif.tobytes()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_orientation_and_size_are_pillows(orientation):
    data = _saved(_photo(), "JPEG", quality=90, exif=_exif(orientation))
    header = read_header(data)
    with Image.open(io.BytesIO(data)) as image:
        assert (header.width, header.height) == image.size == (48, 32)
        assert header.orientation == image.getexif()[0x0112] == orientation
    assert header.format == "JPEG" and header.plain


@pytest.mark.parametrize("orientation", range(1, 9))
def test_load_image_turns_as_pillow_does_without_pillow(orientation):
    # The whole decode takes objlen's own header path; the pixels and the turn
    # are those of Pillow's decode and exif_transpose.
    data = _saved(_photo(), "JPEG", quality=90, exif=_exif(orientation))
    with Image.open(io.BytesIO(data)) as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    assert np.array_equal(load_image(data), expected)


def test_big_endian_exif_is_read():
    # Pillow writes little-endian EXIF; a camera may write Motorola order.
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)
    tiff = b"MM" + struct.pack(">HI", 42, 8) + struct.pack(">H", 1) + entry + b"\0\0\0\0"
    data = _saved(_photo(), "JPEG", exif=b"Exif\0\0" + tiff)
    with Image.open(io.BytesIO(data)) as image:
        assert image.getexif()[0x0112] == 6
    assert read_header(data).orientation == 6


def test_a_jpeg_without_exif_is_upright_and_a_grey_one_is_plain():
    grey = _photo().convert("L")
    header = read_header(_saved(grey, "JPEG", progressive=True))
    assert (header.format, header.width, header.height) == ("JPEG", 48, 32)
    assert header.plain and header.orientation == 1


def test_a_cmyk_jpeg_is_left_to_pillow():
    assert not read_header(_saved(_photo().convert("CMYK"), "JPEG")).plain


def test_an_orientation_in_xmp_only_is_left_to_pillow():
    xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    data = _saved(_photo(), "JPEG", xmp=xmp)
    with Image.open(io.BytesIO(data)) as image:
        assert image.getexif()[0x0112] == 6  # Pillow reads it from the XMP packet
    assert read_header(data).orientation is None
    assert load_image(data).shape == (48, 32, 3)  # ... and load_image turns the photo


@pytest.mark.parametrize(
    ("mode", "plain"), [("RGB", True), ("RGBA", True), ("L", True), ("P", False), ("LA", False)]
)
def test_png_layouts(mode, plain):
    data = _saved(_photo(40, 30).convert(mode), "PNG")
    header = read_header(data)
    assert (header.format, header.width, header.height) == ("PNG", 40, 30)
    assert header.plain is plain and header.orientation == 1


def test_a_sixteen_bit_png_is_left_to_pillow():
    data = _saved(Image.fromarray(np.zeros((5, 7), np.uint16)), "PNG")
    header = read_header(data)
    assert (header.width, header.height) == (7, 5) and not header.plain


def test_a_png_with_exif_leaves_the_orientation_to_pillow():
    data = _saved(_photo(), "PNG", exif=_exif(8))
    assert read_header(data).orientation is None
    assert load_image(data).shape == (48, 32, 3)  # turned a quarter: 32 wide, 48 high


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a" + b"\0" * 40,
        b"\xff\xd8\xff\xe0\x00",  # a JPEG cut inside its first segment
        b"\xff\xd8\xff\xd9",  # no frame header
        b"\x89PNG\r\n\x1a\n" + b"\0" * 8,  # no IHDR
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)
        + struct.pack(">I", zlib.crc32(b"IHDR")),  # zero width
    ],
    ids=["empty", "gif", "cut", "no-frame", "no-ihdr", "zero-width"],
)
def test_what_the_reader_does_not_understand_is_none(data):
    assert read_header(data) is None
