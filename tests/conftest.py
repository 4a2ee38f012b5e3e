"""Shared fixtures, and the CI rule that nothing may be skipped."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from hypothesis import settings

# The AWS fixtures (a local endpoint server over HTTP, dummy credentials) serve
# the tests of several wings: batch/, sagemaker/, segment/, serverless/.
from tests.aws_servers import (  # noqa: F401 - fixtures
    aws_env,
    endpoint,
    no_credentials,
    segmenter,
    small_photo,
)

# In CI the property tests draw the same examples every run, so a run's
# verdict does not depend on luck; locally they explore new ones each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def data_root_is_the_test_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """The app's data root (``OBJLEN_DATA_ROOT``) is the folder of this run's
    temporary folders, so the paths the tests give the app lie inside it; a
    test of the data root itself sets its own."""
    monkeypatch.setenv("OBJLEN_DATA_ROOT", str(tmp_path_factory.getbasetemp()))
    monkeypatch.delenv("OBJLEN_ALLOW_ANONYMOUS", raising=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test means something was not installed: fail the run."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"CI: {len(skipped)} test(s) were skipped; in CI that is a failure", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def draw_mask(
    shape: tuple[int, int],
    objects: list[tuple[int, int, int, int]],
    reference: tuple[int, int, int, int] | None,
) -> np.ndarray:
    """A mask with axis-aligned rectangles given as inclusive pixel ranges
    ``(x0, y0, x1, y1)``: class 1 for objects, class 2 for the reference."""
    mask = np.zeros(shape, np.uint8)
    for x0, y0, x1, y1 in objects:
        mask[y0 : y1 + 1, x0 : x1 + 1] = 1
    if reference is not None:
        x0, y0, x1, y1 = reference
        mask[y0 : y1 + 1, x0 : x1 + 1] = 2
    return mask


def rotated_rectangle_mask(
    shape: tuple[int, int],
    centre: tuple[float, float],
    size: tuple[float, float],
    angle_deg: float,
    value: int = 1,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Draw a rotated filled rectangle: a pixel is in when more than half of
    its square is covered (8x super-sampling)."""
    mask = np.zeros(shape, np.uint8) if mask is None else mask
    factor, shift = 8, 4
    corners = cv2.boxPoints((centre, size, angle_deg)) * factor + (factor - 1) / 2
    big = np.zeros((shape[0] * factor, shape[1] * factor), np.uint8)
    cv2.fillPoly(
        big,
        [np.round(corners * (1 << shift)).astype(np.int32)],
        255,
        lineType=cv2.LINE_8,
        shift=shift,
    )
    coverage = cv2.resize(big, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    mask[coverage > 127] = value
    return mask


@pytest.fixture
def simple_mask() -> np.ndarray:
    """Object columns 150..349, rows 100..199 (200 x 100 px); reference
    columns 20..119, rows 20..59 (100 x 40 px)."""
    return draw_mask((300, 400), [(150, 100, 349, 199)], (20, 20, 119, 59))
