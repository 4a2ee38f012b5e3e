"""Batch Transform with the trained model, and measuring the photos with its masks.

:func:`run_batch_transform` segments every photo under an S3 prefix; Batch
Transform writes ``<photo>.out`` (the PNG mask) for each, and
:func:`wait_for_transform` follows the job. :func:`transform_outputs` reads
the ``.out`` objects; :func:`measure_transform_outputs` measures each photo
with its mask and reports failures per photo.

AWS facts relied on (see the SageMaker Developer Guide, "Semantic
Segmentation Algorithm", and the API reference of CreateTransformJob and
TransformOutput): inference takes ``image/jpeg`` and answers ``image/png``
masks of class indices.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from objlen.errors import ObjlenError, ParameterError
from objlen.imageio import fit_mask_to_image, load_image, load_mask
from objlen.measure import measure
from objlen.options import MeasureOptions
from objlen.pillow import Image
from objlen.result import Measurement
from objlen.sagemaker.jobs import (
    JobStatus,
    check_inference_instance,
    check_name,
    follow,
    raise_for_status,
    transform_status,
    unique_name,
)
from objlen.sagemaker.s3 import list_keys, read_object, split_s3_folder
from objlen.sagemaker.session import AwsSession, calling_aws, describe

_JPEG_SUFFIXES = (".jpg", ".jpeg")
_EXIF_ORIENTATION = 0x0112
_EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _photo_keys(session: AwsSession, bucket: str, prefix: str) -> tuple[list[str], list[str]]:
    """JPEG keys and other keys under ``prefix`` (folders' placeholder keys skipped)."""
    photos, others = [], []
    for key in list_keys(session, bucket, prefix, f"listing s3://{bucket}/{prefix}"):
        if key.endswith("/"):
            continue
        (photos if key.lower().endswith(_JPEG_SUFFIXES) else others).append(key)
    return photos, others


def run_batch_transform(
    model_name: str,
    input_s3_prefix: str,
    output_s3_prefix: str,
    instance_type: str = "ml.m5.xlarge",
    *,
    session: AwsSession,
    content_type: str = "image/jpeg",
    accept: str = "image/png",
    job_name: str | None = None,
    instance_count: int = 1,
    max_payload_mb: int = 6,
) -> str:
    """Start a Batch Transform of every photo under ``input_s3_prefix``; return the job name.

    Each photo is sent alone (``SingleRecord``, no splitting) as
    ``content_type``; SageMaker writes the answer (a PNG mask for
    ``image/png``) to ``<output prefix>/<photo's path under the input
    prefix>.out``. Both prefixes are folders (a trailing ``/`` is implied).

    Raises:
        ParameterError: bad names or URIs, no photos under the input prefix,
            other files there (they would be sent as photos too), or the
            output inside the input.
        AwsError: SageMaker refused the job.
    """
    check_name(model_name, "the model name")
    check_inference_instance(instance_type)
    if not 1 <= max_payload_mb <= 100:
        raise ParameterError("max_payload_mb must be within 1..100")
    in_bucket, in_prefix = split_s3_folder(input_s3_prefix, "the input")
    out_bucket, out_prefix = split_s3_folder(output_s3_prefix, "the output")
    if in_bucket == out_bucket and out_prefix.startswith(in_prefix):
        raise ParameterError(
            "the output must not be inside the input: the .out masks would be sent as "
            "photos by the next transform; choose another output prefix"
        )
    photos, others = _photo_keys(session, in_bucket, in_prefix)
    if not photos:
        raise ParameterError(f"no JPEG photos under s3://{in_bucket}/{in_prefix}")
    if content_type == "image/jpeg" and others:
        raise ParameterError(
            f"every object under s3://{in_bucket}/{in_prefix} is sent to the model as a "
            f"photo; move the other files away: {', '.join(others[:5])}"
            + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        )
    job_name = job_name or unique_name("objlen-transform")
    check_name(job_name, "the transform job name")
    with calling_aws(f"creating transform job '{job_name}'", session):
        session.client("sagemaker").create_transform_job(
            TransformJobName=job_name,
            ModelName=model_name,
            MaxPayloadInMB=max_payload_mb,
            BatchStrategy="SingleRecord",
            TransformInput={
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{in_bucket}/{in_prefix}",
                    }
                },
                "ContentType": content_type,
                "CompressionType": "None",
                "SplitType": "None",
            },
            TransformOutput={
                "S3OutputPath": f"s3://{out_bucket}/{out_prefix}",
                "Accept": accept,
                "AssembleWith": "None",
            },
            TransformResources={"InstanceType": instance_type, "InstanceCount": instance_count},
        )
    return job_name


def describe_transform(name: str, session: AwsSession) -> JobStatus:
    """The transform job's current :class:`~objlen.sagemaker.jobs.JobStatus`.

    Raises:
        AwsError: no such job, or AWS refused.
    """
    check_name(name, "the transform job name")
    description = describe(
        f"reading transform job '{name}'",
        session,
        lambda: session.client("sagemaker").describe_transform_job(TransformJobName=name),
        f"transform job '{name}' not found in region {session.region}; check its name",
    )
    return transform_status(description)


