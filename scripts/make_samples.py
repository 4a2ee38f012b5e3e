"""Write the bundled demo photos, their masks and ground truth to samples/.

Each sample is a synthetic 1600 x 1200 photo from :mod:`objlen.testing.synthetic`
(JPEG, quality 92), its clean class-index mask (``<name>_mask.png``: 0
background, 1 object, 2 reference) and one entry in ``ground_truth.json``.
Running it again rewrites the same files.

Usage: ``python scripts/make_samples.py [output folder]``
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from objlen.testing.synthetic import Scene, random_scene

ROOT = Path(__file__).resolve().parents[1]

SAMPLES_DIR = ROOT / "samples"
JPEG_QUALITY = 92


@dataclass(frozen=True)
class SampleSpec:
    """How to make one sample: its name and the arguments of ``random_scene``."""

    name: str
    description: str
    seed: int
    shape: str
    reference: str = "card"
    tilt_deg: float = 0.0
    lighting: str = "plain"


SPECS = (
    SampleSpec("card_rectangle", "card and a rectangle, camera straight above", 101, "rectangle"),
    SampleSpec("card_ellipse", "card and an ellipse, camera straight above", 102, "ellipse"),
    SampleSpec(
        "card_blob_gradient", "card and a blob, uneven light", 103, "blob", lighting="gradient"
    ),
    SampleSpec(
        "dark_card_ellipse", "light things on a dark table", 104, "ellipse", lighting="dark"
    ),
    SampleSpec(
        "aruco_rectangle",
        "40 mm ArUco marker (DICT_4X4_50, id 0) and a rectangle",
        105,
        "rectangle",
        reference="aruco",
    ),
    SampleSpec(
        "tilted30_card_rectangle",
        "card and a rectangle, camera tilted 30 degrees",
        106,
        "rectangle",
        tilt_deg=30.0,
    ),
)


def make_scene(spec: SampleSpec) -> Scene:
    """Render the scene of one sample (deterministic)."""
    return random_scene(
        np.random.default_rng(spec.seed),
        shape=spec.shape,
        tilt_deg=spec.tilt_deg,
        mask_noise_px=0.0,
        reference=spec.reference,
        lighting=spec.lighting,
    )


def sample_entry(spec: SampleSpec, scene: Scene) -> dict[str, Any]:
    """The ground-truth record of one sample (lengths in mm, homography plane mm -> px)."""
    truth = scene.ground_truth()
    obj = truth["objects"][0]
    return {
        "name": spec.name,
        "description": spec.description,
        "file": f"{spec.name}.jpg",
        "mask_file": f"{spec.name}_mask.png",
        "object": {"kind": obj["kind"], "width_mm": obj["width_mm"], "height_mm": obj["height_mm"]},
        **truth,
    }


def write_sample(spec: SampleSpec, folder: Path) -> dict[str, Any]:
    """Render one sample, write its photo and mask into ``folder``; return its record."""
    scene = make_scene(spec)
    Image.fromarray(scene.image).save(
        folder / f"{spec.name}.jpg", quality=JPEG_QUALITY, optimize=True
    )
    Image.fromarray(scene.mask).save(folder / f"{spec.name}_mask.png", optimize=True)
    return sample_entry(spec, scene)


def main(argv: list[str]) -> int:
    """Write every sample and ``ground_truth.json``; print what was written."""
    folder = Path(argv[1]) if len(argv) > 1 else SAMPLES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for spec in SPECS:
        record = write_sample(spec, folder)
        records.append(record)
        print(
            f"{record['file']:32s} {record['object']['kind']:9s} "
            f"{record['object']['width_mm']:7.2f} x {record['object']['height_mm']:7.2f} mm  "
            f"ref {record['reference']['kind']:5s} tilt {record['tilt_deg']:4.1f}  "
            f"{record['lighting']}"
        )
    document = {
        "schema": "objlen.samples/1",
        "units": {"length": "mm", "image": "px, (x, y), pixel centres at integers"},
        "classes": {"background": 0, "object": 1, "reference": 2},
        "generator": "scripts/make_samples.py (objlen.testing.synthetic.random_scene)",
        "samples": records,
    }
    (folder / "ground_truth.json").write_text(json.dumps(document, indent=2) + "\n")
    total = sum(path.stat().st_size for path in folder.iterdir() if path.is_file())
    print(f"{len(records)} samples, {total / 1e6:.2f} MB in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
