"""Model: upload a dataset, train, follow, deploy, batch-transform and measure (SageMaker).

A thin page over :mod:`objlen.sagemaker.channels`, :mod:`objlen.sagemaker.train`,
:mod:`objlen.sagemaker.deploy` and :mod:`objlen.sagemaker.batch_transform`: widgets give
plain values,
each button calls one function, every :class:`~objlen.errors.ObjlenError` is
shown with ``st.error`` and no traceback. Region, profile and endpoint URL start
as the session's settings (the Settings page); the photos are measured with the
same options widget as on the Measure page, in the settings' unit and class ids.
Credentials are never typed in here: boto3 finds them in the environment, a
profile or an instance role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from app_pages.common import current_settings, data_path, data_root_dir, measure_options_ui
from objlen.errors import ObjlenError
from objlen.options import MeasureOptions
from objlen.redact import redact_url
from objlen.sagemaker.batch_transform import (
    PhotoResult,
    describe_transform,
    measure_transform_outputs,
    run_batch_transform,
)
from objlen.sagemaker.channels import scan_dataset, upload_dataset, uploaded_channels
from objlen.sagemaker.deploy import deploy, describe_endpoint
from objlen.sagemaker.jobs import INFERENCE_INSTANCE_TYPES, JobStatus
from objlen.sagemaker.session import AwsSession
from objlen.sagemaker.train import (
    ALGORITHMS,
    BACKBONES,
    TRAINING_INSTANCE_TYPES,
    Hyperparameters,
    TrainingConfig,
    create_training_job,
    describe_training,
    wait_for_training,
)
from objlen.settings import AppSettings

#: What the page says when boto3 finds no credentials.
CONFIGURE_AWS = (
    "AWS is not configured for this app. Set `AWS_ACCESS_KEY_ID` and "
    "`AWS_SECRET_ACCESS_KEY` (and `AWS_REGION`) in the environment that runs "
    "Streamlit, or create a profile with `aws configure` and give its name above, "
    "then reload the page. Credentials are never typed into this page."
)


def attempt(action: Callable[[], Any]) -> Any:
    """Run ``action``; show an :class:`ObjlenError` with ``st.error`` and return ``None``."""
    try:
        return action()
    except ObjlenError as error:
        st.error(redact_url(str(error)))
        return None


def aws_ui(settings: AppSettings) -> AwsSession | None:
    """Region, profile and endpoint URL, starting as the session's settings;
    ``None`` (with advice) when AWS is not usable."""
    with st.expander("AWS connection", expanded=False):
        region = st.text_input(
            "Region",
            value=settings.region,
            key="model_region",
            help="e.g. ap-northeast-1; empty: the profile's. Starts as the Settings page's.",
        )
        profile = st.text_input(
            "Profile",
            value=settings.profile,
            key="model_profile",
            help="Starts as the Settings page's; empty: boto3's default credential chain.",
        )
        st.text_input(
            "Endpoint URL (set by the operator)",
            value=settings.redacted()["endpoint URL"],
            disabled=True,
            key="model_endpoint_url",
            help="one URL for S3 and SageMaker instead of AWS's, e.g. a local moto server: "
            "OBJLEN_ENDPOINT_URL, shown without user-info or query",
        )
    session = attempt(lambda: AwsSession(region, profile, settings.endpoint_url))
    if session is None:
        return None
    if not session.credentials_available():
        st.info(CONFIGURE_AWS)
        return None
    if attempt(lambda: session.region) is None:
        return None
    return session


def show_status(status: JobStatus | None, where: Any = None) -> None:
    """A progress bar with the status line (or a note that there is nothing yet)."""
    target = where or st
    if status is None:
        target.info("Nothing there yet.")
    elif status.done and not status.succeeded:
        target.error(status.line())
    else:
        target.progress(status.progress, text=status.line())


def dataset_ui(session: AwsSession) -> tuple[str, str, str]:
    """Step 1: the dataset folder and where it goes; the Upload button."""
    st.subheader("1. Dataset to S3")
    folder = st.text_input(
        "Dataset folder",
        key="model_dataset",
        help=f"inside the data root {data_root_dir()} (relative paths start there), with "
        "train/, validation/, train_annotation/, validation_annotation/ (and optionally "
        "label_map/)",
    )
    if folder:  # a server path: only under the data root
        folder = attempt(lambda: str(data_path(folder, "the dataset folder"))) or ""
    bucket_column, prefix_column = st.columns(2)
    bucket = bucket_column.text_input("S3 bucket", key="model_bucket")
    prefix = prefix_column.text_input("S3 prefix", value="objlen/dataset", key="model_prefix")
    if st.button("Check and upload", key="model_upload", disabled=not (folder and bucket)):
        summary = attempt(lambda: scan_dataset(folder))
        if summary is not None:
            st.caption(
                f"{summary.num_training_samples} training photos, "
                f"{len(summary.files['validation'])} validation photos, "
                f"{summary.num_classes} classes"
            )
            bar = st.progress(0.0, text="uploading")
            channels = attempt(
                lambda: upload_dataset(
                    folder,
                    bucket,
                    prefix,
                    session,
                    progress_callback=lambda done, total: bar.progress(
                        done / total, text=f"uploaded {done} of {total} files"
                    ),
                )
            )
            if channels is not None:
                st.success("Uploaded.")
                st.table(pd.DataFrame({"channel": list(channels), "S3": list(channels.values())}))
    return folder, bucket, prefix


def training_ui(session: AwsSession, folder: str, bucket: str, prefix: str) -> None:
    """Step 2: role, instance and hyperparameters; the Start training button."""
    st.subheader("2. Train")
    role = st.text_input(
        "IAM role ARN", key="model_role", help="arn:aws:iam::123456789012:role/..."
    )
    left, middle, right = st.columns(3)
    instance_type = left.selectbox(
        "Training instance (GPU)", TRAINING_INSTANCE_TYPES, key="model_train_instance"
    )
    algorithm = middle.selectbox("Algorithm", ALGORITHMS, key="model_algorithm")
    backbone = right.selectbox("Backbone", BACKBONES, key="model_backbone")
    epochs = left.number_input("Epochs", 1, 1000, 30, key="model_epochs")
    batch = middle.number_input("Mini-batch size", 1, 256, 4, key="model_batch")
    crop = right.number_input("Crop size (px)", 24, 2048, 480, step=8, key="model_crop")
    ready = bool(folder and bucket and role)
    if st.button("Start training", key="model_train", disabled=not ready):

        def start() -> str:
            config = TrainingConfig.for_dataset(
                folder,
                role_arn=role,
                bucket=bucket,
                prefix=prefix,
                instance_type=instance_type,
                hyperparameters=Hyperparameters(
                    algorithm=algorithm,
                    backbone=backbone,
                    epochs=int(epochs),
                    mini_batch_size=int(batch),
                    validation_mini_batch_size=int(batch),
                    crop_size=int(crop),
                ),
            )
            return create_training_job(config, uploaded_channels(bucket, prefix, session), session)

        name = attempt(start)
        if name is not None:
            st.session_state["model_job"] = name
            st.success(f"Training job {name} started.")


def follow_ui(session: AwsSession) -> str:
    """Step 3: the training job's status; Refresh and Wait buttons. Returns the job name."""
    st.subheader("3. Follow the training")
    job = st.text_input("Training job", key="model_job")
    refresh, wait = st.columns(2)
    if refresh.button("Refresh status", key="model_refresh", disabled=not job):
        show_status(attempt(lambda: describe_training(job, session)))
    if wait.button("Wait until it ends", key="model_wait", disabled=not job):
        slot = st.empty()
        final = attempt(
            lambda: wait_for_training(
                job, session, poll_s=30.0, progress_callback=lambda s: show_status(s, slot)
            )
        )
        if final is not None:
            st.success(final.line())
    return job


