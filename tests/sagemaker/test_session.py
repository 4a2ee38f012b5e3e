"""The shared AWS session and the one translation of AWS failures.

The translation is a function from a botocore failure to a sentence; the
errors here are built as botocore builds them. The paths that raise them
through real HTTP are tested in tests/segment/test_sagemaker.py (the endpoint
client), tests/sagemaker/test_train.py (the SageMaker steps) and
tests/batch/test_s3_inputs.py (the batch's S3 inputs).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, ReadTimeoutError

from objlen.errors import AwsError, ParameterError, SegmentationError
from objlen.sagemaker.session import (
    HOW_TO_CONFIGURE,
    AwsSession,
    calling_aws,
    check_endpoint_url,
    explain_aws_error,
)
from objlen.segment.sagemaker import SageMakerSettings, explain_failure
from tests.aws_servers import REGION


def _client_error(code: str, message: str, status: int = 400, retries: int = 0) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": retries},
        },
        "SomeOperation",
    )


def test_the_same_failure_reads_the_same_for_the_endpoint_and_for_the_sagemaker_steps() -> None:
    session = AwsSession(region=REGION)
    settings = SageMakerSettings(endpoint_name="e", region=REGION)
    for error in (
        NoCredentialsError(),
        _client_error("ThrottlingException", "slow down", 400, retries=2),
        _client_error("AccessDeniedException", "no", 403),
    ):
        step = explain_aws_error(error, "calling endpoint 'e'", session)
        endpoint = explain_failure(error, settings)
        assert type(step) is AwsError and type(endpoint) is SegmentationError
        assert str(step) == str(endpoint)
    assert str(explain_failure(NoCredentialsError(), settings)) == HOW_TO_CONFIGURE


def test_attempts_are_counted_with_the_first_call() -> None:
    session = AwsSession(region=REGION)
    once = explain_aws_error(_client_error("ServiceUnavailable", "", 503), "x", session)
    thrice = explain_aws_error(_client_error("InternalFailure", "", 500, retries=2), "x", session)
    assert "(1 attempt)" in str(once)
    assert "(3 attempts)" in str(thrice)


def test_not_found_names_the_subject_only_when_there_is_one() -> None:
    session = AwsSession(region=REGION)
    missing = _client_error("ValidationException", "Could not find model 'm'")

    about_endpoint = explain_aws_error(
        missing, "calling endpoint 'e'", session, subject="endpoint 'e'"
    )
    creating = explain_aws_error(missing, "creating transform job 't'", session)

    assert str(about_endpoint).startswith(f"endpoint 'e' not found in region {REGION}")
    # The missing thing is not the job being created: AWS's own words are kept.
    assert str(creating) == "AWS refused creating transform job 't': Could not find model 'm'"


def test_a_read_timeout_says_how_long_was_waited() -> None:
    session = AwsSession(region=REGION, endpoint_url="http://127.0.0.1:9", read_timeout_s=2.5)
    error = ReadTimeoutError(endpoint_url="http://127.0.0.1:9")
    message = str(explain_aws_error(error, "reading s3://b/k", session))
    assert message.startswith("timeout: http://127.0.0.1:9 did not answer within 2.5 s")
    assert "while reading s3://b/k" in message


def test_calling_aws_raises_the_asked_error_type_with_the_cause() -> None:
    session = AwsSession(region=REGION)
    error = _client_error("ResourceInUse", "taken")
    with (
        pytest.raises(AwsError, match="the name is taken") as caught,
        calling_aws("creating endpoint 'e'", session),
    ):
        raise error
    assert caught.value.__cause__ is error
    with (
        pytest.raises(SegmentationError),
        calling_aws("calling endpoint 'e'", session, error_type=SegmentationError),
    ):
        raise error


def test_clients_carry_the_sessions_retry_and_timeout_settings(aws_env: None) -> None:
    session = AwsSession(region=REGION, max_attempts=2, retry_mode="adaptive", read_timeout_s=7.0)
    client = session.client("s3")
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 2}
    assert client.meta.config.read_timeout == 7.0
    assert session.client("s3") is client


def test_a_client_without_region_only_where_none_is_needed(aws_env: None) -> None:
    session = AwsSession()
    with pytest.raises(ParameterError, match="the AWS region is not set"):
        session.client("sagemaker")
    assert session.client("s3", needs_region=False).meta.service_model.service_name == "s3"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("notaurl", "must start with http"),
        ("http://[::1", "not a valid URL"),
        ("http://host:99999/", "not a valid URL"),
        ("ftp://host/", "must start with http"),
        ("http://", "must start with http"),
        ("http://host /x", "white space"),
        ("http://user:hunter2@[::1", "not a valid URL"),
    ],
)
def test_a_malformed_endpoint_url_is_a_parameter_error(url: str, words: str) -> None:
    with pytest.raises(ParameterError, match=words) as refused:
        check_endpoint_url(url, "--endpoint-url")
    assert "hunter2" not in str(refused.value)
    with pytest.raises(ParameterError, match=words):
        AwsSession(region=REGION, endpoint_url=url)
    with pytest.raises(ParameterError, match=words):
        SageMakerSettings(endpoint_name="e", region=REGION, endpoint_url=url)


def test_good_endpoint_urls_pass() -> None:
    assert check_endpoint_url(" http://127.0.0.1:8080 ") == "http://127.0.0.1:8080"
    assert check_endpoint_url("https://[::1]:9000/path") == "https://[::1]:9000/path"
    assert check_endpoint_url("") is None and check_endpoint_url(None) is None
