"""Accuracy with a ChArUco board (objlen's A4 mat) as the reference, on renders.

Three tables, from :func:`objlen.testing.synthetic.render_board_scene` and
:func:`~objlen.testing.synthetic.random_scene` (1600 x 1200 px, f = 1700 px):

1. **The mat, per tilt** (0-45 deg): an object in the mat's middle
   (rectangle, ellipse or blob, 50-110 mm), and other objects lying across
   its ring covering corners (up to about 40 %); lens distortion k1 uniform
   in +-0.1 (normalised by half the diagonal, as the renderer has it), blur
   0.3-1 px, JPEG 75-95; the clean model mask. ``--board mat``, homography,
   no camera profile: the board's fit estimates k1 itself. Error of width
   and height pooled; coverage: the truth inside the 95 % interval.
2. **Calibration**: a camera profile made from four rendered mat photos
   (``calibrate_camera``) for k1 = +0.1 and -0.1; card scenes (ID-1 card,
   homography with the photo) measured without and with it.
3. **Height**: a plate with its top face 0-40 mm above the mat, measured
   without and with ``object_height``.

Run: ``python bench/board_accuracy.py [--scenes 10]``. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from objlen import MeasureOptions, ObjlenError, ReferenceSpec, measure
from objlen.board import MAT_BOARDS, calibrate_camera
from objlen.testing.synthetic import (
    Camera,
    PhotoEffects,
    PlaneShape,
    Scene,
    random_scene,
    render_board_scene,
)

TILTS = (0, 15, 30, 45)
SHAPES = ("rectangle", "ellipse", "blob")
MAT = MAT_BOARDS["A4"]
#: Inner corners of the A4 mat's ring that a clean face-on photo shows.
RING_CORNERS = 50
CALIBRATION_VIEWS = ((35.0, 0.0, 0.0), (40.0, 25.0, 10.0), (30.0, -30.0, -15.0), (20.0, 90.0, 5.0))
HEIGHTS_MM = (0.0, 20.0, 40.0)


def _main_object_mask(scene: Scene) -> np.ndarray:
    """The mask with only ``objects[0]`` (the component under its centre) as class 1."""
    _, labels = cv2.connectedComponents((scene.mask == 1).astype(np.uint8))
    centre = scene.to_image(np.array([scene.objects[0].center_mm]))[0]
    label = labels[round(float(centre[1])), round(float(centre[0]))]
    return np.where(labels == label, 1, 0).astype(np.uint8) if label else scene.mask


def _occluders(rng: np.random.Generator, count: int) -> list[PlaneShape]:
    """Objects lying across the mat's ring (its middle is +-60 x +-90 mm)."""
    shapes = []
    for _ in range(count):
        side = int(rng.integers(0, 4))
        length = float(rng.uniform(50, 110))
        if side < 2:  # across the left or right ring
            x = (-1 if side == 0 else 1) * float(rng.uniform(75, 85))
            shapes.append(PlaneShape("rectangle", (x, float(rng.uniform(-70, 70))), (40, length)))
        else:
            y = (-1 if side == 2 else 1) * float(rng.uniform(105, 115))
            shapes.append(PlaneShape("ellipse", (float(rng.uniform(-40, 40)), y), (length, 40)))
    return shapes


def _errors(result, truth: tuple[float, float]) -> list[tuple[float, bool, float]]:
    obj = result.objects[0]
    rows = []
    for length, true in ((obj.width, truth[0]), (obj.height, truth[1])):
        rows.append(
            (
                abs(length.value / true - 1),
                abs(length.value - true) <= length.uncertainty,
                length.uncertainty / true,
            )
        )
    return rows


def _summary(rows: list[tuple[float, bool, float]]) -> str:
    if not rows:
        return "no measurement"
    errors = np.array([r[0] for r in rows]) * 100
    covered = np.mean([r[1] for r in rows]) * 100
    half = np.median([r[2] for r in rows]) * 100
    return (
        f"{np.median(errors):.3f} % / {np.percentile(errors, 90):.3f} % / {errors.max():.2f} % | "
        f"{covered:.0f} % | {half:.2f} %"
    )


