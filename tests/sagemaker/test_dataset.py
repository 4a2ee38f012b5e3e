"""Training-set export from a real SQLite history, the layout validator, the
``dataset`` commands, and brush strokes painted into masks."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from objlen import MeasureOptions, ReferenceSpec, measure
from objlen.classes import ClassIds
from objlen.cli.batch import main as cli_main
from objlen.errors import MaskError, ParameterError
from objlen.imageio import encode_png, load_image, load_mask, sha256_hex
from objlen.sagemaker.dataset import (
    CHANNELS,
    MANIFEST,
    export_dataset,
    split_of,
    training_labels,
    validate_dataset,
)
from objlen.store import Store
from objlen.testing.redteam import (
    CliRun,
    deep_json,
    jpeg_claiming,
    long_number_json,
    png_claiming,
    run_cli,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
PLAIN_JPEGS = ["card_rectangle", "card_ellipse", "dark_card_ellipse", "card_blob_gradient"]
OPTIONS = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)))


def _save(store: Store, name: str, photo: bytes, mask: np.ndarray | None) -> int:
    result = measure(load_mask(SAMPLES / "card_rectangle_mask.png")[0], OPTIONS)
    return store.save(
        result,
        image_name=name,
        image_bytes=photo,
        mask_png=None if mask is None else encode_png(mask),
    )


def _mask(name: str) -> np.ndarray:
    return load_mask(SAMPLES / f"{name}_mask.png")[0]


def _rotated_jpeg(name: str) -> bytes:
    """The sample stored sideways with EXIF orientation 6 (shows upright)."""
    upright = Image.open(SAMPLES / f"{name}.jpg")
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    sideways.save(buffer, format="JPEG", quality=92, exif=exif)
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """Rows: four plain JPEGs, a PNG photo, a rotated JPEG, a row without a
    mask, and a newer row of card_rectangle whose mask has an ignored corner."""
    store = Store(tmp_path / "history" / "objlen.sqlite3")
    for name in PLAIN_JPEGS:
        _save(store, f"{name}.jpg", (SAMPLES / f"{name}.jpg").read_bytes(), _mask(name))
    png = encode_png(load_image(SAMPLES / "aruco_rectangle.jpg"))
    _save(store, "aruco.png", png, _mask("aruco_rectangle"))
    _save(
        store,
        "tilted.jpg",
        _rotated_jpeg("tilted30_card_rectangle"),
        _mask("tilted30_card_rectangle"),
    )
    _save(store, "no-mask.jpg", b"\xff\xd8 photo without mask", None)
    corrected = _mask("card_rectangle").copy()
    corrected[:40, :40] = 255
    _save(store, "card_rectangle.jpg", (SAMPLES / "card_rectangle.jpg").read_bytes(), corrected)
    return store


def _pairs(root: Path) -> dict[str, str]:
    """base name -> split, checking that JPGs and PNGs pair up exactly."""
    found = {}
    for split, annotation_folder in CHANNELS.items():
        jpgs = {p.stem for p in (root / split).glob("*.jpg")}
        pngs = {p.stem for p in (root / annotation_folder).glob("*.png")}
        assert jpgs == pngs
        found |= dict.fromkeys(jpgs, split)
    return found


def test_export_layout_pairs_and_label_map(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    report = export_dataset(store, out, classes=ClassIds())
    assert len(report.images) == 6
    assert [row_id for row_id, _ in report.skipped] == [7, 1]  # no mask; older row of a photo
    pairs = _pairs(out)
    assert len(pairs) == 6 and set(pairs.values()) == {"train", "validation"}
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*CHANNELS, *CHANNELS.values(), "label_map", MANIFEST]
    )
    for split in CHANNELS:
        label_map = json.loads((out / "label_map" / f"{split}_label_map.json").read_text())
        assert label_map == {"scale": "1"}
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["num_classes"] == 3
    assert manifest["num_training_samples"] == sum(s == "train" for s in pairs.values())
    for image in report.images:
        split, annotation_folder = image.split, CHANNELS[image.split]
        with Image.open(out / split / f"{image.base}.jpg") as photo:
            assert photo.format == "JPEG" and photo.mode == "RGB"
            assert photo.getexif().get(0x0112, 1) == 1
            size = photo.size
        with Image.open(out / annotation_folder / f"{image.base}.png") as annotation:
            assert annotation.format == "PNG" and annotation.mode == "P"
            assert annotation.size == size
            assert np.asarray(annotation).ndim == 2
    assert validate_dataset(out) == []


def test_export_keeps_pixels_and_masks_exactly(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    report = export_dataset(store, out, classes=ClassIds())
    by_name = {i.image_name: i for i in report.images}

    def files(image):
        photo = out / image.split / f"{image.base}.jpg"
        return photo, out / CHANNELS[image.split] / f"{image.base}.png"

    plain, plain_png = files(by_name["card_ellipse.jpg"])
    assert plain.read_bytes() == (SAMPLES / "card_ellipse.jpg").read_bytes()  # copied as is
    assert not by_name["card_ellipse.jpg"].reencoded
    assert np.array_equal(np.asarray(Image.open(plain_png)), _mask("card_ellipse"))

    _, newest_png = files(by_name["card_rectangle.jpg"])
    labels = np.asarray(Image.open(newest_png))
    assert (labels[:40, :40] == 255).all()  # the newer, corrected mask is used
    assert np.array_equal(labels[40:, 40:], _mask("card_rectangle")[40:, 40:])

    png_photo, _ = files(by_name["aruco.png"])
    assert by_name["aruco.png"].reencoded
    assert Image.open(png_photo).format == "JPEG"

    tilted, tilted_png = files(by_name["tilted.jpg"])
    assert by_name["tilted.jpg"].reencoded
    upright = load_image(SAMPLES / "tilted30_card_rectangle.jpg")
    exported = np.asarray(Image.open(tilted))
    assert exported.shape == upright.shape  # 1200 x 1600, the masks' frame
    assert np.abs(exported.astype(int) - upright.astype(int)).mean() < 3
    assert np.array_equal(np.asarray(Image.open(tilted_png)), _mask("tilted30_card_rectangle"))


def test_split_is_reproducible_and_stable_when_rows_are_added(tmp_path: Path) -> None:
    store = Store(tmp_path / "h" / "objlen.sqlite3")
    first = PLAIN_JPEGS[:3]
    for name in first:
        _save(store, f"{name}.jpg", (SAMPLES / f"{name}.jpg").read_bytes(), _mask(name))
    hashes = [sha256_hex((SAMPLES / f"{n}.jpg").read_bytes()) for n in first]
    assert {split_of(h, 0.5, seed=3) for h in hashes} == {"train", "validation"}  # no fallback
    one = export_dataset(store, tmp_path / "a", validation_fraction=0.5, seed=3, classes=ClassIds())
    two = export_dataset(store, tmp_path / "b", validation_fraction=0.5, seed=3, classes=ClassIds())
    assert _pairs(tmp_path / "a") == _pairs(tmp_path / "b")
    assert {i.base: i.split for i in one.images} == {i.base: i.split for i in two.images}
    for name in ("card_blob_gradient", "aruco_rectangle", "tilted30_card_rectangle"):
        _save(store, f"{name}.jpg", (SAMPLES / f"{name}.jpg").read_bytes(), _mask(name))
    grown = export_dataset(
        store, tmp_path / "a", validation_fraction=0.5, seed=3, classes=ClassIds()
    )  # replaces the earlier export
    after = {i.base: i.split for i in grown.images}
    assert len(after) == 6
    assert all(after[base] == split for base, split in _pairs(tmp_path / "b").items())
    other_seeds = [
        {
            i.base: i.split
            for i in export_dataset(
                store, tmp_path / f"s{seed}", validation_fraction=0.5, seed=seed, classes=ClassIds()
            ).images
        }
        for seed in (4, 5)
    ]
    assert any(split != after for split in other_seeds)


def test_every_channel_gets_a_photo_even_with_few_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "h" / "objlen.sqlite3")
    for name in PLAIN_JPEGS[:2]:
        _save(store, f"{name}.jpg", (SAMPLES / f"{name}.jpg").read_bytes(), _mask(name))
    report = export_dataset(store, tmp_path / "d", validation_fraction=0.01, classes=ClassIds())
    assert (len(report.train), len(report.validation)) == (1, 1)
    assert validate_dataset(tmp_path / "d") == []


def test_export_refusals(store: Store, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.tex").write_text("precious")
    with pytest.raises(ParameterError, match="not an objlen dataset"):
        export_dataset(store, busy, classes=ClassIds())
    assert (busy / "thesis.tex").read_text() == "precious"
    with pytest.raises(ParameterError, match="between 0 and 1"):
        export_dataset(store, tmp_path / "x", validation_fraction=1.0, classes=ClassIds())
    with pytest.raises(ParameterError, match="classes"):
        export_dataset(store, tmp_path / "x", classes=ClassIds(object=254, ignore=250))
    empty = Store(tmp_path / "empty" / "objlen.sqlite3")
    with pytest.raises(ParameterError, match="at least 2"):
        export_dataset(empty, tmp_path / "x", classes=ClassIds())
    assert not (tmp_path / "x").exists()
    assert not list(tmp_path.glob(".x.build-*"))


def test_training_labels() -> None:
    classes = ClassIds(ignore=9)
    mask = np.array([[0, 1, 2, 9]], np.uint8)
    assert training_labels(mask, classes).tolist() == [[0, 1, 2, 255]]
    with pytest.raises(MaskError, match=r"\[7\]"):
        training_labels(np.array([[0, 7]], np.uint8), classes)


# --------------------------------------------------------------------- validate
def _break(root: Path) -> dict[tuple[str, str], None]:
    """Break an export in every per-file way; return the expected problems."""
    train = sorted((root / "train").glob("*.jpg"))
    a, b, c, d, e = (p.stem for p in train[:5])
    expected = {}
    (root / "train_annotation" / f"{a}.png").unlink()
    expected[(f"train/{a}.jpg", "unpaired_image")] = None
    shutil.copy(root / "train_annotation" / f"{b}.png", root / "train_annotation" / "orphan.png")
    expected[("train_annotation/orphan.png", "unpaired_annotation")] = None
    Image.open(root / "train" / f"{b}.jpg").save(root / "train" / f"{b}.jpg", format="PNG")
    expected[(f"train/{b}.jpg", "not_jpeg")] = None
    rgb = Image.open(root / "train_annotation" / f"{c}.png").convert("RGB")
    rgb.save(root / "train_annotation" / f"{c}.png")
    expected[(f"train_annotation/{c}.png", "annotation_mode")] = None
    small = Image.open(root / "train_annotation" / f"{d}.png").resize((100, 75))
    small.save(root / "train_annotation" / f"{d}.png")
    expected[(f"train_annotation/{d}.png", "size_mismatch")] = None
    labels = np.asarray(Image.open(root / "train_annotation" / f"{e}.png")).copy()
    labels[5, 5] = 7
    Image.fromarray(labels).save(root / "train_annotation" / f"{e}.png")
    expected[(f"train_annotation/{e}.png", "class_out_of_range")] = None
    (root / "train" / "notes.txt").write_text("stray")
    expected[("train/notes.txt", "not_jpeg_name")] = None
    (root / "train_annotation" / "notes.txt").write_text("stray")
    expected[("train_annotation/notes.txt", "not_png_name")] = None
    (root / "label_map" / "validation_label_map.json").write_text('{"colours": 1}')
    expected[("label_map/validation_label_map.json", "label_map")] = None
    return expected


@pytest.fixture
def exported(store: Store, tmp_path: Path) -> Path:
    out = tmp_path / "dataset"
    export_dataset(store, out, validation_fraction=0.2, seed=0, classes=ClassIds())
    assert len(list((out / "train").glob("*.jpg"))) >= 5
    return out


def test_validate_finds_each_kind_of_problem(exported: Path) -> None:
    expected = _break(exported)
    problems = validate_dataset(exported)
    assert {(p.file, p.kind) for p in problems} == set(expected)
    assert all(p.message for p in problems)


def test_validate_finds_channel_problems(exported: Path) -> None:
    for path in (exported / "validation").iterdir():
        path.unlink()
    shutil.rmtree(exported / "validation_annotation")
    rotated = next((exported / "train").glob("*.jpg"))
    picture = Image.open(rotated)
    exif = Image.Exif()
    exif[0x0112] = 6
    picture.save(rotated, format="JPEG", exif=exif)
    problems = {(p.file, p.kind) for p in validate_dataset(exported)}
    assert problems == {
        ("validation", "empty_channel"),
        ("validation_annotation", "missing_channel"),
        (f"train/{rotated.name}", "exif_orientation"),
    }


def test_validate_label_maps_and_class_counts(exported: Path) -> None:
    assert {p.kind for p in validate_dataset(exported, num_classes=2)} == {"class_out_of_range"}
    annotations = sorted((exported / "train_annotation").glob("*.png"))
    plain = next(a for a in annotations if np.asarray(Image.open(a)).max() == 2)
    Image.fromarray(np.asarray(Image.open(plain)) * 3).save(plain)
    for other in annotations:
        if other != plain:
            other.unlink()
            next((exported / "train").glob(f"{other.stem}.jpg")).unlink()
    # the developer guide's example: values 0, 3, 6 with scale 3 are labels 0, 1, 2
    (exported / "label_map" / "train_label_map.json").write_text('{"scale": "3"}')
    assert validate_dataset(exported) == []
    (exported / "label_map" / "train_label_map.json").write_text('{"scale": "1"}')
    assert [(p.file, p.kind) for p in validate_dataset(exported)] == [
        (f"train_annotation/{plain.name}", "class_out_of_range")
    ]
    # "map": label -> pixel value; 6 has no label here
    (exported / "label_map" / "train_label_map.json").write_text('{"map": {"0": 0, "1": 3}}')
    problems = validate_dataset(exported)
    assert [(p.file, p.kind) for p in problems] == [
        (f"train_annotation/{plain.name}", "class_out_of_range")
    ]
    assert "[6]" in problems[0].message
    (exported / "label_map" / "train_label_map.json").write_text(
        '{"map": {"0": 0, "1": 3, "2": 6}}'
    )
    assert validate_dataset(exported) == []


def test_cli_dataset_commands(store: Store, tmp_path: Path, capsys) -> None:
    out = tmp_path / "dataset"
    assert (
        cli_main(
            [
                "dataset",
                "export",
                "--db",
                str(store.path),
                "--out",
                str(out),
                "--validation",
                "0.3",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "training and" in captured.out and "num_classes 3" in captured.out
    assert "skipped measurement 7" in captured.err
    assert cli_main(["dataset", "validate", str(out)]) == 0
    assert "no problems" in capsys.readouterr().out
    victim = next((out / "train").glob("*.jpg"))
    victim.unlink()
    assert cli_main(["dataset", "validate", str(out)]) == 1
    printed = capsys.readouterr().out
    assert f"train_annotation/{victim.stem}.png: [unpaired_annotation]" in printed
    assert (
        cli_main(
            ["dataset", "export", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "y")]
        )
        == 2
    )


# --------------------------------------------------------- hostile input (issue #12)
def _cli(*args: str, prefix: tuple[str, ...] = (), timeout: float = 60) -> CliRun:
    """``python -m objlen ARGS`` in a subprocess; a hang is killed after ``timeout``."""
    return run_cli(args, timeout_s=timeout, prefix=prefix)


def _without_file_permissions() -> tuple[str, ...]:
    """A prefix that runs a command without the power to ignore file permissions
    (root drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH with setpriv)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv cannot be denied a folder")
    return ("setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search")


