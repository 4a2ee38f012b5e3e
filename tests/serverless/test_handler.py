"""The Lambda handler, driven with real API Gateway proxy events.

The handler calls the project's local SageMaker-compatible endpoint
(``objlen.sagemaker.local_endpoint``, backed by the real local segmenter) over HTTP through boto3,
exactly as it would call SageMaker: dummy credentials, ``OBJLEN_ENDPOINT_URL``
pointing at the server. Nothing in boto3 is patched. The photos are the bundled
samples, whose true sizes are in ``samples/ground_truth.json``.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from objlen import SCHEMA
from objlen.imageio import encode_jpeg
from objlen.sagemaker.local_endpoint import EndpointServer, make_server
from objlen.serverless import handler as lh
from objlen.serverless import model as lambda_model
from objlen.serverless.budget import (
    cold_start_seconds,
    model_timeout_s,
    process_age_s,
    reserve_s,
    time_budget_s,
)
from objlen.serverless.config import DEFAULT_API_TIMEOUT_S, ENVIRONMENT_VARIABLES
from objlen.serverless.log import runtime_versions
from objlen.serverless.request import MAX_PHOTO_BYTES
from tests.aws_servers import ENDPOINT, REGION

pytestmark = pytest.mark.aws

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TRUTH = {s["name"]: s for s in json.loads((SAMPLES / "ground_truth.json").read_text())["samples"]}
TOLERANCE = 0.015  # 1.5 % of the true width


# -- events, as API Gateway sends them ------------------------------------------


def rest_event(
    body: bytes | str | None,
    *,
    content_type: str | None = "image/jpeg",
    query: dict[str, str] | None = None,
    base64_encoded: bool = True,
    method: str = "POST",
) -> dict[str, Any]:
    """A REST API (payload format 1.0) Lambda-proxy event for ``/measure``."""
    if isinstance(body, bytes):
        text: str | None = base64.b64encode(body).decode("ascii") if base64_encoded else None
        if not base64_encoded:
            text = body.decode("latin-1")
    else:
        text = body
    headers = {
        "Accept": "application/json",
        "Host": "abc123.execute-api.ap-northeast-1.amazonaws.com",
    }
    if content_type is not None:
        headers["Content-Type"] = content_type
    return {
        "resource": "/measure",
        "path": "/measure",
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "httpMethod": method,
            "path": "/prod/measure",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": "25/Nov/2026:09:00:00 +0000",
            "requestTimeEpoch": 1795597200000,
            "resourceId": "xyz789",
            "resourcePath": "/measure",
            "stage": "prod",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
        },
        "body": text,
        "isBase64Encoded": base64_encoded and body is not None,
    }


def http_event(
    body: str | None,
    *,
    content_type: str | None = "application/json",
    raw_query: str = "",
    base64_encoded: bool = False,
    method: str = "POST",
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) Lambda-proxy event for ``POST /measure``."""
    headers = {"accept": "*/*", "host": "xyz.execute-api.ap-northeast-1.amazonaws.com"}
    if content_type is not None:
        headers["content-type"] = content_type
    query: dict[str, str] = {}
    for pair in filter(None, raw_query.split("&")):
        name, _, value = pair.partition("=")
        query[name] = f"{query[name]},{value}" if name in query else value
    return {
        "version": "2.0",
        "routeKey": f"{method} /measure",
        "rawPath": "/measure",
        "rawQueryString": raw_query,
        "headers": headers,
        **({"queryStringParameters": query} if query else {}),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "xyz",
            "domainName": "xyz.execute-api.ap-northeast-1.amazonaws.com",
            "domainPrefix": "xyz",
            "http": {
                "method": method,
                "path": "/measure",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "Mozilla/5.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"{method} /measure",
            "stage": "$default",
            "time": "25/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795597200000,
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


class FakeContext:
    """A Lambda context whose remaining time runs down from ``budget_ms``."""

    function_name = "objlen-measure"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:objlen-measure"

    def __init__(self, budget_ms: float = 30_000, request_id: str = "req-1") -> None:
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + budget_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def body_of(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["isBase64Encoded"] is False
    assert answer["headers"]["Content-Type"].startswith("application/json")
    return json.loads(answer["body"])


def assert_cors(answer: dict[str, Any], origin: str = "*") -> None:
    headers = answer["headers"]
    assert headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in headers["Access-Control-Allow-Headers"]


def assert_error(answer: dict[str, Any], status: int, code: str) -> str:
    """Check an error answer; return its message."""
    assert answer["statusCode"] == status, answer["body"]
    assert_cors(answer)
    error = body_of(answer)["error"]
    assert (error["status"], error["code"]) == (status, code)
    assert error["request_id"] == answer["headers"]["X-Request-Id"]
    return error["message"]


def sample_bytes(name: str) -> bytes:
    return (SAMPLES / f"{name}.jpg").read_bytes()


def width_error(result: dict[str, Any], name: str) -> float:
    true_width = TRUTH[name]["object"]["width_mm"]
    return abs(result["objects"][0]["width"]["value"] - true_width) / true_width


# -- fixtures ----------------------------------------------------------------------


@pytest.fixture
def endpoint(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[EndpointServer]:
    """The local endpoint server (real local segmenter) and the handler's environment."""
    server = make_server(port=0, endpoint_names=[ENDPOINT]).start()
    for name in ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setenv("OBJLEN_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", server.url)
    try:
        yield server
    finally:
        server.stop()


# -- 200 -----------------------------------------------------------------------------


def test_rest_binary_jpeg_is_measured_within_tolerance(endpoint: EndpointServer) -> None:
    event = rest_event(sample_bytes("card_rectangle"), query={"reference_size": "85.6x54"})

    answer = lh.handler(event, FakeContext(request_id="rest-1"))

    assert answer["statusCode"] == 200, answer["body"]
    assert_cors(answer)
    assert answer["headers"]["X-Request-Id"] == "rest-1"
    result = body_of(answer)
    assert result["schema"] == SCHEMA
    assert result["image"] == {"width": 1600, "height": 1200}
    assert result["unit"] == "mm" and result["method"] == "proportional"
    assert width_error(result, "card_rectangle") < TOLERANCE
    [call] = endpoint.log.items()
    assert (call.endpoint_name, call.status, call.content_type) == (ENDPOINT, 200, "image/jpeg")


def test_http_api_json_body_is_measured_within_tolerance(endpoint: EndpointServer) -> None:
    photo = base64.b64encode(sample_bytes("card_ellipse")).decode("ascii")
    event = http_event(json.dumps({"image": photo, "reference_length": 85.6, "unit": "mm"}))

    answer = lh.handler(event, FakeContext())

    assert answer["statusCode"] == 200, answer["body"]
    assert_cors(answer)
    result = body_of(answer)
    assert result["schema"] == SCHEMA
    assert width_error(result, "card_ellipse") < TOLERANCE
    true_height = TRUTH["card_ellipse"]["object"]["height_mm"]
    assert abs(result["objects"][0]["height"]["value"] - true_height) / true_height < TOLERANCE


@pytest.mark.parametrize("name", ["card_blob_gradient", "dark_card_ellipse"])
def test_more_samples_through_the_rest_api(endpoint: EndpointServer, name: str) -> None:
    answer = lh.handler(rest_event(sample_bytes(name), query={"reference_size": "85.6x54"}), None)

    assert answer["statusCode"] == 200, answer["body"]
    assert width_error(body_of(answer), name) < TOLERANCE


def test_png_body_homography_on_the_tilted_sample(endpoint: EndpointServer) -> None:
    rgb = np.asarray(Image.open(SAMPLES / "tilted30_card_rectangle.jpg").convert("RGB"))
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    query = {"reference_size": "85.6x54", "method": "homography"}

    answer = lh.handler(rest_event(buffer.getvalue(), content_type="image/png", query=query), None)

    assert answer["statusCode"] == 200, answer["body"]
    result = body_of(answer)
    assert result["method"] == "homography"
    assert width_error(result, "tilted30_card_rectangle") < TOLERANCE


def test_aruco_reference_from_an_http_api_query(endpoint: EndpointServer) -> None:
    photo = base64.b64encode(sample_bytes("aruco_rectangle")).decode("ascii")
    event = http_event(
        json.dumps({"image": f"data:image/jpeg;base64,{photo}"}),
        raw_query="aruco=DICT_4X4_50&marker_size=4cm",
    )

    answer = lh.handler(event, None)

    assert answer["statusCode"] == 200, answer["body"]
    result = body_of(answer)
    assert result["reference"]["kind"] == "aruco"
    assert width_error(result, "aruco_rectangle") < TOLERANCE


def test_units_and_options_are_applied(endpoint: EndpointServer) -> None:
    query = {"reference_length": "8.56", "unit": "cm", "offset": "5mm", "all": "true"}

    answer = lh.handler(rest_event(sample_bytes("card_rectangle"), query=query), None)

    assert answer["statusCode"] == 200, answer["body"]
    result = body_of(answer)
    assert result["unit"] == "cm"
    assert result["offset_N"] == pytest.approx(0.5)
    width_cm = result["objects"][0]["width"]["value"]
    assert width_cm == pytest.approx(TRUTH["card_rectangle"]["object"]["width_mm"] / 10, rel=0.015)


def test_a_transient_503_is_retried_within_the_budget(endpoint: EndpointServer) -> None:
    endpoint.faults.add("unavailable")

    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}), None
    )

    assert answer["statusCode"] == 200, answer["body"]
    assert [call.status for call in endpoint.log.items()] == [503, 200]


def test_the_segmenter_is_built_once_per_container(endpoint: EndpointServer) -> None:
    event = rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"})
    before = dict(lambda_model._SEGMENTERS)

    assert lh.handler(event, None)["statusCode"] == 200
    after_first = {k: v for k, v in lambda_model._SEGMENTERS.items() if k not in before}
    assert lh.handler(event, None)["statusCode"] == 200
    after_second = {k: v for k, v in lambda_model._SEGMENTERS.items() if k not in before}

    assert len(after_first) == 1
    assert after_second == after_first  # the same segmenter object, reused warm
    [settings] = after_first
    assert settings.endpoint_url == endpoint.url
    assert settings.timeout_s <= DEFAULT_API_TIMEOUT_S


# -- 400, 405, 415, 422 ----------------------------------------------------------------


def test_not_an_image(endpoint: EndpointServer) -> None:
    answer = lh.handler(
        rest_event(b"this is not a photo", query={"reference_length": "85.6"}), None
    )

    message = assert_error(answer, 400, "not_an_image")
    assert "not an image" in message
    assert endpoint.log.items() == []  # the model was never asked


def test_missing_reference(endpoint: EndpointServer) -> None:
    answer = lh.handler(rest_event(sample_bytes("card_ellipse")), None)

    message = assert_error(answer, 400, "bad_option")
    assert "reference_length" in message and "reference_size" in message
    assert endpoint.log.items() == []


def test_invalid_json(endpoint: EndpointServer) -> None:
    answer = lh.handler(http_event('{"image": "abc", "reference_length": 85.6'), None)

    message = assert_error(answer, 400, "bad_json")
    assert "not valid JSON" in message


def test_invalid_base64_in_json(endpoint: EndpointServer) -> None:
    event = http_event(json.dumps({"image": "not base64 at all!", "reference_length": 85.6}))

    message = assert_error(lh.handler(event, None), 400, "bad_base64")
    assert '"image"' in message


def test_invalid_base64_binary_body(endpoint: EndpointServer) -> None:
    event = rest_event("%%%not-base64%%%", query={"reference_length": "85.6"})
    event["isBase64Encoded"] = True

    assert_error(lh.handler(event, None), 400, "bad_base64")


@pytest.mark.parametrize("value", ["-85.6", "0", "nan", "inf", "85.6parsecs"])
def test_invalid_reference_length(endpoint: EndpointServer, value: str) -> None:
    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": value}), None
    )

    message = assert_error(answer, 400, "bad_option")
    assert "reference_length" in message


