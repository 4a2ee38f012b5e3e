"""A ChArUco board as the reference: its specification, objlen's printable mat,
detection, and the fit of the plane.

* :class:`BoardSpec` is a ChArUco board: ``COLS x ROWS`` chessboard squares
  of side ``square`` (mm) with ArUco markers of side ``marker`` (mm) from
  ``dictionary`` in the white squares, their ids counting from ``first_id``.
  Written ``charuco:COLSxROWS:SQUARE:MARKER:DICT[:FIRST_ID]``
  (:func:`parse_board`); ``mat`` names objlen's own mats (:data:`MAT_BOARDS`).
* The mat (:func:`mat_pdf_bytes`) is such a board printed on A4, Letter or A3
  with its middle squares left blank: objects go there, the corners around
  them are the reference. The PDF is exact in size; a 100 mm bar checks the
  print, and the board's specification is printed on it.
* :func:`detect_board` finds the visible chessboard corners (OpenCV's
  ``CharucoDetector``); :func:`fit_board` fits the plane-to-photo mapping
  over all of them, rejecting outliers: a homography and, unless a camera
  profile is given, the lens's radial distortion ``k1`` (the board's straight
  lines show it). The result is four virtual correspondences: the board's
  outer corners and where the fit puts them in the photo, with a standard
  uncertainty from the fit's covariance, so the rest of objlen measures as
  with any rectangular reference.

Coordinates: board points ``(X, Y)`` in mm with the origin at the board's
top-left outer corner, X along its columns and Y along its rows (as OpenCV
draws it: Y down); photo points ``(x, y)`` px, pixel centres at integers.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from objlen.camera import CameraProfile, half_diagonal_px, radial_profile
from objlen.errors import ParameterError, ReferenceNotFoundError
from objlen.reference import ARUCO_DICTIONARIES, order_corners
from objlen.units import convert, parse_length

# --------------------------------------------------------------------------- the mat
#: Paper sizes ``(width, height)`` in mm, portrait.
PAPERS: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "Letter": (215.9, 279.4),
    "A3": (297.0, 420.0),
}
#: Squares the mat's board has across and down.
MAT_SQUARES = (12, 16)
#: Width of the printed ring of squares around the mat's empty middle, in squares.
MAT_RING_SQUARES = 2
#: Blank paper above the board (mm); the bar and the text go below it.
MAT_TOP_MARGIN_MM = 10.0
#: Length of the print check bar, mm.
CHECK_BAR_MM = 100.0
CHECK_BAR_THICKNESS_MM = 2.0
CHECK_BAR_TEXT = "print at 100 %: this bar must measure 100 mm"
MM_PER_POINT = 25.4 / 72.0

# --------------------------------------------------------------------------- the fit
#: RANSAC threshold of the first homography, as a share of the image diagonal:
#: loose, because an uncalibrated lens bends the board's lines by pixels.
RANSAC_SHARE_OF_DIAGONAL = 0.01
#: A corner whose residual exceeds this many robust sigmas is an outlier...
OUTLIER_SIGMAS = 4.0
#: ...or this many pixels, whichever is larger.
OUTLIER_FLOOR_PX = 0.25
#: Fewest corners a fit accepts.
MIN_CORNERS = 8
#: The corners used must span at least this share of the board's area.
MIN_SPAN_SHARE = 0.05
#: Smallest residual standard deviation assumed for a corner, px (subpixel
#: refinement is not better than this on real photos).
CORNER_NOISE_FLOOR_PX = 0.05
#: Gauss-Newton / Levenberg-Marquardt iterations and step tolerance.
FIT_ITERATIONS = 30
FIT_TOLERANCE = 1e-10
#: The focal length is estimated from the board's homography only when the
#: board is tilted at least this much (face-on, the focal length does not
#: show); beyond it, the estimate's relative spread is a few percent.
MIN_TILT_FOR_FOCAL_DEG = 12.0


@dataclass(frozen=True)
class BoardSpec:
    """A ChArUco board. Lengths in mm.

    Attributes:
        columns, rows: chessboard squares across (X) and down (Y).
        square_mm: side of a chessboard square.
        marker_mm: side of an ArUco marker's black square (less than ``square_mm``).
        dictionary: the ArUco dictionary, e.g. ``DICT_5X5_250``.
        first_id: id of the first marker; the others follow in OpenCV's order.
        name: for people (``"mat A4"``, or the spec's text).
    """

    columns: int
    rows: int
    square_mm: float
    marker_mm: float
    dictionary: str
    first_id: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        if self.columns < 2 or self.rows < 2 or self.columns * self.rows < 5:
            raise ParameterError(
                f"a ChArUco board needs at least 2x2 squares (and 5 in all); got "
                f"{self.columns}x{self.rows}"
            )
        for value, what in ((self.square_mm, "square"), (self.marker_mm, "marker")):
            if not (math.isfinite(value) and value > 0):
                raise ParameterError(f"the board's {what} side must be positive, got {value}")
        if self.marker_mm >= self.square_mm:
            raise ParameterError(
                f"the board's markers ({self.marker_mm:g} mm) must be smaller than its squares "
                f"({self.square_mm:g} mm)"
            )
        if self.dictionary not in ARUCO_DICTIONARIES:
            raise ParameterError(
                f"unknown ArUco dictionary {self.dictionary!r}; use e.g. DICT_5X5_250 or "
                "DICT_4X4_50"
            )
        available = self._dictionary().bytesList.shape[0]
        if self.first_id < 0 or self.first_id + self.marker_count > available:
            raise ParameterError(
                f"the board needs marker ids {self.first_id}.."
                f"{self.first_id + self.marker_count - 1} but {self.dictionary} has only "
                f"0..{available - 1}; use a larger dictionary"
            )

    @property
    def marker_count(self) -> int:
        """How many markers the board holds (one per white square)."""
        return self.columns * self.rows // 2

    @property
    def size_mm(self) -> tuple[float, float]:
        """``(width, height)`` of the chessboard, mm: X along columns, Y along rows."""
        return (self.columns * self.square_mm, self.rows * self.square_mm)

    def text(self) -> str:
        """The specification as :func:`parse_board` reads it."""
        text = (
            f"charuco:{self.columns}x{self.rows}:{self.square_mm:g}mm:{self.marker_mm:g}mm:"
            f"{self.dictionary}"
        )
        return text + (f":{self.first_id}" if self.first_id else "")

    def _dictionary(self) -> cv2.aruco.Dictionary:
        return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))

    def cv_board(self) -> cv2.aruco.CharucoBoard:
        """OpenCV's board, lengths in mm."""
        ids = np.arange(self.first_id, self.first_id + self.marker_count, dtype=np.int32)
        return cv2.aruco.CharucoBoard(
            (self.columns, self.rows), self.square_mm, self.marker_mm, self._dictionary(), ids
        )

    def corner_points_mm(self) -> np.ndarray:
        """``(N, 2)`` board coordinates of the inner chessboard corners, by corner id."""
        return np.asarray(self.cv_board().getChessboardCorners(), dtype=np.float64)[:, :2]

    def outer_corners_mm(self) -> np.ndarray:
        """The board's four outer corners, ``(4, 2)``: top-left, top-right, bottom-right,
        bottom-left in board coordinates."""
        width, height = self.size_mm
        return np.array([[0.0, 0.0], [width, 0.0], [width, height], [0.0, height]])


def _mat_board(square_mm: float, marker_mm: float, first_id: int, name: str) -> BoardSpec:
    columns, rows = MAT_SQUARES
    return BoardSpec(columns, rows, square_mm, marker_mm, "DICT_5X5_250", first_id, name)


#: objlen's mats. A4 and Letter share one board (180 x 240 mm); A3's is 1.5
#: times larger with other marker ids, so a photo tells which mat it shows.
MAT_BOARDS: dict[str, BoardSpec] = {
    "A4": _mat_board(15.0, 11.0, 0, "mat A4/Letter"),
    "Letter": _mat_board(15.0, 11.0, 0, "mat A4/Letter"),
    "A3": _mat_board(22.5, 16.5, 100, "mat A3"),
}

_CHARUCO = re.compile(
    r"^charuco:(\d+)[xX](\d+):([^:]+):([^:]+):(DICT_\w+)(?::(\d+))?$", re.IGNORECASE
)


def parse_board(text: str) -> tuple[BoardSpec, ...]:
    """The board(s) a ``--board`` value names.

    ``charuco:COLSxROWS:SQUARE:MARKER:DICT[:FIRST_ID]`` (SQUARE and MARKER
    in mm, or with a unit suffix such as ``0.6in``); ``mat`` (any of objlen's
    mats: the photo tells which); ``mat:A4``, ``mat:Letter``, ``mat:A3``.

    Raises:
        ParameterError: the text names no board, with the accepted forms.
    """
    value = text.strip()
    if value.lower() == "mat":
        return tuple(dict.fromkeys(MAT_BOARDS.values()))
    if value.lower().startswith("mat:"):
        paper = _paper(value[4:])
        return (MAT_BOARDS[paper],)
    match = _CHARUCO.match(value)
    if not match:
        raise ParameterError(
            f"--board {text!r} is not a board: use mat, mat:A4|Letter|A3, or "
            "charuco:COLSxROWS:SQUARE:MARKER:DICT (e.g. charuco:12x16:15mm:11mm:DICT_5X5_250)"
        )
    columns, rows, square, marker, dictionary, first = match.groups()
    return (
        BoardSpec(
            int(columns),
            int(rows),
            parse_length(square, "mm", what="the board's square side"),
            parse_length(marker, "mm", what="the board's marker side"),
            dictionary.upper(),
            int(first or 0),
            name=value,
        ),
    )


def _paper(name: str) -> str:
    for paper in PAPERS:
        if paper.lower() == name.strip().lower():
            return paper
    raise ParameterError(f"unknown paper {name!r}; use one of {', '.join(PAPERS)}")


def mat_ring_mask(spec: BoardSpec) -> np.ndarray:
    """``(rows, columns)`` bool: the squares a mat prints (True) around its empty middle."""
    keep = np.ones((spec.rows, spec.columns), dtype=bool)
    ring = MAT_RING_SQUARES
    keep[ring : spec.rows - ring, ring : spec.columns - ring] = False
    return keep


def board_image(spec: BoardSpec, px_per_mm: float, *, mat: bool = False) -> np.ndarray:
    """The board as OpenCV draws it, ``(rows*square*px_per_mm, cols*...)`` uint8, 255 white.

    ``mat``: the middle squares blanked as on objlen's mat. The image covers
    exactly the chessboard (no margin): pixel ``(i, j)`` covers board
    ``[i, i+1] x [j, j+1] / px_per_mm`` mm.
    """
    width_mm, height_mm = spec.size_mm
    size = (round(width_mm * px_per_mm), round(height_mm * px_per_mm))
    image = spec.cv_board().generateImage(size, marginSize=0, borderBits=1)
    if mat:
        keep = mat_ring_mask(spec)
        square = spec.square_mm * px_per_mm
        for row, column in zip(*np.nonzero(~keep), strict=True):
            y0, y1 = round(row * square), round((row + 1) * square)
            x0, x1 = round(column * square), round((column + 1) * square)
            image[y0:y1, x0:x1] = 255
    return image


def board_rectangles_mm(spec: BoardSpec, *, mat: bool = False) -> list[tuple[float, ...]]:
    """The board's ink as black rectangles ``(x0, y0, x1, y1)`` in board mm (Y down).

    The chessboard's black squares (those without a marker, as OpenCV lays
    the board out) and each marker's black cells, a row's neighbouring
    cells merged. ``mat``: the middle squares left out, as on objlen's mat.
    """
    board = spec.cv_board()
    square = spec.square_mm
    keep = mat_ring_mask(spec) if mat else np.ones((spec.rows, spec.columns), dtype=bool)
    dictionary = board.getDictionary()
    cells = dictionary.markerSize + 2
    cell = spec.marker_mm / cells
    holds_marker = np.zeros_like(keep)
    rectangles: list[tuple[float, ...]] = []
    for marker_id, corners in zip(board.getIds().ravel(), board.getObjPoints(), strict=True):
        x0, y0 = (float(v) for v in np.asarray(corners)[0, :2])
        column, row = int(x0 // square), int(y0 // square)
        holds_marker[row, column] = True
        if not keep[row, column]:
            continue
        bits = dictionary.generateImageMarker(int(marker_id), cells, borderBits=1) < 128
        for r in range(cells):
            padded = np.concatenate([[False], bits[r], [False]]).astype(np.int8)
            edges = np.flatnonzero(np.diff(padded))
            for start, stop in zip(edges[::2], edges[1::2], strict=True):
                rectangles.append(
                    (x0 + start * cell, y0 + r * cell, x0 + stop * cell, y0 + (r + 1) * cell)
                )
    for row, column in zip(*np.nonzero(keep & ~holds_marker), strict=True):
        rectangles.append(
            (column * square, row * square, (column + 1) * square, (row + 1) * square)
        )
    return rectangles


@dataclass(frozen=True)
class MatLayout:
    """Where things go on a mat's page, mm from the page's top-left corner.

    Attributes:
        paper: ``A4``, ``Letter`` or ``A3``; page: its ``(width, height)``.
        spec: the board; board_origin: its top-left outer corner on the page.
        bar_origin: left end of the check bar (its top edge); the bar is
            ``CHECK_BAR_MM`` long and ``CHECK_BAR_THICKNESS_MM`` thick.
        text_top: top of the first text line below the bar.
    """

    paper: str
    page: tuple[float, float]
    spec: BoardSpec
    board_origin: tuple[float, float]
    bar_origin: tuple[float, float]
    text_top: float


def mat_layout(paper: str) -> MatLayout:
    """The layout of the mat for ``paper`` (``A4``, ``Letter`` or ``A3``)."""
    paper = _paper(paper)
    page_w, page_h = PAPERS[paper]
    spec = MAT_BOARDS[paper]
    board_w, board_h = spec.size_mm
    origin = ((page_w - board_w) / 2.0, MAT_TOP_MARGIN_MM)
    below = origin[1] + board_h
    bar = ((page_w - CHECK_BAR_MM) / 2.0, below + 9.0)
    return MatLayout(paper, (page_w, page_h), spec, origin, bar, bar[1] + 8.0)


def mat_text_lines(layout: MatLayout) -> list[str]:
    """The words printed under the bar (the spec is the second line)."""
    return [
        f"objlen measuring mat, {layout.paper}: lay objects flat in the empty middle, "
        "photograph the whole mat",
        f"board {layout.spec.text()}",
        "python -m objlen measure PHOTO --board mat",
    ]


def mat_pdf_bytes(paper: str) -> bytes:
    """The printable mat for ``paper`` as a one-page PDF of exactly the paper's size.

    The board is drawn as vector rectangles (:func:`board_rectangles_mm`) at
    its exact size; the 100 mm check bar is a filled rectangle; the board's
    specification is printed as text (and stored as the PDF's subject).
    """
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    layout = mat_layout(paper)
    page_w, page_h = layout.page
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(page_w * mm, page_h * mm), pageCompression=1, invariant=1)
    pdf.setAuthor("objlen")
    pdf.setTitle(f"objlen measuring mat ({layout.paper})")
    pdf.setSubject(layout.spec.text())
    pdf.setCreator("objlen")
    x0, y0 = layout.board_origin

    def y_up(y_mm: float) -> float:
        return (page_h - y_mm) * mm

    pdf.setFillColorRGB(0, 0, 0)
    for left, top, right, bottom in board_rectangles_mm(layout.spec, mat=True):
        pdf.rect(
            (x0 + left) * mm,
            y_up(y0 + bottom),
            (right - left) * mm,
            (bottom - top) * mm,
            stroke=0,
            fill=1,
        )
    bar_x, bar_y = layout.bar_origin
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont("Helvetica", 8)
    pdf.drawCentredString(page_w / 2 * mm, y_up(bar_y - 2.0), CHECK_BAR_TEXT)
    pdf.rect(
        bar_x * mm,
        y_up(bar_y + CHECK_BAR_THICKNESS_MM),
        CHECK_BAR_MM * mm,
        CHECK_BAR_THICKNESS_MM * mm,
        stroke=0,
        fill=1,
    )
    for k, line in enumerate(mat_text_lines(layout)):
        pdf.setFont("Helvetica-Bold" if k == 1 else "Helvetica", 8)
        pdf.drawCentredString(page_w / 2 * mm, y_up(layout.text_top + 4.0 * k + 3.0), line)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --------------------------------------------------------------------------- detection
@dataclass(frozen=True)
class BoardDetection:
    """The chessboard corners found in a photo.

    Attributes:
        spec: which board.
        image_points: ``(N, 2)`` photo points ``(x, y)`` px.
        board_points: ``(N, 2)`` the same corners on the board ``(X, Y)`` mm.
        ids: ``(N,)`` OpenCV's corner ids.
        markers: how many of the board's markers were found.
    """

    spec: BoardSpec
    image_points: np.ndarray
    board_points: np.ndarray
    ids: np.ndarray
    markers: int


def _detector_parameters() -> cv2.aruco.DetectorParameters:
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
    return parameters


def detect_board(image_rgb: np.ndarray, specs: Sequence[BoardSpec]) -> BoardDetection:
    """The visible chessboard corners of whichever of ``specs`` shows most.

    Raises:
        ReferenceNotFoundError: no board's corners found.
    """
    gray = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY) if image_rgb.ndim == 3 else image_rgb
    best: BoardDetection | None = None
    for spec in dict.fromkeys(specs):
        board = spec.cv_board()
        detector = cv2.aruco.CharucoDetector(
            board, cv2.aruco.CharucoParameters(), _detector_parameters()
        )
        corners, ids, _, marker_ids = detector.detectBoard(gray)
        if ids is None or len(ids) == 0:
            continue
        ids = ids.ravel().astype(int)
        found = BoardDetection(
            spec=spec,
            image_points=corners.reshape(-1, 2).astype(np.float64),
            board_points=spec.corner_points_mm()[ids],
            ids=ids,
            markers=0 if marker_ids is None else len(marker_ids),
        )
        if best is None or len(found.ids) > len(best.ids):
            best = found
    if best is None:
        names = ", ".join(dict.fromkeys(spec.name or spec.text() for spec in specs))
        raise ReferenceNotFoundError(
            f"no ChArUco board ({names}) found in the photo: check --board, that the "
            "board is in focus and not cut off, and that the light shows its markers"
        )
    return best


