"""Segmenters of a batch's threads share one boto3 client (made once)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from objlen.sagemaker.local_endpoint import EndpointServer
from objlen.segment.sagemaker import SageMakerSegmenter, _client
from tests.aws_servers import settings_for

pytestmark = pytest.mark.aws


def test_siblings_share_one_client_and_segment_alike(endpoint: EndpointServer, small_photo):
    photo, truth = small_photo
    first = SageMakerSegmenter(settings_for(endpoint))
    siblings = [first.sibling() for _ in range(4)]
    start = threading.Barrier(len(siblings))

    def segment(segmenter: SageMakerSegmenter) -> np.ndarray:
        start.wait()  # every thread asks for the client at once
        return segmenter.segment(photo).mask

    with ThreadPoolExecutor(len(siblings)) as pool:
        masks = list(pool.map(segment, siblings))

    assert all(np.array_equal(mask, truth) for mask in masks)
    clients = {id(_client(s._session, s.settings, "sagemaker-runtime")) for s in (first, *siblings)}
    assert len(clients) == 1
    assert len(endpoint.log.items()) == len(siblings)