def deploy_ui(session: AwsSession, job: str) -> None:
    """Step 4: endpoint name and instance; Deploy and Refresh buttons."""
    st.subheader("4. Deploy")
    name_column, instance_column = st.columns(2)
    endpoint = name_column.text_input("Endpoint name", value="objlen-seg", key="model_endpoint")
    instance_type = instance_column.selectbox(
        "Inference instance", INFERENCE_INSTANCE_TYPES, key="model_endpoint_instance"
    )
    deploy_column, check_column = st.columns(2)
    if deploy_column.button("Deploy", key="model_deploy", disabled=not (job and endpoint)):
        deployment = attempt(
            lambda: deploy(job, endpoint, instance_type, session=session, wait=False)
        )
        if deployment is not None:
            st.success(
                f"Model {deployment.model_name}, endpoint config "
                f"{deployment.endpoint_config_name}: the endpoint is starting (about 10 minutes)."
            )
            show_status(deployment.status)
    if check_column.button("Endpoint status", key="model_endpoint_status", disabled=not endpoint):
        show_status(attempt(lambda: describe_endpoint(endpoint, session)))


def transform_ui(session: AwsSession, job: str) -> tuple[str, str]:
    """Step 5: model, input and output prefixes; Run and Refresh buttons."""
    st.subheader("5. Batch Transform")
    model = st.text_input(
        "Model", value=job, key="model_transform_model", help="the training job's name by default"
    )
    input_column, output_column = st.columns(2)
    source = input_column.text_input("Photos (s3://bucket/photos/)", key="model_transform_in")
    target = output_column.text_input("Masks (s3://bucket/masks/)", key="model_transform_out")
    instance_type = st.selectbox(
        "Transform instance", INFERENCE_INSTANCE_TYPES, key="model_transform_instance"
    )
    run, check = st.columns(2)
    if run.button("Run Batch Transform", key="model_transform", disabled=not (model and source)):
        name = attempt(
            lambda: run_batch_transform(model, source, target, instance_type, session=session)
        )
        if name is not None:
            st.session_state["model_transform_job"] = name
            st.success(f"Transform job {name} started.")
    transform_job = st.session_state.get("model_transform_job")
    if check.button("Transform status", key="model_transform_status", disabled=not transform_job):
        show_status(attempt(lambda: describe_transform(transform_job, session)))
    return source, target


