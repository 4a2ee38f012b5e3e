"""objlen: measure the real size of objects in photos.

The public API::

    from objlen import measure, remeasure, MeasureOptions, ReferenceSpec
    result = measure(mask, MeasureOptions(reference=ReferenceSpec(length=85.6)))
    result.objects[0].width.value, result.to_dict()

Coordinates are ``(x, y)`` pixels of the photo after EXIF orientation, x to
the right, y down; pixel ``(i, j)`` covers ``[i-0.5, i+0.5] x [j-0.5, j+0.5]``.
"""

from objlen.classes import ClassIds
from objlen.errors import (
    AwsError,
    ImageReadError,
    MaskError,
    ObjlenError,
    ParameterError,
    ReferenceNotFoundError,
    SegmentationError,
)
from objlen.imageio import load_image, load_mask
from objlen.measure import measure, remeasure
from objlen.options import MeasureOptions, ReferenceSpec
from objlen.result import SCHEMA, Length, Measurement, ObjectResult, ReferenceResult

__all__ = [
    "SCHEMA",
    "AwsError",
    "ClassIds",
    "ImageReadError",
    "Length",
    "MaskError",
    "MeasureOptions",
    "Measurement",
    "ObjectResult",
    "ObjlenError",
    "ParameterError",
    "ReferenceNotFoundError",
    "ReferenceResult",
    "ReferenceSpec",
    "SegmentationError",
    "load_image",
    "load_mask",
    "measure",
    "remeasure",
]
