"""Accuracy and speed of the embedded local segmenter on rendered scenes.

Accuracy: for each lighting (plain, gradient, dark) and reference (card,
ArUco marker), ``--scenes`` random scenes from :mod:`objlen.testing.synthetic`
(1600 x 1200 px, camera tilted 0-30 deg, object turned up to 30 deg, shapes
in turn) are segmented; the table gives the intersection over union (IoU) of
the object and of the reference with the true mask, and how often the
reference was found (reference IoU >= 0.9).

Speed: one 4000 x 3000 (12 MP) photo is segmented on one core (OpenCV and
BLAS limited to one thread); the median of several runs is compared with one
``cv2.GaussianBlur`` and one ``cv2.cvtColor`` pass over the same photo in the
same process, so the ratio says more than the seconds on another machine.

Run: ``python bench/segment_local.py [--scenes 20] [--repeats 5]``. Prints; asserts nothing.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # one core: set before numpy loads BLAS

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from objlen.errors import ObjlenError  # noqa: E402
from objlen.segment.local import LocalSegmenter  # noqa: E402
from objlen.testing.synthetic import (  # noqa: E402
    LIGHTINGS,
    OBJECT_KINDS,
    REFERENCE_KINDS,
    Camera,
    random_scene,
)

FOUND_IOU = 0.9


def iou(found: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks."""
    union = np.count_nonzero(found | truth)
    return np.count_nonzero(found & truth) / union if union else 1.0


def accuracy_row(lighting: str, reference: str, scenes: int, seed: int) -> dict:
    """Segment ``scenes`` random scenes of one condition; summarise the IoUs."""
    rng = np.random.default_rng(seed)
    segmenter = LocalSegmenter()
    object_ious, reference_ious, seconds = [], [], []
    for index in range(scenes):
        scene = random_scene(
            rng,
            shape=OBJECT_KINDS[index % len(OBJECT_KINDS)],
            tilt_deg=float(rng.uniform(0.0, 30.0)),
            mask_noise_px=0.0,
            reference=reference,
            lighting=lighting,
            max_angle_deg=30.0,
        )
        try:
            result = segmenter.segment(scene.image)
        except ObjlenError:
            object_ious.append(0.0)
            reference_ious.append(0.0)
            continue
        object_ious.append(iou(result.mask == 1, scene.clean_mask == 1))
        reference_ious.append(iou(result.mask == 2, scene.clean_mask == 2))
        seconds.append(result.seconds)
    return {
        "lighting": lighting,
        "reference": reference,
        "scenes": scenes,
        "object_mean": float(np.mean(object_ious)),
        "object_min": float(np.min(object_ious)),
        "reference_mean": float(np.mean(reference_ious)),
        "reference_min": float(np.min(reference_ious)),
        "found": float(np.mean(np.array(reference_ious) >= FOUND_IOU)),
        "seconds": float(np.mean(seconds)) if seconds else float("nan"),
    }


def print_accuracy(rows: list[dict]) -> None:
    """The accuracy table."""
    print(
        f"{'lighting':<9} {'reference':<9} {'scenes':>6}  {'object IoU mean/min':>20}  "
        f"{'reference IoU mean/min':>22}  {'ref found':>9}  {'s/photo':>7}"
    )
    for row in rows:
        print(
            f"{row['lighting']:<9} {row['reference']:<9} {row['scenes']:>6}  "
            f"{row['object_mean']:>11.4f} / {row['object_min']:.4f}  "
            f"{row['reference_mean']:>13.4f} / {row['reference_min']:.4f}  "
            f"{row['found']:>8.0%}  {row['seconds']:>7.2f}"
        )


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``action`` over ``repeats`` runs, after one warm-up run."""
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def print_speed(repeats: int, seed: int) -> None:
    """Time a 12-megapixel photo against single OpenCV passes over it, on one core."""
    cv2.setNumThreads(1)
    scene = random_scene(
        np.random.default_rng(seed),
        shape="blob",
        tilt_deg=15.0,
        mask_noise_px=0.0,
        reference="card",
        lighting="gradient",
        camera=Camera(width=4000, height=3000, focal_px=4250.0),
        max_angle_deg=30.0,
    )
    image = scene.image
    segmenter = LocalSegmenter()
    result = segmenter.segment(image)
    segment_s = median_seconds(lambda: segmenter.segment(image), repeats)
    blur_s = median_seconds(lambda: cv2.GaussianBlur(image, (0, 0), 2.0), repeats)
    lab_s = median_seconds(lambda: cv2.cvtColor(image, cv2.COLOR_RGB2Lab), repeats)
    height, width = image.shape[:2]
    print(f"\n12 MP photo ({width} x {height}), one core, median of {repeats} runs:")
    print(f"  LocalSegmenter.segment      {segment_s:7.3f} s")
    baselines = (("cv2.GaussianBlur (sigma 2)", blur_s), ("cv2.cvtColor RGB->Lab", lab_s))
    for name, baseline_s in baselines:
        ratio = segment_s / baseline_s
        print(f"  {name:<27} {baseline_s:7.3f} s   segment is {ratio:5.1f} x this pass")
    print(
        f"  on this photo: object IoU {iou(result.mask == 1, scene.clean_mask == 1):.4f}, "
        f"reference IoU {iou(result.mask == 2, scene.clean_mask == 2):.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=20, help="scenes per condition")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of the 12 MP photo")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    rows = [
        accuracy_row(lighting, reference, args.scenes, args.seed + 97 * index)
        for index, (lighting, reference) in enumerate(
            (lighting, reference) for lighting in LIGHTINGS for reference in REFERENCE_KINDS
        )
    ]
    print_accuracy(rows)
    print_speed(args.repeats, args.seed)


if __name__ == "__main__":
    main()