# --------------------------------------------------------------------------- the fit
@dataclass(frozen=True)
class BoardFit:
    """The plane fitted over a board's corners.

    Attributes:
        spec: the board.
        homography: ``(3, 3)`` board mm -> ideal (undistorted) photo px.
        lens: the lens model photo px -> ideal px the fit used: the camera
            profile given, or the radial distortion the fit estimated.
        k1, k1_sigma: the estimated radial distortion (normalised by half the
            image diagonal) and its standard uncertainty; None with a profile.
        image_corners: ``(4, 2)`` photo points of the board's outer corners,
            ordered top-left, top-right, bottom-right, bottom-left in the photo.
        board_corners: ``(4, 2)`` the same corners on the board, mm.
        corner_sigma_px: standard uncertainty of each virtual corner
            coordinate: the largest per-coordinate sigma the fit's covariance gives.
        rms_px: reprojection RMS of the corners used, px.
        used, found: corners used by the fit, and found in the photo.
        focal_px: focal length estimated from the homography (principal point
            at the image centre), when the board is tilted enough; else None.
    """

    spec: BoardSpec
    homography: np.ndarray
    lens: CameraProfile | None
    k1: float | None
    k1_sigma: float | None
    image_corners: np.ndarray
    board_corners: np.ndarray
    corner_sigma_px: float
    rms_px: float
    used: int
    found: int
    focal_px: float | None

    @property
    def plane_size_mm(self) -> tuple[float, float]:
        """``(W, H)`` mm: W along the photo's top side of the board, H along its left side."""
        tl, tr, _, bl = self.board_corners
        return (float(np.linalg.norm(tr - tl)), float(np.linalg.norm(bl - tl)))

    def plane_corners(self, unit: str) -> np.ndarray:
        """``(0,0), (W,0), (W,H), (0,H)`` in ``unit``, matching :attr:`image_corners`."""
        width, height = (convert(v, "mm", unit) for v in self.plane_size_mm)
        return np.array([[0.0, 0.0], [width, 0.0], [width, height], [0.0, height]])