def test_negative_length_in_json(endpoint: EndpointServer) -> None:
    photo = base64.b64encode(sample_bytes("card_ellipse")).decode("ascii")
    event = http_event(json.dumps({"image": photo, "reference_length": -5}))

    message = assert_error(lh.handler(event, None), 400, "bad_option")
    assert "positive" in message


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"reference_lenght": "85.6"}, "unknown option reference_lenght"),
        ({"reference_length": "85.6", "scale": "0.1"}, "once"),
        ({"reference_length": "85.6", "unit": "furlong"}, "unknown unit"),
        ({"reference_length": "85.6", "method": "homography"}, "homography"),
        ({"reference_size": "85.6 by 54"}, "85.6x54"),
        ({"aruco": "DICT_4X4_50"}, "marker_size"),
        ({"reference_length": "85.6", "all": "maybe"}, "true or false"),
    ],
)
def test_invalid_options(endpoint: EndpointServer, params: dict[str, str], words: str) -> None:
    answer = lh.handler(rest_event(sample_bytes("card_ellipse"), query=params), None)

    assert words in assert_error(answer, 400, "bad_option")


def test_an_option_given_twice_is_refused(endpoint: EndpointServer) -> None:
    photo = base64.b64encode(sample_bytes("card_ellipse")).decode("ascii")
    event = http_event(
        json.dumps({"image": photo, "reference_length": 85.6}), raw_query="reference_length=85.6"
    )

    assert "give it once" in assert_error(lh.handler(event, None), 400, "bad_request")


