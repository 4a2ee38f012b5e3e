"""Speed of the measurement core, as ratios against OpenCV in the same process.

* Full measurement of a 4000x3000 (12 MP) mask, against one
  ``cv2.findContours`` pass over the same mask (the object class, external
  contours, simple chain) — the least any contour-based measurement does.
* Recomputation from moved points (:func:`objlen.remeasure`), what the app
  does on every drag: milliseconds per call.

Both run on one thread (``cv2.setNumThreads(1)``). Two ratios: to the best
of back-to-back ``findContours`` passes (the 12 MB mask then stays in a
large CPU cache), and the median of rounds in which the baseline is timed
right before each measurement (the same load — this machine is shared — and
the memory state a measurement's own pass over the mask meets). Run:
``python bench/speed.py [--repeats 15]``. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import cv2
import numpy as np

from objlen import MeasureOptions, ReferenceSpec, measure, remeasure
from objlen.testing.synthetic import Camera, random_scene


def timed(function: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``function`` over ``repeats`` runs, in seconds (the
    least disturbed by whatever else the machine runs; ``timeit``'s choice)."""
    function()  # warm up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return min(samples)


def paired(
    function: Callable[[], object], baseline: Callable[[], object], repeats: int
) -> tuple[float, float, float]:
    """``baseline`` and ``function`` timed in turn ``repeats`` times: the best
    time of each, in seconds, and the median of the rounds' ratios."""
    function()
    baseline()
    times, bases, ratios = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        baseline()
        middle = time.perf_counter()
        function()
        ended = time.perf_counter()
        bases.append(middle - started)
        times.append(ended - middle)
        ratios.append(times[-1] / bases[-1])
    return min(times), min(bases), statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    camera = Camera(width=4000, height=3000, focal_px=4250.0)
    scene = random_scene(
        np.random.default_rng(1),
        shape="blob",
        tilt_deg=20.0,
        mask_noise_px=1.0,
        camera=camera,
        supersample=2,
    )
    mask, image = scene.mask, scene.image
    binary = (mask == 1).view(np.uint8)

    def find_contours() -> None:
        cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)

    baseline = timed(find_contours, args.repeats)
    print(
        f"mask {mask.shape[1]}x{mask.shape[0]}; baseline: one cv2.findContours pass "
        f"= {baseline * 1e3:.1f} ms\n"
    )
    print("| what | time (best) | ratio to back-to-back passes | median ratio, paired rounds |")
    print("|---|---|---|---|")
    cases = {
        "measure, proportional (mask only)": (
            lambda: measure(mask, MeasureOptions(reference=ReferenceSpec(length=85.6)))
        ),
        "measure, homography (mask only)": (
            lambda: measure(
                mask, MeasureOptions(method="homography", reference=ReferenceSpec(size=(85.6, 54)))
            )
        ),
        "measure, homography, corners refined on the photo": (
            lambda: measure(
                mask,
                MeasureOptions(method="homography", reference=ReferenceSpec(size=(85.6, 54))),
                image=image,
            )
        ),
    }
    for name, function in cases.items():
        seconds, _, ratio = paired(function, find_contours, args.repeats)
        print(f"| {name} | {seconds * 1e3:.1f} ms | {seconds / baseline:.2f}x | {ratio:.2f}x |")
    calls = 1000
    for method, spec in (
        ("proportional", ReferenceSpec(length=85.6)),
        ("homography", ReferenceSpec(size=(85.6, 54))),
    ):
        result = measure(mask, MeasureOptions(method=method, reference=spec))
        moved = {"B": (result.objects[0].B[0] + 1, result.objects[0].B[1])}

        def drags(result=result, moved=moved) -> None:
            for _ in range(calls):
                remeasure(result, moved)

        seconds = timed(drags, max(args.repeats // 2, 2)) / calls
        print(
            f"| remeasure after a drag, {method} | {seconds * 1e3:.3f} ms | "
            f"{seconds / baseline:.4f}x | |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