def _project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    mapped = points @ h[:, :2].T + h[:, 2]
    return mapped[:, :2] / mapped[:, 2:3]


class _Model:
    """Board (normalised) -> photo: a homography, then radial distortion ``k1``.

    Parameters: the homography's 8 free entries (``h33 = 1``) and, when
    ``with_k1``, ``k1`` normalised by ``radius`` about ``centre``.
    """

    def __init__(self, centre: np.ndarray, radius: float, with_k1: bool) -> None:
        self.centre = centre
        self.radius = radius
        self.with_k1 = with_k1

    def homography(self, params: np.ndarray) -> np.ndarray:
        return np.append(params[:8], 1.0).reshape(3, 3)

    def __call__(self, params: np.ndarray, points: np.ndarray) -> np.ndarray:
        ideal = _project(self.homography(params), points)
        if not self.with_k1:
            return ideal
        offset = ideal - self.centre
        r2 = np.sum(offset**2, axis=1) / self.radius**2
        return self.centre + offset * (1.0 + params[8] * r2)[:, None]

    def jacobian(self, params: np.ndarray, points: np.ndarray) -> np.ndarray:
        """``(2N, P)`` central-difference Jacobian of the stacked ``(x, y)`` outputs."""
        steps = 1e-6 * np.maximum(np.abs(params), 1e-3)
        columns = []
        for k, step in enumerate(steps):
            up, down = params.copy(), params.copy()
            up[k] += step
            down[k] -= step
            columns.append((self(up, points) - self(down, points)).ravel() / (2 * step))
        return np.column_stack(columns)


