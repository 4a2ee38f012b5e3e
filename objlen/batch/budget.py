"""How much memory a batch's photos may take at once, by their decoded size.

A photo's file says little about its memory: a 100 KB PNG can decode to 100
megapixels, and decoding, segmenting, measuring and drawing it then takes
about :data:`BYTES_PER_PIXEL` bytes per pixel. Before a worker decodes a
photo it reads the width and height from the photo's header and reserves
:func:`photo_cost` bytes from the run's :class:`MemoryBudget`, waiting while
the other workers hold too much; it gives them back when the photo is done.
A photo that costs more than the whole budget waits until nothing else runs
and then runs alone, so a batch's photos take at most the budget, or one
photo's cost when a single photo costs more.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from objlen.pillow import Image

#: Memory one decoded pixel costs while a photo is measured (RGB photo, masks,
#: outlines, the annotated picture), in bytes: measured at 17-24 B/px on 12-36
#: megapixel photos with the local segmenter (issue #12).
BYTES_PER_PIXEL = 24
#: Memory one pixel costs when the photo is not decoded at full size (a
#: segmenter that sends its file as it is, a measurement that reads only the
#: mask: the mask, its index, the measurement, the annotated picture drawn on
#: a copy decoded at 1/2), in bytes: measured at 5 B/px on 12 MP photos (58 MB
#: of peak resident memory per photo), with a margin.
UNDECODED_BYTES_PER_PIXEL = 8
#: Memory a batch's photos may take at once unless told otherwise: 2 GiB.
DEFAULT_MEMORY_BUDGET_BYTES = 2 * 1024**3


def header_pixels(data: bytes) -> int | None:
    """Width x height read from the photo's header, without decoding its
    pixels; ``None`` when the header cannot be read (the decoder then says
    what is wrong with the photo)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        return None  # load_image refuses it, before decoding, with its own message
    except Exception:  # not an image, truncated...: load_image says so in words
        return None
    return width * height


def photo_cost(data: bytes, bytes_per_pixel: int = BYTES_PER_PIXEL) -> int:
    """Bytes a photo takes while it is measured: its file, plus
    ``bytes_per_pixel`` (:data:`BYTES_PER_PIXEL` when it is decoded, else
    :data:`UNDECODED_BYTES_PER_PIXEL`) for every pixel its header declares."""
    return len(data) + (header_pixels(data) or 0) * bytes_per_pixel


class MemoryBudget:
    """Bytes that the photos in flight may take at once (thread-safe).

    Args:
        total_bytes: the budget, at least 1.
    """

    def __init__(self, total_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES) -> None:
        if total_bytes < 1:
            raise ValueError("the memory budget must be at least 1 byte")
        self.total_bytes = total_bytes
        self._used = 0
        self._holders = 0
        self._changed = threading.Condition()
        #: The most bytes held at once so far (for tests and reports).
        self.peak_bytes = 0

    @contextmanager
    def hold(self, cost_bytes: int) -> Iterator[None]:
        """Hold ``cost_bytes`` for the block: wait until they fit beside what
        the others hold (a cost over the whole budget waits until nothing is
        held, and then holds everything)."""
        cost = max(0, int(cost_bytes))
        with self._changed:
            while self._holders and self._used + cost > self.total_bytes:
                self._changed.wait()
            self._used += cost
            self._holders += 1
            self.peak_bytes = max(self.peak_bytes, self._used)
        try:
            yield
        finally:
            with self._changed:
                self._used -= cost
                self._holders -= 1
                self._changed.notify_all()


__all__ = [
    "BYTES_PER_PIXEL",
    "DEFAULT_MEMORY_BUDGET_BYTES",
    "UNDECODED_BYTES_PER_PIXEL",
    "MemoryBudget",
    "header_pixels",
    "photo_cost",
]
