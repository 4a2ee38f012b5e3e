"""Every read and write of an image or a mask.

Images come back as ``(H, W, 3)`` uint8 RGB arrays with the EXIF orientation
already applied, so that pixel ``(x, y)`` is where a person sees it. Masks come
back as ``(H, W)`` uint8 arrays of class indices (a palette PNG gives its
indices, not its colours).
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import cv2
import numpy as np

from objlen.errors import ImageReadError, MaskError
from objlen.headers import Header, read_header

if TYPE_CHECKING:
    from objlen.pillow import Image

#: Largest image objlen decodes, in pixels (about 10x a 12-megapixel photo).
MAX_PIXELS = 120_000_000

Source = str | Path | bytes | BinaryIO


def open_regular_file(path: str | Path, *, what: str | None = None) -> BinaryIO:
    """Open ``path`` for reading in binary, refusing anything but a regular file.

    The file is opened without blocking and checked on the open descriptor,
    so a named pipe (FIFO), a device or a socket is refused at once instead of
    hanging the reader forever, and nothing can swap the file between the
    check and the read. Symbolic links are followed.

    Raises:
        ImageReadError: no such file, a folder, not a regular file, or unreadable.
    """
    name = what or str(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as exc:
        raise ImageReadError(f"{name}: no such file") from exc
    except IsADirectoryError as exc:
        raise ImageReadError(f"{name}: is a folder, not a file") from exc
    except OSError as exc:
        raise ImageReadError(f"{name}: cannot be opened ({exc.strerror or exc})") from exc
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise ImageReadError(f"{name}: is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise ImageReadError(
                f"{name}: is not a regular file (a named pipe, device or socket); "
                "give a file saved on disk"
            )
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular_file(path: str | Path, *, what: str | None = None) -> bytes:
    """The bytes of the regular file at ``path`` (see :func:`open_regular_file`).

    Raises:
        ImageReadError: not a regular file, or unreadable.
    """
    with open_regular_file(path, what=what) as stream:
        try:
            return stream.read()
        except OSError as exc:
            raise ImageReadError(f"{what or path}: cannot be read ({exc.strerror or exc})") from exc


@contextmanager
def _open(source: Source, what: str) -> Iterator[Image.Image]:
    """Open ``source`` lazily with Pillow, turning every failure into our error.

    A path is opened with :func:`open_regular_file` (a pipe or a device is
    refused, not waited on); the file is closed with the image.
    """
    from objlen.pillow import Image, UnidentifiedImageError  # here: see objlen.pillow

    name = str(source) if isinstance(source, str | Path) else what
    if isinstance(source, str | Path):
        stream: BinaryIO = open_regular_file(source, what=name)
    elif isinstance(source, bytes):
        stream = io.BytesIO(source)
    else:
        stream = source
    try:
        try:
            with warnings.catch_warnings():
                # Our own limit, checked in _check_size, speaks before Pillow's.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(stream)
        except Image.DecompressionBombError as exc:
            raise ImageReadError(
                f"{name}: image is too large to decode safely; resize it below "
                f"{MAX_PIXELS / 1e6:.0f} megapixels"
            ) from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise ImageReadError(
                f"{name}: not an image objlen can read (JPEG, PNG, TIFF, WebP, BMP, HEIC)"
            ) from exc
        with image:
            yield image
    finally:
        if stream is not source:
            stream.close()


def _check_size(size: tuple[int, int], name: str, max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageReadError(
            f"{name}: {width}x{height} is too large to decode safely "
            f"(limit {max_pixels / 1e6:.0f} megapixels); resize it first"
        )
    if width < 1 or height < 1:
        raise ImageReadError(f"{name}: image has no pixels")


def _decode(image: Image.Image, name: str) -> Image.Image:
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageReadError(f"{name}: the image file is truncated or corrupt") from exc
    return image


def load_image(source: Source, *, max_pixels: int = MAX_PIXELS, name: str = "image") -> np.ndarray:
    """Read a photo as an ``(H, W, 3)`` uint8 RGB array, EXIF orientation applied.

    A complete 8-bit JPEG or PNG is decoded by OpenCV (libjpeg-turbo, two to
    four times faster here than Pillow's decode, orientation and
    conversion; the same pixels), its EXIF orientation undone on the array;
    any other photo by Pillow.

    Raises:
        ImageReadError: the file is missing, not an image, corrupt, or larger
            than ``max_pixels`` (checked before the pixels are decoded).
    """
    label = str(source) if isinstance(source, str | Path) else name
    data = _photo_bytes(source, label)
    if data is not None:
        fast = _decode_with_opencv(data, label, max_pixels)
        if fast is not None:
            return fast
    from objlen.pillow import ImageOps

    with _open(source if data is None else data, label) as image:
        _check_size(image.size, label, max_pixels)
        image = _decode(image, label)
        oriented = ImageOps.exif_transpose(image)
        return _rgb8(oriented)


#: Pillow's modes of 16-bit (and 32-bit integer) grey pixels: 16-bit grey PNG and TIFF.
_WIDE_GREY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _rgb8(image: Image.Image) -> np.ndarray:
    """``image`` as an ``(H, W, 3)`` uint8 RGB array.

    16-bit grey (a 16-bit grey PNG or TIFF) is brought to 8 bits by its scale,
    65535 -> 255 (Pillow's ``convert("RGB")`` clips it at 255 instead: the
    whole photo white); values outside 0..65535 of a 32-bit grey are clipped.
    Every other mode is Pillow's conversion.
    """
    if image.mode not in _WIDE_GREY_MODES:
        return np.asarray(image.convert("RGB"))
    wide = np.clip(np.asarray(image), 0, 65535).astype(np.uint32)
    grey = ((wide * 255 + 32767) // 65535).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def header_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` as the file's header declares it (before any EXIF
    turn), without decoding the pixels; ``None`` when Pillow cannot read the
    header (:func:`load_image` then says what is wrong)."""
    from objlen.pillow import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Exception:  # not an image, a decompression bomb...: load_image says so
        return None


