"""``python -m audit.study``: the command is :mod:`audit.cli.study`; this module only launches it."""

import sys

from audit.cli.study import main

if __name__ == "__main__":
    sys.exit(main())
