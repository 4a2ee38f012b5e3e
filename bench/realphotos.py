"""objlen and the classic peer on the real photos of ``shared/realphotos``, in one run.

For every labelled photo objlen measures as an operator would on the command
line (local segmenter, ``--all``, the reference's true size; the gridboard on
its given masks with both methods), and the classic Canny + contours peer
(``bench/classic_peer.py``) measures the same photo; both are matched to the
truth and scored by the same code (:mod:`objlen.testing.realphotos`). Sizes
are compared sorted, long x short, in mm; errors are signed, in percent.

Two tables: one row per truth object and run, and a summary per set (median
and max absolute error, 95 % interval coverage, reference correct) with the
region counts of the unlabelled photos.

Run: ``python bench/realphotos.py [--folder DIR] [--markdown out.md]``.
Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(ROOT))

from bench.classic_peer import classic_measure  # noqa: E402
from objlen.imageio import load_image  # noqa: E402
from objlen.testing.realphotos import (  # noqa: E402
    PEER,
    REFERENCE_RADIUS_SHARE,
    LabelledPhoto,
    MeasuredBox,
    ObjectScore,
    ReferenceScore,
    ToolSummary,
    count_regions,
    evaluate_all_objlen,
    load_labelled,
    objlen_runs,
    realphotos_dir,
    reference_score,
    score_boxes,
    summarise,
    unlabelled_photos,
)

PEER_RUN = "photo"


def run_peer(photo: LabelledPhoto) -> tuple[list[ObjectScore], ReferenceScore]:
    """The classic peer on one photo, scored like objlen."""
    ref = photo.reference
    result = classic_measure(
        load_image(photo.path), ref.approx_px, ref.size_mm, REFERENCE_RADIUS_SHARE * ref.extent_px
    )
    scores = score_boxes(photo, PEER_RUN, PEER, result.boxes, photo.objects)
    return scores, reference_score(photo, PEER_RUN, PEER, result.reference_px)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f}"


def _abs_pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _errors(score: ObjectScore | None) -> str:
    if score is None:
        return "-"
    if score.errors is None:
        return "missed"
    return " / ".join(_pct(e) for e in score.errors)


def _measured(score: ObjectScore) -> str:
    m = score.measured
    if m is None:
        return "missed"
    if m.uncertainty_mm is None:
        return f"{m.dims_mm[0]:.2f} x {m.dims_mm[1]:.2f}"
    (a, b), (ua, ub) = m.dims_mm, m.uncertainty_mm
    return f"{a:.2f} ± {ua:.2f} x {b:.2f} ± {ub:.2f}"


def _inside(score: ObjectScore) -> str:
    if score.inside is None:
        return "-"
    return " / ".join("yes" if i else "no" for i in score.inside)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def object_table(objlen: list[ObjectScore], peer: list[ObjectScore]) -> str:
    """One row per truth object and objlen run, with the peer's error beside it."""
    peer_by_object = {(s.photo, s.name): s for s in peer}
    rows = [
        [
            s.photo,
            s.run,
            s.name,
            s.grade,
            f"{s.truth_mm[0]:g} x {s.truth_mm[1]:g}",
            _measured(s),
            _errors(s),
            _inside(s),
            _errors(peer_by_object.get((s.photo, s.name))),
        ]
        for s in objlen
    ]
    header = [
        "photo",
        "objlen run",
        "object",
        "grade",
        "truth mm",
        "objlen mm (95 %)",
        "objlen error %",
        "inside?",
        "peer error %",
    ]
    return _table(header, rows)


def _primary_max(scores: Sequence[ObjectScore]) -> str:
    """Largest |error| % over the primary objects ("missed" when one was)."""
    primary = [s for s in scores if s.grade == "primary"]
    if not primary:
        return "-"
    worst = max(s.worst_error for s in primary)
    return "missed" if worst == float("inf") else _abs_pct(worst)


def _summary_cells(
    summary: ToolSummary, scores: Sequence[ObjectScore], coverage: bool
) -> list[str]:
    cells = [
        f"{summary.missed}/{summary.objects}",
        _abs_pct(summary.median_error),
        _abs_pct(summary.max_error),
        _primary_max(scores),
    ]
    if coverage:
        share = summary.coverage
        cells.append("-" if share is None else f"{summary.inside}/{summary.lengths} ({share:.0%})")
    cells.append(f"{summary.references_correct}/{summary.photos}")
    return cells


