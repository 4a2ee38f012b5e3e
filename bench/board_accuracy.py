"""Accuracy with a ChArUco board (objlen's A4 mat) as the reference, on renders.

Three tables, from :func:`objlen.testing.synthetic.render_board_scene` and
:func:`~objlen.testing.synthetic.random_scene` (1600 x 1200 px, f = 1700 px):

1. **The mat, per tilt** (0-45 deg): an object in the mat's middle
   (rectangle, ellipse or blob, 50-110 mm), and other objects lying across
   its ring covering corners (up to about 40 %), 3 mm clear of the first;
   lens distortion k1 uniform in +-0.1 (normalised by half the diagonal, as
   the renderer has it), blur 0.3-1 px, JPEG 75-95; the clean model mask.
   ``--board mat``, homography, no camera profile: the board's fit
   estimates k1 itself. Error of width and height pooled, with a bootstrap
   95 % interval of the median; coverage: the truth inside the 95 %
   interval. Where the error comes
   from, in two more columns: *board alone* is the object's true outline
   taken into the photo by the true mapping and back through the board's
   fit (no mask); *mask alone* is the object's mask (its pixel edges, as
   measured) taken back through the true mapping (no board). A last table
   splits the mask's error by shape.
2. **Calibration**: a camera profile made from four rendered mat photos
   (``calibrate_camera``) for k1 = +0.1 and -0.1; card scenes (ID-1 card,
   homography with the photo) measured without and with it.
3. **Height**: a plate with its top face 0-40 mm above the mat, measured
   without and with ``object_height``.

Run: ``python bench/board_accuracy.py [--scenes 10] [--mat-only]``. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from objlen import MeasureOptions, ObjlenError, ReferenceSpec, measure
from objlen.board import MAT_BOARDS, BoardFit, calibrate_camera, locate_board
from objlen.camera import CameraProfile, radial_profile
from objlen.classes import ClassIds
from objlen.regions import ClassMap
from objlen.testing.synthetic import (
    Camera,
    PhotoEffects,
    PlaneShape,
    Scene,
    distort_points,
    project_points,
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
#: Gap kept between the measured object and the objects across the ring, mm.
CLEARANCE_MM = 3.0


def _main_object_mask(scene: Scene) -> np.ndarray:
    """The mask with only ``objects[0]`` (the component under its centre) as class 1."""
    _, labels = cv2.connectedComponents((scene.mask == 1).astype(np.uint8))
    centre = scene.to_image(np.array([scene.objects[0].center_mm]))[0]
    label = labels[round(float(centre[1])), round(float(centre[0]))]
    return np.where(labels == label, 1, 0).astype(np.uint8) if label else scene.mask


def _occluders(rng: np.random.Generator, count: int, main: PlaneShape) -> list[PlaneShape]:
    """Objects lying across the mat's ring (its middle is +-60 x +-90 mm), kept
    ``CLEARANCE_MM`` away from the ``main`` object (touching, they would be one blob)."""
    outline = main.outline_mm(4096)
    (left, top), (right, bottom) = outline.min(axis=0), outline.max(axis=0)
    reach = 20 + CLEARANCE_MM  # an occluder's half-width (40 mm) and the gap
    shapes = []
    for _ in range(count):
        side = int(rng.integers(0, 4))
        length = float(rng.uniform(50, 110))
        if side < 2:  # across the left or right ring, 40 mm wide
            x = float(rng.uniform(75, 85))
            x = -max(x, reach - left) if side == 0 else max(x, right + reach)
            shapes.append(PlaneShape("rectangle", (x, float(rng.uniform(-70, 70))), (40, length)))
        else:  # across the top or bottom ring, 40 mm high
            y = float(rng.uniform(105, 115))
            y = -max(y, reach - top) if side == 2 else max(y, bottom + reach)
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


def _median_interval(errors_pct: np.ndarray, rng: np.random.Generator) -> str:
    """The median's bootstrap 95 % interval (1000 resamples), percent."""
    medians = np.median(rng.choice(errors_pct, (1000, len(errors_pct))), axis=1)
    low, high = np.percentile(medians, [2.5, 97.5])
    return f"{low:.3f}-{high:.3f} %"


def _board_to_image(scene: Scene) -> np.ndarray:
    """Board mm (origin at its top-left outer corner) -> ideal photo px, as rendered."""
    width, height = MAT.size_mm
    angle = np.radians(scene.reference.angle_deg)
    c, s = np.cos(angle), np.sin(angle)
    cx, cy = scene.reference.center_mm
    to_plane = np.array(
        [
            [c, -s, cx - c * width / 2 + s * height / 2],
            [s, c, cy - s * width / 2 - c * height / 2],
            [0.0, 0.0, 1.0],
        ]
    )
    return scene.plane_to_image @ to_plane