def test_a_crafted_photo_hash_writes_nothing_outside_the_export(tmp_path: Path) -> None:
    store = Store(tmp_path / "a" / "history" / "objlen.sqlite3")
    for name in PLAIN_JPEGS[:2]:
        _save(store, f"{name}.jpg", (SAMPLES / f"{name}.jpg").read_bytes(), _mask(name))
    crafted = _save(
        store, "crafted.jpg", (SAMPLES / "card_ellipse.jpg").read_bytes(), _mask("card_ellipse")
    )
    with sqlite3.connect(store.path) as connection:
        connection.execute(
            "UPDATE measurements SET image_sha256 = ? WHERE id = ?", ("../../../x/ab", crafted)
        )
    connection.close()
    (tmp_path / "x").mkdir()  # where ../../../x/ab.jpg would land from the build folder
    (tmp_path / "a" / "x").mkdir()

    report = export_dataset(store, tmp_path / "a" / "out" / "ds", classes=ClassIds())

    assert [row_id for row_id, _ in report.skipped] == [crafted]
    assert "SHA-256" in report.skipped[0][1]
    assert len(report.images) == 2
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    outside = {p for p in written if tmp_path / "a" / "out" / "ds" not in p.parents}
    assert {p.relative_to(tmp_path).as_posix() for p in outside} <= {
        p.relative_to(tmp_path).as_posix() for p in (tmp_path / "a" / "history").rglob("*")
    } | {"a/history/objlen.sqlite3"}
    assert not list((tmp_path / "x").iterdir()) and not list((tmp_path / "a" / "x").iterdir())


