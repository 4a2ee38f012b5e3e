"""The independent generator of ``bench/independent.py`` against closed-form geometry."""

from __future__ import annotations

import numpy as np

from bench.independent_scenes import (
    Effects,
    Painted,
    PinholeCamera,
    Shape,
    Table,
    look_at,
    render,
)

SIZE = (401, 301)
FOCAL = 350.0


def _camera(height_mm: float, tilt_deg: float = 0.0, k1: float = 0.0) -> PinholeCamera:
    tilt = np.radians(tilt_deg)
    centre = np.array([0.0, -height_mm * np.tan(tilt), height_mm])
    return PinholeCamera(FOCAL, SIZE, look_at(centre, np.zeros(3)), centre, k1)


def _render(camera: PinholeCamera, reference: Shape, thing: Shape):
    table = Table("plain", (0.85, 0.85, 0.85))
    return render(
        camera,
        table,
        Painted(reference, (0.2, 0.2, 0.6)),
        (Painted(thing, (0.8, 0.4, 0.2), (0.4, 0.2, 0.1)),),
        Effects(noise=0.0),
        np.random.default_rng(0),
    )


def test_rays_meet_the_table_where_projected_points_lie():
    camera = _camera(300.0, tilt_deg=30.0, k1=-0.1)
    points = np.array([[-60.0, 20.0, 0.0], [35.0, -40.0, 0.0], [0.0, 0.0, 0.0]])
    pixels = camera.project(points)
    x, y = camera.hit(camera.rays(pixels[:, 0], pixels[:, 1]), 0.0)
    assert np.allclose(np.column_stack([x, y]), points[:, :2], atol=1e-6)


def test_a_flat_disc_face_on_covers_its_area_in_pixels():
    height = 200.0
    radius = 20.0
    scene = _render(
        _camera(height),
        Shape("roundrect", (-60.0, 0.0), (12.0, 8.0), radius=1.0),
        Shape("roundrect", (40.0, 10.0), (radius, radius), radius=radius),
    )
    radius_px = radius * FOCAL / height
    area_px = int((scene.mask == 1).sum())
    assert abs(area_px / (np.pi * radius_px**2) - 1.0) < 0.01


def test_a_thick_coin_off_axis_spans_its_bottom_rim_and_its_nearer_top():
    height, thickness, radius, off_axis = 200.0, 3.0, 15.0, 60.0
    scene = _render(
        _camera(height),
        Shape("roundrect", (-60.0, 30.0), (12.0, 8.0), radius=1.0),
        Shape("roundrect", (off_axis, 0.0), (radius, radius), radius=radius, thickness=thickness),
    )
    row = scene.mask[int(scene.camera.principal[1])]
    columns = np.flatnonzero(row == 1) - scene.camera.principal[0]
    # The bottom rim's inner edge at the table's scale, the top's outer edge
    # nearer the camera (f / (h - t)): the silhouette spans both.
    inner = (off_axis - radius) * FOCAL / height
    outer = (off_axis + radius) * FOCAL / (height - thickness)
    assert abs((columns.min() - 0.5) - inner) < 1.0
    assert abs((columns.max() + 0.5) - outer) < 1.0
    span = columns.max() - columns.min() + 1
    assert span - 2 * radius * FOCAL / height > 1.5  # the wall and the nearer top: 2 px


def test_the_dark_table_scene_holds_a_card_and_three_coins_on_a_dark_table():
    import cv2

    from bench.independent_scenes import dark_table_scene

    for seed in range(3):
        scene = dark_table_scene(seed, tilted=False)
        luma = scene.photo.mean(axis=2)
        assert np.median(luma[scene.mask == 0]) < 0.3 * 255
        count, _ = cv2.connectedComponents((scene.mask == 1).astype(np.uint8))
        assert count - 1 == len(scene.objects) == 3
        # The flat card's pixels cover its outline's projected area (rounded
        # corners taken off), as seen face-on.
        card = scene.reference
        (u, v), c, s = card.half, np.cos(card.angle), np.sin(card.angle)
        corners = [
            (card.centre[0] + c * x - s * y, card.centre[1] + s * x + c * y, 0.0)
            for x, y in ((-u, -v), (u, -v), (u, v), (-u, v))
        ]
        area_px = abs(cv2.contourArea(scene.camera.project(np.array(corners)).astype(np.float32)))
        rounding = (4 - np.pi) * card.radius**2 / (4 * u * v)
        assert abs((scene.mask == 2).sum() / (area_px * (1 - rounding)) - 1.0) < 0.01


def test_a_metal_sheen_lights_one_side_of_a_coin_more_than_the_other():
    camera = _camera(200.0)
    coin = Shape("roundrect", (40.0, 0.0), (15.0, 15.0), radius=15.0)
    scene = render(
        camera,
        Table("plain", (0.2, 0.2, 0.2)),
        Painted(Shape("roundrect", (-60.0, 0.0), (12.0, 8.0), radius=1.0), (0.9, 0.9, 0.9)),
        (Painted(coin, (0.6, 0.6, 0.6), sheen=(0.0, 0.5)),),
        Effects(noise=0.0),
        np.random.default_rng(0),
    )
    row = scene.photo[int(camera.principal[1]), :, 0].astype(float)
    columns = np.flatnonzero(scene.mask[int(camera.principal[1])] == 1)
    left, right = row[columns[2]], row[columns[-3]]
    # Light 1 + 0.5 t across the face: about 0.5x the colour at one edge, 1.5x at the other.
    assert 2.5 < right / left < 3.5
