"""Scoring objlen on real photos against a truth it did not make.

The photos and their truth live outside the package, in ``shared/realphotos``
(see its README): each labelled set has a ``truth.json`` with the reference
(real size, approximate pixel position) and the objects (approximate pixel
centre, true size in mm, grade). This module

* finds and loads them (:func:`realphotos_dir`, :func:`load_labelled`,
  :func:`unlabelled_photos`);
* measures a photo with objlen exactly as an operator would on the command
  line — local segmenter, every object, the reference given by its true size
  (:func:`measure_with_objlen`, :func:`objlen_runs`);
* matches every truth object to the measured box whose centre is nearest its
  ``approx_px`` and scores it (:func:`score_boxes`): the relative error of
  each dimension, whether the truth lies inside the reported 95 % interval,
  and whether the reference the tool used is the true one.

Any tool that yields :class:`MeasuredBox` rows (objlen, or the classic peer
of ``bench/classic_peer.py``) is scored by the same code.

Conventions: pixel positions are ``(x, y)`` in the photo after EXIF
orientation, x to the right, y down; lengths are in millimetres; relative
errors are signed fractions (``0.05`` = measured 5 % too long). Dimensions
are compared sorted, ``(long, short)``: the truth of an oblong pill is its
length x width in whatever direction it lies.

Nothing here prints or asserts: it returns plain dataclass rows.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from objlen.classes import ClassIds
from objlen.errors import ObjlenError
from objlen.imageio import load_image, load_mask
from objlen.measure import measure, measure_segmentation
from objlen.options import MeasureOptions, ReferenceSpec
from objlen.result import Measurement
from objlen.segment.base import Segmenter

#: Environment variable that overrides where the real photos are.
ENV_VAR = "OBJLEN_REALPHOTOS"
#: The default folder, relative to the repository's root: ``shared/`` beside the clone.
DEFAULT_RELATIVE = Path("..") / "shared" / "realphotos"
#: The repository's root (``objlen/testing/realphotos.py`` -> three levels up).
REPO_ROOT = Path(__file__).resolve().parents[2]
TRUTH_FILE = "truth.json"
UNLABELLED_FOLDER = "unlabelled"

#: A truth object is missed when no measured box centre lies within this share
#: of its true long side (converted to pixels with the truth reference's scale).
MATCH_RADIUS_SHARE = 0.5
#: The reference used is the true one when its centre lies within this share
#: of the truth reference's pixel size from the truth reference's ``approx_px``.
REFERENCE_RADIUS_SHARE = 0.5
#: Sets whose camera is tilted (truth.json: gridboard "camera tilted ~40 deg"):
#: the proportional method's assumption (a face-on camera) does not hold there.
TILTED_SETS = frozenset({"opencv_gridboard"})
#: Class ids the photos' given masks use (truth README: 1 object, 2 reference).
CLASSES = ClassIds()
METHOD_PROPORTIONAL, METHOD_HOMOGRAPHY = "proportional", "homography"
#: Shapes of a truth reference: a disc (coin) or a square (marker).
DISC, SQUARE = "disc", "square"
#: The tool names used in the rows.
OBJLEN, PEER = "objlen", "peer"


# --------------------------------------------------------------------------- truth
@dataclass(frozen=True)
class TruthReference:
    """The true reference of a photo.

    Attributes:
        what: what it is, in words.
        size_mm: its real size: a coin's diameter, a square marker's side.
        approx_px: its approximate centre ``(x, y)`` in pixels.
        extent_px: its approximate size in pixels (diameter or side).
        shape: ``"disc"`` (a coin: its diameter is the reference length) or
            ``"square"`` (a marker: ``size_mm`` x ``size_mm``).
    """

    what: str
    size_mm: float
    approx_px: tuple[float, float]
    extent_px: float
    shape: str

    @property
    def px_per_mm(self) -> float:
        """Approximate pixels per millimetre near the reference."""
        return self.extent_px / self.size_mm

    @property
    def spec(self) -> ReferenceSpec:
        """What an operator declares: a disc's diameter, or a square's W x H."""
        if self.shape == SQUARE:
            return ReferenceSpec(size=(self.size_mm, self.size_mm))
        return ReferenceSpec(length=self.size_mm)


@dataclass(frozen=True)
class TruthObject:
    """One object of known size.

    Attributes:
        name: as in truth.json.
        approx_px: approximate centre ``(x, y)`` in pixels.
        truth_mm: true ``(long, short)`` size in mm (sorted).
        grade: ``"primary"`` (stated by the source) or ``"secondary"``
            (matched by appearance to a stated size).
        mask: name of the given mask it is measured on (gridboard), else None.
        truth_u_mm: 95 % half-width of the stated truth itself (see
            :data:`TRUTH_RESOLUTION_MM`).
    """

    name: str
    approx_px: tuple[float, float]
    truth_mm: tuple[float, float]
    grade: str
    mask: str | None = None
    truth_u_mm: float = 0.0


@dataclass(frozen=True)
class LabelledPhoto:
    """A photo with a stated true reference and true object sizes.

    Attributes:
        set_name: the set's name in truth.json (``"wmhui_pills"``...).
        folder: the set's folder name (``"pills"``...).
        path: the photo file.
        reference: the true reference.
        objects: the objects of known size.
        masks: given masks by name (``"markers"`` -> path), when the set has them.
    """

    set_name: str
    folder: str
    path: Path
    reference: TruthReference
    objects: tuple[TruthObject, ...]
    masks: dict[str, Path] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``folder/file``, for tables."""
        return f"{self.folder}/{self.path.name}"