def test_a_photo_sent_as_text_names_the_binary_media_types(endpoint: EndpointServer) -> None:
    event = rest_event(
        sample_bytes("card_ellipse"), query={"reference_length": "85.6"}, base64_encoded=False
    )

    assert "binary media types" in assert_error(lh.handler(event, None), 400, "not_binary")


def test_no_body(endpoint: EndpointServer) -> None:
    assert_error(
        lh.handler(rest_event(None, query={"reference_length": "85.6"}), None), 400, "no_photo"
    )


def test_json_without_image(endpoint: EndpointServer) -> None:
    answer = lh.handler(http_event(json.dumps({"reference_length": 85.6})), None)

    assert '"image"' in assert_error(answer, 400, "no_photo")


def test_unsupported_content_type(endpoint: EndpointServer) -> None:
    event = rest_event(b"a=b", content_type="application/x-www-form-urlencoded", query={})

    assert "image/jpeg" in assert_error(lh.handler(event, None), 415, "unsupported_media_type")


def test_other_methods_are_refused_and_preflight_is_answered(endpoint: EndpointServer) -> None:
    refused = lh.handler(rest_event(None, method="GET"), None)
    assert_error(refused, 405, "method_not_allowed")
    assert refused["headers"]["Allow"] == "POST, OPTIONS"

    preflight = lh.handler(http_event(None, method="OPTIONS"), None)
    assert preflight["statusCode"] == 204
    assert preflight["body"] == ""
    assert_cors(preflight)


