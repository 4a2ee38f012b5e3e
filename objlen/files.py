"""Writing files so that a crash never leaves half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _new_file_mode() -> int:
    """The permissions ``open()`` gives a new file: ``0o666`` less the umask."""
    try:
        status = Path("/proc/self/status").read_text()
        mask = int(status.split("Umask:", 1)[1].split()[0], 8)
    except (OSError, IndexError, ValueError):  # not Linux: read it by setting it back
        mask = os.umask(0o077)
        os.umask(mask)
    return 0o666 & ~mask


def write_atomically(path: Path, data: bytes, *, shared: bool = False) -> None:
    """Write ``data`` to ``path`` so that the file is either whole or absent.

    The bytes go to a temporary file in the same folder, are flushed to disk,
    and the file is renamed into place (an atomic step on POSIX file systems).
    The file is readable by its owner only, unless ``shared``: then it gets
    the permissions any new file gets under the umask (a batch's results,
    ``0o644`` under the usual umask ``022``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if shared:
            os.fchmod(handle, _new_file_mode())
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
