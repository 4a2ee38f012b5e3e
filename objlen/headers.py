"""What a JPEG or PNG file's header says, read without Pillow.

:func:`objlen.imageio.load_image` decodes the common photo — an 8-bit JPEG
or PNG — with OpenCV alone; it needs the file's size (to refuse a
decompression bomb before decoding), its colour layout (to leave the rest
to Pillow) and its EXIF orientation. Reading them here spares a command
that measures one photo the import of Pillow and its plugins (about 40 ms).

Every reader answers ``None`` when it is not sure; the caller then asks
Pillow, whose answer is the reference.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_JPEG_START = b"\xff\xd8\xff"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Start-of-frame markers (every coding but the DHT, JPG and DAC markers' codes).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE_MARKERS = frozenset((0x01, *range(0xD0, 0xD9)))
_START_OF_SCAN = 0xDA
_EXIF_ORIENTATION_TAG = 0x0112
#: PNG colour types OpenCV and Pillow read alike at 8 bits: grey, RGB, RGBA.
_PNG_COLOUR_TYPES = frozenset((0, 2, 6))


@dataclass(frozen=True)
class Header:
    """A photo's header.

    Attributes:
        format: ``"JPEG"`` or ``"PNG"``.
        width, height: pixels as stored (before any EXIF turn).
        plain: an 8-bit grey or colour image (a baseline or progressive JPEG
            of 1 or 3 components that is not a multi-picture file; a PNG of
            grey, RGB or RGBA at 8 bits), which OpenCV decodes as Pillow does.
        orientation: the EXIF orientation (1 when the file has none), or
            ``None`` when this reader cannot tell (Pillow then decides).
    """

    format: str
    width: int
    height: int
    plain: bool
    orientation: int | None


def read_header(data: bytes) -> Header | None:
    """The header of the JPEG or PNG file ``data``; ``None`` for any other
    format, or a header this reader does not understand."""
    if data.startswith(_JPEG_START):
        return _jpeg_header(data)
    if data.startswith(_PNG_SIGNATURE):
        return _png_header(data)
    return None


def _jpeg_header(data: bytes) -> Header | None:
    """Walk the JPEG's segments up to its first scan."""
    position = 2
    frame: tuple[int, int, int, int] | None = None  # precision, height, width, components
    exif: list[bytes] = []
    multi_picture = xmp_orientation = False
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # a fill byte
            position += 1
            continue
        if marker in _STANDALONE_MARKERS:
            position += 2
            continue
        (length,) = struct.unpack_from(">H", data, position + 2)
        body = data[position + 4 : position + 2 + length]
        if length < 2 or len(body) != length - 2:
            return None
        if marker in _SOF_MARKERS and frame is None and len(body) >= 6:
            frame = (body[0], *struct.unpack_from(">HH", body, 1), body[5])
        elif marker == 0xE1 and body.startswith(b"Exif\0\0"):
            exif.append(body[6:])
        elif marker == 0xE1 and b"tiff:Orientation" in body:
            xmp_orientation = True
        elif marker == 0xE2 and body.startswith(b"MPF\0"):
            multi_picture = True
        elif marker == _START_OF_SCAN:
            break
        position += 2 + length
    if frame is None:
        return None
    precision, height, width, components = frame
    if height == 0 or width == 0:
        return None
    plain = precision == 8 and components in (1, 3) and not multi_picture
    if xmp_orientation or len(exif) > 1:  # Pillow reads XMP and joins EXIF blocks
        orientation = None
    else:
        orientation = _tiff_orientation(exif[0]) if exif else 1
    return Header("JPEG", width, height, plain, orientation)


def _tiff_orientation(tiff: bytes) -> int | None:
    """The orientation tag of the first IFD of the TIFF structure ``tiff`` (an
    EXIF block), 1 when it has none; ``None`` when it cannot be read here."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    magic, offset = struct.unpack_from(order + "HI", tiff, 2)
    if magic != 42 or offset + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    if offset + 2 + 12 * count > len(tiff):
        return None
    for entry in range(count):
        tag, kind, values = struct.unpack_from(order + "HHI", tiff, offset + 2 + 12 * entry)
        if tag != _EXIF_ORIENTATION_TAG:
            continue
        if kind != 3 or values != 1:  # not one SHORT: let Pillow interpret it
            return None
        (orientation,) = struct.unpack_from(order + "H", tiff, offset + 10 + 12 * entry)
        return orientation
    return 1


def _png_header(data: bytes) -> Header | None:
    """The PNG's ``IHDR`` chunk; the orientation is 1 unless the file carries
    EXIF (an ``eXIf`` chunk or an ImageMagick EXIF text profile)."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour_type = struct.unpack_from(">IIBB", data, 16)
    if width == 0 or height == 0:
        return None
    carries_exif = b"eXIf" in data or b"Raw profile type exif" in data
    plain = depth == 8 and colour_type in _PNG_COLOUR_TYPES
    return Header("PNG", width, height, plain, None if carries_exif else 1)
