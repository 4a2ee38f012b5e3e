"""A batch decodes a photo's full-size pixels only when something needs them.

A segmenter that sends the file as it is (a SageMaker endpoint given a
camera's JPEG) needs only the photo's size; the proportional method with a
reference from the mask needs only the mask; the annotated picture is then
drawn on a copy decoded at a reduced size. The results must not change.
"""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from objlen import MeasureOptions, ReferenceSpec
from objlen.batch.pacing import cores
from objlen.batch.photo import PhotoWork, measure_photo
from objlen.batch.runner import run_batch
from objlen.errors import ImageReadError, SegmentationError
from objlen.imageio import encode_jpeg, load_image
from objlen.segment.base import Segmentation
from objlen.testing.synthetic import Camera, random_scene


class Precomputed:
    """Returns a known mask; remembers the photo array it was given."""

    name = "precomputed"
    uses_source_bytes = True

    def __init__(self, mask: np.ndarray, sends: bool) -> None:
        self.mask = mask
        self.sends = sends
        self.seen: list[np.ndarray] = []

    def segment(self, image_rgb: np.ndarray, *, source_bytes: bytes | None = None):
        self.seen.append(image_rgb)
        assert image_rgb.shape[:2] == self.mask.shape
        return Segmentation(mask=self.mask, backend=self.name)


class Sending(Precomputed):
    """... and says it sends the file unchanged (as the SageMaker segmenter can)."""

    def sends_source_bytes(self, source_bytes: bytes, size: tuple[int, int]) -> bool:
        return self.sends


@pytest.fixture(scope="module")
def scene():
    return random_scene(
        np.random.default_rng(3),
        shape="ellipse",
        tilt_deg=0.0,
        mask_noise_px=0.0,
        camera=Camera(width=2400, height=1800, focal_px=2550.0),
        supersample=1,
    )


def _work(method: str = "proportional") -> PhotoWork:
    options = MeasureOptions(method=method, reference=ReferenceSpec(size=(85.6, 54.0)))
    return PhotoWork(
        options=options.validated(),
        key="k",
        segmenter_name="s",
        annotate=True,
        annotate_max_side=800,
    )


def test_a_photo_sent_as_it_is_is_not_decoded_and_measures_the_same(scene):
    data = encode_jpeg(scene.image, quality=92)
    decoded = Precomputed(scene.mask, sends=True)
    sent = Sending(scene.mask, sends=True)
    full, full_picture = measure_photo("p.jpg", data, "d", _work(), decoded)
    lean, lean_picture = measure_photo("p.jpg", data, "d", _work(), sent)
    # The full photo went to the first; the second got a stand-in holding no pixels.
    assert decoded.seen[0].strides[0] > 0
    assert sent.seen[0].strides[:2] == (0, 0) and sent.seen[0].shape == scene.image.shape
    for key in ("width", "height", "width_u", "height_u", "objects", "scale", "warnings"):
        assert lean[key] == full[key], key
    # The picture: the same size, drawn on a copy decoded at 1/2 (libjpeg's scaling).
    first = np.asarray(Image.open(io.BytesIO(full_picture)))
    second = np.asarray(Image.open(io.BytesIO(lean_picture)))
    assert first.shape == second.shape and first.shape[1] == 800
    assert np.abs(first.astype(int) - second).mean() < 3.0


@pytest.mark.parametrize(
    ("sends", "method"), [(False, "proportional"), (True, "homography")], ids=["reencoded", "homog"]
)
def test_the_photo_is_decoded_when_something_needs_its_pixels(scene, sends, method):
    data = encode_jpeg(scene.image, quality=92)
    segmenter = Sending(scene.mask, sends=sends)
    measure_photo("p.jpg", data, "d", _work(method), segmenter)
    seen = segmenter.seen[0]
    assert seen.strides[0] > 0
    assert np.array_equal(seen, load_image(data))


class SlowCounting(Sending):
    """A :class:`Sending` that takes 0.2 s a call and counts the most calls at once."""

    def __init__(self, mask: np.ndarray, sends: bool, counter: dict[str, int]) -> None:
        super().__init__(mask, sends)
        self.counter = counter

    def segment(self, image_rgb: np.ndarray, *, source_bytes: bytes | None = None):
        with self.counter["lock"]:
            self.counter["now"] += 1
            self.counter["most"] = max(self.counter["most"], self.counter["now"])
        time.sleep(0.2)
        with self.counter["lock"]:
            self.counter["now"] -= 1
        return super().segment(image_rgb, source_bytes=source_bytes)


