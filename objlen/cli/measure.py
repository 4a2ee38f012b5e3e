"""The ``measure`` command: ``python -m objlen measure IMAGE ...``.

It imports only what a measurement uses: the photo's decoder, the segmenter
asked for and the measurement core. The SageMaker client (boto3), the other
commands and the app are imported only when asked for (``--segmenter
sagemaker``, ``--endpoint-url``), so that a local measurement starts in about
the time Python takes to import OpenCV and NumPy. ``objlen.__main__`` runs
this module's :func:`main` directly when the command is ``measure``;
``objlen.cli.main`` registers the same parser among the other commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from objlen.advice import check_photo_size, left_out_note, operator_warnings
from objlen.cli.options import (
    add_measure_options,
    add_segmenter_options,
    options_from_args,
    sagemaker_settings_from_args,
)
from objlen.cli.parser import EXIT_USAGE, OneLineParser, run_parsed
from objlen.errors import ObjlenError
from objlen.imageio import load_image, load_mask, read_regular_file
from objlen.measure import measure
from objlen.options import MeasureOptions
from objlen.result import Measurement
from objlen.segment.base import Segmentation

#: Exit status of bad input (the parser's usage errors share it).
EXIT_BAD_INPUT = EXIT_USAGE


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``measure`` command to ``objlen``'s subparsers."""
    parser = commands.add_parser(
        "measure",
        help="measure the objects in a photo",
        description="Measure width and height of every object in IMAGE against a reference "
        "of known size. Lengths may carry a unit suffix (85.6mm, 3.37in); a bare number "
        "is in --unit.",
    )
    parser.add_argument("image", help="the photo (JPEG, PNG, ...)")
    parser.add_argument("--mask", help="class-index mask PNG; without it the photo is segmented")
    parser.add_argument(
        "--box",
        action="append",
        default=[],
        type=_box,
        metavar="X,Y,W,H",
        help="a box (photo pixels) around one object that the segmenter merged with something "
        "else: the local segmenter's box mode (GrabCut) cuts it out as an object of its own; "
        "repeat for more objects",
    )
    add_measure_options(parser)
    parser.add_argument("--json", action="store_true", help="print the schema-v1 JSON")
    add_segmenter_options(parser, "segmentation (when --mask is not given)")
    parser.set_defaults(run=run_measure)


def _box(text: str) -> tuple[float, float, float, float]:
    """``--box X,Y,W,H`` as four numbers (argparse reports a bad one in one line)."""
    from objlen.maskedit import parse_box

    try:
        return parse_box(text)
    except ObjlenError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _apply_boxes(
    args: argparse.Namespace, image: np.ndarray, mask: np.ndarray, options: MeasureOptions
) -> np.ndarray:
    """Cut the object of each ``--box`` out of ``mask`` (the local segmenter's box mode)."""
    if not args.box:
        return mask
    from objlen.maskedit import prompt_box
    from objlen.segment.local import LocalSegmenter

    segmenter = LocalSegmenter(classes=options.classes, reference=options.reference)
    for box in args.box:
        mask = prompt_box(image, mask, box, options.classes, segmenter)
    return mask


def _segment(
    args: argparse.Namespace, image: np.ndarray, data: bytes, options: MeasureOptions
) -> Segmentation:
    """Segment ``image``, decoded from ``data`` (the file's bytes, which go along:
    a SageMaker endpoint then gets a camera's JPEG unchanged)."""
    from objlen.segment import make_segmenter, segment_photo

    sagemaker = sagemaker_settings_from_args(args) if args.segmenter == "sagemaker" else None
    segmenter = make_segmenter(
        args.segmenter,
        classes=options.classes,
        sagemaker=sagemaker,
        reference_rule=args.reference_rule,
        reference=options.reference,
    )
    return segment_photo(segmenter, image, source_bytes=data)


def run_measure(args: argparse.Namespace) -> int:
    """``measure``: print the measurement; return the exit status."""
    options = options_from_args(args)
    if args.endpoint_url:
        from objlen.sagemaker.session import check_endpoint_url

        check_endpoint_url(args.endpoint_url, "--endpoint-url")
    data = read_regular_file(Path(args.image))  # read once: decoded, and sent as it is
    image = load_image(data, name=args.image)
    check_photo_size(image)
    height, width = image.shape[:2]
    extra_notes: list[str] = []
    if args.mask:
        mask, notes = load_mask(args.mask, (width, height))
    else:
        segmentation = _segment(args, image, data, options)
        mask, notes = segmentation.mask, list(segmentation.warnings)
        extra_notes = list(segmentation.notes)
    mask = _apply_boxes(args, image, mask, options)
    if args.box:
        extra_notes.append(f"{len(args.box)} object(s) cut out with --box (the box mode)")
    result = measure(mask, options, image=image, input_warnings=notes, input_notes=extra_notes)
    print(
        result.to_json() if args.json else summary(result, args.image, left_out_note(mask, result))
    )
    return 0


def summary(result: Measurement, name: str, left_out: str | None = None) -> str:
    """A human-readable account of a measurement: the warnings one per problem
    (:func:`objlen.advice.operator_warnings`) and, when given, what was left out."""
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
    if left_out:
        lines.append(f"  left out: {left_out}")
    lines += [f"  note: {note}" for note in result.notes]
    lines += [f"  warning: {warning}" for warning in operator_warnings(result)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``measure`` alone (``python -m objlen measure ...`` comes here), with
    the same parser and error handling as ``objlen.cli.main.main``."""
    parser = OneLineParser(prog="objlen", description="Measure objects in photos.")
    register(parser.add_subparsers(dest="command", required=True))
    return run_parsed(parser.parse_args(argv))


__all__ = ["main", "register", "run_measure", "summary"]
