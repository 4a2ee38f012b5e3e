"""The command line: ``python -m objlen measure IMAGE ...``.

Every error an operator can cause is printed as one line on stderr, with exit
status 2 and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from objlen.cli.batch import register as register_batch
from objlen.cli.calibrate import register as register_calibrate
from objlen.cli.mat import register as register_mat
from objlen.cli.options import (
    add_measure_options,
    add_segmenter_options,
    options_from_args,
    sagemaker_settings_from_args,
)
from objlen.cli.parser import OneLineParser
from objlen.cli.sagemaker import register as register_sagemaker
from objlen.errors import ObjlenError
from objlen.imageio import load_image, load_mask, read_regular_file
from objlen.measure import measure
from objlen.options import MeasureOptions
from objlen.result import Measurement

EXIT_BAD_INPUT = 2


def _add_measure_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "measure",
        help="measure the object in a photo",
        description="Measure width and height of the object in IMAGE against a reference "
        "of known size. Lengths may carry a unit suffix (85.6mm, 3.37in); a bare number "
        "is in --unit.",
    )
    parser.add_argument("image", help="the photo (JPEG, PNG, ...)")
    parser.add_argument("--mask", help="class-index mask PNG; without it the photo is segmented")
    add_measure_options(parser)
    parser.add_argument("--json", action="store_true", help="print the schema-v1 JSON")
    add_segmenter_options(parser, "segmentation (when --mask is not given)")
    parser.set_defaults(run=run_measure)


def _segment(args: argparse.Namespace, image, options: MeasureOptions):
    """Segment ``image``, decoded from ``args.image``, whose bytes go along (a
    SageMaker endpoint then gets a camera's JPEG unchanged)."""
    from objlen.segment import make_segmenter, segment_photo

    segmenter = make_segmenter(
        args.segmenter,
        classes=options.classes,
        sagemaker=sagemaker_settings_from_args(args),
        reference_rule=args.reference_rule,
        reference=options.reference,
    )
    return segment_photo(segmenter, image, source_bytes=read_regular_file(Path(args.image)))


def run_measure(args: argparse.Namespace) -> int:
    """``measure``: print the measurement; return the exit status."""
    from objlen.sagemaker.session import check_endpoint_url

    options = options_from_args(args)
    check_endpoint_url(args.endpoint_url, "--endpoint-url")
    image = load_image(args.image)
    height, width = image.shape[:2]
    extra_notes: list[str] = []
    if args.mask:
        mask, notes = load_mask(args.mask, (width, height))
    else:
        segmentation = _segment(args, image, options)
        mask, notes = segmentation.mask, list(segmentation.warnings)
        extra_notes = list(segmentation.notes)
    result = measure(mask, options, image=image, input_warnings=notes, input_notes=extra_notes)
    print(result.to_json() if args.json else summary(result, args.image))
    return 0


def summary(result: Measurement, name: str) -> str:
    """A human-readable account of a measurement."""
    width, height = result.image_size
    unit = result.unit
    lines = [
        f"{name}: {width}x{height} px, method {result.method} "
        f"({result.options.orientation}), unit {unit}"
    ]
    ref = result.reference
    if ref.kind == "scale":
        lines.append(f"  scale     {ref.scale:.6g} {unit}/px (given)")
    else:
        lines.append(
            f"  reference {ref.kind}: CD = {ref.pixels:.1f} px = {ref.real:g} {unit} "
            f"(C {ref.C[0]:.1f},{ref.C[1]:.1f}  D {ref.D[0]:.1f},{ref.D[1]:.1f}; "
            f"located on {ref.located_on}) -> {ref.scale:.6g} {unit}/px"
        )
    for index, obj in enumerate(result.objects, start=1):
        lines.append(
            f"  object {index}  {obj.sizes_text(unit)}"
            f"   (AB {obj.ab_px:.1f} px, AE {obj.ae_px:.1f} px, 95 %)"
        )
    lines += [f"  note: {note}" for note in result.notes]
    lines += [f"  warning: {warning}" for warning in result.warnings]
    return "\n".join(lines)


def _add_serve_parser(commands: argparse._SubParsersAction) -> None:
    from objlen.sagemaker.local_endpoint import add_serve_arguments, run_serve

    parser = commands.add_parser(
        "serve",
        help="run a local SageMaker-compatible segmentation endpoint",
        description="Answer the SageMaker runtime InvokeEndpoint API and the inference "
        "container contract (/ping, /invocations) with the local segmenter, on loopback "
        "by default. Point --endpoint-url (CLI) or the app's settings at it.",
    )
    add_serve_arguments(parser)
    parser.set_defaults(run=run_serve)


def build_parser() -> argparse.ArgumentParser:
    """The ``objlen`` argument parser with all its commands."""
    parser = OneLineParser(prog="objlen", description="Measure objects in photos.")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_measure_parser(commands)
    _add_serve_parser(commands)
    register_batch(commands)
    register_sagemaker(commands)
    register_mat(commands)
    register_calibrate(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ObjlenError as error:
        print(f"objlen: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("objlen: interrupted", file=sys.stderr)
        return 130
