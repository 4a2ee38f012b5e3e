"""describe_endpoint_status through the SageMaker control plane, served by moto."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from objlen.errors import SegmentationError
from objlen.segment.sagemaker import SageMakerSettings, describe_endpoint_status
from tests.aws_servers import REGION

pytestmark = pytest.mark.aws


@pytest.fixture
def moto_url(aws_env: None) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _create_endpoint(url: str, name: str) -> None:
    client = boto3.client("sagemaker", region_name=REGION, endpoint_url=url)
    client.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/objlen-test",
        PrimaryContainer={"Image": "semantic-segmentation:1"},
    )
    client.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    client.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def _settings(url: str, name: str) -> SageMakerSettings:
    return SageMakerSettings(
        endpoint_name=name, region=REGION, control_endpoint_url=url, max_attempts=1
    )


def test_status_of_an_existing_endpoint(moto_url: str) -> None:
    _create_endpoint(moto_url, "objlen-seg")

    assert describe_endpoint_status(_settings(moto_url, "objlen-seg")) == "InService"


def test_status_of_a_missing_endpoint_is_a_clear_error(moto_url: str) -> None:
    _create_endpoint(moto_url, "objlen-seg")

    with pytest.raises(SegmentationError, match="'objlen-other' not found in region"):
        describe_endpoint_status(_settings(moto_url, "objlen-other"))


def test_status_without_credentials_is_a_clear_error(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(SegmentationError, match="no AWS credentials found"):
        describe_endpoint_status(_settings(moto_url, "objlen-seg"))
