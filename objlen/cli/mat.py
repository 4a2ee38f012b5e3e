"""``python -m objlen mat``: write objlen's printable measuring mat as a PDF."""

from __future__ import annotations

import argparse
from pathlib import Path

from objlen.board import PAPERS, mat_layout, mat_pdf_bytes
from objlen.errors import ParameterError


def run_mat(args: argparse.Namespace) -> int:
    """Write the mat for ``args.paper`` to ``args.out``; return the exit status."""
    layout = mat_layout(args.paper)
    out = Path(args.out)
    try:
        out.write_bytes(mat_pdf_bytes(layout.paper))
    except OSError as error:
        raise ParameterError(f"cannot write {out}: {error.strerror}") from None
    width, height = layout.spec.size_mm
    print(
        f"{out}: objlen measuring mat on {layout.paper} ({layout.page[0]:g} x "
        f"{layout.page[1]:g} mm), board {layout.spec.text()} ({width:g} x {height:g} mm). "
        "Print at 100 % (no 'fit to page'), check that the bar measures 100 mm, then: "
        "python -m objlen measure PHOTO --board mat"
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``mat`` command to ``objlen``'s subparsers."""
    parser = commands.add_parser(
        "mat",
        help="write the printable measuring mat (PDF)",
        description="Write objlen's measuring mat: a ChArUco board around an empty middle "
        "where objects go, a 100 mm bar to check the print, and the board's specification. "
        "Measure photos of it with --board mat.",
    )
    parser.add_argument("--paper", choices=tuple(PAPERS), default="A4")
    parser.add_argument("--out", default="mat.pdf", help="the PDF to write (default mat.pdf)")
    parser.set_defaults(run=run_mat)