def _levenberg_marquardt(
    model: _Model, params: np.ndarray, points: np.ndarray, observed: np.ndarray
) -> np.ndarray:
    damping = 1e-3
    cost = float(np.sum((model(params, points) - observed) ** 2))
    for _ in range(FIT_ITERATIONS):
        residual = (observed - model(params, points)).ravel()
        jac = model.jacobian(params, points)
        normal = jac.T @ jac
        gradient = jac.T @ residual
        while True:
            step = np.linalg.solve(normal + damping * np.diag(np.diag(normal)), gradient)
            trial = params + step
            trial_cost = float(np.sum((model(trial, points) - observed) ** 2))
            if trial_cost <= cost:
                damping = max(damping / 10.0, 1e-12)
                break
            damping *= 10.0
            if damping > 1e12:
                return params
        converged = cost - trial_cost <= FIT_TOLERANCE * max(cost, 1e-12)
        params, cost = trial, trial_cost
        if converged:
            break
    return params


def _normaliser(points: np.ndarray) -> np.ndarray:
    """A similarity moving ``points`` to mean 0 and mean distance sqrt(2) (Hartley)."""
    mean = points.mean(axis=0)
    spread = np.mean(np.linalg.norm(points - mean, axis=1)) or 1.0
    scale = math.sqrt(2.0) / spread
    return np.array([[scale, 0.0, -scale * mean[0]], [0.0, scale, -scale * mean[1]], [0, 0, 1.0]])


