"""The local endpoint with a segmenter that keeps its answers encoded
(``mask_png``): the answer goes out without the photo being decoded in full,
and the server still checks it and falls back where it must."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from objlen.classes import ClassIds
from objlen.imageio import encode_jpeg, load_image
from objlen.sagemaker.local_endpoint import EndpointServer, encode_index_png, make_server
from objlen.segment.base import segment_photo
from objlen.segment.recordio import RECORDIO_PROTOBUF, decode_probabilities
from objlen.segment.sagemaker import SageMakerSegmenter
from tests.aws_servers import ENDPOINT, ColourSegmenter, settings_for

pytestmark = pytest.mark.aws


class StoredSegmenter(ColourSegmenter):
    """The colour segmenter, plus one stored answer given to every photo
    (``None``: it keeps none)."""

    def __init__(self, answer: bytes | None) -> None:
        super().__init__()
        self.answer = answer
        self.asked = 0

    def mask_png(self, body: bytes) -> bytes | None:
        self.asked += 1
        return self.answer


def _server(segmenter: StoredSegmenter) -> EndpointServer:
    return make_server(segmenter, port=0, endpoint_names=[ENDPOINT]).start()


@pytest.fixture
def stored(aws_env: None, small_photo) -> Iterator[tuple[EndpointServer, StoredSegmenter]]:
    """A server whose segmenter keeps the small photo's true mask encoded."""
    segmenter = StoredSegmenter(encode_index_png(small_photo[1]))
    server = _server(segmenter)
    try:
        yield server, segmenter
    finally:
        server.stop()


def _post(url: str, body: bytes, accept: str) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "image/jpeg")
    request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read()


def test_the_stored_answer_is_sent_as_it_is_without_segmenting(stored, small_photo) -> None:
    server, segmenter = stored
    photo, truth = small_photo
    data = encode_jpeg(photo)

    body = _post(f"{server.url}/invocations", data, "image/png")
    client = SageMakerSegmenter(settings_for(server), ClassIds())
    mask = segment_photo(client, load_image(data), source_bytes=data).mask

    assert body == segmenter.answer
    assert np.array_equal(mask, truth)
    assert (segmenter.asked, segmenter.calls) == (2, 0)


def test_probabilities_still_come_from_the_segmenter(stored, small_photo) -> None:
    server, segmenter = stored
    photo, truth = small_photo

    body = _post(f"{server.url}/invocations", encode_jpeg(photo), RECORDIO_PROTOBUF)

    assert np.array_equal(decode_probabilities(body).argmax(axis=0), truth)
    assert (segmenter.asked, segmenter.calls) == (0, 1)


def test_no_stored_answer_means_the_usual_way(aws_env, small_photo) -> None:
    photo, truth = small_photo
    segmenter = StoredSegmenter(None)
    server = _server(segmenter)
    try:
        body = _post(f"{server.url}/invocations", encode_jpeg(photo), "image/png")
    finally:
        server.stop()

    assert np.array_equal(np.asarray(Image.open(io.BytesIO(body))), truth)
    assert (segmenter.asked, segmenter.calls) == (1, 1)


def test_a_stored_answer_of_another_size_is_a_model_error(aws_env, small_photo) -> None:
    photo, truth = small_photo
    segmenter = StoredSegmenter(encode_index_png(truth[::2, ::2].copy()))
    server = _server(segmenter)
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            _post(f"{server.url}/invocations", encode_jpeg(photo), "image/png")
    finally:
        server.stop()

    assert caught.value.code == 500
    assert "wrong size" in caught.value.read().decode()
    caught.value.close()


def test_a_turned_photo_is_decoded_and_segmented(stored, small_photo) -> None:
    server, segmenter = stored
    photo, truth = small_photo
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: the photo is 240 x 320 once turned
    Image.fromarray(photo).save(buffer, format="JPEG", quality=95, exif=exif)

    body = _post(f"{server.url}/invocations", buffer.getvalue(), "image/png")

    assert np.array_equal(np.asarray(Image.open(io.BytesIO(body))), np.rot90(truth, -1))
    assert (segmenter.asked, segmenter.calls) == (0, 1)
