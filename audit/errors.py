"""The exceptions the command lines turn into one-line messages.

:class:`AuditInputError` (bad input) becomes exit code 2, :class:`OutputError` (outputs that
could not be written) exit code 1; everything else is a bug and keeps its traceback.
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


class OutputError(RuntimeError):
    """The run's outputs could not be written (a full disk, a folder that vanished): not bad
    input, but the message is still one line that says what was kept and what to do."""