def wait_for_transform(
    name: str,
    session: AwsSession,
    *,
    poll_s: float = 30.0,
    timeout_s: float | None = None,
    progress_callback: Callable[[JobStatus], None] | None = None,
) -> JobStatus:
    """Follow a transform job until it ends; return its final (Completed) status.

    Raises:
        AwsError: it failed (with FailureReason) or was stopped, or is
            still running after ``timeout_s``.
    """
    status = follow(
        lambda: describe_transform(name, session),
        poll_s=poll_s,
        timeout_s=timeout_s,
        progress_callback=progress_callback,
    )
    return raise_for_status(status)


def transform_outputs(output_s3_prefix: str, session: AwsSession) -> Iterator[tuple[str, bytes]]:
    """Every ``.out`` object under the output prefix, as ``(input key, bytes)``.

    The input key is the object's path under the prefix without ``.out``
    (the photo's path under the transform's input prefix), in key order.

    Raises:
        AwsError: S3 refused.
    """
    bucket, prefix = split_s3_folder(output_s3_prefix, "the output")
    for key in list_keys(session, bucket, prefix, f"listing s3://{bucket}/{prefix}"):
        if key.endswith(".out"):
            try:
                yield key[len(prefix) : -len(".out")], read_object(session, bucket, key)
            except FileNotFoundError:  # deleted while listing
                continue


@dataclass(frozen=True)
class PhotoResult:
    """The measurement of one photo of a transform, or why there is none.

    Attributes:
        key: the photo's path under the input prefix.
        measurement: the result, or ``None``.
        error: a message for the operator, or ``None``.
    """

    key: str
    measurement: Measurement | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.measurement is not None


def orient_mask_like_photo(
    mask: np.ndarray, photo: bytes, photo_size: tuple[int, int]
) -> tuple[np.ndarray, list[str]]:
    """Bring a mask computed on a photo's stored pixels to its EXIF-oriented frame.

    ``photo_size`` is the ``(width, height)`` after EXIF orientation (as
    :func:`objlen.load_image` returns it). A mask of the stored (unturned)
    size is turned like the photo; a mask already of the oriented size is
    left alone. Mirror and 180° orientations keep the size, so they cannot be
    told apart: the mask is left alone with a warning.

    Returns:
        ``(mask, warnings)``.
    """
    with Image.open(io.BytesIO(photo)) as image:
        orientation = int(image.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    method = _EXIF_TRANSPOSE.get(orientation)
    if method is None:
        return mask, []
    width, height = photo_size
    if orientation in (2, 3, 4):
        return mask, [
            f"the photo has EXIF orientation {orientation} (mirrored or upside down): check "
            "that the mask lines up with the photo"
        ]
    if mask.shape == (width, height) and width != height:
        turned = np.asarray(Image.fromarray(mask).transpose(method))
        return turned, [f"the mask was turned like the photo (EXIF orientation {orientation})"]
    return mask, []


def _measure_one(key: str, photo: bytes, mask_png: bytes, options: MeasureOptions) -> Measurement:
    image = load_image(photo, name=key)
    height, width = image.shape[:2]
    raw, _ = load_mask(mask_png, name=f"{key}.out")
    raw, notes = orient_mask_like_photo(raw, photo, (width, height))
    mask, resized = fit_mask_to_image(raw, (width, height), f"{key}.out")
    return measure(mask, options, image=image, input_warnings=notes + resized)


def measure_transform_outputs(
    input_s3_prefix: str,
    output_s3_prefix: str,
    options: MeasureOptions,
    session: AwsSession,
) -> Iterator[PhotoResult]:
    """Measure every photo of a Batch Transform with its ``.out`` mask.

    For each JPEG under the input prefix (in key order) the photo and
    ``<output prefix>/<its path>.out`` are read from S3, the mask (a PNG of
    class indices) is brought to the photo's frame and size, and
    :func:`objlen.measure` runs with ``options``. A photo without a mask, a
    corrupt mask or photo, or a failed measurement gives a
    :class:`PhotoResult` with an ``error``; the others are still measured.

    Raises:
        ParameterError: bad options or URIs.
        AwsError: the input cannot be listed.
    """
    options = options.validated()
    in_bucket, in_prefix = split_s3_folder(input_s3_prefix, "the input")
    out_bucket, out_prefix = split_s3_folder(output_s3_prefix, "the output")
    photos, _ = _photo_keys(session, in_bucket, in_prefix)
    for key in photos:
        name = key[len(in_prefix) :]
        try:
            photo = read_object(session, in_bucket, key)
            try:
                mask_png = read_object(session, out_bucket, f"{out_prefix}{name}.out")
            except FileNotFoundError:
                yield PhotoResult(
                    name,
                    error=f"no mask: s3://{out_bucket}/{out_prefix}{name}.out does not exist "
                    "(the model failed on this photo, or the transform has not finished)",
                )
                continue
            yield PhotoResult(name, measurement=_measure_one(name, photo, mask_png, options))
        except FileNotFoundError:
            yield PhotoResult(name, error="the photo was deleted while measuring")
        except ObjlenError as error:
            yield PhotoResult(name, error=str(error))


__all__ = [
    "PhotoResult",
    "describe_transform",
    "measure_transform_outputs",
    "orient_mask_like_photo",
    "run_batch_transform",
    "transform_outputs",
    "wait_for_transform",
]
