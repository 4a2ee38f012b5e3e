"""The Batch page under AppTest, with the local segmenter."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "batch.py")
SAMPLES = ROOT / "samples"
TRUTH = {s["name"]: s for s in json.loads((SAMPLES / "ground_truth.json").read_text())["samples"]}


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=120)


def test_the_page_loads(app_db: Path) -> None:
    at = page().run()
    assert not at.exception
    assert at.title[0].value == "Batch"
    assert at.button(key="batch_run").disabled
    assert any("Choose the photos" in info.value for info in at.info)


def test_a_small_batch_of_uploads_shows_the_results(app_db: Path, tmp_path: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(SAMPLES / "dark_card_ellipse.jpg", "inside/dark_card_ellipse.jpg")
    at = page().run()
    at.file_uploader(key="batch_uploads").set_value(
        [
            ("card_rectangle.jpg", (SAMPLES / "card_rectangle.jpg").read_bytes(), "image/jpeg"),
            ("card_ellipse.jpg", (SAMPLES / "card_ellipse.jpg").read_bytes(), "image/jpeg"),
            ("broken.jpg", b"\xff\xd8\xff not a photo", "image/jpeg"),
            ("more.zip", archive.getvalue(), "application/zip"),
        ]
    )
    at.run()
    assert at.button(key="batch_run").disabled  # no reference said yet
    assert any("say what the reference" in info.value for info in at.info)
    at.selectbox(key="batch_reference_preset").set_value("custom").run()
    at.text_input(key="batch_reference_size").input("85.6 x 54 mm").run()
    at.text_input(key="batch_out").set_value(str(tmp_path / "results"))
    at.button(key="batch_run").click().run()
    assert not at.exception
    assert any("3 of 4 photos measured, 1 failed" in s.value for s in at.success)
    table = at.dataframe[0].value
    by_photo = {row["photo"]: row for _, row in table.iterrows()}
    assert set(by_photo) == {
        "card_rectangle.jpg",
        "card_ellipse.jpg",
        "broken.jpg",
        "more.zip!inside/dark_card_ellipse.jpg",
    }
    assert by_photo["broken.jpg"]["status"] == "error"
    for name in ("card_rectangle", "card_ellipse"):
        row = by_photo[f"{name}.jpg"]
        assert row["status"] == "ok" and row["#"] == 1
        width, unit = row["width"].split(" ± ")[0], row["width"].split(" ")[-1]
        assert unit == "mm" and len(width.split(".")[1]) == 2  # rounded, with its unit
        assert float(width) == pytest.approx(TRUTH[name]["object"]["width_mm"], rel=0.015)
    broken = [e.value for e in at.error if "broken.jpg" in e.value]
    assert len(broken) == 1 and broken[0].count("broken.jpg") == 1, broken  # named once
    assert (tmp_path / "results" / "results.csv").is_file()
    assert len(list((tmp_path / "results" / "annotated").glob("*.jpg"))) == 3


def test_a_folder_that_does_not_exist_is_an_error(app_db: Path, tmp_path: Path) -> None:
    at = page().run()
    at.radio(key="batch_source").set_value("location").run()
    at.text_area(key="batch_locations").input(str(tmp_path / "nowhere")).run()
    at.selectbox(key="batch_reference_preset").set_value("card").run()
    at.text_input(key="batch_out").set_value(str(tmp_path / "results"))
    at.button(key="batch_run").click().run()
    assert not at.exception
    assert any("no such file or folder" in e.value for e in at.error)


def test_a_bad_reference_length_is_an_error_not_a_crash(app_db: Path) -> None:
    at = page().run()
    at.selectbox(key="batch_reference_preset").set_value("custom").run()
    at.radio(key="batch_reference_kind").set_value("size").run()
    at.text_input(key="batch_reference_size").input("wide").run()
    assert not at.exception
    assert any("not a size" in info.value for info in at.info)
    assert at.button(key="batch_run").disabled


def test_every_object_gets_a_row_with_its_warnings(app_db: Path, tmp_path: Path) -> None:
    """A real photo with five pills and a quarter: five rows, the warnings shown,
    and results.csv with one line per object."""
    from objlen.testing.realphotos import realphotos_dir

    photo = realphotos_dir() / "unlabelled" / "example_02.png"
    if not photo.is_file():
        pytest.skip(f"{photo} is missing")
    at = page().run()
    at.file_uploader(key="batch_uploads").set_value(
        [("pills.png", photo.read_bytes(), "image/png")]
    )
    at.run()
    at.selectbox(key="batch_reference_preset").set_value("us_quarter").run()
    at.text_input(key="batch_out").set_value(str(tmp_path / "results"))
    at.button(key="batch_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["#"]) == [1, 2, 3, 4, 5]
    assert all(text.endswith(" mm") for text in table["width"])
    assert all("more uncertain than 2%" in text for text in table["warnings"])
    csv_lines = (tmp_path / "results" / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + 5
    assert csv_lines[0].startswith("name,status,object,width")
    assert [line.split(",")[2] for line in csv_lines[1:]] == ["1", "2", "3", "4", "5"]


def test_photos_of_the_measuring_mat(app_db: Path, tmp_path: Path) -> None:
    """The mat preset on the Batch page: the homography method, and the numbers of
    objlen's own path (``--board mat``) for each object of a rendered mat photo."""
    from objlen import MeasureOptions, ReferenceSpec, measure
    from objlen.board import MAT_BOARDS
    from objlen.classes import ClassIds
    from objlen.imageio import encode_png
    from objlen.segment import make_segmenter
    from objlen.testing.synthetic import Camera, PhotoEffects, PlaneShape, render_board_scene

    scene = render_board_scene(
        [PlaneShape("rectangle", (-20, 10), (50, 70)), PlaneShape("ellipse", (30, -30), (40, 30))],
        MAT_BOARDS["A4"],
        Camera(tilt_deg=20.0, distance_mm=430.0),
        effects=PhotoEffects(distortion_k1=0.03, jpeg_quality=90),
        seed=4,
    )
    at = page().run()
    at.file_uploader(key="batch_uploads").set_value(
        [("mat.png", encode_png(scene.image), "image/png")]
    )
    at.run()
    at.selectbox(key="batch_reference_preset").set_value("mat").run()
    assert at.radio(key="batch_method").value == "homography"
    at.text_input(key="batch_out").set_value(str(tmp_path / "results"))
    at.button(key="batch_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["status"]) == ["ok", "ok"]
    spec = ReferenceSpec(board="mat")
    mask = make_segmenter("local", classes=ClassIds(), reference=spec).segment(scene.image).mask
    options = MeasureOptions(method="homography", reference=spec, all_objects=True)
    expected = measure(mask, options, image=scene.image)
    shown = [float(text.split(" ± ")[0]) for text in table["width"]]
    assert shown == pytest.approx([o.width.value for o in expected.objects], abs=0.006)