@dataclass(frozen=True)
class UnlabelledPhoto:
    """A photo where only the reference's size and the number of regions are known.

    Attributes:
        path: the photo file.
        spec: the reference as the operator declares it.
        expected_regions: separate regions an operator sees, reference included.
        reference_px: approximate centre ``(x, y)`` of the reference, read off
            the photo by eye for this harness (the README says "left").
        reference_extent_px: the reference's approximate long side in pixels.
        orientation: what an operator would choose.
    """

    path: Path
    spec: ReferenceSpec
    expected_regions: int
    reference_px: tuple[float, float]
    reference_extent_px: float
    orientation: str = "auto"

    @property
    def name(self) -> str:
        return f"{UNLABELLED_FOLDER}/{self.path.name}"


def realphotos_dir(path: str | Path | None = None) -> Path:
    """The real-photo folder: ``path``, else ``$OBJLEN_REALPHOTOS``, else
    ``<repo>/../shared/realphotos``.

    Raises:
        FileNotFoundError: the folder does not exist; the message says where
            it was looked for and how to point at it.
    """
    if path is not None:
        chosen, how = Path(path), "as given"
    elif os.environ.get(ENV_VAR):
        chosen, how = Path(os.environ[ENV_VAR]), f"from ${ENV_VAR}"
    else:
        chosen, how = (REPO_ROOT / DEFAULT_RELATIVE).resolve(), "beside the repository"
    if not chosen.is_dir():
        raise FileNotFoundError(
            f"the real-photo folder {chosen} ({how}) does not exist: put a copy of "
            f"shared/ beside the clone, or set {ENV_VAR} to the folder holding "
            "pills/, coins/, gridboard/ and unlabelled/"
        )
    return chosen


def _xy(value: Sequence[float]) -> tuple[float, float]:
    return float(value[0]), float(value[1])


def _sorted_dims(values: Sequence[float]) -> tuple[float, float]:
    long, short = sorted((float(values[0]), float(values[1])), reverse=True)
    return long, short


def _reference(data: dict) -> TruthReference:
    if "diameter_px_approx" in data:
        extent, shape = data["diameter_px_approx"], DISC
    else:
        extent, shape = data["side_px_approx"], SQUARE
    return TruthReference(
        what=data["what"],
        size_mm=float(data["size_mm"]),
        approx_px=_xy(data["approx_px"]),
        extent_px=float(extent),
        shape=shape,
    )


#: 95 % half-width of a set's stated truth, mm, where its source says it is
#: coarse: the pills were measured by hand to 1 mm (truth.json: "+-0.5 mm").
#: Coins (US Mint) and the printed board (its design) are taken as exact.
TRUTH_RESOLUTION_MM = {"wmhui_pills": 0.5}


