"""The red-team table of issue #12, rerun: one row per attack.

Every attack of :mod:`objlen.testing.redteam` (and the modules it lists in
``ATTACK_MODULES``) is mounted in a fresh scratch folder — real files, real
FIFOs, real SQLite, the real command line in a subprocess, servers on
loopback only — and its outcome printed as a table: surface, input, what is
expected, what was got, and whether that is clean. Run:
``python bench/redteam.py [--only WORD] [--markdown]``. Prints; asserts
nothing (the exit status is 0 whatever the rows say).
"""

from __future__ import annotations

import argparse
import sys

from objlen.testing.redteam import Row, all_attacks, run_attack

COLUMNS = ("surface", "input", "expected", "got", "clean")


def cells(row: Row) -> list[str]:
    """The printed cells of a row."""
    return [row.surface, row.input, row.expected, row.got, "yes" if row.clean else "NO"]


def print_row(values: list[str], widths: list[int], markdown: bool) -> None:
    """One line of the table, padded to ``widths`` (or as a Markdown row)."""
    if markdown:
        print("| " + " | ".join(v.replace("|", "\\|") for v in values) + " |")
    else:
        print("  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only rows whose surface or input contains this")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    attacks = [
        a
        for a in all_attacks()
        if not args.only or args.only.lower() in f"{a.surface} {a.input}".lower()
    ]
    widths = [12, 34, 30, 60, 5]
    print_row(list(COLUMNS), widths, args.markdown)
    if args.markdown:
        print("|" + "---|" * len(COLUMNS))
    clean = 0
    for item in attacks:
        row = run_attack(item)
        clean += row.clean
        print_row(cells(row), widths, args.markdown)
        sys.stdout.flush()
    print(f"\n{clean} of {len(attacks)} rows clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
