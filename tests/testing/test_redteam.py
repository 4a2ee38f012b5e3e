"""The red-team table (issue #12): its machinery, and every row clean."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image

from objlen.testing.redteam import (
    Attack,
    Outcome,
    all_attacks,
    deep_json,
    jpeg_claiming,
    png_claiming,
    run_attack,
)


def test_a_hang_is_reported_not_waited_for() -> None:
    started = time.monotonic()
    row = run_attack(Attack("s", "sleeps", "clean", lambda folder: time.sleep(30), 0.5))
    assert time.monotonic() - started < 5
    assert not row.clean and row.got.startswith("hung")


def test_an_exception_is_a_row_that_is_not_clean() -> None:
    def boom(folder: Path) -> Outcome:
        raise ValueError("broken\nacross lines")

    row = run_attack(Attack("s", "raises", "clean", boom))
    assert not row.clean and row.got == "raised ValueError: broken across lines"


def test_each_attack_gets_an_empty_scratch_folder_removed_after() -> None:
    seen: list[Path] = []

    def look(folder: Path) -> Outcome:
        seen.append(folder)
        return Outcome(f"{len(list(folder.iterdir()))} entries", True)

    row = run_attack(Attack("s", "looks", "clean", look))
    assert row.got == "0 entries" and row.clean and not seen[0].exists()


def test_hostile_files_claim_what_they_say() -> None:
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(png_claiming(100_000, 100_000)))
    assert Image.open(io.BytesIO(png_claiming(300, 200))).size == (300, 200)
    assert Image.open(io.BytesIO(jpeg_claiming(640, 480))).size == (640, 480)
    assert deep_json(3) == "[[[]]]"


def test_the_table_has_the_rows_of_issue_12() -> None:
    mine = [a for a in all_attacks() if a.module == "objlen.testing.redteam"]
    assert len(mine) == 29
    assert {a.surface for a in mine} >= {"store delete", "dataset export", "lambda", "lambda log"}


@pytest.mark.parametrize(
    "item", all_attacks(), ids=lambda a: f"{a.surface}: {a.input}"[:70].replace(" ", "_")
)
def test_every_row_of_the_table_is_clean(item: Attack) -> None:
    row = run_attack(item)
    assert row.clean, f"{row.surface} | {row.input} | expected {row.expected} | got {row.got}"
