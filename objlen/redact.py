"""Taking secrets out of URLs before they are shown or logged.

A URL may carry a password (``https://user:secret@host/``) or a signed query
(``?X-Amz-Signature=...``). :func:`redact_url` replaces the user-info and the
query (and the fragment) of every URL in a text with ``***``, and leaves the
scheme, host, port and path, which are what a person needs to see where a
call went::

    >>> redact_url("https://user:secret@example.com:8443/a/b?token=x#frag")
    'https://***@example.com:8443/a/b?***'
    >>> redact_url('Could not connect to "http://k:s@10.0.0.1/x?sig=1".')
    'Could not connect to "http://***@10.0.0.1/x?***".'
    >>> redact_url("no URL here")
    'no URL here'
"""

from __future__ import annotations

import re

REDACTED = "***"

# scheme://[userinfo@]host-and-path[?query][#fragment], ending at white space,
# a quote or an angle bracket. The user-info runs to the *last* "@" before the
# first "/", "?" or "#", so a password with a stray "@" in it is hidden whole.
_URL = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)"
    r"(?P<userinfo>[^\s/?#\"'<>`]*@)?"
    r"(?P<rest>[^\s?#\"'<>`]*)"
    r"(?P<query>\?[^\s#\"'<>`]*)?"
    r"(?P<fragment>#[^\s\"'<>`]*)?"
)


def _redact_match(match: re.Match[str]) -> str:
    """One URL with its user-info, query and fragment replaced."""
    parts = [match["scheme"]]
    if match["userinfo"] is not None:
        parts.append(f"{REDACTED}@")
    parts.append(match["rest"])
    if match["query"] is not None or match["fragment"] is not None:
        parts.append(f"?{REDACTED}")
    return "".join(parts)


def redact_url(text_or_url: str) -> str:
    """Return ``text_or_url`` with every URL's user-info, query and fragment hidden.

    Works on a bare URL or on any text that contains URLs (an error message,
    a traceback). The user-info becomes ``***@`` and the query and fragment
    together become ``?***``; scheme, host, port and path are kept. Text
    that holds no ``scheme://`` is returned unchanged.
    """
    return _URL.sub(_redact_match, text_or_url)


__all__ = ["REDACTED", "redact_url"]