def result_rows(results: list[PhotoResult]) -> pd.DataFrame:
    """One row per photo: lengths of its first object, or the error."""
    rows = []
    for result in results:
        row: dict[str, Any] = {"photo": result.key}
        if result.measurement is not None:
            measurement = result.measurement
            first = measurement.objects[0]
            row.update(
                {
                    f"width ({measurement.unit})": round(first.width.value, 2),
                    "± width": round(first.width.uncertainty, 2),
                    f"height ({measurement.unit})": round(first.height.value, 2),
                    "± height": round(first.height.uncertainty, 2),
                    "warnings": len(measurement.warnings),
                }
            )
        row["error"] = result.error or ""
        rows.append(row)
    return pd.DataFrame(rows)


def measure_ui(session: AwsSession, settings: AppSettings, source: str, target: str) -> None:
    """Step 6: the measurement options; the Measure button and the table of results."""
    st.subheader("6. Measure the transform's masks")
    options: MeasureOptions | None = attempt(lambda: measure_options_ui("model", settings))
    ready = options is not None and bool(source and target)
    if st.button("Measure", key="model_measure", disabled=not ready):
        results = attempt(lambda: list(measure_transform_outputs(source, target, options, session)))
        if results is not None:
            measured = sum(r.ok for r in results)
            st.caption(f"{measured} of {len(results)} photos measured")
            st.dataframe(result_rows(results), hide_index=True, width="stretch")


def main() -> None:
    st.title("Model")
    st.caption(
        "Train SageMaker's built-in semantic segmentation algorithm on a dataset folder, "
        "deploy it, and measure photos segmented by Batch Transform."
    )
    settings = current_settings()
    session = aws_ui(settings)
    if session is None:
        return
    folder, bucket, prefix = dataset_ui(session)
    training_ui(session, folder, bucket, prefix)
    job = follow_ui(session)
    deploy_ui(session, job)
    source, target = transform_ui(session, job)
    measure_ui(session, settings, source, target)


main()
