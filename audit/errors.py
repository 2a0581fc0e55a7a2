"""The one exception type for bad user input.

The command line turns an :class:`AuditInputError` into a one-line message and exit code 2;
everything else is a bug and keeps its traceback.
"""


class AuditInputError(ValueError):
    """A value, file or combination of options the user supplied cannot be used.

    The message names the problem and, where there is one, the fix.
    """


def one_line(error: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, shortened to ``limit`` characters (for quoting a
    library's error inside one of ours)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
