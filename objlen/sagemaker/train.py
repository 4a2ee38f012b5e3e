"""Training SageMaker's built-in semantic segmentation algorithm: the job and its settings.

:func:`create_training_job` starts a training job of the algorithm's image
(:func:`image_uri`) on a GPU instance, on channels that
:func:`objlen.sagemaker.channels.upload_dataset` put in S3; :class:`TrainingConfig`
and :class:`Hyperparameters` say how, and check it before any call.
:func:`wait_for_training` follows the job and gives the ``FailureReason`` of
a failed one.

AWS facts relied on (see the SageMaker Developer Guide, "Semantic
Segmentation Algorithm" and "Semantic Segmentation Hyperparameters", and the
API reference of CreateTrainingJob): ``num_classes`` (2..254) and
``num_training_samples`` are required; training runs on one GPU machine
(ml.p2/ml.p3); the same image trains and serves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from objlen.classes import ClassIds
from objlen.errors import ParameterError
from objlen.sagemaker.channels import (
    CHANNEL_CONTENT_TYPES,
    CHANNELS,
    LABEL_MAP_CHANNEL,
    scan_dataset,
)
from objlen.sagemaker.jobs import (
    JobStatus,
    check_name,
    follow,
    raise_for_status,
    training_status,
    unique_name,
)
from objlen.sagemaker.s3 import check_bucket, s3_uri, split_s3_folder
from objlen.sagemaker.session import AwsSession, calling_aws, describe

#: Instances the algorithm trains on (GPU only, one machine).
TRAINING_INSTANCE_TYPES = (
    "ml.p3.2xlarge",
    "ml.p3.8xlarge",
    "ml.p3.16xlarge",
    "ml.p2.xlarge",
    "ml.p2.8xlarge",
    "ml.p2.16xlarge",
)
BACKBONES = ("resnet-50", "resnet-101")
ALGORITHMS = ("fcn", "psp", "deeplab")
OPTIMIZERS = ("sgd", "adam", "adagrad", "nag", "rmsprop")
MIN_CLASSES, MAX_CLASSES = 2, 254

_IMAGE_TABLE = "semantic_segmentation_image_uris.json"
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")


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


# --------------------------------------------------------------------------- settings


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
        check_bucket(self.bucket)
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
            check_name(self.job_name, "the training job name")
        return self


# --------------------------------------------------------------------------- job


def _require_channels(channels: Mapping[str, str], session: AwsSession) -> dict[str, str]:
    missing = [c for c in CHANNELS if c not in channels]
    if missing:
        raise ParameterError(f"the training needs the channels {', '.join(missing)}")
    checked: dict[str, str] = {}
    for name, uri in channels.items():
        if name not in CHANNELS and name != LABEL_MAP_CHANNEL:
            raise ParameterError(f"unknown channel {name!r}; the algorithm reads {CHANNELS}")
        bucket, prefix = split_s3_folder(uri, f"the {name} channel")
        with calling_aws(f"checking the {name} channel at {uri}", session):
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
    ``label_map``) to S3 prefixes, as
    :func:`~objlen.sagemaker.channels.upload_dataset` returns them;
    each must hold at least one object.

    Raises:
        ParameterError: a bad config, a missing or empty channel, an unknown region.
        AwsError: SageMaker refused the job (quota, role, credentials...).
    """
    config = config.validated()
    image_uri(session.region)
    job_name = config.job_name or unique_name("objlen-ss")
    request = training_request(
        config, _require_channels(channels, session), session.region, job_name
    )
    with calling_aws(f"creating training job '{job_name}'", session):
        session.client("sagemaker").create_training_job(**request)
    return job_name


def describe_training(name: str, session: AwsSession) -> JobStatus:
    """The training job's current :class:`~objlen.sagemaker.jobs.JobStatus`.

    Raises:
        AwsError: no such job in the region, or AWS refused.
    """
    return training_status(training_job_description(name, session))


def training_job_description(name: str, session: AwsSession) -> dict[str, Any]:
    """SageMaker's DescribeTrainingJob answer for the job (its artifacts, role, status...).

    Raises:
        ParameterError: not a valid job name.
        AwsError: no such job in the region, or AWS refused.
    """
    check_name(name, "the training job name")
    return describe(
        f"reading training job '{name}'",
        session,
        lambda: session.client("sagemaker").describe_training_job(TrainingJobName=name),
        f"training job '{name}' not found in region {session.region}; check its name and region",
    )


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
        AwsError: it failed (with SageMaker's FailureReason) or was
            stopped, it is not found, or still running after ``timeout_s``.
    """
    status = follow(
        lambda: describe_training(name, session),
        poll_s=poll_s,
        timeout_s=timeout_s,
        progress_callback=progress_callback,
    )
    return raise_for_status(status)


__all__ = [
    "ALGORITHMS",
    "BACKBONES",
    "MAX_CLASSES",
    "MIN_CLASSES",
    "OPTIMIZERS",
    "TRAINING_INSTANCE_TYPES",
    "Hyperparameters",
    "TrainingConfig",
    "create_training_job",
    "describe_training",
    "image_uri",
    "known_regions",
    "training_job_description",
    "training_request",
    "wait_for_training",
]
