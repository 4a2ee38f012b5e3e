"""Fixtures of the AppTest tests: a clean environment and a throw-away database."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh database path in OBJLEN_DB, and no other objlen or AWS settings
    from the developer's environment."""
    for name in (
        "OBJLEN_SEGMENTER",
        "OBJLEN_ENDPOINT",
        "OBJLEN_REGION",
        "OBJLEN_PROFILE",
        "OBJLEN_ENDPOINT_URL",
        "OBJLEN_UNIT",
        "OBJLEN_REFERENCE_RULE",
        "OBJLEN_TIMEOUT_S",
        "OBJLEN_BACKGROUND_CLASS",
        "OBJLEN_OBJECT_CLASS",
        "OBJLEN_REFERENCE_CLASS",
        "OBJLEN_IGNORE_CLASS",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "db" / "objlen.sqlite3"
    monkeypatch.setenv("OBJLEN_DB", str(path))
    return path
