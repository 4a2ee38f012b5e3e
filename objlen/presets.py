"""References an operator is likely to photograph, with their real sizes.

A preset says what the reference is (a card, a sheet of paper, a coin, an
ArUco marker, objlen's printed measuring mat), its real size in millimetres,
and so which
:class:`~objlen.options.ReferenceSpec` it gives (a length for a coin, a
width x height for a card or a sheet, a marker's side) and how the local
segmenter should pick it among the regions (``"auto"``: the region shaped
like it).

>>> PRESETS["euro_1"].spec("mm").length
23.25
>>> PRESETS["card"].describe("mm")
'ID-1 card (bank or ID card) 85.60 × 53.98 mm'
"""

from __future__ import annotations

from dataclasses import dataclass

from objlen.errors import ParameterError
from objlen.options import ReferenceSpec
from objlen.units import convert

#: The kinds of preset: a length (a coin's diameter), a width x height (a
#: card, a sheet), an ArUco marker (its side, with a dictionary), a ChArUco
#: board found in the photo (objlen's mat), or custom.
KINDS = ("length", "size", "aruco", "board", "custom")


@dataclass(frozen=True)
class ReferencePreset:
    """A reference of known size.

    Attributes:
        key: short stable name (saved with measurements).
        label: what the operator reads.
        kind: ``"length"``, ``"size"``, ``"aruco"``, ``"board"`` or ``"custom"``.
        length_mm: a coin's diameter (``"length"``).
        size_mm: ``(width, height)`` of a rectangle (``"size"``).
        board: the board as ``--board`` names it (``"board"``; see
            :func:`objlen.board.parse_board`): its size is in its specification.
        rule: how the local segmenter picks the reference (``"auto"``: the
            region shaped like it).
    """

    key: str
    label: str
    kind: str
    length_mm: float | None = None
    size_mm: tuple[float, float] | None = None
    rule: str = "auto"
    board: str | None = None

    @property
    def fixed(self) -> bool:
        """Whether the preset fixes the size (everything but ArUco and custom)."""
        return self.kind in ("length", "size", "board")

    def spec(self, unit: str) -> ReferenceSpec:
        """The reference spec of a fixed preset, in ``unit``.

        Raises:
            ParameterError: the preset's size is not fixed (ArUco, custom).
        """
        if self.length_mm is not None:
            return ReferenceSpec(length=round(convert(self.length_mm, "mm", unit), 6))
        if self.size_mm is not None:
            width, height = (round(convert(v, "mm", unit), 6) for v in self.size_mm)
            return ReferenceSpec(size=(width, height))
        if self.board is not None:
            return ReferenceSpec(board=self.board)
        raise ParameterError(f"the {self.label} preset needs its size: enter it")

    def describe(self, unit: str = "mm") -> str:
        """For people: ``"1 euro coin Ø 23.25 mm"``, ``"A4 sheet 297.00 × 210.00 mm"``."""
        if self.length_mm is not None:
            return f"{self.label} Ø {convert(self.length_mm, 'mm', unit):.2f} {unit}"
        if self.size_mm is not None:
            width, height = (convert(v, "mm", unit) for v in self.size_mm)
            return f"{self.label} {width:.2f} × {height:.2f} {unit}"
        return self.label


def _coin(key: str, label: str, diameter_mm: float) -> ReferencePreset:
    return ReferencePreset(key, label, "length", length_mm=diameter_mm)


#: Every preset, in the order the operator sees them.
PRESETS: dict[str, ReferencePreset] = {
    preset.key: preset
    for preset in (
        ReferencePreset("card", "ID-1 card (bank or ID card)", "size", size_mm=(85.60, 53.98)),
        ReferencePreset("a4", "A4 sheet", "size", size_mm=(297.0, 210.0)),
        ReferencePreset("letter", "US Letter sheet", "size", size_mm=(279.4, 215.9)),
        _coin("us_quarter", "US quarter", 24.26),
        _coin("euro_1", "1 euro coin", 23.25),
        _coin("euro_2", "2 euro coin", 25.75),
        _coin("uk_pound", "UK 1 pound coin", 23.43),
        _coin("yen_100", "100 yen coin", 22.60),
        _coin("yen_10", "10 yen coin", 23.50),
        ReferencePreset("aruco", "ArUco marker", "aruco"),
        ReferencePreset("mat", "Measuring mat (printed by objlen)", "board", board="mat"),
        ReferencePreset("custom", "Something else (enter its size)", "custom"),
    )
}


def describe_spec(spec: ReferenceSpec, unit: str, preset: str | None = None) -> str:
    """Name a reference and its size for the header of a result.

    >>> describe_spec(ReferenceSpec(length=24.26), "mm", "us_quarter")
    'US quarter Ø 24.26 mm'
    >>> describe_spec(ReferenceSpec(size=(100.0, 50.0)), "mm")
    'a rectangle 100.00 × 50.00 mm'
    >>> describe_spec(ReferenceSpec(board="charuco:7x5:30mm:22mm:DICT_5X5_100"), "mm")
    'ChArUco board charuco:7x5:30mm:22mm:DICT_5X5_100'
    """
    known = PRESETS.get(preset or "")
    if known is not None and known.fixed:
        return known.describe(unit)
    if spec.board is not None:
        if spec.board.lower().startswith("mat"):
            return f"objlen's measuring mat ({spec.board})"
        return f"ChArUco board {spec.board}"
    if spec.aruco_dictionary is not None:
        return f"ArUco marker ({spec.aruco_dictionary}), side {spec.marker_size:.2f} {unit}"
    if spec.size is not None:
        return f"a rectangle {spec.size[0]:.2f} × {spec.size[1]:.2f} {unit}"
    if spec.length is not None:
        return f"a length CD of {spec.length:.2f} {unit}"
    if spec.scale is not None:
        return f"a given scale of {spec.scale:.6g} {unit}/px"
    return "no reference"


def preset_of_spec(spec: ReferenceSpec, unit: str) -> str | None:
    """The key of the fixed preset whose size is ``spec`` (to 0.01 mm), or ``None``.

    >>> preset_of_spec(ReferenceSpec(size=(85.6, 53.98)), "mm")
    'card'
    """
    for preset in PRESETS.values():
        if not preset.fixed:
            continue
        mine = preset.spec(unit)
        if (
            spec.length is not None
            and mine.length is not None
            and abs(convert(spec.length - mine.length, unit, "mm")) < 0.01
        ):
            return preset.key
        if (
            spec.size is not None
            and mine.size is not None
            and all(
                abs(convert(a - b, unit, "mm")) < 0.01
                for a, b in zip(sorted(spec.size), sorted(mine.size), strict=True)
            )
        ):
            return preset.key
    return None


__all__ = ["KINDS", "PRESETS", "ReferencePreset", "describe_spec", "preset_of_spec"]
