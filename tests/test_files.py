"""Atomic file writes."""

import pytest

from objlen.files import write_atomically


def test_write_creates_folders_and_replaces_whole_files(tmp_path):
    path = tmp_path / "a" / "b" / "data.bin"
    write_atomically(path, b"first")
    write_atomically(path, b"second, longer")
    assert path.read_bytes() == b"second, longer"
    assert [p.name for p in path.parent.iterdir()] == ["data.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "data.bin"
    write_atomically(path, b"kept")
    with pytest.raises(TypeError):
        write_atomically(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"kept"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
