"""Freed large buffers reused: page faults counted in a fresh process (the
setting is the whole process's, so it is never made in the test's own)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Per round (a 12 MP photo), fills three 12 MB arrays held at once (a mask
#: decoded by Pillow, its bytes, its array) and a 9 MB one (the picture decoded
#: at half size), then frees them; prints the minor page faults of 30 rounds.
SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    from objlen.batch.allocator import reuse_freed_buffers

    taken = reuse_freed_buffers() if sys.argv[1] == "reuse" else None
    sizes = (12 * 2**20, 12 * 2**20, 12 * 2**20, 9 * 2**20)
    held = [np.ones(size, np.uint8) for size in sizes]  # the first round
    del held
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(30):
        held = [np.ones(size, np.uint8) for size in sizes]
        del held
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    print(json.dumps({"taken": taken, "faults": faults}))
    """
)


def _faults(mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_buffers_are_reused_instead_of_fresh_pages() -> None:
    pages_per_round = (3 * 12 + 9) * 2**20 // 4096
    plain = _faults("plain")
    reused = _faults("reuse")
    if not reused["taken"]:
        pytest.skip("this C library has no mallopt (not glibc)")
    assert plain["faults"] > 2 * pages_per_round  # the premise: fresh pages, round after round
    assert reused["faults"] < pages_per_round // 10
