"""objlen.train without AWS: image URIs, config checks, dataset scans, job statuses."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from objlen.errors import ParameterError
from objlen.imageio import encode_jpeg, encode_png, load_image
from objlen.train import (
    TRAINING_INSTANCE_TYPES,
    Hyperparameters,
    JobStatus,
    TrainingConfig,
    TrainingError,
    follow,
    image_uri,
    known_regions,
    orient_mask_like_photo,
    raise_for_status,
    scan_dataset,
    training_request,
    training_status,
)

ROLE = "arn:aws:iam::123456789012:role/objlen-sagemaker"


def draw_pair(size: tuple[int, int], object_box: tuple[int, int, int, int]) -> tuple[bytes, bytes]:
    """A JPEG photo (red object, blue reference square top-left) and its PNG annotation."""
    width, height = size
    photo = np.full((height, width, 3), 128, np.uint8)
    mask = np.zeros((height, width), np.uint8)
    x0, y0, x1, y1 = object_box
    photo[y0:y1, x0:x1] = (220, 30, 30)
    mask[y0:y1, x0:x1] = 1
    photo[2:10, 2:14] = (30, 30, 220)
    mask[2:10, 2:14] = 2
    return encode_jpeg(photo), encode_png(mask)


def make_dataset(
    root: Path,
    train: tuple[str, ...] = ("bolt-1", "bolt-2", "nut-1", "nut-2"),
    validation: tuple[str, ...] = ("bolt-3",),
    label_map: dict | None = None,
) -> Path:
    """A tiny dataset in the algorithm's layout: 48x32 photos and annotations."""
    for channel, names in (("train", train), ("validation", validation)):
        (root / channel).mkdir(parents=True, exist_ok=True)
        (root / f"{channel}_annotation").mkdir(parents=True, exist_ok=True)
        for index, name in enumerate(names):
            photo, label = draw_pair((48, 32), (16 + index, 12, 40, 28))
            (root / channel / f"{name}.jpg").write_bytes(photo)
            (root / f"{channel}_annotation" / f"{name}.png").write_bytes(label)
    if label_map is not None:
        (root / "label_map").mkdir(exist_ok=True)
        (root / "label_map" / "train_label_map.json").write_text(json.dumps(label_map))
    return root


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


# ----------------------------------------------------------------- dataset


def test_scan_counts_training_photos_and_derives_num_classes(tmp_path):
    summary = scan_dataset(make_dataset(tmp_path))
    assert summary.num_training_samples == 4
    assert summary.files["validation"] == ("bolt-3.jpg",)
    assert summary.label_values == (0, 1, 2)
    assert summary.num_classes == 3


def test_num_classes_grows_with_annotation_values_but_not_with_ignore(tmp_path):
    root = make_dataset(tmp_path)
    label = np.zeros((32, 48), np.uint8)
    label[0:4, 0:4] = 255
    label[20:30, 20:30] = 5
    (root / "train_annotation" / "nut-1.png").write_bytes(encode_png(label))
    summary = scan_dataset(root)
    assert summary.label_values == (0, 1, 2, 5)
    assert summary.num_classes == 6


def test_a_label_map_decides_the_number_of_classes(tmp_path):
    root = make_dataset(tmp_path, label_map={"map": {"0": 0, "1": 1, "2": 2, "3": 9}})
    summary = scan_dataset(root)
    assert summary.num_classes == 4
    assert summary.files["label_map"] == ("train_label_map.json",)


def test_config_for_dataset_takes_its_counts(tmp_path):
    made = TrainingConfig.for_dataset(
        make_dataset(tmp_path), role_arn=ROLE, bucket="objlen-training", prefix="p"
    )
    assert (made.num_training_samples, made.num_classes) == (4, 3)


def test_unpaired_photo_is_named(tmp_path):
    root = make_dataset(tmp_path)
    (root / "train_annotation" / "nut-1.png").unlink()
    with pytest.raises(ParameterError, match=r"unpaired: train/nut-1\.jpg"):
        scan_dataset(root)


