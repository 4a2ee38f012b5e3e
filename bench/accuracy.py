"""Accuracy of objlen on rendered scenes with known ground truth.

Scenes come from :mod:`objlen.testing.synthetic`: a pinhole camera tilted 0-40 deg
over a table, an ID-1 card (or an ArUco marker) as the reference, a
rectangle, ellipse or irregular blob as the object, anti-aliased rendering,
and mask boundary noise of 0-2 px. A second set adds, one at a time and then
all together, what real photos have: cast shadows on a wood or paper
texture, a dark or bright rim along the card, optical blur with JPEG, radial
lens distortion k1 = +-0.1 (OpenCV's convention: normalised by the focal
length; the image corner moves by 3.5 %), and model
masks dilated or eroded by 1 px. Those scenes share their layouts across
conditions (same seeds), so the conditions differ only by the effect.

Each scene is measured with both methods, once from the mask alone and once
with the photo too (``measure(..., image=...)``, which refines a rectangular
reference's corners on the photo; an ArUco marker needs the photo). Per
condition, method and input the tables give the median and 90th percentile
of the relative error of width and height (pooled), the coverage (how often
the truth lies inside the reported 95 % interval) and the median relative
half-width of that interval.

Run: ``python bench/accuracy.py [--scenes 8] [--workers 2] [--markdown out.md]``.
Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import math
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from objlen import MeasureOptions, ObjlenError, ReferenceSpec, measure
from objlen.measure import UNBOUNDED_PERSPECTIVE
from objlen.testing.synthetic import (
    Camera,
    PhotoEffects,
    Scene,
    random_scene,
    realistic_effects,
)

CARD_MM = (85.6, 54.0)
TILTS = (0, 10, 20, 30, 40)
SHAPES = ("rectangle", "ellipse", "blob")
NOISES = (0.0, 1.0, 2.0)
METHODS = ("proportional", "homography")
#: How the measurement is given the scene: the mask alone, or the photo too.
INPUTS = ("mask", "photo")
INPUT_NAMES = {"mask": "mask only", "photo": "with photo"}
#: Camera tilts of the real-photo effect conditions.
EFFECT_TILTS = (0, 20, 40)
#: Radial distortion of the lens conditions, in OpenCV's convention (radius
#: normalised by the focal length), as calibration tools and camera profiles give it.
LENS_K1 = 0.1
#: The renderer normalises the radius by half the image diagonal instead: its k1
#: is OpenCV's times (half diagonal / focal length)^2 for the default camera.
_DEFAULT_CAMERA = Camera()
RENDER_PER_OPENCV_K1 = (
    math.hypot(_DEFAULT_CAMERA.width, _DEFAULT_CAMERA.height) / 2 / _DEFAULT_CAMERA.focal_px
) ** 2


def _lens(k1_opencv: float) -> PhotoEffects:
    return PhotoEffects(distortion_k1=k1_opencv * RENDER_PER_OPENCV_K1)
#: Mask boundary noise (px) of the "all of the above" condition.
ALL_NOISE_PX = 1.0
ALL = "all of the above"


def _draw_plain(rng: np.random.Generator) -> tuple[PhotoEffects, int]:
    return PhotoEffects(), 0


def _draw_shadow_texture(rng: np.random.Generator) -> tuple[PhotoEffects, int]:
    drawn = realistic_effects(rng)
    return PhotoEffects(shadow=drawn.shadow, texture=drawn.texture), 0


def _draw_edge_lines(rng: np.random.Generator) -> tuple[PhotoEffects, int]:
    return PhotoEffects(edge_line=realistic_effects(rng).edge_line), 0


def _draw_blur_jpeg(rng: np.random.Generator) -> tuple[PhotoEffects, int]:
    drawn = realistic_effects(rng)
    return PhotoEffects(blur_px=drawn.blur_px, jpeg_quality=drawn.jpeg_quality), 0


def _draw_all(rng: np.random.Generator) -> tuple[PhotoEffects, int]:
    drawn = realistic_effects(rng)
    # realistic_effects draws k1 in the renderer's convention, +-0.1 over half the
    # diagonal; scaled to OpenCV's +-LENS_K1 as the lens conditions are.
    k1 = drawn.distortion_k1 / 0.1 * LENS_K1 * RENDER_PER_OPENCV_K1
    return replace(drawn, distortion_k1=k1), 1 if rng.uniform() < 0.5 else -1


#: The real-photo conditions: label -> draw (photo effects, mask bias in px) for one scene.
EFFECT_CONDITIONS: dict[str, Callable[[np.random.Generator], tuple[PhotoEffects, int]]] = {
    "none (clean render)": _draw_plain,
    "shadows + texture": _draw_shadow_texture,
    "edge lines (rim 1-2 px)": _draw_edge_lines,
    "blur + JPEG": _draw_blur_jpeg,
    f"lens k1 = +{LENS_K1}": lambda rng: (_lens(LENS_K1), 0),
    f"lens k1 = -{LENS_K1}": lambda rng: (_lens(-LENS_K1), 0),
    "mask dilated 1 px": lambda rng: (PhotoEffects(), 1),
    "mask eroded 1 px": lambda rng: (PhotoEffects(), -1),
    ALL: _draw_all,
}


@dataclass(frozen=True)
class Condition:
    """How the scenes of one benchmark condition are drawn.

    Attributes:
        label: the condition's name in the tables (``plain`` for the
            original conditions, else a key of ``EFFECT_CONDITIONS``).
        reference: ``card`` or ``aruco``.
        tilt: camera tilt, degrees.
        shape: the object's shape, or None to cycle through ``SHAPES``.
        noise: mask boundary noise, px.
        count: how many scenes.
        seed: seeds the scenes' layouts (and, with the label, their effects).
    """

    label: str
    reference: str
    tilt: int
    shape: str | None
    noise: float
    count: int
    seed: int


def options_for(method: str, scene: Scene) -> MeasureOptions:
    """Options a careful operator would give for this scene and method."""
    ref = scene.reference
    if ref.kind == "aruco":
        spec = ReferenceSpec(aruco_dictionary=ref.aruco_dictionary, marker_size=ref.size_mm[0])
    elif method == "homography":
        spec = ReferenceSpec(size=CARD_MM)
    else:
        spec = ReferenceSpec(length=CARD_MM[0])
    return MeasureOptions(method=method, reference=spec)


def _scene_effects(condition: Condition, index: int) -> tuple[PhotoEffects, int]:
    """The photo effects and mask bias of scene ``index`` of ``condition``."""
    if condition.label not in EFFECT_CONDITIONS:
        return PhotoEffects(), 0
    label_key = list(EFFECT_CONDITIONS).index(condition.label)
    return EFFECT_CONDITIONS[condition.label](
        np.random.default_rng([condition.seed, index, label_key])
    )


def run_condition(condition: Condition) -> list[dict]:
    """Render and measure the scenes of one condition; one row per scene, method and input."""
    rng = np.random.default_rng(condition.seed)
    rows = []
    for index in range(condition.count):
        shape = condition.shape or SHAPES[index % len(SHAPES)]
        effects, bias = _scene_effects(condition, index)
        scene = random_scene(
            rng,
            shape=shape,
            tilt_deg=float(condition.tilt),
            mask_noise_px=condition.noise,
            reference=condition.reference,
            effects=effects,
            mask_bias_px=bias,
        )
        true_w, true_h = scene.object_size_mm(0)
        for method, given in itertools.product(METHODS, INPUTS):
            if given == "mask" and condition.reference == "aruco":
                continue  # a marker is found in the photo only
            row = {
                "condition": condition.label,
                "reference": condition.reference,
                "tilt": condition.tilt,
                "shape": shape,
                "noise": condition.noise,
                "method": method,
                "input": given,
            }
            image = scene.image if given == "photo" else None
            try:
                result = measure(scene.mask, options_for(method, scene), image=image)
            except ObjlenError as error:
                row["failed"] = str(error)
                rows.append(row)
                continue
            obj = result.objects[0]
            row["errors"] = [obj.width.value / true_w - 1, obj.height.value / true_h - 1]
            row["covered"] = [
                abs(obj.width.value - true_w) <= obj.width.uncertainty,
                abs(obj.height.value - true_h) <= obj.height.uncertainty,
            ]
            row["relative_u"] = [obj.width.relative, obj.height.relative]
            # The output said it cannot bound a proportional measurement's error here.
            row["unbounded"] = result.reference.perspective_rel > UNBOUNDED_PERSPECTIVE
            row["located_on"] = result.reference.located_on
            rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict[str, float]:
    """Median / p90 |error| (%), coverage (%), median half-width (%) and failures of rows.

    Coverage counts only the lengths whose output bounds its error: a
    proportional measurement against a visibly foreshortened reference says
    it cannot (``unbounded``: the share of such lengths, %).
    """
    done = [r for r in rows if "errors" in r]
    errors = np.abs([e for r in done for e in r["errors"]]) * 100
    covered = [c for r in done if not r["unbounded"] for c in r["covered"]]
    half_widths = np.array([u for r in done for u in r["relative_u"]]) * 100
    nan = float("nan")
    return {
        "median": float(np.median(errors)) if len(errors) else nan,
        "p90": float(np.percentile(errors, 90)) if len(errors) else nan,
        "coverage": 100.0 * float(np.mean(covered)) if covered else nan,
        "half_width": float(np.median(half_widths)) if len(half_widths) else nan,
        "failed": len(rows) - len(done),
        "n": len(done),
        "unbounded": 100.0 * float(np.mean([r["unbounded"] for r in done])) if done else nan,
    }


def _cell(rows: list[dict]) -> str:
    if not rows:
        return "—"
    stats = summarise(rows)
    failed = f" ({stats['failed']} failed)" if stats["failed"] else ""
    if not stats["n"]:
        return f"all {stats['failed']} failed"
    if stats["unbounded"] >= 100.0:
        coverage = "unbounded"
    elif stats["unbounded"] > 0:
        coverage = f"{stats['coverage']:.0f} ({stats['unbounded']:.0f} % unbounded)"
    else:
        coverage = f"{stats['coverage']:.0f}"
    return (
        f"{stats['median']:.2f} / {stats['p90']:.2f} / {coverage} / "
        f"{stats['half_width']:.2f}{failed}"
    )


def _photo_share(rows: list[dict]) -> str:
    """Share of homography measurements with the photo whose corners were refined on it."""
    picked = [
        r for r in rows if r["method"] == "homography" and r["input"] == "photo" and "errors" in r
    ]
    if not picked:
        return "—"
    return f"{100.0 * np.mean([r['located_on'] in ('photo', 'aruco') for r in picked]):.0f}"


CELL_LEGEND = (
    "Each cell: median / p90 relative error % / coverage % (truth inside the 95 % "
    "interval) / median relative half-width %, width and height pooled. A proportional "
    f"measurement against a reference foreshortened by more than {UNBOUNDED_PERSPECTIVE:.0%} "
    "comes with a warning that it cannot bound its error: its coverage is not counted, "
    'and the cell says which share of its lengths that was ("unbounded": all).'
)


def table(rows: list[dict], keys: tuple[str, ...], photo_share: bool = False) -> str:
    """A markdown table grouped by ``keys``, one column per method and input."""
    groups: dict[tuple, dict[tuple[str, str], list]] = defaultdict(lambda: defaultdict(list))
    order: dict[tuple, int] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        order.setdefault(key, len(order))
        groups[key][(row["method"], row["input"])].append(row)
    columns = list(itertools.product(METHODS, INPUTS))
    header = [*keys, *(f"{m}, {INPUT_NAMES[i]}" for m, i in columns)]
    if photo_share:
        header.append("corners on photo %")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in sorted(groups, key=lambda k: order[k] if "condition" in keys else k):
        cells = [_cell(groups[key][column]) for column in columns]
        if photo_share:
            cells.append(_photo_share([r for group in groups[key].values() for r in group]))
        lines.append("| " + " | ".join(str(k) for k in key) + " | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pick(rows: list[dict], **where: object) -> list[dict]:
    return [
        r
        for r in rows
        if all((r[k] in v) if isinstance(v, tuple) else r[k] == v for k, v in where.items())
    ]


def goals(plain: list[dict], effects: list[dict]) -> str:
    """The issue's accuracy goals, measured (with the photo, as the goals were set)."""
    photo = _pick(plain, input="photo")
    face_on = summarise(_pick(photo, reference="card", tilt=0, noise=0.0, method="proportional"))
    tilted = dict(reference="card", tilt=(20, 30, 40), noise=0.0)
    tilted_h = summarise(_pick(photo, method="homography", **tilted))
    tilted_p = summarise(_pick(photo, method="proportional", **tilted))

    def valid(rows: list[dict]) -> list[dict]:
        return _pick(rows, method="homography") + _pick(rows, tilt=0, method="proportional")

    coverage = {given: summarise(valid(_pick(plain, input=given))) for given in INPUTS}
    real = [r for r in effects if r["condition"] != "none (clean render)"]
    real_h = {given: summarise(_pick(real, method="homography", input=given)) for given in INPUTS}
    everything = summarise(plain + effects)
    return "\n".join(
        [
            f"- face-on, clean masks, proportional: median error {face_on['median']:.2f} % "
            "(goal <= 0.3 %)",
            f"- tilt 20-40 deg, clean masks, card, homography: median {tilted_h['median']:.2f} % "
            f"(goal <= 0.5 %); proportional there: median {tilted_p['median']:.1f} %, "
            f"p90 {tilted_p['p90']:.1f} %",
            "- coverage of the 95 % interval where the method's assumptions hold (homography "
            "everywhere, proportional face-on), clean renders: "
            f"{coverage['photo']['coverage']:.1f} % of {2 * coverage['photo']['n']} lengths "
            "with the photo, "
            f"{coverage['mask']['coverage']:.1f} % of {2 * coverage['mask']['n']} from the mask "
            "only (goal >= 90 %)",
            "- under the real-photo effects (every condition below but the clean one, "
            "homography): median error "
            f"{real_h['photo']['median']:.2f} %, coverage {real_h['photo']['coverage']:.1f} % "
            f"with the photo; {real_h['mask']['median']:.2f} %, "
            f"{real_h['mask']['coverage']:.1f} % from the mask only",
            f"- failures (an error instead of a number): {everything['failed']} of "
            f"{everything['failed'] + everything['n']} measurements",
        ]
    )


