"""SageMakerSegmenter against the local endpoint server, over real HTTP.

The server speaks the SageMaker runtime wire protocol; boto3 is used as is,
with dummy credentials and ``endpoint_url`` pointing at the server.
"""

from __future__ import annotations

import hashlib
import io
import socket
import time

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image

from objlen.errors import SegmentationError
from objlen.imageio import encode_jpeg, encode_png, load_image
from objlen.sagemaker.local_endpoint import EndpointServer, make_server
from objlen.segment import segment_photo
from objlen.segment.recordio import RECORDIO_PROTOBUF, decode_probabilities
from objlen.segment.sagemaker import (
    MAX_PAYLOAD_BYTES,
    SageMakerSegmenter,
    check_connection,
    encode_photo,
    explain_failure,
)
from tests.aws_servers import ENDPOINT, REGION, ColourSegmenter, draw_photo, settings_for

pytestmark = pytest.mark.aws


def test_round_trip_returns_the_mask(endpoint: EndpointServer, small_photo) -> None:
    photo, truth = small_photo
    result = SageMakerSegmenter(settings_for(endpoint)).segment(photo)

    assert result.backend == "sagemaker"
    assert result.mask.dtype == np.uint8
    assert np.array_equal(result.mask, truth)
    assert result.confidence is None
    assert result.warnings == ()
    assert result.seconds > 0
    [call] = endpoint.log.items()
    assert (call.path, call.endpoint_name, call.status) == (
        f"/endpoints/{ENDPOINT}/invocations",
        ENDPOINT,
        200,
    )
    assert call.content_type == "image/jpeg"
    assert call.accept == "image/png"


def test_adaptive_retry_mode_works_too(endpoint: EndpointServer, small_photo) -> None:
    photo, truth = small_photo
    endpoint.faults.add("unavailable")
    segmenter = SageMakerSegmenter(settings_for(endpoint, retry_mode="adaptive"))

    assert np.array_equal(segmenter.segment(photo).mask, truth)
    assert [c.status for c in endpoint.log.items()] == [503, 200]


def _big_noisy_photo() -> tuple[np.ndarray, np.ndarray]:
    """4000x3000 with strong noise: its JPEG at quality 90 is over 6 MiB."""
    rng = np.random.default_rng(7)
    photo, truth = draw_photo((4000, 3000), (600, 800, 2600, 2000), (3000, 400, 3600, 1000))
    noise = rng.integers(-127, 128, photo.shape, dtype=np.int16)
    scale = np.where(truth[..., None] == 0, 1.0, 0.6)  # the shapes keep their colour
    noisy = np.clip(photo + noise * scale, 0, 255).astype(np.uint8)
    return noisy, truth


@pytest.fixture(scope="module")
def big_photo() -> tuple[np.ndarray, np.ndarray]:
    return _big_noisy_photo()


@pytest.mark.parametrize("limit_bytes", [MAX_PAYLOAD_BYTES, 3 * 1024 * 1024])
def test_big_photo_is_shrunk_under_the_limit_and_the_mask_comes_back_full_size(
    aws_env: None, big_photo, limit_bytes: int
) -> None:
    photo, truth = big_photo
    assert len(encode_jpeg(photo, 90)) > MAX_PAYLOAD_BYTES  # the premise of the test
    server = make_server(
        ColourSegmenter(blur_px=9), endpoint_names=[ENDPOINT], max_payload_bytes=limit_bytes
    ).start()
    try:
        settings = settings_for(server, max_payload_bytes=limit_bytes)
        result = SageMakerSegmenter(settings).segment(photo)
        [call] = server.log.items()
    finally:
        server.stop()

    assert call.status == 200
    assert call.body_bytes <= limit_bytes
    assert result.mask.shape == (3000, 4000)
    if limit_bytes < MAX_PAYLOAD_BYTES:  # this one cannot fit without fewer pixels
        assert any("sent to the endpoint at" in note for note in result.warnings)
    assert np.mean(result.mask == truth) > 0.99
    for value in (1, 2):
        inter = np.sum((result.mask == value) & (truth == value))
        union = np.sum((result.mask == value) | (truth == value))
        assert inter / union > 0.97


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_camera_jpeg_under_the_limit_arrives_byte_for_byte(
    endpoint: EndpointServer, small_photo
) -> None:
    photo, truth = small_photo
    jpeg = encode_jpeg(photo, quality=92)
    segmenter = SageMakerSegmenter(settings_for(endpoint))

    result = segment_photo(segmenter, load_image(jpeg), source_bytes=jpeg)

    [call] = endpoint.log.items()
    assert (call.status, call.body_bytes, call.body_sha256) == (200, len(jpeg), _sha256(jpeg))
    assert np.array_equal(result.mask, truth)
    assert result.warnings == () and result.notes == ()


