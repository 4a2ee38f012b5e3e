"""Drawing for display: the mask over the photo, the points, segments and numbers.

Pure NumPy / OpenCV / Pillow, no Streamlit. Every function takes arrays and
plain values and returns arrays or PNG bytes, so the app can cache them.

Points are objlen image pixels ``(x, y)`` (pixel ``(i, j)`` covers
``[i-0.5, i+0.5] x [j-0.5, j+0.5]``). A display-sized copy of the photo has
the same edges, so a point maps to display pixels as
``d = (p + 0.5) * display / image - 0.5``
(:meth:`objlen.geometry.PixelScaling.for_resize`, :func:`to_display`).

Two pictures are made here: the canvas background (:func:`render_display`,
display-sized, points only) and the annotated picture
(:func:`annotated_image`: points, numbers and legend, at full size for the
Measure page's download or no larger than ``max_side`` for a batch).

Colours: the object class orange, the reference blue, "ignore" grey; the
points A, B, E, C, D each have their own colour (:data:`POINT_COLOURS`, the
same as on the canvas), the segments AB, AE (object) and CD (reference) are
white with a dark edge so they read on any photo.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Mapping, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from objlen.classes import ClassIds
from objlen.display.points import POINT_COLOURS
from objlen.errors import ParameterError
from objlen.geometry import Homography, PixelScaling
from objlen.imageio import encode_jpeg, encode_png
from objlen.result import POINT_NAMES, Measurement

RGB = tuple[int, int, int]

#: Colour of each mask role, RGB.
CLASS_COLOURS: dict[str, RGB] = {
    "object": (255, 140, 0),
    "reference": (30, 120, 255),
    "ignore": (150, 150, 150),
}
#: Colour of the segments AB, AE, CD and of the reference's outline.
SEGMENT_COLOUR: RGB = (255, 255, 255)
OUTLINE_COLOUR: RGB = (20, 20, 20)
CORNER_COLOUR: RGB = (30, 120, 255)
#: The segments drawn between points, in drawing order.
SEGMENTS = (("A", "B"), ("A", "E"), ("C", "D"))
#: Largest size of the display copy of a photo (canvas background).
DISPLAY_MAX_SIZE = (760, 570)
#: Opacity of the mask's tint on the pictures objlen saves (annotated, thumbnail).
ANNOTATED_OPACITY = 0.35
#: Marks (points, lines, labels, legend) are sized in pixels for a picture whose
#: longer side is this; a larger picture gets proportionally larger marks.
MARKS_DESIGN_SIDE_PX = 1000
#: Radius of a point's disc on an annotated picture, at the design size.
POINT_RADIUS_PX = 4.0
#: Width of the segments AB, AE, CD on an annotated picture, at the design size.
SEGMENT_WIDTH_PX = 2
#: Height of a point's label on an annotated picture, at the design size.
LABEL_FONT_PX = 18
#: Height of the legend's text on an annotated picture, at the design size.
LEGEND_FONT_PX = 16
#: Radius of a point's disc on the canvas background (the canvas draws its own
#: larger circle around it).
DISPLAY_POINT_RADIUS_PX = 3.0
#: Longer side of a history thumbnail.
THUMBNAIL_MAX_SIDE = 256
#: The legend panel's fill (RGBA), its text colour, and its colour swatches per row.
LEGEND_PANEL_RGBA = (0, 0, 0, 170)
LEGEND_TEXT_RGB: RGB = (255, 255, 255)
LEGEND_COLUMNS = 3
#: Height of a legend row as a multiple of the font size.
LEGEND_ROW_SPACING = 1.35
_SHIFT = 4  # OpenCV fixed-point bits for sub-pixel drawing


# ------------------------------------------------------------------- geometry
def display_size(
    image_size: tuple[int, int], max_size: tuple[int, int] = DISPLAY_MAX_SIZE
) -> tuple[int, int]:
    """``(w, h)`` of the display copy: ``image_size`` scaled to fit ``max_size``,
    aspect ratio kept (small photos are enlarged).

    >>> display_size((4000, 3000), (760, 570))
    (760, 570)
    """
    width, height = image_size
    if width < 1 or height < 1:
        raise ParameterError(f"an image size must be positive, got {image_size!r}")
    scale = min(max_size[0] / width, max_size[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def to_display(
    points: Sequence[Sequence[float]] | np.ndarray,
    image_size: tuple[int, int],
    size: tuple[int, int],
) -> np.ndarray:
    """Image points ``(N, 2)``, ``(x, y)``, of an ``image_size`` photo to the
    pixel coordinates of its ``size`` copy (both sizes ``(width, height)``):
    :meth:`PixelScaling.for_resize <objlen.geometry.PixelScaling.for_resize>`.

    >>> to_display([[-0.5, -0.5], [399.5, 99.5]], (400, 200), (200, 100)).tolist()
    [[-0.5, -0.5], [199.5, 49.5]]
    """
    return PixelScaling.for_resize(image_size, size)(points)


def _mapped(
    points: Mapping[str, Sequence[float]], transform: Homography
) -> dict[str, tuple[float, float]]:
    """The named points (those of :data:`POINT_NAMES`) through ``transform``."""
    names = [name for name in POINT_NAMES if name in points]
    if not names:
        return {}
    shown = transform([points[name] for name in names])
    return {name: (float(p[0]), float(p[1])) for name, p in zip(names, shown, strict=True)}


def points_of(
    measurement: Measurement, object_index: int = 0, *, movable_only: bool = False
) -> dict[str, tuple[float, float]]:
    """The points of one object and the reference: ``A, B, E`` and, when the
    reference has them, ``C, D`` (image pixels).

    With ``movable_only``, only the points :func:`objlen.remeasure` accepts as
    moved: C and D are left out when they follow from a given scale or from
    the reference's corners (homography, ArUco).
    """
    obj = measurement.objects[object_index]
    points = {name: getattr(obj, name) for name in ("A", "B", "E")}
    reference = measurement.reference
    fixed_reference = reference.kind == "scale" or reference.corners is not None
    if not (movable_only and fixed_reference):
        for name in ("C", "D"):
            value = getattr(reference, name)
            if value is not None:
                points[name] = value
    return {name: (float(p[0]), float(p[1])) for name, p in points.items()}


# --------------------------------------------------------------------- colours
def class_colours(classes: ClassIds) -> dict[int, RGB]:
    """Mask value -> colour for the object, reference and ignore classes."""
    return {
        classes.object: CLASS_COLOURS["object"],
        classes.reference: CLASS_COLOURS["reference"],
        classes.ignore: CLASS_COLOURS["ignore"],
    }


def legend_items(classes: ClassIds, *, points: bool = True) -> list[tuple[str, RGB]]:
    """``(label, colour)`` of everything drawn, for a legend."""
    items = [
        (f"object (class {classes.object})", CLASS_COLOURS["object"]),
        (f"reference (class {classes.reference})", CLASS_COLOURS["reference"]),
        (f"ignore (class {classes.ignore})", CLASS_COLOURS["ignore"]),
    ]
    if points:
        roles = {"A": "A (corner)", "B": "B (width AB)", "E": "E (height AE)"}
        roles |= {"C": "C (reference)", "D": "D (reference)"}
        items += [(roles[name], POINT_COLOURS[name]) for name in POINT_NAMES]
    return items


def blend_mask(
    image: np.ndarray, mask: np.ndarray, classes: ClassIds, opacity: float
) -> np.ndarray:
    """The photo with each class tinted in its colour.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        mask: ``(H, W)`` class indices, same size.
        opacity: 0 (photo unchanged) .. 1 (class colour only).

    Returns:
        A new ``(H, W, 3)`` uint8 array; background pixels are unchanged.
    """
    if image.shape[:2] != mask.shape:
        raise ParameterError(
            f"mask {mask.shape[::-1]} and image {image.shape[1::-1]} differ in size"
        )
    if not 0.0 <= opacity <= 1.0:
        raise ParameterError(f"opacity must be in 0..1, got {opacity!r}")
    out = np.array(image, dtype=np.uint8, copy=True)
    _tint_into(out, mask, classes, opacity)
    return out


def _tint_into(canvas: np.ndarray, mask: np.ndarray, classes: ClassIds, opacity: float) -> None:
    """:func:`blend_mask` in place: ``canvas`` (the photo, ``(H, W, 3)`` uint8
    RGB, the size of ``mask``) with each class tinted in its colour."""
    if opacity == 0.0:
        return
    lut = np.zeros((256, 1, 3), np.uint8)
    tinted = np.zeros(256, np.uint8)
    for value, colour in class_colours(classes).items():
        lut[value, 0], tinted[value] = colour, 1
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    where = cv2.LUT(mask, tinted)
    if not cv2.countNonZero(where):
        return
    # Only the box around the tinted pixels is blended (each pixel on its own).
    x, y, w, h = cv2.boundingRect(where)
    box = (slice(y, y + h), slice(x, x + w))
    mask, where = mask[box], where[box]
    # OpenCV's table look-up and masked copy: several times faster than NumPy's
    # fancy indexing on a photo-sized mask.
    layer = cv2.LUT(cv2.merge((mask, mask, mask)), lut)
    blended = cv2.addWeighted(np.ascontiguousarray(canvas[box]), 1.0 - opacity, layer, opacity, 0.0)
    canvas[box] = cv2.copyTo(blended, where, canvas[box])


def draw_outlines(
    image: np.ndarray, mask: np.ndarray, classes: ClassIds, width: int = 1
) -> np.ndarray:
    """A copy of ``image`` with the boundary of each class region drawn in
    the class colour (``width`` pixels), so that the segmentation's edge is
    visible whatever the photo's colours."""
    out = np.array(image, dtype=np.uint8, copy=True)
    _outline_into(out, mask, classes, width)
    return out


