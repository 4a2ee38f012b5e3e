"""The Lambda function's photo: its size limits, and its pixels.

A synchronous Lambda request is at most 6 MB and base64 makes the photo a
third larger, so photos over :data:`MAX_PHOTO_BYTES` (4.4 MB) are refused with
a 413 before their pixels are decoded; so are photos whose header declares
more pixels than the function allows (``OBJLEN_MAX_PIXELS``).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image

from objlen.imageio import load_image
from objlen.lambda_http import HttpError

#: Largest photo accepted, in bytes after base64 decoding: a synchronous Lambda
#: request is at most 6 MB, base64 adds a third, and the event has headers too.
MAX_PHOTO_BYTES = 4_400_000

_MB = 1_000_000


def photo_too_large(size_bytes: float, *, approximate: bool = False) -> HttpError:
    """The 413 ``photo_too_large`` for a photo of ``size_bytes`` bytes.

    The message gives the size in MB (``about`` it, when ``approximate``), the
    limit :data:`MAX_PHOTO_BYTES`, and what to do.
    """
    about = "about " if approximate else ""
    return HttpError(
        413,
        "photo_too_large",
        f"the photo is {about}{size_bytes / _MB:.1f} MB; this API accepts photos up to "
        f"{MAX_PHOTO_BYTES / _MB:.1f} MB (a Lambda request is limited to 6 MB and base64 "
        "adds a third). Save it as a JPEG or scale it down, and send it again",
    )


def load_photo(data: bytes, max_pixels: int) -> np.ndarray:
    """Decode the photo (EXIF orientation applied) as ``(H, W, 3)`` RGB.

    The pixel count is read from the header first, so that an oversized photo
    is refused before its pixels are decoded.

    Raises:
        HttpError: 413 when it is over :data:`MAX_PHOTO_BYTES` or has more
            than ``max_pixels`` pixels.
        ImageReadError: not an image, or corrupt.
    """
    if len(data) > MAX_PHOTO_BYTES:
        raise photo_too_large(len(data))
    size = _declared_size(data, max_pixels)
    if size is not None and size[0] * size[1] > max_pixels:
        width, height = size
        raise _too_many_pixels(max_pixels, f"{width}x{height} ({width * height / 1e6:.0f} MP)")
    return load_image(data, max_pixels=max_pixels, name="the photo")


def _too_many_pixels(max_pixels: int, what: str) -> HttpError:
    return HttpError(
        413,
        "photo_too_large",
        f"the photo is {what}; this API measures photos up to {max_pixels / 1e6:.0f} "
        "megapixels: scale it down",
    )


def _declared_size(data: bytes, max_pixels: int) -> tuple[int, int] | None:
    """``(width, height)`` from the image header, or ``None`` if it is not an image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Image.DecompressionBombError:
        raise _too_many_pixels(max_pixels, "far too many pixels to decode safely") from None
    except Exception:  # not an image: load_image says so in its own words
        return None


__all__ = ["MAX_PHOTO_BYTES", "load_photo", "photo_too_large"]
