"""The ``batch`` and ``dataset`` commands of the command line.

``objlen.cli.main`` wires them in with ``register(commands)``::

    objlen batch INPUT... --out DIR [--reference-size 85.6x54 ...] [--concurrency 8]
    objlen dataset export --db PATH --out DIR [--validation 0.2] [--seed 0]
    objlen dataset validate DIR

``batch`` takes the ``measure`` command's reference, method, unit, class and
segmenter options under the same names (they go through
:func:`objlen.cli.options.options_from_args`) and shows a progress line on stderr.
Exit status: ``batch`` 0 when every photo was measured, 1 when some failed
(the others are in the results); ``dataset validate`` 0 when the folder is
clean, 1 when it has problems; 2 for bad input (an ``ObjlenError``, printed
by ``objlen.cli.main.main`` without a traceback).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from objlen.batch.budget import DEFAULT_MEMORY_BUDGET_BYTES
from objlen.batch.photo import SegmenterFactory, segmenter_factory_for
from objlen.batch.results import ANNOTATE_FORMATS
from objlen.batch.runner import BatchProgress, run_batch
from objlen.classes import ClassIds
from objlen.cli.interrupt import second_interrupt_stops_at_once
from objlen.cli.options import (
    add_measure_options,
    add_segmenter_options,
    options_from_args,
    sagemaker_settings_from_args,
)
from objlen.cli.parser import EXIT_INTERRUPTED
from objlen.errors import ObjlenError, ParameterError, without_name
from objlen.options import MeasureOptions
from objlen.redact import redact_url

EXIT_FAILURES = 1


def segmenter_factory_from_args(
    args: argparse.Namespace, options: MeasureOptions
) -> SegmenterFactory:
    """A segmenter factory for ``run_batch`` from the segmenter and measurement options."""
    return segmenter_factory_for(
        args.segmenter,
        classes=options.classes,
        sagemaker=sagemaker_settings_from_args(args),
        reference_rule=args.reference_rule,
        reference=options.reference,
    )


class ProgressLine:
    """A one-line progress display on ``stream``: rewritten in place on a
    terminal, one line per tenth of the batch otherwise."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._shown_tenth = -1

    def __call__(self, state: BatchProgress) -> None:
        rate = state.done / state.elapsed_s if state.elapsed_s > 0 else 0.0
        text = (
            f"[{state.done}/{state.total}] {state.ok} ok, {state.failed} failed, "
            f"{state.resumed} already done  {rate:.1f} photos/s"
        )
        if self.live:
            end = "\n" if state.done == state.total else ""
            self.stream.write(f"\r\x1b[K{text}{end}")
        else:
            tenth = int(10 * state.fraction)
            if tenth == self._shown_tenth and state.done != state.total:
                return
            self._shown_tenth = tenth
            self.stream.write(text + "\n")
        self.stream.flush()


def run_batch_command(args: argparse.Namespace) -> int:
    """``batch``: measure every photo; return 0, or 1 when some failed.

    This process runs the batch and nothing else: its allocator keeps freed
    buffers for the next photo (:func:`objlen.batch.allocator.reuse_freed_buffers`).
    """
    from objlen.batch.allocator import reuse_freed_buffers
    from objlen.sagemaker.session import check_endpoint_url

    options = options_from_args(args)
    s3_endpoint_url = check_endpoint_url(args.s3_endpoint_url, "--s3-endpoint-url")
    check_endpoint_url(args.endpoint_url, "--endpoint-url")
    factory = segmenter_factory_from_args(args, options)
    reuse_freed_buffers()
    kept = (
        f"the photos finished so far are kept in {args.out}: "
        "run the same command again to resume"
    )
    try:
        with second_interrupt_stops_at_once(f"objlen: stopped at once; {kept}"):
            report = run_batch(
                args.inputs,
                args.out,
                options=options,
                segmenter_factory=factory,
                concurrency=args.concurrency,
                progress=None if args.quiet else ProgressLine(sys.stderr),
                s3_endpoint_url=s3_endpoint_url,
                annotate=not args.no_annotate,
                annotate_format=args.annotate_format,
                memory_budget_bytes=_memory_budget_bytes(args.max_memory_mb),
                processes=args.processes,
                scheduler=_scheduler_address(args.scheduler),
            )
    except KeyboardInterrupt:
        live = not args.quiet and sys.stderr.isatty()  # end the progress line first
        print(f"{chr(10) if live else ''}objlen: interrupted; {kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    for name, message in report.failures:
        reason = without_name(name, message)
        print(f"objlen: failed: {name}: {redact_url(reason)}", file=sys.stderr)
    print(
        f"{report.ok} of {report.total} photos measured, {report.failed} failed "
        f"({report.resumed} already done); results in {report.results_csv}"
    )
    return EXIT_FAILURES if report.failed else 0


def _scheduler_address(address: str | None) -> str | None:
    """``--scheduler`` as given, if it is a Dask scheduler's ``tcp://HOST:PORT``.

    Raises:
        ParameterError: anything else.
    """
    if address is None:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(address.strip())
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or parts.scheme != "tcp" or not parts.hostname or not port:
        raise ParameterError(
            f"--scheduler {redact_url(address)!r} is not a Dask scheduler's address; give "
            "tcp://HOST:PORT (what `dask scheduler` prints)"
        )
    return address.strip()


def _memory_budget_bytes(megabytes: float) -> int:
    """``--max-memory-mb`` in bytes.

    Raises:
        ParameterError: not a number within 64..1,000,000 MB.
    """
    if not (math.isfinite(megabytes) and 64 <= megabytes <= 1_000_000):
        raise ParameterError("--max-memory-mb must be a number of megabytes within 64..1000000")
    return int(megabytes * 1024 * 1024)


def _add_batch_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "batch",
        help="measure many photos: files, folders, zip files, s3://bucket/prefix",
        description="Segment and measure every photo of the INPUTs with the same options. "
        "Writes results.csv, results.jsonl and annotated/ into --out; running again into "
        "the same folder skips what is done. Exit status 1 when some photos failed.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="file, folder, zip or s3://")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="photos in flight at once (default 8)"
    )
    parser.add_argument("--s3-endpoint-url", help="S3 endpoint instead of AWS's")
    parser.add_argument("--no-annotate", action="store_true", help="write no annotated pictures")
    parser.add_argument(
        "--annotate-format",
        choices=list(ANNOTATE_FORMATS),
        default=next(iter(ANNOTATE_FORMATS)),
        help="format of the annotated pictures: jpeg (quality 92, full-resolution colour; "
        "the default) or png (lossless; about 7 times the bytes and 5 times the encoding time)",
    )
    parser.add_argument(
        "--max-memory-mb",
        type=float,
        default=DEFAULT_MEMORY_BUDGET_BYTES / 1024 / 1024,
        metavar="MB",
        help="memory the photos in flight may take at once, by their decoded size; a "
        f"larger photo runs alone (default {DEFAULT_MEMORY_BUDGET_BYTES // 1024 // 1024})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="do each photo's work in N local worker processes (Dask), not in threads "
        "that share one interpreter lock",
    )
    where.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="do each photo's work on the Dask cluster of this scheduler; the journal, "
        "the resume and the annotated pictures stay on this machine",
    )
    add_measure_options(parser)
    add_segmenter_options(parser)
    parser.set_defaults(run=run_batch_command)


