"""The operator's working state on one photo, without Streamlit.

A :class:`Workbench` holds what the operator has done to one photo: the
photo, the mask the segmenter gave, the corrections made to it (boxes, brush
strokes, regions clicked to be the reference, an object, or left out), the
measurement options and the reference named, the selected object, the points
moved, and the saved measurement it was reopened from. It measures every
object and says what the operator needs to read. The Measure page only wires
widgets to it; tests drive it directly.

Events come from the photo editor (the page's component) as plain dicts with
image-pixel ``(x, y)`` coordinates and a ``seq`` that is applied once:

* ``{"type": "move", "object": i, "point": "B", "x": .., "y": ..}``: a point
  dragged or nudged (``"C"``/``"D"`` belong to the reference, ``object`` is
  then ignored);
* ``{"type": "select", "object": i}``: an object chosen (its points become
  the draggable ones);
* ``{"type": "role", "x": .., "y": .., "role": "reference" | "object" |
  "excluded"}``: the region under a click made the reference, measured, or
  left out;
* ``{"type": "box", "x": .., "y": .., "w": .., "h": ..}``: a box drawn around
  one object (the local segmenter's box mode cuts it out);
* ``{"type": "stroke", "brush": "object" | "reference" | "erase",
  "radius": r, "points": [[x, y], ...]}``: a brush stroke.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from objlen.advice import (
    OrientationChoice,
    check_photo_size,
    choose_orientation,
    left_out_note,
    operator_warnings,
)
from objlen.classes import ClassIds
from objlen.errors import ObjlenError, ParameterError
from objlen.maskedit import brush_class, paint_stroke, prompt_box, set_region_role
from objlen.measure import measure, remeasure
from objlen.options import MeasureOptions, ReferenceSpec
from objlen.presets import describe_spec
from objlen.result import Measurement

#: How the object boxes are oriented: decided per photo, or as the operator says.
ORIENTATION_MODES = ("detect", "upright", "auto")
#: Corrections kept for Undo.
MAX_EDITS = 20
#: Event types :meth:`Workbench.apply_event` understands.
EVENT_TYPES = ("move", "select", "role", "box", "stroke")
_VERSIONS = itertools.count(1)  # mask versions, unique within the process


@dataclass(frozen=True)
class Photo:
    """A photo the operator chose: its name, file bytes and their SHA-256.

    ``source`` is where it came from (``sample``, ``upload``, ``camera``,
    ``history``); ``sample`` names a bundled sample.
    """

    name: str
    data: bytes
    sha256: str
    source: str = "upload"
    sample: str | None = None


@dataclass(frozen=True)
class Segmented:
    """The mask a segmenter (or a mask file) gave, with what it said.

    ``failure``: why the segmenter found nothing ("" when it did); ``mask`` is
    then empty, for the operator to box or paint the objects and the reference.
    """

    mask: np.ndarray
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    backend: str = ""
    seconds: float = 0.0
    failure: str = ""


@dataclass(frozen=True)
class Edit:
    """One correction of the mask: ``kind`` (``box``, ``stroke``, ``role``),
    its parameters (JSON-ready), the mask after it, and what it did."""

    kind: str
    params: dict[str, Any]
    mask: np.ndarray
    message: str


def _signature(obj: Any) -> str:
    """An object's identity across reruns: its automatic A, B, E to the pixel."""
    return ";".join(f"{round(float(p[0]))},{round(float(p[1]))}" for p in (obj.A, obj.B, obj.E))


def options_from_dict(data: Mapping[str, Any]) -> MeasureOptions:
    """:class:`MeasureOptions` from ``dataclasses.asdict`` of one (as saved)."""
    values = dict(data)
    reference = dict(values.pop("reference", {}) or {})
    if reference.get("size") is not None:
        reference["size"] = tuple(reference["size"])
    classes = values.pop("classes", None) or {}
    known = set(MeasureOptions.__dataclass_fields__)
    kept = {k: v for k, v in values.items() if k in known}
    return MeasureOptions(
        reference=ReferenceSpec(**reference), classes=ClassIds(**classes), **kept
    ).validated()


