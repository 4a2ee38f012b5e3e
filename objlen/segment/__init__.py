"""Segmenters: one interface, several backends.

* ``"local"``: :class:`objlen.segment.local.LocalSegmenter`, no network;
* ``"sagemaker"``: :class:`SageMakerSegmenter`, a SageMaker endpoint running
  the built-in semantic segmentation algorithm;
* ``"file"``: :class:`MaskFileSegmenter`, a mask PNG the operator supplies.

Use :func:`make_segmenter` to build one from settings. The SageMaker names
are imported on first use, so that importing this package does not import
boto3.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from objlen.classes import ClassIds
from objlen.errors import ParameterError
from objlen.options import ReferenceSpec
from objlen.segment.base import Segmentation, Segmenter, segment_photo
from objlen.segment.maskfile import MaskFileSegmenter

if TYPE_CHECKING:
    from objlen.segment.sagemaker import (
        SageMakerSegmenter,
        SageMakerSettings,
        check_connection,
        describe_endpoint_status,
    )

_SAGEMAKER_NAMES = (
    "SageMakerSegmenter",
    "SageMakerSettings",
    "check_connection",
    "describe_endpoint_status",
)

#: Names accepted by :func:`make_segmenter`.
BACKENDS = ("local", "sagemaker", "file")


def make_segmenter(
    backend: str,
    *,
    classes: ClassIds,
    sagemaker: SageMakerSettings | None = None,
    reference_rule: str = "auto",
    mask_path: str | Path | bytes | None = None,
    reference: ReferenceSpec | None = None,
    want_confidence: bool = False,
) -> Segmenter:
    """Build the segmenter named ``backend``.

    Args:
        backend: ``"local"``, ``"sagemaker"`` or ``"file"``.
        classes: class ids of the masks.
        sagemaker: endpoint settings, required for ``"sagemaker"``.
        reference_rule: how the local segmenter tells the reference from the
            object (passed to ``LocalSegmenter``).
        mask_path: the mask file (path or bytes), required for ``"file"``.
        reference: what the operator said the reference is: the local
            segmenter looks for a region of that shape (``"auto"`` rule), or
            for an ArUco marker of its dictionary.
        want_confidence: the local segmenter also computes its per-pixel
            confidence map (a measurement never needs it: off by default).

    Raises:
        ParameterError: unknown backend, or its required setting missing.
    """
    if backend == "local":
        if reference is not None and reference.board is not None:
            from objlen.segment.mat import MatSegmenter

            return MatSegmenter(reference.board, classes=classes)
        from objlen.segment.local import LocalSegmenter

        marker_dictionary = {}
        if reference is not None and reference.aruco_dictionary is not None:
            marker_dictionary = {"aruco_dictionary": reference.aruco_dictionary}
        return LocalSegmenter(
            classes=classes,
            reference_rule=reference_rule,
            reference=reference,
            want_confidence=want_confidence,
            **marker_dictionary,
        )
    if backend == "sagemaker":
        if sagemaker is None:
            raise ParameterError(
                "the sagemaker backend needs an endpoint name and region; set them in "
                "the SageMaker settings"
            )
        from objlen.segment.sagemaker import SageMakerSegmenter

        return SageMakerSegmenter(sagemaker, classes)
    if backend == "file":
        if mask_path is None:
            raise ParameterError("the file backend needs a mask file; choose one")
        return MaskFileSegmenter(mask_path, classes)
    raise ParameterError(f"unknown segmenter backend {backend!r}; choose one of {BACKENDS}")


def __getattr__(name: str) -> Any:
    """Import the SageMaker names (and boto3) only when one is used."""
    if name in _SAGEMAKER_NAMES:
        from objlen.segment import sagemaker

        return getattr(sagemaker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "MaskFileSegmenter",
    "SageMakerSegmenter",
    "SageMakerSettings",
    "Segmentation",
    "Segmenter",
    "check_connection",
    "describe_endpoint_status",
    "make_segmenter",
    "segment_photo",
]