def fit_board(
    detection: BoardDetection,
    image_size: tuple[int, int],
    camera: CameraProfile | None = None,
) -> BoardFit:
    """Fit the board's plane over all its detected corners.

    A RANSAC homography picks the first inliers; then a least-squares fit in
    photo pixels (with the lens's radial ``k1`` unless ``camera`` is given,
    whose distortion is then removed from the corners first) alternates with
    rejecting corners beyond ``OUTLIER_SIGMAS`` robust sigmas, until no
    corner changes side. The covariance of the parameters (residual variance
    times ``(J^T J)^-1``) is propagated to the board's four outer corners.

    Args:
        detection: from :func:`detect_board`.
        image_size: ``(width, height)`` of the photo, px.
        camera: a calibrated profile, or None.

    Raises:
        ReferenceNotFoundError: too few corners, or all of them on a line.
    """
    width, height = image_size
    found = len(detection.ids)
    observed_all = detection.image_points
    if camera is not None:
        observed_all = camera.undistort_points(observed_all)
    board_all = detection.board_points
    _check_spread(board_all, detection.spec, found)
    norm = _normaliser(board_all)
    board_n = _project(norm, board_all)
    threshold = RANSAC_SHARE_OF_DIAGONAL * math.hypot(width, height)
    first, inlier_mask = cv2.findHomography(board_n, observed_all, cv2.RANSAC, threshold)
    if first is None:
        raise ReferenceNotFoundError(
            "the board's corners do not fit a plane; photograph the board flat and whole"
        )
    inliers = inlier_mask.ravel().astype(bool)
    model = _Model(
        np.array([(width - 1) / 2.0, (height - 1) / 2.0]),
        half_diagonal_px(width, height),
        with_k1=camera is None,
    )
    first = first / first[2, 2]
    params = np.append(first.ravel()[:8], [0.0] if model.with_k1 else [])
    for _ in range(10):
        _check_count(int(inliers.sum()), found)
        params = _levenberg_marquardt(model, params, board_n[inliers], observed_all[inliers])
        errors = np.linalg.norm(model(params, board_n) - observed_all, axis=1)
        # Median of a 2-D Gaussian residual's norm is 1.1774 sigma.
        sigma = float(np.median(errors[inliers])) / 1.1774
        keep = errors <= max(OUTLIER_SIGMAS * sigma, OUTLIER_FLOOR_PX)
        if np.array_equal(keep, inliers):
            break
        inliers = keep
    _check_count(int(inliers.sum()), found)
    _check_spread(board_all[inliers], detection.spec, found)
    points, observed = board_n[inliers], observed_all[inliers]
    residual = model(params, points) - observed
    dof = max(residual.size - len(params), 1)
    variance = max(float(np.sum(residual**2)) / dof, CORNER_NOISE_FLOOR_PX**2)
    jac = model.jacobian(params, points)
    covariance = variance * np.linalg.pinv(jac.T @ jac)
    homography = model.homography(params) @ norm
    homography /= homography[2, 2]

    outer = detection.spec.outer_corners_mm()
    outer_n = _project(norm, outer)
    # The virtual corners in the photo, and their covariance.
    photo_outer = model(params, outer_n)
    if camera is not None:
        photo_outer = camera.distort_points(photo_outer)
    jac_outer = model.jacobian(params, outer_n)
    corner_cov = jac_outer @ covariance @ jac_outer.T
    corner_sigma = float(np.sqrt(np.max(np.diag(corner_cov))))
    order = _corner_order(photo_outer)
    k1 = float(params[8]) if model.with_k1 else None
    k1_sigma = float(np.sqrt(covariance[8, 8])) if model.with_k1 else None
    lens = camera if camera is not None else radial_profile(k1, width, height, "board fit")
    return BoardFit(
        spec=detection.spec,
        homography=homography,
        lens=lens,
        k1=k1,
        k1_sigma=k1_sigma,
        image_corners=photo_outer[order],
        board_corners=outer[order],
        corner_sigma_px=corner_sigma,
        rms_px=float(np.sqrt(np.mean(np.sum(residual**2, axis=1)))),
        used=int(inliers.sum()),
        found=found,
        focal_px=focal_from_homography(homography, image_size),
    )


