"""Train, deploy and batch-run SageMaker's built-in semantic segmentation algorithm.

The steps, each a function that does one call (or one wait) and says what
went wrong in words for the operator:

1. :func:`scan_dataset` checks a dataset folder in the algorithm's layout
   (``train/*.jpg``, ``train_annotation/*.png`` of the same base names,
   the same for ``validation``; optional ``label_map/*.json``) and counts
   what the hyperparameters need; :func:`upload_dataset` puts it in S3, one
   prefix per channel.
2. :func:`create_training_job` starts a training job of the algorithm's
   image (:func:`image_uri`) on a GPU instance; :func:`wait_for_training`
   follows it and gives the ``FailureReason`` of a failed job.
3. :func:`create_model` and :func:`deploy` make a model of the job's
   artifacts and an endpoint on a CPU (or GPU) instance.
4. :func:`run_batch_transform` segments every photo under an S3 prefix;
   Batch Transform writes ``<photo>.out`` (the PNG mask) for each.
   :func:`measure_transform_outputs` measures each photo with its mask and
   reports failures per photo.

AWS facts relied on (see the SageMaker Developer Guide, "Semantic
Segmentation Algorithm" and "Semantic Segmentation Hyperparameters", and the
API reference of CreateTrainingJob, CreateTransformJob and TransformOutput):
the four channels are mandatory, ``label_map`` is optional; ``num_classes``
(2..254) and ``num_training_samples`` are required; training runs on one GPU
machine (ml.p2/ml.p3); inference takes ``image/jpeg`` and answers
``image/png`` masks of class indices; 255 is the "ignore" label.

S3 prefixes of channels end with ``/``: S3Prefix matching is by key prefix,
and ``.../train`` would also match ``.../train_annotation/...``.

Functions take an :class:`AwsSession`, which builds boto3 clients with
botocore's retries (like :mod:`objlen.segment.sagemaker`) and can point every
service at one URL (a local moto server in the tests).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import boto3
import numpy as np
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from PIL import Image

from objlen.classes import ClassIds
from objlen.errors import ObjlenError, ParameterError
from objlen.imageio import fit_mask_to_image, load_image, load_mask
from objlen.measure import measure
from objlen.options import MeasureOptions
from objlen.result import Measurement
from objlen.segment.sagemaker import _CREDENTIAL_CODES, _THROTTLING_CODES, model_class_count


class TrainingError(ObjlenError):
    """A SageMaker training, deployment or Batch Transform step failed."""


#: The mandatory channels of the algorithm, in the order they are shown.
CHANNELS = ("train", "validation", "train_annotation", "validation_annotation")
#: The optional channel of label maps (``train_label_map.json``, ``validation_label_map.json``).
LABEL_MAP_CHANNEL = "label_map"
#: The files the label map channel may hold.
LABEL_MAP_FILES = ("train_label_map.json", "validation_label_map.json")
#: Content type of each mandatory channel's files.
CHANNEL_CONTENT_TYPES = {
    "train": "image/jpeg",
    "validation": "image/jpeg",
    "train_annotation": "image/png",
    "validation_annotation": "image/png",
}
#: Instances the algorithm trains on (GPU only, one machine).
TRAINING_INSTANCE_TYPES = (
    "ml.p3.2xlarge",
    "ml.p3.8xlarge",
    "ml.p3.16xlarge",
    "ml.p2.xlarge",
    "ml.p2.8xlarge",
    "ml.p2.16xlarge",
)
#: A few inference instances (CPU or GPU); any ``ml.*`` type is accepted.
INFERENCE_INSTANCE_TYPES = ("ml.m5.xlarge", "ml.m5.large", "ml.c5.xlarge", "ml.c5.2xlarge")
BACKBONES = ("resnet-50", "resnet-101")
ALGORITHMS = ("fcn", "psp", "deeplab")
OPTIMIZERS = ("sgd", "adam", "adagrad", "nag", "rmsprop")
MIN_CLASSES, MAX_CLASSES = 2, 254

_IMAGE_TABLE = "semantic_segmentation_image_uris.json"
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_INSTANCE = re.compile(r"^ml\.[a-z0-9\-]+\.[a-z0-9]+$")
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


# --------------------------------------------------------------------------- image


@lru_cache(maxsize=1)
def _image_table() -> dict[str, Any]:
    text = resources.files("objlen").joinpath("data", _IMAGE_TABLE).read_text("utf-8")
    return json.loads(text)


def known_regions() -> tuple[str, ...]:
    """Regions whose semantic segmentation image objlen knows, sorted."""
    return tuple(sorted(_image_table()["versions"]["1"]["registries"]))


def _ecr_domain(region: str) -> str:
    if region.startswith("cn-"):
        return "amazonaws.com.cn"
    if region.startswith("us-isob-"):
        return "sc2s.sgov.gov"
    if region.startswith("us-iso-"):
        return "c2s.ic.gov"
    return "amazonaws.com"


def image_uri(region: str) -> str:
    """The ECR image of the built-in semantic segmentation algorithm in ``region``.

    The same image trains and serves, e.g. ``image_uri("ap-northeast-1") ==
    "501404015308.dkr.ecr.ap-northeast-1.amazonaws.com/semantic-segmentation:1"``.
    The per-region accounts are the SageMaker Python SDK's table, carried as
    data in ``objlen/data/semantic_segmentation_image_uris.json``.

    Raises:
        ParameterError: a region the table does not know; the message lists
            the known ones and says how to add one.
    """
    version = _image_table()["versions"]["1"]
    account = version["registries"].get((region or "").strip())
    if account is None:
        raise ParameterError(
            f"no semantic segmentation image is known for region {region!r}; use one of "
            f"{', '.join(known_regions())}, or add the region's account from a newer "
            "SageMaker Python SDK (src/sagemaker/image_uri_config/semantic-segmentation.json) "
            f"to objlen/data/{_IMAGE_TABLE}"
        )
    region = region.strip()
    return f"{account}.dkr.ecr.{region}.{_ecr_domain(region)}/{version['repository']}:1"


# --------------------------------------------------------------------------- session


class AwsSession:
    """Where AWS is and how patiently to call it; builds and caches boto3 clients.

    Args:
        region: AWS region; ``None`` takes the profile's or the environment's
            (``AWS_REGION``, ``AWS_DEFAULT_REGION``).
        profile: named AWS profile; ``None`` uses the default credential chain.
        endpoint_url: one URL for every service instead of AWS's (a local
            moto server); ``None`` for AWS.
        max_attempts: total attempts per call, the first included (botocore
            ``standard`` or ``adaptive`` retries).

    Raises:
        ParameterError: a bad retry setting.
    """

    def __init__(
        self,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        *,
        max_attempts: int = 5,
        retry_mode: str = "standard",
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
    ) -> None:
        if max_attempts < 1:
            raise ParameterError("max_attempts counts the first call too; it must be at least 1")
        if retry_mode not in ("standard", "adaptive"):
            raise ParameterError("retry_mode must be 'standard' or 'adaptive'")
        if not connect_timeout_s > 0 or not read_timeout_s > 0:
            raise ParameterError("AWS timeouts must be positive numbers of seconds")
        self.profile = (profile or "").strip() or None
        self.endpoint_url = (endpoint_url or "").strip() or None
        self._region = (region or "").strip() or None
        self._config = Config(
            retries={"mode": retry_mode, "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            user_agent_extra="objlen",
            s3={"addressing_style": "path"} if self.endpoint_url else None,
        )
        self._boto: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}

    @property
    def where(self) -> str:
        """Where the calls go, for messages."""
        return self.endpoint_url or f"AWS in {self._region or 'the default region'}"

    def boto_session(self) -> boto3.session.Session:
        """The boto3 session (created on first use).

        Raises:
            ParameterError: the profile does not exist.
        """
        if self._boto is None:
            try:
                self._boto = boto3.session.Session(
                    profile_name=self.profile, region_name=self._region
                )
            except ProfileNotFound as exc:
                raise ParameterError(
                    f"AWS profile '{self.profile}' not found in ~/.aws/config or "
                    "~/.aws/credentials; check its name"
                ) from exc
        return self._boto

    @property
    def region(self) -> str:
        """The region in use.

        Raises:
            ParameterError: none given and none configured.
        """
        region = self._region or self.boto_session().region_name
        if not region:
            raise ParameterError(
                "the AWS region is not set: give one (--region, e.g. ap-northeast-1), set "
                "AWS_REGION, or set a region in the profile (`aws configure`)"
            )
        return region

    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` (``"s3"``, ``"sagemaker"``), reused."""
        if service not in self._clients:
            self._clients[service] = self.boto_session().client(
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=self._config,
            )
        return self._clients[service]

    def credentials_available(self) -> bool:
        """Whether boto3 finds credentials (environment, profile, instance role)."""
        try:
            return self.boto_session().get_credentials() is not None
        except (ParameterError, BotoCoreError):
            return False


