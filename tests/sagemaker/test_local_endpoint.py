"""The inference-container side of objlen serve: GET /ping, POST /invocations.

Driven with the standard library's HTTP client, as SageMaker's own front end
would call a container.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from objlen.imageio import encode_jpeg, encode_png
from objlen.sagemaker.local_endpoint import EndpointServer
from objlen.segment.recordio import RECORDIO_PROTOBUF, decode_probabilities

pytestmark = pytest.mark.aws


def _post(url: str, body: bytes, content_type: str, accept: str | None = None):
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    if accept:
        request.add_header("Accept", accept)
    return urllib.request.urlopen(request, timeout=10)


def test_ping_answers_200(endpoint: EndpointServer) -> None:
    with urllib.request.urlopen(f"{endpoint.url}/ping", timeout=10) as answer:
        assert answer.status == 200


@pytest.mark.parametrize("encode", [encode_jpeg, encode_png], ids=["jpeg", "png"])
def test_invocations_answers_an_indexed_png_at_the_input_size(
    endpoint: EndpointServer, small_photo, encode
) -> None:
    photo, truth = small_photo
    content_type = "image/jpeg" if encode is encode_jpeg else "image/png"

    with _post(f"{endpoint.url}/invocations", encode(photo), content_type, "image/png") as answer:
        assert answer.headers["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(answer.read()))

    assert image.mode == "P"
    assert image.size == (320, 240)
    assert np.array_equal(np.asarray(image), truth)


def test_invocations_answers_probabilities(endpoint: EndpointServer, small_photo) -> None:
    photo, truth = small_photo

    with _post(
        f"{endpoint.url}/invocations", encode_jpeg(photo), "image/jpeg", RECORDIO_PROTOBUF
    ) as answer:
        probabilities = decode_probabilities(answer.read())

    assert probabilities.shape == (3, 240, 320)
    assert np.array_equal(probabilities.argmax(axis=0), truth)


@pytest.mark.parametrize(
    ("content_type", "accept", "status"),
    [("text/csv", "image/png", 415), ("image/jpeg", "application/json", 406)],
)
def test_unsupported_types_get_the_containers_status(
    endpoint: EndpointServer, small_photo, content_type: str, accept: str, status: int
) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        _post(f"{endpoint.url}/invocations", encode_jpeg(small_photo[0]), content_type, accept)
    assert caught.value.code == status
    caught.value.close()


def test_a_model_fault_is_a_plain_500_on_the_container_path(
    endpoint: EndpointServer, small_photo
) -> None:
    endpoint.faults.add("model_error", message="weights missing")

    with pytest.raises(urllib.error.HTTPError) as caught:
        _post(f"{endpoint.url}/invocations", encode_jpeg(small_photo[0]), "image/jpeg")

    assert caught.value.code == 500
    assert caught.value.read().decode().strip() == "weights missing"
    caught.value.close()
