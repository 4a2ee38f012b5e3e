"""SageMaker jobs and endpoints in general: their names, and where they stand.

:func:`unique_name` and :func:`check_name` make and check the names SageMaker
accepts; :func:`check_inference_instance` checks the instance type of an
endpoint or a Batch Transform. :class:`JobStatus` says where a training job,
a transform job or an endpoint stands (made from SageMaker's Describe*
answers by :func:`training_status`, :func:`transform_status` and
:func:`endpoint_status`, all pure); :func:`follow` polls one until it ends and
:func:`raise_for_status` turns an end other than success into a
:class:`~objlen.errors.AwsError`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from objlen.errors import AwsError, ParameterError

#: A few inference instances (CPU or GPU); any ``ml.*`` type is accepted.
INFERENCE_INSTANCE_TYPES = ("ml.m5.xlarge", "ml.m5.large", "ml.c5.xlarge", "ml.c5.2xlarge")

_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_INSTANCE = re.compile(r"^ml\.[a-z0-9\-]+\.[a-z0-9]+$")


# --------------------------------------------------------------------------- names


def unique_name(base: str) -> str:
    """``base-YYYYmmdd-HHMMSS-xxxx`` (UTC), at most 63 characters, a valid SageMaker name."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    head = re.sub(r"[^a-zA-Z0-9-]", "-", base).strip("-")[:40].rstrip("-") or "objlen"
    return f"{head}-{stamp}-{secrets.token_hex(2)}"


def check_name(name: str, what: str) -> None:
    """Nothing if ``name`` is a valid SageMaker name (job, model, endpoint).

    Raises:
        ParameterError: naming ``what`` and saying what a name looks like.
    """
    if not _NAME.match(name or ""):
        raise ParameterError(
            f"{what} {name!r} is not a valid SageMaker name: 1-63 letters, digits and "
            "hyphens, starting and ending with a letter or digit"
        )


def check_inference_instance(instance_type: str) -> None:
    """Nothing if ``instance_type`` looks like a SageMaker instance type (``ml.*``).

    Raises:
        ParameterError: with an example of one.
    """
    if not _INSTANCE.match(instance_type or ""):
        raise ParameterError(
            f"{instance_type!r} is not a SageMaker instance type; e.g. ml.m5.xlarge"
        )


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
    """Return ``status`` if it succeeded; raise :class:`AwsError` if it ended otherwise."""
    if status.done and not status.succeeded:
        reason = status.failure_reason or status.detail or "SageMaker gave no reason"
        hint = {
            "training job": "its log is in CloudWatch, group /aws/sagemaker/TrainingJobs",
            "transform job": "its log is in CloudWatch, group /aws/sagemaker/TransformJobs; "
            "the photos that succeeded have their .out masks",
            "endpoint": "its log is in CloudWatch, group /aws/sagemaker/Endpoints",
        }[status.kind]
        raise AwsError(
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
        AwsError: not final after ``timeout_s`` (the job goes on running).
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
            raise AwsError(
                f"{status.kind} '{status.name}' is still {status.status} after waiting "
                f"{timeout_s:g} s; it goes on running in SageMaker: follow it with {follow_up}"
            )
        sleep(poll_s)


__all__ = [
    "INFERENCE_INSTANCE_TYPES",
    "JobStatus",
    "check_inference_instance",
    "check_name",
    "endpoint_status",
    "follow",
    "raise_for_status",
    "training_status",
    "transform_status",
    "unique_name",
]