@dataclass
class Workbench:
    """Everything the operator has done to one photo (see the module docstring).

    Attributes:
        photo: the photo, ``None`` before one is chosen.
        image: its ``(H, W, 3)`` RGB pixels, EXIF orientation applied.
        segmented: the automatic mask, ``None`` until segmented.
        edits: the corrections, oldest first (each keeps the mask after it).
        options: the measurement options (``all_objects`` is always on here).
        orientation_mode: ``"detect"`` (the boxes follow the objects'
            rotation when one is clearly turned), ``"upright"`` or ``"auto"``.
        preset: the reference preset's key (:data:`objlen.presets.PRESETS`),
            ``None`` for a size typed in.
        reference_confirmed: the operator has said what the reference is.
        selected: index of the object whose points are draggable.
        moved: moved points by object signature, and ``"reference"`` for C, D.
        parent_id: the saved measurement this one was reopened from.
        message: what the last event did, for the operator.
    """

    photo: Photo | None = None
    image: np.ndarray | None = None
    segmented: Segmented | None = None
    edits: list[Edit] = field(default_factory=list)
    options: MeasureOptions = field(default_factory=lambda: MeasureOptions(all_objects=True))
    orientation_mode: str = "detect"
    preset: str | None = None
    reference_confirmed: bool = False
    selected: int = 0
    moved: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    parent_id: int | None = None
    message: str | None = None
    segmentation_key: str | None = None
    _seen: set[str] = field(default_factory=set, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _version: int = field(default_factory=lambda: next(_VERSIONS), repr=False)

    def _changed(self) -> None:
        """The mask (or what is measured) changed: new version, caches dropped."""
        self._version = next(_VERSIONS)
        self._cache.clear()

    # ------------------------------------------------------------ the photo
    def set_photo(self, photo: Photo, image: np.ndarray) -> None:
        """Start on a new photo: forget the mask, corrections, moved points and
        the reference said for the last photo (it must be said again).

        Raises:
            ImageReadError: the photo is too small to measure.
        """
        check_photo_size(image)
        self.photo, self.image = photo, image
        self.segmented, self.segmentation_key = None, None
        self.edits, self.moved, self.selected = [], {}, 0
        self.parent_id, self.message = None, None
        self.reference_confirmed = False
        self._changed()

    def set_segmentation(self, segmented: Segmented, key: str | None = None) -> None:
        """Take the automatic mask; the corrections made so far are replayed on it.

        ``key`` identifies what it was made from (backend, reference...): the
        same key again changes nothing.
        """
        if key is not None and key == self.segmentation_key and self.segmented is not None:
            return
        if self.image is not None and segmented.mask.shape != self.image.shape[:2]:
            raise ParameterError(
                f"the mask is {segmented.mask.shape[1]} × {segmented.mask.shape[0]} px but the "
                f"photo is {self.image.shape[1]} × {self.image.shape[0]}"
            )
        self.segmented, self.segmentation_key = segmented, key
        old, self.edits = self.edits, []
        for edit in old:
            try:
                self._apply_edit(edit.kind, edit.params)
            except ObjlenError:
                continue
        self._changed()

    def set_options(
        self,
        options: MeasureOptions,
        *,
        orientation_mode: str = "detect",
        preset: str | None = None,
        confirmed: bool | None = None,
    ) -> None:
        """The measurement options from the widgets (every object is measured).

        Raises:
            ParameterError: an unknown orientation mode.
        """
        if orientation_mode not in ORIENTATION_MODES:
            raise ParameterError(
                f"unknown box orientation {orientation_mode!r}; use one of "
                + ", ".join(ORIENTATION_MODES)
            )
        options = replace(options, all_objects=True).validated()
        if (options, orientation_mode, preset) != (
            self.options,
            self.orientation_mode,
            self.preset,
        ):
            self.options, self.orientation_mode, self.preset = options, orientation_mode, preset
            self._changed()
        if confirmed is not None:
            self.reference_confirmed = confirmed

    @property
    def classes(self) -> ClassIds:
        return self.options.classes

    @property
    def mask(self) -> np.ndarray | None:
        """The mask as corrected, ``None`` before segmentation."""
        if self.edits:
            return self.edits[-1].mask
        return None if self.segmented is None else self.segmented.mask

    @property
    def mask_version(self) -> int:
        """Changes whenever :attr:`mask` or the options do (unique in the process)."""
        return self._version

    @property
    def mask_sha256(self) -> str:
        """SHA-256 of the mask's bytes (for caches shared between sessions)."""
        key = f"mask_sha:{self._version}"
        if key not in self._cache:
            mask = self._require_mask()
            digest = hashlib.sha256(np.ascontiguousarray(mask).data)
            digest.update(repr(mask.shape).encode())
            self._cache[key] = digest.hexdigest()
        return self._cache[key]

    # ------------------------------------------------------------ measuring
    def orientation(self) -> OrientationChoice:
        """The box orientation in use and why."""
        mode = self.orientation_mode
        if mode != "detect":
            return OrientationChoice(mode, f"the boxes are {mode} as you chose")
        key = f"orientation:{self.mask_version}:{self.options!r}"
        if key not in self._cache:
            self._cache[key] = choose_orientation(self._require_mask(), self.options, self.image)
        return self._cache[key]

    def _require_mask(self) -> np.ndarray:
        mask = self.mask
        if mask is None:
            raise ParameterError("the photo has not been segmented yet")
        return mask

    def automatic(self) -> Measurement:
        """Every object measured from the mask as corrected (no moved points).

        Raises:
            ObjlenError: what :func:`objlen.measure` raises.
        """
        options = replace(self.options, orientation=self.orientation().orientation)
        key = f"automatic:{self.mask_version}:{options!r}"
        if key not in self._cache:
            warnings, notes = self._segmenter_remarks()
            self._cache[key] = measure(
                self._require_mask(),
                options,
                image=self.image,
                input_warnings=warnings,
                input_notes=notes,
            )
        return self._cache[key]

    def _segmenter_remarks(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The segmenter's warnings and notes; once the operator has clicked the
        reference, what the segmenter said about choosing it no longer applies."""
        segmented = self.segmented
        if segmented is None:
            return (), ()
        chosen = [e for e in self.edits if e.kind == "role" and e.params.get("role") == "reference"]
        if not chosen:
            return segmented.warnings, segmented.notes
        about_reference = ("reference", "C-D")
        warnings = tuple(
            w for w in segmented.warnings if not any(word in w for word in about_reference)
        )
        notes = tuple(n for n in segmented.notes if "reference" not in n)
        last = chosen[-1].params
        return warnings, (
            *notes,
            f"the reference is the region you clicked at ({last['x']:.0f}, {last['y']:.0f})",
        )

    def current(self) -> Measurement:
        """The measurement as the operator corrected it (moved points applied).

        Moved points whose object is no longer there (its automatic points
        changed) are forgotten.
        """
        result = self.automatic()
        signatures = [_signature(obj) for obj in result.objects]
        reference = self.moved.get("reference", {})
        names = {"C", "D"} if result.reference.kind == "mask" else set()
        first = {k: v for k, v in reference.items() if k in names}
        for key in [k for k in self.moved if k != "reference" and k not in signatures]:
            del self.moved[key]
        for index, signature in enumerate(signatures):
            points = dict(self.moved.get(signature, {}))
            if index == 0:
                points.update(first)
            if points:
                result = remeasure(result, points, index)
        return result

    @property
    def selected_index(self) -> int:
        """The selected object, within the objects measured."""
        try:
            count = len(self.automatic().objects)
        except ObjlenError:
            return 0
        return min(max(self.selected, 0), max(count - 1, 0))

    def moved_names(self, index: int) -> list[str]:
        """Names of the points the operator moved on object ``index`` (and C, D)."""
        result = self.automatic()
        names = sorted(self.moved.get(_signature(result.objects[index]), {}))
        return names + sorted(self.moved.get("reference", {}))

    # ------------------------------------------------------------ events
    def apply_event(
        self, event: Mapping[str, Any] | None, *, segmenter_factory: Callable[[], Any] | None = None
    ) -> bool:
        """Apply one event of the photo editor (see the module docstring).

        An event whose ``seq`` was seen before is ignored (the page may be run
        again with the same event). Returns whether something changed.

        Raises:
            ObjlenError: an event that cannot be applied (a point outside the
                photo, a click on the background, nothing in a box...); the
                state is unchanged then.
        """
        if not event:
            return False
        seq = str(event.get("seq", ""))
        if seq and seq in self._seen:
            return False
        if seq:
            self._seen.add(seq)
        kind = event.get("type")
        if kind == "move":
            return self._move(event)
        if kind == "select":
            self.selected = int(event.get("object", 0))
            return True
        if kind == "role":
            return self.edit(
                "role",
                {"x": float(event["x"]), "y": float(event["y"]), "role": str(event["role"])},
            )
        if kind == "box":
            box = [float(event[k]) for k in ("x", "y", "w", "h")]
            return self.edit("box", {"box": box}, segmenter_factory=segmenter_factory)
        if kind == "stroke":
            points = [[float(x), float(y)] for x, y in event.get("points") or []]
            return self.edit(
                "stroke",
                {
                    "brush": str(event.get("brush", "object")),
                    "radius": float(event.get("radius", 4.0)),
                    "points": points,
                },
            )
        raise ParameterError(f"unknown editor event {kind!r}")

    def _move(self, event: Mapping[str, Any]) -> bool:
        name = str(event.get("point"))
        x, y = float(event["x"]), float(event["y"])
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ParameterError("a moved point must have finite coordinates")
        result = self.automatic()
        if name in ("C", "D"):
            if result.reference.kind != "mask":
                raise ParameterError(
                    "C and D follow from the reference's corners (or a given scale) here; "
                    "move A, B or E"
                )
            remeasure(self.current(), {name: (x, y)}, 0)  # raises when it cannot be measured
            self.moved.setdefault("reference", {})[name] = (x, y)
            self.message = None
            return True
        if name not in ("A", "B", "E"):
            raise ParameterError(f"unknown point {name!r}; use A, B, E, C or D")
        index = int(event.get("object", self.selected_index))
        if not 0 <= index < len(result.objects):
            raise ParameterError(f"there is no object number {index + 1}")
        remeasure(self.current(), {name: (x, y)}, index)
        self.moved.setdefault(_signature(result.objects[index]), {})[name] = (x, y)
        self.selected = index
        self.message = None
        return True

    def edit(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        segmenter_factory: Callable[[], Any] | None = None,
    ) -> bool:
        """Apply one correction of the mask and keep it (for Undo and saving).

        Raises:
            ObjlenError: it cannot be applied; nothing changes.
        """
        self._apply_edit(kind, params, segmenter_factory=segmenter_factory)
        del self.edits[: max(0, len(self.edits) - MAX_EDITS)]
        self._changed()
        return True

    def _apply_edit(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        segmenter_factory: Callable[[], Any] | None = None,
    ) -> None:
        mask = self._require_mask()
        classes = self.classes
        if kind == "role":
            change = set_region_role(mask, params["x"], params["y"], params["role"], classes)
            new, message = change.mask, change.message
        elif kind == "stroke":
            value = brush_class(params["brush"], classes)
            new = paint_stroke(mask, params["points"], params["radius"], value)
            changed = int(np.count_nonzero(new != mask))
            message = f"{params['brush']} brush: {changed:,} px changed"
        elif kind == "box":
            if self.image is None:
                raise ParameterError("a box needs the photo")
            segmenter = segmenter_factory() if segmenter_factory is not None else None
            new = prompt_box(self.image, mask, params["box"], classes, segmenter)
            x, y, w, h = params["box"]
            message = f"the object in the box {x:.0f},{y:.0f},{w:.0f},{h:.0f} was cut out"
        else:
            raise ParameterError(f"unknown correction {kind!r}")
        self.edits.append(Edit(kind, dict(params), new, message))
        self.message = message

    def undo(self) -> bool:
        """Take back the last correction of the mask; returns whether there was one."""
        if not self.edits:
            return False
        undone = self.edits.pop()
        self.message = f"undone: {undone.message}"
        self._changed()
        return True

    def reset_points(self) -> None:
        """Put every moved point back where the mask puts it."""
        self.moved = {}

    def reset_edits(self) -> None:
        """Forget every correction of the mask (back to the segmenter's mask)."""
        self.edits = []
        self._changed()

    # ------------------------------------------------------------ reading
    def reference_text(self) -> str:
        """The reference and its size, for the header of the result."""
        return describe_spec(self.options.reference, self.options.unit, self.preset)

    def warnings(self) -> list[str]:
        """The warnings of the current measurement, one per problem."""
        return operator_warnings(self.current())

    def notes(self) -> list[str]:
        """What the operator should know besides warnings: the regions left
        out, the box orientation, the segmenter, the corrections."""
        current = self.current()
        notes = []
        left_out = left_out_note(self._require_mask(), current)
        if left_out:
            notes.append(left_out)
        notes.append(self.orientation().reason)
        notes += list(current.notes)
        segmented = self.segmented
        if segmented is not None and segmented.failure:
            notes.append(f"the {segmented.backend} segmenter found nothing: the mask is yours")
        elif segmented is not None and segmented.backend in ("local", "sagemaker"):
            notes.append(
                f"segmented by the {segmented.backend} segmenter in {segmented.seconds:.2f} s"
            )
        if self.edits:
            notes.append(f"{len(self.edits)} correction(s) of the mask: " + self.edits[-1].message)
        return notes

    def object_rows(self) -> list[dict[str, Any]]:
        """One row per object for the table: number, width, height, note."""
        current = self.current()
        unit = current.unit
        warn = current.options.warn_relative
        rows = []
        for index, obj in enumerate(current.objects):
            notes = []
            loose = [
                f"{label} ±{length.relative:.1%}"
                for label, length in (("width", obj.width), ("height", obj.height))
                if length.relative > warn
            ]
            if loose:
                notes.append("uncertain: " + ", ".join(loose))
            moved = [n for n in obj.moved]
            if moved:
                notes.append("moved " + "".join(moved))
            rows.append(
                {
                    "object": index + 1,
                    "width": f"{obj.width.value:.2f} ± {obj.width.uncertainty:.2f} {unit}",
                    "height": f"{obj.height.value:.2f} ± {obj.height.uncertainty:.2f} {unit}",
                    "note": "; ".join(notes),
                }
            )
        return rows

    # ------------------------------------------------------------ saving
    def choices(self) -> dict[str, Any]:
        """What the operator chose, JSON-ready, to save with the measurement."""
        current = self.current()
        return {
            "preset": self.preset,
            "orientation_mode": self.orientation_mode,
            "orientation": self.orientation().orientation,
            "selected": self.selected_index,
            "edits": [{"kind": e.kind, **e.params} for e in self.edits],
            "moved": {
                str(index): list(obj.moved)
                for index, obj in enumerate(current.objects)
                if obj.moved
            },
            "reference_moved": list(current.reference.moved),
        }

    def settings_record(self, app_settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The settings saved with a measurement (options, preset, mask source)."""
        return {
            "app": dict(app_settings or {}),
            "options": asdict(self.options),
            "preset": self.preset,
            "orientation_mode": self.orientation_mode,
            "image_sha256": None if self.photo is None else self.photo.sha256,
            "mask_source": None if self.segmented is None else self.segmented.backend,
        }

    def restore(
        self,
        photo: Photo,
        image: np.ndarray,
        mask: np.ndarray,
        result: Mapping[str, Any],
        settings: Mapping[str, Any],
        choices: Mapping[str, Any],
        parent_id: int,
    ) -> None:
        """Reopen a saved measurement: its photo, its saved (corrected) mask,
        options, reference, selected object and moved points; saving again
        makes a new version whose parent is ``parent_id``.

        Raises:
            ObjlenError: the saved options or points cannot be used.
        """
        self.set_photo(photo, image)
        self.options = options_from_dict(settings.get("options") or {})
        self.orientation_mode = str(
            choices.get("orientation_mode") or settings.get("orientation_mode") or "detect"
        )
        if self.orientation_mode not in ORIENTATION_MODES:
            self.orientation_mode = "detect"
        self.preset = choices.get("preset") or settings.get("preset")
        self.reference_confirmed = True
        self.set_segmentation(Segmented(mask, backend="history"), key=f"history:{parent_id}")
        automatic = self.automatic()
        for index, saved in enumerate(result.get("objects") or []):
            if index >= len(automatic.objects):
                break
            names = [n for n in saved.get("moved") or [] if n in ("A", "B", "E")]
            if names:
                signature = _signature(automatic.objects[index])
                self.moved[signature] = {n: tuple(saved["points"][n]) for n in names}
        reference = result.get("reference") or {}
        names = [n for n in reference.get("moved") or [] if n in ("C", "D")]
        if names:
            self.moved["reference"] = {n: tuple(reference[n]) for n in names}
        self.selected = int(choices.get("selected") or 0)
        self.parent_id = parent_id
        self.message = f"reopened measurement #{parent_id}"

    def state_json(self) -> str:
        """A compact description of the state (for logs and tests)."""
        return json.dumps(
            {
                "photo": None if self.photo is None else self.photo.name,
                "edits": len(self.edits),
                "selected": self.selected,
                "moved": {k: sorted(v) for k, v in self.moved.items()},
                "preset": self.preset,
                "parent_id": self.parent_id,
            },
            sort_keys=True,
        )


def editor_objects(measurement: Measurement) -> list[dict[str, Any]]:
    """The objects' points as the photo editor draws them (image pixels)."""
    return [
        {
            "index": index,
            "A": [float(obj.A[0]), float(obj.A[1])],
            "B": [float(obj.B[0]), float(obj.B[1])],
            "E": [float(obj.E[0]), float(obj.E[1])],
            "moved": list(obj.moved),
            "label": f"{index + 1}",
            "width": obj.width.text(measurement.unit),
            "height": obj.height.text(measurement.unit),
        }
        for index, obj in enumerate(measurement.objects)
    ]


def parse_points(values: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    """``[[x, y], ...]`` as a list of float pairs (for events read from JSON)."""
    return [(float(x), float(y)) for x, y in values]


__all__ = [
    "EVENT_TYPES",
    "MAX_EDITS",
    "ORIENTATION_MODES",
    "Edit",
    "Photo",
    "Segmented",
    "Workbench",
    "editor_objects",
    "options_from_dict",
    "parse_points",
]