def test_a_rotated_jpeg_arrives_as_its_oriented_pixels(
    endpoint: EndpointServer, small_photo
) -> None:
    """EXIF orientation 6 (turn 90 degrees clockwise to show): the pixels stored
    are the photo turned the other way. The endpoint must get the photo as
    shown, since the mask is of the photo as shown."""
    photo, truth = small_photo
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(np.rot90(photo)).save(buffer, format="JPEG", quality=95, exif=exif)
    jpeg = buffer.getvalue()
    image = load_image(jpeg)
    assert image.shape == photo.shape  # the premise: load_image turns it back

    result = SageMakerSegmenter(settings_for(endpoint)).segment(image, source_bytes=jpeg)

    [call] = endpoint.log.items()
    assert call.body_sha256 != _sha256(jpeg)
    assert call.body_sha256 == _sha256(encode_photo(image, quality=95).body)
    assert np.array_equal(result.mask, truth)


def test_a_png_arrives_as_a_jpeg_of_the_highest_quality(
    endpoint: EndpointServer, small_photo
) -> None:
    photo, truth = small_photo
    png = encode_png(photo)

    result = SageMakerSegmenter(settings_for(endpoint)).segment(photo, source_bytes=png)

    [call] = endpoint.log.items()
    assert call.content_type == "image/jpeg"
    assert call.body_sha256 == _sha256(encode_photo(photo, quality=95).body)
    assert call.body_sha256 != _sha256(encode_photo(photo, quality=85).body)
    assert np.array_equal(result.mask, truth)
    assert result.warnings == () and result.notes == ()