def load_preview(
    source: Source, max_side: int, *, max_pixels: int = MAX_PIXELS, name: str = "image"
) -> np.ndarray:
    """The photo for a picture whose longer side is ``max_side`` pixels: an
    ``(h, w, 3)`` uint8 RGB array, EXIF orientation applied, whose longer side
    is at least ``max_side`` (or the photo's, if smaller), with the photo's
    aspect ratio, to be shrunk to the exact size by the caller.

    A JPEG is decoded at 1/2, 1/4 or 1/8 of its size, whichever is the
    smallest that is still large enough (libjpeg scales while it decodes:
    a 12-megapixel photo for a 1600-pixel picture in about a third of the time
    of a full decode); any other photo is decoded whole (:func:`load_image`).

    Raises:
        ImageReadError: as :func:`load_image`.
    """
    label = str(source) if isinstance(source, str | Path) else name
    data = _photo_bytes(source, label)
    header = None if data is None else read_header(data)
    if data is not None and header is not None and header.format == "JPEG" and header.plain:
        size = (header.width, header.height)
        _check_size(size, label, max_pixels)
        reduction = 1
        while reduction < 8 and max(size) // (2 * reduction) >= max_side:
            reduction *= 2
        if reduction > 1 and data.rstrip(b"\0").endswith(_JPEG_END):
            # The reduction's flag with RGB for its colour (libjpeg writes RGB itself).
            reduced = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4}
            flag = reduced.get(reduction, cv2.IMREAD_REDUCED_GRAYSCALE_8) | cv2.IMREAD_COLOR_RGB
            decoded = cv2.imdecode(
                np.frombuffer(data, np.uint8), flag | cv2.IMREAD_IGNORE_ORIENTATION
            )
            expected = (-(-size[0] // reduction), -(-size[1] // reduction))
            if decoded is not None and decoded.shape[1::-1] + decoded.shape[2:] == (*expected, 3):
                return _oriented(decoded, header, data)
    if data is not None:
        source = data
    return load_image(source, max_pixels=max_pixels, name=label)


#: EXIF orientation -> how to undo it on an ``(H, W, ...)`` array (as
#: ``ImageOps.exif_transpose`` does: 6 and 8 are quarter turns, 5 and 7 mirrors).
_ORIENTATIONS = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
    8: lambda a: np.rot90(a, 1),
}
_JPEG_END = b"\xff\xd9"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_PHOTO_STARTS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _photo_bytes(source: Source, label: str) -> bytes | None:
    """The whole file of a JPEG or PNG that objlen opens itself (a path or
    bytes); ``None`` for any other file (read no further than its first bytes)
    and for a caller's stream, which is left untouched for Pillow.

    Raises:
        ImageReadError: a path that is not a regular, readable file.
    """
    if isinstance(source, bytes):
        return source
    if not isinstance(source, str | Path):
        return None
    with open_regular_file(source, what=label) as stream:
        try:
            start = stream.read(8)
            return start + stream.read() if start.startswith(_PHOTO_STARTS) else None
        except OSError as exc:
            raise ImageReadError(f"{label}: cannot be read ({exc.strerror or exc})") from exc


def _decode_with_opencv(data: bytes, label: str, max_pixels: int) -> np.ndarray | None:
    """The fast path of :func:`load_image`, without Pillow: the photo ``data``
    decoded by OpenCV when its header (:func:`objlen.headers.read_header`)
    says it is an 8-bit grey or colour JPEG or PNG, its EXIF orientation
    undone. ``None`` for anything else (other formats and layouts, a file
    without its end marker — so that a truncated file gets Pillow's error —
    or a decode that disagrees with the header), which then takes Pillow's path.

    Raises:
        ImageReadError: the header declares more than ``max_pixels`` pixels.
    """
    header = read_header(data)
    if header is None or not header.plain:
        return None
    _check_size((header.width, header.height), label, max_pixels)
    end = _JPEG_END if header.format == "JPEG" else _PNG_END
    if not data.rstrip(b"\0").endswith(end):
        return None
    decoded = cv2.imdecode(
        np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    )
    if decoded is None or decoded.shape[1::-1] != (header.width, header.height):
        return None
    return _oriented(decoded, header, data)


def _oriented(rgb: np.ndarray, header: Header, data: bytes) -> np.ndarray:
    """``rgb``, decoded from ``data`` without its EXIF orientation, turned as
    the orientation says (read from ``header``, or by Pillow when the header
    reader could not tell)."""
    orientation = header.orientation
    if orientation is None:
        with _open(data, "image") as image:
            orientation = int(image.getexif().get(0x0112, 1))
    undo = _ORIENTATIONS.get(orientation)
    return rgb if undo is None else np.ascontiguousarray(undo(rgb))


def load_mask(
    source: Source,
    image_size: tuple[int, int] | None = None,
    *,
    max_pixels: int = MAX_PIXELS,
    name: str = "mask",
) -> tuple[np.ndarray, list[str]]:
    """Read a mask of class indices.

    Args:
        source: a path, bytes or binary stream of a single-channel image
            (grayscale, 16-bit or palette PNG; a palette PNG gives its indices).
        image_size: ``(width, height)`` of the photo the mask belongs to; a mask
            of another size is resized with nearest-neighbour and a warning.

    Returns:
        ``(mask, warnings)``: an ``(H, W)`` uint8 array and remarks for the operator.

    Raises:
        ImageReadError: not an image, or too large.
        MaskError: a colour image, or values above 255.
    """
    label = str(source) if isinstance(source, str | Path) else name
    with _open(source, label) as image:
        _check_size(image.size, label, max_pixels)
        image = _decode(image, label)
        if image.mode in ("RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "LA", "PA"):
            raise MaskError(
                f"{label}: the mask is a colour image ({image.mode}); save it as a "
                "single-channel PNG of class indices (grayscale or palette), "
                "e.g. 0 background, 1 object, 2 reference"
            )
        values = np.asarray(image)
    if values.dtype == bool:
        values = values.astype(np.uint8)
    if values.ndim != 2:
        raise MaskError(f"{label}: the mask must have one channel, it has shape {values.shape}")
    if values.dtype != np.uint8:
        if values.size and (values.min() < 0 or values.max() > 255):
            raise MaskError(f"{label}: mask values must be class indices 0..255")
        values = values.astype(np.uint8)
    return fit_mask_to_image(values, image_size, label)


def fit_mask_to_image(
    mask: np.ndarray, image_size: tuple[int, int] | None, label: str = "mask"
) -> tuple[np.ndarray, list[str]]:
    """Bring a mask to ``image_size`` = ``(width, height)`` with nearest-neighbour.

    A mask of another size is resized as the measurement contract says
    (``shared/MEASUREMENT.md``), with a warning; one whose sides are not in the
    photo's proportion (beyond a pixel's rounding on each side: a mask made on a
    scaled copy of the photo is in it) is stretched unequally, and its warning
    says that the lengths are then wrong and why the mask may be off (a quarter
    turn: made before the photo's EXIF orientation was applied).

    Returns ``(mask, warnings)``.
    """
    if image_size is None or mask.shape[:2] == (image_size[1], image_size[0]):
        return mask, []
    width, height = image_size
    mask_height, mask_width = mask.shape[:2]
    seen = f"{label} is {mask_width}x{mask_height}, the photo {width}x{height}: "
    if abs(mask_width * height - mask_height * width) <= mask_width + mask_height + width + height:
        note = seen + "the mask was resized (nearest-neighbour); its edges are less precise"
    else:
        turned = (mask_width, mask_height) == (height, width)
        note = (
            seen
            + (
                "the mask is turned a quarter turn from the photo (made before the photo's "
                "EXIF orientation was applied?)"
                if turned
                else "not the photo's proportions, so it may be another photo's mask"
            )
            + "; it was stretched to the photo, unequally across and along: every length "
            "is wrong unless it was made for this photo; give the mask made for it"
        )
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST), [note]


def encode_png(array: np.ndarray) -> bytes:
    """Encode an RGB ``(H, W, 3)`` or single-channel ``(H, W)`` uint8 array as PNG."""
    from objlen.pillow import Image

    image = Image.fromarray(np.ascontiguousarray(array))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def encode_photo_png(rgb: np.ndarray) -> bytes:
    """Encode a photo-like ``(H, W, 3)`` uint8 RGB array (an annotated picture, a
    display image) as PNG, fast: the "up" filter and Huffman coding only, which
    on photos compress about as well as zlib level 1 in less than half the time
    (a 1600 x 1200 picture: about 45 ms instead of 100). For masks and flat
    drawings use :func:`encode_png`, whose matching finds their long runs."""
    ok, buffer = cv2.imencode(
        ".png",
        cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR),  # faster than rgb[..., ::-1]
        [
            cv2.IMWRITE_PNG_COMPRESSION,
            1,
            cv2.IMWRITE_PNG_STRATEGY,
            cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY,
            cv2.IMWRITE_PNG_FILTER,
            cv2.IMWRITE_PNG_FILTER_UP,
        ],
    )
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 RGB array
        raise ImageReadError("could not encode the image as PNG")
    return buffer.tobytes()