def load_labelled(folder: str | Path | None = None) -> list[LabelledPhoto]:
    """Every labelled photo of every ``*/truth.json`` under the folder, sorted by
    folder then file order in truth.json.

    Raises:
        FileNotFoundError: no folder (see :func:`realphotos_dir`), or it holds no truth.json.
    """
    root = realphotos_dir(folder)
    photos = []
    truth_files = sorted(root.glob(f"*/{TRUTH_FILE}"))
    if not truth_files:
        raise FileNotFoundError(f"no */{TRUTH_FILE} under {root}")
    for truth_file in truth_files:
        data = json.loads(truth_file.read_text())
        base = truth_file.parent
        for image in data["images"]:
            masks = {k: base / v for k, v in image.get("derived_masks", {}).items()}
            objects = tuple(
                TruthObject(
                    name=o["name"],
                    approx_px=_xy(o["approx_px"]),
                    truth_mm=_sorted_dims(o["truth_mm"]),
                    grade=o["grade"],
                    mask=o.get("mask"),
                    truth_u_mm=TRUTH_RESOLUTION_MM.get(data["set"], 0.0),
                )
                for o in image["objects"]
            )
            photos.append(
                LabelledPhoto(
                    set_name=data["set"],
                    folder=base.name,
                    path=base / image["file"],
                    reference=_reference(image["reference"]),
                    objects=objects,
                    masks=masks,
                )
            )
    return photos


def unlabelled_photos(folder: str | Path | None = None) -> list[UnlabelledPhoto]:
    """The two unlabelled photos, with what the real-photo README states about
    them (reference size, number of regions) and a by-eye reference position.

    Raises:
        FileNotFoundError: no folder (see :func:`realphotos_dir`).
    """
    base = realphotos_dir(folder) / UNLABELLED_FOLDER
    return [
        # a US quarter (24.26 mm, left) and 5 pills on dark wood
        UnlabelledPhoto(
            base / "example_02.png",
            ReferenceSpec(length=24.26),
            expected_regions=6,
            reference_px=(122.0, 360.0),
            reference_extent_px=128.0,
        ),
        # a business card (88.9 x 50.8 mm, left), two CD sleeves and an envelope
        UnlabelledPhoto(
            base / "example_03.png",
            ReferenceSpec(size=(88.9, 50.8)),
            expected_regions=4,
            reference_px=(108.0, 232.0),
            reference_extent_px=90.0,
        ),
    ]


# --------------------------------------------------------------------------- objlen
def _make_local_segmenter(spec: ReferenceSpec, classes: ClassIds) -> Segmenter:
    """The local segmenter, told what the reference is when it can be told."""
    from objlen.segment import make_segmenter

    if "reference" in inspect.signature(make_segmenter).parameters:
        return make_segmenter("local", classes=classes, reference=spec)
    return make_segmenter("local", classes=classes)


def measure_with_objlen(
    image: np.ndarray,
    spec: ReferenceSpec,
    options: MeasureOptions,
    *,
    mask: np.ndarray | None = None,
) -> Measurement:
    """Measure as ``python -m objlen measure PHOTO --all`` does: the one objlen call
    of this harness.

    Args:
        image: ``(H, W, 3)`` uint8 RGB photo.
        spec: the reference as the operator declares it (its true size).
        options: method, orientation, unit...; its reference is replaced by
            ``spec`` and ``all_objects`` is set.
        mask: a given class-index mask (as ``--mask``); without it the photo
            is segmented by the local segmenter, which is passed
            ``reference=spec`` when :func:`objlen.segment.make_segmenter`
            accepts that keyword.

    Raises:
        objlen.errors.ObjlenError: what the command line would report.
    """
    options = replace(options, reference=spec, all_objects=True)
    if mask is not None:
        return measure(mask, options, image=image)
    segmentation = _make_local_segmenter(spec, options.classes).segment(image)
    return measure_segmentation(segmentation, options, image=image)


@dataclass(frozen=True)
class ObjlenRun:
    """One way of measuring a labelled photo with objlen.

    Attributes:
        label: ``"proportional"``, or ``"homography / markers mask"``...
        options: method and orientation (reference set by the photo's truth).
        mask: name of the given mask, or None to segment the photo.
        assumptions_hold: False where the method's assumption is known to be
            broken (proportional on a tilted camera).
    """

    label: str
    options: MeasureOptions
    mask: str | None
    assumptions_hold: bool


