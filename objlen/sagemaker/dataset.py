"""Saved measurements as a training set for SageMaker's semantic segmentation.

The built-in algorithm's layout (Amazon SageMaker developer guide, "Semantic
Segmentation Algorithm", input/output interface; checked in
``awsdocs/amazon-sagemaker-developer-guide``, ``doc_source/semantic-segmentation.md``)::

    train/                   0000.jpg, coffee.jpg, ...      JPG photos
    validation/              00a0.jpg, ...
    train_annotation/        0000.png, coffee.png, ...      one PNG per JPG,
    validation_annotation/   00a0.png, ...                  the same base name
    label_map/               train_label_map.json, validation_label_map.json

* "Every JPG image in the train and validation directories has a
  corresponding PNG label image with the same name" in the annotation
  directory: the names are how the algorithm pairs them. The four channels
  are mandatory.
* Annotations are single-channel PNGs that read as 8-bit unsigned integers
  (grayscale ``L`` or indexed ``P``; ``P`` is recommended).
* A label map per annotation channel maps pixel values to labels; the
  default (and what objlen writes) is ``{"scale": "1"}``: a pixel value *is*
  the label. ``{"map": {"<label>": <pixel value>, ...}}`` is the other form.
* Labels are ``0 .. num_classes - 1``, with ``255`` as "hole / ignore"
  (the algorithm's PASCAL VOC example notebook); the ``num_classes``
  hyperparameter is 2..254.

objlen's model predicts its class ids as output indices (see
:func:`objlen.segment.sagemaker.model_class_count`), so the annotations keep
the configured ids (background, object, reference) and ``num_classes`` is
the largest of them plus one; the configured *ignore* id is written as 255.

The split is by the photo's content hash and the seed, each photo on its own,
so it is reproducible and does not move photos when rows are added. The
photos are JPEGs whose pixels are in the oriented frame of the masks: a JPEG
without an EXIF rotation is copied byte for byte, anything else (PNG, HEIC,
a rotated JPEG...) is decoded with its EXIF orientation applied and encoded
as JPEG without one.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import stat
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from objlen.classes import ClassIds
from objlen.display.overlay import CLASS_COLOURS
from objlen.errors import ImageReadError, MaskError, ObjlenError, ParameterError, without_name
from objlen.imageio import (
    MAX_PIXELS,
    encode_jpeg,
    load_image,
    load_mask,
    open_regular_file,
    read_regular_file,
    sha256_hex,
)
from objlen.pillow import Image, UnidentifiedImageError
from objlen.store import SavedMeasurement, Store, StoreError, is_sha256

TRAIN, VALIDATION = "train", "validation"
#: The four mandatory channels: image folder -> annotation folder.
CHANNELS: dict[str, str] = {TRAIN: "train_annotation", VALIDATION: "validation_annotation"}
LABEL_MAP_DIR = "label_map"
#: The label map objlen writes: pixel value = label.
LABEL_MAP: dict[str, str] = {"scale": "1"}
#: objlen's own description of an export, next to the channels.
MANIFEST = "objlen_dataset.json"
MANIFEST_SCHEMA = "objlen.dataset/1"
#: The algorithm's "hole / ignore" label.
IGNORE_LABEL = 255
#: Range of the algorithm's ``num_classes`` hyperparameter.
MIN_CLASSES, MAX_CLASSES = 2, 254
JPEG_QUALITY = 95
_EXIF_ORIENTATION = 0x0112


# ------------------------------------------------------------------- the rules
def num_classes_for(classes: ClassIds) -> int:
    """The ``num_classes`` hyperparameter for masks with these class ids.

    Raises:
        ParameterError: the ids need more classes than the algorithm allows.
    """
    count = max(classes.background, classes.object, classes.reference) + 1
    if not MIN_CLASSES <= count <= MAX_CLASSES:
        raise ParameterError(
            f"class ids up to {count - 1} need {count} classes; the algorithm allows "
            f"{MIN_CLASSES}..{MAX_CLASSES}: use small class ids"
        )
    return count


def _split_score(image_sha256: str, seed: int) -> float:
    """A uniform number in [0, 1) from the photo's hash and the seed."""
    digest = hashlib.sha256(f"objlen-split:{seed}:{image_sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(image_sha256: str, validation_fraction: float, seed: int = 0) -> str:
    """``"train"`` or ``"validation"`` for a photo, from its hash and the seed
    alone: the same photo always lands in the same channel."""
    return VALIDATION if _split_score(image_sha256, seed) < validation_fraction else TRAIN


def training_labels(mask: np.ndarray, classes: ClassIds) -> np.ndarray:
    """The annotation of a mask: background, object and reference ids kept,
    the ignore id written as 255.

    Raises:
        MaskError: the mask holds values that are none of the class ids.
    """
    known = np.zeros(256, bool)
    known[list(classes.known)] = True
    present = np.flatnonzero(np.bincount(mask.ravel(), minlength=256))
    strange = [int(v) for v in present if not known[v]]
    if strange:
        raise MaskError(
            f"the mask holds values {strange[:8]} that are not class ids "
            f"(background {classes.background}, object {classes.object}, "
            f"reference {classes.reference}, ignore {classes.ignore})"
        )
    labels = mask.astype(np.uint8, copy=True)
    labels[mask == classes.ignore] = IGNORE_LABEL
    return labels


def _palette() -> list[int]:
    colours = [(0, 0, 0)] * 256
    colours[1] = CLASS_COLOURS["object"]
    colours[2] = CLASS_COLOURS["reference"]
    colours[IGNORE_LABEL] = (255, 255, 255)
    return [channel for colour in colours for channel in colour]


def annotation_png(labels: np.ndarray) -> bytes:
    """An ``(H, W)`` uint8 label array as an indexed (mode ``P``) PNG: one
    channel of class indices, with a palette so viewers show colours."""
    picture = Image.fromarray(np.ascontiguousarray(labels, dtype=np.uint8))
    picture.putpalette(_palette())
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _orientation(picture: Image.Image) -> int:
    try:
        return int(picture.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except (ValueError, TypeError, OSError):
        return 1


def training_jpeg(data: bytes, name: str) -> tuple[bytes, tuple[int, int], bool]:
    """The photo as the JPEG the algorithm reads, in the masks' (oriented) frame.

    Returns:
        ``(jpeg bytes, (width, height), re-encoded)``: a JPEG in RGB or
        grayscale without an EXIF rotation comes back unchanged; anything else
        is decoded, EXIF orientation applied, and encoded as JPEG.

    Raises:
        ImageReadError: not a readable image.
    """
    try:
        with Image.open(io.BytesIO(data)) as picture:
            keep = (
                picture.format == "JPEG"
                and picture.mode in ("RGB", "L")
                and _orientation(picture) == 1
            )
            size = picture.size
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ImageReadError(f"{name}: not an image objlen can read") from error
    if keep:
        return data, size, False
    rgb = load_image(data, name=name)
    return encode_jpeg(rgb, quality=JPEG_QUALITY), (rgb.shape[1], rgb.shape[0]), True


# ----------------------------------------------------------------- saved rows
def training_rows(store: Store) -> list[dict[str, Any]]:
    """The saved measurements for display, newest first, with whether each
    has its photo and mask on disk (both are needed for training)."""
    table = []
    for row in store.list():
        try:
            image_path, mask_path = store.image_path(row), store.mask_path(row)
        except StoreError:  # a crafted file name: neither file is usable
            image_path = mask_path = None
        has_photo = image_path is not None and image_path.is_file()
        has_mask = mask_path is not None and mask_path.is_file()
        table.append(
            {
                "id": row.id,
                "image": row.image_name,
                "saved": row.created_at,
                "photo": has_photo,
                "mask": has_mask,
                "usable": has_photo and has_mask,
            }
        )
    return table


def load_pair(store: Store, row: SavedMeasurement) -> tuple[np.ndarray, np.ndarray]:
    """The photo (RGB, EXIF orientation applied) and mask of a saved row, the
    mask at the photo's size.

    Raises:
        ParameterError: the row has no saved photo or mask.
        ImageReadError, MaskError: a file is unreadable.
    """
    image_path, mask_path = store.image_path(row), store.mask_path(row)
    if image_path is None or not image_path.is_file():
        raise ParameterError(f"measurement {row.id} has no saved photo")
    if mask_path is None or not mask_path.is_file():
        raise ParameterError(f"measurement {row.id} has no saved mask")
    image = load_image(image_path)
    mask, _ = load_mask(mask_path, (image.shape[1], image.shape[0]))
    return image, mask


# ---------------------------------------------------------------------- export
@dataclass(frozen=True)
class ExportedImage:
    """One pair of the export: ``<base>.jpg`` and ``<base>.png`` in ``split``."""

    base: str
    split: str
    row_id: int
    image_name: str
    image_sha256: str
    reencoded: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_dataset` wrote.

    Attributes:
        images: every exported pair, in row order (newest first).
        skipped: ``(row id, reason)`` of saved rows that could not be used.
        num_classes: the ``num_classes`` hyperparameter for this set.
    """

    out_dir: Path
    images: tuple[ExportedImage, ...]
    skipped: tuple[tuple[int, str], ...]
    num_classes: int

    @property
    def train(self) -> list[str]:
        return [i.base for i in self.images if i.split == TRAIN]

    @property
    def validation(self) -> list[str]:
        return [i.base for i in self.images if i.split == VALIDATION]


def _usable_rows(store: Store) -> tuple[list[SavedMeasurement], list[tuple[int, str]]]:
    """The newest row of every photo that has a photo and a mask on disk.

    A row whose photo hash is not 64 hex digits, or whose file names lead
    anywhere but into the store's folders, is skipped: names from a
    database are data, never paths to follow.
    """
    rows, skipped, seen = [], [], set()
    for row in store.list():
        if not is_sha256(row.image_sha256):
            skipped.append((row.id, "its photo hash is not a SHA-256 (64 hex digits)"))
            continue
        if row.image_sha256 in seen:
            skipped.append((row.id, "a newer row of the same photo is used"))
            continue
        try:
            image_path, mask_path = store.image_path(row), store.mask_path(row)
        except StoreError as error:
            skipped.append((row.id, str(error)))
            continue
        if image_path is None or not image_path.is_file():
            skipped.append((row.id, "the photo was not saved with the measurement"))
        elif mask_path is None or not mask_path.is_file():
            skipped.append((row.id, "no mask was saved with the measurement"))
        else:
            seen.add(row.image_sha256)
            rows.append(row)
    return rows, skipped


def _fill_empty_channel(
    images: list[ExportedImage], root: Path, fraction: float, seed: int
) -> list[ExportedImage]:
    """If the hash split left a channel empty (few photos), move the pair
    whose score is nearest the threshold there: the algorithm needs both."""
    images = list(images)
    for wanted in (VALIDATION, TRAIN):
        if any(i.split == wanted for i in images):
            continue
        index = min(
            range(len(images)),
            key=lambda k: abs(_split_score(images[k].image_sha256, seed) - fraction),
        )
        moved = images[index]
        for old, new, suffix in (
            (moved.split, wanted, ".jpg"),
            (CHANNELS[moved.split], CHANNELS[wanted], ".png"),
        ):
            (root / old / f"{moved.base}{suffix}").rename(root / new / f"{moved.base}{suffix}")
        images[index] = replace(moved, split=wanted)
    return images


def _target_dir(out_dir: Path) -> None:
    """Refuse to replace a folder unless it is empty or holds only what an
    earlier export wrote there (see :func:`foreign_files`)."""
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise ParameterError(
            f"{out_dir} exists and is not an objlen dataset; choose an empty or new folder"
        )
    try:
        empty = not any(out_dir.iterdir())
    except OSError as error:
        raise ParameterError(
            f"{out_dir} cannot be read ({error.strerror}); choose another folder"
        ) from error
    if empty:
        return
    if not (out_dir / MANIFEST).is_file():
        raise ParameterError(
            f"{out_dir} exists and is not an objlen dataset; choose an empty or new folder"
        )
    foreign = foreign_files(out_dir)
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        shown = ", ".join(foreign[:5]) + more
        raise ParameterError(
            f"{out_dir} holds files objlen did not write there ({shown}); exporting again "
            "would delete them: move them out, or choose an empty or new folder"
        )


def _manifest_files(out_dir: Path) -> dict[str, str | None] | None:
    """What the export in ``out_dir`` says it wrote: relative path -> SHA-256
    (``None`` for an export from before objlen kept the hashes: names only).
    ``None`` when the manifest is unreadable."""
    try:
        manifest = json.loads(read_regular_file(out_dir / MANIFEST).decode("utf-8"))
    except (ObjlenError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(manifest, dict):
        return None
    files = manifest.get("files")
    if isinstance(files, dict):
        return {str(k): v if isinstance(v, str) else "" for k, v in files.items()}
    images = manifest.get("images")
    if not isinstance(images, dict):
        return None
    written: dict[str, str | None] = {
        f"{LABEL_MAP_DIR}/{split}_label_map.json": None for split in CHANNELS
    }
    for base, entry in images.items():
        split = entry.get("split") if isinstance(entry, dict) else None
        if split in CHANNELS:
            written[f"{split}/{base}.jpg"] = None
            written[f"{CHANNELS[split]}/{base}.png"] = None
    return written


def _file_sha256(path: Path) -> str | None:
    try:
        return sha256_hex(read_regular_file(path))
    except ObjlenError:
        return None


def foreign_files(out_dir: str | Path) -> list[str]:
    """What in an earlier export folder objlen did not write there.

    objlen's files are the manifest, the four channel folders and
    ``label_map/``, and each file the manifest lists, with the SHA-256 it
    had when written (an export from before the hashes were kept is matched
    by names). Anything else — another file or folder, a link, a file the
    user changed — is foreign: an export never deletes it.

    Returns:
        The foreign paths, relative to ``out_dir``, sorted (every file, when
        the manifest is unreadable).
    """
    root = Path(out_dir)
    written = _manifest_files(root) or {}
    folders = {*CHANNELS, *CHANNELS.values(), LABEL_MAP_DIR}
    foreign: list[str] = []

    def unreadable(error: OSError) -> None:
        foreign.append(os.path.relpath(error.filename, root) if error.filename else ".")

    for folder, subfolders, files in os.walk(root, onerror=unreadable):
        relative = Path(folder).relative_to(root)
        for name in sorted(subfolders):
            path = relative / name
            if path.as_posix() not in folders or (root / path).is_symlink():
                foreign.append(path.as_posix())
        subfolders[:] = [n for n in subfolders if (relative / n).as_posix() in folders]
        for name in sorted(files):
            key = (relative / name).as_posix()
            if key == MANIFEST and not (root / key).is_symlink():
                continue
            full = root / key
            ours = key in written and stat.S_ISREG(full.lstat().st_mode)
            if not ours or (written[key] is not None and _file_sha256(full) != written[key]):
                foreign.append(key)
    return sorted(foreign)


def _export_one(
    store: Store, row: SavedMeasurement, split: str, root: Path, classes: ClassIds
) -> ExportedImage:
    if not is_sha256(row.image_sha256):  # _usable_rows skips these; never a path
        raise StoreError(f"measurement {row.id}: its photo hash is not a SHA-256")
    data = read_regular_file(store.image_path(row), what=f"photo of {row.image_name}")
    jpeg, size, reencoded = training_jpeg(data, row.image_name)
    mask, notes = load_mask(store.mask_path(row), size, name=f"mask of {row.image_name}")
    labels = training_labels(mask, classes)
    base = row.image_sha256[:16]
    (root / split / f"{base}.jpg").write_bytes(jpeg)
    (root / CHANNELS[split] / f"{base}.png").write_bytes(annotation_png(labels))
    return ExportedImage(
        base, split, row.id, row.image_name, row.image_sha256, reencoded, tuple(notes)
    )


def export_dataset(
    store: Store,
    out_dir: str | Path,
    *,
    validation_fraction: float = 0.2,
    seed: int = 0,
    classes: ClassIds,
) -> ExportReport:
    """Write the saved measurements' photos and (corrected) masks as a
    training set in the algorithm's layout (see the module docstring).

    Of several rows of the same photo the newest is used. Rows without a
    saved photo or mask, or whose mask holds unknown values, are skipped and
    reported. The folder is built next to ``out_dir`` and renamed into place,
    replacing an earlier export there; a folder with other content is refused.

    Files: ``train/``, ``validation/`` (``<hash16>.jpg``),
    ``train_annotation/``, ``validation_annotation/`` (``<hash16>.png``,
    mode ``P``), ``label_map/train_label_map.json`` and
    ``label_map/validation_label_map.json`` (``{"scale": "1"}``), and
    ``objlen_dataset.json`` (``num_classes``, ``num_training_samples``, the
    split and where each pair came from).

    Raises:
        ParameterError: a bad fraction, class ids the algorithm cannot train,
            fewer than two usable rows, or an ``out_dir`` that is not ours.
    """
    if not (math.isfinite(validation_fraction) and 0 < validation_fraction < 1):
        raise ParameterError(
            f"the validation fraction must be between 0 and 1; got {validation_fraction!r}"
        )
    num_classes = num_classes_for(classes)
    out = Path(out_dir)
    _target_dir(out)
    rows, skipped = _usable_rows(store)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.build-"))
    try:
        for folder in (*CHANNELS, *CHANNELS.values(), LABEL_MAP_DIR):
            (build / folder).mkdir()
        usable: list[ExportedImage] = []
        for row in rows:
            split = split_of(row.image_sha256, validation_fraction, seed)
            try:
                usable.append(_export_one(store, row, split, build, classes))
            except ObjlenError as error:
                skipped.append((row.id, str(error)))
        if len(usable) < 2:
            raise ParameterError(
                f"a training set needs at least 2 saved measurements with a photo and a "
                f"mask; {len(usable)} usable (of {store.count()} saved)"
            )
        images = _fill_empty_channel(usable, build, validation_fraction, seed)
        label_map = json.dumps(LABEL_MAP, indent=2) + "\n"
        for split in CHANNELS:
            (build / LABEL_MAP_DIR / f"{split}_label_map.json").write_text(label_map)
        manifest = _manifest(images, num_classes, classes, validation_fraction, seed)
        manifest["files"] = _written_files(build)
        (build / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        _swap_into_place(build, out)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return ExportReport(out, tuple(images), tuple(skipped), num_classes)


def _manifest(
    images: list[ExportedImage],
    num_classes: int,
    classes: ClassIds,
    validation_fraction: float,
    seed: int,
) -> dict[str, Any]:
    return {
        "schema": MANIFEST_SCHEMA,
        "num_classes": num_classes,
        "num_training_samples": sum(1 for i in images if i.split == TRAIN),
        "num_validation_samples": sum(1 for i in images if i.split == VALIDATION),
        "classes": {
            "background": classes.background,
            "object": classes.object,
            "reference": classes.reference,
            "ignore": IGNORE_LABEL,
        },
        "label_map": LABEL_MAP,
        "validation_fraction": validation_fraction,
        "seed": seed,
        "images": {
            i.base: {
                "split": i.split,
                "row_id": i.row_id,
                "image_name": i.image_name,
                "image_sha256": i.image_sha256,
                "reencoded": i.reencoded,
            }
            for i in images
        },
    }


def _written_files(build: Path) -> dict[str, str]:
    """Every file of the export being built, relative path -> SHA-256: the
    manifest's record of what objlen wrote (and may replace next time)."""
    return {
        path.relative_to(build).as_posix(): sha256_hex(path.read_bytes())
        for path in sorted(build.rglob("*"))
        if path.is_file()
    }


def _swap_into_place(build: Path, out: Path) -> None:
    """Rename ``build`` to ``out``; an earlier export there is removed after
    (it was checked by :func:`_target_dir` to hold only objlen's files)."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        old.rmdir()
        out.rename(old)
    build.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -------------------------------------------------------------------- validate
@dataclass(frozen=True)
class Problem:
    """One broken rule of the layout.

    Attributes:
        file: the file or folder concerned, relative to the dataset folder.
        kind: a short code (``unpaired_image``, ``not_jpeg``, ``annotation_mode``,
            ``size_mismatch``, ``class_out_of_range``, ...).
        message: what is wrong and what to do, for the operator.
    """

    file: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


def _read_label_map(path: Path, root: Path, problems: list[Problem]) -> dict[str, Any]:
    """The label map at ``path`` (default ``scale 1`` when absent or broken)."""
    name = str(path.relative_to(root))
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"scale": 1}
    except OSError as error:
        problems.append(Problem(name, "unreadable", f"cannot be read ({error.strerror})"))
        return {"scale": 1}
    try:
        content = json.loads(read_regular_file(path, what=name).decode("utf-8"))
    except ObjlenError as error:
        problems.append(Problem(name, "unreadable", without_name(name, str(error))))
        return {"scale": 1}
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        problems.append(Problem(name, "label_map", f"not readable JSON: {reason}"))
        return {"scale": 1}
    if isinstance(content, Mapping) and "map" in content:
        mapping = content["map"]
        try:
            pairs = {int(label): int(value) for label, value in dict(mapping).items()}
        except (TypeError, ValueError):
            pairs = {}
        if not pairs or not all(0 <= v <= 255 and k >= 0 for k, v in pairs.items()):
            problems.append(
                Problem(name, "label_map", '"map" must map labels to pixel values 0..255')
            )
            return {"scale": 1}
        return {"map": pairs}
    if isinstance(content, Mapping) and "scale" in content:
        try:
            scale = float(content["scale"])
        except (TypeError, ValueError, OverflowError):
            scale = float("nan")
        if not (math.isfinite(scale) and scale >= 1):
            problems.append(Problem(name, "label_map", '"scale" must be a number >= 1'))
            return {"scale": 1}
        return {"scale": scale}
    problems.append(
        Problem(name, "label_map", 'a label map holds "scale" (e.g. {"scale": "1"}) or "map"')
    )
    return {"scale": 1}


def _label_of(value: int, label_map: Mapping[str, Any]) -> int | None:
    """The label of a pixel value under a label map (None: the map has none)."""
    if "map" in label_map:
        return next((k for k, v in label_map["map"].items() if v == value), None)
    return math.floor(value / label_map["scale"])


def _too_large(size: tuple[int, int]) -> bool:
    return size[0] * size[1] > MAX_PIXELS


def _too_large_problem(name: str, what: str) -> Problem:
    return Problem(
        name,
        "too_large",
        f"{what} too many pixels to decode safely (limit {MAX_PIXELS / 1e6:.0f} "
        "megapixels); scale it down",
    )


def _open_picture(path: Path, name: str) -> Image.Image:
    """Open a picture of the dataset lazily: a regular file only, Pillow's
    decompression-bomb warning silenced (the callers apply objlen's limit)."""
    stream = open_regular_file(path, what=name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(stream)
    except BaseException:
        stream.close()
        raise
    picture._exclusive_fp = True  # closing the picture closes the file
    return picture


def _check_image(path: Path, name: str, problems: list[Problem]) -> tuple[int, int] | None:
    if path.suffix.lower() not in (".jpg", ".jpeg"):
        problems.append(Problem(name, "not_jpeg_name", "image channels hold .jpg files only"))
        return None
    try:
        with _open_picture(path, name) as picture:
            if _too_large(picture.size):
                problems.append(_too_large_problem(name, "{}x{}: ".format(*picture.size)))
                return None
            if picture.format != "JPEG":
                problems.append(
                    Problem(name, "not_jpeg", f"named .jpg but is {picture.format}; save as JPEG")
                )
                return None
            if _orientation(picture) != 1:
                problems.append(
                    Problem(
                        name,
                        "exif_orientation",
                        "carries an EXIF rotation: the algorithm may read it unrotated, so "
                        "its annotation would not line up; rotate the pixels and drop the tag",
                    )
                )
            size = picture.size
            picture.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
            picture.load()
            return size
    except Image.DecompressionBombError:
        problems.append(_too_large_problem(name, "its header claims"))
        return None
    except ObjlenError as error:
        problems.append(Problem(name, "unreadable", without_name(name, str(error))))
        return None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        problems.append(Problem(name, "unreadable", "not a readable image (corrupt or truncated)"))
        return None


def _check_annotation(
    path: Path,
    name: str,
    image_size: tuple[int, int] | None,
    label_map: Mapping[str, Any],
    num_classes: int | None,
    problems: list[Problem],
) -> None:
    if path.suffix.lower() != ".png":
        problems.append(Problem(name, "not_png_name", "annotation channels hold .png files only"))
        return
    try:
        with _open_picture(path, name) as picture:
            if _too_large(picture.size):
                problems.append(_too_large_problem(name, "{}x{}: ".format(*picture.size)))
                return
            if picture.format != "PNG":
                problems.append(Problem(name, "not_png", f"named .png but is {picture.format}"))
                return
            if picture.mode not in ("L", "P"):
                problems.append(
                    Problem(
                        name,
                        "annotation_mode",
                        f"mode {picture.mode}: an annotation is one 8-bit channel of class "
                        "indices (mode L or P)",
                    )
                )
                return
            size = picture.size
            values = np.asarray(picture)
    except Image.DecompressionBombError:
        problems.append(_too_large_problem(name, "its header claims"))
        return
    except ObjlenError as error:
        problems.append(Problem(name, "unreadable", without_name(name, str(error))))
        return
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        problems.append(Problem(name, "unreadable", "not a readable PNG (corrupt or truncated)"))
        return
    if image_size is not None and size != image_size:
        problems.append(
            Problem(
                name,
                "size_mismatch",
                f"{size[0]}x{size[1]} but its photo is {image_size[0]}x{image_size[1]}",
            )
        )
    present = np.flatnonzero(np.bincount(values.ravel(), minlength=256))
    present = present[present != IGNORE_LABEL]
    limit = num_classes if num_classes is not None else MAX_CLASSES
    wrong = []
    for value in (int(v) for v in present):
        label = _label_of(value, label_map)
        if label is None or label >= limit:
            wrong.append(value)
    if wrong:
        problems.append(
            Problem(
                name,
                "class_out_of_range",
                f"pixel values {wrong[:8]} are not labels 0..{limit - 1} (or 255 to ignore)",
            )
        )


def _manifest_classes(root: Path) -> int | None:
    try:
        value = json.loads(read_regular_file(root / MANIFEST)).get("num_classes")
    except (ObjlenError, ValueError, AttributeError, RecursionError):
        return None
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _channel_files(root: Path, folder: str, problems: list[Problem]) -> dict[str, Path] | None:
    path = root / folder
    if not path.is_dir():
        problems.append(Problem(folder, "missing_channel", "the channel folder is missing"))
        return None
    try:
        items = sorted(path.iterdir())
    except OSError as error:
        problems.append(
            Problem(folder, "unreadable", f"the folder cannot be read ({error.strerror})")
        )
        return None
    files: dict[str, Path] = {}
    for item in items:
        if item.is_dir():
            problems.append(Problem(f"{folder}/{item.name}", "stray_file", "a folder in a channel"))
            continue
        if not item.is_file():
            problems.append(
                Problem(
                    f"{folder}/{item.name}",
                    "not_a_file",
                    "not a regular file (a named pipe, device, socket or broken link)",
                )
            )
            continue
        if item.stem in files:
            problems.append(
                Problem(
                    f"{folder}/{item.name}",
                    "duplicate_base_name",
                    f"same base name as {files[item.stem].name}: the pairing is ambiguous",
                )
            )
            continue
        files[item.stem] = item
    if not files:
        problems.append(Problem(folder, "empty_channel", "the channel holds no files"))
    return files


def validate_dataset(dataset_dir: str | Path, *, num_classes: int | None = None) -> list[Problem]:
    """Check a folder against every rule of the algorithm's layout.

    Rules: the four channels exist and are not empty; every JPG has a PNG of
    the same base name in the matching annotation channel and vice versa;
    photos are JPEG (by content, named ``.jpg``/``.jpeg``, readable, no EXIF
    rotation); annotations are PNG, one 8-bit channel (mode ``L`` or ``P``),
    the size of their photo, with labels (after the channel's label map)
    below ``num_classes`` or 255; label maps hold ``scale`` or ``map``.

    Args:
        num_classes: the classes the model will have; default: the export's
            ``objlen_dataset.json``, else only the algorithm's limit (254).

    Returns:
        Every problem found, each naming its file; empty when the folder is clean.
    """
    root = Path(dataset_dir)
    if not root.is_dir():
        what = "a file, not a dataset folder" if root.exists() else "no such folder"
        return [Problem(str(root), "missing_channel", what)]
    try:
        os.listdir(root)
    except OSError as error:
        return [Problem(str(root), "unreadable", f"the folder cannot be read ({error.strerror})")]
    problems: list[Problem] = []
    classes = num_classes if num_classes is not None else _manifest_classes(root)
    for split, annotation_folder in CHANNELS.items():
        label_map = _read_label_map(
            root / LABEL_MAP_DIR / f"{split}_label_map.json", root, problems
        )
        images = _channel_files(root, split, problems)
        annotations = _channel_files(root, annotation_folder, problems)
        if images is None or annotations is None:
            continue
        for base, path in images.items():
            name = f"{split}/{path.name}"
            size = _check_image(path, name, problems)
            if base not in annotations:
                problems.append(
                    Problem(
                        name,
                        "unpaired_image",
                        f"no {annotation_folder}/{base}.png: every photo needs an "
                        "annotation of the same base name",
                    )
                )
                continue
            annotation = annotations[base]
            _check_annotation(
                annotation,
                f"{annotation_folder}/{annotation.name}",
                size,
                label_map,
                classes,
                problems,
            )
        for base, path in annotations.items():
            if base not in images:
                problems.append(
                    Problem(
                        f"{annotation_folder}/{path.name}",
                        "unpaired_annotation",
                        f"no {split}/{base}.jpg: every annotation needs a photo of the same "
                        "base name",
                    )
                )
                _check_annotation(
                    path, f"{annotation_folder}/{path.name}", None, label_map, classes, problems
                )
    return problems


__all__ = [
    "CHANNELS",
    "IGNORE_LABEL",
    "LABEL_MAP",
    "MANIFEST",
    "ExportReport",
    "ExportedImage",
    "Problem",
    "annotation_png",
    "export_dataset",
    "load_pair",
    "num_classes_for",
    "split_of",
    "training_jpeg",
    "training_labels",
    "training_rows",
    "validate_dataset",
]