def _outline_into(canvas: np.ndarray, mask: np.ndarray, classes: ClassIds, width: int) -> None:
    """:func:`draw_outlines` in place, on ``canvas``."""
    for value, colour in class_colours(classes).items():
        region = (mask == value).astype(np.uint8)
        if not region.any():
            continue
        contours, _ = cv2.findContours(region, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(canvas, contours, -1, colour, width, cv2.LINE_8)


def _resized(
    image: np.ndarray, mask: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Photo and mask resized to ``size`` ``(width, height)``: area averaging
    for the photo when it shrinks by 2 or more, linear otherwise (below 2 the
    two look alike, and area averaging by a fraction is several times
    slower), nearest neighbour for the mask."""
    shrink = size[0] * 2 <= image.shape[1]
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return small, cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)


def _shrunk_by_blocks(
    image: np.ndarray, mask: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Shrink photo and mask by the largest whole factor that keeps them at
    least ``size`` (area averaging by whole blocks is OpenCV's fast path).
    Fewer than ``factor`` rows and columns are dropped at the right and
    bottom edges to make the blocks whole: for display only."""
    factor = min(image.shape[1] // size[0], image.shape[0] // size[1])
    if factor < 2:
        return image, mask
    height, width = image.shape[0] // factor, image.shape[1] // factor
    crop = (slice(0, height * factor), slice(0, width * factor))
    small = cv2.resize(image[crop], (width, height), interpolation=cv2.INTER_AREA)
    return small, mask[crop][factor // 2 :: factor, factor // 2 :: factor]


def _mask_resized(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``mask`` at ``size`` ``(width, height)``, nearest neighbour (a whole-block
    subsampling first when it is several times larger: cheap at 12 MP)."""
    factor = min(mask.shape[1] // size[0], mask.shape[0] // size[1])
    if factor >= 2:
        mask = mask[factor // 2 :: factor, factor // 2 :: factor]
    return cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)


def display_base(
    image: np.ndarray,
    mask: np.ndarray,
    classes: ClassIds,
    opacity: float,
    size: tuple[int, int],
) -> np.ndarray:
    """The display-sized photo with the mask overlay (no points): resized
    first (area for the photo, nearest for the mask), then tinted; with a
    non-zero ``opacity`` the class boundaries are outlined too."""
    small, small_mask = _resized(image, mask, size)
    tinted = blend_mask(small, small_mask, classes, opacity)
    return draw_outlines(tinted, small_mask, classes) if opacity > 0 else tinted


# --------------------------------------------------------------------- drawing
@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fixed(point: Sequence[float]) -> tuple[int, int]:
    """OpenCV fixed-point coordinates of a pixel-centre point."""
    return (round(point[0] * (1 << _SHIFT)), round(point[1] * (1 << _SHIFT)))


def _line(canvas: np.ndarray, p: Sequence[float], q: Sequence[float], width: int) -> None:
    cv2.line(canvas, _fixed(p), _fixed(q), OUTLINE_COLOUR, width + 2, cv2.LINE_AA, _SHIFT)
    cv2.line(canvas, _fixed(p), _fixed(q), SEGMENT_COLOUR, width, cv2.LINE_AA, _SHIFT)


def draw_annotations(
    image: np.ndarray,
    points: Mapping[str, Sequence[float]],
    *,
    corners: np.ndarray | None = None,
    radius: float = POINT_RADIUS_PX,
    line_width: int = 1,
    font_size: int = 16,
    labels: bool = True,
) -> np.ndarray:
    """Draw the reference corners, the segments AB, AE, CD, the points and
    their labels on a copy of ``image``.

    Args:
        image: ``(H, W, 3)`` uint8 RGB; ``points`` and ``corners`` are in its
            own pixel coordinates.
        points: any of ``A, B, E, C, D``.
        corners: ``(4, 2)`` reference corners (homography), drawn as a quad.
        radius: radius of a point's disc; the pixel at the point itself
            always has the point's colour.
        line_width: segment width in pixels.
        font_size: label size in pixels; ``labels=False`` draws none.
    """
    canvas = np.array(image, dtype=np.uint8, copy=True)
    _annotate_into(
        canvas,
        points,
        corners=corners,
        radius=radius,
        line_width=line_width,
        font_size=font_size,
        labels=labels,
    )
    return canvas


def _annotate_into(
    canvas: np.ndarray,
    points: Mapping[str, Sequence[float]],
    *,
    corners: np.ndarray | None,
    radius: float,
    line_width: int,
    font_size: int,
    labels: bool,
) -> None:
    """:func:`draw_annotations` in place, on ``canvas``."""
    if corners is not None:
        quad = np.array([_fixed(c) for c in np.asarray(corners, float)], np.int32)
        cv2.polylines(canvas, [quad], True, OUTLINE_COLOUR, line_width + 2, cv2.LINE_AA, _SHIFT)
        cv2.polylines(canvas, [quad], True, CORNER_COLOUR, line_width, cv2.LINE_AA, _SHIFT)
        for corner in np.asarray(corners, float):
            cv2.circle(
                canvas,
                _fixed(corner),
                round(radius * (1 << _SHIFT)),
                CORNER_COLOUR,
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
    for p, q in SEGMENTS:
        if p in points and q in points:
            _line(canvas, points[p], points[q], line_width)
    for name in POINT_NAMES:
        if name not in points:
            continue
        x, y = float(points[name][0]), float(points[name][1])
        r = max(radius, 1.0)
        cv2.circle(
            canvas,
            _fixed((x, y)),
            round((r + 1) * (1 << _SHIFT)),
            OUTLINE_COLOUR,
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
        cv2.circle(
            canvas,
            _fixed((x, y)),
            round(r * (1 << _SHIFT)),
            POINT_COLOURS[name],
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
    if labels and points:
        _draw_labels(canvas, points, radius, font_size)
    for name in POINT_NAMES:  # the pixel under each point, last, whatever overlaps it
        if name in points:
            col, row = round(float(points[name][0])), round(float(points[name][1]))
            if 0 <= row < canvas.shape[0] and 0 <= col < canvas.shape[1]:
                canvas[row, col] = POINT_COLOURS[name]


def _draw_labels(
    canvas: np.ndarray, points: Mapping[str, Sequence[float]], radius: float, font_size: int
) -> None:
    """The points' names beside them, on ``canvas`` (in place)."""
    font = _font(font_size)
    width = canvas.shape[1]
    gap = radius + max(4.0, font_size * 0.4)
    stroke = max(1, font_size // 8)
    labels = []
    for name in POINT_NAMES:
        if name not in points:
            continue
        x, y = float(points[name][0]), float(points[name][1])
        tx = x + gap if x + gap + font_size < width else x - gap - font_size
        ty = y - gap - font_size if y - gap - font_size > 0 else y + gap
        labels.append((name, tx, ty, font.getbbox(name, stroke_width=stroke)))

    def paint(draw: ImageDraw.ImageDraw, ox: int, oy: int) -> None:
        for name, tx, ty, _ in labels:
            draw.text(
                (tx - ox, ty - oy),
                name,
                font=font,
                fill=POINT_COLOURS[name],
                stroke_width=stroke,
                stroke_fill=OUTLINE_COLOUR,
            )

    boxes = [(tx, ty, tx, ty) for _, tx, ty, _ in labels]
    boxes += [(tx + b[0], ty + b[1], tx + b[2], ty + b[3]) for _, tx, ty, b in labels]
    _paint_into(canvas, boxes, paint)


def _painted(
    canvas: np.ndarray,
    boxes: Sequence[tuple[float, float, float, float]],
    paint: Callable[[ImageDraw.ImageDraw, int, int], None],
) -> np.ndarray:
    """``canvas`` with what ``paint`` draws with Pillow, the same pixels as if
    it drew on the whole canvas, but only the part within ``boxes`` is
    converted to and from Pillow (a few labels on a large picture).

    Args:
        canvas: ``(H, W, 3)`` uint8 RGB; left unchanged.
        boxes: ``(x0, y0, x1, y1)`` canvas pixels that together hold every
            pixel ``paint`` draws and every point it draws from.
        paint: ``paint(draw, ox, oy)`` draws with every coordinate less
            ``(ox, oy)``; the offsets are even and at most the points it
            draws from, so Pillow rounds each coordinate as it would on the
            whole canvas.
    """
    out = np.array(canvas, dtype=np.uint8, copy=True)
    _paint_into(out, boxes, paint)
    return out


def _paint_into(
    canvas: np.ndarray,
    boxes: Sequence[tuple[float, float, float, float]],
    paint: Callable[[ImageDraw.ImageDraw, int, int], None],
) -> None:
    """:func:`_painted` in place, on ``canvas``."""
    if not boxes:
        return
    out = canvas
    height, width = out.shape[:2]
    left = max(0, math.floor(min(b[0] for b in boxes)) - 2) // 2 * 2
    top = max(0, math.floor(min(b[1] for b in boxes)) - 2) // 2 * 2
    right = min(width, math.ceil(max(b[2] for b in boxes)) + 2)
    bottom = min(height, math.ceil(max(b[3] for b in boxes)) + 2)
    if right <= left or bottom <= top:
        return
    part = Image.fromarray(out[top:bottom, left:right])
    paint(ImageDraw.Draw(part), left, top)
    out[top:bottom, left:right] = np.asarray(part)


def render_display(
    base: np.ndarray,
    image_size: tuple[int, int],
    points: Mapping[str, Sequence[float]],
    corners: np.ndarray | None = None,
) -> np.ndarray:
    """The canvas background: a display base (:func:`display_base`) with the
    segments, points and labels of ``points`` and the reference ``corners``
    (``(x, y)`` pixels of the ``image_size`` photo) drawn on it."""
    to_base = PixelScaling.for_resize(image_size, (base.shape[1], base.shape[0]))
    return draw_annotations(
        base,
        _mapped(points, to_base),
        corners=None if corners is None else to_base(corners),
        radius=DISPLAY_POINT_RADIUS_PX,
    )


def render_display_png(
    base: np.ndarray,
    image_size: tuple[int, int],
    points: Mapping[str, Sequence[float]],
    corners: np.ndarray | None = None,
) -> bytes:
    """:func:`render_display` encoded as PNG bytes (what the canvas is sent)."""
    return encode_png(render_display(base, image_size, points, corners))


def _legend_lines(measurement: Measurement) -> list[str]:
    unit = measurement.unit
    reference = measurement.reference
    if reference.kind == "scale":
        lines = [f"scale {reference.scale:.6g} {unit}/px (given); {measurement.method} method"]
    else:
        lines = [
            f"reference ({reference.kind}): CD {reference.pixels:.1f} px = {reference.real:g} "
            f"{unit}; {measurement.method} method, {measurement.options.orientation} boxes; "
            "± is the 95 % interval"
        ]
    for index, obj in enumerate(measurement.objects, start=1):
        moved = f" (moved by the operator: {', '.join(obj.moved)})" if obj.moved else ""
        lines.append(f"{index}: {obj.sizes_text(unit)}{moved}")
    if reference.moved:
        lines.append("reference points moved by the operator: " + ", ".join(reference.moved))
    return lines


def _wrapped(lines: Sequence[str], font: ImageFont.ImageFont, width: float) -> list[str]:
    """``lines`` broken at spaces so that each fits ``width`` pixels."""
    out: list[str] = []
    for line in lines:
        if font.getlength(line) <= width:  # most lines: one measure, not one per word
            out.append(line)
            continue
        words, current = line.split(" "), ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and font.getlength(candidate) > width:
                out.append(current)
                current = "  " + word
            else:
                current = candidate
        out.append(current)
    return out


def legend_strip(
    width: int, lines: Sequence[str], items: Sequence[tuple[str, RGB]], font_size: int
) -> np.ndarray:
    """A dark strip ``width`` pixels wide holding the text ``lines`` (wrapped to
    fit) and the colour swatches ``items``: the legend of an annotated picture,
    drawn below the photo so that it covers nothing of it."""
    font = _font(font_size)
    pad = max(4, font_size // 2)
    row = round(font_size * LEGEND_ROW_SPACING)
    text = _wrapped(lines, font, width - 2 * pad)
    swatches = _swatches(width, tuple((label, tuple(colour)) for label, colour in items), font_size)
    top = pad + len(text) * row
    strip = Image.new("RGB", (width, top + swatches.height), LEGEND_PANEL_RGBA[:3])
    strip.paste(swatches, (0, top))
    draw = ImageDraw.Draw(strip)
    for index, line in enumerate(text):
        draw.text((pad, pad + index * row), line, font=font, fill=LEGEND_TEXT_RGB)
    return np.array(strip)


@functools.lru_cache(maxsize=16)
def _swatches(width: int, items: tuple[tuple[str, RGB], ...], font_size: int) -> Image.Image:
    """The lower part of a :func:`legend_strip`: the colour swatches ``items``
    in columns, and the strip's bottom margin (the same for every picture of a
    batch, so drawn once; the caller only reads it)."""
    font = _font(font_size)
    pad = max(4, font_size // 2)
    row = round(font_size * LEGEND_ROW_SPACING)
    item_width = max((font.getlength(label) for label, _ in items), default=0) + 2 * font_size
    columns = max(1, min(len(items), int((width - 2 * pad) // max(item_width, 1))))
    swatch_rows = -(-len(items) // columns) if items else 0
    block = Image.new("RGB", (width, row * swatch_rows + pad), LEGEND_PANEL_RGBA[:3])
    draw = ImageDraw.Draw(block)
    for index, (label, colour) in enumerate(items):
        x = pad + (index % columns) * item_width
        y = (index // columns) * row
        draw.rectangle((x, y + 2, x + font_size - 4, y + font_size - 2), fill=colour)
        draw.text((x + font_size + 2, y), label, font=font, fill=LEGEND_TEXT_RGB)
    return block


def _label_objects(
    picture: np.ndarray,
    measurement: Measurement,
    to_picture: PixelScaling,
    font_size: int,
) -> None:
    """Every object's number and size in a chip above its box (inside the
    picture), drawn on ``picture`` (in place)."""
    font = _font(font_size)
    height, width = picture.shape[:2]
    unit = measurement.unit
    chips = []
    for index, obj in enumerate(measurement.objects, start=1):
        a, b, e = to_picture(np.array([obj.A, obj.B, obj.E]))
        corners = np.array([a, b, e, b + e - a])
        text = f"{index}: {obj.width.value:.2f} x {obj.height.value:.2f} {unit}"  # no × glyph
        text_width = font.getlength(text)
        pad = max(2, font_size // 5)
        x = float(np.clip(corners[:, 0].mean() - text_width / 2, 0, width - text_width - 2 * pad))
        y = corners[:, 1].min() - font_size - 3 * pad
        if y < 0:
            y = min(corners[:, 1].max() + pad, height - font_size - 2 * pad)
        rectangle = (x, y, x + text_width + 2 * pad, y + font_size + 2 * pad)
        chips.append((text, rectangle, (x + pad, y + pad * 0.6)))

    def paint(draw: ImageDraw.ImageDraw, ox: int, oy: int) -> None:
        for text, (x0, y0, x1, y1), (tx, ty) in chips:
            draw.rectangle((x0 - ox, y0 - oy, x1 - ox, y1 - oy), fill=LEGEND_PANEL_RGBA[:3])
            draw.text((tx - ox, ty - oy), text, font=font, fill=LEGEND_TEXT_RGB)

    boxes = []
    for text, rectangle, (tx, ty) in chips:
        left, top, right, bottom = font.getbbox(text)
        boxes += [rectangle, (tx, ty, tx, ty), (tx + left, ty + top, tx + right, ty + bottom)]
    _paint_into(picture, boxes, paint)


def annotated_size(image_size: tuple[int, int], max_side: int | None = None) -> tuple[int, int]:
    """``(width, height)`` of an annotated picture of an ``image_size`` photo:
    the photo's own size, or, when its longer side exceeds ``max_side``
    pixels, shrunk to that longer side (aspect ratio kept). Never enlarged.

    >>> annotated_size((4000, 3000), 1600), annotated_size((800, 600), 1600)
    ((1600, 1200), (800, 600))
    """
    if max_side is not None and max_side < 1:
        raise ParameterError(f"the largest side must be at least 1 pixel, got {max_side!r}")
    if max_side is None or max(image_size) <= max_side:
        return image_size
    return display_size(image_size, (max_side, max_side))


def _marks_scale(size: tuple[int, int]) -> float:
    """How much larger than at the design size marks are drawn on a ``size``
    picture: 1 up to :data:`MARKS_DESIGN_SIDE_PX`, proportional above."""
    return max(max(size) / MARKS_DESIGN_SIDE_PX, 1.0)


def annotated_image(
    image: np.ndarray,
    mask: np.ndarray,
    measurement: Measurement,
    classes: ClassIds,
    opacity: float = ANNOTATED_OPACITY,
    *,
    max_side: int | None = None,
    image_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """The annotated picture of a measured photo: the photo with the mask
    tinted (and outlined when ``opacity`` > 0), every object's points A, B, E
    and segments with its number and size in a chip above it, the reference
    (C, D or its corners), and below the photo a strip with the legend (the
    reference, each object's numbers with their intervals, the colours), so
    that nothing of the photo is covered.

    The one renderer of the picture the Measure page downloads (full size) and
    a batch saves (``max_side``). Marks are sized for a picture of
    :data:`MARKS_DESIGN_SIDE_PX` and grow with larger pictures.

    Args:
        image: ``(H, W, 3)`` uint8 RGB photo.
        mask: ``(H, W)`` class indices of the photo.
        measurement: the photo's measurement; its points are ``(x, y)``
            pixels of ``image``.
        classes: the mask's class ids.
        opacity: the mask's tint, 0 (none) .. 1.
        max_side: longest side of the picture in pixels; ``None`` keeps the
            photo's size (see :func:`annotated_size`).
        image_size: ``(W, H)`` of the photo the measurement is of, when
            ``image`` is a smaller copy of it (e.g. decoded at a reduced size:
            :func:`objlen.imageio.load_preview`); ``mask`` may then be of
            either size. ``None``: ``image``'s own size.

    Returns:
        ``(h + strip, w, 3)`` uint8 RGB: the photo's part is
        ``(w, h) == annotated_size((W, H), max_side)``, the legend strip below it.
    """
    own_size = (image.shape[1], image.shape[0])
    image_size = own_size if image_size is None else tuple(image_size)
    size = annotated_size(image_size, max_side)
    if mask.shape[::-1] != own_size:  # the full-size mask of a smaller copy
        mask = _mask_resized(mask, own_size)
    if size != own_size:
        image, mask = _resized(*_shrunk_by_blocks(image, mask, size), size)
    marks = _marks_scale(size)
    strip = legend_strip(
        size[0], _legend_lines(measurement), legend_items(classes), round(LEGEND_FONT_PX * marks)
    )
    # Drawn in place on the photo's part of the one output array.
    out = np.empty((size[1] + strip.shape[0], size[0], 3), np.uint8)
    picture = out[: size[1]]
    picture[...] = image
    out[size[1] :] = strip
    _tint_into(picture, mask, classes, opacity)
    if opacity > 0:
        _outline_into(picture, mask, classes, max(1, round(marks)))
    to_picture = PixelScaling.for_resize(image_size, size)
    corners = measurement.reference.corners
    for index in range(len(measurement.objects)):
        _annotate_into(
            picture,
            _mapped(points_of(measurement, index), to_picture),
            corners=to_picture(corners) if corners is not None and index == 0 else None,
            radius=POINT_RADIUS_PX * marks,
            line_width=max(1, round(SEGMENT_WIDTH_PX * marks)),
            font_size=round(LABEL_FONT_PX * marks),
            labels=True,
        )
    _label_objects(picture, measurement, to_picture, round(LEGEND_FONT_PX * marks))
    return out


def mask_layer_png(
    mask: np.ndarray, classes: ClassIds, opacity: float, outline_px: int = 1
) -> bytes:
    """The mask as a transparent layer for the photo editor: a palette PNG of
    the mask's own size, each class in its colour at ``opacity`` (background
    fully transparent), its boundary ``outline_px`` pixels wide and opaque, so
    that the editor draws it over the photo at any zoom, pixel for pixel.

    >>> from PIL import Image; import io
    >>> m = np.zeros((4, 6), np.uint8); m[1:3, 1:5] = 1
    >>> layer = Image.open(io.BytesIO(mask_layer_png(m, ClassIds(), 0.5)))
    >>> layer.size, layer.mode
    ((6, 4), 'P')
    """
    if mask.ndim != 2:
        raise ParameterError(f"a mask has one channel; got an array of shape {mask.shape}")
    if not 0.0 <= opacity <= 1.0:
        raise ParameterError(f"opacity must be in 0..1, got {opacity!r}")
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    palette = [0, 0, 0]
    alpha = [0]
    fills = np.zeros(256, np.uint8)  # class value -> its fill index (0: transparent)
    present = cv2.calcHist([mask], [0], None, [256], [0, 256]).ravel() > 0
    for value, colour in class_colours(classes).items():
        if not present[value]:
            continue
        fills[value] = len(alpha)
        palette += [*colour, *colour]
        alpha += [round(255 * opacity), 255]
    indices = cv2.LUT(mask, fills)
    # A class pixel is on its region's edge when another value lies within
    # outline_px of it: where the label image's local minimum or maximum differs.
    kernel = np.ones((2 * max(1, int(outline_px)) + 1,) * 2, np.uint8)
    lowest = cv2.erode(mask, kernel, borderType=cv2.BORDER_REPLICATE)
    highest = cv2.dilate(mask, kernel, borderType=cv2.BORDER_REPLICATE)
    differs = cv2.bitwise_or(
        cv2.compare(lowest, mask, cv2.CMP_NE), cv2.compare(highest, mask, cv2.CMP_NE)
    )
    edge = cv2.bitwise_and(differs, cv2.compare(indices, 0, cv2.CMP_GT))
    cv2.add(indices, 1, dst=indices, mask=edge)  # the edge index follows the fill's
    picture = Image.fromarray(indices, mode="P")
    picture.putpalette(palette + [0, 0, 0] * (256 - len(alpha)))
    buffer = io.BytesIO()
    # zlib's run-length strategy: a mask is long runs of one index (12 MP in
    # about half the time of the default, and a quarter of the bytes).
    picture.save(buffer, format="PNG", transparency=bytes(alpha), compress_level=1, compress_type=3)
    return buffer.getvalue()


def display_jpeg(
    image: np.ndarray,
    max_side: int | None = None,
    quality: int = 90,
    *,
    source_bytes: bytes | None = None,
) -> bytes:
    """The photo as JPEG bytes for the browser, shrunk (area averaging) so that
    its longer side is at most ``max_side`` pixels (``None``: full size).

    The shrink halves the photo by whole 2 x 2 blocks first (OpenCV's fast
    path: a 12-megapixel photo to 1600 pixels in about a sixth of the time).
    At full size, ``source_bytes`` — the file ``image`` was decoded from —
    are returned unchanged when they are a JPEG of exactly these pixels (no
    EXIF turn): nothing is encoded again.
    """
    own = (image.shape[1], image.shape[0])
    size = annotated_size(own, max_side)
    if size == own and source_bytes is not None and _same_jpeg(source_bytes, own):
        return source_bytes
    if size != own:
        image = _resized(*_halved(image, size), size)[0]
    return encode_jpeg(image, quality=quality)


def _halved(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``image`` halved by 2 x 2 blocks while it stays at least ``size`` (with a
    dummy mask, for :func:`_resized`, which takes the last step of less than 2)."""
    while image.shape[1] >= 2 * size[0] and image.shape[0] >= 2 * size[1]:
        image = cv2.resize(
            image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
    return image, np.zeros((image.shape[0], image.shape[1]), np.uint8)


def _same_jpeg(data: bytes, size: tuple[int, int]) -> bool:
    """Whether ``data`` is a JPEG of ``size`` whose pixels a browser shows as
    :func:`objlen.imageio.load_image` gives them (RGB or grey, no EXIF turn)."""
    if not data.startswith(b"\xff\xd8"):
        return False
    try:
        with Image.open(io.BytesIO(data)) as picture:
            return (
                picture.format in ("JPEG", "MPO")
                and picture.mode in ("RGB", "L")
                and picture.size == tuple(size)
                and picture.getexif().get(0x0112, 1) == 1
            )
    except (OSError, ValueError, SyntaxError):
        return False


def annotated_png(
    image: np.ndarray,
    mask: np.ndarray,
    measurement: Measurement,
    classes: ClassIds,
    opacity: float = ANNOTATED_OPACITY,
    *,
    max_side: int | None = None,
) -> bytes:
    """:func:`annotated_image` as PNG bytes, for download."""
    return encode_png(
        annotated_image(image, mask, measurement, classes, opacity, max_side=max_side)
    )


def thumbnail_png(
    image: np.ndarray,
    mask: np.ndarray,
    measurement: Measurement,
    classes: ClassIds,
    max_side: int = THUMBNAIL_MAX_SIDE,
) -> bytes:
    """A small PNG (longer side ``max_side`` pixels) of the photo with the
    overlay and the first object's points, for the history."""
    width, height = display_size((image.shape[1], image.shape[0]), (max_side, max_side))
    base = display_base(image, mask, classes, ANNOTATED_OPACITY, (width, height))
    small = render_display(
        base,
        (image.shape[1], image.shape[0]),
        points_of(measurement),
        measurement.reference.corners,
    )
    return encode_png(small)


__all__ = [
    "ANNOTATED_OPACITY",
    "CLASS_COLOURS",
    "DISPLAY_MAX_SIZE",
    "DISPLAY_POINT_RADIUS_PX",
    "LABEL_FONT_PX",
    "LEGEND_FONT_PX",
    "MARKS_DESIGN_SIDE_PX",
    "POINT_COLOURS",
    "POINT_RADIUS_PX",
    "SEGMENTS",
    "SEGMENT_WIDTH_PX",
    "THUMBNAIL_MAX_SIDE",
    "annotated_image",
    "annotated_png",
    "annotated_size",
    "blend_mask",
    "class_colours",
    "display_base",
    "display_jpeg",
    "display_size",
    "draw_annotations",
    "draw_outlines",
    "legend_items",
    "legend_strip",
    "mask_layer_png",
    "points_of",
    "render_display",
    "render_display_png",
    "thumbnail_png",
    "to_display",
]
