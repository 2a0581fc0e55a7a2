"""``python -m audit.study``: the command is :mod:`audit.cli.study`; this module only launches it."""

from audit.cli.common import launch
from audit.cli.study import main


def command() -> None:
    """The ``python -m audit.study`` process."""
    launch(main)


if __name__ == "__main__":
    command()
