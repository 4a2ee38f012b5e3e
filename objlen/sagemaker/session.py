"""Calling AWS: one session for every boto3 client, and failures told to the operator.

:class:`AwsSession` builds boto3 clients with a profile, botocore's retries
and timeouts, and can point every service at one URL (a local moto server or
endpoint server in the tests). The SageMaker steps, the endpoint client
(:mod:`objlen.segment.sagemaker`) and the batch's S3 inputs
(:mod:`objlen.batch.inputs`) all get their clients here; this is the only
module that imports boto3.

:func:`explain_aws_error` is objlen's one translation of a boto3 or botocore
failure into an :class:`~objlen.errors.ObjlenError` whose message says what
to do (an :class:`~objlen.errors.AwsError` by default);
:func:`calling_aws` does that around a block of calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from objlen.errors import AwsError, ObjlenError, ParameterError
from objlen.redact import redact_url

T = TypeVar("T")


def check_endpoint_url(url: str | None, what: str = "the endpoint URL") -> str | None:
    """``url`` stripped (``None`` when empty), if botocore can use it as an endpoint.

    An endpoint URL is ``http://`` or ``https://`` with a host and, if given,
    a port in 1..65535, and no white space. The message shows the URL with
    its user-info and query hidden (:func:`objlen.redact.redact_url`).

    Raises:
        ParameterError: anything else (``notaurl``, ``http://[::1``, ``ftp://x``).
    """
    text = (url or "").strip()
    if not text:
        return None
    shown = redact_url(text)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    example = "give one like http://127.0.0.1:8080"
    if any(character.isspace() or ord(character) < 32 for character in text):
        raise ParameterError(f"{what} {shown!r} holds white space; {example}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ParameterError(f"{what} {shown!r} is not a valid URL; {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParameterError(
            f"{what} {shown!r} must start with http:// or https:// and name a host; {example}"
        )
    if port == 0:
        raise ParameterError(f"{what} {shown!r} has port 0; {example}")
    return text


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
        retry_mode: botocore retry mode, ``"standard"`` or ``"adaptive"``.
        connect_timeout_s: seconds to wait for a TCP connection.
        read_timeout_s: seconds to wait for an answer (socket read timeout).
        max_pool_connections: connections each client keeps open at most
            (botocore's default 10; more for a client shared by more threads).

    Clients are made once per service, also when threads ask at the same
    time, and may be shared by threads (boto3's low-level clients are
    thread-safe).

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
        max_pool_connections: int = 10,
    ) -> None:
        if max_attempts < 1:
            raise ParameterError("max_attempts counts the first call too; it must be at least 1")
        if retry_mode not in ("standard", "adaptive"):
            raise ParameterError("retry_mode must be 'standard' or 'adaptive'")
        if not connect_timeout_s > 0 or not read_timeout_s > 0:
            raise ParameterError("AWS timeouts must be positive numbers of seconds")
        self.profile = (profile or "").strip() or None
        self.endpoint_url = check_endpoint_url(endpoint_url)
        self._region = (region or "").strip() or None
        self.read_timeout_s = read_timeout_s
        self._config = Config(
            retries={"mode": retry_mode, "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            max_pool_connections=max_pool_connections,
            user_agent_extra="objlen",
            s3={"addressing_style": "path"} if self.endpoint_url else None,
        )
        self._boto: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()  # a boto3 session is not thread-safe

    @property
    def where(self) -> str:
        """Where the calls go, for messages: the endpoint URL without its
        user-info and query (:func:`objlen.redact.redact_url`), or the region."""
        if self.endpoint_url:
            return redact_url(self.endpoint_url)
        return f"AWS in {self._region or 'the default region'}"

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

    def client(self, service: str, *, needs_region: bool = True) -> Any:
        """A boto3 client of ``service`` (``"s3"``, ``"sagemaker"``...), made once and reused.

        It has this session's profile, endpoint URL, retries and timeouts.

        Args:
            service: the boto3 service name.
            needs_region: with ``False`` (S3: botocore finds a bucket's own
                region) a session without a region gets boto3's default
                instead of an error.

        Raises:
            ParameterError: the profile does not exist, or no region is set
                and ``needs_region``.
        """
        with self._lock:
            region = self._region or self.boto_session().region_name
            if not region and needs_region:
                region = self.region  # raises, saying how to set one
            if service not in self._clients:
                self._clients[service] = self.boto_session().client(
                    service,
                    region_name=region or None,
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

#: Added when an endpoint URL is set: a local endpoint (``objlen serve``, moto)
#: checks no signature, but boto3 still wants some keys before it sends a request.
LOCAL_ENDPOINT_KEYS = (
    "a local endpoint (objlen serve) accepts any keys: e.g. AWS_ACCESS_KEY_ID=local "
    "AWS_SECRET_ACCESS_KEY=local"
)

#: Error codes AWS answers when it throttles calls.
THROTTLING_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
#: Error codes AWS answers when it refuses the credentials (unknown, expired, bad signature).
CREDENTIAL_ERROR_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "MissingAuthenticationToken",
        "IncompleteSignature",
    }
)


def _attempts(error: ClientError) -> str:
    """``"3 attempts"``: how many calls botocore made, its retries included."""
    count = int(error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0) + 1
    return f"{count} attempt{'s' if count != 1 else ''}"


def _region_for_messages(session: AwsSession) -> str:
    try:
        return session.region
    except ObjlenError:
        return "the default region"


def explain_aws_error(
    error: Exception,
    what: str,
    session: AwsSession,
    *,
    subject: str | None = None,
    error_type: type[ObjlenError] = AwsError,
) -> ObjlenError:
    """Turn a boto3/botocore failure while doing ``what`` into an error for the operator.

    This is objlen's one translation of AWS failures: the SageMaker steps, the
    endpoint client (:mod:`objlen.segment.sagemaker`) and the batch's S3
    inputs all use it. The message says what went wrong and what to do; it
    never holds credentials.

    Args:
        error: what boto3 or botocore raised.
        what: the action, as it reads after "while": ``"creating training job
            'x'"``, ``"calling endpoint 'e'"``.
        session: where the call went (its URL or region, profile and read
            timeout appear in the messages).
        subject: the resource the call is about, e.g. ``"endpoint 'e'"``: an
            answer that it does not exist is then told as "``subject`` not
            found in region ...". ``None``: the call names no single resource.
        error_type: the class of the error returned (:class:`AwsError` for the
            SageMaker steps, :class:`SegmentationError` for the endpoint client).

    Returns:
        An ``error_type`` instance (not raised: ``raise ... from error``).
    """
    thing = subject or what
    where = session.where
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        if getattr(session, "endpoint_url", None):
            return error_type(f"{HOW_TO_CONFIGURE}; {LOCAL_ENDPOINT_KEYS}")
        return error_type(HOW_TO_CONFIGURE)
    if isinstance(error, ProfileNotFound):
        return error_type(
            f"AWS profile '{session.profile}' not found in ~/.aws/config or "
            "~/.aws/credentials; check its name"
        )
    if isinstance(error, ReadTimeoutError):
        return error_type(
            f"timeout: {where} did not answer within {session.read_timeout_s:g} s while "
            f"{what}; it may be overloaded, or a model still loading. Try again, or raise "
            "the timeout"
        )
    if isinstance(error, ConnectTimeoutError | EndpointConnectionError):
        return error_type(
            f"could not connect to {where} while {what}: check the network, the region and "
            "the endpoint URL"
        )
    if isinstance(error, ConnectionClosedError):
        return error_type(
            f"the connection to {where} closed before an answer while {what}; try again"
        )
    if not isinstance(error, ClientError):
        return error_type(redact_url(f"{what} failed: {error}"))
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "")).strip() or "no message"
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code == "NoSuchBucket":
        return error_type(
            f"the S3 bucket does not exist ({message}) while {what}: check its name, or "
            "create it (for training data, in the training region)"
        )
    if code == "ModelError":
        original = str(error.response.get("OriginalMessage") or message).strip()
        original_status = error.response.get("OriginalStatusCode")
        text = f"the model of {thing} failed"
        if original_status is not None:
            text += f" (status {original_status})"
        text += f": {original}"
        log = error.response.get("LogStreamArn")
        if log:
            text += f". Its log: {log}"
        return error_type(text)
    if code == "ModelNotReadyException":
        return error_type(
            f"the model of {thing} is not ready yet (still loading); wait a minute and try "
            f"again ({message})"
        )
    if code in ("ValidationException", "ValidationError"):
        lowered = message.lower()
        if subject and ("not found" in lowered or "could not find" in lowered):
            return error_type(
                f"{subject} not found in region {_region_for_messages(session)}: check its "
                f"name and region, and that it was not deleted ({message})"
            )
        if "oversize" in lowered or "too large" in lowered or "exceed" in lowered:
            return error_type(
                f"{thing} refused the photo as too large ({message}); lower the payload "
                "limit in the SageMaker settings"
            )
        return error_type(f"AWS refused {what}: {message}")
    if code in CREDENTIAL_ERROR_CODES or code.startswith("AccessDenied") or status == 403:
        return error_type(
            f"AWS refused the credentials while {what} ({code or status}: {message}); check "
            "that they are valid, not expired, and allowed to do this"
        )
    if code in THROTTLING_ERROR_CODES or status == 429:
        return error_type(
            f"AWS is throttling calls while {what} (still after {_attempts(error)}): wait a "
            "little and try again"
        )
    if code in ("InternalFailure", "InternalDependencyException") or status == 500:
        return error_type(
            f"{where} failed internally while {what} ({_attempts(error)}): try again later "
            f"({code or status}: {message})"
        )
    if code == "ServiceUnavailable" or status in (502, 503, 504):
        return error_type(
            f"{where} is unavailable while {what} ({_attempts(error)}): try again later "
            f"({code or status})"
        )
    if code == "ResourceLimitExceeded":
        return error_type(
            f"an AWS account limit stops {what}: {message}. Ask for a higher quota (Service "
            "Quotas) or choose another instance type"
        )
    if code == "ResourceInUse":
        return error_type(f"{what}: the name is taken ({message}); choose another name")
    return error_type(f"{thing} failed ({code or status}): {message}")


@contextmanager
def calling_aws(
    what: str,
    session: AwsSession,
    *,
    subject: str | None = None,
    error_type: type[ObjlenError] = AwsError,
) -> Iterator[None]:
    """Run the block; a boto3/botocore failure in it becomes :func:`explain_aws_error`'s.

    Raises:
        AwsError: (or ``error_type``) the block failed while doing ``what``;
            the original error is its ``__cause__``.
    """
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise explain_aws_error(exc, what, session, subject=subject, error_type=error_type) from exc


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
        AwsError: ``not_found`` when AWS answers that the thing does not
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
        raise AwsError(not_found) from exc


__all__ = [
    "CREDENTIAL_ERROR_CODES",
    "HOW_TO_CONFIGURE",
    "LOCAL_ENDPOINT_KEYS",
    "THROTTLING_ERROR_CODES",
    "AwsSession",
    "calling_aws",
    "check_endpoint_url",
    "describe",
    "explain_aws_error",
    "is_not_found",
]
