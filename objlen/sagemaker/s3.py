"""S3 locations and objects for the SageMaker steps: URIs, bucket names, listing, reading.

A prefix that stands for a folder ends with ``/``: S3Prefix matching is by
key prefix, and ``.../train`` would also match ``.../train_annotation/...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from botocore.exceptions import ClientError

from objlen.errors import ParameterError
from objlen.sagemaker.session import AwsSession, calling_aws, is_not_found

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


def s3_uri(bucket: str, *parts: str) -> str:
    """``s3://bucket/part/part`` with single slashes; a trailing slash is kept."""
    key = "/".join(p.strip("/") for p in parts if p.strip("/"))
    trailing = "/" if parts and parts[-1].endswith("/") and key else ""
    return f"s3://{bucket}/{key}{trailing}"


def split_s3_uri(uri: str, what: str = "the S3 location") -> tuple[str, str]:
    """``("bucket", "key/prefix")`` of an ``s3://bucket/key`` URI.

    Raises:
        ParameterError: not an ``s3://bucket/...`` URI.
    """
    match = re.match(r"^s3://([^/]+)/?(.*)$", (uri or "").strip())
    if not match:
        raise ParameterError(f"{what} must look like s3://bucket/prefix, got {uri!r}")
    return match.group(1), match.group(2)


def split_s3_folder(uri: str, what: str) -> tuple[str, str]:
    """Bucket and key prefix ending with ``/`` (empty for the bucket's root).

    Raises:
        ParameterError: not an ``s3://bucket/...`` URI (``what`` names it).
    """
    bucket, key = split_s3_uri(uri, what)
    key = key.strip("/")
    return bucket, f"{key}/" if key else ""


def list_keys(session: AwsSession, bucket: str, prefix: str, what: str) -> Iterator[str]:
    """Every key under ``prefix``, in S3's (lexicographic) order, page after page.

    Raises:
        AwsError: S3 refused while doing ``what``.
    """
    with calling_aws(what, session):
        paginator = session.client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]


def read_object(session: AwsSession, bucket: str, key: str) -> bytes:
    """The object's bytes.

    Raises:
        FileNotFoundError: no such object.
        AwsError: S3 refused.
    """
    with calling_aws(f"reading s3://{bucket}/{key}", session):
        try:
            return session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if is_not_found(exc):
                raise FileNotFoundError(key) from exc
            raise


def check_bucket(bucket: str) -> None:
    """Nothing if ``bucket`` is a bucket name (no ``s3://``, no key).

    Raises:
        ParameterError: saying what a bucket name looks like.
    """
    if not _BUCKET.match(bucket or ""):
        raise ParameterError(
            f"{bucket!r} is not an S3 bucket name: give the name only (no s3://, no /), "
            "3-63 lowercase letters, digits, dots or hyphens"
        )


__all__ = ["check_bucket", "list_keys", "read_object", "s3_uri", "split_s3_folder", "split_s3_uri"]
