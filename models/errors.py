"""The one exception for an architecture that cannot be used, and how its messages quote the
errors of code it ran (a builder, a factory, a module import)."""


class ArchitectureError(ValueError):
    """An architecture name, spec or option that cannot be built or used.

    The message is one line naming the spec, the problem and, where there is one, the fix;
    it is a ``ValueError`` so the command lines report it as bad input (exit code 2).
    """


def describe(error: BaseException, limit: int = 240) -> str:
    """``"TypeError: message"`` on one line, shortened to about ``limit`` characters."""
    text = " ".join(str(error).split())
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