def _corner_order(photo_corners: np.ndarray) -> np.ndarray:
    """Indices putting the board's outer corners in the photo's TL, TR, BR, BL order."""
    ordered = order_corners(photo_corners)
    return np.array([int(np.argmin(np.linalg.norm(photo_corners - p, axis=1))) for p in ordered])


def _check_count(count: int, found: int) -> None:
    if count < MIN_CORNERS:
        raise ReferenceNotFoundError(
            f"only {count} of the board's corners agree on a plane ({found} found; at least "
            f"{MIN_CORNERS} are needed): show more of the board, in focus and flat"
        )


def _check_spread(board_points: np.ndarray, spec: BoardSpec, found: int) -> None:
    _check_count(len(board_points), found)
    hull = cv2.convexHull(board_points.astype(np.float32))
    area = float(cv2.contourArea(hull))
    width, height = spec.size_mm
    if area < MIN_SPAN_SHARE * width * height:
        raise ReferenceNotFoundError(
            "the board's visible corners lie almost on one line or in one small patch: "
            "show more of the board"
        )


def focal_from_homography(homography: np.ndarray, image_size: tuple[int, int]) -> float | None:
    """The focal length (px) a plane's homography implies, principal point at the centre.

    Square pixels and the principal point at ``((W-1)/2, (H-1)/2)`` leave one
    unknown, ``w = 1/f^2``, with two constraints from the rotation's first
    two columns being orthogonal and of equal length (Zhang); solved in least
    squares. None when the plane is seen too face-on for the focal length to
    show (tilt under ``MIN_TILT_FOR_FOCAL_DEG``) or the constraints disagree.
    """
    width, height = image_size
    shift = np.array([[1.0, 0.0, -(width - 1) / 2.0], [0.0, 1.0, -(height - 1) / 2.0], [0, 0, 1]])
    h = shift @ np.asarray(homography, dtype=np.float64)
    h = h / np.linalg.norm(h[:, 0])
    (a11, a12), (a21, a22), (a31, a32) = h[0, :2], h[1, :2], h[2, :2]
    # a * w + b = 0 for each constraint, w = 1 / f^2.
    rows = np.array(
        [[a11 * a12 + a21 * a22, a31 * a32], [a11**2 + a21**2 - a12**2 - a22**2, a31**2 - a32**2]]
    )
    a, b = rows[:, 0], rows[:, 1]
    denominator = float(np.dot(a, a))
    if denominator <= 0:
        return None
    w = -float(np.dot(a, b)) / denominator
    if not w > 0:
        return None
    focal = 1.0 / math.sqrt(w)
    k = np.diag([focal, focal, 1.0])
    columns = np.linalg.solve(k, h)
    r1, r2 = columns[:, 0], columns[:, 1]
    normal = np.cross(r1 / np.linalg.norm(r1), r2 / np.linalg.norm(r2))
    tilt = math.degrees(math.acos(min(abs(normal[2]) / np.linalg.norm(normal), 1.0)))
    if tilt < MIN_TILT_FOR_FOCAL_DEG:
        return None
    return focal


