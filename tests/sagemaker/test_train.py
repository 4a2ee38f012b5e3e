"""The SageMaker steps and ``objlen sagemaker`` against moto's server, over real HTTP.

Upload (:mod:`objlen.sagemaker.channels`), training (:mod:`objlen.sagemaker.train`), deployment
(:mod:`objlen.sagemaker.deploy`) and Batch Transform
(:mod:`objlen.sagemaker.batch_transform`) run one
after the other, as the operator runs them, from the functions, the command
line and the Model page.

moto completes training and transform jobs at once and puts endpoints
InService; it writes no ``.out`` masks, so the tests put them in S3 as a real
Batch Transform would, and measure them.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from objlen import MeasureOptions, ReferenceSpec
from objlen.errors import AwsError, ObjlenError, ParameterError
from objlen.imageio import encode_jpeg, encode_png
from objlen.sagemaker.batch_transform import (
    measure_transform_outputs,
    run_batch_transform,
    transform_outputs,
    wait_for_transform,
)
from objlen.sagemaker.channels import CHANNELS, upload_dataset, uploaded_channels
from objlen.sagemaker.deploy import deploy
from objlen.sagemaker.session import AwsSession
from objlen.sagemaker.train import (
    TrainingConfig,
    create_training_job,
    describe_training,
    image_uri,
    wait_for_training,
)
from tests.aws_servers import REGION, draw_photo
from tests.sagemaker.test_channels import make_dataset
from tests.sagemaker.test_train_config import ROLE

pytestmark = pytest.mark.aws

BUCKET = "objlen-training"
PREFIX = "datasets/bolts"
REFERENCE_MM = 50.0
#: Horizontal reference, 80 x 32 px: CD = 80 px = 50 mm.
REFERENCE_BOX = (16, 16, 96, 48)


def _reset(url: str) -> None:
    """Empty moto's state, which its in-process servers share."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


@pytest.fixture
def moto_url(aws_env: None) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    _reset(url)
    try:
        yield url
    finally:
        _reset(url)
        server.stop()


@pytest.fixture
def session(moto_url: str) -> AwsSession:
    return AwsSession(region=REGION, endpoint_url=moto_url, max_attempts=2)


@pytest.fixture
def bucket(session: AwsSession) -> str:
    session.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return BUCKET


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "dataset", label_map={"scale": "1"})


@pytest.fixture
def job(session: AwsSession, bucket: str, dataset: Path) -> str:
    channels = upload_dataset(dataset, bucket, PREFIX, session)
    config = TrainingConfig.for_dataset(dataset, role_arn=ROLE, bucket=bucket, prefix=PREFIX)
    return create_training_job(config, channels, session)


def _keys(session: AwsSession, prefix: str) -> list[str]:
    answer = session.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in answer.get("Contents", []))


# ----------------------------------------------------------------- upload


