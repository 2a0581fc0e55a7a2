"""What every command line of flood-audit shares: exit codes and one-line errors."""

from __future__ import annotations

import argparse

EXIT_FAILED = 1  # the run could not finish (outputs not written); the message says what was kept
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage block is one --help away)."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")
