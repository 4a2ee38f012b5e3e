"""The one exception family of objlen.

Every error that bad input can cause is an :class:`ObjlenError` whose message
is written for the operator: it says what is wrong and how to fix it. The
command line prints it on one line and exits with status 2; the app shows it
without a traceback.
"""

from __future__ import annotations


class ObjlenError(Exception):
    """Base class: an error whose message is meant for a person."""


class ImageReadError(ObjlenError):
    """A file is not a readable image, or is too large to decode safely."""


class MaskError(ObjlenError):
    """A mask is unusable: wrong kind of image, unknown classes, no object."""


class ReferenceNotFoundError(ObjlenError):
    """The reference cannot be found or is unusable (too small, missing)."""


class ParameterError(ObjlenError):
    """A user-supplied value is out of range (a length, a unit, a class id)."""


class SegmentationError(ObjlenError):
    """A segmenter failed: endpoint unreachable, model error, bad answer."""


class AwsError(ObjlenError):
    """A call to AWS failed: S3, or a SageMaker training, deployment or Batch Transform step.

    (The endpoint client's failures are :class:`SegmentationError`.)
    """


__all__ = [
    "AwsError",
    "ImageReadError",
    "MaskError",
    "ObjlenError",
    "ParameterError",
    "ReferenceNotFoundError",
    "SegmentationError",
]


def without_name(name: str, message: str) -> str:
    """``message`` without a leading ``"{name}:"`` (a photo's or file's read errors
    start with its name), for a place that names it itself."""
    if message.startswith(f"{name}:"):
        return message[len(name) + 1 :].lstrip()
    return message
