"""objlen's whole local path against the classic pipeline, side by side in one process.

For every photo, from its file bytes in memory (no disk in the timing):

* **classic**: decode (``cv2.imdecode``), grey, 7 x 7 Gaussian blur, Canny
  (50, 100), one dilation and one erosion, external contours, a
  ``cv2.minAreaRect`` per contour of at least 100 px² — what a classic
  object-size script does (``bench/classic_peer.py``, minus the choice of
  the reference, which needs the truth);
* **objlen**: what ``python -m objlen measure PHOTO --all`` does, without
  the interpreter start: :func:`objlen.imageio.load_image` (EXIF orientation
  applied), the local segmenter told what the reference is, and
  :func:`objlen.measure` of every object with the photo.

Both run on one thread (``cv2.setNumThreads(1)``), interleaved, and the
best of ``--repeats`` runs is taken (the least disturbed by whatever else
the machine runs, as ``timeit`` does). Two ratios are printed: of the whole
paths (decode included on both sides) and of the work after decoding.
``--clock cpu`` times the thread's CPU time (user and system, page faults
included) instead of the wall clock: on a machine that other programs keep
busy, the time spent waiting for a core is left out.

The photos are the real ones of ``../shared/realphotos`` (``--folder``) and
12-megapixel upscales of two of them (4000 x 3000 and 3000 x 4000, bicubic,
JPEG quality 92, made once in the temp folder): a phone camera's size.

    .venv/bin/python bench/peer_speed.py [--repeats 15] [--folder DIR] [--clock cpu]

Prints; asserts nothing. Works against any objlen that has ``load_image``,
``make_segmenter`` and ``measure`` (so an older checkout can be measured the
same way: ``PYTHONPATH=OLD_CHECKOUT python bench/peer_speed.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from objlen import MeasureOptions, ReferenceSpec, load_image, measure
from objlen.classes import ClassIds
from objlen.segment import make_segmenter

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT.parent / "shared" / "realphotos"
UPSCALE_SIZE = (4000, 3000)  # 12 MP, landscape (portrait photos are turned)


@dataclass(frozen=True)
class Photo:
    """A photo to time: its name, file bytes and the reference the operator names."""

    name: str
    data: bytes
    reference: ReferenceSpec


def _photos(folder: Path, cache: Path) -> list[Photo]:
    """The real photos and their 12 MP upscales."""
    coin_2eur, quarter, card = (
        ReferenceSpec(length=25.75),
        ReferenceSpec(length=24.26),
        ReferenceSpec(size=(88.9, 50.8)),
    )
    chosen = [
        ("unlabelled/example_03.png", card),
        ("coins/coins.jpg", quarter),
        ("pills/real.jpg", coin_2eur),
        ("pills/test_image1.jpg", coin_2eur),
        ("pills/test_image2.jpg", coin_2eur),
    ]
    photos = [Photo(name, (folder / name).read_bytes(), spec) for name, spec in chosen]
    for name, spec in (("coins/coins.jpg", quarter), ("pills/test_image1.jpg", coin_2eur)):
        photos.append(Photo(f"{name} upscaled to 12 MP", _upscaled(folder / name, cache), spec))
    return photos


def _upscaled(path: Path, cache: Path) -> bytes:
    """``path`` enlarged to 12 MP (bicubic), as a quality-92 JPEG (cached)."""
    target = cache / f"{path.parent.name}-{path.stem}-12mp.jpg"
    if not target.exists():
        image = load_image(path)  # EXIF orientation applied
        size = UPSCALE_SIZE if image.shape[1] >= image.shape[0] else UPSCALE_SIZE[::-1]
        big = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
        ok, encoded = cv2.imencode(".jpg", big[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
        assert ok
        target.write_bytes(encoded.tobytes())
    return target.read_bytes()


def classic_decode(data: bytes) -> np.ndarray:
    """The classic script's ``cv2.imread``, from bytes: BGR."""
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def classic_measure(image_bgr: np.ndarray) -> list:
    """Grey, blur, Canny, dilate/erode, contours, a rotated box per contour."""
    grey = cv2.GaussianBlur(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY), (7, 7), 0)
    edges = cv2.erode(cv2.dilate(cv2.Canny(grey, 50, 100), None), None)
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [cv2.minAreaRect(c) for c in contours if cv2.contourArea(c) >= 100]


def objlen_measure(photo: Photo, image: np.ndarray):
    """Segment with the local segmenter and measure every object."""
    options = MeasureOptions(reference=photo.reference, all_objects=True)
    segmenter = make_segmenter("local", classes=options.classes, reference=photo.reference)
    segmentation = segmenter.segment(image)
    return measure(
        segmentation.mask,
        options,
        image=image,
        input_warnings=list(segmentation.warnings),
        input_notes=list(segmentation.notes),
    )


def _best_ms(samples: list[float]) -> float:
    return min(samples) * 1e3


#: The clocks ``--clock`` chooses from: elapsed time, or the thread's CPU time.
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}


def _time(function: Callable[[], object], clock: Callable[[], float]) -> float:
    started = clock()
    function()
    return clock() - started


def time_photo(
    photo: Photo, repeats: int, clock: Callable[[], float] = time.perf_counter
) -> dict[str, float]:
    """Best milliseconds of each step on ``clock``, the two paths interleaved."""
    steps: dict[str, list[float]] = {
        "classic decode": [],
        "classic work": [],
        "objlen decode": [],
        "objlen work": [],
    }
    bgr = classic_decode(photo.data)
    rgb = load_image(photo.data)
    classic_measure(bgr)
    objlen_measure(photo, rgb)  # warm up (imports, caches)
    for _ in range(repeats):
        steps["classic decode"].append(_time(lambda: classic_decode(photo.data), clock))
        steps["classic work"].append(_time(lambda: classic_measure(bgr), clock))
        steps["objlen decode"].append(_time(lambda: load_image(photo.data), clock))
        steps["objlen work"].append(_time(lambda: objlen_measure(photo, rgb), clock))
    return {name: _best_ms(values) for name, values in steps.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "objlen-bench-peer-speed"
    )
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    args.cache.mkdir(parents=True, exist_ok=True)
    ClassIds()  # the same defaults on both sides
    print(
        "| photo | size | classic: decode + work | objlen: decode + segment + measure | "
        "whole path ratio | ratio after decoding |"
    )
    print("|---|---|---|---|---|---|")
    for photo in _photos(args.folder, args.cache):
        shape = classic_decode(photo.data).shape
        ms = time_photo(photo, args.repeats, CLOCKS[args.clock])
        classic = ms["classic decode"] + ms["classic work"]
        objlen = ms["objlen decode"] + ms["objlen work"]
        print(
            f"| {photo.name} | {shape[1]} x {shape[0]} | "
            f"{ms['classic decode']:.1f} + {ms['classic work']:.1f} = {classic:.1f} ms | "
            f"{ms['objlen decode']:.1f} + {ms['objlen work']:.1f} = {objlen:.1f} ms | "
            f"{objlen / classic:.1f}x | {ms['objlen work'] / ms['classic work']:.1f}x |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
