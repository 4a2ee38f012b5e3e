"""The command line: ``python -m objlen measure IMAGE ...``.

Every error an operator can cause is printed as one line on stderr, with exit
status 2 and no traceback. The ``measure`` command lives in
:mod:`objlen.cli.measure` (``python -m objlen measure`` runs it without this
module, which imports every command).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from objlen.cli.app import register as register_app
from objlen.cli.batch import register as register_batch
from objlen.cli.calibrate import register as register_calibrate
from objlen.cli.mat import register as register_mat
from objlen.cli.measure import (  # noqa: F401 - the public names
    EXIT_BAD_INPUT,
    run_measure,
    summary,
)
from objlen.cli.measure import register as register_measure
from objlen.cli.parser import OneLineParser, run_parsed
from objlen.cli.sagemaker import register as register_sagemaker


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
    register_measure(commands)
    _add_serve_parser(commands)
    register_batch(commands)
    register_app(commands)
    register_sagemaker(commands)
    register_mat(commands)
    register_calibrate(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    return run_parsed(build_parser().parse_args(argv))
