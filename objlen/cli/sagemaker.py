"""``objlen sagemaker ...``: upload a dataset, train, deploy, batch-run, measure.

The steps of :mod:`objlen.sagemaker.channels`, :mod:`objlen.sagemaker.train`,
:mod:`objlen.sagemaker.deploy` and
:mod:`objlen.sagemaker.batch_transform` on the command line::

    objlen sagemaker upload DATASET --bucket B --prefix P
    objlen sagemaker train --dataset DATASET --role ARN --bucket B --prefix P [--wait]
    objlen sagemaker status JOB [--wait]
    objlen sagemaker model JOB [--name M]
    objlen sagemaker deploy JOB --endpoint NAME [--instance-type ml.m5.xlarge]
    objlen sagemaker transform --model M --input s3://B/photos/ --output s3://B/masks/
    objlen sagemaker measure-transform --input s3://B/photos/ --output s3://B/masks/
        --reference-length 85.6mm

Every step takes ``--region``, ``--profile`` and ``--endpoint-url`` (one URL
for S3 and SageMaker, e.g. a local moto server). Errors are
:class:`~objlen.errors.ObjlenError`: the ``objlen`` main prints them on one
line and exits with status 2. ``measure-transform`` exits with 1 when some
photos could not be measured (each is reported on its line).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from objlen.cli.options import add_measure_options, options_from_args

#: Exit status of ``measure-transform`` when some photos failed.
EXIT_SOME_FAILED = 1


def _session(args: argparse.Namespace) -> Any:
    from objlen.sagemaker.session import AwsSession

    return AwsSession(region=args.region, profile=args.profile, endpoint_url=args.endpoint_url)


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    aws = common.add_argument_group("AWS")
    aws.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    aws.add_argument("--profile", help="AWS profile name (default: the credential chain)")
    aws.add_argument(
        "--endpoint-url", help="one URL for S3 and SageMaker instead of AWS's (e.g. moto)"
    )
    return common


def _print_status(status: Any) -> None:
    print(status.line(), flush=True)


# ----------------------------------------------------------------- upload


def run_upload(args: argparse.Namespace) -> int:
    """``upload``: put a dataset folder in S3 and print the channel URIs."""
    from objlen.sagemaker.channels import upload_dataset

    channels = upload_dataset(args.dataset, args.bucket, args.prefix, _session(args))
    for name, uri in channels.items():
        print(f"{name:<22} {uri}")
    return 0


# ----------------------------------------------------------------- train


def _hyperparameters(args: argparse.Namespace) -> Any:
    from objlen.sagemaker.train import Hyperparameters

    return Hyperparameters(
        backbone=args.backbone,
        algorithm=args.algorithm,
        use_pretrained_model=not args.no_pretrained,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        mini_batch_size=args.mini_batch_size,
        validation_mini_batch_size=args.mini_batch_size,
        crop_size=args.crop_size,
        optimizer=args.optimizer,
        early_stopping=not args.no_early_stopping,
    )


def training_config_from_args(args: argparse.Namespace) -> Any:
    """A validated :class:`~objlen.sagemaker.train.TrainingConfig` from ``train`` arguments."""
    from objlen.errors import ParameterError
    from objlen.sagemaker.train import TrainingConfig

    common: dict[str, Any] = {
        "instance_type": args.instance_type,
        "volume_size_gb": args.volume_gb,
        "max_runtime_s": int(args.max_runtime_h * 3600),
        "hyperparameters": _hyperparameters(args),
        "job_name": args.job_name,
    }
    if args.num_classes is not None:
        common["num_classes"] = args.num_classes
    if args.dataset:
        if args.num_training_samples is not None:
            common["num_training_samples"] = args.num_training_samples
        config = TrainingConfig.for_dataset(
            args.dataset, role_arn=args.role, bucket=args.bucket, prefix=args.prefix, **common
        )
    elif args.num_training_samples is not None:
        config = TrainingConfig(
            role_arn=args.role,
            bucket=args.bucket,
            prefix=args.prefix,
            num_training_samples=args.num_training_samples,
            **common,
        )
    else:
        raise ParameterError(
            "say how many training photos there are: --dataset DIR (counted from the "
            "folder) or --num-training-samples N"
        )
    return config.validated()


def run_train(args: argparse.Namespace) -> int:
    """``train``: start a training job on the uploaded channels; print its name."""
    from objlen.sagemaker.channels import uploaded_channels
    from objlen.sagemaker.train import create_training_job, wait_for_training

    config = training_config_from_args(args)
    session = _session(args)
    channels = uploaded_channels(config.bucket, config.prefix, session)
    name = create_training_job(config, channels, session)
    print(name, flush=True)
    if args.wait:
        wait_for_training(name, session, poll_s=args.poll, progress_callback=_print_status)
    return 0


def run_status(args: argparse.Namespace) -> int:
    """``status``: print the training job's status (or follow it with ``--wait``)."""
    from objlen.sagemaker.train import describe_training, wait_for_training

    session = _session(args)
    if args.wait:
        wait_for_training(args.job, session, poll_s=args.poll, progress_callback=_print_status)
    else:
        _print_status(describe_training(args.job, session))
    return 0


