"""``python -m objlen calibrate PHOTOS... --board B --out camera.json``: a lens profile."""

from __future__ import annotations

import argparse
from pathlib import Path

from objlen.board import calibrate_camera
from objlen.errors import ParameterError
from objlen.imageio import load_image


def run_calibrate(args: argparse.Namespace) -> int:
    """Calibrate from ``args.photos``, write ``args.out``; return the exit status."""
    images = [load_image(path) for path in args.photos]
    profile, views = calibrate_camera(images, args.board, names=args.photos)
    out = Path(args.out)
    try:
        profile.save(out)
    except OSError as error:
        raise ParameterError(f"cannot write {out}: {error.strerror}") from None
    width, height = profile.image_size
    k = profile.matrix
    k1, k2 = profile.distortion[:2]
    print(
        f"{out}: camera profile for {width}x{height} px photos from {len(views)} of "
        f"{len(args.photos)} photos; reprojection RMS {profile.rms_px:.3f} px"
    )
    print(
        f"  focal {k[0, 0]:.1f} x {k[1, 1]:.1f} px, principal point {k[0, 2]:.1f},{k[1, 2]:.1f}"
        f" px, distortion k1 {k1:+.4f} k2 {k2:+.4f}"
    )
    for view in views:
        print(f"  {view.name}: {view.corners} corners, RMS {view.rms_px:.3f} px")
    skipped = sorted(set(args.photos) - {view.name for view in views})
    for name in skipped:
        print(f"  {name}: board not found well enough, not used")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` command to ``objlen``'s subparsers."""
    parser = commands.add_parser(
        "calibrate",
        help="make a camera profile from photos of a ChArUco board",
        description="Calibrate the camera's lens from several photos of a ChArUco board (the "
        "measuring mat, or any board with --board charuco:...), taken from different angles "
        "at the size you will measure at. Then measure with --camera PROFILE: the points are "
        "undistorted before measuring.",
    )
    parser.add_argument("photos", nargs="+", help="three or more photos of the board")
    parser.add_argument(
        "--board",
        default="mat",
        help="the board: mat (default), mat:A4|Letter|A3, or charuco:COLSxROWS:SQUARE:MARKER:DICT",
    )
    parser.add_argument("--out", default="camera.json", help="the profile to write (JSON)")
    parser.set_defaults(run=run_calibrate)