@pytest.mark.parametrize(("sends", "most"), [(True, 4), (False, 1)], ids=["sent", "decoded"])
def test_photos_not_decoded_cost_the_budget_less(scene, tmp_path, sends, most):
    """A 4.3 MP photo costs 104 MB of the budget when it is decoded (24 B/px)
    and 35 MB when it is sent as it is (8 B/px): a 150 MB budget runs four of
    these at once, or one of those."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(4):  # four different files (the same bytes would be copied)
        photo = scene.image.copy()
        photo[:8, :8] = 10 * index
        (folder / f"{index}.jpg").write_bytes(encode_jpeg(photo, quality=92))
    counter = {"now": 0, "most": 0, "lock": threading.Lock()}
    report = run_batch(
        [folder],
        tmp_path / "out",
        options=_work().options,
        segmenter_factory=lambda: SlowCounting(scene.mask, sends, counter),
        concurrency=4,
        memory_budget_bytes=150 * 2**20,
    )
    assert report.ok == 4, report.failures
    assert counter["most"] == most


class Waiting(Sending):
    """A :class:`Sending` that waits 0.3 s (an endpoint's model) and notes when."""

    def __init__(self, mask: np.ndarray, fail: bool = False) -> None:
        super().__init__(mask, sends=True)
        self.fail = fail
        self.window: tuple[float, float] | None = None

    def segment(self, image_rgb: np.ndarray, *, source_bytes: bytes | None = None):
        start = time.perf_counter()
        time.sleep(0.3)
        self.window = (start, time.perf_counter())
        if self.fail:
            raise SegmentationError("the endpoint failed (a test)")
        return super().segment(image_rgb, source_bytes=source_bytes)


def test_the_annotated_pictures_copy_is_decoded_while_the_segmenter_waits(scene, monkeypatch):
    import objlen.batch.photo as photo_module

    decodes: list[tuple[str, float]] = []
    real = photo_module.load_preview

    def noted(data: bytes, max_side: int):
        decodes.append((threading.current_thread().name, time.perf_counter()))
        return real(data, max_side)

    monkeypatch.setattr(photo_module, "load_preview", noted)
    data = encode_jpeg(scene.image, quality=92)
    segmenter = Waiting(scene.mask)
    record, picture = measure_photo("p.jpg", data, "d", _work(), segmenter)

    assert record["status"] == "ok" and picture is not None
    [(thread, started)] = decodes
    assert thread != threading.current_thread().name
    assert segmenter.window is not None and started < segmenter.window[1]
    expected, _ = measure_photo("p.jpg", data, "d", _work(), Sending(scene.mask, sends=True))
    assert record["width"] == expected["width"] and record["height"] == expected["height"]


def test_a_failing_segmenter_or_photo_while_the_copy_is_decoded_is_an_error(scene):
    data = encode_jpeg(scene.image, quality=92)
    with pytest.raises(SegmentationError, match="a test"):
        measure_photo("p.jpg", data, "d", _work(), Waiting(scene.mask, fail=True))
    cut = data[: len(data) // 2]  # the whole header, half the pixels
    with pytest.raises(ImageReadError, match="truncated or corrupt"):
        measure_photo("p.jpg", cut, "d", _work(), Sending(scene.mask, sends=True))


class Together(Sending):
    """A :class:`Sending` whose answers all come at once (a barrier of ``parties``)."""

    def __init__(self, mask: np.ndarray, barrier: threading.Barrier) -> None:
        super().__init__(mask, sends=True)
        self.barrier = barrier

    def segment(self, image_rgb: np.ndarray, *, source_bytes: bytes | None = None):
        self.barrier.wait(timeout=30)
        return super().segment(image_rgb, source_bytes=source_bytes)


def test_photos_answered_together_compute_one_per_core(scene, tmp_path, monkeypatch):
    import objlen.batch.photo as photo_module

    drawing = {"now": 0, "most": 0}
    lock = threading.Lock()
    real = photo_module.annotated_image

    def counted(*args, **kwargs):
        with lock:
            drawing["now"] += 1
            drawing["most"] = max(drawing["most"], drawing["now"])
        try:
            time.sleep(0.05)  # long enough for the others to come in, if they may
            return real(*args, **kwargs)
        finally:
            with lock:
                drawing["now"] -= 1

    monkeypatch.setattr(photo_module, "annotated_image", counted)
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(8):
        photo = scene.image.copy()
        photo[:8, :8] = 10 * index
        (folder / f"{index}.jpg").write_bytes(encode_jpeg(photo, quality=92))
    barrier = threading.Barrier(8)
    report = run_batch(
        [folder],
        tmp_path / "out",
        options=_work().options,
        segmenter_factory=lambda: Together(scene.mask, barrier),
        concurrency=8,
    )
    assert report.ok == 8, report.failures
    assert 1 <= drawing["most"] <= cores()