def locate_board(image_rgb: np.ndarray, text: str, camera: CameraProfile | None = None) -> BoardFit:
    """Detect the board ``text`` names (see :func:`parse_board`) and fit its plane."""
    detection = detect_board(image_rgb, parse_board(text))
    height, width = image_rgb.shape[:2]
    return fit_board(detection, (width, height), camera)


__all__ = [
    "CHECK_BAR_MM",
    "CHECK_BAR_TEXT",
    "MAT_BOARDS",
    "PAPERS",
    "BoardDetection",
    "BoardFit",
    "BoardSpec",
    "MatLayout",
    "board_image",
    "board_rectangles_mm",
    "detect_board",
    "fit_board",
    "focal_from_homography",
    "locate_board",
    "mat_layout",
    "mat_pdf_bytes",
    "mat_ring_mask",
    "mat_text_lines",
    "parse_board",
]


# --------------------------------------------------------------------------- calibration
#: Fewest photos a calibration accepts (a plane seen from one side fixes no focal length).
MIN_CALIBRATION_VIEWS = 3
#: OpenCV flags of the calibration: radial k1, k2 and no tangential terms,
#: which a handful of photos of one board can pin down.
CALIBRATION_FLAGS = cv2.CALIB_ZERO_TANGENT_DIST | cv2.CALIB_FIX_K3