def _noisy_scene(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    photo, truth = draw_photo(
        (width, height),
        (width // 8, height // 4, width // 2, 3 * height // 4),
        (3 * width // 4, height // 8, 7 * width // 8, height // 3),
    )
    noise = np.random.default_rng(5).integers(-60, 61, photo.shape, dtype=np.int16)
    return np.clip(photo + noise, 0, 255).astype(np.uint8), truth


def _serve(limit_bytes: int, photo: np.ndarray):
    server = make_server(
        ColourSegmenter(blur_px=9), endpoint_names=[ENDPOINT], max_payload_bytes=limit_bytes
    ).start()
    try:
        settings = settings_for(server, max_payload_bytes=limit_bytes)
        result = SageMakerSegmenter(settings).segment(photo, source_bytes=encode_png(photo))
        [call] = server.log.items()
    finally:
        server.stop()
    return result, call


def test_a_lower_quality_comes_before_fewer_pixels(aws_env: None) -> None:
    photo, truth = _noisy_scene(1280, 960)
    at_95, at_80 = (len(encode_photo(photo, quality=q).body) for q in (95, 80))
    limit = (at_95 + at_80) // 2

    result, call = _serve(limit, photo)

    assert call.status == 200 and call.body_bytes <= limit
    assert result.warnings == ()  # every pixel was sent
    [note] = result.notes
    assert "as a JPEG of quality" in note and "instead of 95" in note
    assert np.mean(result.mask == truth) > 0.99


def test_a_huge_photo_is_shrunk_as_a_last_resort_with_a_warning(aws_env: None) -> None:
    photo, truth = _noisy_scene(1280, 960)
    at_70 = len(encode_photo(photo, quality=70).body)
    limit = at_70 // 2  # no quality fits every pixel

    result, call = _serve(limit, photo)

    assert call.status == 200 and call.body_bytes <= limit
    [warning] = result.warnings
    assert "sent to the endpoint at" in warning and "instead of 1280x960" in warning
    assert "quality 70" in result.notes[0]
    assert result.mask.shape == (960, 1280)
    assert np.mean(result.mask == truth) > 0.98


def test_slow_answer_ends_with_a_timeout_message_within_the_timeout(
    endpoint: EndpointServer, small_photo
) -> None:
    segmenter = SageMakerSegmenter(settings_for(endpoint, timeout_s=1.0, max_attempts=4))
    segmenter.segment(small_photo[0])  # warm up: boto3 client and connection
    endpoint.faults.add("slow", 4, seconds=5.0)

    start = time.perf_counter()
    with pytest.raises(SegmentationError, match=r"did not answer within 1 s") as caught:
        segmenter.segment(small_photo[0])
    elapsed = time.perf_counter() - start

    # A second attempt alone would take another full second.
    assert 1.0 <= elapsed < 1.0 + 0.6
    assert str(caught.value).startswith("timeout:")
    assert endpoint.faults.pending == 3  # one attempt only: a timeout is not retried


@pytest.mark.parametrize(
    ("fault", "status", "expected"),
    [
        ("internal", 500, r"failed internally .*\(3 attempts\)"),
        ("unavailable", 503, r"unavailable .*\(3 attempts\)"),
        ("throttle", 429, r"throttling .*still after 3 attempts"),
    ],
)
def test_transient_failures_are_retried_then_explained(
    endpoint: EndpointServer, small_photo, fault: str, status: int, expected: str
) -> None:
    endpoint.faults.add(fault, 5)
    segmenter = SageMakerSegmenter(settings_for(endpoint, max_attempts=3))

    with pytest.raises(SegmentationError, match=expected):
        segmenter.segment(small_photo[0])

    assert [c.status for c in endpoint.log.items()] == [status] * 3
    assert endpoint.faults.pending == 2


def test_a_retry_that_succeeds_returns_the_mask(endpoint: EndpointServer, small_photo) -> None:
    photo, truth = small_photo
    endpoint.faults.add("internal")
    endpoint.faults.add("throttle")

    result = SageMakerSegmenter(settings_for(endpoint, max_attempts=3)).segment(photo)

    assert np.array_equal(result.mask, truth)
    assert [c.status for c in endpoint.log.items()] == [500, 429, 200]


def test_model_error_shows_the_original_message_and_is_not_retried(
    endpoint: EndpointServer, small_photo
) -> None:
    endpoint.faults.add("model_error", 3, message="CUDA out of memory")

    with pytest.raises(SegmentationError) as caught:
        SageMakerSegmenter(settings_for(endpoint)).segment(small_photo[0])

    message = str(caught.value)
    assert "CUDA out of memory" in message
    assert "status 500" in message
    assert "log-group:/aws/sagemaker/Endpoints" in message
    assert [c.status for c in endpoint.log.items()] == [424]


def test_model_error_fields_reach_botocore_as_modeled(endpoint: EndpointServer) -> None:
    endpoint.faults.add("model_error", message="bad weights")
    client = boto3.client("sagemaker-runtime", region_name=REGION, endpoint_url=endpoint.url)

    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(EndpointName=ENDPOINT, Body=b"x", ContentType="image/jpeg")

    response = caught.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["OriginalStatusCode"] == 500
    assert response["OriginalMessage"] == "bad weights"
    assert response["LogStreamArn"].startswith("arn:aws:logs:")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424


def test_model_not_ready_is_explained(endpoint: EndpointServer, small_photo) -> None:
    endpoint.faults.add("not_ready", 3)

    with pytest.raises(SegmentationError, match="not ready yet"):
        SageMakerSegmenter(settings_for(endpoint)).segment(small_photo[0])

    # A modeled error without a "retryable" trait: botocore does not retry it.
    assert len(endpoint.log.items()) == 1


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        ("malformed_png", "truncated or corrupt"),
        ("wrong_size", "the photo sent was 320x240"),
        ("bad_classes", "class ids [7]"),
    ],
)
def test_an_answer_that_is_not_a_valid_mask_is_refused(
    endpoint: EndpointServer, small_photo, fault: str, detail: str
) -> None:
    endpoint.faults.add(fault)

    with pytest.raises(SegmentationError, match="not a valid mask") as caught:
        SageMakerSegmenter(settings_for(endpoint)).segment(small_photo[0])

    assert detail in str(caught.value)


def test_probabilities_decode_to_the_right_shape_and_argmax_is_the_mask(
    endpoint: EndpointServer, small_photo
) -> None:
    photo, truth = small_photo
    client = boto3.client("sagemaker-runtime", region_name=REGION, endpoint_url=endpoint.url)

    for accept in (RECORDIO_PROTOBUF, "application/x-protobuf"):
        answer = client.invoke_endpoint(
            EndpointName=ENDPOINT, Body=encode_jpeg(photo), ContentType="image/jpeg", Accept=accept
        )
        assert answer["ContentType"] == accept
        probabilities = decode_probabilities(answer["Body"].read())
        assert probabilities.shape == (3, 240, 320)
        assert np.allclose(probabilities.sum(axis=0), 1.0, atol=1e-5)
        assert np.array_equal(probabilities.argmax(axis=0), truth)

    result = SageMakerSegmenter(settings_for(endpoint), want_confidence=True).segment(photo)
    assert np.array_equal(result.mask, truth)
    assert result.confidence is not None
    assert result.confidence.shape == truth.shape
    assert float(result.confidence.min()) >= 0.0
    assert float(result.confidence.max()) <= 1.0
    assert endpoint.log.items()[-1].accept == RECORDIO_PROTOBUF


def test_probability_requests_are_shrunk_so_the_answer_fits_too(
    endpoint: EndpointServer,
) -> None:
    photo, truth = draw_photo((2000, 1500), (400, 400, 1200, 1000), (1500, 100, 1800, 400))

    result = SageMakerSegmenter(settings_for(endpoint), want_confidence=True).segment(photo)

    assert result.mask.shape == (1500, 2000)
    assert result.confidence is not None and result.confidence.shape == (1500, 2000)
    assert np.mean(result.mask == truth) > 0.99
    assert any("sent to the endpoint at" in note for note in result.warnings)


def test_unknown_endpoint_is_reported_as_not_found(endpoint: EndpointServer, small_photo) -> None:
    settings = settings_for(endpoint, endpoint_name="no-such-endpoint")

    with pytest.raises(SegmentationError, match="'no-such-endpoint' not found in region"):
        SageMakerSegmenter(settings).segment(small_photo[0])

    assert len(endpoint.log.items()) == 1  # a validation error is not retried


def test_missing_credentials_are_explained(no_credentials: None, small_photo) -> None:
    server = make_server(ColourSegmenter()).start()
    try:
        with pytest.raises(SegmentationError, match="no AWS credentials found"):
            SageMakerSegmenter(settings_for(server)).segment(small_photo[0])
        assert server.log.items() == []  # nothing was sent
    finally:
        server.stop()


def test_unknown_profile_is_explained(aws_env: None, small_photo) -> None:
    settings = settings_for("http://127.0.0.1:9", profile="nobody")

    with pytest.raises(SegmentationError, match="profile 'nobody' not found"):
        SageMakerSegmenter(settings).segment(small_photo[0])


def test_oversize_body_is_refused_as_the_service_does(aws_env: None, small_photo) -> None:
    rng = np.random.default_rng(3)
    noisy = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    server = make_server(ColourSegmenter(), max_payload_bytes=10_000).start()
    try:
        client = boto3.client("sagemaker-runtime", region_name=REGION, endpoint_url=server.url)
        with pytest.raises(client.exceptions.ValidationError, match="has oversize body"):
            client.invoke_endpoint(EndpointName=ENDPOINT, Body=b"\0" * 10_001)
        # A client whose own limit is larger than the server's hears about it.
        with pytest.raises(SegmentationError, match="refused the photo as too large"):
            SageMakerSegmenter(settings_for(server)).segment(noisy)
        statuses = [c.status for c in server.log.items()]
    finally:
        server.stop()
    assert statuses == [400, 400]


def test_refused_connection_is_explained(aws_env: None, small_photo) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = settings_for(f"http://127.0.0.1:{port}", max_attempts=2)

    with pytest.raises(SegmentationError, match=r"could not connect to http://127\.0\.0\.1"):
        SageMakerSegmenter(settings).segment(small_photo[0])


def test_check_connection_measures_one_small_call(aws_env: None) -> None:
    server = make_server(ColourSegmenter(), latency_s=0.2, endpoint_names=[ENDPOINT]).start()
    try:
        seconds = check_connection(settings_for(server))
        [call] = server.log.items()
    finally:
        server.stop()
    assert 0.2 <= seconds < 2.0
    assert call.status == 200 and call.body_bytes < 2000


def test_check_connection_reports_a_bad_answer(endpoint: EndpointServer) -> None:
    endpoint.faults.add("malformed_png")

    with pytest.raises(SegmentationError, match="not a valid mask"):
        check_connection(settings_for(endpoint))


def test_explain_failure_covers_unmodeled_client_errors() -> None:
    from objlen.segment.sagemaker import SageMakerSettings

    settings = SageMakerSettings(endpoint_name="e", region=REGION)
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}, "ResponseMetadata": {}},
        "InvokeEndpoint",
    )
    assert "refused the credentials" in str(explain_failure(denied, settings))
    other = ClientError(
        {"Error": {"Code": "Weird", "Message": "odd"}, "ResponseMetadata": {}}, "InvokeEndpoint"
    )
    assert str(explain_failure(other, settings)) == "endpoint 'e' failed (Weird): odd"


