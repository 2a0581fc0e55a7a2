"""``python -m audit.report``: the command is :mod:`audit.cli.report`; this module only launches it."""

import sys

from audit.cli.report import main

if __name__ == "__main__":
    sys.exit(main())
