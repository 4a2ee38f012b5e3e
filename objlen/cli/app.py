"""``python -m objlen app``: start the Streamlit app, refusing to expose it
beyond loopback without a login.

::

    python -m objlen app                                  # http://localhost:8501
    python -m objlen app --address 0.0.0.0 --port 8080    # refused unless a login is set up
    python -m objlen app --address 0.0.0.0 --allow-anonymous

The check (:func:`objlen.access.serving_problem`) reads the same
``secrets.toml`` files Streamlit reads (the project's
``.streamlit/secrets.toml`` and ``~/.streamlit/secrets.toml``) for an
``[auth]`` section. When serving is allowed the process becomes ``streamlit
run app.py`` (``exec``), with ``OBJLEN_ALLOW_ANONYMOUS=1`` in its environment
when ``--allow-anonymous`` was given, so that the app's own check (in
``app.py``) agrees. ``make run`` uses this command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from objlen.access import (
    ALLOW_ANONYMOUS_ENV,
    anonymous_allowed,
    is_loopback,
    read_secrets_files,
    serving_problem,
)
from objlen.errors import ParameterError

#: The project folder, where ``app.py`` and ``.streamlit/`` are.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def secrets_files(project_root: Path = PROJECT_ROOT) -> list[Path]:
    """The ``secrets.toml`` files Streamlit reads by default, lowest priority first."""
    return [
        Path.home() / ".streamlit" / "secrets.toml",
        project_root / ".streamlit" / "secrets.toml",
    ]


def streamlit_command(
    address: str,
    port: int,
    secrets: Sequence[str | Path] = (),
    project_root: Path = PROJECT_ROOT,
) -> list[str]:
    """The ``streamlit run`` command line of the app on ``address:port``
    (reading its secrets from ``secrets`` when given, else Streamlit's defaults)."""
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(project_root / "app.py"),
        "--server.address",
        address,
        "--server.port",
        str(port),
    ]
    for path in secrets:
        command += ["--secrets.files", str(path)]
    return command


def launch_plan(
    address: str,
    port: int,
    allow_anonymous: bool,
    secrets: Mapping[str, Any],
    environ: Mapping[str, str],
    secrets_paths: Sequence[str | Path] = (),
) -> tuple[list[str], dict[str, str]]:
    """The command and environment to start the app with; ``secrets`` is what
    the files at ``secrets_paths`` (Streamlit's defaults when empty) hold.

    Raises:
        ParameterError: the port is out of range, or serving on ``address``
            is refused (:func:`objlen.access.serving_problem`).
    """
    if not 1 <= port <= 65535:
        raise ParameterError(f"--port must be within 1..65535; got {port}")
    environment = dict(environ)
    if allow_anonymous:
        environment[ALLOW_ANONYMOUS_ENV] = "1"
    problem = serving_problem(address, secrets, environment)
    if problem:
        raise ParameterError(problem)
    return streamlit_command(address, port, secrets_paths), environment


def run_app(args: argparse.Namespace) -> int:
    """``app``: check, then become ``streamlit run app.py`` (does not return
    when the app starts)."""
    paths = [Path(p).resolve() for p in args.secrets or []]
    for path in paths:
        if not path.is_file():
            raise ParameterError(f"--secrets {path}: no such file")
    secrets = read_secrets_files(paths or secrets_files())
    command, environment = launch_plan(
        args.address, args.port, args.allow_anonymous, secrets, os.environ, paths
    )
    if anonymous_allowed(environment) and not is_loopback(args.address):
        print(
            f"objlen app: serving on {args.address} WITHOUT a login, as asked: anyone who "
            "reaches it can use this server's data root and its AWS settings",
            file=sys.stderr,
        )
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(PROJECT_ROOT)
    os.execve(command[0], command, environment)
    return 0  # pragma: no cover - execve does not return


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``app`` command to ``objlen``'s subparsers."""
    parser = commands.add_parser(
        "app",
        help="start the Streamlit app (refuses to listen beyond loopback without a login)",
        description="Start the app with `streamlit run app.py`. Listening on an address "
        "beyond loopback needs a login ([auth] in .streamlit/secrets.toml, Streamlit's "
        "st.login) or --allow-anonymous.",
    )
    parser.add_argument(
        "--address", default="localhost", help="address to listen on (default: localhost)"
    )
    parser.add_argument("--port", type=int, default=8501, help="TCP port (default 8501)")
    parser.add_argument(
        "--secrets",
        action="append",
        metavar="FILE",
        help="secrets.toml to use instead of .streamlit/secrets.toml and "
        "~/.streamlit/secrets.toml (repeatable)",
    )
    parser.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve beyond loopback without a login (anyone who reaches it can use it)",
    )
    parser.set_defaults(run=run_app)


__all__ = ["launch_plan", "register", "run_app", "secrets_files", "streamlit_command"]
