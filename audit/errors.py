"""The one exception type for bad user input.

The command line turns an :class:`AuditInputError` into a one-line message and exit code 2;
everything else is a bug and keeps its traceback.
"""


class AuditInputError(ValueError):
    """A value, file or combination of options the user supplied cannot be used.

    The message names the problem and, where there is one, the fix.
    """