@dataclass(frozen=True)
class CalibrationView:
    """How one photo served the calibration: its name, corners found, and RMS (px)."""

    name: str
    corners: int
    rms_px: float


def calibrate_camera(
    images_rgb: Sequence[np.ndarray], text: str, names: Sequence[str] | None = None
) -> tuple[CameraProfile, list[CalibrationView]]:
    """Calibrate the lens from photos of the board ``text`` names (OpenCV ``calibrateCamera``).

    Every photo must have the same size; each must show at least
    ``MIN_CORNERS`` corners spread over the board. The photos should see the
    board from different angles (tilted 20-45 deg, turned).

    Returns:
        The :class:`CameraProfile` (intrinsics, ``k1, k2`` radial distortion,
        image size, RMS reprojection error) and a line per photo.

    Raises:
        ParameterError: too few usable photos, or photos of different sizes.
    """
    names = list(names) if names is not None else [f"photo {k + 1}" for k in range(len(images_rgb))]
    specs = parse_board(text)
    sizes = {(image.shape[1], image.shape[0]) for image in images_rgb}
    if len(sizes) > 1:
        listed = ", ".join(f"{w}x{h}" for w, h in sorted(sizes))
        raise ParameterError(
            f"the calibration photos differ in size ({listed}); a profile is for one size: "
            "take them all with the same camera setting"
        )
    object_points, image_points, used = [], [], []
    for image, name in zip(images_rgb, names, strict=True):
        try:
            detection = detect_board(image, specs)
            _check_spread(detection.board_points, detection.spec, len(detection.ids))
        except ReferenceNotFoundError:
            continue
        board = np.column_stack([detection.board_points, np.zeros(len(detection.ids))])
        object_points.append(board.astype(np.float32).reshape(-1, 1, 3))
        image_points.append(detection.image_points.astype(np.float32).reshape(-1, 1, 2))
        used.append(name)
    if len(used) < MIN_CALIBRATION_VIEWS:
        raise ParameterError(
            f"only {len(used)} of {len(names)} photos show the board well enough; a "
            f"calibration needs at least {MIN_CALIBRATION_VIEWS}, taken from different angles"
        )
    (width, height) = sizes.pop()
    rms, matrix, distortion, rvecs, tvecs = cv2.calibrateCamera(
        object_points, image_points, (width, height), None, None, flags=CALIBRATION_FLAGS
    )
    views = []
    for name, obj, img, rvec, tvec in zip(
        used, object_points, image_points, rvecs, tvecs, strict=True
    ):
        projected, _ = cv2.projectPoints(obj, rvec, tvec, matrix, distortion)
        error = projected.reshape(-1, 2) - img.reshape(-1, 2)
        views.append(
            CalibrationView(name, len(obj), float(np.sqrt(np.mean(np.sum(error**2, axis=1)))))
        )
    profile = CameraProfile(
        matrix=matrix,
        distortion=distortion.ravel()[:5],
        image_size=(width, height),
        rms_px=float(rms),
        source=f"calibration on {len(used)} photos of {specs[0].name or specs[0].text()}",
        views=len(used),
    )
    return profile, views


__all__ += ["CalibrationView", "calibrate_camera"]