def _classes_from_args(args: argparse.Namespace) -> ClassIds:
    return ClassIds(
        background=args.background_class,
        object=args.object_class,
        reference=args.reference_class,
        ignore=args.ignore_class,
    )


def run_dataset_export(args: argparse.Namespace) -> int:
    """``dataset export``: write the training set; return 0."""
    from objlen.sagemaker.dataset import export_dataset
    from objlen.store import Store

    if not os.path.isfile(args.db):
        raise ParameterError(f"{args.db}: no such history database")
    report = export_dataset(
        Store(args.db),
        args.out,
        validation_fraction=args.validation,
        seed=args.seed,
        classes=_classes_from_args(args),
    )
    for row_id, reason in report.skipped:
        print(f"objlen: skipped measurement {row_id}: {reason}", file=sys.stderr)
    for image in report.images:
        for note in image.notes:
            print(f"objlen: note: measurement {image.row_id}: {note}", file=sys.stderr)
    print(
        f"{len(report.train)} training and {len(report.validation)} validation pairs in "
        f"{report.out_dir} (num_classes {report.num_classes})"
    )
    return 0


def run_dataset_validate(args: argparse.Namespace) -> int:
    """``dataset validate``: list every problem; return 1 if any, else 0."""
    from objlen.sagemaker.dataset import validate_dataset

    problems = validate_dataset(args.dir, num_classes=args.num_classes)
    for problem in problems:
        print(f"{problem.file}: [{problem.kind}] {problem.message}")
    if problems:
        print(f"{len(problems)} problem(s) in {args.dir}", file=sys.stderr)
        return EXIT_FAILURES
    print(f"{args.dir}: no problems")
    return 0


def _add_dataset_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "dataset",
        help="export saved measurements as a SageMaker training set; validate one",
        description="Training data in the layout of SageMaker's built-in semantic "
        "segmentation algorithm (train/, validation/, *_annotation/, label_map/).",
    )
    actions = parser.add_subparsers(dest="dataset_command", required=True)
    export = actions.add_parser("export", help="write the saved measurements as a training set")
    export.add_argument("--db", required=True, metavar="PATH", help="the history database")
    export.add_argument("--out", required=True, metavar="DIR", help="folder for the dataset")
    export.add_argument("--validation", type=float, default=0.2, help="share for validation")
    export.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    export.add_argument("--background-class", type=int, default=0)
    export.add_argument("--object-class", type=int, default=1)
    export.add_argument("--reference-class", type=int, default=2)
    export.add_argument("--ignore-class", type=int, default=255)
    export.set_defaults(run=run_dataset_export)
    validate = actions.add_parser("validate", help="check a folder against the layout's rules")
    validate.add_argument("dir", metavar="DIR")
    validate.add_argument(
        "--num-classes", type=int, help="classes of the model (default: from the export)"
    )
    validate.set_defaults(run=run_dataset_validate)


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``batch`` and ``dataset`` commands to ``objlen``'s subparsers."""
    _add_batch_parser(commands)
    _add_dataset_parser(commands)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``batch`` / ``dataset`` on their own (``python -m objlen.cli.batch``),
    with the same error handling as ``objlen.cli.main.main``."""
    from objlen.cli.parser import OneLineParser

    parser = OneLineParser(prog="objlen")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ObjlenError as error:
        print(f"objlen: error: {redact_url(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("objlen: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
