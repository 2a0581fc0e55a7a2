"""``python -m audit.run``: the command is :mod:`audit.cli.run`; this module only launches it."""

from audit.cli.common import launch
from audit.cli.run import main


def command() -> None:
    """The ``python -m audit.run`` process, and the ``flood-audit`` script."""
    launch(main)


if __name__ == "__main__":
    command()