def _orientation(photo: LabelledPhoto) -> str:
    """``auto`` when an oblong object may lie in any direction (pills on a
    segmented photo); ``upright`` where the objects are squared with the
    reference (the gridboard's given masks) or round."""
    oblong = any(o.truth_mm[0] != o.truth_mm[1] for o in photo.objects)
    return "auto" if oblong and not photo.masks else "upright"


def objlen_runs(photo: LabelledPhoto) -> list[ObjlenRun]:
    """The runs an operator would make: one per given mask (or the photo
    segmented) and per method the reference allows (a disc's diameter:
    proportional; a square of known side: proportional and homography)."""
    methods = [METHOD_PROPORTIONAL]
    if photo.reference.shape == SQUARE:
        methods.append(METHOD_HOMOGRAPHY)
    masks: list[str | None] = sorted(photo.masks) if photo.masks else [None]
    orientation = _orientation(photo)
    runs = []
    for mask in masks:
        for method in methods:
            label = method if mask is None else f"{method} / {mask} mask"
            hold = not (method == METHOD_PROPORTIONAL and photo.set_name in TILTED_SETS)
            options = MeasureOptions(method=method, orientation=orientation, classes=CLASSES)
            runs.append(ObjlenRun(label, options, mask, hold))
    return runs


# --------------------------------------------------------------------------- scoring
@dataclass(frozen=True)
class MeasuredBox:
    """A measured object as any tool reports it.

    Attributes:
        centre_px: centre ``(x, y)`` of its box in pixels.
        dims_mm: ``(long, short)`` sizes in mm, sorted.
        uncertainty_mm: the 95 % half-widths of ``dims_mm`` (same order), or
            None when the tool states none.
    """

    centre_px: tuple[float, float]
    dims_mm: tuple[float, float]
    uncertainty_mm: tuple[float, float] | None = None


def box(
    centre_px: Sequence[float],
    dims: Sequence[float],
    uncertainties: Sequence[float] | None = None,
) -> MeasuredBox:
    """A :class:`MeasuredBox` from sizes in any order (sorted here, each
    uncertainty kept with its size)."""
    pairs = list(zip(dims, uncertainties if uncertainties is not None else dims, strict=True))
    pairs.sort(key=lambda p: -float(p[0]))
    dims_mm = (float(pairs[0][0]), float(pairs[1][0]))
    unc = None if uncertainties is None else (float(pairs[0][1]), float(pairs[1][1]))
    return MeasuredBox(_xy(centre_px), dims_mm, unc)


def objlen_boxes(result: Measurement) -> list[MeasuredBox]:
    """objlen's objects as boxes: centre = midpoint of the diagonal E-B."""
    return [
        box(
            (o.B + o.E) / 2,
            (o.width.value, o.height.value),
            (o.width.uncertainty, o.height.uncertainty),
        )
        for o in result.objects
    ]


def reference_centre(result: Measurement) -> tuple[float, float] | None:
    """Midpoint of objlen's reference segment C-D, or None (scale given)."""
    ref = result.reference
    if ref.C is None or ref.D is None:
        return None
    return _xy((ref.C + ref.D) / 2)


def nearest(
    target_px: Sequence[float], boxes: Sequence[MeasuredBox], radius_px: float
) -> tuple[int, float] | None:
    """Index of the box whose centre is nearest ``target_px`` and its distance
    in pixels, or None when no centre lies within ``radius_px``."""
    if not boxes:
        return None
    distances = [math.dist(target_px, b.centre_px) for b in boxes]
    index = int(np.argmin(distances))
    if distances[index] > radius_px:
        return None
    return index, distances[index]


@dataclass(frozen=True)
class ObjectScore:
    """One truth object scored for one tool and run.

    Attributes:
        errors: signed relative errors of ``(long, short)``; None when missed.
        inside: whether each truth dimension lies within value ± uncertainty;
            None when missed or the tool states no uncertainty.
        distance_px: from the truth's ``approx_px`` to the matched box centre.
        assumptions_hold: see :class:`ObjlenRun`.
    """

    set_name: str
    photo: str
    run: str
    tool: str
    name: str
    grade: str
    truth_mm: tuple[float, float]
    measured: MeasuredBox | None
    errors: tuple[float, float] | None
    inside: tuple[bool, bool] | None
    distance_px: float | None
    assumptions_hold: bool = True

    @property
    def missed(self) -> bool:
        return self.measured is None

    @property
    def worst_error(self) -> float:
        """Largest absolute relative error; infinite when missed."""
        return math.inf if self.errors is None else max(abs(e) for e in self.errors)