def test_a_photo_without_a_reference_is_unprocessable(endpoint: EndpointServer) -> None:
    photo = np.full((480, 640, 3), 210, np.uint8)
    cv2.rectangle(photo, (200, 150), (440, 330), (40, 40, 40), thickness=-1)

    answer = lh.handler(rest_event(encode_jpeg(photo), query={"reference_length": "85.6"}), None)

    message = assert_error(answer, 422, "not_measurable")
    assert "reference" in message


# -- 413 --------------------------------------------------------------------------------


def test_a_photo_over_the_limit_is_refused_before_decoding(endpoint: EndpointServer) -> None:
    noise = np.random.default_rng(5).integers(0, 256, size=(1200, 1300, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG", compress_level=1)
    png = buffer.getvalue()
    assert len(png) > MAX_PHOTO_BYTES

    for event in (
        rest_event(png, content_type="image/png", query={"reference_length": "85.6"}),
        http_event(json.dumps({"image": base64.b64encode(png).decode(), "reference_length": 1})),
    ):
        message = assert_error(lh.handler(event, None), 413, "photo_too_large")
        assert "4.4 MB" in message
    assert endpoint.log.items() == []


def test_a_photo_over_the_pixel_limit_is_refused(
    endpoint: EndpointServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBJLEN_MAX_PIXELS", "1000000")

    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}), None
    )

    assert "1600x1200" in assert_error(answer, 413, "photo_too_large")
    assert endpoint.log.items() == []


# -- 502, 504 ------------------------------------------------------------------------------


def test_a_model_error_is_a_bad_gateway_without_internals(endpoint: EndpointServer) -> None:
    endpoint.faults.add("model_error", message="CUDA out of memory in layer 7")

    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}), None
    )

    message = assert_error(answer, 502, "model_error")
    for internal in (ENDPOINT, "CUDA", "arn:", REGION, endpoint.url):
        assert internal not in answer["body"]
    assert "segmentation model" in message
    assert [call.status for call in endpoint.log.items()] == [424]  # ModelError is not retried


def test_a_broken_mask_is_a_bad_gateway(endpoint: EndpointServer) -> None:
    endpoint.faults.add("malformed_png")

    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}), None
    )

    assert_error(answer, 502, "bad_model_answer")


def test_a_slow_model_gets_a_504_well_within_the_budget(endpoint: EndpointServer) -> None:
    endpoint.faults.add("slow", seconds=5.0)
    event = rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"})
    context = FakeContext(budget_ms=1500)

    started = time.monotonic()
    answer = lh.handler(event, context)
    elapsed = time.monotonic() - started

    message = assert_error(answer, 504, "model_timeout")
    assert "did not answer" in message
    assert elapsed < 1.4, f"the handler took {elapsed:.2f} s of a 1.5 s budget"
    assert context.get_remaining_time_in_millis() > 100


