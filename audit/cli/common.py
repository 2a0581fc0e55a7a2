"""What every command line of flood-audit shares: exit codes and one-line errors."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

EXIT_FAILED = 1  # the run could not finish (outputs not written); the message says what was kept
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

# What each command says on Ctrl-C: what it kept and how to go on.
RESUME_FROM_CACHE = "every model finished so far is cached; run the same command again to resume"


def run_command(prog: str, body: Callable[[], int], *, on_interrupt: str = RESUME_FROM_CACHE) -> int:
    """``body()``'s exit code, or the one its error maps to, printed as one line on stderr:
    bad input (:class:`~audit.errors.AuditInputError`, :class:`~attacks.AttackInputError`) 2,
    an output that could not be written (:class:`~audit.errors.OutputError`) 1, Ctrl-C 130
    with ``on_interrupt`` (what was kept, how to go on). Anything else is a bug: its traceback
    is left to Python."""
    from attacks.base import AttackInputError
    from audit.errors import AuditInputError, OutputError

    try:
        return body()
    except (AuditInputError, AttackInputError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"\ninterrupted: {on_interrupt}", file=sys.stderr)
        return EXIT_INTERRUPTED


ARCHITECTURE_HELP = (
    "mlp, cnn, resnet (ResNet-20), torchvision:NAME (any torchvision classifier, e.g. torchvision:resnet18) "
    "or package.module:factory (your own: a callable given num_classes (and input_shape) that returns an "
    "nn.Module; this imports and runs that module, as a Python import does)"
)


def architecture_option(text: str) -> tuple[str, object]:
    """``--arch-option KEY=VALUE``: VALUE read as a TOML value (64, 0.5, true, "text", [1, 2]),
    or as plain text when it is not one."""
    key, separator, value = text.partition("=")
    key = key.strip()
    if not separator or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"invalid architecture option {text!r}: write KEY=VALUE, e.g. width=64")
    try:
        return key, tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return key, value.strip()


def add_architecture_arguments(parser: argparse.ArgumentParser, *, default: str) -> None:
    """``--arch`` and ``--arch-option``, shared by the commands that build models."""
    parser.add_argument("--architecture", "--arch", default=default, metavar="SPEC", help=f"model architecture: {ARCHITECTURE_HELP} (default: %(default)s)")
    parser.add_argument(
        "--arch-option",
        type=architecture_option,
        action="append",
        default=[],
        dest="arch_option",
        metavar="KEY=VALUE",
        help="a keyword argument of the architecture's builder, e.g. --arch-option width=64 (repeatable; a config file takes an [architecture_options] table)",
    )


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage block is one --help away)."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def launch(main: Callable[[], int | None]) -> NoReturn:
    """Run a command's ``main`` as this process and end the process with its exit code.

    On the normal path the process ends without the interpreter's teardown (``os._exit``):
    with torch loaded, Python spends about 0.8 s of a 2-core CPU freeing objects at exit
    that the operating system reclaims anyway (a cached re-run of the demo takes about 6 s).
    Nothing is lost by it: every output is written atomically and closed before ``main``
    returns, the figure workers are joined, and standard output and error are flushed here.
    An exception that escapes ``main`` (a bug) takes Python's usual way out, traceback and
    all, and so does every exit under a profiler or tracer (``python -m cProfile``, coverage),
    which write what they measured at the interpreter's exit.
    """
    try:
        code = main()
    except SystemExit as stop:  # argparse: --help, usage errors
        code = stop.code
    if isinstance(code, str):  # sys.exit("message"): the message, and failure
        print(code, file=sys.stderr)
        code = EXIT_FAILED
    code = 0 if code is None else int(code)
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or coverage tool writes its data at the interpreter's exit
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