@dataclass(frozen=True)
class ReferenceScore:
    """Whether a tool used the true reference on one photo and run.

    Attributes:
        distance_px: from the truth reference's ``approx_px`` to the centre of
            the reference the tool used (None when it used none or failed).
        correct: ``distance_px`` within the allowed radius.
        error: the tool's error message when it failed on the photo.
    """

    set_name: str
    photo: str
    run: str
    tool: str
    distance_px: float | None
    correct: bool
    error: str | None = None


def score_object(
    truth: TruthObject, measured: MeasuredBox
) -> tuple[tuple[float, float], tuple[bool, bool] | None]:
    """``(errors, inside)`` of ``measured`` against ``truth`` (both sorted
    ``(long, short)``); ``inside`` is None without an uncertainty.

    As in any comparison of a measurement with a reference value, both
    uncertainties count: the truth is inside when ``|m - t| <= sqrt(u_m^2 +
    u_t^2)``, ``u_t`` the truth's own 95 % half-width (0 for exact truths).
    """
    errors = tuple(m / t - 1.0 for m, t in zip(measured.dims_mm, truth.truth_mm, strict=True))
    if measured.uncertainty_mm is None:
        return errors, None
    inside = tuple(
        abs(m - t) <= float(np.hypot(u, truth.truth_u_mm))
        for m, t, u in zip(measured.dims_mm, truth.truth_mm, measured.uncertainty_mm, strict=True)
    )
    return errors, inside


def match_radius_px(photo: LabelledPhoto, truth: TruthObject) -> float:
    """How far from ``approx_px`` a box centre may lie: half the truth's long
    side, in pixels at the truth reference's scale."""
    return MATCH_RADIUS_SHARE * truth.truth_mm[0] * photo.reference.px_per_mm


def reference_score(
    photo: LabelledPhoto,
    run: str,
    tool: str,
    centre_px: Sequence[float] | None,
    error: str | None = None,
) -> ReferenceScore:
    """Score the reference a tool used, by its centre's distance from the truth's."""
    radius = REFERENCE_RADIUS_SHARE * photo.reference.extent_px
    if centre_px is None:
        return ReferenceScore(photo.set_name, photo.name, run, tool, None, False, error)
    distance = math.dist(centre_px, photo.reference.approx_px)
    return ReferenceScore(photo.set_name, photo.name, run, tool, distance, distance <= radius)


def score_boxes(
    photo: LabelledPhoto,
    run: str,
    tool: str,
    boxes: Sequence[MeasuredBox],
    objects: Iterable[TruthObject],
    assumptions_hold: bool = True,
) -> list[ObjectScore]:
    """Match each truth object to the nearest box (see :func:`nearest`) and score it.

    Two truth objects may match the same box (objects merged into one): both
    are scored against it.
    """
    scores = []
    for truth in objects:
        found = nearest(truth.approx_px, boxes, match_radius_px(photo, truth))
        measured = errors = inside = distance = None
        if found is not None:
            index, distance = found
            measured = boxes[index]
            errors, inside = score_object(truth, measured)
        scores.append(
            ObjectScore(
                photo.set_name,
                photo.name,
                run,
                tool,
                truth.name,
                truth.grade,
                truth.truth_mm,
                measured,
                errors,
                inside,
                distance,
                assumptions_hold,
            )
        )
    return scores


def run_objects(photo: LabelledPhoto, run: ObjlenRun) -> tuple[TruthObject, ...]:
    """The truth objects a run measures: those on its mask (all without one)."""
    return tuple(o for o in photo.objects if run.mask is None or o.mask == run.mask)


@dataclass(frozen=True)
class PhotoScores:
    """Everything one tool scored on one photo and run."""

    objects: list[ObjectScore]
    reference: ReferenceScore


