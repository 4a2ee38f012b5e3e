"""Segmentation by an Amazon SageMaker endpoint (built-in semantic segmentation).

The endpoint runs SageMaker's built-in semantic segmentation algorithm, whose
inference contract is:

* request ``ContentType: image/jpeg`` with the photo as the body;
* ``Accept: image/png``: an indexed PNG of class indices at the size of the
  photo that was sent;
* ``Accept: application/x-recordio-protobuf``: per-pixel class
  probabilities (see :mod:`objlen.segment.recordio`).

The endpoint gets the best photo that fits InvokeEndpoint's 6 MiB limit
(:func:`photo_for_endpoint`): the photo's own file when it is a JPEG under the
limit whose pixels need no EXIF rotation (sent byte for byte); else a JPEG of
the highest quality that fits, from ``jpeg_quality`` (95) down to 70; fewer
pixels only as a last resort, with a warning, the mask then brought back to
the photo's size with nearest-neighbour.

Retries are botocore's own (``standard`` or ``adaptive`` mode, counted in
total attempts, first call included). One exception: a read timeout is final,
because asking a model that is too slow again would multiply the wait. Every
failure becomes a :class:`~objlen.errors.SegmentationError` whose message says
what to do.

The boto3 client comes from the shared :class:`~objlen.sagemaker.session.AwsSession`
and failures are told by its one translation,
:func:`~objlen.sagemaker.session.explain_aws_error`.
"""

from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from PIL import Image, UnidentifiedImageError

from objlen.classes import ClassIds
from objlen.errors import ImageReadError, MaskError, ParameterError, SegmentationError
from objlen.imageio import fit_mask_to_image, load_mask
from objlen.sagemaker.session import (
    CREDENTIAL_ERROR_CODES,
    THROTTLING_ERROR_CODES,
    AwsSession,
    check_endpoint_url,
    explain_aws_error,
)
from objlen.segment.base import Segmentation
from objlen.segment.maskfile import unknown_class_ids
from objlen.segment.recordio import RECORDIO_PROTOBUF, decode_probabilities

#: InvokeEndpoint's limit on the request body, in bytes (6 MiB).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
#: Content type of the request body.
CONTENT_TYPE_JPEG = "image/jpeg"
#: Accept type of a class-index mask answer.
ACCEPT_MASK = "image/png"
#: Accept type of a probability answer.
ACCEPT_PROBABILITIES = RECORDIO_PROTOBUF

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MIN_SIDE_PX = 16
#: Qualities tried below the first one, before fewer pixels.
_LOWER_QUALITIES = (90, 85, 80, 75)
#: A predicted JPEG size must be this share of the limit at most (prediction error).
_PREDICTION_MARGIN = 0.97
#: Rows of one band of :func:`_sample_bands`: whole JPEG blocks (16 with 4:2:0 chroma).
_BAND_ROWS = 16
#: EXIF tag of the orientation.
_EXIF_ORIENTATION = 0x0112
_RETRY_MODES = ("standard", "adaptive")


