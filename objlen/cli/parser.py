"""The command line's argument parser: a usage error is one line, not the usage.

argparse prints the whole usage (often a dozen lines for ``measure``) before
its error. :class:`OneLineParser` prints only ``objlen: error: <command>:
<what is wrong> (see: objlen <command> --help)`` and exits with status 2, like
every other error of the command line. Its sub-command parsers are of the
same class, so the rule holds for every command.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from typing import NoReturn

from objlen.errors import ObjlenError
from objlen.redact import redact_url

#: Exit status of bad input, usage errors included.
EXIT_USAGE = 2
#: Exit status when the operator interrupts (Ctrl-C), as shells report SIGINT.
EXIT_INTERRUPTED = 130
#: Exit status when the reader of the output went away (``| head``), as shells
#: report SIGPIPE.
EXIT_BROKEN_PIPE = 141
#: ``errno`` values of a write that failed because the disk is full.
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class OneLineParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose usage errors are one line on stderr."""

    def error(self, message: str) -> NoReturn:
        """Print ``objlen: error: PROG: MESSAGE (see: PROG --help)`` and exit with 2."""
        command = self.prog.removeprefix("objlen").strip()
        where = f"{command}: " if command else ""
        line = " ".join(f"objlen: error: {where}{message}".split())
        sys.stderr.write(f"{line} (see: {self.prog} --help)\n")
        sys.exit(EXIT_USAGE)


def run_parsed(args: argparse.Namespace) -> int:
    """Run the command that ``args`` (from a parser of this module) names.

    Returns its exit status; an objlen error is printed as one line
    ``objlen: error: ...`` (URLs redacted) with status ``EXIT_USAGE``, and
    Ctrl-C as ``objlen: interrupted`` with ``EXIT_INTERRUPTED``. The output
    is flushed before the status is returned: a reader that went away
    (``objlen measure ... | head -1``) ends the command quietly with
    ``EXIT_BROKEN_PIPE``, and a full disk under ``> FILE`` is one line with
    ``EXIT_USAGE``, neither a traceback.
    """
    try:
        status = args.run(args)
        sys.stdout.flush()
        return status
    except ObjlenError as error:
        print(f"objlen: error: {redact_url(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("objlen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as error:
        if error.errno not in _DISK_FULL:
            raise
        _discard_stdout()
        print(f"objlen: error: cannot write the output: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE


def _discard_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's
    last flush at exit does not fail again on what is still buffered."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # no file descriptor behind sys.stdout
        pass


__all__ = ["EXIT_BROKEN_PIPE", "EXIT_INTERRUPTED", "EXIT_USAGE", "OneLineParser", "run_parsed"]