#: JPEG quality of :func:`encode_photo_jpeg` (annotated pictures).
PHOTO_JPEG_QUALITY = 92


def encode_photo_jpeg(rgb: np.ndarray, quality: int = PHOTO_JPEG_QUALITY) -> bytes:
    """Encode a photo-like ``(H, W, 3)`` uint8 RGB array with drawings on it (an
    annotated picture) as JPEG, keeping the colour at full resolution (4:4:4,
    no chroma subsampling), so that thin coloured lines and small text stay
    sharp.

    At the default quality a 1600 x 1366 annotated picture of a 12 MP photo
    takes about 12 ms with OpenCV's libjpeg-turbo, against 50-75 ms for
    :func:`encode_photo_png`, in about a seventh of the bytes; its pixels are
    within about 10 levels of the lossless picture's almost everywhere
    (99.9 %; PSNR about 40 dB), the largest differences at the edges of text.
    """
    ok, buffer = cv2.imencode(
        ".jpg",
        cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR),
        [
            cv2.IMWRITE_JPEG_QUALITY,
            int(quality),
            cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
            cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
        ],
    )
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 RGB array
        raise ImageReadError("could not encode the image as JPEG")
    return buffer.tobytes()


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """Encode an ``(H, W, 3)`` uint8 RGB array as JPEG."""
    ok, buffer = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 RGB array
        raise ImageReadError("could not encode the image as JPEG")
    return buffer.tobytes()


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``: the identity of a photo in the history."""
    import hashlib  # here: OpenSSL's bindings take a few milliseconds to load

    return hashlib.sha256(data).hexdigest()