def summary_table(
    photos: list[LabelledPhoto],
    objlen: list[ObjectScore],
    objlen_refs: list[ReferenceScore],
    peer: list[ObjectScore],
    peer_refs: list[ReferenceScore],
) -> str:
    """One row per set and objlen run; the peer over the same objects."""
    rows = []
    groups = dict.fromkeys((p.set_name, run.label) for p in photos for run in objlen_runs(p))
    for set_name, run in groups:
        mine = [s for s in objlen if s.set_name == set_name and s.run == run]
        names = {(s.photo, s.name) for s in mine}
        theirs = [s for s in peer if (s.photo, s.name) in names]
        refs = [r for r in objlen_refs if r.set_name == set_name and r.run == run]
        their_refs = [r for r in peer_refs if r.set_name == set_name]
        assumption = "" if all(s.assumptions_hold for s in mine) else " (tilted: assumption broken)"
        rows.append(
            [
                set_name,
                run + assumption,
                *_summary_cells(summarise(mine, refs), mine, coverage=True),
                *_summary_cells(summarise(theirs, their_refs), theirs, coverage=False),
            ]
        )
    holding = [s for s in objlen if s.assumptions_hold]
    holding_runs = {(s.photo, s.run) for s in holding}
    holding_refs = [r for r in objlen_refs if (r.photo, r.run) in holding_runs]
    rows.append(
        [
            "all",
            "runs where the method's assumptions hold",
            *_summary_cells(summarise(holding, holding_refs), holding, coverage=True),
            *_summary_cells(summarise(peer, peer_refs), peer, coverage=False),
        ]
    )
    header = [
        "set",
        "objlen run",
        "objlen missed",
        "objlen median |err| %",
        "objlen max |err| %",
        "objlen max |err| % primary",
        "truth inside 95 %",
        "objlen reference correct",
        "peer missed",
        "peer median |err| %",
        "peer max |err| %",
        "peer max |err| % primary",
        "peer reference correct",
    ]
    return _table(header, rows)


def regions_table(folder: Path | None) -> str:
    """Regions (reference included) on the unlabelled photos: objlen and the peer."""
    rows = []
    for photo in unlabelled_photos(folder):
        count = count_regions(photo)
        peer = classic_measure(
            load_image(photo.path),
            photo.reference_px,
            max(photo.spec.size or (photo.spec.length,)),
            REFERENCE_RADIUS_SHARE * photo.reference_extent_px,
        )
        peer_regions = len(peer.boxes) + (peer.reference_px is not None)
        rows.append(
            [
                count.photo,
                "error: " + count.error if count.regions is None else str(count.regions),
                str(count.expected),
                "yes" if count.reference_correct else "no",
                str(peer_regions),
                _sizes(count.boxes),
                _sizes(sorted(peer.boxes, key=lambda b: b.centre_px)),
            ]
        )
    header = [
        "photo",
        "objlen regions",
        "expected",
        "objlen reference correct",
        "peer contours",
        "objlen objects, left to right (mm)",
        "peer objects (mm)",
    ]
    return _table(header, rows)


def _sizes(boxes: Sequence[MeasuredBox]) -> str:
    """``long x short`` of each box, in mm: the unlabelled photos have no truth,
    but a mask that changes shows here."""
    return ", ".join(f"{b.dims_mm[0]:.1f} x {b.dims_mm[1]:.1f}" for b in boxes)


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="the real-photo folder (default: see README)")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    folder = realphotos_dir(args.folder)
    photos = load_labelled(folder)
    objlen, objlen_refs = evaluate_all_objlen(photos)
    peer: list[ObjectScore] = []
    peer_refs: list[ReferenceScore] = []
    for photo in photos:
        their_scores, their_ref = run_peer(photo)
        peer += their_scores
        peer_refs.append(their_ref)
    text = "\n\n".join(
        [
            f"# Real photos ({folder}, objlen commit {_commit()})",
            "## Per object (sizes long x short; errors long / short, signed)",
            object_table(objlen, peer),
            "## Per set (|err| over every matched length; missed objects counted apart)",
            summary_table(photos, objlen, objlen_refs, peer, peer_refs),
            "## Unlabelled photos",
            regions_table(folder),
        ]
    )
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