def test_upload_puts_every_file_under_its_channel_with_the_same_name(session, bucket, dataset):
    channels = upload_dataset(dataset, bucket, PREFIX, session)

    assert channels == {
        name: f"s3://{BUCKET}/{PREFIX}/{name}/" for name in (*CHANNELS, "label_map")
    }
    for channel in CHANNELS:
        local = sorted(p.name for p in (dataset / channel).iterdir())
        assert _keys(session, f"{PREFIX}/{channel}/") == [f"{PREFIX}/{channel}/{n}" for n in local]
    photo_stems = [Path(k).stem for k in _keys(session, f"{PREFIX}/train/")]
    label_stems = [Path(k).stem for k in _keys(session, f"{PREFIX}/train_annotation/")]
    assert photo_stems == label_stems == ["bolt-1", "bolt-2", "nut-1", "nut-2"]
    assert _keys(session, f"{PREFIX}/label_map/") == [f"{PREFIX}/label_map/train_label_map.json"]
    head = session.client("s3").head_object(Bucket=BUCKET, Key=f"{PREFIX}/train/bolt-1.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert uploaded_channels(BUCKET, PREFIX, session) == channels


def test_upload_again_replaces_but_refuses_files_of_another_dataset(session, bucket, dataset):
    upload_dataset(dataset, bucket, PREFIX, session)
    upload_dataset(dataset, bucket, PREFIX, session)  # same files: replaced
    (dataset / "train" / "nut-2.jpg").unlink()
    (dataset / "train_annotation" / "nut-2.png").unlink()
    with pytest.raises(ParameterError, match=r"would be trained on: .*train/nut-2\.jpg"):
        upload_dataset(dataset, bucket, PREFIX, session)


def test_upload_to_a_missing_bucket_says_so(session, dataset):
    with pytest.raises(AwsError, match="the S3 bucket does not exist"):
        upload_dataset(dataset, "objlen-nowhere", PREFIX, session)


def test_upload_without_credentials_says_how_to_configure(session, bucket, dataset, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    fresh = AwsSession(region=REGION, endpoint_url=session.endpoint_url, max_attempts=1)
    assert not fresh.credentials_available()
    with pytest.raises(AwsError, match=r"no AWS credentials found.*aws configure"):
        upload_dataset(dataset, bucket, PREFIX, fresh)


# ----------------------------------------------------------------- training


def test_training_job_has_the_image_channels_and_hyperparameters(session, job):
    described = session.client("sagemaker").describe_training_job(TrainingJobName=job)

    assert described["AlgorithmSpecification"]["TrainingImage"] == image_uri(REGION)
    assert described["AlgorithmSpecification"]["TrainingImage"] == (
        "501404015308.dkr.ecr.ap-northeast-1.amazonaws.com/semantic-segmentation:1"
    )
    assert described["RoleArn"] == ROLE
    channels = {c["ChannelName"]: c for c in described["InputDataConfig"]}
    assert set(channels) == {*CHANNELS, "label_map"}
    for name, channel in channels.items():
        source = channel["DataSource"]["S3DataSource"]
        assert source["S3Uri"] == f"s3://{BUCKET}/{PREFIX}/{name}/"
        assert source["S3DataType"] == "S3Prefix"
    assert channels["validation"]["ContentType"] == "image/jpeg"
    assert channels["validation_annotation"]["ContentType"] == "image/png"
    hyper = described["HyperParameters"]
    assert hyper["num_classes"] == "3" and hyper["num_training_samples"] == "4"
    assert hyper["backbone"] == "resnet-50" and hyper["algorithm"] == "fcn"
    assert hyper["use_pretrained_model"] == "True" and hyper["early_stopping"] == "True"
    assert described["ResourceConfig"]["InstanceType"] == "ml.p3.2xlarge"
    assert described["ResourceConfig"]["InstanceCount"] == 1
    assert described["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/{PREFIX}/output"


def test_wait_follows_the_job_to_completed(session, job):
    seen = []
    final = wait_for_training(job, session, poll_s=0.01, timeout_s=5, progress_callback=seen.append)
    assert final.status == "Completed" and final.succeeded
    assert seen and seen[-1].name == job
    assert "Completed" in describe_training(job, session).line()


def test_a_missing_job_is_a_clear_error(session, bucket):
    with pytest.raises(AwsError, match="training job 'objlen-nope' not found in region"):
        describe_training("objlen-nope", session)


def test_an_empty_channel_is_refused_before_any_job(session, bucket, dataset):
    channels = upload_dataset(dataset, bucket, PREFIX, session)
    channels["validation"] = f"s3://{BUCKET}/elsewhere/validation/"
    config = TrainingConfig.for_dataset(dataset, role_arn=ROLE, bucket=bucket, prefix=PREFIX)
    with pytest.raises(ParameterError, match=r"the validation channel .* is empty"):
        create_training_job(config, channels, session)
    jobs = session.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    assert jobs == []


def test_a_cpu_training_instance_is_refused_before_any_call(session, bucket, dataset):
    config = TrainingConfig.for_dataset(
        dataset, role_arn=ROLE, bucket=bucket, prefix=PREFIX, instance_type="ml.m5.xlarge"
    )
    with pytest.raises(ParameterError, match="trains only on GPU instances"):
        create_training_job(config, uploaded_channels(bucket, PREFIX, session), session)


# ----------------------------------------------------------------- deploy


def test_deploy_creates_model_config_and_endpoint_in_service(session, job):
    deployment = deploy(job, "objlen-seg", session=session, poll_s=0.01, timeout_s=5)

    client = session.client("sagemaker")
    artifacts = client.describe_training_job(TrainingJobName=job)["ModelArtifacts"]
    model = client.describe_model(ModelName=deployment.model_name)
    assert model["PrimaryContainer"]["Image"] == image_uri(REGION)
    assert model["PrimaryContainer"]["ModelDataUrl"] == artifacts["S3ModelArtifacts"]
    assert model["ExecutionRoleArn"] == ROLE
    config = client.describe_endpoint_config(EndpointConfigName=deployment.endpoint_config_name)
    variant = config["ProductionVariants"][0]
    assert variant["ModelName"] == deployment.model_name
    assert variant["InstanceType"] == "ml.m5.xlarge"
    endpoint = client.describe_endpoint(EndpointName="objlen-seg")
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == deployment.endpoint_config_name
    assert deployment.status.status == "InService"


def test_deploying_to_an_existing_endpoint_is_refused(session, job):
    deploy(job, "objlen-seg", session=session, poll_s=0.01, timeout_s=5)
    with pytest.raises(AwsError, match="endpoint 'objlen-seg' exists already"):
        deploy(job, "objlen-seg", session=session, poll_s=0.01, timeout_s=5)


# ----------------------------------------------------------------- transform


#: Photos of the transform: key under the input prefix -> object box (exclusive ends).
PHOTOS = {
    "shelf/a.jpg": (100, 80, 260, 200),
    "b.jpg": (60, 100, 300, 220),
    "c.jpg": (120, 90, 200, 150),
    "d.jpg": (110, 70, 230, 210),
}


def _put(session: AwsSession, key: str, body: bytes) -> None:
    session.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)


@pytest.fixture
def photos(session, bucket) -> dict[str, object]:
    """The photos under batch/photos/ and their true masks."""
    masks = {}
    for key, box in PHOTOS.items():
        photo, mask = draw_photo((320, 240), box, REFERENCE_BOX)
        _put(session, f"batch/photos/{key}", encode_jpeg(photo, quality=95))
        masks[key] = mask
    return masks


def test_transform_job_has_the_right_input_and_output(session, job, photos):
    model = deploy(job, "objlen-seg", session=session, poll_s=0.01, timeout_s=5).model_name
    name = run_batch_transform(
        model, f"s3://{BUCKET}/batch/photos", f"s3://{BUCKET}/batch/masks", session=session
    )

    described = session.client("sagemaker").describe_transform_job(TransformJobName=name)
    assert described["ModelName"] == model
    source = described["TransformInput"]["DataSource"]["S3DataSource"]
    assert source == {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/batch/photos/"}
    assert described["TransformInput"]["ContentType"] == "image/jpeg"
    assert described["TransformInput"]["SplitType"] == "None"
    assert described["TransformOutput"]["S3OutputPath"] == f"s3://{BUCKET}/batch/masks/"
    assert described["TransformOutput"]["Accept"] == "image/png"
    assert described["TransformResources"]["InstanceType"] == "ml.m5.xlarge"
    assert described["BatchStrategy"] == "SingleRecord"
    assert wait_for_transform(name, session, poll_s=0.01, timeout_s=5).status == "Completed"


def test_transform_refuses_other_files_among_the_photos(session, job, photos):
    _put(session, "batch/photos/notes.txt", b"not a photo")
    with pytest.raises(ParameterError, match=r"move the other files away: batch/photos/notes\.txt"):
        run_batch_transform(
            job, f"s3://{BUCKET}/batch/photos/", f"s3://{BUCKET}/batch/masks/", session=session
        )


def test_transform_refuses_an_output_inside_the_input(session, job, photos):
    with pytest.raises(ParameterError, match="must not be inside the input"):
        run_batch_transform(
            job, f"s3://{BUCKET}/batch/", f"s3://{BUCKET}/batch/masks/", session=session
        )


def test_transform_outputs_are_measured_and_failures_reported_per_photo(session, photos):
    # What the real job would write: <output>/<path under the input>.out.
    _put(session, "batch/masks/shelf/a.jpg.out", encode_png(photos["shelf/a.jpg"]))
    _put(session, "batch/masks/b.jpg.out", encode_png(photos["b.jpg"]))
    _put(session, "batch/masks/c.jpg.out", b"\x89PNG\r\n\x1a\n truncated")
    # d.jpg has no .out: the model failed on it.

    outputs = dict(transform_outputs(f"s3://{BUCKET}/batch/masks/", session))
    assert sorted(outputs) == ["b.jpg", "c.jpg", "shelf/a.jpg"]

    options = MeasureOptions(reference=ReferenceSpec(length=REFERENCE_MM))
    results = {
        r.key: r
        for r in measure_transform_outputs(
            f"s3://{BUCKET}/batch/photos/", f"s3://{BUCKET}/batch/masks/", options, session
        )
    }

    assert sorted(results) == sorted(PHOTOS)
    reference_px = REFERENCE_BOX[2] - REFERENCE_BOX[0]
    for key in ("shelf/a.jpg", "b.jpg"):
        x0, y0, x1, y1 = PHOTOS[key]
        obj = results[key].measurement.objects[0]
        assert obj.width.value == pytest.approx((x1 - x0) * REFERENCE_MM / reference_px)
        assert obj.height.value == pytest.approx((y1 - y0) * REFERENCE_MM / reference_px)
    assert results["shelf/a.jpg"].measurement.objects[0].width.value == pytest.approx(100.0)
    assert not results["c.jpg"].ok and "c.jpg.out" in results["c.jpg"].error
    assert not results["d.jpg"].ok and "no mask" in results["d.jpg"].error
    assert "batch/masks/d.jpg.out" in results["d.jpg"].error


# ----------------------------------------------------------------- command line


def _cli(argv: list[str]) -> int:
    from objlen.cli.sagemaker import register

    parser = argparse.ArgumentParser(prog="objlen")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


def test_cli_uploads_trains_deploys_and_measures(
    moto_url, session, bucket, dataset, photos, capsys
):
    aws = ["--region", REGION, "--endpoint-url", moto_url]
    assert (
        _cli(["sagemaker", "upload", str(dataset), "--bucket", BUCKET, "--prefix", PREFIX, *aws])
        == 0
    )
    assert f"s3://{BUCKET}/{PREFIX}/train_annotation/" in capsys.readouterr().out

    train = ["sagemaker", "train", "--role", ROLE, "--bucket", BUCKET, "--prefix", PREFIX]
    assert (
        _cli([*train, "--dataset", str(dataset), "--epochs", "5", "--wait", "--poll", "0.01", *aws])
        == 0
    )
    printed = capsys.readouterr().out.splitlines()
    job = printed[0]
    assert job.startswith("objlen-ss-") and "Completed" in printed[-1]

    assert _cli(["sagemaker", "status", job, *aws]) == 0
    assert f"training job {job}: Completed" in capsys.readouterr().out
    assert (
        _cli(["sagemaker", "deploy", job, "--endpoint", "objlen-cli", "--poll", "0.01", *aws]) == 0
    )
    assert "endpoint objlen-cli: InService" in capsys.readouterr().out
    io_prefixes = [
        "--input",
        f"s3://{BUCKET}/batch/photos/",
        "--output",
        f"s3://{BUCKET}/batch/masks/",
    ]
    assert (
        _cli(
            [
                "sagemaker",
                "transform",
                "--model",
                job,
                *io_prefixes,
                "--wait",
                "--poll",
                "0.01",
                *aws,
            ]
        )
        == 0
    )
    assert "Completed" in capsys.readouterr().out

    for key in PHOTOS:
        _put(session, f"batch/masks/{key}.out", encode_png(photos[key]))
    measured = ["sagemaker", "measure-transform", *io_prefixes, "--reference-length", "50mm"]
    assert _cli([*measured, "--json", *aws]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    widths = {r["key"]: r["measurement"]["objects"][0]["width"]["value"] for r in records}
    assert widths["shelf/a.jpg"] == pytest.approx(100.0)
    assert widths["b.jpg"] == pytest.approx(150.0)


def test_cli_measure_transform_exits_1_when_a_photo_fails(
    moto_url, session, bucket, photos, capsys
):
    aws = ["--region", REGION, "--endpoint-url", moto_url]
    _put(session, "batch/masks/b.jpg.out", encode_png(photos["b.jpg"]))
    status = _cli(
        [
            "sagemaker",
            "measure-transform",
            "--input",
            f"s3://{BUCKET}/batch/photos/",
            "--output",
            f"s3://{BUCKET}/batch/masks/",
            "--reference-length",
            "50",
            *aws,
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert "b.jpg: width 150.00" in captured.out
    assert "d.jpg: error: no mask" in captured.out
    assert "1 of 4 photos measured" in captured.err


def test_cli_errors_are_objlen_errors(moto_url, bucket):
    aws = ["--region", REGION, "--endpoint-url", moto_url]
    with pytest.raises(ObjlenError, match="trains only on GPU instances"):
        _cli(
            [
                "sagemaker", "train", "--role", ROLE, "--bucket", BUCKET, "--prefix", PREFIX,
                "--num-training-samples", "10", "--instance-type", "ml.m5.xlarge", *aws,
            ]
        )  # fmt: skip
    with pytest.raises(ObjlenError, match="no semantic segmentation image is known"):
        _cli(
            [
                "sagemaker", "train", "--role", ROLE, "--bucket", BUCKET, "--prefix", PREFIX,
                "--num-training-samples", "10", "--region", "mars-north-1",
                "--endpoint-url", moto_url,
            ]
        )  # fmt: skip


# ----------------------------------------------------------------- the Model page

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "model.py")


def test_page_without_credentials_says_how_to_configure(no_credentials):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert any("AWS is not configured" in info.value for info in at.info)
    assert not at.button


def test_page_uploads_starts_training_and_follows_it(
    moto_url, session, bucket, dataset, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", moto_url)  # the operator's, not the page's
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.text_input(key="model_region").set_value(REGION)
    at.run()
    at.text_input(key="model_dataset").set_value(str(dataset))
    at.text_input(key="model_bucket").set_value(BUCKET)
    at.text_input(key="model_prefix").set_value(PREFIX)
    at.run()
    at.button(key="model_upload").click().run()
    assert not at.exception and not at.error
    assert any("Uploaded" in s.value for s in at.success)
    assert _keys(session, f"{PREFIX}/train/") == [
        f"{PREFIX}/train/{n}.jpg" for n in ("bolt-1", "bolt-2", "nut-1", "nut-2")
    ]

    at.text_input(key="model_role").set_value(ROLE).run()
    at.button(key="model_train").click().run()
    assert not at.exception and not at.error
    job = at.text_input(key="model_job").value
    assert job.startswith("objlen-ss-")
    described = session.client("sagemaker").describe_training_job(TrainingJobName=job)
    assert described["HyperParameters"]["num_training_samples"] == "4"

    at.button(key="model_refresh").click().run()
    assert not at.exception
    assert "Completed" in " ".join(str(p.proto) for p in at.get("progress"))


def test_page_shows_errors_without_a_traceback(moto_url, bucket, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("OBJLEN_ENDPOINT_URL", moto_url)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.text_input(key="model_region").set_value(REGION)
    at.run()
    at.text_input(key="model_dataset").set_value(str(tmp_path / "nowhere"))
    at.text_input(key="model_bucket").set_value(BUCKET)
    at.run()
    at.button(key="model_upload").click().run()
    assert not at.exception
    assert any("no such dataset folder" in e.value for e in at.error)
