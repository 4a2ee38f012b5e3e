"""The command line's argument parser: a usage error is one line, not the usage.

argparse prints the whole usage (often a dozen lines for ``measure``) before
its error. :class:`OneLineParser` prints only ``objlen: error: <command>:
<what is wrong> (see: objlen <command> --help)`` and exits with status 2, like
every other error of the command line. Its sub-command parsers are of the
same class, so the rule holds for every command.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

#: Exit status of bad input, usage errors included.
EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose usage errors are one line on stderr."""

    def error(self, message: str) -> NoReturn:
        """Print ``objlen: error: PROG: MESSAGE (see: PROG --help)`` and exit with 2."""
        command = self.prog.removeprefix("objlen").strip()
        where = f"{command}: " if command else ""
        line = " ".join(f"objlen: error: {where}{message}".split())
        sys.stderr.write(f"{line} (see: {self.prog} --help)\n")
        sys.exit(EXIT_USAGE)


__all__ = ["EXIT_USAGE", "OneLineParser"]