def test_wrong_file_type_is_named(tmp_path):
    root = make_dataset(tmp_path)
    (root / "train" / "bolt-9.jpeg").write_bytes(b"x")
    with pytest.raises(ParameterError, match=r"rename or remove train/bolt-9\.jpeg"):
        scan_dataset(root)


def test_missing_channel_folder_is_named(tmp_path):
    root = make_dataset(tmp_path)
    for path in (root / "validation_annotation").iterdir():
        path.unlink()
    (root / "validation_annotation").rmdir()
    with pytest.raises(ParameterError, match="validation_annotation/ is missing"):
        scan_dataset(root)


def test_bad_label_map_is_refused(tmp_path):
    root = make_dataset(tmp_path)
    (root / "label_map").mkdir()
    (root / "label_map" / "train_label_map.json").write_text("{not json")
    with pytest.raises(ParameterError, match="not a label map"):
        scan_dataset(root)


# ----------------------------------------------------------------- statuses


def test_failed_training_gives_its_failure_reason():
    status = training_status(
        {
            "TrainingJobName": "objlen-ss-1",
            "TrainingJobStatus": "Failed",
            "SecondaryStatus": "Failed",
            "FailureReason": "ClientError: Unable to download data from channel train_annotation",
        }
    )
    assert status.done and not status.succeeded
    with pytest.raises(TrainingError) as caught:
        raise_for_status(status)
    message = str(caught.value)
    assert "training job 'objlen-ss-1' failed" in message
    assert "Unable to download data from channel train_annotation" in message


def test_training_progress_follows_the_secondary_status():
    downloading = training_status(
        {
            "TrainingJobName": "j",
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Downloading",
        }
    )
    training = training_status(
        {
            "TrainingJobName": "j",
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Training",
            "SecondaryStatusTransitions": [{"Status": "Training", "StatusMessage": "epoch 3"}],
        }
    )
    assert 0 < downloading.progress < training.progress < 1
    assert not training.done and "Training - epoch 3" in training.line()


def test_follow_reports_every_status_and_gives_up_after_the_timeout():
    seen: list[JobStatus] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    def describe() -> JobStatus:
        return JobStatus("training job", "objlen-ss-2", "InProgress")

    with pytest.raises(TrainingError, match="still InProgress after waiting 100 s"):
        follow(
            describe,
            poll_s=30,
            timeout_s=100,
            progress_callback=seen.append,
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert len(seen) == 4  # at 0, 30, 60 and 90 s; the next would be after 100 s


def test_follow_returns_the_final_status():
    answers = iter(["InProgress", "InProgress", "Completed"])
    final = follow(
        lambda: JobStatus("transform job", "t", next(answers)),
        poll_s=1,
        timeout_s=None,
        sleep=lambda _: None,
    )
    assert final.status == "Completed" and final.succeeded


# ----------------------------------------------------------------- EXIF orientation


def test_a_mask_of_the_stored_pixels_is_turned_like_the_photo():
    stored = np.full((20, 40, 3), 128, np.uint8)  # 40 wide, 20 high as stored
    stored[2:8, 30:38] = (220, 30, 30)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise
    buffer = io.BytesIO()
    Image.fromarray(stored).save(buffer, format="JPEG", exif=exif, quality=95)
    photo = buffer.getvalue()
    oriented = load_image(photo)
    assert oriented.shape[:2] == (40, 20)
    mask_stored = (stored[..., 0] > 200).astype(np.uint8)
    turned, notes = orient_mask_like_photo(mask_stored, photo, (20, 40))
    expected = (oriented[..., 0].astype(int) - oriented[..., 2] > 100).astype(np.uint8)
    assert turned.shape == (40, 20)
    assert (turned != expected).sum() <= 4  # JPEG edges
    assert notes and "EXIF orientation 6" in notes[0]


def test_a_mask_already_upright_is_left_alone():
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(buffer, format="JPEG")
    mask = np.ones((20, 40), np.uint8)
    same, notes = orient_mask_like_photo(mask, buffer.getvalue(), (40, 20))
    assert same is mask and notes == []
