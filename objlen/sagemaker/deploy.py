"""Serving a trained model: SageMaker model, endpoint config and endpoint.

:func:`create_model` makes a model of a completed training job's artifacts
(the algorithm's image, the job's ``model.tar.gz`` and role);
:func:`deploy` puts it on a new endpoint on a CPU (or GPU) instance and,
if asked, follows it until it is InService. The endpoint answers
``image/jpeg`` requests with ``image/png`` masks of class indices, which
:mod:`objlen.segment.sagemaker` reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from objlen.errors import AwsError, ParameterError
from objlen.sagemaker.jobs import (
    JobStatus,
    check_inference_instance,
    check_name,
    endpoint_status,
    follow,
    raise_for_status,
    training_status,
    unique_name,
)
from objlen.sagemaker.session import AwsSession, calling_aws, is_not_found
from objlen.sagemaker.train import image_uri, training_job_description


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

    The model runs the algorithm's image (:func:`~objlen.sagemaker.train.image_uri`)
    with the job's ``model.tar.gz`` and role. Its name defaults to the job's.
    A model of that name made from the same artifacts is reused.

    Raises:
        AwsError: the job is not Completed, or the name is taken by
            another model, or AWS refused.
    """
    model_name = model_name or training_job_name
    check_name(model_name, "the model name")
    job = training_job_description(training_job_name, session)
    status = training_status(job)
    artifacts = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if status.status != "Completed" or not artifacts:
        raise AwsError(
            f"training job '{training_job_name}' is {status.status}, not Completed: it has no "
            "model to deploy yet" + (f" ({status.failure_reason})" if status.failure_reason else "")
        )
    container = {"Image": image_uri(session.region), "ModelDataUrl": artifacts}
    client = session.client("sagemaker")
    with calling_aws(f"reading model '{model_name}'", session):
        try:
            existing = client.describe_model(ModelName=model_name)
        except ClientError as exc:
            if not is_not_found(exc):
                raise
            existing = None
    if existing is not None:
        if (existing.get("PrimaryContainer") or {}).get("ModelDataUrl") == artifacts:
            return model_name
        raise AwsError(
            f"a model named '{model_name}' exists already with other artifacts; choose "
            "another model name"
        )
    with calling_aws(f"creating model '{model_name}'", session):
        client.create_model(
            ModelName=model_name, PrimaryContainer=container, ExecutionRoleArn=job["RoleArn"]
        )
    return model_name


def describe_endpoint(name: str, session: AwsSession) -> JobStatus | None:
    """The endpoint's :class:`~objlen.sagemaker.jobs.JobStatus`, or ``None`` if there is none.

    Raises:
        AwsError: AWS refused.
    """
    check_name(name, "the endpoint name")
    with calling_aws(f"reading endpoint '{name}'", session):
        try:
            answer = session.client("sagemaker").describe_endpoint(EndpointName=name)
        except ClientError as exc:
            if is_not_found(exc):
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
        AwsError: the job is not Completed, the endpoint exists already
            (switch it with ``aws sagemaker update-endpoint``), creation failed,
            or it is not InService within ``timeout_s``.
    """
    check_name(endpoint_name, "the endpoint name")
    check_inference_instance(instance_type)
    if instance_count < 1:
        raise ParameterError("instance_count must be at least 1")
    if describe_endpoint(endpoint_name, session) is not None:
        raise AwsError(
            f"endpoint '{endpoint_name}' exists already in region {session.region}: deploy "
            "under another name, or switch it to the new model with `aws sagemaker "
            "update-endpoint`"
        )
    model_name = create_model(training_job_name, session)
    config_name = unique_name(endpoint_name)
    client = session.client("sagemaker")
    with calling_aws(f"creating endpoint config '{config_name}'", session):
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
    with calling_aws(f"creating endpoint '{endpoint_name}'", session):
        client.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)

    def describe() -> JobStatus:
        status = describe_endpoint(endpoint_name, session)
        if status is None:
            raise AwsError(f"endpoint '{endpoint_name}' disappeared while starting")
        return status

    status = describe()
    if wait:
        status = raise_for_status(
            follow(
                describe, poll_s=poll_s, timeout_s=timeout_s, progress_callback=progress_callback
            )
        )
    return Deployment(model_name, config_name, endpoint_name, status)


__all__ = ["Deployment", "create_model", "deploy", "describe_endpoint"]
