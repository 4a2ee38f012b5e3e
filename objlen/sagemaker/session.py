"""Calling AWS for the SageMaker steps: one session, and failures told to the operator.

:class:`AwsSession` builds boto3 clients with botocore's retries (like
:mod:`objlen.segment.sagemaker`) and can point every service at one URL (a
local moto server in the tests). :func:`explain_aws_error` turns a boto3 or
botocore failure into a :class:`~objlen.errors.TrainingError` whose message
says what to do; :func:`calling_aws` does that around a block of calls.

With :mod:`objlen.segment.sagemaker`, this is the only module that imports
boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import boto3
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

from objlen.errors import ParameterError, TrainingError
from objlen.segment.sagemaker import CREDENTIAL_ERROR_CODES, THROTTLING_ERROR_CODES

T = TypeVar("T")


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
    if code in CREDENTIAL_ERROR_CODES or code.startswith("AccessDenied") or status == 403:
        return TrainingError(
            f"AWS refused the credentials while {what} ({code or status}: {message}); check "
            "that they are valid, not expired, and allowed to do this"
        )
    if code in THROTTLING_ERROR_CODES or status == 429:
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
def calling_aws(what: str, session: AwsSession) -> Iterator[None]:
    """Run the block; a boto3/botocore failure in it becomes :func:`explain_aws_error`'s.

    Raises:
        TrainingError: the block failed while doing ``what`` (the original
            error is its ``__cause__``).
    """
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise explain_aws_error(exc, what, session) from exc


def is_not_found(error: ClientError) -> bool:
    """Whether S3 or SageMaker answered that the object, job, model or endpoint does not exist."""
    details = error.response.get("Error", {})
    message = str(details.get("Message", "")).lower()
    code = str(details.get("Code", ""))
    return code in ("NoSuchKey", "404", "NotFound") or (
        code in ("ValidationException", "ValidationError")
        and ("could not find" in message or "not found" in message)
    )


def describe(what: str, session: AwsSession, call: Callable[[], T], not_found: str) -> T:
    """Run a SageMaker ``Describe*`` ``call`` (doing ``what``) and return its answer.

    Raises:
        TrainingError: ``not_found`` when AWS answers that the thing does not
            exist; :func:`explain_aws_error`'s message for any other failure.
    """
    try:
        with calling_aws(what, session):
            try:
                return call()
            except ClientError as exc:
                if is_not_found(exc):
                    raise LookupError(what) from exc
                raise
    except LookupError as exc:
        raise TrainingError(not_found) from exc


__all__ = [
    "HOW_TO_CONFIGURE",
    "AwsSession",
    "calling_aws",
    "describe",
    "explain_aws_error",
    "is_not_found",
]
