"""``python -m audit.train``: the command is :mod:`audit.cli.train`; this module only launches it."""

import sys

from audit.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