#: What the operator is told when no credentials are found.
HOW_TO_CONFIGURE = (
    "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
    "AWS_REGION), choose a profile, or run `aws configure`"
)


def explain_aws_error(error: Exception, what: str, session: AwsSession) -> TrainingError:
    """Turn a boto3/botocore failure while doing ``what`` into a :class:`TrainingError`."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return TrainingError(HOW_TO_CONFIGURE)
    if isinstance(error, ProfileNotFound):
        return TrainingError(f"AWS profile '{session.profile}' not found; check its name")
    if isinstance(error, ConnectTimeoutError | EndpointConnectionError):
        return TrainingError(
            f"could not connect to {session.where} while {what}: check the network, the "
            "region and the endpoint URL"
        )
    if isinstance(error, ReadTimeoutError):
        return TrainingError(f"{session.where} did not answer in time while {what}; try again")
    if not isinstance(error, ClientError):
        return TrainingError(f"{what} failed: {error}")
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "")).strip() or "no message"
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code == "NoSuchBucket":
        return TrainingError(
            f"the S3 bucket does not exist ({message}) while {what}: create it in the "
            "training region, or check its name"
        )
    if code in _CREDENTIAL_CODES or code.startswith("AccessDenied") or status == 403:
        return TrainingError(
            f"AWS refused the credentials while {what} ({code or status}: {message}); check "
            "that they are valid, not expired, and allowed to do this"
        )
    if code in _THROTTLING_CODES or status == 429:
        return TrainingError(f"AWS is throttling calls while {what}: wait a little, try again")
    if code == "ResourceLimitExceeded":
        return TrainingError(
            f"an AWS account limit stops {what}: {message}. Ask for a higher quota (Service "
            "Quotas) or choose another instance type"
        )
    if code == "ResourceInUse":
        return TrainingError(f"{what}: the name is taken ({message}); choose another name")
    if code in ("ValidationException", "ValidationError"):
        return TrainingError(f"AWS refused {what}: {message}")
    return TrainingError(f"{what} failed ({code or status}): {message}")


@contextmanager
def _calling(what: str, session: AwsSession) -> Iterator[None]:
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise explain_aws_error(exc, what, session) from exc


def _not_found(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    message = str(details.get("Message", "")).lower()
    code = str(details.get("Code", ""))
    return code in ("NoSuchKey", "404", "NotFound") or (
        code in ("ValidationException", "ValidationError")
        and ("could not find" in message or "not found" in message)
    )


# --------------------------------------------------------------------------- S3 paths


def s3_uri(bucket: str, *parts: str) -> str:
    """``s3://bucket/part/part`` with single slashes; a trailing slash is kept."""
    key = "/".join(p.strip("/") for p in parts if p.strip("/"))
    trailing = "/" if parts and parts[-1].endswith("/") and key else ""
    return f"s3://{bucket}/{key}{trailing}"


def split_s3_uri(uri: str, what: str = "the S3 location") -> tuple[str, str]:
    """``("bucket", "key/prefix")`` of an ``s3://bucket/key`` URI.

    Raises:
        ParameterError: not an ``s3://bucket/...`` URI.
    """
    match = re.match(r"^s3://([^/]+)/?(.*)$", (uri or "").strip())
    if not match:
        raise ParameterError(f"{what} must look like s3://bucket/prefix, got {uri!r}")
    return match.group(1), match.group(2)


def _folder(uri: str, what: str) -> tuple[str, str]:
    """Bucket and key prefix ending with ``/`` (empty for the bucket's root)."""
    bucket, key = split_s3_uri(uri, what)
    key = key.strip("/")
    return bucket, f"{key}/" if key else ""


