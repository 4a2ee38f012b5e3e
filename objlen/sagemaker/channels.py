"""The training channels of SageMaker's semantic segmentation: a dataset folder, checked and in S3.

:func:`scan_dataset` checks a dataset folder in the algorithm's layout
(``train/*.jpg``, ``train_annotation/*.png`` of the same base names, the
same for ``validation``; optional ``label_map/*.json``) and counts what the
hyperparameters need; :func:`upload_dataset` puts it in S3, one prefix per
channel, and :func:`uploaded_channels` finds those prefixes again.

AWS facts relied on (see the SageMaker Developer Guide, "Semantic
Segmentation Algorithm", and the API reference of CreateTrainingJob): the
four channels are mandatory, ``label_map`` is optional; photos are
``image/jpeg``, annotations ``image/png`` masks of class indices; 255 is the
"ignore" label.

S3 prefixes of channels end with ``/``: S3Prefix matching is by key prefix,
and ``.../train`` would also match ``.../train_annotation/...``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from objlen.classes import ClassIds
from objlen.errors import ParameterError
from objlen.imageio import load_mask
from objlen.sagemaker.s3 import check_bucket, list_keys, s3_uri, split_s3_folder
from objlen.sagemaker.session import AwsSession, calling_aws
from objlen.segment.sagemaker import model_class_count

#: The mandatory channels of the algorithm, in the order they are shown.
CHANNELS = ("train", "validation", "train_annotation", "validation_annotation")
#: The optional channel of label maps (``train_label_map.json``, ``validation_label_map.json``).
LABEL_MAP_CHANNEL = "label_map"
#: The files the label map channel may hold.
LABEL_MAP_FILES = ("train_label_map.json", "validation_label_map.json")
#: Content type of each mandatory channel's files.
CHANNEL_CONTENT_TYPES = {
    "train": "image/jpeg",
    "validation": "image/jpeg",
    "train_annotation": "image/png",
    "validation_annotation": "image/png",
}


@dataclass(frozen=True)
class DatasetSummary:
    """What a dataset folder holds, checked.

    Attributes:
        path: the dataset folder.
        files: per channel (``label_map`` included when present), the file
            names, sorted.
        label_values: distinct values in the annotation PNGs, "ignore" excluded.
        num_classes: classes the model must predict (see :func:`scan_dataset`).
    """

    path: Path
    files: Mapping[str, tuple[str, ...]]
    label_values: tuple[int, ...]
    num_classes: int

    @property
    def num_training_samples(self) -> int:
        """Number of training images (a required hyperparameter)."""
        return len(self.files["train"])


def _list_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _check_pairs(root: Path, images: str, labels: str) -> tuple[list[str], list[str]]:
    image_dir, annotation_dir = root / images, root / labels
    for folder in (image_dir, annotation_dir):
        if not folder.is_dir():
            raise ParameterError(
                f"{root}: the folder {folder.name}/ is missing; a dataset needs train/, "
                "validation/, train_annotation/ and validation_annotation/"
            )
    image_files, annotation_files = _list_files(image_dir), _list_files(annotation_dir)
    wrong = [f"{images}/{n}" for n in image_files if not n.endswith(".jpg")]
    wrong += [f"{labels}/{n}" for n in annotation_files if not n.endswith(".png")]
    if wrong:
        raise ParameterError(
            f"{root}: the algorithm reads *.jpg photos and *.png annotations only; rename or "
            f"remove {', '.join(wrong[:5])}"
            + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        )
    if not image_files:
        raise ParameterError(f"{root}: {images}/ has no .jpg photos")
    stems = {Path(n).stem for n in image_files}
    label_stems = {Path(n).stem for n in annotation_files}
    unpaired = [f"{images}/{s}.jpg" for s in sorted(stems - label_stems)]
    unpaired += [f"{labels}/{s}.png" for s in sorted(label_stems - stems)]
    if unpaired:
        raise ParameterError(
            f"{root}: every photo needs an annotation of the same base name and vice versa; "
            f"unpaired: {', '.join(unpaired[:5])}"
            + (f" and {len(unpaired) - 5} more" if len(unpaired) > 5 else "")
        )
    return image_files, annotation_files


def _label_map_classes(root: Path, names: list[str], values: set[int]) -> int:
    """Classes implied by the label maps (0 if they imply nothing)."""
    count = 0
    for name in names:
        path = root / LABEL_MAP_CHANNEL / name
        try:
            content = json.loads(path.read_text("utf-8"))
            if "map" in content:
                count = max(count, max(int(k) for k in content["map"]) + 1)
            elif "scale" in content and values:
                count = max(count, max(values) // int(float(content["scale"])) + 1)
        except (ValueError, TypeError, AttributeError, ZeroDivisionError) as exc:
            raise ParameterError(
                f'{path}: not a label map; it must be JSON like {{"scale": "1"}} or '
                '{"map": {"0": 0, "1": 1}}'
            ) from exc
    return count


def scan_dataset(dataset_dir: str | Path, classes: ClassIds = ClassIds()) -> DatasetSummary:  # noqa: B008
    """Check a dataset folder in the algorithm's layout and count what training needs.

    Every ``train/*.jpg`` needs a ``train_annotation/*.png`` of the same base
    name and vice versa; the same for ``validation``. ``label_map/*.json``
    is optional (``{"scale": ...}`` or ``{"map": {label: pixel value}}``).

    ``num_classes`` is the larger of the classes objlen's masks use
    (``classes``: background, object, reference, so 3 by default) and the
    classes of the annotations: what the label maps imply if there are any,
    else the largest annotation value + 1 ("ignore" excluded). Every
    annotation PNG is read once.

    Raises:
        ParameterError: a missing folder, a file of the wrong type, an
            unpaired photo or annotation, a bad label map.
        ImageReadError, MaskError: an annotation is not a single-channel PNG.
    """
    root = Path(dataset_dir).expanduser()
    if not root.is_dir():
        raise ParameterError(f"{root}: no such dataset folder")
    files: dict[str, tuple[str, ...]] = {}
    for photos, labels in (("train", "train_annotation"), ("validation", "validation_annotation")):
        photo_files, label_files = _check_pairs(root, photos, labels)
        files[photos], files[labels] = tuple(photo_files), tuple(label_files)
    values: set[int] = set()
    for channel in ("train_annotation", "validation_annotation"):
        for name in files[channel]:
            mask, _ = load_mask(root / channel / name)
            values.update(int(v) for v in np.unique(mask))
    values.discard(classes.ignore)
    label_maps: list[str] = []
    if (root / LABEL_MAP_CHANNEL).is_dir():
        label_maps = _list_files(root / LABEL_MAP_CHANNEL)
        unknown = sorted(set(label_maps) - set(LABEL_MAP_FILES))
        if unknown:
            raise ParameterError(
                f"{root}: label_map/ may hold {' and '.join(LABEL_MAP_FILES)} only; rename or "
                f"remove {', '.join(unknown)}"
            )
        if label_maps:
            files[LABEL_MAP_CHANNEL] = tuple(label_maps)
    labels_count = _label_map_classes(root, label_maps, values) or max(values, default=0) + 1
    num_classes = max(model_class_count(classes), labels_count)
    return DatasetSummary(
        path=root, files=files, label_values=tuple(sorted(values)), num_classes=num_classes
    )


def channel_uris(bucket: str, prefix: str, *, label_map: bool = False) -> dict[str, str]:
    """S3 URIs (ending with ``/``) of the channels under ``s3://bucket/prefix/``."""
    names = CHANNELS + ((LABEL_MAP_CHANNEL,) if label_map else ())
    return {name: s3_uri(bucket, prefix, f"{name}/") for name in names}


def uploaded_channels(bucket: str, prefix: str, session: AwsSession) -> dict[str, str]:
    """The channel URIs under ``s3://bucket/prefix/``, as :func:`upload_dataset` made them.

    The four mandatory channels are always given
    (:func:`~objlen.sagemaker.train.create_training_job`
    checks that they hold objects); ``label_map`` only if it holds one.

    Raises:
        ParameterError: a bad bucket name.
        AwsError: S3 refused.
    """
    check_bucket(bucket)
    channels = channel_uris(bucket, prefix, label_map=True)
    _, key = split_s3_folder(channels[LABEL_MAP_CHANNEL], "the label map channel")
    with calling_aws(f"looking for label maps in {channels[LABEL_MAP_CHANNEL]}", session):
        answer = session.client("s3").list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    if not answer.get("KeyCount"):
        del channels[LABEL_MAP_CHANNEL]
    return channels


def _refuse_stale_objects(
    summary: DatasetSummary, bucket: str, prefix: str, session: AwsSession
) -> None:
    stale: list[str] = []
    for channel, uri in channel_uris(bucket, prefix, label_map=True).items():
        _, key = split_s3_folder(uri, f"the {channel} channel")
        wanted = {f"{key}{name}" for name in summary.files.get(channel, ())}
        stale += [k for k in list_keys(session, bucket, key, f"listing {uri}") if k not in wanted]
    if stale:
        raise ParameterError(
            f"s3://{bucket}/{prefix.strip('/')}/ holds files that are not in this dataset and "
            f"would be trained on: {', '.join(stale[:5])}"
            + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
            + "; upload to a new prefix, or delete them first"
        )


def upload_dataset(
    dataset_dir: str | Path,
    bucket: str,
    prefix: str,
    session: AwsSession,
    *,
    classes: ClassIds = ClassIds(),  # noqa: B008 - frozen, immutable default
    progress_callback: Callable[[int, int], None] | None = None,
) -> dict[str, str]:
    """Upload a dataset folder (checked by :func:`scan_dataset`) to S3.

    Files keep their names under ``s3://bucket/prefix/<channel>/``; photos
    are stored as ``image/jpeg``, annotations as ``image/png``.
    ``progress_callback(done, total)`` is called after each file.

    Returns:
        ``{channel: "s3://bucket/prefix/<channel>/"}``, ``label_map`` included
        when the folder has one.

    Files already there under the same names are replaced; other files
    under a channel's prefix would be trained on too, so they are refused.

    Raises:
        ParameterError: a bad dataset, bucket or prefix; files of another
            dataset under the channels' prefixes.
        AwsError: S3 refused (no bucket, no credentials...).
    """
    check_bucket(bucket)
    summary = scan_dataset(dataset_dir, classes)
    _refuse_stale_objects(summary, bucket, prefix, session)
    total = sum(len(names) for names in summary.files.values())
    done = 0
    for channel, names in summary.files.items():
        content_type = CHANNEL_CONTENT_TYPES.get(channel, "application/json")
        for name in names:
            key = "/".join(p for p in (prefix.strip("/"), channel, name) if p)
            body = (summary.path / channel / name).read_bytes()
            with calling_aws(f"uploading {channel}/{name} to s3://{bucket}/{key}", session):
                session.client("s3").put_object(
                    Bucket=bucket, Key=key, Body=body, ContentType=content_type
                )
            done += 1
            if progress_callback is not None:
                progress_callback(done, total)
    return channel_uris(bucket, prefix, label_map=LABEL_MAP_CHANNEL in summary.files)


__all__ = [
    "CHANNELS",
    "CHANNEL_CONTENT_TYPES",
    "LABEL_MAP_CHANNEL",
    "LABEL_MAP_FILES",
    "DatasetSummary",
    "channel_uris",
    "scan_dataset",
    "upload_dataset",
    "uploaded_channels",
]
