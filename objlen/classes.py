"""Class ids of a segmentation mask."""

from __future__ import annotations

from dataclasses import dataclass

from objlen.errors import ParameterError


@dataclass(frozen=True)
class ClassIds:
    """Which mask value means what.

    The defaults follow the project's convention: 0 background, 1 target
    object, 2 reference; 255 means "ignore", as in the training labels of the
    SageMaker semantic segmentation algorithm.
    """

    background: int = 0
    object: int = 1
    reference: int = 2
    ignore: int = 255

    def __post_init__(self) -> None:
        values = (self.background, self.object, self.reference, self.ignore)
        for value in values:
            if not 0 <= int(value) <= 255:
                raise ParameterError(f"class id {value} is outside 0..255")
        if len(set(values)) != len(values):
            raise ParameterError(
                f"class ids must be distinct: background, object, reference and ignore are {values}"
            )

    @property
    def known(self) -> frozenset[int]:
        """All values a valid mask may contain."""
        return frozenset((self.background, self.object, self.reference, self.ignore))
