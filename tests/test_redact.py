"""Tests for objlen.redact: secrets in URLs never reach a log or a screen."""

from __future__ import annotations

import pytest

from objlen.redact import redact_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://user:secret@example.com/a?b=c", "https://***@example.com/a?***"),
        ("http://127.0.0.1:9000/bucket/key", "http://127.0.0.1:9000/bucket/key"),
        ("s3://bucket/prefix/?X-Amz-Signature=abc", "s3://bucket/prefix/?***"),
        ("https://host/p#access_token=abc", "https://host/p?***"),
        ("https://u:p@ss@host/x", "https://***@host/x"),
        ("no url at all", "no url at all"),
        ("", ""),
    ],
)
def test_redact_url_hides_userinfo_query_and_fragment(given: str, expected: str) -> None:
    assert redact_url(given) == expected


def test_redact_url_works_inside_text_and_tracebacks() -> None:
    text = (
        'botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: '
        '"http://AKIAEXAMPLE:wJalrXUtnFEMI@10.1.2.3:8080/endpoints/x/invocations?sig=deadbeef"\n'
        "  and see https://docs.example.com/page for help"
    )
    redacted = redact_url(text)
    assert "wJalrXUtnFEMI" not in redacted
    assert "AKIAEXAMPLE" not in redacted
    assert "deadbeef" not in redacted
    assert '"http://***@10.1.2.3:8080/endpoints/x/invocations?***"' in redacted
    assert "https://docs.example.com/page for help" in redacted
