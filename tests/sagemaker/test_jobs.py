"""objlen.sagemaker.jobs without AWS: job statuses and following them."""

from __future__ import annotations

import pytest

from objlen.errors import AwsError
from objlen.sagemaker.jobs import JobStatus, follow, raise_for_status, training_status


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
    with pytest.raises(AwsError) as caught:
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

    with pytest.raises(AwsError, match="still InProgress after waiting 100 s"):
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
