"""Scenes for ``bench/independent.py``, drawn from first principles (NumPy + OpenCV).

This generator shares no code and no assumption with the project's own
renderer (:mod:`objlen.testing.synthetic`, deliberately not read): it is a
ray caster. Every pixel centre of the photo is turned into a ray of a pinhole
camera (after undoing a radial lens distortion), the ray is met with the
table (``z = 0``) or with the top face and side wall of a thick object, and
the shape there is evaluated analytically in millimetres. A pixel's colour
is the mix of what lies on either side of an edge, weighted by the share of
the pixel on each side (the signed distance to the edge divided by its rate
of change across the photo's pixels: exact for straight edges, about right
at corners). The exact mask is the same evaluation at the pixel centre: a
pixel belongs to a shape when its centre's ray meets it.

World: millimetres, the table is ``z = 0``, ``z`` up. Photo: pixels
``(x, y)``, x to the right, y down, pixel ``(i, j)`` centred on ``(i, j)``.
The lens follows OpenCV's convention: a point at normalised radius ``r``
(divided by the focal length) is seen at ``r (1 + k1 r^2)``.

What it models: a pinhole camera of known focal length at a known pose;
radial distortion (k1 only); flat shapes on the table (an ID-1 card with
rounded corners, rectangles, ellipses); thick objects (a vertical prism of
rounded-rectangle section: a coin is a prism whose section is a disc; a pill
one whose section is a rounded rectangle) whose top face and side wall the
camera sees, the wall darker; a table of plain, paper-like or wood-like
texture; soft cast shadows of flat shapes (the shape shifted and blurred on
the table); a 1-2 px line along the card's edge, inside its outline; a
smooth light gradient; sensor noise; optical blur and JPEG.

What it does not model: occlusion between objects (they never overlap);
shadows of thick objects; specular highlights, relief and domed tops
(a coin's face and a pill's top are flat, lightly mottled); the card's
own thickness (its edge line is drawn on the card); printing on the card;
tangential distortion, vignetting, chromatic aberration, rolling shutter,
demosaicing; a sensor's noise that depends on the signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

#: ID-1 card (ISO/IEC 7810): 85.60 x 53.98 mm, corner radius 3.18 mm.
CARD_MM = (85.60, 53.98)
CARD_RADIUS_MM = 3.18
#: The reference coin of the thick scenes: a 2-euro coin's diameter and thickness.
COIN_REFERENCE_MM = 25.75
COIN_REFERENCE_THICKNESS_MM = 2.2


# --------------------------------------------------------------------------- camera
@dataclass(frozen=True)
class PinholeCamera:
    """A pinhole camera with radial distortion.

    Attributes:
        focal_px: focal length in pixels (square pixels, no skew).
        size: photo ``(width, height)`` in pixels; the principal point is its centre.
        rotation: ``(3, 3)`` world-to-camera rotation (rows: the camera's x
            right, y down, z forward, in world coordinates).
        centre: the camera's centre in world mm.
        k1: radial distortion coefficient (OpenCV's convention).
    """

    focal_px: float
    size: tuple[int, int]
    rotation: np.ndarray
    centre: np.ndarray
    k1: float = 0.0

    @property
    def principal(self) -> np.ndarray:
        return np.array([(self.size[0] - 1) / 2.0, (self.size[1] - 1) / 2.0])

    def project(self, points_mm: np.ndarray) -> np.ndarray:
        """``(N, 3)`` world points to ``(N, 2)`` photo pixels (distorted)."""
        cam = (np.asarray(points_mm, float) - self.centre) @ self.rotation.T
        ideal = cam[:, :2] / cam[:, 2:3]
        radial = 1.0 + self.k1 * np.sum(ideal**2, axis=1, keepdims=True)
        return ideal * radial * self.focal_px + self.principal

    def rays(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, ...]:
        """World directions ``(dx, dy, dz)`` of the rays through photo pixels ``(xs, ys)``
        (the distortion undone by fixed-point iteration, exact to 1e-9 here)."""
        xd = (xs - self.principal[0]) / self.focal_px
        yd = (ys - self.principal[1]) / self.focal_px
        xu, yu = xd, yd
        for _ in range(30 if self.k1 else 0):
            radial = 1.0 + self.k1 * (xu * xu + yu * yu)
            xu, yu = xd / radial, yd / radial
        r = self.rotation
        return tuple(r[0, k] * xu + r[1, k] * yu + r[2, k] for k in range(3))

    def hit(self, rays: tuple[np.ndarray, ...], z_mm: float) -> tuple[np.ndarray, np.ndarray]:
        """Where the rays meet the horizontal plane at height ``z_mm``: ``(X, Y)`` in mm."""
        dx, dy, dz = rays
        s = (z_mm - self.centre[2]) / dz
        return self.centre[0] + s * dx, self.centre[1] + s * dy


def look_at(centre_mm: np.ndarray, target_mm: np.ndarray) -> np.ndarray:
    """World-to-camera rotation of a camera at ``centre_mm`` aimed at ``target_mm``,
    its image x axis along the world's x as far as the aim allows."""
    forward = target_mm - centre_mm
    forward = forward / np.linalg.norm(forward)
    right = np.array([1.0, 0.0, 0.0]) - forward[0] * forward
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


# --------------------------------------------------------------------------- shapes
def _local(x: np.ndarray, y: np.ndarray, centre: tuple[float, float], angle: float):
    """Plane points in a shape's own frame (origin at its centre, axes along its sides)."""
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = x - centre[0], y - centre[1]
    return c * dx + s * dy, -s * dx + c * dy


@dataclass(frozen=True)
class Shape:
    """A shape's outline on a horizontal plane, in mm.

    ``kind`` is ``"roundrect"`` (half-sizes ``half``, corner radius ``radius``;
    a disc when both halves equal the radius) or ``"ellipse"`` (semi-axes ``half``).
    ``thickness`` > 0 makes it a vertical prism standing on the table.
    """

    kind: str
    centre: tuple[float, float]
    half: tuple[float, float]
    angle: float = 0.0
    radius: float = 0.0
    thickness: float = 0.0

    @property
    def size_mm(self) -> tuple[float, float]:
        """The true ``(long, short)`` sizes of its footprint."""
        a, b = 2 * self.half[0], 2 * self.half[1]
        return (max(a, b), min(a, b))

    @property
    def bound_mm(self) -> float:
        """Radius of a circle about its centre that holds it."""
        return float(np.hypot(*self.half))

    def signed_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Negative inside, positive outside, zero on the outline, in mm (exact
        for a rounded rectangle; for an ellipse the zero set is exact and the
        value a first-order estimate of the distance)."""
        u, v = _local(x, y, self.centre, self.angle)
        if self.kind == "ellipse":
            a, b = self.half
            k0 = np.hypot(u / a, v / b)
            k1 = np.maximum(np.hypot(u / a**2, v / b**2), 1e-12)
            return k0 * (k0 - 1.0) / k1
        return self._rect_distance(u, v) - self.radius

    def _rect_distance(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Signed distance (mm) from own-frame points to the inner rectangle (the
        section without its rounding): negative inside it."""
        qx = np.abs(u) - (self.half[0] - self.radius)
        qy = np.abs(v) - (self.half[1] - self.radius)
        outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
        return outside + np.minimum(np.maximum(qx, qy), 0.0)

    def segment_distance(
        self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
    ) -> np.ndarray:
        """Least signed distance from the section's outline along each segment
        ``(x0, y0)-(x1, y1)``: negative when the segment passes through the
        section. The signed distance to a convex set is convex along a segment,
        so a ternary search finds its least value (to 1e-5 of the segment)."""
        u0, v0 = _local(x0, y0, self.centre, self.angle)
        u1, v1 = _local(x1, y1, self.centre, self.angle)
        lo, hi = np.zeros_like(u0), np.ones_like(u0)

        def at(t: np.ndarray) -> np.ndarray:
            return self._rect_distance(u0 + t * (u1 - u0), v0 + t * (v1 - v0))

        for _ in range(30):
            a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
            lower = at(a) < at(b)
            hi = np.where(lower, b, hi)
            lo = np.where(lower, lo, a)
        return at((lo + hi) / 2) - self.radius


def coverage(signed: np.ndarray) -> np.ndarray:
    """Share of each pixel inside a shape, from its signed distance sampled at the
    pixel centres (any unit): the distance in pixels is the value divided by its
    gradient across the photo's pixels."""
    gy, gx = np.gradient(signed)
    step = np.maximum(np.hypot(gx, gy), 1e-9)
    return np.clip(0.5 - signed / step, 0.0, 1.0)


# --------------------------------------------------------------------------- textures
def noise_field(
    rng: np.random.Generator, cell_mm: float, extent_mm: float = 320.0
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A smooth random field on the table (zero mean, unit spread) with features
    about ``cell_mm`` across, evaluated at any plane points (mm)."""
    n = int(2 * extent_mm / cell_mm) + 4
    grid = cv2.GaussianBlur(rng.standard_normal((n, n)).astype(np.float32), (0, 0), 1.0)
    grid /= float(grid.std()) + 1e-9

    def sample(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        mx = ((x + extent_mm) / cell_mm).astype(np.float32)
        my = ((y + extent_mm) / cell_mm).astype(np.float32)
        return cv2.remap(grid, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    return sample


@dataclass(frozen=True)
class Table:
    """The table's look: ``kind`` ``"plain"``, ``"paper"`` or ``"wood"`` and base RGB."""

    kind: str
    rgb: tuple[float, float, float]
    fields: tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], ...] = field(default=())
    grain_angle: float = 0.0
    grain_mm: float = 4.0

    def colour(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """RGB in [0, 1] at plane points (mm), shape ``x.shape + (3,)``."""
        base = np.asarray(self.rgb, float)
        if self.kind == "plain":
            return np.broadcast_to(base, (*x.shape, 3)).copy()
        if self.kind == "paper":
            fibre, blotch = self.fields
            shade = 1.0 + 0.02 * fibre(x, y) + 0.02 * blotch(x, y)
            return base * shade[..., None]
        warp, fine = self.fields
        c, s = np.cos(self.grain_angle), np.sin(self.grain_angle)
        across = -s * x + c * y
        rings = np.sin(2 * np.pi * (across / self.grain_mm + 0.6 * warp(x, y)))
        shade = 1.0 + 0.10 * rings + 0.03 * fine(x, y)
        return base * shade[..., None]


def _wood(rng: np.random.Generator, rgb: tuple[float, float, float]) -> Table:
    """A wood-like table of base colour ``rgb``: its grain's waviness and fine
    texture, direction and ring spacing drawn from ``rng``."""
    return Table(
        "wood",
        rgb,
        (noise_field(rng, 25.0), noise_field(rng, 0.8)),
        rng.uniform(-0.4, 0.4),
        rng.uniform(3.0, 6.0),
    )


def make_table(rng: np.random.Generator, kind: str) -> Table:
    """A table of ``kind``: light grey/beige (plain, paper), mid brown (wood),
    near-black or dark grey (dark) or dark brown with grain (dark wood)."""
    if kind == "dark":
        grey = rng.uniform(0.06, 0.22)
        return Table(
            "plain", (grey, grey * rng.uniform(0.95, 1.02), grey * rng.uniform(0.92, 1.05))
        )
    if kind == "dark wood":
        return _wood(rng, (rng.uniform(0.22, 0.3), rng.uniform(0.13, 0.18), rng.uniform(0.07, 0.1)))
    if kind == "wood":
        return _wood(rng, (rng.uniform(0.5, 0.6), rng.uniform(0.34, 0.42), rng.uniform(0.2, 0.26)))
    grey = rng.uniform(0.8, 0.9)
    rgb = (grey, grey * rng.uniform(0.97, 1.0), grey * rng.uniform(0.92, 0.98))
    if kind == "paper":
        return Table("paper", rgb, (noise_field(rng, 0.5), noise_field(rng, 15.0)))
    return Table("plain", rgb)


# --------------------------------------------------------------------------- scenes
@dataclass(frozen=True)
class Painted:
    """A shape with its colours: ``top`` RGB, and ``side`` RGB for a thick one's wall;
    ``rim`` (RGB, width px) draws a line along its outline, inside it;
    ``mottle`` the strength of a faint texture on its face; ``sheen``
    ``(angle, strength)`` a metal face's reflection of the room: its light
    varies across the face by ``1 + strength * t`` (``t`` from -1 to 1 along
    ``angle``, radians)."""

    shape: Shape
    top: tuple[float, float, float]
    side: tuple[float, float, float] | None = None
    rim: tuple[tuple[float, float, float], float] | None = None
    mottle: float = 0.0
    sheen: tuple[float, float] | None = None


@dataclass(frozen=True)
class Effects:
    """What is done to a scene besides the shapes and the table."""

    shadow: tuple[float, float, float, float] | None = None  # dx, dy, softness mm, darkness
    blur_px: float = 0.0
    jpeg_quality: int | None = None
    light_gradient: tuple[float, float] = (0.0, 0.0)  # share per image width, height
    noise: float = 0.008  # sensor noise, share of full scale


@dataclass(frozen=True)
class Scene:
    """A rendered scene: the photo, the exact mask and the truth.

    Attributes:
        photo: ``(H, W, 3)`` uint8 RGB.
        mask: ``(H, W)`` uint8: 0 table, 1 object, 2 reference (pixel centre's ray).
        reference: the reference shape.
        objects: the objects' shapes (true sizes in :attr:`Shape.size_mm`).
        camera: the camera it was seen with.
    """

    photo: np.ndarray
    mask: np.ndarray
    reference: Shape
    objects: tuple[Shape, ...]
    camera: PinholeCamera

    def centre_px(self, shape: Shape) -> np.ndarray:
        """Where a shape's centre (half its thickness up) is seen, px."""
        point = np.array([[*shape.centre, shape.thickness / 2]])
        return self.camera.project(point)[0]

    def extent_px(self, shape: Shape) -> float:
        """About how long its long side is in the photo, px."""
        ends = np.array(
            [[*shape.centre, 0.0], [shape.centre[0] + shape.size_mm[0], *shape.centre[1:], 0.0]]
        )
        a, b = self.camera.project(ends)
        return float(np.hypot(*(b - a)))


def _window(
    camera: PinholeCamera, centre: tuple[float, float], radius_mm: float, top_mm: float = 0.0
) -> tuple[slice, slice]:
    """The photo's rows and columns that can see the disc of ``radius_mm`` about
    ``centre`` on the table, or at any height up to ``top_mm`` (4 px spare)."""
    cx, cy = centre
    corners = np.array(
        [
            [cx + sx * radius_mm, cy + sy * radius_mm, z]
            for sx in (-1, 1)
            for sy in (-1, 1)
            for z in (0.0, top_mm)
        ]
    )
    px = camera.project(corners)
    w, h = camera.size
    x0 = int(max(np.floor(px[:, 0].min()) - 4, 0))
    x1 = int(min(np.ceil(px[:, 0].max()) + 5, w))
    y0 = int(max(np.floor(px[:, 1].min()) - 4, 0))
    y1 = int(min(np.ceil(px[:, 1].max()) + 5, h))
    return slice(y0, y1), slice(x0, x1)


def render(
    camera: PinholeCamera,
    table: Table,
    reference: Painted,
    objects: tuple[Painted, ...],
    effects: Effects,
    rng: np.random.Generator,
) -> Scene:
    """Ray-cast the scene: the photo (with ``effects``) and the exact mask."""
    w, h = camera.size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    rays = camera.rays(xs, ys)
    tx, ty = camera.hit(rays, 0.0)
    image = table.colour(tx, ty).astype(np.float32)
    if effects.shadow is not None:
        dx, dy, soft, dark = effects.shadow
        for item in (reference, *objects):
            cx, cy = item.shape.centre
            shifted = replace(item.shape, centre=(cx + dx, cy + dy))
            rows, cols = _window(camera, shifted.centre, shifted.bound_mm + 6 * soft)
            signed = shifted.signed_distance(tx[rows, cols], ty[rows, cols]) / (0.6 * soft)
            occlusion = 1.0 / (1.0 + np.exp(np.clip(signed, -50.0, 50.0)))
            image[rows, cols] *= (1.0 - dark * occlusion)[..., None]
    mask = np.zeros((h, w), np.uint8)
    for label, item in [(2, reference)] + [(1, o) for o in objects]:
        rows, cols = _window(camera, item.shape.centre, item.shape.bound_mm, item.shape.thickness)
        window_rays = tuple(r[rows, cols] for r in rays)
        _paint(image[rows, cols], mask[rows, cols], label, item, camera, window_rays, rng)
    gx, gy = effects.light_gradient
    image *= (1.0 + gx * (xs / w - 0.5) + gy * (ys / h - 0.5))[..., None]
    if effects.blur_px > 0:
        image = cv2.GaussianBlur(image, (0, 0), effects.blur_px)
    image += effects.noise * rng.standard_normal(image.shape, dtype=np.float32)
    photo = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    if effects.jpeg_quality is not None:
        _, data = cv2.imencode(
            ".jpg",
            cv2.cvtColor(photo, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, effects.jpeg_quality],
        )
        photo = cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return Scene(photo, mask, reference.shape, tuple(o.shape for o in objects), camera)


def _paint(
    image: np.ndarray,
    mask: np.ndarray,
    label: int,
    item: Painted,
    camera: PinholeCamera,
    rays: tuple[np.ndarray, ...],
    rng: np.random.Generator,
) -> None:
    """Draw one shape into a window of the photo (in place) and mark its mask."""
    shape = item.shape
    top_x, top_y = camera.hit(rays, shape.thickness)
    top_signed = shape.signed_distance(top_x, top_y)
    if shape.thickness > 0:
        bottom_x, bottom_y = camera.hit(rays, 0.0)
        seen_signed = shape.segment_distance(top_x, top_y, bottom_x, bottom_y)
    else:
        seen_signed = top_signed
    seen = coverage(seen_signed)
    top = np.minimum(coverage(top_signed), seen)
    top_rgb = np.broadcast_to(np.asarray(item.top, float), image.shape).copy()
    if item.mottle:
        cell = max(shape.size_mm[1] / 6.0, 1.0)
        top_rgb *= (
            1.0
            + item.mottle * noise_field(rng, cell)(top_x - shape.centre[0], top_y - shape.centre[1])
        )[..., None]
    if item.sheen is not None:
        angle, strength = item.sheen
        along = np.cos(angle) * (top_x - shape.centre[0]) + np.sin(angle) * (
            top_y - shape.centre[1]
        )
        top_rgb *= (1.0 + strength * np.clip(along / max(shape.half), -1.0, 1.0))[..., None]
    if item.rim is not None:
        rim_rgb, rim_px = item.rim
        inside_px = -top_signed / np.maximum(np.hypot(*np.gradient(top_signed)), 1e-9)
        rim = np.clip(np.minimum(inside_px + 0.5, rim_px + 0.5 - inside_px), 0.0, 1.0)
        top_rgb = top_rgb * (1 - rim[..., None]) + np.asarray(rim_rgb) * rim[..., None]
    side_rgb = np.asarray(item.side if item.side is not None else item.top, float)
    wall = (seen - top)[..., None]
    image[:] = image * (1 - seen[..., None]) + top_rgb * top[..., None] + side_rgb * wall
    mask[seen_signed < 0] = label


# --------------------------------------------------------------------------- layouts
#: The photo's size and the camera's focal length (about a 28 mm-equivalent lens).
PHOTO_SIZE = (1200, 900)
FOCAL_PX = 1000.0
#: The card scenes' variants, each one effect on top of the plain scene.
CARD_VARIANTS = ("plain", "edge line", "shadows", "blur + JPEG 70", "lens k1", "texture")
#: Colours (RGB, 0-1) of cards, of flat objects, of coins and of pills.
CARD_COLOURS = ((0.12, 0.28, 0.62), (0.68, 0.14, 0.15), (0.1, 0.42, 0.3), (0.2, 0.2, 0.23))
FLAT_COLOURS = (
    (0.2, 0.35, 0.75),
    (0.15, 0.55, 0.3),
    (0.85, 0.55, 0.1),
    (0.55, 0.2, 0.55),
    (0.25, 0.25, 0.28),
)
ON_WOOD_COLOURS = ((0.93, 0.93, 0.9), (0.2, 0.35, 0.75), (0.15, 0.55, 0.3), (0.95, 0.85, 0.35))
COIN_COLOURS = ((0.6, 0.61, 0.64), (0.78, 0.64, 0.33), (0.68, 0.4, 0.26))
PILL_COLOURS = (
    (0.97, 0.97, 0.95),
    (0.95, 0.55, 0.2),
    (0.6, 0.75, 0.95),
    (0.97, 0.88, 0.4),
    (0.92, 0.6, 0.7),
)
#: Cards of the dark-table scenes: white, light grey, cream, a mid-blue bank card.
DARK_TABLE_CARD_COLOURS = (
    (0.93, 0.93, 0.9),
    (0.78, 0.79, 0.8),
    (0.92, 0.88, 0.74),
    (0.2, 0.38, 0.75),
)


def _pick(rng: np.random.Generator, options: tuple) -> tuple:
    return options[int(rng.integers(len(options)))]


def _camera(centre: np.ndarray, target: np.ndarray, k1: float = 0.0) -> PinholeCamera:
    return PinholeCamera(FOCAL_PX, PHOTO_SIZE, look_at(centre, target), centre, k1)


def _fits(camera: PinholeCamera, shapes: tuple[Shape, ...], margin_px: float = 20.0) -> bool:
    """Whether every shape (its bounding circle, at both heights) is inside the photo."""
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    w, h = camera.size
    for shape in shapes:
        r = shape.bound_mm
        ring = np.column_stack(
            [shape.centre[0] + r * np.cos(angles), shape.centre[1] + r * np.sin(angles)]
        )
        for z in (0.0, shape.thickness):
            px = camera.project(np.column_stack([ring, np.full(len(ring), z)]))
            if (
                px.min() < margin_px
                or (px[:, 0] > w - 1 - margin_px).any()
                or (px[:, 1] > h - 1 - margin_px).any()
            ):
                return False
    return True


def _place(
    rng: np.random.Generator,
    shapes: list[Shape],
    box_mm: tuple[float, float],
    gap_mm: float,
    ring_mm: tuple[float, float] | None = None,
) -> list[Shape] | None:
    """The shapes moved to random places in ``|x|, |y| <= box_mm`` (and, with
    ``ring_mm``, at a distance from the origin in that range), ``gap_mm``
    apart (their bounding circles); None when 200 tries fail."""
    placed: list[Shape] = []
    for shape in shapes:
        for _ in range(200):
            x = rng.uniform(-box_mm[0] + shape.bound_mm, box_mm[0] - shape.bound_mm)
            y = rng.uniform(-box_mm[1] + shape.bound_mm, box_mm[1] - shape.bound_mm)
            if ring_mm is not None and not ring_mm[0] <= np.hypot(x, y) <= ring_mm[1]:
                continue
            if all(
                np.hypot(x - p.centre[0], y - p.centre[1]) >= shape.bound_mm + p.bound_mm + gap_mm
                for p in placed
            ):
                placed.append(replace(shape, centre=(x, y)))
                break
        else:
            return None
    return placed


def _card(rng: np.random.Generator) -> Shape:
    """An ID-1 card (not yet placed), turned by up to 25 deg either way."""
    return Shape(
        "roundrect",
        (0, 0),
        (CARD_MM[0] / 2, CARD_MM[1] / 2),
        np.radians(rng.uniform(-25, 25)),
        CARD_RADIUS_MM,
    )


def _card_layout(rng: np.random.Generator) -> list[Shape]:
    """An ID-1 card, a rectangle and an ellipse (sizes, angles; not yet placed).
    The rectangle's aspect avoids the card's (1.59), so that it cannot be taken for it;
    the ellipse's is 1.4 or more, so that its least box lies along its axes."""
    card = _card(rng)
    long_mm = rng.uniform(30, 90)
    aspect = rng.uniform(1.0, 1.3) if rng.random() < 0.5 else rng.uniform(2.0, 3.0)
    rect = Shape("roundrect", (0, 0), (long_mm / 2, long_mm / aspect / 2), rng.uniform(0, np.pi))
    long_mm = rng.uniform(30, 80)
    ellipse = Shape(
        "ellipse", (0, 0), (long_mm / 2, long_mm / rng.uniform(1.4, 2.5) / 2), rng.uniform(0, np.pi)
    )
    return [card, rect, ellipse]


def card_scene(seed: int, tilt_deg: float, variant: str) -> Scene:
    """A card, a rectangle and an ellipse on the table, seen at ``tilt_deg`` from
    straight above, with one effect of :data:`CARD_VARIANTS`. The layout and the
    camera's distance depend on ``seed`` only, so that the conditions differ by
    the effect and the tilt (unless a layout does not fit the photo at that tilt)."""
    layout_rng = np.random.default_rng([seed, 1])
    rng = np.random.default_rng([seed, 2, CARD_VARIANTS.index(variant), int(tilt_deg)])
    k1 = float(rng.choice([-1, 1]) * rng.uniform(0.05, 0.1)) if variant == "lens k1" else 0.0
    for _ in range(50):
        distance = layout_rng.uniform(330, 400)
        azimuth = np.radians(layout_rng.uniform(-30, 30))
        target = np.array([layout_rng.uniform(-10, 10), layout_rng.uniform(-10, 10), 0.0])
        placed = _place(layout_rng, _card_layout(layout_rng), (115, 78), 10.0)
        tilt = np.radians(tilt_deg)
        offset = np.array(
            [np.sin(azimuth) * np.sin(tilt), -np.cos(azimuth) * np.sin(tilt), np.cos(tilt)]
        )
        camera = _camera(target + distance * offset, target, k1)
        if placed is not None and _fits(camera, tuple(placed)):
            break
    else:
        raise RuntimeError(f"no card layout fits the photo (seed {seed}, tilt {tilt_deg})")
    table = make_table(rng, _pick(rng, ("wood", "paper")) if variant == "texture" else "plain")
    on_wood = table.kind == "wood"
    rim = None
    if variant == "edge line":
        rim_rgb = (0.08, 0.08, 0.08) if rng.random() < 0.5 else (0.97, 0.97, 0.97)
        rim = (rim_rgb, float(rng.uniform(1.0, 2.0)))
    card = Painted(placed[0], _pick(rng, CARD_COLOURS), rim=rim, mottle=0.02)
    objects = tuple(
        Painted(s, _pick(rng, ON_WOOD_COLOURS if on_wood else FLAT_COLOURS), mottle=0.02)
        for s in placed[1:]
    )
    shadow = None
    if variant == "shadows":
        angle = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(2.0, 6.0)
        shadow = (
            length * np.cos(angle),
            length * np.sin(angle),
            rng.uniform(1.5, 4.0),
            rng.uniform(0.25, 0.45),
        )
    effects = Effects(
        shadow=shadow,
        blur_px=float(rng.uniform(0.6, 1.2)) if variant == "blur + JPEG 70" else 0.0,
        jpeg_quality=70 if variant == "blur + JPEG 70" else None,
        light_gradient=(rng.uniform(-0.08, 0.08), rng.uniform(-0.08, 0.08)),
    )
    return render(camera, table, card, objects, effects, rng)


def _overhead_camera(rng: np.random.Generator, tilted: bool) -> tuple[PinholeCamera, float]:
    """A camera 250-400 mm above the table aimed at the origin, face-on or
    (``tilted``) tilted 5-10 deg towards a random azimuth; and its height (mm)."""
    height = rng.uniform(250, 400)
    tilt = np.radians(rng.uniform(5, 10)) if tilted else 0.0
    azimuth = rng.uniform(0, 2 * np.pi)
    offset = height * np.tan(tilt)
    centre = np.array([offset * np.cos(azimuth), offset * np.sin(azimuth), height])
    return _camera(centre, np.zeros(3)), height


def _overhead_layout(
    rng: np.random.Generator,
    shapes: list[Shape],
    tilted: bool,
    gap_mm: float,
    ring_mm: tuple[float, float] | None = None,
) -> tuple[PinholeCamera, list[Shape] | None]:
    """An overhead camera (:func:`_overhead_camera`) and ``shapes`` placed about the
    point below it (:func:`_place` within a box the camera's field allows), or
    None for the shapes when they do not fit the photo."""
    camera, height = _overhead_camera(rng, tilted)
    placed = _place(rng, shapes, (0.5 * height, 0.36 * height), gap_mm, ring_mm)
    if placed is None:
        return camera, None
    x, y = camera.centre[0], camera.centre[1]
    placed = [replace(s, centre=(s.centre[0] + x, s.centre[1] + y)) for s in placed]
    return camera, placed if _fits(camera, tuple(placed)) else None


def thick_scene(seed: int, kind: str, tilted: bool, dark_card: bool = False) -> Scene:
    """A 2-euro coin (25.75 x 2.2 mm) as the reference and three thick objects —
    ``kind`` ``"coins"`` (16-24 mm across, 1.5-2.2 mm thick: all smaller than the
    reference) or ``"pills"`` (rounded rectangles 10-22 x 5-10 mm, 3-5 mm thick)
    — on light paper, 30-95 mm off the point below the camera, which is 250-400
    mm above the table, face-on or (``tilted``) tilted 5-10 deg. With ``dark_card``
    the same layout lies on a dark card (near-black or dark grey) and every
    object casts a soft shadow, as in the pill photos of ``../shared/realphotos``."""
    rng = np.random.default_rng([seed, 3, ["coins", "pills"].index(kind), int(tilted)])
    reference = Shape(
        "roundrect",
        (0, 0),
        (COIN_REFERENCE_MM / 2,) * 2,
        0.0,
        COIN_REFERENCE_MM / 2,
        COIN_REFERENCE_THICKNESS_MM,
    )
    for _ in range(50):
        shapes = [reference]
        for _ in range(3):
            if kind == "coins":
                r = rng.uniform(16, 24) / 2
                shapes.append(Shape("roundrect", (0, 0), (r, r), 0.0, r, rng.uniform(1.5, 2.2)))
            else:
                length = rng.uniform(10, 22)
                width = rng.uniform(5, min(10, 0.8 * length))
                corner = rng.uniform(1.5, width / 2)
                shapes.append(
                    Shape(
                        "roundrect",
                        (0, 0),
                        (length / 2, width / 2),
                        rng.uniform(0, np.pi),
                        corner,
                        rng.uniform(3, 5),
                    )
                )
        camera, placed = _overhead_layout(rng, shapes, tilted, 6.0, (30.0, 95.0))
        if placed is not None:
            break
    else:
        raise RuntimeError(f"no {kind} layout fits the photo (seed {seed})")
    colours = COIN_COLOURS if kind == "coins" else PILL_COLOURS
    painted = []
    for shape in placed:
        top = np.asarray(_pick(rng, COIN_COLOURS if shape is placed[0] else colours)) * rng.uniform(
            0.92, 1.05
        )
        dark = (
            rng.uniform(0.45, 0.6)
            if kind == "coins" or shape is placed[0]
            else rng.uniform(0.7, 0.8)
        )
        painted.append(
            Painted(
                shape,
                tuple(np.clip(top, 0, 1)),
                tuple(top * dark),
                mottle=0.05 if kind == "coins" else 0.015,
            )
        )
    effects = Effects(light_gradient=(rng.uniform(-0.08, 0.08), rng.uniform(-0.08, 0.08)))
    reference, objects = painted[0], tuple(painted[1:])
    if not dark_card:
        return render(camera, make_table(rng, "paper"), reference, objects, effects, rng)
    angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(1.5, 5.0)
    shadow = (length * np.cos(angle), length * np.sin(angle), rng.uniform(1.0, 3.0), 0.6)
    effects = replace(effects, shadow=shadow)
    return render(camera, make_table(rng, "dark"), reference, objects, effects, rng)


def dark_table_scene(seed: int, tilted: bool, sheen: bool = False) -> Scene:
    """An ID-1 card (flat, rounded corners) as the reference and three coins
    (16-26 mm across, 1.5-2.2 mm thick, their side walls seen) on a dark table
    (near-black or dark grey, or dark wood), soft cast shadows, the camera
    250-400 mm above, face-on or (``tilted``) tilted 5-10 deg: what an operator
    gets photographing coins beside a card on a dark desk. With ``sheen``
    each coin's face reflects the room: its light goes from 0.35-0.6 to
    1.4-1.65 times its colour across it, so that one side may fade into the table."""
    rng = np.random.default_rng([seed, 4, int(tilted)])
    sheen_rng = np.random.default_rng([seed, 5, int(tilted)])
    card = _card(rng)
    for _ in range(50):
        shapes = [card]
        for _ in range(3):
            r = rng.uniform(16, 26) / 2
            shapes.append(Shape("roundrect", (0, 0), (r, r), 0.0, r, rng.uniform(1.5, 2.2)))
        camera, placed = _overhead_layout(rng, shapes, tilted, 8.0)
        if placed is not None:
            break
    else:
        raise RuntimeError(f"no dark-table layout fits the photo (seed {seed})")
    table = make_table(rng, _pick(rng, ("dark", "dark wood")))
    painted = [Painted(placed[0], _pick(rng, DARK_TABLE_CARD_COLOURS), mottle=0.02)]
    for shape in placed[1:]:
        top = np.clip(np.asarray(_pick(rng, COIN_COLOURS)) * rng.uniform(0.92, 1.05), 0, 1)
        shine = (sheen_rng.uniform(0, 2 * np.pi), sheen_rng.uniform(0.4, 0.65)) if sheen else None
        painted.append(
            Painted(
                shape, tuple(top), tuple(top * rng.uniform(0.45, 0.6)), mottle=0.05, sheen=shine
            )
        )
    angle = rng.uniform(0, 2 * np.pi)
    length = rng.uniform(1.5, 5.0)
    effects = Effects(
        shadow=(length * np.cos(angle), length * np.sin(angle), rng.uniform(1.5, 4.0), 0.5),
        light_gradient=(rng.uniform(-0.08, 0.08), rng.uniform(-0.08, 0.08)),
    )
    return render(camera, table, painted[0], tuple(painted[1:]), effects, rng)