def evaluate_objlen(photo: LabelledPhoto, run: ObjlenRun) -> PhotoScores:
    """Measure ``photo`` with objlen the way ``run`` says and score it. A
    failure of objlen (an :class:`ObjlenError`) misses every object."""
    image = load_image(photo.path)
    mask = None
    if run.mask is not None:
        mask, _ = load_mask(photo.masks[run.mask], (image.shape[1], image.shape[0]))
    objects = run_objects(photo, run)
    try:
        result = measure_with_objlen(image, photo.reference.spec, run.options, mask=mask)
    except ObjlenError as exc:
        reference = reference_score(photo, run.label, OBJLEN, None, str(exc))
        return PhotoScores(
            score_boxes(photo, run.label, OBJLEN, [], objects, run.assumptions_hold), reference
        )
    scores = score_boxes(
        photo, run.label, OBJLEN, objlen_boxes(result), objects, run.assumptions_hold
    )
    return PhotoScores(scores, reference_score(photo, run.label, OBJLEN, reference_centre(result)))


def evaluate_all_objlen(
    photos: Iterable[LabelledPhoto],
) -> tuple[list[ObjectScore], list[ReferenceScore]]:
    """objlen on every run of every photo (runs without truth objects left out):
    all object scores and one reference score per photo and run."""
    objects: list[ObjectScore] = []
    references: list[ReferenceScore] = []
    for photo in photos:
        for run in objlen_runs(photo):
            if not run_objects(photo, run):
                continue
            scores = evaluate_objlen(photo, run)
            objects += scores.objects
            references.append(scores.reference)
    return objects, references


@dataclass(frozen=True)
class RegionCount:
    """Regions objlen gives on an unlabelled photo (objects + the reference).

    Attributes:
        regions: measured objects plus one reference; None when objlen failed.
        reference_correct: the reference's C-D midpoint lies within half its
            size of the by-eye position.
        error: objlen's message when it failed.
        boxes: the measured objects, left to right (no truth: shown so that a
            change of a mask shows in the tables).
    """

    photo: str
    regions: int | None
    expected: int
    reference_correct: bool
    error: str | None = None
    boxes: tuple[MeasuredBox, ...] = ()


def count_regions(photo: UnlabelledPhoto) -> RegionCount:
    """Measure an unlabelled photo as an operator would and count its regions."""
    image = load_image(photo.path)
    options = MeasureOptions(orientation=photo.orientation, classes=CLASSES)
    try:
        result = measure_with_objlen(image, photo.spec, options)
    except ObjlenError as exc:
        return RegionCount(photo.name, None, photo.expected_regions, False, str(exc))
    centre = reference_centre(result)
    correct = (
        centre is not None
        and math.dist(centre, photo.reference_px)
        <= REFERENCE_RADIUS_SHARE * photo.reference_extent_px
    )
    boxes = tuple(sorted(objlen_boxes(result), key=lambda b: b.centre_px))
    return RegionCount(
        photo.name, len(result.objects) + 1, photo.expected_regions, correct, boxes=boxes
    )


# --------------------------------------------------------------------------- summary
@dataclass(frozen=True)
class ToolSummary:
    """One tool's numbers over a group of scored objects.

    Attributes:
        objects: truth objects in the group; missed: how many had no match.
        median_error, max_error: of the absolute relative errors of every
            matched dimension (None when nothing matched).
        inside, lengths: dimensions whose truth lies in the 95 % interval,
            out of the matched dimensions with an uncertainty.
        references_correct, photos: photos where the true reference was used.
    """

    objects: int
    missed: int
    median_error: float | None
    max_error: float | None
    inside: int
    lengths: int
    references_correct: int
    photos: int

    @property
    def coverage(self) -> float | None:
        """Share of lengths with the truth inside the interval."""
        return self.inside / self.lengths if self.lengths else None


def summarise(scores: Sequence[ObjectScore], references: Sequence[ReferenceScore]) -> ToolSummary:
    """Summarise object and reference scores (of one tool)."""
    errors = [abs(e) for s in scores if s.errors is not None for e in s.errors]
    inside = [i for s in scores if s.inside is not None for i in s.inside]
    return ToolSummary(
        objects=len(scores),
        missed=sum(s.missed for s in scores),
        median_error=statistics.median(errors) if errors else None,
        max_error=max(errors) if errors else None,
        inside=sum(inside),
        lengths=len(inside),
        references_correct=sum(r.correct for r in references),
        photos=len(references),
    )