def _sources(scene: Scene, mask: np.ndarray, fit: BoardFit) -> tuple[np.ndarray, np.ndarray]:
    """Relative errors of ``(width, height)``: the board alone, and the mask alone.

    Board alone: the object's true outline, taken into the photo by the true
    mapping (lens included) and back through the fit. Mask alone: the mask's
    pixel-edge points (as :func:`measure` takes them) back through the true
    mapping. Both boxes along the board's axes, as the measurement takes them.
    """
    size = (scene.camera.width, scene.camera.height)
    k1 = scene.effects.distortion_k1
    to_image = _board_to_image(scene)
    to_board = np.linalg.inv(to_image)
    outline = project_points(to_board, project_points(scene.plane_to_image, _outline(scene)))
    true_extent = np.ptp(outline, axis=0)
    photo = distort_points(project_points(to_image, outline), k1, *size)
    fitted = project_points(np.linalg.inv(fit.homography), fit.lens.undistort_points(photo))
    edges = ClassMap(mask, ClassIds()).regions(1, limit=1)[0].edge_points()
    lens = _radial(k1, size)
    from_mask = project_points(to_board, lens.undistort_points(edges))
    return np.ptp(fitted, axis=0) / true_extent - 1, np.ptp(from_mask, axis=0) / true_extent - 1


def _outline(scene: Scene) -> np.ndarray:
    """``objects[0]``'s true outline, plane mm, densely sampled."""
    return scene.objects[0].outline_mm(65536)


def _radial(k1: float, size: tuple[int, int]) -> CameraProfile:
    """The renderer's lens as a camera profile (the same radial model the fit has)."""
    return radial_profile(k1, size[0], size[1], "the render's lens")


def _mat_scene(rng: np.random.Generator, shape: str, tilt: float) -> Scene:
    """A mat photo: ``shape`` (50-110 mm) in the middle, 0-3 objects across the ring."""
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
    return render_board_scene(
        [main, *_occluders(rng, int(rng.integers(0, 4)), main)],
        MAT,
        camera,
        board_angle_deg=float(rng.uniform(-10, 10)),
        effects=effects,
        seed=int(rng.integers(0, 2**31 - 1)),
    )


def mat_table(scenes: int) -> None:
    print("## 1. The A4 mat as the reference (--board mat, homography, no profile)\n")
    print(
        "| tilt | lengths | median / p90 / max error | truth in 95 % | median half-width | "
        "median's 95 % interval | board alone: median / max | mask alone: median, mean signed "
        "| corners covered (median / max) | fit RMS px | failures |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    options = MeasureOptions(method="homography", reference=ReferenceSpec(board="mat"))
    by_shape: dict[str, list[float]] = {shape: [] for shape in SHAPES}
    for tilt in TILTS:
        rng = np.random.default_rng([11, tilt])
        rows, covered, rms, failures = [], [], [], 0
        board_alone, mask_alone = [], []
        for k in range(scenes):
            shape = SHAPES[k % len(SHAPES)]
            scene = _mat_scene(rng, shape, tilt)
            mask = _main_object_mask(scene)
            try:
                result = measure(mask, options, image=scene.image)
                fit = locate_board(scene.image, "mat")
            except ObjlenError as error:
                failures += 1
                print(f"<!-- tilt {tilt} scene {k}: {error} -->")
                continue
            used, _ = result.reference.fit_corners
            covered.append(max(0.0, 1 - used / RING_CORNERS))
            rms.append(result.reference.fit_rms_px)
            # The box is taken along the mat's axes, which are turned in the plane.
            rows += _errors(result, _truth_in_board_frame(scene))
            board_error, mask_error = _sources(scene, mask, fit)
            board_alone += list(board_error * 100)
            mask_alone += list(mask_error * 100)
            by_shape[shape] += list(mask_error * 100)
        cover = f"{np.median(covered):.0%} / {max(covered):.0%}" if covered else "-"
        errors = np.array([r[0] for r in rows]) * 100
        board_abs, mask_pct = np.abs(board_alone), np.array(mask_alone)
        print(
            f"| {tilt} deg | {len(rows)} | {_summary(rows)} | "
            f"{_median_interval(errors, np.random.default_rng(tilt))} | "
            f"{np.median(board_abs):.3f} % / {board_abs.max():.3f} % | "
            f"{np.median(np.abs(mask_pct)):.3f} %, {mask_pct.mean():+.3f} % | {cover} | "
            f"{np.median(rms):.3f} | {failures} |"
        )
    print("\n| shape | mask alone: mean signed error / median error (all tilts) |")
    print("|---|---|")
    for shape, values in by_shape.items():
        if not values:
            continue
        pct = np.array(values)
        print(f"| {shape} | {pct.mean():+.3f} % / {np.median(np.abs(pct)):.3f} % |")
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
    parser.add_argument("--mat-only", action="store_true", help="only the first table")
    parser.add_argument("--picture", metavar="PNG", help="only write the picture of docs/mat.md")
    args = parser.parse_args()
    if args.picture:
        picture(args.picture)
        return
    start = time.time()
    mat_table(args.scenes)
    if args.mat_only:
        return
    calibration_table(args.scenes)
    height_table()
    print(f"({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
