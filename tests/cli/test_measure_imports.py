"""A local ``measure`` imports only what it uses: no boto3, no Streamlit, no AWS code.

The command runs in a subprocess under ``python -X importtime``, which lists
every module the interpreter imported; the list is checked, and so is the
measurement it printed (a command that failed early would import little).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "card_rectangle.jpg"

#: Module name prefixes a local measurement must not import.
FORBIDDEN = (
    "boto3",
    "botocore",
    "s3transfer",
    "streamlit",
    "google.protobuf",
    "dask",
    "distributed",
    "objlen.sagemaker",
    "objlen.segment.sagemaker",
    "objlen.batch",
    "objlen.serverless",
    "objlen.store",
)


def imported_modules(*args: str) -> tuple[set[str], subprocess.CompletedProcess]:
    """Run ``python -X importtime -m objlen ARGS``; return the modules it imported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "objlen", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return modules, done


def _offending(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN))


@pytest.mark.parametrize(
    "extra",
    [(), ("--json",), ("--mask", str(ROOT / "samples" / "card_rectangle_mask.png"))],
    ids=["segmented", "json", "given-mask"],
)
def test_a_local_measurement_imports_no_aws_and_no_streamlit(extra):
    modules, done = imported_modules("measure", str(PHOTO), "--reference-size", "85.6x54", *extra)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "object 1" in done.stdout or '"objects"' in done.stdout
    assert {"cv2", "numpy", "objlen.measure"} <= modules  # the list is really read
    assert _offending(modules) == []


def test_the_check_sees_boto3_where_it_is_imported():
    # The same command asked for the SageMaker backend does import boto3 (and
    # fails: no endpoint answers on port 9): the lazy import is real, and the
    # check can fail.
    modules, done = imported_modules(
        "measure",
        str(PHOTO),
        "--reference-size",
        "85.6x54",
        "--segmenter",
        "sagemaker",
        "--endpoint",
        "nowhere",
        "--region",
        "us-east-1",
        "--endpoint-url",
        "http://127.0.0.1:9",
    )
    assert done.returncode == 2
    assert "boto3" in _offending(modules)
