"""The Lambda function's call to the segmentation model, within the time budget.

The endpoint client is built once per container and per settings
(:func:`segmenter_for`); the photo is never written to disk.
:func:`segment_in_time` waits for the model no longer than the budget allows,
even while botocore retries: a slow model gets the function's own 504, with
CORS headers and a request id, rather than API Gateway's timeout; a failing
one a 502 whose message tells nothing of the endpoint.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np

from objlen.errors import ParameterError, SegmentationError
from objlen.segment.base import Segmentation
from objlen.segment.sagemaker import SageMakerSegmenter, SageMakerSettings
from objlen.serverless.budget import model_timeout_s, reserve_s
from objlen.serverless.config import HandlerConfig
from objlen.serverless.response import HttpError

_MIN_MODEL_WINDOW_S = 0.3  # below this, the model is not asked at all
_SEGMENTER_CACHE_SIZE = 8

_SEGMENTERS: OrderedDict[SageMakerSettings, SageMakerSegmenter] = OrderedDict()
_SEGMENTERS_LOCK = threading.Lock()


def segmenter_for(settings: SageMakerSettings) -> SageMakerSegmenter:
    """The container's segmenter (and boto3 client) for ``settings``, built once.

    The last :data:`_SEGMENTER_CACHE_SIZE` settings are kept.
    """
    with _SEGMENTERS_LOCK:
        segmenter = _SEGMENTERS.get(settings)
        if segmenter is None:
            segmenter = SageMakerSegmenter(settings)
            _SEGMENTERS[settings] = segmenter
            while len(_SEGMENTERS) > _SEGMENTER_CACHE_SIZE:
                _SEGMENTERS.popitem(last=False)
        else:
            _SEGMENTERS.move_to_end(settings)
        return segmenter


def endpoint_settings(config: HandlerConfig, timeout_s: float) -> SageMakerSettings:
    """Endpoint settings for one call whose read timeout is ``timeout_s``.

    Raises:
        HttpError: 500 when the configuration is refused.
    """
    try:
        return SageMakerSettings(
            endpoint_name=config.endpoint_name,
            region=config.region,
            endpoint_url=config.endpoint_url,
            timeout_s=timeout_s,
            connect_timeout_s=min(3.0, timeout_s),
            max_attempts=config.max_attempts,
        )
    except ParameterError as exc:
        raise HttpError(
            500, "not_configured", "the service is not configured correctly", detail=str(exc)
        ) from exc


def _model_timed_out(error: BaseException) -> bool:
    from botocore.exceptions import ReadTimeoutError

    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ReadTimeoutError):
            return True
        cause = cause.__cause__
    return False


def _model_error_code(error: BaseException) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    cause = error.__cause__
    if isinstance(cause, ClientError):
        if cause.response.get("Error", {}).get("Code") == "ModelError":
            return "model_error"
        return "model_unavailable"
    if isinstance(cause, BotoCoreError):
        return "model_unavailable"
    return "bad_model_answer"


_MODEL_MESSAGES = {
    "model_error": "the segmentation model failed on this photo; try another photo, "
    "or try again later",
    "model_unavailable": "the segmentation model could not be reached or refused the request; "
    "try again later",
    "bad_model_answer": "the segmentation model answered something that is not a valid mask; "
    "the service needs attention",
}


def segment_in_time(
    config: HandlerConfig, image: np.ndarray, deadline: float, budget_s: float, log: dict[str, Any]
) -> Segmentation:
    """Segment ``image`` with the endpoint, answering 504 before ``deadline``.

    The read timeout and the wait are what is left before ``deadline`` less
    :func:`~objlen.serverless.budget.reserve_s`; the call runs in a worker thread
    so that retries and back-off cannot make the handler late either. Adds
    ``model_timeout_s`` and ``model_s`` to ``log``.

    Raises:
        HttpError: 502 when the model fails, 504 when it is too slow.
    """
    window = deadline - reserve_s(budget_s) - time.monotonic()
    if window < _MIN_MODEL_WINDOW_S:
        raise HttpError(
            504,
            "model_timeout",
            "no time was left to ask the segmentation model; try again",
            detail=f"model window {window:.3f} s of a {budget_s:.3f} s budget",
        )
    timeout = model_timeout_s(window, config.model_timeout_s)
    log["model_timeout_s"] = timeout
    segmenter = segmenter_for(endpoint_settings(config, timeout))
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = segmenter.segment(image)
        except BaseException as exc:  # handed to the request's thread
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, name="objlen-segment", daemon=True)
    worker.start()
    worker.join(max(0.0, window))
    log["model_s"] = round(time.monotonic() - started, 3)
    too_slow = HttpError(
        504,
        "model_timeout",
        f"the segmentation model did not answer within {timeout:g} s (this API must answer "
        f"within {config.api_timeout_s:g} s); try again, or send a smaller photo",
    )
    if worker.is_alive():
        too_slow.detail = "the worker thread was still waiting at the deadline"
        raise too_slow
    error = outcome.get("error")
    if isinstance(error, SegmentationError):
        if _model_timed_out(error):
            too_slow.detail = str(error)
            raise too_slow from error
        code = _model_error_code(error)
        raise HttpError(502, code, _MODEL_MESSAGES[code], detail=str(error)) from error
    if error is not None:
        raise error
    return outcome["result"]


__all__ = ["endpoint_settings", "segment_in_time", "segmenter_for"]