# ----------------------------------------------------------------- deploy


def run_model(args: argparse.Namespace) -> int:
    """``model``: make a SageMaker model of the job's artifacts; print its name."""
    from objlen.sagemaker.deploy import create_model

    print(create_model(args.job, _session(args), model_name=args.name))
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    """``deploy``: serve the job's model on a new endpoint."""
    from objlen.sagemaker.deploy import deploy

    deployment = deploy(
        args.job,
        args.endpoint,
        args.instance_type,
        session=_session(args),
        wait=not args.no_wait,
        poll_s=args.poll,
        progress_callback=_print_status,
    )
    print(f"model {deployment.model_name}, endpoint config {deployment.endpoint_config_name}")
    print(deployment.status.line())
    return 0


# ----------------------------------------------------------------- transform


def run_transform(args: argparse.Namespace) -> int:
    """``transform``: start a Batch Transform; print its name (and follow with ``--wait``)."""
    from objlen.sagemaker.batch_transform import run_batch_transform, wait_for_transform

    session = _session(args)
    name = run_batch_transform(
        args.model,
        args.input,
        args.output,
        args.instance_type,
        session=session,
        job_name=args.job_name,
    )
    print(name, flush=True)
    if args.wait:
        wait_for_transform(name, session, poll_s=args.poll, progress_callback=_print_status)
    return 0


def photo_line(result: Any) -> str:
    """One line for a :class:`~objlen.sagemaker.batch_transform.PhotoResult`."""
    if result.measurement is None:
        return f"{result.key}: error: {result.error}"
    measurement = result.measurement
    unit = measurement.unit
    parts = [obj.sizes_text(unit, separator=", ") for obj in measurement.objects]
    text = f"{result.key}: " + "; ".join(parts)
    if measurement.warnings:
        text += f" (warnings: {len(measurement.warnings)})"
    return text


def run_measure_transform(args: argparse.Namespace) -> int:
    """``measure-transform``: measure every photo with its ``.out`` mask, one line each."""
    from objlen.sagemaker.batch_transform import measure_transform_outputs

    options = options_from_args(args)
    measured = failed = 0
    for result in measure_transform_outputs(args.input, args.output, options, _session(args)):
        if args.json:
            record: dict[str, Any] = {"key": result.key}
            if result.measurement is not None:
                record["measurement"] = result.measurement.to_dict()
            else:
                record["error"] = result.error
            print(json.dumps(record), flush=True)
        else:
            print(photo_line(result), flush=True)
        measured += result.ok
        failed += not result.ok
    print(f"{measured} of {measured + failed} photos measured", file=sys.stderr)
    return EXIT_SOME_FAILED if failed else 0


# ----------------------------------------------------------------- parser


def _add_poll(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--poll", type=float, default=30.0, metavar="S", help="seconds between status checks"
    )


