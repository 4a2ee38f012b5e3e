"""Accuracy of objlen on rendered scenes with known ground truth.

Scenes come from :mod:`objlen.testing.synthetic`: a pinhole camera tilted 0-40 deg
over a table, an ID-1 card (or an ArUco marker) as the reference, a
rectangle, ellipse or irregular blob as the object, anti-aliased rendering,
and mask boundary noise of 0-2 px. Each scene is measured with both methods;
the table gives, per condition and method, the median and 90th percentile of
the relative error of width and height (pooled), and the coverage: how often
the truth lies inside the reported 95 % interval.

Run: ``python bench/accuracy.py [--scenes 8] [--markdown out.md]``. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from objlen import MeasureOptions, ObjlenError, ReferenceSpec, measure
from objlen.testing.synthetic import random_scene

CARD_MM = (85.6, 54.0)
TILTS = (0, 10, 20, 30, 40)
SHAPES = ("rectangle", "ellipse", "blob")
NOISES = (0.0, 1.0, 2.0)
METHODS = ("proportional", "homography")


def options_for(method: str, scene) -> MeasureOptions:
    """Options a careful operator would give for this scene and method."""
    ref = scene.reference
    if ref.kind == "aruco":
        spec = ReferenceSpec(aruco_dictionary=ref.aruco_dictionary, marker_size=ref.size_mm[0])
    elif method == "homography":
        spec = ReferenceSpec(size=CARD_MM)
    else:
        spec = ReferenceSpec(length=CARD_MM[0])
    return MeasureOptions(method=method, reference=spec)


def run_condition(condition: tuple) -> list[dict]:
    """Render and measure the scenes of one condition; one row per scene and method."""
    reference, tilt, shape, noise, count, seed = condition
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        scene = random_scene(
            rng, shape=shape, tilt_deg=float(tilt), mask_noise_px=noise, reference=reference
        )
        true_w, true_h = scene.object_size_mm(0)
        for method in METHODS:
            row = {
                "reference": reference,
                "tilt": tilt,
                "shape": shape,
                "noise": noise,
                "method": method,
            }
            try:
                obj = measure(scene.mask, options_for(method, scene), image=scene.image).objects[0]
            except ObjlenError as error:
                row["failed"] = str(error)
                rows.append(row)
                continue
            row["errors"] = [obj.width.value / true_w - 1, obj.height.value / true_h - 1]
            row["covered"] = [
                abs(obj.width.value - true_w) <= obj.width.uncertainty,
                abs(obj.height.value - true_h) <= obj.height.uncertainty,
            ]
            row["relative_u"] = [obj.width.relative, obj.height.relative]
            rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict[str, float]:
    """Median / p90 |error| (%), coverage (%), and failures of a group of rows."""
    done = [r for r in rows if "errors" in r]
    errors = np.abs([e for r in done for e in r["errors"]]) * 100
    covered = [c for r in done for c in r["covered"]]
    return {
        "median": float(np.median(errors)) if len(errors) else float("nan"),
        "p90": float(np.percentile(errors, 90)) if len(errors) else float("nan"),
        "coverage": 100.0 * float(np.mean(covered)) if covered else float("nan"),
        "failed": len(rows) - len(done),
        "n": len(done),
    }


def _cell(stats: dict[str, float]) -> str:
    failed = f" ({stats['failed']} failed)" if stats["failed"] else ""
    return f"{stats['median']:.2f} / {stats['p90']:.2f} / {stats['coverage']:.0f}{failed}"


def table(rows: list[dict], keys: tuple[str, ...]) -> str:
    """A markdown table grouped by ``keys``, one column per method."""
    groups: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        groups[tuple(row[k] for k in keys)][row["method"]].append(row)
    header = (
        "| "
        + " | ".join(keys)
        + " | "
        + " | ".join(f"{m}: median / p90 error % / coverage %" for m in METHODS)
        + " |"
    )
    lines = [header, "|" + "---|" * (len(keys) + len(METHODS))]
    for key in sorted(groups):
        cells = [_cell(summarise(groups[key][m])) for m in METHODS]
        lines.append("| " + " | ".join(str(k) for k in key) + " | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def goals(rows: list[dict]) -> str:
    """The issue's accuracy goals, measured."""

    def pick(**where):
        return [
            r
            for r in rows
            if all((r[k] in v) if isinstance(v, tuple) else r[k] == v for k, v in where.items())
        ]

    face_on = summarise(pick(reference="card", tilt=0, noise=0.0, method="proportional"))
    tilted_h = summarise(pick(reference="card", tilt=(20, 30, 40), noise=0.0, method="homography"))
    tilted_p = summarise(
        pick(reference="card", tilt=(20, 30, 40), noise=0.0, method="proportional")
    )
    valid = pick(method="homography") + pick(tilt=0, method="proportional")
    coverage = summarise(valid)
    everything = summarise(rows)
    return "\n".join(
        [
            f"- face-on, clean masks, proportional: median error {face_on['median']:.2f} % "
            "(goal <= 0.3 %)",
            f"- tilt 20-40 deg, clean masks, card, homography: median {tilted_h['median']:.2f} % "
            f"(goal <= 0.5 %); proportional there: median {tilted_p['median']:.1f} %, "
            f"p90 {tilted_p['p90']:.1f} %",
            f"- coverage of the 95 % interval where the method's assumptions hold (homography "
            f"everywhere, proportional face-on): {coverage['coverage']:.1f} % of "
            f"{2 * coverage['n']} lengths (goal >= 90 %)",
            f"- failures (an error instead of a number): {everything['failed']} of "
            f"{everything['failed'] + everything['n']} measurements",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=8, help="scenes per condition")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    conditions = [
        ("card", tilt, shape, noise, args.scenes, 1000 * i)
        for i, (tilt, shape, noise) in enumerate(itertools.product(TILTS, SHAPES, NOISES))
    ] + [
        ("aruco", tilt, shape, noise, max(args.scenes // 2, 1), 500_000 + 1000 * i)
        for i, (tilt, shape, noise) in enumerate(itertools.product(TILTS, SHAPES, (0.0, 2.0)))
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = [row for chunk in pool.map(run_condition, conditions) for row in chunk]
    seconds = time.perf_counter() - started
    card = [r for r in rows if r["reference"] == "card"]
    aruco = [r for r in rows if r["reference"] == "aruco"]
    text = "\n\n".join(
        [
            "### Goals\n\n" + goals(rows),
            "### Card reference, by camera tilt and mask noise\n\n"
            + table(card, ("tilt", "noise")),
            "### Card reference, by shape\n\n" + table(card, ("tilt", "shape")),
            "### ArUco reference (40 mm)\n\n" + table(aruco, ("tilt", "noise")),
            f"{len(rows)} measurements of {len(rows) // 2} scenes in {seconds:.0f} s.",
        ]
    )
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