def mat_table(scenes: int) -> None:
    print("## 1. The A4 mat as the reference (--board mat, homography, no profile)\n")
    print(
        "| tilt | lengths | median / p90 / max error | truth in 95 % | median half-width "
        "| corners covered (median / max) | fit RMS px | failures |"
    )
    print("|---|---|---|---|---|---|---|---|")
    options = MeasureOptions(method="homography", reference=ReferenceSpec(board="mat"))
    for tilt in TILTS:
        rng = np.random.default_rng([11, tilt])
        rows, covered, rms, failures = [], [], [], 0
        for k in range(scenes):
            shape = SHAPES[k % len(SHAPES)]
            width = float(rng.uniform(50, 110))
            height = float(np.clip(width * rng.uniform(0.6, 1.5), 50, 160))
            main = PlaneShape(
                shape,
                (float(rng.uniform(-5, 5)), float(rng.uniform(-8, 8))),
                (width, height),
                seed=int(rng.integers(0, 2**31 - 1)),
            )
            effects = PhotoEffects(
                distortion_k1=float(rng.uniform(-0.1, 0.1)),
                blur_px=float(rng.uniform(0.3, 1.0)),
                jpeg_quality=int(rng.integers(75, 96)),
            )
            camera = Camera(tilt_deg=float(tilt), distance_mm=float(rng.uniform(400, 460)))
            scene = render_board_scene(
                [main, *_occluders(rng, int(rng.integers(0, 4)))],
                MAT,
                camera,
                board_angle_deg=float(rng.uniform(-10, 10)),
                effects=effects,
                seed=int(rng.integers(0, 2**31 - 1)),
            )
            try:
                result = measure(_main_object_mask(scene), options, image=scene.image)
            except ObjlenError as error:
                failures += 1
                print(f"<!-- tilt {tilt} scene {k}: {error} -->")
                continue
            used, _ = result.reference.fit_corners
            covered.append(max(0.0, 1 - used / RING_CORNERS))
            rms.append(result.reference.fit_rms_px)
            # The box is taken along the mat's axes, which are turned in the plane.
            rows += _errors(result, _truth_in_board_frame(scene))
        cover = f"{np.median(covered):.0%} / {max(covered):.0%}" if covered else "-"
        print(
            f"| {tilt} deg | {len(rows)} | {_summary(rows)} | {cover} | "
            f"{np.median(rms):.3f} | {failures} |"
        )
    print()


def _truth_in_board_frame(scene: Scene, index: int = 0) -> tuple[float, float]:
    """True extent of ``objects[index]`` along the mat's own axes (the box is taken there).

    The mat is turned by ``reference.angle_deg`` in the plane: the object's
    outline is turned back by it before its extent is taken.
    """
    shape = scene.objects[index]
    angle = np.radians(scene.reference.angle_deg)
    c, s = np.cos(-angle), np.sin(-angle)
    outline = shape.outline_mm(65536) @ np.array([[c, -s], [s, c]]).T
    width, height = outline.max(axis=0) - outline.min(axis=0)
    # The plane's x axis runs along the mat side nearest the image's horizontal:
    # at these tilts and turns that is the mat's X.
    return float(width), float(height)