def _add_train_parser(steps: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from objlen.sagemaker.train import (
        ALGORITHMS,
        BACKBONES,
        OPTIMIZERS,
        TRAINING_INSTANCE_TYPES,
        Hyperparameters,
    )

    defaults = Hyperparameters()
    parser = steps.add_parser(
        "train",
        parents=[common],
        help="start a training job on an uploaded dataset",
        description="Start a training job of the built-in semantic segmentation algorithm on "
        "the channels under s3://BUCKET/PREFIX/ (see `upload`). The number of training photos "
        "and of classes are counted from --dataset (the folder that was uploaded).",
    )
    parser.add_argument("--role", required=True, help="IAM role ARN SageMaker assumes")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", required=True, help="where `upload` put the dataset")
    parser.add_argument("--dataset", help="the dataset folder, to count photos and classes")
    parser.add_argument("--num-training-samples", type=int, metavar="N")
    parser.add_argument("--num-classes", type=int, metavar="K", help="default: from the dataset")
    parser.add_argument(
        "--instance-type",
        default="ml.p3.2xlarge",
        help=f"one of {', '.join(TRAINING_INSTANCE_TYPES)}",
    )
    parser.add_argument("--volume-gb", type=int, default=50)
    parser.add_argument("--max-runtime-h", type=float, default=24.0, metavar="HOURS")
    parser.add_argument("--job-name", help="default: objlen-ss-<time>-<random>")
    parser.add_argument("--backbone", choices=BACKBONES, default=defaults.backbone)
    parser.add_argument("--algorithm", choices=ALGORITHMS, default=defaults.algorithm)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--mini-batch-size", type=int, default=defaults.mini_batch_size)
    parser.add_argument("--crop-size", type=int, default=defaults.crop_size)
    parser.add_argument("--no-pretrained", action="store_true", help="train the backbone afresh")
    parser.add_argument("--no-early-stopping", action="store_true")
    parser.add_argument("--wait", action="store_true", help="follow the job until it ends")
    _add_poll(parser)
    parser.set_defaults(run=run_train)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``sagemaker`` and its steps to the ``objlen`` command's subparsers."""
    common = _common()
    parser = commands.add_parser(
        "sagemaker",
        help="train, deploy and batch-run the SageMaker segmentation model",
        description="Upload a dataset, train SageMaker's built-in semantic segmentation "
        "algorithm, deploy it, segment photos with Batch Transform and measure them.",
    )
    steps = parser.add_subparsers(dest="sagemaker_step", required=True, metavar="STEP")

    upload = steps.add_parser(
        "upload", parents=[common], help="upload a dataset folder to S3, one prefix per channel"
    )
    upload.add_argument("dataset", help="folder with train/, validation/, *_annotation/")
    upload.add_argument("--bucket", required=True)
    upload.add_argument("--prefix", required=True)
    upload.set_defaults(run=run_upload)

    _add_train_parser(steps, common)

    status = steps.add_parser("status", parents=[common], help="a training job's status")
    status.add_argument("job", help="training job name")
    status.add_argument("--wait", action="store_true", help="follow the job until it ends")
    _add_poll(status)
    status.set_defaults(run=run_status)

    model = steps.add_parser(
        "model", parents=[common], help="make a SageMaker model of a training job's artifacts"
    )
    model.add_argument("job", help="completed training job name")
    model.add_argument("--name", help="model name (default: the job's)")
    model.set_defaults(run=run_model)

    deploy = steps.add_parser("deploy", parents=[common], help="serve a job's model on an endpoint")
    deploy.add_argument("job", help="completed training job name")
    deploy.add_argument("--endpoint", required=True, help="name of the new endpoint")
    deploy.add_argument("--instance-type", default="ml.m5.xlarge")
    deploy.add_argument("--no-wait", action="store_true", help="do not wait for InService")
    _add_poll(deploy)
    deploy.set_defaults(run=run_deploy)

    transform = steps.add_parser(
        "transform", parents=[common], help="segment every photo under an S3 prefix"
    )
    transform.add_argument("--model", required=True, help="SageMaker model name (see `model`)")
    transform.add_argument("--input", required=True, help="s3://bucket/photos/ (JPEGs only)")
    transform.add_argument("--output", required=True, help="s3://bucket/masks/ for the .out masks")
    transform.add_argument("--instance-type", default="ml.m5.xlarge")
    transform.add_argument("--job-name", help="default: objlen-transform-<time>-<random>")
    transform.add_argument("--wait", action="store_true", help="follow the job until it ends")
    _add_poll(transform)
    transform.set_defaults(run=run_transform)

    measured = steps.add_parser(
        "measure-transform",
        parents=[common],
        help="measure every photo of a Batch Transform with its mask",
        description="Measure each photo under --input with its mask <output>/<photo>.out. "
        "Lengths may carry a unit suffix (85.6mm); a bare number is in --unit.",
    )
    measured.add_argument("--input", required=True, help="the transform's input prefix")
    measured.add_argument("--output", required=True, help="the transform's output prefix")
    add_measure_options(measured)
    measured.add_argument("--json", action="store_true", help="one JSON object per photo")
    measured.set_defaults(run=run_measure_transform)


__all__ = ["EXIT_SOME_FAILED", "photo_line", "register", "training_config_from_args"]