def test_retries_and_back_off_cannot_make_the_handler_late(endpoint: EndpointServer) -> None:
    # A fast 503 (retried after a random back-off of up to 1 s), then a model
    # that takes 3 s: however the back-off falls, the handler answers in time.
    endpoint.faults.add("unavailable")
    endpoint.faults.add("slow", seconds=3.0)
    context = FakeContext(budget_ms=2000)

    started = time.monotonic()
    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}), context
    )
    elapsed = time.monotonic() - started

    assert_error(answer, 504, "model_timeout")
    assert elapsed < 1.9, f"the handler took {elapsed:.2f} s of a 2 s budget"
    assert [call.status for call in endpoint.log.items()][:1] == [503]


def test_no_time_left_means_504_without_asking_the_model(endpoint: EndpointServer) -> None:
    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}),
        FakeContext(budget_ms=300),
    )

    assert_error(answer, 504, "model_timeout")
    assert endpoint.log.items() == []


# -- 500 and logs ------------------------------------------------------------------------


def test_missing_configuration_is_a_500_without_details(
    endpoint: EndpointServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OBJLEN_ENDPOINT")

    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}), None
    )

    assert "OBJLEN_ENDPOINT" not in assert_error(answer, 500, "not_configured")
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert "OBJLEN_ENDPOINT" in line["detail"]


def test_an_unexpected_failure_is_logged_not_leaked(
    endpoint: EndpointServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal state 0xDEADBEEF")

    monkeypatch.setattr(lh, "measure_segmentation", broken)

    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}),
        FakeContext(request_id="boom-1"),
    )

    assert "DEADBEEF" not in assert_error(answer, 500, "internal_error")
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    failure = next(line for line in lines if line["level"] == "ERROR")
    assert "0xDEADBEEF" in failure["exception"]
    assert failure["request_id"] == "boom-1"


