"""``python -m audit.report``: the command is :mod:`audit.cli.report`; this module only launches it."""

from audit.cli.common import launch
from audit.cli.report import main


def command() -> None:
    """The ``python -m audit.report`` process."""
    launch(main)


if __name__ == "__main__":
    command()