@dataclass(frozen=True)
class SageMakerSettings:
    """Where the endpoint is and how patiently to call it.

    Attributes:
        endpoint_name: name of the SageMaker endpoint.
        region: AWS region, e.g. ``"ap-northeast-1"``.
        profile: named AWS profile; ``None`` uses the default credential chain
            (environment variables, ``~/.aws``, instance role).
        endpoint_url: runtime URL to use instead of AWS's, e.g. the local
            ``objlen serve`` server ``http://127.0.0.1:8080``.
        timeout_s: seconds to wait for the answer (socket read timeout).
        max_attempts: total attempts per call, the first included.
        max_payload_bytes: largest request body sent.
        retry_mode: botocore retry mode, ``"standard"`` or ``"adaptive"``.
        connect_timeout_s: seconds to wait for the TCP connection.
        jpeg_quality: the highest JPEG quality a photo is re-encoded at (when
            its own file cannot be sent); lower ones, down to 70, only when it
            does not fit. 95 rather than 100: 100 makes the body about 3.5
            times larger (upload time) for nothing a model can see.
        max_side_px: if set, the photo is first shrunk so that its longer
            side is at most this many pixels (faster, less precise edges).
        control_endpoint_url: URL of the SageMaker control plane (for
            :func:`describe_endpoint_status`) instead of AWS's.
    """

    endpoint_name: str
    region: str
    profile: str | None = None
    endpoint_url: str | None = None
    timeout_s: float = 60.0
    max_attempts: int = 4
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    retry_mode: str = "standard"
    connect_timeout_s: float = 10.0
    jpeg_quality: int = 95
    max_side_px: int | None = None
    control_endpoint_url: str | None = None

    def __post_init__(self) -> None:
        if not (self.endpoint_name or "").strip():
            raise ParameterError("the SageMaker endpoint name is empty")
        if not (self.region or "").strip():
            raise ParameterError("the AWS region is not set; give one, e.g. ap-northeast-1")
        if not self.timeout_s > 0 or not self.connect_timeout_s > 0:
            raise ParameterError("SageMaker timeouts must be positive numbers of seconds")
        if self.max_attempts < 1:
            raise ParameterError("max_attempts counts the first call too; it must be at least 1")
        if self.max_payload_bytes < 1024:
            raise ParameterError("max_payload_bytes must be at least 1024")
        if self.retry_mode not in _RETRY_MODES:
            raise ParameterError(f"retry_mode must be one of {_RETRY_MODES}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ParameterError("jpeg_quality must be within 1..100")
        if self.max_side_px is not None and self.max_side_px < _MIN_SIDE_PX:
            raise ParameterError(f"max_side_px must be at least {_MIN_SIDE_PX}")
        check_endpoint_url(self.endpoint_url)
        check_endpoint_url(self.control_endpoint_url, "the control-plane endpoint URL")


@dataclass(frozen=True)
class EncodedPhoto:
    """A photo ready to send: the JPEG body and what was done to fit it.

    Attributes:
        body: JPEG bytes.
        size: ``(width, height)`` of the encoded image, in pixels.
        quality: JPEG quality used; ``None`` when ``body`` is the photo's own
            file, sent unchanged.
    """

    body: bytes
    size: tuple[int, int]
    quality: int | None

    @property
    def original(self) -> bool:
        """Whether ``body`` is the photo's own file, byte for byte."""
        return self.quality is None


def _jpeg(bgr: np.ndarray, quality: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR array
        raise SegmentationError("could not encode the photo as JPEG")
    return buffer.tobytes()


def _shrunk(image: np.ndarray, scale: float) -> np.ndarray:
    """``image`` resized by ``scale`` < 1: whole-number area steps, then linear.

    OpenCV's area interpolation is fast for whole-number factors and slow
    otherwise; after the whole-number step the remaining factor is above 1/2,
    where linear interpolation loses little.
    """
    height, width = image.shape[:2]
    # The tolerance keeps e.g. 4000 * (2048 / 4000) from becoming 2047.
    size = (max(1, int(width * scale + 1e-6)), max(1, int(height * scale + 1e-6)))
    step = int(1 / scale + 1e-6)
    if step >= 2 and width // step >= size[0] and height // step >= size[1]:
        image = cv2.resize(
            image[: height // step * step, : width // step * step],
            (width // step, height // step),
            interpolation=cv2.INTER_AREA,
        )
    if (image.shape[1], image.shape[0]) == size:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def _sample_bands(bgr: np.ndarray) -> np.ndarray:
    """Every eighth band of 16 rows (whole JPEG blocks): an eighth of the photo, spread over it.

    JPEG codes each block on its own, so the sample's size at a quality,
    times eight, tells the whole photo's at that quality closely.
    """
    height = bgr.shape[0]
    if height < 8 * _BAND_ROWS:
        return bgr
    return np.concatenate(
        [bgr[top : top + _BAND_ROWS] for top in range(0, height - _BAND_ROWS + 1, 8 * _BAND_ROWS)]
    )


def _highest_fitting_quality(
    bgr: np.ndarray, body_size: int, quality: int, lower: list[int], max_bytes: int
) -> int:
    """The highest of ``lower`` (descending) whose JPEG should fit ``max_bytes``.

    ``body_size`` is the whole photo's JPEG size at ``quality``; the other
    sizes are predicted from a sample of the photo encoded at each quality
    (about one full encoding in all). The last of ``lower`` when none should.
    """
    sample = _sample_bands(bgr)
    sample_size = len(_jpeg(sample, quality))
    for step in lower:
        predicted = body_size * len(_jpeg(sample, step)) / sample_size
        if predicted <= max_bytes * _PREDICTION_MARGIN:
            return step
    return lower[-1]


def _check_rgb(image_rgb: np.ndarray) -> None:
    """Nothing for an ``(H, W, 3)`` uint8 array; else :class:`ParameterError`."""
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise ParameterError(
            f"the photo must be an (H, W, 3) uint8 RGB array, got {image_rgb.shape} "
            f"{image_rgb.dtype}"
        )


def encode_photo(
    image_rgb: np.ndarray,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    *,
    quality: int = 95,
    min_quality: int = 70,
    max_side_px: int | None = None,
    max_pixels: int | None = None,
) -> EncodedPhoto:
    """Encode an ``(H, W, 3)`` uint8 RGB photo as a JPEG of at most ``max_bytes``.

    First the photo is shrunk to respect ``max_side_px`` and ``max_pixels``
    (if given). Then it is encoded at ``quality``; if too large, at the
    highest of the lower qualities 90, 85, 80, 75 and ``min_quality`` that fits
    (predicted from a sample, then checked); only if even ``min_quality`` does
    not fit, it is shrunk until the JPEG fits. Shrinking averages whole blocks
    of pixels, then interpolates linearly for the remaining factor.

    Raises:
        ParameterError: not an ``(H, W, 3)`` uint8 array.
        SegmentationError: even a tiny version does not fit ``max_bytes``.
    """
    _check_rgb(image_rgb)
    height, width = image_rgb.shape[:2]
    scale = 1.0
    if max_side_px is not None and max(width, height) > max_side_px:
        scale = max_side_px / max(width, height)
    if max_pixels is not None and width * height * scale * scale > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
    bgr = cv2.cvtColor(_shrunk(image_rgb, scale) if scale < 1.0 else image_rgb, cv2.COLOR_RGB2BGR)

    body = _jpeg(bgr, quality)
    used = quality
    lower = sorted(
        {q for q in (*_LOWER_QUALITIES, min_quality) if min_quality <= q < quality}, reverse=True
    )
    if len(body) > max_bytes and lower:
        first = _highest_fitting_quality(bgr, len(body), quality, lower, max_bytes)
        for step in lower[lower.index(first) :]:
            body, used = _jpeg(bgr, step), step
            if len(body) <= max_bytes:
                break
    while len(body) > max_bytes:
        # JPEG size grows about linearly with the pixel count.
        scale *= math.sqrt(max_bytes / len(body)) * 0.95
        bgr = cv2.cvtColor(_shrunk(image_rgb, scale), cv2.COLOR_RGB2BGR)
        if min(bgr.shape[:2]) < _MIN_SIDE_PX:
            raise SegmentationError(
                f"the photo cannot be made smaller than {max_bytes} bytes as a JPEG; "
                "check the payload limit in the SageMaker settings"
            )
        body = _jpeg(bgr, used)
    return EncodedPhoto(body=body, size=(bgr.shape[1], bgr.shape[0]), quality=used)


def own_jpeg_fits(source_bytes: bytes, size: tuple[int, int], max_bytes: int) -> bool:
    """Whether ``source_bytes`` can be sent as they are for a photo of ``size``.

    True when they are a JPEG (or a phone's MPO, whose first image is a JPEG
    that every decoder reads) of at most ``max_bytes``, of exactly ``size``
    ``(width, height)``, in RGB or greyscale, with no EXIF orientation other
    than 1: its pixels are then the photo's as :func:`objlen.imageio.load_image`
    gives them, and a mask of the JPEG is a mask of the photo. A rotated or
    mirrored JPEG, a CMYK one, or anything else is False. Reads the headers
    only.
    """
    if len(source_bytes) > max_bytes or not source_bytes.startswith(b"\xff\xd8"):
        return False
    try:
        with Image.open(io.BytesIO(source_bytes)) as image:
            return (
                image.format in ("JPEG", "MPO")  # MPO: a phone's JPEG with extra images
                and image.mode in ("RGB", "L")
                and image.size == tuple(size)
                and image.getexif().get(_EXIF_ORIENTATION, 1) == 1
            )
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False


def sends_as_is(
    source_bytes: bytes,
    size: tuple[int, int],
    max_bytes: int = MAX_PAYLOAD_BYTES,
    *,
    max_side_px: int | None = None,
    max_pixels: int | None = None,
) -> bool:
    """Whether :func:`photo_for_endpoint` sends ``source_bytes`` unchanged for a
    photo of ``size`` ``(width, height)``: :func:`own_jpeg_fits`, and neither
    ``max_side_px`` nor ``max_pixels`` asks for fewer pixels. Reads the headers only."""
    width, height = size
    fewer = (max_side_px is not None and max(width, height) > max_side_px) or (
        max_pixels is not None and width * height > max_pixels
    )
    return not fewer and own_jpeg_fits(source_bytes, (width, height), max_bytes)


def photo_for_endpoint(
    image_rgb: np.ndarray,
    source_bytes: bytes | None = None,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    *,
    quality: int = 95,
    min_quality: int = 70,
    max_side_px: int | None = None,
    max_pixels: int | None = None,
) -> EncodedPhoto:
    """The best JPEG of an ``(H, W, 3)`` uint8 RGB photo that fits ``max_bytes``.

    ``source_bytes`` are the bytes of the file ``image_rgb`` was decoded from,
    if known. When :func:`own_jpeg_fits` and neither ``max_side_px`` nor
    ``max_pixels`` asks for fewer pixels, they are sent unchanged (quality
    ``None``). Otherwise the pixels are encoded by :func:`encode_photo`: the
    highest quality from ``quality`` down to ``min_quality`` that fits, and
    fewer pixels only when none does.

    Raises:
        ParameterError: not an ``(H, W, 3)`` uint8 array.
        SegmentationError: even a tiny version does not fit ``max_bytes``.
    """
    _check_rgb(image_rgb)
    if source_bytes is not None:
        height, width = image_rgb.shape[:2]
        if sends_as_is(
            source_bytes, (width, height), max_bytes, max_side_px=max_side_px, max_pixels=max_pixels
        ):
            return EncodedPhoto(body=source_bytes, size=(width, height), quality=None)
    return encode_photo(
        image_rgb,
        max_bytes,
        quality=quality,
        min_quality=min_quality,
        max_side_px=max_side_px,
        max_pixels=max_pixels,
    )


def model_class_count(classes: ClassIds) -> int:
    """How many classes the model predicts: class ids are indices of its output."""
    return max(classes.background, classes.object, classes.reference) + 1


def probability_pixel_budget(max_bytes: int, n_classes: int) -> int:
    """Largest pixel count whose float32 probability answer fits ``max_bytes``."""
    overhead = 1024  # RecordIO framing, protobuf tags and the shape feature
    return max(_MIN_SIDE_PX * _MIN_SIDE_PX, (max_bytes - overhead) // (4 * n_classes))


def _check_classes(mask: np.ndarray, classes: ClassIds) -> None:
    unknown = unknown_class_ids(mask, classes)
    if unknown:
        raise SegmentationError(
            f"the endpoint's answer is not a valid mask: it holds class ids {unknown[:8]}, "
            f"objlen knows {sorted(classes.known)}; is the endpoint running a model "
            "trained with these class ids?"
        )


def decode_mask_png(body: bytes, size: tuple[int, int], classes: ClassIds) -> np.ndarray:
    """Decode an ``image/png`` answer into an ``(H, W)`` uint8 class-index mask.

    ``size`` is the ``(width, height)`` of the photo that was sent; the mask
    must have exactly that size and only the class ids of ``classes``.

    Raises:
        SegmentationError: "not a valid mask": not a PNG, undecodable, colour,
            of another size, or with unknown class ids.
    """
    if not body.startswith(_PNG_SIGNATURE):
        raise SegmentationError(
            f"the endpoint's answer is not a valid mask: it is not a PNG image "
            f"({len(body)} bytes starting {body[:12]!r}); is the endpoint running the "
            "semantic segmentation algorithm?"
        )
    try:
        mask, _ = load_mask(body, name="the endpoint's answer")
    except (ImageReadError, MaskError) as exc:
        raise SegmentationError(f"the endpoint's answer is not a valid mask: {exc}") from exc
    width, height = size
    if mask.shape != (height, width):
        raise SegmentationError(
            f"the endpoint's answer is not a valid mask: it is {mask.shape[1]}x{mask.shape[0]}, "
            f"the photo sent was {width}x{height}"
        )
    _check_classes(mask, classes)
    return mask


def decode_probability_answer(
    body: bytes, size: tuple[int, int], classes: ClassIds
) -> tuple[np.ndarray, np.ndarray]:
    """Decode a probability answer into ``(mask, confidence)`` of ``size``.

    ``mask`` is the most probable class per pixel (uint8); ``confidence`` its
    probability (float32 in [0, 1]).

    Raises:
        SegmentationError: not a valid probability answer, of another size,
            with more than 256 classes or values that are not probabilities.
    """
    probabilities = decode_probabilities(body)
    n_classes, height, width = probabilities.shape
    if (width, height) != tuple(size):
        raise SegmentationError(
            f"the endpoint's answer is not a valid mask: its probabilities are "
            f"{width}x{height}, the photo sent was {size[0]}x{size[1]}"
        )
    if n_classes > 256:
        raise SegmentationError(
            f"the endpoint's answer is not a valid mask: {n_classes} classes, at most 256"
        )
    if (
        not np.isfinite(probabilities).all()
        or probabilities.min() < -1e-3
        or (probabilities.max() > 1 + 1e-3)
    ):
        raise SegmentationError(
            "the endpoint's answer is not a valid mask: its values are not probabilities"
        )
    mask = probabilities.argmax(axis=0).astype(np.uint8)
    _check_classes(mask, classes)
    confidence = np.clip(probabilities.max(axis=0), 0.0, 1.0).astype(np.float32)
    return mask, confidence


#: Connections a segmenter's client keeps open at most: the threads of a batch
#: share one client (:meth:`SageMakerSegmenter.sibling`).
_POOL_CONNECTIONS = 64


def _aws_session(settings: SageMakerSettings, endpoint_url: str | None) -> AwsSession:
    """The shared session with the settings' profile, region, retries and timeouts."""
    return AwsSession(
        max_pool_connections=_POOL_CONNECTIONS,
        region=settings.region,
        profile=settings.profile,
        endpoint_url=endpoint_url,
        max_attempts=settings.max_attempts,
        retry_mode=settings.retry_mode,
        connect_timeout_s=settings.connect_timeout_s,
        read_timeout_s=settings.timeout_s,
    )


def _final_read_timeout(caught_exception: BaseException | None = None, **_: Any) -> None:
    """``needs-retry`` handler: a read timeout ends the call instead of retrying.

    It runs before botocore's retry handler (more specific event name) and
    raising here ends the call with the timeout, as after the last attempt.
    """
    if isinstance(caught_exception, ReadTimeoutError):
        raise caught_exception


def _what(settings: SageMakerSettings) -> str:
    return f"calling endpoint '{settings.endpoint_name}'"


def _subject(settings: SageMakerSettings) -> str:
    return f"endpoint '{settings.endpoint_name}'"


def _client(session: AwsSession, settings: SageMakerSettings, service: str) -> Any:
    """``session``'s client of ``service``; a read timeout of InvokeEndpoint is final.

    Raises:
        SegmentationError: the profile does not exist, or botocore cannot
            make the client.
    """
    try:
        client = session.client(service)
    except ParameterError as exc:  # the profile does not exist
        raise SegmentationError(str(exc)) from (exc.__cause__ or exc)
    except BotoCoreError as exc:
        raise explain_failure(exc, settings, session) from exc
    if service == "sagemaker-runtime":  # once per client: the unique id
        client.meta.events.register(
            "needs-retry.sagemaker-runtime.InvokeEndpoint",
            _final_read_timeout,
            unique_id="objlen-final-read-timeout",
        )
    return client


def explain_failure(
    error: Exception, settings: SageMakerSettings, session: AwsSession | None = None
) -> SegmentationError:
    """Turn a boto3/botocore failure of an endpoint call into a :class:`SegmentationError`.

    The message is :func:`objlen.sagemaker.session.explain_aws_error`'s, about
    endpoint ``settings.endpoint_name``; ``session`` is where the call went
    (by default the runtime at ``settings.endpoint_url``).
    """
    session = session or _aws_session(settings, settings.endpoint_url)
    explained = explain_aws_error(
        error, _what(settings), session, subject=_subject(settings), error_type=SegmentationError
    )
    return cast(SegmentationError, explained)


def _invoke(session: AwsSession, settings: SageMakerSettings, body: bytes, accept: str) -> bytes:
    """The endpoint's answer to ``body``.

    Raises:
        SegmentationError: the call failed (:func:`explain_failure`'s message).
    """
    client = _client(session, settings, "sagemaker-runtime")
    try:
        response = client.invoke_endpoint(
            EndpointName=settings.endpoint_name,
            Body=body,
            ContentType=CONTENT_TYPE_JPEG,
            Accept=accept,
        )
        return response["Body"].read()
    except (BotoCoreError, ClientError) as exc:
        raise explain_failure(exc, settings, session) from exc


class SageMakerSegmenter:
    """A :class:`~objlen.segment.base.Segmenter` backed by a SageMaker endpoint.

    ``segment`` sends the best JPEG of the photo that fits the payload limit
    (:func:`photo_for_endpoint`: the photo's own JPEG file when it can be sent
    unchanged), reads a class-index PNG back (or, with ``want_confidence``,
    class probabilities, for which the photo is shrunk so that the answer also
    stays within the payload limit), checks it, and returns the mask at the
    photo's size. The boto3 client is created on first use and reused.
    """

    name = "sagemaker"
    #: ``segment`` takes the photo's file bytes (see :func:`~objlen.segment.base.segment_photo`).
    uses_source_bytes = True

    def __init__(
        self,
        settings: SageMakerSettings,
        classes: ClassIds = ClassIds(),  # noqa: B008 - frozen, immutable default
        *,
        want_confidence: bool = False,
    ) -> None:
        self.settings = settings
        self.classes = classes
        self.want_confidence = want_confidence
        self._session = _aws_session(settings, settings.endpoint_url)

    def sibling(self) -> SageMakerSegmenter:
        """A segmenter like this one for another thread, sharing this one's
        boto3 client (thread-safe; made once: about 80 ms of CPU each)."""
        twin = SageMakerSegmenter(self.settings, self.classes, want_confidence=self.want_confidence)
        twin._session = self._session
        return twin

    def segment(self, image_rgb: np.ndarray, *, source_bytes: bytes | None = None) -> Segmentation:
        """Segment an ``(H, W, 3)`` uint8 RGB photo with the endpoint.

        Args:
            image_rgb: the photo, EXIF orientation applied.
            source_bytes: the bytes of the file ``image_rgb`` was decoded from
                (:func:`objlen.imageio.load_image`), if at hand: a JPEG that
                fits and needs no rotation is then sent byte for byte.

        Returns a :class:`Segmentation` with the ``(H, W)`` mask (and the
        confidence if asked for); a warning if the photo was sent with fewer
        pixels, a note if at a lower JPEG quality than ``jpeg_quality``.

        Raises:
            SegmentationError: the endpoint failed or answered something that
                is not a valid mask; the message says what to do.
        """
        start = time.perf_counter()
        settings = self.settings
        height, width = image_rgb.shape[:2]
        max_pixels = self._max_pixels()
        photo = photo_for_endpoint(
            image_rgb,
            source_bytes,
            settings.max_payload_bytes,
            quality=settings.jpeg_quality,
            min_quality=min(70, settings.jpeg_quality),
            max_side_px=settings.max_side_px,
            max_pixels=max_pixels,
        )
        accept = ACCEPT_PROBABILITIES if self.want_confidence else ACCEPT_MASK
        body = _invoke(self._session, settings, photo.body, accept)
        confidence: np.ndarray | None = None
        if self.want_confidence and not body.startswith(_PNG_SIGNATURE):
            mask, confidence = decode_probability_answer(body, photo.size, self.classes)
        else:
            mask = decode_mask_png(body, photo.size, self.classes)
        warnings: list[str] = []
        notes: list[str] = []
        if photo.quality is not None and photo.quality < settings.jpeg_quality:
            notes.append(
                f"the photo was sent to the endpoint as a JPEG of quality {photo.quality} "
                f"instead of {settings.jpeg_quality} to fit the request limit of "
                f"{settings.max_payload_bytes / 2**20:.3g} MiB"
            )
        if photo.size != (width, height):
            warnings.append(
                f"the photo was sent to the endpoint at {photo.size[0]}x{photo.size[1]} "
                f"instead of {width}x{height} to fit the request limits; the mask was "
                "scaled back (nearest-neighbour), so its edges are less precise"
            )
            mask, _ = fit_mask_to_image(mask, (width, height))
            if confidence is not None:
                confidence = cv2.resize(
                    confidence, (width, height), interpolation=cv2.INTER_NEAREST
                )
        return Segmentation(
            mask=mask,
            confidence=confidence,
            backend=self.name,
            warnings=tuple(warnings),
            notes=tuple(notes),
            seconds=time.perf_counter() - start,
        )

    def _max_pixels(self) -> int | None:
        """The most pixels a photo may be sent with (``None``: as many as fit)."""
        if not self.want_confidence:
            return None
        return probability_pixel_budget(
            self.settings.max_payload_bytes, model_class_count(self.classes)
        )

    def sends_source_bytes(self, source_bytes: bytes, size: tuple[int, int]) -> bool:
        """Whether :meth:`segment` sends ``source_bytes`` (of a photo of ``size``
        ``(width, height)``) unchanged, so that it needs only the photo's size,
        not its pixels (a batch then decodes no more than its picture needs)."""
        return sends_as_is(
            source_bytes,
            size,
            self.settings.max_payload_bytes,
            max_side_px=self.settings.max_side_px,
            max_pixels=self._max_pixels(),
        )


def describe_endpoint_status(settings: SageMakerSettings) -> str:
    """The endpoint's status from the SageMaker control plane, e.g. ``"InService"``.

    Uses ``settings.control_endpoint_url`` if set, else AWS's.

    Raises:
        SegmentationError: no credentials, endpoint not found, or unreachable.
    """
    session = _aws_session(settings, settings.control_endpoint_url)
    client = _client(session, settings, "sagemaker")
    try:
        answer = client.describe_endpoint(EndpointName=settings.endpoint_name)
    except (BotoCoreError, ClientError) as exc:
        raise explain_failure(exc, settings, session) from exc
    return str(answer["EndpointStatus"])


def check_connection(
    settings: SageMakerSettings,
    classes: ClassIds = ClassIds(),  # noqa: B008 - frozen, immutable default
) -> float:
    """Seconds one tiny invocation takes, its answer checked as a mask.

    Raises:
        SegmentationError: the endpoint cannot be called, or does not answer
            with a valid mask.
    """
    # A tiny scene (a dark object and a smaller dark square on a light ground), so
    # that a segmenter which refuses an empty photo still answers a mask.
    probe = np.full((64, 64, 3), 200, dtype=np.uint8)
    probe[20:44, 28:56] = 40
    probe[8:20, 6:18] = 40
    photo = encode_photo(probe, settings.max_payload_bytes)
    session = _aws_session(settings, settings.endpoint_url)
    _client(session, settings, "sagemaker-runtime")  # made before the clock starts
    start = time.perf_counter()
    body = _invoke(session, settings, photo.body, ACCEPT_MASK)
    seconds = time.perf_counter() - start
    decode_mask_png(body, photo.size, classes)
    return seconds


__all__ = [
    "ACCEPT_MASK",
    "ACCEPT_PROBABILITIES",
    "CONTENT_TYPE_JPEG",
    "CREDENTIAL_ERROR_CODES",
    "MAX_PAYLOAD_BYTES",
    "THROTTLING_ERROR_CODES",
    "EncodedPhoto",
    "SageMakerSegmenter",
    "SageMakerSettings",
    "check_connection",
    "decode_mask_png",
    "decode_probability_answer",
    "describe_endpoint_status",
    "encode_photo",
    "explain_failure",
    "model_class_count",
    "own_jpeg_fits",
    "photo_for_endpoint",
    "probability_pixel_budget",
    "sends_as_is",
]
