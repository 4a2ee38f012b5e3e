"""Command-line options shared by ``measure``, ``batch`` and ``sagemaker
measure-transform``: what the reference is, the method, the unit, the class
ids, and the segmenter. One definition, so the commands cannot drift apart.
"""

from __future__ import annotations

import argparse
import os

from objlen.camera import CameraProfile
from objlen.classes import ClassIds
from objlen.errors import ParameterError
from objlen.options import METHODS, ORIENTATIONS, MeasureOptions, ReferenceSpec
from objlen.segment.local import REFERENCE_CHOICES
from objlen.units import UNITS, parse_length, parse_size


def add_measure_options(parser: argparse.ArgumentParser) -> None:
    """The reference, method, unit and class options :func:`options_from_args` reads."""
    reference = parser.add_mutually_exclusive_group()
    reference.add_argument(
        "--reference-length", metavar="L", help="real length of the reference's long axis CD"
    )
    reference.add_argument(
        "--reference-size",
        metavar="WxH",
        help="real width x height of a rectangular reference, e.g. 85.6x54",
    )
    reference.add_argument(
        "--aruco",
        metavar="DICT",
        help="the reference is an ArUco marker of this dictionary, "
        "e.g. DICT_4X4_50 (needs --marker-size)",
    )
    reference.add_argument(
        "--board",
        metavar="BOARD",
        help="the reference is a ChArUco board in the photo: mat (objlen's printed mat, "
        "python -m objlen mat), mat:A4|Letter|A3, or charuco:COLSxROWS:SQUARE:MARKER:DICT",
    )
    reference.add_argument(
        "--scale",
        type=float,
        metavar="UNITS_PER_PX",
        help="real units per pixel, known beforehand (no reference needed)",
    )
    parser.add_argument(
        "--marker-size", metavar="S", help="side of the ArUco marker's black square"
    )
    parser.add_argument("--method", choices=METHODS, default="proportional")
    parser.add_argument("--orientation", choices=ORIENTATIONS, default="upright")
    parser.add_argument(
        "--offset", default="0", metavar="N", help="constant subtracted from the height (default 0)"
    )
    parser.add_argument("--unit", choices=UNITS, default="mm")
    parser.add_argument(
        "--lens-allowance",
        type=float,
        default=MeasureOptions.lens_corner_shift,
        metavar="SHARE",
        help="uncorrected lens distortion allowed for in the interval: the share by which "
        "it may move the photo's corner (default 0.035, OpenCV k1 = 0.1 at a 26 mm-equivalent "
        "lens; 0 for a lens known to be corrected; not used with --camera or --board)",
    )
    parser.add_argument("--object-class", type=int, default=1)
    parser.add_argument("--reference-class", type=int, default=2)
    count = parser.add_mutually_exclusive_group()
    count.add_argument(
        "--largest",
        action="store_true",
        help="measure only the largest object (by default every object is measured, "
        "largest first; the output says how many regions were left out and why)",
    )
    count.add_argument(
        "--all", action="store_true", help="measure every object, largest first (the default)"
    )
    parser.add_argument(
        "--camera",
        metavar="PROFILE",
        help="a camera profile (python -m objlen calibrate): undistort the points first",
    )
    parser.add_argument(
        "--object-height",
        metavar="H",
        help="height of the measured face above the reference's plane (homography; needs "
        "the plane's pose: a tilted board, or --camera)",
    )


def add_segmenter_options(parser: argparse.ArgumentParser, title: str = "segmentation") -> None:
    """The segmenter options :func:`sagemaker_settings_from_args` reads."""
    segment = parser.add_argument_group(title)
    segment.add_argument("--segmenter", choices=("local", "sagemaker"), default="local")
    segment.add_argument("--endpoint", help="SageMaker endpoint name")
    segment.add_argument("--region", help="AWS region of the endpoint")
    segment.add_argument("--profile", help="AWS profile name")
    segment.add_argument("--endpoint-url", help="runtime URL, e.g. of `python -m objlen serve`")
    segment.add_argument(
        "--reference-rule",
        default="auto",
        choices=REFERENCE_CHOICES,
        help="local segmenter: which region is the reference; auto (default) takes the one "
        "shaped like the reference described (a disc for a length, a rectangle of the "
        "given aspect for WxH), ties to the largest",
    )


def options_from_args(args: argparse.Namespace) -> MeasureOptions:
    """Validated :class:`MeasureOptions` from the options of :func:`add_measure_options`.

    Raises:
        ParameterError: no reference said, or a value out of range.
    """
    unit = args.unit
    if args.reference_length is not None:
        spec = ReferenceSpec(
            length=parse_length(args.reference_length, unit, what="--reference-length")
        )
    elif args.reference_size is not None:
        spec = ReferenceSpec(size=parse_size(args.reference_size, unit, what="--reference-size"))
    elif args.aruco is not None:
        if args.marker_size is None:
            raise ParameterError(
                "--aruco needs --marker-size, the side of the marker's black square"
            )
        spec = ReferenceSpec(
            aruco_dictionary=args.aruco,
            marker_size=parse_length(args.marker_size, unit, what="--marker-size"),
        )
    elif args.scale is not None:
        spec = ReferenceSpec(scale=args.scale)
    elif getattr(args, "board", None) is not None:
        spec = ReferenceSpec(board=args.board)
    else:
        raise ParameterError(
            "say what the reference is: --reference-length L, --reference-size WxH, "
            "--aruco DICT --marker-size S, --board BOARD, or --scale"
        )
    if args.marker_size is not None and args.aruco is None:
        raise ParameterError("--marker-size goes with --aruco")
    return MeasureOptions(
        reference=spec,
        method=args.method,
        orientation=args.orientation,
        unit=unit,
        offset=parse_length(args.offset, unit, what="--offset", allow_zero=True),
        classes=ClassIds(object=args.object_class, reference=args.reference_class),
        all_objects=not getattr(args, "largest", False),
        lens_corner_shift=args.lens_allowance,
        camera=CameraProfile.load(args.camera) if getattr(args, "camera", None) else None,
        object_height=(
            parse_length(args.object_height, unit, what="--object-height", allow_zero=True)
            if getattr(args, "object_height", None) is not None
            else None
        ),
    ).validated()


def sagemaker_settings_from_args(args: argparse.Namespace):  # -> SageMakerSettings | None
    """Endpoint settings for ``--segmenter sagemaker`` (None for ``local``); the
    region falls back to ``AWS_REGION`` / ``AWS_DEFAULT_REGION``.

    Raises:
        ParameterError: sagemaker without an endpoint name or a region.
    """
    if args.segmenter != "sagemaker":
        return None
    if not args.endpoint:
        raise ParameterError("--segmenter sagemaker needs --endpoint NAME")
    from objlen.segment import SageMakerSettings

    return SageMakerSettings(
        endpoint_name=args.endpoint,
        region=args.region
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "",
        profile=args.profile,
        endpoint_url=args.endpoint_url,
    )
