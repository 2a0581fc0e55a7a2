"""``python -m audit.train``: the command is :mod:`audit.cli.train`; this module only launches it."""

from audit.cli.common import launch
from audit.cli.train import main


def command() -> None:
    """The ``python -m audit.train`` process."""
    launch(main)


if __name__ == "__main__":
    command()
