"""SageMakerSegmenter.sends_source_bytes says what segment() will do with the file.

A batch trusts it to skip decoding the photo's pixels, so it must agree with
:func:`photo_for_endpoint` exactly: checked on the same photos both ways.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from objlen.imageio import load_image
from objlen.segment.sagemaker import SageMakerSegmenter, SageMakerSettings, photo_for_endpoint


def _jpeg(rgb: np.ndarray, orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


PHOTO = np.random.default_rng(4).integers(0, 255, (120, 160, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("data", "settings", "expected"),
    [
        (_jpeg(PHOTO), {}, True),
        (_jpeg(PHOTO, orientation=6), {}, False),  # turned: its pixels are sent
        (_jpeg(PHOTO), {"max_side_px": 100}, False),  # too large a side: fewer pixels
        (_jpeg(PHOTO), {"max_payload_bytes": 2_000}, False),  # does not fit
    ],
    ids=["camera-jpeg", "rotated", "max-side", "too-large"],
)
def test_it_agrees_with_what_is_sent(data, settings, expected):
    segmenter = SageMakerSegmenter(SageMakerSettings(endpoint_name="e", region="r", **settings))
    image = load_image(data)
    size = (image.shape[1], image.shape[0])
    assert segmenter.sends_source_bytes(data, size) is expected
    photo = photo_for_endpoint(
        image,
        data,
        segmenter.settings.max_payload_bytes,
        quality=segmenter.settings.jpeg_quality,
        max_side_px=segmenter.settings.max_side_px,
    )
    assert (photo.body is data) is expected