def test_botocore_config_counts_total_attempts(endpoint: EndpointServer, small_photo) -> None:
    """max_attempts in our settings is the total, as botocore's total_max_attempts."""
    endpoint.faults.add("internal", 5)
    with pytest.raises(SegmentationError):
        SageMakerSegmenter(settings_for(endpoint, max_attempts=1)).segment(small_photo[0])
    assert len(endpoint.log.items()) == 1
    # For contrast: botocore's own "max_attempts" key counts retries, not attempts.
    endpoint.log.clear()
    endpoint.faults.clear()
    endpoint.faults.add("internal", 5)
    client = boto3.client(
        "sagemaker-runtime",
        region_name=REGION,
        endpoint_url=endpoint.url,
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    with pytest.raises(ClientError):
        client.invoke_endpoint(EndpointName=ENDPOINT, Body=b"x", ContentType="image/jpeg")
    assert len(endpoint.log.items()) == 2


def test_the_default_backend_of_the_server_is_the_local_segmenter(aws_env: None) -> None:
    from objlen.imageio import load_image
    from objlen.segment.local import LocalSegmenter
    from objlen.segment.sagemaker import encode_photo

    photo = np.full((240, 320, 3), 200, np.uint8)
    photo[80:180, 120:280] = 40  # the object
    photo[30:70, 20:60] = 40  # the reference, leftmost
    expected = LocalSegmenter().segment(load_image(encode_photo(photo).body)).mask
    server = make_server(endpoint_names=[ENDPOINT]).start()
    try:
        result = SageMakerSegmenter(settings_for(server)).segment(photo)
        assert check_connection(settings_for(server)) > 0
    finally:
        server.stop()

    assert set(np.unique(expected).tolist()) == {0, 1, 2}
    assert np.array_equal(result.mask, expected)


def test_a_crashing_segmenter_is_a_model_error_not_a_dropped_connection(
    aws_env: None, small_photo
) -> None:
    class Crashing(ColourSegmenter):
        def segment(self, image_rgb: np.ndarray):
            raise RuntimeError("index out of range")

    server = make_server(Crashing(), endpoint_names=[ENDPOINT]).start()
    try:
        with pytest.raises(SegmentationError, match="crashed: RuntimeError"):
            SageMakerSegmenter(settings_for(server)).segment(small_photo[0])
        assert [c.status for c in server.log.items()] == [424]
    finally:
        server.stop()
