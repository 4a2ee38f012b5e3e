"""How the points A, B, E (object) and C, D (reference) look: one colour each,
shared by the annotated pictures and the app's photo editor."""

from __future__ import annotations

#: Colour of each point, RGB.
POINT_COLOURS: dict[str, tuple[int, int, int]] = {
    "A": (230, 25, 75),
    "B": (60, 200, 75),
    "E": (255, 225, 25),
    "C": (170, 60, 255),
    "D": (70, 240, 240),
}


def css_rgb(colour: tuple[int, int, int], alpha: float | None = None) -> str:
    """``(r, g, b)`` as CSS ``#rrggbb``, or ``rgba(r, g, b, alpha)`` with ``alpha``.

    >>> css_rgb((230, 25, 75))
    '#e6194b'
    >>> css_rgb((0, 0, 255), 0.5)
    'rgba(0, 0, 255, 0.5)'
    """
    r, g, b = (int(c) for c in colour)
    if alpha is None:
        return f"#{r:02x}{g:02x}{b:02x}"
    return f"rgba({r}, {g}, {b}, {alpha:g})"
