"""objlen.sagemaker.train without AWS: image URIs, config checks, hyperparameters, requests."""

from __future__ import annotations

import re

import pytest

from objlen.errors import ParameterError
from objlen.sagemaker.train import (
    TRAINING_INSTANCE_TYPES,
    Hyperparameters,
    TrainingConfig,
    image_uri,
    known_regions,
    training_request,
)
from tests.sagemaker.test_channels import make_dataset

ROLE = "arn:aws:iam::123456789012:role/objlen-sagemaker"


def config(**changes) -> TrainingConfig:
    values = {
        "role_arn": ROLE,
        "bucket": "objlen-training",
        "prefix": "datasets/bolts",
        "num_training_samples": 10,
    }
    values.update(changes)
    return TrainingConfig(**values)


# ----------------------------------------------------------------- image URIs


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (
            "ap-northeast-1",
            "501404015308.dkr.ecr.ap-northeast-1.amazonaws.com/semantic-segmentation:1",
        ),
        (
            "ap-northeast-3",
            "867004704886.dkr.ecr.ap-northeast-3.amazonaws.com/semantic-segmentation:1",
        ),
        ("us-east-1", "811284229777.dkr.ecr.us-east-1.amazonaws.com/semantic-segmentation:1"),
        ("eu-west-1", "685385470294.dkr.ecr.eu-west-1.amazonaws.com/semantic-segmentation:1"),
        ("cn-north-1", "390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/semantic-segmentation:1"),
        ("us-iso-east-1", "490574956308.dkr.ecr.us-iso-east-1.c2s.ic.gov/semantic-segmentation:1"),
    ],
)
def test_image_uri_of_known_regions(region, expected):
    assert image_uri(region) == expected


def test_every_region_of_the_table_gives_a_well_formed_uri():
    regions = known_regions()
    assert len(regions) >= 25 and "ap-northeast-1" in regions
    for region in regions:
        assert re.fullmatch(
            rf"\d{{12}}\.dkr\.ecr\.{region}\.[a-z0-9.]+/semantic-segmentation:1", image_uri(region)
        )


@pytest.mark.parametrize("region", ["mars-north-1", "", "AP-NORTHEAST-1"])
def test_unknown_region_says_which_are_known_and_how_to_add_one(region):
    with pytest.raises(ParameterError) as caught:
        image_uri(region)
    message = str(caught.value)
    assert "no semantic segmentation image is known" in message
    assert "ap-northeast-1" in message and "us-east-1" in message
    assert "semantic_segmentation_image_uris.json" in message


# ----------------------------------------------------------------- config


def test_defaults_are_valid_and_train_on_a_gpu():
    checked = config().validated()
    assert checked.instance_type == "ml.p3.2xlarge" and checked.instance_count == 1
    assert checked.num_classes == 3
    assert checked.output_s3_uri == "s3://objlen-training/datasets/bolts/output"


@pytest.mark.parametrize("num_classes", [2, 3, 254])
def test_num_classes_within_range(num_classes):
    assert config(num_classes=num_classes).validated().num_classes == num_classes


@pytest.mark.parametrize("num_classes", [0, 1, 255, 300])
def test_num_classes_out_of_range_is_refused(num_classes):
    with pytest.raises(ParameterError, match=r"num_classes must be within 2\.\.254"):
        config(num_classes=num_classes).validated()


@pytest.mark.parametrize("instance_type", ["ml.m5.xlarge", "ml.c5.2xlarge", "ml.g4dn.xlarge"])
def test_training_on_a_cpu_or_unlisted_instance_is_refused_with_a_message(instance_type):
    with pytest.raises(ParameterError) as caught:
        config(instance_type=instance_type).validated()
    message = str(caught.value)
    assert "trains only on GPU instances" in message and instance_type in message
    assert "ml.p3.2xlarge" in message


@pytest.mark.parametrize("instance_type", TRAINING_INSTANCE_TYPES)
def test_documented_gpu_instances_are_accepted(instance_type):
    assert config(instance_type=instance_type).validated()


def test_more_than_one_training_instance_is_refused():
    with pytest.raises(ParameterError, match="single machine"):
        config(instance_count=2).validated()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"role_arn": "objlen-role"}, "not an IAM role ARN"),
        ({"bucket": "s3://objlen-training"}, "not an S3 bucket name"),
        ({"num_training_samples": 0}, "at least 1 training photo"),
        ({"num_training_samples": 2}, "mini_batch_size 4 is larger than the 2 training photos"),
        ({"hyperparameters": Hyperparameters(backbone="resnet-18")}, "backbone 'resnet-18'"),
        ({"hyperparameters": Hyperparameters(algorithm="unet")}, "algorithm 'unet'"),
        ({"hyperparameters": Hyperparameters(learning_rate=0.0)}, "learning_rate"),
        ({"hyperparameters": Hyperparameters(crop_size=16)}, "crop_size"),
        ({"job_name": "my_job"}, "not a valid SageMaker name"),
        ({"max_runtime_s": 0}, "must be positive"),
    ],
)
def test_bad_values_are_refused_with_a_message(changes, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        config(**changes).validated()


def test_config_for_dataset_takes_its_counts(tmp_path):
    made = TrainingConfig.for_dataset(
        make_dataset(tmp_path), role_arn=ROLE, bucket="objlen-training", prefix="p"
    )
    assert (made.num_training_samples, made.num_classes) == (4, 3)


def test_hyperparameters_are_strings_with_the_required_ones():
    strings = Hyperparameters(algorithm="psp", epochs=12).as_strings(3, 40)
    assert strings["num_classes"] == "3" and strings["num_training_samples"] == "40"
    assert strings["algorithm"] == "psp" and strings["epochs"] == "12"
    assert strings["backbone"] == "resnet-50"
    assert strings["use_pretrained_model"] == "True" and strings["early_stopping"] == "True"
    assert strings["learning_rate"] == "0.001"
    assert all(isinstance(v, str) for v in strings.values())


def test_extra_hyperparameters_pass_but_cannot_override_fields():
    strings = Hyperparameters(extra={"lr_scheduler": "cosine"}).as_strings(3, 4)
    assert strings["lr_scheduler"] == "cosine"
    with pytest.raises(ParameterError, match="epochs by its own field"):
        Hyperparameters(extra={"epochs": "3"}).as_strings(3, 4)


def test_training_request_has_the_image_channels_and_content_types():
    channels = {
        name: f"s3://objlen-training/datasets/bolts/{name}/"
        for name in ("train", "validation", "train_annotation", "validation_annotation")
    }
    request = training_request(config().validated(), channels, "ap-northeast-1", "job-1")
    algorithm = request["AlgorithmSpecification"]
    assert algorithm["TrainingImage"] == image_uri("ap-northeast-1")
    assert algorithm["TrainingInputMode"] == "File"
    by_name = {c["ChannelName"]: c for c in request["InputDataConfig"]}
    assert by_name["train"]["ContentType"] == "image/jpeg"
    assert by_name["train_annotation"]["ContentType"] == "image/png"
    source = by_name["validation"]["DataSource"]["S3DataSource"]
    assert source == {
        "S3DataType": "S3Prefix",
        "S3Uri": "s3://objlen-training/datasets/bolts/validation/",
        "S3DataDistributionType": "FullyReplicated",
    }
    assert request["ResourceConfig"]["InstanceType"] == "ml.p3.2xlarge"