def _keys(session: AwsSession, bucket: str, prefix: str, what: str) -> Iterator[str]:
    with _calling(what, session):
        paginator = session.client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]


def _get(session: AwsSession, bucket: str, key: str) -> bytes:
    """The object's bytes.

    Raises:
        FileNotFoundError: no such object.
        TrainingError: S3 refused.
    """
    with _calling(f"reading s3://{bucket}/{key}", session):
        try:
            return session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _not_found(exc):
                raise FileNotFoundError(key) from exc
            raise


# --------------------------------------------------------------------------- dataset


@dataclass(frozen=True)
class DatasetSummary:
    """What a dataset folder holds, checked.

    Attributes:
        path: the dataset folder.
        files: per channel (``label_map`` included when present), the file
            names, sorted.
        label_values: distinct values in the annotation PNGs, "ignore" excluded.
        num_classes: classes the model must predict (see :func:`scan_dataset`).
    """

    path: Path
    files: Mapping[str, tuple[str, ...]]
    label_values: tuple[int, ...]
    num_classes: int

    @property
    def num_training_samples(self) -> int:
        """Number of training images (a required hyperparameter)."""
        return len(self.files["train"])


def _list_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _check_pairs(root: Path, images: str, labels: str) -> tuple[list[str], list[str]]:
    image_dir, annotation_dir = root / images, root / labels
    for folder in (image_dir, annotation_dir):
        if not folder.is_dir():
            raise ParameterError(
                f"{root}: the folder {folder.name}/ is missing; a dataset needs train/, "
                "validation/, train_annotation/ and validation_annotation/"
            )
    image_files, annotation_files = _list_files(image_dir), _list_files(annotation_dir)
    wrong = [f"{images}/{n}" for n in image_files if not n.endswith(".jpg")]
    wrong += [f"{labels}/{n}" for n in annotation_files if not n.endswith(".png")]
    if wrong:
        raise ParameterError(
            f"{root}: the algorithm reads *.jpg photos and *.png annotations only; rename or "
            f"remove {', '.join(wrong[:5])}"
            + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        )
    if not image_files:
        raise ParameterError(f"{root}: {images}/ has no .jpg photos")
    stems = {Path(n).stem for n in image_files}
    label_stems = {Path(n).stem for n in annotation_files}
    unpaired = [f"{images}/{s}.jpg" for s in sorted(stems - label_stems)]
    unpaired += [f"{labels}/{s}.png" for s in sorted(label_stems - stems)]
    if unpaired:
        raise ParameterError(
            f"{root}: every photo needs an annotation of the same base name and vice versa; "
            f"unpaired: {', '.join(unpaired[:5])}"
            + (f" and {len(unpaired) - 5} more" if len(unpaired) > 5 else "")
        )
    return image_files, annotation_files


