"""``python -m audit.run``: the command is :mod:`audit.cli.run`; this module only launches it."""

import sys

from audit.cli.run import main

if __name__ == "__main__":
    sys.exit(main())
