"""The annotated pictures' format: JPEG by default, PNG on request; their
names, a folder resumed in another format, the zip of them, the option.

Real batches of the bundled samples with the real local segmenter.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from objlen import MeasureOptions, ReferenceSpec
from objlen.batch.photo import segmenter_factory_for
from objlen.batch.results import ANNOTATED_DIR, write_annotated_zip
from objlen.batch.runner import run_batch
from objlen.classes import ClassIds
from objlen.cli.batch import main as cli_main
from objlen.errors import ParameterError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CARDS = ("card_rectangle", "card_ellipse", "dark_card_ellipse")
OPTIONS = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)), method="homography")


def _run(inputs: list[Path], out: Path, **kwargs) -> dict[str, dict]:
    """Run a batch with the local segmenter; its records by photo name."""
    report = run_batch(
        inputs,
        out,
        options=OPTIONS,
        segmenter_factory=segmenter_factory_for("local", classes=ClassIds()),
        concurrency=2,
        **kwargs,
    )
    assert report.failed == 0, report.failures
    return {Path(record["name"]).name: record for record in report.records}


def _pixels(path: Path) -> tuple[str, np.ndarray]:
    with Image.open(path) as picture:
        return picture.format, np.asarray(picture.convert("RGB"), dtype=int)


def test_the_default_jpeg_is_the_png_drawing_within_a_few_levels(tmp_path: Path) -> None:
    photo = SAMPLES / f"{CARDS[0]}.jpg"
    jpeg_record = _run([photo], tmp_path / "jpeg")[photo.name]
    png_record = _run([photo], tmp_path / "png", annotate_format="png")[photo.name]

    assert jpeg_record["annotated"].startswith(f"{ANNOTATED_DIR}/")
    assert jpeg_record["annotated"].endswith(".jpg") and png_record["annotated"].endswith(".png")
    assert Path(jpeg_record["annotated"]).stem == Path(png_record["annotated"]).stem
    assert (jpeg_record["width"], jpeg_record["height"]) == (
        png_record["width"],
        png_record["height"],
    )
    jpeg_format, jpeg = _pixels(tmp_path / "jpeg" / jpeg_record["annotated"])
    png_format, png = _pixels(tmp_path / "png" / png_record["annotated"])
    assert (jpeg_format, png_format) == ("JPEG", "PNG")
    assert jpeg.shape == png.shape
    with Image.open(photo) as source:  # the photo's width, the legend strip below it
        assert png.shape[1] == source.size[0] and png.shape[0] > source.size[1]
    difference = np.abs(jpeg - png)
    assert difference.mean() < 2.0
    assert np.percentile(difference, 99.9) <= 24  # the largest at the edges of text
    jpeg_bytes = (tmp_path / "jpeg" / jpeg_record["annotated"]).stat().st_size
    assert jpeg_bytes < (tmp_path / "png" / png_record["annotated"]).stat().st_size / 2


def test_a_folder_resumed_in_another_format_keeps_its_pictures(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in CARDS[:2]:
        shutil.copy(SAMPLES / f"{name}.jpg", photos)
    out = tmp_path / "out"
    first = _run([photos], out, annotate_format="png")
    shutil.copy(SAMPLES / f"{CARDS[2]}.jpg", photos)

    report = run_batch(
        [photos],
        out,
        options=OPTIONS,
        segmenter_factory=segmenter_factory_for("local", classes=ClassIds()),
    )

    assert (report.resumed, report.processed) == (2, 1)
    records = {Path(r["name"]).name: r for r in report.records}
    for name in CARDS[:2]:  # finished before: the same record, its PNG kept
        assert records[f"{name}.jpg"]["annotated"] == first[f"{name}.jpg"]["annotated"]
        assert records[f"{name}.jpg"]["annotated"].endswith(".png")
    assert records[f"{CARDS[2]}.jpg"]["annotated"].endswith(".jpg")
    for record in records.values():
        assert (out / record["annotated"]).is_file()
    with zipfile.ZipFile(write_annotated_zip(out)) as zipped:
        assert sorted(zipped.namelist()) == sorted(
            Path(r["annotated"]).name for r in records.values()
        )


def test_the_command_line_switches_the_format(tmp_path: Path, capsys) -> None:
    photo = SAMPLES / f"{CARDS[1]}.jpg"
    common = ["--reference-size", "85.6x54", "--method", "homography", "--quiet"]
    assert cli_main(["batch", str(photo), "--out", str(tmp_path / "a"), *common]) == 0
    assert (
        cli_main(
            ["batch", str(photo), "--out", str(tmp_path / "b"), "--annotate-format", "png", *common]
        )
        == 0
    )
    capsys.readouterr()
    assert [p.suffix for p in (tmp_path / "a" / ANNOTATED_DIR).iterdir()] == [".jpg"]
    assert [p.suffix for p in (tmp_path / "b" / ANNOTATED_DIR).iterdir()] == [".png"]


def test_an_unknown_format_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="annotate_format must be one of jpeg, png"):
        _run([SAMPLES / f"{CARDS[0]}.jpg"], tmp_path / "out", annotate_format="gif")
    assert not (tmp_path / "out").exists()