def calibration_table(scenes: int) -> None:
    print("## 2. Lens calibration: card scenes without and with the camera profile\n")
    print(
        "| lens k1 | profile: views, RMS px, f px | without: median / p90 / max error | "
        "in 95 % | half-width | with profile: median / p90 / max error | in 95 % | half-width |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for k1 in (0.1, -0.1):
        photos = []
        for tilt, roll, angle in CALIBRATION_VIEWS:
            scene = render_board_scene(
                [PlaneShape("ellipse", (0, 0), (60, 80))],
                MAT,
                Camera(tilt_deg=tilt, roll_deg=roll, distance_mm=430.0),
                board_angle_deg=angle,
                effects=PhotoEffects(distortion_k1=k1, jpeg_quality=92),
            )
            photos.append(scene.image)
        profile, views = calibrate_camera(photos, "mat:A4")
        without, with_profile = [], []
        rng = np.random.default_rng([23, int(k1 * 10) + 5])
        for k in range(scenes):
            scene = random_scene(
                rng,
                shape=SHAPES[k % len(SHAPES)],
                tilt_deg=float((0, 20, 40)[k % 3]),
                mask_noise_px=0.0,
                effects=PhotoEffects(distortion_k1=k1, jpeg_quality=90, blur_px=0.5),
            )
            base = MeasureOptions(method="homography", reference=ReferenceSpec(size=(85.6, 54.0)))
            truth = scene.object_size_mm(0)
            for options, rows in ((base, without), (_with(base, profile), with_profile)):
                try:
                    rows += _errors(measure(scene.mask, options, image=scene.image), truth)
                except ObjlenError as error:
                    print(f"<!-- k1 {k1} scene {k}: {error} -->")
        f = profile.matrix[0, 0]
        print(
            f"| {k1:+.1f} | {len(views)}, {profile.rms_px:.3f}, {f:.0f} | {_summary(without)} | "
            f"{_summary(with_profile)} |"
        )
    print()


def _with(options: MeasureOptions, profile) -> MeasureOptions:
    from dataclasses import replace

    return replace(options, camera=profile)


def height_table() -> None:
    print("## 3. Object height: a 70 x 90 mm plate above the mat, tilt 30 deg, k1 = 0.05\n")
    print("| height | camera distance found | width without / with --object-height |")
    print("|---|---|---|")
    for height in HEIGHTS_MM:
        scene = render_board_scene(
            [PlaneShape("rectangle", (0, 0), (70, 90))],
            MAT,
            Camera(tilt_deg=30.0, distance_mm=430.0),
            object_heights_mm=[height],
            effects=PhotoEffects(distortion_k1=0.05, jpeg_quality=90),
        )
        cells = []
        distance = None
        for given in (None, height):
            options = MeasureOptions(
                method="homography", reference=ReferenceSpec(board="mat"), object_height=given
            )
            result = measure(scene.mask, options, image=scene.image)
            distance = result.reference.camera_distance
            width = result.objects[0].width
            cells.append(
                f"{width.value:.2f} ± {width.uncertainty:.2f} ({width.value / 70 - 1:+.2%})"
            )
        print(f"| {height:g} mm | {distance:.1f} mm | {cells[0]} / {cells[1]} |")
    print()


def picture(path: str) -> None:
    """The picture in docs/mat.md: a photo of the mat with objects and the measured overlay."""
    from pathlib import Path

    from objlen.classes import ClassIds
    from objlen.display.overlay import annotated_png

    objects = [
        PlaneShape("rectangle", (-22, -30), (60, 95), 4.0),
        PlaneShape("ellipse", (30, 40), (48, 70)),
        PlaneShape("blob", (85, -20), (45, 90), seed=5),
    ]
    scene = render_board_scene(
        objects,
        MAT,
        Camera(tilt_deg=30.0, distance_mm=440.0),
        board_angle_deg=4.0,
        effects=PhotoEffects(distortion_k1=-0.05, jpeg_quality=90, blur_px=0.6),
        seed=7,
    )
    options = MeasureOptions(
        method="homography", reference=ReferenceSpec(board="mat"), all_objects=True
    )
    result = measure(scene.mask, options, image=scene.image)
    png = annotated_png(scene.image, scene.mask, result, ClassIds(), max_side=1200)
    Path(path).write_bytes(png)
    print(f"{path}: " + "; ".join(o.sizes_text("mm", " ") for o in result.objects))
    for index in range(len(objects)):
        width, height = _truth_in_board_frame(scene, index)
        print(f"  truth {objects[index].kind}: {width:.2f} x {height:.2f} mm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=10, help="scenes per tilt (default 10)")
    parser.add_argument("--picture", metavar="PNG", help="only write the picture of docs/mat.md")
    args = parser.parse_args()
    if args.picture:
        picture(args.picture)
        return
    start = time.time()
    mat_table(args.scenes)
    calibration_table(args.scenes)
    height_table()
    print(f"({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
