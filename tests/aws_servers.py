"""Fixtures for the AWS tests: a local endpoint server, dummy credentials,
a segmenter whose answer is known, and photos drawn for it.

Everything goes over real HTTP on the loopback interface: boto3 talks to
:mod:`objlen.sagemaker.local_endpoint` (or to moto's server) exactly as it would to AWS.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from objlen.sagemaker.local_endpoint import EndpointServer, make_server
from objlen.segment.base import Segmentation
from objlen.segment.sagemaker import SageMakerSettings

ENDPOINT = "objlen-test"
REGION = "ap-northeast-1"

#: Colours of the drawn photos (RGB): object red, reference blue.
OBJECT_RGB = (220, 30, 30)
REFERENCE_RGB = (30, 30, 220)
BACKGROUND_RGB = (128, 128, 128)


class ColourSegmenter:
    """Class 1 where the photo is clearly red, 2 where clearly blue, else 0.

    ``blur_px`` > 1 averages over a square first, so that noise does not
    decide. What is under test is the transport, not this segmenter.
    """

    name = "colour"

    def __init__(self, blur_px: int = 1) -> None:
        self.blur_px = blur_px
        self.calls = 0

    def segment(self, image_rgb: np.ndarray) -> Segmentation:
        self.calls += 1
        image = image_rgb
        if self.blur_px > 1:
            image = cv2.blur(image_rgb, (self.blur_px, self.blur_px))
        rgb = image.astype(np.int16)
        red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        mask = np.zeros(image.shape[:2], np.uint8)
        mask[(red - np.maximum(green, blue)) > 80] = 1
        mask[(blue - np.maximum(red, green)) > 80] = 2
        return Segmentation(mask=mask, backend=self.name)


def draw_photo(
    size: tuple[int, int],
    object_box: tuple[int, int, int, int],
    reference_box: tuple[int, int, int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """A flat photo and its true mask; boxes are ``(x0, y0, x1, y1)``, exclusive ends."""
    width, height = size
    photo = np.empty((height, width, 3), np.uint8)
    photo[:] = BACKGROUND_RGB
    mask = np.zeros((height, width), np.uint8)
    for (x0, y0, x1, y1), colour, value in (
        (object_box, OBJECT_RGB, 1),
        (reference_box, REFERENCE_RGB, 2),
    ):
        photo[y0:y1, x0:x1] = colour
        mask[y0:y1, x0:x1] = value
    return photo, mask


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials in the environment, and nothing else AWS-related."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SAGEMAKER",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/objlen-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/objlen-aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def no_credentials(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials anywhere boto3 looks (environment, files, instance role)."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")


@pytest.fixture
def segmenter() -> ColourSegmenter:
    return ColourSegmenter()


@pytest.fixture
def endpoint(aws_env: None, segmenter: ColourSegmenter) -> Iterator[EndpointServer]:
    """A local endpoint server on a free loopback port, serving ``ENDPOINT``."""
    server = make_server(segmenter, port=0, endpoint_names=[ENDPOINT]).start()
    try:
        yield server
    finally:
        server.stop()


def settings_for(server: EndpointServer | str, **overrides: object) -> SageMakerSettings:
    """Settings that point boto3 at ``server`` (or a URL); 3 attempts, short waits."""
    values: dict[str, object] = {
        "endpoint_name": ENDPOINT,
        "region": REGION,
        "endpoint_url": server if isinstance(server, str) else server.url,
        "timeout_s": 10.0,
        "max_attempts": 3,
        "connect_timeout_s": 2.0,
    }
    values.update(overrides)
    return SageMakerSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def small_photo() -> tuple[np.ndarray, np.ndarray]:
    """320x240 photo; boxes on 16-px boundaries so JPEG keeps their edges."""
    return draw_photo((320, 240), (48, 64, 240, 176), (272, 16, 304, 80))
