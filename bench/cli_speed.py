"""Wall time of ``python -m objlen measure`` on a small photo, against ``python -c
"import cv2, numpy"`` (what any OpenCV script pays before its first line of work).

Both commands run as new processes, interleaved, ``--repeats`` times each;
the best (least disturbed) and the median wall times are printed, with their
ratio. objlen is copied to a temporary folder and compiled to bytecode
there, as an installed package has it: this machine's environment sets
``PYTHONDONTWRITEBYTECODE``, which otherwise makes every run compile
objlen's source again (that run is printed too).

    .venv/bin/python bench/cli_speed.py [--repeats 15] [--root CHECKOUT]

``--root`` runs another checkout's objlen (an older commit, for a before /
after table). Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT.parent / "shared" / "realphotos" / "coins" / "coins.jpg"


def _wall(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--root", type=Path, default=ROOT, help="the objlen checkout to run")
    parser.add_argument("--photo", type=Path, default=PHOTO)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    copy = Path(tempfile.mkdtemp(prefix="objlen-compiled-"))
    shutil.copytree(root / "objlen", copy / "objlen", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(copy / "objlen")], check=True)
    base = {**os.environ, "PYTHONPATH": str(root)}
    cached = {**os.environ, "PYTHONPATH": str(copy)}
    baseline = [sys.executable, "-c", "import cv2, numpy"]
    measure = [sys.executable, "-m", "objlen", "measure", str(args.photo)]
    measure += ["--reference-length", "24.26", "--all"]
    runs: dict[str, list[float]] = {"import cv2, numpy": [], "measure": [], "measure, no cache": []}
    _wall(measure, cached, root)  # warm the page cache
    for _ in range(args.repeats):
        runs["import cv2, numpy"].append(_wall(baseline, cached, root))
        runs["measure"].append(_wall(measure, cached, root))
        runs["measure, no cache"].append(_wall(measure, base, root))
    shutil.rmtree(copy, ignore_errors=True)
    best = {name: min(values) for name, values in runs.items()}
    median = {name: statistics.median(values) for name, values in runs.items()}
    print(f"objlen at {root}, photo {args.photo.name}, {args.repeats} runs each\n")
    print("| command | best wall | median wall | ratio to `import cv2, numpy` (best / median) |")
    print("|---|---|---|---|")
    for name in runs:
        print(
            f"| {name} | {best[name]:.2f} s | {median[name]:.2f} s | "
            f"{best[name] / best['import cv2, numpy']:.1f}x / "
            f"{median[name] / median['import cv2, numpy']:.1f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
