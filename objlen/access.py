"""Who may use the app, and which of the server's files it may touch.

The app runs on the operator's server; a browser user who can reach it can
make it read and write the server's files and call other servers. This
module holds the rules, with no Streamlit in it (the launcher
``python -m objlen app`` and the app's router both apply them):

* **Listening beyond loopback needs a login.** :func:`is_loopback` tells an
  address that only this machine reaches; :func:`auth_providers` reads the
  ``[auth]`` section of Streamlit's ``secrets.toml`` (Streamlit's own
  ``st.login``, OpenID Connect); :func:`anonymous_allowed` is the operator's
  explicit ``OBJLEN_ALLOW_ANONYMOUS=1``. :func:`serving_problem` says, in
  words, why serving on an address is refused.
* **Every server-side path the app accepts lies under one data root**
  (``OBJLEN_DATA_ROOT``, default ``data`` in the project folder):
  :func:`inside_data_root` resolves a path (symbolic links too) and refuses
  anything outside it.

Example::

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    >>> is_loopback(None)  # Streamlit's default: every interface
    False
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from objlen.errors import ParameterError

#: Environment variable of the data root.
DATA_ROOT_ENV = "OBJLEN_DATA_ROOT"
#: The data root unless told otherwise, relative to the project folder.
DEFAULT_DATA_ROOT = "data"
#: Environment variable by which the operator allows serving without a login.
ALLOW_ANONYMOUS_ENV = "OBJLEN_ALLOW_ANONYMOUS"
#: Keys every OpenID Connect provider needs in ``secrets.toml`` (Streamlit 1.67).
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
#: Keys of the ``[auth]`` section itself.
AUTH_KEYS = ("redirect_uri", "cookie_secret")


def is_loopback(address: str | None) -> bool:
    """Whether a server listening on ``address`` is reachable from this machine
    only. ``None`` or ``""`` (Streamlit's default) listens on every interface."""
    if not address:
        return False
    text = address.strip().strip("[]")
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def auth_providers(secrets: Mapping[str, Any]) -> list[str]:
    """The OpenID Connect providers configured for ``st.login`` in ``secrets``
    (the whole ``secrets.toml`` as a mapping): ``["default"]`` for one given
    in ``[auth]`` itself, else the names of its ``[auth.NAME]`` sections, in
    order. Empty when login is not (completely) configured; see
    :func:`auth_problem` for what is missing."""
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping) or any(not auth.get(key) for key in AUTH_KEYS):
        return []
    if all(auth.get(key) for key in PROVIDER_KEYS):
        return ["default"]
    return [
        name
        for name, section in auth.items()
        if isinstance(section, Mapping)
        and "_" not in name  # Streamlit refuses provider names with "_"
        and all(section.get(key) for key in PROVIDER_KEYS)
    ]


def auth_problem(secrets: Mapping[str, Any]) -> str | None:
    """What is missing from the ``[auth]`` section for a login, in words;
    ``None`` when a login is configured."""
    if auth_providers(secrets):
        return None
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping):
        return "secrets.toml has no [auth] section"
    missing = [key for key in AUTH_KEYS if not auth.get(key)]
    if missing:
        return f"[auth] in secrets.toml lacks {', '.join(missing)}"
    return (
        "[auth] in secrets.toml names no provider with "
        + ", ".join(PROVIDER_KEYS)
        + " (in [auth] itself or in an [auth.NAME] section)"
    )


def anonymous_allowed(environ: Mapping[str, str]) -> bool:
    """Whether the operator said to serve without a login (``OBJLEN_ALLOW_ANONYMOUS=1``)."""
    return environ.get(ALLOW_ANONYMOUS_ENV, "").strip().lower() in ("1", "true", "yes")


def serving_problem(
    address: str | None, secrets: Mapping[str, Any], environ: Mapping[str, str]
) -> str | None:
    """Why the app must not be served on ``address``, in words; ``None`` when it may.

    Loopback is always fine; beyond it, a login must be configured or the
    operator must have allowed anonymous use.
    """
    if is_loopback(address) or auth_providers(secrets) or anonymous_allowed(environ):
        return None
    where = address or "every interface (0.0.0.0)"
    return (
        f"refusing to serve the app on {where} without a login: anyone who reaches it could "
        "use this server's files and network. Configure a login ([auth] in "
        f".streamlit/secrets.toml: {auth_problem(secrets)}; see the README's security "
        "section), or serve on localhost, or say that anonymous use is wanted "
        f"(--allow-anonymous, ALLOW_ANONYMOUS=1 with make, or {ALLOW_ANONYMOUS_ENV}=1)"
    )


def read_secrets_files(paths: Iterable[str | Path]) -> dict[str, Any]:
    """The secrets of the TOML files at ``paths`` that exist, merged as
    Streamlit merges them (a later file's top-level keys win).

    Raises:
        ParameterError: a file exists but is not valid TOML.
    """
    merged: dict[str, Any] = {}
    for path in map(Path, paths):
        if not path.is_file():
            continue
        try:
            merged.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ParameterError(f"{path} is not valid TOML: {error}") from error
    return merged


def data_root(environ: Mapping[str, str], project_root: str | Path) -> Path:
    """The data root, resolved: ``OBJLEN_DATA_ROOT`` (a relative one taken from
    ``project_root``), else ``data`` in ``project_root``. It need not exist yet."""
    text = environ.get(DATA_ROOT_ENV, "").strip() or DEFAULT_DATA_ROOT
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = Path(project_root) / path
    return path.resolve()


def inside_data_root(path: str | Path, root: Path, what: str) -> Path:
    """``path`` resolved (a relative one taken from ``root``; symbolic links
    followed, ``..`` removed), if it lies under ``root``.

    Args:
        path: what the user gave.
        root: the data root (:func:`data_root`).
        what: the path's name for the message, e.g. ``"the results folder"``.

    Raises:
        ParameterError: empty, or outside ``root`` once resolved.
    """
    text = str(path).strip()
    if not text or "\0" in text:
        raise ParameterError(f"{what} is empty or not a path")
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = Path(os.path.realpath(candidate))
    real_root = Path(os.path.realpath(root))
    if resolved != real_root and not resolved.is_relative_to(real_root):
        raise ParameterError(
            f"{what} {text!r} is outside the data root {real_root}; give a path inside it "
            f"(the operator sets the data root with {DATA_ROOT_ENV})"
        )
    return resolved


__all__ = [
    "ALLOW_ANONYMOUS_ENV",
    "DATA_ROOT_ENV",
    "DEFAULT_DATA_ROOT",
    "anonymous_allowed",
    "auth_problem",
    "auth_providers",
    "data_root",
    "inside_data_root",
    "is_loopback",
    "read_secrets_files",
    "serving_problem",
]
