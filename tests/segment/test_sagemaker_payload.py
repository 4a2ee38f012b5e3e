"""What SageMakerSegmenter sends and how it reads answers, without a network."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from objlen.classes import ClassIds
from objlen.errors import ParameterError, SegmentationError
from objlen.imageio import encode_png, load_image
from objlen.segment import Segmentation, make_segmenter, segment_photo
from objlen.segment.recordio import encode_probabilities
from objlen.segment.sagemaker import (
    SageMakerSegmenter,
    SageMakerSettings,
    decode_mask_png,
    decode_probability_answer,
    encode_photo,
    model_class_count,
    own_jpeg_fits,
    photo_for_endpoint,
    probability_pixel_budget,
)


def _noise(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _jpeg_size(body: bytes) -> tuple[int, int]:
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    return image.shape[1], image.shape[0]


def test_a_photo_that_fits_is_sent_as_is() -> None:
    photo = np.full((120, 160, 3), 90, np.uint8)

    sent = encode_photo(photo, quality=90)

    assert sent.size == (160, 120)
    assert sent.quality == 90
    assert sent.body.startswith(b"\xff\xd8")
    assert _jpeg_size(sent.body) == (160, 120)


def test_lower_quality_is_tried_before_fewer_pixels() -> None:
    photo = _noise(240, 320)
    at_90 = len(encode_photo(photo, 10**9, quality=90).body)
    at_70 = len(encode_photo(photo, 10**9, quality=70).body)
    limit = (at_90 + at_70) // 2  # fits at quality 70 (or 80), not at 90

    sent = encode_photo(photo, limit, quality=90)

    assert len(sent.body) <= limit
    assert sent.size == (320, 240)
    assert sent.quality < 90


def test_a_photo_too_big_at_every_quality_is_shrunk_until_it_fits() -> None:
    photo = _noise(480, 640)
    limit = 20_000

    sent = encode_photo(photo, limit)

    assert len(sent.body) <= limit
    assert sent.quality == 70
    width, height = sent.size
    assert width < 640 and abs(width / height - 640 / 480) < 0.02
    assert _jpeg_size(sent.body) == sent.size


def test_the_highest_quality_that_fits_is_chosen() -> None:
    photo = _noise(240, 320)
    at = {q: len(encode_photo(photo, 10**9, quality=q).body) for q in (95, 90, 85, 80)}
    assert at[95] > at[90] > at[85] > at[80]  # the premise
    limit = (at[90] + at[85]) // 2  # fits at 85, not at 90

    sent = encode_photo(photo, limit, quality=95)

    assert sent.quality == 85
    assert sent.size == (320, 240)
    assert len(sent.body) <= limit


def test_max_side_and_max_pixels_shrink_first() -> None:
    photo = np.full((1000, 2000, 3), 90, np.uint8)

    assert encode_photo(photo, max_side_px=500).size == (500, 250)
    width, height = encode_photo(photo, max_pixels=20_000).size
    assert width * height <= 20_000 and width == 2 * height


def test_a_limit_nothing_fits_is_an_error() -> None:
    with pytest.raises(SegmentationError, match="cannot be made smaller than 50 bytes"):
        encode_photo(_noise(64, 64), 50)


def test_not_an_rgb_photo_is_refused() -> None:
    with pytest.raises(ParameterError, match=r"\(H, W, 3\) uint8"):
        encode_photo(np.zeros((10, 10), np.uint8))


def test_probability_budget_leaves_room_for_the_answer() -> None:
    budget = probability_pixel_budget(6 * 1024 * 1024, 3)
    assert budget * 3 * 4 + 1024 <= 6 * 1024 * 1024
    assert model_class_count(ClassIds()) == 3
    assert model_class_count(ClassIds(background=0, object=4, reference=2)) == 5


def test_decode_mask_png_reads_palette_and_grey_pngs() -> None:
    mask = np.zeros((6, 8), np.uint8)
    mask[1:3, 2:5] = 1
    mask[4, 6] = 2
    palette = Image.frombytes("P", (8, 6), mask.tobytes())
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * (253 * 3))
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG")

    for body in (buffer.getvalue(), encode_png(mask)):
        assert np.array_equal(decode_mask_png(body, (8, 6), ClassIds()), mask)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"predictions": []}', "not a PNG image"),
        (encode_png(np.zeros((6, 8, 3), np.uint8)), "colour image"),
        (encode_png(np.zeros((6, 9), np.uint8)), "it is 9x6, the photo sent was 8x6"),
        (encode_png(np.full((6, 8), 3, np.uint8)), "class ids [3]"),
    ],
    ids=["json", "colour", "size", "classes"],
)
def test_decode_mask_png_refuses_what_is_not_a_mask(body: bytes, detail: str) -> None:
    with pytest.raises(SegmentationError, match="not a valid mask") as caught:
        decode_mask_png(body, (8, 6), ClassIds())
    assert detail in str(caught.value)


def test_decode_probability_answer_gives_argmax_and_its_probability() -> None:
    probabilities = np.zeros((3, 2, 3), np.float32)
    probabilities[0] = 0.2
    probabilities[1] = [[0.7, 0.1, 0.1], [0.1, 0.1, 0.6]]
    probabilities[2] = 1 - probabilities[0] - probabilities[1]

    mask, confidence = decode_probability_answer(
        encode_probabilities(probabilities), (3, 2), ClassIds()
    )

    assert mask.tolist() == [[1, 2, 2], [2, 2, 1]]
    assert np.allclose(confidence, probabilities.max(axis=0))


def _class_three_wins() -> np.ndarray:
    probabilities = np.full((5, 2, 3), 0.1, np.float32)
    probabilities[3] = 0.6
    return probabilities


@pytest.mark.parametrize(
    ("probabilities", "size", "detail"),
    [
        (np.full((3, 2, 3), 1 / 3, np.float32), (2, 3), "probabilities are 3x2"),
        (np.full((3, 2, 3), 5.0, np.float32), (3, 2), "not probabilities"),
        (_class_three_wins(), (3, 2), "class ids [3]"),
    ],
    ids=["size", "values", "classes"],
)
def test_decode_probability_answer_refuses_bad_answers(
    probabilities: np.ndarray, size: tuple[int, int], detail: str
) -> None:
    with pytest.raises(SegmentationError, match="not a valid mask") as caught:
        decode_probability_answer(encode_probabilities(probabilities), size, ClassIds())
    assert detail in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("endpoint_name", " ", "endpoint name is empty"),
        ("region", "", "region is not set"),
        ("region", None, "region is not set"),
        ("timeout_s", 0, "timeouts must be positive"),
        ("max_attempts", 0, "at least 1"),
        ("retry_mode", "legacy", "retry_mode"),
        ("jpeg_quality", 101, "jpeg_quality"),
        ("max_side_px", 4, "max_side_px"),
        ("max_payload_bytes", 10, "max_payload_bytes"),
    ],
)
def test_settings_refuse_bad_values(field: str, value: object, detail: str) -> None:
    values: dict[str, object] = {"endpoint_name": "e", "region": "us-east-1", field: value}
    with pytest.raises(ParameterError, match=detail):
        SageMakerSettings(**values)  # type: ignore[arg-type]


def test_make_segmenter_builds_the_sagemaker_backend() -> None:
    settings = SageMakerSettings(endpoint_name="e", region="us-east-1")
    classes = ClassIds()

    segmenter = make_segmenter("sagemaker", classes=classes, sagemaker=settings)

    assert isinstance(segmenter, SageMakerSegmenter)
    assert segmenter.name == "sagemaker"
    assert segmenter.settings is settings and segmenter.classes is classes
    with pytest.raises(ParameterError, match="needs an endpoint name"):
        make_segmenter("sagemaker", classes=classes)


def _camera_jpeg(rgb: np.ndarray, orientation: int | None = None, quality: int = 92) -> bytes:
    """``rgb`` saved as a camera does, with an EXIF orientation tag if given."""
    image = Image.fromarray(rgb)
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def _scene(width: int = 320, height: int = 240) -> np.ndarray:
    photo = np.full((height, width, 3), 128, np.uint8)
    photo[60:180, 40:200] = (220, 30, 30)
    photo[20:70, 240:300] = (30, 30, 220)
    return photo


@pytest.mark.parametrize("orientation", [None, 1])
def test_a_camera_jpeg_that_fits_is_sent_byte_for_byte(orientation: int | None) -> None:
    jpeg = _camera_jpeg(_scene(), orientation)
    image = load_image(jpeg)

    sent = photo_for_endpoint(image, jpeg)

    assert sent.body == jpeg
    assert sent.original and sent.quality is None
    assert sent.size == (320, 240)


@pytest.mark.parametrize("orientation", [3, 6, 8, 2])
def test_a_rotated_or_mirrored_jpeg_is_sent_as_its_oriented_pixels(orientation: int) -> None:
    """The mask must match the photo as shown: the endpoint may ignore EXIF."""
    jpeg = _camera_jpeg(_scene(), orientation)
    image = load_image(jpeg)
    height, width = image.shape[:2]
    if orientation in (6, 8):
        assert (width, height) == (240, 320)  # the premise: load_image turned it

    sent = photo_for_endpoint(image, jpeg)

    assert sent.body != jpeg and sent.quality == 95
    assert sent.size == (width, height)
    assert not own_jpeg_fits(jpeg, (width, height), 6 * 1024 * 1024)
    # Decoded as an endpoint that ignores EXIF would decode it: the oriented pixels.
    raw = cv2.imdecode(np.frombuffer(sent.body, np.uint8), cv2.IMREAD_COLOR)
    assert raw.shape[:2] == (height, width)
    assert np.abs(raw[..., ::-1].astype(int) - image).mean() < 2.0


def test_a_png_is_sent_as_a_high_quality_jpeg() -> None:
    photo = _scene()
    png = encode_png(photo)

    sent = photo_for_endpoint(photo, png)

    assert sent.body.startswith(b"\xff\xd8") and sent.quality == 95
    assert sent.body == encode_photo(photo, quality=95).body
    decoded = load_image(sent.body)
    assert np.abs(decoded.astype(int) - photo).mean() < 1.0


def test_own_bytes_are_not_sent_when_they_do_not_fit_or_are_not_the_photo() -> None:
    photo = _noise(240, 320)
    jpeg = _camera_jpeg(photo, quality=95)
    image = load_image(jpeg)

    assert own_jpeg_fits(jpeg, (320, 240), len(jpeg))
    assert not own_jpeg_fits(jpeg, (320, 240), len(jpeg) - 1)
    assert not own_jpeg_fits(jpeg, (321, 240), len(jpeg))
    assert not own_jpeg_fits(b"\xff\xd8 not a jpeg", (320, 240), 10**6)
    cmyk = io.BytesIO()
    Image.fromarray(photo).convert("CMYK").save(cmyk, format="JPEG")
    assert not own_jpeg_fits(cmyk.getvalue(), (320, 240), 10**6)

    smaller = photo_for_endpoint(image, jpeg, len(jpeg) - 1)
    assert smaller.body != jpeg and len(smaller.body) < len(jpeg)
    assert smaller.size == (320, 240)
    # Fewer pixels asked for (probabilities, max_side_px): never the file itself.
    assert photo_for_endpoint(image, jpeg, max_side_px=160).size == (160, 120)
    assert photo_for_endpoint(image, jpeg, max_pixels=20_000).body != jpeg


def test_segment_photo_gives_the_bytes_only_to_a_segmenter_that_uses_them() -> None:
    class OneArgument:
        name = "plain"

        def segment(self, image_rgb: np.ndarray) -> Segmentation:
            return Segmentation(mask=np.zeros(image_rgb.shape[:2], np.uint8))

    class WantsBytes(OneArgument):
        uses_source_bytes = True

        def segment(
            self, image_rgb: np.ndarray, *, source_bytes: bytes | None = None
        ) -> Segmentation:
            return Segmentation(
                mask=np.zeros(image_rgb.shape[:2], np.uint8), notes=(str(source_bytes),)
            )

    photo = _scene()
    assert segment_photo(OneArgument(), photo, source_bytes=b"x").mask.shape == (240, 320)
    assert segment_photo(WantsBytes(), photo, source_bytes=b"x").notes == ("b'x'",)
    assert segment_photo(WantsBytes(), photo).notes == ("None",)