def _label_map_classes(root: Path, names: list[str], values: set[int]) -> int:
    """Classes implied by the label maps (0 if they imply nothing)."""
    count = 0
    for name in names:
        path = root / LABEL_MAP_CHANNEL / name
        try:
            content = json.loads(path.read_text("utf-8"))
            if "map" in content:
                count = max(count, max(int(k) for k in content["map"]) + 1)
            elif "scale" in content and values:
                count = max(count, max(values) // int(float(content["scale"])) + 1)
        except (ValueError, TypeError, AttributeError, ZeroDivisionError) as exc:
            raise ParameterError(
                f'{path}: not a label map; it must be JSON like {{"scale": "1"}} or '
                '{"map": {"0": 0, "1": 1}}'
            ) from exc
    return count


def scan_dataset(dataset_dir: str | Path, classes: ClassIds = ClassIds()) -> DatasetSummary:  # noqa: B008
    """Check a dataset folder in the algorithm's layout and count what training needs.

    Every ``train/*.jpg`` needs a ``train_annotation/*.png`` of the same base
    name and vice versa; the same for ``validation``. ``label_map/*.json``
    is optional (``{"scale": ...}`` or ``{"map": {label: pixel value}}``).

    ``num_classes`` is the larger of the classes objlen's masks use
    (``classes``: background, object, reference, so 3 by default) and the
    classes of the annotations: what the label maps imply if there are any,
    else the largest annotation value + 1 ("ignore" excluded). Every
    annotation PNG is read once.

    Raises:
        ParameterError: a missing folder, a file of the wrong type, an
            unpaired photo or annotation, a bad label map.
        ImageReadError, MaskError: an annotation is not a single-channel PNG.
    """
    root = Path(dataset_dir).expanduser()
    if not root.is_dir():
        raise ParameterError(f"{root}: no such dataset folder")
    files: dict[str, tuple[str, ...]] = {}
    for photos, labels in (("train", "train_annotation"), ("validation", "validation_annotation")):
        photo_files, label_files = _check_pairs(root, photos, labels)
        files[photos], files[labels] = tuple(photo_files), tuple(label_files)
    values: set[int] = set()
    for channel in ("train_annotation", "validation_annotation"):
        for name in files[channel]:
            mask, _ = load_mask(root / channel / name)
            values.update(int(v) for v in np.unique(mask))
    values.discard(classes.ignore)
    label_maps: list[str] = []
    if (root / LABEL_MAP_CHANNEL).is_dir():
        label_maps = _list_files(root / LABEL_MAP_CHANNEL)
        unknown = sorted(set(label_maps) - set(LABEL_MAP_FILES))
        if unknown:
            raise ParameterError(
                f"{root}: label_map/ may hold {' and '.join(LABEL_MAP_FILES)} only; rename or "
                f"remove {', '.join(unknown)}"
            )
        if label_maps:
            files[LABEL_MAP_CHANNEL] = tuple(label_maps)
    labels_count = _label_map_classes(root, label_maps, values) or max(values, default=0) + 1
    num_classes = max(model_class_count(classes), labels_count)
    return DatasetSummary(
        path=root, files=files, label_values=tuple(sorted(values)), num_classes=num_classes
    )


def channel_uris(bucket: str, prefix: str, *, label_map: bool = False) -> dict[str, str]:
    """S3 URIs (ending with ``/``) of the channels under ``s3://bucket/prefix/``."""
    names = CHANNELS + ((LABEL_MAP_CHANNEL,) if label_map else ())
    return {name: s3_uri(bucket, prefix, f"{name}/") for name in names}


def uploaded_channels(bucket: str, prefix: str, session: AwsSession) -> dict[str, str]:
    """The channel URIs under ``s3://bucket/prefix/``, as :func:`upload_dataset` made them.

    The four mandatory channels are always given (:func:`create_training_job`
    checks that they hold objects); ``label_map`` only if it holds one.

    Raises:
        ParameterError: a bad bucket name.
        TrainingError: S3 refused.
    """
    _check_bucket(bucket)
    channels = channel_uris(bucket, prefix, label_map=True)
    _, key = _folder(channels[LABEL_MAP_CHANNEL], "the label map channel")
    with _calling(f"looking for label maps in {channels[LABEL_MAP_CHANNEL]}", session):
        answer = session.client("s3").list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    if not answer.get("KeyCount"):
        del channels[LABEL_MAP_CHANNEL]
    return channels


def _refuse_stale_objects(
    summary: DatasetSummary, bucket: str, prefix: str, session: AwsSession
) -> None:
    stale: list[str] = []
    for channel, uri in channel_uris(bucket, prefix, label_map=True).items():
        _, key = _folder(uri, f"the {channel} channel")
        wanted = {f"{key}{name}" for name in summary.files.get(channel, ())}
        stale += [k for k in _keys(session, bucket, key, f"listing {uri}") if k not in wanted]
    if stale:
        raise ParameterError(
            f"s3://{bucket}/{prefix.strip('/')}/ holds files that are not in this dataset and "
            f"would be trained on: {', '.join(stale[:5])}"
            + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
            + "; upload to a new prefix, or delete them first"
        )


def upload_dataset(
    dataset_dir: str | Path,
    bucket: str,
    prefix: str,
    session: AwsSession,
    *,
    classes: ClassIds = ClassIds(),  # noqa: B008 - frozen, immutable default
    progress_callback: Callable[[int, int], None] | None = None,
) -> dict[str, str]:
    """Upload a dataset folder (checked by :func:`scan_dataset`) to S3.

    Files keep their names under ``s3://bucket/prefix/<channel>/``; photos
    are stored as ``image/jpeg``, annotations as ``image/png``.
    ``progress_callback(done, total)`` is called after each file.

    Returns:
        ``{channel: "s3://bucket/prefix/<channel>/"}``, ``label_map`` included
        when the folder has one.

    Files already there under the same names are replaced; other files
    under a channel's prefix would be trained on too, so they are refused.

    Raises:
        ParameterError: a bad dataset, bucket or prefix; files of another
            dataset under the channels' prefixes.
        TrainingError: S3 refused (no bucket, no credentials...).
    """
    _check_bucket(bucket)
    summary = scan_dataset(dataset_dir, classes)
    _refuse_stale_objects(summary, bucket, prefix, session)
    total = sum(len(names) for names in summary.files.values())
    done = 0
    for channel, names in summary.files.items():
        content_type = CHANNEL_CONTENT_TYPES.get(channel, "application/json")
        for name in names:
            key = "/".join(p for p in (prefix.strip("/"), channel, name) if p)
            body = (summary.path / channel / name).read_bytes()
            with _calling(f"uploading {channel}/{name} to s3://{bucket}/{key}", session):
                session.client("s3").put_object(
                    Bucket=bucket, Key=key, Body=body, ContentType=content_type
                )
            done += 1
            if progress_callback is not None:
                progress_callback(done, total)
    return channel_uris(bucket, prefix, label_map=LABEL_MAP_CHANNEL in summary.files)


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class Hyperparameters:
    """The algorithm's optional hyperparameters; defaults are its own, except
    ``early_stopping`` (on, to stop paying for epochs that no longer help).

    Attributes:
        backbone: ``resnet-50`` or ``resnet-101``.
        algorithm: ``fcn``, ``psp`` or ``deeplab``.
        use_pretrained_model: start the backbone from ImageNet weights.
        epochs: passes over the training set.
        learning_rate: initial learning rate, in (0, 1].
        mini_batch_size: photos per training step (at most the training photos).
        validation_mini_batch_size: photos per validation step.
        crop_size: side of the square random training crop, pixels (> 16).
        optimizer: ``sgd``, ``adam``, ``adagrad``, ``nag`` or ``rmsprop``.
        early_stopping, early_stopping_min_epochs, early_stopping_patience,
        early_stopping_tolerance: stop when the validation mIOU stops improving.
        extra: other documented hyperparameters, passed as they are
            (e.g. ``{"lr_scheduler": "cosine"}``).
    """

    backbone: str = "resnet-50"
    algorithm: str = "fcn"
    use_pretrained_model: bool = True
    epochs: int = 30
    learning_rate: float = 0.001
    mini_batch_size: int = 4
    validation_mini_batch_size: int = 4
    crop_size: int = 480
    optimizer: str = "sgd"
    early_stopping: bool = True
    early_stopping_min_epochs: int = 5
    early_stopping_patience: int = 4
    early_stopping_tolerance: float = 0.0
    extra: Mapping[str, str] = field(default_factory=dict)

    def validated(self) -> Hyperparameters:
        """Return self, or raise :class:`ParameterError` naming the bad value."""
        for name, value, allowed in (
            ("backbone", self.backbone, BACKBONES),
            ("algorithm", self.algorithm, ALGORITHMS),
            ("optimizer", self.optimizer, OPTIMIZERS),
        ):
            if value not in allowed:
                raise ParameterError(f"{name} {value!r} is not one of {', '.join(allowed)}")
        for name in ("epochs", "mini_batch_size", "validation_mini_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"{name} must be a positive whole number")
        if not 0 < self.learning_rate <= 1:
            raise ParameterError(f"learning_rate must be in (0, 1], got {self.learning_rate}")
        if self.crop_size <= 16:
            raise ParameterError(f"crop_size must be more than 16 pixels, got {self.crop_size}")
        if self.early_stopping_min_epochs < 0 or self.early_stopping_patience < 0:
            raise ParameterError("the early stopping epochs must be zero or more")
        if not 0 <= self.early_stopping_tolerance <= 1:
            raise ParameterError("early_stopping_tolerance must be in [0, 1]")
        return self

    def as_strings(self, num_classes: int, num_training_samples: int) -> dict[str, str]:
        """The ``HyperParameters`` map of CreateTrainingJob (strings only).

        Raises:
            ParameterError: ``extra`` tries to set a hyperparameter given here.
        """
        values: dict[str, object] = {
            "backbone": self.backbone,
            "algorithm": self.algorithm,
            "use_pretrained_model": self.use_pretrained_model,
            "num_classes": num_classes,
            "num_training_samples": num_training_samples,
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "optimizer": self.optimizer,
            "mini_batch_size": self.mini_batch_size,
            "validation_mini_batch_size": self.validation_mini_batch_size,
            "crop_size": self.crop_size,
            "early_stopping": self.early_stopping,
            "early_stopping_min_epochs": self.early_stopping_min_epochs,
            "early_stopping_patience": self.early_stopping_patience,
            "early_stopping_tolerance": self.early_stopping_tolerance,
        }
        clash = sorted(set(self.extra) & set(values))
        if clash:
            raise ParameterError(f"set {', '.join(clash)} by its own field, not in extra")
        strings = {k: _hyper_string(v) for k, v in values.items()}
        strings.update({str(k): str(v) for k, v in self.extra.items()})
        return strings


def _hyper_string(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _check_bucket(bucket: str) -> None:
    if not _BUCKET.match(bucket or ""):
        raise ParameterError(
            f"{bucket!r} is not an S3 bucket name: give the name only (no s3://, no /), "
            "3-63 lowercase letters, digits, dots or hyphens"
        )


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name or ""):
        raise ParameterError(
            f"{what} {name!r} is not a valid SageMaker name: 1-63 letters, digits and "
            "hyphens, starting and ending with a letter or digit"
        )


def _check_inference_instance(instance_type: str) -> None:
    if not _INSTANCE.match(instance_type or ""):
        raise ParameterError(
            f"{instance_type!r} is not a SageMaker instance type; e.g. ml.m5.xlarge"
        )


@dataclass(frozen=True)
class TrainingConfig:
    """Everything a training job needs besides the channels.

    Attributes:
        role_arn: IAM role SageMaker assumes (reads S3, writes the model).
        bucket, prefix: the job writes its model under
            ``s3://bucket/prefix/output/<job>/output/model.tar.gz``.
        num_training_samples: training photos (required by the algorithm).
        num_classes: classes to predict, 2..254; 3 = background, object,
            reference. :meth:`for_dataset` derives both counts.
        instance_type: a GPU instance (:data:`TRAINING_INSTANCE_TYPES`).
        instance_count: 1 (the algorithm trains on one machine).
        volume_size_gb: storage of the training instance.
        max_runtime_s: the job is stopped after this many seconds.
        hyperparameters: see :class:`Hyperparameters`.
        job_name: ``None`` makes ``objlen-ss-<UTC time>-<random>``.
    """

    role_arn: str
    bucket: str
    prefix: str
    num_training_samples: int
    num_classes: int = 3
    instance_type: str = "ml.p3.2xlarge"
    instance_count: int = 1
    volume_size_gb: int = 50
    max_runtime_s: int = 24 * 3600
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    job_name: str | None = None

    @classmethod
    def for_dataset(
        cls,
        dataset_dir: str | Path,
        *,
        role_arn: str,
        bucket: str,
        prefix: str,
        classes: ClassIds = ClassIds(),  # noqa: B008 - frozen, immutable default
        **changes: Any,
    ) -> TrainingConfig:
        """A config whose counts come from :func:`scan_dataset` of ``dataset_dir``."""
        summary = scan_dataset(dataset_dir, classes)
        values: dict[str, Any] = {
            "num_training_samples": summary.num_training_samples,
            "num_classes": summary.num_classes,
        }
        values.update(changes)
        return cls(role_arn=role_arn, bucket=bucket, prefix=prefix, **values)

    @property
    def output_s3_uri(self) -> str:
        """Where the job writes its model artifacts."""
        return s3_uri(self.bucket, self.prefix, "output")

    def validated(self) -> TrainingConfig:
        """Return self if SageMaker and the algorithm would accept it.

        Raises:
            ParameterError: saying which value is wrong and what to use.
        """
        if not _ROLE_ARN.match(self.role_arn or ""):
            raise ParameterError(
                f"{self.role_arn!r} is not an IAM role ARN; give one like "
                "arn:aws:iam::123456789012:role/SageMakerExecutionRole"
            )
        _check_bucket(self.bucket)
        if self.instance_type not in TRAINING_INSTANCE_TYPES:
            raise ParameterError(
                f"the semantic segmentation algorithm trains only on GPU instances "
                f"({', '.join(TRAINING_INSTANCE_TYPES)}); {self.instance_type!r} is not one of "
                "them. CPU instances such as ml.m5.xlarge serve the trained model"
            )
        if self.instance_count != 1:
            raise ParameterError(
                "the semantic segmentation algorithm trains on a single machine: "
                f"instance_count must be 1, not {self.instance_count}"
            )
        if not MIN_CLASSES <= self.num_classes <= MAX_CLASSES:
            raise ParameterError(
                f"num_classes must be within {MIN_CLASSES}..{MAX_CLASSES}, got {self.num_classes}"
            )
        if self.num_training_samples < 1:
            raise ParameterError("num_training_samples must be at least 1 training photo")
        if self.volume_size_gb < 1 or self.max_runtime_s < 1:
            raise ParameterError("volume_size_gb and max_runtime_s must be positive")
        hyper = self.hyperparameters.validated()
        if hyper.mini_batch_size > self.num_training_samples:
            raise ParameterError(
                f"mini_batch_size {hyper.mini_batch_size} is larger than the "
                f"{self.num_training_samples} training photos; lower it or add photos"
            )
        if self.job_name is not None:
            _check_name(self.job_name, "the training job name")
        return self


def unique_name(base: str) -> str:
    """``base-YYYYmmdd-HHMMSS-xxxx`` (UTC), at most 63 characters, a valid SageMaker name."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    head = re.sub(r"[^a-zA-Z0-9-]", "-", base).strip("-")[:40].rstrip("-") or "objlen"
    return f"{head}-{stamp}-{secrets.token_hex(2)}"


def _require_channels(channels: Mapping[str, str], session: AwsSession) -> dict[str, str]:
    missing = [c for c in CHANNELS if c not in channels]
    if missing:
        raise ParameterError(f"the training needs the channels {', '.join(missing)}")
    checked: dict[str, str] = {}
    for name, uri in channels.items():
        if name not in CHANNELS and name != LABEL_MAP_CHANNEL:
            raise ParameterError(f"unknown channel {name!r}; the algorithm reads {CHANNELS}")
        bucket, prefix = _folder(uri, f"the {name} channel")
        with _calling(f"checking the {name} channel at {uri}", session):
            answer = session.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        if not answer.get("KeyCount"):
            raise ParameterError(
                f"the {name} channel s3://{bucket}/{prefix} is empty: upload the dataset "
                "first (objlen sagemaker upload)"
            )
        checked[name] = f"s3://{bucket}/{prefix}"
    return checked


def training_request(
    config: TrainingConfig, channels: Mapping[str, str], region: str, job_name: str
) -> dict[str, Any]:
    """The CreateTrainingJob request (pure; ``config`` already validated)."""
    inputs = []
    for name, uri in channels.items():
        channel: dict[str, Any] = {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": uri,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "CompressionType": "None",
        }
        if name in CHANNEL_CONTENT_TYPES:
            channel["ContentType"] = CHANNEL_CONTENT_TYPES[name]
        inputs.append(channel)
    return {
        "TrainingJobName": job_name,
        "AlgorithmSpecification": {"TrainingImage": image_uri(region), "TrainingInputMode": "File"},
        "RoleArn": config.role_arn,
        "HyperParameters": config.hyperparameters.as_strings(
            config.num_classes, config.num_training_samples
        ),
        "InputDataConfig": inputs,
        "OutputDataConfig": {"S3OutputPath": config.output_s3_uri},
        "ResourceConfig": {
            "InstanceType": config.instance_type,
            "InstanceCount": config.instance_count,
            "VolumeSizeInGB": config.volume_size_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": config.max_runtime_s},
    }


def create_training_job(
    config: TrainingConfig, channels: Mapping[str, str], session: AwsSession
) -> str:
    """Start a training job; return its name (it runs on in SageMaker).

    ``channels`` maps the four mandatory channels (and optionally
    ``label_map``) to S3 prefixes, as :func:`upload_dataset` returns them;
    each must hold at least one object.

    Raises:
        ParameterError: a bad config, a missing or empty channel, an unknown region.
        TrainingError: SageMaker refused the job (quota, role, credentials...).
    """
    config = config.validated()
    image_uri(session.region)
    job_name = config.job_name or unique_name("objlen-ss")
    request = training_request(
        config, _require_channels(channels, session), session.region, job_name
    )
    with _calling(f"creating training job '{job_name}'", session):
        session.client("sagemaker").create_training_job(**request)
    return job_name


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class JobStatus:
    """Where a training job, transform job or endpoint stands.

    Attributes:
        kind: ``"training job"``, ``"transform job"`` or ``"endpoint"``.
        name: its name.
        status: SageMaker's status (``InProgress``, ``Completed``, ``InService``...).
        detail: the secondary status and its latest message, if any.
        failure_reason: why it failed, if it did.
        elapsed_s: seconds since it was created, if known.
        progress: a rough share done in [0, 1] for a progress bar.
    """

    kind: str
    name: str
    status: str
    detail: str | None = None
    failure_reason: str | None = None
    elapsed_s: float | None = None
    progress: float = 0.0

    @property
    def done(self) -> bool:
        """Whether the status will not change any more."""
        return self.status in _FINAL[self.kind]

    @property
    def succeeded(self) -> bool:
        return self.status in _SUCCESS[self.kind]

    def line(self) -> str:
        """One line for the operator."""
        text = f"{self.kind} {self.name}: {self.status}"
        if self.detail:
            text += f" ({self.detail})"
        if self.elapsed_s is not None:
            text += f", {self.elapsed_s / 60:.0f} min"
        if self.failure_reason:
            text += f"; failure reason: {self.failure_reason}"
        return text


_FINAL = {
    "training job": frozenset({"Completed", "Failed", "Stopped"}),
    "transform job": frozenset({"Completed", "Failed", "Stopped"}),
    "endpoint": frozenset({"InService", "Failed", "OutOfService"}),
}
_SUCCESS = {
    "training job": frozenset({"Completed"}),
    "transform job": frozenset({"Completed"}),
    "endpoint": frozenset({"InService"}),
}
_TRAINING_STEPS = (
    "Starting",
    "LaunchingMLInstances",
    "PreparingTrainingStack",
    "Downloading",
    "DownloadingTrainingImage",
    "Training",
    "Uploading",
    "Completed",
)


def _elapsed(description: Mapping[str, Any]) -> float | None:
    created = description.get("CreationTime")
    if not isinstance(created, dt.datetime):
        return None
    end = description.get("TrainingEndTime") or description.get("TransformEndTime")
    until = end if isinstance(end, dt.datetime) else dt.datetime.now(created.tzinfo)
    return max(0.0, (until - created).total_seconds())


def training_status(description: Mapping[str, Any]) -> JobStatus:
    """A :class:`JobStatus` from a DescribeTrainingJob answer (pure)."""
    status = str(description.get("TrainingJobStatus", "Unknown"))
    secondary = description.get("SecondaryStatus")
    transitions = description.get("SecondaryStatusTransitions") or []
    message = transitions[-1].get("StatusMessage") if transitions else None
    detail = " - ".join(str(p) for p in (secondary, message) if p) or None
    progress = 1.0 if status == "Completed" else 0.0
    if status != "Completed" and secondary in _TRAINING_STEPS:
        progress = (_TRAINING_STEPS.index(secondary) + 1) / (len(_TRAINING_STEPS) + 1)
    return JobStatus(
        kind="training job",
        name=str(description.get("TrainingJobName", "")),
        status=status,
        detail=detail,
        failure_reason=description.get("FailureReason") or None,
        elapsed_s=_elapsed(description),
        progress=progress,
    )


def transform_status(description: Mapping[str, Any]) -> JobStatus:
    """A :class:`JobStatus` from a DescribeTransformJob answer (pure)."""
    status = str(description.get("TransformJobStatus", "Unknown"))
    return JobStatus(
        kind="transform job",
        name=str(description.get("TransformJobName", "")),
        status=status,
        failure_reason=description.get("FailureReason") or None,
        elapsed_s=_elapsed(description),
        progress=1.0 if status == "Completed" else 0.5 if status == "InProgress" else 0.0,
    )


def endpoint_status(description: Mapping[str, Any]) -> JobStatus:
    """A :class:`JobStatus` from a DescribeEndpoint answer (pure)."""
    status = str(description.get("EndpointStatus", "Unknown"))
    return JobStatus(
        kind="endpoint",
        name=str(description.get("EndpointName", "")),
        status=status,
        failure_reason=description.get("FailureReason") or None,
        progress=1.0
        if status == "InService"
        else 0.5
        if status in ("Creating", "Updating")
        else 0.0,
    )


def raise_for_status(status: JobStatus) -> JobStatus:
    """Return ``status`` if it succeeded; raise :class:`TrainingError` if it ended otherwise."""
    if status.done and not status.succeeded:
        reason = status.failure_reason or status.detail or "SageMaker gave no reason"
        hint = {
            "training job": "its log is in CloudWatch, group /aws/sagemaker/TrainingJobs",
            "transform job": "its log is in CloudWatch, group /aws/sagemaker/TransformJobs; "
            "the photos that succeeded have their .out masks",
            "endpoint": "its log is in CloudWatch, group /aws/sagemaker/Endpoints",
        }[status.kind]
        raise TrainingError(
            f"{status.kind} '{status.name}' {status.status.lower()}: {reason} ({hint})"
        )
    return status


def follow(
    describe: Callable[[], JobStatus],
    *,
    poll_s: float,
    timeout_s: float | None,
    progress_callback: Callable[[JobStatus], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> JobStatus:
    """Poll ``describe`` every ``poll_s`` seconds until the status is final.

    ``progress_callback`` gets every status seen. Returns the final status
    (successful or not: see :func:`raise_for_status`).

    Raises:
        TrainingError: not final after ``timeout_s`` (the job goes on running).
    """
    if poll_s <= 0:
        raise ParameterError("the polling interval must be a positive number of seconds")
    start = clock()
    while True:
        status = describe()
        if progress_callback is not None:
            progress_callback(status)
        if status.done:
            return status
        if timeout_s is not None and clock() - start + poll_s > timeout_s:
            follow_up = (
                f"`objlen sagemaker status {status.name}`"
                if status.kind == "training job"
                else "the SageMaker console"
            )
            raise TrainingError(
                f"{status.kind} '{status.name}' is still {status.status} after waiting "
                f"{timeout_s:g} s; it goes on running in SageMaker: follow it with {follow_up}"
            )
        sleep(poll_s)


def describe_training(name: str, session: AwsSession) -> JobStatus:
    """The training job's current :class:`JobStatus`.

    Raises:
        TrainingError: no such job in the region, or AWS refused.
    """
    return training_status(_describe_training(name, session))


def _describe_training(name: str, session: AwsSession) -> dict[str, Any]:
    _check_name(name, "the training job name")
    try:
        with _calling(f"reading training job '{name}'", session):
            try:
                return session.client("sagemaker").describe_training_job(TrainingJobName=name)
            except ClientError as exc:
                if _not_found(exc):
                    raise LookupError(name) from exc
                raise
    except LookupError as exc:
        raise TrainingError(
            f"training job '{name}' not found in region {session.region}; check its name and region"
        ) from exc


def wait_for_training(
    name: str,
    session: AwsSession,
    *,
    poll_s: float = 30.0,
    timeout_s: float | None = None,
    progress_callback: Callable[[JobStatus], None] | None = None,
) -> JobStatus:
    """Follow a training job until it ends; return its final (Completed) status.

    Raises:
        TrainingError: it failed (with SageMaker's FailureReason) or was
            stopped, it is not found, or still running after ``timeout_s``.
    """
    status = follow(
        lambda: describe_training(name, session),
        poll_s=poll_s,
        timeout_s=timeout_s,
        progress_callback=progress_callback,
    )
    return raise_for_status(status)


# --------------------------------------------------------------------------- deploy


@dataclass(frozen=True)
class Deployment:
    """What :func:`deploy` created: model, endpoint config, endpoint, and its status."""

    model_name: str
    endpoint_config_name: str
    endpoint_name: str
    status: JobStatus


def create_model(
    training_job_name: str, session: AwsSession, *, model_name: str | None = None
) -> str:
    """A SageMaker model of a completed training job's artifacts; return its name.

    The model runs the algorithm's image (:func:`image_uri`) with the job's
    ``model.tar.gz`` and role. Its name defaults to the job's. A model of that
    name made from the same artifacts is reused.

    Raises:
        TrainingError: the job is not Completed, or the name is taken by
            another model, or AWS refused.
    """
    model_name = model_name or training_job_name
    _check_name(model_name, "the model name")
    job = _describe_training(training_job_name, session)
    status = training_status(job)
    artifacts = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if status.status != "Completed" or not artifacts:
        raise TrainingError(
            f"training job '{training_job_name}' is {status.status}, not Completed: it has no "
            "model to deploy yet" + (f" ({status.failure_reason})" if status.failure_reason else "")
        )
    container = {"Image": image_uri(session.region), "ModelDataUrl": artifacts}
    client = session.client("sagemaker")
    with _calling(f"reading model '{model_name}'", session):
        try:
            existing = client.describe_model(ModelName=model_name)
        except ClientError as exc:
            if not _not_found(exc):
                raise
            existing = None
    if existing is not None:
        if (existing.get("PrimaryContainer") or {}).get("ModelDataUrl") == artifacts:
            return model_name
        raise TrainingError(
            f"a model named '{model_name}' exists already with other artifacts; choose "
            "another model name"
        )
    with _calling(f"creating model '{model_name}'", session):
        client.create_model(
            ModelName=model_name, PrimaryContainer=container, ExecutionRoleArn=job["RoleArn"]
        )
    return model_name


def describe_endpoint(name: str, session: AwsSession) -> JobStatus | None:
    """The endpoint's :class:`JobStatus`, or ``None`` if there is no such endpoint.

    Raises:
        TrainingError: AWS refused.
    """
    _check_name(name, "the endpoint name")
    with _calling(f"reading endpoint '{name}'", session):
        try:
            answer = session.client("sagemaker").describe_endpoint(EndpointName=name)
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise
    return endpoint_status(answer)


def deploy(
    training_job_name: str,
    endpoint_name: str,
    instance_type: str = "ml.m5.xlarge",
    *,
    session: AwsSession,
    instance_count: int = 1,
    wait: bool = True,
    poll_s: float = 30.0,
    timeout_s: float | None = 3600.0,
    progress_callback: Callable[[JobStatus], None] | None = None,
) -> Deployment:
    """Serve a completed training job's model on a new endpoint.

    Creates (or reuses, see :func:`create_model`) the model, an endpoint
    config ``<endpoint>-<time>-<random>`` with one variant ``AllTraffic``,
    and the endpoint; with ``wait`` follows it until InService.

    Raises:
        ParameterError: bad names or instance type.
        TrainingError: the job is not Completed, the endpoint exists already
            (switch it with ``aws sagemaker update-endpoint``), creation failed,
            or it is not InService within ``timeout_s``.
    """
    _check_name(endpoint_name, "the endpoint name")
    _check_inference_instance(instance_type)
    if instance_count < 1:
        raise ParameterError("instance_count must be at least 1")
    if describe_endpoint(endpoint_name, session) is not None:
        raise TrainingError(
            f"endpoint '{endpoint_name}' exists already in region {session.region}: deploy "
            "under another name, or switch it to the new model with `aws sagemaker "
            "update-endpoint`"
        )
    model_name = create_model(training_job_name, session)
    config_name = unique_name(endpoint_name)
    client = session.client("sagemaker")
    with _calling(f"creating endpoint config '{config_name}'", session):
        client.create_endpoint_config(
            EndpointConfigName=config_name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model_name,
                    "InitialInstanceCount": instance_count,
                    "InstanceType": instance_type,
                }
            ],
        )
    with _calling(f"creating endpoint '{endpoint_name}'", session):
        client.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)

    def describe() -> JobStatus:
        status = describe_endpoint(endpoint_name, session)
        if status is None:
            raise TrainingError(f"endpoint '{endpoint_name}' disappeared while starting")
        return status

    status = describe()
    if wait:
        status = raise_for_status(
            follow(
                describe, poll_s=poll_s, timeout_s=timeout_s, progress_callback=progress_callback
            )
        )
    return Deployment(model_name, config_name, endpoint_name, status)


# --------------------------------------------------------------------------- transform


def _photo_keys(session: AwsSession, bucket: str, prefix: str) -> tuple[list[str], list[str]]:
    """JPEG keys and other keys under ``prefix`` (folders' placeholder keys skipped)."""
    photos, others = [], []
    for key in _keys(session, bucket, prefix, f"listing s3://{bucket}/{prefix}"):
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
        TrainingError: SageMaker refused the job.
    """
    _check_name(model_name, "the model name")
    _check_inference_instance(instance_type)
    if not 1 <= max_payload_mb <= 100:
        raise ParameterError("max_payload_mb must be within 1..100")
    in_bucket, in_prefix = _folder(input_s3_prefix, "the input")
    out_bucket, out_prefix = _folder(output_s3_prefix, "the output")
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
    _check_name(job_name, "the transform job name")
    with _calling(f"creating transform job '{job_name}'", session):
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
    """The transform job's current :class:`JobStatus`.

    Raises:
        TrainingError: no such job, or AWS refused.
    """
    _check_name(name, "the transform job name")
    try:
        with _calling(f"reading transform job '{name}'", session):
            try:
                return transform_status(
                    session.client("sagemaker").describe_transform_job(TransformJobName=name)
                )
            except ClientError as exc:
                if _not_found(exc):
                    raise LookupError(name) from exc
                raise
    except LookupError as exc:
        raise TrainingError(
            f"transform job '{name}' not found in region {session.region}; check its name"
        ) from exc


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
        TrainingError: it failed (with FailureReason) or was stopped, or is
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
        TrainingError: S3 refused.
    """
    bucket, prefix = _folder(output_s3_prefix, "the output")
    for key in _keys(session, bucket, prefix, f"listing s3://{bucket}/{prefix}"):
        if key.endswith(".out"):
            try:
                yield key[len(prefix) : -len(".out")], _get(session, bucket, key)
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
        TrainingError: the input cannot be listed.
    """
    options = options.validated()
    in_bucket, in_prefix = _folder(input_s3_prefix, "the input")
    out_bucket, out_prefix = _folder(output_s3_prefix, "the output")
    photos, _ = _photo_keys(session, in_bucket, in_prefix)
    for key in photos:
        name = key[len(in_prefix) :]
        try:
            photo = _get(session, in_bucket, key)
            try:
                mask_png = _get(session, out_bucket, f"{out_prefix}{name}.out")
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
    "ALGORITHMS",
    "BACKBONES",
    "CHANNELS",
    "CHANNEL_CONTENT_TYPES",
    "HOW_TO_CONFIGURE",
    "INFERENCE_INSTANCE_TYPES",
    "LABEL_MAP_CHANNEL",
    "LABEL_MAP_FILES",
    "MAX_CLASSES",
    "MIN_CLASSES",
    "OPTIMIZERS",
    "TRAINING_INSTANCE_TYPES",
    "AwsSession",
    "DatasetSummary",
    "Deployment",
    "Hyperparameters",
    "JobStatus",
    "PhotoResult",
    "TrainingConfig",
    "TrainingError",
    "channel_uris",
    "create_model",
    "create_training_job",
    "deploy",
    "describe_endpoint",
    "describe_training",
    "describe_transform",
    "endpoint_status",
    "explain_aws_error",
    "follow",
    "image_uri",
    "known_regions",
    "measure_transform_outputs",
    "orient_mask_like_photo",
    "raise_for_status",
    "run_batch_transform",
    "s3_uri",
    "scan_dataset",
    "split_s3_uri",
    "training_request",
    "training_status",
    "transform_outputs",
    "transform_status",
    "unique_name",
    "upload_dataset",
    "uploaded_channels",
    "wait_for_training",
    "wait_for_transform",
]
