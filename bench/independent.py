"""objlen on scenes from a generator that is not the project's own.

The scenes come from ``bench/independent_scenes.py``, a small ray caster
written without reading or importing :mod:`objlen.testing.synthetic` (its
docstring says what it models and what it does not). objlen measures each
photo as a user does: the local segmenter told the reference
(``make_segmenter("local", reference=spec)``), then ``measure(mask, options,
image=photo)`` with every object; and once more from the exact mask (the
generator's own rasterisation, each pixel centre's ray), with the photo, so
that the segmenter's share of the error shows.

Conditions:

* **card**: an ID-1 card (85.60 x 53.98 mm, corners r = 3.18 mm) as the
  reference, a flat rectangle and a flat ellipse as the objects, the camera
  330-400 mm away tilted 0 / 20 / 40 deg; the homography method, ``auto``
  orientation. Variants, one effect each: plain; a 1-2 px dark or light line
  along the card's edge, inside its outline; soft cast shadows; blur (0.6-1.2
  px) + JPEG quality 70; lens distortion k1 = +-(0.05-0.1); a paper-like or
  wood-like table.
* **thick**: a 2-euro coin (25.75 mm, 2.2 mm thick) as the reference and
  three coins (16-24 mm, 1.5-2.2 mm thick) or three pills (rounded
  rectangles 10-22 x 5-10 mm, 3-5 mm thick), 30-95 mm off the point below the
  camera, which is 250-400 mm above the table, face-on or tilted 5-10 deg;
  the proportional method, ``auto`` orientation. The truth is the object's
  real footprint (diameter, or length x width); its side wall shows. The
  pills once more on a dark card with soft shadows (as in ``pills/``).
* **coins beside a card, dark table**: the card told as W x H, three coins
  (16-26 mm, side walls), a near-black, dark grey or dark wood table, soft
  shadows, the same cameras; proportional. Once more with **metal sheen**:
  each coin's face reflects the room, 0.35-0.6x to 1.4-1.65x its colour
  across it.

Beside objlen, for every proportional condition, the classic peer
(``bench/classic_peer.py``, its reference the contour nearest the true one)
on the same photos; it states no interval.

Each truth object is matched to the measured box whose centre is nearest its
own (within half its long side); sizes are compared sorted (long, short).
Per condition and mask: the median and largest |error|, the share of
lengths whose truth lies inside the reported 95 % interval (``|m - t| <=
u``, as ``objlen.testing.realphotos`` scores real photos; lengths the output
says it cannot bound are counted apart), the median relative half-width,
and how many lengths were unbounded (a proportional measurement against a
reference foreshortened beyond ``objlen.measure.UNBOUNDED_PERSPECTIVE``) or
warned (a relative half-width above the warning threshold); then objects
missed, scenes failed (an error) and references not on the true one.

Run: ``python bench/independent.py [--scenes 24] [--markdown out.md]``.
Seeded (scene ``i`` of every condition uses seed ``i``); prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(ROOT))

from bench.classic_peer import classic_measure  # noqa: E402
from bench.independent_scenes import (  # noqa: E402
    CARD_MM,
    CARD_VARIANTS,
    COIN_REFERENCE_MM,
    Scene,
    card_scene,
    dark_table_scene,
    thick_scene,
)
from objlen import ClassIds, MeasureOptions, ObjlenError, ReferenceSpec, measure  # noqa: E402
from objlen.measure import UNBOUNDED_PERSPECTIVE, measure_segmentation  # noqa: E402
from objlen.result import Measurement  # noqa: E402
from objlen.segment import make_segmenter  # noqa: E402
from objlen.testing.realphotos import MeasuredBox, objlen_boxes  # noqa: E402

#: What measures each scene: objlen from its local segmenter's mask, objlen from
#: the generator's exact mask, and the classic peer (proportional conditions only).
MASKS = ("segmenter", "exact", "peer")


@dataclass(frozen=True)
class Condition:
    """A set of scenes and how they are measured."""

    name: str
    tilt: str
    make: Callable[[int], Scene]
    options: MeasureOptions


@dataclass(frozen=True)
class LengthScore:
    """One measured length against its truth.

    Attributes:
        error: signed relative error (measured / true - 1).
        inside: the truth lies within the reported 95 % interval (None: the
            tool reports no interval).
        half_width: the interval's half-width relative to the value.
        unbounded: the output said it cannot bound this measurement's error.
        warned: the half-width is above the output's warning threshold.
    """

    error: float
    inside: bool | None
    half_width: float
    unbounded: bool
    warned: bool


@dataclass
class Tally:
    """What one condition and mask gave."""

    lengths: list[LengthScore]
    missed: int = 0
    failed: int = 0
    wrong_reference: int = 0
    objects: int = 0


def conditions() -> list[Condition]:
    """Every condition of the benchmark, in table order."""
    card = MeasureOptions(
        reference=ReferenceSpec(size=CARD_MM),
        method="homography",
        orientation="auto",
        all_objects=True,
    )
    coin = MeasureOptions(
        reference=ReferenceSpec(length=COIN_REFERENCE_MM),
        method="proportional",
        orientation="auto",
        all_objects=True,
    )
    found = []
    for variant in CARD_VARIANTS:
        for tilt in (0, 20, 40):
            found.append(
                Condition(
                    f"card, {variant}",
                    f"{tilt} deg",
                    lambda seed, v=variant, t=tilt: card_scene(seed, t, v),
                    card,
                )
            )
    beside_card = MeasureOptions(
        reference=ReferenceSpec(size=CARD_MM),
        method="proportional",
        orientation="auto",
        all_objects=True,
    )
    for sheen in (False, True):
        for tilted in (False, True):
            found.append(
                Condition(
                    "coins beside a card, dark table" + (", metal sheen" if sheen else ""),
                    "5-10 deg" if tilted else "0 deg",
                    lambda seed, t=tilted, s=sheen: dark_table_scene(seed, t, s),
                    beside_card,
                )
            )
    for kind, dark in (("coins", False), ("pills", False), ("pills", True)):
        for tilted in (False, True):
            found.append(
                Condition(
                    f"{kind} (thick), coin reference" + (", dark card, shadows" if dark else ""),
                    "5-10 deg" if tilted else "0 deg",
                    lambda seed, k=kind, t=tilted, d=dark: thick_scene(seed, k, t, d),
                    coin,
                )
            )
    return found


def _score(
    scene: Scene,
    boxes: list[MeasuredBox],
    tally: Tally,
    *,
    reference_at: np.ndarray,
    unbounded: bool = False,
    warn_relative: float = float("inf"),
) -> None:
    """Add one tool's objects, matched to the truth, to ``tally``: ``reference_at``
    is where its reference was found (px), ``unbounded`` whether it said it cannot
    bound the errors, ``warn_relative`` the half-width above which it warns."""
    if np.hypot(*(reference_at - scene.centre_px(scene.reference))) > 0.5 * scene.extent_px(
        scene.reference
    ):
        tally.wrong_reference += 1
    for truth in scene.objects:
        tally.objects += 1
        where = scene.centre_px(truth)
        distances = [float(np.hypot(*(np.asarray(b.centre_px) - where))) for b in boxes]
        if not distances or min(distances) > 0.5 * scene.extent_px(truth):
            tally.missed += 1
            continue
        found = boxes[int(np.argmin(distances))]
        halves = found.uncertainty_mm or (None, None)
        for value, half, true in zip(found.dims_mm, halves, truth.size_mm, strict=True):
            tally.lengths.append(
                LengthScore(
                    error=value / true - 1.0,
                    inside=None if half is None else abs(value - true) <= half,
                    half_width=float("nan") if half is None else half / abs(value),
                    unbounded=unbounded,
                    warned=half is not None and half / abs(value) > warn_relative,
                )
            )


def _score_objlen(scene: Scene, result: Measurement, tally: Tally) -> None:
    options = result.options
    _score(
        scene,
        objlen_boxes(result),
        tally,
        reference_at=(result.reference.C + result.reference.D) / 2,
        unbounded=options.method == "proportional"
        and result.reference.perspective_rel > UNBOUNDED_PERSPECTIVE,
        warn_relative=options.warn_relative,
    )


def _score_peer(scene: Scene, tally: Tally) -> None:
    """The classic peer on the photo, its reference the contour nearest the true one."""
    where = scene.centre_px(scene.reference)
    reference_mm = scene.reference.size_mm[0]
    peer = classic_measure(scene.photo, where, reference_mm, 0.5 * scene.extent_px(scene.reference))
    if peer.reference_px is None:
        tally.failed += 1
        tally.objects += len(scene.objects)
        tally.missed += len(scene.objects)
        return
    _score(scene, peer.boxes, tally, reference_at=np.asarray(peer.reference_px))


def run_condition(condition: Condition, scenes: int) -> dict[str, Tally]:
    """Render ``scenes`` seeded scenes and measure each from both masks."""
    tallies = {mask: Tally([]) for mask in MASKS}
    spec = condition.options.reference
    segmenter = make_segmenter("local", classes=ClassIds(), reference=spec)
    for seed in range(scenes):
        scene = condition.make(seed)
        if condition.options.method == "proportional":
            _score_peer(scene, tallies["peer"])
        for mask_name in ("segmenter", "exact"):
            tally = tallies[mask_name]
            try:
                if mask_name == "exact":
                    result = measure(scene.mask, condition.options, image=scene.photo)
                else:
                    segmentation = segmenter.segment(scene.photo)
                    result = measure_segmentation(
                        segmentation, condition.options, image=scene.photo
                    )
            except ObjlenError:
                tally.failed += 1
                tally.objects += len(scene.objects)
                tally.missed += len(scene.objects)
                continue
            _score_objlen(scene, result, tally)
    return tallies


def _pct(value: float, digits: int = 2) -> str:
    return "-" if not np.isfinite(value) else f"{100 * value:.{digits}f}"


def summary(tally: Tally) -> dict[str, float]:
    """Median / max |error|, coverage of the bounded lengths, median half-width (shares)."""
    errors = np.abs([s.error for s in tally.lengths])
    bounded = [s.inside for s in tally.lengths if not s.unbounded and s.inside is not None]
    halves = [s.half_width for s in tally.lengths]
    nan = float("nan")
    return {
        "median": float(np.median(errors)) if errors.size else nan,
        "max": float(errors.max()) if errors.size else nan,
        "inside": float(np.mean(bounded)) if bounded else nan,
        "half": float(np.nanmedian(halves)) if np.isfinite(halves).any() else nan,
        "unbounded": float(sum(s.unbounded for s in tally.lengths)),
        "warned": float(sum(s.warned for s in tally.lengths)),
    }


def table(rows: Sequence[tuple[Condition, dict[str, Tally]]]) -> str:
    """The Markdown table: each cell ``segmenter / exact mask / peer`` (the peer
    only where the method is proportional, as the peer's own is)."""
    lines = [
        "| condition | tilt | median abs error % | max % | truth inside 95 % interval % "
        "| median half-width % | unbounded (objlen) | warned (objlen) "
        "| missed / failed / wrong reference |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for condition, tallies in rows:
        stats = {mask: summary(tallies[mask]) for mask in MASKS}

        def pair(key: str, digits: int = 2, s: dict = stats) -> str:
            return " / ".join(_pct(s[m][key], digits) for m in MASKS)

        def counts(key: str, s: dict = stats, t: dict = tallies) -> str:
            return " / ".join(
                f"{int(s[m][key])} of {len(t[m].lengths)}" for m in ("segmenter", "exact")
            )

        misses = " / ".join(
            f"{t.missed}-{t.failed}-{t.wrong_reference}" if t.objects else "-"
            for t in (tallies[m] for m in MASKS)
        )
        lines.append(
            f"| {condition.name} | {condition.tilt} | {pair('median')} | {pair('max', 1)} "
            f"| {pair('inside', 0)} | {pair('half')} | {counts('unbounded')} "
            f"| {counts('warned')} | {misses} |"
        )
    return "\n".join(lines)


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=24, help="scenes per condition")
    parser.add_argument("--only", default="", help="run the conditions whose name contains this")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = []
    for condition in conditions():
        if args.only in condition.name:
            rows.append((condition, run_condition(condition, args.scenes)))
            print(f"  {condition.name}, {condition.tilt}: done", file=sys.stderr)
    text = (
        f"objlen at {_commit()}, {args.scenes} scenes per condition, "
        f"{time.perf_counter() - start:.0f} s. Each cell: objlen from its local segmenter / objlen "
        "from the exact mask (both with the photo) / the classic peer (Canny + contours, "
        "proportional conditions only, '-' elsewhere). Missed / failed / wrong reference: "
        "objects not found, scenes that gave an error, measurements whose reference was "
        "not the true one.\n\n" + table(rows)
    )
    print(text)
    if args.markdown is not None:
        args.markdown.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