def test_one_json_log_line_per_request_without_the_photo(
    endpoint: EndpointServer, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = sample_bytes("card_ellipse")
    encoded = base64.b64encode(photo).decode("ascii")

    lh.handler(rest_event(photo, query={"reference_length": "85.6"}), FakeContext(request_id="l-1"))

    output = capsys.readouterr().out
    [line] = [json.loads(x) for x in output.splitlines()]
    assert line["message"] == "request"
    assert line["request_id"] == "l-1"
    assert (line["status"], line["api"], line["mode"]) == (200, "rest-v1", "binary")
    assert line["photo_bytes"] == len(photo)
    assert line["image"] == "1600x1200"
    assert line["model_s"] > 0 and line["seconds"] >= line["model_s"]
    assert encoded[:200] not in output and encoded[-200:] not in output
    assert "testing" not in output  # the (dummy) credentials


def test_cors_origin_comes_from_the_environment(
    endpoint: EndpointServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBJLEN_CORS_ORIGIN", "https://measure.example.com")

    answer = lh.handler(rest_event(None), None)

    assert answer["headers"]["Access-Control-Allow-Origin"] == "https://measure.example.com"
    assert answer["headers"]["Vary"] == "Origin"


# -- the time arithmetic, on its own -----------------------------------------------------------


def test_time_budget_takes_the_smaller_limit() -> None:
    assert time_budget_s(None, 29.0) == 29.0
    assert time_budget_s(FakeContext(budget_ms=10_000), 29.0) == pytest.approx(10.0, abs=0.05)
    assert time_budget_s(FakeContext(budget_ms=60_000), 29.0, cold_start_s=2.5) == 26.5


def test_model_timeout_rounds_down_and_respects_the_cap() -> None:
    assert model_timeout_s(25.7, 60.0) == 25.0
    assert model_timeout_s(25.7, 10.0) == 10.0
    assert model_timeout_s(1.13, 60.0) == 1.0
    assert model_timeout_s(0.31, 60.0) == 0.25
    assert reserve_s(29.0) == 3.0
    assert reserve_s(1.5) == pytest.approx(0.3)
    assert reserve_s(0.5) == 0.25


def test_cold_start_counts_only_for_a_first_on_demand_invocation_in_lambda(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = time.monotonic()
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert cold_start_seconds(now, first=True) == 0.0  # not in Lambda

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "objlen-measure")
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    age = process_age_s()
    assert age is not None and age > 0
    assert 0 < cold_start_seconds(now, first=True) <= 10.0
    assert cold_start_seconds(now, first=False) == 0.0

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    assert cold_start_seconds(now, first=True) == 0.0


def test_the_versions_logged_on_a_cold_start_are_the_installed_ones() -> None:
    versions = runtime_versions()
    assert versions["numpy"] == np.__version__
    assert versions["opencv-python-headless"].startswith(cv2.__version__.split("-")[0][:3])
    assert set(versions) >= {"python", "boto3", "botocore", "pillow"}


# -- hostile events (issue #12) ------------------------------------------------------------


def _json_event(body: str, **changes: Any) -> dict[str, Any]:
    event = rest_event(body, content_type="application/json", base64_encoded=False)
    event.update(changes)
    return event


def _photo_b64() -> str:
    return base64.b64encode(sample_bytes("card_ellipse")).decode("ascii")


def _malformed_events() -> dict[str, dict[str, Any]]:
    good = json.dumps({"image": _photo_b64(), "reference_length": "85.6"})
    v2 = http_event(good)
    return {
        "requestContext is text": _json_event(good, requestContext="hello"),
        "requestContext is a list": _json_event(good, requestContext=[1, 2]),
        "requestContext.http is text": {**v2, "requestContext": {"http": "POST"}},
        "headers are a list": _json_event(good, headers=["content-type"]),
        "headers are text": _json_event(good, headers="content-type: image/jpeg"),
        "a header value is a number": _json_event(good, headers={"content-type": 7}),
        "queryStringParameters are a list": _json_event(good, queryStringParameters=["a"]),
        "multiValueQueryStringParameters are text": _json_event(
            good, multiValueQueryStringParameters="a=1"
        ),
        "isBase64Encoded is text": _json_event(good, isBase64Encoded="false"),
        "the method is a list": _json_event(good, httpMethod=["POST"]),
    }


@pytest.mark.parametrize("name", list(_malformed_events()))
def test_a_malformed_event_is_a_400_and_the_handler_never_raises(
    endpoint: EndpointServer, name: str
) -> None:
    answer = lh.handler(_malformed_events()[name], FakeContext())
    assert_error(answer, 400, "bad_request")
    assert endpoint.log.items() == []  # refused before the model is asked


@pytest.mark.parametrize(
    ("options", "code", "words"),
    [
        ('"scale": 1e308', "bad_option", "the scale must be between"),
        ('"scale": ' + "9" * 400, "bad_option", "scale must be a finite number"),
        ('"reference_length": ' + "9" * 5000, "bad_json", "number too long"),
        ('"reference_length": "' + "9" * 5000 + '"', "bad_option", "characters long"),
        ('"reference_length": 1e-320', "bad_option", "must be between"),
        ('"reference_size": ' + "[" * 200_000 + "]" * 200_000, "bad_json", "nested too deeply"),
        ('"unit": "' + "x" * 100_000 + '"', "bad_option", "characters long"),
    ],
)
def test_hostile_numbers_and_nesting_are_400s_not_500s(
    endpoint: EndpointServer, options: str, code: str, words: str
) -> None:
    body = '{"image": "%s", %s}' % (_photo_b64(), options)  # noqa: UP031 - raw JSON on purpose
    answer = lh.handler(_json_event(body), FakeContext())
    message = assert_error(answer, 400, code)
    assert words in message
    assert len(answer["body"]) < 1000  # the caller's value is not echoed back in full


def test_urls_in_the_log_lose_their_user_info_and_query(
    endpoint: EndpointServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_url = "http://admin:hunter2@10.1.2.3:8080/model?X-Amz-Signature=S1gn4tur3"
    endpoint.faults.add("model_error", message=f"upstream {secret_url} failed")
    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}), None
    )
    assert_error(answer, 502, "model_error")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"cannot fetch {secret_url}")

    monkeypatch.setattr(lh, "measure_segmentation", broken)
    answer = lh.handler(
        rest_event(sample_bytes("card_ellipse"), query={"reference_length": "85.6"}), None
    )
    assert_error(answer, 500, "internal_error")

    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines()]
    assert "http://***@10.1.2.3:8080/model?***" in lines[0]["detail"]
    assert "http://***@10.1.2.3:8080/model?***" in next(
        line["exception"] for line in lines if line["level"] == "ERROR"
    )
    for secret in ("hunter2", "admin:", "S1gn4tur3"):
        assert secret not in output