def test_reexport_never_deletes_what_objlen_did_not_write(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    export_dataset(store, out, classes=ClassIds())
    export_dataset(store, out, classes=ClassIds())  # an untouched export is replaced
    notes = out / "train" / "my_notes.txt"
    notes.write_text("the user's own notes")
    (out / "README.md").write_text("mine")

    with pytest.raises(ParameterError, match="did not write") as refused:
        export_dataset(store, out, classes=ClassIds())

    assert "README.md" in str(refused.value) and "train/my_notes.txt" in str(refused.value)
    assert notes.read_text() == "the user's own notes"
    assert (out / "README.md").read_text() == "mine"
    notes.unlink()
    (out / "README.md").unlink()
    victim = next((out / "validation").glob("*.jpg"))
    victim.write_bytes(b"the user replaced this photo with their own")
    with pytest.raises(ParameterError, match=victim.name):
        export_dataset(store, out, classes=ClassIds())
    assert victim.read_bytes() == b"the user replaced this photo with their own"


def test_reexport_over_an_export_without_file_hashes_goes_by_names(
    store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "dataset"
    export_dataset(store, out, classes=ClassIds())
    manifest = json.loads((out / MANIFEST).read_text())
    del manifest["files"]  # as objlen wrote it before it kept the hashes
    (out / MANIFEST).write_text(json.dumps(manifest))
    export_dataset(store, out, classes=ClassIds())
    assert "files" in json.loads((out / MANIFEST).read_text())
    (out / "label_map" / "extra.json").write_text("{}")
    with pytest.raises(ParameterError, match=r"extra\.json"):
        export_dataset(store, out, classes=ClassIds())


def test_fifos_in_a_dataset_are_problems_not_hangs(exported: Path) -> None:
    os.mkfifo(exported / "train" / "pipe.jpg")
    os.mkfifo(exported / "train_annotation" / "pipe.png")
    (exported / "label_map" / "train_label_map.json").unlink()
    os.mkfifo(exported / "label_map" / "train_label_map.json")
    (exported / MANIFEST).unlink()
    os.mkfifo(exported / MANIFEST)

    done = _cli("dataset", "validate", str(exported), timeout=60)

    assert not done.timed_out, "dataset validate hung on a named pipe"
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "train/pipe.jpg: [not_a_file]" in done.stdout
    assert "train_annotation/pipe.png: [not_a_file]" in done.stdout
    assert "label_map/train_label_map.json: [unreadable]" in done.stdout


def test_header_bombs_and_hostile_label_maps_are_problems(exported: Path) -> None:
    image = next((exported / "train").glob("*.jpg"))
    image.write_bytes(jpeg_claiming(65535, 65535))
    annotation = next((exported / "validation_annotation").glob("*.png"))
    annotation.write_bytes(png_claiming(100_000, 100_000))
    (exported / "label_map" / "train_label_map.json").write_text(long_number_json(5000))
    (exported / "label_map" / "validation_label_map.json").write_text(deep_json(100_000))

    problems = {(p.file, p.kind): p.message for p in validate_dataset(exported)}

    assert (f"train/{image.name}", "too_large") in problems
    assert (f"validation_annotation/{annotation.name}", "too_large") in problems
    assert ("label_map/train_label_map.json", "label_map") in problems
    assert "nested too deeply" in problems[("label_map/validation_label_map.json", "label_map")]


def test_an_unreadable_channel_folder_is_a_problem_not_a_traceback(exported: Path) -> None:
    prefix = _without_file_permissions()
    (exported / "train").chmod(0)
    try:
        done = _cli("dataset", "validate", str(exported), prefix=prefix)
    finally:
        (exported / "train").chmod(0o755)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "train: [unreadable]" in done.stdout


def test_validating_a_file_says_it_is_a_file_not_that_nothing_is_there(tmp_path: Path) -> None:
    path = tmp_path / "train.zip"
    path.write_bytes(b"PK")
    (problem,) = validate_dataset(path)
    assert problem.message == "a file, not a dataset folder"
    (problem,) = validate_dataset(tmp_path / "missing")
    assert problem.message == "no such folder"