def conditions_for(scenes: int) -> list[Condition]:
    """Every condition of the benchmark, ``scenes`` per card condition."""
    plain = [
        Condition("plain", "card", tilt, shape, noise, scenes, 1000 * i)
        for i, (tilt, shape, noise) in enumerate(itertools.product(TILTS, SHAPES, NOISES))
    ] + [
        Condition("plain", "aruco", tilt, shape, noise, max(scenes // 2, 1), 500_000 + 1000 * i)
        for i, (tilt, shape, noise) in enumerate(itertools.product(TILTS, SHAPES, (0.0, 2.0)))
    ]
    effects = [
        Condition(
            label,
            "card",
            tilt,
            None,
            ALL_NOISE_PX if label == ALL else 0.0,
            scenes,
            700_000 + 1000 * t,
        )
        for label in EFFECT_CONDITIONS
        for t, tilt in enumerate(EFFECT_TILTS)
    ] + [
        Condition(ALL, "aruco", tilt, None, ALL_NOISE_PX, max(scenes // 2, 1), 800_000 + 1000 * t)
        for t, tilt in enumerate(EFFECT_TILTS)
    ]
    # The slow ones (effects) first, so that the pool ends evenly.
    return effects + plain


def _code_version() -> str:
    """The git commit of the code measured, and whether the tree had changes."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "objlen (not a git checkout)"
    return f"objlen at commit {commit}" + (" with uncommitted changes" if dirty else "")


def report(rows: Sequence[dict], seconds: float, workers: int) -> str:
    """The whole markdown report."""
    plain = [r for r in rows if r["condition"] == "plain"]
    effects = [r for r in rows if r["condition"] != "plain"]
    card = _pick(plain, reference="card")
    aruco = _pick(plain, reference="aruco")
    real_card = _pick(effects, reference="card")
    real_aruco = _pick(effects, reference="aruco")
    scenes = len(_pick(list(rows), method="homography", input="photo"))
    return "\n\n".join(
        [
            "### Goals\n\n" + goals(plain, effects),
            CELL_LEGEND,
            "### Real-photo effects, card reference, by condition and camera tilt\n\n"
            "Shadows: 3-12 px long, penumbra sigma 2-6 px, 20-50 % darker, on wood or paper. "
            "Rim: 1-2 px, dark or bright, centred on the card's edge. Blur sigma 0.3-1.5 px, "
            f"JPEG quality 70-95. Lens: k1 = +-{LENS_K1} in OpenCV's convention (radius "
            "normalised by the focal length of 1700 px; the 1600x1200 image's corner moves "
            f"by {LENS_K1 * RENDER_PER_OPENCV_K1:.1%} of its distance from the centre). "
            "Masks: clean, or dilated / "
            f"eroded by 1 px. All of the above: every effect drawn at random, lens k1 uniform "
            f"in +-{LENS_K1}, the mask dilated or eroded by 1 px and {ALL_NOISE_PX:.0f} px "
            "boundary noise. The last column: how often the homography with the photo "
            "had its corners refined on the photo (else the mask's were kept).\n\n"
            + table(real_card, ("condition", "tilt"), photo_share=True),
            "### All of the above, ArUco reference (40 mm; found in the photo)\n\n"
            + table(real_aruco, ("condition", "tilt"), photo_share=True),
            "### Clean renders, card reference, by camera tilt and mask noise\n\n"
            + table(card, ("tilt", "noise")),
            "### Clean renders, card reference, by shape\n\n" + table(card, ("tilt", "shape")),
            "### Clean renders, ArUco reference (40 mm)\n\n" + table(aruco, ("tilt", "noise")),
            f"{len(rows)} measurements of {scenes} scenes in {seconds:.0f} s on {workers} "
            f"worker processes; "
            f"{_code_version()}.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=8, help="scenes per card condition")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    if args.scenes < 1 or args.workers < 1:
        parser.error("--scenes and --workers must be at least 1")
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        chunks = pool.map(run_condition, conditions_for(args.scenes))
        rows = [row for chunk in chunks for row in chunk]
    text = report(rows, time.perf_counter() - started, args.workers)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
